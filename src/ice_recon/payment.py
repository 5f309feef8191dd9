"""Prompt Payment rules: acceptance, due date and late-payment interest (DESIGN section 9.2).

Pure functions of dates and integers, no tables: the invoice controls call them per invoice.

**Acceptance** follows FAR 52.232-25(a)(6). With S the latest service date of the invoice's
valid lines, the government accepts constructively on S + 7 days, or on the approval date
when that is earlier. An invoice with a questioned amount is in dispute (quantity or
compliance), so there is no constructive acceptance: acceptance is the approval date, or
S + 7 when it was never approved.

**Due date** is the later of received + payment_days and acceptance + payment_days.

**Interest** (5 CFR 1315.10) on a principal P at the annual rate r for d = min(days late,
365) days, with n = d // 30 whole 30-day periods compounded monthly and k = d % 30 days of
simple interest::

    interest = P * (1 + r/12)**n * (1 + r*k/360) - P

computed exactly (``Fraction``) and rounded half up to cents once. It is owed only when it
is at least 1.00.

The two check values of DESIGN section 9.2:

>>> interest_cents(1_245_000, Decimal("4.875"), 20)  # 12,450.00 at 4.875 %, 20 days
3372
>>> days = late_days(due=dt.date(2024, 4, 1), paid=dt.date(2024, 6, 15))
>>> days, divmod(days, 30)
(75, (2, 15))
>>> interest_cents(150_000, Decimal("6"), days)  # 1,500.00 at 6 %: 1500 * 1.005**2 * 1.0025
1883
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Final

from ice_recon.money import Rounding, check_decimal, round_div

__all__ = [
    "CONSTRUCTIVE_ACCEPTANCE_DAYS",
    "INTEREST_OWED_CENTS",
    "MAX_INTEREST_DAYS",
    "acceptance_date",
    "days_after",
    "due_date",
    "interest_cents",
    "interest_owed",
    "late_days",
    "rate_on",
]

#: FAR 52.232-25(a)(6)(i): constructive acceptance on the 7th day after delivery.
CONSTRUCTIVE_ACCEPTANCE_DAYS: Final = 7

#: 5 CFR 1315.10: interest is paid for at most one year.
MAX_INTEREST_DAYS: Final = 365

#: 5 CFR 1315.10: interest under one dollar is not paid.
INTEREST_OWED_CENTS: Final = 100


def acceptance_date(
    latest_service: dt.date, approved: dt.date | None, *, questioned: bool
) -> dt.date:
    """Return the date the government accepted the invoice's services (FAR 52.232-25(a)(6)).

    *latest_service* is S, the latest service date of the invoice's valid lines; *approved*
    its approval date, if any; *questioned* says whether any of its lines has a questioned
    amount.

    Constructive acceptance on S + 7, unless approved earlier:

    >>> S = dt.date(2024, 3, 1)
    >>> acceptance_date(S, None, questioned=False)
    datetime.date(2024, 3, 8)
    >>> acceptance_date(S, dt.date(2024, 3, 4), questioned=False)
    datetime.date(2024, 3, 4)
    >>> acceptance_date(S, dt.date(2024, 3, 20), questioned=False)
    datetime.date(2024, 3, 8)

    In dispute there is no constructive acceptance: the approval date governs, even a late
    one, and S + 7 only when the invoice was never approved:

    >>> acceptance_date(S, dt.date(2024, 3, 20), questioned=True)
    datetime.date(2024, 3, 20)
    >>> acceptance_date(S, None, questioned=True)
    datetime.date(2024, 3, 8)
    """
    constructive = days_after(latest_service, CONSTRUCTIVE_ACCEPTANCE_DAYS)
    if approved is None:
        return constructive
    if questioned:
        return approved
    return min(approved, constructive)


def due_date(received: dt.date, acceptance: dt.date, payment_days: int = 30) -> dt.date:
    """Return the payment due date: the later of received and acceptance, plus *payment_days*.

    >>> due_date(dt.date(2024, 3, 5), dt.date(2024, 3, 8))
    datetime.date(2024, 4, 7)
    >>> due_date(dt.date(2024, 3, 10), dt.date(2024, 3, 8), payment_days=14)
    datetime.date(2024, 3, 24)
    """
    return days_after(max(received, acceptance), payment_days)


def days_after(day: dt.date, days: int) -> dt.date:
    """Return *day* plus *days*; past the calendar's last day (9999-12-31), that day.

    No payment can be made after 9999-12-31, so a due date beyond it is never missed.

    >>> days_after(dt.date(2024, 2, 28), 2)
    datetime.date(2024, 3, 1)
    >>> days_after(dt.date(9999, 12, 20), 30)
    datetime.date(9999, 12, 31)
    """
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:  # beyond date.max (or a timedelta's own range)
        return dt.date.max


def late_days(due: dt.date, paid: dt.date) -> int:
    """Return the calendar days by which *paid* is after *due*; 0 when paid on time.

    A payment on the due date is on time:

    >>> late_days(dt.date(2024, 9, 4), dt.date(2024, 9, 4)), late_days(
    ...     dt.date(2024, 9, 4), dt.date(2024, 9, 24))
    (0, 20)
    """
    return max(0, (paid - due).days)


def interest_cents(principal_cents: int, rate_percent: Decimal, days: int) -> int:
    """Return the interest on *principal_cents* at *rate_percent* a year for *days* late, in cents.

    Exact, then rounded half up to cents once; *days* beyond :data:`MAX_INTEREST_DAYS` count
    as a year. At 6 % on 10,000.00: 30 days compound once (50.00), 31 days add one day of
    simple interest on the compounded amount (10,050 * 0.06/360 = 1.675, a tie, half up):

    >>> [interest_cents(1_000_000, Decimal("6"), d) for d in (0, 29, 30, 31, 60)]
    [0, 4833, 5000, 5168, 10025]
    >>> interest_cents(1_000_000, Decimal("6"), 400) == interest_cents(1_000_000, Decimal("6"), 365)
    True
    """
    rate = Fraction(check_decimal(rate_percent, "rate_percent")) / 100
    d = min(max(days, 0), MAX_INTEREST_DAYS)
    n, k = divmod(d, 30)
    grown = principal_cents * (1 + rate / 12) ** n * (1 + rate * k / 360)
    interest = grown - principal_cents
    return round_div(interest.numerator, interest.denominator, Rounding.HALF_UP)


def interest_owed(cents: int) -> bool:
    """Return whether interest of *cents* is owed: only from one dollar (5 CFR 1315.10).

    >>> interest_owed(99), interest_owed(100)
    (False, True)
    """
    return cents >= INTEREST_OWED_CENTS


def rate_on(rates: Iterable[tuple[dt.date, dt.date, Decimal]], day: dt.date) -> Decimal | None:
    """Return the rate of the window ``(start, end, rate)`` that holds *day* (both ends in).

    Interest accrues from the day after the due date, so the caller asks for that day; None
    when no window holds it (the control then reports ``NO_INTEREST_RATE``).

    >>> windows = [(dt.date(2024, 1, 1), dt.date(2024, 6, 30), Decimal("4.375")),
    ...            (dt.date(2024, 7, 1), dt.date(2024, 12, 31), Decimal("4.625"))]
    >>> rate_on(windows, dt.date(2024, 7, 1)), rate_on(windows, dt.date(2025, 1, 1))
    (Decimal('4.625'), None)
    """
    for start, end, rate in rates:
        if start <= day <= end:
            return rate
    return None
