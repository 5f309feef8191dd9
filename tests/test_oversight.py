"""Tests of oversight per contract and month (DESIGN section 9.3, ``ice_recon.oversight``).

Every expected figure is worked out by hand in the docstrings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ice_recon.oversight import LineFacts, TripFacts, oversight

D = Decimal
MARCH, APRIL = dt.date(2024, 3, 4), dt.date(2024, 4, 8)


def _trip(
    trip: str,
    day: dt.date = MARCH,
    *,
    passengers: str | None = None,
    seats: str | None = None,
    cancelled: bool = False,
    claimed: bool = True,
    contract: str = "C",
) -> TripFacts:
    return TripFacts(
        contract_id=contract,
        trip_id=trip,
        day=day,
        cancelled=cancelled,
        claimed=claimed,
        passengers=None if passengers is None else D(passengers),
        seats=None if seats is None else D(seats),
    )


def _line(
    trip: str | None,
    billed: int,
    day: dt.date = MARCH,
    *,
    expected: int | None = None,
    questioned: int = 0,
    priced: bool = True,
    per_passenger: bool = False,
) -> LineFacts:
    return LineFacts(
        contract_id="C",
        day=day,
        billed=billed,
        expected=billed if expected is None else expected,
        questioned=questioned,
        trip_id=trip,
        priced=priced,
        per_passenger=per_passenger,
    )


def test_counts_people_and_money_by_month() -> None:
    """March: T1 (10 of 20 seats), T2 (no count), T3 cancelled, T4 unclaimed (30, no seats).

    Completed 3, cancelled 1, billed 3 (T1, T2, T3), unbilled 1; people 10 + 30 = 40 with one
    trip without a count; seats only where both were recorded: 20, utilization 10 / 20 =
    0.5000. Lines: 100.00 on T1, 50.00 on T2, 20.00 questioned of 70.00 without a trip.
    Cost per person: lines on trips that recorded passengers (T1 only) 100.00 / 40 = 2.50.
    April has only a line of 5.00: zero counts, no people, no utilization, no cost.
    """
    trips = [
        _trip("T1", passengers="10", seats="20"),
        _trip("T2"),
        _trip("T3", cancelled=True),
        _trip("T4", passengers="30", claimed=False),
    ]
    lines = [
        _line("T1", 10_000),
        _line("T2", 5_000),
        _line(None, 7_000, expected=0, questioned=2_000),
        _line(None, 500, APRIL),
    ]

    rows, _ = oversight(trips, lines, utilization_floor=D("0.40"))

    march, april = rows
    assert (march.month, april.month) == ("2024-03", "2024-04")
    actual = (
        march.trips_completed,
        march.trips_cancelled,
        march.trips_billed,
        march.trips_unbilled,
        march.people,
        march.trips_without_count,
        march.seats,
        march.utilization,
        march.billed,
        march.expected,
        march.questioned,
        march.cost_per_person,
        march.unused_capacity,
    )
    expected = (3, 1, 3, 1, D("40"), 1, D("20"), D("0.5000"), D("220.00"), D("150.00"),
                D("20.00"), D("2.50"), D("0.00"))  # fmt: skip
    assert expected == actual
    assert (april.trips_completed, april.people, april.utilization, april.cost_per_person) == (
        0,
        None,
        None,
        None,
    )
    assert april.billed == D("5.00")


def test_unused_capacity_counts_claimed_low_trips_only() -> None:
    """Floor 0.80. T1 8/10 is at the floor (not below): not counted. T2 3/10: counted.

    T2's lines: 200.00 on a per-mile rule and 90.00 per passenger (left out), so unused =
    200.00 x 7/10 = 140.00. T3 1/10 is below but unclaimed: not counted. T4 2/10 has only an
    unpriced line (NO_RATE): expected 0, nothing listed.
    """
    trips = [
        _trip("T1", passengers="8", seats="10"),
        _trip("T2", passengers="3", seats="10"),
        _trip("T3", passengers="1", seats="10", claimed=False),
        _trip("T4", passengers="2", seats="10"),
    ]
    lines = [
        _line("T1", 10_000),
        _line("T2", 20_000),
        _line("T2", 9_000, per_passenger=True),
        _line("T4", 5_000, expected=0, priced=False),
    ]

    rows, capacity = oversight(trips, lines)

    assert [(c.trip_id, c.expected, c.unused) for c in capacity] == [
        ("T2", D("200.00"), D("140.00"))
    ]
    assert rows[0].unused_capacity == D("140.00")


def test_unused_capacity_is_rounded_once_per_trip() -> None:
    """Two lines of 0.01 on a trip at 1 of 2 seats: 0.02 x 1/2 = 0.01 (per line: 0.01 each)."""
    trips = [_trip("T1", passengers="1", seats="2")]
    lines = [_line("T1", 1), _line("T1", 1)]

    _, capacity = oversight(trips, lines)

    assert [c.unused for c in capacity] == [D("0.01")]


def test_months_sum_to_the_contract() -> None:
    """Billed over the months equals the lines' total; rows sorted by contract, month."""
    trips = [_trip("T1", APRIL), _trip("T2", MARCH, contract="B")]
    lines = [_line("T1", 300, APRIL), _line(None, 700, MARCH)]

    rows, _ = oversight(trips, lines)

    assert [(r.contract_id, r.month) for r in rows] == [
        ("B", "2024-03"),
        ("C", "2024-03"),
        ("C", "2024-04"),
    ]
    assert sum(r.billed for r in rows) == D("10.00")
