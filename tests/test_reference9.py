"""Hand-computed checks of the section 9 part of the test reference (``reference9``).

The reference is what the engine is compared with on generated runs
(``test_reference_run.py``), so its own section 9 arithmetic is pinned here on tiny folders,
each value computed by hand from DESIGN section 9 in the comments.

Every folder below has one contract ``C1`` with three flat rules for 2024:
``0001`` per trip at 100.00, ``0002`` per loaded mile at 2.00 and ``0003`` per passenger at
1.00. A line billed at 100.00 on a trip is MATCHED (E = 100.00); one billed at 120.00 is
RATE_MISMATCH with 20.00 erroneous.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

import reference as ref
from tiny_folder import Folder

D = Decimal
#: Interest rates for the whole of 2024 and 2025, in percent per year.
SIX_PERCENT = [{"start": "2024-01-01", "end": "2025-12-31", "rate": "6"}]
#: A paid invoice is approved: documented here on 2024-03-08, which is also S + 7 for the
#: invoices below of service date 2024-03-01 (so it moves no due date).
APPROVED = {"approved_by": "P1", "approved_date": "2024-03-08"}


def _findings(got: ref.RefControls, invoice: str) -> dict[str, D | None]:
    """Return finding code -> amount of one invoice's rows."""
    return {f.finding: f.amount for f in got.invoices if f.invoice_id == invoice}


def _contract(got: ref.RefControls) -> ref.RefContract:
    (row,) = (c for c in got.contracts if c.contract_id == "C1")
    return row


class TestInterestCheckValues:
    """The two check values of DESIGN section 9.2."""

    def test_12450_at_4875_for_20_days(self, tmp_path: Path) -> None:
        """P 12,450.00 at 4.875 % for 20 days is 33.72 of interest."""
        f = Folder()
        # S = 2024-03-01, acceptance S + 7 = 03-08, due 03-08 + 30 = 2024-04-07
        # (received = invoice_date 03-01, + 30 = 03-31, is earlier); paid 20 days late.
        f.bill("I1", "2024-03-01")
        f.header("I1", "2024-03-01", paid_date="2024-04-27", paid_amount="12450.00", **APPROVED)
        f.files["interest_rates.csv"] = [
            {"start": "2024-01-01", "end": "2024-12-31", "rate": "4.875"}
        ]

        got = f.run(tmp_path)

        # n = 0, k = 20: 12450 x 0.04875 x 20 / 360 = 33.71875 -> 33.72.
        late = ref.RefInvoiceFinding(
            "C1", "I1", "LATE_PAYMENT", None, D("100.00"), None, D("33.72")
        )
        assert got.invoices == [late]
        assert got.payments["interest_due"] == D("33.72")

    def test_1500_at_6_due_1_april_paid_15_june(self, tmp_path: Path) -> None:
        """P 1,500.00 at 6 %, due 1 April and paid 15 June (75 days), is 18.83 of interest."""
        f = Folder()
        # S = 2024-02-20: acceptance 02-27, + 30 = 03-28; received 2024-03-02 + 30 = 04-01
        # is later, so due = 2024-04-01. April 1 -> June 15 = 29 + 31 + 15 = 75 days.
        f.bill("I1", "2024-02-20")
        f.header(
            "I1",
            "2024-02-25",
            received_date="2024-03-02",
            paid_date="2024-06-15",
            total="1500.00",
            **APPROVED,
        )
        f.files["interest_rates.csv"] = SIX_PERCENT

        got = f.run(tmp_path)

        # P = the header total (no paid_amount). n = 2, k = 15:
        # 1500 x 1.005^2 x (1 + 0.06 x 15/360) - 1500 = 1500 x 1.010025 x 1.0025 - 1500
        # = 1518.82509... - 1500 = 18.825... -> 18.83.
        assert _findings(got, "I1") == {"FOOTING_ERROR": None, "LATE_PAYMENT": D("18.83")}
        late = next(x for x in got.invoices if x.finding == "LATE_PAYMENT")
        assert (late.header_total, late.lines_total, late.difference) == (
            D("1500.00"),
            D("100.00"),
            D("1400.00"),
        )


