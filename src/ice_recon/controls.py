"""Invoice controls: approval, appointment, ceilings, funding, late payment (DESIGN section 9.2).

A stage after classification: it reads what the lines decided about each invoice (its billed
total B, its questioned amount, its latest service date — an :class:`InvoiceFacts`), the
invoice headers and the optional files of section 9.1, and returns the invoice-level
findings with their amount and the words behind them.

Invoices are taken per contract in processing order; the ceilings are checked on the
cumulative B, so every invoice counts, whatever its headers. The controls that read header
fields (approval, late payment) apply only to an invoice with exactly one header.

A worked example — a contract with a 10,000.00 ceiling, two invoices of 6,000.00 and
5,000.00: the second reaches 85 % (11,000.00 ≥ 8,500.00) and exceeds the ceiling by
min(5,000.00, 11,000.00 − 10,000.00) = 1,000.00:

>>> from decimal import Decimal
>>> terms = {"C": ContractTerms(contract_id="C", ceiling=Decimal("10000.00"))}
>>> facts = [InvoiceFacts(contract_id="C", invoice_id=i, billed=b, questioned=0,
...                       erroneous=0, latest_service=dt.date(2024, 3, 1))
...          for i, b in (("I-1", 600_000), ("I-2", 500_000))]
>>> for f in invoice_controls(facts, {}, terms, None, None):
...     print(f.invoice_id, f.finding.value, f.amount)
...     print("  ", f.detail)
I-2 CEILING_85_PERCENT 11000.00
   cumulative billed 11000.00 reaches 85 % of the ceiling 10000.00
I-2 CEILING_EXCEEDED 1000.00
   cumulative billed 11000.00 exceeds the ceiling 10000.00 by 1000.00; this invoice billed 5000.00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

import attrs

from ice_recon.money import Rounding, cents_to_decimal, decimal_to_scaled, format_cents, to_cents
from ice_recon.payment import (
    acceptance_date,
    due_date,
    interest_cents,
    interest_owed,
    late_days,
    rate_on,
)
from ice_recon.records import (
    Appointment,
    ContractTerms,
    Finding,
    InterestRate,
    InvoiceHeader,
    InvoiceStatus,
)
from ice_recon.tables import Sourced

__all__ = [
    "InvoiceFacts",
    "InvoiceFinding",
    "Payment",
    "PaymentLedgers",
    "footing_findings",
    "invoice_controls",
    "payment_state",
]


@attrs.frozen(kw_only=True)
class InvoiceFinding:
    """One row of ``invoices.csv``: an invoice-level finding and the figures behind it.

    ``FOOTING_ERROR`` and ``DUPLICATE_INVOICE`` (DESIGN section 5) and the controls of
    section 9.2 (this module) are all such findings; ``ice_recon.report.InvoiceFinding`` is
    this class.

    *amount* is the cumulative billed for ``CEILING_85_PERCENT``, the amount over for
    ``CEILING_EXCEEDED`` and ``FUNDING_EXCEEDED``, the interest for ``LATE_PAYMENT`` (None
    when there is no rate), None otherwise; *detail* says in words what was found.
    """

    contract_id: str
    invoice_id: str
    finding: Finding
    header_total: Decimal | None
    lines_total: Decimal
    difference: Decimal | None
    amount: Decimal | None = None
    detail: str = ""


@attrs.frozen(kw_only=True)
class InvoiceFacts:
    """What the lines say about one invoice, in cents: B, its questioned and erroneous parts.

    *billed* is B, the sum of the amounts of the invoice's valid lines (questioned ones
    included); *questioned* and *erroneous* the sums of those ledgers over its lines;
    *latest_service* the latest service date of its valid lines (None without any).
    """

    contract_id: str
    invoice_id: str
    billed: int
    questioned: int
    erroneous: int
    latest_service: dt.date | None


@attrs.frozen(kw_only=True)
class Payment:
    """An invoice's payment state and the interest owed on it, in cents (0 when none)."""

    paid: bool
    interest_due: int = 0


