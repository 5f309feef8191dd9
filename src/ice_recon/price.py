"""Price a quantity under a rule: billable quantity, P(q), the expected amount, evidence.

The pricing stage. For one priced line the order of operations is (DESIGN section 4.1)::

    free quantity -> increment -> minimum quantity -> P(q), rounded once -> minimum amount

P(q) is the rule's flat rate times q, or its tier set (``all_units``: the whole quantity at
the reached tier's rate; ``graduated``: each slice at its own rate, the exact slice amounts
summed), rounded **once** to cents with the rule's rounding mode (else the policy default).
A fuel rule's per-unit rate is ``max(0, (index - base_price) / mpg)``, an exact fraction
rounded once to the rule's places.

Everything is computed on scaled integers (see :mod:`ice_recon.money`); the public functions
take and return ``Decimal``.

Worked examples (each is also a table-driven test):

>>> from datetime import date
>>> from decimal import Decimal as D
>>> from ice_recon.index import PricingRule, Tier
>>> miles = PricingRule(rule_id="r", contract_id="C", clin="0001", basis="loaded_miles",
...                     start=date(2021, 10, 1), end=date(2022, 9, 30), rate=D("2.4575"),
...                     minimum_amount=D("150.00"))
>>> price(miles, D("137.4")).expected       # 337.6605 -> 337.66
Decimal('337.66')
>>> price(miles, D("41.2")).expected        # 101.249 -> 101.25, under the 150.00 minimum
Decimal('150.00')
>>> wait = PricingRule(rule_id="w", contract_id="C", clin="0002", basis="wait_hours",
...                    start=date(2021, 10, 1), end=date(2022, 9, 30), rate=D("55.00"),
...                    free_quantity=D("1.00"), increment=D("0.25"))
>>> p = price(wait, D("2.33"))              # 2.33 - 1.00 = 1.33 -> 1.25 h x 55.00
>>> p.billable_quantity, p.expected
(Decimal('1.25'), Decimal('68.75'))
>>> tiers = (Tier(start=D("0"), rate=D("4.00")), Tier(start=D("100"), rate=D("3.00")),
...          Tier(start=D("250"), rate=D("2.50")))
>>> grad = PricingRule(rule_id="g", contract_id="C", clin="0003", basis="loaded_miles",
...                    start=date(2021, 10, 1), end=date(2022, 9, 30), tiers=tiers,
...                    tier_mode="graduated")
>>> price(grad, D("300.0")).expected        # 400.00 + 450.00 + 125.00
Decimal('975.00')
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

import attrs

from ice_recon.errors import ArgumentError, ArgumentTypeError, MissingEvidenceError
from ice_recon.index import T_DAY, T_ID, T_NOTICE, FuelIndex, Index, PricingRule
from ice_recon.load import Inputs
from ice_recon.money import (
    Rounding,
    cents_to_decimal,
    check_decimal,
    decimal_to_scaled,
    pow10,
    round_div,
    round_to_multiple,
    scaled_to_decimal,
    to_cents,
)
from ice_recon.policy import Policy
from ice_recon.records import (
    BASIS_CANCELLATION,
    BASIS_LABOR_HOURS,
    BASIS_TRIP,
    NON_MEASURE_BASES,
    ONE_UNIT_BASES,
    TierMode,
    Trip,
    to_rounding,
)
from ice_recon.tables import LineChunk

__all__ = [
    "ONE",
    "Compiled",
    "LinePrice",
    "LinePricing",
    "MissingEvidence",
    "PricedChunk",
    "Pricer",
    "Pricing",
    "Tariff",
    "Terms",
    "compiled",
    "price",
    "price_chunk",
    "price_line",
    "price_trip",
]

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


# --------------------------------------------------------------------------- the public edge


@attrs.frozen(kw_only=True)
class Pricing:
    """The price of a quantity under a rule, with the evidence behind it.

    Attributes:
        rule: the rule applied (its ``rule_id``, ``authority`` and window are the evidence).
        quantity: the measured quantity before free quantity, increment and minimum.
        billable_quantity: the quantity after them (``qe`` in the decomposition).
        rate: the effective per-unit rate (flat, the reached ``all_units`` tier's, the fuel
            rate, or the cancellation fee); ``None`` for ``graduated`` tier sets.
        price: P(billable quantity), rounded once to cents.
        expected: the expected amount, after the minimum amount.
        rounding: the rounding mode used.
        index_week, index_price: the fuel index week (its Monday) and price, for fuel rules.
    """

    rule: PricingRule
    quantity: Decimal
    billable_quantity: Decimal
    rate: Decimal | None
    price: Decimal
    expected: Decimal
    rounding: Rounding
    index_week: dt.date | None = None
    index_price: Decimal | None = None


@attrs.frozen(kw_only=True)
class MissingEvidence:
    """The rule needs something the trip did not record: never priced as zero.

    *what* names it, e.g. ``measure 'wait_hours' not recorded on trip T1``. When the
    quantity is known and only the price evidence is missing (a fuel index week, the notice
    hours of a tiered cancellation fee), *billable_quantity* is that quantity: inference can
    still compare it with the billed one.
    """

    rule: PricingRule
    what: str
    billable_quantity: Decimal | None = None


def price(
    rule: PricingRule,
    quantity: Decimal,
    *,
    service_date: dt.date | None = None,
    cancel_notice_hours: Decimal | None = None,
    fuel_index: FuelIndex | None = None,
    rounding: Rounding = Rounding.HALF_UP,
) -> Pricing:
    """Price *quantity* measured units under *rule*.

    Args:
        quantity: the measured quantity (for ``trip`` and ``cancellation`` bases, 1).
        service_date: the date that prices a fuel rule (its index week).
        cancel_notice_hours: picks the tier of a ``cancellation`` tier set.
        fuel_index: the weekly prices a fuel rule needs.
        rounding: the default mode for a rule without its own ``rounding`` (the policy's).

    Returns:
        :class:`Pricing`: the expected amount and the evidence behind it.

    Raises:
        MoneyTypeError: *quantity* is not a ``Decimal`` (a ``float``, say).
        ArgumentError: *quantity* or *cancel_notice_hours* is negative, NaN or infinite.
        ArgumentTypeError: *rule* is not a :class:`PricingRule`, or a fuel rule is given no
            *service_date* or *fuel_index*.
        MissingEvidenceError: the fuel index has no price for the week the rule needs, or a
            tiered cancellation fee is given no *cancel_notice_hours* (a ``LookupError``; its
            ``missing`` attribute is the :class:`MissingEvidence`). :func:`price_trip`
            returns :class:`MissingEvidence` instead, since a trip may not record everything.
    """
    found = _price(rule, quantity, service_date, cancel_notice_hours, fuel_index, rounding)
    if isinstance(found, MissingEvidence):
        raise MissingEvidenceError(found, f"rule {rule.rule_id!r}: {found.what}")
    return found


def _price(
    rule: PricingRule,
    quantity: Decimal,
    service_date: dt.date | None,
    cancel_notice_hours: Decimal | None,
    fuel_index: FuelIndex | None,
    rounding: Rounding,
) -> Pricing | MissingEvidence:
    """Check the arguments of :func:`price` and price, or say what evidence is missing."""
    if not isinstance(rule, PricingRule):
        raise ArgumentTypeError(f"rule must be a PricingRule (got {type(rule).__name__})")
    check_decimal(quantity, "quantity")
    if quantity < 0:
        raise ArgumentError(f"quantity must not be negative (got {quantity})")
    if cancel_notice_hours is not None:
        check_decimal(cancel_notice_hours, "cancel_notice_hours")
        if cancel_notice_hours < 0:
            raise ArgumentError(
                f"cancel_notice_hours must not be negative (got {cancel_notice_hours})"
            )
    if service_date is not None and (
        not isinstance(service_date, dt.date) or isinstance(service_date, dt.datetime)
    ):
        raise ArgumentTypeError(f"service_date must be a datetime.date (got {service_date!r})")
    if rule.fuel is not None and (service_date is None or fuel_index is None):
        raise ArgumentTypeError("a fuel rule needs service_date and fuel_index to be priced")
    return _price_scaled(
        rule,
        decimal_to_scaled(quantity),
        None if service_date is None else service_date.toordinal(),
        None if cancel_notice_hours is None else decimal_to_scaled(cancel_notice_hours),
        fuel_index,
        to_rounding(rounding),
    )


def price_trip(
    rule: PricingRule,
    trip: Trip,
    *,
    labor_hours: Decimal | None = None,
    fuel_index: FuelIndex | None = None,
    rounding: Rounding = Rounding.HALF_UP,
) -> Pricing | MissingEvidence:
    """Price what *trip* recorded under *rule*, taking the quantity its basis names.

    ``trip`` and ``cancellation`` bases price one unit; a measure basis takes the trip's
    measure; ``labor_hours`` takes *labor_hours* (the roster hours the caller selected). A
    measure or roster hours the trip did not record is :class:`MissingEvidence`, never zero.
    The trip's service date governs fuel rules.
    """
    if not isinstance(trip, Trip):
        raise ArgumentTypeError(f"trip must be a Trip (got {type(trip).__name__})")
    if not isinstance(rule, PricingRule):
        raise ArgumentTypeError(f"rule must be a PricingRule (got {type(rule).__name__})")
    basis = rule.basis
    quantity: Decimal | None
    if basis in (BASIS_TRIP, BASIS_CANCELLATION):
        quantity = Decimal(1)
    elif basis == BASIS_LABOR_HOURS:
        quantity = labor_hours
        if quantity is None:
            return MissingEvidence(rule=rule, what=f"no roster hours on trip {trip.trip_id}")
    else:
        quantity = trip.measure(basis)
        if quantity is None:
            return MissingEvidence(
                rule=rule, what=f"measure {basis!r} not recorded on trip {trip.trip_id}"
            )
    return _price(rule, quantity, trip.service_date, trip.cancel_notice_hours, fuel_index, rounding)


# ------------------------------------------------------------------ pricing a billed line


@attrs.frozen(kw_only=True)
class LinePricing:
    """The expected price of one invoice line against the trip it is matched to.

    Attributes:
        rule: the rule in force on the trip's date (the line's, without a trip), or ``None``
            (no rate: NO_RATE).
        pricing: the price with its evidence, :class:`MissingEvidence`, or ``None`` when
            there is no rule or no trip.
        labor_category: for ``labor_hours`` CLINs, the category priced — the roster's
            category of the named person when known, else the billed one.
        category_mismatch: the named person's roster category differs from the billed one.
        persons: the roster persons the charge covers (``labor_hours`` CLINs).
        category_unknown: the line's labor category cannot be known (none on the line, the
            person not on the roster); *rule* is then only *a* rule of the CLIN on that date,
            proving that the CLIN has a rate, and must not be cited as the line's rule.
    """

    rule: PricingRule | None
    pricing: Pricing | MissingEvidence | None
    labor_category: str | None = None
    category_mismatch: bool = False
    persons: tuple[str, ...] = ()
    category_unknown: bool = False


class Terms:
    """A rule's terms as the kernels use them, on one fuel week where the week matters.

    Internal. ``slot`` is the position of the rule's measure in a trip tuple (``None`` for
    the one-unit bases, ``labor_hours`` and a basis that is no measure column); ``tariff``
    prices the billable quantity (``None`` when its evidence is missing: ``missing`` says
    what); ``by_notice`` marks a ``cancellation`` tier set, whose fee the trip's notice
    hours choose; ``flat`` is the flat rate as ``(units, scale)`` when P(q) is R(q x rate);
    ``plain`` says that the billable quantity is the recorded one (no free quantity,
    increment or minimum quantity).
    """

    __slots__ = (
        "basis",
        "by_notice",
        "compiled",
        "flat",
        "index_price",
        "labor",
        "missing",
        "mode",
        "one",
        "plain",
        "rule",
        "slot",
        "tariff",
        "week",
    )

    def __init__(
        self, rule: PricingRule, mode: Rounding, slot: int | None, terms: _TariffTerms
    ) -> None:
        c = compiled(rule)
        self.rule = rule
        self.compiled = c
        self.mode = mode
        self.basis = rule.basis
        self.slot = slot
        self.one = rule.basis in ONE_UNIT_BASES
        self.labor = rule.basis == BASIS_LABOR_HOURS
        self.plain = c.free is None and c.increment is None and c.min_quantity is None
        self.by_notice = False
        self.missing: str | None = None
        self.week: int | None = None
        self.index_price: Decimal | None = None
        self.tariff: Tariff | None = None
        if isinstance(terms, str):
            self.missing = terms
        else:
            self.tariff, self.week, self.index_price = terms
        if rule.basis == BASIS_CANCELLATION and c.tariff is not None and c.tariff.rate is None:
            self.by_notice = True
            self.tariff = c.tariff
        self.flat = None if self.by_notice or self.tariff is None else self.tariff.rate

    def on_notice(self, notice: Scaled | None) -> Tariff | str:
        """Return the flat fee tariff of a ``cancellation`` tier set for the notice given."""
        if notice is None:
            return "cancel_notice_hours not recorded"
        assert self.tariff is not None
        return Tariff(rate=self.tariff.tier_rate(notice))


_TariffTerms = tuple[Tariff, int | None, Decimal | None] | str

#: What pricing one line gives (internal): rule, category unknown, missing evidence, the
#: measured and billable quantities, P(billable) and E in cents, the terms, the tariff used,
#: the persons billed, the labor category priced and whether it differs from the billed one.
LinePrice = tuple[
    PricingRule | None,
    bool,
    str | None,
    Scaled | None,
    Scaled | None,
    int | None,
    int | None,
    Terms | None,
    Tariff | None,
    tuple[str, ...],
    str | None,
    bool,
]


class Pricer:
    """The price stage's lookups for one run: rules by date, terms, labor CLINs (internal).

    Every lookup is memoized by its key — (contract, CLIN, category, date) for rules, the
    rule and fuel week for terms — so a line costs one dictionary lookup for its rule, and
    each rule is compiled once (:class:`Compiled`).
    """

    def __init__(self, index: Index, rounding: Rounding) -> None:
        self.index = index
        self.rates = index.rates
        self.roster = index.roster
        self.trips = index.trips
        self.rounding = rounding
        self.rules: dict[tuple[str, str, str | None, int], PricingRule | None] = {}
        self._any: dict[tuple[str, str, int], PricingRule | None] = {}
        self.labor: dict[tuple[str, str], bool] = {}
        self._terms: dict[tuple[int, int | None], tuple[PricingRule, Terms]] = {}
        self._on: dict[tuple[str, str, str | None, int], tuple[PricingRule | None, Terms | None]]
        self._on = {}

    def rule(self, contract: str, clin: str, category: str | None, day: int) -> PricingRule | None:
        """Return the rule of (contract, CLIN, category) in force on *day* (memoized)."""
        key = (contract, clin, category, day)
        try:
            return self.rules[key]
        except KeyError:
            found = self.rules[key] = self.rates.find(contract, clin, day, category)
            return found

    def any_rule(self, contract: str, clin: str, day: int) -> PricingRule | None:
        """Return a rule of the CLIN in force on *day* in any category (memoized)."""
        key = (contract, clin, day)
        try:
            return self._any[key]
        except KeyError:
            found = self._any[key] = self.rates.find_any(contract, clin, day)
            return found

    def is_labor(self, contract: str, clin: str) -> bool:
        """Return whether the CLIN is priced on ``labor_hours`` (memoized)."""
        key = (contract, clin)
        try:
            return self.labor[key]
        except KeyError:
            found = self.labor[key] = self.rates.is_labor(contract, clin)
            return found

    def on(
        self, contract: str, clin: str, category: str | None, day: int
    ) -> tuple[PricingRule | None, Terms | None]:
        """Return the rule of (contract, CLIN, category) on *day* and its terms (memoized)."""
        key = (contract, clin, category, day)
        found = self._on.get(key)
        if found is None:
            rule = self.rule(contract, clin, category, day)
            found = self._on[key] = (rule, None if rule is None else self.terms(rule, day))
        return found

    def terms(self, rule: PricingRule, day: int) -> Terms:
        """Return the terms of *rule* on *day* (per fuel week for fuel rules)."""
        week = FuelIndex.week_for(day, rule.fuel.week_rule) if rule.fuel is not None else None
        entry = self._terms.get((id(rule), week))
        if entry is not None and entry[0] is rule:
            return entry[1]
        c = compiled(rule)
        mode = rule.rounding or self.rounding
        slot = None if rule.basis in NON_MEASURE_BASES else self.trips.slot(rule.basis)
        found = Terms(rule, mode, slot, c.tariff_on(day, None, self.index.fuel, mode))
        self._terms[(id(rule), week)] = (rule, found)
        return found

    def line(
        self,
        contract: str,
        clin: str,
        category: str | None,
        person: str | None,
        day: int,
        trip: tuple[Any, ...] | None,
        *,
        quantity_only: bool = False,
    ) -> LinePrice:
        """Price one line against *trip* (or only find its rule on *day*, without a trip).

        The trip's service date governs the rule. For ``labor_hours`` CLINs the category and
        hours come from the roster (DESIGN section 4.1). With *quantity_only*, stop after the
        billable quantity (what inference compares), without pricing.
        """
        trip_id = ""
        if trip is not None:
            trip_id, day = trip[T_ID], trip[T_DAY]
        persons: tuple[str, ...] = ()
        mismatch = False
        quantity: Scaled | None = None
        if self.is_labor(contract, clin):
            roster = self.roster
            if person is not None:
                found = roster.person(contract, trip_id, person) if trip is not None else None
                if found is not None:
                    on_roster, units, scale = found
                    mismatch = category is not None and on_roster != category
                    category = on_roster
                    quantity = (units, scale)
                persons = (person,)
            elif trip is not None:
                persons = tuple(roster.people(contract, trip_id, category))
                if persons:
                    quantity = roster.total_hours(contract, trip_id, persons)
            rule = self.rule(contract, clin, category, day)
            if category is None and rule is None:
                # The category cannot be known: NO_RATE is judged on the CLIN alone.
                rule = self.any_rule(contract, clin, day)
                if rule is not None:
                    missing = (
                        None
                        if trip is None
                        else f"the labor category of {person or 'the line'} on trip {trip_id} "
                        "(the line names none and the roster does not list the person)"
                    )
                    return (rule, True, missing, None, None, None, None, None, None, persons,
                            None, False)  # fmt: skip
        else:
            rule = self.rule(contract, clin, category, day)
        if rule is None or trip is None:
            return (rule, False, None, None, None, None, None, None, None, persons, category,
                    mismatch)  # fmt: skip
        terms = self.terms(rule, day)
        if terms.labor:
            if quantity is None:
                missing = f"no roster hours on trip {trip_id} for " + (
                    ", ".join(persons) if persons else f"labor category {category or 'any'}"
                )
                return (rule, False, missing, None, None, None, None, terms, None, persons,
                        category, mismatch)  # fmt: skip
        elif terms.one:
            quantity = ONE
        else:
            quantity = None if terms.slot is None else trip[terms.slot]
            if quantity is None:
                missing = f"measure {rule.basis!r} not recorded on trip {trip_id}"
                return (rule, False, missing, None, None, None, None, terms, None, persons,
                        category, mismatch)  # fmt: skip
        qe = quantity if terms.plain else terms.compiled.billable(quantity)
        if quantity_only:
            return (rule, False, None, quantity, qe, None, None, terms, None, persons, category,
                    mismatch)  # fmt: skip
        tariff: Tariff | str | None = terms.tariff
        if terms.by_notice:
            tariff = terms.on_notice(trip[T_NOTICE])
        if tariff is None or isinstance(tariff, str):
            missing = terms.missing if tariff is None else tariff
            return (rule, False, missing, quantity, qe, None, None, terms, None, persons,
                    category, mismatch)  # fmt: skip
        p = tariff.price_cents(qe, terms.mode)
        return (rule, False, None, quantity, qe, p, terms.compiled.expected_cents(qe, p), terms,
                tariff, persons, category, mismatch)  # fmt: skip


#: The quantity of the one-unit bases (trip, cancellation).
ONE: Final[Scaled] = (1, 0)


def price_line(
    inputs: Inputs,
    index: Index,
    line: int,
    trip: int | None,
    *,
    policy: Policy | None = None,
) -> LinePricing:
    """Price invoice line number *line* (a row of ``inputs.invoice_lines``) against *trip*.

    *trip* is a row of ``inputs.manifests``; its service date governs the rule (DESIGN
    section 5). With *trip* ``None`` (no trip supports the line) only the rule is looked
    up, on the line's own date, and nothing is priced. For ``labor_hours`` CLINs the
    category and hours come from the roster as DESIGN section 4.1 describes.
    """
    lines = inputs.invoice_lines
    clin, day = lines.clin[line], lines.service_date[line]
    assert clin is not None and day is not None, "INVALID lines are not priced"
    pricer = Pricer(index, (policy or Policy()).rounding)
    found = pricer.line(
        lines.contract_id[line],
        clin,
        lines.labor_category[line],
        lines.person_id[line],
        day,
        None if trip is None else index.trips.tuples[trip],
    )
    rule, unknown, *_, persons, category, mismatch = found
    return LinePricing(
        rule=rule,
        pricing=None if trip is None else _pricing_record(found),
        labor_category=category,
        category_mismatch=mismatch,
        persons=persons,
        category_unknown=unknown,
    )


def _pricing_record(found: LinePrice) -> Pricing | MissingEvidence | None:
    """Return the record form of a line's price: Pricing, MissingEvidence or None."""
    rule, _, missing, q, qe, p, e, terms, tariff, *_rest = found
    if rule is None:
        return None
    if missing is not None:
        return MissingEvidence(
            rule=rule,
            what=missing,
            billable_quantity=None if qe is None else scaled_to_decimal(*qe),
        )
    if e is None or q is None or qe is None:
        return None
    assert terms is not None and tariff is not None and p is not None
    rate = tariff.effective_rate(qe)
    return Pricing(
        rule=rule,
        quantity=scaled_to_decimal(*q),
        billable_quantity=scaled_to_decimal(*qe),
        rate=None if rate is None else scaled_to_decimal(*rate),
        price=cents_to_decimal(p),
        expected=cents_to_decimal(e),
        rounding=terms.mode,
        index_week=None if terms.week is None else dt.date.fromordinal(terms.week),
        index_price=terms.index_price,
    )


