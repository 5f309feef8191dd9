"""Read one input table into parsed columns, reporting every problem (internal).

The load stage's reader: a source (a CSV file, row mappings or records) is read into rows of
text, the header is checked, and then every column is parsed *as a column* — a fast path per
column kind handles the cells that are well formed, and only the cells that are not go
through the per-cell parser that words the problem. Nothing here knows about tables or
cross-row checks; :mod:`ice_recon.load` builds those from a :class:`Parsed`. The files'
columns and the cell parsers are in :mod:`ice_recon._specs`; the parsing of each column, the
wording of each bad cell and the check of the header's names in :mod:`ice_recon._read_cells`
(:class:`Parsed`, and the reader's base class).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

import attrs

from ice_recon import _engine, frames
from ice_recon._columns import _EDGE_SPACE, _one_record_each, _spaced
from ice_recon._read_cells import _DECIMAL_PARSERS as _DECIMAL_PARSERS
from ice_recon._read_cells import Parsed as Parsed
from ice_recon._read_cells import _ColumnParser
from ice_recon._specs import Source, Spec, _p_decimal
from ice_recon.errors import ArgumentTypeError, Problem

# ----------------------------------------------------------------------------------- reading


@attrs.frozen
class Layout:
    """Where the spec columns and measure columns are in a file's rows."""

    positions: list[int | None]  # per spec column, its cell index (None: not in the file)
    extras: list[tuple[str, int]]  # measure columns: (name, cell index)
    width: int  # cells per row


class TableReader(_ColumnParser):
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
        if frames.frame_kind(source) is not None:  # a frame or a Parquet file
            return frames.parse(self, source)
        if isinstance(source, str | os.PathLike):
            if self.spec.file in _FAST_FILES and _engine.fast():
                from ice_recon._fast.read import parse_file  # the fast extra, lazily

                fast = parse_file(self, source)
                if fast is not None:
                    return fast
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
        if frames.is_parquet(path):
            return frames.header_usable(self, path)
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

#: The files the accelerator reads, when in force (the large ones; the others are small).
_FAST_FILES: Final = frozenset({"manifests.csv", "staff.csv", "invoice_lines.csv"})

#: Rows per chunk when a whole file is read (what is held as raw cells at once).
_CHUNK_ROWS: Final = 100_000

#: Bytes read at once from a file (split into lines at C speed when it has no quote).
_BLOCK_BYTES: Final = 1 << 22
#: The longest physical line (record) read; a longer one is reported and skipped, never held
#: whole. Far above any valid record (the csv module's 131,072 characters per cell).
MAX_RECORD_BYTES: Final = 1 << 23
#: How much of an over-long record is kept, for the key cells of its INVALID row.
_KEPT_BYTES: Final = 1 << 16
#: Lines parsed together: few enough that their columns stay in the processor's cache.
_SUB_LINES: Final = 1024


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
