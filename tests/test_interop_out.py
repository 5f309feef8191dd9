"""Outputs as Arrow, pandas, polars, JSON lines and Parquet (issue 11, item 2).

Every check compares against the CSV files, parsed here with the :mod:`csv` module and
converted cell by cell (money with ``Decimal``), independently of :mod:`ice_recon.interop`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ice_recon
from ice_recon import ArgumentError, interop, reconcile_to
from ice_recon.cli import main, sample_dir
from ice_recon.generate import generate

TABLES = interop.TABLES
MONEY_RESULTS = ("billed", "expected", "variance", "erroneous", "unsupported", "underbilled")
# Columns written with text_cell (neutralised): the apostrophe is removed on the way out.
INPUT_TEXT = {
    "results": {"contract_id", "invoice_id", "line_no", "trip_id", "rule_id", "rate_authority"},
    "unbilled": {"contract_id", "trip_id"},
    "invoices": {"contract_id", "invoice_id", "detail"},
    "by_invoice": {"contract_id", "invoice_id"},
    "oversight": {"contract_id", "month"},
    "contracts": {"contract_id"},
    "capacity": {"contract_id", "trip_id"},
    "problems": {"file", "column", "value", "message"},
}
WHOLE = {"lines", "line", *(s.value for s in ice_recon.Status)} | {
    "trips_completed",
    "trips_cancelled",
    "trips_billed",
    "trips_unbilled",
    "trips_without_count",
}
DATES = {"service_date"}
CODES = {"status", "findings", "match", "explanation", "finding"}


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    limit = csv.field_size_limit(1 << 24)  # an output cell may quote a huge input cell
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    finally:
        csv.field_size_limit(limit)
    return rows[0], rows[1:]


def _value(table: str, name: str, cell: str) -> Any:
    """The typed value of a CSV cell, as this test understands the contract."""
    if cell == "":
        return None
    if name in INPUT_TEXT[table]:
        return cell[1:] if cell.startswith("'") else cell
    if name in WHOLE:
        return int(cell)
    if name in DATES:
        return dt.date.fromisoformat(cell)
    if name in CODES or name == "month":
        return cell
    return Decimal(cell)  # every other column is a decimal


def _expected(out: Path, table: str) -> tuple[list[str], list[list[Any]]]:
    header, rows = _read_csv(out / f"{table}.csv")
    return header, [[_value(table, n, c) for n, c in zip(header, r, strict=True)] for r in rows]


def _same(actual: list[list[Any]], expected: list[list[Any]]) -> None:
    """Equal cell by cell; a decimal must be a Decimal of the same value (never a float)."""
    assert len(actual) == len(expected)
    for a_row, e_row in zip(actual, expected, strict=True):
        for a, e in zip(a_row, e_row, strict=True):
            assert type(a) is type(e), (a, e, a_row)
            assert a == e, (a, e, a_row)


def _rows(table: Any) -> list[list[Any]]:
    return [list(r.values()) for r in table.to_pylist()]


def _hostile(folder: Path) -> Path:
    """The sample plus lines with \\r, quotes, formula starts, and money too wide for 18 digits."""
    shutil.copytree(sample_dir(), folder)
    path = folder / "invoice_lines.csv"
    text = path.read_text(encoding="utf-8")
    rows = [
        '"I\rX",2,HSCEMD-19-C-00012,0001,2021-09-27,T000123401,,,,,32.6,2.3950,150.00,"a\rb"',
        '"=HYPERLINK(""x"")",1,HSCEMD-19-C-00012,0001,2021-09-27,,,,,,1,1.00,1.00,d',
        "@SUM,1,HSCEMD-19-C-00012,0001,2021-09-27,T9,,,,,1,1.00,1.00,d",
        "+1,-1,HSCEMD-19-C-00012,0001,2021-09-27,T9,,,,,1,1.00,1.00,d",
        "'q,1,HSCEMD-19-C-00012,0001,2021-09-27,T9,,,,,1,1.00,1.00,d",
        # 20 integer digits: beyond decimal128(18, 2), within (38, 2).
        "BIG,1,HSCEMD-19-C-00012,0001,2021-09-27,,,,,,1,"
        "12345678901234567890.00,12345678901234567890.00,d",
    ]
    path.write_text(text.rstrip("\n") + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated input folder of 5,000 lines."""
    folder = tmp_path_factory.mktemp("generated") / "in"
    generate(folder, lines=5000, contracts=3, seed=11)
    return folder


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, generated: Path
) -> dict[str, tuple[ice_recon.Report, Path]]:
    """Per input folder (sample, hostile, generated ~5k lines): its Report and CSV outputs."""
    base = tmp_path_factory.mktemp("interop")
    out: dict[str, tuple[ice_recon.Report, Path]] = {}
    for name, folder in (
        ("sample", sample_dir()),
        ("hostile", _hostile(base / "hostile")),
        ("generated", generated),
    ):
        report = ice_recon.reconcile(folder)
        report.write(base / f"{name}-csv")
        out[name] = (report, base / f"{name}-csv")
    return out


