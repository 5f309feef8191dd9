"""Tests for reading the optional inputs of DESIGN section 9.1 (contracts, CORs, interest).

``contracts.csv``, ``cors.csv`` and ``interest_rates.csv`` are read into
:attr:`Inputs.contracts`, :attr:`Inputs.cors` and :attr:`Inputs.interest_rates` with the
checks of section 4; they do not change the reconciliation (yet).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ice_recon
from ice_recon import load, load_files, reconcile_to
from ice_recon.cli import main, sample_dir
from ice_recon.load import inspect
from ice_recon.records import Appointment, ContractTerms, CorLevel, InterestRate, Risk
from ice_recon.stream import prepare
from ice_recon.tables import Sourced
from test_load import folder, text

D = Decimal
DAY = dt.date

CONTRACTS_HEADER = "contract_id,ceiling,funded,estimate,start,end,risk,payment_days,notice_percent"
CORS_HEADER = "contract_id,person_id,appointed,level,expires"
INTEREST_HEADER = "start,end,rate"

CONTRACTS = text(
    CONTRACTS_HEADER,
    "C1,250000.00,120000.5,240000,2024-10-01,2025-09-30,moderate,45,75",
    "C2,,,,,,,,",
)
CORS = text(
    CORS_HEADER,
    "C1,P1,2024-10-01,II,2025-03-31",
    "C1,P1,2025-04-01,III,",
    "C1,P2,2024-10-01,I,",
    "C2,P1,2024-10-01,I,",
)
INTEREST = text(
    INTEREST_HEADER,
    "2024-01-01,2024-06-30,4.625",
    "2024-07-01,2024-12-31,4.375",
    "2025-01-01,2025-01-01,0",
)


def _problems(path: Path, file: str) -> list[str]:
    return [str(p) for p in ice_recon.validate(path) if p.file == file]


def _lines(rows: Any) -> list[int]:
    return [s.line for s in rows]


# ---------------------------------------------------------------------------------- reading


class TestReadContracts:
    """contracts.csv is read into Inputs.contracts, defaults filled in."""

    def test_values(self, tmp_path: Path) -> None:
        """Each cell of the CSV text becomes the record's field; empty cells the defaults."""
        expected = (
            Sourced(
                file="contracts.csv",
                line=2,
                record=ContractTerms(
                    contract_id="C1",
                    ceiling=D("250000.00"),
                    funded=D("120000.5"),
                    estimate=D("240000"),
                    start=DAY(2024, 10, 1),
                    end=DAY(2025, 9, 30),
                    risk=Risk.MODERATE,
                    payment_days=45,
                    notice_percent=D("75"),
                ),
            ),
            Sourced(file="contracts.csv", line=3, record=ContractTerms(contract_id="C2")),
        )

        inputs = load(folder(tmp_path, contracts=CONTRACTS))

        assert inputs.problems == ()
        assert expected == inputs.contracts
        c1, c2 = (s.record for s in inputs.contracts)
        # Exact text of the decimals (== on Decimal ignores trailing zeros).
        assert [str(c1.ceiling), str(c1.funded), str(c1.estimate)] == [
            "250000.00",
            "120000.5",
            "240000",
        ]
        assert (c2.payment_days, c2.notice_percent, c2.risk, c2.ceiling) == (30, 85, None, None)

    def test_absent_and_header_only_are_empty(self, tmp_path: Path) -> None:
        """Without contracts.csv, or with its header only, there are no contract terms."""
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()

        absent = load(folder(tmp_path / "a"))
        header_only = load(folder(tmp_path / "b", contracts=text(CONTRACTS_HEADER)))

        assert (absent.contracts, header_only.contracts, header_only.problems) == ((), (), ())


