"""Datasets partitioned by contract: hive-style ``contract_id=…/`` folders (DESIGN section 7).

Contracts share nothing (partition independence), so a batch too large for one folder can be
kept as one folder per contract, the layout Hive, Spark, Arrow and DuckDB call
*hive partitioning*::

    ROOT/
      fuel_index.csv, interest_rates.csv          the files without contract_id (optional)
      contract_id=HSCEMD-19-C-10000/
        rates.csv, manifests.csv, invoice_lines.csv, ... (the section 4 files, this contract's rows)
      contract_id=HSCEMD-21-C-10002/
        ...
      contract_id=__HIVE_DEFAULT_PARTITION__/     rows whose contract_id is empty (invalid rows)

A folder name is ``contract_id=`` and the contract id percent-encoded (``/`` is ``%2F``, as
Hive writes it; :func:`partition_name`). Each partition folder, with the root's shared files,
is a complete input folder: it holds the required files (a header-only file where the contract
has no rows, DESIGN section 4) and every row in it has the folder's contract id. :func:`split`
writes such a dataset from an ordinary input folder; :func:`scan` checks one.

:func:`reconcile_dataset` reconciles every partition (in this process, or as the tasks of a
Dask cluster: :func:`ice_recon.distributed.reconcile_on`) and merges the partitions' results:
``results.csv`` in processing order, the other outputs exactly as one run over the
concatenated files writes them. Only ``problems.csv`` and the input digests of
``summary.json`` differ from that run: they name the files where they are, e.g.
``contract_id=C1/invoice_lines.csv`` line 7.

The root may also be an fsspec URL (``s3://bucket/batch``, ``gs://…``, ``file://…``): the
module ``fsspec`` is then needed (it comes with the extra ``dask``), and each partition's
files are copied to a local temporary folder before they are read.
"""

from __future__ import annotations

import contextlib
import csv
import heapq
import itertools
import marshal
import os
import shutil
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final

import attrs

from ice_recon._engine import Engine
from ice_recon._merge import merge_totals
from ice_recon._specs import (
    FILES,
    FUEL_INDEX,
    INTEREST_RATES,
    INVOICE_LINES,
    MANIFESTS,
    STAFF,
)
from ice_recon._storage import filesystem, is_url, join, listing
from ice_recon.errors import (
    ArgumentError,
    IceReconError,
    InputError,
    OutputError,
    Problem,
)
from ice_recon.load import Inputs
from ice_recon.output import OutputSet, prepare_output
from ice_recon.policy import Policy
from ice_recon.reconcile import Stopwatch, check_policy
from ice_recon.report import (
    Totals,
    _check_format,
)
from ice_recon.tables import Sourced

__all__ = [
    "DEFAULT_PARTITION",
    "PARTITION_KEY",
    "SHARED_FILES",
    "SPLIT_BUFFER_ROWS",
    "Dataset",
    "GroupResult",
    "Partition",
    "Refused",
    "balanced_groups",
    "forked_runner",
    "inspect_dataset",
    "is_partitioned",
    "merge_totals",
    "partition_name",
    "reconcile_dataset",
    "reconcile_group",
    "scan",
    "split",
]

#: The column a dataset is partitioned by (the folders are ``contract_id=VALUE``).
PARTITION_KEY: Final = "contract_id"
#: The folder value of rows whose contract_id is empty (Hive's name for a null partition).
DEFAULT_PARTITION: Final = "__HIVE_DEFAULT_PARTITION__"
#: The input files without a contract_id column: at the root, shared by every partition.
SHARED_FILES: Final = (FUEL_INDEX, INTEREST_RATES)
_NAMES: Final = tuple(name for name, _ in FILES.values())
_PARQUET: Final = ".parquet"
_RESULTS: Final = "results.csv"

Progress = Callable[[str, float], None]
InvoiceKey = tuple[str, str]
#: A block of result rows of one invoice, with its place in processing order.
Block = tuple[tuple[int, str, str, str], str]


