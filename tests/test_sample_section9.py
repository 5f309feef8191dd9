"""The bundled sample's payment controls and oversight (DESIGN section 9), computed by hand.

Every figure below is worked out in the sample's README.md ("Payment controls and
oversight") from the sample files and the per-line amounts of ``tests/data/sample_expected.csv``
(the lines' erroneous, unsupported and underbilled parts are the README's "Planted errors"
table). The engine's Report and the files it writes must give exactly these figures.
"""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from ice_recon import Report, load, reconcile
from ice_recon.cli import sample_dir

GROUND = "HSCEMD-19-C-00012"
CHARTER = "70CDCR-20-C-00007"
D = Decimal

#: Erroneous and unsupported parts of each invoice's lines (A - E of the planted errors).
#: TRS-21-0142: erroneous 57.75 (line 7) + 11.68 (13) + 35.88 (18) + 2.34 (21) + 462.01 (25)
#: = 569.66; unsupported 68.75 (23) + 384.11 (26) = 452.86.
#: TRS-21-0157: erroneous 75.07 (4) + 18.50 (12) + 250.00 (13) + 27.00 (14) + 151.84 (21)
#: + 9.00 (24) = 531.41; nothing unsupported.
#: CSA-2110-0031: erroneous 0.01 (2) + 5475.33 (4) = 5475.34.
PAID_ERRONEOUS = D("569.66")  # TRS-21-0142 is paid
PAID_UNSUPPORTED = D("452.86")
WITHHOLD_GROUND = D("531.41")  # TRS-21-0157 is approved, not paid
WITHHOLD_CHARTER = D("5475.34")  # CSA-2110-0031 is only received

#: TRS-21-0142: received 2021-10-12, approved 2021-10-15, 30 payment days. It has
#: questioned lines, so acceptance is approved_date: due = max(10-12, 10-15) + 30 days
#: = 2021-11-14. Paid 2021-12-20: 36 days late, n = 1 month and k = 6 days, at 1.375 %
#: (the window 2021-07-01..2021-12-31 holds 2021-11-15), on paid_amount 5559.14:
#: 5559.14 x ((1 + 0.01375/12) x (1 + 0.01375 x 6/360) - 1)
#: = 5559.14 x 0.001375262586... = 7.6452... -> 7.65.
INTEREST = D("7.65")

#: Ceiling and funds of the ground contract, 12000.00 each. Cumulative B in processing
#: order: TRS-21-0142 5559.14 (46 %), then TRS-21-0157 5559.14 + 6453.67 = 12012.81:
#: >= 85 % of 12000.00 = 10200.00, and over by min(6453.67, 12.81) = 12.81.
CUMULATIVE = D("12012.81")
OVER = D("12.81")

#: Unused capacity: T000210001 (96 passengers, 135 seats, 0.7111 < 0.80), its line
#: CSA-2110-0031/1 E 18251.10: 18251.10 x 39 / 135 = 5272.5400 -> 5272.54.
#: T000123402 (9 of 45 seats, 0.20): TRS-21-0142 lines 4 (151.84) and 5 (9.51), E 161.35
#: (its copy TRS-21-0157/21 is a DUPLICATE, status 5: not counted): 161.35 x 36 / 45 = 129.08.
#: T000123401 uses 16 of 20 seats, exactly 0.80: not below the floor.
CAPACITY = [
    (CHARTER, "T000210001", "2021-10-05", "96", "135", "18251.10", "5272.54"),
    (GROUND, "T000123402", "2021-09-27", "9", "45", "161.35", "129.08"),
]
#: Deobligation: the charter's period ended 2021-11-03, before its latest invoice date
#: 2021-11-05; funded 170000.00 - sum E 157872.00 = 12128.00. The ground contract runs to
#: 2022-02-28: 0.00.
DEOBLIGATION = D("12128.00")

#: Per contract: paid_erroneous, paid_unsupported, to_withhold, interest_due,
#: unused_capacity, deobligation, funds_put_to_better_use (= the last two added).
LEDGERS = {
    CHARTER: ("0.00", "0.00", "5475.34", "0.00", "5272.54", "12128.00", "17400.54"),
    GROUND: ("569.66", "452.86", "531.41", "7.65", "129.08", "0.00", "129.08"),
}
OVERALL = ("569.66", "452.86", "6006.75", "7.65", "5401.62", "12128.00", "17529.62")
LEDGER_NAMES = (
    "paid_erroneous",
    "paid_unsupported",
    "to_withhold",
    "interest_due",
    "unused_capacity",
    "deobligation",
    "funds_put_to_better_use",
)

#: invoices.csv as the engine must write it: the footing error of DESIGN section 5 and the
#: section 9.2 findings, sorted by contract, invoice, finding.
INVOICE_ROWS = [
    (GROUND, "TRS-21-0142", "LATE_PAYMENT", "5559.14", "5559.14", "0.00", "7.65"),
    (GROUND, "TRS-21-0157", "APPROVER_NOT_APPOINTED", "6435.67", "6453.67", "-18.00", ""),
    (GROUND, "TRS-21-0157", "CEILING_85_PERCENT", "6435.67", "6453.67", "-18.00", "12012.81"),
    (GROUND, "TRS-21-0157", "CEILING_EXCEEDED", "6435.67", "6453.67", "-18.00", "12.81"),
    (GROUND, "TRS-21-0157", "FOOTING_ERROR", "6435.67", "6453.67", "-18.00", ""),
    (GROUND, "TRS-21-0157", "FUNDING_EXCEEDED", "6435.67", "6453.67", "-18.00", "12.81"),
]


