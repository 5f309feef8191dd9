"""Reconcile a folder of any size: the invoice lines in memory, or spilled in batches.

:func:`ice_recon.reconcile` holds every invoice line and every result in memory. This module
runs the same stages writing the results to ``results.csv`` chunk by chunk, and it holds the
invoice lines in memory only when ``invoice_lines.csv`` is at most *memory_bytes* long
(256 MiB by default, about three million lines). A longer file is *spilled*:

1. **Read** (:func:`prepare`). ``invoice_lines.csv`` is read and validated in chunks, each
   written to a temporary file (:mod:`marshal`, the columns as they are), and every invoice
   is counted.
2. **Batch** (:func:`prepare`). The invoices are sorted into the processing order and cut
   into *batches* of about ``batch_lines`` lines, never inside an invoice; each chunk's rows
   are routed to their batches. Each batch is then read once to find duplicated (contract,
   invoice, line_no) keys — always within one invoice, so within one batch — before anything
   is reconciled (``--strict`` stops on them).
3. **Claim.** Every batch, in order, claims the charges of its exact matches
   (:func:`~ice_recon.match.claim_exact`): exact matching precedes inference for *all*
   lines, so this pass ends before any line is inferred.
4. **Match, price, classify, write.** Every batch, in order, goes through the stages chunk
   by chunk, and each chunk's rows are appended to ``results.csv``.

In memory, steps 3 and 4 run over the chunks of the whole processing order. With
``workers=N`` the contracts are split into N groups (partition independence, DESIGN section
7: contracts share nothing) and steps 3-4 run for each group in its own forked process; the
groups' results are merged back into the processing order, invoice by invoice.

The output files are byte for byte those of ``reconcile(load(folder)).write(out_dir)``,
whatever ``batch_lines``, ``workers`` and ``memory_bytes`` are (a property test checks this).

>>> import tempfile
>>> from ice_recon.cli import sample_dir
>>> with tempfile.TemporaryDirectory() as out:
...     totals = reconcile_to(sample_dir(), out, batch_lines=7, memory_bytes=0)
...     same = open(f"{out}/results.csv").read().count("\\n") == totals.line_count + 1
>>> totals.line_count, same
(60, True)
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import heapq
import io
import itertools
import marshal
import os
import pickle
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Final

import attrs

from ice_recon import _engine, _fork
from ice_recon._gc import paused
from ice_recon._read import MAX_RECORD_BYTES, Layout, TableReader
from ice_recon._specs import INVOICE_LINES, SPECS
from ice_recon.errors import ArgumentError, InputError, Problem
from ice_recon.explain import Explainer, problem_columns
from ice_recon.frames import is_parquet
from ice_recon.index import Index, build
from ice_recon.load import Inputs, line_table, load_resident, mark_duplicate_keys
from ice_recon.match import MatchState, claim_exact, invoice_dates, ordered, sorted_invoices
from ice_recon.output import OutputSet, output_errors, prepare_output
from ice_recon.policy import Policy
from ice_recon.price import Pricer
from ice_recon.reconcile import STAGES, Stopwatch, check_policy, chunk_bounds, stages
from ice_recon.report import (
    RESULT_COLUMNS,
    Accumulator,
    ChunkResult,
    Totals,
    _check_format,
    csv_cell_line,
    untied,
)
from ice_recon.tables import InvoiceLineTable, LineChunk

__all__ = [
    "DEFAULT_BATCH_LINES",
    "DEFAULT_MEMORY_BYTES",
    "Prepared",
    "prepare",
    "reconcile_to",
]

#: Invoice lines per batch when the lines are spilled (a batch is what is in memory).
DEFAULT_BATCH_LINES: Final = 25_000
#: The longest invoice_lines.csv held in memory (bytes); a longer one is spilled.
DEFAULT_MEMORY_BYTES: Final = 256 << 20
#: Progress reports "reconciled N of M lines" about every this many lines.
_PROGRESS_LINES: Final = 100_000
#: Lines per chunk read from a spilled file.
_READ_LINES: Final = 100_000

Progress = Callable[[str, float], None]
#: Reconciles every contract group of a Prepared (see Prepared._reconcile_with).
Runner = Callable[["Prepared", Index, Policy, Stopwatch], "list[_Part]"]
InvoiceKey = tuple[str, str]


@attrs.define(eq=False)
class Prepared:
    """A folder whose tables are loaded and whose invoice lines are in processing order.

    Made by :func:`prepare`; :attr:`problems` is complete (every input problem, as
    :func:`~ice_recon.load.load` reports them) before anything is reconciled, so a caller
    can refuse to go on (``--strict``). Use as a context manager, or call :meth:`close`, to
    delete the temporary files.

    Attributes:
        inputs: the tables; ``invoice_lines`` holds the lines when they are in memory, and
            is empty when they are spilled.
        line_count: how many invoice lines were read (INVALID ones included).
        problems: every input problem, sorted like :attr:`Inputs.problems`.
        digests: sha256 of each input file read.
        spilled: whether the lines were spilled to temporary files (else they are in memory).
    """

    inputs: Inputs
    line_count: int
    problems: tuple[Problem, ...]
    digests: dict[str, str]
    spilled: bool
    _folder: Path
    _file: str
    _dates: dict[InvoiceKey, str]
    _ranks: dict[InvoiceKey, int]
    #: Per contract group: its rows in processing order (in memory), or its batches (spilled:
    #: for each batch, its pieces as (file, offset, length)).
    _orders: list[list[int]]
    _batches: list[list[list[tuple[str, int, int]]]]

    def __repr__(self) -> str:
        # Counts, never contents: the lines may be millions.
        where = "spilled to temporary files" if self.spilled else "in memory"
        return (
            f"<Prepared: {self.line_count} invoice lines {where}, {self.groups} contract "
            f"group{'' if self.groups == 1 else 's'}, {len(self.problems)} problems>"
        )

    def close(self) -> None:
        """Delete the temporary files."""
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> Prepared:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def groups(self) -> int:
        """How many contract groups (processes) the lines are reconciled in."""
        return len(self._batches) if self.spilled else len(self._orders)

    def chunks(self, group: int) -> Iterator[LineChunk]:
        """Yield the chunks of a contract group's lines, in processing order."""
        if not self.spilled:
            table, order = self.inputs.invoice_lines, self._orders[group]
            for a, b in chunk_bounds(table.contract_id, table.invoice_id, order):
                yield LineChunk(table, order[a:b], a)
            return
        offset = 0
        for pieces in self._batches[group]:
            table = _read_batch(self._folder, self._file, pieces)
            mark_duplicate_keys(table, [])  # reported in prepare(); the marks are made again
            order = ordered(table, self._dates)
            for a, b in chunk_bounds(table.contract_id, table.invoice_id, order):
                yield LineChunk(table, order[a:b], offset + a)
            offset += len(table)

    def reconcile(
        self,
        out_dir: str | os.PathLike[str],
        *,
        policy: Policy | None = None,
        progress: Progress | None = None,
        format: str = "csv",
    ) -> Totals:
        """Reconcile the lines, write the output files; return the totals.

        The files are written as :meth:`ice_recon.Report.write` writes them: under
        temporary names, renamed into place once all are complete (``summary.json`` last);
        *format* as there (``jsonl`` and ``parquet`` are made from the CSV text).

        Raises:
            OutputError: an output file or the folder cannot be written.
        """
        return self._reconcile_with(out_dir, policy, progress, format, None)

    def _reconcile_with(
        self,
        out_dir: str | os.PathLike[str],
        policy: Policy | None,
        progress: Progress | None,
        format: str,
        runner: Runner | None,
    ) -> Totals:
        """:meth:`reconcile`, the groups run by *runner* (default: forked processes).

        A runner reconciles every contract group, writes each group's result blocks to
        ``results-{g}.bin`` in the temporary folder, and returns the groups' parts in group
        order (:mod:`ice_recon.distributed` runs them on a Dask cluster).
        """
        check_policy(policy)
        policy = policy or Policy()
        step = Stopwatch(progress)
        with paused(), OutputSet(out_dir) as out:
            index = build(self.inputs)
            step("index")
            results = out.path("results.csv")
            if self.groups == 1 and runner is None:
                with _Sink(results, keyed=False) as sink:
                    parts = [_reconcile_group(self, 0, index, policy, sink, step)]
            else:
                parts = (runner or _run_forked)(self, index, policy, step)
                _merge_results(
                    [self._folder / f"results-{g}.bin" for g in range(self.groups)], results
                )
                step("merge results")
            acc = parts[0].accumulator
            claimed = parts[0].claimed
            pairs = parts[0].pairs
            for part in parts[1:]:
                acc.merge(part.accumulator)
                claimed = bytearray(a | b for a, b in zip(claimed, part.claimed, strict=True))
                pairs += part.pairs
            inputs = attrs.evolve(self.inputs, problems=self.problems, digests=self.digests)
            totals = Totals(**acc.totals(inputs, claimed, pairs, policy))
            totals._write_totals(out, format)
            if format != "csv":
                from ice_recon.interop import convert

                convert(out, "results", format)
            out.commit()
            step("totals")
        return totals