def partition_name(contract_id: str) -> str:
    """Return the folder name of a contract's partition.

    >>> partition_name("HSCEMD-19-C-10000")
    'contract_id=HSCEMD-19-C-10000'
    >>> partition_name("A/B 7"), partition_name("")
    ('contract_id=A%2FB%207', 'contract_id=__HIVE_DEFAULT_PARTITION__')
    """
    value = urllib.parse.quote(contract_id, safe="") if contract_id else DEFAULT_PARTITION
    return f"{PARTITION_KEY}={value}"


def _contract_of(folder: str) -> str | None:
    """Return the contract id a folder name stands for, or None if it is no partition.

    >>> _contract_of("contract_id=A%2FB%207"), _contract_of("other")
    ('A/B 7', None)
    """
    prefix = f"{PARTITION_KEY}="
    if not folder.startswith(prefix):
        return None
    value = folder.removeprefix(prefix)
    return "" if value == DEFAULT_PARTITION else urllib.parse.unquote(value)


# ------------------------------------------------------------------------------- datasets


@attrs.frozen
class Partition:
    """One contract's folder of a partitioned dataset.

    Attributes:
        contract_id: the contract (``""`` for the default partition).
        name: the folder's name, ``contract_id=…``.
        files: the files in the folder, sorted (hidden files left out).
        size: the bytes of its invoice lines (what groups are balanced by).
    """

    contract_id: str
    name: str
    files: tuple[str, ...]
    size: int


@attrs.frozen
class Dataset:
    """A dataset partitioned by contract (see the module's documentation).

    Attributes:
        root: the folder or URL.
        partitions: the contracts' folders, sorted by name.
        shared: the files at the root, given to every partition: :data:`SHARED_FILES` and
            any file that is no input file (the loader reports the ones that look like a
            misspelled input file); an input file with contract ids may not be there.
    """

    root: str
    partitions: tuple[Partition, ...]
    shared: tuple[str, ...]

    @property
    def size(self) -> int:
        """The bytes of every partition's invoice lines."""
        return sum(p.size for p in self.partitions)


def is_partitioned(root: str | os.PathLike[str]) -> bool:
    """Return whether *root* (a folder or an fsspec URL) has a ``contract_id=…`` folder."""
    try:
        folders, _ = listing(root)
    except (OSError, ValueError):
        return False
    return any(_contract_of(f) is not None for f in folders)


def _is_input(name: str) -> bool:
    return name in _NAMES or (name.endswith(_PARQUET) and name[: -len(_PARQUET)] + ".csv" in _NAMES)


def scan(root: str | os.PathLike[str]) -> Dataset:
    """Return the partitions of the dataset at *root*, checked.

    Raises:
        InputError: *root* has no partition folder, an input file with contract ids lies at
            the root, or two folders name the same contract (each is a problem naming the
            file or folder).
    """
    text = os.fspath(root)
    folders, files = listing(text)
    problems: list[Problem] = []
    shared = []
    for name, _ in files:
        if name.startswith("."):
            continue
        if not _is_input(name) or _csv_name(name) in SHARED_FILES:
            # Given to every partition: the shared tables, and the other files, which the
            # loader reports when they look like a misspelled input file.
            shared.append(name)
        else:
            problems.append(
                Problem(
                    file=name,
                    line=1,
                    message=(
                        "has a contract_id column: in a dataset partitioned by contract it "
                        f"belongs in the {PARTITION_KEY}=… folders (only "
                        f"{', '.join(SHARED_FILES)} are at the root)"
                    ),
                )
            )
    partitions: list[Partition] = []
    seen: dict[str, str] = {}
    for folder in folders:
        contract = _contract_of(folder)
        if contract is None:
            continue
        if contract in seen:
            problems.append(
                Problem(
                    file=folder,
                    line=1,
                    message=f"names the same contract as the folder {seen[contract]}",
                )
            )
            continue
        seen[contract] = folder
        _, inside = listing(join(text, folder))
        names = tuple(n for n, _ in inside if not n.startswith("."))
        problems += [
            Problem(
                file=f"{folder}/{n}",
                line=1,
                message=f"is also at the root; keep one of {n} and {folder}/{n}",
            )
            for n in names
            if n in shared
        ]
        sizes = dict(inside)
        size = sizes.get(INVOICE_LINES, sizes.get(INVOICE_LINES.replace(".csv", _PARQUET), 0))
        partitions.append(Partition(contract, folder, names, size))
    if not partitions:
        problems.append(
            Problem(file=".", line=1, message=f"no {PARTITION_KEY}=… folder: not partitioned")
        )
    if problems:
        raise InputError(*problems)
    return Dataset(text, tuple(partitions), tuple(shared))


