"""Give the case builder its shared machinery: :class:`_BaseBuilder`.

How it draws (a pool of bits for small choices), the names it makes (CLINs, trips, persons,
date slots three weeks apart), the tables it writes (trips, rules, fuel index, lines), a CLIN
of each kind, invoice-line rows, and decoy trips that inference must not choose. The
constructions of each status build on it (:mod:`._priced`, :mod:`._builder`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from hypothesis import strategies as st

from ice_recon.money import Rounding, scaled_to_decimal
from ice_recon.policy import Policy
from ice_recon.records import Status, WeekRule
from ice_recon.strategies._draw import (
    _CATEGORIES,
    _MEASURE_NAMES,
    _MEASURES,
    _NO_RULE_CATEGORY,
    _SITES,
    _clin_text,
    _decimal,
    _ints,
)
from ice_recon.strategies._oracle import _cents, _dec, _money, _places, _text, _within
from ice_recon.strategies._parts import _Clin, _Fuel, _Labor, _Line, _Original

_ROUTES: Final = tuple((a, b) for a in _SITES for b in _SITES if a != b)
#: Days between the centers of two lines' date slots. A slot's dates lie within 7 days of
#: its center and the inference window is at most 3 days, so slots never see each other.
_SLOT_DAYS: Final = 21
_MAX_WINDOW: Final = 3


class _BaseBuilder:
    """Draw the choices, names, tables, CLINs, rows and decoys that every construction shares."""

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
        self.payments = False  # draw the section 9.1 files too (see _payments)

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