def _run_forked(ready: Prepared, index: Index, policy: Policy, step: Stopwatch) -> list[_Part]:
    parts: list[_Part] = _fork.forked(_group_worker, ready.groups, (ready, index, policy))
    step(f"claim, match, price, classify in {ready.groups} processes")
    return parts


@attrs.define(eq=False)
class _Part:
    """What reconciling one contract group returns to the parent."""

    accumulator: Accumulator
    claimed: bytearray
    pairs: int


def prepare(
    input_dir: str | os.PathLike[str],
    *,
    batch_lines: int = DEFAULT_BATCH_LINES,
    workers: int = 1,
    workdir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    check: Callable[[Inputs], None] | None = None,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    engine: _engine.Engine = "auto",
    groups: int | None = None,
) -> Prepared:
    """Load the tables of *input_dir* and put its invoice lines in processing order.

    Args:
        batch_lines: invoice lines per batch when the lines are spilled.
        workers: how many contract groups (processes) :meth:`Prepared.reconcile` will use.
        workdir: where the temporary files go (default: the system's temporary folder).
        progress: called with each step's name and duration in seconds.
        check: called with the resident tables before any invoice line is read; whatever
            it raises stops the preparation (the CLI refuses a misspelled tolerance basis
            here, before reading millions of lines).
        memory_bytes: the longest ``invoice_lines.csv`` whose lines are held in memory; a
            longer one is read and spilled in batches (0: always spill).
        engine: ``"auto"``, ``"python"`` or ``"fast"``: who reads the large CSV files (see
            :func:`ice_recon.reconcile`); the results are the same.
        groups: how many contract groups to make (default: *workers*); *workers* then
            only says how many processes read the files (:mod:`ice_recon.distributed`).

    Raises:
        ValueError: *batch_lines* or *workers* is less than 1, or *memory_bytes* negative.
        NotADirectoryError: *input_dir* is not a folder.
    """
    if batch_lines < 1:
        raise ArgumentError(f"batch_lines must be at least 1 (got {batch_lines})")
    if workers < 1:
        raise ArgumentError(f"workers must be at least 1 (got {workers})")
    if groups is not None and groups < 1:
        raise ArgumentError(f"groups must be at least 1 (got {groups})")
    count_groups = workers if groups is None else groups
    if memory_bytes < 0:
        raise ArgumentError(f"memory_bytes must not be negative (got {memory_bytes})")
    step = Stopwatch(progress)
    with paused(), _engine.using(engine):
        inputs, path = load_resident(input_dir, workers=workers)
        step("read the manifest, roster, rates and invoice headers")
        if check is not None:
            check(inputs)
        folder = Path(tempfile.mkdtemp(prefix="ice-recon-", dir=workdir))
        try:
            problems = list(inputs.problems)
            reader = TableReader(SPECS[INVOICE_LINES], problems)
            dates = invoice_dates(inputs.invoices)
            of_group = _contract_groups(inputs, count_groups)
            # A Parquet file of lines is read whole, in memory (it is compressed columns).
            spill = path is not None and not is_parquet(path) and path.stat().st_size > memory_bytes
            if spill:
                assert path is not None
                count, ranks, batches = _spill(
                    path, reader, folder, dates, of_group, count_groups, batch_lines, workers
                )
                step("read, sort and batch invoice lines")
                for pieces in itertools.chain.from_iterable(batches):
                    table = _read_batch(folder, reader.file, pieces)
                    mark_duplicate_keys(table, problems)
                step("find duplicate line keys")
                orders: list[list[int]] = []
            else:
                parsed = reader.parse(path) if path is not None else None
                table = line_table(parsed, reader.file)
                mark_duplicate_keys(table, problems)
                inputs = attrs.evolve(inputs, invoice_lines=table)
                count = len(table)
                order = ordered(table, dates)
                ranks = _ranks(table.contract_id, table.invoice_id, dates)
                orders = _group_orders(table, order, of_group, count_groups)
                batches = []
                step("read and sort invoice lines")
            digests = dict(inputs.digests)
            if reader.digest is not None:
                digests[reader.file] = reader.digest
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return Prepared(
        inputs=inputs,
        line_count=count,
        problems=tuple(sorted(problems, key=Problem.sort_key)),
        digests=dict(sorted(digests.items())),
        spilled=spill,
        folder=folder,
        file=reader.file,
        dates=dates,
        ranks=ranks,
        orders=orders,
        batches=batches,
    )


