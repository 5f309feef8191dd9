"""Datasets partitioned by contract (issue 14): the same outputs as the flat folder.

The reference of every test is the single-process ``reconcile_to`` of the *flat* folder
the dataset was split from: every output file must be the same bytes, except the two that
name input files (``problems.csv`` says where each problem is; ``summary.json``'s
``inputs`` lists the files read), which are compared cell by cell after mapping each file
of a partition back to the flat file (and each problem is checked at its line there).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

from every9 import every_finding
from ice_recon import Policy
from ice_recon.cli import main
from ice_recon.errors import ArgumentError, InputError, OutputError
from ice_recon.generate import generate
from ice_recon.partitioned import (
    DEFAULT_PARTITION,
    balanced_groups,
    forked_runner,
    is_partitioned,
    merge_totals,
    partition_name,
    reconcile_dataset,
    scan,
    split,
)
from ice_recon.strategies import Case, cases
from ice_recon.stream import reconcile_to
from test_properties import Tables, datasets
from test_stream import _write_tables

NAMING = {"problems.csv", "summary.json"}  # the outputs that name input files


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _problem_cells(text: bytes) -> Counter[tuple[str, ...]]:
    """The rows of problems.csv without line numbers (a partition's file has its own) and
    with the file's partition folder taken away, counted."""
    rows = list(csv.reader(io.StringIO(text.decode())))[1:]
    return Counter(
        (r[0].rsplit("/", 1)[-1], r[2], r[3], re.sub(r"line \d+", "line N", r[4])) for r in rows
    )


def assert_same_as_flat(flat: Path, parts: Path) -> None:
    """Assert that the outputs of a partitioned run equal those of the flat folder's."""
    a, b = _files(flat), _files(parts)
    assert set(a) == set(b)
    for name in set(a) - NAMING:
        assert a[name] == b[name], name
    summary_a, summary_b = json.loads(a["summary.json"]), json.loads(b["summary.json"])
    inputs_b = summary_b.pop("inputs")
    assert summary_a.pop("inputs").keys() == {n.rsplit("/", 1)[-1] for n in inputs_b}
    assert summary_a == summary_b
    assert _problem_cells(a["problems.csv"]) == _problem_cells(b["problems.csv"])


def assert_problems_point_at_their_rows(parts_out: Path, dataset: Path) -> None:
    """Each problem of a partitioned run names a line of its partition's file holding it."""
    for row in list(csv.DictReader(io.StringIO((parts_out / "problems.csv").read_text())))[:50]:
        path = dataset / row["file"]
        assert path.is_file(), row
        if row["value"] and "/" in row["file"]:
            text = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
            assert row["value"] in text[int(row["line"]) - 1], row


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated folder (4,000 lines, 7 contracts), its flat output, its split dataset."""
    root = tmp_path_factory.mktemp("partitioned")
    generate(root / "in", lines=4000, contracts=7, seed=14)
    reconcile_to(root / "in", root / "flat")
    split(root / "in", root / "parts")
    return root


def test_split_writes_one_folder_per_contract_and_the_shared_files_at_the_root(
    generated: Path,
) -> None:
    dataset = scan(generated / "parts")
    with open(generated / "in" / "manifests.csv", encoding="utf-8") as f:
        contracts = {row["contract_id"] for row in csv.DictReader(f)}
    assert {p.contract_id for p in dataset.partitions} >= contracts
    assert len(dataset.partitions) == 7
    assert dataset.shared == ("fuel_index.csv", "interest_rates.csv")
    # Every row went to its contract's folder, none was lost or added.
    for name in ("invoice_lines.csv", "manifests.csv", "rates.csv", "invoices.csv"):
        with open(generated / "in" / name, encoding="utf-8") as f:
            flat = Counter(tuple(r) for r in list(csv.reader(f))[1:])
        split_rows: Counter[tuple[str, ...]] = Counter()
        for p in dataset.partitions:
            with open(generated / "parts" / p.name / name, encoding="utf-8") as f:
                reader = csv.DictReader(f)
                rows = list(reader)
            assert {r["contract_id"] for r in rows} <= {p.contract_id}
            split_rows.update(tuple(r.values()) for r in rows)
        assert split_rows == flat, name


@pytest.mark.parametrize("groups", [1, 2, 3, 7, 20])
def test_any_number_of_groups_writes_the_flat_folders_outputs(
    generated: Path, tmp_path: Path, groups: int
) -> None:
    totals = reconcile_dataset(generated / "parts", tmp_path / "out", groups=groups)
    assert_same_as_flat(generated / "flat", tmp_path / "out")
    assert_problems_point_at_their_rows(tmp_path / "out", generated / "parts")
    assert totals.line_count == 4000


def test_forked_groups_and_spilled_partitions_write_the_same_bytes(
    generated: Path, tmp_path: Path
) -> None:
    reconcile_dataset(generated / "parts", tmp_path / "a")
    # Two forked processes; each partition's lines spilled in batches of 97 (streamed).
    reconcile_dataset(
        generated / "parts",
        tmp_path / "b",
        groups=2,
        runner=forked_runner,
        memory_bytes=0,
        batch_lines=97,
    )
    assert _files(tmp_path / "b") == _files(tmp_path / "a")


def test_a_file_url_gives_the_same_bytes(generated: Path, tmp_path: Path) -> None:
    pytest.importorskip("fsspec", reason="fsspec (it comes with the extra 'dask') is absent")
    reconcile_dataset(generated / "parts", tmp_path / "a", groups=2)
    url = (generated / "parts").resolve().as_uri()
    assert url.startswith("file://") and is_partitioned(url)
    reconcile_dataset(url, tmp_path / "b", groups=2)
    assert _files(tmp_path / "b") == _files(tmp_path / "a")


def test_every_section9_finding_gives_the_flat_outputs(tmp_path: Path) -> None:
    folder = every_finding(tmp_path / "in")
    reconcile_to(folder, tmp_path / "flat")
    split(folder, tmp_path / "parts")
    reconcile_dataset(tmp_path / "parts", tmp_path / "out", groups=2)
    assert_same_as_flat(tmp_path / "flat", tmp_path / "out")


def _flat_folder(tmp_path: Path) -> Path:
    """A small flat folder: contract 'A/B 7' (a name to encode), contract C, and an invoice
    line without a contract id (INVALID, in the default partition)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "rates.csv").write_text(
        "contract_id,clin,basis,rate,start,end,rule_id\n"
        "A/B 7,0001,trip,100.00,2024-01-01,2024-12-31,R1\n"
        "C,0001,trip,250.00,2024-01-01,2024-12-31,R2\n"
    )
    (folder / "manifests.csv").write_text(
        "trip_id,contract_id,service_date,status,passengers\n"
        "T1,A/B 7,2024-03-01,completed,10\n"
        "T1,C,2024-03-02,completed,4\n"
        "T2,C,2024-03-03,completed,5\n"
    )
    (folder / "invoice_lines.csv").write_text(
        "invoice_id,line_no,contract_id,clin,service_date,trip_ref,quantity,unit_price,amount\n"
        "I1,1,A/B 7,0001,2024-03-01,T1,1,100.00,100.00\n"
        "I2,1,C,0001,2024-03-02,T1,1,300.00,300.00\n"
        "I3,1,,0001,2024-03-03,T2,1,250.00,250.00\n"
    )
    return folder


