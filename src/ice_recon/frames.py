"""Read input tables from Arrow tables, pandas or polars DataFrames and Parquet files.

The tables of DESIGN section 4 may come as frames instead of CSV text: a ``pyarrow.Table``
(or ``RecordBatch``), a pandas or polars ``DataFrame``, any object that exports an Arrow
stream (``__arrow_c_stream__``), or a ``.parquet`` file. They are validated exactly as CSV
files are: each column is turned, *as a column*, into the cell text the CSV reader would
have produced, and then goes through the same parsers and checks
(:mod:`ice_recon._read`). How each Arrow type becomes text:

- strings as they are (stripped, like a CSV cell); integers as their decimal text;
  booleans as ``true`` / ``false``;
- ``decimal128`` / ``decimal256`` as their exact text, keeping their scale (``2.4575``; a
  money column of scale 4 is reported like the CSV cell ``1.1000``);
- ``date32`` / ``date64`` as ISO dates; a timestamp at midnight as its date (a time zone's
  own wall clock), any other timestamp is a problem;
- a float column in a decimal column (money, quantities, rates, measures) is a problem at
  every row with a value, never converted; elsewhere a float holding a whole number is
  that number (pandas turns whole numbers with gaps into floats), any other is a problem;
- null, NaN, ``None`` and ``pd.NA`` are absent (an empty cell).

A row of a frame is numbered as if a header line preceded the data: row index *i* is
line *i* + 2. A problem names the Parquet file (``rates.parquet``) or, for a frame in
memory, the table and its kind (``rates (pandas DataFrame)``). Frames in memory have no
digest; a Parquet file's digest is the sha256 of its bytes.

Nothing here imports pyarrow, pandas or polars until a frame is read: the core runs
without them (``pip install 'ice-recon[fast]'`` installs pyarrow).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ice_recon._specs import (
    _p_count,
    _p_decimal,
    _p_money,
    _p_places,
    _p_positive,
    _p_positive_int,
    _p_rate,
)
from ice_recon.errors import ArgumentTypeError

if TYPE_CHECKING:
    from ice_recon._read import Layout, Parsed, TableReader
    from ice_recon.load import Inputs

__all__ = ["PARQUET_SUFFIX", "frame_kind", "load_frames"]

#: The extension of a Parquet input file (``rates.parquet`` in place of ``rates.csv``).
PARQUET_SUFFIX: Final = ".parquet"

#: What to install for frames and Parquet.
_EXTRA: Final = "pip install 'ice-recon[fast]'"

_DECIMALS: Final = frozenset({_p_decimal, _p_money, _p_positive, _p_rate})
_WHOLE: Final = frozenset({_p_count, _p_positive_int, _p_places})

# What a column is, for the types it may come as.
_MONEY: Final = "money"
_DECIMAL: Final = "decimal"
_OTHER: Final = "other"

#: A cell that is not read: row -> (what is wrong, the value as text).
Rejected = dict[int, tuple[str, str]]


def parquet_name(csv_name: str) -> str:
    """Return the Parquet file name that stands for the CSV file *csv_name*."""
    return csv_name.removesuffix(".csv") + PARQUET_SUFFIX


def is_parquet(source: object) -> bool:
    """Return whether *source* is a path to a Parquet file (by its extension)."""
    return isinstance(source, str | os.PathLike) and os.fspath(source).lower().endswith(
        PARQUET_SUFFIX
    )


def frame_kind(source: object) -> str | None:
    """Return what kind of frame *source* is, or ``None`` if it is none (nothing imported).

    >>> frame_kind("rates.parquet"), frame_kind("rates.csv"), frame_kind([{"a": "1"}])
    ('Parquet file', None, None)
    """
    if isinstance(source, str | os.PathLike):
        return "Parquet file" if is_parquet(source) else None
    for cls in type(source).__mro__:
        package = cls.__module__.partition(".")[0]
        if package == "pyarrow" and cls.__name__ in ("Table", "RecordBatch"):
            return "Arrow table"
        if package == "pandas" and cls.__name__ == "DataFrame":
            return "pandas DataFrame"
        if package == "polars" and cls.__name__ in ("DataFrame", "LazyFrame"):
            return "polars DataFrame"
    if hasattr(type(source), "__arrow_c_stream__"):
        return "Arrow stream"
    return None


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as exc:
        raise ImportError(
            f"reading Arrow tables, DataFrames or Parquet files needs pyarrow: {_EXTRA}"
        ) from exc
    return pyarrow


# ----------------------------------------------------------------------------------- public


def load_frames(
    *,
    rates: Any = None,
    manifests: Any = None,
    invoice_lines: Any = None,
    staff: Any = None,
    fuel_index: Any = None,
    fuel_rules: Any = None,
    invoices: Any = None,
    contracts: Any = None,
    cors: Any = None,
    interest_rates: Any = None,
    strict: bool = False,
) -> Inputs:
    """Load and validate the input tables from frames or Parquet files.

    Each table is a ``pyarrow.Table`` or ``RecordBatch``, a pandas or polars ``DataFrame``
    (a polars ``LazyFrame`` is collected), an object exporting an Arrow stream, or a path
    to a ``.parquet`` file; the columns and checks are those of the CSV files
    (docs/reference/formats.md). Problems name a frame as ``rates (pandas DataFrame)`` and
    its row index *i* as line *i* + 2. Otherwise as :func:`ice_recon.load_files` (which
    accepts the same sources, mixed with CSV paths and rows).

    Raises:
        ArgumentTypeError: a table is not a frame or a Parquet path.
        ImportError: pyarrow is not installed (``pip install 'ice-recon[fast]'``).
        InputError, InputErrors: as :func:`ice_recon.load_files`.
    """
    from ice_recon.load import load_files

    tables = {
        "rates": rates,
        "manifests": manifests,
        "invoice_lines": invoice_lines,
        "staff": staff,
        "fuel_index": fuel_index,
        "fuel_rules": fuel_rules,
        "invoices": invoices,
        "contracts": contracts,
        "cors": cors,
        "interest_rates": interest_rates,
    }
    for name, source in tables.items():
        if source is not None and frame_kind(source) is None:
            raise ArgumentTypeError(
                f"{name}: load_frames takes Arrow tables, pandas or polars DataFrames or "
                f".parquet paths (got {type(source).__name__}); use load_files for CSV files "
                "and rows"
            )
    _pyarrow()
    return load_files(**tables, strict=strict)


# ---------------------------------------------------------------------------------- reading


def header_usable(reader: TableReader, path: str | os.PathLike[str]) -> bool:
    """Check only the column names of the Parquet file *path* (its schema)."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    file = Path(path)
    reader.file = file.name
    raw = reader._open(file)
    if raw is None:
        return False
    with raw:
        try:
            names = list(pq.ParquetFile(raw).schema_arrow.names)
        except (pa.ArrowException, OSError) as exc:
            reader.problem(1, f"cannot be read as a Parquet file ({exc})")
            return False
    return reader._begin([names] if names else []) is not None


