"""DESIGN section 9 end to end: a small folder whose every figure is worked out by hand.

Three contracts. C1 has terms, appointments and three invoices; C2 only terms and an invoice
header (its funds ended unspent: deobligation); C3 only a trip that counted nobody.

C1's rules: CLIN 0001 1,000.00 per trip, CLIN 0002 10.00 per passenger (2024).
Trips: T1 2024-03-04 12 of 40 seats, T2 2024-03-05 38 of 40, T3 2024-04-01 (no count),
T4 2024-04-02 cancelled. Lines:
- I1: T1 0001 1,000.00 (MATCHED), T1 0002 12 × 10.00 = 120.00 (MATCHED): B = 1,120.00.
- I2: T2 0001 1,000.00 (MATCHED), T3 0001 billed at 1,100.00 (RATE_MISMATCH, E 1,000.00,
  erroneous 100.00): B = 2,100.00.
- I3: no trip on 2024-05-20, 500.00 (UNSUPPORTED): B = 500.00.
Invoices in processing order I1 (03-10), I2 (04-05), I3 (05-25); ceiling 3,000.00, funded
2,500.00, 85 % of the ceiling = 2,550.00:
- I1: cumulative 1,120.00. Paid 2024-05-20; S = 03-04, no questioned amount, so acceptance
  = min(S + 7 = 03-11, approved 03-15) = 03-11; due = max(received 03-10 + 30 = 04-09,
  03-11 + 30 = 04-10) = 04-10; 40 days late at 6 %: n = 1, k = 10:
  1,120 × 1.005 = 1,125.60; × (1 + 0.06 × 10 / 360) = 1,125.60 + 1.876 = 1,127.476;
  interest 7.476 → 7.48 (owed).
- I2: cumulative 3,220.00 ≥ 2,550.00: CEILING_85_PERCENT (3,220.00); over the ceiling
  min(2,100.00, 220.00) = 220.00; over funding min(2,100.00, 720.00) = 720.00. Approved by
  P1 on 04-10, whose appointment ended 03-31: APPROVER_NOT_APPOINTED. Questioned 100.00, so
  acceptance = approved 04-10, due = max(04-05 + 30, 04-10 + 30) = 05-10; paid 05-01: on
  time.
- I3: cumulative 3,720.00: over the ceiling min(500.00, 720.00) = 500.00, over funding
  min(500.00, 1,220.00) = 500.00. Approved by P2, level I, on a high-risk contract (needs
  III): APPROVER_LEVEL_BELOW_RISK. Not paid.
Payments: I2's erroneous 100.00 was paid (paid_erroneous); I3's unsupported 500.00 is to
withhold; interest_due 7.48. Unused capacity: T1 carried 12 / 40 = 0.30 < 0.80; its
non-passenger priced line E = 1,000.00 × (40 − 12) / 40 = 700.00.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from ice_recon import Finding, Policy, load, reconcile
from ice_recon.stream import reconcile_to

FILES = {
    "rates.csv": """contract_id,clin,basis,rate,start,end,rule_id
C1,0001,trip,1000.00,2024-01-01,2024-12-31,R1
C1,0002,passengers,10.00,2024-01-01,2024-12-31,R2
""",
    "manifests.csv": """trip_id,contract_id,service_date,status,passengers,seats
T1,C1,2024-03-04,completed,12,40
T2,C1,2024-03-05,completed,38,40
T3,C1,2024-04-01,completed,,
T4,C1,2024-04-02,cancelled,,
T9,C3,2024-03-01,completed,,
""",
    "invoice_lines.csv": "invoice_id,line_no,contract_id,clin,service_date,quantity,unit_price,"
    """amount,trip_ref
I1,1,C1,0001,2024-03-04,1,1000.00,1000.00,T1
I1,2,C1,0002,2024-03-04,12,10.00,120.00,T1
I2,1,C1,0001,2024-03-05,1,1000.00,1000.00,T2
I2,2,C1,0001,2024-04-01,1,1100.00,1100.00,T3
I3,1,C1,0001,2024-05-20,1,500.00,500.00,
""",
    "invoices.csv": "invoice_id,contract_id,invoice_date,received_date,total,status,paid_date,"
    """approved_by,approved_date,paid_amount
I1,C1,2024-03-10,2024-03-10,1120.00,paid,2024-05-20,P1,2024-03-15,1120.00
I2,C1,2024-04-05,2024-04-05,2100.00,paid,2024-05-01,P1,2024-04-10,
I3,C1,2024-05-25,2024-05-25,500.00,approved,,P2,2024-05-28,
I9,C2,2024-03-01,,,received,,,,
""",
    "contracts.csv": """contract_id,ceiling,funded,estimate,start,end,risk,payment_days
