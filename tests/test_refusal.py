"""Tests of refused runs and of hostile input files (issue 10, items 1, 2, 9, 10).

A run with a required file or column missing, or a required file whose header is unusable,
is refused before any invoice line is read: ``load()`` and ``reconcile()`` raise
``InputError`` listing every such problem, and ``ice-recon reconcile`` prints them, writes
nothing and exits 2. Malformed rows stay lenient: an invoice line that cannot be read is an
INVALID result, never lost.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ice_recon
from ice_recon import InputError, Problem
from ice_recon._read import MAX_RECORD_BYTES
from ice_recon._specs import MAX_DIGITS, MAX_PLACES
from ice_recon.cli import main, sample_dir
from ice_recon.stream import prepare

RATES = "contract_id,clin,basis,rate,start,end\nC1,0001,loaded_miles,2.50,2021-10-01,2022-09-30\n"
MANIFESTS = "trip_id,contract_id,service_date,loaded_miles\nT1,C1,2021-10-04,100\n"
LINES_HEADER = (
    "invoice_id,line_no,contract_id,clin,service_date,quantity,unit_price,amount,trip_ref"
)
LINE_1 = "INV-1,1,C1,0001,2021-10-04,100,2.50,250.00,T1"
LINE_2 = "INV-1,2,C1,0001,2021-10-04,100,2.50,250.00,T1"


def _folder(path: Path, **files: str | bytes | None) -> Path:
    """Write a small valid folder (two invoice lines), *files* replacing its files by name."""
    path.mkdir(parents=True, exist_ok=True)
    base: dict[str, str | bytes | None] = {
        "rates.csv": RATES,
        "manifests.csv": MANIFESTS,
        "invoice_lines.csv": f"{LINES_HEADER}\n{LINE_1}\n{LINE_2}\n",
    }
    for name, content in (base | {k.replace("__", "."): v for k, v in files.items()}).items():
        if content is None:
            continue
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (path / name).write_bytes(data)
    return path


def _refusal(folder: Path) -> list[tuple[str, int, str | None]]:
    """Return (file, line, column) of the problems load() refuses *folder* with."""
    with pytest.raises(InputError) as info:
        ice_recon.load(folder)
    return [(p.file, p.line, p.column) for p in info.value.problems]


def _cli(folder: Path, out: Path, *extra: str) -> tuple[int, str]:
    """Run ``ice-recon reconcile`` in a subprocess; return the exit status and stderr."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ice_recon.cli",
            "reconcile",
            str(folder),
            "--out",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return done.returncode, done.stderr


def _result_keys(out: Path) -> list[tuple[str, str, str]]:
    with (out / "results.csv").open(encoding="utf-8", newline="") as f:
        return [(r["contract_id"], r["invoice_id"], r["line_no"]) for r in csv.DictReader(f)]


# --------------------------------------------------------------------------- item 1: refusal


