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
from collections.abc import Hashable, Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import attrs

from ice_recon.money import (
    Rounding,
    cents_to_decimal,
    decimal_to_scaled,
    pow10,
    round_div,
    scaled_to_decimal,
)
from ice_recon.records import Finding

__all__ = [
    "CAPACITY_COLUMNS",
    "CONTRACT_COLUMNS",
    "DEFAULT_UTILIZATION_FLOOR",
    "OVERSIGHT_COLUMNS",
    "CapacityRow",
    "ContractRow",
    "LineFacts",
    "Oversight",
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


@attrs.frozen(kw_only=True)
class ContractRow:
    """One row of ``contracts.csv``: a contract's figures and findings (DESIGN section 9.3).

    *billed*, *expected*, *questioned* and *underbilled* are the contract's ledgers (valid
    lines); *ceiling*, *funded* and *estimate* come from ``contracts.csv`` (None without
    them), *estimate_variance* = billed − estimate; *people*, *cost_per_person* and
    *utilization* are computed as in ``oversight.csv`` over the whole contract. The payment
    ledgers and funds put to better use are always given (0.00 when nothing).
    """

    contract_id: str
    findings: tuple[Finding, ...]
    billed: Decimal
    expected: Decimal
    questioned: Decimal
    underbilled: Decimal
    ceiling: Decimal | None
    funded: Decimal | None
    estimate: Decimal | None
    estimate_variance: Decimal | None
    people: Decimal | None
    cost_per_person: Decimal | None
    utilization: Decimal | None
    paid_erroneous: Decimal
    paid_unsupported: Decimal
    to_withhold: Decimal
    interest_due: Decimal
    unused_capacity: Decimal
    deobligation: Decimal
    funds_put_to_better_use: Decimal


@attrs.frozen(kw_only=True)
class Oversight:
    """The oversight outputs of a run: ``oversight.csv``, ``contracts.csv``, ``capacity.csv``.

    Attributes:
        months: one :class:`OversightRow` per contract and month, sorted.
        contracts: one :class:`ContractRow` per contract found in any input file, sorted.
        capacity: one :class:`CapacityRow` per trip counted in unused capacity, sorted by
            contract and trip id.
    """

    months: tuple[OversightRow, ...] = ()
    contracts: tuple[ContractRow, ...] = ()
    capacity: tuple[CapacityRow, ...] = ()


#: The columns of ``oversight.csv``.
OVERSIGHT_COLUMNS: Final = tuple(a.name for a in attrs.fields(OversightRow))
#: The columns of ``contracts.csv``.
CONTRACT_COLUMNS: Final = tuple(a.name for a in attrs.fields(ContractRow))
#: The columns of ``capacity.csv``.
CAPACITY_COLUMNS: Final = tuple(a.name for a in attrs.fields(CapacityRow))


class _Sum(dict[int, int]):
    """An exact sum of ``(units, scale)`` decimals, kept as one integer sum per scale."""

    def add(self, value: tuple[int, int]) -> None:
        self[value[1]] = self.get(value[1], 0) + value[0]

    def merge(self, other: _Sum) -> None:
        for scale, units in other.items():
            self[scale] = self.get(scale, 0) + units

    def exact(self) -> Fraction:
        return sum((Fraction(u, pow10(s)) for s, u in self.items()), Fraction(0))


@attrs.define
class Month:
    """The sums behind an oversight row, for a month or a whole contract (internal).

    Money is in cents; *people* and *seats* are ``None`` until a trip recorded them.
    """

    completed: int = 0
    cancelled: int = 0
    billed_trips: int = 0
    unbilled: int = 0
    people: _Sum | None = None
    without_count: int = 0
    seats: _Sum | None = None
    seated_people: _Sum = attrs.field(factory=_Sum)
    billed: int = 0
    expected: int = 0
    questioned: int = 0
    counted_billed: int = 0  # billed on completed trips that recorded passengers
    unused: int = 0

    def merge(self, other: Month) -> None:
        """Add the sums of *other*."""
        for name in ("completed", "cancelled", "billed_trips", "unbilled", "without_count",
                     "billed", "expected", "questioned", "counted_billed", "unused"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("people", "seats"):
            theirs = getattr(other, name)
            if theirs is not None:
                mine = getattr(self, name)
                if mine is None:
                    mine = _Sum()
                    setattr(self, name, mine)
                mine.merge(theirs)
        self.seated_people.merge(other.seated_people)

    def people_figures(self) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """Return (people, cost per person, utilization), None where undefined."""
        people = None if self.people is None else self.people.exact()
        cost = None
        if people:
            per = Fraction(self.counted_billed) / people
            cost = cents_to_decimal(round_div(per.numerator, per.denominator, Rounding.HALF_UP))
        seats = None if self.seats is None else self.seats.exact()
        utilization = _places(self.seated_people.exact() / seats, 4) if seats else None
        return None if people is None else _decimal(people), cost, utilization


#: A trip as the oversight reads it: key, contract, trip id, date ordinal, cancelled,
#: claimed, passengers and seats as ``(units, scale)`` (None when not recorded).
TripRow = tuple[
    Hashable, str, str, int, bool, bool, "tuple[int, int] | None", "tuple[int, int] | None"
]


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

    A line whose *trip_id* is none of *trips* counts in the month of its own date. A month
    appears when it has a trip or a line. Unused capacity counts every claimed completed
    trip that recorded passengers and seats with passengers / seats below
    *utilization_floor* (exact comparison): the expected amounts of its priced lines not
    priced per passenger, times (seats − passengers) / seats, rounded once per trip.
    """
    rows: list[TripRow] = [
        (
            (t.contract_id, t.trip_id),
            t.contract_id,
            t.trip_id,
            t.day.toordinal(),
            t.cancelled,
            t.claimed,
            None if t.passengers is None else decimal_to_scaled(t.passengers),
            None if t.seats is None else decimal_to_scaled(t.seats),
        )
        for t in trips
    ]
    by_trip: dict[Hashable, list[int]] = {}
    loose: dict[tuple[str, int], list[int]] = {}
    known = {row[0] for row in rows}
    for line in lines:
        if line.trip_id is None or (line.contract_id, line.trip_id) not in known:
            sums = loose.setdefault((line.contract_id, line.day.toordinal()), [0, 0, 0, 0])
        else:
            sums = by_trip.setdefault((line.contract_id, line.trip_id), [0, 0, 0, 0])
        sums[0] += line.billed
        sums[1] += line.expected
        sums[2] += line.questioned
        if line.priced and not line.per_passenger:
            sums[3] += line.expected
    months, capacity = month_sums(rows, by_trip, loose, utilization_floor)
    return oversight_rows(months), capacity


def month_sums(
    trips: Iterable[TripRow],
    by_trip: Mapping[Any, Sequence[int]],
    loose: Mapping[tuple[str, int], Sequence[int]],
    utilization_floor: Decimal,
) -> tuple[dict[tuple[str, str], Month], list[CapacityRow]]:
    """Sum trips and lines by (contract, month); return the sums and the capacity rows.

    *by_trip* holds, per trip key, the sums (billed, expected, questioned, expected of the
    priced lines not priced per passenger) of the valid lines matched to it, in cents;
    *loose* the first three sums of the valid lines without a trip, by (contract, date
    ordinal). Sums under a key that is not a trip's are not counted. A trip below the
    floor is listed in the capacity rows when the expected amount counted is not zero.
    """
    # Summed by (contract, date) first, then the days of a month are added up.
    days: dict[tuple[str, int], Month] = {}
    floor = Fraction(utilization_floor)
    capacity: list[CapacityRow] = []
    empty = (0, 0, 0, 0)
    for key, contract, trip_id, day, cancelled, claimed, passengers, seats in trips:
        m = days.get((contract, day))
        if m is None:
            m = days[(contract, day)] = Month()
        sums = by_trip.get(key, empty)
        m.billed += sums[0]
        m.expected += sums[1]
        m.questioned += sums[2]
        if claimed:
            m.billed_trips += 1
        else:
            m.unbilled += 1
        if cancelled:
            m.cancelled += 1
            continue
        m.completed += 1
        if passengers is None:
            m.without_count += 1
            continue
        if m.people is None:
            m.people = _Sum()
        m.people.add(passengers)
        m.counted_billed += sums[0]
        if seats is None:
            continue
        if m.seats is None:
            m.seats = _Sum()
        m.seats.add(seats)
        m.seated_people.add(passengers)
        if not claimed or not seats[0]:
            continue
        # passengers / seats < floor, exactly: p·10^-a / (s·10^-b) < floor.
        ratio = Fraction(passengers[0] * pow10(seats[1]), seats[0] * pow10(passengers[1]))
        if ratio < floor and sums[3]:
            unused = sums[3] * (1 - ratio)
            cents = round_div(unused.numerator, unused.denominator, Rounding.HALF_UP)
            m.unused += cents
            capacity.append(
                CapacityRow(
                    contract_id=contract,
                    trip_id=trip_id,
                    service_date=dt.date.fromordinal(day),
                    passengers=scaled_to_decimal(*passengers),
                    seats=scaled_to_decimal(*seats),
                    expected=cents_to_decimal(sums[3]),
                    unused=cents_to_decimal(cents),
                )
            )
    for (contract, day), sums in loose.items():
        m = days.get((contract, day))
        if m is None:
            m = days[(contract, day)] = Month()
        m.billed += sums[0]
        m.expected += sums[1]
        m.questioned += sums[2]
    capacity.sort(key=lambda c: (c.contract_id, c.trip_id))
    months: dict[tuple[str, str], Month] = {}
    texts: dict[int, str] = {}
    for (contract, day), m in days.items():
        text = texts.get(day)
        if text is None:
            text = texts[day] = dt.date.fromordinal(day).strftime("%Y-%m")
        found = months.get((contract, text))
        if found is None:
            months[(contract, text)] = m
        else:
            found.merge(m)
    return months, capacity


def oversight_rows(months: Mapping[tuple[str, str], Month]) -> list[OversightRow]:
    """Return the ``oversight.csv`` rows of the month sums, sorted by contract and month."""
    out: list[OversightRow] = []
    for (contract, text), m in sorted(months.items()):
        people, cost, utilization = m.people_figures()
        out.append(
            OversightRow(
                contract_id=contract,
                month=text,
                trips_completed=m.completed,
                trips_cancelled=m.cancelled,
                trips_billed=m.billed_trips,
                trips_unbilled=m.unbilled,
                people=people,
                trips_without_count=m.without_count,
                seats=None if m.seats is None else _decimal(m.seats.exact()),
                utilization=utilization,
                billed=cents_to_decimal(m.billed),
                expected=cents_to_decimal(m.expected),
                questioned=cents_to_decimal(m.questioned),
                cost_per_person=cost,
                unused_capacity=cents_to_decimal(m.unused),
            )
        )
    return out