C1,3000.00,2500.00,2000.00,2024-01-01,2024-06-30,high,30
C2,,1000.00,,2024-01-01,2024-02-29,low,30
""",
    "cors.csv": """contract_id,person_id,appointed,level,expires
C1,P1,2024-01-01,III,2024-03-31
C1,P2,2024-01-01,I,
""",
    "interest_rates.csv": """start,end,rate
2024-01-01,2024-12-31,6
""",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("section9")
    for name, text in FILES.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_inputs_are_valid(folder: Path) -> None:
    assert load(folder).problems == ()


def test_invoice_findings_and_amounts(folder: Path) -> None:
    report = reconcile(load(folder))

    actual = [(f.invoice_id, f.finding, f.amount) for f in report.invoices]

    expected = [
        ("I1", Finding.LATE_PAYMENT, D("7.48")),
        ("I2", Finding.APPROVER_NOT_APPOINTED, None),
        ("I2", Finding.CEILING_85_PERCENT, D("3220.00")),
        ("I2", Finding.CEILING_EXCEEDED, D("220.00")),
        ("I2", Finding.FUNDING_EXCEEDED, D("720.00")),
        ("I3", Finding.APPROVER_LEVEL_BELOW_RISK, None),
        ("I3", Finding.CEILING_EXCEEDED, D("500.00")),
        ("I3", Finding.FUNDING_EXCEEDED, D("500.00")),
    ]
    assert expected == actual
    late = report.invoices[0]
    assert "due 2024-04-10, paid 2024-05-20, 40 days" in late.detail
    assert "appointment ended 2024-03-31" in report.invoices[1].detail


def test_payment_ledgers_overall_and_per_contract(folder: Path) -> None:
    report = reconcile(load(folder))

    c1, c2 = report.contracts["C1"].payments, report.contracts["C2"].payments

    assert (c1.paid_erroneous, c1.paid_unsupported, c1.to_withhold, c1.interest_due) == (
        D("100.00"), D("0.00"), D("500.00"), D("7.48"),
    )  # fmt: skip
    assert (c1.unused_capacity, c1.deobligation) == (D("700.00"), D("0.00"))
    # C2: funded 1,000.00, ended 02-29 before its latest invoice date 03-01, nothing spent.
    assert (c2.deobligation, c2.funds_put_to_better_use) == (D("1000.00"), D("1000.00"))
    p = report.payments
    assert (p.to_withhold, p.paid_erroneous, p.interest_due) == (
        D("500.00"),
        D("100.00"),
        D("7.48"),
    )
    assert (p.unused_capacity, p.deobligation, p.funds_put_to_better_use) == (
        D("700.00"), D("1000.00"), D("1700.00"),
    )  # fmt: skip
    # Every questioned cent in exactly one payment ledger.
    assert p.paid_erroneous + p.paid_unsupported + p.to_withhold == report.ledgers.questioned


def test_contracts_csv(folder: Path, tmp_path: Path) -> None:
    reconcile(load(folder)).write(tmp_path)

    rows = {r["contract_id"]: r for r in _csv(tmp_path / "contracts.csv")}

    assert list(rows) == ["C1", "C2", "C3"]
    assert rows["C1"] == {
        "contract_id": "C1",
        "findings": "",
        "billed": "3720.00",
        "expected": "3120.00",
        "questioned": "600.00",
        "underbilled": "0.00",
        "ceiling": "3000.00",
        "funded": "2500.00",
        "estimate": "2000.00",
        "estimate_variance": "1720.00",
        "people": "50",
        # Lines on trips that counted people: 1,000 + 120 + 1,000 = 2,120.00 / 50.
        "cost_per_person": "42.40",
        "utilization": "0.6250",  # 50 / 80
        "paid_erroneous": "100.00",
        "paid_unsupported": "0.00",
        "to_withhold": "500.00",
        "interest_due": "7.48",
        "unused_capacity": "700.00",
        "deobligation": "0.00",
        "funds_put_to_better_use": "700.00",
    }
    assert rows["C2"]["findings"] == "COR_NOT_APPOINTED;NO_COST_ESTIMATE"
    assert rows["C3"]["findings"] == "COR_NOT_APPOINTED;NO_COST_ESTIMATE;NO_PEOPLE_COUNT"
    assert (rows["C3"]["people"], rows["C3"]["ceiling"], rows["C3"]["deobligation"]) == (
        "", "", "0.00",
    )  # fmt: skip


def test_oversight_and_capacity_csv(folder: Path, tmp_path: Path) -> None:
    reconcile(load(folder)).write(tmp_path)

    months = [
        (r["contract_id"], r["month"], r["trips_completed"], r["trips_cancelled"],
         r["trips_billed"], r["trips_unbilled"], r["people"], r["trips_without_count"],
         r["seats"], r["utilization"], r["billed"], r["expected"], r["questioned"],
         r["cost_per_person"], r["unused_capacity"])
        for r in _csv(tmp_path / "oversight.csv")
    ]  # fmt: skip
    capacity = [list(r.values()) for r in _csv(tmp_path / "capacity.csv")]

    assert months == [
        ("C1", "2024-03", "2", "0", "2", "0", "50", "0", "80", "0.6250",
         "2120.00", "2120.00", "0.00", "42.40", "700.00"),
        ("C1", "2024-04", "1", "1", "1", "1", "", "1", "", "",
         "1100.00", "1000.00", "100.00", "", "0.00"),
        ("C1", "2024-05", "0", "0", "0", "0", "", "0", "", "",
         "500.00", "0.00", "500.00", "", "0.00"),
        ("C3", "2024-03", "1", "0", "0", "1", "", "1", "", "",
         "0.00", "0.00", "0.00", "", "0.00"),
    ]  # fmt: skip
    assert capacity == [["C1", "T1", "2024-03-04", "12", "40", "1000.00", "700.00"]]


def test_policy_floor_and_as_of(folder: Path) -> None:
    """A floor of 0.25 keeps T1 (0.30) out; an as-of before C2's end keeps its funds."""
    report = reconcile(
        load(folder), policy=Policy(utilization_floor=D("0.25"), as_of=dt.date(2024, 2, 1))
    )

    assert report.payments.unused_capacity == D("0.00")
    assert report.oversight.capacity == ()
    assert report.payments.deobligation == D("0.00")
    # An as-of after C1's end: funded 2,500.00 − E 3,120.00 is negative: nothing to free.
    late = reconcile(load(folder), policy=Policy(as_of=dt.date(2024, 7, 1)))
    assert late.contracts["C1"].payments.deobligation == D("0.00")
    assert late.contracts["C2"].payments.deobligation == D("1000.00")


