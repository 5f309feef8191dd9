"""Tests of the data generator used by ``ice-recon generate`` and the benchmarks."""

from __future__ import annotations

import collections
import csv
import dataclasses
import datetime as dt
import itertools
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

import ice_recon
from ice_recon.generate import (
    ERROR_KINDS,
    MIN_DAYS,
    TRIPS_PER_CONTRACT_DAY,
    _generate,
    default_trips,
    generate,
)
from ice_recon.load import FILES

#: What each planted kind must give (DESIGN section 5): the status, and findings it must have.
EXPECTED = {
    "clean": ("MATCHED", set()),
    "quantity": ("QUANTITY_MISMATCH", set()),
    "rate": ("RATE_MISMATCH", set()),
    "extension": ("EXTENSION_ERROR", set()),
    "rounding": ("ROUNDING_DIFF", set()),
    "duplicate": ("DUPLICATE", set()),
    "unknown_ref": ("UNSUPPORTED", set()),
    "inferable": ("MATCHED", {"INFERRED_MATCH"}),
    "missing_measure": ("UNSUPPORTED", {"MISSING_MEASURE"}),
    "not_performed": ("NOT_PERFORMED", set()),
    "labor_category": ("LABOR_CATEGORY_MISMATCH", {"RATE_MISMATCH"}),
    "no_rate": ("NO_RATE", set()),
    "minimum": ("MINIMUM_MISAPPLIED", set()),
    "amount": ("AMOUNT_MISMATCH", set()),
    "invalid": ("INVALID", set()),
    "service_date": ("MATCHED", {"SERVICE_DATE_MISMATCH"}),
    "ambiguous": ("UNSUPPORTED", {"AMBIGUOUS_MATCH"}),
    "duplicate_no_ref": ("UNSUPPORTED", {"DUPLICATE_CANDIDATE"}),
    "no_rate_gap": ("NO_RATE", set()),
    "missing_week": ("UNSUPPORTED", {"MISSING_MEASURE"}),
}
#: The malformed cells that the generator plants: (column, value as Problem.value gives it).
MALFORMED = {
    ("amount", "1e3"),
    ("service_date", "2022-02-30"),
    ("clin", None),
    ("quantity", "1,5"),
}
RECORDED = re.compile(r"recorded (\S+) \(billable (\S+)\)")
FUEL_WEEK = re.compile(r"fuel index \S+ week (\d{4}-\d\d-\d\d)")


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclasses.dataclass(frozen=True)
class Run:
    """A generated folder, the planted kind of each line, its report and its input rows."""

    folder: Path
    kinds: list[str]
    report: ice_recon.Report
    lines: list[dict[str, str]]
    results: dict[tuple[str, str, str], ice_recon.LineResult]

    @property
    def lines_by_key(self) -> dict[tuple[str, str, str], dict[str, str]]:
        """Map each line's key to its row of invoice_lines.csv."""
        return {(row["contract_id"], row["invoice_id"], row["line_no"]): row for row in self.lines}

    def kind_of(self) -> dict[tuple[str, str, str], str]:
        """Map each line's key to its planted kind (the kinds are in file order)."""
        keys = [(row["contract_id"], row["invoice_id"], row["line_no"]) for row in self.lines]
        return dict(zip(keys, self.kinds, strict=True))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Generate and reconcile a 20,000-line folder (4 contracts, the default trips)."""
    folder = tmp_path_factory.mktemp("generated")
    _, kinds = _generate(folder, lines=20_000, trips=None, contracts=4, seed=1)
    report = ice_recon.reconcile(folder)
    results = {(r.contract_id, r.invoice_id, r.line_no_text): r for r in report.lines}
    return Run(folder, kinds, report, _rows(folder / "invoice_lines.csv"), results)


def _rule_kinds(folder: Path) -> dict[str, set[str]]:
    """Return rule_id -> the rule kinds of DESIGN 4.1 and 4.4 it has, read from the files."""
    kinds: dict[str, set[str]] = collections.defaultdict(set)
    for row in _rows(folder / "rates.csv"):
        category = f"/{row['labor_category']}" if row["labor_category"] else ""
        rule = kinds[f"{row['contract_id']}/{row['clin']}{category}/{row['start']}"]
        for column in ("minimum_amount", "minimum_quantity", "free_quantity"):
            if row[column]:
                rule.add(column)
        if row["increment"]:
            rule.add(f"increment {row['increment_rounding'] or 'down'}")
        if row["rounding"]:
            rule.add(f"rounding {row['rounding']}")
        if row["tier_mode"]:
            on = "cancellation" if row["basis"] == "cancellation" else "measure"
            rule.add(f"{row['tier_mode']} on {on}")
        if row["basis"] == "labor_hours":
            rule.add("labor by category" if row["labor_category"] else "labor any category")
    for row in _rows(folder / "fuel_rules.csv"):
        rule = kinds[f"{row['contract_id']}/{row['clin']}/{row['start']}"]
        rule.add(f"fuel {row['week_rule'] or 'service_week'}")
        rule.add(f"fuel places {row['places'] or '2'}")
    return kinds


class TestGenerate:
    def test_same_seed_same_bytes(self, tmp_path: Path) -> None:
        """The same arguments write byte-identical folders; another seed does not."""
        generate(tmp_path / "a", lines=300, trips=250, contracts=2, seed=3)
        generate(tmp_path / "b", lines=300, trips=250, contracts=2, seed=3)
        generate(tmp_path / "c", lines=300, trips=250, contracts=2, seed=4)
        generate(tmp_path / "d", lines=300, contracts=2, seed=3)
        generate(tmp_path / "e", lines=300, contracts=2, seed=3)

        a, b, c, d, e = (_bytes(tmp_path / x) for x in "abcde")

        assert a == b
        assert d == e
        assert a["invoice_lines.csv"] != c["invoice_lines.csv"]

    def test_only_the_planted_malformed_lines_are_problems(self, tmp_path: Path) -> None:
        """Every input problem is a planted malformed cell of a line; every other row is valid."""
        stats = generate(tmp_path, lines=6000, trips=5000, contracts=3, seed=11)

        inputs = ice_recon.load(tmp_path)

        assert len(inputs.invoice_lines) == stats["lines"] == 6000
        assert {(p.file, p.column, p.value) for p in inputs.problems} == {
            ("invoice_lines.csv", column, value) for column, value in MALFORMED
        }
        # A malformed line is in no invoice total: only the planted footing errors show.
        report = ice_recon.reconcile(inputs)
        footing = [f for f in report.invoices if f.finding.value == "FOOTING_ERROR"]
        assert all(f.difference in {Decimal("9.00"), Decimal("-18.00"), Decimal("0.01")}
                   for f in footing)  # fmt: skip

    def test_every_planted_line_is_classified_as_planted(self, run: Run) -> None:
        """Each line gets the status and findings of its planted kind (clean lines: MATCHED)."""
        row_of = {(row["contract_id"], row["invoice_id"], row["line_no"]): row for row in run.lines}
        trip_day = {
            (row["contract_id"], row["trip_id"]): row["service_date"]
            for row in _rows(run.folder / "manifests.csv")
        }
        wrong = []
        for key, kind in run.kind_of().items():
            result, row = run.results[key], row_of[key]
            status, findings = EXPECTED[kind]
            allowed = {status, *findings}
            # A right amount that is not quantity x price (a minimum, graduated tiers) is
            # listed as EXTENSION_ERROR on a MATCHED line (DESIGN section 5, row 7).
            if row["clin"] in ("0001", "0006") and status == "MATCHED":
                allowed.add("EXTENSION_ERROR")
            # A duplicate of a line dated off its trip's date keeps that date.
            # So does a passenger charge planted off its date on a trip that counted none.
            if (
                kind in ("duplicate", "missing_measure")
                and row["trip_ref"]
                and row["service_date"] != trip_day.get((key[0], row["trip_ref"]))
            ):
                allowed.add("SERVICE_DATE_MISMATCH")
            if result.status.value != status or not (findings <= set(result.findings) <= allowed):
                wrong.append((key, kind, result.status.value, result.findings))

        assert wrong == []

    def test_every_planted_kind_is_visible(self, run: Run) -> None:
        """Each planted kind gives at least 10 of the 20,000 lines; about 60 % are clean."""
        counts = collections.Counter(run.kinds)

        rare = {kind: counts[kind] for kind in EXPECTED if counts[kind] < 10}
        assert rare == {}
        assert {kind for kind, _ in ERROR_KINDS} - {"footing"} <= set(counts)
        assert 0.6 < counts["clean"] / len(run.kinds) < 0.8
        findings = collections.Counter(f.finding.value for f in run.report.invoices)
        assert findings["FOOTING_ERROR"] >= 3
        assert findings["DUPLICATE_INVOICE"] >= 1

    def test_every_rule_kind_prices_lines(self, run: Run) -> None:
        """Rules of every kind of DESIGN 4.1 and 4.4 are in the files and price matched lines."""
        rule_kinds = _rule_kinds(run.folder)
        every = {
            "minimum_amount", "minimum_quantity", "free_quantity", "increment down",
            "increment up", "increment nearest", "rounding half_even", "rounding down",
            "all_units on measure", "all_units on cancellation", "graduated on measure",
            "labor by category", "labor any category", "fuel service_week", "fuel prior_week",
            "fuel places 2", "fuel places 3",
        }  # fmt: skip
        priced = collections.Counter(
            kind
            for r in run.report.lines
            if r.status.value == "MATCHED" and r.rule_id
            for kind in rule_kinds[r.rule_id]
        )

        assert set().union(*rule_kinds.values()) == every
        assert {kind: n for kind, n in priced.items() if n >= 20}.keys() == every

    def test_quantity_rules_change_the_billable_quantity(self, run: Run) -> None:
        """minimum_quantity raises, increment up and nearest round the recorded quantities."""
        changes: dict[str, set[str]] = collections.defaultdict(set)
        for r in run.report.lines:
            found = RECORDED.search(r.explanation)
            if r.status.value != "MATCHED" or not found or not r.rule_id:
                continue
            recorded, billable = (Decimal(x) for x in found.groups())
            clin = r.rule_id.split("/")[1]
            if billable == Decimal("2.00") and recorded < billable - Decimal("0.50"):
                changes[clin].add("minimum_quantity")
            elif billable != recorded:
                changes[clin].add("up" if billable > recorded else "down")

        assert changes["0009"] == {"minimum_quantity", "up"}  # increment 0.50 up, minimum 2
        assert changes["0010"] == {"up", "down"}  # increment 1, nearest
        assert changes["0002"] == {"down"}  # free hour, then increment 0.25 down

    def test_rounding_modes_of_rules_decide_the_cent(self, run: Run) -> None:
        """Lines of half_even and down rules match amounts that half up would not give."""
        by_key = {(row["contract_id"], row["invoice_id"], row["line_no"]): row for row in run.lines}
        differs: collections.Counter[str] = collections.Counter()
        for key, r in run.results.items():
            row = by_key[key]
            if r.status.value != "MATCHED" or row["clin"] not in ("0009", "0010"):
                continue
            exact = Decimal(row["quantity"]) * Decimal(row["unit_price"])
            half_up = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if r.expected != half_up:
                differs[row["clin"]] += 1

        assert differs["0009"] >= 10
        assert differs["0010"] >= 10

    def test_fuel_rules_read_the_week_their_rule_names(self, run: Run) -> None:
        """prior_week rules cite the Monday before the service week's; missing weeks show."""
        trip_day = {
            (row["contract_id"], row["trip_id"]): dt.date.fromisoformat(row["service_date"])
            for row in _rows(run.folder / "manifests.csv")
        }
        rule_kinds = _rule_kinds(run.folder)
        lag: collections.Counter[tuple[bool, int]] = collections.Counter()
        missing = 0
        for r in run.report.lines:
            if not r.rule_id or "/0007/" not in r.rule_id or r.trip_id is None:
                continue
            found = FUEL_WEEK.search(r.explanation)
            if found is None:
                missing += "MISSING_MEASURE" in r.findings
                continue
            week = dt.date.fromisoformat(found.group(1))
            days = (_monday(trip_day[r.contract_id, r.trip_id]) - week).days
            lag[("fuel prior_week" in rule_kinds[r.rule_id], days)] += 1

        assert set(lag) == {(False, 0), (True, 7)}
        assert missing >= 10

    def test_lapses_between_option_periods_are_no_rate(self, run: Run) -> None:
        """Trips on days between two option periods are billed, and those lines are NO_RATE."""
        windows: dict[str, set[tuple[str, str]]] = collections.defaultdict(set)
        for row in _rows(run.folder / "rates.csv"):
            if row["clin"] == "0001":
                windows[row["contract_id"]].add((row["start"], row["end"]))
        lapses = set()
        for cid, spans in windows.items():
            ordered = sorted(spans)
            for (_, end), (start, _) in itertools.pairwise(ordered):
                day = dt.date.fromisoformat(end) + dt.timedelta(days=1)
                while day < dt.date.fromisoformat(start):
                    lapses.add((cid, day.isoformat()))
                    day += dt.timedelta(days=1)
        trips_on_lapse = {
            row["trip_id"]
            for row in _rows(run.folder / "manifests.csv")
            if (row["contract_id"], row["service_date"]) in lapses
        }
        on_lapse = [r for r in run.report.lines if r.trip_id in trips_on_lapse]

        assert len(on_lapse) >= 20
        assert {r.status.value for r in on_lapse} <= {"NO_RATE", "INVALID"}

    def test_labor_lines_name_a_person_a_category_or_both(self, run: Run) -> None:
        """Labor lines with only a person, only a category, or neither are priced and matched."""
        forms: collections.Counter[tuple[str, tuple[bool, bool]]] = collections.Counter()
        for row in run.lines:
            if row["clin"] not in ("0004", "0011"):
                continue
            result = run.results[row["contract_id"], row["invoice_id"], row["line_no"]]
            if result.status.value == "MATCHED":
                form = (bool(row["person_id"]), bool(row["labor_category"]))
                forms[(row["clin"], form)] += 1

        assert all(forms[("0004", form)] >= 20 for form in ((True, True), (True, False),
                                                             (False, True)))  # fmt: skip
        assert all(forms[("0011", form)] >= 5 for form in ((True, False), (False, True),
                                                            (False, False)))  # fmt: skip

    def test_most_trips_are_billed_once(self, run: Run) -> None:
        """With the default trips, between 70 % and 95 % of the trips are billed."""
        trips = len(_rows(run.folder / "manifests.csv"))

        assert trips == 20_000 * 2 // 7
        assert 0.05 < len(run.report.unbilled) / trips < 0.3

    def test_trips_per_contract_day_stay_bounded(self, tmp_path: Path) -> None:
        """Ten times the trips spread over ten times the days: the trips per day stay the same."""
        spread = {}
        for trips in (10_000, 100_000):
            folder = tmp_path / str(trips)
            stats = generate(folder, lines=0, trips=trips, contracts=2, seed=5)
            per_day = collections.Counter(
                (row["contract_id"], row["service_date"]) for row in _rows(folder / "manifests.csv")
            )
            spread[trips] = (stats["days"], sum(per_day.values()) / len(per_day),
                             max(per_day.values()))  # fmt: skip

        (days_10k, mean_10k, max_10k), (days_100k, mean_100k, max_100k) = spread.values()
        assert days_10k == max(MIN_DAYS, 5_000 // TRIPS_PER_CONTRACT_DAY + 1)
        assert days_100k == 50_000 // TRIPS_PER_CONTRACT_DAY + 1
        assert abs(mean_100k - mean_10k) < 1.0
        assert 10 <= mean_10k <= 14
        assert max_100k <= 1.5 * max_10k

    def test_rates_and_fuel_index_cover_the_period(self, tmp_path: Path) -> None:
        """Over a 6-year period, every trip day has a rate but a few lapse days, and an index."""
        generate(tmp_path, lines=0, trips=50_000, contracts=2, seed=6)
        trips = _rows(tmp_path / "manifests.csv")
        days = {dt.date.fromisoformat(row["service_date"]) for row in trips}
        weeks = {dt.date.fromisoformat(row["week"]) for row in _rows(tmp_path / "fuel_index.csv")}
        covered: dict[str, set[dt.date]] = collections.defaultdict(set)
        for row in _rows(tmp_path / "rates.csv"):
            if row["clin"] == "0001":
                start, end = (dt.date.fromisoformat(row[c]) for c in ("start", "end"))
                covered[row["contract_id"]].update(
                    start + dt.timedelta(days=i) for i in range((end - start).days + 1)
                )
        lapse = len([
            row for row in trips
            if dt.date.fromisoformat(row["service_date"]) not in covered[row["contract_id"]]
        ])  # fmt: skip
        needed = {_monday(day) for day in days}

        assert (max(days) - min(days)).days > 5 * 365
        assert 0 < lapse / len(trips) < 0.03
        assert 0 < len(needed - weeks) < len(needed) / 30
        assert all(week.weekday() == 0 for week in weeks)

    def test_a_planted_malformed_date_does_not_break_the_headers(self, tmp_path: Path) -> None:
        """Regression: a planted 2022-02-30 made header dates raise ValueError (seed 4)."""
        stats = generate(tmp_path, lines=20_000, trips=16_000, contracts=4, seed=4)

        lines = _rows(tmp_path / "invoice_lines.csv")
        headers = _rows(tmp_path / "invoices.csv")
        assert stats["lines"] == 20_000
        assert any(row["service_date"] == "2022-02-30" for row in lines)
        assert all(dt.date.fromisoformat(row["invoice_date"]) for row in headers)

    @pytest.mark.parametrize(
        ("lines", "trips", "contracts", "seed"),
        [
            (0, 1, 1, 0),
            (0, None, 3, 1),
            (1, 1, 1, 2),
            (1, None, 1, 3),
            (7, 1, 1, 4),
            (10, 2, 5, 5),
            (60, 3, 9, 6),
            (400, None, 2, 7),
            (2000, 150, 6, 8),
        ],
    )
    def test_any_size_gives_a_folder_with_only_the_planted_problems(
        self, tmp_path: Path, lines: int, trips: int | None, contracts: int, seed: int
    ) -> None:
        """Tiny and lopsided sizes (contracts > trips, lines > charges) never crash."""
        stats, kinds = _generate(tmp_path, lines=lines, trips=trips, contracts=contracts,
                                 seed=seed)  # fmt: skip

        # The reader reports a required file with a header and no rows, although DESIGN
        # section 4 calls it valid and empty: the engine's to settle, not the generator's.
        problems = [
            p
            for p in ice_recon.validate(tmp_path)
            if "has a header but no data rows" not in p.message
        ]
        report = ice_recon.reconcile(tmp_path)

        assert stats["lines"] == len(kinds) == len(report.lines) == lines
        assert stats["trips"] == (trips or max(1, lines * 2 // 7))
        assert all(p.file == "invoice_lines.csv" for p in problems)
        assert {(p.column, p.value) for p in problems} <= MALFORMED
        assert len(problems) == kinds.count("invalid")

    def test_bad_sizes_are_refused(self, tmp_path: Path) -> None:
        """Negative lines, no trips or no contracts raise ValueError."""
        with pytest.raises(ValueError, match="need lines"):
            generate(tmp_path, lines=-1)
        with pytest.raises(ValueError, match="need lines"):
            generate(tmp_path, lines=5, trips=0)
        with pytest.raises(ValueError, match="need lines"):
            generate(tmp_path, lines=5, contracts=0)


class TestDefaultTrips:
    def test_two_sevenths_of_the_lines_at_least_one(self) -> None:
        """The default trips are lines * 2 // 7, and at least one."""
        expected = [1, 1, 2, 285_714]

        actual = [default_trips(n) for n in (0, 3, 7, 1_000_000)]

        assert expected == actual


class TestGenerateCommand:
    def test_writes_a_valid_folder(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``ice-recon generate`` writes every input file; the same seed gives the same bytes."""
        from ice_recon.cli import main

        args = ["--lines", "120", "--trips", "100", "--contracts", "2", "--seed", "9"]
        status = main(["generate", str(tmp_path / "a"), *args])
        main(["generate", str(tmp_path / "b"), *args])

        out = capsys.readouterr().out
        assert status == 0
        assert out.startswith("Wrote 120 invoice lines, 100 trips over 365 days")
        assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
            name for name, _ in FILES.values()
        )
        assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")

    def test_trips_default_to_two_sevenths_of_the_lines(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without --trips, the folder has lines * 2 // 7 trips."""
        from ice_recon.cli import main

        status = main(["generate", str(tmp_path), "--lines", "700", "--seed", "2"])

        assert status == 0
        assert capsys.readouterr().out.startswith("Wrote 700 invoice lines, 200 trips")
        assert len(_rows(tmp_path / "manifests.csv")) == 200

    def test_bad_sizes_are_a_usage_error(self, tmp_path: Path) -> None:
        """A non-positive trip count exits 2 without writing anything."""
        from ice_recon.cli import main

        status = main(["generate", str(tmp_path / "x"), "--trips", "0"])

        assert status == 2
        assert not (tmp_path / "x").exists()


#: The level a contract's risk needs of its approver (DESIGN section 9.2).
NEEDED_LEVEL = {"low": 1, "moderate": 2, "high": 3}
LEVELS = {"I": 1, "II": 2, "III": 3}
#: Statuses 7-14 of DESIGN section 5: the lines whose E counts in unused capacity.
PRICED_STATUSES = {
    "MATCHED", "LABOR_CATEGORY_MISMATCH", "MINIMUM_MISAPPLIED", "EXTENSION_ERROR",
    "QUANTITY_MISMATCH", "RATE_MISMATCH", "ROUNDING_DIFF", "AMOUNT_MISMATCH",
}  # fmt: skip
CENT = Decimal("0.01")


def _day(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _interest(principal: Decimal, rate: Decimal, days: int) -> Decimal:
    """5 CFR 1315.10 as DESIGN 9.2 words it: monthly compounding, simple in the last month."""
    from fractions import Fraction

    n, k = divmod(min(days, 365), 30)
    r = Fraction(rate) / 100
    p = Fraction(principal)
    exact = p * (1 + r / 12) ** n * (1 + r * k / 360) - p
    return Decimal(exact.numerator) / Decimal(exact.denominator)


@dataclasses.dataclass(frozen=True)
class Section9:
    """The section 9 cases of a generated folder, computed here from its input files.

    Only the line statuses and ledgers of section 5 come from the engine (they are checked
    against the planted kinds above); every section 9 rule is applied by hand below.
    """

    invoice: dict[str, set[tuple[str, str]]]  # finding -> (contract_id, invoice_id)
    interest: dict[tuple[str, str], Decimal]  # late invoices with a rate -> interest (cents)
    expired: set[tuple[str, str]]  # approved by a COR whose appointment did not cover it
    contract: dict[str, set[str]]  # finding -> contract ids
    notice_percent: dict[str, Decimal]  # contract -> its ceiling notice threshold
    capacity: dict[tuple[str, str], Decimal]  # (contract, trip) -> unused, cents
    deobligation: dict[str, Decimal]  # contract -> funds to deobligate


def _section9(run: Run) -> Section9:
    folder = run.folder
    contracts = {row["contract_id"]: row for row in _rows(folder / "contracts.csv")}
    cors: dict[tuple[str, str], list[tuple[dt.date, dt.date | None, int]]] = (
        collections.defaultdict(list)
    )
    for row in _rows(folder / "cors.csv"):
        appointed = _day(row["appointed"])
        assert appointed is not None
        cors[row["contract_id"], row["person_id"]].append(
            (appointed, _day(row["expires"]), LEVELS[row["level"]])
        )
    rates = [
        (_day(row["start"]), _day(row["end"]), Decimal(row["rate"]))
        for row in _rows(folder / "interest_rates.csv")
    ]
    headers: dict[tuple[str, str], list[dict[str, str]]] = collections.defaultdict(list)
    for row in _rows(folder / "invoices.csv"):
        headers[row["contract_id"], row["invoice_id"]].append(row)
    # B, the questioned amount, S and sum E per invoice, over the non-INVALID lines.
    billed: dict[tuple[str, str], Decimal] = collections.defaultdict(Decimal)
    questioned: dict[tuple[str, str], Decimal] = collections.defaultdict(Decimal)
    latest: dict[tuple[str, str], str] = {}
    expected: dict[str, Decimal] = collections.defaultdict(Decimal)
    for row in run.lines:
        key = (row["contract_id"], row["invoice_id"])
        r = run.results[key[0], key[1], row["line_no"]]
        billed.setdefault(key, Decimal(0))
        if r.status.value == "INVALID":
            continue
        billed[key] += Decimal(row["amount"])
        questioned[key] += r.erroneous + r.unsupported
        latest[key] = max(latest.get(key, ""), row["service_date"])
        expected[key[0]] += r.expected

    found: dict[str, set[tuple[str, str]]] = collections.defaultdict(set)
    interest: dict[tuple[str, str], Decimal] = {}
    expired: set[tuple[str, str]] = set()
    for key, rows in headers.items():
        if len(rows) != 1:
            continue
        (h,) = rows
        terms = contracts[key[0]]
        paid = h["status"] == "paid" or bool(h["paid_date"])
        by, approved_on = h["approved_by"], _day(h["approved_date"])
        if paid or h["status"] == "approved":
            if not by or approved_on is None:
                found["APPROVAL_UNDOCUMENTED"].add(key)
            else:
                windows = cors.get((key[0], by), [])
                cover = [
                    level
                    for start, end, level in windows
                    if start <= approved_on and (end is None or approved_on <= end)
                ]
                if not cover:
                    found["APPROVER_NOT_APPOINTED"].add(key)
                    if windows:
                        expired.add(key)
                elif cover[0] < NEEDED_LEVEL[terms["risk"]]:
                    found["APPROVER_LEVEL_BELOW_RISK"].add(key)
        paid_on = _day(h["paid_date"])
        if paid_on is None:
            continue
        days = dt.timedelta(days=int(terms["payment_days"] or 30))
        received = _day(h.get("received_date", "") or h["invoice_date"])
        assert received is not None
        last_service = _day(latest.get(key, ""))
        if last_service is None:
            acceptance = approved_on or received
        elif questioned[key] > 0:
            acceptance = approved_on or last_service + dt.timedelta(days=7)
        else:
            acceptance = min(filter(None, (last_service + dt.timedelta(days=7), approved_on)))
        due = max(received, acceptance) + days
        if paid_on <= due:
            continue
        found["LATE_PAYMENT"].add(key)
        after = due + dt.timedelta(days=1)
        rate = [r for start, end, r in rates if start and end and start <= after <= end]
        if not rate:
            found["NO_INTEREST_RATE"].add(key)
            continue
        principal = Decimal(h["paid_amount"] or h["total"] or billed[key])
        owed = _interest(principal, rate[0], (paid_on - due).days)
        interest[key] = owed.quantize(CENT, rounding=ROUND_HALF_UP)

    # Ceilings and funds, cumulative per contract in processing order (DESIGN 9.2).
    def order(key: tuple[str, str]) -> tuple[int, str, str, str]:
        dates = [h["invoice_date"] for h in headers.get(key, [])]
        return (0, min(dates), *key) if dates else (1, "", *key)

    cumulative: dict[str, Decimal] = collections.defaultdict(Decimal)
    noticed: set[str] = set()
    for key in sorted(set(billed) | set(headers), key=order):
        cid = key[0]
        cumulative[cid] += billed.get(key, Decimal(0))
        terms = contracts[cid]
        notice = Decimal(terms["notice_percent"] or "85")
        ceiling, funded = (Decimal(terms[c]) if terms[c] else None for c in ("ceiling", "funded"))
        if ceiling is not None and cid not in noticed and cumulative[cid] * 100 >= notice * ceiling:
            noticed.add(cid)
            found["CEILING_85_PERCENT"].add(key)
        for finding, limit in (("CEILING_EXCEEDED", ceiling), ("FUNDING_EXCEEDED", funded)):
            if limit is not None and min(billed.get(key, Decimal(0)), cumulative[cid] - limit) > 0:
                found[finding].add(key)

    # Contract findings (DESIGN 9.3).
    trips = _rows(folder / "manifests.csv")
    completed = [row for row in trips if row["status"] == "completed"]
    contract: dict[str, set[str]] = collections.defaultdict(set)
    for cid, terms in contracts.items():
        if not terms["estimate"]:
            contract["NO_COST_ESTIMATE"].add(cid)
        own = [row for row in completed if row["contract_id"] == cid]
        if own and not any(row["passengers"] for row in own):
            contract["NO_PEOPLE_COUNT"].add(cid)
        start, end = _day(terms["start"]), _day(terms["end"])
        assert start is not None
        assert end is not None
        overlapping = [
            1
            for (c, _), windows in cors.items()
            if c == cid
            for first, last, _ in windows
            if first <= end and (last is None or start <= last)
        ]
        if not overlapping:
            contract["COR_NOT_APPOINTED"].add(cid)

    # Unused capacity: claimed completed trips below 80 % of their seats (DESIGN 9.3).
    basis = {(row["contract_id"], row["clin"]): row["basis"] for row in _rows(folder / "rates.csv")}
    on_trip: dict[tuple[str, str], Decimal] = collections.defaultdict(Decimal)
    row_of = run.lines_by_key
    for r in run.report.lines:
        clin = row_of[r.contract_id, r.invoice_id, r.line_no_text]["clin"]
        priced = r.trip_id and r.status.value in PRICED_STATUSES
        if priced and basis.get((r.contract_id, clin)) != "passengers":
            on_trip[r.contract_id, r.trip_id] += r.expected
    capacity = {}
    for row in completed:
        key = (row["contract_id"], row["trip_id"])
        if key in on_trip and row["passengers"] and row["seats"]:
            pax, seats = Decimal(row["passengers"]), Decimal(row["seats"])
            if seats and pax / seats < Decimal("0.80"):
                unused = on_trip[key] * (seats - pax) / seats
                capacity[key] = unused.quantize(CENT, rounding=ROUND_HALF_UP)

    deobligation = {}
    for cid, terms in contracts.items():
        dates = [h["invoice_date"] for (c, _), rows in headers.items() if c == cid for h in rows]
        if terms["end"] and terms["funded"] and dates and terms["end"] < max(dates):
            left = Decimal(terms["funded"]) - expected[cid]
            if left > 0:
                deobligation[cid] = left
    notice = {cid: Decimal(t["notice_percent"] or "85") for cid, t in contracts.items()}
    return Section9(found, interest, expired, contract, notice, capacity, deobligation)


@pytest.fixture(scope="module")
def cases(run: Run) -> Section9:
    """The section 9 cases of the 20,000-line folder."""
    return _section9(run)


class TestSection9Inputs:
    """The optional inputs of DESIGN section 9.1, with every finding of section 9 planted."""

    def test_the_folder_validates_with_only_the_planted_malformed_lines(self, run: Run) -> None:
        """The section 9.1 files, invoices and manifests have no problem at all."""
        problems = ice_recon.validate(run.folder)

        assert problems
        assert {p.file for p in problems} == {"invoice_lines.csv"}
        assert {(p.column, p.value) for p in problems} <= MALFORMED

    def test_every_invoice_finding_is_planted(self, cases: Section9) -> None:
        """Each finding of DESIGN 9.2 holds for some invoice, computed from the files."""
        every = {
            "APPROVAL_UNDOCUMENTED", "APPROVER_NOT_APPOINTED", "APPROVER_LEVEL_BELOW_RISK",
            "CEILING_85_PERCENT", "CEILING_EXCEEDED", "FUNDING_EXCEEDED", "LATE_PAYMENT",
            "NO_INTEREST_RATE",
        }  # fmt: skip

        counts = {finding: len(keys) for finding, keys in cases.invoice.items() if keys}

        assert set(counts) == every
        # A ceiling notice once per contract at most; a 75 % notice among them.
        assert counts["CEILING_85_PERCENT"] <= 4
        noticed = {cid for cid, _ in cases.invoice["CEILING_85_PERCENT"]}
        assert Decimal(75) in {cases.notice_percent[cid] for cid in noticed}
        # Approvals under an appointment that had expired, and by nobody ever appointed.
        assert cases.expired
        assert cases.invoice["APPROVER_NOT_APPOINTED"] - cases.expired
        # Most invoices are approved by an appointed COR of the right level.
        assert counts["APPROVER_NOT_APPOINTED"] < 0.4 * 400

    def test_late_payments_owe_interest_some_under_a_dollar(self, cases: Section9) -> None:
        """Late payments with a rate owe interest, and some of it is below the 1.00 floor."""
        owed = [i for i in cases.interest.values() if i >= 1]
        small = [i for i in cases.interest.values() if i < 1]

        assert len(owed) >= 5
        assert small
        assert cases.invoice["LATE_PAYMENT"] >= cases.invoice["NO_INTEREST_RATE"]

    def test_every_contract_finding_and_funds_put_to_better_use(self, cases: Section9) -> None:
        """NO_COST_ESTIMATE, NO_PEOPLE_COUNT, COR_NOT_APPOINTED, unused capacity, deobligation."""
        assert {f for f, cids in cases.contract.items() if cids} == {
            "NO_COST_ESTIMATE",
            "NO_PEOPLE_COUNT",
            "COR_NOT_APPOINTED",
        }
        assert len(cases.capacity) >= 20
        assert all(unused > 0 for unused in cases.capacity.values())
        assert cases.deobligation

    def test_the_engine_finds_exactly_the_cases_computed_here(
        self, run: Run, cases: Section9
    ) -> None:
        """reconcile() reports the same section 9 findings, interest, capacity and funds."""
        section_9 = set(cases.invoice)
        engine: dict[str, set[tuple[str, str]]] = collections.defaultdict(set)
        interest = {}
        for f in run.report.invoices:
            if f.finding.value in section_9:
                engine[f.finding.value].add((f.contract_id, f.invoice_id))
            if f.finding.value == "LATE_PAYMENT" and f.amount is not None:
                interest[f.contract_id, f.invoice_id] = f.amount
        oversight = run.report.oversight
        contract = collections.defaultdict(set)
        for row in oversight.contracts:
            for finding in row.findings:
                contract[finding.value].add(row.contract_id)
        deobligation = {
            r.contract_id: r.deobligation for r in oversight.contracts if r.deobligation > 0
        }

        assert dict(engine) == dict(cases.invoice)
        assert interest == cases.interest
        assert dict(contract) == dict(cases.contract)
        assert {(r.contract_id, r.trip_id): r.unused for r in oversight.capacity} == cases.capacity
        assert deobligation == cases.deobligation