def _late_by(tmp_path: Path, days: int, principal: str = "10000.00") -> ref.RefControls:
    """Pay a one-line invoice *days* after its due date 2024-04-07, at 6 %."""
    f = Folder()
    # S = 2024-03-01 -> acceptance 03-08 -> due 2024-04-07.
    f.bill("I1", "2024-03-01")
    paid = dt.date(2024, 4, 7) + dt.timedelta(days=days)
    f.header("I1", "2024-03-01", paid_date=paid.isoformat(), paid_amount=principal, **APPROVED)
    f.files["interest_rates.csv"] = SIX_PERCENT
    return f.run(tmp_path)


class TestInterestDays:
    """Monthly compounding by whole 30-day periods, simple interest for the rest."""

    @pytest.mark.parametrize(
        ("days", "interest"),
        [
            # n 0, k 29: 10000 x 0.06 x 29/360 = 48.333... -> 48.33
            (29, "48.33"),
            # n 1, k 0: 10000 x 0.005 = 50.00
            (30, "50.00"),
            # n 1, k 1: 10000 x 1.005 x (1 + 0.06/360) - 10000 = 50 + 1.675 = 51.675 -> 51.68
            (31, "51.68"),
            # n 2, k 0: 10000 x 1.005^2 - 10000 = 10000 x 0.010025 = 100.25
            (60, "100.25"),
            # n 12, k 5: 10000 x 1.005^12 x (1 + 0.06 x 5/360) - 10000
            # = 10000 x 1.0616778118645 x 1.0008333... - 10000 = 625.6254... -> 625.63
            (365, "625.63"),
            # capped at 365 days
            (400, "625.63"),
        ],
    )
    def test_interest_on_10000_at_6_percent(self, tmp_path: Path, days: int, interest: str) -> None:
        """10,000.00 at 6 % for 29/30/31/60 days: 48.33/50.00/51.68/100.25; 365 days is a cap."""
        got = _late_by(tmp_path, days)

        assert _findings(got, "I1") == {"LATE_PAYMENT": D(interest)}
        assert got.payments["interest_due"] == D(interest)

    def test_paid_on_the_due_date_is_on_time(self, tmp_path: Path) -> None:
        """A payment on the due date is on time: no finding, no interest."""
        got = _late_by(tmp_path, 0)

        assert got.invoices == []
        assert got.payments["interest_due"] == D("0.00")

    @pytest.mark.parametrize(
        ("days", "interest", "owed"),
        [
            # n 1, k 29: 100 x 1.005 x (1 + 0.06 x 29/360) - 100 = 100 x 1.0098575 - 100
            # = 0.98575 -> 0.99: under 1.00, written but not owed.
            (59, "0.99", "0.00"),
            # n 2: 100 x 1.005^2 - 100 = 1.0025 -> 1.00: owed.
            (60, "1.00", "1.00"),
        ],
    )
    def test_interest_under_one_dollar_is_not_owed(
        self, tmp_path: Path, days: int, interest: str, owed: str
    ) -> None:
        """Interest under 1.00 is written on LATE_PAYMENT but not counted in interest_due."""
        got = _late_by(tmp_path, days, principal="100.00")

        assert _findings(got, "I1") == {"LATE_PAYMENT": D(interest)}
        assert got.payments["interest_due"] == D(owed)