def test_summary_ledgers(folder: Path, tmp_path: Path) -> None:
    reconcile(load(folder)).write(tmp_path)

    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))

    assert list(summary["ledgers"])[7:] == [
        "paid_erroneous", "paid_unsupported", "to_withhold", "interest_due",
        "unused_capacity", "deobligation", "funds_put_to_better_use",
    ]  # fmt: skip
    assert summary["ledgers"]["funds_put_to_better_use"] == "1700.00"
    assert summary["contracts"]["C2"]["ledgers"]["deobligation"] == "1000.00"
    assert sorted(summary["contracts"]) == ["C1", "C2"]  # C3 has no line, header or terms


@pytest.mark.parametrize("workers", [1, 2])
def test_streaming_writes_the_same_bytes(folder: Path, tmp_path: Path, workers: int) -> None:
    reconcile(load(folder)).write(tmp_path / "memory")
    reconcile_to(folder, tmp_path / "stream", workers=workers, batch_lines=2)

    for path in sorted((tmp_path / "memory").iterdir()):
        assert path.read_bytes() == (tmp_path / "stream" / path.name).read_bytes(), path.name


def test_invalid_lines_without_ids_belong_to_no_invoice_or_contract(
    folder: Path, tmp_path: Path
) -> None:
    """Lines missing their contract or invoice id are INVALID: no §9 row, no contract ''."""
    for name, text in FILES.items():
        if name == "invoice_lines.csv":
            text += "I7,1,,0001,2024-05-20,1,500.00,500.00,\n,1,C1,0001,2024-05-20,1,9.00,9.00,\n"
        (tmp_path / name).write_text(text, encoding="utf-8")

    report = reconcile(load(tmp_path))

    assert [c.contract_id for c in report.oversight.contracts] == ["C1", "C2", "C3"]
    assert {(f.contract_id, f.invoice_id) for f in report.invoices} == {
        ("C1", "I1"),
        ("C1", "I2"),
        ("C1", "I3"),
    }
    assert report.payments == reconcile(load(folder)).payments


def test_the_callers_decimal_context_plays_no_part(folder: Path) -> None:
    """A caller's 3-digit context changes no section 9 figure (700.00 + 1000.00 = 1700.00)."""
    import decimal

    plain = reconcile(load(folder))
    with decimal.localcontext() as context:
        context.prec = 3
        context.rounding = decimal.ROUND_DOWN
        tight = reconcile(load(folder))
        # Equal as numbers is not enough (1.70E+3 == 1700.00): compare the text.
        assert str(tight.payments.funds_put_to_better_use) == "1700.00"
        assert tight.summary()["ledgers"] == plain.summary()["ledgers"]
    assert tight.payments == plain.payments
    assert tight.oversight == plain.oversight
    assert tight.invoices == plain.invoices
