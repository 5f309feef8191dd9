"""Tests of the classify stage: one status per line, its findings, E, ledgers, decomposition.

Every expected number is worked out by hand in the comments (DESIGN sections 3 and 5), never
copied from the program's output. Rates are half_up unless a rule says otherwise.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest

from ice_recon import Policy, Report, Status, Tolerance, load_files, reconcile
from ice_recon.report import LineResult

C = "HSCEMD-19-C-00012"
P03 = ("2021-04-01", "2021-09-30")
P04 = ("2021-10-01", "2022-03-31")


def _rate(
    clin: str, basis: str, rate: str, rule_id: str, window: tuple[str, str] = P04, **extra: str
) -> dict[str, str]:
    row = {
        "contract_id": C,
        "clin": clin,
        "basis": basis,
        "rate": rate,
        "start": window[0],
        "end": window[1],
        "rule_id": rule_id,
    }
    row.update(extra)
    return row


RATES = [
    _rate("0001", "loaded_miles", "2.3950", "M-P03", P03, minimum_amount="150.00"),
    _rate("0001", "loaded_miles", "2.4575", "M-P04", minimum_amount="150.00"),
    _rate("0002", "wait_hours", "55.00", "W-P04", free_quantity="1.00", increment="0.25"),
    _rate("0003", "trip", "187.50", "E-P04"),  # no rule before 2021-10-01
    _rate("0004", "labor_hours", "48.75", "L-TO", labor_category="TO"),
    _rate("0004", "labor_hours", "62.40", "L-STO", labor_category="STO"),
    _rate("0005", "cancellation", "250.00", "X-P04"),
    _rate("0007", "vehicle_hours", "9125.55", "H-P04", rounding="half_even"),
    # Graduated passengers: 0-10 at 12.00, 10-25 at 9.00, 25+ at 6.50.
    _rate("0006", "passengers", "12.00", "G-P04", tier_from="0", tier_mode="graduated"),
    _rate("0006", "passengers", "9.00", "G-P04", tier_from="10", tier_mode="graduated"),
    _rate("0006", "passengers", "6.50", "G-P04", tier_from="25", tier_mode="graduated"),
]


def _trip(trip_id: str, day: str, **extra: str) -> dict[str, str]:
    row = {"trip_id": trip_id, "contract_id": C, "service_date": day}
    row.update(extra)
    return row


# No two trips lie within a day of each other, except the twins T6/T7 and T10/T11 (for
# ambiguity) and T4/T10/T11.
TRIPS = [
    _trip(
        "T1",
        "2021-10-04",
        loaded_miles="137.4",
        passengers="13",
        vehicle_hours="3.5",
        origin="PIDC",
        destination="KHRL",
    ),
    _trip("T2", "2021-10-11", loaded_miles="41.2"),
    _trip("T3", "2021-10-18", loaded_miles="141.3"),
    _trip("T4", "2021-09-30", loaded_miles="186.9"),
    _trip("T5", "2021-10-25", status="cancelled"),
    _trip("T6", "2021-11-01", loaded_miles="60.0", origin="PIDC"),
    _trip("T7", "2021-11-01", loaded_miles="60.0", origin="RGVPC"),
    _trip("T8", "2021-11-08", loaded_miles="90.0", wait_hours="2.33"),
    _trip("T9", "2021-11-15", loaded_miles="95.0"),  # no roster
    _trip("T10", "2021-10-01", loaded_miles="70.0"),
    _trip("T11", "2021-10-01", loaded_miles="70.0"),
]


def _staff(person: str, category: str, hours: str) -> dict[str, str]:
    return {
        "trip_id": "T8",
        "contract_id": C,
        "person_id": person,
        "labor_category": category,
        "hours": hours,
    }


# Roster of T8: TO 2.30 + 1.50 + 5.50 = 9.30 h; STO 3.00 h; DRV (a category without rule).
STAFF = [
    _staff("P1", "TO", "2.30"),
    _staff("P2", "TO", "1.50"),
    _staff("P3", "TO", "5.50"),
    _staff("P4", "STO", "3.00"),
    _staff("P5", "DRV", "3.00"),
]


def _line(
    no: int,
    clin: str,
    day: str,
    quantity: str,
    unit_price: str,
    amount: str,
    invoice: str = "INV-1",
    **extra: str,
) -> dict[str, str]:
    row = {
        "invoice_id": invoice,
        "line_no": str(no),
        "contract_id": C,
        "clin": clin,
        "service_date": day,
        "quantity": quantity,
        "unit_price": unit_price,
        "amount": amount,
    }
    row.update(extra)
    return row


def _labor(
    no: int, hours: str, rate: str, amount: str, category: str = "", person: str = "", **extra: str
) -> dict[str, str]:
    """Return a CLIN 0004 line on T8 (2021-11-08) for *category* and/or *person*."""
    extra.setdefault("trip_ref", "T8")
    day = extra.pop("day", "2021-11-08")
    return _line(
        no, "0004", day, hours, rate, amount, labor_category=category, person_id=person, **extra
    )


def _run(
    lines: list[dict[str, str]],
    *,
    policy: Policy | None = None,
    invoices: list[dict[str, str]] | None = None,
) -> Report:
    inputs = load_files(
        rates=RATES,
        manifests=TRIPS,
        staff=STAFF,
        invoice_lines=lines,
        invoices=invoices if invoices is not None else [],
    )
    return reconcile(inputs, policy=policy)


def _result(report: Report, line_no: int, invoice: str = "INV-1") -> LineResult:
    return next(r for r in report.lines if (r.invoice_id, r.line_no) == (invoice, line_no))


D = Decimal
ZERO4 = ("0.00", "0.00", "0.00", "0.00")


@dataclass(frozen=True)
class Case:
    """One classified line: its inputs and everything worked out by hand about it."""

    name: str
    lines: list[dict[str, str]]
    status: str
    findings: tuple[str, ...]
    expected: str
    erroneous: str = "0.00"
    unsupported: str = "0.00"
    underbilled: str = "0.00"
    decomposition: tuple[str, str, str, str] | None = None
    trip_id: str | None = None
    match: str = "exact"
    rule_id: str | None = None
    policy: Policy | None = None
    line_no: int = 1
    invoice: str = "INV-1"
    explains: tuple[str, ...] = field(default=())

    def outcome(self) -> tuple[object, ...]:
        """Return what the case expects, in the shape of :func:`_outcome`."""
        return (
            self.status,
            self.findings,
            D(self.expected),
            D(self.erroneous),
            D(self.unsupported),
            D(self.underbilled),
            None if self.decomposition is None else tuple(D(p) for p in self.decomposition),
            self.trip_id,
            self.match,
        )


def _outcome(r: LineResult) -> tuple[object, ...]:
    return (
        r.status.value,
        r.findings,
        r.expected,
        r.erroneous,
        r.unsupported,
        r.underbilled,
        r.decomposition,
        r.trip_id,
        r.match,
    )


def _report_of(case: Case) -> Report:
    return _run(case.lines, policy=case.policy)


# Rows 2-6 of DESIGN section 5: E = 0 and no decomposition.
UNPRICED = [
    Case(
        # T4 ran 2021-09-30; CLIN 0003 is priced from 2021-10-01 only. The line's own date
        # (2021-10-01) is inside the window, but the trip's date governs: no rate.
        "no-rate-trip-date-outside-window",
        [_line(1, "0003", "2021-10-01", "1", "187.50", "187.50", trip_ref="T4")],
        "NO_RATE",
        ("NO_RATE", "SERVICE_DATE_MISMATCH"),
        "0.00",
        erroneous="187.50",
        trip_id="T4",
    ),
    Case(
        # A labor line with neither category nor person, on T4 (2021-09-30): no rule of CLIN
        # 0004, whatever its category, covers that date, so NO_RATE is judged on the CLIN
        # alone (DESIGN 4.1) before the unknown hours could make it UNSUPPORTED.
        "no-rate-labor-neither-category-nor-person",
        [_labor(1, "2.00", "48.75", "97.50", trip_ref="T4", day="2021-09-30")],
        "NO_RATE",
        ("NO_RATE",),
        "0.00",
        erroneous="97.50",
        trip_id="T4",
    ),
    Case(
        # CLIN 0008 has no rule at all: 1 x 18.50 = 18.50 is erroneous.
        "no-rate-clin-without-rule",
        [_line(1, "0008", "2021-10-04", "1", "18.50", "18.50", trip_ref="T1")],
        "NO_RATE",
        ("NO_RATE",),
        "0.00",
        erroneous="18.50",
        trip_id="T1",
    ),
    Case(
        # No trip matched: the line's own date 2021-09-20 is before CLIN 0003's window.
        "no-rate-unmatched-line-own-date",
        [_line(1, "0003", "2021-09-20", "1", "187.50", "187.50")],
        "NO_RATE",
        ("NO_RATE",),
        "0.00",
        erroneous="187.50",
        match="none",
    ),
    Case(
        # Labor category DRV has no rule for CLIN 0004: 3.00 x 40.00 = 120.00 erroneous.
        "no-rate-labor-category-without-rule",
        [_labor(1, "3.00", "40.00", "120.00", "DRV")],
        "NO_RATE",
        ("NO_RATE",),
        "0.00",
        erroneous="120.00",
        trip_id="T8",
    ),
    Case(
        # P5 is DRV on T8's roster, billed as TO (which has a rule): NO_RATE is judged on the
        # roster category DRV, which has none. 3.00 x 48.75 = 146.25 erroneous.
        "no-rate-judged-on-roster-category",
        [_labor(1, "3.00", "48.75", "146.25", "TO", "P5")],
        "NO_RATE",
        ("NO_RATE",),
        "0.00",
        erroneous="146.25",
        trip_id="T8",
    ),
    Case(
        # No ref: T10 and T11 (2021-10-01, CLIN 0003 priced) tie, T4 (2021-09-30, no 0003
        # rule) is no candidate. Left unmatched, the line's own date 2021-09-30 has no rule
        # for CLIN 0003: NO_RATE (row 2 before row 3), with AMBIGUOUS_MATCH.
        "no-rate-ambiguous-line-own-date",
        [_line(1, "0003", "2021-09-30", "1", "187.50", "187.50")],
        "NO_RATE",
        ("NO_RATE", "AMBIGUOUS_MATCH"),
        "0.00",
        erroneous="187.50",
        match="none",
        explains=("T10", "T11"),
    ),
    Case(
        # No ref and no trip within a day of 2021-12-01: 100.0 x 2.4575 = 245.75 unsupported.
        "unsupported-no-ref-nothing-inferable",
        [_line(1, "0001", "2021-12-01", "100.0", "2.4575", "245.75")],
        "UNSUPPORTED",
        ("UNSUPPORTED",),
        "0.00",
        unsupported="245.75",
        match="none",
    ),
    Case(
        # T99 is no trip; T1 (same day) has 137.4 miles, not 50.0: nothing inferable.
        # 50.0 x 2.4575 = 122.875 -> billed 122.88, all unsupported.
        "unsupported-unknown-ref",
        [_line(1, "0001", "2021-10-04", "50.0", "2.4575", "122.88", trip_ref="T99")],
        "UNSUPPORTED",
        ("UNSUPPORTED",),
        "0.00",
        unsupported="122.88",
        match="none",
    ),
    Case(
        # T6 and T7 both ran 2021-11-01 with 60.0 miles: a tie. 60.0 x 2.4575 = 147.45.
        "unsupported-ambiguous",
        [_line(1, "0001", "2021-11-01", "60.0", "2.4575", "147.45")],
        "UNSUPPORTED",
        ("UNSUPPORTED", "AMBIGUOUS_MATCH"),
        "0.00",
        unsupported="147.45",
        match="none",
        explains=("T6", "T7"),
    ),
    Case(
        # T5 was cancelled; CLIN 0001 is a mileage CLIN. 50.0 x 2.4575 -> 122.88 erroneous.
        "not-performed-cancelled-trip-mileage",
        [_line(1, "0001", "2021-10-25", "50.0", "2.4575", "122.88", trip_ref="T5")],
        "NOT_PERFORMED",
        ("NOT_PERFORMED",),
        "0.00",
        erroneous="122.88",
        trip_id="T5",
    ),
    Case(
        # T1 was completed; CLIN 0005 is a cancellation fee: 250.00 erroneous.
        "not-performed-completed-trip-cancellation-fee",
        [_line(1, "0005", "2021-10-04", "1", "250.00", "250.00", trip_ref="T1")],
        "NOT_PERFORMED",
        ("NOT_PERFORMED",),
        "0.00",
        erroneous="250.00",
        trip_id="T1",
    ),
    Case(
        # The same escort run (T1, CLIN 0003) billed twice: the second 187.50 is erroneous.
        "duplicate-same-charge-twice",
        [
            _line(1, "0003", "2021-10-04", "1", "187.50", "187.50", trip_ref="T1"),
            _line(2, "0003", "2021-10-04", "1", "187.50", "187.50", trip_ref="T1"),
        ],
        "DUPLICATE",
        ("DUPLICATE",),
        "0.00",
        erroneous="187.50",
        trip_id="T1",
        line_no=2,
    ),
    Case(
        # T1 recorded no wait_hours: 2.00 x 55.00 = 110.00 billed without evidence.
        "missing-measure-not-recorded",
        [_line(1, "0002", "2021-10-04", "2.00", "55.00", "110.00", trip_ref="T1")],
        "UNSUPPORTED",
        ("UNSUPPORTED", "MISSING_MEASURE"),
        "0.00",
        unsupported="110.00",
        trip_id="T1",
    ),
    Case(
        # T9 has no roster: 4.00 TO hours x 48.75 = 195.00 unsupported.
        "missing-measure-no-roster-hours",
        [_labor(1, "4.00", "48.75", "195.00", "TO", trip_ref="T9", day="2021-11-15")],
        "UNSUPPORTED",
        ("UNSUPPORTED", "MISSING_MEASURE"),
        "0.00",
        unsupported="195.00",
        trip_id="T9",
    ),
    Case(
        # No category on the line and P9 is not on T8's roster: the category cannot be known;
        # CLIN 0004 has rules, so not NO_RATE, but UNSUPPORTED with MISSING_MEASURE.
        "missing-measure-category-unknown",
        [_labor(1, "4.00", "48.75", "195.00", person="P9")],
        "UNSUPPORTED",
        ("UNSUPPORTED", "MISSING_MEASURE"),
        "0.00",
        unsupported="195.00",
        trip_id="T8",
    ),
    Case(
        # Neither category nor person on the line, and every rule of CLIN 0004 names a
        # category: the CLIN has rules on 2021-11-08, so not NO_RATE; the hours cannot be
        # known, so UNSUPPORTED with MISSING_MEASURE (DESIGN 4.1).
        "missing-measure-neither-category-nor-person",
        [_labor(1, "9.30", "48.75", "453.38")],
        "UNSUPPORTED",
        ("UNSUPPORTED", "MISSING_MEASURE"),
        "0.00",
        unsupported="453.38",
        trip_id="T8",
    ),
]

# Rows 7-14: priced lines with E, the decomposition (extension, price, quantity, minimum).
PRICED = [
    Case(
        # 137.4 x 2.4575 = 337.6605 -> 337.66, billed exactly that.
        "matched-miles",
        [_line(1, "0001", "2021-10-04", "137.4", "2.4575", "337.66", trip_ref="T1")],
        "MATCHED",
        (),
        "337.66",
        decomposition=ZERO4,
        trip_id="T1",
        rule_id="M-P04",
    ),
    Case(
        # A flat trip fee: 1 x 187.50.
        "matched-trip-fee",
        [_line(1, "0003", "2021-10-04", "1", "187.50", "187.50", trip_ref="T1")],
        "MATCHED",
        (),
        "187.50",
        decomposition=ZERO4,
        trip_id="T1",
        rule_id="E-P04",
    ),
    Case(
        # A cancellation fee on the cancelled trip T5: 1 x 250.00.
        "matched-cancellation-fee",
        [_line(1, "0005", "2021-10-25", "1", "250.00", "250.00", trip_ref="T5")],
        "MATCHED",
        (),
        "250.00",
        decomposition=ZERO4,
        trip_id="T5",
        rule_id="X-P04",
    ),
    Case(
        # 41.2 x 2.4575 = 101.249 -> 101.25 < 150.00: E = 150.00, billed 150.00 (A = E).
        # 150.00 is no rounding of 101.249: EXTENSION_ERROR as a finding only.
        # extension 150.00 - 101.25 = 48.75; price 0; quantity 0; minimum 101.25 - 150.00.
        "matched-minimum-with-extension-finding",
        [_line(1, "0001", "2021-10-11", "41.2", "2.4575", "150.00", trip_ref="T2")],
        "MATCHED",
        ("EXTENSION_ERROR",),
        "150.00",
        decomposition=("48.75", "0.00", "0.00", "-48.75"),
        trip_id="T2",
        rule_id="M-P04",
    ),
    Case(
        # P3 is TO on T8's roster, billed as STO: 5.50 x 62.40 = 343.20.
        # E at TO: 5.50 x 48.75 = 268.125 -> 268.13; variance 343.20 - 268.13 = 75.07,
        # all of it price: R(5.50 x 62.40) = 343.20, P(5.50) at TO = 268.13.
        "labor-category-mismatch",
        [_labor(1, "5.50", "62.40", "343.20", "STO", "P3")],
        "LABOR_CATEGORY_MISMATCH",
        ("LABOR_CATEGORY_MISMATCH", "RATE_MISMATCH"),
        "268.13",
        erroneous="75.07",
        decomposition=("0.00", "75.07", "0.00", "0.00"),
        trip_id="T8",
        rule_id="L-TO",
    ),
    Case(
        # P3 (TO) billed as STO but at the TO rate: 5.50 x 48.75 = 268.125 -> 268.13 = E.
        # A = E: MATCHED (row 7 comes first), the category mismatch listed as a finding.
        "matched-with-labor-category-finding",
        [_labor(1, "5.50", "48.75", "268.13", "STO", "P3")],
        "MATCHED",
        ("LABOR_CATEGORY_MISMATCH",),
        "268.13",
        decomposition=ZERO4,
        trip_id="T8",
        rule_id="L-TO",
    ),
    Case(
        # Only the person is named: the roster category TO prices P1's 2.30 h -> 112.13.
        "matched-person-only-labor-line",
        [_labor(1, "2.30", "48.75", "112.13", "", "P1")],
        "MATCHED",
        (),
        "112.13",
        decomposition=ZERO4,
        trip_id="T8",
        rule_id="L-TO",
    ),
    Case(
        # Billed q x r = 101.25 under the 150.00 minimum: variance -48.75, the minimum part.
        "minimum-misapplied-billed-under-minimum",
        [_line(1, "0001", "2021-10-11", "41.2", "2.4575", "101.25", trip_ref="T2")],
        "MINIMUM_MISAPPLIED",
        ("MINIMUM_MISAPPLIED",),
        "150.00",
        underbilled="48.75",
        decomposition=("0.00", "0.00", "0.00", "-48.75"),
        trip_id="T2",
        rule_id="M-P04",
    ),
    Case(
        # The minimum 150.00 billed although 137.4 miles cost 337.66: A = minimum_amount.
        # variance 150.00 - 337.66 = -187.66, all of it extension (150.00 vs R(337.6605)).
        "minimum-misapplied-billed-minimum-over-it",
        [_line(1, "0001", "2021-10-04", "137.4", "2.4575", "150.00", trip_ref="T1")],
        "MINIMUM_MISAPPLIED",
        ("MINIMUM_MISAPPLIED", "EXTENSION_ERROR"),
        "337.66",
        underbilled="187.66",
        decomposition=("-187.66", "0.00", "0.00", "0.00"),
        trip_id="T1",
        rule_id="M-P04",
    ),
    Case(
        # 141.3 x 2.4575 = 347.24475 -> 347.24 (half_up; 347.25 only under `up`), billed
        # 374.24 (digits swapped): variance 27.00, all extension.
        "extension-error",
        [_line(1, "0001", "2021-10-18", "141.3", "2.4575", "374.24", trip_ref="T3")],
        "EXTENSION_ERROR",
        ("EXTENSION_ERROR",),
        "347.24",
        erroneous="27.00",
        decomposition=("27.00", "0.00", "0.00", "0.00"),
        trip_id="T3",
        rule_id="M-P04",
    ),
    Case(
        # Billed 152.0 x 2.4575 = 373.54 where T1 recorded 137.4 -> 337.66: variance 35.88,
        # quantity part P(152.0) - P(137.4) = 373.54 - 337.66 = 35.88.
        "quantity-mismatch",
        [_line(1, "0001", "2021-10-04", "152.0", "2.4575", "373.54", trip_ref="T1")],
        "QUANTITY_MISMATCH",
        ("QUANTITY_MISMATCH",),
        "337.66",
        erroneous="35.88",
        decomposition=("0.00", "0.00", "35.88", "0.00"),
        trip_id="T1",
        rule_id="M-P04",
    ),
    Case(
        # Quantity and rate both wrong: 152.0 x 2.3950 = 364.04; E 337.66; variance 26.38 =
        # price (364.04 - 373.54 = -9.50) + quantity (373.54 - 337.66 = 35.88).
        "quantity-and-rate-mismatch",
        [_line(1, "0001", "2021-10-04", "152.0", "2.3950", "364.04", trip_ref="T1")],
        "QUANTITY_MISMATCH",
        ("QUANTITY_MISMATCH", "RATE_MISMATCH"),
        "337.66",
        erroneous="26.38",
        decomposition=("0.00", "-9.50", "35.88", "0.00"),
        trip_id="T1",
        rule_id="M-P04",
    ),
    Case(
        # The old P00003 rate on a P00004 date: 137.4 x 2.3950 = 329.073 -> 329.07;
        # E 337.66; variance -8.59, all price (329.07 - 337.66).
        "rate-mismatch",
        [_line(1, "0001", "2021-10-04", "137.4", "2.3950", "329.07", trip_ref="T1")],
        "RATE_MISMATCH",
        ("RATE_MISMATCH",),
        "337.66",
        underbilled="8.59",
        decomposition=("0.00", "-8.59", "0.00", "0.00"),
        trip_id="T1",
        rule_id="M-P04",
    ),
    Case(
        # 2.30 x 48.75 = 112.125: half_up -> 112.13, billed 112.12 (half_even/half_down/down).
        # variance -0.01 underbilled, the extension part.
        "rounding-diff",
        [_labor(1, "2.30", "48.75", "112.12", "TO", "P1")],
        "ROUNDING_DIFF",
        ("ROUNDING_DIFF",),
        "112.13",
        underbilled="0.01",
        decomposition=("-0.01", "0.00", "0.00", "0.00"),
        trip_id="T8",
        rule_id="L-TO",
    ),
    Case(
        # T8 recorded 2.33 wait hours: 2.33 - 1.00 free = 1.33, down to 0.25 -> 1.25 billable;
        # 1.25 x 55.00 = 68.75.
        "matched-free-quantity-and-increment",
        [_line(1, "0002", "2021-11-08", "1.25", "55.00", "68.75", trip_ref="T8")],
        "MATCHED",
        (),
        "68.75",
        decomposition=ZERO4,
        trip_id="T8",
        rule_id="W-P04",
    ),
    Case(
        # The raw 2.33 h billed: 2.33 x 55.00 = 128.15; E 68.75; variance 59.40, the quantity
        # part P(2.33) - P(1.25) = 128.15 - 68.75.
        "quantity-mismatch-free-quantity-and-increment",
        [_line(1, "0002", "2021-11-08", "2.33", "55.00", "128.15", trip_ref="T8")],
        "QUANTITY_MISMATCH",
        ("QUANTITY_MISMATCH",),
        "68.75",
        erroneous="59.40",
        decomposition=("0.00", "0.00", "59.40", "0.00"),
        trip_id="T8",
        rule_id="W-P04",
    ),
    Case(
        # 141.3 x 2.4575 = 347.24475: half_up 347.24, billed 347.25 (the `up` rounding):
        # one cent over, ROUNDING_DIFF, erroneous 0.01.
        "rounding-diff-up",
        [_line(1, "0001", "2021-10-18", "141.3", "2.4575", "347.25", trip_ref="T3")],
        "ROUNDING_DIFF",
        ("ROUNDING_DIFF",),
        "347.24",
        erroneous="0.01",
        decomposition=("0.01", "0.00", "0.00", "0.00"),
        trip_id="T3",
        rule_id="M-P04",
    ),
    Case(
        # The rule's own rounding (half_even): 3.5 x 9125.55 = 31939.425 -> 31939.42; billed
        # 31939.43 (half_up): ROUNDING_DIFF, 0.01 erroneous.
        "rounding-diff-rule-rounding-column",
        [_line(1, "0007", "2021-10-04", "3.5", "9125.55", "31939.43", trip_ref="T1")],
        "ROUNDING_DIFF",
        ("ROUNDING_DIFF",),
        "31939.42",
        erroneous="0.01",
        decomposition=("0.01", "0.00", "0.00", "0.00"),
        trip_id="T1",
        rule_id="H-P04",
    ),
    Case(
        # Policy.rounding half_even for rules without their own: 2.30 x 48.75 = 112.125 ->
        # 112.12, billed 112.12.
        "matched-policy-rounding-default",
        [_labor(1, "2.30", "48.75", "112.12", "TO", "P1")],
        "MATCHED",
        (),
        "112.12",
        decomposition=ZERO4,
        trip_id="T8",
        rule_id="L-TO",
        policy=Policy(rounding="half_even"),
    ),
    Case(
        # Graduated tiers billed flat: 13 x 12.00 = 156.00; E = 10 x 12.00 + 3 x 9.00 = 147.00.
        # Graduated sets have no single rate: no RATE_MISMATCH; the 9.00 is the price part.
        "amount-mismatch-graduated-billed-flat",
        [_line(1, "0006", "2021-10-04", "13", "12.00", "156.00", trip_ref="T1")],
        "AMOUNT_MISMATCH",
        ("AMOUNT_MISMATCH",),
        "147.00",
        erroneous="9.00",
        decomposition=("0.00", "9.00", "0.00", "0.00"),
        trip_id="T1",
        rule_id="G-P04",
    ),
]

MILES_HALF = Policy(tolerances={"loaded_miles": Tolerance(value=Decimal("0.5"))})
MILES_2PCT = Policy(tolerances={"loaded_miles": Tolerance(value=Decimal("2"), percent=True)})

# WITHIN_TOLERANCE: E uses the billed quantity. T1 recorded 137.4 miles.
TOLERANCE = [
    Case(
        # |137.8 - 137.4| = 0.4 <= 0.5: E = 137.8 x 2.4575 = 338.6435 -> 338.64.
        "absolute-inside",
        [_line(1, "0001", "2021-10-04", "137.8", "2.4575", "338.64", trip_ref="T1")],
        "MATCHED",
        ("WITHIN_TOLERANCE",),
        "338.64",
        decomposition=ZERO4,
        trip_id="T1",
        policy=MILES_HALF,
    ),
    Case(
        # |137.9 - 137.4| = 0.5, the edge: accepted. 137.9 x 2.4575 = 338.88925 -> 338.89.
        "absolute-edge-above",
        [_line(1, "0001", "2021-10-04", "137.9", "2.4575", "338.89", trip_ref="T1")],
        "MATCHED",
        ("WITHIN_TOLERANCE",),
        "338.89",
        decomposition=ZERO4,
        trip_id="T1",
        policy=MILES_HALF,
    ),
    Case(
        # |136.9 - 137.4| = 0.5 below: accepted. 136.9 x 2.4575 = 336.43175 -> 336.43.
        "absolute-edge-below",
        [_line(1, "0001", "2021-10-04", "136.9", "2.4575", "336.43", trip_ref="T1")],
        "MATCHED",
        ("WITHIN_TOLERANCE",),
        "336.43",
        decomposition=ZERO4,
        trip_id="T1",
        policy=MILES_HALF,
    ),
    Case(
        # |138.0 - 137.4| = 0.6 > 0.5: 138.0 x 2.4575 = 339.135 -> 339.14 vs E 337.66: 1.48.
        "absolute-beyond",
        [_line(1, "0001", "2021-10-04", "138.0", "2.4575", "339.14", trip_ref="T1")],
        "QUANTITY_MISMATCH",
        ("QUANTITY_MISMATCH",),
        "337.66",
        erroneous="1.48",
        decomposition=("0.00", "0.00", "1.48", "0.00"),
        trip_id="T1",
        policy=MILES_HALF,
    ),
    Case(
        # 2% of 137.4 = 2.748; |140.1 - 137.4| = 2.7: E = 140.1 x 2.4575 = 344.29575 -> 344.30.
        "percent-inside",
        [_line(1, "0001", "2021-10-04", "140.1", "2.4575", "344.30", trip_ref="T1")],
        "MATCHED",
        ("WITHIN_TOLERANCE",),
        "344.30",
        decomposition=ZERO4,
        trip_id="T1",
        policy=MILES_2PCT,
    ),
    Case(
        # |140.2 - 137.4| = 2.8 > 2.748: 140.2 x 2.4575 = 344.5415 -> 344.54; 344.54 - 337.66.
        "percent-beyond",
        [_line(1, "0001", "2021-10-04", "140.2", "2.4575", "344.54", trip_ref="T1")],
        "QUANTITY_MISMATCH",
        ("QUANTITY_MISMATCH",),
        "337.66",
        erroneous="6.88",
        decomposition=("0.00", "0.00", "6.88", "0.00"),
        trip_id="T1",
        policy=MILES_2PCT,
    ),
    Case(
        # Accepted quantity 137.8 (E 338.64), but billed 338.00: 338.00 is no rounding of
        # 338.6435, so EXTENSION_ERROR -0.64; WITHIN_TOLERANCE comes after rows 8-14.
        "inside-with-extension-error",
        [_line(1, "0001", "2021-10-04", "137.8", "2.4575", "338.00", trip_ref="T1")],
        "EXTENSION_ERROR",
        ("EXTENSION_ERROR", "WITHIN_TOLERANCE"),
        "338.64",
        underbilled="0.64",
        decomposition=("-0.64", "0.00", "0.00", "0.00"),
        trip_id="T1",
        policy=MILES_HALF,
    ),
    Case(
        # A tolerance on another basis does not apply to loaded miles: 337.66 vs 338.64.
        "other-basis-not-applied",
        [_line(1, "0001", "2021-10-04", "137.8", "2.4575", "338.64", trip_ref="T1")],
        "QUANTITY_MISMATCH",
        ("QUANTITY_MISMATCH",),
        "337.66",
        erroneous="0.98",
        decomposition=("0.00", "0.00", "0.98", "0.00"),
        trip_id="T1",
        policy=Policy(tolerances={"wait_hours": Tolerance(value=Decimal("5"))}),
    ),
]

# The informational codes, after the status and rows 8-14, in DESIGN's order.
INFORMATIONAL = [
    Case(
        # No ref; T1 is the only trip near 2021-10-04 with 137.4 miles -> 337.66.
        "inferred-match",
        [_line(1, "0001", "2021-10-04", "137.4", "2.4575", "337.66")],
        "MATCHED",
        ("INFERRED_MATCH",),
        "337.66",
        decomposition=ZERO4,
        trip_id="T1",
        match="inferred",
    ),
    Case(
        # Dated a day after T1 ran: inferred within the ±1 day window, dates differ.
        "inferred-with-date-mismatch",
        [_line(1, "0001", "2021-10-05", "137.4", "2.4575", "337.66")],
        "MATCHED",
        ("INFERRED_MATCH", "SERVICE_DATE_MISMATCH"),
        "337.66",
        decomposition=ZERO4,
        trip_id="T1",
        match="inferred",
    ),
    Case(
        # T4 ran 2021-09-30 under P00003 (2.3950); the line is dated 2021-10-01 and billed at
        # P00004's 2.4575. The trip's date governs: E = 186.9 x 2.3950 = 447.6255 -> 447.63;
        # billed 186.9 x 2.4575 = 459.30675 -> 459.31; variance 11.68, price part.
        "service-date-mismatch-trip-date-governs",
        [_line(1, "0001", "2021-10-01", "186.9", "2.4575", "459.31", trip_ref="T4")],
        "RATE_MISMATCH",
        ("RATE_MISMATCH", "SERVICE_DATE_MISMATCH"),
        "447.63",
        erroneous="11.68",
        decomposition=("0.00", "11.68", "0.00", "0.00"),
        trip_id="T4",
        rule_id="M-P03",
    ),
    Case(
        # INV-A line 7 claims T1/0001. INV-B line 1 has no ref, and the same contract, CLIN,
        # (no) category and person, date and amount as INV-A line 7 (and as line 8, which is
        # later): unsupported, looks like INV-A line 7.
        "duplicate-candidate",
        [
            _line(7, "0001", "2021-10-04", "137.4", "2.4575", "337.66", "INV-A", trip_ref="T1"),
            # The line's own values are compared: dated 2021-10-04 though T2 ran 2021-10-11.
            _line(8, "0001", "2021-10-04", "137.4", "2.4575", "337.66", "INV-A", trip_ref="T2"),
            _line(1, "0001", "2021-10-04", "137.4", "2.4575", "337.66", "INV-B"),
        ],
        "UNSUPPORTED",
        ("UNSUPPORTED", "DUPLICATE_CANDIDATE"),
        "0.00",
        unsupported="337.66",
        match="none",
        invoice="INV-B",
        explains=("INV-A", "line 7"),
    ),
    Case(
        # INV-A line 1 bills 60.0 miles on 2021-11-01 against T1 (a wrong trip, but matched).
        # INV-B line 1, same values without a ref, ties T6 and T7: ambiguous, and looks like
        # INV-A line 1. 60.0 x 2.4575 = 147.45.
        "ambiguous-and-duplicate-candidate",
        [
            _line(1, "0001", "2021-11-01", "60.0", "2.4575", "147.45", "INV-A", trip_ref="T1"),
            _line(1, "0001", "2021-11-01", "60.0", "2.4575", "147.45", "INV-B"),
        ],
        "UNSUPPORTED",
        ("UNSUPPORTED", "AMBIGUOUS_MATCH", "DUPLICATE_CANDIDATE"),
        "0.00",
        unsupported="147.45",
        match="none",
        invoice="INV-B",
        explains=("INV-A", "line 1", "T6", "T7"),
    ),
    Case(
        # Inferred (within 0.5 of 137.4), a day off, and within tolerance, in DESIGN's order:
        # E = 137.8 x 2.4575 = 338.6435 -> 338.64.
        "inferred-date-and-tolerance-order",
        [_line(1, "0001", "2021-10-03", "137.8", "2.4575", "338.64")],
        "MATCHED",
        ("INFERRED_MATCH", "SERVICE_DATE_MISMATCH", "WITHIN_TOLERANCE"),
        "338.64",
        decomposition=ZERO4,
        trip_id="T1",
        match="inferred",
        policy=MILES_HALF,
    ),
]

ALL_CASES = UNPRICED + PRICED + TOLERANCE + INFORMATIONAL


def _ids(case: Case) -> str:
    return case.name


class TestUnpricedStatuses:
    """Rows 2-6: NO_RATE, UNSUPPORTED, NOT_PERFORMED, DUPLICATE, MISSING_MEASURE."""

    @pytest.mark.parametrize("case", UNPRICED, ids=_ids)
    def test_status_findings_ledgers(self, case: Case) -> None:
        """The line gets its status, findings, E = 0, its ledger and no decomposition."""
        actual = _result(_report_of(case), case.line_no, case.invoice)

        assert case.outcome() == _outcome(actual)

    @pytest.mark.parametrize("case", [c for c in UNPRICED if c.explains], ids=_ids)
    def test_explanation_names_the_evidence(self, case: Case) -> None:
        """The explanation names the tied candidate trips."""
        actual = _result(_report_of(case), case.line_no, case.invoice).explanation

        assert all(word in actual for word in case.explains), actual

    def test_duplicate_first_line_is_matched(self) -> None:
        """Of two lines billing the same charge, the first is MATCHED and keeps the claim."""
        case = next(c for c in UNPRICED if c.name == "duplicate-same-charge-twice")

        first = _result(_report_of(case), 1)

        expected = ("MATCHED", D("187.50"))
        assert expected == (first.status.value, first.expected)


class TestPricedStatuses:
    """Rows 7-14: MATCHED and the priced differences, with their decomposition."""

    @pytest.mark.parametrize("case", PRICED, ids=_ids)
    def test_status_findings_ledgers(self, case: Case) -> None:
        """The line gets its status, findings in table order, E, ledgers and decomposition."""
        actual = _result(_report_of(case), case.line_no, case.invoice)

        assert case.outcome() == _outcome(actual)

    @pytest.mark.parametrize("case", PRICED, ids=_ids)
    def test_rule_is_cited(self, case: Case) -> None:
        """The result names the rule that priced it (the roster category's, for labor)."""
        actual = _result(_report_of(case), case.line_no, case.invoice)

        assert case.rule_id == actual.rule_id


class TestTolerance:
    """WITHIN_TOLERANCE: absolute and percent tolerances; E uses the billed quantity."""

    @pytest.mark.parametrize("case", TOLERANCE, ids=_ids)
    def test_tolerance_edges(self, case: Case) -> None:
        """A billed quantity within tolerance is accepted as billed; beyond it, it is not."""
        actual = _result(_report_of(case), case.line_no, case.invoice)

        assert case.outcome() == _outcome(actual)


class TestInformationalFindings:
    """INFERRED_MATCH, AMBIGUOUS_MATCH, SERVICE_DATE_MISMATCH, DUPLICATE_CANDIDATE."""

    @pytest.mark.parametrize("case", INFORMATIONAL, ids=_ids)
    def test_informational_codes(self, case: Case) -> None:
        """Informational codes follow the status and rows 8-14, in DESIGN's order."""
        actual = _result(_report_of(case), case.line_no, case.invoice)

        assert case.outcome() == _outcome(actual)

    @pytest.mark.parametrize("case", [c for c in INFORMATIONAL if c.explains], ids=_ids)
    def test_explanation_names_the_earlier_line(self, case: Case) -> None:
        """A DUPLICATE_CANDIDATE explanation names the earliest such line's invoice and number."""
        actual = _result(_report_of(case), case.line_no, case.invoice).explanation

        assert all(word in actual for word in case.explains), actual
        assert "line 8" not in actual

    def test_rule_of_the_trip_date_is_cited(self) -> None:
        """With SERVICE_DATE_MISMATCH the rule in force on the trip's date is cited."""
        case = next(c for c in INFORMATIONAL if c.rule_id is not None)

        actual = _result(_report_of(case), case.line_no, case.invoice)

        assert case.rule_id == actual.rule_id

    def test_different_amount_is_no_duplicate_candidate(self) -> None:
        """An unmatched line whose amount differs from the matched line's is no candidate."""
        report = _run(
            [
                _line(1, "0001", "2021-10-04", "137.4", "2.4575", "337.66", trip_ref="T1"),
                _line(2, "0001", "2021-10-04", "137.4", "2.4575", "337.67"),
            ]
        )

        actual = _result(report, 2).findings

        expected = ("UNSUPPORTED",)
        assert expected == actual


class TestLaborDuplicates:
    """Labor charges are per roster person: overlapping persons duplicate, others do not."""

    def test_two_persons_on_one_trip_are_not_duplicates(self) -> None:
        """P1 (2.30 h -> 112.125 -> 112.13) and P2 (1.50 h -> 73.125 -> 73.13) both match."""
        report = _run(
            [
                _labor(1, "2.30", "48.75", "112.13", "TO", "P1"),
                _labor(2, "1.50", "48.75", "73.13", "TO", "P2"),
            ]
        )

        actual = [(r.status.value, r.expected) for r in report.lines]

        expected = [("MATCHED", D("112.13")), ("MATCHED", D("73.13"))]
        assert expected == actual

    def test_whole_category_duplicates_a_later_person_line(self) -> None:
        """TO for everyone (9.30 h x 48.75 = 453.375 -> 453.38) then P1 again: P1 is DUPLICATE."""
        report = _run(
            [
                _labor(1, "9.30", "48.75", "453.38", "TO"),
                _labor(2, "2.30", "48.75", "112.13", "TO", "P1"),
            ]
        )

        actual = [(r.status.value, r.findings, r.expected, r.erroneous) for r in report.lines]

        expected = [
            ("MATCHED", (), D("453.38"), D("0.00")),
            ("DUPLICATE", ("DUPLICATE",), D("0.00"), D("112.13")),
        ]
        assert expected == actual

    def test_duplicate_line_claims_nothing(self) -> None:
        """P1, then all of TO (a DUPLICATE, claiming nothing), then P2: P2 still matches."""
        report = _run(
            [
                _labor(1, "2.30", "48.75", "112.13", "TO", "P1"),
                _labor(2, "9.30", "48.75", "453.38", "TO"),
                _labor(3, "1.50", "48.75", "73.13", "TO", "P2"),
            ]
        )

        actual = [r.status.value for r in report.lines]

        expected = ["MATCHED", "DUPLICATE", "MATCHED"]
        assert expected == actual

    def test_other_category_is_not_a_duplicate(self) -> None:
        """All of TO, then P4 as STO (3.00 h x 62.40 = 187.20): different persons, no overlap."""
        report = _run(
            [
                _labor(1, "9.30", "48.75", "453.38", "TO"),
                _labor(2, "3.00", "62.40", "187.20", "STO", "P4"),
            ]
        )

        actual = [(r.status.value, r.expected) for r in report.lines]

        expected = [("MATCHED", D("453.38")), ("MATCHED", D("187.20"))]
        assert expected == actual


class TestInvalid:
    """INVALID lines: counted, but in no ledger, no claim and no footing."""

    LINES: ClassVar = [
        # 187.505 has 3 places: a malformed amount, INVALID.
        _line(1, "0003", "2021-10-04", "1", "187.50", "187.505", trip_ref="T1"),
        _line(2, "0003", "2021-10-04", "1", "187.50", "187.50", trip_ref="T1"),
    ]
    # The header total is the valid line's 187.50 only: no FOOTING_ERROR.
    HEADER: ClassVar = [
        {"invoice_id": "INV-1", "contract_id": C, "invoice_date": "2021-10-06", "total": "187.50"}
    ]

    def _report(self) -> Report:
        return _run(self.LINES, invoices=self.HEADER)

    def test_invalid_result_has_no_money_and_no_match(self) -> None:
        """The INVALID line has no amounts, no trip, match none, no decomposition."""
        r = _result(self._report(), 1)

        actual = (
            r.status.value,
            r.findings,
            (r.billed, r.expected, r.variance, r.erroneous, r.unsupported, r.underbilled),
            r.trip_id,
            r.match,
            r.decomposition,
        )

        expected = ("INVALID", ("INVALID",), (None,) * 6, None, "none", None)
        assert expected == actual

    def test_invalid_line_claims_nothing(self) -> None:
        """A later valid line billing the same charge is MATCHED, not DUPLICATE."""
        actual = _result(self._report(), 2).status.value

        expected = "MATCHED"
        assert expected == actual

    def test_invalid_line_is_counted_but_in_no_ledger(self) -> None:
        """Counts include the INVALID line; billed and expected hold only the 187.50."""
        report = self._report()

        actual = (
            report.counts[Status.INVALID],
            report.counts[Status.MATCHED],
            report.ledgers.billed,
            report.ledgers.expected,
        )

        expected = (1, 1, D("187.50"), D("187.50"))
        assert expected == actual

    def test_invalid_line_takes_no_part_in_footing(self) -> None:
        """The header total equals the valid lines' sum: no invoice finding."""
        actual = self._report().invoices

        expected: tuple[object, ...] = ()
        assert expected == actual

    def test_invalid_row_has_empty_money_in_results_csv(self, tmp_path: Path) -> None:
        """results.csv leaves the money columns and trip_id empty and says match none."""
        self._report().write(tmp_path)
        with (tmp_path / "results.csv").open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        money = ("billed", "expected", "variance", "erroneous", "unsupported", "underbilled")

        actual = (
            rows[0]["status"],
            [rows[0][m] for m in money],
            rows[0]["trip_id"],
            rows[0]["match"],
        )

        expected = ("INVALID", [""] * 6, "", "none")
        assert expected == actual


class TestIdentities:
    """Ledger identity and decomposition sums on every classified line (DESIGN section 5)."""

    @pytest.mark.parametrize("case", ALL_CASES, ids=_ids)
    def test_variance_is_erroneous_plus_unsupported_minus_underbilled(self, case: Case) -> None:
        """variance = A - E = erroneous + unsupported - underbilled on every non-INVALID line."""
        report = _report_of(case)

        for r in report.lines:
            assert r.billed is not None and r.expected is not None and r.variance is not None
            assert r.erroneous is not None and r.unsupported is not None
            assert r.underbilled is not None
            assert r.billed - r.expected == r.variance
            assert r.erroneous + r.unsupported - r.underbilled == r.variance

    @pytest.mark.parametrize("case", ALL_CASES, ids=_ids)
    def test_decomposition_sums_to_the_variance(self, case: Case) -> None:
        """The four decomposition parts add up to the variance to the cent."""
        report = _report_of(case)

        for r in report.lines:
            if r.decomposition is not None:
                assert r.variance == sum(r.decomposition, Decimal("0.00"))

    @pytest.mark.parametrize("case", ALL_CASES, ids=_ids)
    def test_no_amount_in_two_ledgers(self, case: Case) -> None:
        """At most one of erroneous, unsupported and underbilled is non-zero on a line."""
        report = _report_of(case)

        for r in report.lines:
            parts = (r.erroneous, r.unsupported, r.underbilled)
            assert sum(1 for p in parts if p) <= 1
