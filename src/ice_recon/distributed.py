"""Reconcile on a Dask cluster: one task per contract group, the same output bytes.

Needs the extra ``dask`` (``pip install 'ice-recon[dask]'``: ``dask`` and ``distributed``);
they are imported only when a function of this module is called.

The client (this process) reads and validates the whole input folder, exactly as a local
run does (:func:`ice_recon.stream.prepare`), so the input problems, the digests and the
``--strict`` refusal are those of a local run. The contracts are then split into
*partitions* contract groups (contracts share nothing: DESIGN section 7), balanced by their
invoice lines (by their manifest trips when the lines are spilled). Each group's invoice
lines, trips and roster rows, and the other resident tables (rates, fuel, invoice headers,
...) go to the cluster in the tasks' specifications — the shared tables in one task whose
result every group's task takes — so that the scheduler can run the tasks of a lost worker
again (lines match trips of their own contract only). One task per group builds its
indexes, claims, matches, prices and classifies the group's lines, and returns its totals
and its result rows, keyed by the processing rank of their invoice; the client merges them
into ``results.csv`` in processing order and writes the output files as a local run does
(temporary names, ``summary.json`` last). The output files are byte for byte those of
``ice-recon reconcile DIR --out OUT`` in one process.

Only the client reads the input folder and writes the output folder: the workers need no
shared storage.

A dataset partitioned by contract (``contract_id=…`` folders, see
:mod:`ice_recon.partitioned`; a folder every worker sees, or an fsspec URL) is reconciled
the other way round: the client only lists the partitions, each task reads, validates and
reconciles its own group of partitions (:func:`dataset_runner`), and the client merges the
groups' totals and result rows as they complete.

A task that fails (its code raises) fails the run with :class:`DistributedRunError`; a
worker lost mid-task is retried by Dask on another worker (up to the scheduler's
``allowed-failures``). Either way no ``summary.json`` is written unless every group
completed.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import os
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from ice_recon import _engine
from ice_recon._gc import paused
from ice_recon.errors import IceReconError, InputError, MissingExtraError, Problem
from ice_recon.index import Index, build
from ice_recon.load import Inputs, mark_duplicate_keys
from ice_recon.match import ordered
from ice_recon.output import prepare_output
from ice_recon.partitioned import (
    GroupResult,
    GroupRunner,
    GroupTask,
    Partition,
    is_partitioned,
    reconcile_dataset,
)
from ice_recon.policy import Policy
from ice_recon.reconcile import Stopwatch
from ice_recon.report import Totals, _check_format
from ice_recon.stream import (
    DEFAULT_BATCH_LINES,
    DEFAULT_MEMORY_BYTES,
    Prepared,
    Progress,
    _Part,
    _read_batch,
    _reconcile_group,
    _Sink,
    balance,
    prepare,
)
from ice_recon.tables import InvoiceLineTable, ManifestTable, StaffTable

#: A ``distributed.Client`` (its methods are untyped: it is handled as Any).
Client = Any

__all__ = [
    "DistributedRunError",
    "connect",
    "dataset_runner",
    "default_partitions",
    "reconcile_on",
    "reconcile_prepared",
]


class DistributedRunError(IceReconError, RuntimeError):
    """A task of a distributed run failed: the run did not complete, no summary.json."""


def _require() -> Any:
    """Return the module ``distributed``; MissingExtraError naming the extra if absent."""
    try:
        importlib.import_module("dask")
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise MissingExtraError(
            f"running on a Dask cluster needs dask and distributed: "
            f"pip install 'ice-recon[dask]' ({exc})"
        ) from exc


def default_partitions(client: Client) -> int:
    """Return the default number of contract groups: the cluster's threads (at least 1)."""
    threads: dict[str, int] = client.nthreads()
    return max(1, sum(threads.values()))


