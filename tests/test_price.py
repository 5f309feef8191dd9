"""Tests for ice_recon.price: the worked examples of DESIGN §3/§4.1/§4.4 and a Decimal oracle."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ice_recon.errors import MissingEvidenceError, MoneyTypeError
from ice_recon.index import FuelIndex, FuelTerms, PricingRule, Tier
from ice_recon.money import IncrementRounding, Rounding
from ice_recon.price import MissingEvidence, Pricing, price, price_trip
from ice_recon.records import FuelIndexPoint, TierMode, Trip, TripStatus, WeekRule

D = Decimal
START = dt.date(2021, 10, 1)
END = dt.date(2022, 9, 30)


def make_rule(**kw: Any) -> PricingRule:
    """Build a pricing rule of contract C valid for FY2022; keywords override the defaults."""
    fields: dict[str, Any] = {
        "rule_id": "r",
        "contract_id": "C",
        "clin": "0001",
        "basis": "loaded_miles",
        "start": START,
        "end": END,
    }
    fields.update(kw)
    return PricingRule(**fields)


def priced(result: Pricing | MissingEvidence) -> Pricing:
    """Return *result* as a Pricing, failing the test if evidence was missing."""
    assert isinstance(result, Pricing), result
    return result


def expected_of(rule: PricingRule, quantity: str, **kw: Any) -> str:
    """Return the expected amount of *quantity* under *rule* as text (scale visible)."""
    return str(priced(price(rule, D(quantity), **kw)).expected)


MILES = make_rule(rate=D("2.4575"), minimum_amount=D("150.00"))


# ------------------------------------------------------------------------------- flat rates


class TestPriceFlatRate:
    """price with a flat rate: quantity x rate, rounded once, then the minimum amount."""

    @pytest.mark.parametrize(
        ("quantity", "expected"),
        [
            ("137.4", "337.66"),  # 137.4 x 2.4575 = 337.66050 -> 337.66
            ("41.2", "150.00"),  # 41.2 x 2.4575 = 101.24900 -> 101.25 < 150.00 minimum
            ("61.04", "150.01"),  # 61.04 x 2.4575 = 150.0058 -> 150.01 > 150.00 minimum
            ("0.1", "150.00"),  # any billable quantity > 0 gets the minimum
            ("0", "0.00"),  # a zero billable quantity does not get the minimum
            ("0.000", "0.00"),
        ],
    )
    def test_miles_with_minimum_amount(self, quantity: str, expected: str) -> None:
        """Loaded miles x 2.4575 with a 150.00 minimum amount for a quantity above zero."""

        actual = expected_of(MILES, quantity)

        assert expected == actual

    def test_price_is_before_the_minimum(self) -> None:
        """41.2 miles: P(q) is 101.25, the expected amount the 150.00 minimum."""
        expected = (D("41.2"), D("41.2"), D("2.4575"), "101.25", "150.00")

        p = priced(price(MILES, D("41.2")))
        actual = (p.quantity, p.billable_quantity, p.rate, str(p.price), str(p.expected))

        assert expected == actual

    @pytest.mark.parametrize(
        ("rule_rounding", "default", "expected"),
        [
            (Rounding.HALF_UP, Rounding.HALF_UP, "112.13"),  # 2.30 x 48.75 = 112.125, a tie
            (Rounding.HALF_EVEN, Rounding.HALF_UP, "112.12"),  # the rule's mode wins
            (Rounding.HALF_UP, Rounding.HALF_EVEN, "112.13"),  # the rule's mode wins
            (Rounding.HALF_DOWN, Rounding.HALF_UP, "112.12"),
            (Rounding.DOWN, Rounding.HALF_UP, "112.12"),
            (Rounding.UP, Rounding.HALF_UP, "112.13"),
            (None, Rounding.HALF_EVEN, "112.12"),  # no rule mode: the policy default
            (None, Rounding.HALF_UP, "112.13"),
        ],
    )
    def test_rounding_tie(
        self, rule_rounding: Rounding | None, default: Rounding, expected: str
    ) -> None:
        """2.30 h x 48.75 = 112.125 rounds with the rule's mode, else the default."""
        rule = make_rule(basis="labor_hours", rate=D("48.75"), rounding=rule_rounding)

        p = priced(price(rule, D("2.30"), rounding=default))
        actual = str(p.expected)

        assert expected == actual
        assert (rule_rounding or default) == p.rounding

    def test_default_rounding_is_half_up(self) -> None:
        """Without a rule mode or a default argument, 112.125 rounds half up."""
        rule = make_rule(basis="labor_hours", rate=D("48.75"))
        expected = "112.13"

        actual = expected_of(rule, "2.30")

        assert expected == actual

    def test_lines_are_rounded_once_each_and_summed_exactly(self) -> None:
        """3 x (33.3 x 2.4575 = 81.83475 -> 81.83) sums to 245.49, not 245.50."""
        line = priced(price(make_rule(rate=D("2.4575")), D("33.3")))
        expected = ("81.83", "245.49")

        total = line.expected + line.expected + line.expected
        actual = (str(line.expected), str(total))

        assert expected == actual
        # Rounding the unrounded total 3 x 81.83475 = 245.50425 would give 245.50.
        assert D("245.50") != total

    def test_scale_of_amounts_is_cents(self) -> None:
        """A whole-number rate and quantity still give an amount with 2 places."""
        rule = make_rule(basis="trip", rate=D("350"))
        expected = "350.00"

        actual = expected_of(rule, "1")

        assert expected == actual

    def test_float_quantity_is_type_error(self) -> None:
        """A float quantity is a MoneyTypeError, a TypeError: money is never a float."""
        with pytest.raises(TypeError, match="float") as info:
            price(MILES, 137.4)  # type: ignore[arg-type]

        assert isinstance(info.value, MoneyTypeError)

    @pytest.mark.parametrize("quantity", [D("NaN"), D("Infinity")])
    def test_non_finite_quantity_is_value_error(self, quantity: Decimal) -> None:
        """NaN and infinite quantities are rejected."""
        with pytest.raises(ValueError, match="finite"):
            price(MILES, quantity)

    def test_negative_quantity_is_value_error(self) -> None:
        """A negative quantity is rejected (credits are not supported)."""
        with pytest.raises(ValueError, match="negative"):
            price(MILES, D("-1"))


