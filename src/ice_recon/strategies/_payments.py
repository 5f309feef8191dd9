"""Draw the payment files of DESIGN section 9.1 for a case built with ``payments=True``.

:class:`_PaymentsBuilder` adds, once the lines and invoices are built: ``passengers`` and
``seats`` on the trips (some below the utilization floor, some above, some unrecorded),
``contracts.csv`` (ceilings and funded amounts set to be crossed at a chosen invoice, or
exactly reached, or roomy; some contracts without an estimate, risk levels, payment days,
notice percents, periods of performance that ended or not), ``cors.csv`` (appointments with
gaps between them, expired and open-ended ones, levels I-III; sometimes absent or empty),
``interest_rates.csv`` (windows with gaps; sometimes absent) and the approval and payment
columns of the invoice headers (approved by an appointed person or not, undocumented
approvals, payments on time, late, more than 365 days late, late with interest under 1.00).

Dates are chosen with the oracle's own due date (:func:`._payment_oracle._due`), so that a
payment is late by the number of days drawn; what each invoice then must get is worked out
by :func:`._payment_oracle.expect_section9` from the rows written.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Final

from ice_recon.strategies._base import _SLOT_DAYS, _BaseBuilder
from ice_recon.strategies._case import ExpectedLine, Key
from ice_recon.strategies._oracle import _money, _text
from ice_recon.strategies._payment_oracle import _cents, _due, _Invoice, _invoices, _Terms

_SEATS: Final = (12, 15, 40, 44, 52, 120, 0)
_RATES: Final = ("4.875", "6", "3.125", "5.25", "4.0", "7.5", "1.75", "4.625")
_NOTICES: Final = ("", "85", "75", "80.5", "90")
_RISKS: Final = ("", "low", "moderate", "high")
_LEVELS: Final = ("I", "II", "III", "I")
#: Days paid after the due date: early, on the day, the 30-day compounding edges, a year.
_LATE_BY: Final = (0, -5, 1, 20, 29, 30, 31, 60, 75, 364, 365, 366, 400, 7, 45)
_FLOORS: Final = ("0.80", "0.75", "0.5", "1", "0", "0.9")


def _day(offset: dt.date, days: int) -> str:
    return (offset + dt.timedelta(days=days)).isoformat()


class _PaymentsBuilder(_BaseBuilder):
    """Draw the section 9.1 files of a case (see the module)."""

    def capacity_measures(self, passengers: str, seats: str) -> None:
        """Record seats (and passengers where no rule reads them) on most trips."""
        for row in self.trips:
            if not self.maybe(8):
                continue
            capacity = self.pick(_SEATS)
            row[seats] = str(capacity)
            if passengers in row:
                continue  # a rule prices it (or it was left unrecorded on purpose): keep
            if self.maybe(8):
                row[passengers] = str(self.small(0, capacity + 3))

    def payment_files(
        self,
        line_rows: Sequence[Mapping[str, str]],
        answers: Mapping[Key, ExpectedLine],
        headers: list[dict[str, str]],
    ) -> tuple[dict[str, tuple[dict[str, str], ...]], dt.date | None]:
        """Draw contracts.csv, cors.csv, interest_rates.csv and the header columns.

        Returns the new tables (a file not drawn is left out) and the ``as_of`` day drawn
        for the policy (None: each contract's latest invoice date).
        """
        first = self.base
        span = _SLOT_DAYS * self.slots + 30
        invoices = _invoices(line_rows, answers, headers)
        tables: dict[str, tuple[dict[str, str], ...]] = {}

        pool, appointments = self._cors(first, span)
        if self.maybe(8):
            tables["cors.csv"] = tuple(appointments)
        contracts = self._contracts(invoices, answers, headers, span, appointments)
        if contracts:
            tables["contracts.csv"] = tuple(contracts)
        terms = {r["contract_id"]: _Terms.of(r) for r in contracts}
        if self.maybe(8):
            tables["interest_rates.csv"] = tuple(self._interest_rates(first, span))

        by_key = {(i.contract, i.invoice): i for i in invoices}
        for header in headers:
            inv = by_key[(header["contract_id"], header["invoice_id"])]
            t = terms.get(inv.contract)
            self._header(header, inv, 30 if t is None else t.payment_days, pool, appointments)
        as_of = _day(first, self.small(0, span + 200)) if self.maybe(3) else None
        return tables, None if as_of is None else dt.date.fromisoformat(as_of)

    # -- contracts.csv -------------------------------------------------------------------------

    def _contracts(
        self,
        invoices: Sequence[_Invoice],
        answers: Mapping[Key, ExpectedLine],
        headers: Sequence[Mapping[str, str]],
        span: int,
        appointments: Sequence[Mapping[str, str]],
    ) -> list[dict[str, str]]:
        rows = []
        for contract in self.contracts:
            if not self.maybe(8):
                continue
            mine = [i for i in invoices if i.contract == contract]
            cums = []
            total = 0
            for inv in mine:
                total += inv.billed
                cums.append(total)
            spent = sum(
                _cents(str(line.expected))
                for key, line in answers.items()
                if key[0] == contract and line.expected is not None
            )
            notice = self.pick(_NOTICES)
            row = {"contract_id": contract, "notice_percent": notice}
            ceiling = None
            if self.maybe(8):
                ceiling = self._money_limit(mine, cums, Fraction(Decimal(notice or "85")))
                row["ceiling"] = _text(_money(ceiling))
            if self.maybe(6):
                way = self.pick(("crossed", "above-spent", "ceiling", "above-spent"))
                if way == "crossed":
                    funded = self._money_limit(mine, cums, Fraction(100))
                elif way == "above-spent" or ceiling is None:
                    funded = spent + self.small(0, 3) * self.small(1, 200_000)
                else:
                    funded = ceiling
                row["funded"] = _text(_money(funded))
            if self.maybe(6):
                row["estimate"] = _text(_money(max(0, total + self.small(-50_000, 50_000))))
            row["risk"] = self.pick(_RISKS)
            row["payment_days"] = self.pick(("", "30", "7", "14", "45"))
            dates = [h["invoice_date"] for h in headers if h["contract_id"] == contract]
            latest = dt.date.fromisoformat(max(dates)) if dates else self.base
            if self.maybe(7):
                # Ended before the latest invoice (a deobligation to review) or still running,
                # now and then on the very day (default as_of) or a day either side.
                days = self.pick((0, -1, 1)) if self.maybe(3) else self.small(-60, 60)
                end = latest + dt.timedelta(days=days)
                row["end"] = end.isoformat()
                if self.maybe(7):
                    row["start"] = _day(end, -self.small(0, span + 400))
            elif self.maybe(3):
                row["start"] = _day(self.base, self.small(-400, span))
            held = [a for a in appointments if a["contract_id"] == contract]
            if held and self.maybe(3):
                self._period_at_edge(row, self.pick(held))
            rows.append(row)
        return rows

    def _period_at_edge(self, row: dict[str, str], a: Mapping[str, str]) -> None:
        """Put the period of performance on an appointment's edge, or a day past it."""
        past = self.pick((0, 1))
        if a["expires"] and self.maybe(5):  # starts the day the appointment ends (or after)
            start = dt.date.fromisoformat(a["expires"]) + dt.timedelta(days=past)
            row["start"] = start.isoformat()
            if row.get("end") and dt.date.fromisoformat(row["end"]) < start:
                row["end"] = _day(start, self.small(0, 90))
        else:  # ends the day the appointment starts (or before)
            end = dt.date.fromisoformat(a["appointed"]) - dt.timedelta(days=past)
            row["end"] = end.isoformat()
            if row.get("start") and dt.date.fromisoformat(row["start"]) > end:
                row["start"] = ""

    def _money_limit(self, mine: Sequence[_Invoice], cums: Sequence[int], percent: Fraction) -> int:
        """Return a ceiling (or funded amount) crossed, reached or noticed at a drawn invoice."""
        if not mine or not self.maybe(8):
            return (cums[-1] if cums else 0) * 2 + self.small(0, 1_000_000)
        j = self.small(0, len(mine) - 1)
        at = cums[j]
        way = self.pick(("over", "exact", "notice", "below-notice"))
        if way == "over":  # exceeded at invoice j by part of its B
            return max(0, at - self.small(1, max(1, mine[j].billed)))
        if way == "exact":  # cumulative equals the limit: reached, not exceeded
            return at
        # The notice threshold reached exactly at j, or one cent short of it.
        limit = math.floor(Fraction(at) * 100 / percent)
        return limit + (1 if way == "below-notice" else 0)

    # -- cors.csv and interest_rates.csv --------------------------------------------------------

    def _cors(self, first: dt.date, span: int) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
        """Draw appointments: per contract 0-3 persons, each with windows, gaps and expiries."""
        pool: dict[str, list[str]] = {}
        rows: list[dict[str, str]] = []
        for contract in self.contracts:
            count = self.small(1, 3) if not self.maybe(2) else 0
            persons = [f"COR{n}" for n in range(1, count + 1)]
            pool[contract] = persons
            for person in persons:
                day = first + dt.timedelta(days=self.small(-120, span // 2))
                for _ in range(self.small(1, 3)):
                    row = {
                        "contract_id": contract,
                        "person_id": person,
                        "appointed": day.isoformat(),
                        "level": self.pick(_LEVELS),
                        "expires": "",
                    }
                    rows.append(row)
                    if self.maybe(2):
                        break  # open-ended
                    length = self.small(10, 300)
                    row["expires"] = _day(day, length)
                    gap = 0 if self.maybe(3) else self.small(1, 90)
                    day += dt.timedelta(days=length + 1 + gap)
        return pool, rows

    def _interest_rates(self, first: dt.date, span: int) -> list[dict[str, str]]:
        """Draw rate windows from before the first invoice to well after the last payment."""
        rows = []
        day = first - dt.timedelta(days=60)
        stop = first + dt.timedelta(days=span + 1200)
        while day <= stop:
            length = self.small(30, 180)
            rows.append({"start": day.isoformat(), "end": _day(day, length - 1), "rate": ""})
            rows[-1]["rate"] = self.pick(_RATES)
            day += dt.timedelta(days=length + (0 if self.maybe(5) else self.small(1, 120)))
        return rows

    # -- invoice headers -------------------------------------------------------------------------

    def _header(
        self,
        header: dict[str, str],
        inv: _Invoice,
        payment_days: int,
        pool: Mapping[str, Sequence[str]],
        appointments: Sequence[Mapping[str, str]],
    ) -> None:
        # Paid and dated first: what Hypothesis shrinks toward still exercises the controls.
        status = self.pick(("paid", "approved", "", "received", "paid"))
        header["status"] = status
        # A paid_date makes the invoice paid whatever its status; "paid" may lack one.
        dated = not self.maybe(2) if status == "paid" else self.maybe(3)
        approved = dated or status in ("approved", "paid")
        if approved or self.maybe(1):
            persons = list(pool.get(inv.contract, ()))
            if not self.maybe(1):
                header["approved_by"] = self.pick([*persons, *persons, "COR9"])
            if not self.maybe(1):
                header["approved_date"] = self._approval_day(header, inv, appointments)
        if dated:
            due = _due(header, inv, payment_days)
            late = self.pick(_LATE_BY) if self.maybe(8) else self.small(-30, 500)
            header["paid_date"] = (due + dt.timedelta(days=late)).isoformat()
            way = self.pick(("", "", "billed", "small", "other"))
            if way == "billed":
                header["paid_amount"] = _text(_money(inv.billed))
            elif way == "small":  # interest under 1.00 on a small payment
                header["paid_amount"] = _text(_money(self.small(100, 5000)))
            elif way == "other":
                header["paid_amount"] = _text(_money(self.small(0, 2_000_000)))

    def _approval_day(
        self,
        header: Mapping[str, str],
        inv: _Invoice,
        appointments: Sequence[Mapping[str, str]],
    ) -> str:
        """Return an approval day: in one of the approver's windows, or anywhere near."""
        person = header.get("approved_by", "")
        held = [
            a for a in appointments if a["contract_id"] == inv.contract and a["person_id"] == person
        ]
        if held and self.maybe(6):
            a = self.pick(held)
            start = dt.date.fromisoformat(a["appointed"])
            length = (dt.date.fromisoformat(a["expires"]) - start).days if a["expires"] else 60
            return _day(start, self.small(0, length))
        base = inv.latest or dt.date.fromisoformat(header["invoice_date"])
        return _day(base, self.small(-20, 40))
