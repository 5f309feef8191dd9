"""Build the lines priced against their trip: statuses of rows 7-14 of DESIGN section 5.

:meth:`_PricedBuilder.priced` builds one line that must get a chosen status (MATCHED,
ROUNDING_DIFF, EXTENSION_ERROR, QUANTITY_MISMATCH, RATE_MISMATCH, MINIMUM_MISAPPLIED,
AMOUNT_MISMATCH or LABOR_CATEGORY_MISMATCH), with the quantities, rates, minimums and amounts
that make it so, and checks the result with the oracle's :func:`._oracle._judge`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Final

from ice_recon.money import Rounding, scaled_to_decimal
from ice_recon.policy import Tolerance
from ice_recon.records import Status
from ice_recon.strategies._base import _BaseBuilder
from ice_recon.strategies._draw import _NO_RULE_CATEGORY
from ice_recon.strategies._oracle import _cents, _dec, _judge, _places, _round, _Terms, _within
from ice_recon.strategies._parts import _Clin, _Original

_INFERABLE: Final = ("measure", "trip", "cancellation", "cancellation_tiers", "all_units", "fuel")
_PRICED_KINDS: Final = {
    Status.MATCHED: (
        "measure",
        "trip",
        "labor_hours",
        "fuel",
        "all_units",
        "graduated",
        "cancellation",
        "cancellation_tiers",
    ),
    Status.ROUNDING_DIFF: ("measure", "labor_hours", "fuel", "all_units"),
    Status.EXTENSION_ERROR: ("measure", "trip", "labor_hours", "fuel", "all_units", "graduated"),
    Status.QUANTITY_MISMATCH: (
        "measure",
        "labor_hours",
        "trip",
        "fuel",
        "all_units",
        "graduated",
        "cancellation",
    ),
    Status.RATE_MISMATCH: (
        "measure",
        "labor_hours",
        "trip",
        "fuel",
        "all_units",
        "cancellation",
        "cancellation_tiers",
    ),
    Status.MINIMUM_MISAPPLIED: ("measure", "trip", "labor_hours", "all_units"),
    Status.AMOUNT_MISMATCH: ("graduated",),
    Status.LABOR_CATEGORY_MISMATCH: ("labor_hours",),
}
_NEEDS_POSITIVE: Final = frozenset(
    {
        Status.ROUNDING_DIFF,
        Status.RATE_MISMATCH,
        Status.MINIMUM_MISAPPLIED,
        Status.AMOUNT_MISMATCH,
        Status.LABOR_CATEGORY_MISMATCH,
    }
)


class _PricedBuilder(_BaseBuilder):
    """Build lines priced against their trip, each landing exactly on its chosen status."""

    # -- quantities and prices -----------------------------------------------------------------

    def _limit(self, qe: Fraction, tolerance: Tolerance | None) -> Fraction:
        if tolerance is None:
            return Fraction(0)
        value = Fraction(tolerance.value)
        return qe * value / 100 if tolerance.percent else value

    def beyond(
        self, s: _Clin, qe: Fraction, tolerance: Tolerance | None, unit: Fraction
    ) -> Fraction:
        """Return a billed quantity beyond tolerance of *qe* (the raw measure, or a typo)."""
        raw = s.quantity()
        if raw is not None and raw != qe and not _within(raw, qe, tolerance) and self.maybe(4):
            return raw  # billed as measured, ignoring free quantity, increment, minimum
        least = math.floor(self._limit(qe, tolerance) / unit) + 1
        k = least + self.small(0, 2 if s.basis in ("trip", "cancellation") else 200)
        if qe - k * unit >= 0 and self.maybe(3):
            return qe - k * unit
        return qe + k * unit

    def inside(self, qe: Fraction, tolerance: Tolerance | None, unit: Fraction) -> Fraction:
        """Return a billed quantity that differs from *qe* but is within tolerance (or qe)."""
        most = math.floor(self._limit(qe, tolerance) / unit)
        if most < 1:
            return qe
        k = self.small(1, min(most, 1000))
        if qe - k * unit > 0 and self.maybe(5):
            return qe - k * unit
        return qe + k * unit

    def make_inexact(self, s: _Clin, qb: Fraction) -> None:
        """Change the effective rate a little so that qb x rate is not a whole number of cents."""
        rate = s.rate_decimal(qb)
        assert rate is not None and qb > 0
        scale = _places(rate)
        units = int(Fraction(rate) * 10**scale)
        for extra in range(6):
            for step in range(4):
                candidate = units * 10**extra + step
                value = Fraction(candidate, 10 ** (scale + extra))
                if (qb * value * 100).denominator != 1:
                    s.set_rate(qb, scaled_to_decimal(candidate, scale + extra))
                    return
        raise AssertionError(f"no rate near {rate} makes {qb} x rate inexact")

    def choose_minimum(self, s: _Clin, status: Status, q: Fraction) -> str:
        """Give the rule of *s* a minimum amount fitting *status*; return how it applies."""
        if not s.min_ok:
            return ""
        p = s.terms().price(q)
        if status is Status.MINIMUM_MISAPPLIED:
            if p >= 1 and self.maybe(5):
                s.min_amount = p - self.small(1, p)
                return "billed-minimum"
            s.min_amount = p + self.num(1, 20000)
            return "billed-under-minimum"
        if status is Status.MATCHED and q > 0 and self.maybe(3):
            if self.maybe(5):
                s.min_amount = p + self.num(1, 20000)
                return "minimum"
            s.min_amount = p - self.small(0, p)
            return ""
        if p >= 3 and self.maybe(2):
            s.min_amount = p - self.small(2, p)  # never reached, and at least 2 cents from A
        return ""

    def wrong_rate(self, rate: Decimal, qb: Fraction, others: Sequence[Decimal]) -> Decimal:
        """Return a unit price that makes qb x price differ from qb x rate by >= 0.02."""
        big = Fraction(1, 50)
        good = [r for r in others if abs(Fraction(r) - Fraction(rate)) * qb >= big]
        if good and self.maybe(7):
            return Decimal(self.pick(good))
        places = _places(rate)
        unit = Fraction(1, 10**places)
        least = max(1, math.ceil(big / (qb * unit)))
        delta = least * self.small(1, 20)
        units = int(Fraction(rate) * 10**places)
        if units > delta and self.maybe(5):
            return scaled_to_decimal(units - delta, places)
        return scaled_to_decimal(units + delta, places)

    def typo(self, r: int, avoid: Iterable[int | None]) -> int:
        """Return an amount that is no rounding of r: digits swapped, or one digit off."""
        banned = {a for a in avoid if a is not None}
        for _ in range(8):
            digits = f"{r:03d}"
            pairs = [i for i in range(len(digits) - 1) if digits[i] != digits[i + 1]]
            if pairs and self.maybe(5):
                i = self.pick(pairs)
                swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
                a = int(swapped)
            else:
                delta = self.small(1, 9) * 10 ** self.small(1, 3)
                a = r - delta if r >= delta and self.maybe(5) else r + delta
            if a not in banned and abs(a - r) >= 2:
                return a
        a = r + 1111
        while a in banned:
            a += 1111
        return a

    @staticmethod
    def average(terms: _Terms, q: Fraction) -> Decimal:
        """Return the average unit price of a graduated amount, to 4 places."""
        if q == 0:
            return _dec(terms.tiers[0][1], 2)
        return scaled_to_decimal(_round(terms.exact(q) / q, 4, Rounding.HALF_UP), 4)

    # -- lines priced against their trip (rows 7-14) ---------------------------------------------

    def priced(
        self, status: Status, *, exact: bool = False, plain: bool = False, labor: bool = True
    ) -> _Original:
        """Build one line that must get *status* (a row 7-14 status), with its CLIN and trip.

        *exact*: matched by its trip_ref; *plain*: also dated on its trip's day, without
        decoys; *labor*: a labor_hours CLIN may be chosen.
        """
        kinds = [k for k in _PRICED_KINDS[status] if labor or k != "labor_hours"]
        kind = self.sample(kinds)
        contract = self.contract()
        center = self.slot()
        s = self.new_clin(kind, contract, center, status)
        tolerance = self.policy.tolerances.get(s.basis)
        if status in _NEEDS_POSITIVE:
            self.ensure_positive(s)
        if status is Status.AMOUNT_MISMATCH:
            # Past the first tier by at least one whole unit: billing at one tier's rate is
            # then at least 0.50 away from the graduated amount.
            first = int(s.tiers[1][0])
            whole = 10**s.q_places
            s.measured = scaled_to_decimal(
                (first + self.small(1, 5)) * whole + self.small(0, whole - 1), s.q_places
            )
        qe = s.qe()
        assert qe is not None
        places = s.places()
        unit = Fraction(1, 10**places)
        qb = qe
        if status is Status.QUANTITY_MISMATCH:
            qb = self.beyond(s, qe, tolerance, unit)
        elif (
            tolerance is not None
            and qe > 0
            and status is not Status.AMOUNT_MISMATCH
            and self.maybe(4)
        ):
            qb = self.inside(qe, tolerance, unit)
        q = qb if qb != qe and _within(qb, qe, tolerance) else qe
        if status is Status.ROUNDING_DIFF:
            self.make_inexact(s, qb)
        how = self.choose_minimum(s, status, q)
        terms = s.terms()
        mode = terms.mode
        e = terms.expected(q)
        rate = s.rate_decimal(q)
        mismatch = False
        variant = kind
        if status is Status.MATCHED:
            lab = s.labor
            wrong = (
                []
                if lab is None or lab.person is None or lab.billed is None
                else [c for c in (*lab.rates, _NO_RULE_CATEGORY) if c not in ("", lab.billed)]
            )
            if lab is not None and wrong and self.maybe(3):
                lab.billed = self.pick(wrong)
                mismatch = True
                variant += "-category-finding"
            pb = rate if rate is not None else self.average(terms, q)
            a = e
        elif status is Status.ROUNDING_DIFF:
            assert rate is not None
            x = qb * Fraction(rate)
            down, up = _cents(x, Rounding.DOWN), _cents(x, Rounding.UP)
            pb, a = rate, up if _cents(x, mode) == down else down
            variant += "-tie" if (x * 200).denominator == 1 else ""
        elif status is Status.EXTENSION_ERROR:
            pb = rate if rate is not None else s.tiers[0][1]
            r = _cents(qb * Fraction(pb), mode)
            a = self.typo(r, (e, s.min_amount))
        elif status is Status.QUANTITY_MISMATCH:
            step = unit if qb > qe or qb - unit < 0 else -unit
            for _ in range(10000):
                natural = s.rate_decimal(qb)
                pb = natural if natural is not None else s.tiers[0][1]
                a = _cents(qb * Fraction(pb), mode)
                if terms.price(qb) != terms.price(qe) and a != e:
                    break
                if qb + step < 0:  # never a negative quantity: search upwards instead
                    step = unit
                qb += step
            else:
                raise AssertionError(f"no billed quantity near {qe} changes the price")
            variant += "-raw" if qb == s.quantity() else ""
        elif status is Status.RATE_MISMATCH:
            assert rate is not None
            pb = self.wrong_rate(rate, qb, s.other_rates(q))
            a = _cents(qb * Fraction(pb), mode)
        elif status is Status.MINIMUM_MISAPPLIED:
            assert rate is not None
            pb = rate
            a = _cents(qb * Fraction(pb), mode)
            if how == "billed-minimum":
                assert s.min_amount is not None
                a = s.min_amount
            variant += "-" + how
        elif status is Status.AMOUNT_MISMATCH:
            reached = [r for start, r in s.tiers if Fraction(start) <= q][-1]
            pb = self.pick([s.tiers[0][1], reached])
            a = _cents(qb * Fraction(pb), mode)
        else:  # LABOR_CATEGORY_MISMATCH
            lab = s.labor
            assert lab is not None and lab.person is not None and rate is not None
            roster = lab.roster_category(lab.person)
            lab.billed = self.pick(
                [c for c in (*lab.rates, _NO_RULE_CATEGORY) if c not in ("", roster)]
            )
            others = [lab.rates[lab.billed]] if lab.billed in lab.rates else []
            pb = self.wrong_rate(rate, qb, others)
            a = _cents(qb * Fraction(pb), mode)
            mismatch = True
        verdict = _judge(terms, qb, Fraction(pb), a, qe, tolerance, mismatch)
        assert verdict.status is status, (status, verdict, s, qb, pb, a)
        if how == "minimum" and status is Status.MATCHED:
            variant += "-minimum"
        if verdict.within:
            variant += "-within-tolerance"

        route = self.route()
        inferred = (
            not exact
            and not plain
            and kind in _INFERABLE
            and status is not Status.QUANTITY_MISMATCH
            and self.maybe(3)
        )
        if inferred:
            w = self.policy.window_days
            distance = self.small(0, w)
            line_day = center + dt.timedelta(days=self.pick((1, -1)) * distance)
            line_route = route if route is not None and self.maybe(5) else None
            ref = self.unknown_ref() if self.maybe(2) else None
            trip_id = self.trip_of(s, route=route)
            if self.maybe(4):
                self.decoys(s, line_day, qb, line_route, worse_than=distance)
            variant += "-inferred"
        else:
            shift = 0 if plain or not self.maybe(2) else self.pick((1, -1, 2, -3))
            line_day = center + dt.timedelta(days=shift)
            line_route = route if self.maybe(3) else None
            trip_id = self.trip_of(s, route=route)
            ref = self.ref(trip_id)
        self.emit_rules(s, [line_day])
        self.emit_index(s)
        row = self.line_row(
            s, contract, s.clin, line_day, _dec(qb, places), pb, a, ref=ref, route=line_route
        )
        info = []
        if inferred:
            info.append("INFERRED_MATCH")
        if line_day != center:
            info.append("SERVICE_DATE_MISMATCH")
        if verdict.within:
            info.append("WITHIN_TOLERANCE")
        line = self.add_line(
            contract,
            row,
            status,
            variant,
            codes=verdict.codes,
            info=info,
            billed=a,
            expected=verdict.expected,
            trip_id=trip_id,
            match="inferred" if inferred else "exact",
        )
        original = _Original(s, trip_id, line)
        if not inferred:
            # An exactly matched line may be billed again by a later DUPLICATE line (an
            # inferred one may not: the duplicate, matched exactly, would claim first).
            self.originals.append(original)
        return original
