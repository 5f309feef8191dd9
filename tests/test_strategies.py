"""Tests of ice_recon.strategies: option checks, record invariants, and the oracle of cases().

The oracle property is the point of the module: every line of a drawn case is classified by
``reconcile`` exactly as it was built (status, findings, amounts, trip, match), and a case
written to files loads back to the same inputs. The invariants of DESIGN section 7 are
checked over the same cases.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import pkgutil
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import ice_recon
from ice_recon import Report, Status, load, load_files, reconcile
from ice_recon.records import TierMode, Trip
from ice_recon.strategies import (
    Case,
    amounts,
    cases,
    invoice_lines,
    manifests,
    quantities,
    rate_rules,
    rate_schedules,
    rates,
    rosters,
    trips,
)

MEASURES = ("flight_hours", "loaded_miles", "passengers", "vehicle_hours", "wait_hours")
LINE = {
    "invoice_id": "INV-1",
    "line_no": "1",
    "contract_id": "C",
    "clin": "0001",
    "service_date": "2021-10-04",
    "quantity": "1",
    "unit_price": "1.00",
    "amount": "1.00",
}


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent


def _trip_rows(trips: tuple[Trip, ...], measures: tuple[str, ...] = MEASURES) -> list[Any]:
    """Return manifest rows with every measure column (so that every basis is known)."""
    rows = []
    for trip in trips:
        row = trip.to_row()
        for name in measures:
            row.setdefault(name, "")
        rows.append(row)
    return rows


def _report(case: Case) -> Report:
    return reconcile(case.inputs, policy=case.policy)


# ---------------------------------------------------------------------------- option checks

BAD_OPTIONS: list[tuple[Callable[..., Any], dict[str, Any]]] = [
    (amounts, {"places": 3}),
    (amounts, {"places": -1}),
    (amounts, {"places": 1.5}),
    (amounts, {"min_value": 0.5}),
    (amounts, {"max_value": Decimal("NaN")}),
    (amounts, {"min_value": Decimal("5"), "max_value": Decimal("4")}),
    (amounts, {"min_value": Decimal("1.001"), "max_value": Decimal("1.009")}),
    (rates, {"places": True}),
    (rates, {"min_value": "1"}),
    (quantities, {"max_value": Decimal("Infinity")}),
    (quantities, {"min_value": 3, "max_value": 2}),
    (rate_rules, {"contract_ids": []}),
    (rate_rules, {"contract_ids": "HSCEMD-19-C-00012"}),
    (rate_rules, {"bases": ["loaded_miles", " passengers"]}),
    (rate_rules, {"min_date": dt.date(2022, 1, 2), "max_date": dt.date(2022, 1, 1)}),
    (rate_rules, {"min_date": dt.datetime(2022, 1, 1)}),
    (rate_schedules, {"kinds": ["measure", "bus"]}),
    (rate_schedules, {"min_clins": 0}),
    (rate_schedules, {"min_clins": 3, "max_clins": 2}),
    (trips, {"contract_ids": ["C", "C"]}),
    (manifests, {"min_size": -1}),
    (manifests, {"min_size": 3, "max_size": 1}),
    (rosters, {"trips": ["T1"]}),
    (rosters, {"trips": [], "min_size": 1}),
    (rosters, {"labor_categories": [""]}),
    (invoice_lines, {"trip_refs": [1]}),
    (cases, {"statuses": []}),
    (cases, {"statuses": ["PAID"]}),
    (cases, {"statuses": "MATCHED"}),
    (cases, {"min_lines": 0}),
    (cases, {"min_lines": 5, "max_lines": 4}),
    (cases, {"max_lines": 201}),
    (cases, {"statuses": [Status.DUPLICATE]}),
    (cases, {"contracts": 0}),
    (cases, {"contracts": 7}),
    (cases, {"contracts": []}),
    (cases, {"contracts": True}),
]


class TestOptions:
    """Bad options raise InvalidArgument (a TypeError), as Hypothesis' own strategies do."""

    @pytest.mark.parametrize(
        ("strategy", "options"),
        BAD_OPTIONS,
        ids=[f"{f.__name__}-{sorted(o)}-{i}" for i, (f, o) in enumerate(BAD_OPTIONS)],
    )
    def test_bad_option_is_refused(
        self, strategy: Callable[..., Any], options: dict[str, Any]
    ) -> None:
        """The strategy refuses the option: Hypothesis's InvalidArgument and an IceReconError."""
        with pytest.raises(InvalidArgument) as raised:
            strategy(**options)

        assert isinstance(raised.value, ice_recon.IceReconError)

    def test_options_are_keyword_only(self) -> None:
        """Options cannot be given by position."""
        with pytest.raises(TypeError):
            amounts(0)  # type: ignore[misc]

    def test_duplicate_only_with_two_lines_is_allowed(self) -> None:
        """DUPLICATE as the only status is fine when a case has room for its original."""
        strategy = cases(statuses=[Status.DUPLICATE], min_lines=2)

        assert strategy is not None


