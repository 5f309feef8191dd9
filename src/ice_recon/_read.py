"""Read one input table into parsed columns, reporting every problem (internal).

The load stage's reader: a source (a CSV file, row mappings or records) is read into rows of
text, the header is checked, and then every column is parsed *as a column* — a fast path per
column kind handles the cells that are well formed, and only the cells that are not go
through the per-cell parser that words the problem. Nothing here knows about tables or
cross-row checks; :mod:`ice_recon.load` builds those from a :class:`Parsed`.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final, TypeVar

import attrs

from ice_recon.errors import Problem
from ice_recon.money import IncrementRounding, Rounding, parse_scaled
from ice_recon.records import (
    NON_MEASURE_BASES,
    InvoiceStatus,
    TierMode,
    TripStatus,
    WeekRule,
)

T = TypeVar("T")

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

FILES_REQUIRED: Final = dict(FILES.values())

#: Where a table comes from: a path, an iterable of row mappings (cells as text), or an
#: iterable of records (anything with a ``to_row()`` method, e.g. ``RateRule``).
Source = str | os.PathLike[str] | Iterable[Any]

BASES_NOT_MEASURES: Final = tuple(sorted(NON_MEASURE_BASES))


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
class Spec:
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

SPECS: Final = {
    RATES: Spec(
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
    MANIFESTS: Spec(
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
    STAFF: Spec(
        STAFF,
        (
            _req("trip_id", _p_ref),
            _req("contract_id", _p_text),
            _req("person_id", _p_text),
            _req("labor_category", _p_text),
            _req("hours", _p_decimal),
        ),
    ),
    FUEL_INDEX: Spec(
        FUEL_INDEX,
        (_req("series", _p_text), _req("week", _p_date), _req("price", _p_decimal)),
    ),
    FUEL_RULES: Spec(
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
    INVOICE_LINES: Spec(
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
    INVOICES: Spec(
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


_DECIMAL_PARSERS: Final = frozenset({_p_decimal, _p_money, _p_positive})


class Parsed:
    """One table read and parsed per column; rows with any problem have ``ok[i] == 0``.

    ``text`` holds every spec column's stripped cell text (``""`` when absent; undecodable
    bytes replaced by U+FFFD), ``values`` the parsed value of non-decimal columns (``None``
    when absent or bad), and decimal columns (spec and measure columns alike) are scaled
    integers in ``units`` (``None`` when absent or bad) and ``scales``.
    """

    def __init__(self, file: str, names: tuple[str, ...], extra_names: list[str]) -> None:
        self.file = file
        self.names = names
        self.extra_names = extra_names
        self.lines: list[int] = []
        self.ok = bytearray()
        self.text: dict[str, list[str]] = {}
        self.values: dict[str, list[Any]] = {}
        self.units: dict[str, list[int | None]] = {}
        self.scales: dict[str, bytearray] = {}

    def __len__(self) -> int:
        return len(self.lines)

    def extend(self, other: Parsed) -> None:
        """Append the rows of *other*, a later chunk of the same file."""
        self.lines += other.lines
        self.ok += other.ok
        for name, text in other.text.items():
            self.text[name] += text
        for name, values in other.values.items():
            self.values[name] += values
        for name, units in other.units.items():
            self.units[name] += units
        for name, scales in other.scales.items():
            self.scales[name] += scales

    def value(self, name: str, i: int) -> Any:
        """Return the parsed value of column *name* in row *i* (decimals as (units, scale))."""
        units = self.units.get(name)
        if units is not None:
            u = units[i]
            return None if u is None else (u, self.scales[name][i])
        return self.values[name][i]

    def row(self, i: int) -> dict[str, Any]:
        """Return the parsed values of row *i* by spec column name."""
        return {name: self.value(name, i) for name in self.names}


@attrs.frozen
class Layout:
    """Where the spec columns and measure columns are in a file's rows."""

    positions: list[int | None]  # per spec column, its cell index (None: not in the file)
    extras: list[tuple[str, int]]  # measure columns: (name, cell index)
    width: int  # cells per row