# --------------------------------------------------------- free quantity, increment, minimum

WAIT = make_rule(
    clin="0002",
    basis="wait_hours",
    rate=D("55.00"),
    free_quantity=D("1.00"),
    increment=D("0.25"),
)


class TestPriceBillableQuantity:
    """free quantity -> increment -> minimum quantity, before P(q)."""

    @pytest.mark.parametrize(
        ("increment_rounding", "billable", "expected"),
        [
            # Wait 10:00-12:20 = 2.333... h, recorded as 2.33; 2.33 - 1.00 free = 1.33.
            (IncrementRounding.DOWN, "1.25", "68.75"),  # 1.25 x 55.00
            (IncrementRounding.UP, "1.50", "82.50"),  # 1.50 x 55.00
            (IncrementRounding.NEAREST, "1.25", "68.75"),  # 1.33 is 5.32 increments
        ],
    )
    def test_wait_time_increments(
        self, increment_rounding: IncrementRounding, billable: str, expected: str
    ) -> None:
        """2.33 h with 1.00 free and 0.25 increments bills 1.25 (down/nearest) or 1.50 (up)."""
        rule = attrs.evolve(WAIT, increment_rounding=increment_rounding)

        p = priced(price(rule, D("2.33")))
        actual = (p.billable_quantity, str(p.expected))

        assert (D(billable), expected) == actual

    @pytest.mark.parametrize(
        ("quantity", "increment_rounding", "billable"),
        [
            ("2.375", IncrementRounding.NEAREST, "1.50"),  # 1.375 is 5.5 increments: a tie up
            ("2.125", IncrementRounding.NEAREST, "1.25"),  # 4.5 increments: up, not to even
            ("2.374", IncrementRounding.NEAREST, "1.25"),
            ("2.25", IncrementRounding.UP, "1.25"),  # an exact multiple stays
            ("1.00", IncrementRounding.UP, "0"),  # all free
            ("0.40", IncrementRounding.UP, "0"),  # less than the free quantity: not negative
        ],
    )
    def test_increment_edges(
        self, quantity: str, increment_rounding: IncrementRounding, billable: str
    ) -> None:
        """Ties round up with nearest; exact multiples stay; free never goes below zero."""
        rule = attrs.evolve(WAIT, increment_rounding=increment_rounding)

        actual = priced(price(rule, D(quantity))).billable_quantity

        assert D(billable) == actual

    @pytest.mark.parametrize(
        ("quantity", "minimum_quantity", "billable", "expected"),
        [
            # 2.33 - 1.00 = 1.33 -> 1.25 -> max(1.25, 2.00) = 2.00 x 55.00.
            ("2.33", "2.00", "2.00", "110.00"),
            # After the increment: 1.33 -> 1.25 -> max(1.25, 1.30) = 1.30 x 55.00 = 71.50.
            # (Before the increment it would be max(1.33, 1.30) -> 1.25 -> 68.75.)
            ("2.33", "1.30", "1.30", "71.50"),
            # 1.20 - 1.00 = 0.20 -> 0.00: zero, so no minimum quantity.
            ("1.20", "2.00", "0", "0.00"),
            ("0.50", "2.00", "0", "0.00"),  # all free
            ("1.25", "0.50", "0.50", "27.50"),  # 0.25 -> 0.25 -> max(0.25, 0.50) = 0.50
            ("4.00", "2.00", "3.00", "165.00"),  # above the minimum
        ],
    )
    def test_minimum_quantity_after_increment_when_positive(
        self, quantity: str, minimum_quantity: str, billable: str, expected: str
    ) -> None:
        """The minimum quantity applies after the increment, and only to a quantity > 0."""
        rule = attrs.evolve(WAIT, minimum_quantity=D(minimum_quantity))

        p = priced(price(rule, D(quantity)))
        actual = (p.billable_quantity, str(p.expected))

        assert (D(billable), expected) == actual

    def test_minimum_amount_needs_billable_quantity(self) -> None:
        """A quantity all free (billable 0) gets no minimum amount."""
        rule = attrs.evolve(WAIT, minimum_amount=D("25.00"))
        expected = ("0.00", "25.00")

        actual = (expected_of(rule, "0.90"), expected_of(rule, "1.30"))  # 0.30 -> 0.25 x 55

        # 0.25 x 55.00 = 13.75, under the 25.00 minimum.
        assert expected == actual


