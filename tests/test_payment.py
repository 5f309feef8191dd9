"""Tests of the Prompt Payment rules (DESIGN section 9.2): acceptance, due date, interest.

Every expected value is worked out by hand in the comments, from 5 CFR 1315.10 and
FAR 52.232-25 as DESIGN section 9.2 states them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ice_recon.errors import MoneyTypeError
from ice_recon.payment import (
    acceptance_date,
    due_date,
    interest_cents,
    interest_owed,
    late_days,
    rate_on,
)

D = dt.date

INTEREST = [
    # (principal cents, rate %, days, expected cents, how)
    (1_245_000, "4.875", 20, 3372, "check value: 12450 * 0.04875 * 20/360 = 33.71875"),
    (150_000, "6", 75, 1883, "check value: 1500 * 1.005^2 * 1.0025 - 1500 = 18.8250938"),
    (1_000_000, "6", 29, 4833, "no period: 10000 * 0.06 * 29/360 = 48.3333"),
    (1_000_000, "6", 30, 5000, "one period: 10000 * 0.005 = 50.00"),
    (1_000_000, "6", 31, 5168, "10050 * (1 + 0.06/360) - 10000 = 51.675, a tie: half up"),
    (1_000_000, "6", 60, 10025, "two periods: 10000 * 1.005^2 - 10000 = 100.25"),
    # 365 days: n = 12, k = 5: 10000 * 1.005^12 * (1 + 0.06*5/360) - 10000
    #   1.005^12 = 1.061677811864497...; * 1.000833333... = 1.062562543374384...
    (1_000_000, "6", 365, 62563, "a year: 625.6254 -> 625.63"),
    (1_000_000, "6", 500, 62563, "capped at 365 days"),
    (10_000, "4", 5, 6, "100.00 * 0.04 * 5/360 = 0.0556: 0.06, computed but not owed"),
    (1_000_000, "6", 0, 0, "paid on the due date"),
    (0, "6", 90, 0, "nothing to pay interest on"),
]


@pytest.mark.parametrize(("principal", "rate", "days", "expected", "how"), INTEREST)
def test_interest(principal: int, rate: str, days: int, expected: int, how: str) -> None:
    """Interest in cents matches the hand computation."""
    actual = interest_cents(principal, Decimal(rate), days)

    assert expected == actual, how


def test_interest_rejects_a_float_rate() -> None:
    """Money and rates are never floats."""
    with pytest.raises(MoneyTypeError):
        interest_cents(100, 4.875, 10)  # type: ignore[arg-type]


@given(
    principal=st.integers(0, 10**11),
    rate=st.decimals(min_value=0, max_value=20, places=3),
    days=st.integers(0, 364),
)
def test_interest_grows_with_days_and_stops_at_a_year(
    principal: int, rate: Decimal, days: int
) -> None:
    """One more day never lowers the interest; any day past a year adds nothing."""
    today = interest_cents(principal, rate, days)
    tomorrow = interest_cents(principal, rate, days + 1)

    assert today <= tomorrow
    assert interest_cents(principal, rate, 365) == interest_cents(principal, rate, 365 + days)


def test_interest_owed_from_one_dollar() -> None:
    """99 cents is not owed, 1.00 is."""
    assert [interest_owed(c) for c in (0, 99, 100, 101)] == [False, False, True, True]


ACCEPTANCE = [
    # (latest service, approved, questioned, expected, how)
    (D(2024, 3, 1), None, False, D(2024, 3, 8), "constructive: S + 7"),
    (D(2024, 3, 1), D(2024, 3, 5), False, D(2024, 3, 5), "approved before S + 7"),
    (D(2024, 3, 1), D(2024, 3, 8), False, D(2024, 3, 8), "approved on S + 7"),
    (D(2024, 3, 1), D(2024, 4, 2), False, D(2024, 3, 8), "approved after S + 7"),
    (D(2024, 3, 1), D(2024, 4, 2), True, D(2024, 4, 2), "disputed: the approval governs"),
    (D(2024, 3, 1), D(2024, 3, 2), True, D(2024, 3, 2), "disputed, approved early"),
    (D(2024, 3, 1), None, True, D(2024, 3, 8), "disputed, never approved: S + 7"),
]


@pytest.mark.parametrize(("service", "approved", "questioned", "expected", "how"), ACCEPTANCE)
def test_acceptance(
    service: dt.date, approved: dt.date | None, questioned: bool, expected: dt.date, how: str
) -> None:
    """Acceptance per FAR 52.232-25(a)(6) as DESIGN section 9.2 reads it."""
    assert expected == acceptance_date(service, approved, questioned=questioned), how


def test_due_date_is_the_later_start_plus_payment_days() -> None:
    """Received 2024-03-05, accepted 2024-03-08: due 30 days after 03-08, 2024-04-07."""
    assert due_date(D(2024, 3, 5), D(2024, 3, 8)) == D(2024, 4, 7)
    # Received after acceptance: the receipt governs; 14 payment days from 2024-03-10.
    assert due_date(D(2024, 3, 10), D(2024, 3, 8), 14) == D(2024, 3, 24)


def test_late_days_are_calendar_days_after_the_due_date() -> None:
    """Due 2024-02-28 (a leap year), paid 2024-03-01: 2 days late; on time counts 0."""
    assert late_days(D(2024, 2, 28), D(2024, 3, 1)) == 2
    assert late_days(D(2024, 2, 28), D(2024, 2, 28)) == 0
    assert late_days(D(2024, 2, 28), D(2024, 2, 1)) == 0


def test_rate_on_includes_both_window_ends() -> None:
    """The window 2024-01-01..2024-06-30 holds both its ends; a gap day has no rate."""
    windows = [
        (D(2024, 1, 1), D(2024, 6, 30), Decimal("4.375")),
        (D(2024, 7, 2), D(2024, 12, 31), Decimal("4.625")),
    ]
    actual = [rate_on(windows, d) for d in (D(2024, 1, 1), D(2024, 6, 30), D(2024, 7, 1))]

    assert actual == [Decimal("4.375"), Decimal("4.375"), None]


def test_a_due_date_past_the_calendar_is_its_last_day_and_never_missed() -> None:
    from ice_recon.payment import days_after

    last = dt.date(9999, 12, 31)
    assert due_date(dt.date(9999, 12, 1), dt.date(9999, 12, 25)) == last
    assert due_date(dt.date(2024, 1, 1), dt.date(2024, 1, 1), payment_days=10**9) == last
    assert acceptance_date(dt.date(9999, 12, 30), None, questioned=False) == last
    assert days_after(dt.date(9999, 12, 1), 30) == last
    assert days_after(dt.date(9999, 12, 1), 30 - 1) == dt.date(9999, 12, 30)
    assert late_days(last, last) == 0
