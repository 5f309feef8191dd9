"""A small input folder on which every finding of DESIGN section 9 occurs at least once.

The generated runs of ``test_reference_run.py`` get section 9 files only when the generator
writes them; this folder exercises each section 9 path on purpose, so the engine can be
compared with the reference on all of them. The comments say what each row is there for.
"""

from __future__ import annotations

from pathlib import Path

from tiny_folder import Folder

#: The codes this folder is built to produce (checked against the reference).
INVOICE_CODES = (
    "APPROVAL_UNDOCUMENTED",
    "APPROVER_LEVEL_BELOW_RISK",
    "APPROVER_NOT_APPOINTED",
    "CEILING_85_PERCENT",
    "CEILING_EXCEEDED",
    "DUPLICATE_INVOICE",
    "FOOTING_ERROR",
    "FUNDING_EXCEEDED",
    "LATE_PAYMENT",
    "NO_INTEREST_RATE",
)
CONTRACT_CODES = ("COR_NOT_APPOINTED", "NO_COST_ESTIMATE", "NO_PEOPLE_COUNT")


def every_finding(folder: Path) -> Path:
    """Write the folder into *folder* and return it."""
    f = Folder(contracts=("C1", "C2", "C3"))
    _contract_1(f)
    _contract_2(f)
    _contract_3(f)
    # C5 appears only on an INVALID line (3 decimal places in amount): a contracts.csv row
    # and a Report.contracts entry, all ledgers 0.00.
    f.bill("X1", "2024-03-01", "1.234", trip="", contract="C5")
    f.files["contracts.csv"] = [
        # C1: ceiling 1000 (notice at 850), funded 900, estimate, high risk, 30 days.
        {"contract_id": "C1", "ceiling": "1000.00", "funded": "900.00", "estimate": "800.00",
         "start": "2024-01-01", "end": "2024-12-31", "risk": "high"},
        # C2: notice at 75 % of 500, ended 06-30 with 5000 funded, 15 payment days.
        {"contract_id": "C2", "ceiling": "500.00", "notice_percent": "75", "funded": "5000.00",
         "start": "2024-01-01", "end": "2024-06-30", "risk": "moderate", "payment_days": "15"},
        # C4: no invoice at all (no as_of: no deobligation), its COR appointed before it.
        {"contract_id": "C4", "funded": "100.00", "estimate": "50.00",
         "start": "2023-01-01", "end": "2023-12-31"},
    ]  # fmt: skip
    f.files["cors.csv"] = [
        {"contract_id": "C1", "person_id": "P1", "appointed": "2024-01-01", "level": "III",
         "expires": "2024-03-31"},
        {"contract_id": "C1", "person_id": "P2", "appointed": "2024-01-01", "level": "II"},
        {"contract_id": "C2", "person_id": "P3", "appointed": "2024-01-01", "level": "I",
         "expires": "2024-12-31"},
        {"contract_id": "C4", "person_id": "P5", "appointed": "2022-01-01", "level": "I",
         "expires": "2022-12-31"},
    ]  # fmt: skip
    # July 2024 has no rate: a payment due in early July has NO_INTEREST_RATE.
    f.files["interest_rates.csv"] = [
        {"start": "2024-01-01", "end": "2024-06-30", "rate": "4.875"},
        {"start": "2024-08-01", "end": "2024-12-31", "rate": "6"},
    ]
    return f.write(folder)


