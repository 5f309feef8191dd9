"""Hypothesis strategies for ice_recon's inputs, and whole cases whose right answer is known.

An optional extra: ``pip install 'ice-recon[strategies]'`` brings in Hypothesis, and this
module is the only one that imports it (``import ice_recon`` never does). The strategies
follow Hypothesis' own conventions: plural nouns, keyword-only options, bounds named
``min_value``/``max_value`` and sizes ``min_size``/``max_size``, and bad options raise
:class:`hypothesis.errors.InvalidArgument` as soon as the strategy is asked for.

- :func:`amounts`, :func:`rates`, :func:`quantities`: ``Decimal`` values drawn as scaled
  integers, so that every value has exactly the places asked for.
- :func:`rate_rules`, :func:`rate_schedules`, :func:`trips`, :func:`manifests`,
  :func:`rosters`, :func:`invoice_lines`: valid records of the input tables.
- :func:`cases`: a whole data set in which every invoice line was *built to be* a chosen
  status of DESIGN section 5, with the answer worked out independently of the engine — an
  oracle for property tests of ice_recon itself and of code built on it.

>>> from hypothesis import find
>>> find(amounts(min_value=Decimal("1.50")), lambda a: True)
Decimal('1.50')
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ice_recon.load import Inputs, load_files
from ice_recon.money import IncrementRounding, Rounding, scaled_to_decimal
from ice_recon.policy import Policy, Tolerance
from ice_recon.records import (
    FuelIndexPoint,
    FuelRule,
    InvoiceLine,
    RateRule,
    StaffAssignment,
    Status,
    TierMode,
    Trip,
    TripStatus,
    WeekRule,
)

__all__ = [
    "Case",
    "ExpectedLine",
    "RateSchedule",
    "amounts",
    "cases",
    "invoice_lines",
    "manifests",
    "quantities",
    "rate_rules",
    "rate_schedules",
    "rates",
    "rosters",
    "trips",
]

#: ``(contract_id, invoice_id, line_no)``: how a case names an invoice line.
Key = tuple[str, str, int]

_CONTRACT_IDS: Final = (
    "HSCEMD-19-C-00012",
    "70CDCR-20-C-00007",
    "HSCEMD-21-C-00031",
    "70CDCR-22-D-00004",
    "HSCEMD-18-D-00019",
    "70CDCR-23-C-00002",
)
_SITES: Final = ("PIDC", "KHRL", "RGVPC", "ELVSPC", "KELP", "KIWA", "LRDPC", "OTMDC")
_CATEGORIES: Final = ("TO", "STO", "SUP", "MED")
_NO_RULE_CATEGORY: Final = "DRV"
_MIN_DATE: Final = dt.date(2021, 10, 1)
_MAX_DATE: Final = dt.date(2022, 9, 30)


@attrs.frozen
class _Measure:
    """How a manifest measure is drawn: its places, ranges (in units) and rule features."""

    places: int
    low: int
    high: int
    rate_low: int  # in cents (2 places)
    rate_high: int
    free: tuple[str, ...]
    increments: tuple[str, ...]
    minimums: tuple[str, ...]


_MEASURES: Final = {
    "loaded_miles": _Measure(
        1, 10, 4800, 150, 450, ("5.0", "10.0"), ("1", "0.5", "5.0"), ("25.0",)
    ),
    "vehicle_hours": _Measure(
        2, 50, 1200, 4500, 9500, ("0.50",), ("0.25", "0.50", "1.00"), ("2.00", "4.00")
    ),
    "flight_hours": _Measure(1, 5, 95, 250000, 950000, ("0.5",), ("0.1", "0.5"), ("1.0",)),
    "wait_hours": _Measure(2, 0, 600, 2000, 7500, ("1.00", "0.50"), ("0.25", "0.50"), ("1.00",)),
    "passengers": _Measure(0, 1, 60, 500, 4000, ("1", "2"), ("1", "5"), ("5", "10")),
}
_MEASURE_NAMES: Final = tuple(_MEASURES)
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
_PRICED: Final = (
    Status.MATCHED,
    Status.ROUNDING_DIFF,
    Status.EXTENSION_ERROR,
    Status.QUANTITY_MISMATCH,
    Status.RATE_MISMATCH,
    Status.MINIMUM_MISAPPLIED,
    Status.AMOUNT_MISMATCH,
    Status.LABOR_CATEGORY_MISMATCH,
)
#: The default order of :func:`cases` statuses: Hypothesis shrinks toward the first.
_STATUSES: Final = (
    *_PRICED,
    Status.NO_RATE,
    Status.UNSUPPORTED,
    Status.NOT_PERFORMED,
    Status.DUPLICATE,
    Status.INVALID,
)


# ------------------------------------------------------------------------ argument checks


def _check_type(name: str, value: object, kinds: type | tuple[type, ...], what: str) -> None:
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise InvalidArgument(f"{name} must be {what} (got {value!r})")


def _check_int(name: str, value: object, min_value: int, max_value: int | None = None) -> int:
    _check_type(name, value, int, "an int")
    assert isinstance(value, int)
    if value < min_value or (max_value is not None and value > max_value):
        upper = "" if max_value is None else f" and <= {max_value}"
        raise InvalidArgument(f"{name} must be >= {min_value}{upper} (got {value})")
    return value


def _check_size(min_size: object, max_size: object, upper: int | None = None) -> tuple[int, int]:
    lo = _check_int("min_size", min_size, 0, upper)
    hi = _check_int("max_size", max_size, 0, upper)
    if lo > hi:
        raise InvalidArgument(f"min_size={lo} must not be greater than max_size={hi}")
    return lo, hi


def _check_bound(name: str, value: object) -> Fraction:
    # A float bound is refused like a float on the money path: 0.1 is not a decimal.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidArgument(f"{name} must be a Decimal or an int, never a float (got {value!r})")
    if isinstance(value, Decimal) and not value.is_finite():
        raise InvalidArgument(f"{name} must be finite (got {value!r})")
    return Fraction(value)


def _check_date(name: str, value: object) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidArgument(f"{name} must be a datetime.date (got {value!r})")
    return value


def _check_dates(min_date: object, max_date: object) -> tuple[dt.date, dt.date]:
    lo, hi = _check_date("min_date", min_date), _check_date("max_date", max_date)
    if lo > hi:
        raise InvalidArgument(f"min_date={lo} must not be after max_date={hi}")
    return lo, hi


def _check_names(name: str, values: object, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidArgument(f"{name} must be a sequence of strings (got {values!r})")
    out = tuple(values)
    if not out and not allow_empty:
        raise InvalidArgument(f"{name} must not be empty")
    for v in out:
        if not isinstance(v, str) or not v.strip() or v != v.strip():
            raise InvalidArgument(
                f"{name} must hold non-empty strings without surrounding spaces (got {v!r})"
            )
    if len(set(out)) != len(out):
        raise InvalidArgument(f"{name} must not repeat a value (got {out!r})")
    return out


# ------------------------------------------------------------------ numbers with exact places


@functools.cache
def _ints(min_value: int, max_value: int) -> st.SearchStrategy[int]:
    # Strategies are built once: building them, not drawing from them, is what is slow.
    return st.integers(min_value, max_value)


def _scaled(
    name: str, min_value: object, max_value: object, places: object, max_places: int
) -> st.SearchStrategy[Decimal]:
    p = _check_int("places", places, 0, max_places)
    lo, hi = _check_bound("min_value", min_value), _check_bound("max_value", max_value)
    if lo > hi:
        raise InvalidArgument(
            f"min_value={min_value} must not be greater than max_value={max_value}"
        )
    low, high = math.ceil(lo * 10**p), math.floor(hi * 10**p)
    if low > high:
        raise InvalidArgument(
            f"{name}: no value with {p} places lies between min_value={min_value} and "
            f"max_value={max_value}"
        )
    return _ints(low, high).map(lambda units: scaled_to_decimal(units, p))


def amounts(
    *,
    min_value: Decimal | int = 0,
    max_value: Decimal | int = Decimal("99999.99"),
    places: int = 2,
) -> st.SearchStrategy[Decimal]:
    """Return a strategy of money amounts: ``Decimal`` values with exactly *places* places.

    Amounts are non-negative by default (credits are not supported yet). *places* is at
    most 2: money has at most 2 places.

    >>> from hypothesis import find
    >>> find(amounts(), lambda a: a > 1)
    Decimal('1.01')
    """
    return _scaled("amounts", min_value, max_value, places, 2)


def rates(
    *,
    min_value: Decimal | int = 0,
    max_value: Decimal | int = Decimal("9999.9999"),
    places: int = 4,
) -> st.SearchStrategy[Decimal]:
    """Return a strategy of rates (prices per unit) with exactly *places* places.

    >>> from hypothesis import find
    >>> find(rates(places=2), lambda r: r >= Decimal("2.4575"))
    Decimal('2.46')
    """
    return _scaled("rates", min_value, max_value, places, 255)


def quantities(
    *,
    min_value: Decimal | int = 0,
    max_value: Decimal | int = Decimal("9999.9"),
    places: int = 1,
) -> st.SearchStrategy[Decimal]:
    """Return a strategy of quantities (miles, hours, passengers …) with exactly *places* places.

    >>> from hypothesis import find
    >>> find(quantities(places=2), lambda q: q > Decimal("137.4"))
    Decimal('137.41')
    """
    return _scaled("quantities", min_value, max_value, places, 255)


# ------------------------------------------------------------------ exact arithmetic (oracle)
# The oracle computes with fractions and its own rounding, never with the engine's code.


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


# ------------------------------------------------------------------------ record strategies


def _clin_text(n: int, slin: bool) -> str:
    return f"{n:04d}" + ("AA" if slin else "")


@st.composite
def _dates(draw: st.DrawFn, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=draw(_ints(0, (hi - lo).days)))


def _maybe(draw: st.DrawFn, tenths: int) -> bool:
    """Draw True with probability *tenths*/10; shrinks to False (the simpler data)."""
    return draw(_ints(0, 9)) >= 10 - tenths


def _pick(draw: st.DrawFn, values: Sequence[Any]) -> Any:
    return values[draw(_ints(0, len(values) - 1))]


def _decimal(draw: st.DrawFn, low: int, high: int, places: int) -> Decimal:
    """Draw a Decimal with *places* places between low and high, given in units of 0.01."""
    scale = 10 ** (places - 2) if places >= 2 else None
    if scale is not None:
        return scaled_to_decimal(draw(_ints(low * scale, high * scale)), places)
    div = 10 ** (2 - places)
    return scaled_to_decimal(draw(_ints(-(-low // div), high // div)), places)


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


# ------------------------------------------------------------------------------------ cases

#: The input files of DESIGN section 4, with the :func:`~ice_recon.load_files` argument each
#: one is passed as.
_FILES: Final = {
    "rates.csv": "rates",
    "manifests.csv": "manifests",
    "staff.csv": "staff",
    "fuel_index.csv": "fuel_index",
    "fuel_rules.csv": "fuel_rules",
    "invoice_lines.csv": "invoice_lines",
    "invoices.csv": "invoices",
}


@attrs.frozen(kw_only=True)
class ExpectedLine:
    """What one invoice line of a :class:`Case` was built to be: the right answer for it.

    Attributes:
        status: the status of DESIGN section 5 the line must get.
        findings: the codes ``results.csv`` lists for it: the status (none for MATCHED; for
            a missing measure ``UNSUPPORTED`` and ``MISSING_MEASURE``), every other
            condition of rows 8-14 that holds, then the informational codes.
        billed: the billed amount A (2 places); ``None`` for an INVALID line.
        expected: the expected amount E (0.00 for rows 2-6); ``None`` for INVALID.
        trip_id: the trip the line is matched to (exactly or by inference), else ``None``.
        match: ``exact``, ``inferred`` or ``none``.
        variant: how the line was built, e.g. ``UNSUPPORTED/ambiguous`` (for statistics).
    """

    status: Status
    findings: tuple[str, ...]
    billed: Decimal | None
    expected: Decimal | None
    trip_id: str | None
    match: str
    variant: str

    @property
    def variance(self) -> Decimal | None:
        """Return A - E, or ``None`` for an INVALID line."""
        if self.billed is None or self.expected is None:
            return None
        return self.billed - self.expected


@attrs.frozen(kw_only=True, eq=False)
class Case:
    """A generated data set whose every invoice line was built to be a known status.

    Attributes:
        tables: the rows of each input file (file name -> rows of cell text), exactly what
            :meth:`write` writes.
        policy: the :class:`~ice_recon.Policy` the case was built for (tolerances, the
            inference window, the default rounding); reconcile with it.
        lines: the answer for every invoice line, by ``(contract_id, invoice_id, line_no)``.
        unbilled: ``(contract_id, trip_id)`` of every trip no valid line is matched to.
        invoice_findings: ``(contract_id, invoice_id, finding)`` of every invoice-level
            finding (``FOOTING_ERROR``).
        inputs: the tables loaded (:func:`~ice_recon.load_files`), ready for
            :func:`~ice_recon.reconcile` (a property, loaded on first use).
    """

    tables: Mapping[str, tuple[Mapping[str, str], ...]]
    policy: Policy
    lines: Mapping[Key, ExpectedLine]
    unbilled: frozenset[tuple[str, str]]
    invoice_findings: frozenset[tuple[str, str, str]]

    @functools.cached_property
    def inputs(self) -> Inputs:
        """Return the tables loaded by :func:`~ice_recon.load_files`, ready to reconcile.

        Loaded on first use (and kept): drawing a case does not pay for it. Its only
        problems are those of the INVALID lines.
        """
        sources: dict[str, Any] = {_FILES[name]: list(rows) for name, rows in self.tables.items()}
        return load_files(**sources)

    @property
    def expected(self) -> Mapping[Key, Status]:
        """Return the status each line was built to be, by (contract_id, invoice_id, line_no)."""
        return {key: line.status for key, line in self.lines.items()}

    @property
    def expected_amounts(self) -> Mapping[Key, Decimal]:
        """Return the expected amount E of every line that is not INVALID."""
        return {k: v.expected for k, v in self.lines.items() if v.expected is not None}

    def write(self, directory: str | os.PathLike[str]) -> None:
        """Write the input files of DESIGN section 4 into *directory* (created if needed).

        :func:`ice_recon.load` reads them back to the same tables as :attr:`inputs`.
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in self.tables.items():
            header = list(dict.fromkeys(k for row in rows for k in row))
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([row.get(k, "") for k in header] for row in rows)
            (folder / name).write_bytes(buffer.getvalue().encode("utf-8"))


