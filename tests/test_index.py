"""Tests for ice_recon.index: rate windows, the fuel index week, tier sets and the roster."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ice_recon.index import (
    FuelIndex,
    FuelTerms,
    PricingRule,
    RateIndex,
    Roster,
    Tier,
    compile_rules,
)
from ice_recon.records import FuelIndexPoint, FuelRule, RateRule, TierMode, WeekRule
from ice_recon.tables import DecimalColumn

D = Decimal


def rule(
    start: dt.date,
    end: dt.date,
    *,
    clin: str = "0001",
    labor_category: str | None = None,
    rate: str = "1.00",
    rule_id: str | None = None,
    basis: str = "loaded_miles",
) -> PricingRule:
    """Build a flat-rate pricing rule of contract C."""
    return PricingRule(
        rule_id=rule_id or f"{clin}/{labor_category}/{start}",
        contract_id="C",
        clin=clin,
        labor_category=labor_category,
        basis=basis,
        start=start,
        end=end,
        rate=D(rate),
    )


# ------------------------------------------------------------------------------ RateIndex.find

FIRST = rule(dt.date(2020, 10, 1), dt.date(2021, 9, 30), rate="2.40", rule_id="first")
SECOND = rule(dt.date(2021, 10, 1), dt.date(2022, 9, 30), rate="2.4575", rule_id="second")
# A later window after a gap (2022-10-01 .. 2022-12-31 has no price).
THIRD = rule(dt.date(2023, 1, 1), dt.date(2023, 12, 31), rate="2.60", rule_id="third")


class TestRateIndexFind:
    """RateIndex.find: the rule whose inclusive window contains the date."""

    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            (dt.date(2020, 9, 30), None),  # before the first window
            (dt.date(2020, 10, 1), "first"),  # first day of the first window
            (dt.date(2021, 9, 30), "first"),  # last day of the first window
            (dt.date(2021, 10, 1), "second"),  # first day of the adjacent window
            (dt.date(2022, 9, 30), "second"),  # last day of the second window
            (dt.date(2022, 10, 1), None),  # the day after: a gap
            (dt.date(2022, 12, 31), None),  # last day of the gap
            (dt.date(2023, 1, 1), "third"),
            (dt.date(2023, 12, 31), "third"),
            (dt.date(2024, 1, 1), None),  # after the last window
        ],
    )
    def test_window_edges(self, on: dt.date, expected: str | None) -> None:
        """Windows are inclusive at both ends; gaps and the outside have no rule."""
        index = RateIndex([THIRD, FIRST, SECOND])

        found = index.find("C", "0001", on)
        actual = None if found is None else found.rule_id

        assert expected == actual

    def test_accepts_date_ordinal(self) -> None:
        """A date ordinal finds the same rule as the date."""
        index = RateIndex([FIRST, SECOND])

        expected = SECOND

        actual = index.find("C", "0001", dt.date(2021, 10, 1).toordinal())

        assert expected == actual

    def test_after_last_window_without_gap_rule_is_none(self) -> None:
        """With only the first two windows, 2022-10-01 (after the last) has no rule."""
        index = RateIndex([FIRST, SECOND])

        actual = index.find("C", "0001", dt.date(2022, 10, 1))

        assert actual is None

    @pytest.mark.parametrize(
        ("contract_id", "clin"), [("C", "0002"), ("X", "0001"), ("c", "0001"), ("C", "1")]
    )
    def test_other_keys_find_nothing(self, contract_id: str, clin: str) -> None:
        """Contract and CLIN compare exactly: another key finds no rule."""
        index = RateIndex([FIRST, SECOND])

        actual = index.find(contract_id, clin, dt.date(2021, 10, 1))

        assert actual is None

    @pytest.mark.parametrize(
        ("labor_category", "expected"), [("TO", "to-rule"), ("CO", None), (None, None)]
    )
    def test_categorized_rule_needs_its_category(
        self, labor_category: str | None, expected: str | None
    ) -> None:
        """A rule with labor category TO is found only with labor_category='TO'."""
        to_rule = rule(
            dt.date(2021, 10, 1),
            dt.date(2022, 9, 30),
            clin="0004",
            labor_category="TO",
            rule_id="to-rule",
            basis="labor_hours",
        )
        index = RateIndex([to_rule])

        found = index.find("C", "0004", dt.date(2022, 1, 3), labor_category)
        actual = None if found is None else found.rule_id

        assert expected == actual

    @pytest.mark.parametrize("labor_category", ["TO", "CO", "anything", None])
    def test_uncategorized_rule_applies_to_every_category(self, labor_category: str | None) -> None:
        """A rule without a labor category is found for any category and for None."""
        any_rule = rule(
            dt.date(2021, 10, 1),
            dt.date(2022, 9, 30),
            clin="0004",
            rule_id="any",
            basis="labor_hours",
        )
        index = RateIndex([any_rule])

        actual = index.find("C", "0004", dt.date(2022, 1, 3), labor_category)

        assert any_rule == actual

    def test_categories_have_separate_windows(self) -> None:
        """Two categories of one CLIN each find their own rule on the same day."""
        day = dt.date(2022, 1, 3)
        to_rule = rule(day, day, clin="0004", labor_category="TO", rule_id="to")
        co_rule = rule(day, day, clin="0004", labor_category="CO", rule_id="co")
        index = RateIndex([to_rule, co_rule])
        expected = ("to", "co")

        to_found = index.find("C", "0004", day, "TO")
        co_found = index.find("C", "0004", day, "CO")
        assert to_found is not None and co_found is not None
        actual = (to_found.rule_id, co_found.rule_id)

        assert expected == actual


class TestRateIndexBases:
    """RateIndex.bases and is_labor: which bases price a CLIN."""

    def test_bases_and_labor(self) -> None:
        """The bases of every rule of the CLIN are collected; labor_hours marks a labor CLIN."""
        day = dt.date(2022, 1, 3)
        index = RateIndex(
            [
                rule(day, day, clin="0004", labor_category="TO", basis="labor_hours"),
                rule(day, day, clin="0001"),
            ]
        )
        expected = (frozenset({"labor_hours"}), True, frozenset({"loaded_miles"}), False)

        actual = (
            index.bases("C", "0004"),
            index.is_labor("C", "0004"),
            index.bases("C", "0001"),
            index.is_labor("C", "0001"),
        )

        assert expected == actual
        assert frozenset() == index.bases("C", "9999")


@st.composite
def windowed_rules(draw: st.DrawFn) -> list[PricingRule]:
    """Draw non-overlapping windows (adjacent or with gaps) of one key, as rules."""
    day = dt.date(2020, 1, 1).toordinal() + draw(st.integers(min_value=0, max_value=30))
    rules = []
    for i in range(draw(st.integers(min_value=0, max_value=8))):
        start = day + draw(st.integers(min_value=0, max_value=5))  # 0 = adjacent
        end = start + draw(st.integers(min_value=0, max_value=10))  # 0 = a single day
        rules.append(rule(dt.date.fromordinal(start), dt.date.fromordinal(end), rule_id=f"r{i}"))
        day = end + 1
    return draw(st.permutations(rules))


class TestRateIndexFindProperty:
    """RateIndex.find agrees with a linear scan of the windows."""

    @given(
        rules=windowed_rules(),
        days=st.lists(
            st.integers(
                min_value=dt.date(2019, 12, 25).toordinal(),
                max_value=dt.date(2020, 6, 1).toordinal(),
            ),
            min_size=1,
            max_size=20,
        ),
    )
    def test_find_equals_linear_scan(self, rules: list[PricingRule], days: list[int]) -> None:
        """For random windows and dates, find returns exactly the rule containing the date."""
        index = RateIndex(rules)
        for day in days:
            on = dt.date.fromordinal(day)
            containing = [r for r in rules if r.start <= on <= r.end]
            expected = containing[0] if containing else None

            actual = index.find("C", "0001", on)

            assert expected == actual


# ------------------------------------------------------------------------ FuelIndex.week_for

MONDAY = dt.date(2021, 10, 4)


class TestFuelIndexWeekFor:
    """FuelIndex.week_for: the Monday of the index week that prices a service date."""

    @pytest.mark.parametrize("offset", range(7))
    def test_service_week_is_that_weeks_monday(self, offset: int) -> None:
        """Every day Monday to Sunday is priced by its own week's Monday."""
        expected = MONDAY

        actual = dt.date.fromordinal(
            FuelIndex.week_for(MONDAY + dt.timedelta(days=offset), WeekRule.SERVICE_WEEK)
        )

        assert expected == actual

    @pytest.mark.parametrize("offset", range(7))
    def test_prior_week_is_the_monday_before(self, offset: int) -> None:
        """Every day Monday to Sunday is priced by the previous week's Monday."""
        expected = dt.date(2021, 9, 27)

        actual = dt.date.fromordinal(
            FuelIndex.week_for(MONDAY + dt.timedelta(days=offset), WeekRule.PRIOR_WEEK)
        )

        assert expected == actual

    def test_next_monday_starts_a_new_week(self) -> None:
        """The Monday after a Sunday is priced by its own week, not the Sunday's."""
        expected = dt.date(2021, 10, 11)

        actual = dt.date.fromordinal(
            FuelIndex.week_for(dt.date(2021, 10, 11), WeekRule.SERVICE_WEEK)
        )

        assert expected == actual

    def test_accepts_date_ordinal(self) -> None:
        """A date ordinal gives the same week as the date."""
        expected = MONDAY.toordinal()

        actual = FuelIndex.week_for(dt.date(2021, 10, 7).toordinal(), WeekRule.SERVICE_WEEK)

        assert expected == actual