def _csv_name(name: str) -> str:
    """Return the CSV name of an input file name (``rates.parquet`` -> ``rates.csv``)."""
    return name.removesuffix(_PARQUET).removesuffix(".csv") + ".csv"


def balanced_groups(partitions: Sequence[Partition], count: int) -> list[list[Partition]]:
    """Split *partitions* into at most *count* non-empty groups of similar size.

    As :func:`ice_recon.stream.balance` groups contracts (largest first, to the lightest).

    >>> parts = [Partition(c, c, (), s) for c, s in [("a", 9), ("b", 5), ("c", 4), ("d", 1)]]
    >>> [[p.contract_id for p in g] for g in balanced_groups(parts, 2)]
    [['a', 'd'], ['b', 'c']]
    """
    from ice_recon.stream import balance

    if count < 1:
        raise ArgumentError(f"the number of groups must be at least 1 (got {count})")
    of = balance({p.name: p.size for p in partitions}, count)
    groups: list[list[Partition]] = [[] for _ in range(count)]
    for p in sorted(partitions, key=lambda p: p.name):
        groups[of[p.name]].append(p)
    return [g for g in groups if g]  # partitions of size 0 may leave a group empty


# ------------------------------------------------------------------------------- split


#: How many rows :func:`split` holds before it appends them to the partitions' files.
SPLIT_BUFFER_ROWS: Final = 100_000


