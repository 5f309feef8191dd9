"""Reconciling on a Dask LocalCluster (issue 14): the same bytes as one process.

The clusters have worker *processes* (processes=True) listening on loopback only. The
reference output of each folder is written by the single-process ``reconcile_to``; every
distributed run must write the same files, byte for byte (the section 9 files included).
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dask", reason="the extra 'dask' (dask, distributed) is not installed")
distributed = pytest.importorskip(
    "distributed", reason="the extra 'dask' (dask, distributed) is not installed"
)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from every9 import every_finding  # noqa: E402
from ice_recon import Policy  # noqa: E402
from ice_recon.cli import main  # noqa: E402
from ice_recon.distributed import DistributedRunError, reconcile_on  # noqa: E402
from ice_recon.errors import InputError  # noqa: E402
from ice_recon.generate import generate  # noqa: E402
from ice_recon.partitioned import reconcile_dataset, split  # noqa: E402
from ice_recon.stream import reconcile_to  # noqa: E402
from test_properties import Tables, datasets  # noqa: E402
from test_stream import _write_tables  # noqa: E402


def _cluster(workers: int) -> Any:
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
    )


@pytest.fixture(scope="module")
def cluster2() -> Iterator[Any]:
    with _cluster(2) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client2(cluster2: Any) -> Iterator[Any]:
    with distributed.Client(cluster2) as client:
        yield client


@pytest.fixture(scope="module")
def client1() -> Iterator[Any]:
    with _cluster(1) as cluster, distributed.Client(cluster) as client:
        yield client


def _restore(name: str, module: str) -> None:
    """Put back the function :func:`_on_workers` replaced (a worker started since has none)."""
    m = importlib.import_module(module)
    saved = getattr(m, "_saved", None)
    if saved is not None:
        setattr(m, name, saved)
        del m._saved


@contextmanager
def _on_workers(
    client: Any, module: str, name: str, replacement: Callable[[Any], Any]
) -> Iterator[None]:
    """Within the block, *module.name* is ``replacement(original)`` on every worker.

    Put back with ``client.run`` rather than ``client.restart()``: under load the workers'
    reconnection after a restart timed out.
    """

    def swap() -> None:
        m = importlib.import_module(module)
        m._saved = getattr(m, name)
        setattr(m, name, replacement(m._saved))

    client.run(swap)
    try:
        yield
    finally:
        client.run(_restore, name, module)


def _boom(message: str) -> Callable[[Any], Any]:
    """A replacement that raises RuntimeError(*message*)."""

    def make(original: Any) -> Any:
        def boom(*args: object, **kwargs: object) -> object:
            raise RuntimeError(message)

        return boom

    return make


def _die_once(marker: str) -> Callable[[Any], Any]:
    """A replacement whose first call (on any worker) kills its process, as the OOM killer
    would, and creates *marker*; later calls run the original."""

    def make(original: Any) -> Any:
        def die_once(*args: Any, **kwargs: Any) -> Any:
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return original(*args, **kwargs)
            os.close(fd)
            os._exit(9)

        return die_once

    return make


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A generated folder of 4,000 lines over 7 contracts, and its single-process output."""
    root = tmp_path_factory.mktemp("generated")
    generate(root / "in", lines=4000, contracts=7, seed=14)
    reconcile_to(root / "in", root / "ref")
    return root / "in", _files(root / "ref")


def test_the_reference_has_every_output_file(generated: tuple[Path, dict[str, bytes]]) -> None:
    # Guards the identity tests below: they compare all of these, section 9 files included.
    _, ref = generated
    assert {"results.csv", "summary.json", "contracts.csv", "oversight.csv"} <= set(ref)
    assert {"capacity.csv", "unbilled.csv", "invoices.csv", "by_invoice.csv"} <= set(ref)
    assert ref["results.csv"].count(b"\n") == 4001


@pytest.mark.parametrize("partitions", [1, 2, 5, 16])
def test_two_workers_write_the_single_process_bytes(
    client2: Any, generated: tuple[Path, dict[str, bytes]], tmp_path: Path, partitions: int
) -> None:
    folder, ref = generated
    totals = reconcile_on(client2, folder, tmp_path / "out", partitions=partitions)
    assert _files(tmp_path / "out") == ref
    assert totals.line_count == 4000