# ------------------------------------------------------------------------------ fuel rules

SERVICE_DATE = dt.date(2021, 10, 7)  # a Thursday; its week starts Monday 2021-10-04
FUEL_INDEX = FuelIndex(
    [
        FuelIndexPoint(series="DIESEL", week=dt.date(2021, 10, 4), price=D("5.157")),
        FuelIndexPoint(series="DIESEL", week=dt.date(2021, 9, 27), price=D("4.900")),
        FuelIndexPoint(series="LOW", week=dt.date(2021, 10, 4), price=D("2.100")),
        FuelIndexPoint(series="BASE", week=dt.date(2021, 10, 4), price=D("2.500")),
    ]
)


def fuel_rule(series: str = "DIESEL", **terms: Any) -> PricingRule:
    """Build a fuel rule: base 2.500, 6.0 mpg, on loaded miles."""
    fields: dict[str, Any] = {"base_price": D("2.500"), "mpg": D("6.0"), "series": series}
    fields.update(terms)
    return make_rule(clin="0009", fuel=FuelTerms(**fields))


class TestPriceFuel:
    """price with a fuel rule: max(0, (index - base) / mpg) rounded once, per mile."""

    @pytest.mark.parametrize(
        ("rule", "rate", "expected"),
        [
            # (5.157 - 2.500) / 6.0 = 0.442833... -> 0.44; 137.4 x 0.44 = 60.456 -> 60.46
            (fuel_rule(), "0.44", "60.46"),
            # 3 places: 0.443; 137.4 x 0.443 = 60.8682 -> 60.87
            (fuel_rule(places=3), "0.443", "60.87"),
            # prior week: (4.900 - 2.500) / 6.0 = 0.40; 137.4 x 0.40 = 54.96
            (fuel_rule(week_rule=WeekRule.PRIOR_WEEK), "0.40", "54.96"),
            # index below base: rate 0.00, never negative
            (fuel_rule("LOW"), "0.00", "0.00"),
            # index equal to base
            (fuel_rule("BASE"), "0.00", "0.00"),
        ],
    )
    def test_fuel_surcharge(self, rule: PricingRule, rate: str, expected: str) -> None:
        """The per-mile rate comes from the week's index; the line is 137.4 miles at it."""

        p = priced(price(rule, D("137.4"), service_date=SERVICE_DATE, fuel_index=FUEL_INDEX))
        actual = (str(p.rate), str(p.expected))

        assert (rate, expected) == actual

    @pytest.mark.parametrize(
        ("week_rule", "week", "index_price"),
        [
            (WeekRule.SERVICE_WEEK, dt.date(2021, 10, 4), D("5.157")),
            (WeekRule.PRIOR_WEEK, dt.date(2021, 9, 27), D("4.900")),
        ],
    )
    def test_week_rule_picks_index_week(
        self, week_rule: WeekRule, week: dt.date, index_price: Decimal
    ) -> None:
        """service_week and prior_week price from different index weeks (the evidence)."""

        p = priced(
            price(
                fuel_rule(week_rule=week_rule),
                D("137.4"),
                service_date=SERVICE_DATE,
                fuel_index=FUEL_INDEX,
            )
        )
        actual = (p.index_week, p.index_price)

        assert (week, index_price) == actual

    def test_fuel_rounding_mode_applies_to_the_rate(self) -> None:
        """The rate 0.442833... rounds up to 0.45 with the rule's `up` mode."""
        rule = make_rule(
            clin="0009",
            fuel=FuelTerms(base_price=D("2.500"), mpg=D("6.0"), series="DIESEL"),
            rounding=Rounding.UP,
        )
        expected = ("0.45", "45.00")  # 100 x 0.45

        p = priced(price(rule, D("100"), service_date=SERVICE_DATE, fuel_index=FUEL_INDEX))
        actual = (str(p.rate), str(p.expected))

        assert expected == actual

    @pytest.mark.parametrize(
        ("series", "service_date", "week_rule"),
        [
            ("DIESEL", dt.date(2021, 10, 11), WeekRule.SERVICE_WEEK),  # no week 2021-10-11
            ("DIESEL", dt.date(2021, 9, 27), WeekRule.PRIOR_WEEK),  # no week 2021-09-20
            ("OTHER", SERVICE_DATE, WeekRule.SERVICE_WEEK),  # no such series
        ],
    )
    def test_missing_index_week_is_missing_evidence(
        self, series: str, service_date: dt.date, week_rule: WeekRule
    ) -> None:
        """A missing index week raises MissingEvidenceError naming the series, never a zero."""
        rule = fuel_rule(series, week_rule=week_rule)

        with pytest.raises(MissingEvidenceError, match=series) as raised:
            price(rule, D("137.4"), service_date=service_date, fuel_index=FUEL_INDEX)

        actual = raised.value.missing
        assert isinstance(actual, MissingEvidence)
        assert series in actual.what
        assert rule == actual.rule
        assert isinstance(raised.value, LookupError)

    def test_fuel_rule_needs_date_and_index(self) -> None:
        """Pricing a fuel rule without a service date or fuel index is a TypeError."""
        with pytest.raises(TypeError, match="service_date"):
            price(fuel_rule(), D("137.4"))