def parse(reader: TableReader, source: Any) -> Parsed | None:
    """Read a frame or Parquet file *source* as *reader* reads a CSV file.

    Returns ``None`` (reported) without a usable header, like the CSV reader.
    """
    kind = frame_kind(source)
    assert kind is not None
    _pyarrow()
    stem = reader.spec.file.removesuffix(".csv")
    columns: _ArrowColumns | _PandasColumns
    if kind == "Parquet file":
        table = _read_parquet(reader, Path(source))
        if table is None:
            return None
        columns = _ArrowColumns(table)
    elif kind == "pandas DataFrame":
        reader.file = f"{stem} ({kind})"
        columns = _PandasColumns(source)
    else:
        reader.file = f"{stem} ({kind})"
        columns = _ArrowColumns(_arrow_table(source, kind))
    return _parse_columns(reader, columns)


def _read_parquet(reader: TableReader, path: Path) -> Any:
    pa = _pyarrow()
    import pyarrow.parquet as pq

    reader.file = path.name
    raw = reader._open(path)
    if raw is None:
        return None
    with raw:
        data = raw.read()
    reader.digest = hashlib.sha256(data).hexdigest()
    try:
        return pq.ParquetFile(pa.BufferReader(data)).read()
    except (pa.ArrowException, OSError) as exc:
        reader.problem(1, f"cannot be read as a Parquet file ({exc})")
        return None


