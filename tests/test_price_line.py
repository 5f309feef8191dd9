"""Tests of ``price_line``: pricing a billed line against its trip, labor categories included."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ice_recon import build, load_files
from ice_recon.load import Inputs
from ice_recon.price import LinePricing, MissingEvidence, Pricing, price_line

C = "HSCEMD-19-C-00012"


def _rate(clin: str, basis: str, rate: str, category: str = "", **extra: str) -> dict[str, str]:
    row = {
        "contract_id": C,
        "clin": clin,
        "basis": basis,
        "rate": rate,
        "start": "2021-10-01",
        "end": "2022-09-30",
        "labor_category": category,
    }
    row.update(extra)
    return row


RATES = [
    _rate("0001", "loaded_miles", "2.4575", minimum_amount="150.00"),
    _rate("0004", "labor_hours", "48.75", "TO"),
    _rate("0004", "labor_hours", "62.40", "STO"),
    _rate("0009", "labor_hours", "40.00"),  # no category: any category, every person
]
TRIPS = [
    {"trip_id": "T1", "contract_id": C, "service_date": "2021-10-04", "loaded_miles": "137.4"},
    {"trip_id": "T2", "contract_id": C, "service_date": "2021-10-05", "loaded_miles": ""},
]
STAFF = [
    {"trip_id": "T1", "contract_id": C, "person_id": "P1", "labor_category": "TO", "hours": "2.30"},
    {"trip_id": "T1", "contract_id": C, "person_id": "P2", "labor_category": "TO", "hours": "1.5"},
    {"trip_id": "T1", "contract_id": C, "person_id": "P3", "labor_category": "STO", "hours": "3"},
]


def _line(no: int, clin: str, **extra: str) -> dict[str, str]:
    row = {
        "invoice_id": "INV-1",
        "line_no": str(no),
        "contract_id": C,
        "clin": clin,
        "service_date": "2021-10-04",
        "quantity": "1",
        "unit_price": "1",
        "amount": "1.00",
        "trip_ref": "T1",
    }
    row.update(extra)
    return row


def _price(line: dict[str, str], trip: str = "T1") -> LinePricing:
    inputs: Inputs = load_files(
        rates=RATES, manifests=TRIPS, staff=STAFF, invoice_lines=[line], strict=True
    )
    index = build(inputs)
    row = index.trips.row(C, trip)
    assert row is not None
    return price_line(inputs, index, 0, row)


def _expected(found: LinePricing) -> Decimal:
    assert isinstance(found.pricing, Pricing)
    return found.pricing.expected


class TestPriceLine:
    def test_measure_line_prices_the_trip_measure(self) -> None:
        """A loaded-miles line prices the trip's 137.4 miles: 337.6605 -> 337.66."""
        found = _price(_line(1, "0001"))

        assert _expected(found) == Decimal("337.66")

    def test_unrecorded_measure_is_missing_evidence(self) -> None:
        """A measure the trip did not record is missing evidence, not zero."""
        found = _price(_line(1, "0001", trip_ref="T2"), trip="T2")

        assert isinstance(found.pricing, MissingEvidence)
        assert "loaded_miles" in found.pricing.what

    def test_named_person_hours_at_roster_category(self) -> None:
        """A person billed in their roster category: 2.30 h x 48.75 = 112.125 -> 112.13."""
        found = _price(_line(1, "0004", labor_category="TO", person_id="P1"))

        assert (found.category_mismatch, found.persons) == (False, ("P1",))
        assert _expected(found) == Decimal("112.13")

    def test_wrong_category_is_priced_at_the_roster_category(self) -> None:
        """P1 (TO on the roster) billed as STO is priced at TO (48.75) and flagged."""
        found = _price(_line(1, "0004", labor_category="STO", person_id="P1"))

        assert (found.category_mismatch, found.labor_category) == (True, "TO")
        assert _expected(found) == Decimal("112.13")

    def test_category_without_person_sums_the_category(self) -> None:
        """TO billed without a person covers P1 and P2: 3.80 h x 48.75 = 185.25."""
        found = _price(_line(1, "0004", labor_category="TO"))

        assert found.persons == ("P1", "P2")
        assert _expected(found) == Decimal("185.25")

    def test_no_category_anywhere_sums_every_person(self) -> None:
        """A rule without category and a line without one: all 6.80 h x 40.00 = 272.00."""
        found = _price(_line(1, "0009"))

        assert found.persons == ("P1", "P2", "P3")
        assert _expected(found) == Decimal("272.00")

    @pytest.mark.parametrize("person", ["", "P9"])
    def test_unknowable_category_is_missing_evidence(self, person: str) -> None:
        """No category on the line and none on the roster: a rule exists, evidence missing."""
        found = _price(_line(1, "0004", person_id=person))

        assert found.rule is not None
        assert isinstance(found.pricing, MissingEvidence)

    def test_no_rule_for_the_clin(self) -> None:
        """A CLIN without a rule on the trip's date gives no rule (NO_RATE)."""
        found = _price(_line(1, "0077"))

        assert (found.rule, found.pricing) == (None, None)
