"""Tests for ice_recon.load: the input files of DESIGN section 4 and the problem reports."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ice_recon
from ice_recon import (
    FuelIndexPoint,
    FuelRule,
    InputError,
    InvoiceHeader,
    InvoiceLine,
    Problem,
    RateRule,
    StaffAssignment,
    Trip,
    TripStatus,
)
from ice_recon.load import inspect

D = Decimal
DAY = dt.date

# ------------------------------------------------------------------------------------ helpers

RATES_HEADER = "contract_id,clin,basis,rate,start,end"
RATE_ROW = "C1,0001,loaded_miles,2.4575,2021-10-01,2022-09-30"
MANIFESTS_HEADER = "trip_id,contract_id,service_date,loaded_miles"
TRIP_ROW = "T1,C1,2021-10-04,137.4"
LINES_HEADER = (
    "invoice_id,line_no,contract_id,clin,service_date,quantity,unit_price,amount,trip_ref"
)
LINE_ROW = "INV-1,1,C1,0001,2021-10-04,137.4,2.4575,337.66,T1"
STAFF_HEADER = "trip_id,contract_id,person_id,labor_category,hours"
FUEL_INDEX_HEADER = "series,week,price"
FUEL_RULES_HEADER = "contract_id,clin,start,end,base_price,mpg,series"
INVOICES_HEADER = "invoice_id,contract_id,invoice_date,total"

SEVEN_FILES = (
    "fuel_index.csv",
    "fuel_rules.csv",
    "invoice_lines.csv",
    "invoices.csv",
    "manifests.csv",
    "rates.csv",
    "staff.csv",
)

#: What every ``str(problem)`` must look like (DESIGN section 4).
PROBLEM_LINE = re.compile(r"^[a-z_]+\.csv:\d+: (column '[a-z_]+': )?.+")


def text(*rows: str) -> str:
    """Return CSV text with one physical line per argument, each ended by a newline."""
    return "".join(row + "\n" for row in rows)


DEFAULTS: dict[str, str] = {
    "rates": text(RATES_HEADER, RATE_ROW),
    "manifests": text(MANIFESTS_HEADER, TRIP_ROW),
    "invoice_lines": text(LINES_HEADER, LINE_ROW),
}


def folder(path: Path, **files: str | bytes | None) -> Path:
    """Write the minimal valid input folder, with *files* (by table name) replacing its files.

    Text is written as UTF-8 bytes exactly as given (no newline translation), bytes as they
    are; ``None`` leaves the file out.
    """
    for table, content in (DEFAULTS | files).items():
        if content is None:
            continue
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (path / f"{table}.csv").write_bytes(data)
    return path


def where(problems: Any) -> list[tuple[str, int, str | None]]:
    """Return (file, line, column) of each problem, in order."""
    return [(p.file, p.line, p.column) for p in problems]


def report(problems: Any, *says: str) -> list[tuple[str, int, str | None, str]]:
    """Return (file, line, column, message) of each problem, the message cut to what it *says*.

    A message that contains one of the fragments *says* is replaced by the first such
    fragment, so that a test can state what it expects while a failure still shows the whole
    message.
    """
    return [
        (p.file, p.line, p.column, next((s for s in says if s in p.message), p.message))
        for p in problems
    ]


def in_file(problems: Any, name: str) -> list[Problem]:
    """Return the problems reported in the file *name*."""
    return [p for p in problems if p.file == name]


def clins(inputs: ice_recon.Inputs) -> list[str]:
    """Return the CLIN of every usable rate rule, in order."""
    return [s.record.clin for s in inputs.rates]


def read_rows(path: Path) -> list[dict[str, str]]:
    """Return the data rows of a CSV file as dicts of cell text."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# -------------------------------------------------------------------------------- good inputs


class TestValidFolder:
    """A folder that follows section 4 loads without problems."""

    def test_minimal_folder_has_no_problems(self, tmp_path: Path) -> None:
        """The three required files with one row each validate clean."""
        actual = ice_recon.validate(folder(tmp_path))

        expected = []
        assert expected == actual

    def test_minimal_folder_loads_every_table(self, tmp_path: Path) -> None:
        """Each required table holds its one row, read with the scale it was written with."""
        rule = RateRule(
            contract_id="C1",
            clin="0001",
            basis="loaded_miles",
            rate=D("2.4575"),
            start=DAY(2021, 10, 1),
            end=DAY(2022, 9, 30),
        )
        expected = ([rule], ("loaded_miles",), D("137.4"), D("337.66"))

        inputs = ice_recon.load(folder(tmp_path))

        actual = (
            [s.record for s in inputs.rates],
            inputs.measures,
            inputs.manifests.trip(0).measure("loaded_miles"),
            inputs.invoice_lines.invoice_line(0).amount,
        )
        assert expected == actual

    def test_validate_lists_what_load_reports(self, tmp_path: Path) -> None:
        """validate() returns the problems of load(), as a list."""
        path = folder(tmp_path, rates=text(RATES_HEADER, RATE_ROW.replace("2.4575", "1e3")))
        expected = list(ice_recon.load(path).problems)

        actual = ice_recon.validate(path)

        assert expected == actual

    def test_optional_files_with_rows_validate_clean(self, tmp_path: Path) -> None:
        """Valid staff, fuel and invoice header files add no problem."""
        path = folder(
            tmp_path,
            staff=text(STAFF_HEADER, "T1,C1,P1,GUARD,8.5"),
            fuel_index=text(FUEL_INDEX_HEADER, "DIESEL,2021-10-04,3.512"),
            fuel_rules=text(FUEL_RULES_HEADER, "C1,0002,2021-10-01,2022-09-30,2.50,6,DIESEL"),
            invoices=text(INVOICES_HEADER, "INV-1,C1,2021-10-31,337.66"),
        )

        actual = ice_recon.validate(path)

        expected = []
        assert expected == actual


class TestPaymentColumnsOfInvoices:
    """``invoices.csv`` reads ``approved_date`` and ``paid_amount`` (DESIGN section 9.1)."""

    HEADER = "invoice_id,contract_id,invoice_date,status,approved_by,approved_date,paid_amount"

    def test_read_into_the_header_record(self, tmp_path: Path) -> None:
        """Both cells land in the record as a date and an exact decimal."""
        path = folder(
            tmp_path, invoices=text(self.HEADER, "INV-1,C1,2021-10-31,paid,P7,2021-11-03,337.66")
        )

        header = ice_recon.load(path).invoices[0].record
        actual = (header.approved_date, header.paid_amount)

        expected = (DAY(2021, 11, 3), D("337.66"))
        assert expected == actual

    def test_bad_cells_are_problems(self, tmp_path: Path) -> None:
        """A date that is no date and money with three places are reported at their cells."""
        path = folder(
            tmp_path, invoices=text(self.HEADER, "INV-1,C1,2021-10-31,paid,P7,2021-11-31,1.001")
        )

        actual = [(p.file, p.line, p.column) for p in ice_recon.validate(path)]

        expected = [("invoices.csv", 2, "approved_date"), ("invoices.csv", 2, "paid_amount")]
        assert expected == actual