def _contract_1(f: Folder) -> None:
    """C1: approvals, ceilings, funding, late payments, footing, capacity."""
    # I1: a trip 20/50 full (unused capacity on the per-trip and per-mile lines, not on the
    # per-passenger one) and a line dated the day after its trip, across a month end.
    a = f.trip("2024-01-10", passengers="20", seats="50", loaded_miles="40")
    f.bill("I1", "2024-01-10", trip=a)
    f.bill("I1", "2024-01-10", "80.00", clin="0002", quantity="40", trip=a)
    f.bill("I1", "2024-01-10", "20.00", clin="0003", quantity="20", unit_price="1.00", trip=a)
    f.bill("I1", "2024-02-01", trip=f.trip("2024-01-31", passengers="45", seats="50"))
    # Paid 42 days late (due 02-08 + 30 = 03-09), approved by P1 (level III) in time.
    f.header("I1", "2024-02-05", total="300.00", status="paid", approved_by="P1",
             approved_date="2024-02-10", paid_date="2024-04-20")  # fmt: skip
    # I2: 20.00 erroneous, an INVALID line; approved by P2 (level II < high risk), unpaid.
    f.bill("I2", "2024-02-20", "120.00")
    f.bill("I2", "2024-02-21")
    f.bill("I2", "2024-02-22", "9.999")
    f.header("I2", "2024-03-05", total="220.00", status="approved", approved_by="P2",
             approved_date="2024-03-10")  # fmt: skip
    # I3: cumulative 850 = 85 % exactly; an unsupported line alone in May; approved by P1
    # after the appointment ended; paid late, due 07-05 (received 06-05), no July rate.
    f.bill("I3", "2024-03-15")
    f.bill("I3", "2024-03-16")
    f.bill("I3", "2024-05-20", "130.00", trip="")
    f.header("I3", "2024-04-05", total="330.00", status="paid", approved_by="P1",
             approved_date="2024-04-10", received_date="2024-06-05",
             paid_date="2024-07-20")  # fmt: skip
    # I4: two headers (DUPLICATE_INVOICE, one FOOTING_ERROR), the later one paid (so its
    # 5.00 erroneous is paid_erroneous); cumulative 1055 exceeds the ceiling by 55 and the
    # funding by 155; a trip 10/40 full.
    f.bill("I4", "2024-04-10", "105.00")
    f.bill("I4", "2024-04-11", trip=f.trip("2024-04-11", passengers="10", seats="40"))
    f.header("I4", "2024-05-05", total="205.00", status="received")
    f.header("I4", "2024-06-05", total="210.00", status="paid", paid_date="2024-06-06")
    # I5: a header without lines (B = 0: nothing over).
    f.header("I5", "2024-06-01", total="0.00")
    # I9: lines without a header, processed last: 100 more over both limits.
    f.bill("I9", "2024-06-10")
    # A trip 10/50 full billed only per passenger (and once more, a DUPLICATE): nothing of it
    # counts in unused capacity, so it is not in capacity.csv.
    pax = f.trip("2024-06-12", passengers="10", seats="50")
    f.bill("I9", "2024-06-12", "10.00", clin="0003", quantity="10", unit_price="1.00", trip=pax)
    f.bill("I9", "2024-06-12", "10.00", clin="0003", quantity="10", unit_price="1.00", trip=pax)
    # Unbilled: a completed trip with a count and a cancelled trip.
    f.trip("2024-06-15", passengers="12", seats="12")
    f.trip("2024-05-01", "cancelled")


def _contract_2(f: Folder) -> None:
    """C2: no passenger counts, notice at 75 %, an undocumented approval, deobligation."""
    f.bill("J1", "2024-01-19", contract="C2")
    f.bill("J1", "2024-01-20", contract="C2")
    # Due 02-01 + 15 = 02-16, paid 4 days late on 150.00: 0.08, written but not owed.
    f.header("J1", "2024-02-01", contract="C2", status="paid", paid_date="2024-02-20",
             paid_amount="150.00")  # fmt: skip
    f.bill("J2", "2024-02-20", contract="C2")
    f.bill("J2", "2024-02-21", contract="C2")
    f.header("J2", "2024-03-01", contract="C2", status="approved", approved_by="P3",
             approved_date="2024-03-05")  # fmt: skip
    # After the end (06-30): as_of = 07-10, deobligation 5000 - 500 = 4500.00.
    f.bill("J3", "2024-06-25", contract="C2")
    f.header("J3", "2024-07-10", contract="C2", total="100.00")


def _contract_3(f: Folder) -> None:
    """C3: no contracts.csv row, no COR; a trip 5/20 full and one with no seats."""
    low = f.trip("2024-03-01", contract="C3", passengers="5", seats="20", loaded_miles="30")
    f.bill("K1", "2024-03-01", contract="C3", trip=low)
    f.bill("K1", "2024-03-01", "60.00", clin="0002", quantity="30", contract="C3", trip=low)
    empty = f.trip("2024-03-02", contract="C3", passengers="0", seats="0")
    f.bill("K1", "2024-03-02", contract="C3", trip=empty)
    # Approved by someone never appointed on C3; paid in time (due 03-08 + 30 = 04-07).
    f.header("K1", "2024-03-10", contract="C3", status="paid", approved_by="P4",
             approved_date="2024-03-12", paid_date="2024-03-20")  # fmt: skip
    # K2: not approved (status received) although approved_by and approved_date are filled:
    # no approver check applies (they are checks of approved invoices).
    f.bill("K2", "2024-03-20", contract="C3")
    f.header("K2", "2024-03-25", contract="C3", status="received", approved_by="P9",
             approved_date="2024-03-26")  # fmt: skip
