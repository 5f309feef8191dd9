"""Work out what DESIGN section 9 must say about a case: the oracle of the payment controls.

From the rows a case was built with and the answer for each of its lines (status, A, E and
trip), this module works out the invoice controls of section 9.2, the payment ledgers and
the funds put to better use of section 9.3, and the contract findings — by the rules of
DESIGN section 9 and ``notes/sec9_spec.md``, written out here with ``Fraction`` and integer
cents. It never calls the engine's modules for this (``ice_recon.controls``,
``ice_recon.payment``, ``ice_recon.oversight``, ``ice_recon.report``): it is the
independent answer those modules are tested against.

Interest (5 CFR 1315.10) on P cents at r % a year for d = min(days late, 365) days, n = d // 30
periods compounded monthly and k = d % 30 days of simple interest, rounded half up once —
the two check values of DESIGN section 9.2:

>>> _interest(1_245_000, Fraction("4.875"), 20)
3372
>>> _interest(150_000, Fraction(6), 75)
1883
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Final

import attrs

from ice_recon.policy import Policy
from ice_recon.records import Status
from ice_recon.strategies._case import ExpectedInvoiceFinding, ExpectedLine, ExpectedPayments, Key
from ice_recon.strategies._oracle import _money

#: Rows 7-14 of DESIGN section 5: lines with an expected amount from a rule.
_PRICED: Final = frozenset(
    {
        Status.MATCHED,
        Status.LABOR_CATEGORY_MISMATCH,
        Status.MINIMUM_MISAPPLIED,
        Status.EXTENSION_ERROR,
        Status.QUANTITY_MISMATCH,
        Status.RATE_MISMATCH,
        Status.ROUNDING_DIFF,
        Status.AMOUNT_MISMATCH,
    }
)
#: Rows 2, 4 and 5: the whole amount is erroneous.
_WHOLLY_ERRONEOUS: Final = frozenset({Status.NO_RATE, Status.NOT_PERFORMED, Status.DUPLICATE})
#: The COR level a contract's risk needs (DESIGN section 9.2): low I, moderate II, high III.
_LEVEL_NEEDED: Final = {"low": 1, "moderate": 2, "high": 3}
_LEVEL_RANK: Final = {"I": 1, "II": 2, "III": 3}
_CONSTRUCTIVE_DAYS: Final = 7
_MAX_DAYS: Final = 365
_OWED_CENTS: Final = 100


def _cents(text: str) -> int:
    """Return a money cell (at most 2 places) in cents."""
    value = Fraction(Decimal(text.strip())) * 100
    assert value.denominator == 1, f"{text!r} has more than 2 places"
    return value.numerator


def _day(text: str | None) -> dt.date | None:
    text = (text or "").strip()
    return dt.date.fromisoformat(text) if text else None


def _cell(row: Mapping[str, str], name: str) -> str:
    return row.get(name, "").strip()


def _half_up(x: Fraction) -> int:
    """Round a non-negative fraction to an integer, halves up."""
    assert x >= 0
    return math.floor(x + Fraction(1, 2))


def _interest(principal: int, percent: Fraction, days: int) -> int:
    """Return the Prompt Payment interest in cents: P(1 + r/12)^n (1 + rk/360) - P, half up."""
    d = min(days, _MAX_DAYS)
    n, k = divmod(d, 30)
    r = percent / 100
    p = Fraction(principal)
    return _half_up(p * (1 + r / 12) ** n * (1 + r * k / 360) - p)


def _line_ledgers(line: ExpectedLine) -> tuple[int, int]:
    """Return (erroneous, unsupported) of a valid line in cents (DESIGN section 5)."""
    assert line.billed is not None and line.expected is not None
    a, e = _cents(str(line.billed)), _cents(str(line.expected))
    if line.status is Status.UNSUPPORTED:
        return 0, a
    if line.status in _WHOLLY_ERRONEOUS:
        return a, 0
    return max(0, a - e), 0


@attrs.define
class _Invoice:
    """One invoice as the controls see it: B, its ledgers, S and its headers."""

    contract: str
    invoice: str
    billed: int = 0
    expected: int = 0
    erroneous: int = 0
    unsupported: int = 0
    latest: dt.date | None = None
    headers: list[Mapping[str, str]] = attrs.Factory(list)

    @property
    def questioned(self) -> int:
        return self.erroneous + self.unsupported

    def first_date(self) -> dt.date | None:
        days = [_day(h["invoice_date"]) for h in self.headers]
        return min((d for d in days if d is not None), default=None)


def _invoices(
    line_rows: Iterable[Mapping[str, str]],
    answers: Mapping[Key, ExpectedLine],
    header_rows: Iterable[Mapping[str, str]],
) -> list[_Invoice]:
    """Return every invoice with a line or a header, in processing order (spec reading 1)."""
    found: dict[tuple[str, str], _Invoice] = {}
    for row in line_rows:
        contract, invoice = _cell(row, "contract_id"), _cell(row, "invoice_id")
        inv = found.setdefault((contract, invoice), _Invoice(contract, invoice))
        line = answers[(contract, invoice, int(_cell(row, "line_no")))]
        if line.status is Status.INVALID:
            continue
        assert line.billed is not None and line.expected is not None
        erroneous, unsupported = _line_ledgers(line)
        inv.billed += _cents(str(line.billed))
        inv.expected += _cents(str(line.expected))
        inv.erroneous += erroneous
        inv.unsupported += unsupported
        day = _day(row["service_date"])
        assert day is not None
        inv.latest = day if inv.latest is None else max(inv.latest, day)
    for h in header_rows:
        key = (_cell(h, "contract_id"), _cell(h, "invoice_id"))
        found.setdefault(key, _Invoice(*key)).headers.append(h)
    never = dt.date.max
    return sorted(found.values(), key=lambda i: (i.first_date() or never, i.contract, i.invoice))


def _paid_approved(headers: Sequence[Mapping[str, str]]) -> tuple[bool, bool]:
    """Paid: any header with status paid or a paid_date; approved: paid, or status approved."""
    paid = any(_cell(h, "status") == "paid" or _cell(h, "paid_date") for h in headers)
    return paid, paid or any(_cell(h, "status") == "approved" for h in headers)


def _due(header: Mapping[str, str], inv: _Invoice, payment_days: int) -> dt.date:
    """Return the due date: the later of received and acceptance, plus payment_days."""
    received = _day(_cell(header, "received_date")) or _day(header["invoice_date"])
    assert received is not None
    approved = _day(_cell(header, "approved_date"))
    if inv.latest is None:
        accepted = approved or received
    else:
        constructive = inv.latest + dt.timedelta(days=_CONSTRUCTIVE_DAYS)
        if inv.questioned > 0:  # in dispute: no constructive acceptance
            accepted = approved or constructive
        else:
            accepted = constructive if approved is None else min(constructive, approved)
    return max(received, accepted) + dt.timedelta(days=payment_days)


@attrs.frozen
class _Terms:
    """A contracts.csv row, read."""

    ceiling: int | None
    funded: int | None
    estimate: int | None
    start: dt.date | None
    end: dt.date | None
    risk: str | None
    payment_days: int
    notice: Fraction

    @classmethod
    def of(cls, row: Mapping[str, str]) -> _Terms:
        def money(name: str) -> int | None:
            text = _cell(row, name)
            return _cents(text) if text else None

        return cls(
            ceiling=money("ceiling"),
            funded=money("funded"),
            estimate=money("estimate"),
            start=_day(_cell(row, "start")),
            end=_day(_cell(row, "end")),
            risk=_cell(row, "risk") or None,
            payment_days=int(_cell(row, "payment_days") or "30"),
            notice=Fraction(Decimal(_cell(row, "notice_percent") or "85")),
        )


@attrs.frozen
class _Appointment:
    contract: str
    person: str
    appointed: dt.date
    expires: dt.date | None
    level: int

    def covers(self, day: dt.date) -> bool:
        return self.appointed <= day and (self.expires is None or day <= self.expires)


@attrs.frozen(kw_only=True)
class Section9Answer:
    """What section 9 must say about a case (see :class:`~._case.Case`)."""

    invoice_controls: tuple[ExpectedInvoiceFinding, ...]
    payments: Mapping[str, ExpectedPayments]
    contract_findings: Mapping[str, tuple[str, ...]]
    capacity: Mapping[tuple[str, str], Decimal]


def expect_section9(
    tables: Mapping[str, Sequence[Mapping[str, str]]],
    answers: Mapping[Key, ExpectedLine],
    policy: Policy,
) -> Section9Answer:
    """Return the section 9 answer for a case's *tables* and line *answers* under *policy*."""
    terms = {_cell(r, "contract_id"): _Terms.of(r) for r in tables.get("contracts.csv", ())}
    cors_rows = tables.get("cors.csv")
    cors = (
        None
        if cors_rows is None
        else [
            _Appointment(
                contract=_cell(r, "contract_id"),
                person=_cell(r, "person_id"),
                appointed=dt.date.fromisoformat(_cell(r, "appointed")),
                expires=_day(_cell(r, "expires")),
                level=_LEVEL_RANK[_cell(r, "level")],
            )
            for r in cors_rows
        ]
    )
    rate_rows = tables.get("interest_rates.csv")
    windows = (
        None
        if rate_rows is None
        else [
            (
                dt.date.fromisoformat(_cell(r, "start")),
                dt.date.fromisoformat(_cell(r, "end")),
                Fraction(Decimal(_cell(r, "rate"))),
            )
            for r in rate_rows
        ]
    )
    line_rows = tables["invoice_lines.csv"]
    invoices = _invoices(line_rows, answers, tables.get("invoices.csv", ()))

    found: list[ExpectedInvoiceFinding] = []
    ledgers: dict[str, dict[str, int]] = {}
    cumulative: dict[str, int] = {}
    noticed: set[str] = set()
    for inv in invoices:
        c = inv.contract
        led = ledgers.setdefault(c, _zero())
        t = terms.get(c)
        after = cumulative[c] = cumulative.get(c, 0) + inv.billed
        single = inv.headers[0] if len(inv.headers) == 1 else None
        total_text = "" if single is None else _cell(single, "total")
        total = _cents(total_text) if total_text else None
        rows: list[tuple[str, int | None]] = []
        if t is not None:
            if t.ceiling is not None:
                if c not in noticed and Fraction(after) * 100 >= t.notice * t.ceiling:
                    noticed.add(c)
                    rows.append(("CEILING_85_PERCENT", after))
                over = min(inv.billed, after - t.ceiling)
                if over > 0:
                    rows.append(("CEILING_EXCEEDED", over))
            if t.funded is not None:
                over = min(inv.billed, after - t.funded)
                if over > 0:
                    rows.append(("FUNDING_EXCEEDED", over))
        paid, approved = _paid_approved(inv.headers)
        if single is not None:
            if approved:
                by, on = _cell(single, "approved_by"), _day(_cell(single, "approved_date"))
                if not by or on is None:
                    rows.append(("APPROVAL_UNDOCUMENTED", None))
                elif cors is not None:
                    covering = [
                        a for a in cors if a.contract == c and a.person == by and a.covers(on)
                    ]
                    if not covering:
                        rows.append(("APPROVER_NOT_APPOINTED", None))
                    elif (
                        t is not None
                        and t.risk is not None
                        and covering[0].level < _LEVEL_NEEDED[t.risk]
                    ):
                        rows.append(("APPROVER_LEVEL_BELOW_RISK", None))
            paid_on = _day(_cell(single, "paid_date"))
            if paid_on is not None:
                due = _due(single, inv, 30 if t is None else t.payment_days)
                days = (paid_on - due).days
                if days > 0:
                    if windows is None:
                        rows.append(("LATE_PAYMENT", None))
                    else:
                        start = due + dt.timedelta(days=1)
                        rate = next((r for s, e, r in windows if s <= start <= e), None)
                        if rate is None:
                            rows.append(("LATE_PAYMENT", None))
                            rows.append(("NO_INTEREST_RATE", None))
                        else:
                            amount_text = _cell(single, "paid_amount")
                            principal = (
                                _cents(amount_text)
                                if amount_text
                                else total
                                if total is not None
                                else inv.billed
                            )
                            interest = _interest(principal, rate, days)
                            rows.append(("LATE_PAYMENT", interest))
                            if interest >= _OWED_CENTS:
                                led["interest_due"] += interest
        if paid:
            led["paid_erroneous"] += inv.erroneous
            led["paid_unsupported"] += inv.unsupported
        else:
            led["to_withhold"] += inv.questioned
        for code, amount in rows:
            found.append(
                ExpectedInvoiceFinding(
                    contract_id=c,
                    invoice_id=inv.invoice,
                    finding=code,
                    header_total=None if total is None else _money(total),
                    lines_total=_money(inv.billed),
                    difference=None if total is None else _money(total - inv.billed),
                    amount=None if amount is None else _money(amount),
                )
            )
    found.sort(key=lambda f: (f.contract_id, f.invoice_id, f.finding))

    # Contracts: every contract id of any row (DESIGN 9.3; spec reading 11).
    contracts = sorted(
        {
            _cell(row, "contract_id")
            for rows in tables.values()
            for row in rows
            if _cell(row, "contract_id")
        }
    )
    capacity = _unused_capacity(tables, answers, policy)
    findings: dict[str, tuple[str, ...]] = {}
    payments: dict[str, ExpectedPayments] = {}
    for c in contracts:
        led = ledgers.setdefault(c, _zero())
        t = terms.get(c)
        led["unused_capacity"] = sum(v for (k, _), v in capacity.items() if k == c)
        led["deobligation"] = _deobligation(c, t, tables, answers, policy)
        payments[c] = ExpectedPayments(**{k: _money(v) for k, v in led.items()})
        findings[c] = _contract_findings(c, t, tables, cors, policy)
    return Section9Answer(
        invoice_controls=tuple(found),
        payments=payments,
        contract_findings=findings,
        capacity={k: _money(v) for k, v in sorted(capacity.items())},
    )