def reconcile_to(
    input_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    policy: Policy | None = None,
    batch_lines: int = DEFAULT_BATCH_LINES,
    workers: int = 1,
    progress: Progress | None = None,
    workdir: str | os.PathLike[str] | None = None,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    format: str = "csv",
    engine: _engine.Engine = "auto",
) -> Totals:
    """Reconcile the folder *input_dir* into the output files of *out_dir*.

    The same files as ``reconcile(input_dir).write(out_dir)``, written chunk by chunk; the
    invoice lines are held in memory up to *memory_bytes* of ``invoice_lines.csv`` and
    spilled in batches of *batch_lines* beyond; with *workers* > 1 the contracts are
    reconciled in that many processes. *progress* is called with each step's name and
    duration in seconds. A ``summary.json`` left in *out_dir* by an earlier run is removed
    before anything is read, and written last (see :meth:`ice_recon.Report.write`, whose
    *format* — ``csv``, ``jsonl`` or ``parquet`` — this takes too).
    *engine* (``"auto"``, ``"python"`` or ``"fast"``) is as for :func:`ice_recon.reconcile`:
    the files are the same bytes whichever runs.

    Raises:
        OutputError: an output file or *out_dir* cannot be written.
        InputError: the inputs cannot be reconciled (a required file or column missing, an
            unusable header); nothing is written, and *out_dir* is not left behind.
    """
    _check_format(format)
    existed = isinstance(out_dir, str | os.PathLike) and os.path.lexists(out_dir)
    prepare_output(out_dir)
    try:
        ready = prepare(
            input_dir,
            batch_lines=batch_lines,
            workers=workers,
            workdir=workdir,
            progress=progress,
            memory_bytes=memory_bytes,
            engine=engine,
        )
    except InputError:
        if not existed:  # a refused run leaves nothing behind, not even an empty folder
            with contextlib.suppress(OSError):
                os.rmdir(out_dir)
        raise
    with ready:
        return ready.reconcile(out_dir, policy=policy, progress=progress, format=format)