@attrs.define
class _Labor:
    """The labor side of a ``labor_hours`` CLIN: rules by category, the roster, the line."""

    rates: dict[str, Decimal]  # category ("" = any category) -> rate
    roster: list[tuple[str, str, Decimal]]  # (person, category, hours)
    person: str | None = None  # person_id on the line
    billed: str | None = None  # labor_category on the line

    def roster_category(self, person: str) -> str | None:
        return next((c for p, c, _ in self.roster if p == person), None)

    def priced_category(self) -> str | None:
        """Return the category that prices the line: the person's roster one, else billed."""
        if self.person is not None:
            found = self.roster_category(self.person)
            if found is not None:
                return found
        return self.billed

    def rule_category(self) -> str | None:
        if "" in self.rates:
            return ""
        category = self.priced_category()
        return category if category in self.rates else None

    def mismatch(self) -> bool:
        if self.person is None or self.billed is None:
            return False
        found = self.roster_category(self.person)
        return found is not None and found != self.billed

    def hours(self) -> Fraction | None:
        if self.person is not None:
            covered = [h for p, _, h in self.roster if p == self.person]
        elif self.billed is not None:
            covered = [h for _, c, h in self.roster if c == self.billed]
        else:
            covered = [h for _, _, h in self.roster]
        return sum((Fraction(h) for h in covered), Fraction(0)) if covered else None


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@attrs.define
class _Fuel:
    """The fuel side of a fuel-surcharge CLIN: its terms and the index weeks written."""

    base: Decimal
    mpg: Decimal
    series: str
    week_rule: WeekRule
    week_cell: str
    places: int
    basis_cell: str
    index: dict[dt.date, Decimal] = attrs.Factory(dict)

    def week(self, day: dt.date) -> dt.date:
        monday = _monday(day)
        return monday - dt.timedelta(days=7) if self.week_rule is WeekRule.PRIOR_WEEK else monday

    def rate(self, day: dt.date, mode: Rounding) -> Decimal | None:
        price = self.index.get(self.week(day))
        if price is None:
            return None
        diff = Fraction(price) - Fraction(self.base)
        units = 0 if diff <= 0 else _round(diff / Fraction(self.mpg), self.places, mode)
        return scaled_to_decimal(units, self.places)

    def set_rate(self, day: dt.date, rate: Decimal) -> None:
        """Write the index price that makes the rate on *day* exactly *rate*."""
        self.places = _places(rate)
        price = Fraction(self.base) + Fraction(rate) * Fraction(self.mpg)
        self.index[self.week(day)] = _dec(price, max(3, self.places + _places(self.mpg)))


