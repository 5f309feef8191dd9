"""Reconcile a folder of any size in bounded memory: stream the invoice lines in batches.

:func:`ice_recon.reconcile` holds every invoice line and every result in memory. This module
runs the same stages with only the *resident* tables in memory — rate rules, manifests,
roster, fuel index, invoice headers, and the claims — while the invoice lines go through in
batches and the results are written to ``results.csv`` as they are made:

1. **Split** (:func:`prepare`). ``invoice_lines.csv`` is read in chunks; each chunk is
   validated, put in processing order and spilled to a temporary file (a sorted *run*).
2. **Merge** (:func:`prepare`). The runs are merged into the processing order and cut into
   *batches* of about ``batch_lines`` lines, never inside an invoice — so a duplicated
   (contract, invoice, line_no) key is always within one batch, where it is found exactly
   as :func:`load` finds it, before anything is reconciled.
3. **Claim.** Every batch, in order, claims the charges of its exact matches
   (:func:`~ice_recon.match.claim_exact`): exact matching precedes inference for *all*
   lines, so this pass must end before any line is inferred.
4. **Match, classify, write.** Every batch, in order, is matched by inference against the
   charges still unclaimed (:func:`~ice_recon.match.match_batch`), classified, added to the
   ledgers, and its rows appended to ``results.csv``.

With ``workers=N`` the contracts are split into N groups (partition independence, DESIGN
section 7: contracts share nothing) and steps 2-4 run for each group in its own forked
process; the groups' results are merged back into the processing order. Step 1 runs in N
processes too when the file has no quote character (then any line end is a record end, so
it can be cut into N byte ranges), and ``staff.csv`` is read beside the manifest.

The output files are byte for byte those of ``reconcile(load(folder)).write(out_dir)``,
whatever ``batch_lines`` and ``workers`` are (a property test checks this).

>>> import tempfile
>>> from ice_recon.cli import sample_dir
>>> with tempfile.TemporaryDirectory() as out:
...     totals = reconcile_to(sample_dir(), out, batch_lines=7)
...     same = open(f"{out}/results.csv").read().count("\\n") == totals.line_count + 1
>>> totals.line_count, same
(60, True)
"""

from __future__ import annotations

import csv
import heapq
import io
import itertools
import os
import pickle
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final, TypeVar

import attrs

from ice_recon import _fork
from ice_recon._gc import paused
from ice_recon._read import INVOICE_LINES, SPECS, Layout, TableReader
from ice_recon.errors import Problem
from ice_recon.explain import Explainer, problem_columns
from ice_recon.index import Index, build
from ice_recon.load import Inputs, line_table, load_resident, mark_duplicate_keys
from ice_recon.match import MatchState, claim_exact, invoice_dates, order_key
from ice_recon.policy import Policy
from ice_recon.price import Pricer
from ice_recon.reconcile import Stopwatch, chunk_bounds, run_stages
from ice_recon.report import RESULT_COLUMNS, Accumulator, Totals, untied
from ice_recon.tables import InvoiceLineTable, LineChunk

__all__ = ["DEFAULT_BATCH_LINES", "Prepared", "prepare", "reconcile_to"]

#: Invoice lines per batch by default: a batch in flight takes about 2.5 KiB per line
#: (the lines, their pricing, results and explanations), so about 60 MiB.
DEFAULT_BATCH_LINES: Final = 25_000
#: Rows per pickled block in a spill file (what a merge holds per run).
_BLOCK: Final = 4_096

T = TypeVar("T")
Progress = Callable[[str, float], None]
OrderKey = tuple[Any, ...]


#: At most this many runs are merged at once (each holds an open file and a block).
_FAN_IN: Final = 64