def connect(scheduler: str) -> tuple[Client, Callable[[], None]]:
    """Return a client for *scheduler* and a function that closes what was opened.

    *scheduler* is a scheduler address (``tcp://HOST:PORT``) or ``local:N``: a
    ``LocalCluster`` of N worker processes (one thread each) on this machine.
    """
    dist = _require()
    if scheduler.startswith("local:"):
        text = scheduler.removeprefix("local:")
        if not text.isdigit() or int(text) < 1:
            raise DistributedRunError(
                f"--scheduler local:N needs a number of worker processes N >= 1 (got {text!r})"
            )
        cluster = dist.LocalCluster(
            n_workers=int(text),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
        )
        client = dist.Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()

        return client, close
    try:
        client = dist.Client(scheduler, timeout="30s")
    except (OSError, TimeoutError, ValueError) as exc:  # ValueError: not an address
        raise DistributedRunError(f"cannot reach the scheduler {scheduler}: {exc}") from exc
    return client, client.close


def reconcile_on(
    client: Client,
    input_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    policy: Policy | None = None,
    partitions: int | None = None,
    progress: Progress | None = None,
    workdir: str | os.PathLike[str] | None = None,
    batch_lines: int = DEFAULT_BATCH_LINES,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    format: str = "csv",
    engine: _engine.Engine = "auto",
) -> Totals:
    """Reconcile the folder *input_dir* on the cluster of *client* into *out_dir*.

    The output files are those of :func:`ice_recon.stream.reconcile_to` (the same bytes).
    *partitions* is the number of contract groups, one task each (default: the cluster's
    worker threads). *workdir*, *batch_lines*, *memory_bytes* and *engine* are as for
    :func:`~ice_recon.stream.reconcile_to`; they concern the client's reading of the folder.

    Raises:
        DistributedRunError: a task failed; nothing complete-looking is left in *out_dir*.
        InputError, OutputError: as for :func:`~ice_recon.stream.reconcile_to`.
    """
    _require()
    _check_format(format)
    groups = default_partitions(client) if partitions is None else partitions
    if is_partitioned(input_dir):
        return reconcile_dataset(
            input_dir,
            out_dir,
            policy=policy,
            progress=progress,
            format=format,
            memory_bytes=memory_bytes,
            batch_lines=batch_lines,
            groups=groups,
            runner=dataset_runner(client),
            engine=engine,
        )
    existed = os.path.lexists(out_dir)
    prepare_output(out_dir)
    try:
        ready = prepare(
            input_dir,
            batch_lines=batch_lines,
            workdir=workdir,
            progress=progress,
            memory_bytes=memory_bytes,
            engine=engine,
            groups=groups,
        )
    except InputError:
        if not existed:  # a refused run leaves nothing behind, as reconcile_to
            with contextlib.suppress(OSError):
                os.rmdir(out_dir)
        raise
    with ready:
        return reconcile_prepared(
            client, ready, out_dir, policy=policy, progress=progress, format=format
        )


def reconcile_prepared(
    client: Client,
    ready: Prepared,
    out_dir: str | os.PathLike[str],
    *,
    policy: Policy | None = None,
    progress: Progress | None = None,
    format: str = "csv",
) -> Totals:
    """:meth:`Prepared.reconcile <ice_recon.stream.Prepared.reconcile>`, one task per group."""
    _require()

    def runner(ready: Prepared, index: Index, policy: Policy, step: Stopwatch) -> list[_Part]:
        return _run(client, ready, policy, step)

    return ready._reconcile_with(out_dir, policy, progress, format, runner)


