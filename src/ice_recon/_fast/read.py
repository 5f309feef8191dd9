"""Read a large CSV table with pyarrow's multithreaded reader into the core's ``Parsed``.

The pure-Python reader (:class:`ice_recon._read.TableReader`) is the definition; this path
takes only files it can read *exactly* as that reader does, and returns ``None`` for any
other, so that the caller reads the file the pure-Python way (nothing reported, nothing
kept). A file is taken when:

- it is ASCII, has no quote and no carriage return (so every physical line is one record,
  split at every comma, and no cell needs decoding),
- no cell starts or ends with whitespace (the Python reader strips cells),
- every row has the header's number of cells, no record is over-long,
- and every cell of every column is well formed: the values are found by the Python
  reader's own column parsers (:mod:`ice_recon._columns`), run once per *distinct* cell of
  a column, and any cell they would send to the per-cell parser (a problem to word, an
  empty required cell) sends the whole file back.

The header is checked by the Python reader itself. The values of a column are the parsed
values of its distinct cells, gathered by the column's dictionary codes, so equal cells
share one object (as the Python reader's memos make them share).
"""

from __future__ import annotations

import csv
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ice_recon._columns import _fast_decimals, _fast_values
from ice_recon._read import _DECIMAL_PARSERS, MAX_RECORD_BYTES, Parsed, TableReader
from ice_recon._specs import _p_decimal
from ice_recon.errors import Problem

__all__ = ["parse_file"]