class TestRefusedRuns:
    def test_empty_folder_is_refused_listing_every_missing_file(self, tmp_path: Path) -> None:
        """An empty folder: the three required files are missing, all listed at line 1."""
        expected = [
            ("invoice_lines.csv", 1, None),
            ("manifests.csv", 1, None),
            ("rates.csv", 1, None),
        ]

        actual = _refusal(tmp_path)

        assert expected == actual

    def test_missing_required_column_is_refused(self, tmp_path: Path) -> None:
        """`quantity` renamed to `qty`: refused, naming the missing column at line 1."""
        folder = _folder(
            tmp_path, invoice_lines__csv=f"{LINES_HEADER.replace('quantity', 'qty')}\n{LINE_1}\n"
        )
        expected = ("invoice_lines.csv", 1, "quantity")

        actual = _refusal(folder)

        assert expected in actual

    def test_refusal_problems_are_on_the_exception_and_in_its_message(self, tmp_path: Path) -> None:
        """InputError.problems are Problem records; the message has one line per problem."""
        folder = _folder(tmp_path, manifests__csv=None)
        expected = (
            [Problem(file="manifests.csv", line=1, message="required file is missing")],
            "manifests.csv:1: required file is missing",
        )

        with pytest.raises(InputError) as info:
            ice_recon.load(folder)

        actual = (list(info.value.problems), str(info.value))
        assert expected == actual

    def test_reconcile_of_a_folder_raises_input_error(self, tmp_path: Path) -> None:
        """ice_recon.reconcile(folder) refuses a folder without manifests.csv."""
        folder = _folder(tmp_path, manifests__csv=None)

        with pytest.raises(InputError) as info:
            ice_recon.reconcile(folder)

        assert [p.file for p in info.value.problems] == ["manifests.csv"]

    def test_prepare_refuses_before_reading_lines(self, tmp_path: Path) -> None:
        """The streaming path refuses the same folder with the same problems."""
        folder = _folder(tmp_path, manifests__csv=None)

        with pytest.raises(InputError) as info:
            prepare(folder)

        assert [(p.file, p.line) for p in info.value.problems] == [("manifests.csv", 1)]

    def test_validate_still_lists_them(self, tmp_path: Path) -> None:
        """ice_recon.validate() returns a refused folder's problems instead of raising."""
        expected = [("invoice_lines.csv", 1), ("manifests.csv", 1), ("rates.csv", 1)]

        actual = [(p.file, p.line) for p in ice_recon.validate(tmp_path)]

        assert expected == actual

    @pytest.mark.parametrize("extra", [[], ["--fail-on", "questioned"], ["--workers", "2"]])
    def test_cli_exits_2_and_writes_nothing(self, tmp_path: Path, extra: list[str]) -> None:
        """The CLI on a folder without manifests.csv exits 2, prints it, creates no output."""
        folder = _folder(tmp_path / "in", manifests__csv=None)
        out = tmp_path / "out"

        status, err = _cli(folder, out, *extra)

        assert (status, out.exists()) == (2, False)
        assert "manifests.csv:1: required file is missing" in err.splitlines()
        assert "Traceback" not in err

    def test_cli_validate_exits_1(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """`ice-recon validate` prints the missing files and exits 1."""
        status = main(["validate", str(tmp_path)])

        out = capsys.readouterr().out.splitlines()
        assert (status, out) == (
            1,
            [
                "invoice_lines.csv:1: required file is missing",
                "manifests.csv:1: required file is missing",
                "rates.csv:1: required file is missing",
            ],
        )

    def test_malformed_rows_stay_lenient(self, tmp_path: Path) -> None:
        """A bad cell in a row is a problem and an INVALID line, not a refusal."""
        folder = _folder(
            tmp_path,
            invoice_lines__csv=f"{LINES_HEADER}\n{LINE_1}\n{LINE_2.replace('2.50', 'x')}\n",
        )

        report = ice_recon.reconcile(folder)

        assert [str(r.status) for r in report.lines] == ["MATCHED", "INVALID"]


class TestUnusableHeaders:
    @pytest.mark.parametrize(
        ("content", "column"),
        [
            pytest.param(f"{LINES_HEADER},amount\n{LINE_1},1\n", "amount", id="duplicated-column"),
            pytest.param(
                b"\xef\xbb\xbf\xef\xbb\xbf" + f"{LINES_HEADER}\n{LINE_1}\n".encode(),
                None,
                id="doubled-bom",
            ),
            pytest.param(f"{LINES_HEADER}\x00,description\n{LINE_1},x\n", None, id="nul-in-name"),
            pytest.param(f"{LINES_HEADER}\n{LINE_1}\n".encode("utf-16"), None, id="utf-16"),
            pytest.param(f'"{LINES_HEADER}\n{LINE_1}\n{LINE_2}\n', None, id="stray-quote"),
        ],
    )
    def test_unusable_invoice_lines_header_is_refused(
        self, tmp_path: Path, content: str | bytes, column: str | None
    ) -> None:
        """An unusable header of invoice_lines.csv refuses the run, reported at line 1."""
        folder = _folder(tmp_path, invoice_lines__csv=content)

        actual = _refusal(folder)

        assert actual and all(p[:2] == ("invoice_lines.csv", 1) for p in actual)
        assert column is None or ("invoice_lines.csv", 1, column) in actual

    def test_utf16_file_is_one_problem(self, tmp_path: Path) -> None:
        """A UTF-16 invoice_lines.csv is refused with one problem naming the encoding."""
        folder = _folder(
            tmp_path, invoice_lines__csv=f"{LINES_HEADER}\n{LINE_1}\n".encode("utf-16")
        )
        expected = [
            "invoice_lines.csv:1: the file is UTF-16 text; save it as UTF-8 (with or without a BOM)"
        ]

        actual = _refusal_messages(folder)

        assert expected == actual

    def test_stray_quote_does_not_shift_line_numbers(self, tmp_path: Path) -> None:
        """A stray quote before the header is reported at line 1, not as line 2's header."""
        folder = _folder(tmp_path, invoice_lines__csv=f'"{LINES_HEADER}\n{LINE_1}\nx"y,\n')

        problems = ice_recon.validate(folder)

        assert [(p.file, p.line) for p in problems] == [("invoice_lines.csv", 1)]
        assert "the header is not valid CSV" in problems[0].message

    @pytest.mark.parametrize(("sep", "word"), [(";", "semicolons"), ("\t", "tabs")])
    def test_other_delimiter_gets_a_hint(self, tmp_path: Path, sep: str, word: str) -> None:
        """A semicolon- or tab-separated file gets a one-line hint at line 1."""
        lines = LINES_HEADER.replace(",", sep) + "\n" + LINE_1.replace(",", sep) + "\n"
        folder = _folder(tmp_path, invoice_lines__csv=lines)

        hints = [p for p in ice_recon.validate(folder) if word in p.message]

        assert [(p.file, p.line, p.column) for p in hints] == [("invoice_lines.csv", 1, None)]

    def test_header_only_files_are_valid_and_empty(self, tmp_path: Path) -> None:
        """Required files with a header and no rows: no problem, nothing reconciled."""
        folder = _folder(
            tmp_path,
            rates__csv="contract_id,clin,basis,rate,start,end\n",
            manifests__csv="trip_id,contract_id,service_date\n",
            invoice_lines__csv=LINES_HEADER + "\n",
        )

        actual = (ice_recon.validate(folder), len(ice_recon.reconcile(folder).lines))

        assert actual == ([], 0)


# -------------------------------------------------------------------- item 2: folder and fuel


class TestFolder:
    def test_misnamed_file_is_reported_with_a_suggestion(self, tmp_path: Path) -> None:
        """`staf.csv` is not an input file; did you mean staff.csv?"""
        folder = _folder(tmp_path, staf__csv="x\n")
        expected = ["staf.csv:1: not an input file; did you mean staff.csv?"]

        actual = [str(p) for p in ice_recon.validate(folder)]

        assert expected == actual

    def test_case_variant_of_a_required_file_is_refused(self, tmp_path: Path) -> None:
        """`Invoice_Lines.CSV` alone: invoice_lines.csv is missing, and the variant is named."""
        folder = _folder(tmp_path, invoice_lines__csv=None)
        (folder / "Invoice_Lines.CSV").write_text(f"{LINES_HEADER}\n{LINE_1}\n", encoding="utf-8")
        expected = [
            "Invoice_Lines.CSV:1: not an input file; did you mean invoice_lines.csv?",
            "invoice_lines.csv:1: required file is missing",
        ]

        with pytest.raises(InputError) as info:
            ice_recon.load(folder)

        assert expected == [str(p) for p in info.value.problems]

    def test_other_files_and_folders_are_ignored(self, tmp_path: Path) -> None:
        """A README, a hidden file and a sub-folder are not reported."""
        folder = _folder(tmp_path, README__md="notes\n")
        (folder / ".DS_Store").write_bytes(b"\x00")
        (folder / "out").mkdir()

        assert ice_recon.validate(folder) == []

    def test_fuel_rule_series_without_fuel_index(self, tmp_path: Path) -> None:
        """A fuel rule naming a series with no fuel_index.csv is a problem at its row."""
        folder = _folder(
            tmp_path,
            fuel_rules__csv="contract_id,clin,start,end,base_price,mpg,series\n"
            "C1,0007,2021-10-01,2022-09-30,2.50,6,DIESEL\n",
        )
        expected = [("fuel_rules.csv", 2, "series", "DIESEL")]

        actual = [(p.file, p.line, p.column, p.value) for p in ice_recon.validate(folder)]

        assert expected == actual

    def test_fuel_rule_series_absent_from_the_index(self, tmp_path: Path) -> None:
        """A series the index does not have is reported with a did-you-mean."""
        folder = _folder(
            tmp_path,
            fuel_rules__csv="contract_id,clin,start,end,base_price,mpg,series\n"
            "C1,0007,2021-10-01,2022-09-30,2.50,6,DIESL\n",
            fuel_index__csv="series,week,price\nDIESEL,2021-10-04,3.50\n",
        )

        problems = ice_recon.validate(folder)

        assert [(p.line, p.column) for p in problems] == [(2, "series")]
        assert "did you mean 'DIESEL'?" in problems[0].message


# ---------------------------------------------------------------------- item 10: fuzz cases


class TestHostileFiles:
    @pytest.mark.parametrize(
        "amount",
        [
            pytest.param("1." + "5" * 256, id="256-places"),
            pytest.param("9" * 5000, id="5000-digits"),
            pytest.param("1" * (MAX_DIGITS + 1), id="one-digit-too-many"),
            pytest.param("1." + "0" * (MAX_PLACES + 1), id="one-place-too-many"),
        ],
    )
    def test_huge_decimals_are_reported(self, tmp_path: Path, amount: str) -> None:
        """A decimal beyond the documented bounds is a problem at its cell, never a crash."""
        line = f"INV-1,1,C1,0001,2021-10-04,{amount},2.50,250.00,T1"
        folder = _folder(tmp_path, invoice_lines__csv=f"{LINES_HEADER}\n{line}\n{LINE_2}\n")
        message = (
            f"must have at most {MAX_DIGITS} digits, at most {MAX_PLACES} of them after the point"
        )
        expected = [("invoice_lines.csv", 2, "quantity", message)]

        problems = ice_recon.validate(folder)

        actual = [(p.file, p.line, p.column, p.message) for p in problems]
        assert expected == actual

    def test_largest_decimal_is_read(self, tmp_path: Path) -> None:
        """A decimal with exactly the maximum digits and places is read exactly."""
        quantity = "1" * (MAX_DIGITS - MAX_PLACES) + "." + "1" * MAX_PLACES
        line = f"INV-1,1,C1,0001,2021-10-04,{quantity},2.50,250.00,T1"
        folder = _folder(tmp_path, invoice_lines__csv=f"{LINES_HEADER}\n{line}\n")

        inputs = ice_recon.load(folder)

        assert (inputs.problems, inputs.invoice_lines.valid[0]) == ((), 1)

    @pytest.mark.parametrize("places", ["5000", "99999999", str(MAX_PLACES + 1)])
    def test_fuel_places_are_bounded(self, tmp_path: Path, places: str) -> None:
        """`places` beyond the maximum is reported at its cell (it crashed or hung before)."""
        folder = _folder(
            tmp_path,
            fuel_rules__csv="contract_id,clin,start,end,base_price,mpg,series,places\n"
            f"C1,0007,2021-10-01,2022-09-30,2.50,6,DIESEL,{places}\n",
            fuel_index__csv="series,week,price\nDIESEL,2021-10-04,3.50\n",
        )
        expected = [("fuel_rules.csv", 2, "places", places)]

        actual = [(p.file, p.line, p.column, p.value) for p in ice_recon.validate(folder)]

        assert expected == actual

    def test_prior_week_in_the_first_week_of_year_1(self, tmp_path: Path) -> None:
        """A prior_week rule on 0001-01-03 has no index week: UNSUPPORTED, not a crash."""
        folder = _folder(
            tmp_path,
            rates__csv="contract_id,clin,basis,rate,start,end\n",
            manifests__csv="trip_id,contract_id,service_date,loaded_miles\nT1,C1,0001-01-03,10\n",
            fuel_rules__csv="contract_id,clin,start,end,base_price,mpg,series,week_rule\n"
            "C1,0007,0001-01-01,0001-12-31,2.50,6,DIESEL,prior_week\n",
            fuel_index__csv="series,week,price\nDIESEL,0001-01-01,3.50\n",
            invoice_lines__csv=f"{LINES_HEADER}\nINV-1,1,C1,0007,0001-01-03,10,0.17,1.70,T1\n",
        )

        report = ice_recon.reconcile(folder)

        assert [str(r.status) for r in report.lines] == ["UNSUPPORTED"]

    @pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "fifo", "dir"])
    def test_only_regular_files_are_read(self, tmp_path: Path, target: str) -> None:
        """A symlink to a device, a FIFO or a folder in place of a file is refused at once."""
        folder = _folder(tmp_path / "in", invoice_lines__csv=None)
        path = folder / "invoice_lines.csv"
        if target == "fifo":
            os.mkfifo(path)
        elif target == "dir":
            path.mkdir()
        else:
            if not Path(target).exists():
                pytest.skip(f"no {target}")
            path.symlink_to(target)

        problems = _refusal_messages(folder)

        assert len(problems) == 1
        assert problems[0].startswith("invoice_lines.csv:1: cannot be read: only regular files")

    def test_unreadable_file_is_reported_once(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A file that cannot be opened: `cannot be read`, and not also `file is empty`."""
        folder = _folder(tmp_path)
        real_open = os.open

        def refuse(path: Any, *args: Any, **kwargs: Any) -> int:
            if str(path).endswith("invoice_lines.csv"):
                raise PermissionError(13, "Permission denied")
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", refuse)
        expected = ["invoice_lines.csv:1: cannot be read: Permission denied"]

        actual = [str(p) for p in ice_recon.validate(folder)]

        assert expected == actual

    def test_dangling_symlink_of_an_optional_file_is_reported(self, tmp_path: Path) -> None:
        """A dangling symlink named staff.csv is reported, not silently absent."""
        folder = _folder(tmp_path)
        (folder / "staff.csv").symlink_to(tmp_path / "nowhere.csv")

        problems = ice_recon.validate(folder)

        assert [(p.file, p.line) for p in problems] == [("staff.csv", 1)]
        assert "symbolic link to a missing file" in problems[0].message

    @pytest.mark.parametrize(
        "last",
        [
            pytest.param('INV-1,2,C1,0001,2021-10-04,100,2.50,20.00,"T1', id="unterminated-quote"),
            pytest.param(
                f'INV-1,2,C1,0001,2021-10-04,100,2.50,20.00,T1,"{"x" * 131_073}"',
                id="huge-cell",
            ),
        ],
    )
    @pytest.mark.parametrize("memory", ["in-memory", "spilled"])
    def test_unreadable_record_is_an_invalid_line(
        self, tmp_path: Path, last: str, memory: str
    ) -> None:
        """A record the csv module refuses is an INVALID line in results.csv, never lost."""
        header = LINES_HEADER + ",description"
        folder = _folder(tmp_path / "in", invoice_lines__csv=f"{header}\n{LINE_1},\n{last}\n")
        out = tmp_path / "out"
        expected = [("C1", "INV-1", "1"), ("C1", "INV-1", "2")]

        if memory == "in-memory":
            ice_recon.reconcile_to(folder, out)
        else:
            ice_recon.reconcile_to(folder, out, memory_bytes=0, batch_lines=1)

        assert expected == _result_keys(out)
        statuses = [r.status for r in ice_recon.reconcile(folder).lines]
        assert [str(s) for s in statuses] == ["MATCHED", "INVALID"]


#: Longer than any record may be (ice_recon._read.MAX_RECORD_BYTES, 8 MiB), without a line end.
_LONG = "INV-1,2,C1,0001,2021-10-04,100,2.50,20.00,T1," + "y" * (MAX_RECORD_BYTES + 10)


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param("last", id="last-line-no-line-end"),
        pytest.param("middle", id="followed-by-a-line"),
        pytest.param("after-quoted-break", id="read-by-the-csv-module"),
    ],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_an_over_long_record_is_an_invalid_line_and_skipped(
    tmp_path: Path, layout: str, workers: int
) -> None:
    """A line over the record limit: one problem at its line, an INVALID row, reading goes on.

    Line 3 of the file is the long line (invoice line 2). With "middle" a third invoice line
    follows it; with "after-quoted-break" invoice line 1's description holds a quoted line
    break, so the rest of the file is read by the csv module (and the long line is line 4).
    """
    header = LINES_HEADER + ",description"
    first = f"{LINE_1},x" if layout != "after-quoted-break" else f'{LINE_1},"a\nb"'
    text = f"{header}\n{first}\n{_LONG}"
    if layout == "middle":
        text += "\nINV-1,3,C1,0001,2021-10-04,100,2.50,250.00,T1,z\n"
    folder = _folder(tmp_path / "in", invoice_lines__csv=text)
    out = tmp_path / "out"
    long_line = 4 if layout == "after-quoted-break" else 3

    totals = ice_recon.reconcile_to(folder, out, workers=workers)

    keys = [("C1", "INV-1", "1"), ("C1", "INV-1", "2")]
    if layout == "middle":
        keys.append(("C1", "INV-1", "3"))
    assert keys == _result_keys(out)
    assert [(p.line, p.message.startswith("record is longer than")) for p in totals.problems] == [
        (long_line, True)
    ]
    assert totals.counts["INVALID"] == 1


def _refusal_messages(folder: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        ice_recon.load(folder)
    return [str(p) for p in info.value.problems]


def test_sample_still_reconciles(tmp_path: Path) -> None:
    """The bundled sample (with its README) is not refused and reports nothing."""
    folder = tmp_path / "in"
    shutil.copytree(sample_dir(), folder)

    assert ice_recon.validate(folder) == []