# ----------------------------------------------------------------------------------- tiers

TIERS = (
    Tier(start=D("0"), rate=D("4.00")),
    Tier(start=D("100"), rate=D("3.00")),
    Tier(start=D("250"), rate=D("2.50")),
)
GRADUATED = make_rule(clin="0003", tiers=TIERS, tier_mode=TierMode.GRADUATED)
ALL_UNITS = make_rule(clin="0003", tiers=TIERS, tier_mode=TierMode.ALL_UNITS)


class TestPriceTiers:
    """price with a tier set: tier i covers [from_i, from_{i+1})."""

    @pytest.mark.parametrize(
        ("quantity", "expected"),
        [
            ("300.0", "975.00"),  # 100 x 4.00 + 150 x 3.00 + 50 x 2.50 = 400 + 450 + 125
            ("100", "400.00"),  # exactly 100: all in the first slice
            ("99.9", "399.60"),  # 99.9 x 4.00
            ("100.1", "400.30"),  # 400.00 + 0.1 x 3.00
            ("250", "850.00"),  # 400.00 + 450.00
            ("0", "0.00"),
        ],
    )
    def test_graduated(self, quantity: str, expected: str) -> None:
        """Each slice is priced at its own rate; the exact slice amounts are summed."""

        actual = expected_of(GRADUATED, quantity)

        assert expected == actual

    @pytest.mark.parametrize(
        ("quantity", "rate", "expected"),
        [
            ("300.0", "2.50", "750.00"),  # 300.0 x 2.50
            ("100", "3.00", "300.00"),  # exactly 100 reaches the second tier
            ("99.9", "4.00", "399.60"),  # 99.9 is still in the first tier
            ("249.99", "3.00", "749.97"),
            ("250", "2.50", "625.00"),
            ("0", "4.00", "0.00"),
        ],
    )
    def test_all_units(self, quantity: str, rate: str, expected: str) -> None:
        """The whole quantity is priced at the rate of the tier it reaches."""

        p = priced(price(ALL_UNITS, D(quantity)))
        actual = (str(p.rate), str(p.expected))

        assert (rate, expected) == actual

    def test_graduated_has_no_single_rate(self) -> None:
        """A graduated price has no single per-unit rate to cite."""

        actual = priced(price(GRADUATED, D("300.0"))).rate

        assert actual is None

    @pytest.mark.parametrize(
        ("quantity", "expected"),
        [("100", "100.00"), ("101", "202.00"), ("100.5", "201.00"), ("100.49", "100.49")],
    )
    def test_quantity_with_fewer_places_than_tier_starts(
        self, quantity: str, expected: str
    ) -> None:
        """Tier starts written with more places (100.50) still compare exactly."""
        tiers = (Tier(start=D("0"), rate=D("1.00")), Tier(start=D("100.50"), rate=D("2.00")))
        rule = make_rule(tiers=tiers, tier_mode=TierMode.ALL_UNITS)

        actual = expected_of(rule, quantity)

        assert expected == actual


