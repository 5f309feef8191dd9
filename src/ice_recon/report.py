"""The reconciliation report: per-line results, unbilled trips, invoice findings, ledgers.

The last stage. :func:`report` turns the columns of the earlier stages into a
:class:`Report`; its records (:class:`LineResult` …) are built lazily, when asked for.
:meth:`Report.write` writes the four output files of DESIGN section 6 and the audit files
``problems.csv`` and ``by_invoice.csv`` — UTF-8 without BOM, ``\\n`` line ends, money with
exactly 2 places, empty cells for absent values — the same bytes for the same inputs, all
at once (:class:`~ice_recon.output.OutputSet`: temporary names renamed into place,
``summary.json`` last).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import json
import operator
import os
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, overload

import attrs

from ice_recon._accumulate import Accumulator
from ice_recon._accumulate import _finding_order as _finding_order
from ice_recon._csv import csv_line, text_cell
from ice_recon._gc import paused
from ice_recon._result_lines import ChunkResult, IsoDays, untied
from ice_recon._version import __version__
from ice_recon._write_totals import (
    _amounts,
    _lines,
    _policy,
    _record_line,
    _text,
    _write_table,
)
from ice_recon._write_totals import _check_format as _check_format
from ice_recon._write_totals import csv_cell_line as csv_cell_line
from ice_recon.controls import InvoiceFinding, PaymentLedgers
from ice_recon.errors import ArgumentError, Problem, UnknownStatusError
from ice_recon.explain import Explainer, problem_columns
from ice_recon.index import TripIndex
from ice_recon.load import Inputs
from ice_recon.match import MatchState
from ice_recon.output import OUTPUT_TABLES, OutputSet, output_errors
from ice_recon.oversight import (
    CAPACITY_COLUMNS,
    CONTRACT_COLUMNS,
    OVERSIGHT_COLUMNS,
    Oversight,
)
from ice_recon.policy import Policy
from ice_recon.records import Status
from ice_recon.tables import ManifestTable

__all__ = [
    "RESULT_COLUMNS",
    "Accumulator",
    "ChunkResult",
    "ContractSummary",
    "InvoiceFinding",
    "Ledgers",
    "LineResult",
    "PaymentLedgers",
    "Report",
    "StatusCounts",
    "Totals",
    "Unbilled",
    "UnbilledTrip",
    "report",
    "untied",
]

#: The columns of ``results.csv`` (DESIGN section 6), in order.
RESULT_COLUMNS: Final = (
    "contract_id",
    "invoice_id",
    "line_no",
    "status",
    "findings",
    "billed",
    "expected",
    "variance",
    "erroneous",
    "unsupported",
    "underbilled",
    "trip_id",
    "match",
    "rule_id",
    "rate_authority",
    "explanation",
)


@attrs.frozen(kw_only=True)
class LineResult:
    """The reconciliation of one invoice line.

    Money attributes are ``Decimal`` with 2 places. *line_no_text* is always the text as
    written; *line_no* is ``None`` when it is not a positive whole number. *decomposition* is
    ``(extension, price, quantity, minimum)`` for lines with an expected price (statuses of
    rows 7-14), else ``None``.

    An INVALID line takes part in nothing, so these are ``None`` for it: ``billed``,
    ``expected``, ``variance``, ``erroneous``, ``unsupported``, ``underbilled``,
    ``trip_id``, ``rule_id``, ``rate_authority`` and ``decomposition`` (``match`` is
    ``"none"``; ``line_no`` may be ``None`` too). For every other status the six money
    attributes are set (zero where nothing applies); ``trip_id`` is ``None`` when no trip
    was matched, ``rule_id`` and ``rate_authority`` when no rule applies (NO_RATE, and
    ``rate_authority`` for a rule without one).
    """

    contract_id: str
    invoice_id: str
    line_no: int | None
    line_no_text: str
    status: Status
    findings: tuple[str, ...]
    billed: Decimal | None
    expected: Decimal | None
    variance: Decimal | None
    erroneous: Decimal | None
    unsupported: Decimal | None
    underbilled: Decimal | None
    trip_id: str | None
    match: str
    rule_id: str | None
    rate_authority: str | None
    explanation: str
    decomposition: tuple[Decimal, Decimal, Decimal, Decimal] | None = None

    @property
    def key(self) -> tuple[str, str, int | None]:
        """Return ``(contract_id, invoice_id, line_no)``."""
        return (self.contract_id, self.invoice_id, self.line_no)


@attrs.frozen(kw_only=True)
class Ledgers:
    """Totals of billed, expected and classified amounts (exact sums of rounded lines).

    ``questioned = erroneous + unsupported``; ``variance = erroneous + unsupported -
    underbilled``. INVALID lines are in no ledger.
    """

    billed: Decimal = Decimal("0.00")
    expected: Decimal = Decimal("0.00")
    variance: Decimal = Decimal("0.00")
    erroneous: Decimal = Decimal("0.00")
    unsupported: Decimal = Decimal("0.00")
    questioned: Decimal = Decimal("0.00")
    underbilled: Decimal = Decimal("0.00")

    def as_strings(self) -> dict[str, str]:
        """Return the ledgers as 2-place strings, in the order of summary.json."""
        return {f.name: _text(getattr(self, f.name)) for f in attrs.fields(Ledgers)}


@attrs.frozen(kw_only=True)
class UnbilledTrip:
    """A manifest trip that no valid invoice line was matched to."""

    contract_id: str
    trip_id: str
    service_date: dt.date
    status: str


class _Lines(Sequence[LineResult]):
    """The line results in processing order, each built when it is accessed."""

    def __init__(self, results: Sequence[ChunkResult], explainer: Explainer) -> None:
        self._results = results
        self._explainer = explainer
        self._starts = [r.chunk.start for r in results]
        self._count = sum(len(r.chunk) for r in results)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, i: int) -> LineResult: ...
    @overload
    def __getitem__(self, i: slice) -> list[LineResult]: ...
    def __getitem__(self, i: int | slice) -> LineResult | list[LineResult]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._count))]
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError("line result index out of range")
        j = bisect.bisect_right(self._starts, self._starts[0] + i) - 1
        result = self._results[j]
        k = result.order[self._starts[0] + i - result.chunk.start]
        return result.line_result(k, self._explainer)

    def __repr__(self) -> str:
        return f"<LineResults: {_count(self._count, 'line')}>"

    def __iter__(self) -> Iterator[LineResult]:
        explainer = self._explainer
        for result in self._results:
            for k in result.order:
                yield result.line_result(k, explainer)


_STATUS_NAMES: Final = frozenset(s.value for s in Status)


class StatusCounts(Mapping[Status, int]):
    """How many lines have each status; every status is present, zeros included.

    Indexable by :class:`Status` or by its name, as ``summary.json`` spells it:

    >>> counts = StatusCounts({Status.MATCHED: 43, Status.NO_RATE: 1})
    >>> counts[Status.MATCHED], counts["MATCHED"], counts["INVALID"], len(counts)
    (43, 43, 0, 13)
    >>> counts
    <StatusCounts: 44 lines, NO_RATE 1, MATCHED 43>
    >>> counts["MATCHD"]
    Traceback (most recent call last):
    ...
    ice_recon.errors.UnknownStatusError: "'MATCHD' is not a status (statuses: INVALID, ...)"
    """

    __slots__ = ("_counts",)

    def __init__(self, counts: Mapping[Status, int] | Mapping[str, int] | None = None) -> None:
        self._counts: dict[Status, int] = dict.fromkeys(Status, 0)
        for key, n in (counts or {}).items():
            self._counts[self._status(key)] = n

    @staticmethod
    def _status(key: object) -> Status:
        # Status is a str enum: Status.MATCHED == "MATCHED", so both are found here.
        if isinstance(key, str) and key in _STATUS_NAMES:
            return Status(key)
        names = ", ".join(s.value for s in Status)
        raise UnknownStatusError(f"{key!r} is not a status (statuses: {names})")

    def __getitem__(self, key: Status | str) -> int:
        return self._counts[self._status(key)]

    def __iter__(self) -> Iterator[Status]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def __repr__(self) -> str:
        shown = ", ".join(f"{s.value} {n}" for s, n in self._counts.items() if n)
        total = sum(self._counts.values())
        return (
            f"<StatusCounts: {total} line{'' if total == 1 else 's'}{', ' if shown else ''}{shown}>"
        )


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


@attrs.frozen(kw_only=True)
class ContractSummary:
    """Counts by status, billed amounts by status and ledgers of one contract.

    *amounts* (the sum of A per status, INVALID left out) was added with ``summary.json``'s
    ``amounts``; it defaults to none for summaries built by hand.
    """

    counts: StatusCounts = attrs.field(converter=StatusCounts)
    ledgers: Ledgers
    amounts: Mapping[Status, Decimal] = attrs.field(factory=dict)
    payments: PaymentLedgers = attrs.field(factory=PaymentLedgers)


#: The columns of ``invoices.csv``.
INVOICE_COLUMNS: Final = (
    "contract_id",
    "invoice_id",
    "finding",
    "header_total",
    "lines_total",
    "difference",
    "amount",
    "detail",
)
#: The columns of ``problems.csv``.
PROBLEM_COLUMNS: Final = ("file", "line", "column", "value", "message")
#: The ledger columns of ``by_invoice.csv`` (after the counts by status).
LEDGER_COLUMNS: Final = tuple(f.name for f in attrs.fields(Ledgers))


def by_invoice_columns() -> tuple[str, ...]:
    """Return the columns of ``by_invoice.csv``: key, line count, counts by status, ledgers."""
    return ("contract_id", "invoice_id", "lines", *(s.value for s in Status), *LEDGER_COLUMNS)


@attrs.frozen(kw_only=True, eq=False)
class Totals:
    """Everything a reconciliation found except the per-line results.

    What :func:`ice_recon.stream.reconcile_to` returns (the line results went to
    ``results.csv``); a :class:`Report` has the same attributes and its lines.

    Attributes:
        line_count: how many invoice lines were reconciled (INVALID ones included).
        counts: lines per status, every status present (zeros included), by
            :class:`Status` or by name (``counts["MATCHED"]``).
        ledgers: the overall :class:`Ledgers`.
        contracts: per contract id, its counts and ledgers.
        unbilled: trips no valid line was matched to, sorted.
        invoices: invoice-level findings, sorted.
        problems: the input problems (INVALID lines and left-out rows come from these).
        digests: sha256 of each input file read.
        stats: figures about the run (e.g. ``candidate_pairs`` examined by inference).
        by_invoice: the ledgers of each invoice, by (contract_id, invoice_id).
        amounts: the billed amount (A) of the lines of each status but INVALID.
        invoice_counts: per (contract_id, invoice_id), its lines per status (only the
            statuses it has), INVALID lines included.
        policy: the :class:`~ice_recon.policy.Policy` of the run.
        payments: the payment ledgers and funds put to better use of the run (DESIGN
            section 9); each contract's are in ``contracts[cid].payments``.
        oversight: the rows of ``oversight.csv``, ``contracts.csv`` and ``capacity.csv``.
    """

    line_count: int
    counts: StatusCounts = attrs.field(converter=StatusCounts)
    ledgers: Ledgers
    contracts: Mapping[str, ContractSummary]
    unbilled: Sequence[UnbilledTrip]
    invoices: tuple[InvoiceFinding, ...]
    problems: tuple[Problem, ...]
    digests: Mapping[str, str]
    stats: Mapping[str, int]
    by_invoice: Mapping[tuple[str, str], Ledgers]
    amounts: Mapping[Status, Decimal] = attrs.field(factory=dict)
    invoice_counts: Mapping[tuple[str, str], Mapping[Status, int]] = attrs.field(factory=dict)
    policy: Policy = attrs.field(factory=Policy)
    payments: PaymentLedgers = attrs.field(factory=PaymentLedgers)
    oversight: Oversight = attrs.field(factory=Oversight)

    @property
    def questioned(self) -> Decimal:
        """Return the questioned cost (erroneous + unsupported) of the whole run."""
        return self.ledgers.questioned

    def __repr__(self) -> str:
        # Counts, never contents: a run of millions of lines must not print them all.
        n = self.line_count
        return (
            f"<{type(self).__name__}: {_count(n, 'invoice line')} "
            f"({self.counts[Status.MATCHED]} MATCHED, {n - self.counts[Status.MATCHED]} not), "
            f"{_count(len(self.contracts), 'contract')}, "
            f"{_count(len(self.unbilled), 'unbilled trip')}, "
            f"{_count(len(self.invoices), 'invoice finding')}, "
            f"{_count(len(self.problems), 'input problem')}, "
            f"questioned {self.ledgers.questioned}>"
        )

    def summary(self) -> dict[str, Any]:
        """Return the content of ``summary.json`` as a dict (DESIGN section 6).

        Besides the keys of DESIGN section 6: ``policy`` (what the run was asked to accept:
        tolerances, inference window, default rounding, the section 9 measure names,
        utilization floor and as-of day) and ``amounts`` (the billed amount of each status
        but INVALID, overall and per contract); every ``ledgers`` object ends with the
        payment ledgers of section 9 (:class:`~ice_recon.controls.PaymentLedgers`).
        """
        # The keys added to DESIGN section 6's come after its keys: a file's earlier bytes
        # are those it had before.
        return {
            "version": __version__,
            "inputs": dict(self.digests),
            "counts": {s.value: self.counts[s] for s in Status},
            "ledgers": self.ledgers.as_strings() | self.payments.as_strings(),
            "contracts": {
                cid: {
                    "counts": {s.value: c.counts[s] for s in Status},
                    "ledgers": c.ledgers.as_strings() | c.payments.as_strings(),
                    "amounts": _amounts(c.amounts),
                }
                for cid, c in self.contracts.items()
            },
            "amounts": _amounts(self.amounts),
            "policy": _policy(self.policy),
        }

    def write_totals(self, out_dir: str | os.PathLike[str], format: str = "csv") -> None:
        """Write every output file but ``results.csv`` (atomically, as :meth:`Report.write`).

        Raises:
            OutputError: a file or the folder cannot be written.
        """
        _check_format(format)
        with output_errors(out_dir), OutputSet(out_dir) as out:
            self._write_totals(out, format)
            out.commit()

    def to_arrow(self, table: str) -> Any:
        """Return the output *table* (``unbilled``, ``invoices`` … not ``results``) as Arrow.

        The cells of ``TABLE.csv`` with exact types: money as ``decimal128(18, 2)``, never
        a float (see :mod:`ice_recon.interop`). Needs pyarrow (the ``fast`` extra).
        """
        from ice_recon import interop

        return interop.to_arrow(self, table)

    def to_pandas(self, table: str) -> Any:
        """Return the output *table* as a pandas DataFrame of ``pd.ArrowDtype`` columns."""
        from ice_recon import interop

        return interop.to_pandas(self, table)

    def to_polars(self, table: str) -> Any:
        """Return the output *table* as a polars DataFrame (money as ``pl.Decimal``)."""
        from ice_recon import interop

        return interop.to_polars(self, table)

    def _table_lines(self, table: str) -> Iterator[str]:
        """Return the lines of ``TABLE.csv``, header first (the results are not in Totals)."""
        tables = {
            "unbilled": self._unbilled_lines,
            "invoices": self._invoice_lines,
            "by_invoice": lambda: _lines(by_invoice_columns(), self._by_invoice_lines()),
            "oversight": lambda: _lines(
                OVERSIGHT_COLUMNS, map(_record_line, self.oversight.months)
            ),
            "contracts": lambda: _lines(
                CONTRACT_COLUMNS, map(_record_line, self.oversight.contracts)
            ),
            "capacity": lambda: _lines(
                CAPACITY_COLUMNS, map(_record_line, self.oversight.capacity)
            ),
            "problems": self._problem_lines,
        }
        lines = tables.get(table)
        if lines is None:
            if table == "results":
                raise ArgumentError(
                    "a Totals has no line results: they are in results.csv "
                    "(read it with ice_recon.interop.read_results)"
                )
            from ice_recon.interop import column_kinds

            column_kinds(table)  # raises: no such table
        assert lines is not None
        return lines()

    def _write_totals(self, out: OutputSet, format: str = "csv") -> None:
        for table in OUTPUT_TABLES[1:]:  # results.csv is the Report's, written before
            _write_table(out, table, functools.partial(self._table_lines, table), format)
        text = json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n"
        out.write_lines("summary.json", [text])

    def _unbilled_lines(self) -> Iterator[str]:
        unbilled = self.unbilled
        rows = (
            unbilled.rows()
            if isinstance(unbilled, Unbilled)
            else (
                (u.contract_id, u.trip_id, u.service_date.isoformat(), u.status) for u in unbilled
            )
        )
        return _lines(
            ("contract_id", "trip_id", "service_date", "status"),
            (csv_line((text_cell(c), text_cell(t), day, status)) for c, t, day, status in rows),
        )

    def _invoice_lines(self) -> Iterator[str]:
        return _lines(
            INVOICE_COLUMNS,
            (
                csv_line(
                    (
                        text_cell(f.contract_id),
                        text_cell(f.invoice_id),
                        f.finding.value,
                        _text(f.header_total),
                        _text(f.lines_total),
                        _text(f.difference),
                        _text(f.amount),
                        text_cell(f.detail),
                    )
                )
                for f in self.invoices
            ),
        )

    def _problem_lines(self) -> Iterator[str]:
        return _lines(
            PROBLEM_COLUMNS,
            (
                csv_line(
                    (
                        text_cell(p.file),
                        str(p.line),
                        text_cell(p.column or ""),
                        text_cell(p.value or ""),
                        text_cell(p.message),
                    )
                )
                for p in sorted(self.problems, key=Problem.sort_key)
            ),
        )

    def _by_invoice_lines(self) -> Iterator[str]:
        empty = Ledgers()
        statuses = tuple(Status)
        for key in sorted(self.invoice_counts):
            counts = self.invoice_counts[key]
            ledgers = self.by_invoice.get(key, empty).as_strings()
            yield csv_line(
                (
                    text_cell(key[0]),
                    text_cell(key[1]),
                    str(sum(counts.values())),
                    *(str(counts.get(s, 0)) for s in statuses),
                    *ledgers.values(),
                )
            )


@attrs.frozen(kw_only=True, eq=False)
class Report(Totals):
    """The result of :func:`ice_recon.reconcile`: the :class:`Totals` and every line's result.

    Attributes:
        lines: one :class:`LineResult` per invoice line, in processing order.

    The payment controls and oversight of DESIGN section 9, on the bundled sample (its
    README works these figures out by hand):

    >>> from ice_recon import reconcile
    >>> from ice_recon.cli import sample_dir
    >>> report = reconcile(sample_dir())
    >>> p = report.payments
    >>> p.paid_erroneous, p.paid_unsupported, p.to_withhold, p.interest_due
    (Decimal('569.66'), Decimal('452.86'), Decimal('6006.75'), Decimal('7.65'))
    >>> p.unused_capacity, p.deobligation, p.funds_put_to_better_use
    (Decimal('5401.62'), Decimal('12128.00'), Decimal('17529.62'))
    >>> [(f.invoice_id, f.finding.value, f.amount) for f in report.invoices][:2]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('TRS-21-0142', 'LATE_PAYMENT', Decimal('7.65')),
     ('TRS-21-0157', 'APPROVER_NOT_APPOINTED', None)]
    >>> [(c.trip_id, str(c.passengers), str(c.seats), str(c.unused))
    ...  for c in report.oversight.capacity]
    [('T000210001', '96', '135', '5272.54'), ('T000123402', '9', '45', '129.08')]
    >>> [(c.contract_id, [f.value for f in c.findings]) for c in report.oversight.contracts]
    [('70CDCR-20-C-00007', []), ('HSCEMD-19-C-00012', ['NO_COST_ESTIMATE'])]
    """

    lines: Sequence[LineResult]
    _rows: Any = attrs.field(alias="rows", repr=False)

    def __repr__(self) -> str:
        return super().__repr__()

    def write(self, out_dir: str | os.PathLike[str], format: str = "csv") -> None:
        """Write the output files of DESIGN section 6 to *out_dir* (see :data:`OUTPUT_FILES`).

        Each file is written under a temporary name in *out_dir* and renamed into place once
        every file is complete, ``results.csv`` last but one and ``summary.json`` last; a
        ``summary.json`` left by an earlier run is removed first. A folder with a
        ``summary.json`` therefore holds one complete set of files.

        *format* ``"jsonl"`` writes each table as ``NAME.jsonl`` (one JSON object per row;
        money as strings with 2 places, empty cells null) and ``"parquet"`` as
        ``NAME.parquet`` (the types of :meth:`to_arrow`; needs pyarrow) instead of
        ``NAME.csv``; ``summary.json`` is the same whatever the format.

        Raises:
            OutputError: a file or the folder cannot be written; no new file is left.
            ArgumentError: *format* is not ``csv``, ``jsonl`` or ``parquet``.
            ImportError: ``parquet`` without pyarrow.
        """
        _check_format(format)
        # Paused: a million written lines would otherwise have the cyclic collector walk
        # the run's live chunk results over and over.
        with paused(), output_errors(out_dir), OutputSet(out_dir) as out:
            _write_table(out, "results", self._result_lines, format)
            self._write_totals(out, format)
            out.commit()

    def to_arrow(self, table: str = "results") -> Any:
        """Return an output table as an Arrow table: by default the line results.

        The table holds the cells of ``TABLE.csv`` (*table* is one of
        :data:`ice_recon.interop.TABLES`): money as ``decimal128(18, 2)`` (wider only for
        a value that needs it), never a float; identifiers as strings without the
        apostrophe that neutralises a spreadsheet formula; empty cells as nulls. Made
        column-wise from the CSV text by pyarrow; needs the ``fast`` extra.
        """
        from ice_recon import interop

        return interop.to_arrow(self, table)

    def to_pandas(self, table: str = "results") -> Any:
        """Return an output table as a pandas DataFrame (``pd.ArrowDtype``: decimal money)."""
        from ice_recon import interop

        return interop.to_pandas(self, table)

    def to_polars(self, table: str = "results") -> Any:
        """Return an output table as a polars DataFrame (money as ``pl.Decimal(18, 2)``)."""
        from ice_recon import interop

        return interop.to_polars(self, table)

    def _result_lines(self) -> Iterator[str]:
        return _lines(RESULT_COLUMNS, self._rows())

    def _table_lines(self, table: str) -> Iterator[str]:
        if table == "results":
            return self._result_lines()
        return super()._table_lines(table)

    def to_html(self, path: str | os.PathLike[str], *, top: int = 50) -> None:
        """Write the self-contained ``report.html`` of this report to *path*.

        The page is the one ``ice-recon report`` makes of an output folder: the files are
        written to a temporary folder and read back (see :mod:`ice_recon.htmlreport`);
        *top* bounds its lists. Needs the optional extra ``report``. Added in 0.3.0.

        Raises:
            MissingExtraError: the extra ``report`` is not installed.
            OutputError: the page cannot be written.
        """
        import tempfile

        from ice_recon.htmlreport import write_report

        with tempfile.TemporaryDirectory(prefix="ice-recon-html-") as folder:
            self.write(folder)
            write_report(folder, path=path, top=top)


class Unbilled(Sequence[UnbilledTrip]):
    """The trips no valid line was matched to, sorted; each record built when accessed.

    (contract_id, trip_id) is unique in the manifest: it alone gives the order by
    (contract_id, trip_id, service_date, status).
    """

    def __init__(self, trips: ManifestTable, claimed: bytearray) -> None:
        self._trips = trips
        rows = itertools.compress(range(len(trips)), map(operator.not_, claimed))
        contract, trip_id = trips.contract_id, trips.trip_id
        self._rows = [r for _, _, r in sorted((contract[r], trip_id[r], r) for r in rows)]

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> UnbilledTrip: ...
    @overload
    def __getitem__(self, i: slice) -> list[UnbilledTrip]: ...
    def __getitem__(self, i: int | slice) -> UnbilledTrip | list[UnbilledTrip]:
        if isinstance(i, slice):
            return [self._record(r) for r in self._rows[i]]
        return self._record(self._rows[i])

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence (a tuple, a list) of the same records in the same order."""
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"<Unbilled: {_count(len(self), 'trip')}>"

    def _record(self, r: int) -> UnbilledTrip:
        t = self._trips
        return UnbilledTrip(
            contract_id=t.contract_id[r],
            trip_id=t.trip_id[r],
            service_date=dt.date.fromordinal(t.service_date[r]),
            status="cancelled" if t.cancelled[r] else "completed",
        )

    def rows(self) -> Iterator[tuple[str, str, str, str]]:
        """Yield the rows of unbilled.csv (no header)."""
        t = self._trips
        iso = IsoDays()
        for r in self._rows:
            yield (
                t.contract_id[r],
                t.trip_id[r],
                iso(t.service_date[r]),
                "cancelled" if t.cancelled[r] else "completed",
            )


def report(
    inputs: Inputs,
    results: Sequence[ChunkResult],
    state: MatchState,
    trips: TripIndex,
    policy: Policy | None = None,
) -> Report:
    """Assemble the :class:`Report` from the chunks the stages produced, in order."""
    explainer = Explainer(
        problem_columns(inputs.problems, inputs.invoice_lines.file),
        plain_trip_ids=trips.plain_ids,
    )
    acc = Accumulator(policy)
    for result in results:
        untied(result, explainer)
        acc.add(result)

    def lines() -> Iterator[str]:
        for result in results:
            yield from result.lines(explainer)

    return Report(
        lines=_Lines(results, explainer),
        rows=lines,
        **acc.totals(inputs, state.trips, state.pairs, policy or Policy()),
    )
