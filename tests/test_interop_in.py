"""Inputs from Arrow tables, pandas and polars DataFrames and Parquet files (issue 11, In).

The reference is always the CSV reader: the bundled sample read from its CSV files, or, for
frames whose decimal columns have one scale per column (an Arrow decimal128 has one), the
same sample rewritten as CSV with every decimal column at its largest scale (computed here
with :mod:`decimal`, not with Arrow). Outputs are compared byte for byte; ``summary.json``
only without its ``inputs`` digests (frames in memory have none; a Parquet file's is the
sha256 of its bytes, checked against :mod:`hashlib`).
"""

from __future__ import annotations

import csv
import decimal
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ice_recon
from ice_recon._specs import (
    FILES,
    SPECS,
    _p_count,
    _p_date,
    _p_decimal,
    _p_money,
    _p_places,
    _p_positive,
    _p_positive_int,
    _p_rate,
)
from ice_recon.cli import main, sample_dir

pa = pytest.importorskip("pyarrow", reason="the fast extra (pyarrow) is not installed")
pc = pytest.importorskip("pyarrow.compute")
pcsv = pytest.importorskip("pyarrow.csv")
pq = pytest.importorskip("pyarrow.parquet")

_DECIMALS = {_p_decimal, _p_money, _p_positive, _p_rate}
_WHOLE = {_p_count, _p_places, _p_positive_int}
TABLES = list(FILES)


# ----------------------------------------------------------------------------------- helpers


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _is_decimal(spec: Any, name: str) -> bool:
    parsers = {c.name: c.parse for c in spec.columns}
    parse = parsers.get(name)
    return parse in _DECIMALS or (parse is None and spec.measures)


def _scale(cell: str) -> int:
    return len(cell.partition(".")[2])