CANCEL = make_rule(
    clin="0010",
    basis="cancellation",
    tiers=(
        Tier(start=D("0"), rate=D("500.00")),
        Tier(start=D("24"), rate=D("250.00")),
        Tier(start=D("48"), rate=D("0.00")),
    ),
    tier_mode=TierMode.ALL_UNITS,
)


class TestPriceCancellation:
    """price with a cancellation tier set: the tier is chosen by the notice hours."""

    @pytest.mark.parametrize(
        ("notice", "expected"),
        [
            ("0", "500.00"),
            ("10", "500.00"),
            ("23.99", "500.00"),
            ("24", "250.00"),  # a tier starts at its from value
            ("47.5", "250.00"),
            ("48", "0.00"),
            ("72", "0.00"),
        ],
    )
    def test_fee_by_notice_hours(self, notice: str, expected: str) -> None:
        """Less notice costs more; the reached tier's rate is the flat fee for one trip."""

        p = priced(price(CANCEL, D(1), cancel_notice_hours=D(notice)))
        actual = (str(p.rate), str(p.expected))

        assert (expected, expected) == actual

    def test_missing_notice_hours_is_missing_evidence(self) -> None:
        """Without cancel_notice_hours the fee cannot be chosen: MissingEvidenceError."""
        expected = MissingEvidence(
            rule=CANCEL, what="cancel_notice_hours not recorded", billable_quantity=D(1)
        )

        with pytest.raises(MissingEvidenceError) as raised:
            price(CANCEL, D(1))

        assert expected == raised.value.missing

    def test_flat_cancellation_fee(self) -> None:
        """A cancellation rule without tiers is a flat fee and needs no notice hours."""
        rule = make_rule(clin="0010", basis="cancellation", rate=D("300.00"))
        expected = "300.00"

        actual = expected_of(rule, "1")

        assert expected == actual


# -------------------------------------------------------------------------------- price_trip


def trip(**kw: Any) -> Trip:
    """Build trip T1 of contract C on 2021-10-07."""
    fields: dict[str, Any] = {"trip_id": "T1", "contract_id": "C", "service_date": SERVICE_DATE}
    fields.update(kw)
    return Trip(**fields)


