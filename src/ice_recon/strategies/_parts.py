"""Hold the pieces of a case while it is built: CLINs, their labor and fuel sides, lines.

A :class:`_Clin` is the rule built for one line (or group of lines) with the trip quantity
it prices; it gives the oracle its price terms (:class:`~ice_recon.strategies._oracle._Terms`).
:class:`_Line` is an invoice line with the answer worked out for it, and :class:`_Original` an
exactly matched line that a later DUPLICATE copies.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import attrs

from ice_recon.money import IncrementRounding, Rounding, scaled_to_decimal
from ice_recon.records import Status, WeekRule
from ice_recon.strategies._oracle import _billable, _dec, _places, _round, _Terms


@attrs.define
class _Labor:
    """The labor side of a ``labor_hours`` CLIN: rules by category, the roster, the line."""

    rates: dict[str, Decimal]  # category ("" = any category) -> rate
    roster: list[tuple[str, str, Decimal]]  # (person, category, hours)
    person: str | None = None  # person_id on the line
    billed: str | None = None  # labor_category on the line

    def roster_category(self, person: str) -> str | None:
        return next((c for p, c, _ in self.roster if p == person), None)

    def priced_category(self) -> str | None:
        """Return the category that prices the line: the person's roster one, else billed."""
        if self.person is not None:
            found = self.roster_category(self.person)
            if found is not None:
                return found
        return self.billed

    def rule_category(self) -> str | None:
        if "" in self.rates:
            return ""
        category = self.priced_category()
        return category if category in self.rates else None

    def mismatch(self) -> bool:
        if self.person is None or self.billed is None:
            return False
        found = self.roster_category(self.person)
        return found is not None and found != self.billed

    def hours(self) -> Fraction | None:
        if self.person is not None:
            covered = [h for p, _, h in self.roster if p == self.person]
        elif self.billed is not None:
            covered = [h for _, c, h in self.roster if c == self.billed]
        else:
            covered = [h for _, _, h in self.roster]
        return sum((Fraction(h) for h in covered), Fraction(0)) if covered else None


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@attrs.define
class _Fuel:
    """The fuel side of a fuel-surcharge CLIN: its terms and the index weeks written."""

    base: Decimal
    mpg: Decimal
    series: str
    week_rule: WeekRule
    week_cell: str
    places: int
    basis_cell: str
    index: dict[dt.date, Decimal] = attrs.Factory(dict)

    def week(self, day: dt.date) -> dt.date:
        monday = _monday(day)
        return monday - dt.timedelta(days=7) if self.week_rule is WeekRule.PRIOR_WEEK else monday

    def rate(self, day: dt.date, mode: Rounding) -> Decimal | None:
        price = self.index.get(self.week(day))
        if price is None:
            return None
        diff = Fraction(price) - Fraction(self.base)
        units = 0 if diff <= 0 else _round(diff / Fraction(self.mpg), self.places, mode)
        return scaled_to_decimal(units, self.places)

    def set_rate(self, day: dt.date, rate: Decimal) -> None:
        """Write the index price that makes the rate on *day* exactly *rate*."""
        self.places = _places(rate)
        price = Fraction(self.base) + Fraction(rate) * Fraction(self.mpg)
        self.index[self.week(day)] = _dec(price, max(3, self.places + _places(self.mpg)))


