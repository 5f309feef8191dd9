"""Read a complete output folder back into the bounded figures of the report and notices.

``ice-recon report`` and ``ice-recon notices`` read the files a run wrote (DESIGN section
6 and 9.3, see docs/reference/outputs.md), never the inputs, so that a 1M-line run is not
reconciled again. Everything kept is bounded by the number of statuses, contracts, months,
findings or problem kinds, or by *top*; ``results.csv`` is read once, as a stream, and only
its lines with a non-zero amount are looked at closely: by pyarrow's CSV reader, column-wise,
when pyarrow is installed (:mod:`ice_recon._outdir_arrow`), else by :func:`_scan_lines`; the
csv module reading every row (:func:`_scan_csv`) is the reference both give the figures of.

Money is read as integer cents: every money cell of these files has exactly two places.
Text cells are read back as the run's ``Report`` holds them: the one apostrophe that
neutralises a formula-like cell is removed (outputs.md, "Quoting and spreadsheet safety").
"""

from __future__ import annotations

import csv
import heapq
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import attrs

from ice_recon.errors import ArgumentError
from ice_recon.money import format_cents
from ice_recon.records import Status
from ice_recon.report import RESULT_COLUMNS

__all__ = [
    "PARTS",
    "Folder",
    "LineRow",
    "decomposition",
    "money",
    "read_folder",
    "read_lines",
    "read_summary",
    "results_rows",
    "untext",
]

#: The parts of the variance decomposition, in the order of ``LineResult.decomposition``.
PARTS: Final = ("extension", "price", "quantity", "minimum")

#: Statuses whose lines are priced (rows 7-14 of DESIGN section 5): their variance decomposes.
_PRICED: Final = frozenset(list(Status)[list(Status).index(Status.MATCHED) :])

_DECOMPOSITION: Final = re.compile(
    r"; (over|under) by (\d+\.\d\d) \(((?:(?:extension|price|quantity|minimum) "
    r"[+-]?\d+\.\d\d)(?:, (?:extension|price|quantity|minimum) [+-]?\d+\.\d\d)*)\)"
)

_RESULT_HEADER: Final = RESULT_COLUMNS


def money(text: str, where: str = "") -> int:
    """Return the cents of a money cell with exactly two places (``"-41.13"`` → ``-4113``).

    >>> money("-41.13"), money("0.00"), money("12450.00")
    (-4113, 0, 1245000)
    """
    if len(text) >= 4 and text[-3] == "." and text[-2:].isdigit():
        body = text[:-3]
        digits = body[1:] if body[:1] == "-" else body
        if digits.isdigit():
            return int(body + text[-2:])
    raise ArgumentError(f"{where or 'output file'}: not a money cell: {text!r}")


def untext(cell: str) -> str:
    """Undo the formula neutralisation of an output text cell (one leading apostrophe).

    >>> untext("'=HYPERLINK(1)"), untext("''q"), untext("T1")
    ('=HYPERLINK(1)', "'q", 'T1')
    """
    return cell[1:] if cell[:1] == "'" else cell


def decomposition(explanation: str, variance: int) -> tuple[int, int, int, int] | None:
    """Return the cents of (extension, price, quantity, minimum) a statement of difference gives.

    The decomposition is written in the explanation of a priced line only (``over by 57.75
    (quantity +57.75)``); the parts it names add up to the line's variance, and that is
    checked: a text whose parts do not (a value quoted from an input that looks like one)
    is passed over. ``None`` when the explanation holds no decomposition that adds up.

    >>> decomposition("billed ...; over by 57.75 (quantity +57.75)", 5775)
    (0, 0, 5775, 0)
    >>> decomposition("billed ...; under by 0.01 (extension -0.01)", -1)
    (-1, 0, 0, 0)
    >>> decomposition("billed ...; matches", 0) is None
    True
    """
    for found in _DECOMPOSITION.finditer(explanation):
        signed, values = _statement(found)
        if signed == variance and sum(values) == variance:
            return values
    return None