class TestReadCors:
    """cors.csv is read into Inputs.cors; None means the file was not given."""

    def test_values(self, tmp_path: Path) -> None:
        """Each row becomes an Appointment; windows that only touch do not overlap."""
        expected = (
            Sourced(
                file="cors.csv",
                line=2,
                record=Appointment(
                    contract_id="C1",
                    person_id="P1",
                    appointed=DAY(2024, 10, 1),
                    level=CorLevel.II,
                    expires=DAY(2025, 3, 31),
                ),
            ),
            Sourced(
                file="cors.csv",
                line=3,
                record=Appointment(
                    contract_id="C1",
                    person_id="P1",
                    appointed=DAY(2025, 4, 1),
                    level=CorLevel.III,
                ),
            ),
            Sourced(
                file="cors.csv",
                line=4,
                record=Appointment(
                    contract_id="C1", person_id="P2", appointed=DAY(2024, 10, 1), level=CorLevel.I
                ),
            ),
            Sourced(
                file="cors.csv",
                line=5,
                record=Appointment(
                    contract_id="C2", person_id="P1", appointed=DAY(2024, 10, 1), level=CorLevel.I
                ),
            ),
        )

        inputs = load(folder(tmp_path, cors=CORS))

        assert inputs.problems == ()
        assert expected == inputs.cors

    def test_absent_is_none_header_only_is_empty(self, tmp_path: Path) -> None:
        """No cors.csv gives None; a header-only cors.csv gives () ("given, nobody appointed")."""
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()

        absent = load(folder(tmp_path / "a"))
        header_only = load(folder(tmp_path / "b", cors=text(CORS_HEADER)))

        assert (absent.cors, header_only.cors, header_only.problems) == (None, (), ())


class TestReadInterestRates:
    """interest_rates.csv is read into Inputs.interest_rates; None means not given."""

    def test_values(self, tmp_path: Path) -> None:
        """Each row becomes an InterestRate with its exact rate; a zero rate is allowed."""
        expected = (
            Sourced(
                file="interest_rates.csv",
                line=2,
                record=InterestRate(start=DAY(2024, 1, 1), end=DAY(2024, 6, 30), rate=D("4.625")),
            ),
            Sourced(
                file="interest_rates.csv",
                line=3,
                record=InterestRate(start=DAY(2024, 7, 1), end=DAY(2024, 12, 31), rate=D("4.375")),
            ),
            Sourced(
                file="interest_rates.csv",
                line=4,
                record=InterestRate(start=DAY(2025, 1, 1), end=DAY(2025, 1, 1), rate=D("0")),
            ),
        )

        inputs = load(folder(tmp_path, interest_rates=INTEREST))

        assert inputs.problems == ()
        assert expected == inputs.interest_rates
        assert [str(s.record.rate) for s in expected] == ["4.625", "4.375", "0"]

    def test_absent_is_none_header_only_is_empty(self, tmp_path: Path) -> None:
        """No interest_rates.csv gives None; a header-only one gives ()."""
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()

        absent = load(folder(tmp_path / "a"))
        header_only = load(folder(tmp_path / "b", interest_rates=text(INTEREST_HEADER)))

        assert (absent.interest_rates, header_only.interest_rates) == (None, ())


class TestLoadFiles:
    """load_files() takes the three tables as keyword sources: paths, mappings or records."""

    def test_mappings_and_records(self, tmp_path: Path) -> None:
        """Row mappings and records give the same records as the CSV file."""
        path = folder(tmp_path)
        terms = ContractTerms(contract_id="C9", ceiling=D("10.00"), risk=Risk.HIGH)
        expected = (
            (Sourced(file="contracts.csv", line=2, record=terms),),
            (
                Sourced(
                    file="cors.csv",
                    line=2,
                    record=Appointment(
                        contract_id="C9",
                        person_id="P1",
                        appointed=DAY(2024, 1, 1),
                        level=CorLevel.III,
                    ),
                ),
            ),
            (
                Sourced(
                    file="interest_rates.csv",
                    line=2,
                    record=InterestRate(
                        start=DAY(2024, 1, 1), end=DAY(2024, 12, 31), rate=D("4.5")
                    ),
                ),
            ),
        )

        inputs = load_files(
            rates=path / "rates.csv",
            manifests=path / "manifests.csv",
            invoice_lines=path / "invoice_lines.csv",
            contracts=[terms],
            cors=[
                {"contract_id": "C9", "person_id": "P1", "appointed": "2024-01-01", "level": "III"}
            ],
            interest_rates=[{"start": "2024-01-01", "end": "2024-12-31", "rate": "4.5"}],
        )

        assert inputs.problems == ()
        assert expected == (inputs.contracts, inputs.cors, inputs.interest_rates)

    def test_empty_iterables_are_given(self, tmp_path: Path) -> None:
        """An empty iterable for cors or interest_rates is "given" (()), None is not."""
        path = folder(tmp_path)
        common = {
            "rates": path / "rates.csv",
            "manifests": path / "manifests.csv",
            "invoice_lines": path / "invoice_lines.csv",
        }

        given = load_files(**common, cors=[], interest_rates=[])
        not_given = load_files(**common)

        assert ((given.cors, given.interest_rates), (not_given.cors, not_given.interest_rates)) == (
            ((), ()),
            (None, None),
        )