@attrs.frozen(kw_only=True)
class PaymentLedgers:
    """The payment and better-use ledgers of a contract or a run (DESIGN sections 9.2, 9.3).

    Every questioned cent of a line is in exactly one of *paid_erroneous* (an overpayment
    to recover: erroneous amounts on paid invoices), *paid_unsupported* (an unknown payment:
    unsupported amounts on paid invoices) and *to_withhold* (questioned amounts on invoices
    not paid). *interest_due* is the Prompt Payment interest owed on late payments;
    *funds_put_to_better_use* = *unused_capacity* + *deobligation*.

    >>> PaymentLedgers(unused_capacity=Decimal("280.00"),
    ...                deobligation=Decimal("20.00")).funds_put_to_better_use
    Decimal('300.00')
    """

    paid_erroneous: Decimal = Decimal("0.00")
    paid_unsupported: Decimal = Decimal("0.00")
    to_withhold: Decimal = Decimal("0.00")
    interest_due: Decimal = Decimal("0.00")
    unused_capacity: Decimal = Decimal("0.00")
    deobligation: Decimal = Decimal("0.00")

    @property
    def funds_put_to_better_use(self) -> Decimal:
        """Return unused capacity + deobligation (funds that could be put to better use).

        Added in cents, so the caller's decimal context plays no part.
        """
        return cents_to_decimal(_cents(self.unused_capacity) + _cents(self.deobligation))

    def as_strings(self) -> dict[str, str]:
        """Return the ledgers as 2-place strings, in the order of ``summary.json``."""
        out = {
            f.name: format_cents(_cents(getattr(self, f.name)))
            for f in attrs.fields(PaymentLedgers)
        }
        out["funds_put_to_better_use"] = format_cents(_cents(self.funds_put_to_better_use))
        return out


def payment_state(headers: Sequence[InvoiceHeader]) -> tuple[bool, bool]:
    """Return (paid, approved) for an invoice with these headers.

    Paid: status ``paid`` or a ``paid_date``; approved: status ``approved`` or paid. With
    several headers, any that says so (money that went out is recovered, not withheld).

    >>> h = InvoiceHeader(invoice_id="I", contract_id="C", invoice_date=dt.date(2024, 3, 1),
    ...                   paid_date=dt.date(2024, 4, 1))
    >>> payment_state([h]), payment_state([])
    ((True, True), (False, False))
    """
    paid = any(h.status is InvoiceStatus.PAID or h.paid_date is not None for h in headers)
    approved = paid or any(h.status is InvoiceStatus.APPROVED for h in headers)
    return paid, approved


def _cents(value: Decimal) -> int:
    return to_cents(*decimal_to_scaled(value), Rounding.HALF_UP)


def invoice_controls(
    facts: Sequence[InvoiceFacts],
    headers: Mapping[tuple[str, str], Sequence[InvoiceHeader]],
    contracts: Mapping[str, ContractTerms],
    appointments: Sequence[Appointment] | None,
    rates: Sequence[InterestRate] | None,
    payments: dict[tuple[str, str], Payment] | None = None,
) -> list[InvoiceFinding]:
    """Return the findings of section 9.2 for the invoices *facts*, given in processing order.

    *appointments* is None when ``cors.csv`` was not given (no appointment check), *rates*
    None when ``interest_rates.csv`` was not given (late payments then carry no interest and
    no ``NO_INTEREST_RATE``). When *payments* is a dict, it receives each invoice's
    :class:`Payment`. The findings come in the order of *facts*, sorted by code within an
    invoice.
    """
    windows = None if rates is None else [(r.start, r.end, r.rate) for r in rates]
    by_person: dict[tuple[str, str], list[Appointment]] = {}
    for a in appointments or ():
        by_person.setdefault((a.contract_id, a.person_id), []).append(a)
    cumulative: dict[str, int] = {}
    noticed: set[str] = set()
    found: list[InvoiceFinding] = []
    for f in facts:
        key = (f.contract_id, f.invoice_id)
        hs = headers.get(key, ())
        terms = contracts.get(f.contract_id)
        before = cumulative.get(f.contract_id, 0)
        after = cumulative[f.contract_id] = before + f.billed
        total = _cents(hs[0].total) if len(hs) == 1 and hs[0].total is not None else None

        def add(
            finding: Finding,
            detail: str,
            amount: int | None = None,
            f: InvoiceFacts = f,
            total: int | None = total,
        ) -> None:
            found.append(
                InvoiceFinding(
                    contract_id=f.contract_id,
                    invoice_id=f.invoice_id,
                    finding=finding,
                    header_total=None if total is None else cents_to_decimal(total),
                    lines_total=cents_to_decimal(f.billed),
                    difference=None if total is None else cents_to_decimal(total - f.billed),
                    amount=None if amount is None else cents_to_decimal(amount),
                    detail=detail,
                )
            )

        start = len(found)
        if terms is not None:
            _ceilings(f, terms, before, after, f.contract_id in noticed, add)
            if terms.ceiling is not None and _reaches(after, terms):
                noticed.add(f.contract_id)
        paid, approved = payment_state(hs)
        interest = 0
        if len(hs) == 1:
            h = hs[0]
            if approved:
                _approval(h, terms, appointments is not None, by_person, add)
            interest = _late(h, f, terms, windows, add)
        if payments is not None:
            payments[key] = Payment(paid=paid, interest_due=interest)
        found[start:] = sorted(found[start:], key=lambda x: x.finding.value)
    return found