def _statement(found: re.Match[str]) -> tuple[int, tuple[int, int, int, int]]:
    """Return the signed amount and the four parts of one matched statement, in cents."""
    direction, by, listed = found.groups()
    parts = dict.fromkeys(PARTS, 0)
    for item in listed.split(", "):
        name, value = item.split(" ")
        parts[name] += money(value.lstrip("+"))
    signed = money(by) if direction == "over" else -money(by)
    return signed, (parts["extension"], parts["price"], parts["quantity"], parts["minimum"])


@attrs.frozen(kw_only=True)
class LineRow:
    """One line of ``results.csv`` with a questioned or underbilled amount (money in cents)."""

    contract_id: str
    invoice_id: str
    line_no: str
    status: str
    findings: str
    billed: int
    expected: int
    variance: int
    erroneous: int
    unsupported: int
    underbilled: int
    trip_id: str
    match: str
    rule_id: str
    rate_authority: str
    explanation: str

    @property
    def questioned(self) -> int:
        """Return erroneous + unsupported, in cents."""
        return self.erroneous + self.unsupported


def results_rows(folder: Path) -> Iterator[list[str]]:
    """Yield the rows of ``results.csv`` after checking its header."""
    path = folder / "results.csv"
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(header[: len(_RESULT_HEADER)]) != _RESULT_HEADER:
            raise ArgumentError(f"{path}: not the header of results.csv")
        yield from reader


def _line(row: list[str], where: str) -> LineRow:
    return LineRow(
        contract_id=untext(row[0]),
        invoice_id=untext(row[1]),
        line_no=untext(row[2]),
        status=row[3],
        findings=row[4],
        billed=money(row[5], where),
        expected=money(row[6], where),
        variance=money(row[7], where),
        erroneous=money(row[8], where),
        unsupported=money(row[9], where),
        underbilled=money(row[10], where),
        trip_id=untext(row[11]),
        match=row[12],
        rule_id=untext(row[13]),
        rate_authority=untext(row[14]),
        explanation=row[15],
    )


def read_lines(folder: Path) -> Iterator[LineRow]:
    """Yield every non-INVALID line of ``results.csv`` with a non-zero amount to show."""
    where = str(folder / "results.csv")
    zero = "0.00"
    for row in results_rows(folder):
        if row[7] == zero and row[8] == zero and row[9] == zero and row[10] == zero:
            continue  # nothing questioned, underbilled or different
        if not row[5]:
            continue  # INVALID: in no ledger
        yield _line(row, where)