# ------------------------------------------------------------------------------- validation


class TestContractsProblems:
    """contracts.csv: cells, end before start, duplicate contract ids."""

    def test_cells(self, tmp_path: Path) -> None:
        """Money places, risk, payment_days and notice_percent are checked per cell."""
        path = folder(
            tmp_path,
            contracts=text(
                CONTRACTS_HEADER,
                "C1,100.001,,,,,medium,0,0",
                "C2,,12.5.0,,2024-02-30,,,x,",
                ",,,,,,,,",
                "C3,,,,,,,,",
            ),
        )
        expected = [
            "contracts.csv:2: column 'ceiling': is money and must have at most 2 decimal places "
            "(got '100.001')",
            "contracts.csv:2: column 'notice_percent': must be greater than 0 (got '0')",
            "contracts.csv:2: column 'payment_days': must be a positive whole number (got '0')",
            "contracts.csv:2: column 'risk': must be one of: low, moderate, high (got 'medium')",
        ]

        problems = [p for p in ice_recon.validate(path) if p.file == "contracts.csv"]

        assert expected == [str(p) for p in problems[:4]]
        assert [(p.line, p.column) for p in problems[4:]] == [
            (3, "funded"),
            (3, "payment_days"),
            (3, "start"),
            (4, None),  # a row of empty cells
        ]
        assert _lines(load(path).contracts) == [5]

    def test_end_before_start(self, tmp_path: Path) -> None:
        """An end before start leaves the row out; an end equal to start is a one-day period."""
        path = folder(
            tmp_path,
            contracts=text(
                CONTRACTS_HEADER,
                "C1,,,,2024-10-01,2024-09-30,,,",
                "C2,,,,2024-10-01,2024-10-01,,,",
                "C3,,,,,2024-09-30,,,",
            ),
        )
        expected = (
            [
                "contracts.csv:2: column 'end': must not be before start 2024-10-01 "
                "(got '2024-09-30')"
            ],
            [3, 4],
        )

        actual = (_problems(path, "contracts.csv"), _lines(load(path).contracts))

        assert expected == actual

    def test_duplicate_contract(self, tmp_path: Path) -> None:
        """A repeated contract_id is reported at the later row naming the earlier; both go."""
        path = folder(
            tmp_path,
            contracts=text(
                CONTRACTS_HEADER,
                "C1,100.00,,,,,,,",
                "C2,,,,,,,,",
                "C1,200.00,,,,,,,",
            ),
        )
        expected = (
            [
                "contracts.csv:4: column 'contract_id': duplicate contract 'C1': also at line 2 "
                "(both are left out) (got 'C1')"
            ],
            [3],
        )

        actual = (_problems(path, "contracts.csv"), _lines(load(path).contracts))

        assert expected == actual

    def test_unknown_column(self, tmp_path: Path) -> None:
        """A misspelled column is reported with the name it may have meant."""
        path = folder(tmp_path, contracts=text("contract_id,cieling", "C1,5"))

        actual = _problems(path, "contracts.csv")

        assert len(actual) == 1
        assert actual[0].startswith(
            "contracts.csv:1: column 'cieling': unknown column; did you mean 'ceiling'?"
        )