class TableReader:
    """Read one source into header + rows, reporting problems into a shared list."""

    def __init__(self, spec: Spec, problems: list[Problem]) -> None:
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

    def records(self, source: Iterable[Any]) -> tuple[Sequence[int], list[list[str]]]:
        """Return the start line and raw cells of every record of row mappings, header first."""
        return self._mapping_records(source)

    def _file_chunks(
        self, path: Path, rows: int
    ) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
        """Yield the records of a file in chunks of about *rows* physical lines.

        A chunk ends at the end of a record, as reading the whole file at once would find
        the records (a quoted cell with line breaks is never cut, and an unterminated quote
        is reported and skipped exactly as there): every chunk gives the same records and
        problems as reading the whole file as one chunk.
        """
        try:
            raw = path.open("rb")
        except OSError as exc:
            self.problem(1, f"cannot be read: {exc.strerror or exc}")
            return
        hashing = _Hashing(raw)
        with io.TextIOWrapper(
            io.BufferedReader(hashing),
            encoding="utf-8-sig",
            errors="surrogateescape",
            newline="",
        ) as text:
            carried: list[str] = []
            first = 1
            while True:
                lines = carried + list(itertools.islice(text, max(1, rows - len(carried))))
                if not lines:
                    break
                starts, records, used = self._line_records(lines, text, first)
                carried = lines[used:]
                first += used
                yield starts, records
            for _ in text:
                pass
        self.digest = hashing.digest.hexdigest()

    def _line_records(
        self, lines: list[str], more: Iterator[str], first: int
    ) -> tuple[Sequence[int], list[list[str]], int]:
        """Read the records that start in *lines* (physical lines from file line *first*).

        A record that goes on past the end of *lines* takes further lines from *more* (they
        are appended to *lines*). Returns the records' start lines, their cells and how
        many lines of *lines* were used; the rest start the next record.
        """
        if '"' not in "".join(lines):
            # Without quotes every physical line is one record: read them all at C speed.
            try:
                return (
                    range(first, first + len(lines)),
                    list(csv.reader(lines, strict=True)),
                    len(lines),
                )
            except csv.Error:
                pass  # report it precisely below
        starts: list[int] = []
        rows: list[list[str]] = []
        end = len(lines)
        start = 0
        while start < end:
            # Strict quoting: an unterminated quote must not silently swallow the rows after
            # it. A malformed record is reported at the line where it starts, and reading
            # resumes on the line after that, so the rows after it are still read.
            reader = csv.reader(_pulling(lines, start, more), strict=True)
            last = 0
            try:
                for cells in reader:
                    starts.append(first + start + last)
                    rows.append(cells)
                    last = reader.line_num
                    if start + last >= end:
                        break
                return starts, rows, start + last
            except csv.Error as exc:
                self.problem(
                    first + start + last,
                    f"is not valid CSV ({exc}; check the quotes); the record is skipped",
                )
                start += last + 1
        return starts, rows, start

    def _mapping_records(self, source: Iterable[Any]) -> tuple[Sequence[int], list[list[str]]]:
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
        records = [names]
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
            records.append(cells)
        return range(1, len(records) + 1), records

    # -- parsing ----------------------------------------------------------------------------

    def parse(self, source: Source) -> Parsed | None:
        """Read and parse *source*; ``None`` if it has no usable header (reported).

        A file is read in chunks (:meth:`parse_chunks`) whose columns are then joined, so
        that the raw rows of a large file are never all in memory at once.
        """
        if isinstance(source, str | os.PathLike):
            whole: Parsed | None = None
            for chunk in self.parse_chunks(source, _CHUNK_ROWS):
                if whole is None:
                    whole = chunk
                else:
                    whole.extend(chunk)
            return whole
        starts, records = self.records(source)
        layout = self._begin(records)
        if layout is None:
            return None
        parsed = self._body(layout, starts[1:], records[1:])
        self._end()
        return parsed

    def parse_chunks(self, path: str | os.PathLike[str], rows: int) -> Iterator[Parsed]:
        """Read and parse the CSV file *path* in chunks of about *rows* lines, for streaming.

        The chunks together hold exactly the rows, values and problems that :meth:`parse`
        gives for the whole file (line numbers are the file's); :attr:`digest` is set once
        the last chunk has been read. Nothing is yielded without a usable header.
        """
        if rows < 1:
            raise ValueError(f"rows must be at least 1 (got {rows})")
        file = Path(path)
        self.file = file.name
        layout: Layout | None = None
        chunks = self._file_chunks(file, rows)
        for starts, records in chunks:
            if layout is None:
                layout = self._begin(records)
                if layout is None:
                    for _ in chunks:
                        pass  # no rows to parse, but the digest covers the whole file
                    return
                starts, records = starts[1:], records[1:]
            yield self._body(layout, starts, records)
        if layout is None:
            self._begin([])  # an empty file
        else:
            self._end()

    def header(self, line: str) -> Layout | None:
        """Check a file's header from its first physical line (for reading it in parts).

        The part readers then use :meth:`parse_lines` with the layout returned here.
        """
        _, records, _ = self._line_records([line], iter(()), 1)
        return self._begin(records)

    def parse_lines(self, layout: Layout, lines: list[str], first: int) -> Parsed:
        """Parse quote-free physical *lines* (from file line *first*) after a checked header."""
        starts, records, _ = self._line_records(lines, iter(()), first)
        return self._body(layout, starts, records)

    def finish(self, rows: int) -> None:
        """Account for *rows* data rows read in parts, and report a file with none."""
        self.rows_read += rows
        self._end()

    def _begin(self, records: list[list[str]]) -> Layout | None:
        """Check the header (the first record); return the column layout, None if unusable."""
        if not records:
            self.problem(
                1,
                "file is empty (expected a header row: "
                + ", ".join(c.name for c in self.spec.columns if c.required)
                + ")",
            )
            return None
        header_cells = records[0]
        layout = self._header(header_cells)
        if layout is None:
            return None
        positions, extras = layout
        self.header_ok = True
        self.extra_names = [name for name, _ in extras]
        return Layout(positions, extras, len(header_cells))

    def _end(self) -> None:
        if not self.rows_read and FILES_REQUIRED.get(self.spec.file, False):
            self.problem(1, "has a header but no data rows")

    def _body(self, layout: Layout, starts: Sequence[int], body: list[list[str]]) -> Parsed:
        """Parse the data records *body* (starting at file lines *starts*) into columns."""
        parsed = Parsed(self.file, self.spec.names, self.extra_names)
        width = layout.width
        lines = parsed.lines
        ok = parsed.ok
        if set(map(len, body)) <= {width} and all(cells[0].strip() for cells in body):
            # The usual case, checked at C speed: every row has the header's width and a
            # first cell with content, so no row is empty or malformed.
            lines.extend(starts)
            ok.extend(b"\x01" * len(body))
            rows = body
        else:
            rows = []
            for line, cells in zip(starts, body, strict=True):
                if not "".join(cells).strip():
                    self.problem(line, "row is empty (ignored)")
                    continue
                if len(cells) != width:
                    self.problem(line, f"row has {len(cells)} cells; the header has {width}")
                    cells = (cells + [""] * width)[:width]
                    ok.append(0)
                else:
                    ok.append(1)
                lines.append(line)
                rows.append(cells)
        self.rows_read += len(rows)
        columns = list(zip(*rows, strict=True)) if rows else [()] * width
        del rows
        for col, pos in zip(self.spec.columns, layout.positions, strict=True):
            cells = [""] * len(lines) if pos is None else list(map(str.strip, columns[pos]))
            self._column(parsed, col.name, col.parse, col.required, cells)
        for name, pos in layout.extras:
            self._column(parsed, name, _p_decimal, False, list(map(str.strip, columns[pos])))
        return parsed

    def _column(
        self,
        parsed: Parsed,
        name: str,
        parse: Callable[[str], Any],
        required: bool,
        cells: list[str],
    ) -> None:
        """Parse one column into *parsed*, reporting each bad cell and clearing its row's ok."""
        cells = _shared(cells)
        bad: list[int] = []
        if not "".join(cells).isascii():
            for i, c in enumerate(cells):
                if not c.isascii():
                    try:
                        c.encode("utf-8")
                    except UnicodeEncodeError:
                        bad.append(i)
        decimal = parse in _DECIMAL_PARSERS
        if decimal:
            units, scales, slow = _fast_decimals(cells, parse)
            parsed.units[name] = units
            parsed.scales[name] = scales
        else:
            values, slow = _fast_values(cells, parse)
            if parse is _p_ref:
                values = _shared(values)
            parsed.values[name] = values
        if required and not all(cells):
            slow.extend(i for i, c in enumerate(cells) if not c)
        if bad or slow:
            lines, ok = parsed.lines, parsed.ok
            for i in sorted(set(bad).union(slow)):
                value, good = self._cell(lines[i], name, parse, required, cells[i])
                if not good:
                    ok[i] = 0
                if decimal:
                    parsed.units[name][i] = None if value is None else value[0]
                    parsed.scales[name][i] = 0 if value is None else value[1]
                else:
                    parsed.values[name][i] = value
            if bad:
                for i in bad:
                    cells[i] = _printable(cells[i])
        parsed.text[name] = cells

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
            if self.spec.measures and not close and name not in BASES_NOT_MEASURES:
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


