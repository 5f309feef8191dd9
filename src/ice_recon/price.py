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
The integer core (:class:`Tariff`, :class:`Compiled`, :func:`compiled`) is in
:mod:`ice_recon._price_tariff`, the per-run lookups (:class:`Pricer`, :class:`Terms`) in
:mod:`ice_recon._price_terms`; this module re-exports them.

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

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

import attrs

from ice_recon._price_tariff import Compiled as Compiled
from ice_recon._price_tariff import Scaled
from ice_recon._price_tariff import Tariff as Tariff
from ice_recon._price_tariff import compiled as compiled
from ice_recon._price_terms import ONE as ONE
from ice_recon._price_terms import LinePrice as LinePrice
from ice_recon._price_terms import Pricer as Pricer
from ice_recon._price_terms import Terms as Terms
from ice_recon.errors import ArgumentError, ArgumentTypeError, MissingEvidenceError
from ice_recon.index import T_DAY, T_ID, FuelIndex, Index, PricingRule
from ice_recon.load import Inputs
from ice_recon.money import (
    Rounding,
    cents_to_decimal,
    check_decimal,
    decimal_to_scaled,
    round_div,
    scaled_to_decimal,
)
from ice_recon.policy import Policy
from ice_recon.records import (
    BASIS_CANCELLATION,
    BASIS_LABOR_HOURS,
    BASIS_TRIP,
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