def _reaches(cumulative: int, terms: ContractTerms) -> bool:
    """Whether *cumulative* cents reach ``notice_percent`` % of the ceiling, exactly."""
    assert terms.ceiling is not None
    return Fraction(cumulative) * 100 >= Fraction(terms.notice_percent) * _cents(terms.ceiling)


def _ceilings(
    f: InvoiceFacts,
    terms: ContractTerms,
    before: int,
    after: int,
    noticed: bool,
    add: _Add,
) -> None:
    if terms.ceiling is not None:
        ceiling = _cents(terms.ceiling)
        if not noticed and _reaches(after, terms):
            add(
                Finding.CEILING_85_PERCENT,
                f"cumulative billed {format_cents(after)} reaches "
                f"{_percent(terms.notice_percent)} % of the ceiling {format_cents(ceiling)}",
                after,
            )
        _over(f, Finding.CEILING_EXCEEDED, "the ceiling", ceiling, after, add)
    if terms.funded is not None:
        _over(f, Finding.FUNDING_EXCEEDED, "the funded amount", _cents(terms.funded), after, add)


def _over(f: InvoiceFacts, finding: Finding, what: str, limit: int, after: int, add: _Add) -> None:
    over = min(f.billed, after - limit)
    if over > 0:
        add(
            finding,
            f"cumulative billed {format_cents(after)} exceeds {what} {format_cents(limit)} by "
            f"{format_cents(after - limit)}; this invoice billed {format_cents(f.billed)}",
            over,
        )


def _approval(
    h: InvoiceHeader,
    terms: ContractTerms | None,
    check_appointments: bool,
    by_person: Mapping[tuple[str, str], Sequence[Appointment]],
    add: _Add,
) -> None:
    missing = [n for n in ("approved_by", "approved_date") if getattr(h, n) is None]
    if missing:
        add(Finding.APPROVAL_UNDOCUMENTED, f"approved without {' and '.join(missing)}")
        return
    if not check_appointments:
        return
    assert h.approved_by is not None and h.approved_date is not None
    who = f"approved_by {h.approved_by} on {h.approved_date.isoformat()}"
    held = by_person.get((h.contract_id, h.approved_by), ())
    covering = [a for a in held if a.covers(h.approved_date)]
    if not covering:
        add(Finding.APPROVER_NOT_APPOINTED, f"{who}; {_why_not(held, h)}")
        return
    if terms is None or terms.risk is None:
        return
    level, needed = covering[0].level, terms.risk.level_needed
    if level.rank < needed.rank:
        add(
            Finding.APPROVER_LEVEL_BELOW_RISK,
            f"{who} at level {level.value}; a {terms.risk.value}-risk contract needs level "
            f"{needed.value}",
        )


def _why_not(held: Sequence[Appointment], h: InvoiceHeader) -> str:
    """Say why no appointment of the approver covers the approval date."""
    assert h.approved_date is not None
    if not held:
        return f"no appointment on contract {h.contract_id}"
    ended = [a.expires for a in held if a.expires is not None and a.expires < h.approved_date]
    if ended:
        return f"appointment ended {max(ended).isoformat()}"
    starts = min(a.appointed for a in held if a.appointed > h.approved_date)
    return f"appointment starts {starts.isoformat()}"


