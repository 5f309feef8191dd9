"""Parse a whole column of cells at once: the reader's fast paths (internal).

Each kind of column (decimals, dates, whole numbers, choices, text) has a path that checks
and converts every cell together — one regular expression over the joined column, a memo
of the values read, ``map(int, ...)`` — and returns the rows it could not take, for the
per-cell parser of :mod:`ice_recon._specs` to word the problem. Each path has a property
test against the per-cell definition (``tests/test_read.py``).
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from ice_recon._specs import (
    MAX_DIGITS,
    MAX_PLACES,
    _Choice,
    _p_count,
    _p_date,
    _p_money,
    _p_positive,
    _p_positive_int,
    _p_ref,
    _p_text,
)

#: Whitespace at the start or end of a cell (cells joined by commas): cells must be stripped.
_EDGE_SPACE: Final = re.compile(r"(?:^|,)\s|\s(?:,|$)")
#: At most this many distinct values are remembered per column (and dates in all).
_MEMO_LIMIT: Final = 1 << 16
_FRACTION: Final = operator.itemgetter(2)


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
            known = _DATES.get(c)  # read earlier in this column
            if known is not None:
                values[i] = known
                continue
            try:
                values[i] = day = _p_date(c)
            except ValueError:
                slow.append(i)
                continue
            if room:
                _DATES[c] = day
    return values, slow
