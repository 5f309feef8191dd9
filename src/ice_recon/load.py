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

import csv
import datetime as dt
import difflib
import hashlib
import io
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from ice_recon.errors import InputError, Problem
from ice_recon.money import IncrementRounding, Rounding, parse_scaled, scaled_to_decimal
from ice_recon.records import (
    BASIS_CANCELLATION,
    BASIS_LABOR_HOURS,
    BASIS_TRIP,
    FuelIndexPoint,
    FuelRule,
    InvoiceHeader,
    InvoiceStatus,
    RateRule,
    TierMode,
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

RATES: Final = "rates.csv"
MANIFESTS: Final = "manifests.csv"
STAFF: Final = "staff.csv"
FUEL_INDEX: Final = "fuel_index.csv"
FUEL_RULES: Final = "fuel_rules.csv"
INVOICE_LINES: Final = "invoice_lines.csv"
INVOICES: Final = "invoices.csv"

#: The input files ice_recon reads, by table name, with whether each is required.
FILES: Final = {
    "rates": (RATES, True),
    "manifests": (MANIFESTS, True),
    "staff": (STAFF, False),
    "fuel_index": (FUEL_INDEX, False),
    "fuel_rules": (FUEL_RULES, False),
    "invoice_lines": (INVOICE_LINES, True),
    "invoices": (INVOICES, False),
}

#: Where a table comes from: a path, an iterable of row mappings (cells as text), or an
#: iterable of records (anything with a ``to_row()`` method, e.g. ``RateRule``).
Source = str | os.PathLike[str] | Iterable[Any]

FILES_REQUIRED: Final = dict(FILES.values())

_BASES_NOT_MEASURES: Final = (BASIS_TRIP, BASIS_CANCELLATION, BASIS_LABOR_HOURS)


# ------------------------------------------------------------------------------ cell parsers
# Each parser takes a stripped, non-empty cell and returns the value or raises ValueError
# whose text says what was expected; the reader adds file, line, column and the cell.

_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NEGATIVE: Final = "must not be negative (credits are not supported yet)"


def _p_text(raw: str) -> str:
    return raw


def _p_ref(raw: str) -> str:
    return raw.upper()


def _p_date(raw: str) -> int:
    if _ISO_DATE.fullmatch(raw) is None:
        raise ValueError("must be a date in ISO form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(raw).toordinal()
    except ValueError:
        raise ValueError("is not a calendar date (expected YYYY-MM-DD)") from None


def _p_decimal(raw: str) -> tuple[int, int]:
    units, scale = parse_scaled(raw)
    if units < 0 or raw.startswith("-"):
        raise ValueError(_NEGATIVE)
    if scale > 255:
        raise ValueError("has more than 255 decimal places")
    return units, scale


def _p_money(raw: str) -> tuple[int, int]:
    value = _p_decimal(raw)
    if value[1] > 2:
        raise ValueError("is money and must have at most 2 decimal places")
    return value


def _p_positive(raw: str) -> tuple[int, int]:
    value = _p_decimal(raw)
    if value[0] == 0:
        raise ValueError("must be greater than 0")
    return value


def _p_positive_int(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or int(raw) == 0:
        raise ValueError("must be a positive whole number")
    return int(raw)


def _p_count(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise ValueError("must be a whole number >= 0")
    return int(raw)


def _p_choice(choices: Iterable[str]) -> Callable[[str], str]:
    allowed = tuple(choices)
    expected = "must be one of: " + ", ".join(allowed)

    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(expected)
        return raw

    return parse


@attrs.frozen
class _Col:
    name: str
    parse: Callable[[str], Any]
    required: bool = False


@attrs.frozen
class _Spec:
    file: str
    columns: tuple[_Col, ...]
    measures: bool = False  # extra columns are measures (manifests.csv)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _req(name: str, parse: Callable[[str], Any]) -> _Col:
    return _Col(name, parse, required=True)


def _opt(name: str, parse: Callable[[str], Any]) -> _Col:
    return _Col(name, parse)


_ROUNDING = _p_choice(m.value for m in Rounding)

_SPECS: Final = {
    RATES: _Spec(
        RATES,
        (
            _req("contract_id", _p_text),
            _req("clin", _p_text),
            _req("basis", _p_text),
            _req("rate", _p_decimal),
            _req("start", _p_date),
            _req("end", _p_date),
            _opt("labor_category", _p_text),
            _opt("minimum_amount", _p_money),
            _opt("minimum_quantity", _p_decimal),
            _opt("free_quantity", _p_decimal),
            _opt("increment", _p_positive),
            _opt("increment_rounding", _p_choice(m.value for m in IncrementRounding)),
            _opt("tier_from", _p_decimal),
            _opt("tier_mode", _p_choice(m.value for m in TierMode)),
            _opt("rounding", _ROUNDING),
            _opt("authority", _p_text),
            _opt("rule_id", _p_text),
            _opt("description", _p_text),
        ),
    ),
    MANIFESTS: _Spec(
        MANIFESTS,
        (
            _req("trip_id", _p_ref),
            _req("contract_id", _p_text),
            _req("service_date", _p_date),
            _opt("status", _p_choice(m.value for m in TripStatus)),
            _opt("origin", _p_text),
            _opt("destination", _p_text),
            _opt("cancel_notice_hours", _p_decimal),
        ),
        measures=True,
    ),
    STAFF: _Spec(
        STAFF,
        (
            _req("trip_id", _p_ref),
            _req("contract_id", _p_text),
            _req("person_id", _p_text),
            _req("labor_category", _p_text),
            _req("hours", _p_decimal),
        ),
    ),
    FUEL_INDEX: _Spec(
        FUEL_INDEX,
        (_req("series", _p_text), _req("week", _p_date), _req("price", _p_decimal)),
    ),
    FUEL_RULES: _Spec(
        FUEL_RULES,
        (
            _req("contract_id", _p_text),
            _req("clin", _p_text),
            _req("start", _p_date),
            _req("end", _p_date),
            _req("base_price", _p_decimal),
            _req("mpg", _p_positive),
            _req("series", _p_text),
            _opt("week_rule", _p_choice(m.value for m in WeekRule)),
            _opt("places", _p_count),
            _opt("basis", _p_text),
            _opt("rounding", _ROUNDING),
            _opt("authority", _p_text),
            _opt("rule_id", _p_text),
        ),
    ),
    INVOICE_LINES: _Spec(
        INVOICE_LINES,
        (
            _req("invoice_id", _p_text),
            _req("line_no", _p_positive_int),
            _req("contract_id", _p_text),
            _req("clin", _p_text),
            _req("service_date", _p_date),
            _req("quantity", _p_decimal),
            _req("unit_price", _p_decimal),
            _req("amount", _p_money),
            _opt("trip_ref", _p_ref),
            _opt("labor_category", _p_text),
            _opt("person_id", _p_text),
            _opt("origin", _p_text),
            _opt("destination", _p_text),
            _opt("description", _p_text),
        ),
    ),
    INVOICES: _Spec(
        INVOICES,
        (
            _req("invoice_id", _p_text),
            _req("contract_id", _p_text),
            _req("invoice_date", _p_date),
            _opt("received_date", _p_date),
            _opt("total", _p_money),
            _opt("status", _p_choice(m.value for m in InvoiceStatus)),
            _opt("paid_date", _p_date),
            _opt("approved_by", _p_text),
        ),
    ),
}


# ----------------------------------------------------------------------------------- reading


@attrs.define
class _Row:
    """One data row after per-cell parsing (transient: consumed at once by a table builder)."""

    line: int
    ok: bool
    values: list[Any]  # parsed values in spec column order; None = absent or unreadable
    cells: list[str]  # stripped cell text in spec column order ("" = absent)
    extra: dict[str, Any]  # parsed extra (measure) columns


class _Reader:
    """Read one source into header + rows, reporting problems into a shared list."""

    def __init__(self, spec: _Spec, problems: list[Problem]) -> None:
        self.spec = spec
        self.problems = problems
        self.file = spec.file
        self.digest: str | None = None
        self.rows_read = 0
        self.extra_names: list[str] = []
        self.header_ok = False

    def problem(
        self, line: int, message: str, column: str | None = None, value: str | None = None
    ) -> None:
        self.problems.append(
            Problem(file=self.file, line=line, column=column, message=message, value=value)
        )

    # -- sources ----------------------------------------------------------------------------

    def records(self, source: Source) -> Iterator[tuple[int, list[str]]]:
        """Yield ``(start line, raw cells)`` for the header (first) and every record."""
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            self.file = path.name
            yield from self._file_records(path)
        else:
            yield from self._mapping_records(source)

    def _file_records(self, path: Path) -> Iterator[tuple[int, list[str]]]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.problem(1, f"cannot be read: {exc.strerror or exc}")
            return
        self.digest = hashlib.sha256(data).hexdigest()
        # surrogateescape keeps undecodable bytes as lone surrogates, so that a bad byte is
        # reported at its own cell instead of failing the whole file.
        text = data.decode("utf-8-sig", errors="surrogateescape")
        # Physical lines exactly as the csv module counts them (\n, \r or \r\n).
        lines = list(io.StringIO(text, newline=""))
        start = 0
        while start < len(lines):
            # Strict quoting: an unterminated quote must not silently swallow the rows after
            # it. A malformed record is reported at the line where it starts, and reading
            # resumes on the line after that, so the rows after it are still read.
            reader = csv.reader(iter(lines[start:]), strict=True)
            last = 0
            try:
                for cells in reader:
                    yield start + last + 1, cells
                    last = reader.line_num
                return
            except csv.Error as exc:
                self.problem(
                    start + last + 1,
                    f"is not valid CSV ({exc}; check the quotes); the record is skipped",
                )
                start += last + 1

    def _mapping_records(self, source: Iterable[Any]) -> Iterator[tuple[int, list[str]]]:
        rows: list[Mapping[str, Any]] = []
        for item in source:
            if isinstance(item, Mapping):
                rows.append(item)
            elif hasattr(item, "to_row"):
                rows.append(item.to_row())
            else:
                raise TypeError(
                    f"{self.spec.file}: rows must be mappings of column name to text or "
                    f"records with to_row() (got {type(item).__name__})"
                )
        header: dict[str, None] = {}
        for row in rows:
            header.update(dict.fromkeys(row))
        # No rows at all is a table with no rows, like a header-only file.
        names = list(header) if rows else list(self.spec.names)
        yield 1, names
        for i, row in enumerate(rows):
            cells = []
            for name in names:
                value = row.get(name)
                if value is None:
                    cells.append("")
                elif isinstance(value, str):
                    cells.append(value)
                else:
                    raise TypeError(
                        f"{self.spec.file}: row {i + 1}, column {name!r}: cells must be text "
                        f"(got {type(value).__name__} {value!r}); pass records for typed values"
                    )
            yield i + 2, cells

    # -- parsing ----------------------------------------------------------------------------

    def rows(self, source: Source) -> Iterator[_Row]:
        """Yield every non-empty data row, parsed per cell; header problems are reported."""
        records = self.records(source)
        first = next(records, None)
        if first is None:
            self.problem(
                1,
                "file is empty (expected a header row: "
                + ", ".join(c.name for c in self.spec.columns if c.required)
                + ")",
            )
            return
        _, header_cells = first
        layout = self._header(header_cells)
        if layout is None:
            return
        positions, extras = layout
        self.header_ok = True
        self.extra_names = [name for name, _ in extras]
        width = len(header_cells)
        cols = self.spec.columns
        for line, raw_cells in records:
            stripped = [c.strip() for c in raw_cells]
            if not any(stripped):
                self.problem(line, "row is empty (ignored)")
                continue
            self.rows_read += 1
            ok = True
            if len(stripped) != width:
                self.problem(line, f"row has {len(stripped)} cells; the header has {width}")
                ok = False
                stripped = (stripped + [""] * width)[:width]
            values: list[Any] = []
            cells: list[str] = []
            for col, pos in zip(cols, positions, strict=True):
                raw = "" if pos is None else stripped[pos]
                cells.append(raw if raw.isascii() else _printable(raw))
                value, good = self._cell(line, col.name, col.parse, col.required, raw)
                ok = ok and good
                values.append(value)
            extra: dict[str, Any] = {}
            for name, pos in extras:
                value, good = self._cell(line, name, _p_decimal, False, stripped[pos])
                ok = ok and good
                extra[name] = value
            yield _Row(line, ok, values, cells, extra)
        if self.rows_read == 0 and FILES_REQUIRED.get(self.spec.file, False):
            self.problem(1, "has a header but no data rows")

    def _cell(
        self, line: int, name: str, parse: Callable[[str], Any], required: bool, raw: str
    ) -> tuple[Any, bool]:
        if not raw.isascii():
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError:
                data = raw.encode("utf-8", "surrogateescape")
                self.problem(
                    line,
                    f"must be UTF-8 text (found byte 0x{_first_bad_byte(data):02X})",
                    name,
                    _printable(raw),
                )
                return None, False
        if raw == "":
            if required:
                self.problem(line, "must not be empty (required)", name)
                return None, False
            return None, True
        try:
            return parse(raw), True
        except ValueError as exc:
            self.problem(line, str(exc), name, raw)
            return None, False

    def _header(self, cells: list[str]) -> tuple[list[int | None], list[tuple[str, int]]] | None:
        names = [c.strip() for c in cells]
        known = self.spec.names
        seen: dict[str, int] = {}
        extras: list[tuple[str, int]] = []
        usable = True
        for pos, name in enumerate(names):
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                self.problem(
                    1,
                    "header must be UTF-8 text",
                    None,
                    name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                )
                usable = False
                continue
            if name == "":
                self.problem(1, f"header cell {pos + 1} is empty (every column needs a name)")
                continue
            if name in seen:
                self.problem(1, "appears twice in the header", name)
                usable = False
                continue
            seen[name] = pos
            if name in known:
                continue
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
            if self.spec.measures and not close and name not in _BASES_NOT_MEASURES:
                extras.append((name, pos))
                continue
            hint = f"; did you mean {close[0]!r}?" if close else ""
            if self.spec.measures:
                self.problem(
                    1,
                    f"is not a usable measure name{hint} (a measure must not look like "
                    "a standard column or be named trip, cancellation or labor_hours)",
                    name,
                )
            else:
                self.problem(1, f"unknown column{hint} (expected: {', '.join(known)})", name)
        for col in self.spec.columns:
            if col.required and col.name not in seen:
                self.problem(1, "required column is missing", col.name)
                usable = False
        if not usable:
            return None
        return [seen.get(c.name) for c in self.spec.columns], extras


def _printable(text: str) -> str:
    """Return *text* with undecodable bytes (lone surrogates) replaced by U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _first_bad_byte(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[exc.start]
    return 0


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
        measures: the measure columns of ``manifests.csv``, in file order.
        problems: every problem found, sorted by file, line, column.
        digests: sha256 of each file read, by file name (empty for in-memory sources).
    """

    rates: tuple[Sourced[RateRule], ...] = ()
    fuel_rules: tuple[Sourced[FuelRule], ...] = ()
    fuel_index: tuple[Sourced[FuelIndexPoint], ...] = ()
    manifests: ManifestTable = attrs.field(factory=ManifestTable)
    staff: StaffTable = attrs.field(factory=StaffTable)
    invoice_lines: InvoiceLineTable = attrs.field(factory=InvoiceLineTable)
    invoices: tuple[Sourced[InvoiceHeader], ...] = ()
    measures: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    digests: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        """Return whether no problem was found."""
        return not self.problems


def _dec(value: tuple[int, int] | None) -> Any:
    return None if value is None else scaled_to_decimal(*value)


def _date(value: int | None) -> dt.date | None:
    return None if value is None else dt.date.fromordinal(value)


def _values(row: _Row, spec: _Spec) -> dict[str, Any]:
    return dict(zip(spec.names, row.values, strict=True))


class _Loader:
    """Run the readers and the checks between rows and tables."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.digests: dict[str, str] = {}
        # Tier sets with a row that could not be used, by tier-set key -> that row's line:
        # the rest of such a set is incomplete and must not price anything.
        self.broken_sets: dict[tuple[Any, ...], int] = {}

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

    def reader(self, name: str) -> _Reader:
        return _Reader(_SPECS[name], self.problems)

    def rows(self, name: str, source: Source | None) -> tuple[_Reader, Iterator[_Row]]:
        reader = self.reader(name)
        if source is None:
            if FILES_REQUIRED[name]:
                reader.problem(1, "required file is missing")
            return reader, iter(())
        return reader, reader.rows(source)

    def finish(self, reader: _Reader) -> None:
        if reader.digest is not None:
            self.digests[reader.file] = reader.digest

    # -- manifests ---------------------------------------------------------------------------

    def manifests(self, source: Source | None) -> tuple[ManifestTable, tuple[str, ...], bool]:
        reader, rows = self.rows(MANIFESTS, source)
        table = ManifestTable(file=reader.file)
        for row in rows:
            if not table.measures:
                # Every row carries every measure column of the header; create them while
                # the table is still empty so that the columns stay aligned.
                table.measures = {name: DecimalColumn() for name in row.extra}
            if not row.ok:
                continue
            trip_id, contract, date, status, origin, dest, notice = row.values
            table.line.append(row.line)
            table.trip_id.append(trip_id)
            table.contract_id.append(contract)
            table.service_date.append(date)
            table.cancelled.append(1 if status == TripStatus.CANCELLED.value else 0)
            table.origin.append(origin)
            table.destination.append(dest)
            _append(table.cancel_notice_hours, notice)
            for name, value in row.extra.items():
                _append(table.measures[name], value)
        measure_names = reader.extra_names
        for name in measure_names:
            if name not in table.measures:  # the file has no data rows
                table.measures[name] = DecimalColumn([None] * len(table), bytearray(len(table)))
        self.finish(reader)
        table.file = reader.file
        # Duplicate trip ids within a contract: every copy is unusable.
        first: dict[tuple[str, str], int] = {}
        bad: set[int] = set()
        for i, key in enumerate(zip(table.contract_id, table.trip_id, strict=True)):
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
        reader, rows = self.rows(STAFF, source)
        table = StaffTable(file=reader.file)
        for row in rows:
            if not row.ok:
                continue
            trip_id, contract, person, category, hours = row.values
            table.line.append(row.line)
            table.trip_id.append(trip_id)
            table.contract_id.append(contract)
            table.person_id.append(person)
            table.labor_category.append(category)
            _append(table.hours, hours)
        self.finish(reader)
        table.file = reader.file
        # A person in two labor categories on one trip: every row of that person is unusable.
        seen: dict[tuple[str, str, str], int] = {}
        rows_of: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        bad_keys: set[tuple[str, str, str]] = set()
        for i in range(len(table)):
            key = (table.contract_id[i], table.trip_id[i], table.person_id[i])
            rows_of[key].append(i)
            j = seen.setdefault(key, i)
            if table.labor_category[j] != table.labor_category[i]:
                self.problem(
                    table.file,
                    table.line[i],
                    f"person {key[2]!r} is in labor category {table.labor_category[j]!r} "
                    f"on trip {key[1]!r} at line {table.line[j]}; one person has one "
                    "category per trip",
                    "labor_category",
                    table.labor_category[i],
                )
                bad_keys.add(key)
        if bad_keys:
            drop = {i for key in bad_keys for i in rows_of[key]}
            table = table.take([i for i in range(len(table)) if i not in drop])
        return table

    # -- invoice lines -----------------------------------------------------------------------

    def invoice_lines(self, source: Source | None) -> InvoiceLineTable:
        reader, rows = self.rows(INVOICE_LINES, source)
        t = InvoiceLineTable(file=reader.file)
        for row in rows:
            (
                _,
                line_no,
                _,
                clin,
                date,
                qty,
                price,
                amount,
                ref,
                category,
                person,
                origin,
                dest,
                desc,
            ) = row.values
            t.line.append(row.line)
            t.valid.append(1 if row.ok else 0)
            t.duplicate_key.append(0)
            t.invoice_id.append(row.cells[0])
            t.line_no.append(line_no)
            t.line_no_text.append(row.cells[1])
            t.contract_id.append(row.cells[2])
            t.clin.append(clin)
            t.service_date.append(date)
            _append(t.quantity, qty)
            _append(t.unit_price, price)
            _append(t.amount, amount)
            t.trip_ref.append(ref)
            t.labor_category.append(category)
            t.person_id.append(person)
            t.origin.append(origin)
            t.destination.append(dest)
            t.description.append(desc)
        self.finish(reader)
        t.file = reader.file
        first: dict[tuple[str, str, int], int] = {}
        for i in range(len(t)):
            no = t.line_no[i]
            if no is None or not t.invoice_id[i] or not t.contract_id[i]:
                continue
            key = (t.contract_id[i], t.invoice_id[i], no)
            j = first.setdefault(key, i)
            if j != i:
                self.problem(
                    t.file,
                    t.line[i],
                    f"duplicate line {no} of invoice {key[1]!r} of contract {key[0]!r}: also "
                    f"at line {t.line[j]} (both are INVALID)",
                    "line_no",
                    t.line_no_text[i],
                )
                t.valid[i] = t.valid[j] = 0
                t.duplicate_key[i] = t.duplicate_key[j] = 1
        return t

    # -- small tables ------------------------------------------------------------------------

    def invoices(self, source: Source | None) -> tuple[Sourced[InvoiceHeader], ...]:
        reader, rows = self.rows(INVOICES, source)
        out = []
        for row in rows:
            if not row.ok:
                continue
            v = _values(row, reader.spec)
            header = InvoiceHeader(
                invoice_id=v["invoice_id"],
                contract_id=v["contract_id"],
                invoice_date=dt.date.fromordinal(v["invoice_date"]),
                received_date=_date(v["received_date"]),
                total=_dec(v["total"]),
                status=v["status"],
                paid_date=_date(v["paid_date"]),
                approved_by=v["approved_by"],
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
        first: dict[tuple[str, dt.date], Sourced[FuelIndexPoint]] = {}
        bad: set[int] = set()
        for item in out:
            key = (item.record.series, item.record.week)
            other = first.setdefault(key, item)
            if other is not item:
                self.problem(
                    item.file,
                    item.line,
                    f"duplicate week {key[1].isoformat()} of series {key[0]!r}: also "
                    f"at line {other.line} (both are left out)",
                    "week",
                    key[1].isoformat(),
                )
                bad.update((id(item), id(other)))
        return tuple(x for x in out if id(x) not in bad)

    def fuel_rules(
        self, source: Source | None, bases: frozenset[str] | None
    ) -> list[Sourced[FuelRule]]:
        reader, rows = self.rows(FUEL_RULES, source)
        out: list[Sourced[FuelRule]] = []
        for row in rows:
            v = _values(row, reader.spec)
            good = row.ok
            if good and v["end"] < v["start"]:
                reader.problem(
                    row.line, f"must not be before start {row.cells[2]}", "end", row.cells[3]
                )
                good = False
            basis = v["basis"] or "loaded_miles"
            if row.ok and bases is not None and basis not in bases:
                reader.problem(row.line, _basis_message(bases), "basis", basis)
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
            v = _values(row, reader.spec)
            good = row.ok
            if row.ok and v["end"] < v["start"]:
                reader.problem(
                    row.line, f"must not be before start {row.cells[4]}", "end", row.cells[5]
                )
                good = False
            if row.ok and bases is not None and v["basis"] not in bases:
                reader.problem(row.line, _basis_message(bases), "basis", v["basis"])
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
                minimum_amount=_dec(v["minimum_amount"]),
                minimum_quantity=_dec(v["minimum_quantity"]),
                free_quantity=_dec(v["free_quantity"]),
                increment=_dec(v["increment"]),
                increment_rounding=v["increment_rounding"],
                tier_from=_dec(v["tier_from"]),
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

    def check_rules(
        self, rates: list[Sourced[RateRule]], fuel: list[Sourced[FuelRule]]
    ) -> tuple[tuple[Sourced[RateRule], ...], tuple[Sourced[FuelRule], ...]]:
        bad: set[int] = set()  # id() of unusable Sourced rows
        units: list[_RuleUnit] = []
        sets: dict[tuple[Any, ...], list[Sourced[RateRule]]] = defaultdict(list)
        for item in rates:
            r = item.record
            if r.tier_from is None:
                units.append(
                    _RuleUnit((item,), r.contract_id, r.clin, r.labor_category, r.start, r.end)
                )
            else:
                sets[tier_set_key(r)].append(item)
        for key, members in sets.items():
            members.sort(key=lambda s: s.line)
            if not self._check_tier_set(members):
                bad.update(id(m) for m in members)
            broken = self.broken_sets.get(key)
            if broken is not None:
                head = members[0]
                self.problem(
                    head.file,
                    head.line,
                    f"the row at line {broken} of this tier set has a problem; the whole tier "
                    "set is left out",
                )
                bad.update(id(m) for m in members)
            r = members[0].record
            units.append(
                _RuleUnit(tuple(members), r.contract_id, r.clin, r.labor_category, r.start, r.end)
            )
        for fuel_item in fuel:
            f = fuel_item.record
            units.append(_RuleUnit((fuel_item,), f.contract_id, f.clin, None, f.start, f.end))
        by_clin: dict[tuple[str, str], list[_RuleUnit]] = defaultdict(list)
        for unit in units:
            by_clin[(unit.contract_id, unit.clin)].append(unit)
        for group in by_clin.values():
            for earlier, later in _overlaps(group):
                self._report_overlap(earlier, later)
                bad.update(id(m) for m in earlier.rows)
                bad.update(id(m) for m in later.rows)
        return (
            tuple(x for x in rates if id(x) not in bad),
            tuple(x for x in fuel if id(x) not in bad),
        )

    def _check_tier_set(self, members: list[Sourced[RateRule]]) -> bool:
        ok = True
        head = members[0]
        first = head.record
        compare = [
            f for f in attrs.fields(RateRule) if f.name not in ("tier_from", "rate", "description")
        ]
        seen: dict[Any, Sourced[RateRule]] = {}
        for item in members:
            r = item.record
            for f in compare:
                if getattr(r, f.name) != getattr(first, f.name):
                    self.problem(
                        item.file,
                        item.line,
                        f"differs from the first row of its tier set (line {head.line}); rows "
                        "of a tier set may differ only in tier_from, rate and description",
                        f.name,
                        _cell_text(getattr(r, f.name)),
                    )
                    ok = False
            other = seen.setdefault(r.tier_from, item)
            if other is not item:
                self.problem(
                    item.file,
                    item.line,
                    f"repeats tier_from {r.tier_from} of line {other.line} in the same tier set",
                    "tier_from",
                    _cell_text(r.tier_from),
                )
                ok = False
        lowest = min(m.record.tier_from for m in members if m.record.tier_from is not None)
        if lowest != 0:
            self.problem(
                head.file,
                head.line,
                f"a tier set must start at tier_from 0 (its lowest is {lowest})",
                "tier_from",
                _cell_text(lowest),
            )
            ok = False
        if first.basis == BASIS_CANCELLATION and first.tier_mode is not TierMode.ALL_UNITS:
            self.problem(
                head.file,
                head.line,
                "a cancellation tier set must be all_units (the tier's rate is the fee)",
                "tier_mode",
                _cell_text(first.tier_mode),
            )
            ok = False
        return ok

    def _report_overlap(self, a: _RuleUnit, b: _RuleUnit) -> None:
        # Reported at the later row (the later file, alphabetically, across files), naming
        # the earlier one.
        ra, rb = a.rows[0], b.rows[0]
        if (rb.file, rb.line) < (ra.file, ra.line):
            a, b, ra, rb = b, a, rb, ra
        where = f"line {ra.line}" if ra.file == rb.file else f"{ra.file}:{ra.line}"
        what = (
            "the fuel rule"
            if ra.file != rb.file and isinstance(ra.record, FuelRule)
            else ("the rate rule" if ra.file != rb.file else "the rule")
        )
        self.problem(
            rb.file,
            rb.line,
            f"window {b.start.isoformat()}..{b.end.isoformat()} overlaps {what} at {where} "
            f"({a.start.isoformat()}..{a.end.isoformat()}) for contract {b.contract_id!r} CLIN "
            f"{b.clin!r}{_category_text(a, b)}; both are left out",
            "start",
            b.start.isoformat(),
        )


def _category_text(a: _RuleUnit, b: _RuleUnit) -> str:
    cat = a.labor_category or b.labor_category
    return f" labor category {cat!r}" if cat else ""


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return format(value, "f") if not isinstance(value, str) else value


def _basis_message(bases: frozenset[str]) -> str:
    measures = sorted(bases.difference(_BASES_NOT_MEASURES))
    listed = ", ".join(measures) if measures else "none"
    return (
        "must be trip, cancellation, labor_hours or a measure column of manifests.csv "
        f"(its measures: {listed})"
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


def tier_set_key(rule: RateRule) -> tuple[Any, ...]:
    """Return the key that groups the rows of one tier set: contract, CLIN, category, window."""
    return (rule.contract_id, rule.clin, rule.labor_category, rule.start, rule.end)


@attrs.frozen
class _RuleUnit:
    """One rule for the overlap check: a single row, a whole tier set, or a fuel rule."""

    rows: tuple[Sourced[Any], ...]
    contract_id: str
    clin: str
    labor_category: str | None
    start: dt.date
    end: dt.date


def _overlaps(group: list[_RuleUnit]) -> Iterator[tuple[_RuleUnit, _RuleUnit]]:
    """Yield each pair of rules of one (contract, CLIN) whose windows and categories overlap.

    Sorted by start, each rule is compared only with the earlier rules still open on its
    start date, so the work is proportional to the overlaps, not to all pairs.
    """
    group = sorted(group, key=lambda u: (u.start, u.rows[0].file, u.rows[0].line))
    active: list[_RuleUnit] = []
    for unit in group:
        active = [a for a in active if a.end >= unit.start]
        for other in active:
            if (
                other.labor_category is None
                or unit.labor_category is None
                or other.labor_category == unit.labor_category
            ):
                yield other, unit
        active.append(unit)


def _append(column: DecimalColumn, value: tuple[int, int] | None) -> None:
    if value is None:
        column.append(None, 0)
    else:
        column.append(value[0], value[1])


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
    strict: bool = False,
) -> Inputs:
    """Load and validate the input tables from explicit sources.

    Each source is a path to a CSV file, an iterable of row mappings (column name to cell
    text, as a CSV file would give), or an iterable of records (``RateRule``, ``Trip`` …).
    A required table given as ``None`` is reported as missing.

    Args:
        strict: raise every problem at once instead of returning them in
            :attr:`Inputs.problems`.

    Raises:
        ExceptionGroup: with ``strict=True``, one :class:`~ice_recon.errors.InputError` per
            problem, in the order :attr:`Inputs.problems` would list them.
        TypeError: a source is neither a path nor an iterable of mappings or records.
    """
    loader = _Loader()
    trips, measures, header_ok = loader.manifests(manifests)
    # Without a usable manifests header the measures are unknown: checking bases against
    # them would only repeat that one problem on every rate row.
    bases = frozenset(_BASES_NOT_MEASURES + measures) if header_ok else None
    rate_rows = loader.rates(rates, bases)
    fuel_rows = loader.fuel_rules(fuel_rules, bases)
    rate_rules, fuel_rule_rows = loader.check_rules(rate_rows, fuel_rows)
    inputs = Inputs(
        rates=rate_rules,
        fuel_rules=fuel_rule_rows,
        fuel_index=loader.fuel_index(fuel_index),
        manifests=trips,
        staff=loader.staff(staff),
        invoice_lines=loader.invoice_lines(invoice_lines),
        invoices=loader.invoices(invoices),
        measures=measures,
        problems=tuple(sorted(loader.problems, key=Problem.sort_key)),
        digests=dict(sorted(loader.digests.items())),
    )
    if strict and inputs.problems:
        count = len(inputs.problems)
        raise ExceptionGroup(
            f"{count} input problem{'s' if count != 1 else ''}",
            [InputError(p) for p in inputs.problems],
        )
    return inputs


def load(input_dir: str | os.PathLike[str], *, strict: bool = False) -> Inputs:
    """Load and validate every input table of DESIGN section 4 from the folder *input_dir*.

    Files are found by their standard names (``rates.csv``, ``manifests.csv`` …); an
    optional file that is absent is simply not used.

    Raises:
        NotADirectoryError: *input_dir* is not a folder (a programmer error, raised at once).
        ExceptionGroup: with ``strict=True``, when any problem was found.
    """
    folder = Path(input_dir)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder of input files")
    sources: dict[str, Path | None] = {}
    for table, (name, _) in FILES.items():
        path = folder / name
        sources[table] = path if path.exists() else None
    return load_files(**sources, strict=strict)


def validate(input_dir: str | os.PathLike[str]) -> list[Problem]:
    """Return every problem in the input files of *input_dir* (what ``ice-recon validate`` prints).

    An empty list means the inputs are valid.
    """
    return list(load(input_dir).problems)