def _late(
    h: InvoiceHeader,
    f: InvoiceFacts,
    terms: ContractTerms | None,
    windows: Sequence[tuple[dt.date, dt.date, Decimal]] | None,
    add: _Add,
) -> int:
    """Check the payment date against the due date; return the interest owed, in cents."""
    if h.paid_date is None:
        return 0
    received = h.received_date or h.invoice_date
    days_to_pay = 30 if terms is None else terms.payment_days
    if f.latest_service is None:
        accepted = h.approved_date or received
    else:
        accepted = acceptance_date(f.latest_service, h.approved_date, questioned=f.questioned > 0)
    due = due_date(received, accepted, days_to_pay)
    days = late_days(due, h.paid_date)
    if days == 0:
        return 0
    said = f"due {due.isoformat()}, paid {h.paid_date.isoformat()}, {days} days"
    if windows is None:
        add(Finding.LATE_PAYMENT, f"{said}; no interest_rates.csv, interest not computed")
        return 0
    start = due + dt.timedelta(days=1)  # due < paid_date <= date.max: no overflow
    rate = rate_on(windows, start)
    if rate is None:
        add(Finding.LATE_PAYMENT, f"{said}; no interest rate for {start.isoformat()}")
        add(Finding.NO_INTEREST_RATE, f"no interest_rates.csv window holds {start.isoformat()}")
        return 0
    if h.paid_amount is not None:
        principal, source = _cents(h.paid_amount), "paid_amount"
    elif h.total is not None:
        principal, source = _cents(h.total), "the header total"
    else:
        principal, source = f.billed, "the lines' total"
    interest = interest_cents(principal, rate, days)
    said += f" at {_percent(rate)} % on {format_cents(principal)} ({source})"
    if days > 365:
        said += "; interest for 365 days at most"
    owed = interest_owed(interest)
    if not owed:
        said += "; under 1.00, not owed"
    add(Finding.LATE_PAYMENT, said, interest)
    return interest if owed else 0


def _percent(value: Decimal) -> str:
    """Return a percentage without trailing zeros: 85, 4.875.

    >>> _percent(Decimal("85")), _percent(Decimal("4.8750"))
    ('85', '4.875')
    """
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class _Add(Protocol):
    """The type of the callback that records a finding of the invoice being checked."""

    def __call__(self, finding: Finding, detail: str, amount: int | None = None) -> None: ...


def footing_findings(
    invoices: Iterable[Sourced[InvoiceHeader]], sums: Mapping[tuple[str, str], int]
) -> tuple[InvoiceFinding, ...]:
    """Return the ``FOOTING_ERROR`` and ``DUPLICATE_INVOICE`` findings (DESIGN section 5).

    *sums* is the total of the valid lines of each (contract, invoice), in cents. An
    invoice with several headers is a duplicate, and gets one footing error per distinct
    header total that differs from its lines.
    """
    headers: dict[tuple[str, str], list[int | None]] = {}
    for h in invoices:
        cents = None if h.record.total is None else _cents(h.record.total)
        headers.setdefault((h.record.contract_id, h.record.invoice_id), []).append(cents)
    found: list[InvoiceFinding] = []
    d = cents_to_decimal
    for key, totals in headers.items():
        lines_total = sums.get(key, 0)
        if len(totals) > 1:
            found.append(
                InvoiceFinding(
                    contract_id=key[0],
                    invoice_id=key[1],
                    finding=Finding.DUPLICATE_INVOICE,
                    header_total=None,
                    lines_total=d(lines_total),
                    difference=None,
                )
            )
        for total in sorted({t for t in totals if t is not None}):
            if total != lines_total:
                found.append(
                    InvoiceFinding(
                        contract_id=key[0],
                        invoice_id=key[1],
                        finding=Finding.FOOTING_ERROR,
                        header_total=d(total),
                        lines_total=d(lines_total),
                        difference=d(total - lines_total),
                    )
                )
    found.sort(
        key=lambda f: (
            f.contract_id,
            f.invoice_id,
            f.finding.value,
            Decimal(-1) if f.header_total is None else f.header_total,
        )
    )
    return tuple(found)