@attrs.define
class _Clin:
    """One CLIN built for one line (or group): its rule, and the trip quantity it prices."""

    kind: str
    contract: str
    clin: str
    basis: str
    day: dt.date  # the service date of the line's trip
    mode: Rounding
    rounding_cell: str
    q_places: int = 0
    measured: Decimal | None = None
    rate: Decimal | None = None
    tiers: list[tuple[Decimal, Decimal]] = attrs.Factory(list)
    free: Decimal | None = None
    increment: Decimal | None = None
    increment_cell: str = ""
    min_qty: Decimal | None = None
    min_amount: int | None = None
    notice: Decimal | None = None
    labor: _Labor | None = None
    fuel: _Fuel | None = None
    old_rate: Decimal | None = None

    @property
    def min_ok(self) -> bool:
        return self.kind in ("measure", "trip", "labor_hours", "all_units")

    def inc_mode(self) -> IncrementRounding:
        return (
            IncrementRounding(self.increment_cell)
            if self.increment_cell
            else (IncrementRounding.DOWN)
        )

    def places(self) -> int:
        found = [self.q_places]
        found += [_places(d) for d in (self.free, self.increment, self.min_qty) if d is not None]
        return max(found)

    def quantity(self) -> Fraction | None:
        """Return what the trip recorded for the rule (None: not recorded)."""
        if self.basis in ("trip", "cancellation"):
            return Fraction(1)
        if self.labor is not None:
            return self.labor.hours()
        return None if self.measured is None else Fraction(self.measured)

    def billable(self, q: Fraction) -> Fraction:
        return _billable(
            q,
            None if self.free is None else Fraction(self.free),
            None if self.increment is None else Fraction(self.increment),
            self.inc_mode(),
            None if self.min_qty is None else Fraction(self.min_qty),
        )

    def qe(self) -> Fraction | None:
        q = self.quantity()
        return None if q is None else self.billable(q)

    def rate_decimal(self, q: Fraction) -> Decimal | None:
        """Return the effective rate for *q* as written (None: graduated, or evidence missing)."""
        if self.fuel is not None:
            return self.fuel.rate(self.day, self.mode)
        if self.labor is not None:
            category = self.labor.rule_category()
            return None if category is None else self.labor.rates[category]
        if self.rate is not None:
            return self.rate
        if self.kind == "graduated":
            return None
        reach = self.notice if self.kind == "cancellation_tiers" else q
        if reach is None:
            return None
        return [r for start, r in self.tiers if Fraction(start) <= Fraction(reach)][-1]

    def set_rate(self, q: Fraction, rate: Decimal) -> None:
        if self.fuel is not None:
            self.fuel.set_rate(self.day, rate)
        elif self.labor is not None:
            category = self.labor.rule_category()
            assert category is not None
            self.labor.rates[category] = rate
        elif self.rate is not None:
            self.rate = rate
        else:
            reach = q if self.notice is None else Fraction(self.notice)
            i = max(i for i, (start, _) in enumerate(self.tiers) if Fraction(start) <= reach)
            self.tiers[i] = (self.tiers[i][0], rate)

    def terms(self) -> _Terms:
        """Return the rule's price terms on the trip's date (the rate must be known)."""
        if self.kind == "graduated":
            tiers = tuple((Fraction(s), Fraction(r)) for s, r in self.tiers)
            return _Terms(mode=self.mode, tiers=tiers, graduated=True, min_amount=self.min_amount)
        if self.kind == "all_units":
            tiers = tuple((Fraction(s), Fraction(r)) for s, r in self.tiers)
            return _Terms(mode=self.mode, tiers=tiers, min_amount=self.min_amount)
        rate = self.rate_decimal(Fraction(1))
        assert rate is not None, "priced without its price evidence"
        return _Terms(mode=self.mode, rate=Fraction(rate), min_amount=self.min_amount)

    def other_rates(self, q: Fraction) -> list[Decimal]:
        """Return rates a vendor could wrongly bill: an old window's, another tier's …"""
        out = [] if self.old_rate is None else [self.old_rate]
        out += [r for _, r in self.tiers]
        if self.labor is not None:
            out += list(self.labor.rates.values())
        current = self.rate_decimal(q)
        return [r for r in out if r != current]


@attrs.define
class _Line:
    """An invoice line being built: its row, and the answer worked out for it."""

    contract: str
    row: dict[str, str]
    status: Status
    variant: str
    codes: tuple[str, ...]
    info: list[str]
    billed: int | None
    expected: int | None
    trip_id: str | None
    match: str


@attrs.frozen
class _Original:
    """An exactly matched line that a later DUPLICATE line copies."""

    clin: _Clin
    trip_id: str
    line: _Line
