"""The DESIGN section 9.1 inputs of a generated folder (internal): terms, CORs, payments.

The contracts.csv and cors.csv rows, the approval and payment of each invoice (invoices.csv)
and interest_rates.csv. :data:`CONTRACT_TERMS` is public as ``ice_recon.generate``'s; see
that module.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from typing import Final

from ice_recon._generate_common import _Invoice
from ice_recon.money import format_cents

#: Shares of approved invoices left without approved_by or approved_date, approved by the
#: contracting officer (no COR appointment), or, where one is appointed, by the alternate COR.
_UNDOCUMENTED: Final = 0.02
_BY_CO: Final = 0.02
_BY_ALTERNATE: Final = 0.15
#: Shares of paid invoices paid late, and of those paid one day late (small interest).
_LATE: Final = 0.08
_ONE_DAY_LATE: Final = 0.3
#: Share of the invoices before a contract's last two that are approved but not yet paid.
_UNPAID: Final = 0.05
_CONTRACT_COLUMNS: Final = (
    "contract_id", "ceiling", "funded", "estimate", "start", "end", "risk", "payment_days",
    "notice_percent",
)  # fmt: skip
#: What each contract part plants (DESIGN section 9), as percentages of the contract's
#: billed total (whole dollars, rounded down; empty: no such figure), and its terms:
#: (ceiling, funded, estimate, risk, payment_days, notice_percent, the COR's level, the
#: alternate COR's level or None, period of performance ends at the last billed trip).
CONTRACT_TERMS: Final = (
    # 0: ceiling notice at 85 %, no overrun; the period ended with money left (deobligation);
    #    the alternate COR's level I is below the moderate risk.
    (110, 125, 97, "moderate", "30", "", "II", "I", True),
    # 1: over the ceiling and the funds; no cost estimate; high risk, alternate at level II.
    (95, 90, None, "high", "", "", "III", "II", False),
    # 2: a Limitation of Funds contract: notice at 75 % of the ceiling.
    (125, 115, 104, "low", "", "75", "I", None, False),
    # 3: no COR appointed, no cost estimate, no passenger counted (see _write_trips).
    (200, 150, None, "moderate", "15", "", None, None, False),
)
#: Prompt Payment interest rates (percent a year) per half-year from January 2019: close to
#: the rates Treasury published, but not official figures; later half-years cycle through
#: :data:`_LATER_RATES`.
_INTEREST_RATES: Final = (
    "3.625", "2.875", "2.125", "0.875", "1.125", "1.375", "1.625", "3.000", "4.750", "4.875",
    "4.625", "4.375", "4.625", "4.500",
)  # fmt: skip
_LATER_RATES: Final = ("4.250", "4.000", "3.875", "4.125", "4.500", "4.875", "5.000", "4.625")


def _iso(day: int) -> str:
    return dt.date.fromordinal(day).isoformat()


def _share(cents: int, percent: int) -> str:
    """Return *percent* % of *cents* in whole dollars, rounded down (at least 1,000.00)."""
    return format_cents(max(100_000, cents * percent // 10_000 * 100))


class _Terms:
    """The section 9.1 terms of the contracts: figures, periods, COR appointments, approvers.

    The money figures are shares of each contract's billed total (the sum of its
    non-malformed lines, what DESIGN section 9.2 adds up against the ceiling), so that the
    part a contract plays (:data:`CONTRACT_TERMS`) shows at any size. The COR is appointed
    from 30 days before the period for a year at a time; the first renewal, and every third
    after it, comes 20 to 40 days after the appointment ended (invoices approved then are
    approved by an expired appointment). The alternate COR is appointed for 240 days around
    the middle of the billing.
    """

    def __init__(
        self,
        cids: Sequence[str],
        windows: Sequence[Sequence[tuple[int, int]]],
        last: int,
        invoices: Sequence[_Invoice],
        plan: random.Random,
    ) -> None:
        n = len(cids)
        self.cids = cids
        self.totals = [0] * n
        billed: list[list[int]] = [[] for _ in range(n)]
        for invoice in invoices:
            self.totals[invoice.contract] += invoice.total
            billed[invoice.contract].append(invoice.last_day)
        self.start = [ws[0][0] for ws in windows]
        self.end = [
            max(days) if CONTRACT_TERMS[k % 4][8] and days else max(ws[-1][1], last + 60)
            for k, (ws, days) in enumerate(zip(windows, billed, strict=True))
        ]
        self.payment_days = [int(CONTRACT_TERMS[k % 4][4] or 30) for k in range(n)]
        #: (contract, person, appointed, level, expires or None), in file order.
        self.cors: list[tuple[int, str, int, str, int | None]] = []
        self.alternate: list[tuple[int, int] | None] = [None] * n
        for k in range(n):
            level, alternate_level = CONTRACT_TERMS[k % 4][6:8]
            if level is None:
                continue
            day, until = self.start[k] - 30, max(self.end[k], last) + 120
            renewal = 0
            while True:
                expires = day + 364
                if expires >= until:
                    self.cors.append((k, self.primary(k), day, level, None))
                    break
                self.cors.append((k, self.primary(k), day, level, expires))
                lapse = 20 + int(plan.random() * 21) if renewal % 3 == 0 else 0
                day, renewal = expires + 1 + lapse, renewal + 1
            if alternate_level is not None:
                mid = (min(billed[k]) + max(billed[k])) // 2 if billed[k] else last
                self.alternate[k] = (mid - 120, mid + 120)
                self.cors.append((k, f"COR-{k + 1:02d}-2", mid - 120, alternate_level, mid + 120))

    @staticmethod
    def primary(k: int) -> str:
        return f"COR-{k + 1:02d}-1"

    def contract_rows(self) -> list[list[str]]:
        """Return the contracts.csv rows."""
        rows = []
        for k, cid in enumerate(self.cids):
            ceiling, funded, estimate, risk, days, notice = CONTRACT_TERMS[k % 4][:6]
            total = self.totals[k]
            rows.append([
                cid, _share(total, ceiling), _share(total, funded),
                "" if estimate is None else _share(total, estimate),
                _iso(self.start[k]), _iso(self.end[k]), risk, days, notice,
            ])  # fmt: skip
        return rows

    def cor_rows(self) -> list[list[str]]:
        """Return the cors.csv rows."""
        return [
            [self.cids[k], person, _iso(day), level, "" if until is None else _iso(until)]
            for k, person, day, level, until in self.cors
        ]

    def payment(self, k: int, when: int, cents: int, later: int, plan: random.Random) -> list[str]:
        """Return status, approved_by, approved_date, paid_date, paid_amount of an invoice.

        *later* is the number of the contract's invoices after this one: the last is only
        received, the one before approved. Of the others, :data:`_UNPAID` are approved and
        the rest paid: on time (by the invoice date + payment_days, the earliest due date
        DESIGN 9.2 can give) or :data:`_LATE` late (after approved_date + payment_days, the
        latest due date it can give). *cents* (the lines' total) is the paid amount written
        for 70 % of the paid invoices; the others fall back to the header total.
        """
        if later == 0:
            return ["received", "", "", "", ""]
        uniform = plan.random
        paid = later > 1 and uniform() >= _UNPAID
        late = paid and uniform() < _LATE
        one_day = late and uniform() < _ONE_DAY_LATE
        # Approved on receipt when paid one day late: every reading of the due date then
        # gives the invoice date + payment_days, so the interest is one day's.
        approved = when if one_day else when + int(uniform() * 6)
        by = self.approver(k, approved, uniform())
        undocumented = uniform()
        approved_text = _iso(approved)
        base = approved
        if undocumented < _UNDOCUMENTED / 2:
            by = ""
        elif undocumented < _UNDOCUMENTED:
            approved_text, base = "", when
        if not paid:
            return ["approved", by, approved_text, "", ""]
        days = self.payment_days[k]
        if late:
            day = base + days + (1 if one_day else 2 + int(uniform() * 120))
        else:
            day = base + int(uniform() * (when + days - base + 1))
        amount = format_cents(cents) if uniform() < 0.7 else ""
        return ["paid", by, approved_text, _iso(day), amount]

    def approver(self, k: int, day: int, u: float) -> str:  # float-ok: a random draw, not money
        """Return who approves contract *k*'s invoice on *day*, with *u* uniform in [0, 1)."""
        if u < _BY_CO:
            return f"CO-{k + 1:02d}"  # the contracting officer: no COR appointment
        alternate = self.alternate[k]
        if alternate and alternate[0] <= day <= alternate[1] and u < _BY_CO + _BY_ALTERNATE:
            return f"COR-{k + 1:02d}-2"
        return self.primary(k)


def _interest_rows(until: int, gap: int) -> list[list[str]]:
    """Return interest_rates.csv: half-years from January 2019 to *until*, but *gap*'s."""
    rows: list[list[str]] = []
    for i in itertools.count():
        year, half = 2019 + i // 2, i % 2
        start = dt.date(year, 7 if half else 1, 1).toordinal()
        end = dt.date(year, 12, 31).toordinal() if half else dt.date(year, 6, 30).toordinal()
        if start > until:
            return rows
        if not start <= gap <= end:
            rate = _INTEREST_RATES[i] if i < len(_INTEREST_RATES) else _LATER_RATES[i % 8]
            rows.append([_iso(start), _iso(end), rate])
    raise AssertionError("unreachable")  # pragma: no cover