def test_encoded_names_and_the_default_partition(tmp_path: Path) -> None:
    folder = _flat_folder(tmp_path)
    reconcile_to(folder, tmp_path / "flat")
    dataset = split(folder, tmp_path / "parts")
    names = [p.name for p in dataset.partitions]
    assert names == [  # sorted by folder name
        "contract_id=A%2FB%207",
        "contract_id=C",
        f"contract_id={DEFAULT_PARTITION}",
    ]
    assert [p.contract_id for p in dataset.partitions] == ["A/B 7", "C", ""]
    reconcile_dataset(tmp_path / "parts", tmp_path / "out")
    assert_same_as_flat(tmp_path / "flat", tmp_path / "out")
    with open(tmp_path / "out" / "results.csv", encoding="utf-8") as f:
        rows = {(r["contract_id"], r["invoice_id"]): r for r in csv.DictReader(f)}
    # 100.00 billed for a 100.00 trip; 300.00 for a 250.00 trip; no contract id.
    assert rows[("A/B 7", "I1")]["status"] == "MATCHED"
    c = rows[("C", "I2")]
    assert (c["billed"], c["expected"], c["variance"]) == ("300.00", "250.00", "50.00")
    assert rows[("", "I3")]["status"] == "INVALID"


def test_partition_name_round_trips_through_scan(tmp_path: Path) -> None:
    for contract in ["plain", "a/b", "50% off", "x=y", "ü"]:
        folder = tmp_path / partition_name(contract)
        folder.mkdir()
    assert sorted(p.contract_id for p in scan(tmp_path).partitions) == sorted(
        ["plain", "a/b", "50% off", "x=y", "ü"]
    )