def _zero() -> dict[str, int]:
    return dict.fromkeys(
        (
            "paid_erroneous",
            "paid_unsupported",
            "to_withhold",
            "interest_due",
            "unused_capacity",
            "deobligation",
        ),
        0,
    )


def _measure(row: Mapping[str, str], name: str) -> Fraction | None:
    text = _cell(row, name)
    return Fraction(Decimal(text)) if text else None


def _bases(tables: Mapping[str, Sequence[Mapping[str, str]]]) -> dict[tuple[str, str], str]:
    """Return the basis of every (contract, CLIN) rule (a fuel rule's default is loaded_miles)."""
    out = {
        (_cell(r, "contract_id"), _cell(r, "clin")): _cell(r, "basis")
        for r in tables.get("rates.csv", ())
    }
    for r in tables.get("fuel_rules.csv", ()):
        out[(_cell(r, "contract_id"), _cell(r, "clin"))] = _cell(r, "basis") or "loaded_miles"
    return out


def _unused_capacity(
    tables: Mapping[str, Sequence[Mapping[str, str]]],
    answers: Mapping[Key, ExpectedLine],
    policy: Policy,
) -> dict[tuple[str, str], int]:
    """Return the unused capacity in cents of every trip counted (DESIGN 9.3), by trip.

    A trip is counted when it is claimed, completed, recorded passengers and seats (seats
    not 0) below the floor, and its lines of rows 7-14 not priced per passenger expect more
    than 0.00.
    """
    floor = Fraction(policy.utilization_floor)
    low: dict[tuple[str, str], Fraction] = {}  # trip -> (seats - passengers) / seats
    for row in tables["manifests.csv"]:
        if _cell(row, "status") == "cancelled":
            continue
        people = _measure(row, policy.passengers_measure)
        seats = _measure(row, policy.seats_measure)
        if people is None or seats is None or seats == 0 or people / seats >= floor:
            continue
        low[(_cell(row, "contract_id"), _cell(row, "trip_id"))] = (seats - people) / seats
    bases = _bases(tables)
    rows = {
        (_cell(r, "contract_id"), _cell(r, "invoice_id"), int(_cell(r, "line_no"))): r
        for r in tables["invoice_lines.csv"]
    }
    claimed = {
        (key[0], line.trip_id)
        for key, line in answers.items()
        if line.status is not Status.INVALID and line.trip_id is not None
    }
    idle: dict[tuple[str, str], int] = {}
    for key, line in answers.items():
        trip = (key[0], line.trip_id or "")
        if trip not in low or trip not in claimed or line.status not in _PRICED:
            continue
        if bases[(key[0], _cell(rows[key], "clin"))] == policy.passengers_measure:
            continue  # priced per passenger: an empty seat costs nothing
        assert line.expected is not None
        idle[trip] = idle.get(trip, 0) + _cents(str(line.expected))
    # A trip whose counted lines expect 0.00 has nothing to trace: capacity.csv leaves it out
    # (DESIGN says "every trip counted"; the engine reads it so, and so does this oracle).
    return {trip: _half_up(e * low[trip]) for trip, e in idle.items() if e}