@attrs.define
class _Clin:
    """One CLIN built for one line (or group): its rule, and the trip quantity it prices."""

    kind: str
    contract: str
    clin: str
    basis: str
    day: dt.date  # the service date of the line's trip
    mode: Rounding
    rounding_cell: str
    q_places: int = 0
    measured: Decimal | None = None
    rate: Decimal | None = None
    tiers: list[tuple[Decimal, Decimal]] = attrs.Factory(list)
    free: Decimal | None = None
    increment: Decimal | None = None
    increment_cell: str = ""
    min_qty: Decimal | None = None
    min_amount: int | None = None
    notice: Decimal | None = None
    labor: _Labor | None = None
    fuel: _Fuel | None = None
    old_rate: Decimal | None = None

    @property
    def min_ok(self) -> bool:
        return self.kind in ("measure", "trip", "labor_hours", "all_units")

    def inc_mode(self) -> IncrementRounding:
        return (
            IncrementRounding(self.increment_cell)
            if self.increment_cell
            else (IncrementRounding.DOWN)
        )

    def places(self) -> int:
        found = [self.q_places]
        found += [_places(d) for d in (self.free, self.increment, self.min_qty) if d is not None]
        return max(found)

    def quantity(self) -> Fraction | None:
        """Return what the trip recorded for the rule (None: not recorded)."""
        if self.basis in ("trip", "cancellation"):
            return Fraction(1)
        if self.labor is not None:
            return self.labor.hours()
        return None if self.measured is None else Fraction(self.measured)

    def billable(self, q: Fraction) -> Fraction:
        return _billable(
            q,
            None if self.free is None else Fraction(self.free),
            None if self.increment is None else Fraction(self.increment),
            self.inc_mode(),
            None if self.min_qty is None else Fraction(self.min_qty),
        )

    def qe(self) -> Fraction | None:
        q = self.quantity()
        return None if q is None else self.billable(q)

    def rate_decimal(self, q: Fraction) -> Decimal | None:
        """Return the effective rate for *q* as written (None: graduated, or evidence missing)."""
        if self.fuel is not None:
            return self.fuel.rate(self.day, self.mode)
        if self.labor is not None:
            category = self.labor.rule_category()
            return None if category is None else self.labor.rates[category]
        if self.rate is not None:
            return self.rate
        if self.kind == "graduated":
            return None
        reach = self.notice if self.kind == "cancellation_tiers" else q
        if reach is None:
            return None
        return [r for start, r in self.tiers if Fraction(start) <= Fraction(reach)][-1]

    def set_rate(self, q: Fraction, rate: Decimal) -> None:
        if self.fuel is not None:
            self.fuel.set_rate(self.day, rate)
        elif self.labor is not None:
            category = self.labor.rule_category()
            assert category is not None
            self.labor.rates[category] = rate
        elif self.rate is not None:
            self.rate = rate
        else:
            reach = q if self.notice is None else Fraction(self.notice)
            i = max(i for i, (start, _) in enumerate(self.tiers) if Fraction(start) <= reach)
            self.tiers[i] = (self.tiers[i][0], rate)

    def terms(self) -> _Terms:
        """Return the rule's price terms on the trip's date (the rate must be known)."""
        if self.kind == "graduated":
            tiers = tuple((Fraction(s), Fraction(r)) for s, r in self.tiers)
            return _Terms(mode=self.mode, tiers=tiers, graduated=True, min_amount=self.min_amount)
        if self.kind == "all_units":
            tiers = tuple((Fraction(s), Fraction(r)) for s, r in self.tiers)
            return _Terms(mode=self.mode, tiers=tiers, min_amount=self.min_amount)
        rate = self.rate_decimal(Fraction(1))
        assert rate is not None, "priced without its price evidence"
        return _Terms(mode=self.mode, rate=Fraction(rate), min_amount=self.min_amount)

    def other_rates(self, q: Fraction) -> list[Decimal]:
        """Return rates a vendor could wrongly bill: an old window's, another tier's …"""
        out = [] if self.old_rate is None else [self.old_rate]
        out += [r for _, r in self.tiers]
        if self.labor is not None:
            out += list(self.labor.rates.values())
        current = self.rate_decimal(q)
        return [r for r in out if r != current]


@attrs.define
class _Line:
    """An invoice line being built: its row, and the answer worked out for it."""

    contract: str
    row: dict[str, str]
    status: Status
    variant: str
    codes: tuple[str, ...]
    info: list[str]
    billed: int | None
    expected: int | None
    trip_id: str | None
    match: str


@attrs.frozen
class _Original:
    """An exactly matched line that a later DUPLICATE line copies."""

    clin: _Clin
    trip_id: str
    line: _Line


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
_INFO_ORDER: Final = (
    "INFERRED_MATCH",
    "AMBIGUOUS_MATCH",
    "SERVICE_DATE_MISMATCH",
    "WITHIN_TOLERANCE",
    "DUPLICATE_CANDIDATE",
)
_BAD_CELLS: Final = (
    ("amount", "12.345"),
    ("amount", "-5.00"),
    ("amount", "1,000.00"),
    ("amount", "$5.00"),
    ("amount", "1e3"),
    ("quantity", "+5"),
    ("quantity", ".5"),
    ("quantity", "Infinity"),
    ("quantity", ""),
    ("unit_price", "5."),
    ("unit_price", "NaN"),
    ("service_date", "2021-02-30"),
    ("service_date", "09/01/2021"),
    ("clin", ""),
)
_ROUTES: Final = tuple((a, b) for a in _SITES for b in _SITES if a != b)
#: Days between the centers of two lines' date slots. A slot's dates lie within 7 days of
#: its center and the inference window is at most 3 days, so slots never see each other.
_SLOT_DAYS: Final = 21
_MAX_WINDOW: Final = 3
_MAX_LINES: Final = 200