# ---------------------------------------------------------------------------------- numbers


class TestNumbers:
    """amounts(), rates(), quantities(): exact places, bounds, non-negative by default."""

    @given(st.data())
    def test_places_and_bounds(self, data: st.DataObject) -> None:
        """Every value has exactly the places asked for and lies within the bounds."""
        places = data.draw(st.integers(0, 6))
        low = data.draw(st.integers(0, 10**6)) / Decimal(100)
        high = low + data.draw(st.integers(1, 10**4))  # at least one value at any places
        strategy = data.draw(st.sampled_from([rates, quantities]))
        value = data.draw(strategy(min_value=low, max_value=high, places=places))

        assert (_places(value), low <= value <= high) == (places, True)

    @given(amounts())
    def test_amounts_are_money(self, value: Decimal) -> None:
        """An amount is a non-negative Decimal with exactly 2 places."""
        assert (type(value), _places(value), value >= 0) == (Decimal, 2, True)

    @given(amounts(places=0, min_value=Decimal("0.5"), max_value=Decimal("1.5")))
    def test_bounds_are_rounded_inward(self, value: Decimal) -> None:
        """With 0 places between 0.5 and 1.5, the only value is 1."""
        assert value == Decimal(1)

    @given(st.sampled_from([amounts, rates, quantities]).flatmap(lambda s: s()))
    def test_non_negative_by_default(self, value: Decimal) -> None:
        """Values are non-negative unless min_value says otherwise (and never -0)."""
        assert not value.is_signed()

    @given(rates(min_value=-5, max_value=-1, places=2))
    def test_negative_bounds_are_allowed(self, value: Decimal) -> None:
        """A negative range (to test credits, say) is honoured."""
        assert Decimal(-5) <= value <= Decimal(-1)


# ---------------------------------------------------------------------------------- records


class TestRateRules:
    """rate_rules(): single flat rules, valid on their own."""

    @given(rate_rules())
    def test_a_rule_loads_without_problem(self, rule: ice_recon.RateRule) -> None:
        """The rule is a valid rates.csv row when manifests.csv has its measure column."""
        inputs = load_files(
            rates=[rule], manifests=[{**dict.fromkeys(MEASURES, ""), **_TRIP}], invoice_lines=[LINE]
        )

        assert inputs.problems == ()

    @given(rate_rules(contract_ids=["C9"], bases=["trip"]))
    def test_options_are_honoured(self, rule: ice_recon.RateRule) -> None:
        """The contract and basis come from the options; the window lies in the dates."""
        assert (rule.contract_id, rule.basis, rule.start <= rule.end) == ("C9", "trip", True)


_TRIP = {"trip_id": "T1", "contract_id": "C", "service_date": "2021-10-04"}