class TestEncodingAndLayout:
    """BOM, CRLF, quoting and surrounding whitespace are read as section 4 says."""

    def test_bom_and_crlf(self, tmp_path: Path) -> None:
        """A UTF-8 BOM is dropped before the header and CRLF line ends are accepted."""
        rates = b"\xef\xbb\xbf" + text(RATES_HEADER, RATE_ROW).replace("\n", "\r\n").encode()
        lines = b"\xef\xbb\xbf" + text(LINES_HEADER, LINE_ROW).replace("\n", "\r\n").encode()
        expected = ((), ["C1"], ["T1"])

        inputs = ice_recon.load(folder(tmp_path, rates=rates, invoice_lines=lines))

        actual = (
            inputs.problems,
            [s.record.contract_id for s in inputs.rates],
            inputs.invoice_lines.trip_ref,
        )
        assert expected == actual

    def test_quoted_cells_keep_commas_and_newlines(self, tmp_path: Path) -> None:
        """A quoted cell may hold commas and newlines; its text is kept whole."""
        lines = text(LINES_HEADER + ",description", LINE_ROW + ',"Dallas, TX', 'to Houston, TX"')
        expected = ((), "Dallas, TX\nto Houston, TX")

        inputs = ice_recon.load(folder(tmp_path, invoice_lines=lines))

        actual = (inputs.problems, inputs.invoice_lines.invoice_line(0).description)
        assert expected == actual

    def test_line_is_where_the_record_starts(self, tmp_path: Path) -> None:
        """A record after a multi-line quoted cell is reported at its own physical line."""
        second = LINE_ROW.replace("INV-1,1", "INV-1,2").replace("337.66", "337.661")
        lines = text(
            LINES_HEADER + ",description", LINE_ROW + ',"one', "two", 'three"', second + ",x"
        )
        expected = ([("invoice_lines.csv", 5, "amount")], [2, 5])

        inputs = ice_recon.load(folder(tmp_path, invoice_lines=lines))

        actual = (where(inputs.problems), inputs.invoice_lines.line)
        assert expected == actual

    def test_crlf_inside_quoted_cell_counts_lines(self, tmp_path: Path) -> None:
        """CRLF line ends inside and after a quoted cell still give physical line numbers."""
        lines = (
            f"{LINES_HEADER},description\r\n"
            f'{LINE_ROW},"a\r\nb"\r\n'
            "INV-1,x,C1,0001,2021-10-04,1,1,1.00,T1,c\r\n"
        )

        actual = where(ice_recon.validate(folder(tmp_path, invoice_lines=lines)))

        expected = [("invoice_lines.csv", 4, "line_no")]
        assert expected == actual

    def test_cells_are_stripped(self, tmp_path: Path) -> None:
        """Surrounding whitespace of every cell (header included) is removed before reading."""
        rates = text(
            " contract_id , clin ,basis,rate,start,end",
            " C1 , 0001 ,loaded_miles, 2.4575 , 2021-10-01 ,2022-09-30 ",
        )
        expected = ((), ("C1", "0001", D("2.4575"), DAY(2021, 10, 1)))

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        rule = inputs.rates[0].record
        actual = (inputs.problems, (rule.contract_id, rule.clin, rule.rate, rule.start))
        assert expected == actual

    def test_trip_ids_and_refs_are_upper_cased(self, tmp_path: Path) -> None:
        """Trip ids, roster trip ids and trip refs are stripped and upper-cased (" t1 " is T1)."""
        path = folder(
            tmp_path,
            manifests=text(MANIFESTS_HEADER, " t1 ,C1,2021-10-04,137.4"),
            invoice_lines=text(LINES_HEADER, LINE_ROW.replace(",T1", ", t1 ")),
            staff=text(STAFF_HEADER, " t1 ,C1,P1,GUARD,8"),
        )
        expected = ((), ["T1"], ["T1"], ["T1"])

        inputs = ice_recon.load(path)

        actual = (
            inputs.problems,
            inputs.manifests.trip_id,
            inputs.invoice_lines.trip_ref,
            inputs.staff.trip_id,
        )
        assert expected == actual

    def test_other_identifiers_keep_their_case(self, tmp_path: Path) -> None:
        """Identifiers other than trip ids compare exactly: their case is kept."""
        rates = text(RATES_HEADER, "c1,0001a,loaded_miles,2.4575,2021-10-01,2022-09-30")

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = [(s.record.contract_id, s.record.clin) for s in inputs.rates]
        expected = [("c1", "0001a")]
        assert expected == actual


# ----------------------------------------------------------------------------------- headers


class TestColumns:
    """Unknown, misspelled and missing columns are reported at line 1."""

    def test_misspelled_column_is_reported_with_a_suggestion(self, tmp_path: Path) -> None:
        """`rat` for `rate` is an unknown column suggesting `rate`, and `rate` is missing."""
        path = folder(tmp_path, rates=text(RATES_HEADER.replace("rate", "rat"), RATE_ROW))
        expected = [
            ("rates.csv", 1, "rat", "unknown column; did you mean 'rate'?"),
            ("rates.csv", 1, "rate", "required column is missing"),
        ]

        problems = ice_recon.validate(path)

        actual = report(
            problems, "unknown column; did you mean 'rate'?", "required column is missing"
        )
        assert expected == actual

    @pytest.mark.parametrize(
        ("table", "header", "row", "missing"),
        [
            (
                "rates",
                "contract_id,clin,basis,start,end",
                "C1,0001,trip,2021-10-01,2022-09-30",
                "rate",
            ),
            ("manifests", "trip_id,service_date,loaded_miles", "T1,2021-10-04,1", "contract_id"),
            (
                "invoice_lines",
                LINES_HEADER.replace("amount,", ""),
                "INV-1,1,C1,0001,2021-10-04,137.4,2.4575,T1",
                "amount",
            ),
        ],
    )
    def test_missing_required_column(
        self, tmp_path: Path, table: str, header: str, row: str, missing: str
    ) -> None:
        """A required column that is absent is reported at line 1 of its file."""
        path = folder(tmp_path, **{table: text(header, row)})
        expected = [(f"{table}.csv", 1, missing, "required column is missing")]

        problems = in_file(ice_recon.validate(path), f"{table}.csv")

        actual = report(problems, "required column is missing")
        assert expected == actual

    @pytest.mark.parametrize("manifests", [text("trip_id,service_date,loaded_miles"), b"", None])
    def test_unusable_manifests_header_is_one_problem(
        self, tmp_path: Path, manifests: str | bytes | None
    ) -> None:
        """Without a usable manifests header, rate bases are not checked against it."""
        path = folder(tmp_path, manifests=manifests)

        actual = [(p.file, p.line) for p in ice_recon.validate(path)]

        expected = [("manifests.csv", 1)]
        assert expected == actual

    def test_unknown_column_rows_are_still_read(self, tmp_path: Path) -> None:
        """An unknown column of rates.csv is reported, and its rows are still usable."""
        path = folder(tmp_path, rates=text(RATES_HEADER + ",note", RATE_ROW + ",hello"))
        expected = ([("rates.csv", 1, "note", "unknown column")], ["0001"])

        inputs = ice_recon.load(path)

        actual = (report(inputs.problems, "unknown column"), clins(inputs))
        assert expected == actual

    def test_extra_manifest_column_is_a_measure(self, tmp_path: Path) -> None:
        """In manifests.csv an extra column is a measure, not a problem."""
        manifests = text(MANIFESTS_HEADER + ",wait_hours", TRIP_ROW + ",1.25")
        expected = ((), ("loaded_miles", "wait_hours"), D("1.25"))

        inputs = ice_recon.load(folder(tmp_path, manifests=manifests))

        actual = (
            inputs.problems,
            inputs.measures,
            inputs.manifests.trip(0).measure("wait_hours"),
        )
        assert expected == actual

    def test_manifest_column_like_a_standard_one_is_a_measure(self, tmp_path: Path) -> None:
        """`orgin` is a measure like any extra column (DESIGN §4.2): its text cell is reported."""
        manifests = text(MANIFESTS_HEADER + ",orgin", TRIP_ROW + ",DAL")
        expected = ([("manifests.csv", 2, "orgin", "decimal number")], ("loaded_miles", "orgin"))

        inputs = inspect(folder(tmp_path, manifests=manifests))

        actual = (report(inputs.problems, "decimal number"), inputs.measures)
        assert expected == actual

    @pytest.mark.parametrize(
        "name", ["trip", "cancellation", "labor_hours", "trips", "labour_hours", "destinations"]
    )
    def test_any_extra_manifest_column_is_a_measure(self, tmp_path: Path, name: str) -> None:
        """Any extra manifest column is a measure whatever its name (DESIGN §4.2), no problem."""
        manifests = text(f"{MANIFESTS_HEADER},{name}", TRIP_ROW + ",1")
        expected = ([], ("loaded_miles", name))

        inputs = ice_recon.load(folder(tmp_path, manifests=manifests))

        actual = (where(inputs.problems), inputs.measures)
        assert expected == actual

    def test_misspelled_measure_caught_at_the_basis(self, tmp_path: Path) -> None:
        """A basis naming a measure the manifest lacks is reported with a did-you-mean."""
        manifests = text(MANIFESTS_HEADER + ",waiting_hours", TRIP_ROW + ",1")
        rates = text(RATES_HEADER, RATE_ROW, "C1,0002,wait_hours,50.00,2021-10-01,2022-09-30")
        expected = [("rates.csv", 3, "basis", "did you mean 'waiting_hours'?")]

        problems = ice_recon.validate(folder(tmp_path, manifests=manifests, rates=rates))

        actual = report(problems, "did you mean 'waiting_hours'?")
        assert expected == actual

    def test_column_twice_in_header(self, tmp_path: Path) -> None:
        """A column named twice in the header is reported at line 1."""
        path = folder(tmp_path, rates=text(RATES_HEADER + ",rate", RATE_ROW + ",2.00"))

        actual = report(ice_recon.validate(path), "twice")

        expected = [("rates.csv", 1, "rate", "twice")]
        assert expected == actual


# ------------------------------------------------------------------------------------- cells


class TestRateCells:
    """A rate cell must be a plain non-negative decimal; a bad one leaves its row out."""

    @pytest.mark.parametrize(
        ("cell", "says"),
        [
            ("1e3", "decimal number"),
            ("1,234.50", "decimal number"),
            ("$100.00", "decimal number"),
            ("NaN", "decimal number"),
            ("Infinity", "decimal number"),
            ("+5.00", "decimal number"),
            (".5", "decimal number"),
            ("5.", "decimal number"),
            ("-5.00", "negative"),
            ("-0", "negative"),
        ],
    )
    def test_bad_rate(self, tmp_path: Path, cell: str, says: str) -> None:
        """The cell is reported at rates.csv:LINE column 'rate' and its row is left out."""
        bad = f'C1,0002,loaded_miles,"{cell}",2021-10-01,2022-09-30'
        path = folder(tmp_path, rates=text(RATES_HEADER, RATE_ROW, bad))
        expected = ([("rates.csv", 3, "rate", says)], [cell], ["0001"])

        inputs = ice_recon.load(path)

        actual = (report(inputs.problems, says), [p.value for p in inputs.problems], clins(inputs))
        assert expected == actual

    @pytest.mark.parametrize("cell", ["0", "0.00", "2", "2.4575", "0010.50"])
    def test_good_rate_keeps_its_scale(self, tmp_path: Path, cell: str) -> None:
        """A plain decimal is read exactly, with the scale it was written with."""
        path = folder(tmp_path, rates=text(RATES_HEADER, RATE_ROW.replace("2.4575", cell)))
        expected = ((), str(D(cell)))

        inputs = ice_recon.load(path)

        actual = (inputs.problems, str(inputs.rates[0].record.rate))
        assert expected == actual