class TestCorsProblems:
    """cors.csv: cells, expires before appointed, overlapping appointments."""

    def test_cells_and_required(self, tmp_path: Path) -> None:
        """A level outside I, II, III and an empty required cell are reported."""
        path = folder(
            tmp_path,
            cors=text(
                CORS_HEADER, "C1,P1,2024-01-01,IV,", "C1,,2024-01-01,I,", "C1,P3,2024-01-01,I,"
            ),
        )
        expected = (
            [
                "cors.csv:2: column 'level': must be one of: I, II, III (got 'IV')",
                "cors.csv:3: column 'person_id': must not be empty (required)",
            ],
            [4],
        )

        actual = (_problems(path, "cors.csv"), _lines(load(path).cors))

        assert expected == actual

    def test_missing_required_column(self, tmp_path: Path) -> None:
        """A cors.csv without the level column is reported at line 1; no row is read.

        Its appointments are then not known (None), which is not "nobody appointed" (()).
        """
        path = folder(tmp_path, cors=text("contract_id,person_id,appointed", "C1,P1,2024-01-01"))
        expected = (["cors.csv:1: column 'level': required column is missing"], None)

        actual = (_problems(path, "cors.csv"), inspect(path).cors)

        assert expected == actual

    def test_expires_before_appointed(self, tmp_path: Path) -> None:
        """expires before appointed leaves the row out; the same day is a one-day appointment."""
        path = folder(
            tmp_path,
            cors=text(
                CORS_HEADER, "C1,P1,2024-10-01,I,2024-09-30", "C1,P2,2024-10-01,I,2024-10-01"
            ),
        )
        expected = (
            [
                "cors.csv:2: column 'expires': must not be before appointed 2024-10-01 "
                "(got '2024-09-30')"
            ],
            [3],
        )

        actual = (_problems(path, "cors.csv"), _lines(load(path).cors))

        assert expected == actual

    @pytest.mark.parametrize(
        ("rows", "expected_problems", "kept"),
        [
            pytest.param(
                ["C1,P1,2024-10-01,II,2025-03-31", "C1,P2,2024-10-01,I,", "C1,P1,2025-03-31,III,"],
                [
                    "cors.csv:4: column 'appointed': window 2025-03-31..open overlaps the window "
                    "at line 2 (2024-10-01..2025-03-31) of person 'P1' on contract 'C1'; both "
                    "are left out (got '2025-03-31')"
                ],
                [3],
                id="shared-last-day",
            ),
            pytest.param(
                ["C1,P1,2025-01-01,II,", "C1,P1,2024-01-01,I,2025-01-01"],
                [
                    "cors.csv:3: column 'appointed': window 2024-01-01..2025-01-01 overlaps the "
                    "window at line 2 (2025-01-01..open) of person 'P1' on contract 'C1'; both "
                    "are left out (got '2024-01-01')"
                ],
                [],
                id="later-row-starts-earlier",
            ),
            pytest.param(
                ["C1,P1,2020-01-01,I,", "C1,P1,2030-01-01,II,2030-12-31"],
                [
                    "cors.csv:3: column 'appointed': window 2030-01-01..2030-12-31 overlaps the "
                    "window at line 2 (2020-01-01..open) of person 'P1' on contract 'C1'; both "
                    "are left out (got '2030-01-01')"
                ],
                [],
                id="open-ended-runs-for-ever",
            ),
            pytest.param(
                [
                    "C1,P1,2024-01-01,I,2024-12-31",
                    "C1,P1,2024-06-01,I,2024-06-30",
                    "C1,P1,2024-12-01,I,",
                    "C2,P1,2024-01-01,I,",
                ],
                [
                    "cors.csv:3: column 'appointed': window 2024-06-01..2024-06-30 overlaps the "
                    "window at line 2 (2024-01-01..2024-12-31) of person 'P1' on contract 'C1'; "
                    "both are left out (got '2024-06-01')",
                    "cors.csv:4: column 'appointed': window 2024-12-01..open overlaps the "
                    "window at line 2 (2024-01-01..2024-12-31) of person 'P1' on contract 'C1'; "
                    "both are left out (got '2024-12-01')",
                ],
                [5],
                id="three-rows-all-left-out",
            ),
            pytest.param(
                ["C1,P1,2024-01-01,I,2024-06-30", "C1,P1,2024-07-01,II,"],
                [],
                [2, 3],
                id="adjacent-windows",
            ),
        ],
    )
    def test_overlaps(
        self, tmp_path: Path, rows: list[str], expected_problems: list[str], kept: list[int]
    ) -> None:
        """Overlapping appointments of one (contract, person) are reported; all involved go."""
        path = folder(tmp_path, cors=text(CORS_HEADER, *rows))
        expected = (expected_problems, kept)

        actual = (_problems(path, "cors.csv"), _lines(load(path).cors))

        assert expected == actual