class _Scan:
    """The figures read from ``results.csv``: by status, per contract, the top lines."""

    def __init__(self, top: int, where: str, *, cached: bool = True) -> None:
        self.cached = cached  # False: no cache, the reference way
        self.limit = top
        self.where = where
        #: Per status (as written): questioned, underbilled.
        self.by_status: dict[str, list[int]] = {}
        #: Per contract (the cell as written, in the order first seen): the six parts.
        self.parts: dict[str, list[int]] = {}
        self.questioned_lines = 0
        self.heap: list[tuple[int, int, list[str]]] = []
        #: The cents of the money cells seen (amounts repeat: most are found here).
        self.known: dict[str, int] = {_ZERO: 0}
        #: The first statement of difference of an explanation → (signed by, its parts).
        self.statements: dict[str, tuple[int, tuple[int, int, int, int]]] = {}

    def cents(self, text: str) -> int:
        """Return :func:`money` of *text*, from :attr:`known` when seen before."""
        value = self.known.get(text) if self.cached else None
        if value is None:
            value = money(text, self.where)
            if len(self.known) < 1 << 16:
                self.known[text] = value
        return value

    def add(self, n: int, cells: list[str]) -> None:
        """Count the *n*-th row *cells*, which has an amount and is not INVALID."""
        cents = self.cents
        q = cents(cells[8]) + cents(cells[9])
        under = cents(cells[10])
        s = self.by_status.get(cells[3])
        if s is None:
            s = self.by_status[cells[3]] = [0, 0]
        s[0] += q
        s[1] += under
        variance = cents(cells[7])
        if variance:
            self.add_variance(cells[0], cells[3], cells[15], variance)
        if q > 0:
            self.questioned_lines += 1
            self.offer(q, n, cells)

    def add_variance(self, contract: str, status: str, explanation: str, variance: int) -> None:
        """Add the non-zero *variance* of one line to its contract's decomposition."""
        row = self.parts.get(contract)
        if row is None:
            row = self.parts[contract] = [0, 0, 0, 0, 0, 0]
        found = self.decompose(explanation, variance)
        if found is not None:
            row[0] += found[0]
            row[1] += found[1]
            row[2] += found[2]
            row[3] += found[3]
        elif status in _PRICED_VALUES:
            row[5] += variance
        else:
            row[4] += variance

    def decompose(self, explanation: str, variance: int) -> tuple[int, int, int, int] | None:
        """Return :func:`decomposition`, its first statement's parts read once per text."""
        if not self.cached:
            return decomposition(explanation, variance)
        first = _DECOMPOSITION.search(explanation)
        if first is None:
            return None  # no statement at all
        statement = first.group(0)
        known = self.statements.get(statement)
        if known is None:
            known = _statement(first)
            if len(self.statements) < 1 << 16:
                self.statements[statement] = known
        signed, values = known
        if signed == variance and sum(values) == variance:
            return values
        return decomposition(explanation, variance)  # a later statement may add up

    def offer(self, q: int, n: int, cells: list[str]) -> None:
        """Keep the *n*-th row among the top lines if its questioned *q* is large enough."""
        heap = self.heap
        if len(heap) < self.limit:
            heapq.heappush(heap, (q, -n, cells))
        elif (q, -n) > heap[0][:2]:
            heapq.heapreplace(heap, (q, -n, cells))

    @property
    def top(self) -> list[list[str]]:
        """The rows of the top lines: most questioned first, then in file order."""
        return [e[2] for e in sorted(self.heap, key=lambda e: e[:2], reverse=True)]


_PRICED_VALUES: Final = frozenset(s.value for s in _PRICED)
_ZERO: Final = "0.00"


#: A record whose first eleven cells hold no quote, with 0.00 in the four amounts (an
#: unquoted cell holds no line break, so they are the cells the csv module reads).
_SKIP: Final = re.compile(r'(?:[^,"\r\n]*,){7}0\.00,0\.00,0\.00,0\.00,')


class _NotPlain(Exception):
    """results.csv is not quoted as the csv module writes it: read it with the csv module."""


def _scan_results(folder: Path, top: int) -> _Scan:
    """Read ``results.csv`` once: with pyarrow when installed, else line by line."""
    try:
        from ice_recon._outdir_arrow import scan_arrow  # needs pyarrow: imported lazily
    except ImportError:
        pass
    else:
        scan = scan_arrow(folder, _Scan(top, str(folder / "results.csv")))
        if scan is not None:
            return scan
    try:
        return _scan_lines(folder, top)
    except _NotPlain:
        return _scan_csv(folder, top)


def _scan_csv(folder: Path, top: int) -> _Scan:
    """Read ``results.csv`` with the csv module, every row (the reference way)."""
    scan = _Scan(top, str(folder / "results.csv"), cached=False)
    for n, cells in enumerate(results_rows(folder)):
        if cells[7] == _ZERO and cells[8] == _ZERO and cells[9] == _ZERO and cells[10] == _ZERO:
            continue  # nothing questioned, underbilled or different
        if not cells[5]:
            continue  # INVALID: in no ledger
        scan.add(n, cells)
    return scan


