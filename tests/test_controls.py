"""Tests of the invoice controls of DESIGN section 9.2 (``ice_recon.controls``).

Each case is reasoned out by hand in its docstring from section 9.2; amounts are in cents
where the API takes cents.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ice_recon.controls import InvoiceFacts, InvoiceFinding, Payment, invoice_controls
from ice_recon.records import Appointment, ContractTerms, InterestRate, InvoiceHeader

D = dt.date
C = "C-1"


def _facts(
    invoice: str, billed: int, *, questioned: int = 0, service: dt.date | None = None
) -> InvoiceFacts:
    return InvoiceFacts(
        contract_id=C,
        invoice_id=invoice,
        billed=billed,
        questioned=questioned,
        erroneous=questioned,
        latest_service=service or D(2024, 3, 1),
    )


def _header(invoice: str, **fields: object) -> InvoiceHeader:
    fields.setdefault("invoice_date", D(2024, 3, 5))
    return InvoiceHeader(invoice_id=invoice, contract_id=C, **fields)  # type: ignore[arg-type]


def _codes(found: list[InvoiceFinding]) -> list[tuple[str, str]]:
    return [(f.invoice_id, f.finding.value) for f in found]


APPOINTED = Appointment(
    contract_id=C, person_id="P7", appointed=D(2023, 2, 1), level="II", expires=D(2024, 1, 31)
)


class TestApproval:
    def test_approved_without_approver_or_date_is_undocumented(self) -> None:
        """Approved with no approved_by: undocumented; a received invoice needs nothing."""
        headers = {
            (C, "I-1"): [_header("I-1", status="approved", approved_date=D(2024, 3, 6))],
            (C, "I-2"): [_header("I-2", status="received")],
        }
        found = invoice_controls([_facts("I-1", 100), _facts("I-2", 100)], headers, {}, [], None)

        assert _codes(found) == [("I-1", "APPROVAL_UNDOCUMENTED")]
        assert found[0].detail == "approved without approved_by"

    def test_approver_whose_appointment_ended(self) -> None:
        """P7's appointment ended 2024-01-31; approving on 2024-03-02 is not appointed."""
        h = _header("I-1", status="approved", approved_by="P7", approved_date=D(2024, 3, 2))
        found = invoice_controls([_facts("I-1", 100)], {(C, "I-1"): [h]}, {}, [APPOINTED], None)

        assert _codes(found) == [("I-1", "APPROVER_NOT_APPOINTED")]
        assert found[0].detail == "approved_by P7 on 2024-03-02; appointment ended 2024-01-31"

    def test_appointment_includes_its_last_day(self) -> None:
        """Approving on 2024-01-31, the day the appointment expires, is appointed."""
        h = _header("I-1", status="paid", approved_by="P7", approved_date=D(2024, 1, 31))

        found = invoice_controls([_facts("I-1", 100)], {(C, "I-1"): [h]}, {}, [APPOINTED], None)

        assert found == []

    def test_no_cors_file_checks_no_appointment(self) -> None:
        """Without cors.csv (None) the appointment is not checked; with an empty one it is."""
        h = _header("I-1", status="approved", approved_by="P9", approved_date=D(2024, 3, 2))
        headers = {(C, "I-1"): [h]}

        unchecked = invoice_controls([_facts("I-1", 100)], headers, {}, None, None)
        checked = invoice_controls([_facts("I-1", 100)], headers, {}, [], None)

        assert unchecked == []
        assert _codes(checked) == [("I-1", "APPROVER_NOT_APPOINTED")]
        assert checked[0].detail.endswith("no appointment on contract C-1")

    def test_level_below_the_contracts_risk(self) -> None:
        """A level II approver on a high-risk contract (needs III); moderate needs only II."""
        h = _header("I-1", status="approved", approved_by="P7", approved_date=D(2024, 1, 10))
        headers = {(C, "I-1"): [h]}

        high = {C: ContractTerms(contract_id=C, risk="high")}  # type: ignore[arg-type]
        moderate = {C: ContractTerms(contract_id=C, risk="moderate")}  # type: ignore[arg-type]

        found = invoice_controls([_facts("I-1", 100)], headers, high, [APPOINTED], None)
        assert _codes(found) == [("I-1", "APPROVER_LEVEL_BELOW_RISK")]
        assert invoice_controls([_facts("I-1", 100)], headers, moderate, [APPOINTED], None) == []


