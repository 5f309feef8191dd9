"""The output tables as Arrow tables, pandas and polars frames, JSON lines and Parquet files.

Every output table (``results``, ``unbilled``, ``invoices``, ``by_invoice``, ``oversight``,
``contracts``, ``capacity``, ``problems``) is made from its CSV text — the very lines
``Report.write`` puts in ``NAME.csv`` — so an Arrow table, a frame, a JSON lines file and a
Parquet file hold exactly what the CSV file holds, cell for cell:

- text from the inputs (identifiers, ``detail``, the cells of ``problems``) is the text as
  read: the apostrophe that neutralises a spreadsheet formula in the CSV file is removed
  (:func:`ice_recon._csv.restore`), as in the ``Report``'s attributes;
- an empty cell is a null;
- money is ``decimal128(18, 2)`` (``decimal128(38, 2)``, then ``decimal256(76, 2)``, for
  a column holding a value too wide for it), ``utilization`` has 4 places, ``people``,
  ``seats`` and ``passengers`` the places of their longest value; never a float;
- counts and ``problems.line`` are ``int64``, ``service_date`` is ``date32``; everything
  else (codes, ``line_no`` as written, ``findings``, ``explanation``) is a string.

The CSV text is parsed column-wise by pyarrow's CSV reader (never line by line through
Python objects). Arrow, pandas, polars and Parquet need the ``fast`` extra
(``pip install 'ice-recon[fast]'``: pyarrow and numpy); pandas or polars are the user's
own. JSON lines need nothing but the standard library: one object per line, every cell a
string (money with 2 places) or null, counts numbers.

This module never imports pyarrow, pandas or polars until a function needs them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from ice_recon.errors import ArgumentError
from ice_recon.output import OUTPUT_TABLES
from ice_recon.oversight import CapacityRow, ContractRow, OversightRow
from ice_recon.records import Status

if TYPE_CHECKING:
    from ice_recon.output import OutputSet
    from ice_recon.report import Totals

__all__ = [
    "FORMATS",
    "TABLES",
    "check_format",
    "column_kinds",
    "read_output",
    "read_results",
    "to_arrow",
    "to_pandas",
    "to_polars",
]

#: The output tables, each written as ``NAME.csv`` (or ``.jsonl``, ``.parquet``).
TABLES: Final = OUTPUT_TABLES
#: The formats the tables can be written in (``summary.json`` is always JSON).
FORMATS: Final = ("csv", "jsonl", "parquet")

# The kinds of columns: how a cell's text becomes a value.
TEXT: Final = "text"  # input text, neutralised in the CSV file: a string
CODE: Final = "code"  # the library's words: a string
MONEY: Final = "money"  # 2 places: decimal
RATIO: Final = "ratio"  # 4 places (utilization): decimal
EXACT: Final = "exact"  # as many places as the column's longest value: decimal
INT: Final = "int"  # int64
DATE: Final = "date"  # date32
_PLACES: Final = {MONEY: 2, RATIO: 4, EXACT: 0}
_EXTRA: Final = "pip install 'ice-recon[fast]'"


def _record_kinds(cls: type) -> dict[str, str]:
    """Return the kinds of the columns written from an oversight, contract or capacity row."""
    kinds = {}
    for a in attrs.fields(cls):
        t = str(a.type)
        if t == "str":
            kinds[a.name] = TEXT
        elif t == "int":
            kinds[a.name] = INT
        elif t == "dt.date":
            kinds[a.name] = DATE
        elif t.startswith("tuple"):
            kinds[a.name] = CODE
        elif t.startswith("Decimal"):
            kinds[a.name] = (
                EXACT
                if a.name in ("people", "seats", "passengers")
                else RATIO
                if a.name == "utilization"
                else MONEY
            )
        else:  # pragma: no cover - a new field type must be given a kind here
            raise TypeError(f"no column kind for {cls.__name__}.{a.name}: {t}")
    return kinds


_LEDGERS: Final = (
    "billed",
    "expected",
    "variance",
    "erroneous",
    "unsupported",
    "questioned",
    "underbilled",
)


def _kinds() -> dict[str, dict[str, str]]:
    money6 = ("billed", "expected", "variance", "erroneous", "unsupported", "underbilled")
    results = {
        "contract_id": TEXT,
        "invoice_id": TEXT,
        "line_no": TEXT,
        "status": CODE,
        "findings": CODE,
        **dict.fromkeys(money6, MONEY),
        "trip_id": TEXT,
        "match": CODE,
        "rule_id": TEXT,
        "rate_authority": TEXT,
        "explanation": CODE,
    }
    return {
        "results": results,
        "unbilled": {"contract_id": TEXT, "trip_id": TEXT, "service_date": DATE, "status": CODE},
        "invoices": {
            "contract_id": TEXT,
            "invoice_id": TEXT,
            "finding": CODE,
            "header_total": MONEY,
            "lines_total": MONEY,
            "difference": MONEY,
            "amount": MONEY,
            "detail": TEXT,
        },
        "by_invoice": {
            "contract_id": TEXT,
            "invoice_id": TEXT,
            "lines": INT,
            **{s.value: INT for s in Status},
            **dict.fromkeys(_LEDGERS, MONEY),
        },
        "oversight": _record_kinds(OversightRow),
        "contracts": _record_kinds(ContractRow),
        "capacity": _record_kinds(CapacityRow),
        "problems": {"file": TEXT, "line": INT, "column": TEXT, "value": TEXT, "message": TEXT},
    }


_KINDS: Final = _kinds()


def column_kinds(table: str) -> dict[str, str]:
    """Return the columns of the output *table*, in order, each with its kind.

    The kinds: ``text`` (input text; a string), ``code`` (the library's words; a string),
    ``money`` (2 places), ``ratio`` (4 places), ``exact`` (the places of the column's
    longest value), ``int`` and ``date``.

    >>> column_kinds("unbilled")
    {'contract_id': 'text', 'trip_id': 'text', 'service_date': 'date', 'status': 'code'}
    """
    kinds = _KINDS.get(table)
    if kinds is None:
        raise ArgumentError(f"no output table {table!r} (tables: {', '.join(TABLES)})")
    return dict(kinds)


def check_format(format: str) -> None:
    """Raise unless *format* is one of :data:`FORMATS` and what it needs is installed.

    Raises:
        ArgumentError: *format* is not ``csv``, ``jsonl`` or ``parquet``.
        ImportError: ``parquet`` without pyarrow (the ``fast`` extra).
    """
    if format not in FORMATS:
        raise ArgumentError(f"format must be one of {', '.join(FORMATS)} (got {format!r})")
    if format == "parquet":
        _pyarrow()


# ------------------------------------------------------------------------------ lazy imports


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.compute
        import pyarrow.csv
        import pyarrow.parquet
    except ImportError as exc:
        raise ImportError(f"Arrow and Parquet output need pyarrow: {_EXTRA}") from exc
    return pa


def _frame_library(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError as exc:
        raise ImportError(f"to_{name}() needs {name} (pip install {name})") from exc


# ------------------------------------------------------------------------------------ source

#: Where a table's CSV text comes from: a CSV file, or a function returning its lines
#: (header first, each ending in ``\n``); called again when a table must be read twice.
Source = Path | Callable[[], Iterable[str]]


class _LineFile(io.RawIOBase):
    """A binary file reading the UTF-8 of an iterable of lines (full reads but at the end)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._buffer = bytearray()
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = len(b)
        buffer = self._buffer
        while len(buffer) < n and not self._done:
            part: list[str] = []
            size = 0
            for line in self._lines:
                part.append(line)
                size += len(line)
                if size >= 1 << 18:
                    break
            else:
                self._done = True
            buffer += "".join(part).encode("utf-8")
        k = min(n, len(buffer))
        b[:k] = buffer[:k]
        del buffer[:k]
        return k


#: The block sizes the CSV text is read in: a row longer than a block (an input cell may
#: hold up to 8 MiB) makes the read start again with the next.
_BLOCKS: Final = (1 << 20, 1 << 23, 1 << 26, 1 << 29)


class _Again(Exception):
    """The reading of a table must start again (a longer block, or a wider decimal type)."""


def _open_text(table: str, source: Source, block: int) -> Any:
    """Return a pyarrow CSV stream of *source* with every column a string, checking the header."""
    pa = _pyarrow()
    names = list(column_kinds(table))
    stream = str(source) if isinstance(source, Path) else _LineFile(source())
    try:
        reader = pa.csv.open_csv(
            stream,
            read_options=pa.csv.ReadOptions(block_size=block),
            parse_options=pa.csv.ParseOptions(newlines_in_values=True),
            convert_options=pa.csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "straddl" in str(exc) and block < _BLOCKS[-1]:
            raise _Again from None
        raise ArgumentError(f"{_where(table, source)}: not a {table}.csv ({exc})") from None
    if reader.schema.names != names:
        raise ArgumentError(
            f"{_where(table, source)}: not a {table}.csv: its columns are "
            f"{', '.join(reader.schema.names)}; expected {', '.join(names)}"
        )
    return reader


def _where(table: str, source: Source) -> str:
    return str(source) if isinstance(source, Path) else f"{table}.csv"


def _text_batches(table: str, source: Source, block: int) -> Iterator[Any]:
    """Yield the record batches of *source*, every column a string, input text restored."""
    pa = _pyarrow()
    pc = pa.compute
    kinds = column_kinds(table)
    reader = _open_text(table, source, block)
    texts = [i for i, kind in enumerate(kinds.values()) if kind == TEXT]
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc) and block < _BLOCKS[-1]:
                raise _Again from None
            raise ArgumentError(f"{_where(table, source)}: {exc}") from None
        columns = list(batch.columns)
        for i in texts:
            col = columns[i]
            quoted = pc.starts_with(col, pattern="'")
            if pc.any(quoted).as_py():
                columns[i] = pc.if_else(quoted, pc.utf8_slice_codeunits(col, 1), col)
        yield pa.RecordBatch.from_arrays(columns, schema=batch.schema)


# ------------------------------------------------------------------------------------ types


def _decimal_type(pa: Any, whole: int, places: int) -> Any:
    """Return the narrowest of decimal128(18), decimal128(38), decimal256(76) with *places*."""
    digits = whole + places
    if digits <= 18:
        return pa.decimal128(18, places)
    if digits <= 38:
        return pa.decimal128(38, places)
    if digits <= 76:
        return pa.decimal256(76, places)
    raise ArgumentError(f"a decimal of {digits} digits is too wide for Arrow (at most 76)")


def _need(pa: Any, column: Any, kind: str) -> tuple[int, int]:
    """Return the (integer digits, places) a decimal text column needs."""
    pc = pa.compute
    dot = pc.find_substring(column, ".")
    length = pc.utf8_length(column)
    has = pc.greater_equal(dot, 0)
    whole = pc.subtract(
        pc.if_else(has, dot, length), pc.cast(pc.starts_with(column, pattern="-"), pa.int32())
    )
    places = pc.if_else(has, pc.subtract(pc.subtract(length, dot), 1), 0)
    most_whole = pc.max(whole).as_py() or 0
    most_places = pc.max(places).as_py() or 0
    return most_whole, _PLACES[kind] if kind != EXACT else most_places


def _types(pa: Any, table: str, columns: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the Arrow type of each column of *table*: decimals as wide as *columns* need."""
    out = {}
    for name, kind in column_kinds(table).items():
        if kind in (TEXT, CODE):
            out[name] = pa.string()
        elif kind == INT:
            out[name] = pa.int64()
        elif kind == DATE:
            out[name] = pa.date32()
        else:
            whole, places = (
                (0, _PLACES[kind]) if columns is None else _need(pa, columns[name], kind)
            )
            out[name] = _decimal_type(pa, whole, places)
    return out


def _cast(pa: Any, table: str, name: str, column: Any, to: Any) -> Any:
    try:
        return pa.compute.cast(column, to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ArgumentError(f"{table}.csv, column {name!r}: {exc}") from None


def _typed(pa: Any, table: str, batch: Any, types: dict[str, Any]) -> Any:
    arrays = [
        _cast(pa, table, name, batch.column(i), types[name])
        for i, name in enumerate(batch.schema.names)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(list(types.items())))


# ------------------------------------------------------------------------------- to Arrow


def _table(table: str, source: Source) -> Any:
    """Return the Arrow table of *source* with the types of the module docstring."""
    pa = _pyarrow()
    for block in _BLOCKS:
        try:
            batches = list(_text_batches(table, source, block))
            break
        except _Again:
            continue
    names = list(column_kinds(table))
    text = pa.Table.from_batches(batches, schema=pa.schema([(n, pa.string()) for n in names]))
    columns = {n: text.column(n) for n in names}
    types = _types(pa, table, columns)
    return pa.table(
        {n: _cast(pa, table, n, columns[n], types[n]) for n in names},
        schema=pa.schema(list(types.items())),
    )


def _lines_of(source: Totals, table: str) -> Callable[[], Iterable[str]]:
    column_kinds(table)  # an unknown table is refused here
    return lambda: source._table_lines(table)


def to_arrow(source: Totals, table: str = "results") -> Any:
    """Return the output *table* of a :class:`~ice_recon.Report` (or Totals) as an Arrow table.

    What :meth:`ice_recon.Report.to_arrow` returns; see the module docstring for the types.

    Raises:
        ArgumentError: *table* is not one of :data:`TABLES`, or is ``results`` for a Totals.
        ImportError: pyarrow is not installed.
    """
    _pyarrow()
    return _table(table, _lines_of(source, table))


def to_pandas(source: Totals, table: str = "results") -> Any:
    """Return the output *table* as a pandas DataFrame with Arrow-backed dtypes.

    Money is ``decimal128(18, 2)[pyarrow]`` (``pd.ArrowDtype``), never float64; text is
    ``string[pyarrow]``, counts ``int64[pyarrow]``; nulls are ``<NA>``.
    """
    pd = _frame_library("pandas")
    return to_arrow(source, table).to_pandas(types_mapper=pd.ArrowDtype)


def to_polars(source: Totals, table: str = "results") -> Any:
    """Return the output *table* as a polars DataFrame; money is ``pl.Decimal(18, 2)``.

    Raises:
        ArgumentError: a money column needs more than 38 digits (polars' widest decimal).
    """
    pl = _frame_library("polars")
    return _polars(pl, to_arrow(source, table))


def _polars(pl: Any, arrow: Any) -> Any:
    for field in arrow.schema:
        if str(field.type).startswith("decimal256"):
            raise ArgumentError(
                f"column {field.name!r} holds a value wider than 38 digits, more than a "
                "polars Decimal holds; use to_arrow()"
            )
    return pl.from_arrow(arrow)


# ------------------------------------------------------------------------------ read back


def read_output(path: str | os.PathLike[str], table: str | None = None) -> Any:
    """Read an output file back as an Arrow table with exact types (money as decimal).

    *path* is a CSV file written by ice_recon (``results.csv``, ``unbilled.csv`` …) or a
    Parquet file written by ``format="parquet"``; *table* is its table name, by default
    the file's name without its suffix. A CSV file is read by pyarrow's CSV reader with
    every column's type given (never guessed): the result equals :meth:`Report.to_arrow`
    of the run that wrote it, neutralising apostrophes removed and empty cells null.
    ``read_output(path).to_pandas(types_mapper=pd.ArrowDtype)`` makes a pandas DataFrame
    whose money columns are ``decimal128(18, 2)[pyarrow]``, never float64, and
    ``polars.from_arrow(read_output(path))`` a polars one with ``Decimal`` money.

    Raises:
        ArgumentError: the file's columns are not those of *table*, or a cell is not of its
            column's type.
        ImportError: pyarrow is not installed.
    """
    pa = _pyarrow()
    p = Path(path)
    name = table if table is not None else p.name.split(".", 1)[0]
    column_kinds(name)
    if p.suffix == ".parquet":
        return pa.parquet.read_table(p)
    return _table(name, p)


def read_results(path: str | os.PathLike[str]) -> Any:
    """Read a ``results.csv`` back as an Arrow table: :func:`read_output` of ``results``."""
    return read_output(path, "results")


# ---------------------------------------------------------------------------------- write


def write_table(out: OutputSet, table: str, source: Source, format: str) -> None:
    """Write the output *table* from its CSV text *source* as ``TABLE.FORMAT`` in *out*."""
    if format == "csv":
        if isinstance(source, Path):  # pragma: no cover - a CSV file is already written
            raise ArgumentError("the CSV file is the source")
        out.write_lines(f"{table}.csv", source())
    elif format == "jsonl":
        out.write_lines(f"{table}.jsonl", _json_lines(table, source))
    elif format == "parquet":
        _write_parquet(out.path(f"{table}.parquet"), table, source)
    else:
        check_format(format)


def convert(out: OutputSet, table: str, format: str) -> None:
    """Write *table* as ``TABLE.FORMAT`` from the ``TABLE.csv`` written in *out*; drop the CSV."""
    if format == "csv":
        return
    write_table(out, table, out.path(f"{table}.csv"), format)
    out.discard(f"{table}.csv")


def _json_lines(table: str, source: Source) -> Iterator[str]:
    """Yield the JSON lines of *source*: one object per row; cells as strings, counts numbers."""
    kinds = column_kinds(table)
    names = list(kinds)
    texts = [i for i, k in enumerate(kinds.values()) if k == TEXT]
    ints = [i for i, k in enumerate(kinds.values()) if k == INT]
    # A cell may quote an input cell of up to 8 MiB: more than csv's default field limit.
    limit = csv.field_size_limit(2**31 - 1)
    try:
        yield from _json_rows(table, source, names, texts, ints)
    finally:
        csv.field_size_limit(limit)


def _json_rows(
    table: str, source: Source, names: list[str], texts: list[int], ints: list[int]
) -> Iterator[str]:
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with _csv_lines(source) as lines:
        rows = csv.reader(lines)
        header = next(rows, None)
        if header != names:
            raise ArgumentError(
                f"{_where(table, source)}: not a {table}.csv: its columns are "
                f"{', '.join(header or [])}; expected {', '.join(names)}"
            )
        for row in rows:
            cells: list[Any] = [c or None for c in row]
            for i in texts:
                c = cells[i]
                if c is not None and c[0] == "'":
                    cells[i] = c[1:]
            for i in ints:
                if cells[i] is not None:
                    cells[i] = int(cells[i])
            yield dumps(dict(zip(names, cells, strict=True))) + "\n"


@contextlib.contextmanager
def _csv_lines(source: Source) -> Iterator[Iterable[str]]:
    """Yield the lines of *source*: a CSV file opened for :mod:`csv`, or the lines given."""
    if isinstance(source, Path):
        with source.open(encoding="utf-8", newline="") as f:
            yield f
    else:
        yield source()


#: Rows per Parquet row group (batches are gathered up to this many).
_ROW_GROUP: Final = 1 << 17


def _write_parquet(path: Path, table: str, source: Source) -> None:
    """Write *source* to the Parquet file *path*, batch by batch.

    A decimal column's type is decided by the widest value of the whole column, as
    :func:`_table` decides it: a batch that needs a wider type than the batches before it
    starts the file again with that type (values that wide are rare).
    """
    pa = _pyarrow()
    kinds = column_kinds(table)
    needs = {n: (0, _PLACES[k]) for n, k in kinds.items() if k in _PLACES}
    blocks = iter(_BLOCKS)
    block = next(blocks)
    while True:
        try:
            _parquet_pass(pa, path, table, source, needs, block)
            return
        except _Again as again:
            if again.args == ("block",):
                block = next(blocks)


def _parquet_pass(
    pa: Any,
    path: Path,
    table: str,
    source: Source,
    needs: dict[str, tuple[int, int]],
    block: int,
) -> None:
    kinds = column_kinds(table)
    types = _types(pa, table)
    for name, (whole, places) in needs.items():
        types[name] = _decimal_type(pa, whole, places)
    schema = pa.schema(list(types.items()))
    writer = pa.parquet.ParquetWriter(path, schema)
    pending: list[Any] = []
    rows = written = 0
    try:
        batches = _text_batches(table, source, block)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except _Again:
                raise _Again("block") from None
            for name, (whole, places) in needs.items():
                more, more_places = _need(pa, batch.column(name), kinds[name])
                if more > whole or more_places > places:
                    needs[name] = (max(whole, more), max(places, more_places))
                    if _decimal_type(pa, *needs[name]) != types[name]:
                        raise _Again(name)
            pending.append(_typed(pa, table, batch, types))
            rows += batch.num_rows
            if rows >= _ROW_GROUP:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=rows)
                written += rows
                pending, rows = [], 0
        if pending or not written:
            writer.write_table(pa.Table.from_batches(pending, schema=schema))
    finally:
        writer.close()