def _deobligation(
    contract: str,
    t: _Terms | None,
    tables: Mapping[str, Sequence[Mapping[str, str]]],
    answers: Mapping[Key, ExpectedLine],
    policy: Policy,
) -> int:
    """Return funded - the contract's E when its period ended before as_of, else 0."""
    if t is None or t.end is None or t.funded is None:
        return 0
    as_of = policy.as_of
    if as_of is None:
        days = [
            _day(h["invoice_date"])
            for h in tables.get("invoices.csv", ())
            if _cell(h, "contract_id") == contract
        ]
        as_of = max((d for d in days if d is not None), default=None)
    if as_of is None or not t.end < as_of:
        return 0
    spent = sum(
        _cents(str(line.expected))
        for key, line in answers.items()
        if key[0] == contract and line.expected is not None
    )
    return max(0, t.funded - spent)


def _contract_findings(
    contract: str,
    t: _Terms | None,
    tables: Mapping[str, Sequence[Mapping[str, str]]],
    cors: Sequence[_Appointment] | None,
    policy: Policy,
) -> tuple[str, ...]:
    """Return the codes of contracts.csv for *contract*, sorted (DESIGN 9.3)."""
    codes = []
    if t is None or t.estimate is None:
        codes.append("NO_COST_ESTIMATE")
    completed = [
        r
        for r in tables["manifests.csv"]
        if _cell(r, "contract_id") == contract and _cell(r, "status") != "cancelled"
    ]
    if completed and all(_measure(r, policy.passengers_measure) is None for r in completed):
        codes.append("NO_PEOPLE_COUNT")
    if cors is not None:
        mine = [a for a in cors if a.contract == contract]
        start = None if t is None else t.start
        end = None if t is None else t.end
        if start is None and end is None:
            appointed = bool(mine)
        else:
            appointed = any(
                (end is None or a.appointed <= end)
                and (start is None or a.expires is None or a.expires >= start)
                for a in mine
            )
        if not appointed:
            codes.append("COR_NOT_APPOINTED")
    return tuple(sorted(codes))