class TestAcceptance:
    """The due date follows constructive acceptance, approval and disputes (FAR 52.232-25)."""

    def _run(
        self,
        tmp_path: Path,
        paid: str,
        *,
        amount: str = "100.00",
        approved: str = "",
    ) -> ref.RefControls:
        f = Folder()
        f.bill("I1", "2024-03-01", amount)
        cells = {"paid_date": paid, "paid_amount": "10000.00"}
        if approved:
            cells |= {"approved_by": "P1", "approved_date": approved}
        f.header("I1", "2024-03-01", **cells)
        f.files["interest_rates.csv"] = SIX_PERCENT
        return f.run(tmp_path)

    def test_constructive_acceptance_is_service_plus_7(self, tmp_path: Path) -> None:
        """Without approved_date, acceptance = S + 7: due 2024-04-07, paid 04-08 is late."""
        on_time = self._run(tmp_path / "a", "2024-04-07")
        late = self._run(tmp_path / "b", "2024-04-08")

        # 1 day at 6 % on 10,000.00: 10000 x 0.06 / 360 = 1.6666... -> 1.67.
        # Paid means approved; without approved_by/approved_date it is undocumented.
        assert _findings(on_time, "I1") == {"APPROVAL_UNDOCUMENTED": None}
        assert _findings(late, "I1") == {"APPROVAL_UNDOCUMENTED": None, "LATE_PAYMENT": D("1.67")}

    def test_an_earlier_approval_date_is_the_acceptance(self, tmp_path: Path) -> None:
        """approved_date 03-03 is before S + 7 = 03-08: due 03-03 + 30 = 04-02."""
        got = self._run(tmp_path, "2024-04-07", approved="2024-03-03")

        # 04-02 -> 04-07 is 5 days: 10000 x 0.06 x 5/360 = 8.333... -> 8.33.
        assert _findings(got, "I1") == {"LATE_PAYMENT": D("8.33")}

    def test_a_later_approval_date_does_not_delay_an_undisputed_invoice(
        self, tmp_path: Path
    ) -> None:
        """approved_date 03-21 is after S + 7 = 03-08: acceptance stays 03-08, due 04-07."""
        got = self._run(tmp_path, "2024-04-10", approved="2024-03-21")

        # 3 days late: 10000 x 0.06 x 3/360 = 5.00.
        assert _findings(got, "I1") == {"LATE_PAYMENT": D("5.00")}

    def test_a_questioned_invoice_is_accepted_at_its_approval(self, tmp_path: Path) -> None:
        """Billed 120.00 against 100.00 (questioned): acceptance is approved_date 03-21."""
        got = self._run(tmp_path, "2024-04-10", amount="120.00", approved="2024-03-21")

        # due = 03-21 + 30 = 04-20: paid 04-10 is on time. 20.00 erroneous, paid.
        assert got.invoices == []
        assert got.payments["paid_erroneous"] == D("20.00")
        assert got.payments["to_withhold"] == D("0.00")

    def test_a_questioned_invoice_without_approval_date_uses_service_plus_7(
        self, tmp_path: Path
    ) -> None:
        """Questioned and no approved_date: acceptance S + 7, due 04-07, paid 04-10 is late."""
        got = self._run(tmp_path, "2024-04-10", amount="120.00")

        # 3 days: 5.00 on the 10,000.00 paid.
        assert _findings(got, "I1") == {"APPROVAL_UNDOCUMENTED": None, "LATE_PAYMENT": D("5.00")}

    def test_no_interest_rate_window(self, tmp_path: Path) -> None:
        """Late with interest_rates.csv given but no window for due + 1: NO_INTEREST_RATE."""
        f = Folder()
        f.bill("I1", "2024-03-01")
        f.header("I1", "2024-03-01", paid_date="2024-05-01", **APPROVED)
        # due 04-07: the day after, 04-08, is in no window.
        f.files["interest_rates.csv"] = [{"start": "2024-04-09", "end": "2024-12-31", "rate": "6"}]

        got = f.run(tmp_path)

        assert _findings(got, "I1") == {"LATE_PAYMENT": None, "NO_INTEREST_RATE": None}

    def test_late_without_interest_rates_file(self, tmp_path: Path) -> None:
        """Late and no interest_rates.csv: LATE_PAYMENT with an empty amount, nothing else."""
        f = Folder()
        f.bill("I1", "2024-03-01")
        f.header("I1", "2024-03-01", paid_date="2024-05-01", **APPROVED)

        got = f.run(tmp_path)

        assert _findings(got, "I1") == {"LATE_PAYMENT": None}


