"""Oversight per contract and month: trips, people, capacity and cost (DESIGN section 9.3).

A stage after classification: it reads one :class:`TripFacts` per manifest trip and one
:class:`LineFacts` per valid invoice line, and returns the rows of ``oversight.csv`` and of
``capacity.csv`` (the trips counted in *unused capacity*, funds that could be put to
better use).

A worked example — one contract, two completed trips in March 2024: T1 carried 12 of 40
seats (30 %, below the 0.80 floor) and was billed 400.00, expected 400.00; T2 carried 38 of
40 and was billed 500.00. Unused capacity on T1 is 400.00 × (40 − 12) / 40 = 280.00; people
50, utilization 50 / 80 = 0.6250, cost per person 900.00 / 50 = 18.00:

>>> import datetime as dt
>>> from decimal import Decimal as D
>>> day = dt.date(2024, 3, 4)
>>> trips = [TripFacts(contract_id="C", trip_id=t, day=day, cancelled=False, claimed=True,
...                    passengers=D(p), seats=D("40")) for t, p in (("T1", "12"), ("T2", "38"))]
>>> lines = [LineFacts(contract_id="C", day=day, billed=b, expected=b, questioned=0,
...                    trip_id=t, priced=True, per_passenger=False)
...          for t, b in (("T1", 40_000), ("T2", 50_000))]
>>> rows, capacity = oversight(trips, lines)
>>> r = rows[0]
>>> r.month, r.people, r.utilization, r.cost_per_person, r.unused_capacity
('2024-03', Decimal('50'), Decimal('0.6250'), Decimal('18.00'), Decimal('280.00'))
>>> [(c.trip_id, c.expected, c.unused) for c in capacity]
[('T1', Decimal('400.00'), Decimal('280.00'))]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

import attrs

from ice_recon.money import Rounding, cents_to_decimal, round_div, scaled_to_decimal

__all__ = [
    "DEFAULT_UTILIZATION_FLOOR",
    "CapacityRow",
    "LineFacts",
    "OversightRow",
    "TripFacts",
    "oversight",
]

#: Policy.utilization_floor's default: a trip below 80 % of its seats has unused capacity.
DEFAULT_UTILIZATION_FLOOR = Decimal("0.80")


@attrs.frozen(kw_only=True)
class TripFacts:
    """One manifest trip: its month, state and the two measures oversight reads."""

    contract_id: str
    trip_id: str
    day: dt.date
    cancelled: bool
    claimed: bool
    passengers: Decimal | None
    seats: Decimal | None


@attrs.frozen(kw_only=True)
class LineFacts:
    """One valid invoice line, in cents: *day* is its matched trip's date, else its own.

    *priced* says its status is one of rows 7-14 (it has an expected amount from a rule);
    *per_passenger* that its rule prices passengers (those lines are not unused capacity).
    """

    contract_id: str
    day: dt.date
    billed: int
    expected: int
    questioned: int
    trip_id: str | None
    priced: bool
    per_passenger: bool


@attrs.frozen(kw_only=True)
class OversightRow:
    """One row of ``oversight.csv``: a contract's month (DESIGN section 9.3).

    *people*, *seats*, *utilization* and *cost_per_person* are None where a divisor is zero
    or a measure was never recorded; counts and money are always given.
    """

    contract_id: str
    month: str
    trips_completed: int
    trips_cancelled: int
    trips_billed: int
    trips_unbilled: int
    people: Decimal | None
    trips_without_count: int
    seats: Decimal | None
    utilization: Decimal | None
    billed: Decimal
    expected: Decimal
    questioned: Decimal
    cost_per_person: Decimal | None
    unused_capacity: Decimal


@attrs.frozen(kw_only=True)
class CapacityRow:
    """One row of ``capacity.csv``: a trip counted in unused capacity, with its arithmetic.

    *unused* = *expected* × (*seats* − *passengers*) / *seats*, rounded half up to cents.
    """

    contract_id: str
    trip_id: str
    service_date: dt.date
    passengers: Decimal
    seats: Decimal
    expected: Decimal
    unused: Decimal


@attrs.define
class _Month:
    completed: int = 0
    cancelled: int = 0
    billed_trips: int = 0
    unbilled: int = 0
    people: Fraction | None = None
    without_count: int = 0
    seats: Fraction | None = None
    seated_people: Fraction = Fraction(0)
    billed: int = 0
    expected: int = 0
    questioned: int = 0
    counted_billed: int = 0  # billed on completed trips that recorded passengers
    unused: int = 0


def _add(total: Fraction | None, value: Decimal) -> Fraction:
    return (total or Fraction(0)) + Fraction(value)


def _decimal(value: Fraction) -> Decimal:
    """Return an exact decimal of a sum of decimals (its denominator divides a power of ten)."""
    scale = 0
    while (value * 10**scale).denominator != 1:
        scale += 1
    return scaled_to_decimal(int(value * 10**scale), scale)


def _places(value: Fraction, places: int) -> Decimal:
    units = round_div(value.numerator * 10**places, value.denominator, Rounding.HALF_UP)
    return scaled_to_decimal(units, places)


def oversight(
    trips: Iterable[TripFacts],
    lines: Iterable[LineFacts],
    utilization_floor: Decimal = DEFAULT_UTILIZATION_FLOOR,
) -> tuple[list[OversightRow], list[CapacityRow]]:
    """Return the ``oversight.csv`` rows (by contract, month) and the ``capacity.csv`` rows.

    A month appears when it has a trip or a line. Unused capacity counts every claimed
    completed trip that recorded passengers and seats with passengers / seats below
    *utilization_floor* (exact comparison): the expected amounts of its priced lines not
    priced per passenger, times (seats − passengers) / seats, rounded once per trip.
    """
    months: dict[tuple[str, str], _Month] = {}
    low: dict[tuple[str, str], TripFacts] = {}
    counted: set[tuple[str, str]] = set()  # completed trips that recorded passengers
    floor = Fraction(utilization_floor)
    for t in trips:
        m = months.setdefault((t.contract_id, t.day.strftime("%Y-%m")), _Month())
        if t.cancelled:
            m.cancelled += 1
        else:
            m.completed += 1
            if t.passengers is None:
                m.without_count += 1
            else:
                m.people = _add(m.people, t.passengers)
                counted.add((t.contract_id, t.trip_id))
                if t.seats is not None:
                    m.seats = _add(m.seats, t.seats)
                    m.seated_people += Fraction(t.passengers)
                    if (
                        t.claimed
                        and t.seats > 0
                        and Fraction(t.passengers) / Fraction(t.seats) < floor
                    ):
                        low[(t.contract_id, t.trip_id)] = t
        if t.claimed:
            m.billed_trips += 1
        else:
            m.unbilled += 1
    idle: dict[tuple[str, str], int] = {}
    for line in lines:
        m = months.setdefault((line.contract_id, line.day.strftime("%Y-%m")), _Month())
        m.billed += line.billed
        m.expected += line.expected
        m.questioned += line.questioned
        key = (line.contract_id, line.trip_id or "")
        if line.trip_id is not None and key in counted:
            m.counted_billed += line.billed
        if key in low and line.priced and not line.per_passenger:
            idle[key] = idle.get(key, 0) + line.expected
    capacity: list[CapacityRow] = []
    for key in sorted(idle):
        t = low[key]
        assert t.passengers is not None and t.seats is not None
        share = Fraction(t.seats - t.passengers) / Fraction(t.seats)
        unused = idle[key] * share
        cents = round_div(unused.numerator, unused.denominator, Rounding.HALF_UP)
        months[(t.contract_id, t.day.strftime("%Y-%m"))].unused += cents
        capacity.append(
            CapacityRow(
                contract_id=t.contract_id,
                trip_id=t.trip_id,
                service_date=t.day,
                passengers=t.passengers,
                seats=t.seats,
                expected=cents_to_decimal(idle[key]),
                unused=cents_to_decimal(cents),
            )
        )
    rows = [_row(contract, month, m) for (contract, month), m in sorted(months.items())]
    return rows, capacity


def _row(contract: str, month: str, m: _Month) -> OversightRow:
    people = m.people
    cost = None
    if people:
        per = Fraction(m.counted_billed) / people
        cost = cents_to_decimal(round_div(per.numerator, per.denominator, Rounding.HALF_UP))
    return OversightRow(
        contract_id=contract,
        month=month,
        trips_completed=m.completed,
        trips_cancelled=m.cancelled,
        trips_billed=m.billed_trips,
        trips_unbilled=m.unbilled,
        people=None if people is None else _decimal(people),
        trips_without_count=m.without_count,
        seats=None if m.seats is None else _decimal(m.seats),
        utilization=_places(m.seated_people / m.seats, 4) if m.seats else None,
        billed=cents_to_decimal(m.billed),
        expected=cents_to_decimal(m.expected),
        questioned=cents_to_decimal(m.questioned),
        cost_per_person=cost,
        unused_capacity=cents_to_decimal(m.unused),
    )