# ----------------------------------------------------------------------------------- groups


def _contract_groups(inputs: Inputs, workers: int) -> dict[str, int]:
    """Assign the contracts of the manifest to *workers* groups, balancing their trips."""
    if workers == 1:
        return {}
    return balance(collections.Counter(inputs.manifests.contract_id), workers)


def balance(sizes: Mapping[str, int], count: int) -> dict[str, int]:
    """Assign each key of *sizes* to one of *count* groups, largest first, to the lightest.

    Contracts are never split; ties go to the smaller key and the lower group.

    >>> balance({"a": 9, "b": 5, "c": 4, "d": 1}, 2)
    {'a': 0, 'b': 1, 'c': 1, 'd': 0}
    """
    load = [0] * count
    groups: dict[str, int] = {}
    for key, n in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        g = min(range(count), key=load.__getitem__)
        groups[key] = g
        load[g] += n
    return groups


def _group_of(contract: str, groups: dict[str, int], workers: int) -> int:
    g = groups.get(contract)
    return zlib.crc32(contract.encode("utf-8", "surrogateescape")) % workers if g is None else g


def _group_orders(
    table: InvoiceLineTable, order: list[int], groups: dict[str, int], workers: int
) -> list[list[int]]:
    """Split the processing order into the orders of the contract groups."""
    if workers == 1:
        return [order]
    of = {c: _group_of(c, groups, workers) for c in set(table.contract_id)}
    group = list(map(of.__getitem__, table.contract_id))
    out: list[list[int]] = [[] for _ in range(workers)]
    for i in order:
        out[group[i]].append(i)
    return out