def test_one_worker_writes_the_single_process_bytes(
    client1: Any, generated: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    folder, ref = generated
    reconcile_on(client1, folder, tmp_path / "out", partitions=3)
    assert _files(tmp_path / "out") == ref


def test_spilled_lines_give_the_same_bytes(
    client2: Any, generated: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    # The client spills the lines in batches; each group's batches make one task.
    folder, ref = generated
    reconcile_on(client2, folder, tmp_path / "out", partitions=3, memory_bytes=0, batch_lines=300)
    assert _files(tmp_path / "out") == ref


def test_every_section9_finding_gives_the_same_bytes(client2: Any, tmp_path: Path) -> None:
    folder = every_finding(tmp_path / "in")
    reconcile_to(folder, tmp_path / "ref")
    reconcile_on(client2, folder, tmp_path / "out", partitions=4)
    assert _files(tmp_path / "out") == _files(tmp_path / "ref")


def test_the_cli_against_a_scheduler_address(
    cluster2: Any, generated: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    folder, ref = generated
    local, remote = io.StringIO(), io.StringIO()
    with redirect_stdout(local):
        assert main(["reconcile", str(folder), "--out", str(tmp_path / "a")]) == 0
    address = cluster2.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    argv = ["reconcile", str(folder), "--out", str(tmp_path / "b"), "--scheduler", address]
    with redirect_stdout(remote):
        assert main([*argv, "--partitions", "3"]) == 0
    assert _files(tmp_path / "b") == ref
    # The same summary, but for the folder it names.
    assert remote.getvalue() == local.getvalue().replace(str(tmp_path / "a"), str(tmp_path / "b"))


def test_partitions_needs_a_scheduler(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["reconcile", str(tmp_path), "--out", str(tmp_path / "o"), "--partitions", "2"]
    assert main(argv) == 2
    assert "--partitions" in capsys.readouterr().err


def test_a_failing_task_fails_the_run_without_a_summary(
    client1: Any, generated: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    folder, _ = generated
    out = tmp_path / "out"
    # An earlier complete run: its summary.json must not survive a failed run.
    reconcile_to(folder, out)

    boom = _boom("boom in the task")
    failed = pytest.raises(DistributedRunError, match=r"contract group \d of 2 failed.*boom")
    with _on_workers(client1, "ice_recon.distributed", "_reconcile_group", boom), failed:
        reconcile_on(client1, folder, out, partitions=2)
    assert not (out / "summary.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files
    # The cluster is usable again afterwards.
    reconcile_on(client1, folder, tmp_path / "again", partitions=2)
    assert (tmp_path / "again" / "summary.json").exists()


def test_a_worker_killed_mid_task_is_replaced_and_the_bytes_are_the_same(
    client2: Any, generated: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    # The first task to start kills its worker process (as the OOM killer would); the
    # nanny starts a new worker, the scheduler runs the lost tasks again.
    folder, ref = generated
    marker = str(tmp_path / "killed-once")

    with _on_workers(client2, "ice_recon.distributed", "_reconcile_group", _die_once(marker)):
        reconcile_on(client2, folder, tmp_path / "out", partitions=4)
    assert Path(marker).exists()  # a worker did die
    assert _files(tmp_path / "out") == ref


@pytest.mark.parametrize("scheduler", ["local:0", "local:two"])
def test_a_bad_local_scheduler_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scheduler: str
) -> None:
    argv = ["reconcile", str(tmp_path), "--out", str(tmp_path / "o"), "--scheduler", scheduler]
    assert main(argv) == 2
    assert "local:N" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_scheduler_address_of_an_unknown_scheme_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["reconcile", str(tmp_path), "--out", str(tmp_path / "o"), "--scheduler", "foo://x"]
    assert main(argv) == 2
    assert "cannot reach the scheduler foo://x" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(datasets(), st.integers(1, 4), st.sampled_from([0, 1 << 28]), st.integers(1, 8))
def test_any_dataset_partitioning_and_spill_give_the_single_process_bytes(
    client2: Any, case: tuple[Tables, Policy], partitions: int, memory: int, batch_lines: int
) -> None:
    tables, policy = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        _write_tables(tables, root / "in")
        reconcile_to(root / "in", root / "a", policy=policy)
        reconcile_on(
            client2,
            root / "in",
            root / "b",
            policy=policy,
            partitions=partitions,
            memory_bytes=memory,
            batch_lines=batch_lines,
        )
        assert _files(root / "b") == _files(root / "a")


# ------------------------------------------------- datasets partitioned by contract


@pytest.fixture(scope="module")
def dataset(
    tmp_path_factory: pytest.TempPathFactory, generated: tuple[Path, dict[str, bytes]]
) -> tuple[Path, dict[str, bytes]]:
    """The generated folder split by contract, and its single-process output."""
    folder, _ = generated
    root = tmp_path_factory.mktemp("dataset")
    split(folder, root / "parts")
    reconcile_dataset(root / "parts", root / "ref")
    return root / "parts", _files(root / "ref")


def test_the_partitioned_reference_is_the_flat_folders_output(
    generated: tuple[Path, dict[str, bytes]], dataset: tuple[Path, dict[str, bytes]]
) -> None:
    # Guards the tests below: only the two files that name input files differ.
    _, flat = generated
    _, ref = dataset
    assert {n for n in flat if flat[n] != ref[n]} == {"problems.csv", "summary.json"}


@pytest.mark.parametrize("partitions", [1, 2, 3, 9])
def test_a_partitioned_dataset_on_two_workers_gives_the_same_bytes(
    client2: Any, dataset: tuple[Path, dict[str, bytes]], tmp_path: Path, partitions: int
) -> None:
    root, ref = dataset
    totals = reconcile_on(client2, root, tmp_path / "out", partitions=partitions)
    assert _files(tmp_path / "out") == ref
    assert totals.line_count == 4000


def test_three_workers_give_the_same_bytes_for_both_layouts(
    generated: tuple[Path, dict[str, bytes]],
    dataset: tuple[Path, dict[str, bytes]],
    tmp_path: Path,
) -> None:
    with _cluster(3) as cluster, distributed.Client(cluster) as client:
        assert len(client.nthreads()) == 3
        reconcile_on(client, generated[0], tmp_path / "flat", partitions=5)
        reconcile_on(client, dataset[0], tmp_path / "parts", partitions=3)
    assert _files(tmp_path / "flat") == generated[1]
    assert _files(tmp_path / "parts") == dataset[1]


def test_a_dataset_at_a_url_is_read_by_the_workers(
    client2: Any, dataset: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    root, ref = dataset
    url = root.resolve().as_uri()  # file:///…: what s3:// or gs:// would be on a cluster
    reconcile_on(client2, url, tmp_path / "out", partitions=2)
    assert _files(tmp_path / "out") == ref


def test_the_cli_reconciles_a_dataset_on_a_scheduler(
    cluster2: Any, dataset: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    root, ref = dataset
    argv = ["reconcile", str(root), "--out", str(tmp_path / "o"), "--quiet"]
    assert main([*argv, "--scheduler", cluster2.scheduler_address, "--partitions", "3"]) == 0
    assert _files(tmp_path / "o") == ref


def test_a_misplaced_row_is_an_input_error_as_in_a_local_run(
    client2: Any, dataset: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    root, _ = dataset
    copy = tmp_path / "parts"
    shutil.copytree(root, copy)
    first, second = sorted(p for p in copy.iterdir() if p.is_dir())[:2]
    with (first / "invoice_lines.csv").open("rb") as f:
        row = f.readlines()[1]
    with (second / "invoice_lines.csv").open("ab") as f:
        f.write(row)
    with pytest.raises(InputError) as caught:
        reconcile_on(client2, copy, tmp_path / "out", partitions=2)
    assert caught.value.problem.file == f"{second.name}/invoice_lines.csv"
    assert caught.value.problem.column == "contract_id"
    assert not (tmp_path / "out").exists()


def test_a_failing_partition_task_fails_the_run_without_a_summary(
    client1: Any, dataset: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    root, _ = dataset
    out = tmp_path / "out"
    reconcile_dataset(root, out)  # an earlier complete run

    boom = _boom("boom in the partition task")
    failed = pytest.raises(DistributedRunError, match=r"group of partitions .* failed.*boom")
    with _on_workers(client1, "ice_recon.partitioned", "reconcile_group", boom), failed:
        reconcile_on(client1, root, out, partitions=2)
    assert not (out / "summary.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_worker_killed_in_a_partition_task_is_replaced_with_the_same_bytes(
    client2: Any, dataset: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    root, ref = dataset
    marker = str(tmp_path / "killed-once")

    with _on_workers(client2, "ice_recon.partitioned", "reconcile_group", _die_once(marker)):
        reconcile_on(client2, root, tmp_path / "out", partitions=3)
    assert Path(marker).exists()  # a worker did die
    assert _files(tmp_path / "out") == ref