class TestRateSchedules:
    """rate_schedules(): consistent sets of rules of every kind, with a fuel index."""

    @given(rate_schedules(), manifests(min_size=1, max_size=3))
    def test_a_schedule_loads_without_problem(
        self, schedule: ice_recon.strategies.RateSchedule, trips: tuple[Trip, ...]
    ) -> None:
        """No overlap, tier sets start at 0, no CLIN in both files, Monday weeks, no dupes."""
        inputs = load_files(
            rates=schedule.rates,
            fuel_rules=schedule.fuel_rules,
            fuel_index=schedule.fuel_index,
            manifests=_trip_rows(trips, schedule.measures),
            invoice_lines=[LINE],
        )

        assert inputs.problems == ()

    @given(rate_schedules(kinds=["graduated", "all_units", "cancellation_tiers"]))
    def test_tier_sets_start_at_zero(self, schedule: ice_recon.strategies.RateSchedule) -> None:
        """Every tier set has a tier from 0 and one tier_mode."""
        sets: dict[tuple[Any, ...], set[Any]] = collections.defaultdict(set)
        for r in schedule.rates:
            sets[(r.contract_id, r.clin, r.start)].add((r.tier_from == 0, r.tier_mode))

        assert all(
            any(zero for zero, _ in s) and len({m for _, m in s}) == 1 for s in sets.values()
        )

    def test_every_kind_is_drawn(self) -> None:
        """Over a few schedules, every rule kind of DESIGN 4.1 appears."""
        seen: set[str] = set()

        @settings(max_examples=100, derandomize=True, database=None)
        @given(rate_schedules())
        def collect(schedule: ice_recon.strategies.RateSchedule) -> None:
            for r in schedule.rates:
                seen.add(r.basis if r.tier_mode is None else f"{r.basis}/{r.tier_mode}")
                for name in ("free_quantity", "increment", "minimum_quantity", "minimum_amount"):
                    if getattr(r, name) is not None:
                        seen.add(name)
            if schedule.fuel_rules:
                seen.add("fuel")

        collect()

        expected = {
            "trip",
            "cancellation",
            f"cancellation/{TierMode.ALL_UNITS}",
            "labor_hours",
            f"passengers/{TierMode.GRADUATED}",
            f"passengers/{TierMode.ALL_UNITS}",
            "fuel",
            "free_quantity",
            "increment",
            "minimum_quantity",
            "minimum_amount",
        }
        assert expected <= seen


class TestTripsAndRosters:
    """trips(), manifests(), rosters(): valid trips, unique ids, one category per person."""

    @given(manifests(max_size=10))
    def test_trip_ids_are_unique_per_contract(self, trips: tuple[Trip, ...]) -> None:
        """No two trips of a contract share an id (compared upper-cased)."""
        keys = [(t.contract_id, t.trip_id.upper()) for t in trips]

        assert len(set(keys)) == len(keys)

    @given(
        manifests(min_size=1, max_size=5).flatmap(lambda t: st.tuples(st.just(t), rosters(trips=t)))
    )
    def test_a_roster_loads_without_problem(
        self, pair: tuple[tuple[Trip, ...], tuple[ice_recon.StaffAssignment, ...]]
    ) -> None:
        """Every roster row names a given trip, and nobody has two categories on a trip."""
        trips, roster = pair
        inputs = load_files(
            rates=[_RULE], manifests=_trip_rows(trips), staff=roster, invoice_lines=[LINE]
        )
        names = {(t.contract_id, t.trip_id) for t in trips}

        assert (
            inputs.problems,
            all((s.contract_id, s.trip_id) in names for s in roster),
        ) == ((), True)

    @given(trips(measures=["loaded_miles"]))
    def test_only_the_measures_asked_for(self, trip: Trip) -> None:
        """A trip records a subset of the measures asked for."""
        assert {name for name, _ in trip.measures} <= {"loaded_miles"}


_RULE = {
    "contract_id": "C",
    "clin": "0001",
    "basis": "trip",
    "rate": "1.00",
    "start": "2021-10-01",
    "end": "2021-10-31",
}


class TestInvoiceLines:
    """invoice_lines(): valid lines billed at quantity x unit price rounded half up."""

    @given(
        st.lists(invoice_lines(trip_refs=["T1"]), min_size=1, max_size=5, unique_by=lambda x: x.key)
    )
    def test_lines_load_without_problem(self, lines: list[ice_recon.InvoiceLine]) -> None:
        """The lines are valid rows; their amounts are money."""
        inputs = load_files(rates=[_RULE], manifests=[_TRIP], invoice_lines=lines)

        assert inputs.problems == ()

    @given(invoice_lines())
    def test_amount_is_the_extension(self, line: ice_recon.InvoiceLine) -> None:
        """amount = quantity x unit_price rounded half up to cents."""
        exact = line.quantity * line.unit_price
        expected = exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")

        assert expected == line.amount