class TestFuelIndexPrice:
    """FuelIndex.price: the price of a series for a week, or None."""

    def test_price_by_series_and_week(self) -> None:
        """Prices are found by (series, Monday); other weeks and series are None."""
        index = FuelIndex(
            [
                FuelIndexPoint(series="S", week=MONDAY, price=D("5.157")),
                FuelIndexPoint(series="T", week=MONDAY, price=D("4.000")),
            ]
        )
        expected = (D("5.157"), D("4.000"), None, None)

        actual = (
            index.price("S", MONDAY),
            index.price("T", MONDAY.toordinal()),
            index.price("S", dt.date(2021, 10, 11)),
            index.price("U", MONDAY),
        )

        assert expected == actual


# ------------------------------------------------------------------------------ compile_rules

START = dt.date(2021, 10, 1)
END = dt.date(2022, 9, 30)


def rate_row(
    tier_from: str | None = None,
    rate: str = "4.00",
    *,
    labor_category: str | None = None,
    rule_id: str | None = None,
) -> RateRule:
    """Build a rates.csv row of contract C1, CLIN 0004."""
    return RateRule(
        contract_id="C1",
        clin="0004",
        basis="loaded_miles",
        rate=D(rate),
        start=START,
        end=END,
        labor_category=labor_category,
        tier_from=None if tier_from is None else D(tier_from),
        tier_mode=None if tier_from is None else TierMode.GRADUATED,
        rule_id=rule_id,
        authority="P00003 B.2",
    )


