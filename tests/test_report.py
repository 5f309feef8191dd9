"""Tests of the report stage and its files (DESIGN section 6), and of ``ice-recon reconcile``.

The small input below is reconciled by hand in the comments; the sample data set is used for
determinism and for the command line.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import ice_recon
from ice_recon import Report, Status, load_files, reconcile
from ice_recon.cli import main, sample_dir

C = "HSCEMD-19-C-00012"
K = "70CDCR-20-C-00007"  # sorts before C

RATES = [
    {"contract_id": C, "clin": "0001", "basis": "loaded_miles", "rate": "2.4575",
     "start": "2021-10-01", "end": "2022-03-31", "minimum_amount": "150.00",
     "rule_id": "M-P04", "authority": "P00004 B.1"},
    {"contract_id": C, "clin": "0003", "basis": "trip", "rate": "187.50",
     "start": "2021-10-01", "end": "2022-03-31", "rule_id": "E-P04"},
]  # fmt: skip


def _trip(trip_id: str, day: str, miles: str, contract: str = C, **extra: str) -> dict[str, str]:
    row = {"trip_id": trip_id, "contract_id": contract, "service_date": day, "loaded_miles": miles}
    row.update(extra)
    return row


TRIPS = [
    _trip("R1", "2021-10-04", "137.4"),
    _trip("R2", "2021-10-18", "137.4"),
    _trip("R3", "2021-11-01", "137.4"),
    # Unbilled: sorted by contract, then trip id as a string ("U10" < "U9").
    _trip("U9", "2021-12-21", "10.0"),
    _trip("U10", "2021-12-20", "", status="cancelled"),
    _trip("KX", "2021-12-22", "20.0", contract=K),
]


def _line(
    invoice: str,
    no: str,
    clin: str,
    day: str,
    quantity: str,
    price: str,
    amount: str,
    ref: str = "",
) -> dict[str, str]:
    return {
        "invoice_id": invoice,
        "line_no": no,
        "contract_id": C,
        "clin": clin,
        "service_date": day,
        "trip_ref": ref,
        "quantity": quantity,
        "unit_price": price,
        "amount": amount,
    }


LINES = [
    # 137.4 x 2.4575 = 337.6605 -> 337.66: MATCHED.
    _line("INV-1", "1", "0001", "2021-10-04", "137.4", "2.4575", "337.66", "R1"),
    # 137.4 x 2.3950 = 329.073 -> 329.07 vs 337.66: RATE_MISMATCH, -8.59 underbilled.
    _line("INV-1", "2", "0001", "2021-10-18", "137.4", "2.3950", "329.07", "R2"),
    # 152.0 x 2.4575 = 373.54 vs 337.66: QUANTITY_MISMATCH, 35.88 erroneous.
    _line("INV-1", "3", "0001", "2021-11-01", "152.0", "2.4575", "373.54", "R3"),
    # No ref, no trip near 2021-12-01: 100.0 x 2.4575 = 245.75 unsupported.
    _line("INV-1", "4", "0001", "2021-12-01", "100.0", "2.4575", "245.75"),
    # Malformed quantity: INVALID; its 50.00 is in no ledger and no footing.
    _line("INV-1", "5", "0001", "2021-10-04", "abc", "2.4575", "50.00", "R1"),
    # 1 x 187.5 = 187.50 on R1 (another CLIN, another charge): MATCHED; money "187.50".
    _line("INV-2", "1", "0003", "2021-10-04", "1", "187.5", "187.5", "R1"),
]

HEADERS = [
    # Lines total 337.66 + 329.07 + 373.54 + 245.75 = 1286.02 (the INVALID 50.00 excluded);
    # the header counted it: 1336.02 - 1286.02 = 50.00.
    {"invoice_id": "INV-1", "contract_id": C, "invoice_date": "2021-11-05", "total": "1336.02"},
    # Three headers (DUPLICATE_INVOICE); lines total 187.50. Totals 187.50 (equal: no row),
    # 100.00 twice (one row: 100.00 - 187.50 = -87.50) and 90.00 (90.00 - 187.50 = -97.50).
    {"invoice_id": "INV-2", "contract_id": C, "invoice_date": "2021-11-06", "total": "187.50"},
    {"invoice_id": "INV-2", "contract_id": C, "invoice_date": "2021-11-07", "total": "100.00"},
    {"invoice_id": "INV-2", "contract_id": C, "invoice_date": "2021-11-08", "total": "100.00"},
    {"invoice_id": "INV-2", "contract_id": C, "invoice_date": "2021-11-09", "total": "90.00"},
]

RESULT_HEADER = (
    "contract_id,invoice_id,line_no,status,findings,billed,expected,variance,erroneous,"
    "unsupported,underbilled,trip_id,match,rule_id,rate_authority,explanation"
)

# Ledgers by hand:
#   billed      337.66 + 329.07 + 373.54 + 245.75 + 187.50 = 1473.52
#   expected    337.66 + 337.66 + 337.66 + 0.00 + 187.50   = 1200.48
#   variance    1473.52 - 1200.48                           =  273.04
#   erroneous   35.88; unsupported 245.75; questioned 35.88 + 245.75 = 281.63
#   underbilled 8.59;  check: 35.88 + 245.75 - 8.59 = 273.04
LEDGERS = {
    "billed": "1473.52",
    "expected": "1200.48",
    "variance": "273.04",
    "erroneous": "35.88",
    "unsupported": "245.75",
    "questioned": "281.63",
    "underbilled": "8.59",
    # DESIGN section 9: no invoice is paid, so every questioned cent (35.88 + 245.75) is to
    # be withheld; no interest, no seats, no contracts.csv: the rest is zero.
    "paid_erroneous": "0.00",
    "paid_unsupported": "0.00",
    "to_withhold": "281.63",
    "interest_due": "0.00",
    "unused_capacity": "0.00",
    "deobligation": "0.00",
    "funds_put_to_better_use": "0.00",
}


def _report() -> Report:
    return reconcile(
        load_files(rates=RATES, manifests=TRIPS, invoice_lines=LINES, invoices=HEADERS)
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the small report once for the file tests."""
    out = tmp_path_factory.mktemp("out")
    _report().write(out)
    return out


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def _write_folder(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        names = list(dict.fromkeys(k for row in rows for k in row))
        with (folder / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=names, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return folder


def _small_folder(folder: Path) -> Path:
    return _write_folder(
        folder,
        {
            "rates.csv": RATES,
            "manifests.csv": TRIPS,
            "invoice_lines.csv": LINES,
            "invoices.csv": HEADERS,
        },
    )


class TestFileFormat:
    """Every output file: UTF-8 without BOM, ``\\n`` line ends, a trailing newline."""

    @pytest.mark.parametrize(
        "name", ["results.csv", "unbilled.csv", "invoices.csv", "summary.json"]
    )
    def test_no_bom_and_newline_line_ends(self, written: Path, name: str) -> None:
        """The file has no BOM, no carriage return and ends with a newline."""
        data = (written / name).read_bytes()

        actual = (data.startswith(b"\xef\xbb\xbf"), b"\r" in data, data.endswith(b"\n"))

        expected = (False, False, True)
        assert expected == actual

    @pytest.mark.parametrize(
        ("name", "header"),
        [
            ("results.csv", RESULT_HEADER),
            ("unbilled.csv", "contract_id,trip_id,service_date,status"),
            (
                "invoices.csv",
                "contract_id,invoice_id,finding,header_total,lines_total,difference,amount,detail",
            ),
        ],
    )
    def test_exact_header(self, written: Path, name: str, header: str) -> None:
        """Each CSV file starts with its DESIGN section 6 header, in that column order."""
        actual = (written / name).read_text(encoding="utf-8").split("\n", 1)[0]

        expected = header
        assert expected == actual


class TestResultsCsv:
    """results.csv: one row per line in processing order, money with exactly 2 places."""

    def test_rows_in_processing_order_with_two_place_money(self, written: Path) -> None:
        """Columns up to match, by hand; INVALID has empty money and match none."""
        rows = _rows(written / "results.csv")[1:]

        actual = [row[:13] for row in rows]

        expected = [
            [C, "INV-1", "1", "MATCHED", "",
             "337.66", "337.66", "0.00", "0.00", "0.00", "0.00", "R1", "exact"],
            [C, "INV-1", "2", "RATE_MISMATCH", "RATE_MISMATCH",
             "329.07", "337.66", "-8.59", "0.00", "0.00", "8.59", "R2", "exact"],
            [C, "INV-1", "3", "QUANTITY_MISMATCH", "QUANTITY_MISMATCH",
             "373.54", "337.66", "35.88", "35.88", "0.00", "0.00", "R3", "exact"],
            [C, "INV-1", "4", "UNSUPPORTED", "UNSUPPORTED",
             "245.75", "0.00", "245.75", "0.00", "245.75", "0.00", "", "none"],
            [C, "INV-1", "5", "INVALID", "INVALID", "", "", "", "", "", "", "", "none"],
            [C, "INV-2", "1", "MATCHED", "",
             "187.50", "187.50", "0.00", "0.00", "0.00", "0.00", "R1", "exact"],
        ]  # fmt: skip
        assert expected == actual

    def test_rule_and_authority_cited(self, written: Path) -> None:
        """Matched rows name the rule_id and the rate authority (empty when the rule has none)."""
        rows = _rows(written / "results.csv")[1:]

        actual = [(row[1], row[2], row[13], row[14]) for row in rows if row[12] != "none"]

        expected = [
            ("INV-1", "1", "M-P04", "P00004 B.1"),
            ("INV-1", "2", "M-P04", "P00004 B.1"),
            ("INV-1", "3", "M-P04", "P00004 B.1"),
            ("INV-2", "1", "E-P04", ""),
        ]
        assert expected == actual

    def test_every_row_has_an_explanation(self, written: Path) -> None:
        """The explanation column is filled on every row."""
        rows = _rows(written / "results.csv")[1:]

        actual = [bool(row[15]) for row in rows]

        expected = [True] * 6
        assert expected == actual


class TestUnbilledCsv:
    """unbilled.csv lists the trips no valid line was matched to, sorted."""

    def test_sorted_rows(self, written: Path) -> None:
        """Sorted by contract_id, then trip_id as a string ("U10" before "U9")."""
        actual = _rows(written / "unbilled.csv")[1:]

        expected = [
            [K, "KX", "2021-12-22", "completed"],
            [C, "U10", "2021-12-20", "cancelled"],
            [C, "U9", "2021-12-21", "completed"],
        ]
        assert expected == actual


class TestUnbilledSequence:
    """Report.unbilled is a sequence of UnbilledTrip records, equal to any equal sequence."""

    def test_records_and_equality(self) -> None:
        """The same trips as unbilled.csv; equal to a tuple or list of them, not reordered."""
        unbilled = _report().unbilled
        expected = (
            ice_recon.UnbilledTrip(
                contract_id=K, trip_id="KX", service_date=dt.date(2021, 12, 22),
                status="completed",
            ),
            ice_recon.UnbilledTrip(
                contract_id=C, trip_id="U10", service_date=dt.date(2021, 12, 20),
                status="cancelled",
            ),
            ice_recon.UnbilledTrip(
                contract_id=C, trip_id="U9", service_date=dt.date(2021, 12, 21),
                status="completed",
            ),
        )  # fmt: skip

        actual = (
            unbilled == expected,
            list(expected) == unbilled,
            unbilled == expected[::-1],
            unbilled == expected[:2],
            unbilled[1:],
            hash(unbilled) == hash(expected),
        )

        assert (True, True, False, False, list(expected[1:]), True) == actual


class TestInvoicesCsv:
    """invoices.csv: FOOTING_ERROR and DUPLICATE_INVOICE rows."""

    def test_invoice_findings(self, written: Path) -> None:
        """Footing excludes INVALID lines; one FOOTING_ERROR per distinct differing total."""
        rows = _rows(written / "invoices.csv")[1:]

        actual = (rows[0], sorted(rows[1:]))

        expected = (
            [C, "INV-1", "FOOTING_ERROR", "1336.02", "1286.02", "50.00", "", ""],
            sorted(
                [
                    [C, "INV-2", "DUPLICATE_INVOICE", "", "187.50", "", "", ""],
                    [C, "INV-2", "FOOTING_ERROR", "100.00", "187.50", "-87.50", "", ""],
                    [C, "INV-2", "FOOTING_ERROR", "90.00", "187.50", "-97.50", "", ""],
                ]
            ),
        )
        assert expected == actual

    def test_sorted_by_contract_invoice_finding(self, written: Path) -> None:
        """Rows are sorted by (contract_id, invoice_id, finding)."""
        rows = _rows(written / "invoices.csv")[1:]

        actual = [row[:3] for row in rows]

        assert sorted(actual) == actual

    def test_report_invoices_match_the_file(self) -> None:
        """``Report.invoices`` carries the same findings with Decimal amounts."""
        report = _report()

        actual = [
            (f.invoice_id, f.finding.value, f.header_total, f.lines_total, f.difference)
            for f in report.invoices
            if f.invoice_id == "INV-1"
        ]

        expected = [
            ("INV-1", "FOOTING_ERROR", Decimal("1336.02"), Decimal("1286.02"), Decimal("50.00"))
        ]
        assert expected == actual

    def test_footing_matches_without_invalid_amount(self) -> None:
        """A header total equal to the valid lines' sum gives no FOOTING_ERROR."""
        headers = [dict(HEADERS[0], total="1286.02")]
        report = reconcile(
            load_files(rates=RATES, manifests=TRIPS, invoice_lines=LINES[:5], invoices=headers)
        )

        actual = report.invoices

        expected: tuple[object, ...] = ()
        assert expected == actual


class TestSummaryJson:
    """summary.json: version, inputs, counts (every status), ledgers, contracts."""

    def _summary(self, written: Path) -> dict[str, object]:
        loaded: dict[str, object] = json.loads((written / "summary.json").read_text("utf-8"))
        return loaded

    def test_keys(self, written: Path) -> None:
        """The top-level keys, in order."""
        actual = list(self._summary(written))

        expected = ["version", "inputs", "counts", "ledgers", "contracts", "amounts", "policy"]
        assert expected == actual

    def test_version(self, written: Path) -> None:
        """The version is the package's."""
        actual = self._summary(written)["version"]

        expected = ice_recon.__version__
        assert expected == actual

    def test_counts_every_status_with_zeros(self, written: Path) -> None:
        """Every status is counted, zeros included; INVALID is counted."""
        actual = self._summary(written)["counts"]

        expected = dict.fromkeys((s.value for s in Status), 0)
        expected.update(MATCHED=2, RATE_MISMATCH=1, QUANTITY_MISMATCH=1, UNSUPPORTED=1, INVALID=1)
        assert expected == actual

    def test_ledgers_are_two_place_strings(self, written: Path) -> None:
        """Ledgers by hand, as strings; questioned = erroneous + unsupported."""
        actual = self._summary(written)["ledgers"]

        expected = LEDGERS
        assert expected == actual

    def test_contracts(self, written: Path) -> None:
        """The one contract billed has the same counts, ledgers and amounts as the whole run."""
        summary = self._summary(written)

        actual = summary["contracts"]

        expected = {
            C: {"counts": summary["counts"], "ledgers": LEDGERS, "amounts": summary["amounts"]}
        }
        assert expected == actual

    def test_inputs_are_sha256_of_the_files(self, tmp_path: Path) -> None:
        """``inputs`` maps each input file read to the sha256 of its bytes."""
        folder = sample_dir()
        names = sorted(p.name for p in folder.glob("*.csv"))
        reconcile(folder).write(tmp_path)

        actual = json.loads((tmp_path / "summary.json").read_text("utf-8"))["inputs"]

        expected = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}
        assert expected == actual


class TestDeterminism:
    """The same inputs give byte-identical outputs."""

    NAMES = ("results.csv", "unbilled.csv", "invoices.csv", "summary.json")

    def test_two_runs_are_byte_identical(self, tmp_path: Path) -> None:
        """Reconciling the sample twice writes the same bytes."""
        for run in ("a", "b"):
            reconcile(sample_dir()).write(tmp_path / run)

        actual = [(tmp_path / "b" / n).read_bytes() for n in self.NAMES]

        expected = [(tmp_path / "a" / n).read_bytes() for n in self.NAMES]
        assert expected == actual

    def test_runs_with_different_hash_seeds_are_byte_identical(self, tmp_path: Path) -> None:
        """Two processes with different PYTHONHASHSEED write the same bytes."""
        for seed in ("1", "2"):
            env = dict(os.environ, PYTHONHASHSEED=seed)
            subprocess.run(
                [sys.executable, "-m", "ice_recon.cli", "reconcile", str(sample_dir()),
                 "--out", str(tmp_path / seed), "--quiet"],
                check=True,
                env=env,
            )  # fmt: skip

        actual = [(tmp_path / "2" / n).read_bytes() for n in self.NAMES]

        expected = [(tmp_path / "1" / n).read_bytes() for n in self.NAMES]
        assert expected == actual


QTY_FINDINGS = "QUANTITY_MISMATCH"


class TestCli:
    """``ice-recon reconcile``: exit statuses, --fail-on, --strict, --tolerance."""

    def test_reconcile_exits_0_and_writes_files(self, tmp_path: Path) -> None:
        """A clean folder reconciles with exit 0 and writes the six files (and nothing else)."""
        status = main(["reconcile", str(sample_dir()), "--out", str(tmp_path), "--quiet"])

        actual = (status, sorted(p.name for p in tmp_path.iterdir()))

        expected = (
            0,
            [
                "by_invoice.csv",
                "capacity.csv",
                "contracts.csv",
                "invoices.csv",
                "oversight.csv",
                "problems.csv",
                "results.csv",
                "summary.json",
                "unbilled.csv",
            ],
        )
        assert expected == actual

    def test_fail_on_questioned_exits_1_on_the_sample(self, tmp_path: Path) -> None:
        """The sample has questioned costs: --fail-on questioned exits 1."""
        actual = main(
            ["reconcile", str(sample_dir()), "--out", str(tmp_path), "--fail-on", "questioned"]
        )

        expected = 1
        assert expected == actual

    def test_strict_with_a_bad_row_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--strict on a folder with a bad row exits 2 and prints the problem to stderr."""
        folder = _small_folder(tmp_path / "in")

        status = main(["reconcile", str(folder), "--out", str(tmp_path / "out"), "--strict"])

        err = capsys.readouterr().err
        # The INVALID line is the 5th data row: physical line 6 of invoice_lines.csv.
        actual = (status, "invoice_lines.csv:6: column 'quantity'" in err, "(got 'abc')" in err)
        expected = (2, True, True)
        assert expected == actual

    def test_lenient_with_a_bad_row_exits_0(self, tmp_path: Path) -> None:
        """Without --strict, the bad row is an INVALID result and the exit status is 0."""
        folder = _small_folder(tmp_path / "in")

        status = main(["reconcile", str(folder), "--out", str(tmp_path / "out"), "--quiet"])

        rows = _rows(tmp_path / "out" / "results.csv")
        actual = (status, [r[3] for r in rows[1:]].count("INVALID"))
        expected = (0, 1)
        assert expected == actual

    @pytest.mark.parametrize(
        ("args", "status", "findings"),
        [
            # 140.1 vs 137.4 recorded: 2.7 <= 2% of 137.4 = 2.748: accepted, E = 344.30.
            (["--tolerance", "loaded_miles=2%"], "MATCHED", "WITHIN_TOLERANCE"),
            # Without a tolerance: E = 337.66, variance 6.64.
            ([], "QUANTITY_MISMATCH", QTY_FINDINGS),
            # 1% of 137.4 = 1.374 < 2.7.
            (["--tolerance", "loaded_miles=1%"], "QUANTITY_MISMATCH", QTY_FINDINGS),
            # Absolute: 2.7 <= 3.
            (["--tolerance", "loaded_miles=3"], "MATCHED", "WITHIN_TOLERANCE"),
        ],
        ids=["two-percent", "none", "one-percent", "absolute-3"],
    )
    def test_tolerance_option(
        self, tmp_path: Path, args: list[str], status: str, findings: str
    ) -> None:
        """--tolerance BASIS=VALUE and BASIS=PERCENT% parse and apply."""
        # 140.1 x 2.4575 = 344.29575 -> 344.30.
        line = _line("INV-9", "1", "0001", "2021-10-04", "140.1", "2.4575", "344.30", "R1")
        folder = _write_folder(
            tmp_path / "in",
            {"rates.csv": RATES, "manifests.csv": TRIPS[:1], "invoice_lines.csv": [line]},
        )

        code = main(["reconcile", str(folder), "--out", str(tmp_path / "out"), "--quiet", *args])

        row = _rows(tmp_path / "out" / "results.csv")[1]
        actual = (code, row[3], row[4])
        expected = (0, status, findings)
        assert expected == actual

    def test_bad_tolerance_is_a_usage_error(self, tmp_path: Path) -> None:
        """A --tolerance that does not parse exits 2."""
        actual = main(
            ["reconcile", str(sample_dir()), "--out", str(tmp_path), "--tolerance", "miles"]
        )

        expected = 2
        assert expected == actual
