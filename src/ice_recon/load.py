"""Read the input tables of DESIGN section 4 and validate them, reporting every problem.

The first stage of the pipeline. Each source — a file, an iterable of row mappings, or an
iterable of records — is read the same way: cells are stripped, parsed per column, checked,
and appended to columnar tables (:mod:`ice_recon.tables`). Then the checks *between* rows
and tables run (overlapping windows, tier sets, duplicate keys, bases that are not measures).

Every problem becomes a :class:`~ice_recon.errors.Problem`; nothing stops at the first. A
bad invoice line stays in its table as an INVALID row; a bad rate, manifest, roster or fuel
row is left out of the tables the index is built from. A problem *between* rows makes every
row involved unusable, so that the result never depends on which copy came first.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import operator
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from ice_recon import _engine, _fork
from ice_recon._gc import paused
from ice_recon._payment_inputs import read_contracts, read_cors, read_interest_rates
from ice_recon._read import Parsed, TableReader
from ice_recon._rows import Row, date, dec, drop_duplicates, row_view, values_of
from ice_recon._rule_checks import check_rules
from ice_recon._specs import (
    BASES_NOT_MEASURES,
    FILES,
    FILES_REQUIRED,
    FUEL_INDEX,
    FUEL_RULES,
    INVOICE_LINES,
    INVOICES,
    MANIFESTS,
    RATES,
    SPECS,
    STAFF,
    Source,
)
from ice_recon.errors import (
    ArgumentTypeError,
    InputError,
    InputErrors,
    NotAFolderError,
    Problem,
)
from ice_recon.frames import PARQUET_SUFFIX, parquet_name
from ice_recon.money import scaled_to_decimal
from ice_recon.records import (
    Appointment,
    ContractTerms,
    FuelIndexPoint,
    FuelRule,
    InterestRate,
    InvoiceHeader,
    RateRule,
    TripStatus,
    WeekRule,
)
from ice_recon.tables import (
    DecimalColumn,
    InvoiceLineTable,
    ManifestTable,
    Sourced,
    StaffTable,
)

__all__ = [
    "FILES",
    "Inputs",
    "Source",
    "load",
    "load_files",
    "validate",
]

# ------------------------------------------------------------------------------------ Inputs


@attrs.frozen(kw_only=True)
class Inputs:
    """Validated input tables, ready to reconcile; build with :func:`load` or :func:`load_files`.

    Attributes:
        rates: usable ``rates.csv`` rows as :class:`~ice_recon.tables.Sourced` records.
        fuel_rules, fuel_index: usable fuel rows, likewise.
        manifests: usable trips as columns (:class:`~ice_recon.tables.ManifestTable`).
        staff: usable roster rows as columns.
        invoice_lines: every invoice line, INVALID rows included.
        invoices: usable invoice headers.
        contracts: usable ``contracts.csv`` rows (DESIGN section 9.1); () without the file.
        cors: usable ``cors.csv`` appointments; ``None`` when the file was not given (a
            header-only file gives ``()``: no COR is appointed).
        interest_rates: usable ``interest_rates.csv`` windows; ``None`` when not given.
        measures: the measure columns of ``manifests.csv``, in file order.
        problems: every problem found, sorted by file, line, column.
        digests: sha256 of each file read (CSV or Parquet), by file name; none for tables
            given in memory (rows, records, Arrow tables, DataFrames).
    """

    rates: tuple[Sourced[RateRule], ...] = ()
    fuel_rules: tuple[Sourced[FuelRule], ...] = ()
    fuel_index: tuple[Sourced[FuelIndexPoint], ...] = ()
    manifests: ManifestTable = attrs.field(factory=ManifestTable)
    staff: StaffTable = attrs.field(factory=StaffTable)
    invoice_lines: InvoiceLineTable = attrs.field(factory=InvoiceLineTable)
    invoices: tuple[Sourced[InvoiceHeader], ...] = ()
    contracts: tuple[Sourced[ContractTerms], ...] = ()
    cors: tuple[Sourced[Appointment], ...] | None = None
    interest_rates: tuple[Sourced[InterestRate], ...] | None = None
    measures: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    digests: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        """Return whether no problem was found."""
        return not self.problems

    def __repr__(self) -> str:
        # Counts, never contents: the tables may hold millions of rows.
        lines = self.invoice_lines
        return (
            f"<Inputs: {len(self.rates)} rates rows, {len(self.fuel_rules)} fuel_rules rows, "
            f"{len(self.fuel_index)} fuel_index rows, {len(self.manifests)} trips, "
            f"{len(self.measures)} measures, {len(self.staff)} staff rows, "
            f"{len(lines)} invoice lines ({len(lines) - sum(lines.valid)} INVALID), "
            f"{len(self.invoices)} invoice headers, {len(self.contracts)} contracts, "
            f"{_count(self.cors)} COR appointments, {_count(self.interest_rates)} interest "
            f"rates, {len(self.problems)} problems>"
        )


def _count(rows: tuple[Any, ...] | None) -> str:
    return "no" if rows is None else str(len(rows))


def _usable(parsed: Parsed) -> list[int]:
    """Return the rows of *parsed* without a problem."""
    return list(itertools.compress(range(len(parsed.ok)), parsed.ok))


def _take(values: list[Any], keep: list[int]) -> list[Any]:
    if len(keep) == len(values):
        return values  # every row kept: no copy
    return list(map(values.__getitem__, keep))


def _decimals(parsed: Parsed, name: str, keep: list[int]) -> DecimalColumn:
    values = parsed.values[name]
    if len(keep) == len(values):
        return DecimalColumn.of(values)  # every row kept: no copy
    return DecimalColumn.of(list(map(values.__getitem__, keep)))


class _Loader:
    """Run the readers and the checks between rows and tables."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.digests: dict[str, str] = {}
        # Tier sets with a row that could not be used, by tier-set key -> that row's line:
        # the rest of such a set is incomplete and must not price anything.
        self.broken_sets: dict[tuple[Any, ...], int] = {}
        # Required files that are missing or whose header is unusable: nothing can be
        # reconciled, and the run is refused (DESIGN §4: an input error, not a data problem).
        self.refused: set[str] = set()
        # Problems about the folder itself (files that are not input files).
        self.folder_problems: list[Problem] = []

    def problem(
        self,
        file: str,
        line: int,
        message: str,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.problems.append(
            Problem(file=file, line=line, column=column, message=message, value=value)
        )

    def reader(self, name: str) -> TableReader:
        return TableReader(SPECS[name], self.problems)

    def parse(self, name: str, source: Source | None) -> tuple[TableReader, Parsed | None]:
        reader = self.reader(name)
        if source is None:
            if FILES_REQUIRED[name]:
                reader.problem(1, "required file is missing")
                self.refused.add(name)
            return reader, None
        parsed = reader.parse(source)
        if FILES_REQUIRED[name] and not reader.header_ok:
            self.refused.add(reader.file)  # its problems name the file read (rates.parquet)
        return reader, parsed

    def header_usable(self, name: str, source: Source | None) -> bool:
        """Check only the header of a required file; report it and refuse it if unusable.

        What is reported here is the header's whole story only when it is unusable (the run
        then stops); otherwise the file is read in full later, which reports it again.
        """
        if source is None:
            self.parse(name, None)
            return False
        if not isinstance(source, str | os.PathLike):
            return True  # rows in memory: checked as they are read
        problems: list[Problem] = []
        reader = TableReader(SPECS[name], problems)
        if reader.header_usable(source):
            return True
        self.problems += problems
        self.refused.add(reader.file)
        return False

    def refusal(self) -> InputError | None:
        """Return the error that refuses the run (None if it can go on)."""
        if not self.refused:
            return None
        found = [p for p in self.problems if p.file in self.refused and p.line == 1]
        found += [p for p in self.folder_problems if p not in found]
        return InputError(*sorted(found, key=Problem.sort_key))

    def rows(self, name: str, source: Source | None) -> tuple[TableReader, Iterator[Row]]:
        reader, parsed = self.parse(name, source)
        return reader, row_view(parsed)

    def finish(self, reader: TableReader) -> None:
        if reader.digest is not None:
            self.digests[reader.file] = reader.digest

    # -- manifests ---------------------------------------------------------------------------

    def manifests(self, source: Source | None) -> tuple[ManifestTable, tuple[str, ...], bool]:
        reader, p = self.parse(MANIFESTS, source)
        self.finish(reader)
        table = ManifestTable(file=reader.file)
        measure_names = reader.extra_names
        if p is not None:
            keep = _usable(p)
            cancelled = TripStatus.CANCELLED.value
            table.line = _take(p.lines, keep)
            table.trip_id = _take(p.values["trip_id"], keep)
            table.contract_id = _take(p.values["contract_id"], keep)
            table.service_date = _take(p.values["service_date"], keep)
            statuses = _take(p.values["status"], keep)
            table.cancelled = bytearray(map(operator.eq, statuses, itertools.repeat(cancelled)))
            table.origin = _take(p.values["origin"], keep)
            table.destination = _take(p.values["destination"], keep)
            table.cancel_notice_hours = _decimals(p, "cancel_notice_hours", keep)
            table.measures = {name: _decimals(p, name, keep) for name in measure_names}
        # Duplicate trip ids within a contract: every copy is unusable.
        first: dict[tuple[str, str], int] = {}
        bad: set[int] = set()
        keys: Iterable[tuple[str, str]] = zip(table.contract_id, table.trip_id, strict=True)
        if len(set(keys)) == len(table):
            keys = ()  # every (contract, trip) once: nothing to report
        else:
            keys = zip(table.contract_id, table.trip_id, strict=True)
        for i, key in enumerate(keys):
            j = first.setdefault(key, i)
            if j != i:
                self.problem(
                    table.file,
                    table.line[i],
                    f"duplicate trip {key[1]!r} of contract {key[0]!r}: also at line "
                    f"{table.line[j]} (both copies are left out)",
                    "trip_id",
                    key[1],
                )
                bad.update((i, j))
        if bad:
            table = table.take([i for i in range(len(table)) if i not in bad])
        return table, tuple(measure_names), reader.header_ok

    # -- staff -------------------------------------------------------------------------------

    def staff(self, source: Source | None) -> StaffTable:
        reader, p = self.parse(STAFF, source)
        self.finish(reader)
        table = StaffTable(file=reader.file)
        if p is not None:
            keep = _usable(p)
            table.line = _take(p.lines, keep)
            table.trip_id = _take(p.values["trip_id"], keep)
            table.contract_id = _take(p.values["contract_id"], keep)
            table.person_id = _take(p.values["person_id"], keep)
            table.labor_category = _take(p.values["labor_category"], keep)
            table.hours = _decimals(p, "hours", keep)
        # A person in two labor categories on one trip: every row of that person is unusable.
        seen: dict[tuple[str, str, str], int] = {}
        bad_keys: set[tuple[str, str, str]] = set()
        category, line = table.labor_category, table.line
        keys: Iterable[tuple[str, str, str]] = zip(
            table.contract_id, table.trip_id, table.person_id, strict=True
        )
        if len(set(keys)) == len(table):
            keys = ()  # every person once per trip: no two categories
        else:
            keys = zip(table.contract_id, table.trip_id, table.person_id, strict=True)
        for i, key in enumerate(keys):
            j = seen.setdefault(key, i)
            if category[j] != category[i]:
                self.problem(
                    table.file,
                    line[i],
                    f"person {key[2]!r} is in labor category {category[j]!r} "
                    f"on trip {key[1]!r} at line {line[j]}; one person has one "
                    "category per trip",
                    "labor_category",
                    category[i],
                )
                bad_keys.add(key)
        if bad_keys:
            again = zip(table.contract_id, table.trip_id, table.person_id, strict=True)
            table = table.take([i for i, key in enumerate(again) if key not in bad_keys])
        return table

    def adopt(self, loaded: _StaffLoaded) -> StaffTable:
        """Take a staff table read by another process, with its problems and digests."""
        table, problems, digests = loaded
        self.problems += problems
        self.digests.update(digests)
        return table

    # -- invoice lines -----------------------------------------------------------------------

    def invoice_lines(self, source: Source | None) -> InvoiceLineTable:
        reader, p = self.parse(INVOICE_LINES, source)
        self.finish(reader)
        table = line_table(p, reader.file)
        mark_duplicate_keys(table, self.problems)
        return table

    # -- small tables ------------------------------------------------------------------------

    def invoices(self, source: Source | None) -> tuple[Sourced[InvoiceHeader], ...]:
        reader, rows = self.rows(INVOICES, source)
        out = []
        for row in rows:
            if not row.ok:
                continue
            v = values_of(row, reader.spec)
            header = InvoiceHeader(
                invoice_id=v["invoice_id"],
                contract_id=v["contract_id"],
                invoice_date=dt.date.fromordinal(v["invoice_date"]),
                received_date=date(v["received_date"]),
                total=dec(v["total"]),
                status=v["status"],
                paid_date=date(v["paid_date"]),
                approved_by=v["approved_by"],
                approved_date=date(v["approved_date"]),
                paid_amount=dec(v["paid_amount"]),
            )
            out.append(Sourced(file=reader.file, line=row.line, record=header))
        self.finish(reader)
        return tuple(out)

    def fuel_index(self, source: Source | None) -> tuple[Sourced[FuelIndexPoint], ...]:
        reader, rows = self.rows(FUEL_INDEX, source)
        out: list[Sourced[FuelIndexPoint]] = []
        for row in rows:
            if not row.ok:
                continue
            series, week, price = row.values
            if dt.date.fromordinal(week).weekday() != 0:
                reader.problem(
                    row.line,
                    "must be a Monday (the first day of the index week)",
                    "week",
                    row.cells[1],
                )
                continue
            point = FuelIndexPoint(
                series=series, week=dt.date.fromordinal(week), price=scaled_to_decimal(*price)
            )
            out.append(Sourced(file=reader.file, line=row.line, record=point))
        self.finish(reader)

        def report(item: Sourced[FuelIndexPoint], other: Sourced[FuelIndexPoint]) -> None:
            series, week = item.record.series, item.record.week.isoformat()
            self.problem(
                item.file,
                item.line,
                f"duplicate week {week} of series {series!r}: also at line {other.line} "
                "(both are left out)",
                "week",
                week,
            )

        return drop_duplicates(out, lambda p: (p.series, p.week), report)

    def check_series(
        self,
        rules: Sequence[Sourced[FuelRule]],
        points: Sequence[Sourced[FuelIndexPoint]],
        *,
        given: bool,
    ) -> None:
        """Report each fuel rule whose series has no week in the fuel index, at its row.

        The rule is kept: the rate schedule is the contract, and the missing index is missing
        evidence, so its lines stay UNSUPPORTED with MISSING_MEASURE (DESIGN §4.4, §5 row 6).
        """
        series = sorted({p.record.series for p in points})
        for item in rules:
            name = item.record.series
            if name in series:
                continue
            if not given:
                message = f"names a fuel index series, but there is no {FUEL_INDEX}"
            else:
                close = difflib.get_close_matches(name, series, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                message = (
                    f"is not a series of {FUEL_INDEX}{hint} "
                    f"(its series: {', '.join(series) or 'none'})"
                )
            message += "; lines priced by this rule are UNSUPPORTED (missing index)"
            self.problem(item.file, item.line, message, "series", name)

    def fuel_rules(
        self, source: Source | None, bases: frozenset[str] | None
    ) -> list[Sourced[FuelRule]]:
        reader, rows = self.rows(FUEL_RULES, source)
        out: list[Sourced[FuelRule]] = []
        for row in rows:
            v = values_of(row, reader.spec)
            good = row.ok
            if good and v["end"] < v["start"]:
                reader.problem(
                    row.line, f"must not be before start {row.cells[2]}", "end", row.cells[3]
                )
                good = False
            basis = v["basis"] or "loaded_miles"
            if row.ok and bases is not None and basis not in bases:
                reader.problem(row.line, _basis_message(bases, basis), "basis", basis)
                good = False
            if not good:
                continue
            rule = FuelRule(
                contract_id=v["contract_id"],
                clin=v["clin"],
                start=dt.date.fromordinal(v["start"]),
                end=dt.date.fromordinal(v["end"]),
                base_price=scaled_to_decimal(*v["base_price"]),
                mpg=scaled_to_decimal(*v["mpg"]),
                series=v["series"],
                week_rule=v["week_rule"] or WeekRule.SERVICE_WEEK,
                places=2 if v["places"] is None else v["places"],
                basis=basis,
                rounding=v["rounding"],
                authority=v["authority"],
                rule_id=v["rule_id"],
            )
            out.append(Sourced(file=reader.file, line=row.line, record=rule))
        self.finish(reader)
        return out

    def rates(self, source: Source | None, bases: frozenset[str] | None) -> list[Sourced[RateRule]]:
        reader, rows = self.rows(RATES, source)
        out: list[Sourced[RateRule]] = []
        for row in rows:
            v = values_of(row, reader.spec)
            good = row.ok
            if row.ok and v["end"] < v["start"]:
                reader.problem(
                    row.line, f"must not be before start {row.cells[4]}", "end", row.cells[5]
                )
                good = False
            if row.ok and bases is not None and v["basis"] not in bases:
                reader.problem(row.line, _basis_message(bases, v["basis"]), "basis", v["basis"])
                good = False
            if row.ok and (v["tier_from"] is None) != (v["tier_mode"] is None):
                if v["tier_mode"] is None:
                    reader.problem(
                        row.line,
                        "is required when tier_from is given (all_units or graduated)",
                        "tier_mode",
                    )
                else:
                    reader.problem(row.line, "is required when tier_mode is given", "tier_from")
                good = False
            if not good:
                key = _tier_key_of(v, has_tier=bool(row.cells[12]))
                if key is not None:
                    self.broken_sets.setdefault(key, row.line)
                continue
            rule = RateRule(
                contract_id=v["contract_id"],
                clin=v["clin"],
                basis=v["basis"],
                rate=scaled_to_decimal(*v["rate"]),
                start=dt.date.fromordinal(v["start"]),
                end=dt.date.fromordinal(v["end"]),
                labor_category=v["labor_category"],
                minimum_amount=dec(v["minimum_amount"]),
                minimum_quantity=dec(v["minimum_quantity"]),
                free_quantity=dec(v["free_quantity"]),
                increment=dec(v["increment"]),
                increment_rounding=v["increment_rounding"],
                tier_from=dec(v["tier_from"]),
                tier_mode=v["tier_mode"],
                rounding=v["rounding"],
                authority=v["authority"],
                rule_id=v["rule_id"],
                description=v["description"],
            )
            out.append(Sourced(file=reader.file, line=row.line, record=rule))
        self.finish(reader)
        return out

    # -- checks across rows of rates and fuel rules ---------------------------------------------


def _basis_message(bases: frozenset[str], basis: str = "") -> str:
    measures = sorted(bases.difference(BASES_NOT_MEASURES))
    listed = ", ".join(measures) if measures else "none"
    close = difflib.get_close_matches(basis, sorted(bases), n=1, cutoff=0.6) if basis else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        "must be trip, cancellation, labor_hours or a measure column of manifests.csv"
        f"{hint} (its measures: {listed})"
    )


def _tier_key_of(v: Mapping[str, Any], *, has_tier: bool) -> tuple[Any, ...] | None:
    """Return the tier-set key of a rates row with a tier_from cell, if its key cells parsed."""
    if not has_tier or None in (v["contract_id"], v["clin"], v["start"], v["end"]):
        return None
    return (
        v["contract_id"],
        v["clin"],
        v["labor_category"],
        dt.date.fromordinal(v["start"]),
        dt.date.fromordinal(v["end"]),
    )


def line_table(parsed: Parsed | None, file: str) -> InvoiceLineTable:
    """Return the invoice lines of a parsed ``invoice_lines.csv`` (or a chunk of it).

    Rows with a problem stay in the table with ``valid`` 0 (INVALID lines are never dropped)
    and keep their identifying text, so that they are reported under their own key.
    """
    t = InvoiceLineTable(file=file)
    if parsed is None:
        return t
    p = parsed
    n = len(p)
    every = list(range(n))
    v = p.values
    t.line = list(p.lines)
    t.valid = bytearray(p.ok)
    t.duplicate_key = bytearray(n)
    t.invoice_id = p.text["invoice_id"]
    t.line_no = v["line_no"]
    t.line_no_text = p.text["line_no"]
    t.contract_id = p.text["contract_id"]
    t.clin = v["clin"]
    t.service_date = v["service_date"]
    t.quantity = _decimals(p, "quantity", every)
    t.unit_price = _decimals(p, "unit_price", every)
    t.amount = _decimals(p, "amount", every)
    t.trip_ref = v["trip_ref"]
    t.labor_category = v["labor_category"]
    t.person_id = v["person_id"]
    t.origin = v["origin"]
    t.destination = v["destination"]
    t.description = v["description"]

    return t


def mark_duplicate_keys(t: InvoiceLineTable, problems: list[Problem]) -> None:
    """Make every row sharing a (contract_id, invoice_id, line_no) with another INVALID.

    The problem is reported at each later row (in file line order), naming the first one.
    Rows are visited in file line order, whatever their order in *t*.
    """
    if len(set(zip(t.contract_id, t.invoice_id, t.line_no, strict=True))) == len(t):
        return  # every key once
    first: dict[tuple[str, str, int], int] = {}
    rows: Sequence[int] = range(len(t))
    if t.line != sorted(t.line):
        rows = sorted(rows, key=t.line.__getitem__)
    for i in rows:
        no = t.line_no[i]
        if no is None or not t.invoice_id[i] or not t.contract_id[i]:
            continue
        key = (t.contract_id[i], t.invoice_id[i], no)
        j = first.setdefault(key, i)
        if j != i:
            problems.append(
                Problem(
                    file=t.file,
                    line=t.line[i],
                    column="line_no",
                    message=f"duplicate line {no} of invoice {key[1]!r} of contract "
                    f"{key[0]!r}: also at line {t.line[j]} (both are INVALID)",
                    value=t.line_no_text[i],
                )
            )
            t.valid[i] = t.valid[j] = 0
            t.duplicate_key[i] = t.duplicate_key[j] = 1


# -------------------------------------------------------------------------------- public API


def load_files(
    *,
    rates: Source | None = None,
    manifests: Source | None = None,
    invoice_lines: Source | None = None,
    staff: Source | None = None,
    fuel_index: Source | None = None,
    fuel_rules: Source | None = None,
    invoices: Source | None = None,
    contracts: Source | None = None,
    cors: Source | None = None,
    interest_rates: Source | None = None,
    strict: bool = False,
    engine: _engine.Engine = "auto",
) -> Inputs:
    """Load and validate the input tables from explicit sources.

    Each source is a path to a CSV file, an iterable of row mappings (column name to cell
    text, as a CSV file would give), an iterable of records (``RateRule``, ``Trip`` …), or
    — with pyarrow installed — an Arrow table, a pandas or polars DataFrame or a path to a
    ``.parquet`` file (see :func:`ice_recon.load_frames`).
    A required table given as ``None`` is reported as missing; *cors* and *interest_rates*
    given as ``None`` are "not given" (:attr:`Inputs.cors` is then ``None``, not ``()``).

    Args:
        strict: raise every problem at once instead of returning them in
            :attr:`Inputs.problems`.
        engine: ``"auto"`` (the default), ``"python"`` or ``"fast"``: who reads the large
            CSV files (``"fast"``: pyarrow, from the ``fast`` extra); the same inputs either
            way.

    Raises:
        InputErrors: with ``strict=True``, an ``ExceptionGroup`` (and an ``IceReconError``)
            of one :class:`~ice_recon.errors.InputError` per
            problem, in the order :attr:`Inputs.problems` would list them.
        ArgumentTypeError: a source is neither a path nor an iterable of mappings or records,
            or a cell of a row mapping is not text (a ``TypeError``).
    """
    with paused(), _engine.using(engine):
        inputs = _load(
            rates=rates,
            manifests=manifests,
            invoice_lines=invoice_lines,
            staff=staff,
            fuel_index=fuel_index,
            fuel_rules=fuel_rules,
            invoices=invoices,
            contracts=contracts,
            cors=cors,
            interest_rates=interest_rates,
            refuse=True,
        )
    if strict and inputs.problems:
        count = len(inputs.problems)
        raise InputErrors(
            f"{count} input problem{'s' if count != 1 else ''}",
            [InputError(p) for p in inputs.problems],
        )
    return inputs


def _load(
    *,
    rates: Source | None,
    manifests: Source | None,
    invoice_lines: Source | None,
    staff: Source | None,
    fuel_index: Source | None,
    fuel_rules: Source | None,
    invoices: Source | None,
    contracts: Source | None = None,
    cors: Source | None = None,
    interest_rates: Source | None = None,
    lines: bool = True,
    staff_elsewhere: Callable[[], _StaffLoaded] | None = None,
    refuse: bool = False,
    folder_problems: Sequence[Problem] = (),
) -> Inputs:
    """Load the tables; with *refuse*, raise the refusal before any invoice line is read.

    *lines* False leaves the invoice lines out (they are streamed); their header is then
    still checked when *refuse* is set.
    """
    loader = _Loader()
    loader.folder_problems = list(folder_problems)
    loader.problems += folder_problems
    # A folder problem about an input file's own name (rates.csv beside rates.parquet)
    # refuses the run: which one to read is not ice_recon's guess.
    loader.refused.update(p.file for p in folder_problems if p.file in FILES_REQUIRED)
    trips, measures, header_ok = loader.manifests(manifests)
    # Without a usable manifests header the measures are unknown: checking bases against
    # them would only repeat that one problem on every rate row.
    bases = frozenset(BASES_NOT_MEASURES + measures) if header_ok else None
    rate_rows = loader.rates(rates, bases)
    fuel_rows = loader.fuel_rules(fuel_rules, bases)
    rate_rules, fuel_rule_rows = check_rules(loader, rate_rows, fuel_rows)
    points = loader.fuel_index(fuel_index)
    loader.check_series(fuel_rule_rows, points, given=fuel_index is not None)
    roster = loader.staff(staff) if staff_elsewhere is None else loader.adopt(staff_elsewhere())
    headers = loader.invoices(invoices)
    terms = read_contracts(loader, contracts)
    appointments = read_cors(loader, cors)
    interest = read_interest_rates(loader, interest_rates)
    if refuse:
        loader.header_usable(INVOICE_LINES, invoice_lines)
        error = loader.refusal()
        if error is not None:
            raise error
    line_rows = InvoiceLineTable()
    if lines:
        line_rows = loader.invoice_lines(invoice_lines)
    elif invoice_lines is None:
        loader.parse(INVOICE_LINES, None)
    return Inputs(
        rates=rate_rules,
        fuel_rules=fuel_rule_rows,
        fuel_index=points,
        manifests=trips,
        staff=roster,
        invoice_lines=line_rows,
        invoices=headers,
        contracts=terms,
        cors=appointments,
        interest_rates=interest,
        measures=measures,
        problems=tuple(sorted(loader.problems, key=Problem.sort_key)),
        digests=dict(sorted(loader.digests.items())),
    )


def load(
    input_dir: str | os.PathLike[str], *, strict: bool = False, engine: _engine.Engine = "auto"
) -> Inputs:
    """Load and validate every input table of DESIGN section 4 from the folder *input_dir*.

    Files are found by their standard names (``rates.csv``, ``manifests.csv`` …), each of
    which may be a Parquet file instead (``rates.parquet``; see :mod:`ice_recon.frames`);
    an optional file that is absent is simply not used. A table given both ways is a
    problem that refuses the run.
    *engine* (``"auto"``, ``"python"`` or ``"fast"``) says who reads the large CSV files,
    as for :func:`load_files`.

    Raises:
        NotAFolderError: *input_dir* is not a folder (a ``NotADirectoryError``, raised at once).
        ArgumentTypeError: *input_dir* is not a path.
        InputError: a required file is missing, or one of its required columns, or its
            header is unusable (:attr:`InputError.problems` lists every such problem, with
            the folder's misnamed files), in lenient mode too: nothing can be reconciled.
        InputErrors: with ``strict=True``, when any other problem was found (an
            ``ExceptionGroup`` of :class:`~ice_recon.errors.InputError`).
    """
    sources, folder_problems = _sources(input_dir)
    with paused(), _engine.using(engine):
        inputs = _load(**sources, refuse=True, folder_problems=folder_problems)
    if strict and inputs.problems:
        count = len(inputs.problems)
        raise InputErrors(
            f"{count} input problem{'s' if count != 1 else ''}",
            [InputError(p) for p in inputs.problems],
        )
    return inputs


#: Extensions of files that look like tables (a file with another one is not an input).
_TABLE_SUFFIXES: Final = (".csv", ".tsv", ".txt", PARQUET_SUFFIX)


def _sources(input_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], list[Problem]]:
    """Return the input files of the folder by table, and the problems of its other files.

    A name must match exactly (also on a case-insensitive file system); a symbolic link is
    an input file even when its target is missing (reading it reports that). A file that
    looks like a table or like an input file's name but is none is reported, with the
    input file it may have meant to be.
    """
    if not isinstance(input_dir, str | os.PathLike):
        raise ArgumentTypeError(f"input_dir must be a path (got {type(input_dir).__name__})")
    folder = Path(input_dir)
    if not folder.is_dir():
        raise NotAFolderError(f"{folder}: not a folder of input files")
    present = set(os.listdir(folder))
    sources: dict[str, Any] = {}
    problems: list[Problem] = []
    for table, (name, _) in FILES.items():
        parquet = parquet_name(name)
        if name in present and parquet in present:
            message = f"{name} and {parquet} are both in the folder; keep one of them"
            problems.append(Problem(file=name, line=1, message=message))
        found = name if name in present else parquet if parquet in present else None
        sources[table] = None if found is None else folder / found
    known = [name for name, _ in FILES.values()]
    folded = {name.casefold(): name for name in known}
    parquets = [parquet_name(name) for name in known]
    for entry in sorted(present.difference(known, parquets)):
        path = folder / entry
        if entry.startswith(".") or (path.is_dir() and not path.is_symlink()):
            continue
        stem, suffix = os.path.splitext(entry.casefold())
        meant = folded.get(stem + ".csv")
        if meant is None:
            close = difflib.get_close_matches(stem + ".csv", known, n=1, cutoff=0.8)
            meant = close[0] if close else None
        if meant is None and suffix not in _TABLE_SUFFIXES:
            continue
        if meant is not None and suffix == PARQUET_SUFFIX:
            meant = parquet_name(meant)
        hint = f"; did you mean {meant}?" if meant else f" (input files: {', '.join(known)})"
        problems.append(Problem(file=entry, line=1, message=f"not an input file{hint}"))
    return sources, problems