def _ranks(
    contract_ids: Sequence[str], invoice_ids: Sequence[str], dates: dict[InvoiceKey, str]
) -> dict[InvoiceKey, int]:
    """Return the rank of each invoice in processing order."""
    keys = set(zip(contract_ids, invoice_ids, strict=True))
    return {key: rank for rank, key in enumerate(sorted_invoices(keys, dates))}


# ------------------------------------------------------------------------------------ spill


def _spill(
    path: Path,
    reader: TableReader,
    folder: Path,
    dates: dict[InvoiceKey, str],
    groups: dict[str, int],
    workers: int,
    batch_lines: int,
    readers: int,
) -> tuple[int, dict[InvoiceKey, int], list[list[list[tuple[str, int, int]]]]]:
    """Read invoice_lines.csv into chunk files, batch the invoices, route the rows.

    *workers* is the number of contract groups, *readers* of reading processes. Returns
    the number of lines, the invoices' ranks and, per contract group, its batches as lists
    of pieces (chunk file, offset, length).
    """
    plan = _plan(path, readers) if readers > 1 else None
    if plan is None:
        chunks, counts = _read_chunks(reader, path, folder, "0")
    else:
        chunks, counts = _read_in_parallel(plan, reader, folder)
    ranks = {key: rank for rank, key in enumerate(sorted_invoices(counts, dates))}
    # Batches: per group, consecutive invoices of about batch_lines lines.
    batch_of: dict[InvoiceKey, tuple[int, int]] = {}
    filled = [0] * workers
    numbers = [0] * workers
    for key in sorted(counts, key=ranks.__getitem__):
        g = _group_of(key[0], groups, workers) if workers > 1 else 0
        if filled[g] >= batch_lines:
            numbers[g] += 1
            filled[g] = 0
        batch_of[key] = (g, numbers[g])
        filled[g] += counts[key]
    batches: list[list[list[tuple[str, int, int]]]] = [
        [[] for _ in range(numbers[g] + 1)] for g in range(workers)
    ]
    for name, _ in chunks:
        source = folder / name
        with source.open("rb") as f:
            table = InvoiceLineTable.from_columns(reader.file, marshal.load(f))
        source.unlink()
        rows: dict[tuple[int, int], list[int]] = {}
        for i, key in enumerate(zip(table.contract_id, table.invoice_id, strict=True)):
            rows.setdefault(batch_of[key], []).append(i)
        routed = f"routed-{name}"
        with (folder / routed).open("wb") as f:
            for (g, b), members in sorted(rows.items()):
                start = f.tell()
                marshal.dump(table.take(members).columns(), f)
                batches[g][b].append((routed, start, f.tell() - start))
    return sum(n for _, n in chunks), ranks, [[b for b in g if b] for g in batches]