class TestDates:
    """Dates are ISO YYYY-MM-DD calendar dates; a window ends on or after its start."""

    @pytest.mark.parametrize(
        ("cell", "says"),
        [
            ("2022-02-30", "calendar date"),
            ("2021-02-29", "calendar date"),
            ("2021/10/01", "YYYY-MM-DD"),
            ("10/01/2021", "YYYY-MM-DD"),
            ("2021-10-1", "YYYY-MM-DD"),
            ("20211001", "YYYY-MM-DD"),
        ],
    )
    def test_bad_start(self, tmp_path: Path, cell: str, says: str) -> None:
        """A bad date is reported at its cell and the rule is left out."""
        path = folder(tmp_path, rates=text(RATES_HEADER, RATE_ROW.replace("2021-10-01", cell)))
        expected = ([("rates.csv", 2, "start", says)], [cell], ())

        inputs = ice_recon.load(path)

        actual = (report(inputs.problems, says), [p.value for p in inputs.problems], inputs.rates)
        assert expected == actual

    def test_leap_day(self, tmp_path: Path) -> None:
        """2024-02-29 is a calendar date."""
        rates = text(RATES_HEADER, "C1,0001,loaded_miles,2.4575,2024-02-29,2024-03-31")

        actual = ice_recon.validate(folder(tmp_path, rates=rates))

        expected = []
        assert expected == actual

    def test_end_before_start(self, tmp_path: Path) -> None:
        """An end before its start is reported at the end cell and the rule is left out."""
        rates = text(RATES_HEADER, "C1,0001,loaded_miles,2.4575,2022-09-30,2022-09-29")
        expected = ([("rates.csv", 2, "end", "before start")], ["2022-09-29"], ())

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (
            report(inputs.problems, "before start"),
            [p.value for p in inputs.problems],
            inputs.rates,
        )
        assert expected == actual

    def test_one_day_window(self, tmp_path: Path) -> None:
        """A window whose end equals its start is one valid day."""
        rates = text(RATES_HEADER, "C1,0001,loaded_miles,2.4575,2021-10-04,2021-10-04")

        actual = ice_recon.validate(folder(tmp_path, rates=rates))

        expected = []
        assert expected == actual

    def test_fuel_rule_end_before_start(self, tmp_path: Path) -> None:
        """fuel_rules.csv windows are checked like rates.csv windows."""
        fuel_rules = text(FUEL_RULES_HEADER, "C1,0002,2022-09-30,2021-10-01,2.50,6,DIESEL")
        expected = ([("fuel_rules.csv", 2, "end", "before start")], ())

        inputs = ice_recon.load(folder(tmp_path, fuel_rules=fuel_rules))

        actual = (report(inputs.problems, "before start"), inputs.fuel_rules)
        assert expected == actual


def case(name: str, files: dict[str, str], at: tuple[str, int, str | None], says: str) -> Any:
    """Return one row of the CELL_CASES table."""
    return pytest.param(files, (*at, says), id=name)


CELL_CASES = [
    case(
        "line-service-date",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.replace("2021-10-04", "2022-02-30"))},
        ("invoice_lines.csv", 2, "service_date"),
        "calendar date",
    ),
    case(
        "trip-service-date",
        {"manifests": text(MANIFESTS_HEADER, "T1,C1,2021/10/04,137.4")},
        ("manifests.csv", 2, "service_date"),
        "YYYY-MM-DD",
    ),
    case(
        "week-not-monday",
        {"fuel_index": text(FUEL_INDEX_HEADER, "DIESEL,2021-10-05,3.512")},
        ("fuel_index.csv", 2, "week"),
        "Monday",
    ),
    case(
        "week-sunday",
        {"fuel_index": text(FUEL_INDEX_HEADER, "DIESEL,2021-10-03,3.512")},
        ("fuel_index.csv", 2, "week"),
        "Monday",
    ),
    case(
        "mpg-0",
        {"fuel_rules": text(FUEL_RULES_HEADER, "C1,0002,2021-10-01,2022-09-30,2.50,0,DIESEL")},
        ("fuel_rules.csv", 2, "mpg"),
        "greater than 0",
    ),
    case(
        "mpg-0.00",
        {"fuel_rules": text(FUEL_RULES_HEADER, "C1,0002,2021-10-01,2022-09-30,2.50,0.00,DIESEL")},
        ("fuel_rules.csv", 2, "mpg"),
        "greater than 0",
    ),
    case(
        "mpg-negative",
        {"fuel_rules": text(FUEL_RULES_HEADER, "C1,0002,2021-10-01,2022-09-30,2.50,-6,DIESEL")},
        ("fuel_rules.csv", 2, "mpg"),
        "negative",
    ),
    case(
        "increment-0",
        {"rates": text(RATES_HEADER + ",increment", RATE_ROW + ",0")},
        ("rates.csv", 2, "increment"),
        "greater than 0",
    ),
    case(
        "increment-0.00",
        {"rates": text(RATES_HEADER + ",increment", RATE_ROW + ",0.00")},
        ("rates.csv", 2, "increment"),
        "greater than 0",
    ),
    case(
        "negative-measure",
        {"manifests": text(MANIFESTS_HEADER, "T1,C1,2021-10-04,-1.0")},
        ("manifests.csv", 2, "loaded_miles"),
        "negative",
    ),
    case(
        "negative-hours",
        {"staff": text(STAFF_HEADER, "T1,C1,P1,GUARD,-8")},
        ("staff.csv", 2, "hours"),
        "negative",
    ),
    case(
        "negative-quantity",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.replace("137.4,", "-137.4,"))},
        ("invoice_lines.csv", 2, "quantity"),
        "negative",
    ),
    case(
        "negative-unit-price",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.replace("2.4575", "-2.4575"))},
        ("invoice_lines.csv", 2, "unit_price"),
        "negative",
    ),
    case(
        "negative-amount",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.replace("337.66", "-337.66"))},
        ("invoice_lines.csv", 2, "amount"),
        "negative",
    ),
    case(
        "amount-3-places",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.replace("337.66", "337.661"))},
        ("invoice_lines.csv", 2, "amount"),
        "2 decimal places",
    ),
    case(
        "minimum-amount-3-places",
        {"rates": text(RATES_HEADER + ",minimum_amount", RATE_ROW + ",50.001")},
        ("rates.csv", 2, "minimum_amount"),
        "2 decimal places",
    ),
    case(
        "total-3-places",
        {"invoices": text(INVOICES_HEADER, "INV-1,C1,2021-10-31,337.661")},
        ("invoices.csv", 2, "total"),
        "2 decimal places",
    ),
    case(
        "line-no-0",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.replace("INV-1,1,", "INV-1,0,"))},
        ("invoice_lines.csv", 2, "line_no"),
        "positive whole number",
    ),
    case(
        "line-no-x",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.replace("INV-1,1,", "INV-1,x,"))},
        ("invoice_lines.csv", 2, "line_no"),
        "positive whole number",
    ),
    case(
        "line-no-1.5",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.replace("INV-1,1,", "INV-1,1.5,"))},
        ("invoice_lines.csv", 2, "line_no"),
        "positive whole number",
    ),
    case(
        "line-no-negative",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.replace("INV-1,1,", "INV-1,-1,"))},
        ("invoice_lines.csv", 2, "line_no"),
        "positive whole number",
    ),
    case(
        "empty-required-cell",
        {"rates": text(RATES_HEADER, RATE_ROW.replace("2.4575", " "))},
        ("rates.csv", 2, "rate"),
        "must not be empty",
    ),
    case(
        "status-not-allowed",
        {"manifests": text(MANIFESTS_HEADER + ",status", TRIP_ROW + ",done")},
        ("manifests.csv", 2, "status"),
        "one of",
    ),
    case(
        "rounding-not-allowed",
        {"rates": text(RATES_HEADER + ",rounding", RATE_ROW + ",bankers")},
        ("rates.csv", 2, "rounding"),
        "one of",
    ),
    case(
        "basis-not-a-measure",
        {"rates": text(RATES_HEADER, RATE_ROW.replace("loaded_miles", "loaded_mile"))},
        ("rates.csv", 2, "basis"),
        "loaded_miles",
    ),
    case(
        "fuel-basis-not-a-measure",
        {
            "fuel_rules": text(
                FUEL_RULES_HEADER + ",basis",
                "C1,0002,2021-10-01,2022-09-30,2.50,6,DIESEL,deadhead_miles",
            )
        },
        ("fuel_rules.csv", 2, "basis"),
        "measure column",
    ),
    case(
        "person-in-two-categories",
        {"staff": text(STAFF_HEADER, "T1,C1,P1,GUARD,8", "T1,C1,P1,DRIVER,8")},
        ("staff.csv", 3, "labor_category"),
        "line 2",
    ),
    case(
        "too-many-cells",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW + ",extra")},
        ("invoice_lines.csv", 2, None),
        "10 cells",
    ),
    case(
        "too-few-cells",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW.removesuffix(",T1"))},
        ("invoice_lines.csv", 2, None),
        "8 cells",
    ),
    case(
        "all-empty-row",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW, ",,,,,,,,")},
        ("invoice_lines.csv", 3, None),
        "empty",
    ),
    case(
        "all-blank-row",
        {"invoice_lines": text(LINES_HEADER, LINE_ROW, " , ,\t, , , , , , ")},
        ("invoice_lines.csv", 3, None),
        "empty",
    ),
]