class TestCeiling:
    """CEILING_85_PERCENT once; CEILING_EXCEEDED and FUNDING_EXCEEDED by the over amount."""

    def _invoices(self, f: Folder, count: int) -> None:
        """Bill *count* invoices of three 100.00 lines, dated 1, 2, 3 ... March."""
        for i in range(1, count + 1):
            day = f"2024-02-{i:02d}"
            for _ in range(3):
                f.bill(f"I{i}", day)
            f.header(f"I{i}", f"2024-03-{i:02d}")

    def test_notice_written_once_then_exceeded(self, tmp_path: Path) -> None:
        """Ceiling 1000.00: cumulative 300, 600, 900 (notice), 1200 (over 200), 1500 (300)."""
        f = Folder()
        self._invoices(f, 5)
        f.files["contracts.csv"] = [{"contract_id": "C1", "ceiling": "1000.00"}]

        got = f.run(tmp_path)

        # 900 >= 85 % of 1000 = 850: notice at I3 with the cumulative 900.00.
        # I4: cumulative 1200, over = min(B 300, 1200 - 1000) = 200.00;
        # I5: cumulative 1500, over = min(300, 500) = 300.00. No second notice.
        assert [(x.invoice_id, x.finding, x.amount) for x in got.invoices] == [
            ("I3", "CEILING_85_PERCENT", D("900.00")),
            ("I4", "CEILING_EXCEEDED", D("200.00")),
            ("I5", "CEILING_EXCEEDED", D("300.00")),
        ]

    def test_notice_and_excess_on_the_same_invoice(self, tmp_path: Path) -> None:
        """Ceiling 500.00, funded 550.00, notice at 75 %: I2 reaches and exceeds both."""
        f = Folder()
        self._invoices(f, 2)
        f.files["contracts.csv"] = [
            {"contract_id": "C1", "ceiling": "500.00", "funded": "550.00", "notice_percent": "75"}
        ]

        got = f.run(tmp_path)

        # I1: 300 < 375 (75 % of 500). I2: 600 >= 375 -> notice 600.00; over the ceiling
        # min(300, 600 - 500) = 100.00; over the funding min(300, 600 - 550) = 50.00.
        assert _findings(got, "I1") == {}
        assert _findings(got, "I2") == {
            "CEILING_85_PERCENT": D("600.00"),
            "CEILING_EXCEEDED": D("100.00"),
            "FUNDING_EXCEEDED": D("50.00"),
        }
        assert [x.finding for x in got.invoices] == sorted(x.finding for x in got.invoices)

    def test_an_invoice_without_header_counts_in_the_sum(self, tmp_path: Path) -> None:
        """An invoice without a header sorts last and still adds its B to the cumulative sum."""
        f = Folder()
        self._invoices(f, 2)
        f.bill("I0", "2024-01-15")  # no header: after I1 and I2
        f.files["contracts.csv"] = [{"contract_id": "C1", "ceiling": "650.00"}]

        got = f.run(tmp_path)

        # I1 300, I2 600 (>= 552.50: notice), I0 700: over min(100, 50) = 50.00, no header
        # total so header_total and difference are empty, lines_total = 100.00.
        over = ref.RefInvoiceFinding(
            "C1", "I0", "CEILING_EXCEEDED", None, D("100.00"), None, D("50.00")
        )
        assert over in got.invoices
        assert _findings(got, "I2") == {"CEILING_85_PERCENT": D("600.00")}


class TestApproval:
    """The approver checks need approved_by and approved_date, and cors.csv."""

    def _run(self, tmp_path: Path, risk: str, **cells: str) -> ref.RefControls:
        f = Folder()
        f.bill("I1", "2024-03-01")
        f.header("I1", "2024-03-01", status="approved", **cells)
        f.files["contracts.csv"] = [{"contract_id": "C1", "risk": risk}]
        f.files["cors.csv"] = [
            {"contract_id": "C1", "person_id": "P1", "appointed": "2024-01-01",
             "level": "II", "expires": "2024-02-29"}
        ]  # fmt: skip
        return f.run(tmp_path)

    def test_undocumented(self, tmp_path: Path) -> None:
        """Approved without approved_by: APPROVAL_UNDOCUMENTED, no other approver check."""
        got = self._run(tmp_path, "high", approved_date="2024-03-05")

        assert _findings(got, "I1") == {"APPROVAL_UNDOCUMENTED": None}

    def test_appointment_ended(self, tmp_path: Path) -> None:
        """Approved on 03-01, the appointment ended 02-29: APPROVER_NOT_APPOINTED."""
        got = self._run(tmp_path, "low", approved_by="P1", approved_date="2024-03-01")

        assert _findings(got, "I1") == {"APPROVER_NOT_APPOINTED": None}

    @pytest.mark.parametrize(("risk", "below"), [("moderate", False), ("high", True)])
    def test_level_below_risk(self, tmp_path: Path, risk: str, below: bool) -> None:
        """Level II on its last day (02-29, included) suffices for moderate risk, not high."""
        got = self._run(tmp_path, risk, approved_by="P1", approved_date="2024-02-29")

        assert _findings(got, "I1") == ({"APPROVER_LEVEL_BELOW_RISK": None} if below else {})