class _Builder:
    """Build one case, group of lines by group of lines, each in its own date slot."""

    def __init__(
        self, draw: st.DrawFn, policy: Policy, contracts: tuple[str, ...], base: dt.date
    ) -> None:
        self.draw = draw
        self.policy = policy
        self.contracts = contracts
        self.base = base
        self.slots = 0
        self.next_clin: dict[str, int] = {}
        self.trip_count = 0
        self.ref_count = 0
        self.person_count = 0
        self.rates: list[dict[str, str]] = []
        self.fuel_rules: list[dict[str, str]] = []
        self.fuel_index: list[dict[str, str]] = []
        self.trips: list[dict[str, str]] = []
        self.staff: list[dict[str, str]] = []
        self.lines: list[_Line] = []
        self.originals: list[_Original] = []
        self.bases: set[str] = set()
        self.bits = 0
        self.bits_left = 0

    # -- drawing -------------------------------------------------------------------------------

    def num(self, lo: int, hi: int) -> int:
        return self.draw(_ints(lo, hi))

    def sample(self, values: Sequence[Any]) -> Any:
        """Draw one of *values* on its own (for the choices that shape a line)."""
        return values[self.num(0, len(values) - 1)]

    def take(self, n: int) -> int:
        """Return *n* bits from a pool of drawn bits (0 when shrunk).

        Small choices come from one drawn integer, several at a time: a draw costs far
        more than the bits it yields, and a case makes hundreds of small choices. The
        pool is emptied before each group of lines, so that every group's choices stay
        its own when Hypothesis deletes or shrinks a group.
        """
        if self.bits_left < n:
            self.bits = self.num(0, 2**24 - 1)
            self.bits_left = 24
        value = self.bits & ((1 << n) - 1)
        self.bits >>= n
        self.bits_left -= n
        return value

    def small(self, lo: int, hi: int) -> int:
        """Return an integer of [lo, hi], from the pool when the range is small."""
        span = hi - lo
        if span <= 0:
            return lo
        if span >= 1 << 12:
            return self.num(lo, hi)
        return lo + self.take(span.bit_length()) % (span + 1)

    def pick(self, values: Sequence[Any]) -> Any:
        return values[self.small(0, len(values) - 1)]

    def maybe(self, tenths: int) -> bool:
        """Return True with probability about *tenths*/10 (shrinks to False)."""
        return self.take(4) >= 16 - (tenths * 16 + 5) // 10

    def decimal(self, low: int, high: int, places: int) -> Decimal:
        return _decimal(self.draw, low, high, places)

    # -- names ---------------------------------------------------------------------------------

    def slot(self) -> dt.date:
        center = self.base + dt.timedelta(days=_SLOT_DAYS * self.slots + 7)
        self.slots += 1
        return center

    def contract(self) -> str:
        return str(self.sample(self.contracts))

    def clin(self, contract: str) -> str:
        n = self.next_clin.get(contract, 0) + 1
        self.next_clin[contract] = n
        return _clin_text(n, self.maybe(1))

    def unknown_ref(self) -> str:
        self.ref_count += 1
        return f"X{self.ref_count:05d}"

    def person(self) -> str:
        self.person_count += 1
        return f"E{self.person_count:04d}"

    # -- tables --------------------------------------------------------------------------------

    def add_trip(
        self,
        contract: str,
        day: dt.date,
        *,
        cancelled: bool = False,
        measures: Mapping[str, Decimal | None] | None = None,
        route: tuple[str, str] | None = None,
        notice: Decimal | None = None,
    ) -> str:
        self.trip_count += 1
        trip_id = f"T{self.trip_count:05d}"
        row = {
            "trip_id": trip_id,
            "contract_id": contract,
            "service_date": day.isoformat(),
            "status": "cancelled" if cancelled else ("completed" if self.maybe(5) else ""),
            "origin": route[0] if route else "",
            "destination": route[1] if route else "",
            "cancel_notice_hours": _text(notice),
        }
        for name, value in (measures or {}).items():
            row[name] = _text(value)
        self.trips.append(row)
        return trip_id

    def trip_of(
        self,
        s: _Clin,
        *,
        cancelled: bool | None = None,
        day: dt.date | None = None,
        measured: Decimal | None = None,
        record: bool = True,
        route: tuple[str, str] | None = None,
        contract: str | None = None,
    ) -> str:
        """Add a trip that records what *s* prices (its measure, notice hours, roster).

        A trip for a cancellation CLIN is cancelled unless *cancelled* says otherwise.
        """
        measures: dict[str, Decimal | None] = {}
        if s.basis in _MEASURES:
            measures[s.basis] = (
                None if not record else (s.measured if measured is None else measured)
            )
        if self.maybe(3):
            extra = self.pick(_MEASURE_NAMES)
            if extra not in measures:
                m = _MEASURES[extra]
                measures[extra] = scaled_to_decimal(self.small(m.low, m.high), m.places)
        trip_id = self.add_trip(
            contract or s.contract,
            s.day if day is None else day,
            cancelled=s.basis == "cancellation" if cancelled is None else cancelled,
            measures=measures,
            route=route,
            notice=s.notice,
        )
        if s.labor is not None and contract is None:
            for person, category, hours in s.labor.roster:
                self.staff.append(
                    {
                        "trip_id": trip_id,
                        "contract_id": s.contract,
                        "person_id": person,
                        "labor_category": category,
                        "hours": _text(hours),
                    }
                )
        return trip_id

    def route(self) -> tuple[str, str] | None:
        if not self.maybe(5):
            return None
        route: tuple[str, str] = self.pick(_ROUTES)
        return route

    def emit_rules(
        self,
        s: _Clin,
        cover: Iterable[dt.date] = (),
        *,
        windows: Sequence[tuple[dt.date, dt.date]] | None = None,
    ) -> None:
        """Write the rules of *s*: one window covering the dates *cover*, or *windows*."""
        if windows is None:
            days = sorted({s.day, *cover})
            before, after = divmod(self.small(0, 41 * 41 - 1), 41)
            start = days[0] - dt.timedelta(days=before)
            end = days[-1] + dt.timedelta(days=after)
            windows = [(start, end)]
            if s.old_rate is not None:
                first = start - dt.timedelta(days=self.small(1, 120))
                self._rules(s, first, start - dt.timedelta(days=1), old=True)
        for start, end in windows:
            self._rules(s, start, end)

    def _rules(self, s: _Clin, start: dt.date, end: dt.date, *, old: bool = False) -> None:
        if s.basis in _MEASURES:
            self.bases.add(s.basis)
        authority = f"P{len(self.rates) % 13:05d} B.{self.slots % 9 + 1}" if self.maybe(5) else ""
        if s.fuel is not None:
            f = s.fuel
            self.bases.add("loaded_miles")
            self.fuel_rules.append(
                {
                    "contract_id": s.contract,
                    "clin": s.clin,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "base_price": _text(f.base),
                    "mpg": _text(f.mpg),
                    "series": f.series,
                    "week_rule": f.week_cell,
                    "places": "" if f.places == 2 and self.maybe(5) else str(f.places),
                    "basis": f.basis_cell,
                    "rounding": s.rounding_cell,
                    "authority": authority,
                }
            )
            return
        common = {
            "contract_id": s.contract,
            "clin": s.clin,
            "basis": s.basis,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "minimum_amount": "" if s.min_amount is None else _text(_money(s.min_amount)),
            "minimum_quantity": _text(s.min_qty),
            "free_quantity": _text(s.free),
            "increment": _text(s.increment),
            "increment_rounding": s.increment_cell,
            "rounding": s.rounding_cell,
            "authority": authority,
        }
        if s.tiers:
            mode = "graduated" if s.kind == "graduated" else "all_units"
            for tier_from, rate in s.tiers:
                self.rates.append(
                    {
                        **common,
                        "rate": _text(rate),
                        "tier_from": _text(tier_from),
                        "tier_mode": mode,
                    }
                )
        elif s.labor is not None:
            for category, rate in s.labor.rates.items():
                self.rates.append(
                    {
                        **common,
                        "rate": _text(s.old_rate if old else rate),
                        "labor_category": category,
                    }
                )
        else:
            assert s.rate is not None
            self.rates.append({**common, "rate": _text(s.old_rate if old else s.rate)})

    def emit_index(self, s: _Clin) -> None:
        if s.fuel is None:
            return
        for week, price in sorted(s.fuel.index.items()):
            self.fuel_index.append(
                {"series": s.fuel.series, "week": week.isoformat(), "price": _text(price)}
            )

    def add_line(
        self,
        contract: str,
        row: dict[str, str],
        status: Status,
        variant: str,
        *,
        codes: Sequence[str] | None = None,
        info: Iterable[str] = (),
        billed: int | None,
        expected: int | None,
        trip_id: str | None = None,
        match: str = "none",
    ) -> _Line:
        line = _Line(
            contract=contract,
            row=row,
            status=status,
            variant=f"{status.value}/{variant}",
            codes=(status.value,) if codes is None else tuple(codes),
            info=list(info),
            billed=billed,
            expected=expected,
            trip_id=trip_id,
            match=match,
        )
        self.lines.append(line)
        return line

    # -- a CLIN of each kind -------------------------------------------------------------------

    def new_clin(
        self, kind: str, contract: str, day: dt.date, status: Status | None = None
    ) -> _Clin:
        rounding_cell = self.pick(tuple(Rounding)).value if self.maybe(3) else ""
        mode = Rounding(rounding_cell) if rounding_cell else self.policy.rounding
        s = _Clin(
            kind=kind,
            contract=contract,
            clin=self.clin(contract),
            basis=kind,
            day=day,
            mode=mode,
            rounding_cell=rounding_cell,
        )
        if kind == "measure":
            s.basis = self.sample(_MEASURE_NAMES)
            m = _MEASURES[s.basis]
            s.q_places = m.places
            s.rate = self.decimal(m.rate_low, m.rate_high, self.pick((4, 2, 3)))
            if self.maybe(3):
                s.free = Decimal(self.pick(m.free))
            if self.maybe(3):
                s.increment = Decimal(self.pick(m.increments))
                s.increment_cell = self.pick(("", "down", "up", "nearest"))
            if self.maybe(2):
                s.min_qty = Decimal(self.pick(m.minimums))
            s.measured = scaled_to_decimal(self.num(m.low, m.high), m.places)
            if self.maybe(2):
                s.old_rate = self._other(s.rate)
        elif kind in ("trip", "cancellation"):
            s.rate = self.decimal(5000, 40000, 2)
            if self.maybe(2):
                s.old_rate = self._other(s.rate)
        elif kind == "cancellation_tiers":
            s.basis = "cancellation"
            starts = self.pick(((0, 24, 48), (0, 12, 24, 72), (0, 48)))
            fee = self.decimal(2500, 10000, 2)
            fees = []
            for _ in starts:
                fees.append(fee)
                fee += self.decimal(1000, 15000, 2)
            s.tiers = [(Decimal(t), f) for t, f in zip(starts, reversed(fees), strict=True)]
            s.notice = scaled_to_decimal(self.small(0, 960), 1)
        elif kind in ("graduated", "all_units"):
            s.basis = self.sample(("passengers", "loaded_miles", "vehicle_hours"))
            m = _MEASURES[s.basis]
            s.q_places = m.places
            whole = 10**m.places
            cuts = sorted({self.small(max(1, m.low // whole), m.high // whole) for _ in range(3)})
            rate = self.decimal(m.rate_low, m.rate_high, 2)
            rates = []
            for _ in range(len(cuts) + 1):
                rates.append(rate)
                rate += self.decimal(50, 2000, 2)
            s.tiers = [(Decimal(t), r) for t, r in zip((0, *cuts), reversed(rates), strict=True)]
            s.measured = scaled_to_decimal(self.num(m.low, m.high), m.places)
        elif kind == "labor_hours":
            self._labor(s, status)
        elif kind == "fuel":
            s.basis = "loaded_miles"
            s.q_places = 1
            m = _MEASURES["loaded_miles"]
            s.measured = scaled_to_decimal(self.num(m.low, m.high), 1)
            rule = self.pick(tuple(WeekRule))
            s.fuel = _Fuel(
                base=self.decimal(250, 380, 3),
                mpg=self.decimal(500, 900, 1),
                series=f"EIA-DIESEL-{self.slots:04d}",
                week_rule=rule,
                week_cell="" if rule is WeekRule.SERVICE_WEEK and self.maybe(5) else rule.value,
                places=self.pick((2, 3, 4)),
                basis_cell="loaded_miles" if self.maybe(3) else "",
            )
            # At least one unit of the rate's last place: a surcharge, not zero.
            least = math.ceil(Fraction(s.fuel.mpg) * 1000 / 10**s.fuel.places)
            diff = Fraction(self.small(least, max(least, 2500)), 1000)
            s.fuel.index[s.fuel.week(day)] = _dec(Fraction(s.fuel.base) + diff, 3)
            for weeks in (-7, 7):
                if self.maybe(3):
                    other = s.fuel.week(day) + dt.timedelta(days=weeks)
                    s.fuel.index[other] = self.decimal(250, 520, 3)
        else:  # pragma: no cover - the kinds are fixed
            raise AssertionError(kind)
        return s

    def _labor(self, s: _Clin, status: Status | None) -> None:
        s.q_places = 2
        any_rule = status is not Status.LABOR_CATEGORY_MISMATCH and self.maybe(2)
        if any_rule:
            rates = {"": self.decimal(3000, 9500, 2)}
            categories = [*_CATEGORIES, _NO_RULE_CATEGORY]
            priced = self.pick(categories)
        else:
            count = self.pick((2, 3, 2))
            first = self.small(0, len(_CATEGORIES) - 1)
            ruled = [_CATEGORIES[(first + i) % len(_CATEGORIES)] for i in range(count)]
            rate = self.decimal(3000, 9500, 2)
            rates = {}
            for category in ruled:
                rates[category] = rate
                rate += self.decimal(100, 2500, 2)
            categories = [*ruled, _NO_RULE_CATEGORY]
            priced = ruled[0]
        person = self.person()
        roster = [(person, priced, scaled_to_decimal(self.num(25, 1200), 2))]
        for _ in range(self.small(0, 3)):
            roster.append(
                (self.person(), self.pick(categories), scaled_to_decimal(self.num(25, 1200), 2))
            )
        s.labor = _Labor(rates=rates, roster=roster)
        styles = ["person+cat", "person", "cat"] + (["none"] if any_rule else [])
        style = "person+cat" if status is Status.LABOR_CATEGORY_MISMATCH else self.sample(styles)
        if style != "cat" and style != "none":
            s.labor.person = person
        if style in ("person+cat", "cat"):
            s.labor.billed = priced
        if self.maybe(3):
            s.increment = Decimal(self.pick(("0.25", "0.50")))
            s.increment_cell = self.pick(("up", "nearest", "", "down"))
        if self.maybe(2):
            s.min_qty = Decimal(self.pick(("1.00", "2.00")))

    def _other(self, rate: Decimal) -> Decimal:
        """Return a rate that differs from *rate* by at least 1 % (an older or newer one)."""
        places = _places(rate)
        units = int(Fraction(rate) * 10**places)
        delta = max(1, units // 100) * self.small(1, 20)
        if units > delta and self.maybe(5):
            return scaled_to_decimal(units - delta, places)
        return scaled_to_decimal(units + delta, places)

    def ensure_positive(self, s: _Clin) -> None:
        """Make the billable quantity of *s* greater than 0 (and a fuel rate positive)."""
        qe = s.qe()
        if qe is None or qe > 0:
            return
        unit = Fraction(1, 10**s.q_places)
        bump = (Fraction(s.free) if s.free is not None else 0) + 2 * (
            Fraction(s.increment) if s.increment is not None else unit
        )
        if s.labor is not None:
            labor = s.labor
            for i, (p, c, h) in enumerate(labor.roster):
                if labor.person == p if labor.person is not None else labor.billed in (None, c):
                    labor.roster[i] = (p, c, _dec(Fraction(h) + bump, 2))
                    break
        elif s.measured is not None:
            s.measured = _dec(Fraction(s.measured) + bump, s.q_places)
        qe = s.qe()
        assert qe is not None and qe > 0

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

    # -- rows ------------------------------------------------------------------------------------

    def ref(self, trip_id: str) -> str:
        """Return a trip reference as a vendor may write it (case and spaces do not matter)."""
        if self.maybe(1):
            return trip_id.lower()
        if self.maybe(1):
            return f" {trip_id} "
        return trip_id

    def amount_text(self, cents: int) -> str:
        if cents % 10 == 0 and self.maybe(1):
            whole, frac = divmod(cents, 100)
            return str(whole) if frac == 0 else f"{whole}.{frac // 10}"
        return _text(_money(cents))

    def line_row(
        self,
        s: _Clin | None,
        contract: str,
        clin: str,
        day: dt.date,
        qb: Decimal,
        pb: Decimal,
        a: int,
        *,
        ref: str | None = None,
        route: tuple[str, str] | None = None,
    ) -> dict[str, str]:
        labor = None if s is None else s.labor
        row = {
            "contract_id": contract,
            "clin": clin,
            "service_date": day.isoformat(),
            "quantity": _text(qb),
            "unit_price": _text(pb),
            "amount": self.amount_text(a),
            "trip_ref": ref or "",
            "labor_category": "" if labor is None or labor.billed is None else labor.billed,
            "person_id": "" if labor is None or labor.person is None else labor.person,
            "origin": route[0] if route else "",
            "destination": route[1] if route else "",
        }
        if self.maybe(2):
            row["description"] = f"CLIN {clin} service"
        return row

    def plain_line(self, s: _Clin) -> tuple[Decimal, Decimal, int]:
        """Return a plausible billed quantity, unit price and amount for *s* (unpriced lines)."""
        places = s.places()
        qe = s.qe()
        if qe is None:
            m = _MEASURES.get(s.basis, _MEASURES["vehicle_hours"])
            qe = Fraction(self.num(max(1, m.low), m.high), 10**m.places)
            places = max(places, m.places)
        rate = s.rate_decimal(qe) if (s.kind != "cancellation_tiers" or s.notice) else None
        if rate is None:
            rate = s.tiers[0][1] if s.tiers else self.decimal(1000, 9000, 2)
        qb = _dec(qe, places)
        return qb, rate, _cents(Fraction(qb) * Fraction(rate), Rounding.HALF_UP)

    # -- decoys: trips in a line's slot that inference must not choose --------------------------

    def decoys(
        self,
        s: _Clin,
        line_day: dt.date,
        qb: Fraction,
        line_route: tuple[str, str] | None,
        *,
        worse_than: int | None = None,
    ) -> None:
        """Add 1-2 unbilled trips near the line that are no candidates (or worse ones).

        With *worse_than* (the date distance of the line's own trip), a decoy may also be a
        candidate further away in days, which inference must not prefer.
        """
        w = self.policy.window_days
        tolerance = self.policy.tolerances.get(s.basis)
        kinds = ["far"]
        if line_route is not None:
            kinds.append("route")
        if s.basis != "cancellation":
            kinds.append("cancelled")
        if s.basis in _MEASURES:
            kinds += ["quantity", "unrecorded"]
        if worse_than is not None and worse_than < w:
            kinds.append("farther")
        for _ in range(self.small(1, 2)):
            kind = self.pick(kinds)
            if kind == "far":  # outside the date window
                day = line_day + dt.timedelta(days=self.pick((1, -1)) * (w + 1))
                self.trip_of(s, day=day, route=line_route)
            elif kind == "farther":
                assert worse_than is not None
                distance = self.small(worse_than + 1, w)
                day = line_day + dt.timedelta(days=self.pick((1, -1)) * distance)
                self.trip_of(s, day=day, route=line_route)
            elif kind == "route":
                assert line_route is not None
                other = self.pick([x for x in _SITES if x not in line_route])
                self.trip_of(s, route=(other, line_route[1]))
            elif kind == "cancelled":
                self.trip_of(s, cancelled=True, route=line_route)
            elif kind == "unrecorded":
                self.trip_of(s, record=False, route=line_route)
            else:  # a quantity beyond tolerance of the billed one
                assert s.measured is not None
                step = (
                    Fraction(s.increment)
                    if s.increment is not None
                    else Fraction(1, 10**s.q_places)
                )
                value = Fraction(s.measured)
                for _ in range(100000):
                    value += step * self.pick((1, 7))
                    if not _within(qb, s.billable(value), tolerance):
                        break
                self.trip_of(s, measured=_dec(value, s.places()), route=line_route)

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
                qb += step
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

    # -- lines without an expected price (rows 2-6) ----------------------------------------------

    def unpriced(
        self,
        s: _Clin | None,
        status: Status,
        variant: str,
        *,
        contract: str,
        clin: str,
        day: dt.date,
        qb: Decimal,
        pb: Decimal,
        a: int,
        ref: str | None = None,
        route: tuple[str, str] | None = None,
        trip_id: str | None = None,
        trip_day: dt.date | None = None,
        inferred: bool = False,
        ambiguous: bool = False,
        missing: bool = False,
    ) -> _Line:
        row = self.line_row(s, contract, clin, day, qb, pb, a, ref=ref, route=route)
        info = []
        if inferred:
            info.append("INFERRED_MATCH")
        if ambiguous:
            info.append("AMBIGUOUS_MATCH")
        if trip_day is not None and day != trip_day:
            info.append("SERVICE_DATE_MISMATCH")
        codes = (status.value, "MISSING_MEASURE") if missing else (status.value,)
        match = "none" if trip_id is None else ("inferred" if inferred else "exact")
        return self.add_line(
            contract,
            row,
            status,
            variant,
            codes=codes,
            info=info,
            billed=a,
            expected=0,
            trip_id=trip_id,
            match=match,
        )

    def no_rate(self) -> None:
        """A line whose (contract, CLIN, category) has no rule on the date that governs."""
        w = self.policy.window_days
        variants = ["no-rule", "gap", "unmatched", "labor-category", "labor-roster-category"]
        if w >= 1:
            variants.append("ambiguous")
        variant = self.sample(variants)
        contract = self.contract()
        c = self.slot()
        if variant == "no-rule":  # the CLIN has no rule at all
            s = self.new_clin("trip", contract, c)
            qb, pb, a = self.plain_line(s)
            if self.maybe(5):
                trip_id = self.trip_of(s)
                self.unpriced(
                    s,
                    Status.NO_RATE,
                    variant,
                    contract=contract,
                    clin=s.clin,
                    day=c,
                    qb=qb,
                    pb=pb,
                    a=a,
                    ref=self.ref(trip_id),
                    trip_id=trip_id,
                    trip_day=c,
                )
            else:
                ref = self.unknown_ref() if self.maybe(3) else None
                self.unpriced(
                    s,
                    Status.NO_RATE,
                    variant + "-unmatched",
                    contract=contract,
                    clin=s.clin,
                    day=c,
                    qb=qb,
                    pb=pb,
                    a=a,
                    ref=ref,
                )
            return
        if variant in ("gap", "unmatched"):
            kind = (
                self.sample(("measure", "trip", "fuel", "labor_hours"))
                if variant == "gap"
                else (self.sample(("measure", "trip", "fuel")))
            )
            s = self.new_clin(kind, contract, c)
            before = c - dt.timedelta(days=1 + self.small(0, 3))
            windows = [(before - dt.timedelta(days=self.small(10, 90)), before)]
            after = c + dt.timedelta(days=1 + self.small(0, 3))
            if self.maybe(5):
                windows.append((after, after + dt.timedelta(days=self.small(10, 90))))
            self.emit_rules(s, windows=windows)
            self.emit_index(s)
            qb, pb, a = self.plain_line(s)
            if variant == "gap":  # the trip ran between two windows (or after the last)
                trip_id = self.trip_of(s)
                day = before if self.maybe(3) else c
                self.unpriced(
                    s,
                    Status.NO_RATE,
                    f"{variant}-{kind}",
                    contract=contract,
                    clin=s.clin,
                    day=day,
                    qb=qb,
                    pb=pb,
                    a=a,
                    ref=self.ref(trip_id),
                    trip_id=trip_id,
                    trip_day=c,
                )
            else:  # no trip: the line's own date governs
                ref = self.unknown_ref() if self.maybe(3) else None
                self.unpriced(
                    s,
                    Status.NO_RATE,
                    f"{variant}-{kind}",
                    contract=contract,
                    clin=s.clin,
                    day=c,
                    qb=qb,
                    pb=pb,
                    a=a,
                    ref=ref,
                )
            return
        if variant == "ambiguous":
            # Two equal trips on a rule's first (or last) day; the line, a day or more
            # outside the window, ties them: unmatched, its own date has no rule.
            s = self.new_clin(self.sample(("measure", "trip", "all_units", "fuel")), contract, c)
            side = self.pick((-1, 1))
            day = c + dt.timedelta(days=side * self.small(1, w))
            span = dt.timedelta(days=self.small(10, 90))
            self.emit_rules(s, windows=[(c, c + span) if side < 0 else (c - span, c)])
            self.emit_index(s)
            route = self.route()
            self.trip_of(s, route=route)
            self.trip_of(s, route=route)
            qb, pb, a = self.plain_line(s)
            self.unpriced(
                s,
                Status.NO_RATE,
                variant,
                contract=contract,
                clin=s.clin,
                day=day,
                qb=qb,
                pb=pb,
                a=a,
                ambiguous=True,
            )
            return
        # Labor: the category priced has no rule.
        s = self.new_clin("labor_hours", contract, c, Status.LABOR_CATEGORY_MISMATCH)
        lab = s.labor
        assert lab is not None
        if variant == "labor-category":  # billed a category without a rule, no person
            lab.person, lab.billed = None, _NO_RULE_CATEGORY
        else:  # the person's roster category has no rule (billed as one that has)
            person = self.person()
            lab.roster.append((person, _NO_RULE_CATEGORY, scaled_to_decimal(self.num(25, 1200), 2)))
            lab.person, lab.billed = person, self.pick([c for c in lab.rates if c])
        self.emit_rules(s)
        trip_id = self.trip_of(s)
        qb, pb, a = self.plain_line(s)
        self.unpriced(
            s,
            Status.NO_RATE,
            variant,
            contract=contract,
            clin=s.clin,
            day=c,
            qb=qb,
            pb=pb,
            a=a,
            ref=self.ref(trip_id),
            trip_id=trip_id,
            trip_day=c,
        )

    def unsupported(self, room: int, originals: Sequence[Status]) -> None:
        """A line no trip supports (row 3), or whose trip lacks what the rule needs (row 6)."""
        variants = [
            "no-ref",
            "unknown-ref",
            "ambiguous",
            "measure-not-recorded",
            "fuel-week-missing",
            "notice-missing",
            "no-roster-hours",
            "no-category-persons",
            "category-unknown",
        ]
        if len(self.contracts) > 1:
            variants.append("other-contract-ref")
        # The copied line is built as a chosen priced status: only when there is one.
        choices = [s for s in originals if s is not Status.LABOR_CATEGORY_MISMATCH]
        if room >= 2 and choices:
            variants.append("duplicate-candidate")
        variant = self.sample(variants)
        if variant == "duplicate-candidate":
            # Billed again without a trip_ref: its trip's charge is already claimed.
            original = self.priced(self.sample(choices), plain=True, labor=False)
            row = dict(original.line.row)
            row["trip_ref"] = ""
            if self.maybe(3):
                row["origin"] = row["destination"] = ""
            assert original.line.billed is not None
            self.add_line(
                original.line.contract,
                row,
                Status.UNSUPPORTED,
                variant,
                billed=original.line.billed,
                expected=0,
            )
            return
        contract = self.contract()
        c = self.slot()
        if variant in ("no-ref", "unknown-ref", "other-contract-ref", "ambiguous"):
            kind = self.sample(
                ("measure", "trip", "fuel", "all_units", "graduated", "cancellation")
            )
            s = self.new_clin(kind, contract, c)
            qb, pb, a = self.plain_line(s)
            cover = [c]
            name = variant
            if variant == "ambiguous":
                cover, way = self.ambiguous_trips(s, c, Fraction(qb))
                day, route, name = c, None, f"{variant}-{way}"
            else:
                day = c + dt.timedelta(days=self.pick((0, 1, -1, 2)))
                route = self.route()
                if self.maybe(4):
                    self.decoys(s, day, Fraction(qb), route)
            ref = None
            if variant == "unknown-ref":
                ref = self.unknown_ref()
            elif variant == "other-contract-ref":
                other = self.pick([x for x in self.contracts if x != contract])
                ref = self.trip_of(s, contract=other)
            self.emit_rules(s, [day, *cover])
            self.emit_index(s)
            self.unpriced(
                s,
                Status.UNSUPPORTED,
                f"{name}-{kind}",
                contract=contract,
                clin=s.clin,
                day=day,
                qb=qb,
                pb=pb,
                a=a,
                ref=ref,
                route=route,
                ambiguous=variant == "ambiguous",
            )
            return
        # Row 6: the trip did not record what the rule needs.
        if variant in ("measure-not-recorded", "fuel-week-missing", "notice-missing"):
            kind = {
                "measure-not-recorded": self.sample(("measure", "all_units", "graduated", "fuel")),
                "fuel-week-missing": "fuel",
                "notice-missing": "cancellation_tiers",
            }[variant]
            s = self.new_clin(kind, contract, c)
            qb, pb, a = self.plain_line(s)
            inferred = False
            if variant == "fuel-week-missing":
                assert s.fuel is not None
                del s.fuel.index[s.fuel.week(c)]
                inferred = self.maybe(4)
            elif variant == "notice-missing":
                s.notice = None
                inferred = self.maybe(4)
            day = c
            if inferred:  # the quantity is known, so the trip is still a candidate
                w = self.policy.window_days
                day = c + dt.timedelta(days=self.pick((1, -1)) * self.num(0, w))
                trip_id = self.trip_of(s)
                ref = self.unknown_ref() if self.maybe(2) else None
            else:
                trip_id = self.trip_of(s, record=variant != "measure-not-recorded")
                ref = self.ref(trip_id)
            self.emit_rules(s, [day])
            self.emit_index(s)
            self.unpriced(
                s,
                Status.UNSUPPORTED,
                f"{variant}-{kind}" + ("-inferred" if inferred else ""),
                contract=contract,
                clin=s.clin,
                day=day,
                qb=qb,
                pb=pb,
                a=a,
                ref=ref,
                trip_id=trip_id,
                trip_day=c,
                inferred=inferred,
                missing=True,
            )
            return
        # Labor lines whose hours (or category) the roster cannot give.
        s = self.new_clin("labor_hours", contract, c, Status.LABOR_CATEGORY_MISMATCH)
        lab = s.labor
        assert lab is not None
        ruled = [x for x in lab.rates if x]
        if variant == "no-roster-hours":  # a person not on the roster, with a category
            lab.person, lab.billed = self.person(), self.pick(ruled)
        elif variant == "no-category-persons":  # nobody of the billed category worked it
            lab.person, lab.billed = None, self.pick(ruled)
            others = [x for x in (*ruled, _NO_RULE_CATEGORY) if x != lab.billed]
            lab.roster = [(p, self.pick(others), h) for p, _, h in lab.roster if self.maybe(7)]
        else:  # category-unknown: a person not on the roster, no category
            lab.person, lab.billed = self.person(), None
        qb, pb, a = self.plain_line(s)
        self.emit_rules(s)
        trip_id = self.trip_of(s)
        self.unpriced(
            s,
            Status.UNSUPPORTED,
            variant,
            contract=contract,
            clin=s.clin,
            day=c,
            qb=qb,
            pb=pb,
            a=a,
            ref=self.ref(trip_id),
            trip_id=trip_id,
            trip_day=c,
            missing=True,
        )

    def ambiguous_trips(self, s: _Clin, c: dt.date, qb: Fraction) -> tuple[list[dt.date], str]:
        """Add two trips that tie as best candidates for a line dated *c* billing *qb*.

        Returns the trips' dates (the rule must cover them for them to be candidates) and
        how they tie.
        """
        w = self.policy.window_days
        tolerance = self.policy.tolerances.get(s.basis)
        ways = ["same-day"]
        if w >= 1:
            ways.append("two-days")
        plain = s.free is None and s.increment is None and s.min_qty is None
        if tolerance is not None and plain and s.basis in _MEASURES:
            ways.append("two-quantities")
        way = self.sample(ways)
        route = self.route()
        if way == "same-day":
            self.trip_of(s, route=route)
            self.trip_of(s, route=route)
            return [c], way
        if way == "two-days":
            days = [c - dt.timedelta(days=1), c + dt.timedelta(days=1)]
            for day in days:
                self.trip_of(s, day=day, route=route)
            return days, way
        unit = Fraction(1, 10 ** s.places())
        for k in (self.small(1, 20), 1):
            low, high = qb - k * unit, qb + k * unit
            if low > 0 and _within(qb, low, tolerance) and _within(qb, high, tolerance):
                self.trip_of(s, measured=_dec(low, s.places()), route=route)
                self.trip_of(s, measured=_dec(high, s.places()), route=route)
                return [c], way
        self.trip_of(s, route=route)
        self.trip_of(s, route=route)
        return [c], "same-day"

    def not_performed(self) -> None:
        """A line billed on a cancelled trip, or a cancellation fee on a completed one."""
        contract = self.contract()
        c = self.slot()
        if self.maybe(5):
            kind = self.sample(("measure", "trip", "labor_hours", "fuel", "all_units", "graduated"))
            s = self.new_clin(kind, contract, c)
            self.emit_rules(s)
            self.emit_index(s)
            trip_id = self.trip_of(s, cancelled=True)
            qb, pb, a = self.plain_line(s)
            self.unpriced(
                s,
                Status.NOT_PERFORMED,
                f"cancelled-trip-{kind}",
                contract=contract,
                clin=s.clin,
                day=c,
                qb=qb,
                pb=pb,
                a=a,
                ref=self.ref(trip_id),
                trip_id=trip_id,
                trip_day=c,
            )
            return
        kind = self.sample(("cancellation", "cancellation_tiers"))
        s = self.new_clin(kind, contract, c)
        inferred = self.maybe(4)  # completed trips are candidates for every CLIN
        day = c
        if inferred:
            w = self.policy.window_days
            day = c + dt.timedelta(days=self.pick((1, -1)) * self.small(0, w))
        self.emit_rules(s, [day])
        s.notice = None  # a completed trip gives no notice
        trip_id = self.trip_of(s, cancelled=False)
        qb, pb, a = self.plain_line(s)
        ref = (self.unknown_ref() if self.maybe(2) else None) if inferred else self.ref(trip_id)
        self.unpriced(
            s,
            Status.NOT_PERFORMED,
            f"fee-on-completed-trip-{kind}" + ("-inferred" if inferred else ""),
            contract=contract,
            clin=s.clin,
            day=day,
            qb=qb,
            pb=pb,
            a=a,
            ref=ref,
            trip_id=trip_id,
            trip_day=c,
            inferred=inferred,
        )

    def duplicate(self, originals: Sequence[Status]) -> None:
        """An exactly matched line, then a later line that bills the same charge again."""
        self.add_duplicate(self.priced(self.sample(originals), exact=True))

    def add_duplicate(self, original: _Original) -> None:
        s = original.clin
        row = dict(original.line.row)
        row["trip_ref"] = self.ref(original.trip_id)
        variant = s.kind
        lab = s.labor
        if lab is not None and lab.person is None and lab.billed is not None and self.maybe(5):
            # The category was billed as a whole; now one of its people again.
            people = [p for p, c, _ in lab.roster if c == lab.billed]
            row["person_id"] = self.pick(people)
            variant += "-person-of-category"
        billed = original.line.billed
        assert billed is not None
        if self.maybe(3):  # billed again, differently
            billed = self.typo(billed, ())
            row["amount"] = self.amount_text(billed)
            variant += "-rebilled"
        if self.maybe(2):
            day = s.day + dt.timedelta(days=self.pick((1, -1, 3)))
            row["service_date"] = day.isoformat()
        info = ["SERVICE_DATE_MISMATCH"] if row["service_date"] != s.day.isoformat() else []
        self.add_line(
            original.line.contract,
            row,
            Status.DUPLICATE,
            variant,
            info=info,
            billed=billed,
            expected=0,
            trip_id=original.trip_id,
            match="exact",
        )

    def invalid(self) -> None:
        """A malformed row: reported as a problem, INVALID, takes part in nothing."""
        contract = self.contract()
        c = self.slot()
        s = self.new_clin(self.sample(("measure", "trip")), contract, c)
        self.emit_rules(s)
        trip_id = self.trip_of(s)
        qb, pb, a = self.plain_line(s)
        row = self.line_row(s, contract, s.clin, c, qb, pb, a, ref=trip_id)
        column, cell = self.sample(_BAD_CELLS)
        row[column] = cell
        self.add_line(contract, row, Status.INVALID, column, billed=None, expected=None)

    # -- the case --------------------------------------------------------------------------------

    def finish(self) -> Case:
        if not self.rates:  # rates.csv must have rows: an unbilled CLIN of its own
            s = self.new_clin("trip", self.contract(), self.slot())
            self.emit_rules(s)
        if not self.trips:  # and so must manifests.csv: an unbilled trip
            self.add_trip(self.contract(), self.slot())
        standard = (
            "trip_id",
            "contract_id",
            "service_date",
            "status",
            "origin",
            "destination",
            "cancel_notice_hours",
        )
        columns = sorted(self.bases | {k for row in self.trips for k in row if k not in standard})
        for row in self.trips:
            for name in columns:
                row.setdefault(name, "")

        # DUPLICATE_CANDIDATE: an unmatched line with the values of an earlier matched one.
        first: dict[tuple[str, ...], _Line] = {}
        for line in self.lines:
            if line.status is Status.INVALID:
                continue
            r = line.row
            key = (
                line.contract,
                r["clin"],
                r["labor_category"],
                r["person_id"],
                r["service_date"],
                str(line.billed),
            )
            if line.trip_id is not None:
                first.setdefault(key, line)
            elif key in first:
                line.info.append("DUPLICATE_CANDIDATE")

        # Invoices: per contract, consecutive lines in dated invoices, so that the
        # processing order (invoice date, contract, invoice, line_no) is the build order.
        by_contract: dict[str, list[_Line]] = {}
        for line in self.lines:
            by_contract.setdefault(line.contract, []).append(line)
        headers: list[dict[str, str]] = []
        footing: set[tuple[str, str, str]] = set()
        for contract, lines in by_contract.items():
            day = self.base + dt.timedelta(days=self.small(0, 60))
            done = 0
            number = 0
            while done < len(lines):
                chunk = lines[done : done + self.small(1, 6)]
                done += len(chunk)
                number += 1
                invoice = f"INV-{number:04d}"
                for n, line in enumerate(chunk, 1):
                    line.row = {"invoice_id": invoice, "line_no": str(n), **line.row}
                if done >= len(lines) and self.maybe(2):
                    continue  # the last invoice has no header: undated, it sorts last
                total = sum(x.billed for x in chunk if x.billed is not None)
                header = {
                    "invoice_id": invoice,
                    "contract_id": contract,
                    "invoice_date": day.isoformat(),
                }
                if self.maybe(5):
                    header["received_date"] = (
                        day + dt.timedelta(days=self.small(0, 5))
                    ).isoformat()
                if self.maybe(6):
                    if self.maybe(1):
                        total += self.pick((1, -1, 100, 900))
                        footing.add((contract, invoice, "FOOTING_ERROR"))
                    header["total"] = _text(_money(max(total, 0)))
                    if total < 0:
                        footing.discard((contract, invoice, "FOOTING_ERROR"))
                if self.maybe(3):
                    header["status"] = self.pick(("received", "approved", "paid"))
                headers.append(header)
                day += dt.timedelta(days=self.small(0, 10))

        answers: dict[Key, ExpectedLine] = {}
        for line in self.lines:
            where = (line.contract, line.row["invoice_id"], int(line.row["line_no"]))
            info = [code for code in _INFO_ORDER if code in line.info]
            answers[where] = ExpectedLine(
                status=line.status,
                findings=(*line.codes, *info),
                billed=None if line.billed is None else _money(line.billed),
                expected=None if line.expected is None else _money(line.expected),
                trip_id=None if line.status is Status.INVALID else line.trip_id,
                match="none" if line.status is Status.INVALID else line.match,
                variant=line.variant,
            )
        claimed = {
            (line.contract, line.trip_id)
            for line in self.lines
            if line.trip_id is not None and line.status is not Status.INVALID
        }
        every_trip = {(row["contract_id"], row["trip_id"]) for row in self.trips}
        tables: dict[str, tuple[Mapping[str, str], ...]] = {
            "rates.csv": tuple(self.rates),
            "manifests.csv": tuple(self.trips),
            "invoice_lines.csv": tuple(line.row for line in self.lines),
        }
        for name, rows in (
            ("staff.csv", self.staff),
            ("fuel_rules.csv", self.fuel_rules),
            ("fuel_index.csv", self.fuel_index),
            ("invoices.csv", headers),
        ):
            if rows:
                tables[name] = tuple(rows)
        return Case(
            tables=tables,
            policy=self.policy,
            lines=answers,
            unbilled=frozenset(every_trip - claimed),
            invoice_findings=frozenset(footing),
        )


@st.composite
def _policies(draw: st.DrawFn) -> Policy:
    """Draw a policy: a rounding default, an inference window, tolerances now and then."""
    rounding = _pick(draw, tuple(Rounding))
    window = _pick(draw, (1, 0, 2, _MAX_WINDOW))
    tolerances: dict[str, Tolerance] = {}
    if _maybe(draw, 4):
        for basis, absolute in (
            ("loaded_miles", ("0.5", "2.0")),
            ("labor_hours", ("0.25", "0.50")),
            ("wait_hours", ("0.25",)),
            ("vehicle_hours", ("0.25", "0.50")),
            ("passengers", ("1",)),
            ("flight_hours", ("0.1",)),
        ):
            if _maybe(draw, 4):
                if _maybe(draw, 5):
                    tolerances[basis] = Tolerance(value=Decimal(_pick(draw, absolute)))
                else:
                    percent = Decimal(_pick(draw, ("2", "0.5", "1", "5")))
                    tolerances[basis] = Tolerance(value=percent, percent=True)
    return Policy(tolerances=tolerances, window_days=window, rounding=rounding)


def cases(
    *,
    statuses: Iterable[Status | str] | None = None,
    min_lines: int = 1,
    max_lines: int = 20,
    contracts: int | Sequence[str] = 3,
) -> st.SearchStrategy[Case]:
    """Return a strategy of :class:`Case`: data sets whose every line was built to be a status.

    Each invoice line is built to get a status drawn from *statuses* (every status of
    DESIGN section 5 by default), through one of several constructions per status — for
    example UNSUPPORTED by a missing or unknown trip reference, a reference to another
    contract's trip, a tie between two trips, a copy of a matched line without its
    reference (``DUPLICATE_CANDIDATE``), or a measure, roster hours, notice hours or fuel
    index week the trip did not record; priced lines on flat rates, ``trip`` and
    ``cancellation`` fees, labor categories, ``all_units`` and ``graduated`` tiers and fuel
    surcharges, with free quantities, increments, minimum quantities and amounts, rounding
    modes, exact and inferred matches, tolerances and date mismatches. The answer for every
    line (:attr:`Case.lines`: status, findings, A, E, trip and match) is worked out with
    exact fractions inside this module, never by the engine.

    Lines cannot interact by accident: each one (or each group, below) has its own CLIN,
    its own trips and its own dates, three weeks from any other line's, so inference never
    sees another line's trips. Lines interact only where the status needs it: a DUPLICATE
    line comes after the exactly matched line whose charge it bills again (built as one of
    the priced statuses among *statuses*, or MATCHED if there is none), and a
    ``DUPLICATE_CANDIDATE`` copy after the line it copies (used only when a priced status
    is among *statuses*); within a contract, invoices follow the order the lines were
    built in, so "earlier" holds in processing order.

    Args:
        statuses: the statuses to build lines as (``Status`` members or their names).
        min_lines, max_lines: how many invoice lines the case has (a case always has
            exactly a number of lines in this range).
        contracts: how many contracts the lines are spread over (picked from a list of
            realistic PIIDs), or the contract ids to use.

    Raises:
        InvalidArgument: an unknown status, bad sizes, or DUPLICATE as the only status with
            ``min_lines < 2`` (a duplicate needs the line it duplicates).

    >>> from hypothesis import find
    >>> case = find(cases(statuses=["ROUNDING_DIFF"], max_lines=1), lambda case: True)
    >>> [(line.status.value, line.variance) for line in case.lines.values()]
    [('ROUNDING_DIFF', Decimal('...'))]
    """
    chosen: tuple[Status, ...]
    if statuses is None:
        chosen = _STATUSES
    else:
        if isinstance(statuses, str) or not isinstance(statuses, Iterable):
            raise InvalidArgument(f"statuses must be an iterable of Status (got {statuses!r})")
        found = []
        for s in statuses:
            try:
                found.append(Status(s))
            except ValueError:
                raise InvalidArgument(
                    f"statuses: {s!r} is not a status (expected one of "
                    f"{', '.join(x.value for x in Status)})"
                ) from None
        if not found:
            raise InvalidArgument("statuses must not be empty")
        chosen = tuple(x for x in _STATUSES if x in found)
    # Hypothesis bounds how much one example may draw; 200 lines stay well inside it.
    lo = _check_int("min_lines", min_lines, 1, _MAX_LINES)
    hi = _check_int("max_lines", max_lines, 1, _MAX_LINES)
    if lo > hi:
        raise InvalidArgument(f"min_lines={lo} must not be greater than max_lines={hi}")
    if chosen == (Status.DUPLICATE,) and lo < 2:
        raise InvalidArgument(
            "with DUPLICATE as the only status, min_lines must be at least 2: a duplicate "
            "comes with the line it duplicates"
        )
    if isinstance(contracts, int) and not isinstance(contracts, bool):
        count = _check_int("contracts", contracts, 1, len(_CONTRACT_IDS))
        contract_ids = _CONTRACT_IDS[:count]
    else:
        contract_ids = _check_names("contracts", contracts)
    # The chance to stop before each group beyond min_lines, for (lo + hi) / 2 lines on
    # average, as lists do; Hypothesis draws many smaller cases besides, by design.
    stop = max(1, round(1000 / (1 + max(0.0, (hi - lo) / 2))))
    priced = [x for x in chosen if x in _PRICED]
    originals = priced or [Status.MATCHED]
    others = [x for x in chosen if x is not Status.DUPLICATE]

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        policy = draw(_policies())
        base = dt.date(2021, 10, 4) + dt.timedelta(days=draw(_ints(0, 364)))
        b = _Builder(draw, policy, contract_ids, base)

        @st.composite
        def group(inner: st.DrawFn) -> bool:
            """Build one group of lines; return False to end the case instead.

            A group is one nested draw, so each is one span of choices that the shrinker
            can delete whole, as it deletes the elements of Hypothesis' own lists.
            """
            b.draw = inner
            b.bits_left = 0
            # Like lists: a "one more?" choice before each group, ignored below min_lines
            # but always drawn, so that every group's choices are laid out alike.
            more = inner(_ints(0, 999)) >= stop
            if len(b.lines) >= lo and not more:
                return False
            room = hi - len(b.lines)
            status = b.sample(chosen)
            if status is Status.DUPLICATE and b.originals and (room < 2 or b.maybe(7)):
                # Any earlier exactly matched priced line can be billed again.
                b.add_duplicate(b.pick(b.originals))
                return True
            if status is Status.DUPLICATE and room < 2:
                status = b.sample(others)
            if status in _PRICED:
                b.priced(status)
            elif status is Status.NO_RATE:
                b.no_rate()
            elif status is Status.UNSUPPORTED:
                b.unsupported(room, priced)
            elif status is Status.NOT_PERFORMED:
                b.not_performed()
            elif status is Status.DUPLICATE:
                b.duplicate(originals)
            else:
                b.invalid()
            return True

        one_group = group()
        while len(b.lines) < hi and draw(one_group):
            pass
        b.draw = draw
        b.bits_left = 0
        return b.finish()

    return draw_case()