#: A staff table read by another process, with its problems and digests.
_StaffLoaded = tuple[StaffTable, list[Problem], dict[str, str]]


def _staff_in_child(_: int) -> _StaffLoaded:
    loader = _Loader()
    with paused():
        table = loader.staff(_fork.shared)
    return table, loader.problems, loader.digests


def load_resident(
    input_dir: str | os.PathLike[str], *, workers: int = 1
) -> tuple[Inputs, Path | None]:
    """Load every table of *input_dir* except the invoice lines, which are to be streamed.

    Returns the inputs (with an empty ``invoice_lines``) and the path of
    ``invoice_lines.csv`` (``None`` when it is missing; the problem is then in the inputs).
    With *workers* > 1, ``staff.csv`` is read in a forked process while this one reads the
    other tables (the two largest tables are the manifest and the roster).
    """
    sources, folder_problems = _sources(input_dir)
    lines = sources.pop("invoice_lines")
    with paused():
        staff = sources["staff"]

        def resident(elsewhere: Callable[[], _StaffLoaded] | None) -> Inputs:
            return _load(
                rates=sources["rates"],
                manifests=sources["manifests"],
                invoice_lines=lines,
                staff=staff,
                fuel_index=sources["fuel_index"],
                fuel_rules=sources["fuel_rules"],
                invoices=sources["invoices"],
                contracts=sources["contracts"],
                cors=sources["cors"],
                interest_rates=sources["interest_rates"],
                lines=False,
                staff_elsewhere=elsewhere,
                refuse=True,
                folder_problems=folder_problems,
            )

        if workers > 1 and staff is not None:
            with _fork.pool(1, staff) as pool:
                inputs = resident(pool.submit(_staff_in_child, 0).result)
        else:
            inputs = resident(None)
    return inputs, lines


def validate(input_dir: str | os.PathLike[str]) -> list[Problem]:
    """Return every problem in the input files of *input_dir* (what ``ice-recon validate`` prints).

    An empty list means the inputs are valid. Unlike :func:`load`, a missing required file
    or an unusable header is returned with the other problems, not raised.
    """
    return list(inspect(input_dir).problems)


def inspect(input_dir: str | os.PathLike[str]) -> Inputs:
    """Load *input_dir* for checking: like :func:`load`, but every problem is returned.

    A missing required file or an unusable header is in :attr:`Inputs.problems` with the
    others instead of being raised (``ice-recon validate`` lists them all).
    """
    sources, folder_problems = _sources(input_dir)
    with paused():
        return _load(**sources, folder_problems=folder_problems)