_WELL_FORMED: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _fast_decimals(
    cells: list[str], parse: Callable[[str], Any]
) -> tuple[list[int | None], bytearray, list[int]]:
    """Parse a decimal column; return units, scales and the rows to parse cell by cell.

    Well-formed cells (ASCII digits with an optional fraction) are converted together with
    ``map(int, ...)`` on the joined text with the points removed; empty cells are absent
    (``None``); every other cell, and a well-formed one the column kind refuses (more than
    2 places of money, a zero that must be positive), goes to the slow rows.
    """
    if not cells:
        return [], bytearray(), []
    match = _WELL_FORMED.fullmatch
    odd = [i for i, c in enumerate(cells) if match(c) is None]
    if odd:
        odd_set = set(odd)
        clean = ["0" if i in odd_set else c for i, c in enumerate(cells)]
    else:
        clean = cells
    units: list[int | None] = list(map(int, "\n".join(clean).replace(".", "").split("\n")))
    rfind = str.rfind
    scales = bytearray([(len(c) - 1 - i) if (i := rfind(c, ".")) >= 0 else 0 for c in clean])
    for i in odd:
        units[i] = None
    slow = [i for i in odd if cells[i]]
    limit = 2 if parse is _p_money else 255
    positive = parse is _p_positive
    if positive or (scales and max(scales) > limit):
        slow += [
            i
            for i, (u, sc) in enumerate(zip(units, scales, strict=True))
            if u is not None and (sc > limit or (positive and u == 0))
        ]
    return units, scales, slow


