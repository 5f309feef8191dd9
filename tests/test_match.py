"""Tests of the match stage: processing order, exact and inferred matching, claims, unbilled.

Inputs are tiny and built in memory; what each line should match is reasoned out by hand from
DESIGN section 5 ("Processing order", "Matching") in the comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from ice_recon import Policy, Report, Tolerance, load_files, reconcile
from ice_recon.report import LineResult

C = "HSCEMD-19-C-00012"
K = "70CDCR-20-C-00007"  # sorts before C as a string


def _rate(clin: str, basis: str, rate: str, **extra: str) -> dict[str, str]:
    row = {
        "contract_id": C,
        "clin": clin,
        "basis": basis,
        "rate": rate,
        "start": "2021-10-01",
        "end": "2022-03-31",
    }
    row.update(extra)
    return row


RATES = [
    _rate("0001", "loaded_miles", "2.4575", minimum_amount="150.00"),
    _rate("0003", "trip", "187.50"),
    _rate("0004", "labor_hours", "48.75", labor_category="TO"),
    _rate("0005", "cancellation", "250.00"),
]


def _trip(
    trip_id: str, day: str, miles: str = "", contract: str = C, **extra: str
) -> dict[str, str]:
    row = {"trip_id": trip_id, "contract_id": contract, "service_date": day, "loaded_miles": miles}
    row.update(extra)
    return row


TRIPS = [
    _trip("T1", "2021-10-04", "137.4", origin="PIDC", destination="KHRL"),
    _trip("K1", "2021-10-04", "137.4", contract=K),  # same day and miles, another contract
    _trip("T2", "2021-10-11", "41.2"),  # origin and destination not recorded
    _trip("T4", "2021-09-30", "186.9"),  # before every rule's window
    _trip("T5", "2021-10-25", "50.0", status="cancelled"),
    _trip("T6", "2021-11-01", "60.0", origin="PIDC"),
    _trip("T7", "2021-11-01", "60.0", origin="RGVPC"),
    _trip("T8", "2021-11-08", "90.0"),
    # For "best candidate": A by quantity, B by date, C quantity before date.
    _trip("A1", "2021-12-01", "100.0"),
    _trip("A2", "2021-12-01", "100.5"),
    _trip("B1", "2021-12-10", "100.0"),
    _trip("B2", "2021-12-11", "100.0"),
    _trip("C1", "2021-12-20", "100.3"),
    _trip("C2", "2021-12-21", "100.0"),
]

STAFF = [
    {"trip_id": "T8", "contract_id": C, "person_id": p, "labor_category": "TO", "hours": h}
    for p, h in (("P1", "2.30"), ("P2", "1.50"))
]


def _line(
    no: int,
    clin: str,
    day: str,
    quantity: str,
    amount: str,
    invoice: str = "INV-1",
    contract: str = C,
    **extra: str,
) -> dict[str, str]:
    row = {
        "invoice_id": invoice,
        "line_no": str(no),
        "contract_id": contract,
        "clin": clin,
        "service_date": day,
        "quantity": quantity,
        "unit_price": "1",
        "amount": amount,
    }
    row.update(extra)
    return row


def _miles(no: int, day: str, miles: str, invoice: str = "INV-1", **extra: str) -> dict[str, str]:
    """Return a CLIN 0001 line; its amount does not matter for matching."""
    return _line(no, "0001", day, miles, "200.00", invoice, unit_price="2.4575", **extra)


def _labor(no: int, person: str, hours: str, **extra: str) -> dict[str, str]:
    """Return a TO labor line for *person* on 2021-11-08 (T8's date)."""
    return _line(
        no, "0004", "2021-11-08", hours, "100.00", labor_category="TO", person_id=person, **extra
    )


def _run(
    lines: list[dict[str, str]],
    *,
    trips: list[dict[str, str]] | None = None,
    invoices: list[dict[str, str]] | None = None,
    policy: Policy | None = None,
    rates: list[dict[str, str]] | None = None,
    fuel_rules: list[dict[str, str]] | None = None,
    fuel_index: list[dict[str, str]] | None = None,
) -> Report:
    inputs = load_files(
        rates=RATES if rates is None else rates,
        manifests=TRIPS if trips is None else trips,
        staff=STAFF,
        invoice_lines=lines,
        invoices=[] if invoices is None else invoices,
        fuel_rules=fuel_rules,
        fuel_index=fuel_index,
    )
    return reconcile(inputs, policy=policy)


def _result(report: Report, line_no: int, invoice: str = "INV-1") -> LineResult:
    return next(r for r in report.lines if (r.invoice_id, r.line_no) == (invoice, line_no))


def _header(invoice: str, day: str, contract: str = C) -> dict[str, str]:
    return {"invoice_id": invoice, "contract_id": contract, "invoice_date": day}


def _keys(report: Report) -> list[tuple[str, str, int | None]]:
    return [(r.contract_id, r.invoice_id, r.line_no) for r in report.lines]


class TestProcessingOrder:
    """Lines are processed by (invoice_date, contract_id, invoice_id, line_no)."""

    HEADERS = (
        _header("INV-Z", "2021-10-05"),
        _header("INV-Q", "2021-10-05", K),
        _header("INV-A", "2021-10-20"),
        _header("INV-9", "2021-10-20"),
        _header("INV-10", "2021-10-20"),
        # Two headers: the earliest date (2021-10-01) places the invoice.
        _header("INV-M", "2021-10-25"),
        _header("INV-M", "2021-10-01"),
    )
    # CLIN 0008 has no rule: every line is NO_RATE, which does not matter for the order.
    LINES = (
        _line(10, "0008", "2021-10-04", "1", "1.00", "INV-A"),
        _line(1, "0008", "2021-10-04", "1", "1.00", "INV-U"),  # no header
        _line(9, "0008", "2021-10-04", "1", "1.00", "INV-A"),
        _line(1, "0008", "2021-10-04", "1", "1.00", "INV-B", K),  # no header
        _line(1, "0008", "2021-10-04", "1", "1.00", "INV-9"),
        _line(2, "0008", "2021-10-04", "1", "1.00", "INV-A"),
        _line(1, "0008", "2021-10-04", "1", "1.00", "INV-10"),
        _line(1, "0008", "2021-10-04", "1", "1.00", "INV-Z"),
        _line(1, "0008", "2021-10-04", "1", "1.00", "INV-Q", K),
        _line(1, "0008", "2021-10-04", "1", "1.00", "INV-M"),
    )
    # By hand: INV-M (2021-10-01); on 2021-10-05 K before C; on 2021-10-20 the ids as
    # strings "INV-10" < "INV-9" < "INV-A", INV-A's lines 2, 9, 10 as numbers; then the
    # undated invoices, K's before C's.
    EXPECTED = (
        (C, "INV-M", 1),
        (K, "INV-Q", 1),
        (C, "INV-Z", 1),
        (C, "INV-10", 1),
        (C, "INV-9", 1),
        (C, "INV-A", 2),
        (C, "INV-A", 9),
        (C, "INV-A", 10),
        (K, "INV-B", 1),
        (C, "INV-U", 1),
    )

    def test_order_of_results(self) -> None:
        """Results come in processing order, whatever the order of the rows."""
        report = _run(list(self.LINES), invoices=list(self.HEADERS))

        actual = _keys(report)

        expected = list(self.EXPECTED)
        assert expected == actual

    def test_row_order_does_not_matter(self) -> None:
        """Reversing the invoice_lines and invoices rows gives the same order."""
        report = _run(list(reversed(self.LINES)), invoices=list(reversed(self.HEADERS)))

        actual = _keys(report)

        expected = list(self.EXPECTED)
        assert expected == actual

    def test_earlier_invoice_date_claims_first(self) -> None:
        """INV-Z (dated 2021-10-05) claims T1's fee before INV-A (2021-10-20): A is DUPLICATE."""
        lines = [
            _line(
                1, "0003", "2021-10-04", "1", "187.50", "INV-A", trip_ref="T1", unit_price="187.50"
            ),
            _line(
                1, "0003", "2021-10-04", "1", "187.50", "INV-Z", trip_ref="T1", unit_price="187.50"
            ),
        ]
        headers = [_header("INV-A", "2021-10-20"), _header("INV-Z", "2021-10-05")]
        report = _run(lines, invoices=headers)

        actual = {r.invoice_id: r.status.value for r in report.lines}

        expected = {"INV-Z": "MATCHED", "INV-A": "DUPLICATE"}
        assert expected == actual


class TestExactMatch:
    """A trip_ref naming a trip of the line's contract matches it exactly."""

    def test_ref_is_stripped_and_upper_cased(self) -> None:
        """The ref " t1 " names trip T1."""
        report = _run([_miles(1, "2021-10-04", "137.4", trip_ref=" t1 ")])

        r = _result(report, 1)

        expected = ("T1", "exact")
        assert expected == (r.trip_id, r.match)

    def test_trip_id_is_upper_cased(self) -> None:
        """A manifest trip "t9" is trip T9 and matches the ref "T9"."""
        trips = [_trip("t9", "2021-10-04", "137.4")]
        report = _run([_miles(1, "2021-10-04", "137.4", trip_ref="T9")], trips=trips)

        r = _result(report, 1)

        expected = ("T9", "exact")
        assert expected == (r.trip_id, r.match)

    def test_ref_to_another_contracts_trip_falls_back_to_inference(self) -> None:
        """K1 is a trip of contract K, not C: the C line is inferred to T1 instead."""
        report = _run([_miles(1, "2021-10-04", "137.4", trip_ref="K1")])

        r = _result(report, 1)

        expected = ("T1", "inferred", "INFERRED_MATCH")
        assert expected == (r.trip_id, r.match, r.findings[-1])

    def test_unusable_ref_without_candidate_is_unsupported(self) -> None:
        """Ref K1 on a day when no C trip has 50.0 miles: UNSUPPORTED, match none."""
        report = _run([_miles(1, "2021-10-04", "50.0", trip_ref="K1")])

        r = _result(report, 1)

        expected = ("UNSUPPORTED", None, "none")
        assert expected == (r.status.value, r.trip_id, r.match)

    def test_exact_matches_come_before_inference(self) -> None:
        """INV-A line 1 (no ref) is processed first, yet INV-B's exact ref claims T1 first."""
        lines = [
            _miles(1, "2021-10-04", "137.4", "INV-A"),
            _miles(1, "2021-10-04", "137.4", "INV-B", trip_ref="T1"),
        ]
        report = _run(lines)

        actual = [(r.invoice_id, r.trip_id, r.match) for r in report.lines]

        expected = [("INV-A", None, "none"), ("INV-B", "T1", "exact")]
        assert expected == actual


HALF_MILE = Policy(tolerances={"loaded_miles": Tolerance(value=Decimal("0.5"))})
ONE_MILE = Policy(tolerances={"loaded_miles": Tolerance(value=Decimal("1"))})


@dataclass(frozen=True)
class Inference:
    """One line without a ref and the trip it should be inferred to (None: no match)."""

    name: str
    line: dict[str, str]
    trip: str | None
    policy: Policy | None = None


INFERENCE = [
    # Window ±1 day by default around T1 (2021-10-04); K1 (contract K) is never a candidate.
    Inference("same-day", _miles(1, "2021-10-04", "137.4"), "T1"),
    Inference("one-day-before", _miles(1, "2021-10-03", "137.4"), "T1"),
    Inference("one-day-after", _miles(1, "2021-10-05", "137.4"), "T1"),
    Inference("two-days-after", _miles(1, "2021-10-06", "137.4"), None),
    Inference("two-days-before", _miles(1, "2021-10-02", "137.4"), None),
    Inference("window-2", _miles(1, "2021-10-06", "137.4"), "T1", Policy(window_days=2)),
    Inference("window-0-same-day", _miles(1, "2021-10-04", "137.4"), "T1", Policy(window_days=0)),
    Inference("window-0-next-day", _miles(1, "2021-10-05", "137.4"), None, Policy(window_days=0)),
    # Origin and destination, when the line gives them.
    Inference("origin-same", _miles(1, "2021-10-04", "137.4", origin="PIDC"), "T1"),
    Inference("origin-differs", _miles(1, "2021-10-04", "137.4", origin="RGVPC"), None),
    Inference("destination-same", _miles(1, "2021-10-04", "137.4", destination="KHRL"), "T1"),
    Inference("destination-differs", _miles(1, "2021-10-04", "137.4", destination="LRDPC"), None),
    # T2 recorded no origin: no candidate for a line that gives one.
    Inference("origin-not-recorded", _miles(1, "2021-10-11", "41.2", origin="PIDC"), None),
    Inference("no-origin-given", _miles(1, "2021-10-11", "41.2"), "T2"),
    # T5 was cancelled: a candidate for the cancellation CLIN only.
    Inference("cancelled-for-mileage", _miles(1, "2021-10-25", "50.0"), None),
    Inference("cancelled-for-fee", _line(1, "0005", "2021-10-25", "1", "250.00"), "T5"),
    # The billed quantity must equal the billable quantity (137.4) by default.
    Inference("quantity-differs", _miles(1, "2021-10-04", "137.5"), None),
    Inference("quantity-other-scale", _miles(1, "2021-10-04", "137.40"), "T1"),
    Inference("quantity-within-tolerance", _miles(1, "2021-10-04", "137.8"), "T1", HALF_MILE),
    Inference("quantity-beyond-tolerance", _miles(1, "2021-10-04", "138.0"), None, HALF_MILE),
    # T4 ran 2021-09-30, before CLIN 0001's window: no rule on the trip's date.
    Inference("no-rule-on-trip-date", _miles(1, "2021-10-01", "186.9"), None),
    # A1 differs by 0.4, A2 by 0.1: A2.
    Inference("smallest-quantity-difference", _miles(1, "2021-12-01", "100.4"), "A2", ONE_MILE),
    # B1 a day off, B2 the same day, both exactly 100.0: B2.
    Inference("smallest-date-distance", _miles(1, "2021-12-11", "100.0"), "B2"),
    # C1 same day but 0.3 off, C2 a day off but exact: the quantity decides first, C2.
    Inference("quantity-before-date", _miles(1, "2021-12-20", "100.0"), "C2", HALF_MILE),
]


class TestInference:
    """Lines without a usable ref are matched to the best unclaimed candidate trip."""

    @pytest.mark.parametrize("case", INFERENCE, ids=lambda c: c.name)
    def test_candidate(self, case: Inference) -> None:
        """The line is inferred to the expected trip, or left unmatched."""
        r = _result(_run([case.line], policy=case.policy), 1)

        actual = (r.trip_id, r.match)

        expected = (case.trip, "none" if case.trip is None else "inferred")
        assert expected == actual

    def test_tie_is_ambiguous_and_claims_nothing(self) -> None:
        """Line 1 ties T6 and T7; line 2 (origin PIDC) gets T6 and line 3 then gets T7."""
        lines = [
            _miles(1, "2021-11-01", "60.0"),
            _miles(2, "2021-11-01", "60.0", origin="PIDC"),
            _miles(3, "2021-11-01", "60.0"),
        ]
        report = _run(lines)

        actual = [(r.trip_id, r.match, "AMBIGUOUS_MATCH" in r.findings) for r in report.lines]

        expected = [(None, "none", True), ("T6", "inferred", False), ("T7", "inferred", False)]
        assert expected == actual

    def test_ambiguous_candidates_stay_unbilled(self) -> None:
        """An ambiguous line alone claims neither T6 nor T7."""
        trips = [t for t in TRIPS if t["trip_id"] in {"T6", "T7"}]
        report = _run([_miles(1, "2021-11-01", "60.0")], trips=trips)

        actual = [u.trip_id for u in report.unbilled]

        expected = ["T6", "T7"]
        assert expected == actual

    def test_claimed_charge_is_no_candidate(self) -> None:
        """T1's 0001 charge is claimed by line 1; line 2 finds nothing, but 0003 on T1 is free."""
        lines = [
            _miles(1, "2021-10-04", "137.4", trip_ref="T1"),
            _miles(2, "2021-10-04", "137.4"),
            _line(3, "0003", "2021-10-04", "1", "187.50"),
        ]
        report = _run(lines)

        actual = [(r.line_no, r.trip_id, r.match) for r in report.lines]

        expected = [(1, "T1", "exact"), (2, None, "none"), (3, "T1", "inferred")]
        assert expected == actual

    def test_claimed_labor_person_is_no_candidate(self) -> None:
        """P1 on T8 is claimed by line 1: P2 can still be inferred to T8, P1 again cannot."""
        lines = [
            _labor(1, "P1", "2.30", trip_ref="T8"),
            _labor(2, "P2", "1.50"),
            _labor(3, "P1", "2.30"),
        ]
        report = _run(lines)

        actual = [(r.line_no, r.trip_id, r.match) for r in report.lines]

        expected = [(1, "T8", "exact"), (2, "T8", "inferred"), (3, None, "none")]
        assert expected == actual


class TestCancellationFeesInferOnCancelledTrips:
    """For a ``cancellation`` CLIN the inference candidates are cancelled trips, only those.

    CLIN 0005 bills a 250.00 fee per cancelled trip. T1 (2021-10-04) is completed, T5
    (2021-10-25) is cancelled; X1 is a completed trip on T5's day.
    """

    @staticmethod
    def _fee(no: int, day: str, **extra: str) -> dict[str, str]:
        return _line(no, "0005", day, "1", "250.00", unit_price="250.00", **extra)

    def test_completed_trip_never_supports_a_fee_by_inference(self) -> None:
        """Only T1 (completed) is in the window: no candidate, UNSUPPORTED, T1 unbilled."""
        trips = [t for t in TRIPS if t["trip_id"] == "T1"]
        report = _run([self._fee(1, "2021-10-04")], trips=trips)
        r = _result(report, 1)

        actual = (r.status.value, r.trip_id, r.match, [u.trip_id for u in report.unbilled])

        expected = ("UNSUPPORTED", None, "none", ["T1"])
        assert expected == actual

    def test_cancelled_trip_is_the_only_candidate(self) -> None:
        """X1 (completed) and T5 (cancelled) share the day: T5 alone, so no ambiguity."""
        trips = [_trip("X1", "2021-10-25", "50.0"), *[t for t in TRIPS if t["trip_id"] == "T5"]]
        r = _result(_run([self._fee(1, "2021-10-25")], trips=trips), 1)

        actual = (r.status.value, r.trip_id, r.match, "AMBIGUOUS_MATCH" in r.findings)

        expected = ("MATCHED", "T5", "inferred", False)
        assert expected == actual

    def test_fee_by_reference_on_a_completed_trip_is_not_performed(self) -> None:
        """By reference the line is matched to T1 whatever its status: row 4 applies."""
        r = _result(_run([self._fee(1, "2021-10-04", trip_ref="T1")]), 1)

        actual = (r.status.value, r.trip_id, r.match)

        expected = ("NOT_PERFORMED", "T1", "exact")
        assert expected == actual


class TestClaims:
    """A trip is claimed by any matched non-INVALID line; all other trips are unbilled."""

    TRIPS = (
        _trip("T1", "2021-10-04", "137.4"),
        _trip("T2", "2021-10-11", "41.2"),
        _trip("T5", "2021-10-25", "50.0", status="cancelled"),
        _trip("T6", "2021-11-01", "60.0"),
        _trip("T9", "2021-11-15", "95.0"),
        _trip("K1", "2021-10-04", "137.4", contract=K),
        _trip("K2", "2021-10-26", "", contract=K, status="cancelled"),
    )

    def _unbilled(self, lines: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
        report = _run(lines, trips=list(self.TRIPS))
        return [
            (u.contract_id, u.trip_id, u.service_date.isoformat(), u.status)
            for u in report.unbilled
        ]

    def test_no_lines_every_trip_unbilled_sorted(self) -> None:
        """Without lines every trip is unbilled, cancelled ones included, sorted by contract."""
        actual = self._unbilled([_line(1, "0008", "2021-12-31", "1", "1.00")])

        expected = [
            (K, "K1", "2021-10-04", "completed"),
            (K, "K2", "2021-10-26", "cancelled"),
            (C, "T1", "2021-10-04", "completed"),
            (C, "T2", "2021-10-11", "completed"),
            (C, "T5", "2021-10-25", "cancelled"),
            (C, "T6", "2021-11-01", "completed"),
            (C, "T9", "2021-11-15", "completed"),
        ]
        assert expected == actual

    def test_any_status_claims_the_trip(self) -> None:
        """NOT_PERFORMED (T5), NO_RATE (T2), MISSING_MEASURE (T6), DUPLICATE (T1) all claim."""
        lines = [
            _miles(1, "2021-10-25", "50.0", trip_ref="T5"),  # cancelled trip, mileage CLIN
            _line(2, "0008", "2021-10-11", "1", "18.50", trip_ref="T2"),  # CLIN without rule
            _line(3, "0004", "2021-11-01", "2.00", "97.50", trip_ref="T6", labor_category="TO"),
            _line(4, "0003", "2021-10-04", "1", "187.50", trip_ref="T1"),
            _line(5, "0003", "2021-10-04", "1", "187.50", trip_ref="T1"),  # DUPLICATE
        ]
        report = _run(lines, trips=list(self.TRIPS))

        statuses = [r.status.value for r in report.lines]
        actual = (statuses, [u.trip_id for u in report.unbilled])

        expected = (
            ["NOT_PERFORMED", "NO_RATE", "UNSUPPORTED", "MATCHED", "DUPLICATE"],
            ["K1", "K2", "T9"],
        )
        assert expected == actual

    def test_trip_matched_only_by_invalid_line_is_unbilled(self) -> None:
        """T9's only line is INVALID (amount with 3 places): T9 stays unbilled."""
        lines = [_line(1, "0003", "2021-11-15", "1", "187.505", trip_ref="T9")]

        actual = [t for _, t, _, _ in self._unbilled(lines)]

        expected = ["K1", "K2", "T1", "T2", "T5", "T6", "T9"]
        assert expected == actual

    def test_inferred_trip_is_claimed(self) -> None:
        """A trip matched by inference is claimed, not unbilled."""
        actual = [t for _, t, _, _ in self._unbilled([_miles(1, "2021-10-11", "41.2")])]

        expected = ["K1", "K2", "T1", "T5", "T6", "T9"]
        assert expected == actual


class TestCandidatePairs:
    """``Report.stats["candidate_pairs"]`` counts the (line, trip) pairs inference examined."""

    TRIPS = (
        _trip("S0", "2022-01-10", "10.0"),
        _trip("S1", "2022-01-11", "11.0"),
        _trip("S2", "2022-01-12", "12.0"),
        _trip("S3", "2022-01-14", "14.0"),  # three days from 2022-01-11: outside the window
        _trip("KS", "2022-01-11", "11.0", contract=K),  # another contract
    )

    @pytest.mark.parametrize(
        ("lines", "policy", "pairs"),
        [
            # Miles billed as recorded: only trips whose miles equal the billed 11.0 are
            # looked up, by key, within +-1 day and the line's contract: S1 alone.
            ([_miles(1, "2022-01-11", "11.0")], None, 1),
            # 11.00 is the same quantity as 11.0.
            ([_miles(1, "2022-01-11", "11.00")], None, 1),
            # No trip recorded 999.0 miles: nothing is examined.
            ([_miles(1, "2022-01-11", "999.0")], None, 0),
            # Two lines, one pair each (S1 and S2).
            ([_miles(1, "2022-01-11", "11.0"), _miles(2, "2022-01-11", "12.0")], None, 2),
            # Window 0: S2 (2022-01-12) is out of reach of a line dated 2022-01-11.
            ([_miles(1, "2022-01-11", "12.0")], Policy(window_days=0), 0),
            # An exact match is no inference: 0 pairs.
            ([_miles(1, "2022-01-11", "11.0", trip_ref="S1")], None, 0),
        ],
        ids=["one-line", "other-scale", "no-such-miles", "two-lines", "window-0", "exact-only"],
    )
    def test_pairs(self, lines: list[dict[str, str]], policy: Policy | None, pairs: int) -> None:
        """Candidate pairs are the trips looked up by key: same contract, window, quantity."""
        report = _run(lines, trips=list(self.TRIPS), policy=policy)

        actual = report.stats["candidate_pairs"]

        assert pairs == actual


class TestInferenceNeedsOnlyTheQuantity:
    """A candidate needs a rule and a billable quantity; missing price evidence is row 6."""

    def test_tiered_cancellation_without_notice_hours(self) -> None:
        """A cancelled trip without notice hours (quantity 1) is inferred, then MISSING_MEASURE."""
        rates = [
            _rate("0005", "cancellation", "500.00", tier_from="0", tier_mode="all_units"),
            _rate("0005", "cancellation", "250.00", tier_from="24", tier_mode="all_units"),
        ]
        trips = [_trip("TC", "2021-10-25", status="cancelled")]
        line = _line(1, "0005", "2021-10-25", "1", "500.00", unit_price="500.00")
        report = _run([line], trips=trips, rates=rates)

        r = _result(report, 1)
        actual = (r.status.value, r.findings, r.trip_id, r.match, len(report.unbilled))

        expected = ("UNSUPPORTED", ("UNSUPPORTED", "MISSING_MEASURE", "INFERRED_MATCH"), "TC",
                    "inferred", 0)  # fmt: skip
        assert expected == actual

    def test_fuel_rule_without_index_week(self) -> None:
        """A trip with 100.0 miles but no index week for its date is inferred, then row 6."""
        fuel_rules = [
            {"contract_id": C, "clin": "0007", "start": "2021-10-01", "end": "2022-03-31",
             "base_price": "2.500", "mpg": "6.0", "series": "S"}
        ]  # fmt: skip
        # Only the week of 2021-10-04 is published; the trip ran in the week of 2021-10-25.
        fuel_index = [{"series": "S", "week": "2021-10-04", "price": "3.472"}]
        trips = [_trip("TF", "2021-10-25", "100.0")]
        line = _line(1, "0007", "2021-10-25", "100.0", "16.00", unit_price="0.16")
        report = _run([line], trips=trips, fuel_rules=fuel_rules, fuel_index=fuel_index)

        r = _result(report, 1)
        actual = (r.status.value, r.findings, r.trip_id, r.match, len(report.unbilled))

        expected = ("UNSUPPORTED", ("UNSUPPORTED", "MISSING_MEASURE", "INFERRED_MATCH"), "TF",
                    "inferred", 0)  # fmt: skip
        assert expected == actual
