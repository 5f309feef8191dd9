"""Rows of the small tables, for the per-row builders of the load stage (internal).

The columns a :class:`~ice_recon._read.Parsed` holds, seen one row at a time
(:func:`row_view`), and the check every keyed table shares: rows with the same key are
reported at the later row and all left out (:func:`drop_duplicates`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import attrs

from ice_recon._read import Parsed
from ice_recon._specs import Spec
from ice_recon.money import scaled_to_decimal
from ice_recon.tables import Sourced

R = TypeVar("R")


def dec(value: tuple[int, int] | None) -> Any:
    return None if value is None else scaled_to_decimal(*value)


def date(value: int | None) -> dt.date | None:
    return None if value is None else dt.date.fromordinal(value)


@attrs.frozen
class Row:
    """One parsed row of a small table, for the per-row builders (rates, fuel, headers)."""

    line: int
    ok: bool
    values: list[Any]  # parsed values in spec column order; None = absent or unreadable
    cells: list[str]  # stripped cell text in spec column order ("" = absent)


def values_of(row: Row, spec: Spec) -> dict[str, Any]:
    return dict(zip(spec.names, row.values, strict=True))


def row_view(parsed: Parsed | None) -> Iterator[Row]:
    if parsed is None:
        return
    names = parsed.names
    text = [parsed.text[n] for n in names]
    for i, line in enumerate(parsed.lines):
        yield Row(
            line,
            bool(parsed.ok[i]),
            [parsed.value(n, i) for n in names],
            [col[i] for col in text],
        )


def drop_duplicates(
    items: Sequence[Sourced[R]],
    key: Callable[[R], Any],
    report: Callable[[Sourced[R], Sourced[R]], None],
) -> tuple[Sourced[R], ...]:
    """Return *items* without every row whose *key* another row has.

    *report* is called with each later row and the first row of its key (DESIGN section 4:
    a problem between rows is reported at the later row and makes every row involved
    unusable, so the result never depends on which copy came first).
    """
    first: dict[Any, Sourced[R]] = {}
    bad: set[int] = set()
    for item in items:
        other = first.setdefault(key(item.record), item)
        if other is not item:
            report(item, other)
            bad.update((id(item), id(other)))
    return tuple(x for x in items if id(x) not in bad)