@pytest.fixture(scope="module")
def pa() -> Any:
    return pytest.importorskip("pyarrow", reason="the fast extra (pyarrow) is not installed")


RUNS = ("sample", "hostile", "generated")


class TestArrow:
    @pytest.mark.parametrize("run", RUNS)
    @pytest.mark.parametrize("table", TABLES)
    def test_to_arrow_is_the_csv_cell_by_cell(
        self, runs: dict[str, Any], pa: Any, run: str, table: str
    ) -> None:
        """to_arrow(table) holds exactly the cells of TABLE.csv, typed, in order."""
        report, out = runs[run]
        header, expected = _expected(out, table)
        arrow = report.to_arrow(table)
        assert arrow.schema.names == header
        _same(_rows(arrow), expected)
        for field in arrow.schema:
            assert not pa.types.is_floating(field.type), field

    def test_types(self, runs: dict[str, Any], pa: Any) -> None:
        report, _ = runs["generated"]
        schema = report.to_arrow().schema
        for name in MONEY_RESULTS:
            assert schema.field(name).type == pa.decimal128(18, 2)
        for name in ("contract_id", "line_no", "status", "findings", "trip_id", "explanation"):
            assert schema.field(name).type == pa.string()
        assert report.to_arrow("unbilled").schema.field("service_date").type == pa.date32()
        assert report.to_arrow("by_invoice").schema.field("MATCHED").type == pa.int64()
        utilization = report.to_arrow("oversight").schema.field("utilization").type
        assert utilization.scale == 4

    def test_wide_money_gets_a_wider_decimal(self, runs: dict[str, Any], pa: Any) -> None:
        report, _ = runs["hostile"]
        arrow = report.to_arrow()
        assert arrow.schema.field("billed").type == pa.decimal128(38, 2)
        assert Decimal("12345678901234567890.00") in arrow.column("billed").to_pylist()
        # by_invoice sums the same lines: wide too; invoices of the sample stay narrow.
        assert report.to_arrow("by_invoice").schema.field("billed").type == pa.decimal128(38, 2)

    def test_neutralised_text_comes_back_as_read(self, runs: dict[str, Any], pa: Any) -> None:
        report, _ = runs["hostile"]
        invoices = set(report.to_arrow().column("invoice_id").to_pylist())
        assert {"I\rX", '=HYPERLINK("x")', "@SUM", "+1", "'q"} <= invoices
        assert invoices == {line.invoice_id or None for line in report.lines}

    def test_an_unknown_table_and_results_of_totals_are_refused(
        self, runs: dict[str, Any], pa: Any, tmp_path: Path
    ) -> None:
        report, _ = runs["sample"]
        with pytest.raises(ArgumentError, match="no output table 'result'"):
            report.to_arrow("result")
        totals = reconcile_to(sample_dir(), tmp_path)
        with pytest.raises(ArgumentError, match="read_results"):
            totals.to_arrow("results")
        assert totals.to_arrow("unbilled").equals(report.to_arrow("unbilled"))

    @pytest.mark.parametrize("table", TABLES)
    def test_read_output_equals_to_arrow(self, runs: dict[str, Any], pa: Any, table: str) -> None:
        """read_output(TABLE.csv) gives the table to_arrow gives, types included."""
        for run in RUNS:
            report, out = runs[run]
            assert interop.read_output(out / f"{table}.csv").equals(report.to_arrow(table))
        assert interop.read_results(out / "results.csv").equals(report.to_arrow())

    def test_read_output_refuses_another_file(self, runs: dict[str, Any], pa: Any) -> None:
        _, out = runs["sample"]
        with pytest.raises(ArgumentError, match=r"not a results\.csv"):
            interop.read_output(out / "unbilled.csv", "results")