def _read_chunks(
    reader: TableReader, path: Path, folder: Path, tag: str
) -> tuple[list[tuple[str, int]], dict[InvoiceKey, int]]:
    """Read *path* in chunks, each to a file; return the files and the invoices' line counts."""
    chunks: list[tuple[str, int]] = []
    counts: dict[InvoiceKey, int] = {}
    for k, parsed in enumerate(reader.parse_chunks(path, _READ_LINES)):
        chunks.append(_write_chunk(line_table(parsed, reader.file), folder, f"{tag}-{k}", counts))
    return chunks, counts


def _write_chunk(
    table: InvoiceLineTable, folder: Path, tag: str, counts: dict[InvoiceKey, int]
) -> tuple[str, int]:
    for key in zip(table.contract_id, table.invoice_id, strict=True):
        counts[key] = counts.get(key, 0) + 1
    name = f"chunk-{tag}.bin"
    with (folder / name).open("wb") as f:
        marshal.dump(table.columns(), f)
    return name, len(table)


def _read_batch(folder: Path, file: str, pieces: list[tuple[str, int, int]]) -> InvoiceLineTable:
    tables = []
    for name, start, length in pieces:
        with (folder / name).open("rb") as f:
            f.seek(start)
            tables.append(InvoiceLineTable.from_columns(file, marshal.loads(f.read(length))))
    return tables[0] if len(tables) == 1 else InvoiceLineTable.joined(file, tables)


@attrs.frozen
class _Plan:
    """How to read a quote-free invoice_lines.csv in parts: byte ranges and first lines."""

    path: Path
    header: str
    ranges: list[tuple[int, int, int]]  # (start byte, end byte, file line of the start)
    digest: str