def dataset_runner(client: Client) -> GroupRunner:
    """Return a runner of :func:`ice_recon.partitioned.reconcile_dataset` on *client*.

    Each group of partitions is one task, which reads its partitions from where the
    dataset is (a folder every worker sees, or a URL) and returns its
    :class:`~ice_recon.partitioned.GroupResult`. A task that raises
    :class:`~ice_recon.errors.InputError` (a partition refused) fails the run with it, as a
    local run would; any other failure is a :class:`DistributedRunError`.
    """
    as_completed = _require().as_completed

    def run(task: GroupTask, plan: list[list[Partition]]) -> Iterator[tuple[int, GroupResult]]:
        token = uuid.uuid4().hex
        futures = [
            client.submit(task, group, key=f"ice-recon-partitions-{g}-{token}")
            for g, group in enumerate(plan)
        ]
        try:
            for future in as_completed(futures):
                g = futures.index(future)
                try:
                    result: GroupResult = future.result()
                except InputError:
                    raise
                except Exception as exc:
                    names = ", ".join(p.name for p in plan[g])
                    raise DistributedRunError(
                        f"the group of partitions {names} failed on the cluster "
                        f"({type(exc).__name__}: {exc}); the run did not complete and no "
                        "summary.json was written"
                    ) from exc
                future.release()
                yield g, result
        finally:
            client.cancel(futures)

    return run


# ----------------------------------------------------------------------------------- client


@attrs.frozen
class _Group:
    """What a task needs besides the shared tables: one contract group's lines and trips.

    ``trip_rows`` are the rows of the whole manifest that ``manifests`` holds (the group's
    contracts' trips), ``staff`` the roster rows of those contracts.
    """

    group: int
    columns: list[Any]
    dates: dict[tuple[str, str], str]
    ranks: dict[tuple[str, str], int]
    trip_rows: list[int]
    manifests: ManifestTable
    staff: StaffTable


@attrs.frozen
class _Shared:
    """What every task needs: the small resident tables and what the explanations read.

    ``inputs`` has no invoice line, no trip and no roster row: each group brings its own.
    ``trips`` is the number of trips of the whole manifest.
    """

    token: str
    inputs: Inputs
    problems: tuple[Problem, ...]
    file: str
    line_count: int
    policy: Policy
    trips: int


def _line_groups(contract_ids: list[str], count: int) -> list[list[int]]:
    """Split the rows into *count* groups of whole contracts, balanced by their lines.

    >>> _line_groups(["a", "b", "a", "c", "a"], 2)
    [[0, 2, 4], [1, 3]]
    """
    group = balance(collections.Counter(contract_ids), count)
    rows: list[list[int]] = [[] for _ in range(count)]
    for i, c in enumerate(contract_ids):
        rows[group[c]].append(i)
    return rows


def _group_table(ready: Prepared, group: int, rows: list[list[int]]) -> InvoiceLineTable:
    """Return the lines of contract group *group*: *rows* of them in memory, else spilled."""
    if not ready.spilled:
        return ready.inputs.invoice_lines.take(rows[group])
    tables = [_read_batch(ready._folder, ready._file, p) for p in ready._batches[group]]
    if not tables:
        return InvoiceLineTable(file=ready._file)
    return tables[0] if len(tables) == 1 else InvoiceLineTable.joined(ready._file, tables)