class TestUnusedCapacity:
    """Funds put to better use: E x (seats - passengers) / seats, per trip below the floor."""

    def test_arithmetic(self, tmp_path: Path) -> None:
        """Per-passenger lines and priced-out lines are left out; rounding once per trip."""
        f = Folder()
        low = f.trip("2024-03-01", passengers="30", seats="50", loaded_miles="50")
        third = f.trip("2024-03-02", passengers="2", seats="3")
        at_floor = f.trip("2024-03-03", passengers="40", seats="50")
        no_seats = f.trip("2024-03-04", passengers="0", seats="0")
        f.bill("I1", "2024-03-01", trip=low)  # E 100.00
        f.bill("I1", "2024-03-01", "100.00", clin="0002", quantity="50", trip=low)  # 50 x 2.00
        f.bill("I1", "2024-03-01", "30.00", clin="0003", quantity="30", trip=low)  # per passenger
        f.bill("I1", "2024-03-01", trip=low)  # DUPLICATE of the first: E 0, status 5
        f.bill("I1", "2024-03-02", "101.00", trip=third)  # RATE_MISMATCH, E 100.00
        f.bill("I1", "2024-03-03", trip=at_floor)
        f.bill("I1", "2024-03-04", trip=no_seats)
        f.header("I1", "2024-04-01")

        got = f.run(tmp_path)

        # low: 30/50 = 0.6 < 0.8; E of lines 1 and 2 = 200.00 x 20/50 = 80.00.
        # third: 2/3 < 0.8; 100.00 x 1/3 = 33.333... -> 33.33.
        # at_floor: 40/50 = 0.8 is not below the floor; no_seats: seats 0, ratio undefined.
        assert got.capacity == [
            ref.RefCapacity("C1", low, dt.date(2024, 3, 1), D(30), D(50), D("200.00"), D("80.00")),
            ref.RefCapacity("C1", third, dt.date(2024, 3, 2), D(2), D(3), D("100.00"), D("33.33")),
        ]
        assert got.payments["unused_capacity"] == D("113.33")
        assert _contract(got).funds_put_to_better_use == D("113.33")
        (month,) = got.months
        # people 30 + 2 + 40 + 0 = 72 over seats 50 + 3 + 50 + 0 = 103: 0.69902... -> 0.6990.
        assert (month.people, month.seats, month.utilization) == (D(72), D(103), D("0.6990"))
        assert month.unused_capacity == D("113.33")
        # billed 100 + 100 + 30 + 100 + 101 + 100 + 100 = 631.00 over 72 people = 8.7638... -> 8.76
        assert (month.billed, month.cost_per_person) == (D("631.00"), D("8.76"))

    def test_policy_floor_and_measure_names(self, tmp_path: Path) -> None:
        """A floor of 0.5 and measures named riders/capacity: 30/50 = 0.6 is not below it."""
        f = Folder()
        low = f.trip("2024-03-01", riders="20", capacity="50")
        f.bill("I1", "2024-03-01", trip=low)
        f.header("I1", "2024-04-01")
        policy = ref.Policy9(
            passengers_measure="riders", seats_measure="capacity", utilization_floor=D("0.5")
        )

        got = f.run(tmp_path, policy)

        # 20/50 = 0.4 < 0.5: 100.00 x 30/50 = 60.00.
        assert got.payments["unused_capacity"] == D("60.00")
        assert _contract(got).people == D(20)


class TestDeobligation:
    """funded − Σ E for a contract ended before as_of."""

    def _run(self, tmp_path: Path, as_of: dt.date | None = None, **terms: str) -> D:
        f = Folder()
        f.bill("I1", "2024-03-01")
        f.bill("I1", "2024-03-02", "150.00")  # E 100.00 (erroneous 50.00 does not count)
        f.header("I1", "2024-07-15")
        f.files["contracts.csv"] = [{"contract_id": "C1"} | terms]
        got = f.run(tmp_path, ref.Policy9(as_of=as_of))
        return got.contract_payments["C1"]["deobligation"]

    def test_ended_before_the_latest_invoice(self, tmp_path: Path) -> None:
        """End 06-30 < as_of 07-15 (latest invoice): 1000.00 − (100 + 100) = 800.00."""
        assert self._run(tmp_path, funded="1000.00", end="2024-06-30") == D("800.00")

    def test_not_ended_at_as_of(self, tmp_path: Path) -> None:
        """as_of 2024-06-30 = end: not before, nothing to deobligate."""
        got = self._run(tmp_path, dt.date(2024, 6, 30), funded="1000.00", end="2024-06-30")

        assert got == D("0.00")

    def test_spent_more_than_funded_or_no_end(self, tmp_path: Path) -> None:
        """Funded 150.00 < E 200.00, or no end: 0.00."""
        assert self._run(tmp_path / "a", funded="150.00", end="2024-06-30") == D("0.00")
        assert self._run(tmp_path / "b", funded="1000.00") == D("0.00")


