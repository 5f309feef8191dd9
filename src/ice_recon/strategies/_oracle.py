"""Price and classify a line independently of the engine: the oracle's exact arithmetic.

The oracle computes with fractions and its own rounding, never with the engine's code:
rounding to places (:func:`_round`, :func:`_cents`), the billable quantity of DESIGN section
4.1 (:func:`_billable`), a rule's price terms on one date (:class:`_Terms`: P(q), E and the
effective rate), and the classification of a priced line by rows 7-14 of DESIGN section 5
(:func:`_judge`). It also converts the exact results to the ``Decimal`` values and cell text a
case is written with.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import attrs

from ice_recon.money import IncrementRounding, Rounding, scaled_to_decimal
from ice_recon.policy import Tolerance
from ice_recon.records import Status


def _round(x: Fraction, places: int, mode: Rounding) -> int:
    """Return *x* rounded to *places* places with *mode*, as an integer of units."""
    y = x * 10**places
    sign = -1 if y < 0 else 1
    y = abs(y)
    q: int = y.numerator // y.denominator
    r: int = y.numerator % y.denominator
    if r:
        twice = 2 * r
        if mode is Rounding.UP:
            q += 1
        elif mode is Rounding.DOWN:
            pass
        elif twice > y.denominator or (
            twice == y.denominator
            and (mode is Rounding.HALF_UP or (mode is Rounding.HALF_EVEN and q % 2 == 1))
        ):
            q += 1
    return sign * q


def _cents(x: Fraction, mode: Rounding) -> int:
    return _round(x, 2, mode)


def _dec(x: Fraction, places: int) -> Decimal:
    units = x * 10**places
    assert units.denominator == 1, f"{x} has more than {places} places"
    return scaled_to_decimal(units.numerator, places)


def _places(d: Decimal) -> int:
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _text(d: Decimal | None) -> str:
    return "" if d is None else format(d, "f")


def _money(cents: int) -> Decimal:
    return scaled_to_decimal(cents, 2)


def _within(billed: Fraction, billable: Fraction, tolerance: Tolerance | None) -> bool:
    if billed == billable:
        return True
    if tolerance is None:
        return False
    value = Fraction(tolerance.value)
    limit = billable * value / 100 if tolerance.percent else value
    return abs(billed - billable) <= limit


def _billable(
    q: Fraction,
    free: Fraction | None,
    increment: Fraction | None,
    mode: IncrementRounding,
    minimum: Fraction | None,
) -> Fraction:
    """Apply free quantity, then increment, then minimum quantity (DESIGN section 4.1)."""
    if free is not None:
        q = max(Fraction(0), q - free)
    if increment is not None:
        n = q / increment
        if mode is IncrementRounding.DOWN:
            whole = math.floor(n)
        elif mode is IncrementRounding.UP:
            whole = math.ceil(n)
        else:
            whole = math.floor(n + Fraction(1, 2))
        q = whole * increment
    if minimum is not None and q > 0:
        q = max(q, minimum)
    return q


@attrs.frozen(kw_only=True)
class _Terms:
    """The price of one rule on one date: P(q), E and the effective rate, exactly."""

    mode: Rounding
    rate: Fraction | None = None
    tiers: tuple[tuple[Fraction, Fraction], ...] = ()
    graduated: bool = False
    min_amount: int | None = None  # cents

    def tier(self, q: Fraction) -> int:
        return max(i for i, (start, _) in enumerate(self.tiers) if start <= q)

    def exact(self, q: Fraction) -> Fraction:
        if self.rate is not None:
            return q * self.rate
        if not self.graduated:
            return q * self.tiers[self.tier(q)][1]
        total = Fraction(0)
        for i, (start, rate) in enumerate(self.tiers):
            if q <= start:
                break
            stop = self.tiers[i + 1][0] if i + 1 < len(self.tiers) else q
            total += (min(q, stop) - start) * rate
        return total

    def price(self, q: Fraction) -> int:
        """Return P(q) in cents, rounded once."""
        return _cents(self.exact(q), self.mode)

    def expected(self, q: Fraction) -> int:
        """Return E for q billable units: max(minimum_amount, P(q)) when q > 0."""
        p = self.price(q)
        if self.min_amount is not None and q > 0:
            return max(self.min_amount, p)
        return p

    def rate_for(self, q: Fraction) -> Fraction | None:
        """Return the single effective rate (None for graduated tier sets)."""
        if self.rate is not None:
            return self.rate
        if self.graduated:
            return None
        return self.tiers[self.tier(q)][1]


@attrs.frozen
class _Verdict:
    status: Status
    codes: tuple[str, ...]
    expected: int
    within: bool


def _judge(
    terms: _Terms,
    qb: Fraction,
    pb: Fraction,
    a: int,
    qe: Fraction,
    tolerance: Tolerance | None,
    category_mismatch: bool = False,
) -> _Verdict:
    """Classify a priced line by rows 7-14 of DESIGN section 5, from first principles."""
    equal = qb == qe
    within = not equal and _within(qb, qe, tolerance)
    q = qb if within else qe
    x = qb * pb
    by_mode = {m: _cents(x, m) for m in Rounding}
    r = by_mode[terms.mode]
    others = {v for m, v in by_mode.items() if m is not terms.mode}
    p_qb, p_q = terms.price(qb), terms.price(q)
    e = terms.expected(q)
    parts = (a - r, r - p_qb, p_qb - p_q, p_q - e)
    rate = terms.rate_for(q)
    wrong_quantity = not equal and not within
    price_right = r == p_qb if rate is None else pb == rate
    holds = [
        (Status.LABOR_CATEGORY_MISMATCH, category_mismatch),
        (
            Status.MINIMUM_MISAPPLIED,
            a != e
            and terms.min_amount is not None
            and parts[1] == 0
            and parts[2] == 0
            and (parts[3] != 0 or a == terms.min_amount),
        ),
        (Status.EXTENSION_ERROR, a != r and a not in others),
        (Status.QUANTITY_MISMATCH, wrong_quantity),
        (Status.RATE_MISMATCH, rate is not None and pb != rate),
        (
            Status.ROUNDING_DIFF,
            not wrong_quantity and price_right and a != r and a in others and abs(a - e) == 1,
        ),
    ]
    # Row 14 is "any other variance": only when no row 8-13 explains it.
    holds.append((Status.AMOUNT_MISMATCH, a != e and not any(h for _, h in holds)))
    codes = [s for s, h in holds if h]
    status = Status.MATCHED if a == e else codes[0]
    listed: list[Status] = [] if status is Status.MATCHED else [status]
    listed += [s for s in codes if s is not status]
    return _Verdict(status, tuple(s.value for s in listed), e, within)