def _scan_lines(folder: Path, top: int) -> _Scan:
    """Read ``results.csv`` as :func:`_scan_csv` does, parsing only the lines that count.

    A record whose first eleven cells hold no quote and whose four amounts are 0.00 is
    passed over as soon as a regular expression sees it; only the others (about one in
    four) are parsed: split at their commas when they hold no quote, else by the csv
    module. The records are found by the parity of the quotes on each line, which holds
    for a file written by the csv module (a quote is only ever around a cell or doubled
    inside one); a record that the csv module reads otherwise raises :class:`_NotPlain`.
    """
    scan = _Scan(top, str(folder / "results.csv"))
    path = folder / "results.csv"
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f), None)
        if header is None or tuple(header[: len(_RESULT_HEADER)]) != _RESULT_HEADER:
            raise ArgumentError(f"{path}: not the header of results.csv")
        n = -1
        group: list[str] | None = None
        skip = _SKIP.match
        for line in f:
            if group is not None:  # inside a quoted cell that holds a line break
                group.append(line)
                if line.count('"') % 2:
                    cells = _one_record(group)
                    group = None
                    if cells is not None:
                        scan.add(n, cells)
                continue
            n += 1
            if line.count('"') % 2:
                group = [line]
                continue
            if skip(line):
                continue  # nothing questioned, underbilled or different
            cells = _one_record([line])
            if cells is not None:
                scan.add(n, cells)
        if group is not None:
            raise _NotPlain
    return scan


def _one_record(lines: list[str]) -> list[str] | None:
    """Parse the one record *lines* hold; ``None`` when it has nothing to show."""
    if len(lines) == 1 and '"' not in lines[0]:
        cells = lines[0].rstrip("\r\n").split(",")  # as the csv module reads it
    else:
        rows = list(csv.reader(lines))
        if len(rows) != 1:
            raise _NotPlain
        cells = rows[0]
    if cells[7] == _ZERO and cells[8] == _ZERO and cells[9] == _ZERO and cells[10] == _ZERO:
        return None
    if not cells[5]:
        return None
    return cells


