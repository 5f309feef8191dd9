"""The price stage's lookups for one run: a rule's terms on a date, and the Pricer.

:class:`Terms` is a rule's terms as the kernels use them (its compiled constants, tariff,
measure slot, rounding mode), per fuel week for fuel rules. :class:`Pricer` memoizes the
rule of (contract, CLIN, labor category, date), the terms of each rule and whether a CLIN is
priced on ``labor_hours``, and prices one line against a trip (:meth:`Pricer.line`, giving a
:data:`LinePrice`): the general path, which the match stage uses for billable quantities and
the price stage (:func:`ice_recon.price.price_chunk`) for every line its inline path does not
take. Internal; :mod:`ice_recon.price` re-exports :class:`Terms`, :class:`Pricer`,
:data:`LinePrice` and :data:`ONE`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from ice_recon._price_tariff import Scaled, Tariff, compiled
from ice_recon.index import T_DAY, T_ID, T_NOTICE, FuelIndex, Index, PricingRule
from ice_recon.money import Rounding
from ice_recon.records import (
    BASIS_CANCELLATION,
    BASIS_LABOR_HOURS,
    NON_MEASURE_BASES,
    ONE_UNIT_BASES,
)


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