TIER_ROWS = [rate_row("0", "4.00"), rate_row("100", "3.00"), rate_row("250", "2.50")]


class TestCompileRules:
    """compile_rules: one pricing rule per row, per tier set and per fuel rule."""

    @given(st.permutations(TIER_ROWS))
    def test_tier_set_becomes_one_rule_with_sorted_tiers(self, rows: list[RateRule]) -> None:
        """Rows of a tier set in any order become one rule with tiers sorted by start."""
        expected = [
            PricingRule(
                rule_id="C1/0004/2021-10-01",
                contract_id="C1",
                clin="0004",
                basis="loaded_miles",
                start=START,
                end=END,
                tiers=(
                    Tier(start=D("0"), rate=D("4.00")),
                    Tier(start=D("100"), rate=D("3.00")),
                    Tier(start=D("250"), rate=D("2.50")),
                ),
                tier_mode=TierMode.GRADUATED,
                authority="P00003 B.2",
            )
        ]

        actual = compile_rules(rows)

        assert expected == actual

    @pytest.mark.parametrize(
        ("labor_category", "rule_id", "expected"),
        [
            (None, None, "C1/0004/2021-10-01"),
            ("TO", None, "C1/0004/TO/2021-10-01"),
            ("TO", "labor-to", "labor-to"),
        ],
    )
    def test_rule_id(self, labor_category: str | None, rule_id: str | None, expected: str) -> None:
        """The default rule id is contract/clin[/category]/start; a given one is kept."""
        (compiled,) = compile_rules([rate_row(labor_category=labor_category, rule_id=rule_id)])

        actual = compiled.rule_id

        assert expected == actual

    def test_flat_row_keeps_its_rate(self) -> None:
        """A row without tier_from becomes a flat-rate rule without tiers."""
        (compiled,) = compile_rules([rate_row(rate="2.4575")])
        expected = ("2.4575", (), None)

        actual = (str(compiled.rate), compiled.tiers, compiled.tier_mode)

        assert expected == actual

    def test_separate_windows_are_separate_tier_sets(self) -> None:
        """Tier rows of two windows compile to two rules."""
        other = [
            RateRule(
                contract_id="C1",
                clin="0004",
                basis="loaded_miles",
                rate=D(rate),
                start=dt.date(2022, 10, 1),
                end=dt.date(2023, 9, 30),
                tier_from=D(tier_from),
                tier_mode=TierMode.ALL_UNITS,
            )
            for tier_from, rate in [("0", "5.00"), ("50", "4.50")]
        ]
        expected = [("C1/0004/2021-10-01", 3), ("C1/0004/2022-10-01", 2)]

        actual = sorted((r.rule_id, len(r.tiers)) for r in compile_rules([*TIER_ROWS, *other]))

        assert expected == actual

    def test_fuel_rule(self) -> None:
        """A fuel rule compiles to a rule with its fuel terms and a default id."""
        fuel = FuelRule(
            contract_id="C1",
            clin="0009",
            start=START,
            end=END,
            base_price=D("2.500"),
            mpg=D("6.0"),
            series="S",
            week_rule=WeekRule.PRIOR_WEEK,
            places=3,
        )
        expected = (
            "C1/0009/2021-10-01",
            "loaded_miles",
            FuelTerms(
                base_price=D("2.500"),
                mpg=D("6.0"),
                series="S",
                week_rule=WeekRule.PRIOR_WEEK,
                places=3,
            ),
        )

        (compiled,) = compile_rules([], [fuel])
        actual = (compiled.rule_id, compiled.basis, compiled.fuel)

        assert expected == actual