class TestCellChecks:
    """Each malformed cell or row is one problem at its file, line and column."""

    @pytest.mark.parametrize(("files", "expected"), CELL_CASES)
    def test_reported_where_it_is(
        self, tmp_path: Path, files: dict[str, str], expected: tuple[str, int, str | None, str]
    ) -> None:
        """The problem names the file, line and column, and says what was expected."""
        problems = ice_recon.validate(folder(tmp_path, **files))

        actual = report(problems, expected[3])
        expected = [expected]
        assert expected == actual

    def test_all_empty_row_is_ignored(self, tmp_path: Path) -> None:
        """A row whose cells are all empty is reported and is not an invoice line."""
        path = folder(tmp_path, invoice_lines=text(LINES_HEADER, ",,,,,,,,", LINE_ROW))
        expected = ([("invoice_lines.csv", 2, None)], [3], bytearray([1]))

        inputs = ice_recon.load(path)

        actual = (where(inputs.problems), inputs.invoice_lines.line, inputs.invoice_lines.valid)
        assert expected == actual

    def test_person_in_two_categories_leaves_every_row_out(self, tmp_path: Path) -> None:
        """Every roster row of a person with two categories on one trip is left out."""
        staff = text(
            STAFF_HEADER,
            "T1,C1,P1,GUARD,8",
            "T1,C1,P1,DRIVER,8",
            "T1,C1,P2,GUARD,8",
            "T1,C1,P1,GUARD,1",
        )

        inputs = ice_recon.load(folder(tmp_path, staff=staff))

        actual = inputs.staff.person_id
        expected = ["P2"]
        assert expected == actual

    def test_same_person_on_two_trips_in_two_categories_is_fine(self, tmp_path: Path) -> None:
        """One category per person *per trip*: another trip may use another category."""
        staff = text(STAFF_HEADER, "T1,C1,P1,GUARD,8", "T2,C1,P1,DRIVER,8")

        actual = ice_recon.validate(folder(tmp_path, staff=staff))

        expected = []
        assert expected == actual

    def test_duplicate_fuel_week_leaves_both_out(self, tmp_path: Path) -> None:
        """A repeated (series, week) is reported at the later row naming the earlier."""
        index = text(
            FUEL_INDEX_HEADER,
            "DIESEL,2021-10-04,3.512",
            "DIESEL,2021-10-04,3.600",
            "DIESEL,2021-10-11,3.550",
            "GAS,2021-10-04,3.100",
        )
        expected = (
            [("fuel_index.csv", 3, "week", "line 2")],
            [("DIESEL", DAY(2021, 10, 11)), ("GAS", DAY(2021, 10, 4))],
        )

        inputs = ice_recon.load(folder(tmp_path, fuel_index=index))

        actual = (
            report(inputs.problems, "line 2"),
            [(s.record.series, s.record.week) for s in inputs.fuel_index],
        )
        assert expected == actual


class TestNonUtf8:
    """A byte that is not UTF-8 is reported at its own cell."""

    @pytest.mark.parametrize(
        ("table", "content", "column"),
        [
            (
                "invoice_lines",
                text(LINES_HEADER + ",description", LINE_ROW + ",Caf\udce9 run"),
                "description",
            ),
            ("rates", text(RATES_HEADER + ",authority", RATE_ROW + ",P0000\udce9"), "authority"),
            ("manifests", text(MANIFESTS_HEADER + ",origin", TRIP_ROW + ",Dall\udce9s"), "origin"),
        ],
    )
    def test_bad_byte_in_cell(self, tmp_path: Path, table: str, content: str, column: str) -> None:
        """A lone b'\\xe9' is reported at that line and column, mentioning UTF-8."""
        data = content.encode("utf-8", "surrogateescape")
        assert b"\xe9" in data
        expected = [(f"{table}.csv", 2, column, "UTF-8")]

        problems = ice_recon.validate(folder(tmp_path, **{table: data}))

        actual = report(problems, "UTF-8")
        assert expected == actual

    def test_bad_byte_line_stays_invalid(self, tmp_path: Path) -> None:
        """An invoice line with a bad byte is kept as an INVALID row."""
        data = text(LINES_HEADER, LINE_ROW.replace(",T1", ",T\udce9")).encode(
            "utf-8", "surrogateescape"
        )
        expected = ([("invoice_lines.csv", 2, "trip_ref")], 1, bytearray([0]))

        inputs = ice_recon.load(folder(tmp_path, invoice_lines=data))

        actual = (where(inputs.problems), len(inputs.invoice_lines), inputs.invoice_lines.valid)
        assert expected == actual

    def test_good_utf8_is_read(self, tmp_path: Path) -> None:
        """Non-ASCII UTF-8 text is an ordinary cell."""
        lines = text(LINES_HEADER + ",description", LINE_ROW + ",Café run — 2 pax")

        inputs = ice_recon.load(folder(tmp_path, invoice_lines=lines))

        actual = (inputs.problems, inputs.invoice_lines.description)
        expected = ((), ["Café run — 2 pax"])
        assert expected == actual

    def test_kept_key_text_is_encodable(self, tmp_path: Path) -> None:
        """The raw invoice_id kept for an INVALID row can be written as UTF-8."""
        data = text(LINES_HEADER, LINE_ROW.replace("INV-1", "INV-\udce9")).encode(
            "utf-8", "surrogateescape"
        )

        inputs = ice_recon.load(folder(tmp_path, invoice_lines=data))

        inputs.invoice_lines.invoice_id[0].encode("utf-8")


# ------------------------------------------------------------------------------------- files


class TestFiles:
    """Missing, empty and header-only files are reported at line 1."""

    @pytest.mark.parametrize("table", ["rates", "manifests", "invoice_lines"])
    def test_empty_required_file(self, tmp_path: Path, table: str) -> None:
        """A 0-byte required file is a problem at its line 1."""
        expected = [(f"{table}.csv", 1, None, "file is empty")]

        problems = in_file(ice_recon.validate(folder(tmp_path, **{table: b""})), f"{table}.csv")

        actual = report(problems, "file is empty")
        assert expected == actual

    @pytest.mark.parametrize("table", ["staff", "fuel_index", "fuel_rules", "invoices"])
    def test_empty_optional_file(self, tmp_path: Path, table: str) -> None:
        """A 0-byte optional file has no header: a problem at its line 1."""
        expected = [(f"{table}.csv", 1, None, "expected a header row")]

        problems = ice_recon.validate(folder(tmp_path, **{table: b""}))

        actual = report(problems, "expected a header row")
        assert expected == actual

    def test_bom_only_file_is_empty(self, tmp_path: Path) -> None:
        """A file holding only a BOM is an empty file."""
        path = folder(tmp_path, invoice_lines=b"\xef\xbb\xbf")

        actual = report(ice_recon.validate(path), "file is empty")

        expected = [("invoice_lines.csv", 1, None, "file is empty")]
        assert expected == actual

    @pytest.mark.parametrize(
        ("table", "header"),
        [("rates", RATES_HEADER), ("manifests", MANIFESTS_HEADER), ("invoice_lines", LINES_HEADER)],
    )
    def test_header_only_required_file(self, tmp_path: Path, table: str, header: str) -> None:
        """A required file with a header and no data rows is valid and empty (DESIGN §4)."""
        expected: list[Problem] = []

        problems = ice_recon.validate(folder(tmp_path, **{table: text(header)}))

        actual = in_file(problems, f"{table}.csv")
        assert expected == actual

    @pytest.mark.parametrize(
        ("table", "header"),
        [
            ("staff", STAFF_HEADER),
            ("fuel_index", FUEL_INDEX_HEADER),
            ("fuel_rules", FUEL_RULES_HEADER),
            ("invoices", INVOICES_HEADER),
        ],
    )
    def test_header_only_optional_file(self, tmp_path: Path, table: str, header: str) -> None:
        """An optional file with only a header is fine."""
        actual = ice_recon.validate(folder(tmp_path, **{table: text(header)}))

        expected = []
        assert expected == actual

    @pytest.mark.parametrize("table", ["rates", "manifests", "invoice_lines"])
    def test_missing_required_file(self, tmp_path: Path, table: str) -> None:
        """A required file that is absent is reported at its line 1."""
        expected = [(f"{table}.csv", 1, None, "required file is missing")]

        problems = in_file(ice_recon.validate(folder(tmp_path, **{table: None})), f"{table}.csv")

        actual = report(problems, "required file is missing")
        assert expected == actual

    def test_not_a_folder(self, tmp_path: Path) -> None:
        """load() of a path that is not a folder is a programmer error, raised at once."""
        with pytest.raises(NotADirectoryError):
            ice_recon.load(tmp_path / "nope")

    def test_digests_of_files_read(self, tmp_path: Path) -> None:
        """Inputs.digests has the sha256 of each file read, by name."""
        expected = {f"{t}.csv": hashlib.sha256(DEFAULTS[t].encode()).hexdigest() for t in DEFAULTS}

        actual = dict(ice_recon.load(folder(tmp_path)).digests)

        assert expected == actual

    def test_unterminated_quote_is_reported(self, tmp_path: Path) -> None:
        """A quote that never closes is a problem at the row where it opens."""
        lines = text(
            LINES_HEADER,
            LINE_ROW.replace(",T1", ',"T1'),
            LINE_ROW.replace("INV-1,1,", "INV-1,2,"),
            LINE_ROW.replace("INV-1,1,", "INV-1,3,"),
        )

        problems = ice_recon.validate(folder(tmp_path, invoice_lines=lines))

        actual = [(p.file, p.line) for p in problems]
        expected = [("invoice_lines.csv", 2)]
        assert expected == actual


