"""Read one input table into parsed columns, reporting every problem (internal).

The load stage's reader: a source (a CSV file, row mappings or records) is read into rows of
text, the header is checked, and then every column is parsed *as a column* — a fast path per
column kind handles the cells that are well formed, and only the cells that are not go
through the per-cell parser that words the problem. Nothing here knows about tables or
cross-row checks; :mod:`ice_recon.load` builds those from a :class:`Parsed`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import hashlib
import io
import itertools
import operator
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final, TypeVar

import attrs

from ice_recon.errors import ArgumentTypeError, Problem
from ice_recon.money import IncrementRounding, Rounding, parse_scaled
from ice_recon.records import (
    NON_MEASURE_BASES,
    CorLevel,
    InvoiceStatus,
    Risk,
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
CONTRACTS: Final = "contracts.csv"
CORS: Final = "cors.csv"
INTEREST_RATES: Final = "interest_rates.csv"

#: The input files ice_recon reads, by table name, with whether each is required.
FILES: Final = {
    "rates": (RATES, True),
    "manifests": (MANIFESTS, True),
    "staff": (STAFF, False),
    "fuel_index": (FUEL_INDEX, False),
    "fuel_rules": (FUEL_RULES, False),
    "invoice_lines": (INVOICE_LINES, True),
    "invoices": (INVOICES, False),
    "contracts": (CONTRACTS, False),
    "cors": (CORS, False),
    "interest_rates": (INTEREST_RATES, False),
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


#: The most digits a decimal cell may have in all, and after the point (docs/reference/
#: formats.md): enough for any amount or rate, and far below the sizes at which exact
#: arithmetic or Python's integer conversion would fail or crawl.
MAX_DIGITS: Final = 100
MAX_PLACES: Final = 50
_TOO_LONG: Final = (
    f"must have at most {MAX_DIGITS} digits, at most {MAX_PLACES} of them after the point"
)
_DECIMAL_SHAPE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _p_decimal(raw: str) -> tuple[int, int]:
    # Checked on the text: converting thousands of digits is what must not happen.
    if (
        len(raw) > MAX_DIGITS
        and _DECIMAL_SHAPE.fullmatch(raw) is not None
        and len(raw) - raw.count(".") - raw.startswith("-") > MAX_DIGITS
    ):
        raise ValueError(_TOO_LONG)
    units, scale = parse_scaled(raw)
    if units < 0 or raw.startswith("-"):
        raise ValueError(_NEGATIVE)
    if scale > MAX_PLACES:
        raise ValueError(_TOO_LONG)
    return units, scale


def _p_rate(raw: str) -> tuple[int, int]:
    # A rate is no credit: a negative one gets its own wording (interest_rates.csv).
    if raw.startswith("-") and _DECIMAL_SHAPE.fullmatch(raw) is not None:
        raise ValueError("must not be negative")
    return _p_decimal(raw)


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
    if not raw.isascii() or not raw.isdigit() or int(raw[: MAX_DIGITS + 1]) == 0:
        raise ValueError("must be a positive whole number")
    if len(raw) > MAX_DIGITS:
        raise ValueError(f"must be a whole number of at most {MAX_DIGITS} digits")
    return int(raw)


def _p_count(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise ValueError("must be a whole number >= 0")
    if len(raw) > MAX_DIGITS:
        raise ValueError(f"must be a whole number of at most {MAX_DIGITS} digits")
    return int(raw)


def _p_places(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 3 or int(raw) > MAX_PLACES:
        raise ValueError(f"must be a whole number from 0 to {MAX_PLACES}")
    return int(raw)


class _Choice:
    """The parser of a column whose values come from a fixed set."""

    def __init__(self, choices: Iterable[str]) -> None:
        ordered = tuple(choices)
        self.allowed = frozenset(ordered) | {""}
        self.expected = "must be one of: " + ", ".join(ordered)

    def __call__(self, raw: str) -> str:
        if raw not in self.allowed or not raw:
            raise ValueError(self.expected)
        return raw


def _p_choice(choices: Iterable[str]) -> Callable[[str], str]:
    return _Choice(choices)


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
    #: The columns whose cell text the tables use (None: all); the others' text is not kept.
    text: frozenset[str] | None = None

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
        text=frozenset(),
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
        text=frozenset(),
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
            _opt("places", _p_places),
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
        text=frozenset({"invoice_id", "line_no", "contract_id"}),
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
            _opt("approved_date", _p_date),
            _opt("paid_amount", _p_money),
        ),
    ),
    CONTRACTS: Spec(
        CONTRACTS,
        (
            _req("contract_id", _p_text),
            _opt("ceiling", _p_money),
            _opt("funded", _p_money),
            _opt("estimate", _p_money),
            _opt("start", _p_date),
            _opt("end", _p_date),
            _opt("risk", _p_choice(m.value for m in Risk)),
            _opt("payment_days", _p_positive_int),
            _opt("notice_percent", _p_positive),
        ),
    ),
    CORS: Spec(
        CORS,
        (
            _req("contract_id", _p_text),
            _req("person_id", _p_text),
            _req("appointed", _p_date),
            _req("level", _p_choice(m.value for m in CorLevel)),
            _opt("expires", _p_date),
        ),
    ),
    INTEREST_RATES: Spec(
        INTEREST_RATES,
        (_req("start", _p_date), _req("end", _p_date), _req("rate", _p_rate)),
    ),
}


# ----------------------------------------------------------------------------------- reading


_DECIMAL_PARSERS: Final = frozenset({_p_decimal, _p_money, _p_positive})


class Parsed:
    """One table read and parsed per column; rows with any problem have ``ok[i] == 0``.

    ``text`` holds every spec column's stripped cell text (``""`` when absent; undecodable
    bytes replaced by U+FFFD) and ``values`` the parsed value of every column (``None`` when
    absent or bad): decimals (spec and measure columns alike) as ``(units, scale)`` pairs.
    """

    def __init__(self, file: str, names: tuple[str, ...], extra_names: list[str]) -> None:
        self.file = file
        self.names = names
        self.extra_names = extra_names
        self.lines: list[int] = []
        self.ok = bytearray()
        self.text: dict[str, list[str]] = {}
        self.values: dict[str, list[Any]] = {}

    def __len__(self) -> int:
        return len(self.lines)

    def extend(self, other: Parsed) -> None:
        """Append the rows of *other*, a later chunk of the same file."""
        self.lines += other.lines
        self.ok += other.ok
        for name, text in other.text.items():
            self.text.setdefault(name, [])
            self.text[name] += text
        for name, values in other.values.items():
            self.values.setdefault(name, [])
            self.values[name] += values

    def value(self, name: str, i: int) -> Any:
        """Return the parsed value of column *name* in row *i* (decimals as (units, scale))."""
        return self.values[name][i]

    def row(self, i: int) -> dict[str, Any]:
        """Return the parsed values of row *i* by spec column name."""
        return {name: self.values[name][i] for name in self.names}

    @classmethod
    def joined(cls, parts: list[Parsed]) -> Parsed:
        """Return the rows of *parts* (chunks of one file, in order) as one table."""
        first = parts[0]
        if len(parts) == 1:
            return first
        whole = cls(first.file, first.names, first.extra_names)
        whole.ok = bytearray().join(p.ok for p in parts)
        whole.lines = _concatenated([p.lines for p in parts])
        for name in first.text:
            whole.text[name] = _concatenated([p.text[name] for p in parts])
        for name in first.values:
            whole.values[name] = _concatenated([p.values[name] for p in parts])
        return whole


def _concatenated(lists: list[list[T]]) -> list[T]:
    """Return the items of *lists* in one new list (allocated once, copied at C speed)."""
    whole: list[Any] = [None] * sum(map(len, lists))
    at = 0
    for part in lists:
        whole[at : at + len(part)] = part
        at += len(part)
    return whole


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
        self._keep_text = spec.text
        self._keep_text_set = spec.text or frozenset()
        # Per whole-number column: text -> value, for the values read so far.
        self._values: dict[str, dict[str, int]] = {}
        # Per column: the memo of equal values (None: the column does not repeat values).
        self._memos: dict[str, dict[str, str] | None] = {}
        # Per decimal column: cells looked up, cells missed, the memo (None: joined path).
        self._decimal_stats: dict[str, list[Any]] = {}
        # Start lines of the records that are not valid CSV (their rows are INVALID).
        self._broken: set[int] = set()
        # The file could not be opened (reported once; it is then not also "empty").
        self._unreadable = False

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
            # it. A malformed record is reported at the line where it starts and kept as an
            # unusable row of that line's comma-separated text (an invoice line is then
            # INVALID, never lost), and reading resumes on the line after it.
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
                line = first + start + last
                if line == 1:
                    self.problem(1, f"the header is not valid CSV ({exc}; check the quotes)")
                else:
                    self.problem(
                        line, f"is not valid CSV ({exc}; check the quotes); the row is unusable"
                    )
                self._broken.add(line)
                starts.append(line)
                rows.append(lines[start + last].rstrip("\r\n").split(","))
                start += last + 1
        return starts, rows, start

    def _mapping_records(self, source: Iterable[Any]) -> tuple[Sequence[int], list[list[str]]]:
        rows: list[Mapping[str, Any]] = []
        if not isinstance(source, Iterable) or isinstance(source, bytes | Mapping):
            raise ArgumentTypeError(
                f"{self.spec.file}: a source must be a path or an iterable of rows or records "
                f"(got {type(source).__name__})"
            )
        for item in source:
            if isinstance(item, Mapping):
                rows.append(item)
            elif hasattr(item, "to_row"):
                rows.append(item.to_row())
            else:
                raise ArgumentTypeError(
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
                    raise ArgumentTypeError(
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
            parts = list(self.parse_chunks(source, _CHUNK_ROWS))
            return Parsed.joined(parts) if parts else None
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
        chunks = self._blocks(file, rows)
        for first, lines, starts, records in chunks:
            if layout is None:
                if lines is not None:
                    starts, records = (first,), [lines[0].split(",")]
                    lines, first = lines[1:], first + 1
                assert records is not None
                if lines is None and (not starts or starts[0] in self._broken):
                    # The header is not valid CSV (reported): no row can be read by it.
                    layout = None
                else:
                    layout = self._begin(records[:1])
                if layout is None:
                    for _ in chunks:
                        pass  # no rows to parse, but the digest covers the whole file
                    return
                if lines is None:
                    starts, records = starts[1:], records[1:]
            if lines is not None:
                if lines:
                    yield self._body_lines(layout, first, lines)
            else:
                assert records is not None
                yield self._body(layout, starts, records)
        if layout is None:
            if not self._unreadable:
                self._begin([])  # an empty file
        else:
            self._end()

    def _blocks(
        self, path: Path, rows: int
    ) -> Iterator[tuple[int, list[str] | None, Sequence[int], list[list[str]] | None]]:
        """Yield a file's lines in chunks of about *rows*: ``(first, lines, starts, records)``.

        The fast path: blocks of bytes where every line is one record (no carriage return,
        no quoted line break: an even number of quotes on every line) are split into lines at
        C speed (``lines``, physical line *first* on). From the first block where that does
        not hold, the rest of the file is read record by record by the :mod:`csv` module
        (``starts`` and ``records``): quoted line breaks, unterminated quotes and line ends
        other than ``\\n``.
        """
        raw = self._open(path)
        if raw is None:
            return
        digest = hashlib.sha256()
        with raw:
            first = 1
            carry = b""
            start = True
            while True:
                data = raw.read(_BLOCK_BYTES)
                end = not data
                digest.update(data)
                data = carry + data
                if start and data:
                    start = False
                    if data.startswith(codecs.BOM_UTF8):
                        data = data[len(codecs.BOM_UTF8) :]
                if not data:
                    break
                nl = data.find(b"\n")
                if (nl > MAX_RECORD_BYTES or (nl < 0 and len(data) > MAX_RECORD_BYTES)) and (
                    b"\r" not in data[: MAX_RECORD_BYTES + 1]
                ):
                    # The first line is longer than any record can be: report it, keep its
                    # start (for the key cells of an INVALID line), skip the rest.
                    yield 0, None, (first,), [self._overlong(data, first)]
                    first += 1
                    if nl >= 0:
                        carry = data[nl + 1 :]
                    else:
                        carry, end = _skip_line(raw, digest)
                    if end and not carry:
                        break
                    continue
                if end:
                    block, carry = data, b""  # the last line may have no line end
                else:
                    cut = data.rfind(b"\n") + 1
                    if cut == 0 and len(data) > MAX_RECORD_BYTES:
                        cut = len(data)  # line ends other than \n: the csv module reads on
                    if cut == 0:  # no line end yet: read on
                        carry = data
                        continue
                    block, carry = data[:cut], data[cut:]
                lines = None
                if b"\r" not in block:
                    lines = block.decode("utf-8", errors="surrogateescape").split("\n")
                    if block.endswith(b"\n"):
                        lines.pop()
                    if b'"' in block and not _one_record_each(lines):
                        lines = None
                if lines is None:
                    # A quoted line break or a line end other than \\n: from here on the
                    # csv module reads the records.
                    chained = _Chained(block + carry, raw, digest)
                    for starts, records in self._file_chunks(chained, rows, first):
                        yield 0, None, starts, records
                    break
                for k in range(0, len(lines), rows):
                    yield first + k, lines[k : k + rows], (), None
                first += len(lines)
                if end:
                    break
        self.digest = digest.hexdigest()

    def _overlong(self, data: bytes, line: int) -> list[str]:
        """Report the record starting *data* (file line *line*) as too long.

        Returns the cells of its first :data:`_KEPT_BYTES`, as an unusable row.
        """
        self.problem(
            line,
            f"record is longer than {MAX_RECORD_BYTES:,} bytes; the row is unusable",
        )
        self._broken.add(line)
        return data[:_KEPT_BYTES].decode("utf-8", errors="surrogateescape").split(",")

    def _open(self, path: Path) -> IO[bytes] | None:
        """Open the regular file *path* for reading; report (once) what else it is."""
        self._unreadable = True
        if path.is_symlink() and not path.exists():
            target = path.readlink()
            self.problem(1, f"cannot be read: a symbolic link to a missing file ({target})")
            return None
        try:
            # Non-blocking, so that opening a FIFO does not wait for a writer; the file
            # kind is then checked on the open file itself.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            self.problem(1, f"cannot be read: {exc.strerror or exc}")
            return None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
            self.problem(1, f"cannot be read: only regular files are read (this is {kind})")
            return None
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        self._unreadable = False
        return os.fdopen(fd, "rb")

    def header_usable(self, path: str | os.PathLike[str]) -> bool:
        """Check only the header of the CSV file *path* (its first record); return whether usable.

        Reads at most :data:`_HEADER_BYTES` bytes: a run that cannot go on is refused before
        any data row is read.
        """
        file = Path(path)
        self.file = file.name
        raw = self._open(file)
        if raw is None:
            return False
        with raw:
            data = raw.read(_HEADER_BYTES)
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        text = data.decode("utf-8", errors="surrogateescape")
        lines = io.StringIO(text, newline="").readlines() or [""]
        if not text:
            self._begin([])
            return False
        starts, records, _ = self._line_records(lines[:1], iter(lines[1:]), 1)
        if not starts or starts[0] in self._broken:
            return False
        return self._begin(records[:1]) is not None

    def _file_chunks(
        self, raw: io.RawIOBase, rows: int, first: int
    ) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
        """Yield the records of a stream in chunks of about *rows* physical lines.

        A chunk ends at the end of a record, as reading the whole file at once would find
        the records (a quoted cell with line breaks is never cut, and an unterminated quote
        is reported and skipped exactly as there): every chunk gives the same records and
        problems as reading the whole file as one chunk. *first* is the line number of the
        stream's first line.
        """
        with io.TextIOWrapper(
            io.BufferedReader(raw),
            encoding="utf-8",
            errors="surrogateescape",
            newline="",
        ) as text:
            carried: list[str] = []
            physical = self._bounded(text, first)
            while True:
                lines = carried + list(itertools.islice(physical, max(1, rows - len(carried))))
                if not lines:
                    break
                starts, records, used = self._line_records(lines, physical, first)
                carried = lines[used:]
                first += used
                yield starts, records
            while text.read(_BLOCK_BYTES):
                pass

    def _bounded(self, text: IO[str], first: int) -> Iterator[str]:
        """Yield the physical lines of *text* (file line *first* on), none over the limit.

        A line longer than :data:`MAX_RECORD_BYTES` characters is reported, its rest
        skipped, and its start (without quotes, so that it cannot open a quoted cell) is
        read as an unusable row.
        """
        number = first
        while True:
            line = text.readline(MAX_RECORD_BYTES)
            if not line:
                return
            if len(line) == MAX_RECORD_BYTES and not line.endswith(("\n", "\r")):
                self.problem(
                    number, f"record is longer than {MAX_RECORD_BYTES:,} bytes; the row is unusable"
                )
                self._broken.add(number)
                rest = line
                while rest and not rest.endswith(("\n", "\r")):
                    rest = text.readline(MAX_RECORD_BYTES)
                line = line[:_KEPT_BYTES].replace('"', "") + "\n"
            yield line
            number += 1

    def header(self, line: str) -> Layout | None:
        """Check a file's header from its first physical line (for reading it in parts).

        The part readers then use :meth:`parse_lines` with the layout returned here.
        """
        _, records, _ = self._line_records([line], iter(()), 1)
        return self._begin(records)

    def parse_lines(self, layout: Layout, lines: list[str], first: int) -> Parsed:
        """Parse quote-free physical *lines* (from file line *first*) after a checked header.

        The lines keep their line ends, as a text file reads them.
        """
        text = "".join(lines)
        if "\r" not in text:
            bare = text.split("\n")
            if text.endswith("\n"):
                bare.pop()
            return self._body_lines(layout, first, bare)
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
        """Finish a file (a header and no data rows is a valid, empty table: DESIGN §4)."""

    def _body(self, layout: Layout, starts: Sequence[int], body: list[list[str]]) -> Parsed:
        """Parse the data records *body* (starting at file lines *starts*) into columns."""
        parsed = Parsed(self.file, self.spec.names, self.extra_names)
        width = layout.width
        lines = parsed.lines
        ok = parsed.ok
        broken = self._broken
        if (
            set(map(len, body)) <= {width}
            and all(cells[0].strip() for cells in body)
            and not (broken and not broken.isdisjoint(starts))
        ):
            # The usual case, checked at C speed: every row has the header's width and a
            # first cell with content, so no row is empty or malformed.
            lines.extend(starts)
            ok.extend(b"\x01" * len(body))
            rows = body
        else:
            rows = []
            for line, cells in zip(starts, body, strict=True):
                if line in broken:
                    cells = (cells + [""] * width)[:width]
                    ok.append(0)  # reported as not valid CSV
                elif not "".join(cells).strip():
                    self.problem(line, "row is empty (ignored)")
                    continue
                elif len(cells) != width:
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

    def _body_lines(self, layout: Layout, first: int, lines: list[str]) -> Parsed:
        """Parse data *lines* (physical line *first* on, each one record), a sub-chunk at a time.

        Every sub-chunk is split into columns at C speed (:meth:`_fast_body`); the few lines
        that are not plain (a quote, or not the header's number of commas) are read by the
        :mod:`csv` module and put in their rows of the columns.
        """
        parts = [
            self._fast_body(layout, first + a, lines[a : a + _SUB_LINES])
            for a in range(0, len(lines), _SUB_LINES)
        ]
        return Parsed.joined(parts) if parts else self._body(layout, [], [])

    def _fast_body(self, layout: Layout, first: int, lines: list[str]) -> Parsed:
        """Parse lines that are one record each, column by column.

        The usual line is plain (no quote, the header's width): the lines are joined and
        split into cells at C speed. An other line is read as :mod:`csv` reads it and its
        cells put in its row, with a problem (and the row unusable) when it does not have
        the header's width; an empty row or a line csv refuses sends the sub-chunk through
        :meth:`_body`, which leaves such rows out.
        """
        n = len(lines)
        width = layout.width
        need = width - 1
        joined = ",".join(lines)
        counts = list(map(str.count, lines, itertools.repeat(",")))
        odd: dict[int, list[str]] = {}
        if counts.count(need) != n or '"' in joined:
            for i, (count, line) in enumerate(zip(counts, lines, strict=True)):
                if count == need and '"' not in line:
                    continue
                try:
                    cells = next(csv.reader([line], strict=True), [])
                except csv.Error:
                    cells = []
                if not "".join(cells).strip():
                    return self._records_body(layout, first, lines)
                odd[i] = cells
            plain = list(lines)
            for i in odd:
                plain[i] = "," * need
            cells = ",".join(plain).split(",")
        else:
            cells = joined.split(",")
        columns = [cells[j::width] for j in range(width)]
        del cells
        ascii = joined.isascii()
        wrong: list[int] = []
        for i, row in odd.items():
            if len(row) != width:
                wrong.append(i)
                row = (row + [""] * width)[:width]
            for j, cell in enumerate(row):
                columns[j][i] = cell
        if _spaced(joined, ascii) and _EDGE_SPACE.search(joined):
            columns = [list(map(str.strip, column)) for column in columns]
        if not all(columns[0]):
            # A row whose first cell is empty may be an empty row: the general path.
            return self._records_body(layout, first, lines)
        del joined
        parsed = Parsed(self.file, self.spec.names, self.extra_names)
        parsed.lines = list(range(first, first + n))
        parsed.ok = bytearray(b"\x01") * n
        for i in wrong:
            cells_found = len(odd[i])
            self.problem(first + i, f"row has {cells_found} cells; the header has {width}")
            parsed.ok[i] = 0
        self.rows_read += n
        for col, pos in zip(self.spec.columns, layout.positions, strict=True):
            column = [""] * n if pos is None else columns[pos]
            self._column(parsed, col.name, col.parse, col.required, column, ascii)
        for name, pos in layout.extras:
            self._column(parsed, name, _p_decimal, False, columns[pos], ascii)
        return parsed

    def _records_body(self, layout: Layout, first: int, lines: list[str]) -> Parsed:
        """Parse lines that are one record each through the csv module (the general path)."""
        run = [line + "\n" for line in lines]
        starts, records, _ = self._line_records(run, iter(()), first)
        return self._body(layout, starts, records)

    def _column(
        self,
        parsed: Parsed,
        name: str,
        parse: Callable[[str], Any],
        required: bool,
        cells: list[str],
        ascii: bool = False,
    ) -> None:
        """Parse one column into *parsed*, reporting each bad cell and clearing its row's ok.

        A fast path per kind of column takes the cells that are well formed; only the
        others go through :meth:`_cell`, which words the problem. *ascii* says that the
        cells are known to be ASCII (so none can hold an undecodable byte).
        """
        bad: list[int] = []
        if not ascii and not "".join(cells).isascii():
            for i, c in enumerate(cells):
                if not c.isascii():
                    try:
                        c.encode("utf-8")
                    except UnicodeEncodeError:
                        bad.append(i)
        if parse in _DECIMAL_PARSERS:
            values, slow = self._decimals(name, cells, parse)
        else:
            if required and (parse is _p_text or parse is _p_ref or name in self._keep_text_set):
                cells = self._shared(name, cells)
            values, slow = _fast_values(cells, parse, self._value_memo(name, parse))
        if required and not all(cells):
            slow.extend(itertools.compress(range(len(cells)), map(operator.not_, cells)))
        if bad or slow:
            lines, ok = parsed.lines, parsed.ok
            if values is cells:  # type: ignore[comparison-overlap]
                values = list(values)
            for i in sorted(set(bad).union(slow)):
                value, good = self._cell(lines[i], name, parse, required, cells[i])
                if not good:
                    ok[i] = 0
                values[i] = value
            if bad:
                cells = list(cells)
                for i in bad:
                    cells[i] = _printable(cells[i])
        parsed.values[name] = values
        if self._keep_text is None or name in self._keep_text:
            parsed.text[name] = cells

    def _value_memo(self, name: str, parse: Callable[[str], Any]) -> dict[str, int] | None:
        """Return the memo of a whole-number column's values (None for other columns)."""
        if parse is not _p_positive_int and parse is not _p_count:
            return None
        memo = self._values.get(name)
        if memo is None:
            memo = self._values[name] = {}
        return memo

    def _shared(self, name: str, cells: list[str]) -> list[str]:
        """Return *cells* with equal values as one object, where the column repeats values.

        Columns like contract_id, clin or invoice_id repeat a few values over millions of
        rows: one object per distinct value keeps memory in proportion to the distinct
        values. Whether a column repeats is judged once, on its first cells.
        """
        memo = self._memos.get(name, _UNDECIDED)
        if memo is _UNDECIDED:
            sample = cells[:_SAMPLE]
            repeats = len(sample) >= 16 and len(set(sample)) <= len(sample) // 4
            memo = self._memos[name] = {} if repeats else None
        if memo is None or not any(cells):
            return cells
        if len(memo) > _MEMO_LIMIT:
            return cells
        return list(map(memo.setdefault, cells, cells))

    def _decimals(
        self, name: str, cells: list[str], parse: Callable[[str], Any]
    ) -> tuple[list[tuple[int, int] | None], list[int]]:
        """Parse a decimal column; return its values and the rows to parse cell by cell.

        Columns whose values repeat (rates, quantities, measures) are parsed through a memo
        of the cells already read, so a repeated value is one dictionary lookup and one
        shared pair; columns of mostly distinct values (amounts) through the joined path
        of :func:`_fast_decimals`. Which one a column takes is judged on its first cells.
        """
        stats = self._decimal_stats.get(name)
        if stats is None:
            stats = self._decimal_stats[name] = [0, 0, {}]
        looked, missed, memo = stats
        if not any(cells):
            return [None] * len(cells), []  # a column with nothing recorded
        if memo is None:
            return _fast_decimals(cells, parse)
        values: list[tuple[int, int] | None] = list(map(memo.get, cells))
        if None not in values:
            stats[0] = looked + len(cells)
            return values, []
        none = itertools.repeat(None)
        at = [
            i
            for i in itertools.compress(range(len(cells)), map(operator.is_, values, none))
            if cells[i]
        ]
        if not at:
            stats[0] = looked + len(cells)
            return values, []
        new = list(map(cells.__getitem__, at))
        found, slow = _fast_decimals(new, parse)
        room = len(memo) < _MEMO_LIMIT
        for i, cell, value in zip(at, new, found, strict=True):
            values[i] = value
            if value is not None and room:
                memo[cell] = value
        stats[0] = looked + len(cells)
        stats[1] = missed + len(at)
        if stats[0] > _JUDGE_AFTER and stats[1] * 4 > stats[0] * 3:
            stats[2] = None  # mostly distinct values: the memo costs more than it saves
        return values, [at[j] for j in slow]

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
        if names and names[0].encode("utf-8", "surrogateescape")[:2] in _UTF16_BOMS:
            # Every name would be reported (each holds NULs): one problem says it all.
            self.problem(1, "the file is UTF-16 text; save it as UTF-8 (with or without a BOM)")
            return None
        if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
            sep = "semicolons" if names[0].count(";") >= names[0].count("\t") else "tabs"
            self.problem(
                1,
                f"the header is one column: the file looks separated by {sep}; "
                "ice_recon reads comma-separated values",
            )
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
            if _CONTROL.search(name) is not None:
                # A NUL, another control character or a second byte-order mark: the file
                # is not the text it seems, and no column of it can be trusted.
                self.problem(
                    1,
                    "header names must not contain control characters or a byte-order mark",
                    None,
                    name,
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
            if self.spec.measures:
                # Any other manifest column is a measure, whatever its name (DESIGN §4.2):
                # a misspelled one is caught where a rule's basis names a missing column.
                extras.append((name, pos))
                continue
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.problem(1, f"unknown column{hint} (expected: {', '.join(known)})", name)
        for col in self.spec.columns:
            if col.required and col.name not in seen:
                self.problem(1, "required column is missing", col.name)
                usable = False
        if not usable:
            return None
        return [seen.get(c.name) for c in self.spec.columns], extras


_WELL_FORMED: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_WELL_FORMED_COLUMN: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?\n)*[0-9]+(?:\.[0-9]+)?")
_SAME_SCALE: Final = [
    re.compile(r"(?:[0-9]+\n)*[0-9]+"),
    *(re.compile(rf"(?:[0-9]+\.[0-9]{{{k}}}\n)*[0-9]+\.[0-9]{{{k}}}") for k in range(1, 8)),
]


_WELL_FORMED_OR_EMPTY: Final = re.compile(
    r"(?:(?:[0-9]+(?:\.[0-9]+)?)?\n)*(?:[0-9]+(?:\.[0-9]+)?)?"
)
_GOOD_LINES: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?\n)*")


def _bad_lines(joined: str) -> list[int]:
    r"""Return the indices of the lines of *joined* that are not well-formed decimals.

    Runs of good lines are consumed at regex speed; each bad line costs one step more.

    >>> _bad_lines("1\n2.5\n\n1e3\n7"), _bad_lines("1\n2."), _bad_lines("")
    ([2, 3], [1], [0])
    """
    found: list[int] = []
    pos = line = 0
    while True:
        end = _GOOD_LINES.match(joined, pos).end()  # type: ignore[union-attr]
        line += joined.count("\n", pos, end)
        stop = joined.find("\n", end)
        if stop < 0:  # the last line has no line end
            if _WELL_FORMED.fullmatch(joined, end) is None:
                found.append(line)
            return found
        found.append(line)
        line += 1
        pos = stop + 1


def _fast_decimals(
    cells: list[str], parse: Callable[[str], Any]
) -> tuple[list[tuple[int, int] | None], list[int]]:
    """Parse a decimal column; return its ``(units, scale)`` values and the rows to parse slowly.

    The column is checked as one text (the cells joined by line breaks) against the
    grammar; its units are then converted together with ``map(int, ...)`` on the joined
    text with the points removed, and its scales found at once when every cell has the same
    number of places. Empty cells are absent (``None``); every other cell that is not well
    formed, and a well-formed one the column kind refuses (more than 2 places of money, a
    zero that must be positive), goes to the slow rows.
    """
    if not cells:
        return [], []
    original = cells
    if max(map(len, cells)) > MAX_DIGITS:
        # Checked once per column at C speed: a cell this long may have more digits than
        # allowed, so it is worded by the per-cell parser, never converted here.
        cells = [c if len(c) <= MAX_DIGITS else "" for c in cells]
    joined = "\n".join(cells)
    dot = cells[0].find(".")
    scale = 0 if dot < 0 else len(cells[0]) - dot - 1
    uniform = scale < len(_SAME_SCALE) and _SAME_SCALE[scale].fullmatch(joined) is not None
    odd: list[int] = []
    if not uniform:
        odd = _bad_lines(joined)  # empty or malformed cells
        if odd:
            cells = list(cells)
            first = next((c for c in cells if _WELL_FORMED.fullmatch(c)), "0")
            dot = first.find(".")
            scale = 0 if dot < 0 else len(first) - dot - 1
            zero = "0." + "0" * scale if scale else "0"  # a well-formed cell of that scale
            for i in odd:
                cells[i] = zero
            joined = "\n".join(cells)
            uniform = scale < len(_SAME_SCALE) and _SAME_SCALE[scale].fullmatch(joined) is not None
    units = list(map(int, joined.replace(".", "").split("\n")))
    values: list[tuple[int, int] | None]
    if uniform:
        values = list(zip(units, itertools.repeat(scale)))
        scales: Sequence[int] = (scale,)
    else:
        dots = itertools.repeat(".", len(cells))
        scales = bytes(map(len, map(_FRACTION, map(str.partition, cells, dots))))
        values = list(zip(units, scales, strict=True))
    slow = []
    for i in odd:
        values[i] = None
    limit = 2 if parse is _p_money else MAX_PLACES
    if max(scales) > limit or parse is _p_positive:
        positive = parse is _p_positive
        slow = [
            i
            for i, v in enumerate(values)
            if v is not None and (v[1] > limit or (positive and v[0] == 0))
        ]
        for i in slow:
            values[i] = None
    return values, sorted(slow + [i for i in odd if original[i]])


_NONE_IF_EMPTY: Final[dict[str, None]] = {"": None}
_DIGITS_COLUMN: Final = re.compile(r"(?:[0-9]+\n)*[0-9]+")
#: Date text -> ordinal, for every valid date read (bounded by _MEMO_LIMIT).
_DATES: dict[str, int] = {}


def _absent_as_none(values: list[Any]) -> list[Any]:
    """Return *values* with empty cells as ``None`` (the list itself when none is empty)."""
    return list(map(_NONE_IF_EMPTY.get, values, values)) if "" in values else values


#: The whitespace characters of ASCII other than the line ends (what str.strip removes).
_ASCII_SPACES: Final = " \t\x0b\x0c\x1c\x1d\x1e\x1f"


def _spaced(text: str, ascii: bool) -> bool:
    """Return whether *text* may have whitespace (exactly, for ASCII text; else by regex)."""
    if ascii:
        return any(ch in text for ch in _ASCII_SPACES)
    return _EDGE_SPACE.search(text) is not None


def _one_record_each(lines: list[str]) -> bool:
    """Return whether no quoted cell of *lines* spans a line end (every quote count even)."""
    quoted = itertools.compress(lines, map(str.__contains__, lines, itertools.repeat('"')))
    return all(line.count('"') % 2 == 0 for line in quoted)


def _fast_values(
    cells: list[str], parse: Callable[[str], Any], memo: dict[str, int] | None = None
) -> tuple[list[Any], list[int]]:
    """Parse the cells of a non-decimal column; return values and the rows to parse slowly.

    Each kind of column has a path that checks and converts the whole column at once
    (joined text against a pattern, a set of the cells, a memo of the dates read); the cells
    it cannot take are returned as slow rows, for :meth:`TableReader._cell` to word.
    """
    if parse is _p_text:
        return _absent_as_none(cells), []
    if parse is _p_ref:
        joined = "\n".join(cells)
        upper = joined.upper()
        return _absent_as_none(cells if upper == joined else upper.split("\n")), []
    if parse is _p_date:
        return _dates(cells)
    if (parse is _p_positive_int or parse is _p_count) and memo is not None:
        # Whole numbers repeat (line numbers): a memo of the texts read, checked ones.
        known = list(map(memo.get, cells))
        if None not in known:
            return known, []
    if parse is _p_positive_int or parse is _p_count:
        # The length is checked first, at C speed: a longer cell is worded cell by cell.
        if (
            max(map(len, cells), default=0) <= MAX_DIGITS
            and _DIGITS_COLUMN.fullmatch("\n".join(cells)) is not None
        ):
            values: list[Any] = list(map(int, cells))
            zeros: list[int] = []
            if parse is _p_positive_int and 0 in values:
                zeros = [i for i, v in enumerate(values) if v == 0]
                for i in zeros:
                    values[i] = None
            if memo is not None and len(memo) < _MEMO_LIMIT:
                memo.update(zip(cells, values, strict=True))
                for i in zeros:
                    memo.pop(cells[i], None)
            return values, zeros
    elif isinstance(parse, _Choice) and parse.allowed.issuperset(cells):
        return _absent_as_none(cells), []
    values = []
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


def _dates(cells: list[str]) -> tuple[list[int | None], list[int]]:
    """Parse a date column through the memo of the dates read so far."""
    values: list[int | None] = list(map(_DATES.get, cells))
    slow: list[int] = []
    if None in values:
        room = len(_DATES) < _MEMO_LIMIT
        for i in itertools.compress(
            range(len(cells)), map(operator.is_, values, itertools.repeat(None))
        ):
            c = cells[i]
            if not c:
                continue
            try:
                values[i] = day = _p_date(c)
            except ValueError:
                slow.append(i)
                continue
            if room:
                _DATES[c] = day
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


#: Control characters and the byte-order mark, which no header name may contain.
_CONTROL: Final = re.compile("[\x00-\x1f\x7f\ufeff]")
#: How a UTF-16 file starts (its byte-order mark, either order).
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

#: Bytes read at most to check a header alone (:meth:`TableReader.header_usable`).
_HEADER_BYTES: Final = 1 << 20
#: How a file that is not a regular file is described.
_FILE_KINDS: Final = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}