class TestPriceTrip:
    """price_trip: the quantity comes from what the trip recorded."""

    def test_measure_basis(self) -> None:
        """A measure basis prices the trip's measure: 137.4 miles -> 337.66."""
        t = trip(measures={"loaded_miles": D("137.4")})

        p = priced(price_trip(MILES, t))
        actual = (p.quantity, str(p.expected))

        assert (D("137.4"), "337.66") == actual

    @pytest.mark.parametrize("measures", [{}, {"wait_hours": D("2.33")}, {"loaded_miles": None}])
    def test_unrecorded_measure_is_missing_evidence(self, measures: dict[str, Any]) -> None:
        """A measure the trip did not record is MissingEvidence naming it, never zero."""
        t = trip(trip_id="T42", measures=measures)
        expected = MissingEvidence(
            rule=MILES, what="measure 'loaded_miles' not recorded on trip T42"
        )

        actual = price_trip(MILES, t)

        assert expected == actual

    def test_recorded_zero_is_priced_as_zero(self) -> None:
        """A measure recorded as 0 is evidence: priced 0.00, no minimum amount."""
        t = trip(measures={"loaded_miles": D("0.0")})
        expected = "0.00"

        actual = str(priced(price_trip(MILES, t)).expected)

        assert expected == actual

    def test_trip_basis_prices_one_unit(self) -> None:
        """A `trip` rule prices one unit, whatever the trip measured."""
        rule = make_rule(basis="trip", rate=D("350.00"))
        t = trip(measures={"loaded_miles": D("137.4")})

        p = priced(price_trip(rule, t))
        actual = (p.quantity, str(p.expected))

        assert (D(1), "350.00") == actual

    @pytest.mark.parametrize(("notice", "expected"), [("10", "500.00"), ("47.5", "250.00")])
    def test_cancellation_uses_trip_notice_hours(self, notice: str, expected: str) -> None:
        """A cancelled trip's notice hours pick the cancellation fee."""
        t = trip(status=TripStatus.CANCELLED, cancel_notice_hours=D(notice))

        actual = str(priced(price_trip(CANCEL, t)).expected)

        assert expected == actual

    def test_cancellation_without_notice_is_missing_evidence(self) -> None:
        """A cancelled trip without notice hours cannot be priced by a tier set."""
        t = trip(status=TripStatus.CANCELLED)

        actual = price_trip(CANCEL, t)

        assert isinstance(actual, MissingEvidence)

    def test_labor_hours_with_hours(self) -> None:
        """labor_hours prices the hours given: 2.30 h x 48.75 = 112.125 -> 112.13."""
        rule = make_rule(basis="labor_hours", rate=D("48.75"), labor_category="TO")

        p = priced(price_trip(rule, trip(), labor_hours=D("2.30")))
        actual = (p.quantity, str(p.expected))

        assert (D("2.30"), "112.13") == actual

    def test_labor_hours_without_hours_is_missing_evidence(self) -> None:
        """No roster hours is MissingEvidence naming the trip, never zero."""
        rule = make_rule(basis="labor_hours", rate=D("48.75"))

        actual = price_trip(rule, trip(trip_id="T7"))

        assert MissingEvidence(rule=rule, what="no roster hours on trip T7") == actual

    def test_fuel_uses_service_date(self) -> None:
        """A fuel rule is priced from the index week of the trip's service date."""
        t = trip(measures={"loaded_miles": D("137.4")})

        p = priced(price_trip(fuel_rule(), t, fuel_index=FUEL_INDEX))
        actual = (p.index_week, str(p.expected))

        assert (dt.date(2021, 10, 4), "60.46") == actual

    def test_default_rounding_is_passed_on(self) -> None:
        """The policy default rounding reaches price(): 112.125 -> 112.12 half even."""
        rule = make_rule(basis="labor_hours", rate=D("48.75"))
        expected = "112.12"

        p = priced(price_trip(rule, trip(), labor_hours=D("2.30"), rounding=Rounding.HALF_EVEN))
        actual = str(p.expected)

        assert expected == actual


# ------------------------------------------------------------------------- known src bugs


class TestRegressions:
    """Named regressions: bugs found by these tests and fixed."""

    def test_evidence_keeps_scale_of_equal_rules(self) -> None:
        """Pricing.rate keeps the rule's written scale even after an equal rule was priced."""
        short = make_rule(clin="0777", rate=D("2.4"), free_quantity=D("1"))
        long = make_rule(clin="0777", rate=D("2.40"), free_quantity=D("1.00"))
        price(short, D("3.5"))
        expected = ("2.40", "2.50")

        p = priced(price(long, D("3.5")))
        actual = (str(p.rate), str(p.billable_quantity))

        assert expected == actual

    def test_negative_notice_hours_is_value_error(self) -> None:
        """Negative cancel_notice_hours is rejected like a negative quantity."""
        with pytest.raises(ValueError, match="negative"):
            price(CANCEL, D(1), cancel_notice_hours=D("-1"))

    def test_unsorted_tiers_are_rejected(self) -> None:
        """Tiers given out of order are rejected when the rule is built, never mispriced."""
        with pytest.raises(ValueError, match="strictly increase"):
            make_rule(
                clin="0778", tiers=(TIERS[2], TIERS[0], TIERS[1]), tier_mode=TierMode.GRADUATED
            )

    def test_tiers_not_starting_at_zero_are_rejected(self) -> None:
        """A tier set whose first tier is not 0 is rejected: no quantity could be unpriced."""
        with pytest.raises(ValueError, match="start at 0"):
            make_rule(clin="0779", tiers=TIERS[1:], tier_mode=TierMode.ALL_UNITS)


# ----------------------------------------------------------------- the Decimal reference oracle