# ---------------------------------------------------------------------------------- Roster


def roster(rows: list[tuple[str, str, str, str, int, int]]) -> Roster:
    """Build a roster from (contract, trip, person, category, units, scale) rows."""
    hours = DecimalColumn()
    for *_, units, scale in rows:
        hours.append(units, scale)
    return Roster(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        hours,
    )


ROSTER = roster(
    [
        ("C", "T1", "P2", "TO", 250, 2),  # 2.50 h
        ("C", "T1", "P1", "TO", 125, 2),  # 1.25 h
        ("C", "T1", "P1", "TO", 5, 1),  # 0.5 h more for P1: 1.75 h
        ("C", "T1", "P3", "CO", 3, 0),  # 3 h
        ("C", "T2", "P1", "CO", 8, 0),  # another trip, another category
        ("D", "T1", "P1", "TO", 1, 0),  # another contract
    ]
)


class TestRoster:
    """Roster: hours and labor categories per person per trip."""

    def test_repeated_rows_of_a_person_are_summed(self) -> None:
        """1.25 h + 0.5 h of one person on one trip is 1.75 h."""
        expected = (175, 2)

        actual = ROSTER.hours("C", "T1", "P1")

        assert expected == actual

    @pytest.mark.parametrize(
        ("key", "expected"),
        [
            (("C", "T1", "P1"), "TO"),
            (("C", "T1", "P3"), "CO"),
            (("C", "T2", "P1"), "CO"),
            (("C", "T3", "P1"), None),
            (("C", "T1", "P9"), None),
        ],
    )
    def test_category(self, key: tuple[str, str, str], expected: str | None) -> None:
        """A person's category is per trip; someone not on the roster has none."""

        actual = ROSTER.category(*key)

        assert expected == actual

    @pytest.mark.parametrize(
        ("labor_category", "expected"),
        [(None, ["P1", "P2", "P3"]), ("TO", ["P1", "P2"]), ("CO", ["P3"]), ("XX", [])],
    )
    def test_people_by_category(self, labor_category: str | None, expected: list[str]) -> None:
        """people() lists the trip's persons, sorted, optionally of one category."""

        actual = ROSTER.people("C", "T1", labor_category)

        assert expected == actual

    def test_people_of_unknown_trip(self) -> None:
        """A trip without a roster has nobody on it."""

        expected: list[str] = []

        actual = ROSTER.people("C", "T9")

        assert expected == actual

    @pytest.mark.parametrize(
        ("persons", "expected"),
        [
            (["P1", "P2"], (425, 2)),  # 1.75 + 2.50
            (["P1", "P2", "P3"], (725, 2)),  # + 3
            (["P3"], (3, 0)),
            (["P9"], None),
            ([], None),
        ],
    )
    def test_total_hours(self, persons: list[str], expected: tuple[int, int] | None) -> None:
        """Hours of the named persons are summed exactly; nobody with hours gives None."""

        actual = ROSTER.total_hours("C", "T1", persons)

        assert expected == actual
