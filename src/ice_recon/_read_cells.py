"""Parse a table's text column by column, and check its cells and its header (internal).

The half of :class:`ice_recon._read.TableReader` that works on cells already split into
columns: :class:`Parsed`, the parsed columns of one table; and :class:`_ColumnParser`, the
reader's base class, which parses a column (a fast path per column kind for the cells that
are well formed, :meth:`~_ColumnParser._cell` for the others, which words the problem) and
checks the names of the header. Reading the sources into rows of text is
:mod:`ice_recon._read`'s; the fast paths themselves are in :mod:`ice_recon._columns`.
"""

from __future__ import annotations

import codecs
import difflib
import itertools
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from ice_recon._columns import _MEMO_LIMIT, _fast_decimals, _fast_values
from ice_recon._specs import (
    Spec,
    _p_count,
    _p_decimal,
    _p_money,
    _p_positive,
    _p_positive_int,
    _p_ref,
    _p_text,
)
from ice_recon.errors import Problem

T = TypeVar("T")

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


class _ColumnParser:
    """Parse columns into a :class:`Parsed` and check a header, reporting every problem.

    The base class of :class:`~ice_recon._read.TableReader`, whose ``__init__`` sets the
    attributes declared here.
    """

    spec: Spec
    problems: list[Problem]
    file: str
    _keep_text: frozenset[str] | None
    _keep_text_set: frozenset[str]
    _values: dict[str, dict[str, int]]
    _memos: dict[str, dict[str, str] | None]
    _decimal_stats: dict[str, list[Any]]

    def problem(
        self, line: int, message: str, column: str | None = None, value: str | None = None
    ) -> None:
        self.problems.append(
            Problem(file=self.file, line=line, column=column, message=message, value=value)
        )

    def _column(
        self,
        parsed: Parsed,
        name: str,
        parse: Callable[[str], Any],
        required: bool,
        cells: list[str],
        ascii: bool = False,
        rejected: Mapping[int, tuple[str, str]] | None = None,
    ) -> None:
        """Parse one column into *parsed*, reporting each bad cell and clearing its row's ok.

        A fast path per kind of column takes the cells that are well formed; only the
        others go through :meth:`_cell`, which words the problem. *ascii* says that the
        cells are known to be ASCII (so none can hold an undecodable byte). *rejected*:
        rows whose cell (empty in *cells*) could not be made text, with the problem and the
        value as text (a float in a money column of a frame: :mod:`ice_recon.frames`).
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
        if rejected:
            slow = [i for i in slow if i not in rejected]
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
        if rejected:
            values, cells = list(values), list(cells)
            for i, (message, raw) in rejected.items():
                self.problem(parsed.lines[i], message, name, raw)
                parsed.ok[i] = 0
                values[i] = None
                cells[i] = raw
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

#: How many first cells of a column are looked at to judge whether its values repeat.
_SAMPLE: Final = 2_000
#: A decimal column is judged (memo or joined path) after this many cells.
_JUDGE_AFTER: Final = 50_000
_UNDECIDED: Final[Any] = object()
