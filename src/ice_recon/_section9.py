"""Payment controls and oversight of a run, from what the report stage summed (internal).

The report stage (:class:`ice_recon.report.Accumulator`) sums, while it passes over the
classified lines, what DESIGN section 9 reads from them: per invoice its billed total B,
its ledgers and its latest service date; per trip the sums of the lines matched to it; per
(contract, day) the sums of the lines without a trip. :func:`section9` turns those sums,
the inputs and the policy into the invoice findings of section 9.2, the payment ledgers
and the oversight rows of section 9.3. It reads no line: its cost grows with the numbers
of invoices, trips and contracts, not of lines.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

import attrs

from ice_recon.controls import (
    InvoiceFacts,
    InvoiceFinding,
    Payment,
    PaymentLedgers,
    invoice_controls,
)
from ice_recon.load import Inputs
from ice_recon.money import Rounding, cents_to_decimal, decimal_to_scaled, to_cents
from ice_recon.oversight import (
    ContractRow,
    Month,
    Oversight,
    TripRow,
    month_sums,
    oversight_rows,
)
from ice_recon.policy import Policy
from ice_recon.records import Appointment, ContractTerms, Finding, InvoiceHeader

__all__ = ["Section9", "contract_ids", "section9"]

#: An invoice key: (contract_id, invoice_id).
Key = tuple[str, str]


class Sums(Protocol):
    """The ledgers of an invoice or a contract, in cents (the report stage's ``_Totals``)."""

    billed: int
    expected: int
    erroneous: int
    unsupported: int
    underbilled: int


@attrs.frozen(kw_only=True)
class Section9:
    """What :func:`section9` returns: invoice findings, ledgers, oversight."""

    findings: list[InvoiceFinding]
    payments: PaymentLedgers
    by_contract: dict[str, PaymentLedgers]
    oversight: Oversight


def contract_ids(inputs: Inputs) -> set[str]:
    """Return every contract id of a usable row of any input file, or of any invoice line."""
    ids: set[str] = set(inputs.invoice_lines.contract_id)
    ids.update(inputs.manifests.contract_id)
    ids.update(inputs.staff.contract_id)
    for rows in (inputs.rates, inputs.fuel_rules, inputs.invoices, inputs.contracts):
        ids.update(r.record.contract_id for r in rows)
    ids.update(a.record.contract_id for a in inputs.cors or ())
    ids.discard("")
    return ids


def _processing_order(
    keys: Iterable[Key], headers: Mapping[Key, Sequence[InvoiceHeader]]
) -> list[Key]:
    """Sort invoices as DESIGN section 5 orders their lines: earliest header date, ids."""
    late = dt.date.max

    def order(key: Key) -> tuple[dt.date, str, str]:
        hs = headers.get(key)
        return (min(h.invoice_date for h in hs) if hs else late, key[0], key[1])

    return sorted(keys, key=order)


def section9(
    inputs: Inputs,
    policy: Policy,
    *,
    claimed: bytearray,
    sums: Mapping[Key, int],
    invoice_totals: Mapping[Key, Sums],
    latest: Mapping[Key, int],
    by_trip: Mapping[Any, Sequence[int]],
    loose: Mapping[tuple[str, int], Sequence[int]],
    contract_totals: Mapping[str, Sums],
) -> Section9:
    """Return the section 9 results of a run from the report stage's sums.

    *sums* holds every invoice with a line (INVALID ones included) and its B in cents;
    *invoice_totals* and *contract_totals* the ledgers of the valid lines; *latest* the
    latest own service date ordinal of each invoice's valid lines; *by_trip* (by manifest
    row) and *loose* (by contract and date) the line sums :func:`month_sums` reads.
    """
    headers: dict[Key, list[InvoiceHeader]] = {}
    for h in inputs.invoices:
        headers.setdefault((h.record.contract_id, h.record.invoice_id), []).append(h.record)
    terms: dict[str, ContractTerms] = {c.record.contract_id: c.record for c in inputs.contracts}
    appointments: list[Appointment] | None = (
        None if inputs.cors is None else [a.record for a in inputs.cors]
    )
    rates = None if inputs.interest_rates is None else [r.record for r in inputs.interest_rates]

    facts: list[InvoiceFacts] = []
    # An INVALID line without a contract or invoice id belongs to no invoice to check.
    keys = {k for k in sums if k[0] and k[1]} | set(headers)
    for key in _processing_order(keys, headers):
        t = invoice_totals.get(key)
        day = latest.get(key)
        facts.append(
            InvoiceFacts(
                contract_id=key[0],
                invoice_id=key[1],
                billed=sums.get(key, 0),
                questioned=0 if t is None else t.erroneous + t.unsupported,
                erroneous=0 if t is None else t.erroneous,
                latest_service=None if day is None else dt.date.fromordinal(day),
            )
        )
    payments: dict[Key, Payment] = {}
    findings = invoice_controls(facts, headers, terms, appointments, rates, payments)

    # The payment ledgers, per contract, in cents.
    paid: dict[str, list[int]] = {}
    for key, payment in payments.items():
        t = invoice_totals.get(key)
        ledger = paid.setdefault(key[0], [0, 0, 0, 0])
        ledger[3] += payment.interest_due
        if t is None:
            continue
        if payment.paid:
            ledger[0] += t.erroneous
            ledger[1] += t.unsupported
        else:
            ledger[2] += t.erroneous + t.unsupported

    months, capacity = month_sums(
        _trip_rows(inputs, policy, claimed), by_trip, loose, policy.utilization_floor
    )
    per_contract: dict[str, Month] = {}
    for (contract, _), m in months.items():
        per_contract.setdefault(contract, Month()).merge(m)

    latest_invoice: dict[str, dt.date] = {}
    for (cid, _), hs in headers.items():
        for header in hs:
            if cid not in latest_invoice or header.invoice_date > latest_invoice[cid]:
                latest_invoice[cid] = header.invoice_date
    by_cor: dict[str, list[Appointment]] = {}
    for a in appointments or ():
        by_cor.setdefault(a.contract_id, []).append(a)
    deobligated = 0
    rows: list[ContractRow] = []
    by_contract: dict[str, PaymentLedgers] = {}
    d = cents_to_decimal
    zero = (0, 0, 0, 0)
    for cid in sorted(contract_ids(inputs)):
        c = terms.get(cid)
        t = contract_totals.get(cid)
        billed, expected = (0, 0) if t is None else (t.billed, t.expected)
        m = per_contract.get(cid, Month())
        people, cost, utilization = m.people_figures()
        p = paid.get(cid, zero)
        deobligation = _deobligation(c, expected, policy.as_of or latest_invoice.get(cid))
        deobligated += deobligation
        ledgers = PaymentLedgers(
            paid_erroneous=d(p[0]),
            paid_unsupported=d(p[1]),
            to_withhold=d(p[2]),
            interest_due=d(p[3]),
            unused_capacity=d(m.unused),
            deobligation=d(deobligation),
        )
        by_contract[cid] = ledgers
        estimate = None if c is None else c.estimate
        rows.append(
            ContractRow(
                contract_id=cid,
                findings=_contract_findings(
                    c, m, None if appointments is None else by_cor.get(cid, [])
                ),
                billed=d(billed),
                expected=d(expected),
                questioned=d(0 if t is None else t.erroneous + t.unsupported),
                underbilled=d(0 if t is None else t.underbilled),
                ceiling=None if c is None else c.ceiling,
                funded=None if c is None else c.funded,
                estimate=estimate,
                estimate_variance=None if estimate is None else d(billed - _cents(estimate)),
                people=people,
                cost_per_person=cost,
                utilization=utilization,
                **attrs.asdict(ledgers, recurse=False),
                funds_put_to_better_use=ledgers.funds_put_to_better_use,
            )
        )
    total = [sum(p[i] for p in paid.values()) for i in range(4)]
    overall = PaymentLedgers(
        paid_erroneous=d(total[0]),
        paid_unsupported=d(total[1]),
        to_withhold=d(total[2]),
        interest_due=d(total[3]),
        unused_capacity=d(sum(m.unused for m in per_contract.values())),
        deobligation=d(deobligated),
    )
    return Section9(
        findings=findings,
        payments=overall,
        by_contract=by_contract,
        oversight=Oversight(
            months=tuple(oversight_rows(months)),
            contracts=tuple(rows),
            capacity=tuple(capacity),
        ),
    )


def _trip_rows(inputs: Inputs, policy: Policy, claimed: bytearray) -> Iterator[TripRow]:
    """Return the trips as :func:`month_sums` reads them, keyed by manifest row."""
    t = inputs.manifests
    n = len(t)
    people = t.measures.get(policy.passengers_measure)
    seats = t.measures.get(policy.seats_measure)
    return zip(
        range(n),
        t.contract_id,
        t.trip_id,
        t.service_date,
        map(bool, t.cancelled),
        map(bool, claimed),
        itertools.repeat(None, n) if people is None else people.values,
        itertools.repeat(None, n) if seats is None else seats.values,
        strict=True,
    )


def _cents(value: Decimal) -> int:
    return to_cents(*decimal_to_scaled(value), Rounding.HALF_UP)


def _deobligation(c: ContractTerms | None, expected: int, as_of: dt.date | None) -> int:
    """Return funded − Σ E when the contract ended before *as_of* and it is positive."""
    if c is None or c.funded is None or c.end is None or as_of is None or not c.end < as_of:
        return 0
    return max(0, _cents(c.funded) - expected)


def _contract_findings(
    c: ContractTerms | None,
    m: Month,
    appointments: Sequence[Appointment] | None,
) -> tuple[Finding, ...]:
    """Return the contract's findings, sorted: *appointments* are its own (None: no cors.csv).

    ``COR_NOT_APPOINTED`` when no appointment overlaps the period of performance (both
    ends included; an unknown end leaves that side open).
    """
    found: list[Finding] = []
    if c is None or c.estimate is None:
        found.append(Finding.NO_COST_ESTIMATE)
    if m.completed and m.people is None:
        found.append(Finding.NO_PEOPLE_COUNT)
    if appointments is not None:
        start = None if c is None else c.start
        end = None if c is None else c.end
        if not any(
            (end is None or a.appointed <= end)
            and (start is None or a.expires is None or a.expires >= start)
            for a in appointments
        ):
            found.append(Finding.COR_NOT_APPOINTED)
    return tuple(sorted(found, key=lambda f: f.value))