# ------------------------------------------------------------------------------ rule windows


class TestOverlappingWindows:
    """Rules of one (contract, CLIN, category) must not overlap; overlapping ones are unusable."""

    @pytest.mark.parametrize(
        ("second_start", "expected"),
        [
            ("2021-10-01", [("rates.csv", 3, "start")]),
            ("2022-09-30", [("rates.csv", 3, "start")]),  # the last day of the first window
            ("2022-10-01", []),  # the day after: adjacent windows do not overlap
        ],
    )
    def test_window_edges(self, tmp_path: Path, second_start: str, expected: list[Any]) -> None:
        """Windows are inclusive: sharing one day overlaps, adjacent windows do not."""
        rates = text(
            RATES_HEADER,
            "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30",
            f"C1,0001,loaded_miles,2.10,{second_start},2023-09-30",
        )

        actual = where(ice_recon.validate(folder(tmp_path, rates=rates)))

        assert expected == actual

    def test_overlap_reported_at_later_row_and_both_left_out(self, tmp_path: Path) -> None:
        """The later row names the earlier line, and neither rule is usable."""
        rates = text(
            RATES_HEADER,
            "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30",
            "C1,0002,trip,95.00,2021-10-01,2022-09-30",
            "C1,0001,loaded_miles,2.10,2022-03-01,2023-09-30",
        )
        expected = ([("rates.csv", 4, "start", "overlaps the rule at line 2")], ["0002"])

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (report(inputs.problems, "overlaps the rule at line 2"), clins(inputs))
        assert expected == actual

    def test_order_in_file_does_not_matter(self, tmp_path: Path) -> None:
        """A later-starting rule written first is still reported at the later line."""
        rates = text(
            RATES_HEADER,
            "C1,0001,loaded_miles,2.10,2022-03-01,2023-09-30",
            "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30",
        )
        expected = ([("rates.csv", 3, "start", "line 2")], ())

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (report(inputs.problems, "line 2"), inputs.rates)
        assert expected == actual

    def test_three_overlapping_rules(self, tmp_path: Path) -> None:
        """Each rule overlapping an earlier one is reported, and none of them is usable."""
        rates = text(
            RATES_HEADER,
            "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30",
            "C1,0001,loaded_miles,2.10,2022-01-01,2022-12-31",
            "C1,0001,loaded_miles,2.20,2022-06-01,2023-05-31",
        )
        expected = ([("rates.csv", 3, "start"), ("rates.csv", 4, "start")], ())

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (sorted(set(where(inputs.problems))), inputs.rates)
        assert expected == actual

    def test_other_contract_does_not_overlap(self, tmp_path: Path) -> None:
        """The same CLIN and window in two contracts is two separate rules."""
        rates = text(
            RATES_HEADER,
            "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30",
            "C2,0001,loaded_miles,2.10,2021-10-01,2022-09-30",
        )

        actual = ice_recon.validate(folder(tmp_path, rates=rates))

        expected = []
        assert expected == actual

    def test_rule_without_category_overlaps_categorized_rule(self, tmp_path: Path) -> None:
        """A rule without labor_category overlaps every category of its CLIN."""
        rates = text(
            RATES_HEADER + ",labor_category",
            "C1,0100,labor_hours,45.00,2021-10-01,2022-09-30,",
            "C1,0100,labor_hours,50.00,2021-10-01,2022-09-30,GUARD",
        )
        expected = ([("rates.csv", 3, "start", "line 2")], ())

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (report(inputs.problems, "line 2"), inputs.rates)
        assert expected == actual

    def test_same_category_overlaps(self, tmp_path: Path) -> None:
        """Two rules of the same category with overlapping windows are unusable."""
        rates = text(
            RATES_HEADER + ",labor_category",
            "C1,0100,labor_hours,45.00,2021-10-01,2022-09-30,GUARD",
            "C1,0100,labor_hours,50.00,2022-01-01,2022-12-31,GUARD",
        )
        expected = ([("rates.csv", 3, "start", "line 2")], ())

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (report(inputs.problems, "line 2"), inputs.rates)
        assert expected == actual

    def test_different_categories_do_not_overlap(self, tmp_path: Path) -> None:
        """Rules of different categories may share a window."""
        rates = text(
            RATES_HEADER + ",labor_category",
            "C1,0100,labor_hours,45.00,2021-10-01,2022-09-30,GUARD",
            "C1,0100,labor_hours,50.00,2021-10-01,2022-09-30,DRIVER",
        )
        expected = ((), ["GUARD", "DRIVER"])

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (inputs.problems, [s.record.labor_category for s in inputs.rates])
        assert expected == actual

    def test_rates_and_fuel_rules_on_the_same_day(self, tmp_path: Path) -> None:
        """A CLIN in both files is reported at rates.csv (later name) naming fuel_rules.csv."""
        path = folder(
            tmp_path,
            rates=text(RATES_HEADER, RATE_ROW, "C1,0002,loaded_miles,0.25,2022-09-30,2023-09-30"),
            fuel_rules=text(FUEL_RULES_HEADER, "C1,0002,2021-10-01,2022-09-30,2.50,6,DIESEL"),
        )
        expected = ([("rates.csv", 3, "start", "fuel_rules.csv:2")], ["0001"], ())

        inputs = ice_recon.load(path)

        actual = (report(inputs.problems, "fuel_rules.csv:2"), clins(inputs), inputs.fuel_rules)
        assert expected == actual

    def test_rates_and_fuel_rules_on_other_days(self, tmp_path: Path) -> None:
        """A CLIN may move from a fuel rule to a rate rule on the next day."""
        path = folder(
            tmp_path,
            rates=text(RATES_HEADER, RATE_ROW, "C1,0002,loaded_miles,0.25,2022-10-01,2023-09-30"),
            fuel_rules=text(FUEL_RULES_HEADER, "C1,0002,2021-10-01,2022-09-30,2.50,6,DIESEL"),
            fuel_index=text(FUEL_INDEX_HEADER, "DIESEL,2021-10-04,3.50"),
        )

        actual = ice_recon.validate(path)

        expected = []
        assert expected == actual

    def test_tier_set_counts_as_one_rule(self, tmp_path: Path) -> None:
        """The rows of one tier set share a window without overlapping each other."""
        rates = text(
            RATES_HEADER + ",tier_from,tier_mode",
            "C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,0,all_units",
            "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30,100,all_units",
        )
        expected = ((), [D("0"), D("100")])

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (inputs.problems, [s.record.tier_from for s in inputs.rates])
        assert expected == actual

    def test_tier_set_overlapping_a_flat_rule(self, tmp_path: Path) -> None:
        """A flat rule overlapping a tier set makes every row of both unusable."""
        rates = text(
            RATES_HEADER + ",tier_from,tier_mode",
            "C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,0,graduated",
            "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30,100,graduated",
            "C1,0001,loaded_miles,2.40,2022-06-01,2023-05-31,,",
        )
        expected = ([("rates.csv", 4, "start")], ())

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (where(inputs.problems), inputs.rates)
        assert expected == actual