#: Rows per chunk when a whole file is read (what is held as raw cells at once).
_CHUNK_ROWS: Final = 100_000

#: How many first cells of a column are looked at to judge whether its values repeat.
_SAMPLE: Final = 2_000
#: Bytes read at once from a file (split into lines at C speed when it has no quote).
_BLOCK_BYTES: Final = 1 << 22
#: The longest physical line (record) read; a longer one is reported and skipped, never held
#: whole. Far above any valid record (the csv module's 131,072 characters per cell).
MAX_RECORD_BYTES: Final = 1 << 23
#: How much of an over-long record is kept, for the key cells of its INVALID row.
_KEPT_BYTES: Final = 1 << 16
#: Lines parsed together: few enough that their columns stay in the processor's cache.
_SUB_LINES: Final = 1024
#: Whitespace at the start or end of a cell (cells joined by commas): cells must be stripped.
_EDGE_SPACE: Final = re.compile(r"(?:^|,)\s|\s(?:,|$)")
#: At most this many distinct values are remembered per column (and dates in all).
_MEMO_LIMIT: Final = 1 << 16
#: A decimal column is judged (memo or joined path) after this many cells.
_JUDGE_AFTER: Final = 50_000
_UNDECIDED: Final[Any] = object()
_FRACTION: Final = operator.itemgetter(2)


def _skip_line(raw: IO[bytes], digest: Any) -> tuple[bytes, bool]:
    """Read *raw* (hashing it) past the next ``\\n``; return what follows and whether it ended.

    Only a block at a time is held, however long the line.
    """
    while True:
        data = raw.read(_BLOCK_BYTES)
        if not data:
            return b"", True
        digest.update(data)
        cut = data.find(b"\n") + 1
        if cut:
            return data[cut:], False


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


class _Chained(io.RawIOBase):
    """A raw binary reader of *prefix*, then of *raw*, hashing what it reads from *raw*."""

    def __init__(self, prefix: bytes, raw: IO[bytes], digest: Any) -> None:
        self.prefix = memoryview(prefix)
        self.raw = raw
        self.digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.prefix:
            n = min(len(buffer), len(self.prefix))
            buffer[:n] = self.prefix[:n]
            self.prefix = self.prefix[n:]
            return n
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.digest.update(data)
        return n