def _arrow_table(source: Any, kind: str) -> Any:
    pa = _pyarrow()
    if kind == "polars DataFrame":
        if type(source).__name__ == "LazyFrame":
            source = source.collect()
        return source.to_arrow()
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    if isinstance(source, pa.Table):
        return source
    return pa.table(source)  # an Arrow stream (__arrow_c_stream__)


class _ArrowColumns:
    """The columns of an Arrow table."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.names = [str(n) for n in table.column_names]
        self.rows: int = table.num_rows

    def cells(self, j: int, role: str, start: int, stop: int) -> tuple[list[str], Rejected]:
        return _arrow_cells(self.table.column(j).slice(start, stop - start), role)


class _PandasColumns:
    """The columns of a pandas DataFrame, each through Arrow when it can be.

    A column of Python objects that Arrow cannot type (mixed kinds) or types as decimals
    (Arrow would give every Decimal the column's largest scale) is read cell by cell. The
    index is not read: ``reset_index()`` first if it holds a column.
    """

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        self.names = [str(n) for n in frame.columns]
        self.rows: int = len(frame)

    def cells(self, j: int, role: str, start: int, stop: int) -> tuple[list[str], Rejected]:
        pa = _pyarrow()
        series = self.frame.iloc[start:stop, j]
        try:
            array = pa.Array.from_pandas(series)
        except (pa.ArrowException, TypeError, ValueError):
            return _python_cells(series.tolist(), role)  # mixed objects
        if series.dtype == object and pa.types.is_decimal(array.type):
            # Arrow gives every Decimal the column's largest scale: read each as written.
            return _python_cells(series.tolist(), role)
        if not isinstance(array, pa.ChunkedArray):
            array = pa.chunked_array([array])
        return _arrow_cells(array, role)


def _role(parse: Any) -> str:
    if parse is _p_money:
        return _MONEY
    return _DECIMAL if parse in _DECIMALS else _OTHER


def _parse_columns(reader: TableReader, columns: _ArrowColumns | _PandasColumns) -> Parsed | None:
    """Check the column names, then parse the rows in slices of :data:`_SLICE_ROWS`.

    Only one slice's cell text is held at a time, as the CSV reader holds one chunk's.
    """
    from ice_recon._read import Parsed

    names = columns.names
    layout = reader._begin([names] if names else [])
    if layout is None:
        return None
    roles = dict.fromkeys(range(len(names)), _OTHER)
    for col, pos in zip(reader.spec.columns, layout.positions, strict=True):
        if pos is not None:
            roles[pos] = _role(col.parse)
    for _, pos in layout.extras:
        roles[pos] = _DECIMAL
    n = columns.rows
    parts = [
        _parse_slice(reader, columns, layout, roles, start, min(n, start + _SLICE_ROWS))
        for start in range(0, n, _SLICE_ROWS)
    ] or [_parse_slice(reader, columns, layout, roles, 0, 0)]
    reader._end()
    return Parsed.joined(parts)


#: Rows of a frame made into cell text at once.
_SLICE_ROWS: Final = 1 << 16


def _parse_slice(
    reader: TableReader,
    columns: _ArrowColumns | _PandasColumns,
    layout: Layout,
    roles: dict[int, str],
    start: int,
    stop: int,
) -> Parsed:
    """Parse the rows *start* to *stop* of *columns* (row index i is line i + 2)."""
    from ice_recon._read import Parsed

    n = stop - start
    converted = [columns.cells(j, role, start, stop) for j, role in roles.items()]
    # A row whose cells are all empty is reported and left out, as in a CSV file.
    keep: Sequence[int] = range(n)
    empty = _empty_rows(converted, n)
    if empty:
        for i in empty:
            reader.problem(start + i + 2, "row is empty (ignored)")
        gone = set(empty)
        keep = [i for i in range(n) if i not in gone]
        converted = [_taken(cells, rejected, keep) for cells, rejected in converted]
    parsed = Parsed(reader.file, reader.spec.names, reader.extra_names)
    parsed.lines = [start + i + 2 for i in keep]
    parsed.ok = bytearray(b"\x01") * len(keep)
    reader.rows_read += len(keep)
    rejected: Rejected
    for col, pos in zip(reader.spec.columns, layout.positions, strict=True):
        if pos is None:
            cells, rejected = [""] * len(keep), {}
        else:
            cells, rejected = converted[pos]
        reader._column(parsed, col.name, col.parse, col.required, cells, rejected=rejected)
    for name, pos in layout.extras:
        cells, rejected = converted[pos]
        reader._column(parsed, name, _p_decimal, False, cells, rejected=rejected)
    return parsed


def _empty_rows(converted: list[tuple[list[str], Rejected]], n: int) -> list[int]:
    """Return the rows whose cells are all empty (and none of them is rejected)."""
    if not converted:
        return []
    filled = bytearray(n)
    for cells, rejected in converted:
        if all(cells):
            return []  # a column without an empty cell: no row is empty
        for i, cell in enumerate(cells):
            if cell:
                filled[i] = 1
        for i in rejected:
            filled[i] = 1
    return [i for i in range(n) if not filled[i]]


def _taken(cells: list[str], rejected: Rejected, keep: Sequence[int]) -> tuple[list[str], Rejected]:
    at = {i: k for k, i in enumerate(keep)}
    return [cells[i] for i in keep], {at[i]: v for i, v in rejected.items() if i in at}


# ------------------------------------------------------------------------- cells of a column


# float-ok: a float cell is looked at only to be refused (or, outside money, read whole).
def _float_problem(type_name: str, value: float, role: str) -> str | None:  # float-ok
    """Return the problem of a float in a column of *role* (None: a whole number, read)."""
    if role == _MONEY:
        return f"money must be a decimal or text, never a {type_name}"
    if role == _DECIMAL:
        return f"quantities and rates must be decimals or text, never a {type_name}"
    if math.isfinite(value) and value == int(value):
        return None
    return f"a {type_name} is read here only when it is a whole number"


def _floats(values: list[Any], type_name: str, role: str) -> tuple[list[str], Rejected]:
    cells: list[str] = []
    rejected: Rejected = {}
    for i, v in enumerate(values):
        if v is None or v != v:  # null or NaN: absent
            cells.append("")
            continue
        problem = _float_problem(type_name, v, role)
        if problem is None:
            cells.append(str(int(v)))
        else:
            cells.append("")
            rejected[i] = (problem, repr(v))
    return cells, rejected


def _arrow_cells(column: Any, role: str) -> tuple[list[str], Rejected]:
    """Return the CSV cell text of an Arrow column, and its cells that cannot be read."""
    pa = _pyarrow()
    import pyarrow.compute as pc

    types = pa.types
    t = column.type
    if types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = column.type
    n = len(column)
    if types.is_null(t):
        return [""] * n, {}
    if types.is_string(t) or types.is_large_string(t) or _is_view(types, "string", t):
        text = pc.fill_null(column.cast(pa.large_string()), "").to_pylist()
        return list(map(str.strip, text)), {}
    if types.is_decimal(t) and t.scale < 0:
        column = column.cast(pa.decimal256(min(76, t.precision - t.scale), 0))
        t = column.type
    if types.is_integer(t) or types.is_boolean(t) or types.is_decimal(t):
        return pc.fill_null(column.cast(pa.string()), "").to_pylist(), {}
    if types.is_date(t):
        return pc.fill_null(column.cast(pa.date32()).cast(pa.string()), "").to_pylist(), {}
    if types.is_timestamp(t):
        return _timestamps(column)
    if types.is_floating(t):
        return _floats(column.to_pylist(), f"float{t.bit_width}", role)
    if (
        types.is_binary(t)
        or types.is_large_binary(t)
        or types.is_fixed_size_binary(t)
        or _is_view(types, "binary", t)
    ):
        raw = column.to_pylist()
        return [
            "" if b is None else b.decode("utf-8", errors="surrogateescape").strip() for b in raw
        ], {}
    rejected: Rejected = {}
    message = f"must be text, a number or a date, not Arrow type {t}"
    for i, valid in enumerate(pc.is_valid(column).to_pylist()):
        if valid:
            rejected[i] = (message, str(column[i]))
    return [""] * n, rejected


def _is_view(types: Any, kind: str, t: Any) -> bool:
    """Return whether *t* is a string or binary view (types pyarrow 16 added)."""
    test = getattr(types, f"is_{kind}_view", None)
    return test is not None and bool(test(t))


def _timestamps(column: Any) -> tuple[list[str], Rejected]:
    """Return the dates of timestamps at midnight (wall clock); others are rejected."""
    pa = _pyarrow()
    import pyarrow.compute as pc

    if column.type.tz is not None:
        column = pc.local_timestamp(column)
    day = pc.floor_temporal(column, unit="day")
    midnight = pc.fill_null(pc.equal(day, column), True).to_pylist()
    cells = pc.fill_null(day.cast(pa.date32()).cast(pa.string()), "").to_pylist()
    rejected: Rejected = {}
    if not all(midnight):
        for i, at_midnight in enumerate(midnight):
            if not at_midnight:
                cells[i] = ""
                rejected[i] = (
                    "must be a date, not a timestamp with a time of day",
                    str(column[i]),
                )
    return cells, rejected


def _python_cells(values: list[Any], role: str) -> tuple[list[str], Rejected]:
    """Return the CSV cell text of a column of Python objects (a pandas object column)."""
    cells: list[str] = []
    rejected: Rejected = {}
    for i, v in enumerate(values):
        cell, problem = _python_cell(v, role)
        cells.append(cell)
        if problem is not None:
            rejected[i] = problem
    return cells, rejected


def _python_cell(v: Any, role: str) -> tuple[str, tuple[str, str] | None]:
    if isinstance(v, str):
        return v.strip(), None
    if v is None or type(v).__name__ in ("NAType", "NaTType"):
        return "", None
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return ("true" if v else "false"), None
    if isinstance(v, numbers.Integral):
        return str(int(v)), None
    if isinstance(v, decimal.Decimal):
        if v.is_nan():
            return "", None
        return (format(v, "f") if v.is_finite() else str(v)), None
    if isinstance(v, numbers.Real):  # float, numpy floats
        f = float(v)  # float-ok: only to report it (or read a whole number outside money)
        if f != f:
            return "", None
        kind = "float64" if isinstance(v, float) else type(v).__name__
        problem = _float_problem(kind, f, role)
        if problem is None:
            return str(int(f)), None
        return "", (problem, repr(f))
    if isinstance(v, dt.datetime):
        if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):  # its wall clock
            return v.date().isoformat(), None
        return "", ("must be a date, not a timestamp with a time of day", str(v))
    if isinstance(v, dt.date):
        return v.isoformat(), None
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="surrogateescape").strip(), None
    return "", (f"must be text, a number or a date, not {type(v).__name__}", repr(v))