class TestTierSets:
    """A tier set starts at 0, varies only in tier_from/rate/description and has a tier_mode."""

    HEADER = RATES_HEADER + ",tier_from,tier_mode,minimum_amount,description"
    ONLY = "may differ only in tier_from, rate and description"

    @pytest.mark.parametrize(
        ("rows", "expected"),
        [
            pytest.param(
                [
                    "C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,10,all_units,,",
                    "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30,100,all_units,,",
                ],
                ("rates.csv", 2, "tier_from", "start at tier_from 0"),
                id="not-starting-at-0",
            ),
            pytest.param(
                [
                    "C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,0,all_units,,",
                    "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30,100,all_units,50.00,",
                ],
                ("rates.csv", 3, "minimum_amount", ONLY),
                id="rows-differ-in-minimum-amount",
            ),
            pytest.param(
                [
                    "C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,0,all_units,,",
                    "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30,100,graduated,,",
                ],
                ("rates.csv", 3, "tier_mode", ONLY),
                id="rows-differ-in-tier-mode",
            ),
            pytest.param(
                [
                    "C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,0,all_units,,",
                    "C1,0001,vehicle_hours,2.00,2021-10-01,2022-09-30,100,all_units,,",
                ],
                ("rates.csv", 3, "basis", ONLY),
                id="rows-differ-in-basis",
            ),
            pytest.param(
                ["C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,0,,,"],
                ("rates.csv", 2, "tier_mode", "required when tier_from is given"),
                id="tier-from-without-tier-mode",
            ),
            pytest.param(
                [
                    "C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,0,all_units,,",
                    "C1,0001,loaded_miles,2.00,2021-10-01,2022-09-30,0.0,all_units,,",
                ],
                ("rates.csv", 3, "tier_from", "repeats tier_from"),
                id="repeated-tier-from",
            ),
            pytest.param(
                [
                    "C1,0001,cancellation,0.00,2021-10-01,2022-09-30,0,graduated,,",
                    "C1,0001,cancellation,150.00,2021-10-01,2022-09-30,24,graduated,,",
                ],
                ("rates.csv", 2, "tier_mode", "all_units"),
                id="graduated-cancellation",
            ),
        ],
    )
    def test_bad_tier_set(
        self, tmp_path: Path, rows: list[str], expected: tuple[str, int, str, str]
    ) -> None:
        """The problem is at the offending row and column, and the whole set is left out."""
        rates = text(self.HEADER, *rows, "C1,0002,trip,95.00,2021-10-01,2022-09-30,,,,")
        manifests = text(MANIFESTS_HEADER + ",vehicle_hours", TRIP_ROW + ",3")

        inputs = ice_recon.load(folder(tmp_path, rates=rates, manifests=manifests))

        actual = (report(inputs.problems, expected[3]), clins(inputs))
        expected = ([expected], ["0002"])
        assert expected == actual

    def test_rows_may_differ_in_rate_and_description(self, tmp_path: Path) -> None:
        """A well-formed tier set loads every row."""
        rates = text(
            self.HEADER,
            "C1,0001,cancellation,0.00,2021-10-01,2022-09-30,0,all_units,,late",
            "C1,0001,cancellation,150.00,2021-10-01,2022-09-30,24,all_units,,on time",
        )
        expected = ((), ["late", "on time"])

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (inputs.problems, [s.record.description for s in inputs.rates])
        assert expected == actual

    def test_malformed_row_leaves_its_tier_set_out(self, tmp_path: Path) -> None:
        """A tier set missing a row it was written with is not usable, and says why."""
        rates = text(
            self.HEADER,
            "C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,0,all_units,,",
            "C1,0001,loaded_miles,x,2021-10-01,2022-09-30,100,all_units,,",
        )
        expected = ([("rates.csv", 2, None), ("rates.csv", 3, "rate")], ())

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (where(inputs.problems), inputs.rates)
        assert expected == actual

    def test_tier_mode_without_tier_from(self, tmp_path: Path) -> None:
        """A tier_mode on a row without tier_from is reported at tier_from."""
        rates = text(self.HEADER, "C1,0001,loaded_miles,2.50,2021-10-01,2022-09-30,,all_units,,")
        expected = ([("rates.csv", 2, "tier_from")], ())

        inputs = ice_recon.load(folder(tmp_path, rates=rates))

        actual = (where(inputs.problems), inputs.rates)
        assert expected == actual


# --------------------------------------------------------------------------------- duplicates


class TestDuplicateTrips:
    """A trip id appears once per contract; every copy of a duplicate is left out."""

    @pytest.mark.parametrize("second", ["T1", " t1 ", "t1", "T1 "])
    def test_duplicate_trip(self, tmp_path: Path, second: str) -> None:
        """The later copy names the earlier line; both are left out of the manifests."""
        manifests = text(
            MANIFESTS_HEADER,
            "T1,C1,2021-10-04,137.4",
            "T2,C1,2021-10-05,80",
            f"{second},C1,2021-10-06,90",
        )
        expected = ([("manifests.csv", 4, "trip_id", "line 2")], ["T2"], [3])

        inputs = ice_recon.load(folder(tmp_path, manifests=manifests))

        actual = (
            report(inputs.problems, "line 2"),
            inputs.manifests.trip_id,
            inputs.manifests.line,
        )
        assert expected == actual

    def test_three_copies_all_left_out(self, tmp_path: Path) -> None:
        """Every copy of a trip id is left out, however many there are."""
        manifests = text(MANIFESTS_HEADER, TRIP_ROW, TRIP_ROW, TRIP_ROW)
        expected = ([("manifests.csv", 3, "trip_id"), ("manifests.csv", 4, "trip_id")], 0)

        inputs = ice_recon.load(folder(tmp_path, manifests=manifests))

        actual = (where(inputs.problems), len(inputs.manifests))
        assert expected == actual

    def test_same_trip_in_two_contracts(self, tmp_path: Path) -> None:
        """The same trip id in two different contracts is two trips."""
        manifests = text(MANIFESTS_HEADER, "T1,C1,2021-10-04,137.4", "T1,C2,2021-10-04,12")
        expected = ((), [("C1", "T1"), ("C2", "T1")])

        inputs = ice_recon.load(folder(tmp_path, manifests=manifests))

        table = inputs.manifests
        actual = (inputs.problems, list(zip(table.contract_id, table.trip_id, strict=True)))
        assert expected == actual

    def test_measures_stay_aligned_after_removal(self, tmp_path: Path) -> None:
        """After duplicates are left out, each kept trip keeps its own measures."""
        manifests = text(
            MANIFESTS_HEADER + ",wait_hours",
            "T1,C1,2021-10-04,1,",
            "T2,C1,2021-10-04,2,0.5",
            "t1,C1,2021-10-04,3,",
            "T3,C1,2021-10-04,,1.5",
        )
        expected = [("T2", D("2"), D("0.5")), ("T3", None, D("1.5"))]

        inputs = ice_recon.load(folder(tmp_path, manifests=manifests))

        actual = [
            (t.trip_id, t.measure("loaded_miles"), t.measure("wait_hours"))
            for t in inputs.manifests.trips()
        ]
        assert expected == actual


class TestDuplicateInvoiceLines:
    """(contract_id, invoice_id, line_no) identifies a line; every copy becomes INVALID."""

    def test_duplicate_key(self, tmp_path: Path) -> None:
        """The later line names the earlier; both are INVALID, other lines stay valid."""
        lines = text(
            LINES_HEADER,
            LINE_ROW,
            LINE_ROW.replace("INV-1,1,", "INV-1,2,"),
            LINE_ROW.replace("INV-1,1,", "INV-1,01,"),
        )
        expected = ([("invoice_lines.csv", 4, "line_no", "line 2")], bytearray([0, 1, 0]))

        inputs = ice_recon.load(folder(tmp_path, invoice_lines=lines))

        actual = (report(inputs.problems, "line 2"), inputs.invoice_lines.valid)
        assert expected == actual

    @pytest.mark.parametrize(
        "other",
        [
            LINE_ROW.replace("INV-1,1,C1", "INV-1,1,C2"),
            LINE_ROW.replace("INV-1,1,", "INV-2,1,"),
            LINE_ROW.replace("INV-1,1,", "inv-1,1,"),
        ],
    )
    def test_other_contract_or_invoice_is_not_a_duplicate(self, tmp_path: Path, other: str) -> None:
        """The same line_no under another contract or invoice is a different line."""
        lines = text(LINES_HEADER, LINE_ROW, other)

        actual = ice_recon.validate(folder(tmp_path, invoice_lines=lines))

        expected = []
        assert expected == actual

    def test_invalid_copy_still_invalidates(self, tmp_path: Path) -> None:
        """A duplicate key makes both lines INVALID even when one is malformed otherwise."""
        lines = text(LINES_HEADER, LINE_ROW, LINE_ROW.replace("337.66", "337.661"))
        expected = (
            [("invoice_lines.csv", 3, "amount"), ("invoice_lines.csv", 3, "line_no")],
            bytearray([0, 0]),
        )

        inputs = ice_recon.load(folder(tmp_path, invoice_lines=lines))

        actual = (where(inputs.problems), inputs.invoice_lines.valid)
        assert expected == actual


# ------------------------------------------------------------------------------------ modes


