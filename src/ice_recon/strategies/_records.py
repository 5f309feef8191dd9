"""Provide the public strategies of input records, one table at a time.

:func:`rate_rules` and :func:`rate_schedules` (with :class:`RateSchedule`), :func:`trips` and
:func:`manifests`, :func:`rosters`, :func:`invoice_lines`: valid records of the input tables
of DESIGN section 4.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import attrs
from hypothesis import strategies as st

from ice_recon.money import IncrementRounding, Rounding, scaled_to_decimal
from ice_recon.records import (
    FuelIndexPoint,
    FuelRule,
    InvoiceLine,
    RateRule,
    StaffAssignment,
    TierMode,
    Trip,
    TripStatus,
    WeekRule,
)
from ice_recon.strategies._check import (
    InvalidArgument,
    _check_dates,
    _check_int,
    _check_names,
    _check_size,
)
from ice_recon.strategies._draw import (
    _CATEGORIES,
    _CONTRACT_IDS,
    _MAX_DATE,
    _MEASURE_NAMES,
    _MEASURES,
    _MIN_DATE,
    _NO_RULE_CATEGORY,
    _SITES,
    _clin_text,
    _dates,
    _decimal,
    _ints,
    _maybe,
    _pick,
)
from ice_recon.strategies._oracle import _cents, _dec, _money

_RULE_BASES: Final = (*_MEASURE_NAMES, "trip", "cancellation", "labor_hours")
_KINDS: Final = (
    "measure",
    "trip",
    "cancellation",
    "cancellation_tiers",
    "labor_hours",
    "graduated",
    "all_units",
    "fuel",
)


def rate_rules(
    *,
    contract_ids: Sequence[str] = _CONTRACT_IDS[:3],
    bases: Sequence[str] = _RULE_BASES,
    min_date: dt.date = _MIN_DATE,
    max_date: dt.date = _MAX_DATE,
) -> st.SearchStrategy[RateRule]:
    """Return a strategy of single, flat ``rates.csv`` rules (for tier sets, see below).

    Tier sets, fuel rules and whole consistent schedules come from :func:`rate_schedules`.
    Each rule is valid on its own: a window inside ``[min_date, max_date]`` with ``start <=
    end``, a non-negative rate with 2 to 4 places, and a random selection of the optional
    columns — ``minimum_amount`` (money), ``minimum_quantity``, ``free_quantity``,
    ``increment`` (> 0) with ``increment_rounding``, ``rounding``, ``authority``, ``rule_id``
    and ``description``. A ``labor_hours`` rule may name a labor category. A rule whose basis
    is a measure needs that measure as a column of ``manifests.csv`` to load.

    Args:
        contract_ids: the contract ids to draw from.
        bases: the bases to draw from (``trip``, ``cancellation``, ``labor_hours`` or measure
            names).
    """
    contracts = _check_names("contract_ids", contract_ids)
    basis_names = _check_names("bases", bases)
    lo, hi = _check_dates(min_date, max_date)

    @st.composite
    def draw_rule(draw: st.DrawFn) -> RateRule:
        return _draw_rate_rule(draw, _pick(draw, contracts), _pick(draw, basis_names), lo, hi)

    return draw_rule()


def _draw_rate_rule(
    draw: st.DrawFn, contract: str, basis: str, lo: dt.date, hi: dt.date
) -> RateRule:
    start = draw(_dates(lo, hi))
    end = draw(_dates(start, hi))
    measure = _MEASURES.get(basis)
    places = _pick(draw, (2, 4, 3))
    if basis == "labor_hours":
        rate = _decimal(draw, 3000, 9500, places)
    elif measure is not None:
        rate = _decimal(draw, measure.rate_low, measure.rate_high, places)
    else:
        rate = _decimal(draw, 5000, 50000, places)
    features: dict[str, Any] = {}
    if measure is not None or basis == "labor_hours":
        m = measure or _MEASURES["vehicle_hours"]
        if _maybe(draw, 3):
            features["free_quantity"] = Decimal(_pick(draw, m.free))
        if _maybe(draw, 3):
            features["increment"] = Decimal(_pick(draw, m.increments))
            features["increment_rounding"] = _pick(draw, (None, *IncrementRounding))
        if _maybe(draw, 2):
            features["minimum_quantity"] = Decimal(_pick(draw, m.minimums))
    if _maybe(draw, 3):
        features["minimum_amount"] = _decimal(draw, 1000, 30000, 2)
    if _maybe(draw, 3):
        features["rounding"] = _pick(draw, tuple(Rounding))
    return RateRule(
        contract_id=contract,
        clin=_clin_text(draw(_ints(1, 99)), _maybe(draw, 1)),
        basis=basis,
        rate=rate,
        start=start,
        end=end,
        labor_category=(
            _pick(draw, _CATEGORIES) if basis == "labor_hours" and _maybe(draw, 8) else None
        ),
        authority=f"P{draw(_ints(0, 12)):05d} B.{draw(_ints(1, 9))}" if _maybe(draw, 5) else None,
        rule_id=None,
        description=None,
        **features,
    )


@attrs.frozen(kw_only=True)
class RateSchedule:
    """A consistent set of rate rules, fuel rules and fuel index (see :func:`rate_schedules`).

    Attributes:
        rates: ``rates.csv`` rows (tier sets as several rows).
        fuel_rules: ``fuel_rules.csv`` rows.
        fuel_index: ``fuel_index.csv`` rows: a price for every week a fuel rule can need.
        measures: the measure names the rules use as basis (columns ``manifests.csv``
            must have for the schedule to load).
    """

    rates: tuple[RateRule, ...]
    fuel_rules: tuple[FuelRule, ...] = ()
    fuel_index: tuple[FuelIndexPoint, ...] = ()
    measures: tuple[str, ...] = ()


def _periods(
    draw: st.DrawFn, lo: dt.date, hi: dt.date, count: int
) -> list[tuple[dt.date, dt.date]]:
    """Draw up to *count* consecutive windows inside [lo, hi], with gaps now and then."""
    cuts = sorted({draw(_dates(lo, hi)) for _ in range(count - 1)})
    bounds = [lo, *cuts, hi + dt.timedelta(days=1)]
    out = []
    for a, b in itertools.pairwise(bounds):
        end = b - dt.timedelta(days=1)
        if end < a:
            continue
        if _maybe(draw, 2) and (end - a).days > 10:
            end -= dt.timedelta(days=draw(_ints(1, 5)))  # a gap: no price on those days
        out.append((a, end))
    return out


def rate_schedules(
    *,
    contract_ids: Sequence[str] = _CONTRACT_IDS[:2],
    kinds: Sequence[str] = _KINDS,
    min_clins: int = 1,
    max_clins: int = 8,
    min_date: dt.date = _MIN_DATE,
    max_date: dt.date = _MAX_DATE,
) -> st.SearchStrategy[RateSchedule]:
    """Return a strategy of consistent rate schedules (:class:`RateSchedule`).

    Each CLIN of the schedule is priced by one *kind* of rule over 1 to 3 consecutive
    windows inside ``[min_date, max_date]`` (sometimes with gaps, where the CLIN has no
    price): ``measure`` (a flat rate per unit of a manifest measure, with free quantity,
    increment and its rounding, minimum quantity and minimum amount drawn independently),
    ``trip``, ``cancellation`` (a flat fee), ``cancellation_tiers`` (an ``all_units`` tier
    set on notice hours), ``labor_hours`` (one rule per labor category, or one for any
    category), ``graduated`` and ``all_units`` tier sets on a measure, and ``fuel`` (a
    ``fuel_rules.csv`` rule, with an index price for every week it may need). Rules draw
    their own rounding mode now and then.

    Guarantees: windows of one (contract, CLIN, labor category) never overlap, tier sets
    start at 0 and differ only in ``tier_from`` and ``rate``, no CLIN is priced by both
    files, index weeks are Mondays and unique, and ``rates.csv`` has at least one row
    (unless *kinds* is only ``fuel``) — the schedule loads without a problem when
    ``manifests.csv`` has the columns of :attr:`RateSchedule.measures`.
    """
    contracts = _check_names("contract_ids", contract_ids)
    kind_names = _check_names("kinds", kinds)
    for k in kind_names:
        if k not in _KINDS:
            raise InvalidArgument(f"kinds: unknown kind {k!r} (expected one of {_KINDS})")
    lo_n, hi_n = _check_int("min_clins", min_clins, 1), _check_int("max_clins", max_clins, 1)
    if lo_n > hi_n:
        raise InvalidArgument(f"min_clins={lo_n} must not be greater than max_clins={hi_n}")
    lo, hi = _check_dates(min_date, max_date)
    rate_kinds = [k for k in kind_names if k != "fuel"]

    @st.composite
    def draw_schedule(draw: st.DrawFn) -> RateSchedule:
        n = draw(_ints(lo_n, hi_n))
        rules: list[RateRule] = []
        fuel: list[FuelRule] = []
        measures: set[str] = set()
        next_clin: dict[str, int] = {}
        series = "EIA-DIESEL-US"
        for _ in range(n):
            contract = _pick(draw, contracts)
            next_clin[contract] = next_clin.get(contract, 0) + 1
            clin = _clin_text(next_clin[contract], _maybe(draw, 1))
            # rates.csv must have a row: the first CLIN is not a fuel rule if it can be.
            kind = _pick(draw, rate_kinds if not rules and rate_kinds else kind_names)
            windows = _periods(draw, lo, hi, draw(_ints(1, 3)))
            mode = _pick(draw, tuple(Rounding)) if _maybe(draw, 3) else None
            for start, end in windows:
                if kind == "fuel":
                    fuel.append(
                        FuelRule(
                            contract_id=contract,
                            clin=clin,
                            start=start,
                            end=end,
                            base_price=_decimal(draw, 250, 380, 3),
                            mpg=_decimal(draw, 500, 900, 1),
                            series=series,
                            week_rule=_pick(draw, tuple(WeekRule)),
                            places=_pick(draw, (2, 3, 4)),
                            rounding=mode,
                        )
                    )
                    measures.add("loaded_miles")
                    continue
                rules.extend(_schedule_rules(draw, contract, clin, kind, start, end, mode))
            measures.update(r.basis for r in rules if r.basis in _MEASURES)
        index: list[FuelIndexPoint] = []
        if fuel:
            monday = lo - dt.timedelta(days=lo.weekday() + 7)
            while monday <= hi:
                index.append(
                    FuelIndexPoint(series=series, week=monday, price=_decimal(draw, 250, 520, 3))
                )
                monday += dt.timedelta(days=7)
        return RateSchedule(
            rates=tuple(rules),
            fuel_rules=tuple(fuel),
            fuel_index=tuple(index),
            measures=tuple(sorted(measures)),
        )

    return draw_schedule()


def _schedule_rules(
    draw: st.DrawFn,
    contract: str,
    clin: str,
    kind: str,
    start: dt.date,
    end: dt.date,
    mode: Rounding | None,
) -> list[RateRule]:
    def rule(basis: str, rate: Decimal, **more: Any) -> RateRule:
        return RateRule(
            contract_id=contract,
            clin=clin,
            basis=basis,
            rate=rate,
            start=start,
            end=end,
            rounding=mode,
            **more,
        )

    if kind == "measure":
        basis = _pick(draw, _MEASURE_NAMES)
        r = _draw_rate_rule(draw, contract, basis, start, end)
        return [
            attrs.evolve(r, clin=clin, start=start, end=end, rounding=mode, labor_category=None)
        ]
    if kind == "trip":
        return [rule("trip", _decimal(draw, 5000, 40000, 2))]
    if kind == "cancellation":
        return [rule("cancellation", _decimal(draw, 5000, 40000, 2))]
    if kind == "cancellation_tiers":
        fees = sorted({_decimal(draw, 0, 40000, 2) for _ in range(3)}, reverse=True)
        starts = (Decimal(0), Decimal(24), Decimal(48), Decimal(72))
        return [
            rule("cancellation", fee, tier_from=s, tier_mode=TierMode.ALL_UNITS)
            for s, fee in zip(starts, fees, strict=False)
        ]
    if kind == "labor_hours":
        if _maybe(draw, 2):
            return [rule("labor_hours", _decimal(draw, 3000, 9500, 2))]
        count = draw(_ints(1, len(_CATEGORIES)))
        return [
            rule("labor_hours", _decimal(draw, 3000, 9500, 2), labor_category=c)
            for c in _CATEGORIES[:count]
        ]
    basis = _pick(draw, ("passengers", "loaded_miles"))
    m = _MEASURES[basis]
    span = m.high - m.low
    cuts = sorted({m.low + draw(_ints(1, span)) for _ in range(draw(_ints(1, 3)))})
    tier_starts = [Decimal(0), *(_dec(Fraction(c, 10**m.places), m.places) for c in cuts)]
    tier_mode = TierMode.GRADUATED if kind == "graduated" else TierMode.ALL_UNITS
    return [
        rule(basis, _decimal(draw, m.rate_low, m.rate_high, 2), tier_from=s, tier_mode=tier_mode)
        for s in tier_starts
    ]


def trips(
    *,
    contract_ids: Sequence[str] = _CONTRACT_IDS[:3],
    measures: Sequence[str] = _MEASURE_NAMES,
    min_date: dt.date = _MIN_DATE,
    max_date: dt.date = _MAX_DATE,
) -> st.SearchStrategy[Trip]:
    """Return a strategy of manifest trips (:class:`~ice_recon.records.Trip`).

    A trip is completed or cancelled (a cancelled one often records its
    ``cancel_notice_hours``), may record an origin and a destination, and records a random
    subset of *measures*, each with the places that measure is usually written with.
    """
    contracts = _check_names("contract_ids", contract_ids)
    names = _check_names("measures", measures, allow_empty=True)
    lo, hi = _check_dates(min_date, max_date)

    @st.composite
    def draw_trip(draw: st.DrawFn) -> Trip:
        return _draw_trip(draw, contracts, names, lo, hi)

    return draw_trip()


def _draw_trip(
    draw: st.DrawFn,
    contracts: Sequence[str],
    names: Sequence[str],
    lo: dt.date,
    hi: dt.date,
) -> Trip:
    cancelled = _maybe(draw, 2)
    recorded: dict[str, Decimal] = {}
    for name in names:
        if _maybe(draw, 7):
            m = _MEASURES.get(name, _MEASURES["vehicle_hours"])
            recorded[name] = scaled_to_decimal(draw(_ints(m.low, m.high)), m.places)
    route = _maybe(draw, 6)
    return Trip(
        trip_id=f"T{draw(_ints(1, 99999)):05d}",
        contract_id=_pick(draw, contracts),
        service_date=draw(_dates(lo, hi)),
        status=TripStatus.CANCELLED if cancelled else TripStatus.COMPLETED,
        origin=_pick(draw, _SITES) if route else None,
        destination=_pick(draw, _SITES) if route else None,
        cancel_notice_hours=(
            scaled_to_decimal(draw(_ints(0, 960)), 1) if cancelled and _maybe(draw, 7) else None
        ),
        measures=recorded,
    )


def manifests(
    *,
    contract_ids: Sequence[str] = _CONTRACT_IDS[:3],
    measures: Sequence[str] = _MEASURE_NAMES,
    min_size: int = 0,
    max_size: int = 20,
    min_date: dt.date = _MIN_DATE,
    max_date: dt.date = _MAX_DATE,
) -> st.SearchStrategy[tuple[Trip, ...]]:
    """Return a strategy of manifests: tuples of :func:`trips` with unique trip ids per contract.

    Trip ids are compared upper-cased, as the loader compares them.
    """
    lo_size, hi_size = _check_size(min_size, max_size)
    return st.lists(
        trips(contract_ids=contract_ids, measures=measures, min_date=min_date, max_date=max_date),
        min_size=lo_size,
        max_size=hi_size,
        unique_by=lambda t: (t.contract_id, t.trip_id.upper()),
    ).map(tuple)


def rosters(
    *,
    trips: Sequence[Trip] | None = None,
    labor_categories: Sequence[str] = (*_CATEGORIES, _NO_RULE_CATEGORY),
    min_size: int = 0,
    max_size: int = 20,
) -> st.SearchStrategy[tuple[StaffAssignment, ...]]:
    """Return a strategy of staff rosters (``staff.csv`` rows) for *trips*.

    Every row names a trip of *trips* (drawn with :func:`manifests` when not given), a
    person, a labor category and hours with 2 places (0.25 to 12.00). A person has one
    labor category per trip and appears at most once per trip.
    """
    lo_size, hi_size = _check_size(min_size, max_size)
    categories = _check_names("labor_categories", labor_categories)
    given = None if trips is None else tuple(trips)
    if given is not None:
        for t in given:
            if not isinstance(t, Trip):
                raise InvalidArgument(f"trips must hold Trip records (got {t!r})")
        if not given and lo_size > 0:
            raise InvalidArgument("a roster with min_size > 0 needs at least one trip")

    @st.composite
    def draw_roster(draw: st.DrawFn) -> tuple[StaffAssignment, ...]:
        pool = given if given is not None else draw(manifests(min_size=1, max_size=5))
        if not pool:
            return ()
        size = draw(_ints(lo_size, hi_size))
        rows: list[StaffAssignment] = []
        for n in range(size):
            trip = _pick(draw, pool)
            person = f"E{n + 1:04d}"
            rows.append(
                StaffAssignment(
                    trip_id=trip.trip_id,
                    contract_id=trip.contract_id,
                    person_id=person,
                    labor_category=_pick(draw, categories),
                    hours=scaled_to_decimal(draw(_ints(25, 1200)), 2),
                )
            )
        return tuple(rows)

    return draw_roster()


def invoice_lines(
    *,
    contract_ids: Sequence[str] = _CONTRACT_IDS[:3],
    trip_refs: Sequence[str] = (),
    min_date: dt.date = _MIN_DATE,
    max_date: dt.date = _MAX_DATE,
) -> st.SearchStrategy[InvoiceLine]:
    """Return a strategy of valid invoice lines (:class:`~ice_recon.records.InvoiceLine`).

    The amount is the quantity times the unit price rounded half up to cents, as most
    vendors bill; the trip reference, when there is one, is drawn from *trip_refs* (or made
    up when *trip_refs* is empty). Labor category, person, origin, destination and
    description are drawn now and then.
    """
    contracts = _check_names("contract_ids", contract_ids)
    refs = _check_names("trip_refs", trip_refs, allow_empty=True)
    lo, hi = _check_dates(min_date, max_date)

    @st.composite
    def draw_line(draw: st.DrawFn) -> InvoiceLine:
        places = _pick(draw, (1, 0, 2))
        quantity = scaled_to_decimal(draw(_ints(0, 5000 * 10**places)), places)
        price_places = _pick(draw, (2, 4, 3))
        price = scaled_to_decimal(draw(_ints(0, 400 * 10**price_places)), price_places)
        amount = _money(_cents(Fraction(quantity) * Fraction(price), Rounding.HALF_UP))
        ref = None
        if _maybe(draw, 8):
            ref = _pick(draw, refs) if refs else f"T{draw(_ints(1, 99999)):05d}"
        return InvoiceLine(
            invoice_id=f"INV-{draw(_ints(1, 9999)):04d}",
            line_no=draw(_ints(1, 999)),
            contract_id=_pick(draw, contracts),
            clin=_clin_text(draw(_ints(1, 99)), _maybe(draw, 1)),
            service_date=draw(_dates(lo, hi)),
            quantity=quantity,
            unit_price=price,
            amount=amount,
            trip_ref=ref,
            labor_category=_pick(draw, _CATEGORIES) if _maybe(draw, 2) else None,
            person_id=f"E{draw(_ints(1, 9999)):04d}" if _maybe(draw, 2) else None,
            origin=_pick(draw, _SITES) if _maybe(draw, 3) else None,
            destination=_pick(draw, _SITES) if _maybe(draw, 3) else None,
        )

    return draw_line()