def _price_scaled(
    rule: PricingRule,
    q: Scaled,
    day: int | None,
    notice: Scaled | None,
    fuel_index: FuelIndex | None,
    rounding: Rounding,
) -> Pricing | MissingEvidence:
    """Price *q* units under *rule* (the integer core of :func:`price`)."""
    c = compiled(rule)
    mode = rule.rounding or rounding
    terms = c.tariff_on(day, notice, fuel_index, mode)
    qe = c.billable(q)
    if isinstance(terms, str):
        return MissingEvidence(rule=rule, what=terms, billable_quantity=scaled_to_decimal(*qe))
    tariff, week, index_price = terms
    p = tariff.price_cents(qe, mode)
    rate = tariff.effective_rate(qe)
    return Pricing(
        rule=rule,
        quantity=scaled_to_decimal(*q),
        billable_quantity=scaled_to_decimal(*qe),
        rate=None if rate is None else scaled_to_decimal(*rate),
        price=cents_to_decimal(p),
        expected=cents_to_decimal(c.expected_cents(qe, p)),
        rounding=mode,
        index_week=None if week is None else dt.date.fromordinal(week),
        index_price=index_price,
    )


# --------------------------------------------------------------------- the price stage


class PricedChunk:
    """The price stage's result for one chunk, as columns by position in the chunk.

    For every valid line: the rule (``None``: no rate), the measured quantity ``q`` and the
    billable one ``qe`` as ``(units, scale)``, P(qe) and E in cents (``None`` unless priced),
    the :class:`Terms` and the :class:`Tariff` used, the persons billed and the labor
    category priced. Rare facts are sparse: ``missing`` (position -> what evidence is
    missing), ``mismatch`` (the named person's roster category differs from the billed
    one) and ``unknown`` (the line's labor category cannot be known; its rule only proves
    that the CLIN has a rate).
    """

    __slots__ = (
        "category",
        "expected",
        "mismatch",
        "missing",
        "persons",
        "price",
        "q",
        "qe",
        "rule",
        "tariff",
        "terms",
        "unknown",
    )

    def __init__(self, n: int) -> None:
        self.rule: list[PricingRule | None] = [None] * n
        self.q: list[Scaled | None] = [None] * n
        self.qe: list[Scaled | None] = [None] * n
        self.price: list[int | None] = [None] * n
        self.expected: list[int | None] = [None] * n
        self.terms: list[Terms | None] = [None] * n
        self.tariff: list[Tariff | None] = [None] * n
        self.persons: list[tuple[str, ...]] = [()] * n
        self.category: list[str | None] = [None] * n
        self.missing: dict[int, str] = {}
        self.mismatch: set[int] = set()
        self.unknown: set[int] = set()

    def put(self, k: int, found: LinePrice) -> None:
        """Store what :meth:`Pricer.line` found for the line at position *k*."""
        rule, unknown, missing, q, qe, p, e, terms, tariff, persons, category, mismatch = found
        self.rule[k], self.q[k], self.qe[k], self.price[k], self.expected[k] = rule, q, qe, p, e
        self.terms[k], self.tariff[k], self.persons[k], self.category[k] = (
            terms,
            tariff,
            persons,
            category,
        )
        if missing is not None:
            self.missing[k] = missing
        if mismatch:
            self.mismatch.add(k)
        if unknown:
            self.unknown.add(k)