@pytest.fixture(scope="module")
def report() -> Report:
    """The sample reconciled with the default policy, as ``ice-recon demo`` does."""
    return reconcile(load(sample_dir()))


@pytest.fixture(scope="module")
def out(report: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the report writes."""
    folder = tmp_path_factory.mktemp("sample-out")
    report.write(folder)
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_interest_check_value_is_computed_as_design_says() -> None:
    """5 CFR 1315.10 on 5559.14 at 1.375 % for 36 days gives the 7.65 of the README."""
    p, r = Fraction("5559.14"), Fraction("1.375") / 100
    n, k = divmod(36, 30)

    exact = p * (1 + r / 12) ** n * (1 + r * k / 360) - p

    assert (n, k) == (1, 6)
    assert D(exact.numerator) / D(exact.denominator) > D("7.645")
    quantized = (D(exact.numerator) / D(exact.denominator)).quantize(D("0.01"), ROUND_HALF_UP)
    assert quantized == INTEREST


class TestReport:
    def test_invoice_findings(self, report: Report) -> None:
        """Report.invoices holds the late payment, the expired approver and the ceiling rows."""
        expected = [(*row[:3], D(row[3]), D(row[4]), D(row[5]),
                     D(row[6]) if row[6] else None) for row in INVOICE_ROWS]  # fmt: skip

        actual = [
            (f.contract_id, f.invoice_id, f.finding.value, f.header_total, f.lines_total,
             f.difference, f.amount)
            for f in report.invoices
        ]  # fmt: skip

        assert expected == actual

    def test_invoice_details_name_the_figures(self, report: Report) -> None:
        """The late payment says its due date and days; the approval says when it ended."""
        detail = {(f.invoice_id, f.finding.value): f.detail for f in report.invoices}

        late = detail["TRS-21-0142", "LATE_PAYMENT"]
        approver = detail["TRS-21-0157", "APPROVER_NOT_APPOINTED"]
        assert "2021-11-14" in late
        assert "2021-12-20" in late
        assert "36 days" in late
        assert "1.375" in late
        assert "2021-11-12" in approver
        assert "2021-10-31" in approver

    def test_payment_ledgers(self, report: Report) -> None:
        """The ledgers of section 9, overall and per contract, are the hand-computed ones."""
        expected = {"all": OVERALL, **LEDGERS}

        actual = {
            "all": tuple(str(getattr(report.payments, n)) for n in LEDGER_NAMES),
            **{
                cid: tuple(str(getattr(report.contracts[cid].payments, n)) for n in LEDGER_NAMES)
                for cid in (CHARTER, GROUND)
            },
        }

        assert expected == actual
        # Every questioned cent (7029.27) is paid_erroneous, paid_unsupported or to withhold.
        paid_or_withheld = PAID_ERRONEOUS + PAID_UNSUPPORTED + WITHHOLD_GROUND + WITHHOLD_CHARTER
        assert report.ledgers.questioned == paid_or_withheld == D("7029.27")

    def test_capacity_rows(self, report: Report) -> None:
        """Two trips below 80 % of their seats: the charter mission and the coach for nine."""
        actual = [
            (r.contract_id, r.trip_id, r.service_date.isoformat(), str(r.passengers),
             str(r.seats), str(r.expected), str(r.unused))
            for r in report.oversight.capacity
        ]  # fmt: skip

        assert actual == CAPACITY

    def test_contract_rows(self, report: Report) -> None:
        """The ground contract has no cost estimate; the charter is deobligated 12128.00."""
        rows = {r.contract_id: r for r in report.oversight.contracts}

        assert [f.value for f in rows[GROUND].findings] == ["NO_COST_ESTIMATE"]
        assert rows[CHARTER].findings == ()
        assert rows[CHARTER].deobligation == DEOBLIGATION
        assert rows[GROUND].deobligation == D("0.00")
        # 163347.34 billed - 160000.00 estimated.
        assert rows[CHARTER].estimate_variance == D("3347.34")
        assert rows[GROUND].estimate is None
        assert rows[GROUND].estimate_variance is None


class TestFiles:
    def test_invoices_csv(self, out: Path) -> None:
        """invoices.csv has one row per finding, with the amounts computed above."""
        actual = [
            (r["contract_id"], r["invoice_id"], r["finding"], r["header_total"],
             r["lines_total"], r["difference"], r["amount"])
            for r in _rows(out / "invoices.csv")
        ]  # fmt: skip

        assert actual == INVOICE_ROWS

    def test_capacity_csv(self, out: Path) -> None:
        """capacity.csv lists the two trips below the utilization floor."""
        actual = [tuple(r.values()) for r in _rows(out / "capacity.csv")]

        assert actual == CAPACITY

    def test_contracts_csv(self, out: Path) -> None:
        """contracts.csv carries the findings and the section 9 ledgers of each contract."""
        rows = {r["contract_id"]: r for r in _rows(out / "contracts.csv")}

        assert list(rows) == [CHARTER, GROUND]
        assert rows[GROUND]["findings"] == "NO_COST_ESTIMATE"
        assert rows[GROUND]["estimate"] == rows[GROUND]["estimate_variance"] == ""
        assert rows[CHARTER]["findings"] == ""
        for cid, ledgers in LEDGERS.items():
            assert tuple(rows[cid][n] for n in LEDGER_NAMES) == ledgers

    def test_summary_json(self, out: Path) -> None:
        """summary.json gains the section 9 ledgers, overall and per contract."""
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))

        assert tuple(summary["ledgers"][n] for n in LEDGER_NAMES) == OVERALL
        for cid, ledgers in LEDGERS.items():
            assert tuple(summary["contracts"][cid]["ledgers"][n] for n in LEDGER_NAMES) == ledgers