def _dicts(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


@attrs.frozen(kw_only=True)
class Folder:
    """The bounded figures of one output folder (money in cents)."""

    path: Path
    summary: dict[str, Any]
    top: int
    #: Per status, in the order of the status table: count, billed, questioned, underbilled.
    statuses: list[tuple[str, int, int, int, int]]
    #: Per contract: (extension, price, quantity, minimum, not priced, not decomposed).
    decomposition: dict[str, list[int]]
    #: The rows of contracts.csv (every contract), text as read.
    contracts: list[dict[str, str]]
    #: Summed over contracts, per month: billed, expected, questioned, underbilled.
    months: list[tuple[str, int, int, int, int]]
    #: Per contract and month: questioned and underbilled (underbilled derived exactly).
    contract_months: dict[str, dict[str, tuple[int, int]]]
    oversight: list[dict[str, str]]
    oversight_count: int
    top_invoices: list[dict[str, str]]
    invoices_questioned: int
    top_lines: list[LineRow]
    lines_questioned: int
    #: Unbilled trips: by (contract, month) → count; by status → count.
    unbilled: dict[tuple[str, str], int]
    unbilled_status: dict[str, int]
    unbilled_count: int
    #: Problems: by file → count; kinds (file, column, message) → (count, first line, value).
    problems_by_file: dict[str, int]
    problem_kinds: list[tuple[str, str, str, int, str, str]]
    problem_count: int
    #: invoices.csv: by finding → (count, Σ amount); the first *top* rows by amount.
    findings: dict[str, tuple[int, int]]
    finding_rows: list[dict[str, str]]
    finding_count: int
    capacity: list[dict[str, str]]
    capacity_count: int


def _month_underbilled(row: dict[str, str], where: str) -> int:
    # variance = questioned - underbilled, over the month's non-INVALID lines; so
    # underbilled = questioned - (billed - expected), exactly.
    billed, expected = money(row["billed"], where), money(row["expected"], where)
    return money(row["questioned"], where) - (billed - expected)


def read_folder(
    path: str | os.PathLike[str],
    *,
    top: int = 50,
    early: Callable[[Folder], None] | None = None,
) -> Folder:
    """Read the output folder *path* of a complete run into the figures of the report.

    ``results.csv`` is read last: *early*, when given, is called before with the figures
    of the other files (those of ``results.csv`` are empty in it), so that work on them
    can overlap the reading of the large file.

    Raises:
        ArgumentError: *path* holds no complete run (no ``summary.json``) or a file is not
            in the format of docs/reference/outputs.md.
    """
    if top < 1:
        raise ArgumentError(f"--top must be at least 1 (got {top})")
    folder = Path(path)
    summary = read_summary(folder)

    contracts = [
        {k: untext(v) if k == "contract_id" else v for k, v in r.items()}
        for r in _optional(folder / "contracts.csv")
    ]

    months: dict[str, list[int]] = {}
    contract_months: dict[str, dict[str, tuple[int, int]]] = {}
    oversight: list[dict[str, str]] = []
    oversight_count = 0
    where = str(folder / "oversight.csv")
    for r in _optional(folder / "oversight.csv"):
        oversight_count += 1
        r["contract_id"] = untext(r["contract_id"])
        if len(oversight) < top:
            oversight.append(r)
        under = _month_underbilled(r, where)
        m = months.setdefault(r["month"], [0, 0, 0, 0])
        q = money(r["questioned"], where)
        m[0] += money(r["billed"], where)
        m[1] += money(r["expected"], where)
        m[2] += q
        m[3] += under
        contract_months.setdefault(r["contract_id"], {})[r["month"]] = (q, under)

    invoices: list[tuple[int, int, dict[str, str]]] = []
    invoices_questioned = 0
    where = str(folder / "by_invoice.csv")
    for n, r in enumerate(_optional(folder / "by_invoice.csv")):
        q = money(r["questioned"], where)
        if q <= 0:
            continue
        invoices_questioned += 1
        r["contract_id"], r["invoice_id"] = untext(r["contract_id"]), untext(r["invoice_id"])
        entry = (q, -n, r)
        if len(invoices) < top:
            heapq.heappush(invoices, entry)
        elif entry[:2] > invoices[0][:2]:
            heapq.heapreplace(invoices, entry)
    top_invoices = [e[2] for e in sorted(invoices, key=lambda e: e[:2], reverse=True)]

    unbilled: dict[tuple[str, str], int] = {}
    unbilled_status: dict[str, int] = {}
    unbilled_count = 0
    for r in _optional(folder / "unbilled.csv"):
        unbilled_count += 1
        key = (untext(r["contract_id"]), r["service_date"][:7])
        unbilled[key] = unbilled.get(key, 0) + 1
        unbilled_status[r["status"]] = unbilled_status.get(r["status"], 0) + 1

    by_file: dict[str, int] = {}
    kinds: dict[tuple[str, str, str], list[Any]] = {}
    problem_count = 0
    for r in _optional(folder / "problems.csv"):
        problem_count += 1
        file, column, message = untext(r["file"]), untext(r["column"]), untext(r["message"])
        by_file[file] = by_file.get(file, 0) + 1
        kind = kinds.get((file, column, message))
        if kind is None:
            kinds[(file, column, message)] = [1, r["line"], untext(r["value"])]
        else:
            kind[0] += 1
    problem_kinds = sorted(
        ((f, c, m, k[0], k[1], k[2]) for (f, c, m), k in kinds.items()),
        key=lambda k: (-k[3], k[0], k[1], k[2]),
    )[:top]

    findings: dict[str, list[int]] = {}
    finding_rows: list[tuple[int, int, dict[str, str]]] = []
    finding_count = 0
    where = str(folder / "invoices.csv")
    for n, r in enumerate(_optional(folder / "invoices.csv")):
        finding_count += 1
        r["contract_id"], r["invoice_id"] = untext(r["contract_id"]), untext(r["invoice_id"])
        amount = money(r["amount"], where) if r.get("amount") else 0
        f = findings.setdefault(r["finding"], [0, 0])
        f[0] += 1
        f[1] += amount
        entry = (abs(amount), -n, r)
        if len(finding_rows) < top:
            heapq.heappush(finding_rows, entry)
        elif entry[:2] > finding_rows[0][:2]:
            heapq.heapreplace(finding_rows, entry)
    top_findings = [e[2] for e in sorted(finding_rows, key=lambda e: e[:2], reverse=True)]

    capacity: list[tuple[int, int, dict[str, str]]] = []
    capacity_count = 0
    where = str(folder / "capacity.csv")
    for n, r in enumerate(_optional(folder / "capacity.csv")):
        capacity_count += 1
        r["contract_id"], r["trip_id"] = untext(r["contract_id"]), untext(r["trip_id"])
        entry = (money(r["unused"], where), -n, r)
        if len(capacity) < top:
            heapq.heappush(capacity, entry)
        elif entry[:2] > capacity[0][:2]:
            heapq.heapreplace(capacity, entry)

    rest = Folder(
        path=folder,
        summary=summary,
        top=top,
        statuses=[],
        decomposition={},
        contracts=contracts,
        months=[(m, *v) for m, v in sorted(months.items())],  # type: ignore[misc]
        contract_months=contract_months,
        oversight=oversight,
        oversight_count=oversight_count,
        top_invoices=top_invoices,
        invoices_questioned=invoices_questioned,
        top_lines=[],
        lines_questioned=0,
        unbilled=unbilled,
        unbilled_status=unbilled_status,
        unbilled_count=unbilled_count,
        problems_by_file=dict(sorted(by_file.items())),
        problem_kinds=problem_kinds,
        problem_count=problem_count,
        findings={k: (v[0], v[1]) for k, v in sorted(findings.items())},
        finding_rows=top_findings,
        finding_count=finding_count,
        capacity=[e[2] for e in sorted(capacity, key=lambda e: e[:2], reverse=True)],
        capacity_count=capacity_count,
    )
    if early is not None:
        early(rest)

    # results.csv: by status, the decomposition per contract, the top lines.
    scan = _scan_results(folder, top)
    by_status, parts, questioned_lines = scan.by_status, scan.parts, scan.questioned_lines
    where = str(folder / "results.csv")
    top_lines = [_line(cells, where) for cells in scan.top]
    parts = {untext(c): v for c, v in parts.items()}
    counts: dict[str, int] = summary.get("counts", {})
    amounts: dict[str, str] = summary.get("amounts", {})
    statuses = [
        (
            status,
            int(counts.get(status, 0)),
            money(amounts[status]) if status in amounts else 0,
            by_status.get(status, [0, 0])[0],
            by_status.get(status, [0, 0])[1],
        )
        for status in (s.value for s in Status)
    ]

    return attrs.evolve(
        rest,
        statuses=statuses,
        decomposition=parts,
        top_lines=top_lines,
        lines_questioned=questioned_lines,
    )


def read_summary(folder: Path) -> dict[str, Any]:
    """Return the ``summary.json`` of *folder*, the mark of a complete run.

    Raises:
        ArgumentError: the folder has no ``summary.json``.
    """
    path = folder / "summary.json"
    if not path.is_file():
        raise ArgumentError(
            f"{path}: missing: the folder holds no complete run (summary.json is written "
            "last); run `ice-recon reconcile INPUT_DIR --out OUT_DIR` first"
        )
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return summary


def _optional(path: Path) -> Iterator[dict[str, str]]:
    """Yield the rows of an output file; none when the file is absent (an older run)."""
    if path.is_file():
        yield from _dicts(path)


def cents(value: int) -> str:
    """Return cents as a 2-place text (``-4113`` → ``"-41.13"``)."""
    return format_cents(value)