#: Whitespace the Python reader strips from a cell's edges, other than the space (ASCII).
_OTHER_SPACES: Final = (b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")
#: A space at the edge of a cell (cells are separated by commas, records by line ends).
_EDGE_SPACES: Final = (b" ,", b", ", b" \n", b"\n ")
_BOM: Final = b"\xef\xbb\xbf"
#: Lines with a quote read with the csv module at most (a file with more: the Python reader).
_MAX_QUOTED: Final = 100_000


def parse_file(reader: TableReader, path: str | os.PathLike[str]) -> Parsed | None:
    """Parse the CSV file *path* as ``reader.parse(path)`` would, or return ``None``.

    On success the reader's state (file, digest, rows read, header, problems) is what the
    Python reader would leave; on ``None`` nothing was changed or reported.
    """
    file = Path(path)
    scratch: list[Problem] = []
    twin = TableReader(reader.spec, scratch)
    twin.file = file.name
    raw = twin._open(file)
    if raw is None:
        return None
    with raw:
        data = raw.read()
    digest: list[str] = []
    hasher = threading.Thread(target=lambda: digest.append(hashlib.sha256(data).hexdigest()))
    hasher.start()
    try:
        parsed = _parse(twin, data)
    finally:
        hasher.join()
    if parsed is None:
        return None
    reader.file = twin.file
    reader.digest = digest[0]
    reader.rows_read += twin.rows_read
    reader.extra_names = twin.extra_names
    reader.header_ok = twin.header_ok
    reader.problems.extend(scratch)
    return parsed


def _parse(reader: TableReader, data: bytes) -> Parsed | None:
    body = memoryview(data)
    if data.startswith(_BOM):
        body = body[len(_BOM) :]
    text = bytes(body) if len(body) != len(data) else data
    if not text or not text.isascii() or b"\r" in text:
        return None
    if any(c in text for c in _OTHER_SPACES) or any(s in text for s in _EDGE_SPACES):
        return None
    if text.startswith(b" ") or text.endswith(b" "):
        return None
    end = text.find(b"\n")
    if end < 0 or end > MAX_RECORD_BYTES:
        return None  # a header alone, or an over-long header: the Python reader
    layout = reader.header(text[:end].decode("ascii"))
    if layout is None:
        return None
    body_bytes = memoryview(text)[end + 1 :]
    if len(text) == end + 1 or text[end + 1] == 10 or text.find(b"\n\n", end) >= 0:
        return None  # no rows (nothing to gain), or an empty line to report
    width = layout.width
    quoted: dict[int, list[str]] = {}
    if text.find(b'"', end) >= 0:
        got = _quoted(text, end + 1, width)
        if got is None:
            return None
        quoted, plain = got
        body_bytes = memoryview(plain)
    names = [f"c{k}" for k in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body_bytes),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(
                quote_char=False,
                double_quote=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # a row of another width (or anything pyarrow refuses)
    n = table.num_rows
    longest = 0
    empty = np.ones(n, dtype=bool)
    for k in range(width):
        lengths = pc.binary_length(table.column(k))
        longest += int(pc.max(lengths).as_py() or 0)
        empty &= np.concatenate([_values(chunk) for chunk in lengths.chunks] or [empty[:0]]) == 0
    if longest + width > MAX_RECORD_BYTES:
        return None
    if quoted:
        empty[list(quoted)] = False
    if empty.any():
        return None  # a row of empty cells, to be reported and left out
    parsed = Parsed(reader.file, reader.spec.names, reader.extra_names)
    parsed.lines = list(range(2, n + 2))
    parsed.ok = bytearray(b"\x01") * n
    keep = reader.spec.text
    for col, pos in zip(reader.spec.columns, layout.positions, strict=True):
        if pos is None:
            cells = [""] * n
            values, slow = _fast_values(cells, col.parse)
            if slow or col.required:
                return None  # a required column is missing: the header was refused
            parsed.values[col.name] = values
            if keep is None or col.name in keep:
                parsed.text[col.name] = cells
            continue
        values, cells_of = _column(
            reader, parsed, col.name, table.column(pos), col.parse, col.required, quoted, pos
        )
        parsed.values[col.name] = values
        if keep is None or col.name in keep:
            parsed.text[col.name] = cells_of()
    for name, pos in layout.extras:
        column = table.column(pos)
        parsed.values[name] = _column(reader, parsed, name, column, _p_decimal, False, quoted, pos)[
            0
        ]
    reader.rows_read += n
    return parsed


def _column(
    reader: TableReader,
    parsed: Parsed,
    name: str,
    column: pa.ChunkedArray,
    parse: Any,
    required: bool,
    quoted: dict[int, list[str]],
    pos: int,
) -> tuple[list[Any], Callable[[], list[str]]]:
    """Return a column's values and a maker of its cell texts; word each bad cell's problem.

    The column's distinct cells are parsed by the Python reader's column parser; the rows of
    the cells it refuses (and of empty required cells) go through the reader's per-cell
    parser, which reports the problem and clears the row's ``ok``, as the Python reader does.
    The rows of *quoted* (read by the csv module; blank in *column*) are parsed alone.
    """
    encoded = column.combine_chunks().dictionary_encode()
    uniques: list[str] = encoded.dictionary.to_pylist()
    codes = _values(encoded.indices)
    if parse in _DECIMAL_PARSERS:
        found, slow = _fast_decimals(uniques, parse)
    else:
        found, slow = _fast_values(uniques, parse)
    if required and "" in uniques:
        slow = [*slow, uniques.index("")]
    values: list[Any] = _gather(found, codes)
    lines, ok = parsed.lines, parsed.ok
    if slow:
        for i in np.flatnonzero(np.isin(codes, np.asarray(slow, dtype=codes.dtype))).tolist():
            if i in quoted:
                continue
            value, good = reader._cell(lines[i], name, parse, required, uniques[codes[i]])
            if not good:
                ok[i] = 0
            values[i] = value
    for i, row in quoted.items():
        cell = row[pos]
        if parse in _DECIMAL_PARSERS:
            one, slow = _fast_decimals([cell], parse)
        else:
            one, slow = _fast_values([cell], parse)
        if slow or (required and not cell):
            value, good = reader._cell(lines[i], name, parse, required, cell)
            if not good:
                ok[i] = 0
            values[i] = value
        else:
            values[i] = one[0]

    def cells() -> list[str]:
        texts: list[str] = _gather(uniques, codes)
        for i, row in quoted.items():
            texts[i] = row[pos]
        return texts

    return values, cells


def _quoted(text: bytes, start: int, width: int) -> tuple[dict[int, list[str]], bytes] | None:
    """Read the lines of *text* (body from *start*) that hold a quote with the csv module.

    Returns their cells by row, and the body with each of them blanked (commas only) for
    pyarrow; ``None`` when the Python reader would read any of them otherwise than as one
    record of the header's width with stripped cells (too many, an odd number of quotes,
    invalid CSV, another width, an empty row, a cell with whitespace at an edge).
    """
    rows: dict[int, list[str]] = {}
    pieces: list[bytes] = []
    row = 0
    counted = done = start
    blank = b"," * (width - 1)
    while True:
        q = text.find(b'"', done)
        if q < 0:
            break
        if len(rows) >= _MAX_QUOTED:
            return None
        a = text.rfind(b"\n", 0, q) + 1
        b = text.find(b"\n", q)
        b = len(text) if b < 0 else b
        if b - a > MAX_RECORD_BYTES:
            return None
        line = text[a:b].decode("ascii")
        if line.count('"') % 2:
            return None  # a quoted line break, or an unterminated quote
        try:
            cells = next(csv.reader([line], strict=True), [])
        except csv.Error:
            return None
        if len(cells) != width or any(c != c.strip() for c in cells) or not "".join(cells):
            return None
        row += text.count(b"\n", counted, a)
        counted = a
        rows[row] = cells
        pieces += (text[done:a], blank)
        done = b
    pieces.append(text[done:])
    return rows, b"".join(pieces)


def _values(array: pa.Array) -> Any:
    """Return an integer array without nulls as numpy, without a copy (and without pandas)."""
    width = array.type.bit_width // 8
    return np.frombuffer(
        array.buffers()[1], dtype=f"<i{width}", count=len(array), offset=array.offset * width
    )


def _gather(items: list[Any], codes: Any) -> list[Any]:
    """Return ``[items[c] for c in codes]`` at C speed (equal items share one object)."""
    table = np.fromiter(items, dtype=object, count=len(items))
    return table[codes].tolist()  # type: ignore[no-any-return]