def split(
    input_dir: str | os.PathLike[str],
    out_root: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> Dataset:
    """Write the input folder *input_dir* as a dataset partitioned by contract at *out_root*.

    Each CSV input file with a ``contract_id`` column is split by that column (the rows keep
    their order; a row whose contract_id is empty, or that is too short to have one, goes
    to the default partition); every partition gets every such file, header-only where the
    contract has no rows. :data:`SHARED_FILES` are copied to the root. Cell values are
    copied as they are (they are checked when the dataset is reconciled); the quoting may
    change. The files are read once, streamed (at most :data:`SPLIT_BUFFER_ROWS` rows are
    held), into a temporary folder beside *out_root* that is renamed to it once complete.
    *out_root* must not exist or be empty. *progress* is called with each file's step and
    its seconds.

    Raises:
        InputError: an input file has no ``contract_id`` column, or is a Parquet file.
        OutputError: *out_root* is not an empty folder or cannot be written.
    """
    source = Path(input_dir)
    target = Path(out_root)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputError(str(target), "not an empty folder; split writes a new dataset")
    present = sorted(n for n in os.listdir(source) if _is_input(n))
    problems = [
        Problem(file=n, line=1, message="split reads CSV files; convert the Parquet file first")
        for n in present
        if n.endswith(_PARQUET)
    ]
    headers: dict[str, list[str]] = {}
    for name in (n for n in present if n.endswith(".csv") and n not in SHARED_FILES):
        with _open_csv(source / name) as f:
            header = next(csv.reader(f), None)
        if header is None or PARTITION_KEY not in header:
            message = f"has no {PARTITION_KEY} column to split by"
            problems.append(Problem(file=name, line=1, message=message))
        else:
            headers[name] = header
    if problems:
        raise InputError(*problems)
    partial = target.parent / f".{target.name}.partial-{os.getpid()}"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for name in (n for n in present if n in SHARED_FILES):
            shutil.copyfile(source / name, partial / name)
        contracts: set[str] = set()
        step = Stopwatch(progress)
        for name, header in headers.items():
            found, rows = _split_file(source / name, header, partial)
            contracts |= found
            step(f"split {name} ({rows:,} rows, {len(found):,} contracts)")
        for contract in contracts:  # every partition has every file, header-only if need be
            for name, header in headers.items():
                path = partial / partition_name(contract) / name
                if not path.exists():
                    with _create_csv(path) as f:
                        csv.writer(f, lineterminator="\n").writerow(header)
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise OutputError(str(target), str(exc.strerror or exc), exc.errno) from exc
    return scan(target)


def _open_csv(path: Path) -> IO[str]:
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _create_csv(path: Path, mode: str = "w") -> IO[str]:
    return open(path, mode, encoding="utf-8", errors="surrogateescape", newline="")


def _split_file(path: Path, header: list[str], root: Path) -> tuple[set[str], int]:
    """Append the rows of *path* to its file in each contract's folder.

    Returns the contracts found and the number of rows.
    """
    at = header.index(PARTITION_KEY)
    buffered: dict[str, list[list[str]]] = {}
    held = rows_read = 0
    seen: set[str] = set()

    def flush() -> None:
        for contract, rows in buffered.items():
            folder = root / partition_name(contract)
            out = folder / path.name
            new = contract not in seen
            if new:
                folder.mkdir(exist_ok=True)
                seen.add(contract)
            with _create_csv(out, "w" if new else "a") as f:
                writer = csv.writer(f, lineterminator="\n")
                if new:
                    writer.writerow(header)
                writer.writerows(rows)
        buffered.clear()

    with _open_csv(path) as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            if not row:
                continue
            buffered.setdefault(row[at] if at < len(row) else "", []).append(row)
            held += 1
            rows_read += 1
            if held >= SPLIT_BUFFER_ROWS:
                flush()
                held = 0
    flush()
    return seen, rows_read


# ------------------------------------------------------------------------------- one group


@attrs.frozen
class GroupResult:
    """What reconciling a group of partitions gives (a task's result on a cluster).

    Attributes:
        totals: the group's :class:`~ice_recon.report.Totals`; its problems and digests
            name the files as ``contract_id=…/NAME`` (the root's shared files by name).
        blocks: the group's ``results.csv`` rows, one text per invoice, with their place in
            processing order, sorted.
        header: the first line of ``results.csv``.
        bases: the pricing bases of the group's rules (for the CLI's ``--tolerance`` check).
    """

    totals: Totals
    blocks: tuple[Block, ...]
    header: str
    bases: frozenset[str]


def reconcile_group(
    root: str,
    partitions: Sequence[Partition],
    shared: Sequence[str],
    *,
    policy: Policy | None = None,
    memory_bytes: int | None = None,
    batch_lines: int | None = None,
    workdir: str | None = None,
    engine: Engine = "auto",
) -> GroupResult:
    """Reconcile each partition of *partitions* of the dataset at *root*; merge them.

    Each partition is reconciled as an input folder of its own (its files and the root's
    *shared* files): streamed, and spilled to temporary files when its invoice lines are
    longer than *memory_bytes*, as :func:`ice_recon.stream.reconcile_to` does; *engine*
    says who reads the large files (the results are the same).
    """
    from ice_recon import stream

    options: dict[str, Any] = {"engine": engine}
    if memory_bytes is not None:
        options["memory_bytes"] = memory_bytes
    if batch_lines is not None:
        options["batch_lines"] = batch_lines
    results: list[GroupResult] = []
    with tempfile.TemporaryDirectory(prefix="ice-recon-partition-", dir=workdir) as tmp:
        for p in partitions:
            folder = Path(tmp) / "in"
            _gather(root, p, shared, folder)
            with stream.prepare(folder, workdir=tmp, **options) as ready:
                misplaced = _misplaced(ready, p)
                if misplaced:
                    raise InputError(*misplaced)
                totals = ready.reconcile(Path(tmp) / "out", policy=policy)
                dates = dict(ready._dates)
                bases = {s.record.basis for s in ready.inputs.rates} | {
                    s.record.basis for s in ready.inputs.fuel_rules
                }
            header, blocks = _blocks(Path(tmp) / "out" / _RESULTS, dates)
            renamed = _names(p, shared)
            totals = attrs.evolve(
                totals,
                unbilled=tuple(totals.unbilled),
                problems=tuple(
                    attrs.evolve(q, file=renamed.get(q.file, f"{p.name}/{q.file}"))
                    for q in totals.problems
                ),
                digests={renamed.get(n, n): d for n, d in totals.digests.items()},
            )
            results.append(GroupResult(totals, tuple(blocks), header, frozenset(bases)))
            shutil.rmtree(folder)
            shutil.rmtree(Path(tmp) / "out")
    if not results:
        raise ArgumentError("a group needs at least one partition")
    return GroupResult(
        totals=merge_totals([r.totals for r in results]),
        blocks=tuple(heapq.merge(*(r.blocks for r in results), key=_block_key)),
        header=results[0].header,
        bases=frozenset().union(*(r.bases for r in results)),
    )


def _misplaced(ready: Any, p: Partition) -> list[Problem]:
    """Return a problem for each row of the partition whose contract is not the folder's.

    A row of another contract would be reconciled without that contract's other rows (a
    line without its trips, a trip without its rates): the dataset is refused instead. An
    empty contract_id belongs in the default partition (the folder
    ``contract_id=__HIVE_DEFAULT_PARTITION__``); rows left out for their own problems are
    not checked.
    """
    from ice_recon.stream import _read_batch

    spilled = []
    if ready.spilled:
        spilled = [
            _read_batch(ready._folder, ready._file, pieces)
            for pieces in itertools.chain.from_iterable(ready._batches)
        ]
    return _misplaced_rows(ready.inputs, spilled, p)


def _misplaced_rows(inputs: Inputs, spilled: list[Any], p: Partition) -> list[Problem]:
    """:func:`_misplaced` of loaded tables (*spilled*: more tables of invoice lines)."""
    found: list[tuple[str, int, str]] = []
    rows: Iterable[Sourced[Any]] = itertools.chain(
        inputs.rates, inputs.fuel_rules, inputs.invoices, inputs.contracts, inputs.cors or ()
    )
    for sourced in rows:
        found.append((sourced.file, sourced.line, sourced.record.contract_id))
    tables = [inputs.manifests, inputs.staff, inputs.invoice_lines, *spilled]
    for table, file in zip(
        tables, [MANIFESTS, STAFF, *[INVOICE_LINES] * (len(tables) - 2)], strict=True
    ):
        found += [(file, line, c) for c, line in zip(table.contract_id, table.line, strict=True)]
    return [
        Problem(
            file=f"{p.name}/{file}",
            line=line,
            column=PARTITION_KEY,
            value=contract,
            message=f"is not the contract of the folder {p.name} (a dataset partitioned by "
            "contract holds each row in its contract's folder)",
        )
        for file, line, contract in found
        if contract != p.contract_id
    ]


def inspect_dataset(root: str | os.PathLike[str]) -> Iterator[tuple[Partition, Inputs]]:
    """Yield each partition of the dataset at *root* with its tables loaded for checking.

    As :func:`ice_recon.load.inspect` loads a folder (every problem returned, none raised),
    one partition at a time (with the root's shared files); the problems name the
    partitions' files and include the rows of another contract. A problem of a shared
    file comes with every partition (``ice-recon validate`` prints it once).

    Raises:
        InputError: *root* is not a dataset partitioned by contract (see :func:`scan`).
    """
    from ice_recon.load import inspect

    dataset = scan(root)
    with tempfile.TemporaryDirectory(prefix="ice-recon-inspect-") as tmp:
        folder = Path(tmp) / "in"
        for p in dataset.partitions:
            _gather(dataset.root, p, dataset.shared, folder)
            inputs = inspect(folder)
            renamed = _names(p, dataset.shared)
            problems = [
                attrs.evolve(q, file=renamed.get(q.file, f"{p.name}/{q.file}"))
                for q in inputs.problems
            ] + _misplaced_rows(inputs, [], p)
            yield p, attrs.evolve(inputs, problems=tuple(sorted(problems, key=Problem.sort_key)))
            shutil.rmtree(folder)


def _names(p: Partition, shared: Sequence[str]) -> dict[str, str]:
    """Return what the problems and digests call each file the partition is read with."""
    return {**{n: f"{p.name}/{n}" for n in p.files}, **{n: n for n in shared}}


def _gather(root: str, p: Partition, shared: Sequence[str], folder: Path) -> None:
    """Put the partition's files and the shared files in the local *folder*."""
    folder.mkdir()
    wanted = [(join(root, p.name, n), n) for n in p.files] + [(join(root, n), n) for n in shared]
    if is_url(root):
        fs, _ = filesystem(root)
        for url, name in wanted:
            fs.get(filesystem(url)[1], str(folder / name))
        return
    for path, name in wanted:
        os.symlink(os.path.abspath(path), folder / name)


def _block_key(block: Block) -> tuple[int, str, str, str]:
    return block[0]


def _blocks(results: Path, dates: dict[InvoiceKey, str]) -> tuple[str, list[Block]]:
    """Return the header of *results* and its rows as blocks, one per invoice."""
    blocks: list[Block] = []
    current: InvoiceKey | None = None
    rows: list[str] = []
    with open(results, encoding="utf-8", newline="") as f:
        header = f.readline()
        for key, row in _rows(f):
            if key != current:
                if current is not None:
                    blocks.append((_order(current, dates), "".join(rows)))
                current, rows = key, []
            rows.append(row)
    if current is not None:
        blocks.append((_order(current, dates), "".join(rows)))
    return header, blocks


def _rows(lines: Iterable[str]) -> Iterator[tuple[InvoiceKey, str]]:
    """Yield ((contract_id, invoice_id), the row's text) for each CSV row of *lines*.

    A row may span lines (a quoted cell with a newline): it goes on while its quotes are
    unbalanced.

    >>> list(_rows(['C,I1,1,"a\\n', 'b"\\n', "C,I2,1,x\\n"]))
    [(('C', 'I1'), 'C,I1,1,"a\\nb"\\n'), (('C', 'I2'), 'C,I2,1,x\\n')]
    """
    pending = ""
    for line in lines:
        pending += line
        if pending.count('"') % 2:
            continue
        yield _key(pending), pending
        pending = ""
    if pending:
        yield _key(pending), pending


def _key(row: str) -> InvoiceKey:
    """Return the first two cells of a CSV row: split at the commas when neither is quoted.

    >>> _key('C,I1,1,"a, b"\\n'), _key('"C,1","I ""x",3\\n')
    (('C', 'I1'), ('C,1', 'I "x'))
    """
    cells = row.split(",", 2)
    if len(cells) == 3 and '"' not in cells[0] and '"' not in cells[1]:
        return cells[0], cells[1]  # unquoted cells hold no comma
    cells = next(csv.reader([row]))
    return cells[0], cells[1]


def _order(key: InvoiceKey, dates: dict[InvoiceKey, str]) -> tuple[int, str, str, str]:
    """Return an invoice's place in processing order (as ``match.sorted_invoices`` sorts)."""
    day = dates.get(key)
    return (0, day, *key) if day is not None else (1, "", *key)


# ------------------------------------------------------------------------------- the run

#: A group's work: :func:`reconcile_group` with the run's dataset and options.
GroupTask = Callable[[list[Partition]], GroupResult]
#: Runs the task of each group of the plan; yields (group number, its result) as each group
#: completes, in any order: the builtin ``map`` here, forked processes (``--workers``), a
#: Dask client's tasks (:mod:`ice_recon.distributed`).
GroupRunner = Callable[[GroupTask, list[list[Partition]]], Iterable[tuple[int, GroupResult]]]


def forked_runner(
    task: GroupTask, plan: list[list[Partition]]
) -> Iterator[tuple[int, GroupResult]]:
    """A :data:`GroupRunner` that runs each group in a forked process of this machine."""
    from ice_recon import _fork

    results: list[GroupResult] = _fork.forked(_forked_group, len(plan), (task, plan))
    yield from enumerate(results)


def _forked_group(k: int) -> GroupResult:
    from ice_recon import _fork

    task, plan = _fork.shared
    result: GroupResult = task(plan[k])
    return result


def _here(task: GroupTask, plan: list[list[Partition]]) -> Iterator[tuple[int, GroupResult]]:
    """The default :data:`GroupRunner`: one group after the other, in this process."""
    for g, group in enumerate(plan):
        yield g, task(group)


def reconcile_dataset(
    root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    policy: Policy | None = None,
    progress: Progress | None = None,
    format: str = "csv",
    memory_bytes: int | None = None,
    batch_lines: int | None = None,
    workdir: str | os.PathLike[str] | None = None,
    check: Callable[[GroupResult], None] | None = None,
    groups: int = 1,
    runner: GroupRunner | None = None,
    engine: Engine = "auto",
) -> Totals:
    """Reconcile the dataset partitioned by contract at *root* into *out_dir*.

    The output files are those one run over the partitions' concatenated files writes
    (the same bytes), except that ``problems.csv`` and the input digests name the files of
    the partitions. *groups* partitions groups (balanced by the size of their invoice
    lines) are reconciled by *runner* (default: one after the other, here); *check* sees
    the merged result before anything is written, and may raise :class:`Refused` (or any
    exception) to refuse it. *memory_bytes*, *batch_lines* and *engine* are as for
    :func:`ice_recon.stream.reconcile_to`, for each partition; *workdir* is where the
    temporary files go, here and in the tasks.

    Raises:
        InputError: the dataset is not partitioned as the module describes, or a
            partition's files are not usable (a required file or column missing).
        OutputError: an output file or the folder cannot be written.
    """
    check_policy(policy)
    _check_format(format)
    policy = policy or Policy()
    step = Stopwatch(progress)
    dataset = scan(root)
    step(f"list {len(dataset.partitions)} contract partitions")
    existed = os.path.lexists(out_dir)
    prepare_output(out_dir)
    try:
        reading = {"memory_bytes": memory_bytes, "batch_lines": batch_lines, "engine": engine}
        plan = balanced_groups(dataset.partitions, groups)
        return _reconcile_scanned(
            dataset, plan, out_dir, policy, step, format, reading, workdir, check, runner
        )
    except (InputError, Refused):
        if not existed:  # a refused run leaves nothing behind, as a local run
            with contextlib.suppress(OSError):
                os.rmdir(out_dir)
        raise


class Refused(IceReconError):
    """Raised by a *check* of :func:`reconcile_dataset` to refuse the result (nothing written)."""


def _reconcile_scanned(
    dataset: Dataset,
    plan: list[list[Partition]],
    out_dir: str | os.PathLike[str],
    policy: Policy,
    step: Stopwatch,
    format: str,
    reading: dict[str, Any],
    workdir: str | os.PathLike[str] | None,
    check: Callable[[GroupResult], None] | None,
    runner: GroupRunner | None,
) -> Totals:
    temporary = None if workdir is None else os.fspath(workdir)

    def one(group: list[Partition]) -> GroupResult:
        return reconcile_group(
            dataset.root, group, dataset.shared, policy=policy, workdir=temporary, **reading
        )

    # Each group's result rows go to a temporary file as the group completes; the merge
    # reads them back one block at a time: this process holds the totals, not the rows.
    with tempfile.TemporaryDirectory(prefix="ice-recon-merge-", dir=temporary) as tmp:
        parts: list[GroupResult | None] = [None] * len(plan)
        for g, result in (runner or _here)(one, plan):
            with open(Path(tmp) / f"{g}.bin", "wb") as spill:
                for block in result.blocks:
                    marshal.dump(block, spill)
            parts[g] = attrs.evolve(result, blocks=())
        results = [r for r in parts if r is not None]
        if len(results) != len(plan):
            raise RuntimeError("a runner did not return every group's result")
        step(f"reconcile {len(plan)} group{'s' if len(plan) != 1 else ''} of partitions")
        merged = GroupResult(
            totals=merge_totals([r.totals for r in results]),
            blocks=(),
            header=results[0].header,
            bases=frozenset().union(*(r.bases for r in results)),
        )
        if check is not None:
            check(merged)
        with OutputSet(out_dir) as out:
            with open(out.path(_RESULTS), "w", encoding="utf-8", newline="") as f:
                f.write(merged.header)
                blocks = [_read_blocks(Path(tmp) / f"{g}.bin") for g in range(len(plan))]
                for _, text in heapq.merge(*blocks, key=_block_key):
                    f.write(text)
            merged.totals._write_totals(out, format)
            if format != "csv":
                from ice_recon.interop import convert

                convert(out, "results", format)
            out.commit()
    step("merge and write")
    return merged.totals


def _read_blocks(path: Path) -> Iterator[Block]:
    """Yield the blocks written to *path* with ``marshal.dump``, in order."""
    with open(path, "rb") as f:
        while True:
            try:
                key, text = marshal.load(f)
            except EOFError:
                return
            yield (key[0], key[1], key[2], key[3]), text
