"""Checks between the rules of rates.csv and fuel_rules.csv (DESIGN section 4, internal).

Tier sets (rows of one contract, CLIN, category and window) must be whole and agree in
everything but ``tier_from``, ``rate`` and ``description``; the windows of one contract
and CLIN must not overlap for one labor category. Problems are reported at the later row
and leave every rule involved out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Protocol

import attrs

from ice_recon.records import BASIS_CANCELLATION, FuelRule, RateRule, TierMode
from ice_recon.tables import Sourced

__all__ = ["Checking", "check_rules", "tier_set_key"]


class Checking(Protocol):
    """What the checks need of the loader: where problems go, and the broken tier sets."""

    broken_sets: dict[tuple[Any, ...], int]

    def problem(
        self,
        file: str,
        line: int,
        message: str,
        column: str | None = None,
        value: str | None = None,
    ) -> None: ...


def check_rules(
    loader: Checking, rates: list[Sourced[RateRule]], fuel: list[Sourced[FuelRule]]
) -> tuple[tuple[Sourced[RateRule], ...], tuple[Sourced[FuelRule], ...]]:
    """Check the rules against each other; return the usable rate and fuel rules.

    A tier set must be whole and consistent; the windows of the rules of one (contract,
    CLIN) must not overlap for the same labor category (a rule without a category overlaps
    every category), rates.csv and fuel_rules.csv included. Every rule involved in a
    problem is left out, so the result never depends on which came first.
    """
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
        if not _check_tier_set(loader, members):
            bad.update(id(m) for m in members)
        broken = loader.broken_sets.get(key)
        if broken is not None:
            head = members[0]
            loader.problem(
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
            _report_overlap(loader, earlier, later)
            bad.update(id(m) for m in earlier.rows)
            bad.update(id(m) for m in later.rows)
    return (
        tuple(x for x in rates if id(x) not in bad),
        tuple(x for x in fuel if id(x) not in bad),
    )


def _check_tier_set(loader: Checking, members: list[Sourced[RateRule]]) -> bool:
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
                loader.problem(
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
            loader.problem(
                item.file,
                item.line,
                f"repeats tier_from {r.tier_from} of line {other.line} in the same tier set",
                "tier_from",
                _cell_text(r.tier_from),
            )
            ok = False
    lowest = min(m.record.tier_from for m in members if m.record.tier_from is not None)
    if lowest != 0:
        loader.problem(
            head.file,
            head.line,
            f"a tier set must start at tier_from 0 (its lowest is {lowest})",
            "tier_from",
            _cell_text(lowest),
        )
        ok = False
    if first.basis == BASIS_CANCELLATION and first.tier_mode is not TierMode.ALL_UNITS:
        loader.problem(
            head.file,
            head.line,
            "a cancellation tier set must be all_units (the tier's rate is the fee)",
            "tier_mode",
            _cell_text(first.tier_mode),
        )
        ok = False
    return ok


def _report_overlap(loader: Checking, a: _RuleUnit, b: _RuleUnit) -> None:
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
    loader.problem(
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