def test_a_row_in_another_contracts_folder_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = _flat_folder(tmp_path)
    split(folder, tmp_path / "parts")
    c_rates = tmp_path / "parts" / "contract_id=C" / "rates.csv"
    # C's second rule row is moved into A/B 7's folder.
    with c_rates.open("a") as f:
        f.write("A/B 7,0002,trip,9.00,2024-01-01,2024-12-31,R3\n")
    with pytest.raises(InputError) as caught:
        reconcile_dataset(tmp_path / "parts", tmp_path / "out")
    problem = caught.value.problem
    assert (problem.file, problem.line, problem.column, problem.value) == (
        "contract_id=C/rates.csv",
        3,
        "contract_id",
        "A/B 7",
    )
    assert "not the contract of the folder contract_id=C" in problem.message
    assert not (tmp_path / "out").exists()  # a refused run leaves nothing behind


def test_the_cli_refuses_a_misplaced_row_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _flat_folder(tmp_path)
    split(folder, tmp_path / "parts")
    lines = tmp_path / "parts" / "contract_id=C" / "invoice_lines.csv"
    with lines.open("a") as f:
        f.write("I9,1,A/B 7,0001,2024-03-01,T1,1,100.00,100.00\n")
    assert main(["reconcile", str(tmp_path / "parts"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "contract_id=C/invoice_lines.csv:3: column 'contract_id'" in err
    assert "nothing written" in err
    assert not (tmp_path / "o").exists()


def test_an_input_file_with_contract_ids_at_the_root_is_refused(tmp_path: Path) -> None:
    folder = _flat_folder(tmp_path)
    split(folder, tmp_path / "parts")
    shutil.copy(folder / "rates.csv", tmp_path / "parts" / "rates.csv")
    with pytest.raises(InputError, match=r"rates\.csv:1: has a contract_id column"):
        scan(tmp_path / "parts")


def test_two_folders_of_one_contract_are_refused(tmp_path: Path) -> None:
    (tmp_path / "contract_id=A").mkdir()
    (tmp_path / "contract_id=%41").mkdir()  # 'A' percent-encoded
    with pytest.raises(InputError, match="names the same contract as the folder"):
        scan(tmp_path)


def test_a_folder_without_partitions_is_not_a_dataset(tmp_path: Path) -> None:
    folder = _flat_folder(tmp_path)
    assert not is_partitioned(folder)
    with pytest.raises(InputError, match="not partitioned"):
        scan(folder)


def test_split_refuses_a_non_empty_target_and_a_file_it_cannot_split(tmp_path: Path) -> None:
    folder = _flat_folder(tmp_path)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(OutputError, match="not an empty folder"):
        split(folder, tmp_path / "full")
    (folder / "staff.csv").write_text("person,category\nP1,driver\n")
    with pytest.raises(InputError, match=r"staff\.csv:1: has no contract_id column"):
        split(folder, tmp_path / "new")


def test_balanced_groups_take_the_largest_partitions_first() -> None:
    from ice_recon.partitioned import Partition

    sizes = {"a": 50, "b": 40, "c": 30, "d": 20, "e": 10}
    parts = [Partition(c, f"contract_id={c}", (), s) for c, s in sizes.items()]
    groups = balanced_groups(parts, 2)
    loads = sorted(sum(p.size for p in g) for g in groups)
    assert loads == [70, 80]  # LPT: a+d+e = 80, b+c = 70
    assert sorted(p.contract_id for g in groups for p in g) == sorted(sizes)
    assert len(balanced_groups(parts, 9)) == 5  # never an empty group
    # Partitions without lines (size 0) add no load: they must not leave a group empty.
    light = [Partition(c, f"contract_id={c}", (), s) for c, s in [("x", 5), ("y", 0), ("z", 0)]]
    groups = balanced_groups(light, 3)
    assert all(groups) and sorted(p.contract_id for g in groups for p in g) == ["x", "y", "z"]
    with pytest.raises(ArgumentError):
        balanced_groups(parts, 0)


def test_merging_two_parts_of_one_contract_is_refused(generated: Path) -> None:
    totals = reconcile_to(generated / "in", Path(tempfile.mkdtemp()) / "o")
    with pytest.raises(ArgumentError, match="is in two parts"):
        merge_totals([totals, totals])


def test_the_cli_splits_and_reconciles_like_the_flat_folder(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["split", str(generated / "in"), "--out", str(tmp_path / "p")]) == 0
    assert out.getvalue().startswith("Wrote 7 contract partitions to ")
    assert "split invoice_lines.csv (4,000 rows, 7 contracts) done in" in capsys.readouterr().err
    flat, parts = io.StringIO(), io.StringIO()
    with redirect_stdout(flat):
        main(["reconcile", str(generated / "in"), "--out", str(tmp_path / "a"), "--quiet"])
    with redirect_stdout(parts):
        code = main(
            ["reconcile", str(tmp_path / "p"), "--out", str(tmp_path / "b"), "--workers", "2"]
        )
    assert code == 0
    assert_same_as_flat(tmp_path / "a", tmp_path / "b")
    assert "Reconciled 4000 invoice lines." in parts.getvalue()


def test_strict_refuses_a_dataset_with_problems_and_writes_nothing(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["reconcile", str(generated / "parts"), "--out", str(tmp_path / "o"), "--strict"]
    assert main(argv) == 2
    assert "nothing written (--strict)" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_tolerance_for_an_unpriced_basis_is_refused(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["reconcile", str(generated / "parts"), "--out", str(tmp_path / "o")]
    assert main([*argv, "--tolerance", "lightyears=5"]) == 2
    assert "no rule is priced on that basis" in capsys.readouterr().err


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(datasets())
def test_any_dataset_split_by_contract_gives_the_flat_outputs(
    case: tuple[Tables, Policy],
) -> None:
    tables, policy = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        _write_tables(tables, root / "in")
        try:
            split(root / "in", root / "parts")
        except InputError as exc:  # nothing to split: no row names a contract
            assume("not partitioned" not in str(exc))
            raise
        reconcile_to(root / "in", root / "flat", policy=policy)
        reconcile_dataset(root / "parts", root / "out", policy=policy, groups=2)
        assert_same_as_flat(root / "flat", root / "out")
        assert os.listdir(root / "out")


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(cases(max_lines=12, payments=True, contracts=3))
def test_any_payment_case_split_by_contract_gives_the_flat_outputs(case: Case) -> None:
    # The section 9 files (contracts, cors, interest rates at the root, paid invoices).
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case.write(root / "in")
        split(root / "in", root / "parts")
        reconcile_to(root / "in", root / "flat", policy=case.policy)
        reconcile_dataset(root / "parts", root / "out", policy=case.policy, groups=3)
        assert_same_as_flat(root / "flat", root / "out")


def test_split_streams_in_small_buffers_to_the_same_files(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ice_recon.partitioned as partitioned

    monkeypatch.setattr(partitioned, "SPLIT_BUFFER_ROWS", 7)
    split(generated / "in", tmp_path / "small")
    a = {p.relative_to(tmp_path / "small"): p.read_bytes() for p in (tmp_path / "small").rglob("*")
         if p.is_file()}  # fmt: skip
    b = {p.relative_to(generated / "parts"): p.read_bytes()
         for p in (generated / "parts").rglob("*") if p.is_file()}  # fmt: skip
    assert a == b
    assert [p.name for p in tmp_path.iterdir()] == ["small"]  # no partial folder left


def test_a_misspelled_file_is_reported_once_wherever_it_is(tmp_path: Path) -> None:
    folder = _flat_folder(tmp_path)
    split(folder, tmp_path / "parts")
    (tmp_path / "parts" / "fuel_idx.csv").write_text("series,week,price\n")
    (tmp_path / "parts" / "contract_id=C" / "staf.csv").write_text("contract_id\n")
    totals = reconcile_dataset(tmp_path / "parts", tmp_path / "out")
    found = [(p.file, p.message) for p in totals.problems if "not an input file" in p.message]
    assert found == [
        ("contract_id=C/staf.csv", "not an input file; did you mean staff.csv?"),
        ("fuel_idx.csv", "not an input file; did you mean fuel_index.csv?"),
    ]


def test_a_shared_file_in_a_partition_and_at_the_root_is_refused(tmp_path: Path) -> None:
    folder = _flat_folder(tmp_path)
    split(folder, tmp_path / "parts")
    for where in (tmp_path / "parts", tmp_path / "parts" / "contract_id=C"):
        (where / "interest_rates.csv").write_text("start,end,rate\n")
    with pytest.raises(InputError, match=r"contract_id=C/interest_rates\.csv:1: is also at the"):
        scan(tmp_path / "parts")


@pytest.mark.parametrize("engine", ["python", "fast"])
def test_either_engine_reads_the_partitions_to_the_same_bytes(
    generated: Path, tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "fast":
        pytest.importorskip("pyarrow", reason="the extra 'fast' (pyarrow) is not installed")
    import ice_recon.stream as stream

    reconcile_dataset(generated / "parts", tmp_path / "auto", groups=2)
    asked: list[str] = []
    prepare = stream.prepare

    def spy(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["engine"])
        return prepare(*args, **kwargs)

    monkeypatch.setattr(stream, "prepare", spy)
    reconcile_dataset(generated / "parts", tmp_path / engine, groups=2, engine=engine)  # type: ignore[arg-type]
    assert asked == [engine] * 7  # each partition read by the engine asked for
    assert _files(tmp_path / engine) == _files(tmp_path / "auto")


def test_validate_a_dataset_counts_what_the_flat_folder_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ice_recon.cli import sample_dir

    split(sample_dir(), tmp_path / "parts")
    assert main(["validate", str(sample_dir())]) == 0
    flat = capsys.readouterr().out
    assert main(["validate", str(tmp_path / "parts")]) == 0
    parts = capsys.readouterr().out
    # "OK: DIR is valid (2 rate rows, ...)" and "OK: ROOT is valid (K contract partitions; ...)"
    assert flat.split("(", 1)[1] == parts.split("; ", 1)[1]
    assert f"({len(scan(tmp_path / 'parts').partitions)} contract partitions; " in parts


def test_validate_a_dataset_prints_each_problem_once_with_its_partition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _flat_folder(tmp_path)
    split(folder, tmp_path / "parts")
    (tmp_path / "parts" / "interest_rates.csv").write_text("start,end,rate\n2024-01-01,x,5\n")
    with (tmp_path / "parts" / "contract_id=C" / "manifests.csv").open("a") as f:
        f.write("T9,A/B 7,2024-03-04,completed,3\n")
    assert main(["validate", str(tmp_path / "parts")]) == 1
    out = capsys.readouterr()
    printed = out.out.splitlines()
    assert [line for line in printed if line.startswith("interest_rates.csv:2:")] == [
        line for line in printed if "interest_rates" in line
    ]
    assert len([line for line in printed if line.startswith("interest_rates.csv:2:")]) == 1
    assert any(
        line.startswith("contract_id=C/manifests.csv:4: column 'contract_id'") for line in printed
    )
    assert out.err.strip() == f"{len(printed)} problems found"