DECIMAL_MODE = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.UP: decimal.ROUND_UP,
}

#: Every operation of the reference but the final quantize must be exact: Inexact and
#: Rounded are trapped, so a reference that silently rounded would fail loudly instead.
EXACT = decimal.Context(
    prec=500,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Inexact, decimal.Rounded],
)
CENT = Decimal("0.01")


def reference_billable(rule: PricingRule, quantity: Decimal) -> Decimal:
    """Return the billable quantity: free quantity -> increment -> minimum quantity."""
    q = quantity
    if rule.free_quantity is not None:
        q = max(Decimal(0), q - rule.free_quantity)
    if rule.increment is not None:
        whole, rest = divmod(q, rule.increment)  # q >= 0: whole is the floor
        bill_partial = {
            IncrementRounding.DOWN: False,
            IncrementRounding.UP: rest > 0,
            IncrementRounding.NEAREST: 2 * rest >= rule.increment,  # ties up
        }[rule.increment_rounding]
        if bill_partial:
            whole += 1
        q = whole * rule.increment
    if rule.minimum_quantity is not None and q > 0:
        q = max(q, rule.minimum_quantity)
    return q


def reference_amount(rule: PricingRule, q: Decimal) -> Decimal:
    """Return the exact, unrounded P(q): flat rate, all_units tier or graduated slices."""
    if rule.rate is not None:
        return q * rule.rate
    tiers = sorted(rule.tiers, key=lambda t: t.start)
    if rule.tier_mode == TierMode.ALL_UNITS:
        reached = [t for t in tiers if t.start <= q][-1]
        return q * reached.rate
    total = Decimal(0)
    for i, tier in enumerate(tiers):
        stop = tiers[i + 1].start if i + 1 < len(tiers) else q
        if q > tier.start:
            total += (min(q, stop) - tier.start) * tier.rate
    return total


def reference_price(
    rule: PricingRule, quantity: Decimal, default: Rounding
) -> tuple[Decimal, Decimal, Decimal]:
    """Return (billable quantity, P(q) in cents, expected amount) by the plain definition."""
    mode = rule.rounding or default
    with decimal.localcontext(EXACT):
        q = reference_billable(rule, quantity)
        exact = reference_amount(rule, q)
        p = exact.quantize(CENT, rounding=DECIMAL_MODE[mode], context=decimal.Context(prec=500))
        expected = p
        if rule.minimum_amount is not None and q > 0:
            expected = max(rule.minimum_amount, p)
    return q, p, expected


def scaled(max_units: int, min_scale: int = 0, max_scale: int = 4) -> st.SearchStrategy[Decimal]:
    """Non-negative Decimals of 0 to *max_units* units at a random scale."""
    return st.builds(
        lambda u, s: Decimal(f"{u}E-{s}"),
        st.integers(min_value=0, max_value=max_units),
        st.integers(min_value=min_scale, max_value=max_scale),
    )


def positive(max_units: int) -> st.SearchStrategy[Decimal]:
    """Positive Decimals at a random scale 0-4."""
    return st.builds(
        lambda u, s: Decimal(f"{u}E-{s}"),
        st.integers(min_value=1, max_value=max_units),
        st.integers(min_value=0, max_value=4),
    )


rates = scaled(10**6)


@st.composite
def tier_sets(draw: st.DrawFn) -> tuple[Tier, ...]:
    """Draw a tier set starting at 0 with distinct starts (in any scale), sorted by start.

    Sorted as compile_rules leaves them (see the unsorted-tiers regression test).
    """
    starts = draw(st.lists(positive(10**6), max_size=4, unique_by=Fraction))
    return tuple(Tier(start=s, rate=draw(rates)) for s in [D(0), *sorted(starts)])