def _one_scale_folder(src: Path, dst: Path) -> Path:
    """Write the CSV files of *src* to *dst* with each decimal column at its largest scale."""
    dst.mkdir()
    for name, _ in FILES.values():
        spec = SPECS[name]
        header, *body = _csv_rows(src / name)
        for j, column in enumerate(header):
            if not _is_decimal(spec, column):
                continue
            scale = max((_scale(r[j].strip()) for r in body if r[j].strip()), default=0)
            quantum = decimal.Decimal(1).scaleb(-scale)
            for row in body:
                if row[j].strip():
                    row[j] = str(decimal.Decimal(row[j].strip()).quantize(quantum))
        with (dst / name).open("w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows([header, *body])
    return dst


def _text_table(path: Path) -> Any:
    """Read a CSV file as an Arrow table of strings (every cell as written)."""
    names = _csv_rows(path)[0]
    options = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    return pcsv.read_csv(path, convert_options=options)


def _typed_table(table: Any, spec: Any) -> Any:
    """Give a table of strings its natural types: decimal128, date32, int64 (empty -> null)."""
    parsers = {c.name: c.parse for c in spec.columns}
    columns = []
    for name in table.column_names:
        column = table.column(name)
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
        parse = parsers.get(name)
        if _is_decimal(spec, name):
            scale = max((_scale(v) for v in column.to_pylist() if v), default=0)
            column = column.cast(pa.decimal128(38, scale))
        elif parse is _p_date:
            column = column.cast(pa.date32())
        elif parse in _WHOLE:
            column = column.cast(pa.int64())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _outputs(inputs: ice_recon.Inputs, out: Path) -> dict[str, Any]:
    """Reconcile *inputs* into *out*; return each output's bytes (summary.json: its data)."""
    ice_recon.reconcile(inputs).write(out)
    return _read_outputs(out)


def _read_outputs(out: Path) -> dict[str, Any]:
    files: dict[str, Any] = {p.name: p.read_bytes() for p in out.iterdir()}
    files["summary.json"] = json.loads(files["summary.json"])
    return files


def _without_digests(files: dict[str, Any]) -> dict[str, Any]:
    summary = dict(files["summary.json"])
    del summary["inputs"]
    return {**files, "summary.json": summary}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample as CSV and as Arrow tables, with the reference outputs of both forms."""
    root = tmp_path_factory.mktemp("interop")
    sample = sample_dir()
    one_scale = _one_scale_folder(sample, root / "one_scale")
    text = {t: _text_table(sample / FILES[t][0]) for t in TABLES}
    typed = {
        t: _typed_table(_text_table(one_scale / FILES[t][0]), SPECS[FILES[t][0]]) for t in TABLES
    }
    return {
        "root": root,
        "sample": sample,
        "one_scale": one_scale,
        "text": text,
        "typed": typed,
        "sample_out": _outputs(ice_recon.load(sample), root / "sample_out"),
        "one_scale_out": _outputs(ice_recon.load(one_scale), root / "one_scale_out"),
    }


# ------------------------------------------------------------------- the sample, every form


class TestSampleAsFrames:
    def test_the_typed_tables_are_typed(self, world: dict[str, Any]) -> None:
        """The typed sample has decimal128 money, date32 dates and int64 line numbers."""
        lines = world["typed"]["invoice_lines"].schema
        assert lines.field("amount").type == pa.decimal128(38, 2)
        assert lines.field("service_date").type == pa.date32()
        assert lines.field("line_no").type == pa.int64()

    def test_arrow_tables_of_text_reconcile_like_the_csv_files(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        inputs = ice_recon.load_frames(**world["text"])

        got = _outputs(inputs, tmp_path / "out")
        assert inputs.problems == ()
        assert got["summary.json"]["inputs"] == {}  # frames in memory have no digest
        assert _without_digests(got) == _without_digests(world["sample_out"])

    def test_typed_arrow_tables_reconcile_like_the_csv_files(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        inputs = ice_recon.load_frames(**world["typed"])

        assert inputs.problems == ()
        got = _outputs(inputs, tmp_path / "out")
        assert _without_digests(got) == _without_digests(world["one_scale_out"])

    def test_record_batches_are_tables(self, world: dict[str, Any], tmp_path: Path) -> None:
        batches = {t: table.combine_chunks().to_batches()[0] for t, table in world["typed"].items()}

        got = _outputs(ice_recon.load_frames(**batches), tmp_path / "out")
        assert _without_digests(got) == _without_digests(world["one_scale_out"])

    @pytest.mark.parametrize("dtypes", ["string", "object"])
    def test_pandas_frames_of_text(
        self, world: dict[str, Any], tmp_path: Path, dtypes: str
    ) -> None:
        """pandas string columns, or object columns of str with None for empty cells."""
        pd = pytest.importorskip("pandas", reason="pandas is not installed")
        frames = {t: table.to_pandas() for t, table in world["text"].items()}
        if dtypes == "object":
            frames = {
                t: pd.DataFrame(
                    {c: pd.Series([v or None for v in f[c]], dtype=object) for c in f.columns}
                )
                for t, f in frames.items()
            }
            assert all(all(dtype == "object" for dtype in f.dtypes) for f in frames.values())

        got = _outputs(ice_recon.load_frames(**frames), tmp_path / "out")
        assert _without_digests(got) == _without_digests(world["sample_out"])

    @pytest.mark.parametrize("decimals", ["objects", "arrow"])
    def test_typed_pandas_frames(
        self, world: dict[str, Any], tmp_path: Path, decimals: str
    ) -> None:
        """Money as Decimal objects, or as pandas' Arrow-backed decimal dtype."""
        pd = pytest.importorskip("pandas", reason="pandas is not installed")
        mapper = pd.ArrowDtype if decimals == "arrow" else None
        frames = {t: table.to_pandas(types_mapper=mapper) for t, table in world["typed"].items()}
        amount = frames["invoice_lines"]["amount"]
        if decimals == "arrow":
            assert amount.dtype == pd.ArrowDtype(pa.decimal128(38, 2))
        else:
            assert amount.dtype == object
            assert isinstance(amount.iloc[0], decimal.Decimal)

        got = _outputs(ice_recon.load_frames(**frames), tmp_path / "out")
        assert _without_digests(got) == _without_digests(world["one_scale_out"])

    def test_polars_frames(self, world: dict[str, Any], tmp_path: Path) -> None:
        pl = pytest.importorskip("polars", reason="polars is not installed")
        frames = {t: pl.from_arrow(table) for t, table in world["typed"].items()}
        assert isinstance(frames["invoice_lines"].schema["amount"], pl.Decimal)

        got = _outputs(ice_recon.load_frames(**frames), tmp_path / "out")
        assert _without_digests(got) == _without_digests(world["one_scale_out"])

    def test_parquet_files_and_frames_mix_with_csv_paths(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        """load_files takes a Parquet path, a frame and a CSV path side by side."""
        path = tmp_path / "lines.parquet"
        pq.write_table(world["typed"]["invoice_lines"], path)
        sources: dict[str, Any] = {t: world["one_scale"] / FILES[t][0] for t in TABLES}
        sources["invoice_lines"] = path
        sources["rates"] = world["typed"]["rates"]

        inputs = ice_recon.load_files(**sources)

        assert inputs.problems == ()
        assert inputs.digests["lines.parquet"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert "rates.csv" not in inputs.digests
        got = _outputs(inputs, tmp_path / "out")
        assert _without_digests(got) == _without_digests(world["one_scale_out"])


# ------------------------------------------------------------------------- Parquet folders


def _parquet_folder(tables: dict[str, Any], folder: Path) -> Path:
    folder.mkdir()
    for t, table in tables.items():
        pq.write_table(table, folder / FILES[t][0].replace(".csv", ".parquet"))
    return folder


class TestParquetFolders:
    def test_round_trip_csv_arrow_parquet_load_gives_the_same_report(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        """The issue's round trip: CSV -> Arrow -> Parquet -> load, the same report bytes."""
        folder = _parquet_folder(world["text"], tmp_path / "in")

        inputs = ice_recon.load(folder)
        got = _outputs(inputs, tmp_path / "out")

        assert inputs.problems == ()
        assert got["summary.json"]["inputs"] == {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()
        }
        assert _without_digests(got) == _without_digests(world["sample_out"])

    def test_typed_parquet_folder_reconciles_through_the_cli(
        self, world: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """decimal128 money and date32 dates in Parquet; validate and reconcile on the CLI."""
        folder = _parquet_folder(world["typed"], tmp_path / "in")
        assert pq.read_schema(folder / "invoice_lines.parquet").field("amount").type == (
            pa.decimal128(38, 2)
        )

        assert main(["validate", str(folder)]) == 0
        assert capsys.readouterr().out.startswith("OK: ")
        status = main(["reconcile", str(folder), "--out", str(tmp_path / "out"), "--quiet"])

        assert status == 0
        got = _read_outputs(tmp_path / "out")
        assert _without_digests(got) == _without_digests(world["one_scale_out"])
        assert set(got["summary.json"]["inputs"]) == {p.name for p in folder.iterdir()}

    @pytest.mark.parametrize("workers", [1, 2])
    def test_streaming_reads_parquet_lines_in_memory(
        self, world: dict[str, Any], tmp_path: Path, workers: int
    ) -> None:
        """reconcile_to with memory_bytes=0 (always spill a CSV) still reads Parquet lines."""
        folder = _parquet_folder(world["typed"], tmp_path / "in")

        ice_recon.reconcile_to(
            folder, tmp_path / "out", memory_bytes=0, batch_lines=7, workers=workers
        )

        got = _read_outputs(tmp_path / "out")
        assert _without_digests(got) == _without_digests(world["one_scale_out"])

    def test_one_table_as_parquet_in_a_csv_folder(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        folder = tmp_path / "in"
        shutil.copytree(world["sample"], folder)
        (folder / "rates.csv").unlink()
        pq.write_table(world["text"]["rates"], folder / "rates.parquet")

        inputs = ice_recon.load(folder)
        got = _outputs(inputs, tmp_path / "out")

        assert ice_recon.validate(folder) == []
        assert "rates.parquet" in inputs.digests and "rates.csv" not in inputs.digests
        assert got["results.csv"] == world["sample_out"]["results.csv"]
        assert _without_digests(got) == _without_digests(world["sample_out"])

    def test_both_csv_and_parquet_is_a_problem_that_refuses_the_run(
        self, world: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        folder = tmp_path / "in"
        shutil.copytree(world["sample"], folder)
        pq.write_table(world["text"]["staff"], folder / "staff.parquet")
        expected = "staff.csv:1: staff.csv and staff.parquet are both in the folder; keep one"

        problems = ice_recon.validate(folder)
        with pytest.raises(ice_recon.InputError) as raised:
            ice_recon.load(folder)
        status = main(["reconcile", str(folder), "--out", str(tmp_path / "out")])

        assert [str(p) for p in problems] == [expected + " of them"]
        assert [str(p) for p in raised.value.problems] == [expected + " of them"]
        assert status == 2
        assert expected in capsys.readouterr().err
        assert not (tmp_path / "out").exists()

    def test_generated_inputs_with_planted_errors_give_the_same_problems(
        self, tmp_path: Path
    ) -> None:
        """Every problem of a generated folder, from its CSV files and as Parquet of text."""
        from ice_recon.generate import generate

        generate(tmp_path / "csv", lines=3000, contracts=2, seed=5)
        folder = tmp_path / "parquet"
        folder.mkdir()
        for path in (tmp_path / "csv").iterdir():
            pq.write_table(_text_table(path), folder / path.name.replace(".csv", ".parquet"))

        from_csv = ice_recon.validate(tmp_path / "csv")
        from_parquet = ice_recon.validate(folder)

        assert len(from_csv) > 10
        assert [
            (p.file.replace(".parquet", ".csv"), p.line, p.column, p.message, p.value)
            for p in from_parquet
        ] == [(p.file, p.line, p.column, p.message, p.value) for p in from_csv]

    def test_parquet_lines_without_a_required_column_refuse_the_run(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        """The header (schema) of invoice_lines.parquet is checked before any line is read."""
        folder = _parquet_folder(world["typed"], tmp_path / "in")
        path = folder / "invoice_lines.parquet"
        pq.write_table(world["typed"]["invoice_lines"].drop_columns(["amount"]), path)

        with pytest.raises(ice_recon.InputError) as raised:
            ice_recon.reconcile_to(folder, tmp_path / "out")

        assert [str(p) for p in raised.value.problems] == [
            "invoice_lines.parquet:1: column 'amount': required column is missing"
        ]

    def test_a_table_with_no_rows_is_valid_and_empty(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        folder = _parquet_folder(world["typed"], tmp_path / "in")
        pq.write_table(world["typed"]["staff"].slice(0, 0), folder / "staff.parquet")

        inputs = ice_recon.load(folder)

        assert [str(p) for p in inputs.problems] == []
        assert len(inputs.staff) == 0

    def test_a_misnamed_parquet_file_is_reported(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        folder = tmp_path / "in"
        shutil.copytree(world["sample"], folder)
        pq.write_table(world["text"]["staff"], folder / "staf.parquet")

        assert [str(p) for p in ice_recon.validate(folder)] == [
            "staf.parquet:1: not an input file; did you mean staff.parquet?"
        ]

    def test_a_file_that_is_not_parquet_is_reported(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        folder = tmp_path / "in"
        shutil.copytree(world["sample"], folder)
        (folder / "rates.csv").rename(folder / "rates.parquet")

        problems = ice_recon.validate(folder)
        with pytest.raises(ice_recon.InputError) as raised:
            ice_recon.load(folder)

        assert [(p.file, p.line) for p in problems] == [("rates.parquet", 1)]
        assert problems[0].message.startswith("cannot be read as a Parquet file")
        assert raised.value.problems == tuple(problems)


# ------------------------------------------------------------------------ cells and problems


def _lines_with(world: dict[str, Any], name: str, column: Any) -> Any:
    table = world["typed"]["invoice_lines"]
    return table.set_column(table.column_names.index(name), name, column)


def _load_lines(world: dict[str, Any], lines: Any) -> ice_recon.Inputs:
    return ice_recon.load_frames(**{**world["typed"], "invoice_lines": lines})


class TestCells:
    def test_a_float_money_column_is_a_problem_at_every_row_with_a_value(
        self, world: dict[str, Any]
    ) -> None:
        """Never converted: each row with a value is INVALID; a null is an empty cell."""
        exact = world["typed"]["invoice_lines"].column("amount").to_pylist()
        floats = [float(v) for v in exact]
        floats[3] = None
        lines = _lines_with(world, "amount", pa.array(floats, pa.float64()))

        inputs = _load_lines(world, lines)

        file = "invoice_lines (Arrow table)"
        expected = {
            (
                file,
                i + 2,
                "amount",
                "money must be a decimal or text, never a float64",
                repr(v),
            )
            for i, v in enumerate(floats)
            if v is not None
        } | {(file, 5, "amount", "must not be empty (required)", None)}
        assert {(p.file, p.line, p.column, p.message, p.value) for p in inputs.problems} == (
            expected
        )
        assert str(inputs.problems[0]) == (
            "invoice_lines (Arrow table):2: column 'amount': money must be a decimal or text, "
            f"never a float64 (got '{floats[0]!r}')"
        )
        assert sum(inputs.invoice_lines.valid) == 0
        report = ice_recon.reconcile(inputs)
        assert report.counts["INVALID"] == len(floats)

    def test_a_float_quantity_in_pandas_is_a_problem_too(self, world: dict[str, Any]) -> None:
        pd = pytest.importorskip("pandas", reason="pandas is not installed")
        rates = world["typed"]["rates"].to_pandas()
        rates["rate"] = rates["rate"].astype(float)

        inputs = ice_recon.load_frames(**{**world["typed"], "rates": rates})

        assert isinstance(rates, pd.DataFrame)
        found = [p for p in inputs.problems if p.column == "rate"]
        assert [p.line for p in found] == [i + 2 for i in range(len(rates))]
        assert all(p.file == "rates (pandas DataFrame)" for p in found)
        assert found[0].message == "quantities and rates must be decimals or text, never a float64"
        assert found[0].value == repr(float(rates["rate"].iloc[0]))
        assert inputs.rates == ()

    def test_floats_of_whole_numbers_are_read_in_whole_number_columns(
        self, world: dict[str, Any]
    ) -> None:
        """pandas turns whole numbers with a gap into floats: 3.0 is line 3; 2.5 is not."""
        numbers = world["typed"]["invoice_lines"].column("line_no").to_pylist()
        floats: list[float | None] = [float(n) for n in numbers]
        floats[0], floats[1] = 2.5, None

        inputs = _load_lines(world, _lines_with(world, "line_no", pa.array(floats)))

        assert [(p.line, p.column, p.value) for p in inputs.problems] == [
            (2, "line_no", "2.5"),
            (3, "line_no", None),
        ]
        assert inputs.problems[1].message == "must not be empty (required)"
        assert inputs.invoice_lines.line_no[2:] == numbers[2:]

    def test_money_with_four_places_is_reported_as_in_csv(self, world: dict[str, Any]) -> None:
        amounts = world["typed"]["invoice_lines"].column("amount").cast(pa.decimal128(38, 4))

        inputs = _load_lines(world, _lines_with(world, "amount", amounts))

        first = inputs.problems[0]
        assert len(inputs.problems) == len(amounts)
        assert (first.line, first.column, first.message) == (
            2,
            "amount",
            "is money and must have at most 2 decimal places",
        )
        assert first.value == str(amounts[0].as_py().quantize(decimal.Decimal("0.0001")))

    def test_decimals_keep_their_scale(self, world: dict[str, Any]) -> None:
        """A unit price of scale 4 is read exactly (2.4575 stays 2.4575)."""
        prices = [decimal.Decimal("2.4575")] * world["typed"]["invoice_lines"].num_rows
        column = pa.array(prices, pa.decimal256(40, 4))

        inputs = _load_lines(world, _lines_with(world, "unit_price", column))

        assert inputs.problems == ()
        assert set(inputs.invoice_lines.unit_price.values) == {(24575, 4)}

    def test_timestamps_at_midnight_are_dates_others_are_problems(
        self, world: dict[str, Any]
    ) -> None:
        dates = world["typed"]["invoice_lines"].column("service_date").cast(pa.timestamp("us"))
        stamps = dates.to_pylist()
        late = stamps[4].replace(hour=10, minute=30)
        stamps[4] = late

        inputs = _load_lines(world, _lines_with(world, "service_date", pa.array(stamps)))

        assert [(p.line, p.column, p.message) for p in inputs.problems] == [
            (6, "service_date", "must be a date, not a timestamp with a time of day")
        ]
        expected = [d.toordinal() for d in dates.cast(pa.date32()).to_pylist()]
        expected[4] = None
        assert inputs.invoice_lines.service_date == expected

    def test_a_zoned_timestamp_is_read_on_its_own_wall_clock(self, world: dict[str, Any]) -> None:
        dates = world["typed"]["invoice_lines"].column("service_date")
        naive = pc.cast(dates, pa.timestamp("s"))
        zoned = pc.assume_timezone(naive, "America/New_York")  # midnight in New York

        inputs = _load_lines(world, _lines_with(world, "service_date", zoned))

        assert inputs.problems == ()
        assert inputs.invoice_lines.service_date == [d.toordinal() for d in dates.to_pylist()]

    def test_strings_are_stripped_and_dictionaries_decoded(self, world: dict[str, Any]) -> None:
        table = world["typed"]["invoice_lines"]
        clins = table.column("clin").to_pylist()
        padded = pa.array([f"  {c} " for c in clins]).dictionary_encode()

        inputs = _load_lines(world, _lines_with(world, "clin", padded))

        assert inputs.problems == ()
        assert inputs.invoice_lines.clin == clins

    def test_an_empty_row_is_reported_and_left_out(self, world: dict[str, Any]) -> None:
        lines = world["typed"]["invoice_lines"]
        blank = pa.table(
            {name: pa.nulls(1, lines.schema.field(name).type) for name in lines.column_names}
        )
        both = pa.concat_tables([lines.slice(0, 2), blank, lines.slice(2)])

        inputs = _load_lines(world, both)

        assert [(p.line, p.message) for p in inputs.problems] == [(4, "row is empty (ignored)")]
        assert len(inputs.invoice_lines) == lines.num_rows
        assert inputs.invoice_lines.line[:3] == [2, 3, 5]

    def test_an_unsupported_type_is_a_problem_per_row(self, world: dict[str, Any]) -> None:
        rows = world["typed"]["invoice_lines"].num_rows
        lists = pa.array([[1]] + [None] * (rows - 1), pa.list_(pa.int64()))

        inputs = _load_lines(world, _lines_with(world, "description", lists))

        assert [(p.line, p.column, p.message) for p in inputs.problems] == [
            (
                2,
                "description",
                "must be text, a number or a date, not Arrow type list<item: int64>",
            )
        ]

    def test_unknown_columns_follow_the_csv_rules(self, world: dict[str, Any]) -> None:
        """Another column of manifests is a measure; of rates, an unknown column at line 1."""
        trips = world["typed"]["manifests"]
        trips = trips.append_column("stops", pa.array(["2"] * trips.num_rows))
        rates = world["typed"]["rates"].append_column(
            "rat", pa.array([1.5] * world["typed"]["rates"].num_rows)
        )

        inputs = ice_recon.load_frames(**{**world["typed"], "manifests": trips, "rates": rates})

        assert "stops" in inputs.measures
        assert inputs.manifests.measures["stops"].values == [(2, 0)] * trips.num_rows
        assert [(p.file, p.line, p.column) for p in inputs.problems] == [
            ("rates (Arrow table)", 1, "rat")
        ]
        assert inputs.problems[0].message.startswith("unknown column; did you mean 'rate'?")

    def test_a_missing_required_column_refuses_the_run_naming_the_frame(
        self, world: dict[str, Any]
    ) -> None:
        pytest.importorskip("pandas", reason="pandas is not installed")
        rates = world["typed"]["rates"].to_pandas().drop(columns=["rate"])

        with pytest.raises(ice_recon.InputError) as raised:
            ice_recon.load_frames(**{**world["typed"], "rates": rates})

        assert [str(p) for p in raised.value.problems] == [
            "rates (pandas DataFrame):1: column 'rate': required column is missing"
        ]

    def test_a_refused_csv_of_another_name_names_it(
        self, world: dict[str, Any], tmp_path: Path
    ) -> None:
        """A refused CSV path not named rates.csv is reported by its own name."""
        path = tmp_path / "my_rates.csv"
        path.write_text("contract_id,clin\nC,1\n", encoding="utf-8")

        with pytest.raises(ice_recon.InputError) as raised:
            ice_recon.load_files(**{**world["typed"], "rates": path})

        assert {(p.file, p.column) for p in raised.value.problems} == {
            ("my_rates.csv", "basis"),
            ("my_rates.csv", "end"),
            ("my_rates.csv", "rate"),
            ("my_rates.csv", "start"),
        }

    def test_pandas_object_columns_keep_each_decimal_and_mixed_kinds(
        self, world: dict[str, Any]
    ) -> None:
        """Decimal objects keep their own scale; a column of str and int reads both."""
        pd = pytest.importorskip("pandas", reason="pandas is not installed")
        lines = world["typed"]["invoice_lines"].to_pandas()
        n = len(lines)
        prices = [decimal.Decimal("2.5"), decimal.Decimal("2.4575")] * (n // 2) + [
            decimal.Decimal("7")
        ] * (n % 2)
        lines["unit_price"] = pd.Series(prices, dtype=object)
        lines["person_id"] = pd.Series([1234, "E-1"] * (n // 2) + [None] * (n % 2), dtype=object)

        inputs = _load_lines(world, lines)

        assert inputs.problems == ()
        expected = [(int(p.scaleb(-p.as_tuple().exponent)), -p.as_tuple().exponent) for p in prices]
        assert inputs.invoice_lines.unit_price.values == expected
        assert inputs.invoice_lines.person_id[:2] == ["1234", "E-1"]

    def test_nan_none_and_pd_na_are_absent(self, world: dict[str, Any]) -> None:
        pd = pytest.importorskip("pandas", reason="pandas is not installed")
        lines = world["typed"]["invoice_lines"].to_pandas()
        n = len(lines)
        lines["description"] = pd.Series(
            [float("nan"), None, pd.NA] + ["x"] * (n - 3), dtype=object
        )

        inputs = _load_lines(world, lines)

        assert inputs.problems == ()
        assert inputs.invoice_lines.description == [None, None, None] + ["x"] * (n - 3)


class TestArguments:
    def test_load_frames_refuses_a_csv_path_and_rows(self, world: dict[str, Any]) -> None:
        with pytest.raises(ice_recon.ArgumentTypeError, match="rates: load_frames takes"):
            ice_recon.load_frames(**{**world["typed"], "rates": world["sample"] / "rates.csv"})
        with pytest.raises(ice_recon.ArgumentTypeError, match="use load_files"):
            ice_recon.load_frames(**{**world["typed"], "staff": [{"trip_id": "T1"}]})

    def test_without_pyarrow_the_error_names_the_extra(
        self, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError

        with pytest.raises(ImportError, match=r"pip install 'ice-recon\[fast\]'"):
            ice_recon.load_frames(rates=world["sample"] / "x.parquet")

    def test_importing_ice_recon_imports_no_frame_library(self) -> None:
        code = (
            "import sys, ice_recon, ice_recon.frames; "
            "print(sorted(m for m in ('pyarrow', 'pandas', 'polars', 'numpy') "
            "if m in sys.modules))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == "[]"