class _Spill:
    """A sequence of picklable items spilled to a temporary file, read back in order."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / name
        self._file: IO[bytes] | None = self.path.open("wb")
        self.count = 0

    @classmethod
    def existing(cls, path: Path, count: int) -> _Spill:
        """Return the spill of *count* items written earlier to *path* (by another process)."""
        spill = cls.__new__(cls)
        spill.path, spill._file, spill.count = path, None, count
        return spill

    def add(self, item: object) -> None:
        assert self._file is not None, "spill already closed"
        pickle.dump(item, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __iter__(self) -> Iterator[Any]:
        self.close()
        with self.path.open("rb") as f:
            for _ in range(self.count):
                yield pickle.load(f)


def _unblocked(spill: _Spill) -> Iterator[tuple[OrderKey, tuple[Any, ...]]]:
    for block in spill:
        yield from block


@attrs.define(eq=False)
class Prepared:
    """A folder whose invoice lines have been read and split into sorted runs (step 1).

    Made by :func:`prepare`; :attr:`problems` is complete (every input problem, as
    :func:`~ice_recon.load.load` reports them) before anything is reconciled, so a caller
    can refuse to go on (``--strict``). Use as a context manager, or call :meth:`close`, to
    delete the temporary files.

    Attributes:
        inputs: the resident tables (``invoice_lines`` is empty: the lines are in runs).
        line_count: how many invoice lines were read (INVALID ones included).
        problems: every input problem, sorted like :attr:`Inputs.problems`.
        digests: sha256 of each input file read.
    """

    inputs: Inputs
    line_count: int
    problems: tuple[Problem, ...]
    digests: dict[str, str]
    _folder: Path
    _batches: list[tuple[_Spill, int]]  # per contract group: its batches, its lines
    _file: str

    def close(self) -> None:
        """Delete the temporary files."""
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> Prepared:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reconcile(
        self,
        out_dir: str | os.PathLike[str],
        *,
        policy: Policy | None = None,
        progress: Progress | None = None,
    ) -> Totals:
        """Reconcile the lines (steps 2-4), write the four output files; return the totals."""
        policy = policy or Policy()
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        step = Stopwatch(progress)
        with paused():
            index = build(self.inputs)
            step("index")
            if len(self._batches) == 1:
                sink = _Sink(out / "results.csv", keyed=False)
                parts = [_reconcile_group(self, 0, index, policy, sink, step)]
            else:
                parts = _fork.forked(_group_worker, len(self._batches), (self, index, policy))
                step(f"match, price, classify in {len(self._batches)} processes")
                _merge_results(
                    [self._folder / f"results-{g}.bin" for g in range(len(self._batches))],
                    out / "results.csv",
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
            totals = Totals(**acc.totals(inputs, claimed, pairs))
            totals.write_totals(out)
            step("totals")
        return totals


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
) -> Prepared:
    """Load the resident tables of *input_dir* and split its invoice lines into sorted runs.

    Args:
        batch_lines: invoice lines per chunk and per batch (memory grows with it).
        workers: how many contract groups (processes) :meth:`Prepared.reconcile` will use.
        workdir: where the temporary files go (default: the system's temporary folder).
        progress: called with each step's name and duration in seconds.
        check: called with the resident tables before any invoice line is read; whatever
            it raises stops the preparation (the CLI refuses a misspelled tolerance basis
            here, before reading millions of lines).

    Raises:
        ValueError: *batch_lines* or *workers* is less than 1.
        NotADirectoryError: *input_dir* is not a folder.
    """
    if batch_lines < 1:
        raise ValueError(f"batch_lines must be at least 1 (got {batch_lines})")
    if workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    step = Stopwatch(progress)
    with paused():
        inputs, path = load_resident(input_dir, workers=workers)
        step("read the manifest, roster, rates and invoice headers")
        if check is not None:
            check(inputs)
        folder = Path(tempfile.mkdtemp(prefix="ice-recon-", dir=workdir))
        try:
            groups = _contract_groups(inputs, workers)
            problems = list(inputs.problems)
            reader = TableReader(SPECS[INVOICE_LINES], problems)
            runs: list[list[_Spill]] = [[] for _ in range(workers)]
            dates = invoice_dates(inputs.invoices)
            count = 0
            if path is not None:
                plan = _plan(path, workers) if workers > 1 else None
                if plan is None:
                    splitter = _Splitter(folder, dates, groups, workers, reader.file)
                    for k, parsed in enumerate(reader.parse_chunks(path, batch_lines)):
                        splitter.add(line_table(parsed, reader.file), f"0-{k}")
                    count, names = splitter.count, splitter.names
                else:
                    count, names = _split_in_parallel(
                        plan,
                        reader,
                        _Splitter(folder, dates, groups, workers, reader.file),
                        batch_lines,
                    )
                for g, group_names in enumerate(names):
                    runs[g] = [_Spill.existing(folder / name, n) for name, n in group_names]
            merging = (folder, runs, reader.file, batch_lines)
            merged = (
                [_merge_worker(0, merging)]
                if workers == 1
                else _fork.forked(_merge_worker, workers, merging)
            )
            for _, _, found in merged:
                problems += found
            step("read and sort invoice lines")
            digests = dict(inputs.digests)
            if reader.digest is not None:
                digests[reader.file] = reader.digest
            digests = dict(sorted(digests.items()))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return Prepared(
        inputs=inputs,
        line_count=count,
        problems=tuple(sorted(problems, key=Problem.sort_key)),
        digests=digests,
        folder=folder,
        batches=[(spill, lines) for spill, lines, _ in merged],
        file=reader.file,
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
) -> Totals:
    """Reconcile the folder *input_dir* into the output files of *out_dir*, streaming.

    The same files as ``reconcile(input_dir).write(out_dir)``, in memory bounded by the
    resident tables and *batch_lines* rather than by the number of invoice lines; with
    *workers* > 1 the contracts are reconciled in that many processes. *progress* is
    called with each step's name and duration in seconds.
    """
    with prepare(
        input_dir, batch_lines=batch_lines, workers=workers, workdir=workdir, progress=progress
    ) as ready:
        return ready.reconcile(out_dir, policy=policy, progress=progress)


# ----------------------------------------------------------------------------------- split


class _Splitter:
    """Sort chunks of invoice lines into runs, one per contract group (step 1)."""

    def __init__(
        self,
        folder: Path,
        dates: dict[tuple[str, str], str],
        groups: dict[str, int],
        workers: int,
        file: str,
    ) -> None:
        self.folder, self.dates, self.groups, self.workers = folder, dates, groups, workers
        self.file = file
        self.count = 0
        #: per group, the (file name, blocks) of its runs
        self.names: list[list[tuple[str, int]]] = [[] for _ in range(workers)]

    def fresh(self) -> _Splitter:
        """Return a splitter like this one, with nothing split yet."""
        return _Splitter(self.folder, self.dates, self.groups, self.workers, self.file)

    def add(self, table: InvoiceLineTable, tag: str) -> None:
        """Sort *table* into processing order and spill its rows, by group, as runs."""
        self.count += len(table)
        keyed = _keyed(table, self.dates)
        for g, rows in enumerate(_by_group(keyed, self.groups, self.workers)):
            if rows:
                spill = _Spill(self.folder, f"run-{g}-{tag}.bin")
                for block in _in_blocks(iter(rows)):
                    spill.add(block)
                spill.close()
                self.names[g].append((spill.path.name, spill.count))


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
    import hashlib

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
        for boundary in boundaries:
            while position < boundary:
                block = handle.read(min(1 << 24, boundary - position))
                if not block:
                    break
                if b'"' in block:
                    return None
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


def _split_in_parallel(
    plan: _Plan, reader: TableReader, splitter: _Splitter, batch_lines: int
) -> tuple[int, list[list[tuple[str, int]]]]:
    """Read the byte ranges of *plan* in forked processes, each spilling sorted runs."""
    layout = reader.header(plan.header)
    reader.digest = plan.digest
    if layout is None:
        return 0, splitter.names
    parts = _fork.forked(
        _split_worker, len(plan.ranges), (plan, reader, layout, splitter, batch_lines)
    )
    count = 0
    names: list[list[tuple[str, int]]] = [[] for _ in splitter.names]
    for part_count, part_names, problems in parts:
        count += part_count
        reader.problems.extend(problems)
        for g, group_names in enumerate(part_names):
            names[g] += group_names
    reader.finish(count)
    return count, names


def _split_worker(part: int) -> tuple[int, list[list[tuple[str, int]]], list[Problem]]:
    shared: tuple[_Plan, TableReader, Layout, _Splitter, int] = _fork.shared
    plan, parent, layout, template, batch_lines = shared
    # A pool process may run several parts: each part starts with empty counts.
    splitter = template.fresh()
    start, end, first = plan.ranges[part]
    problems: list[Problem] = []
    reader = TableReader(parent.spec, problems)
    reader.file = parent.file
    reader.extra_names = parent.extra_names
    with paused(), plan.path.open("rb") as handle:
        handle.seek(start)
        position = start
        k = 0
        while position < end:
            chunk = list(itertools.islice(handle, batch_lines))
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
            splitter.add(table, f"{part}-{k}")
            first += len(lines)
            k += 1
    return splitter.count, splitter.names, problems


def _keyed(
    table: InvoiceLineTable, dates: dict[tuple[str, str], str]
) -> list[tuple[OrderKey, tuple[Any, ...]]]:
    """Return the rows of *table* with their processing-order keys, sorted by them."""
    t = table
    keys = [
        (
            *order_key(dates.get((c, inv)), c, inv, no, text),
            line,
        )
        for c, inv, no, text, line in zip(
            t.contract_id, t.invoice_id, t.line_no, t.line_no_text, t.line, strict=True
        )
    ]
    keyed = list(zip(keys, t.rows(), strict=True))
    keyed.sort(key=_first)
    return keyed


def _first(item: tuple[OrderKey, Any]) -> OrderKey:
    return item[0]


def _contract_groups(inputs: Inputs, workers: int) -> dict[str, int]:
    """Assign the contracts of the manifest to *workers* groups, balancing their trips."""
    if workers == 1:
        return {}
    trips: dict[str, int] = {}
    for c in inputs.manifests.contract_id:
        trips[c] = trips.get(c, 0) + 1
    load = [0] * workers
    groups: dict[str, int] = {}
    for contract, n in sorted(trips.items(), key=lambda item: (-item[1], item[0])):
        g = min(range(workers), key=load.__getitem__)
        groups[contract] = g
        load[g] += n
    return groups


def _group_of(contract: str, groups: dict[str, int], workers: int) -> int:
    g = groups.get(contract)
    return zlib.crc32(contract.encode("utf-8", "surrogateescape")) % workers if g is None else g


def _by_group(
    keyed: list[tuple[OrderKey, tuple[Any, ...]]], groups: dict[str, int], workers: int
) -> list[list[tuple[OrderKey, tuple[Any, ...]]]]:
    if workers == 1:
        return [keyed]
    out: list[list[tuple[OrderKey, tuple[Any, ...]]]] = [[] for _ in range(workers)]
    memo: dict[str, int] = {}
    for item in keyed:
        contract = item[0][2]
        g = memo.get(contract)
        if g is None:
            g = memo[contract] = _group_of(contract, groups, workers)
        out[g].append(item)
    return out


# ------------------------------------------------------------------------ merge and batches


def _merge_worker(
    group: int, shared: tuple[Path, list[list[_Spill]], str, int] | None = None
) -> tuple[_Spill, int, list[Problem]]:
    """Step 2 for one contract group: merge its runs into batches, find duplicate keys.

    Returns the spilled batches, how many lines they hold, and the duplicate-key problems.
    """
    folder, runs, file, batch_lines = _fork.shared if shared is None else shared
    problems: list[Problem] = []
    batches = _Spill(folder, f"batches-{group}.bin")
    total = 0
    with paused():
        group_runs = _fewer(runs[group], folder, f"{group}")
        if group_runs:
            for keys, table in _batches(group_runs, file, batch_lines):
                mark_duplicate_keys(table, problems)
                batches.add((keys, table))
                total += len(table)
    batches.close()
    return batches, total, problems


def _fewer(runs: list[_Spill], folder: Path, tag: str) -> list[_Spill]:
    """Merge runs _FAN_IN at a time until at most _FAN_IN are left (few open files)."""
    level = 0
    while len(runs) > _FAN_IN:
        merged: list[_Spill] = []
        for k in range(0, len(runs), _FAN_IN):
            part = runs[k : k + _FAN_IN]
            if len(part) == 1:
                merged.append(part[0])
                continue
            spill = _Spill(folder, f"merged-{tag}-{level}-{k}.bin")
            for block in _in_blocks(heapq.merge(*(_unblocked(r) for r in part), key=_first)):
                spill.add(block)
            spill.close()
            for r in part:
                r.path.unlink()
            merged.append(spill)
        runs = merged
        level += 1
    return runs


def _in_blocks(items: Iterator[T]) -> Iterator[list[T]]:
    """Yield *items* in lists of _BLOCK."""
    while block := list(itertools.islice(items, _BLOCK)):
        yield block


def _batches(
    runs: Sequence[_Spill], file: str, batch_lines: int
) -> Iterator[tuple[list[OrderKey], InvoiceLineTable]]:
    """Yield the lines of the runs in processing order, in batches that end with an invoice."""
    merged: Iterable[tuple[OrderKey, tuple[Any, ...]]]
    merged = (
        _unblocked(runs[0])
        if len(runs) == 1
        else heapq.merge(*(_unblocked(r) for r in runs), key=_first)
    )
    keys: list[OrderKey] = []
    rows: list[tuple[Any, ...]] = []
    for key, row in merged:
        # A batch ends only where the invoice changes: (dated, date, contract, invoice).
        if len(rows) >= batch_lines and key[:4] != keys[-1][:4]:
            yield keys, InvoiceLineTable.from_rows(file, rows)
            keys, rows = [], []
        keys.append(key)
        rows.append(row)
    if rows:
        yield keys, InvoiceLineTable.from_rows(file, rows)


def _reconcile_group(
    ready: Prepared,
    group: int,
    index: Index,
    policy: Policy,
    sink: _Sink,
    step: Callable[[str], None] | None = None,
) -> _Part:
    """Run steps 2-4 for one contract group, writing its result rows to *sink*.

    *step*, if given, is told when each step and each batch is done (progress).
    """
    batches, total = ready._batches[group]
    done = step or _quiet
    explainer = Explainer(
        problem_columns(ready.problems, ready._file), plain_trip_ids=index.trips.plain_ids
    )
    resident = ready.inputs
    pricer = Pricer(index, policy.rounding)
    state = MatchState.new(len(resident.manifests))
    # Step 3: claim the exact matches of every batch.
    offset = 0
    for _, table in batches:
        for chunk in _chunks(table, offset):
            claim_exact(chunk, pricer, state)
        offset += len(table)
    done("claim exact matches")
    # Step 4: match, classify and write each batch.
    acc = Accumulator()
    offset = 0
    quiet = Stopwatch(None)
    with sink:
        for keys, table in batches:
            for result in run_stages(_chunks(table, offset), pricer, policy, state, quiet):
                untied(result, explainer)
                acc.add(result)
                rows = result.chunk.rows
                sink.write([keys[rows[k]] for k in result.order], result.lines(explainer))
            offset += len(table)
            done(f"reconciled {offset:,} of {total:,} lines")
    return _Part(acc, state.trips, state.pairs)


def _chunks(table: InvoiceLineTable, offset: int) -> Iterator[LineChunk]:
    """Yield the chunks of a batch whose lines are in processing order."""
    every = range(len(table))
    for a, b in chunk_bounds(table.contract_id, table.invoice_id, every):
        yield LineChunk(table, every[a:b], offset + a)


def _quiet(stage: str) -> None:
    pass


class _Sink:
    """Where a group's result rows go: results.csv itself, or keyed rows to merge later."""

    def __init__(self, path: Path, *, keyed: bool) -> None:
        self.path = path
        self.keyed = keyed
        self._file: IO[bytes] | None = None

    def __enter__(self) -> _Sink:
        self._file = self.path.open("wb")
        if not self.keyed:
            self._file.write(_csv_text([RESULT_COLUMNS]).encode("utf-8"))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, keys: list[OrderKey], lines: list[str]) -> None:
        """Write the result *lines* (each ending in a line break) with their order keys."""
        assert self._file is not None
        if not self.keyed:
            self._file.write("".join(lines).encode("utf-8"))
            return
        for block in _in_blocks(zip(keys, lines, strict=True)):
            pickle.dump(block, self._file, pickle.HIGHEST_PROTOCOL)


def _csv_text(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


# -------------------------------------------------------------------------------- workers


def _group_worker(group: int) -> _Part:
    shared: tuple[Prepared, Index, Policy] = _fork.shared
    ready, index, policy = shared
    sink = _Sink(ready._folder / f"results-{group}.bin", keyed=True)
    with paused():
        return _reconcile_group(ready, group, index, policy, sink)


def _merge_results(parts: Sequence[Path], results: Path) -> None:
    """Merge the groups' keyed result rows into one results.csv in processing order."""
    with results.open("wb") as out:
        out.write(_csv_text([RESULT_COLUMNS]).encode("utf-8"))
        merged = heapq.merge(*(_read_keyed(p) for p in parts), key=_first)
        for chunk in _in_blocks(merged):
            out.write("".join(line for _, line in chunk).encode("utf-8"))


def _read_keyed(path: Path) -> Iterator[tuple[OrderKey, str]]:
    with path.open("rb") as f:
        while True:
            try:
                block = pickle.load(f)
            except EOFError:
                return
            yield from block