def _run(client: Client, ready: Prepared, policy: Policy, step: Stopwatch) -> list[_Part]:
    """Reconcile every group of *ready* on the cluster; write the groups' result files."""
    as_completed = _require().as_completed

    shared = _Shared(
        token=uuid.uuid4().hex,
        inputs=attrs.evolve(
            ready.inputs,
            invoice_lines=InvoiceLineTable(file=ready._file),
            manifests=ready.inputs.manifests.take([]),
            staff=ready.inputs.staff.take([]),
        ),
        problems=ready.problems,
        file=ready._file,
        line_count=ready.line_count,
        policy=policy,
        trips=len(ready.inputs.manifests),
    )
    trip_contracts = ready.inputs.manifests.contract_id
    staff_contracts = ready.inputs.staff.contract_id
    # The data goes in the tasks' specifications, not scattered: a worker lost with its
    # data is then recomputed by the scheduler (scattered data would be lost for good).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
        warnings.filterwarnings("ignore", "Large object", UserWarning)
        shared_future = client.submit(_keep, shared, key=f"ice-recon-shared-{shared.token}")
    futures = []
    # In memory, the groups are balanced by their invoice lines (the order in a group does
    # not matter: the task sorts it); spilled lines keep prepare's groups, by trips.
    rows = (
        [] if ready.spilled else _line_groups(ready.inputs.invoice_lines.contract_id, ready.groups)
    )
    for g in range(ready.groups):
        table = _group_table(ready, g, rows)
        keys = set(zip(table.contract_id, table.invoice_id, strict=True))
        contracts = set(table.contract_id)
        trip_rows = [i for i, c in enumerate(trip_contracts) if c in contracts]
        part = _Group(
            group=g,
            columns=table.columns(),
            dates={k: ready._dates[k] for k in keys if k in ready._dates},
            ranks={k: ready._ranks[k] for k in keys},
            trip_rows=trip_rows,
            manifests=ready.inputs.manifests.take(trip_rows),
            staff=ready.inputs.staff.take(
                [i for i, c in enumerate(staff_contracts) if c in contracts]
            ),
        )
        del table
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
            warnings.filterwarnings("ignore", "Large object", UserWarning)
            futures.append(
                client.submit(_task, shared_future, part, key=f"ice-recon-group-{g}-{shared.token}")
            )
        del part
    parts: list[_Part | None] = [None] * ready.groups
    try:
        for future in as_completed(futures):
            g = futures.index(future)
            try:
                part, blob = future.result()
            except Exception as exc:
                raise DistributedRunError(
                    f"contract group {g} of {ready.groups} failed on the cluster "
                    f"({type(exc).__name__}: {exc}); the run did not complete and no "
                    "summary.json was written"
                ) from exc
            (ready._folder / f"results-{g}.bin").write_bytes(blob)
            parts[g] = part
            future.release()
    finally:
        client.cancel(futures)
        client.cancel([shared_future])
    step(f"claim, match, price, classify in {ready.groups} tasks on the cluster")
    assert all(p is not None for p in parts)
    return [p for p in parts if p is not None]


# ----------------------------------------------------------------------------------- worker


def _keep(shared: _Shared) -> _Shared:
    """Return *shared*: the task that holds the resident tables on the cluster."""
    return shared


def _task(shared: _Shared, part: _Group) -> tuple[_Part, bytes]:
    """Reconcile one contract group on a worker; return its part and its result blocks."""
    with paused(), tempfile.TemporaryDirectory(prefix="ice-recon-task-") as tmp:
        table = InvoiceLineTable.from_columns(shared.file, part.columns)
        mark_duplicate_keys(table, [])  # reported by the client; the marks are made again
        order = ordered(table, part.dates)
        # Lines match trips of their own contract only: the group's trips are all it needs.
        inputs = attrs.evolve(
            shared.inputs, invoice_lines=table, manifests=part.manifests, staff=part.staff
        )
        index = build(inputs)
        ready = Prepared(
            inputs=inputs,
            line_count=shared.line_count,
            problems=shared.problems,
            digests={},
            spilled=False,
            folder=Path(tmp),
            file=shared.file,
            dates=part.dates,
            ranks=part.ranks,
            orders=[order],
            batches=[],
        )
        path = Path(tmp) / "results.bin"
        with _Sink(path, keyed=True) as sink:
            result = _reconcile_group(ready, 0, index, shared.policy, sink)
        return _whole_manifest(result, part.trip_rows, shared.trips), path.read_bytes()


def _whole_manifest(part: _Part, rows: list[int], trips: int) -> _Part:
    """Return *part* with its trip rows (group rows) turned into rows of the whole manifest."""
    claimed = bytearray(trips)
    for k, flag in enumerate(part.claimed):
        if flag:
            claimed[rows[k]] = flag
    acc = part.accumulator
    acc.by_trip = {rows[k]: sums for k, sums in acc.by_trip.items()}
    return _Part(acc, claimed, part.pairs)