class TestLenientMode:
    """Lenient loading keeps bad invoice lines as INVALID rows and leaves other bad rows out."""

    def test_bad_invoice_lines_are_kept_invalid(self, tmp_path: Path) -> None:
        """Every data row is an invoice line; bad ones keep their raw key text."""
        lines = text(
            LINES_HEADER,
            LINE_ROW,
            " INV-2 ,x, C9 ,0001,2021-10-04,137.4,2.4575,337.66,T1",
            "INV-3,3,C1,0001,2022-02-30,137.4,2.4575,337.661,T1",
            "INV-4,4,C1,,2021-10-04,137.4,2.4575,337.66,T1",
        )
        expected = (
            4,
            bytearray([1, 0, 0, 0]),
            ["C1", "C9", "C1", "C1"],
            ["INV-1", "INV-2", "INV-3", "INV-4"],
            ["1", "x", "3", "4"],
            [1, None, 3, 4],
            [None, None, None],
        )

        inputs = ice_recon.load(folder(tmp_path, invoice_lines=lines))

        table = inputs.invoice_lines
        actual = (
            len(table),
            table.valid,
            table.contract_id,
            table.invoice_id,
            table.line_no_text,
            table.line_no,
            [table.invoice_line(i) for i in (1, 2, 3)],
        )
        assert expected == actual

    def test_bad_rate_and_trip_rows_are_left_out(self, tmp_path: Path) -> None:
        """A bad rate row and a bad manifest row are not in the tables; good rows are."""
        path = folder(
            tmp_path,
            rates=text(RATES_HEADER, RATE_ROW, "C1,0002,trip,abc,2021-10-01,2022-09-30"),
            manifests=text(MANIFESTS_HEADER, TRIP_ROW, "T2,C1,2021-13-01,5"),
        )
        expected = (
            [("manifests.csv", 3, "service_date"), ("rates.csv", 3, "rate")],
            ["0001"],
            ["T1"],
        )

        inputs = ice_recon.load(path)

        actual = (where(inputs.problems), clins(inputs), inputs.manifests.trip_id)
        assert expected == actual


def bad_folder(path: Path) -> Path:
    """Write a folder with problems of many kinds in every one of the seven files."""
    return folder(
        path,
        rates=text(
            RATES_HEADER + ",rat,tier_from,tier_mode,minimum_amount",
            "C1,0001,loaded_miles,1e3,2021-10-01,2022-09-30,,,,",
            "C1,0002,loaded_mile,2.00,2021-10-01,2022-09-30,,,,",
            "C1,0003,trip,2.00,2021-10-01,2022-09-30,,,,",
            "C1,0003,trip,2.00,2022-01-01,2022-09-30,,,,",
            "C1,0004,loaded_miles,2.00,2021-10-01,2022-09-30,,10,all_units,",
            "C1,0005,loaded_miles,2.00,2021-10-01,2022-09-30,,0,,1.001",
            "C1,0006,loaded_miles,2.00,2022-10-01,2022-09-30,,,,",
            "C1,0008,loaded_miles,2.00,2021-10-01,2022-09-30,,,,",
        ),
        manifests=text(
            MANIFESTS_HEADER + ",orgin",
            "T1,C1,2021-10-04,137.4,DAL",
            " t1 ,C1,2021-10-04,-3,DAL",
            "T2,C1,2021-10-04,12",
        ),
        invoice_lines=text(
            LINES_HEADER,
            LINE_ROW,
            LINE_ROW,
            "INV-1,x,C1,0001,2021/10/04,1,1,1.001,T1",
            ",,,,,,,,",
        ),
        staff=text(STAFF_HEADER, "T1,C1,P1,GUARD,8", "T1,C1,P1,DRIVER,x"),
        fuel_index=text(
            FUEL_INDEX_HEADER,
            "DIESEL,2021-10-05,3.5",
            "DIESEL,2021-10-04,3.5",
            "DIESEL,2021-10-04,3.6",
        ),
        fuel_rules=text(
            FUEL_RULES_HEADER,
            "C1,0003,2021-10-01,2022-09-30,2.50,0,DIESEL",
            "C1,0008,2021-10-01,2022-09-30,2.50,6,DIESEL",
        ),
        invoices=text(INVOICES_HEADER, "INV-1,C1,2021-10-31,1.001"),
    )


class TestProblemFormat:
    """Every problem prints as FILE:LINE: [column 'NAME': ]message and the list is sorted."""

    def test_every_problem_matches_the_format(self, tmp_path: Path) -> None:
        """Each str(problem) matches the section 4 pattern, in every one of the seven files."""
        expected = (set(SEVEN_FILES), [])

        problems = ice_recon.validate(bad_folder(tmp_path))

        actual = (
            {p.file for p in problems},
            [str(p) for p in problems if not PROBLEM_LINE.match(str(p))],
        )
        assert expected == actual

    def test_problems_are_sorted(self, tmp_path: Path) -> None:
        """Problems are sorted by file name, line and column."""
        actual = ice_recon.validate(bad_folder(tmp_path))

        expected = sorted(actual, key=lambda p: (p.file, p.line, p.column or ""))
        assert len(actual) > 20
        assert expected == actual

    def test_cell_problem_text(self, tmp_path: Path) -> None:
        """A cell problem reads FILE:LINE: column 'NAME': expectation (got 'VALUE')."""
        path = folder(tmp_path, rates=text(RATES_HEADER, RATE_ROW.replace("2.4575", "1e3")))
        expected = [
            "rates.csv:2: column 'rate': must be a decimal number like 123.45 "
            "(no exponent, sign, separator or symbol) (got '1e3')"
        ]

        actual = [str(p) for p in ice_recon.validate(path)]

        assert expected == actual

    def test_row_problem_has_no_column(self, tmp_path: Path) -> None:
        """A problem about a whole row omits the column part."""
        path = folder(tmp_path, invoice_lines=text(LINES_HEADER, LINE_ROW + ",extra"))

        actual = [str(p) for p in ice_recon.validate(path)]

        expected = ["invoice_lines.csv:2: row has 10 cells; the header has 9"]
        assert expected == actual


class TestStrict:
    """strict=True raises every problem together as an ExceptionGroup of InputError."""

    def test_raises_all_problems(self, tmp_path: Path) -> None:
        """The group holds one InputError (a ValueError) per problem, in report order."""
        path = bad_folder(tmp_path)
        problems = ice_recon.validate(path)
        expected = [(p.file, p.line, p.column, p.value, str(p), True, True) for p in problems]

        with pytest.raises(ExceptionGroup) as info:
            ice_recon.load(path, strict=True)

        actual = [
            (
                e.file,
                e.line,
                e.column,
                e.value,
                str(e),
                isinstance(e, InputError),
                isinstance(e, ValueError),
            )
            for e in info.value.exceptions
        ]
        assert expected == actual

    def test_one_problem_is_still_a_group(self, tmp_path: Path) -> None:
        """A single problem is raised as a group of one."""
        path = folder(tmp_path, rates=text(RATES_HEADER, RATE_ROW.replace("2.4575", "1e3")))

        with pytest.raises(ExceptionGroup) as info:
            ice_recon.load(path, strict=True)

        actual = [(e.file, e.line, e.column, e.value) for e in info.value.exceptions]
        expected = [("rates.csv", 2, "rate", "1e3")]
        assert expected == actual

    def test_valid_folder_does_not_raise(self, tmp_path: Path) -> None:
        """strict=True returns the inputs when there is no problem."""
        actual = ice_recon.load(folder(tmp_path), strict=True).problems

        expected = ()
        assert expected == actual

    def test_load_files_strict(self) -> None:
        """load_files(strict=True) refuses missing required tables like load(): InputError."""
        with pytest.raises(InputError) as info:
            ice_recon.load_files(rates=None, manifests=None, invoice_lines=None, strict=True)

        actual = [(p.file, p.line) for p in info.value.problems]
        expected = [("invoice_lines.csv", 1), ("manifests.csv", 1), ("rates.csv", 1)]
        assert expected == actual


# ----------------------------------------------------------------------------------- sources

FULL_FILES: dict[str, str] = {
    "rates": text(
        RATES_HEADER + ",labor_category,minimum_amount,tier_from,tier_mode,rounding,authority",
        "C1,0001,loaded_miles,2.4575,2021-10-01,2022-09-30,,50.00,,,half_even,P00001 B.1",
        "C1,0003,labor_hours,45.50,2021-10-01,2022-09-30,GUARD,,,,,",
        "C1,0004,wait_hours,0.00,2021-10-01,2022-09-30,,,0,graduated,,",
        "C1,0004,wait_hours,30.00,2021-10-01,2022-09-30,,,1.00,graduated,,",
    ),
    "manifests": text(
        "trip_id,contract_id,service_date,status,origin,destination,loaded_miles,wait_hours",
        "T1,C1,2021-10-04,completed,DAL,HOU,137.4,",
        "T2,C1,2021-10-05,cancelled,,,,2.50",
    ),
    "staff": text(STAFF_HEADER, "T1,C1,P1,GUARD,8.5"),
    "fuel_index": text(FUEL_INDEX_HEADER, "DIESEL,2021-10-04,3.512"),
    "fuel_rules": text(
        FUEL_RULES_HEADER + ",week_rule,places", "C1,0002,2021-10-01,2022-09-30,2.50,6,DIESEL,,3"
    ),
    "invoice_lines": text(
        LINES_HEADER + ",person_id,description",
        "INV-1,1,C1,0001,2021-10-04,137.4,2.4575,337.66,T1,,",
        "INV-1,2,C1,0003,2021-10-04,8.5,45.50,386.75,T1,P1,guard",
    ),
    "invoices": text(INVOICES_HEADER, "INV-1,C1,2021-10-31,724.41"),
}