class TestContractFindings:
    """NO_COST_ESTIMATE, NO_PEOPLE_COUNT and COR_NOT_APPOINTED."""

    def _findings(self, tmp_path: Path, cors: list[dict[str, str]] | None) -> tuple[str, ...]:
        f = Folder()
        f.bill("I1", "2024-03-01")  # a completed trip without passengers
        f.header("I1", "2024-04-01")
        f.files["contracts.csv"] = [
            {"contract_id": "C1", "start": "2024-01-01", "end": "2024-12-31", "estimate": "5.00"}
        ]
        if cors is not None:
            f.files["cors.csv"] = cors
        got = f.run(tmp_path)
        return _contract(got).findings

    @pytest.mark.parametrize(
        ("expires", "appointed"),
        [("2023-12-31", False), ("2024-01-01", True), ("", True)],
    )
    def test_cor_appointment_must_overlap_the_period(
        self, tmp_path: Path, expires: str, appointed: bool
    ) -> None:
        """An appointment from 2023-01-01 counts if it ends on or after the start 2024-01-01."""
        cor = {"contract_id": "C1", "person_id": "P1", "appointed": "2023-01-01", "level": "I"}
        got = self._findings(tmp_path, [cor | {"expires": expires}])

        assert got == (
            ("NO_PEOPLE_COUNT",) if appointed else ("COR_NOT_APPOINTED", "NO_PEOPLE_COUNT")
        )

    def test_header_only_cors_and_absent_cors(self, tmp_path: Path) -> None:
        """A header-only cors.csv means no appointment at all; no cors.csv means no check."""
        f = Folder()
        f.bill("I1", "2024-03-01")
        folder = f.write(tmp_path)
        (folder / "cors.csv").write_text("contract_id,person_id,appointed,level,expires\n")
        tables = ref.read_folder(folder)
        header_only = ref.reference9(tables, ref.reference(tables))

        assert _contract(header_only).findings == (
            "COR_NOT_APPOINTED",
            "NO_COST_ESTIMATE",
            "NO_PEOPLE_COUNT",
        )
        assert self._findings(tmp_path / "b", None) == ("NO_PEOPLE_COUNT",)

    def test_estimate_variance(self, tmp_path: Path) -> None:
        """estimate_variance = billed − estimate: 100.00 − 5.00 = 95.00."""
        f = Folder()
        f.bill("I1", "2024-03-01")
        f.files["contracts.csv"] = [{"contract_id": "C1", "estimate": "5.00"}]

        row = _contract(f.run(tmp_path))

        assert (row.estimate, row.estimate_variance) == (D("5.00"), D("95.00"))


class TestPaymentLedgers:
    """Each questioned cent is in exactly one of paid_erroneous, paid_unsupported, to_withhold."""

    def test_paid_and_unpaid(self, tmp_path: Path) -> None:
        """Paid: erroneous 20.00 and unsupported 70.00 recovered; unpaid: 30.00 withheld."""
        f = Folder()
        f.bill("I1", "2024-03-01", "120.00")  # erroneous 20.00
        unsupported = {"line_no": "2", "trip_ref": "", "amount": "70.00", "unit_price": "70.00"}
        f.lines.append(f.lines[-1] | unsupported | {"service_date": "2024-06-01"})
        f.header("I1", "2024-03-10", status="paid")  # paid, no paid_date: no late check
        f.bill("I2", "2024-03-02", "130.00")  # erroneous 30.00, not paid
        f.header("I2", "2024-03-11", status="approved", approved_by="P9")

        got = f.run(tmp_path)

        # I1's second line has no trip on 2024-06-01 (±1 day): UNSUPPORTED 70.00.
        assert got.payments == {
            "paid_erroneous": D("20.00"),
            "paid_unsupported": D("70.00"),
            "to_withhold": D("30.00"),
            "interest_due": D("0.00"),
            "unused_capacity": D("0.00"),
            "deobligation": D("0.00"),
            "funds_put_to_better_use": D("0.00"),
        }
        assert _findings(got, "I2") == {"APPROVAL_UNDOCUMENTED": None}