@st.composite
def pricing_cases(draw: st.DrawFn) -> tuple[PricingRule, Decimal, Rounding]:
    """Draw a random rule (flat / all_units / graduated), a quantity and a default mode."""
    kind = draw(st.sampled_from(["flat", "all_units", "graduated"]))
    how: dict[str, Any]
    if kind == "flat":
        how = {"rate": draw(rates)}
    else:
        how = {"tiers": draw(tier_sets()), "tier_mode": TierMode(kind)}
    rule = make_rule(
        rule_id=draw(st.text("abc", min_size=1, max_size=3)),
        free_quantity=draw(st.none() | scaled(5000)),
        increment=draw(st.none() | positive(500)),
        increment_rounding=draw(st.sampled_from(IncrementRounding)),
        minimum_quantity=draw(st.none() | scaled(5000)),
        minimum_amount=draw(st.none() | scaled(10**7, max_scale=2)),
        rounding=draw(st.none() | st.sampled_from(Rounding)),
        **how,
    )
    edges = [t.start for t in rule.tiers] + [
        v for v in (rule.free_quantity, rule.minimum_quantity) if v is not None
    ]
    choices = [scaled(10**7), st.sampled_from([D(0), *edges])]
    if rule.increment is not None:
        # An exact half increment past the free quantity: a tie for NEAREST.
        steps = draw(st.integers(min_value=0, max_value=20))
        with decimal.localcontext(EXACT):
            tie = (rule.free_quantity or D(0)) + rule.increment * (D(steps) + D("0.5"))
        choices.append(st.just(tie))
    quantity = draw(st.one_of(choices))
    return rule, quantity, draw(st.sampled_from(Rounding))


class TestPriceOracle:
    """price equals a straightforward Decimal implementation of the order of operations."""

    @given(pricing_cases())
    @example(
        (make_rule(basis="labor_hours", rate=D("48.75")), D("2.30"), Rounding.HALF_EVEN),
    )
    @example((attrs.evolve(WAIT, minimum_quantity=D("1.30")), D("2.33"), Rounding.HALF_UP))
    @example(
        (
            attrs.evolve(WAIT, increment_rounding=IncrementRounding.NEAREST),
            D("2.125"),
            Rounding.HALF_UP,
        )
    )
    @example((GRADUATED, D("300.0"), Rounding.HALF_UP))
    @example((ALL_UNITS, D("100"), Rounding.HALF_UP))
    @example((MILES, D("0"), Rounding.HALF_UP))
    def test_equals_decimal_reference(self, case: tuple[PricingRule, Decimal, Rounding]) -> None:
        """Billable quantity, P(q) and expected amount equal the Decimal definition."""
        rule, quantity, default = case
        expected = reference_price(rule, quantity, default)

        p = priced(price(rule, quantity, rounding=default))
        actual = (p.billable_quantity, p.price, p.expected)

        assert expected == actual
        assert p.price.as_tuple().exponent == p.expected.as_tuple().exponent == -2
        assert (rule.rounding or default) == p.rounding


def reference_fuel_rate(terms: FuelTerms, index_price: Decimal, mode: Rounding) -> Decimal:
    """Return max(0, (index - base) / mpg) rounded once to places, by Decimal division.

    With inputs of at most 4 places and 10**6 units, 100 significant digits leave the
    quotient's precision error far below its distance from any tie or rounding boundary.
    """
    with decimal.localcontext(decimal.Context(prec=100, traps=[decimal.InvalidOperation])):
        diff = index_price - terms.base_price
        if diff <= 0:
            return Decimal(0).quantize(Decimal(1).scaleb(-terms.places))
        quotient = diff / terms.mpg
        return quotient.quantize(Decimal(1).scaleb(-terms.places), rounding=DECIMAL_MODE[mode])


class TestFuelOracle:
    """The fuel rate equals the Decimal definition of the exact quotient rounded once."""

    @given(
        base=scaled(10**5),
        mpg=positive(10**3),
        index_price=scaled(10**5),
        places=st.integers(min_value=0, max_value=4),
        mode=st.sampled_from(Rounding),
    )
    @example(base=D("2.500"), mpg=D("6.0"), index_price=D("5.157"), places=2, mode=Rounding.HALF_UP)
    @example(base=D("1"), mpg=D("8"), index_price=D("1.2"), places=2, mode=Rounding.HALF_EVEN)
    def test_fuel_rate_equals_decimal_reference(
        self, base: Decimal, mpg: Decimal, index_price: Decimal, places: int, mode: Rounding
    ) -> None:
        """max(0, (index - base) / mpg) is rounded once to places with the rule's mode."""
        terms = FuelTerms(base_price=base, mpg=mpg, series="S", places=places)
        rule = make_rule(clin="0009", fuel=terms, rounding=mode)
        index = FuelIndex(
            [FuelIndexPoint(series="S", week=dt.date(2021, 10, 4), price=index_price)]
        )
        expected = reference_fuel_rate(terms, index_price, mode)

        p = priced(price(rule, D("1"), service_date=SERVICE_DATE, fuel_index=index))
        actual = p.rate

        assert expected == actual
        assert actual is not None
        assert expected.as_tuple().exponent == actual.as_tuple().exponent