#: The records FULL_FILES stands for.
FULL_RECORDS: dict[str, list[Any]] = {
    "rates": [
        RateRule(
            contract_id="C1",
            clin="0001",
            basis="loaded_miles",
            rate=D("2.4575"),
            start=DAY(2021, 10, 1),
            end=DAY(2022, 9, 30),
            minimum_amount=D("50.00"),
            rounding="half_even",
            authority="P00001 B.1",
        ),
        RateRule(
            contract_id="C1",
            clin="0003",
            basis="labor_hours",
            rate=D("45.50"),
            start=DAY(2021, 10, 1),
            end=DAY(2022, 9, 30),
            labor_category="GUARD",
        ),
        RateRule(
            contract_id="C1",
            clin="0004",
            basis="wait_hours",
            rate=D("0.00"),
            start=DAY(2021, 10, 1),
            end=DAY(2022, 9, 30),
            tier_from=D("0"),
            tier_mode="graduated",
        ),
        RateRule(
            contract_id="C1",
            clin="0004",
            basis="wait_hours",
            rate=D("30.00"),
            start=DAY(2021, 10, 1),
            end=DAY(2022, 9, 30),
            tier_from=D("1.00"),
            tier_mode="graduated",
        ),
    ],
    "manifests": [
        Trip(
            trip_id="T1",
            contract_id="C1",
            service_date=DAY(2021, 10, 4),
            origin="DAL",
            destination="HOU",
            measures={"loaded_miles": D("137.4")},
        ),
        Trip(
            trip_id="T2",
            contract_id="C1",
            service_date=DAY(2021, 10, 5),
            status=TripStatus.CANCELLED,
            measures={"wait_hours": D("2.50")},
        ),
    ],
    "staff": [
        StaffAssignment(
            trip_id="T1", contract_id="C1", person_id="P1", labor_category="GUARD", hours=D("8.5")
        )
    ],
    "fuel_index": [FuelIndexPoint(series="DIESEL", week=DAY(2021, 10, 4), price=D("3.512"))],
    "fuel_rules": [
        FuelRule(
            contract_id="C1",
            clin="0002",
            start=DAY(2021, 10, 1),
            end=DAY(2022, 9, 30),
            base_price=D("2.50"),
            mpg=D("6"),
            series="DIESEL",
            places=3,
        )
    ],
    "invoice_lines": [
        InvoiceLine(
            invoice_id="INV-1",
            line_no=1,
            contract_id="C1",
            clin="0001",
            service_date=DAY(2021, 10, 4),
            quantity=D("137.4"),
            unit_price=D("2.4575"),
            amount=D("337.66"),
            trip_ref="T1",
        ),
        InvoiceLine(
            invoice_id="INV-1",
            line_no=2,
            contract_id="C1",
            clin="0003",
            service_date=DAY(2021, 10, 4),
            quantity=D("8.5"),
            unit_price=D("45.50"),
            amount=D("386.75"),
            trip_ref="T1",
            person_id="P1",
            description="guard",
        ),
    ],
    "invoices": [
        InvoiceHeader(
            invoice_id="INV-1", contract_id="C1", invoice_date=DAY(2021, 10, 31), total=D("724.41")
        )
    ],
}


def snapshot(inputs: ice_recon.Inputs) -> dict[str, Any]:
    """Return every table of *inputs* as comparable values (records, columns, problems)."""
    trips = inputs.manifests
    lines = inputs.invoice_lines
    return {
        "rates": [(s.line, s.record) for s in inputs.rates],
        "fuel_rules": [(s.line, s.record) for s in inputs.fuel_rules],
        "fuel_index": [(s.line, s.record) for s in inputs.fuel_index],
        "invoices": [(s.line, s.record) for s in inputs.invoices],
        "trips": list(trips.trips()),
        "manifest_columns": (
            trips.line,
            trips.trip_id,
            trips.contract_id,
            trips.service_date,
            trips.cancelled,
            trips.origin,
            trips.destination,
            {
                name: [col.decimal(i) for i in range(len(col))]
                for name, col in trips.measures.items()
            },
        ),
        "measures": sorted(inputs.measures),
        "staff": [inputs.staff.assignment(i) for i in range(len(inputs.staff))],
        "invoice_lines": [lines.invoice_line(i) for i in range(len(lines))],
        "invoice_line_columns": (lines.line, lines.valid, lines.line_no_text),
        "problems": [str(p) for p in inputs.problems],
    }


class TestSources:
    """Paths, row mappings and records are read the same way."""

    def test_full_folder_is_valid(self, tmp_path: Path) -> None:
        """The folder used for the source comparisons has no problem."""
        actual = ice_recon.validate(folder(tmp_path, **FULL_FILES))

        expected = []
        assert expected == actual

    def test_row_dicts_equal_files(self, tmp_path: Path) -> None:
        """Loading row dicts gives the same tables as loading the files they came from."""
        path = folder(tmp_path, **FULL_FILES)
        expected = snapshot(ice_recon.load(path))

        inputs = ice_recon.load_files(**{t: read_rows(path / f"{t}.csv") for t in FULL_FILES})

        actual = snapshot(inputs)
        assert expected == actual

    def test_records_equal_files(self, tmp_path: Path) -> None:
        """Loading records gives the same tables as loading the equivalent files."""
        expected = snapshot(ice_recon.load(folder(tmp_path, **FULL_FILES)))

        actual = snapshot(ice_recon.load_files(**FULL_RECORDS))

        assert expected == actual

    def test_records_come_back_unchanged(self) -> None:
        """Each record loaded from records materializes equal to the original."""
        inputs = ice_recon.load_files(**FULL_RECORDS)

        actual = {
            "rates": [s.record for s in inputs.rates],
            "manifests": list(inputs.manifests.trips()),
            "staff": [inputs.staff.assignment(i) for i in range(len(inputs.staff))],
            "fuel_index": [s.record for s in inputs.fuel_index],
            "fuel_rules": [s.record for s in inputs.fuel_rules],
            "invoice_lines": [
                inputs.invoice_lines.invoice_line(i) for i in range(len(inputs.invoice_lines))
            ],
            "invoices": [s.record for s in inputs.invoices],
        }
        expected = FULL_RECORDS
        assert expected == actual

    def test_paths_equal_folder(self, tmp_path: Path) -> None:
        """load_files() with explicit paths gives what load() of the folder gives."""
        path = folder(tmp_path, **FULL_FILES)
        expected = snapshot(ice_recon.load(path))

        actual = snapshot(ice_recon.load_files(**{t: path / f"{t}.csv" for t in FULL_FILES}))

        assert expected == actual

    def test_row_dicts_are_validated_like_files(self) -> None:
        """A bad cell in a row dict is reported at the line it would have in a file."""
        rates = [
            dict(zip(RATES_HEADER.split(","), row.split(","), strict=True))
            for row in (RATE_ROW, "C1,0002,trip,1e3,2021-10-01,2022-09-30")
        ]
        manifests = [dict(zip(MANIFESTS_HEADER.split(","), TRIP_ROW.split(","), strict=True))]
        lines = [dict(zip(LINES_HEADER.split(","), LINE_ROW.split(","), strict=True))]

        inputs = ice_recon.load_files(rates=rates, manifests=manifests, invoice_lines=lines)

        actual = where(inputs.problems)
        expected = [("rates.csv", 3, "rate")]
        assert expected == actual

    def test_required_table_none_is_missing(self) -> None:
        """A required table given as None is a missing file: InputError listing each one."""
        with pytest.raises(InputError) as info:
            ice_recon.load_files(rates=FULL_RECORDS["rates"])

        actual = where(info.value.problems)

        expected = [("invoice_lines.csv", 1, None), ("manifests.csv", 1, None)]
        assert expected == actual

    def test_non_text_cell_is_a_type_error(self) -> None:
        """A row dict cell that is not text is a programmer error, raised at once."""
        row = {"series": "DIESEL", "week": "2021-10-04", "price": D("3.5")}

        with pytest.raises(TypeError):
            ice_recon.load_files(fuel_index=[row])

    def test_row_that_is_not_a_mapping_or_record(self) -> None:
        """An item that is neither a mapping nor a record is a TypeError."""
        with pytest.raises(TypeError):
            ice_recon.load_files(fuel_index=[("DIESEL", "2021-10-04", "3.5")])

    def test_empty_optional_iterables_are_not_problems(self) -> None:
        """staff=[], fuel_index=[], fuel_rules=[] and invoices=[] mean "no rows"."""
        inputs = ice_recon.load_files(
            rates=FULL_RECORDS["rates"][:1],
            manifests=FULL_RECORDS["manifests"],
            invoice_lines=FULL_RECORDS["invoice_lines"][:1],
            staff=[],
            fuel_index=[],
            fuel_rules=[],
            invoices=[],
        )

        actual = [str(p) for p in inputs.problems]

        expected = []
        assert expected == actual
