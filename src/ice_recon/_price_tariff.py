"""How P(q) is computed for one rule, in integers: the billable quantity, flat and tier rates, fuel.

The integer core of the pricing stage (:mod:`ice_recon.price`). A rule is compiled once
(:func:`compiled`) to scaled integers (see :mod:`ice_recon.money`): its free quantity,
increment, minimum quantity and minimum amount, and its :class:`Tariff` — a flat rate or a
tier set (``all_units`` or ``graduated``). A fuel rule's per-unit rate is
``max(0, (index - base_price) / mpg)``, an exact fraction rounded once to the rule's places;
a ``cancellation`` tier set becomes the flat fee of the tier the notice hours reach.
:mod:`ice_recon.price` re-exports :class:`Tariff`, :class:`Compiled` and :func:`compiled`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal

from ice_recon.index import FuelIndex, PricingRule
from ice_recon.money import (
    Rounding,
    decimal_to_scaled,
    pow10,
    round_div,
    round_to_multiple,
    to_cents,
)
from ice_recon.records import BASIS_CANCELLATION, TierMode

Scaled = tuple[int, int]


# ------------------------------------------------------------------------- the integer core


class Tariff:
    """How P(q) is computed for one rule on one date: a flat rate or a tier set, in integers.

    Flat: ``rate`` is ``(units, scale)``. Tiers: ``froms`` are the tier starts at the common
    scale ``from_scale``, ``rates`` the tier rates at the common scale ``rate_scale``.
    """

    __slots__ = ("from_scale", "froms", "graduated", "rate", "rate_scale", "rates")

    def __init__(
        self,
        rate: Scaled | None = None,
        froms: list[int] | None = None,
        from_scale: int = 0,
        rates: list[int] | None = None,
        rate_scale: int = 0,
        graduated: bool = False,
    ) -> None:
        self.rate = rate
        self.froms = froms or []
        self.from_scale = from_scale
        self.rates = rates or []
        self.rate_scale = rate_scale
        self.graduated = graduated

    def tier_rate(self, q: Scaled) -> Scaled:
        """Return the rate of the tier that quantity *q* reaches."""
        return self.rates[self._tier(q)], self.rate_scale

    def tier_index(self, q: Scaled) -> int:
        """Return the position of the tier that quantity *q* reaches."""
        return self._tier(q)

    def _tier(self, q: Scaled) -> int:
        units, scale = q
        if scale >= self.from_scale:
            shift = pow10(scale - self.from_scale)
            return bisect.bisect_right([f * shift for f in self.froms], units) - 1
        # q written with fewer places than the tier starts: compare at the tier scale.
        return bisect.bisect_right(self.froms, units * pow10(self.from_scale - scale)) - 1

    def effective_rate(self, q: Scaled) -> Scaled | None:
        """Return the single per-unit rate for *q*: flat, or the reached ``all_units`` tier's.

        ``graduated`` tier sets have no single rate (``None``).
        """
        if self.rate is not None:
            return self.rate
        if self.graduated:
            return None
        return self.tier_rate(q)

    def price_cents(self, q: Scaled, mode: Rounding) -> int:
        """Return P(q) in cents: the exact amount for *q* units rounded once with *mode*."""
        units, scale = q
        if self.rate is not None:
            return to_cents(units * self.rate[0], scale + self.rate[1], mode)
        if not self.graduated:
            r = self.rates[self._tier(q)]
            return to_cents(units * r, scale + self.rate_scale, mode)
        # Graduated: sum the exact slice amounts at a common scale, then round once.
        s = max(scale, self.from_scale)
        qa = units * pow10(s - scale)
        shift = pow10(s - self.from_scale)
        froms = [f * shift for f in self.froms]
        total = 0
        for i, start in enumerate(froms):
            if qa <= start:
                break
            stop = froms[i + 1] if i + 1 < len(froms) else qa
            total += (min(qa, stop) - start) * self.rates[i]
        return to_cents(total, s + self.rate_scale, mode)


def _align(a: Scaled, b: Scaled) -> tuple[int, int, int]:
    """Return the units of *a* and *b* at their common (larger) scale, and that scale."""
    s = max(a[1], b[1])
    return a[0] * pow10(s - a[1]), b[0] * pow10(s - b[1]), s


class Compiled:
    """A :class:`~ice_recon.index.PricingRule` with its numbers as scaled integers."""

    __slots__ = (
        "free",
        "fuel_base",
        "fuel_mpg",
        "increment",
        "increment_mode",
        "min_amount",
        "min_quantity",
        "rule",
        "tariff",
    )

    def __init__(self, rule: PricingRule) -> None:
        self.rule = rule
        self.free = _scaled(rule.free_quantity)
        self.increment = _scaled(rule.increment)
        self.increment_mode = rule.increment_rounding
        self.min_quantity = _scaled(rule.minimum_quantity)
        self.min_amount = None if rule.minimum_amount is None else _cents_of(rule.minimum_amount)
        self.tariff: Tariff | None = None
        self.fuel_base: Scaled | None = None
        self.fuel_mpg: Scaled | None = None
        if rule.rate is not None:
            self.tariff = Tariff(rate=decimal_to_scaled(rule.rate))
        elif rule.tiers:
            starts = [decimal_to_scaled(t.start) for t in rule.tiers]
            rates = [decimal_to_scaled(t.rate) for t in rule.tiers]
            fs = max(s for _, s in starts)
            rs = max(s for _, s in rates)
            self.tariff = Tariff(
                froms=[u * pow10(fs - s) for u, s in starts],
                from_scale=fs,
                rates=[u * pow10(rs - s) for u, s in rates],
                rate_scale=rs,
                graduated=rule.tier_mode == TierMode.GRADUATED,
            )
        elif rule.fuel is not None:
            self.fuel_base = decimal_to_scaled(rule.fuel.base_price)
            self.fuel_mpg = decimal_to_scaled(rule.fuel.mpg)

    def billable(self, q: Scaled) -> Scaled:
        """Return the billable quantity: free quantity, then increment, then minimum quantity.

        >>> from datetime import date
        >>> from decimal import Decimal as D
        >>> rule = PricingRule(rule_id="w", contract_id="C", clin="2", basis="wait_hours",
        ...                    start=date(2021, 1, 1), end=date(2021, 12, 31), rate=D("55.00"),
        ...                    free_quantity=D("1.00"), increment=D("0.25"))
        >>> Compiled(rule).billable((233, 2))
        (125, 2)
        """
        units, scale = q
        if self.free is not None:
            u, f, scale = _align((units, scale), self.free)
            units = max(0, u - f)
        if self.increment is not None:
            u, step, scale = _align((units, scale), self.increment)
            units = round_to_multiple(u, step, self.increment_mode)
        if self.min_quantity is not None and units > 0:
            u, m, scale = _align((units, scale), self.min_quantity)
            units = max(u, m)
        return units, scale

    def fuel_rate(self, index_price: Scaled, mode: Rounding) -> Scaled:
        """Return ``max(0, (index - base) / mpg)`` rounded once to the rule's places.

        (5.157 - 2.500) / 6.0 = 0.44283... -> 0.44:

        >>> from datetime import date
        >>> from decimal import Decimal as D
        >>> from ice_recon.index import FuelTerms
        >>> rule = PricingRule(rule_id="f", contract_id="C", clin="9", basis="loaded_miles",
        ...                    start=date(2021, 1, 1), end=date(2021, 12, 31),
        ...                    fuel=FuelTerms(base_price=D("2.500"), mpg=D("6.0"), series="S"))
        >>> Compiled(rule).fuel_rate((5157, 3), Rounding.HALF_UP)
        (44, 2)
        """
        assert self.fuel_base is not None and self.fuel_mpg is not None and self.rule.fuel
        places = self.rule.fuel.places
        idx, base, s = _align(index_price, self.fuel_base)
        diff = idx - base
        if diff <= 0:
            return 0, places
        mpg_units, mpg_scale = self.fuel_mpg
        # diff/10^s / (mpg_units/10^mpg_scale), at `places` decimals.
        num = diff * pow10(mpg_scale + places)
        den = mpg_units * pow10(s)
        return round_div(num, den, mode), places

    def tariff_on(
        self,
        day: int | None,
        notice: Scaled | None,
        fuel_index: FuelIndex | None,
        mode: Rounding,
    ) -> tuple[Tariff, int | None, Decimal | None] | str:
        """Return how P(q) is computed on date ordinal *day*, or what evidence is missing.

        A fuel rule's rate comes from the index week of *day*; a ``cancellation`` tier set
        becomes the flat fee of the tier that the notice hours reach. The result is the
        tariff, the index week (ordinal) and the index price used (fuel rules only).
        """
        rule = self.rule
        if rule.fuel is not None:
            if day is None or fuel_index is None:
                return "a fuel index and service date"
            week = FuelIndex.week_for(day, rule.fuel.week_rule)
            index_price = fuel_index.price(rule.fuel.series, week)
            if index_price is None:
                if week < 1:  # the week before 0001-01-01 has no date, and no index
                    return f"fuel index {rule.fuel.series!r} has no week before 0001-01-01"
                monday = dt.date.fromordinal(week).isoformat()
                return f"fuel index {rule.fuel.series!r} has no week {monday}"
            rate = self.fuel_rate(decimal_to_scaled(index_price), mode)
            return Tariff(rate=rate), week, index_price
        tariff = self.tariff
        assert tariff is not None
        if rule.basis == BASIS_CANCELLATION and tariff.rate is None:
            if notice is None:
                return "cancel_notice_hours not recorded"
            # The tier is chosen by the notice given; its rate is the flat fee.
            tariff = Tariff(rate=tariff.tier_rate(notice))
        return tariff, None, None

    def expected_cents(self, billable: Scaled, price_cents: int) -> int:
        """Apply the minimum amount: ``max(minimum_amount, P(q))`` when ``q > 0``."""
        if self.min_amount is not None and billable[0] > 0:
            return max(self.min_amount, price_cents)
        return price_cents


def _scaled(value: Decimal | None) -> Scaled | None:
    return None if value is None else decimal_to_scaled(value)


def _cents_of(value: Decimal) -> int:
    units, scale = decimal_to_scaled(value)
    return to_cents(units, scale, Rounding.HALF_UP)  # money has <= 2 places: exact


_COMPILED: dict[int, tuple[PricingRule, Compiled]] = {}


def compiled(rule: PricingRule) -> Compiled:
    """Return the integer form of *rule* (cached: rules are few and immutable).

    The cache is keyed by identity, not equality: ``Decimal("2.4") == Decimal("2.40")``,
    but a rule written with 2.40 must show 2.40 in its evidence. The cache holds the rule
    itself, so an id cannot be reused while its entry lives.
    """
    entry = _COMPILED.get(id(rule))
    if entry is not None and entry[0] is rule:
        return entry[1]
    if len(_COMPILED) >= 65536:
        _COMPILED.clear()
    result = Compiled(rule)
    _COMPILED[id(rule)] = (rule, result)
    return result