def _plan(path: Path, parts: int) -> _Plan | None:
    """Plan reading *path* in *parts* byte ranges, or ``None`` if it must be read serially.

    Only a file without any quote character can be cut at any line end (a quoted cell may
    hold a line break); one with a quote is read by one process, like any other.
    """

    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except OSError:
        return None  # the serial reader reports it
    digest = hashlib.sha256()
    with handle:
        head = handle.readline()
        cuts = sorted({max(len(head), size * k // parts) for k in range(1, parts)})
        ends: list[int] = []
        for cut in cuts:
            handle.seek(max(cut - 1, 0))
            handle.readline()
            ends.append(handle.tell())
        handle.seek(0)
        # Every boundary is just after a \n, so no \r\n is cut at one. Physical lines end
        # with \n, \r\n or a lone \r (as the csv module counts them).
        lines = 0
        boundaries = sorted({len(head), *ends, size})
        starts_at: dict[int, int] = {}
        position = 0
        carry = b""  # a \r at the end of a block, until the next block shows what follows
        since = 0  # bytes of the current line read so far
        for boundary in boundaries:
            while position < boundary:
                block = handle.read(min(1 << 24, boundary - position))
                if not block:
                    break
                if b'"' in block:
                    return None
                gap = _line_tail(block, since, MAX_RECORD_BYTES)
                if gap is None:
                    return None  # an over-long line: the serial reader reports it
                since = gap
                digest.update(block)
                position += len(block)
                text = carry + block
                carry = b"\r" if text.endswith(b"\r") else b""
                body = text[: len(text) - len(carry)]
                lines += body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n")
            starts_at[boundary] = lines + 1
    try:
        header = head.decode("utf-8-sig", errors="surrogateescape")
    except UnicodeDecodeError:  # pragma: no cover - surrogateescape never fails
        return None
    if "\r" in header.rstrip("\r\n"):
        return None  # a lone \r in the header line: let the serial reader sort it out
    points = sorted({len(head), *ends, size})
    ranges = [(a, b, starts_at[a]) for a, b in itertools.pairwise(points) if b > a]
    return _Plan(path, header, ranges, digest.hexdigest())


def _line_tail(block: bytes, since: int, limit: int) -> int | None:
    """Return the bytes after *block*'s last ``\\n``; None if a line in it exceeds *limit*.

    *since* bytes of the first line came before *block*. Each search jumps about *limit*
    bytes, so a block of short lines costs a few ``rfind`` calls, not a scan per line.

    >>> _line_tail(b"ab\\ncd", 0, 3), _line_tail(b"abcd\\n", 0, 3), _line_tail(b"c\\n", 2, 3)
    (2, None, 0)
    """
    pos, n = 0, len(block)
    while True:
        room = pos + limit - since  # the line's end must come at or before this index
        if room >= n:
            last = block.rfind(b"\n", pos)
            return since + n - pos if last == -1 else n - last - 1
        found = block.rfind(b"\n", pos, room + 1)
        if found == -1:
            return None
        pos, since = found + 1, 0


def _read_in_parallel(
    plan: _Plan, reader: TableReader, folder: Path
) -> tuple[list[tuple[str, int]], dict[InvoiceKey, int]]:
    """Read the byte ranges of *plan* in forked processes, each writing chunk files."""
    layout = reader.header(plan.header)
    reader.digest = plan.digest
    if layout is None:
        return [], {}
    if not plan.ranges:  # a header and no data rows: a valid, empty table
        reader.finish(0)
        return [], {}
    parts = _fork.forked(_read_worker, len(plan.ranges), (plan, reader, layout, folder))
    chunks: list[tuple[str, int]] = []
    counts: dict[InvoiceKey, int] = {}
    rows = 0
    for part_chunks, part_counts, problems in parts:
        chunks += part_chunks
        rows += sum(n for _, n in part_chunks)
        for key, n in part_counts.items():
            counts[key] = counts.get(key, 0) + n
        reader.problems.extend(problems)
    reader.finish(rows)
    return chunks, counts


def _read_worker(
    part: int,
) -> tuple[list[tuple[str, int]], dict[InvoiceKey, int], list[Problem]]:
    shared: tuple[_Plan, TableReader, Layout, Path] = _fork.shared
    plan, parent, layout, folder = shared
    start, end, first = plan.ranges[part]
    problems: list[Problem] = []
    reader = TableReader(parent.spec, problems)
    reader.file = parent.file
    reader.extra_names = parent.extra_names
    chunks: list[tuple[str, int]] = []
    counts: dict[InvoiceKey, int] = {}
    with paused(), plan.path.open("rb") as handle:
        handle.seek(start)
        position = start
        k = 0
        while position < end:
            chunk = list(itertools.islice(handle, _READ_LINES))
            size = sum(map(len, chunk))
            if position + size > end:  # the last chunk may run into the next range
                while chunk and position + size > end:
                    size -= len(chunk.pop())
            if not chunk:
                break
            position += size
            text = b"".join(chunk).decode("utf-8", errors="surrogateescape")
            lines = io.StringIO(text, newline="").readlines()
            table = line_table(reader.parse_lines(layout, lines, first), reader.file)
            chunks.append(_write_chunk(table, folder, f"{part}-{k}", counts))
            first += len(lines)
            k += 1
    return chunks, counts, problems


# ------------------------------------------------------------------------------ reconciling


def _reconcile_group(
    ready: Prepared,
    group: int,
    index: Index,
    policy: Policy,
    sink: _Sink,
    step: Stopwatch | None = None,
) -> _Part:
    """Claim, then match, price, classify and write the lines of one contract group.

    *step*, if given, is told when each step is done (progress).
    """
    explainer = Explainer(
        problem_columns(ready.problems, ready._file), plain_trip_ids=index.trips.plain_ids
    )
    pricer = Pricer(index, policy.rounding)
    state = MatchState.new(len(ready.inputs.manifests))
    for chunk in ready.chunks(group):
        claim_exact(chunk, pricer, state)
    if step is not None:
        step("claim exact matches")
    acc = Accumulator(policy)
    spent = dict.fromkeys((*STAGES, "write"), 0.0)
    done, shown = 0, 0
    for result in stages(ready.chunks(group), pricer, policy, state, spent):
        t0 = time.perf_counter()
        untied(result, explainer)
        acc.add(result)
        sink.write(result, ready._ranks, explainer)
        spent["write"] += time.perf_counter() - t0
        done += len(result.chunk)
        if step is not None and done - shown >= _PROGRESS_LINES:
            step(f"reconciled {done:,} of {ready.line_count:,} lines")
            shown = done
    if step is not None:
        if done != shown:
            step(f"reconciled {done:,} of {ready.line_count:,} lines")
        step.split(*spent.items())
    return _Part(acc, state.trips, state.pairs)


def _create(path: Path) -> IO[bytes]:
    """Open *path* for writing; an ``OSError`` becomes an OutputError naming it."""
    with output_errors(path):
        return path.open("wb")


class _Sink:
    """Where a group's result lines go: results.csv itself, or blocks to merge later.

    Keyed blocks are the lines of one invoice with the invoice's rank in processing order:
    the groups' files are merged invoice by invoice.
    """

    def __init__(self, path: Path, *, keyed: bool) -> None:
        self.path = path
        self.keyed = keyed
        self._file: IO[bytes] | None = None

    def __enter__(self) -> _Sink:
        self._file = _create(self.path)
        if not self.keyed:
            self._file.write(csv_cell_line(RESULT_COLUMNS).encode("utf-8"))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(
        self, result: ChunkResult, ranks: dict[InvoiceKey, int], explainer: Explainer
    ) -> None:
        """Write the result lines of one chunk."""
        assert self._file is not None
        lines = result.lines(explainer)
        if not self.keyed:
            self._file.write("".join(lines).encode("utf-8"))
            return
        chunk = result.chunk
        blocks: list[tuple[int, str]] = []
        start = 0
        order = list(result.order)
        for end in range(1, len(order) + 1):
            if end < len(order):
                a, b = order[end - 1], order[end]
                if chunk.invoice[a] == chunk.invoice[b] and chunk.contract[a] == chunk.contract[b]:
                    continue
            k = order[start]
            blocks.append((ranks[(chunk.contract[k], chunk.invoice[k])], "".join(lines[start:end])))
            start = end
        pickle.dump(blocks, self._file, pickle.HIGHEST_PROTOCOL)


def _group_worker(group: int) -> _Part:
    shared: tuple[Prepared, Index, Policy] = _fork.shared
    ready, index, policy = shared
    with paused(), _Sink(ready._folder / f"results-{group}.bin", keyed=True) as sink:
        return _reconcile_group(ready, group, index, policy, sink)


def _merge_results(parts: Sequence[Path], results: Path) -> None:
    """Merge the groups' result blocks into one results.csv in processing order."""
    with _create(results) as out:
        out.write(csv_cell_line(RESULT_COLUMNS).encode("utf-8"))
        merged = heapq.merge(*(_read_blocks(p) for p in parts), key=_rank)
        buffer: list[str] = []
        for _, text in merged:
            buffer.append(text)
            if len(buffer) >= 4096:
                out.write("".join(buffer).encode("utf-8"))
                buffer.clear()
        out.write("".join(buffer).encode("utf-8"))


def _rank(block: tuple[int, str]) -> int:
    return block[0]


def _read_blocks(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("rb") as f:
        while True:
            try:
                blocks = pickle.load(f)
            except EOFError:
                return
            yield from blocks