def _decimals_by_cell(
    cells: list[str], parse: Callable[[str], Any]
) -> tuple[list[int | None], bytearray, list[int]]:
    units: list[int | None] = []
    scales = bytearray()
    slow: list[int] = []
    max_scale = 2 if parse is _p_money else 255
    positive = parse is _p_positive
    append_u, append_s = units.append, scales.append
    for i, c in enumerate(cells):
        whole, dot, frac = c.partition(".")
        if (
            whole.isdigit()
            and whole.isascii()
            and (not dot or (frac.isdigit() and frac.isascii() and len(frac) <= max_scale))
        ):
            u = int(whole + frac)
            if positive and u == 0:
                slow.append(i)
            append_u(u)
            append_s(len(frac))
        else:
            if c:
                slow.append(i)
            append_u(None)
            append_s(0)
    return units, scales, slow


def _fast_values(cells: list[str], parse: Callable[[str], Any]) -> tuple[list[Any], list[int]]:
    """Parse the cells of a non-decimal column; return values and the rows to parse slowly."""
    if parse is _p_text:
        return [c or None for c in cells], []
    if parse is _p_ref:
        return [c.upper() or None for c in cells], []
    values: list[Any] = []
    slow: list[int] = []
    cache: dict[str, Any] = {}
    for i, c in enumerate(cells):
        if not c:
            values.append(None)
            continue
        v = cache.get(c)
        if v is None:
            try:
                v = cache[c] = parse(c)
            except ValueError:
                slow.append(i)
        values.append(v)
    return values, slow


def _printable(text: str) -> str:
    """Return *text* with undecodable bytes (lone surrogates) replaced by U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _first_bad_byte(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[exc.start]
    return 0


#: Rows per chunk when a whole file is read (what is held as raw cells at once).
_CHUNK_ROWS: Final = 100_000

#: How many values of a column (spread over it) _shared looks at to judge whether they repeat.
_SAMPLE: Final = 2_000


def _shared(values: list[T]) -> list[T]:
    """Return *values* with equal values as one object (dictionary encoding, in effect).

    Columns like contract_id, status or origin repeat a few values over millions of rows;
    sharing one object per distinct value keeps memory in proportion to the distinct values.

    >>> a = _shared(["X" + str(n % 2) for n in range(4)])
    >>> a, a[0] is a[2]
    (['X0', 'X1', 'X0', 'X1'], True)
    """
    sample = values[:: max(1, len(values) // _SAMPLE)]
    if len(set(sample)) > len(sample) * 0.95:
        return values  # distinct values (identifiers, line numbers): sharing gains nothing
    memo: dict[T, T] = {}
    return list(map(memo.setdefault, values, values))


def _pulling(lines: list[str], start: int, more: Iterator[str]) -> Iterator[str]:
    """Yield lines[start:], then lines taken from *more* (appending them to *lines*)."""
    k = start
    while True:
        if k < len(lines):
            yield lines[k]
        else:
            line = next(more, None)
            if line is None:
                return
            lines.append(line)
            yield line
        k += 1


class _Hashing(io.RawIOBase):
    """A raw binary reader that hashes (sha256) every byte read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.digest.update(data)
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()