class TestCeilings:
    def test_notice_once_then_every_invoice_over(self) -> None:
        """Ceiling 10,000.00, invoices of 8,000.00, 600.00, 2,000.00, 500.00.

        Cumulative 8,000 (80 %: nothing), 8,600 (86 %: the notice, once), 10,600 (over by
        min(2,000, 600) = 600), 11,100 (over by min(500, 1,100) = 500).
        """
        terms = {C: ContractTerms(contract_id=C, ceiling=Decimal("10000.00"))}
        facts = [_facts(i, b) for i, b in (("I-1", 800_000), ("I-2", 60_000),
                                          ("I-3", 200_000), ("I-4", 50_000))]  # fmt: skip

        found = invoice_controls(facts, {}, terms, None, None)

        actual = [(f.invoice_id, f.finding.value, str(f.amount)) for f in found]
        assert actual == [
            ("I-2", "CEILING_85_PERCENT", "8600.00"),
            ("I-3", "CEILING_EXCEEDED", "600.00"),
            ("I-4", "CEILING_EXCEEDED", "500.00"),
        ]

    def test_limitation_of_funds_threshold_and_funding(self) -> None:
        """notice_percent 75: 7,500 of 10,000 is reached exactly; funded 7,000 exceeded by 500."""
        terms = {
            C: ContractTerms(
                contract_id=C,
                ceiling=Decimal("10000.00"),
                funded=Decimal("7000.00"),
                notice_percent=Decimal("75"),
            )
        }
        found = invoice_controls([_facts("I-1", 750_000)], {}, terms, None, None)

        actual = [(f.finding.value, str(f.amount)) for f in found]
        assert actual == [("CEILING_85_PERCENT", "7500.00"), ("FUNDING_EXCEEDED", "500.00")]

    def test_an_invoice_with_two_headers_counts_toward_the_ceiling(self) -> None:
        """Two headers: no header control, but its B counts; header_total left empty."""
        terms = {C: ContractTerms(contract_id=C, ceiling=Decimal("100.00"))}
        late = _header("I-1", paid_date=D(2025, 1, 1), total=Decimal("150.00"))
        headers = {(C, "I-1"): [late, _header("I-1")]}

        found = invoice_controls([_facts("I-1", 15_000)], headers, terms, None, [])

        assert _codes(found) == [("I-1", "CEILING_85_PERCENT"), ("I-1", "CEILING_EXCEEDED")]
        assert [f.header_total for f in found] == [None, None]


#: A documented approval that moves no due date below (it is after S + 7).
APPROVED: dict[str, object] = {"approved_by": "P1", "approved_date": D(2024, 7, 2)}
RATES = [InterestRate(start=D(2024, 7, 1), end=D(2024, 12, 31), rate=Decimal("4.875"))]


class TestLatePayment:
    def test_check_value(self) -> None:
        """Service 2024-06-20: accepted 06-27; received 07-01, so due 07-31; paid 08-20.

        20 days at 4.875 % on the header total 12,450.00: 12450 x 0.04875 x 20/360 = 33.72.
        """
        h = _header("I-1", invoice_date=D(2024, 7, 1), total=Decimal("12450.00"),
                    status="paid", approved_by="P1", approved_date=D(2024, 7, 2),
                    paid_date=D(2024, 8, 20))  # fmt: skip
        payments: dict[tuple[str, str], Payment] = {}

        found = invoice_controls(
            [_facts("I-1", 1_245_000, service=D(2024, 6, 20))],
            {(C, "I-1"): [h]},
            {},
            None,
            RATES,
            payments,
        )

        assert [(f.finding.value, str(f.amount)) for f in found] == [("LATE_PAYMENT", "33.72")]
        assert found[0].detail == (
            "due 2024-07-31, paid 2024-08-20, 20 days at 4.875 % on 12450.00 (the header total)"
        )
        assert payments[(C, "I-1")] == Payment(paid=True, interest_due=3372)

    def test_paid_on_the_due_date_is_on_time(self) -> None:
        """Due 2024-07-31 as above, paid that day: no finding, no interest."""
        h = _header("I-1", invoice_date=D(2024, 7, 1), paid_date=D(2024, 7, 31), **APPROVED)

        found = invoice_controls(
            [_facts("I-1", 100, service=D(2024, 6, 20))], {(C, "I-1"): [h]}, {}, None, RATES
        )

        assert found == []

    def test_disputed_invoice_accepted_on_its_late_approval(self) -> None:
        """Questioned: no constructive acceptance; approved 2024-08-15, so due 09-14."""
        h = _header("I-1", invoice_date=D(2024, 7, 1), approved_by="P1",
                    approved_date=D(2024, 8, 15), paid_date=D(2024, 9, 20),
                    paid_amount=Decimal("1000.00"))  # fmt: skip
        facts = [_facts("I-1", 100_000, questioned=500, service=D(2024, 6, 20))]

        found = invoice_controls(facts, {(C, "I-1"): [h]}, {}, None, RATES)

        # 6 days at 4.875 % on 1,000.00: 1000 x 0.04875 x 6/360 = 0.8125 -> 0.81, not owed.
        assert [(f.finding.value, str(f.amount)) for f in found] == [("LATE_PAYMENT", "0.81")]
        assert found[0].detail.startswith("due 2024-09-14, paid 2024-09-20, 6 days")
        assert found[0].detail.endswith("(paid_amount); under 1.00, not owed")

    def test_no_rate_window(self) -> None:
        """Due 2024-06-29 (received 05-30), interest runs from 06-30: no window holds it."""
        h = _header("I-1", invoice_date=D(2024, 5, 30), paid_date=D(2024, 7, 10), **APPROVED)
        facts = [_facts("I-1", 100, service=D(2024, 5, 1))]

        found = invoice_controls(facts, {(C, "I-1"): [h]}, {}, None, RATES)

        assert _codes(found) == [("I-1", "LATE_PAYMENT"), ("I-1", "NO_INTEREST_RATE")]
        assert found[0].amount is None
