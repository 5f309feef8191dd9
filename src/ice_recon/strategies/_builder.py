"""Build one case: the case builder :class:`_Builder` and how a case is finished.

It adds the lines without an expected price (NO_RATE, UNSUPPORTED, NOT_PERFORMED: rows 2-6
of DESIGN section 5), DUPLICATE and INVALID lines to the priced ones of :mod:`._priced`, then
:meth:`_Builder.finish` groups the lines into invoices, marks duplicate candidates and writes
the :class:`~ice_recon.strategies._case.Case` with every line's answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Final

import attrs

from ice_recon.money import scaled_to_decimal
from ice_recon.records import Status
from ice_recon.strategies._case import Case, ExpectedLine, Key
from ice_recon.strategies._draw import _MEASURES, _NO_RULE_CATEGORY
from ice_recon.strategies._oracle import _dec, _money, _text, _within
from ice_recon.strategies._parts import _Clin, _Line, _Original
from ice_recon.strategies._payment_oracle import expect_section9
from ice_recon.strategies._payments import _PaymentsBuilder
from ice_recon.strategies._priced import _PricedBuilder

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


class _Builder(_PricedBuilder, _PaymentsBuilder):
    """Build one case, group of lines by group of lines, each in its own date slot.

    Lines without an expected price (rows 2-6 of DESIGN section 5), duplicates and invalid
    rows are built here; priced lines by :class:`_PricedBuilder`, the shared machinery in
    :class:`_BaseBuilder`.
    """

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
            "fee-without-cancelled-trip",
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
        if variant == "fee-without-cancelled-trip":
            # A cancellation fee without a usable ref, near a completed trip only: a completed
            # trip never supports a fee by inference, so nothing does, and the trip stays
            # unbilled.
            kind = self.sample(("cancellation", "cancellation_tiers"))
            s = self.new_clin(kind, contract, c)
            w = self.policy.window_days
            day = c + dt.timedelta(days=self.pick((1, -1)) * self.small(0, w))
            self.emit_rules(s, [day])
            s.notice = None  # a completed trip gives no notice
            self.trip_of(s, cancelled=False)
            qb, pb, a = self.plain_line(s)
            self.unpriced(
                s,
                Status.UNSUPPORTED,
                f"{variant}-{kind}",
                contract=contract,
                clin=s.clin,
                day=day,
                qb=qb,
                pb=pb,
                a=a,
                ref=self.unknown_ref() if self.maybe(2) else None,
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
                week = s.fuel.week(c)
                # The series keeps a week a year earlier: a series with no week at all is a
                # problem of the fuel rule's row, not missing evidence of one line.
                s.fuel.index[week - dt.timedelta(days=364)] = s.fuel.index.pop(week)
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
        self.emit_rules(s)
        s.notice = None  # a completed trip gives no notice
        trip_id = self.trip_of(s, cancelled=False)
        qb, pb, a = self.plain_line(s)
        self.unpriced(
            s,
            Status.NOT_PERFORMED,
            f"fee-on-completed-trip-{kind}",
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
        if self.payments:
            self.capacity_measures(self.policy.passengers_measure, self.policy.seats_measure)
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
        policy = self.policy
        if self.payments:
            extra, as_of = self.payment_files(tables["invoice_lines.csv"], answers, headers)
            tables.update(extra)
            policy = attrs.evolve(policy, as_of=as_of)
        for name, rows in (
            ("staff.csv", self.staff),
            ("fuel_rules.csv", self.fuel_rules),
            ("fuel_index.csv", self.fuel_index),
            ("invoices.csv", headers),
        ):
            if rows:
                tables[name] = tuple(rows)
        answer = expect_section9(tables, answers, policy)
        controls = {(f.contract_id, f.invoice_id, f.finding) for f in answer.invoice_controls}
        return Case(
            tables=tables,
            policy=policy,
            lines=answers,
            unbilled=frozenset(every_trip - claimed),
            invoice_findings=frozenset(footing | controls),
            invoice_controls=answer.invoice_controls,
            payments=answer.payments,
            contract_findings=answer.contract_findings,
            capacity=answer.capacity,
        )