class TestInterestRatesProblems:
    """interest_rates.csv: end before start, negative rates, overlapping windows."""

    def test_cells(self, tmp_path: Path) -> None:
        """A negative rate and a bad date are reported at their cells; the rows go."""
        path = folder(
            tmp_path,
            interest_rates=text(
                INTEREST_HEADER,
                "2024-01-01,2024-06-30,-0.5",
                "2024-07-01,2024-13-01,4",
                "2025-01-01,2025-12-31,4.25",
            ),
        )
        expected = (
            [
                "interest_rates.csv:2: column 'rate': must not be negative (got '-0.5')",
                "interest_rates.csv:3: column 'end': is not a calendar date (expected "
                "YYYY-MM-DD) (got '2024-13-01')",
            ],
            [4],
        )

        actual = (_problems(path, "interest_rates.csv"), _lines(load(path).interest_rates))

        assert expected == actual

    def test_end_before_start(self, tmp_path: Path) -> None:
        """An end before start is reported at end and the row left out."""
        path = folder(tmp_path, interest_rates=text(INTEREST_HEADER, "2024-07-01,2024-06-30,4.5"))
        expected = (
            [
                "interest_rates.csv:2: column 'end': must not be before start 2024-07-01 "
                "(got '2024-06-30')"
            ],
            (),
        )

        actual = (_problems(path, "interest_rates.csv"), load(path).interest_rates)

        assert expected == actual

    def test_overlap(self, tmp_path: Path) -> None:
        """Windows sharing a day are reported at the later row; both are left out."""
        path = folder(
            tmp_path,
            interest_rates=text(
                INTEREST_HEADER,
                "2024-07-01,2024-12-31,4.375",
                "2025-01-01,2025-06-30,4.25",
                "2024-01-01,2024-07-01,4.625",
            ),
        )
        expected = (
            [
                "interest_rates.csv:4: column 'start': window 2024-01-01..2024-07-01 overlaps "
                "the window at line 2 (2024-07-01..2024-12-31); both are left out "
                "(got '2024-01-01')"
            ],
            [3],
        )

        actual = (_problems(path, "interest_rates.csv"), _lines(load(path).interest_rates))

        assert expected == actual