class TestFrames:
    def test_pandas_money_is_decimal_not_float(self, runs: dict[str, Any], pa: Any) -> None:
        pd = pytest.importorskip("pandas")
        report, out = runs["generated"]
        frame = report.to_pandas()
        header, expected = _expected(out, "results")
        assert list(frame.columns) == header
        for name in MONEY_RESULTS:
            dtype = frame[name].dtype
            assert isinstance(dtype, pd.ArrowDtype)
            assert pa.types.is_decimal(dtype.pyarrow_dtype), dtype
            assert str(dtype) != "float64"
        values = [[None if v is pd.NA else v for v in row] for row in frame.itertuples(False)]
        _same(values, expected)
        # The problem of the issue: pandas' own reader makes money a float.
        assert str(pd.read_csv(out / "results.csv")["billed"].dtype) == "float64"
        read = interop.read_results(out / "results.csv").to_pandas(types_mapper=pd.ArrowDtype)
        assert pa.types.is_decimal(read["billed"].dtype.pyarrow_dtype)
        assert read.equals(frame)

    def test_polars_money_is_decimal(self, runs: dict[str, Any], pa: Any) -> None:
        pl = pytest.importorskip("polars")
        report, out = runs["generated"]
        frame = report.to_polars()
        _, expected = _expected(out, "results")
        for name in MONEY_RESULTS:
            assert frame.schema[name] == pl.Decimal(18, 2)
        _same([list(r) for r in frame.iter_rows()], expected)
        assert report.to_polars("invoices").schema["amount"] == pl.Decimal(18, 2)

    def test_polars_refuses_what_it_cannot_hold(self, pa: Any) -> None:
        pytest.importorskip("polars")
        lines = [
            "contract_id,invoice_id,finding,header_total,lines_total,difference,amount,detail\n",
            f"C,I,FOOTING_ERROR,1.00,{'9' * 50}.00,-1.00,,\n",
        ]
        arrow = interop._table("invoices", lambda: lines)
        assert arrow.schema.field("lines_total").type == pa.decimal256(76, 2)
        with pytest.raises(ArgumentError, match="polars"):
            interop._polars(pytest.importorskip("polars"), arrow)