#: Price lines through the general path only (a property test compares both paths).
_FAST_PATHS = True

_POW10: Final = tuple(10**i for i in range(40))
_HALF_UP: Final = Rounding.HALF_UP


def price_chunk(
    chunk: LineChunk, trips: Sequence[tuple[Any, ...] | None], pricer: Pricer
) -> PricedChunk:
    """Price every valid line of *chunk* against its matched trip (*trips*, by position).

    A line without a trip only has its rule looked up, on its own date. The usual lines —
    a non-labor CLIN, a trip, a flat rate or fuel rate, a recorded measure; or a labor CLIN
    naming a person on the trip's roster, whose category's rule has a flat rate — are
    priced inline from their rule's integer constants; every other line by
    :meth:`Pricer.line`, which gives the same result for all of them.
    """
    out = PricedChunk(len(chunk))
    rule_col, q_col, qe_col, p_col, e_col = out.rule, out.q, out.qe, out.price, out.expected
    terms_col, tariff_col, category_col = out.terms, out.tariff, out.category
    labor_of, on = pricer.labor, pricer.on
    line = pricer.line
    fast = _FAST_PATHS
    pow10_ = _POW10
    half_up = _HALF_UP
    person_of = pricer.roster.person
    persons_col, mismatch = out.persons, out.mismatch
    for k, (ok, contract, clin, day, category, trip) in enumerate(
        zip(chunk.valid, chunk.contract, chunk.clin, chunk.day, chunk.category, trips,
            strict=True)
    ):  # fmt: skip
        if not ok:
            continue
        assert clin is not None and day is not None
        if fast and trip is not None:
            labor = labor_of.get((contract, clin))
            if labor is None:
                labor = pricer.is_labor(contract, clin)
            q: Scaled | None = None
            priced_as = category
            if not labor:
                rule, terms = on(contract, clin, category, trip[T_DAY])
                if terms is not None and terms.flat is not None:
                    if terms.one:
                        q = ONE
                    elif terms.slot is not None:
                        q = trip[terms.slot]
            else:
                # A labor line naming a person on the trip's roster: the roster gives the
                # category priced and the hours (DESIGN section 4.1).
                person = chunk.person[k]
                found = None if person is None else person_of(contract, trip[T_ID], person)
                if found is not None:
                    assert person is not None
                    priced_as = found[0]
                    rule, terms = on(contract, clin, priced_as, trip[T_DAY])
                    if terms is not None and terms.flat is not None and terms.labor:
                        q = (found[1], found[2])
                        persons_col[k] = (person,)
                        if category is not None and priced_as != category:
                            mismatch.add(k)
            if q is not None:
                assert terms is not None and terms.flat is not None
                qe = q if terms.plain else terms.compiled.billable(q)
                ru, rs = terms.flat
                n = qe[0] * ru
                sc = qe[1] + rs
                if sc <= 2:
                    p = n * pow10_[2 - sc]
                elif terms.mode is half_up:
                    d = pow10_[sc - 2]
                    p = (2 * n + d) // (2 * d)
                else:
                    p = round_div(n, pow10_[sc - 2], terms.mode)
                minimum = terms.compiled.min_amount
                rule_col[k] = rule
                q_col[k] = q
                qe_col[k] = qe
                p_col[k] = p
                e_col[k] = p if minimum is None or qe[0] <= 0 or p >= minimum else minimum
                terms_col[k] = terms
                tariff_col[k] = terms.tariff
                category_col[k] = priced_as
                continue
        out.put(k, line(contract, clin, category, chunk.person[k], day, trip))
    return out