class TestFolder:
    """The folder knows the three names: exact names are read, near ones reported."""

    def test_misnamed_file_is_reported(self, tmp_path: Path) -> None:
        """A file named like cors.csv but not exactly is not read, and is reported."""
        path = folder(tmp_path)
        (path / "Cors.CSV").write_text(CORS, encoding="utf-8")
        (path / "interest_rate.csv").write_text(INTEREST, encoding="utf-8")
        expected = (
            [
                "Cors.CSV:1: not an input file; did you mean cors.csv?",
                "interest_rate.csv:1: not an input file; did you mean interest_rates.csv?",
            ],
            None,
            None,
        )

        inputs = inspect(path)

        actual = ([str(p) for p in inputs.problems], inputs.cors, inputs.interest_rates)
        assert expected == actual

    def test_validate_command_prints_them(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """ice-recon validate prints the problems of the new files and exits 1."""
        path = folder(
            tmp_path,
            contracts=text(CONTRACTS_HEADER, "C1,,,,,,,,", "C1,,,,,,,,"),
            interest_rates=text(INTEREST_HEADER, "2024-01-01,2024-12-31,-1"),
        )

        status = main(["validate", str(path)])

        out = capsys.readouterr().out
        assert status == 1
        assert (
            "contracts.csv:3: column 'contract_id': duplicate contract 'C1': also at line 2 "
            "(both are left out) (got 'C1')"
        ) in out
        assert "interest_rates.csv:2: column 'rate': must not be negative (got '-1')" in out


# ----------------------------------------------------------------------- reconciliation paths


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


class TestReconciliationUnchanged:
    """The new tables add section 9's findings and files; the section 5 results do not move."""

    def test_sample_outputs_without_and_with_the_files(self, tmp_path: Path) -> None:
        """Adding the three files changes no line result, no footing row and no ledger.

        Without them summary.json lists exactly the seven files of section 4; with them it
        also lists their digests. results.csv, unbilled.csv, by_invoice.csv and problems.csv
        are the same bytes; invoices.csv keeps its FOOTING_ERROR and DUPLICATE_INVOICE rows;
        summary.json keeps its counts, amounts and the seven ledgers of section 6.
        """
        plain = tmp_path / "plain"
        shutil.copytree(sample_dir(), plain)
        more = tmp_path / "more"
        shutil.copytree(sample_dir(), more)
        for name in ("contracts.csv", "cors.csv", "interest_rates.csv"):
            with contextlib.suppress(FileNotFoundError):  # the sample may ship its own
                (plain / name).unlink()
        for name, content in (
            ("contracts.csv", CONTRACTS),
            ("cors.csv", CORS),
            ("interest_rates.csv", INTEREST),
        ):
            (more / name).write_text(content, encoding="utf-8")

        reconcile_to(plain, tmp_path / "out_plain")
        reconcile_to(more, tmp_path / "out_more")

        a, b = _outputs(tmp_path / "out_plain"), _outputs(tmp_path / "out_more")
        summary_a, summary_b = json.loads(a.pop("summary.json")), json.loads(b.pop("summary.json"))
        new = {"contracts.csv", "cors.csv", "interest_rates.csv"}
        assert sorted(summary_a["inputs"]) == [
            "fuel_index.csv",
            "fuel_rules.csv",
            "invoice_lines.csv",
            "invoices.csv",
            "manifests.csv",
            "rates.csv",
            "staff.csv",
        ]
        assert set(summary_b["inputs"]) - set(summary_a["inputs"]) == new
        for name in ("results.csv", "unbilled.csv", "by_invoice.csv", "problems.csv"):
            assert a[name] == b[name], name

        def section5(invoices: bytes) -> list[bytes]:
            return [
                r for r in invoices.splitlines() if b",FOOTING_ERROR," in r or b",DUPLICATE_" in r
            ]

        assert section5(a["invoices.csv"]) == section5(b["invoices.csv"])
        assert section5(a["invoices.csv"])  # the sample has a footing error
        for key in ("counts", "amounts"):
            assert summary_a[key] == summary_b[key]
        for name in ("billed", "expected", "variance", "erroneous", "unsupported", "questioned",
                     "underbilled"):  # fmt: skip
            assert summary_a["ledgers"][name] == summary_b["ledgers"][name]

    @pytest.mark.parametrize("workers", [1, 2])
    def test_streaming_reads_the_same_records(self, tmp_path: Path, workers: int) -> None:
        """The streaming path (prepare, as reconcile_to uses it) reads what load() reads."""
        path = folder(
            tmp_path,
            contracts=CONTRACTS,
            cors=CORS + "C1,P1,2025-01-01,I,\n",
            interest_rates=INTEREST,
        )
        loaded = load(path)

        with prepare(path, workers=workers) as ready:
            streamed = ready.inputs
            problems = ready.problems

        assert len(loaded.cors or ()) == 2  # the overlapping P1 rows of C1 are left out
        assert (streamed.contracts, streamed.cors, streamed.interest_rates) == (
            loaded.contracts,
            loaded.cors,
            loaded.interest_rates,
        )
        assert problems == loaded.problems
        assert {"contracts.csv", "cors.csv", "interest_rates.csv"} <= set(ready.digests)