class TestWrite:
    @pytest.mark.parametrize("run", RUNS)
    def test_parquet_files_read_back_as_the_csv(
        self, runs: dict[str, Any], pa: Any, run: str, tmp_path: Path
    ) -> None:
        import pyarrow.parquet as pq

        report, out = runs[run]
        report.write(tmp_path, format="parquet")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [f"{t}.parquet" for t in TABLES] + ["summary.json"]
        )
        for table in TABLES:
            header, expected = _expected(out, table)
            read = pq.read_table(tmp_path / f"{table}.parquet")
            assert read.schema.names == header
            _same(_rows(read), expected)
            assert read.equals(report.to_arrow(table))
            assert interop.read_output(tmp_path / f"{table}.parquet").equals(read)
        assert (tmp_path / "summary.json").read_bytes() == (out / "summary.json").read_bytes()

    @pytest.mark.parametrize("run", RUNS)
    def test_jsonl_files_read_back_as_the_csv(
        self, runs: dict[str, Any], run: str, tmp_path: Path
    ) -> None:
        """One object per row: input text as read, money as 2-place strings, null for empty."""
        report, out = runs[run]
        report.write(tmp_path, format="jsonl")
        for table in TABLES:
            header, rows = _read_csv(out / f"{table}.csv")
            lines = (tmp_path / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
            objects = [json.loads(line) for line in lines]
            expected = []
            for row in rows:
                values = {}
                for name, cell in zip(header, row, strict=True):
                    value = _value(table, name, cell)
                    if isinstance(value, Decimal | dt.date):
                        value = cell  # the text, as the CSV writes it
                    values[name] = value
                expected.append(values)
            assert objects == expected, table
            assert all(list(o) == header for o in objects)
        money = [json.loads(line)["billed"] for line in (tmp_path / "results.jsonl").open()]
        assert all(m is None or m.split(".")[1].__len__() == 2 for m in money)

    def test_jsonl_needs_no_pyarrow(self, tmp_path: Path) -> None:
        """The JSON lines are made with the standard library only; pyarrow is not imported.

        The Python engine reads the inputs (``auto`` would read them with pyarrow).
        """
        code = (
            "import sys, ice_recon\n"
            "from ice_recon.cli import sample_dir\n"
            "report = ice_recon.reconcile(sample_dir(), engine='python')\n"
            f"report.write({str(tmp_path)!r}, format='jsonl')\n"
            "assert not {'pyarrow', 'pandas', 'polars', 'numpy'} & set(sys.modules), "
            "sorted(sys.modules)\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
        assert (tmp_path / "results.jsonl").exists()

    def test_without_pyarrow_parquet_names_the_extra(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setitem(sys.modules, "pyarrow", None)
        report = ice_recon.reconcile(sample_dir())
        with pytest.raises(ImportError, match=r"ice-recon\[fast\]"):
            report.write(tmp_path / "a", format="parquet")
        assert not (tmp_path / "a").exists()
        with pytest.raises(ImportError, match=r"ice-recon\[fast\]"):
            report.to_arrow()
        code = main(["reconcile", str(sample_dir()), "--out", str(tmp_path / "b"), "--format",
                     "parquet"])  # fmt: skip
        assert code == 2
        assert "ice-recon[fast]" in capsys.readouterr().err
        assert not (tmp_path / "b").exists()

    def test_an_unknown_format_is_refused(self, tmp_path: Path) -> None:
        report = ice_recon.reconcile(sample_dir())
        with pytest.raises(ArgumentError, match="format must be one of"):
            report.write(tmp_path / "x", format="xlsx")
        assert not (tmp_path / "x").exists()

    def test_csv_stays_the_default(self, runs: dict[str, Any], tmp_path: Path) -> None:
        report, out = runs["hostile"]
        report.write(tmp_path, format="csv")
        for name in [f"{t}.csv" for t in TABLES] + ["summary.json"]:
            assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name

    def test_a_failed_write_leaves_no_file_of_any_format(
        self, runs: dict[str, Any], pa: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The atomic rules hold for every format: temporary names, nothing left on error."""
        report, _ = runs["sample"]
        report.write(tmp_path, format="csv")
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

        def fail(*args: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(interop, "_parquet_pass", fail)
        with pytest.raises(ice_recon.OutputError):
            report.write(tmp_path, format="parquet")
        after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        assert "summary.json" not in after  # the earlier set's mark is gone
        before.pop("summary.json")
        assert after == before  # nothing new, no temporary file

    def test_a_wider_value_late_in_the_file_restarts_the_parquet_file(
        self, pa: Any, tmp_path: Path
    ) -> None:
        """The decimal width is the whole column's, also when written batch by batch."""
        import pyarrow.parquet as pq

        header = "contract_id,invoice_id,finding,header_total,lines_total,difference,amount,detail"
        rows = [f"C,I{i:06},FOOTING_ERROR,1.00,2.00,-1.00,,{'x' * 40}" for i in range(60_000)]
        rows.append(f"C,J,FOOTING_ERROR,1.00,{'9' * 30}.00,-1.00,,")

        def lines() -> list[str]:
            return [line + "\n" for line in (header, *rows)]

        path = tmp_path / "invoices.parquet"
        interop._write_parquet(path, "invoices", lines)
        read = pq.read_table(path)
        assert read.schema.field("lines_total").type == pa.decimal128(38, 2)
        assert read.equals(interop._table("invoices", lines))
        assert pq.ParquetFile(path).metadata.num_rows == 60_001

    def test_a_row_longer_than_a_read_block(self, pa: Any, tmp_path: Path) -> None:
        """A row of several MiB (an input cell may hold up to 8 MiB) is read whole."""
        folder = tmp_path / "in"
        shutil.copytree(sample_dir(), folder)
        long_id = "X" * 3_000_000
        with (folder / "invoice_lines.csv").open("a", encoding="utf-8") as f:
            f.write(f"{long_id},1,HSCEMD-19-C-00012,0001,2021-09-27,,,,,,1,1.00,1.00,d\n")
        report = ice_recon.reconcile(folder)
        report.write(tmp_path / "csv")
        report.write(tmp_path / "pq", format="parquet")
        report.write(tmp_path / "jsonl", format="jsonl")
        results = (tmp_path / "jsonl" / "results.jsonl").read_text(encoding="utf-8")
        assert long_id in {json.loads(line)["invoice_id"] for line in results.splitlines()}
        _, expected = _expected(tmp_path / "csv", "results")
        _same(_rows(report.to_arrow()), expected)
        assert long_id in report.to_arrow().column("invoice_id").to_pylist()
        assert interop.read_output(tmp_path / "pq" / "results.parquet").equals(report.to_arrow())


class TestCli:
    @pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
    def test_cli_writes_what_report_write_writes(
        self,
        runs: dict[str, Any],
        generated: Path,
        tmp_path: Path,
        fmt: str,
        request: pytest.FixtureRequest,
    ) -> None:
        """ice-recon reconcile --format F: the same files, byte for byte, as Report.write."""
        if fmt == "parquet":
            request.getfixturevalue("pa")
        report, _ = runs["generated"]
        folder = generated
        report.write(tmp_path / "api", format=fmt)
        assert main(["reconcile", str(folder), "--out", str(tmp_path / "cli"), "--format", fmt,
                     "--quiet"]) in (0, 1)  # fmt: skip
        # Streamed in spilled batches by two workers: still the same files.
        reconcile_to(folder, tmp_path / "spilled", format=fmt, memory_bytes=0, batch_lines=700,
                     workers=2)  # fmt: skip
        names = sorted(p.name for p in (tmp_path / "api").iterdir())
        assert names == sorted([f"{t}.{fmt}" for t in TABLES] + ["summary.json"])
        for other in ("cli", "spilled"):
            assert sorted(p.name for p in (tmp_path / other).iterdir()) == names
            for name in names:
                a = (tmp_path / "api" / name).read_bytes()
                assert (tmp_path / other / name).read_bytes() == a, (other, name)

    def test_the_wrote_line_names_the_format(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["reconcile", str(sample_dir()), "--out", str(tmp_path), "--format",
                     "jsonl"]) == 0  # fmt: skip
        assert "Wrote results.jsonl, unbilled.jsonl," in capsys.readouterr().out


def test_interop_is_not_imported_by_the_core() -> None:
    code = "import sys, ice_recon.cli; assert 'ice_recon.interop' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