# ------------------------------------------------------------------------------- the oracle


def _outcome(result: ice_recon.LineResult) -> tuple[Any, ...]:
    return (
        result.status,
        result.findings,
        result.billed,
        result.expected,
        result.trip_id,
        result.match,
    )


def _answer(line: ice_recon.strategies.ExpectedLine) -> tuple[Any, ...]:
    return (line.status, line.findings, line.billed, line.expected, line.trip_id, line.match)


def check_oracle(case: Case, report: Report) -> None:
    """Assert that *report* gives every line of *case* the answer it was built to have."""
    got = {r.key: _outcome(r) for r in report.lines}
    wrong = {
        key: (line.variant, _answer(line), got.get(key))
        for key, line in case.lines.items()
        if got.get(key) != _answer(line)
    }
    assert wrong == {}
    assert case.unbilled == {(u.contract_id, u.trip_id) for u in report.unbilled}
    # The oracle knows section 5's invoice findings (section 9's are checked elsewhere).
    section5 = ("FOOTING_ERROR", "DUPLICATE_INVOICE")
    findings = {
        (f.contract_id, f.invoice_id, f.finding.value)
        for f in report.invoices
        if f.finding.value in section5
    }
    assert case.invoice_findings == findings


class TestCases:
    """cases(): every line is classified as it was built; the files load back the same."""

    @given(cases(max_lines=50))
    def test_reconcile_classifies_every_line_as_built(self, case: Case) -> None:
        """Status, findings, A, E, trip and match of every line; unbilled trips; footing."""
        report = _report(case)

        check_oracle(case, report)
        assert (case.expected, case.expected_amounts) == (
            {r.key: r.status for r in report.lines},
            {r.key: r.expected for r in report.lines if r.expected is not None},
        )

    @given(cases(max_lines=12))
    def test_only_invalid_lines_have_problems(self, case: Case) -> None:
        """The data set is valid except for the lines built to be INVALID, one problem each."""
        invalid = sum(1 for line in case.lines.values() if line.status is Status.INVALID)
        problems = case.inputs.problems

        assert ({"invoice_lines.csv"} if invalid else set(), invalid) == (
            {p.file for p in problems},
            len({p.line for p in problems}),
        )

    @settings(suppress_health_check=[HealthCheck.too_slow])
    @given(cases(max_lines=12))
    def test_written_files_load_back_to_the_same_inputs(self, case: Case) -> None:
        """write() + load() gives the same tables (but file digests) and the same results."""
        with tempfile.TemporaryDirectory() as folder:
            case.write(folder)
            loaded = load(folder)
            report = reconcile(folder, policy=case.policy)

        assert attrs.evolve(loaded, digests={}) == case.inputs
        check_oracle(case, report)

    @given(
        st.lists(st.sampled_from(list(Status)), min_size=1, max_size=3, unique=True).flatmap(
            lambda chosen: st.tuples(
                st.just(chosen), cases(statuses=chosen, min_lines=2, max_lines=6)
            )
        )
    )
    def test_lines_are_built_as_the_statuses_asked_for(
        self, pair: tuple[list[Status], Case]
    ) -> None:
        """Only the chosen statuses, plus MATCHED for what a DUPLICATE line duplicates."""
        chosen, case = pair
        allowed = set(chosen)
        if Status.DUPLICATE in allowed and not allowed & set(_PRICED):
            allowed.add(Status.MATCHED)

        assert {line.status for line in case.lines.values()} <= allowed

    @given(cases(min_lines=3, max_lines=7))
    def test_number_of_lines(self, case: Case) -> None:
        """A case has a number of lines in [min_lines, max_lines]."""
        assert 3 <= len(case.lines) <= 7

    @given(cases(contracts=["A-1"], max_lines=5))
    def test_contract_ids_option(self, case: Case) -> None:
        """With contract ids given, every line and trip is of those contracts."""
        contracts = {row.get("contract_id", "A-1") for rows in case.tables.values() for row in rows}

        assert {"A-1"} == contracts

    @pytest.mark.slow
    def test_oracle_over_a_thousand_examples(self) -> None:
        """The oracle holds on 1,000 derandomized cases, and every status is produced."""
        counts: collections.Counter[Status] = collections.Counter()
        variants: collections.Counter[str] = collections.Counter()

        @settings(
            max_examples=1000,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(cases(max_lines=50))
        def run(case: Case) -> None:
            check_oracle(case, _report(case))
            counts.update(line.status for line in case.lines.values())
            variants.update(line.variant for line in case.lines.values())

        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        print(f"\n1,000 cases, {sum(counts.values())} lines, {seconds:.1f} s")
        for status in Status:
            print(f"  {status.value:<24} {counts[status]:>6}")
        print(f"  {len(variants)} constructions used")

        assert set(Status) == set(counts)


_PRICED = (
    Status.MATCHED,
    Status.ROUNDING_DIFF,
    Status.EXTENSION_ERROR,
    Status.QUANTITY_MISMATCH,
    Status.RATE_MISMATCH,
    Status.MINIMUM_MISAPPLIED,
    Status.AMOUNT_MISMATCH,
    Status.LABOR_CATEGORY_MISMATCH,
)


# --------------------------------------------------------------- the invariants of DESIGN 7


class TestInvariants:
    """DESIGN section 7 over cases(): conservation, ledgers, decomposition, row order."""

    @given(cases(max_lines=15))
    def test_conservation(self, case: Case) -> None:
        """Every line is in the results once; every trip is either claimed or unbilled."""
        report = _report(case)
        keys = [r.key for r in report.lines]
        trips = {(row["contract_id"], row["trip_id"]) for row in case.tables["manifests.csv"]}
        claimed = {
            (r.contract_id, r.trip_id)
            for r in report.lines
            if r.trip_id is not None and r.status is not Status.INVALID
        }
        unbilled = {(u.contract_id, u.trip_id) for u in report.unbilled}

        assert (sorted(keys), len(set(keys)), claimed | unbilled, claimed & unbilled) == (
            sorted(case.lines),
            len(case.tables["invoice_lines.csv"]),
            trips,
            set(),
        )

    @given(cases(max_lines=15))
    def test_ledger_identity(self, case: Case) -> None:
        """billed - expected = variance = erroneous + unsupported - underbilled, per line,
        per contract and overall; nothing is counted twice; INVALID is in no ledger."""
        report = _report(case)
        zero = Decimal("0.00")
        totals: Mapping[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        for r in report.lines:
            if r.status is Status.INVALID:
                assert (r.billed, r.expected, r.variance) == (None, None, None)
                continue
            assert r.billed is not None and r.expected is not None and r.variance is not None
            assert r.erroneous is not None and r.unsupported is not None
            assert r.underbilled is not None
            parts = (r.erroneous, r.unsupported, r.underbilled)
            assert sum(p != zero for p in parts) <= 1 and min(parts) >= 0
            assert (
                r.billed - r.expected == r.variance == r.erroneous + r.unsupported - r.underbilled
            )
            for scope in (r.contract_id, "*"):
                for name in ("billed", "expected", "erroneous", "unsupported", "underbilled"):
                    totals[scope][name] += getattr(r, name)
        for scope, ledgers in [("*", report.ledgers)] + [
            (cid, c.ledgers) for cid, c in report.contracts.items()
        ]:
            t = totals[scope]
            assert (
                ledgers.billed,
                ledgers.expected,
                ledgers.erroneous,
                ledgers.unsupported,
                ledgers.underbilled,
            ) == (t["billed"], t["expected"], t["erroneous"], t["unsupported"], t["underbilled"])
            assert ledgers.variance == ledgers.billed - ledgers.expected
            assert ledgers.variance == ledgers.erroneous + ledgers.unsupported - ledgers.underbilled
            assert ledgers.questioned == ledgers.erroneous + ledgers.unsupported

    @given(cases(max_lines=15))
    def test_decomposition_adds_up_to_the_variance(self, case: Case) -> None:
        """extension + price + quantity + minimum = A - E on every priced line (rows 7-14)."""
        report = _report(case)
        priced = set(_PRICED)
        for r in report.lines:
            if r.status in priced:
                assert r.decomposition is not None
                assert sum(r.decomposition) == r.variance
            else:
                assert r.decomposition is None

    @given(cases(max_lines=15), st.randoms(use_true_random=False))
    def test_order_independence(self, case: Case, rnd: random.Random) -> None:
        """Shuffling the rows of every file changes not one byte of the written report."""
        shuffled = {}
        for name, rows in case.tables.items():
            rows = list(rows)
            rnd.shuffle(rows)
            shuffled[name] = rows
        tables = {k[: -len(".csv")]: v for k, v in shuffled.items()}
        permuted = load_files(**tables)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory() as folder:
            _report(case).write(Path(folder, "a"))
            reconcile(permuted, policy=case.policy).write(Path(folder, "b"))
            files = ("results.csv", "unbilled.csv", "invoices.csv", "summary.json")
            first = [Path(folder, "a", f).read_bytes() for f in files]
            second = [Path(folder, "b", f).read_bytes() for f in files]

        assert first == second

    @given(cases(max_lines=15, contracts=3))
    def test_partition_independence(self, case: Case) -> None:
        """Reconciling contract by contract gives each line the same result as all at once."""
        whole = {r.key: _outcome(r) for r in _report(case).lines}
        contracts = {row["contract_id"] for row in case.tables["invoice_lines.csv"]}
        parts = {}
        with tempfile.TemporaryDirectory() as folder:
            for contract in contracts:
                # Each file keeps its header (a contract may have no trips, but its rules
                # still need the measure columns); the fuel index, without a contract
                # column, goes to every partition.
                part = Path(folder, contract)
                part.mkdir()
                for name, rows in case.tables.items():
                    header = list(dict.fromkeys(k for row in rows for k in row))
                    mine = [r for r in rows if r.get("contract_id", contract) == contract]
                    with Path(part, name).open("w", encoding="utf-8", newline="") as f:
                        writer = csv.writer(f, lineterminator="\n")
                        writer.writerow(header)
                        writer.writerows([r.get(k, "") for k in header] for r in mine)
                report = reconcile(part, policy=case.policy)
                parts.update({r.key: _outcome(r) for r in report.lines})

        assert whole == parts


# ------------------------------------------------------------------------------- packaging


class TestImport:
    """The strategies are an optional extra: ``import ice_recon`` never imports Hypothesis."""

    def test_import_ice_recon_does_not_import_hypothesis(self) -> None:
        """A fresh interpreter that imports ice_recon has not loaded hypothesis."""
        code = "import sys, ice_recon; print('hypothesis' in sys.modules)"

        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )

        assert out.stdout.strip() == "False"

    def test_strategies_is_importable_from_the_package(self) -> None:
        """``from ice_recon import strategies`` works and exposes cases()."""
        from ice_recon import strategies

        assert callable(strategies.cases)

    def test_strategies_is_not_in_the_package_namespace(self) -> None:
        """ice_recon.__all__ does not list the strategies (they need the extra)."""
        assert "strategies" not in ice_recon.__all__

    def test_all_is_sorted_and_unchanged(self) -> None:
        """ice_recon.strategies.__all__ is sorted and lists the documented public names."""
        expected = [
            "Case",
            "ExpectedLine",
            "InvalidArgument",
            "RateSchedule",
            "amounts",
            "cases",
            "invoice_lines",
            "manifests",
            "quantities",
            "rate_rules",
            "rate_schedules",
            "rates",
            "rosters",
            "trips",
        ]

        assert expected == ice_recon.strategies.__all__

    @pytest.mark.parametrize("name", ice_recon.strategies.__all__)
    def test_every_name_resolves(self, name: str) -> None:
        """Every name in ice_recon.strategies.__all__ is an attribute of the package."""
        assert getattr(ice_recon.strategies, name) is not None

    def test_submodules_are_private(self) -> None:
        """The package's modules are private: the public names live on the package only."""
        names = [m.name for m in pkgutil.iter_modules(ice_recon.strategies.__path__)]

        assert names
        assert [n for n in names if not n.startswith("_")] == []
