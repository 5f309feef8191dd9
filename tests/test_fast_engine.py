"""The fast engine (``engine="fast"``, the ``fast`` extra) gives the Python engine's bytes.

Every test reads the same files with both engines and compares what comes out: the loaded
tables and problems, and the output files of ``reconcile(...).write`` and
``reconcile_to``, byte for byte. The files cover the generator's data (planted malformed
and quoted cells included), the Hypothesis cases of :mod:`ice_recon.strategies`, and files
built to force each fallback of the fast reader (to the Python reader for a cell, or for
the whole file).
"""

from __future__ import annotations

import csv
import importlib
import io
import shutil
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings

import ice_recon
from ice_recon import _engine
from ice_recon._read import TableReader
from ice_recon.cli import main, sample_dir
from ice_recon.errors import ArgumentError
from ice_recon.explain import Explainer
from ice_recon.generate import generate
from ice_recon.strategies import cases

pytest.importorskip("pyarrow", reason="the fast engine needs the fast extra (pyarrow)")
pytest.importorskip("numpy", reason="the fast engine needs the fast extra (numpy)")

BIG = ("invoice_lines.csv", "manifests.csv", "staff.csv")


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def reconciled(folder: Path, out: Path, engine: str, **kw: Any) -> dict[str, bytes]:
    ice_recon.reconcile(folder, engine=engine, **kw).write(out)  # type: ignore[arg-type]
    return files(out)


def streamed(folder: Path, out: Path, engine: str, **kw: Any) -> dict[str, bytes]:
    ice_recon.reconcile_to(folder, out, engine=engine, **kw)  # type: ignore[arg-type]
    return files(out)


def written_lines_off() -> Any:
    """Write every results.csv line from its explanation (the usual lines' one step off)."""
    return mock.patch.object(
        importlib.import_module("ice_recon._result_lines"), "_FAST_PATHS", False
    )


def assert_same(folder: Path, tmp: Path, **kw: Any) -> None:
    """Both engines load the same inputs and write the same files, in memory and streamed.

    The same files again with the usual results.csv lines written from their explanations,
    as every other line is (``_result_lines._FAST_PATHS`` off).
    """
    python = ice_recon.load(folder, engine="python")
    fast = ice_recon.load(folder, engine="fast")
    assert fast.problems == python.problems
    assert fast == python
    want = reconciled(folder, tmp / "py", "python", **kw)
    assert reconciled(folder, tmp / "fast", "fast", **kw) == want
    assert streamed(folder, tmp / "fast-stream", "fast", **kw) == want
    with written_lines_off():
        assert reconciled(folder, tmp / "fast-off", "fast", **kw) == want
        assert streamed(folder, tmp / "fast-stream-off", "fast", **kw) == want


@pytest.fixture
def python_reader_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the Python reader fail on the large files: the fast reader must take them."""
    chunks = TableReader.parse_chunks

    def refuse(self: TableReader, path: Any, rows: int) -> Any:
        if Path(path).name in BIG:
            raise AssertionError(f"{path}: read by the Python reader, not the fast one")
        return chunks(self, path, rows)

    monkeypatch.setattr(TableReader, "parse_chunks", refuse)


def test_the_sample(tmp_path: Path) -> None:
    assert_same(sample_dir(), tmp_path)


@pytest.mark.parametrize(
    ("lines", "seed", "policy"),
    [
        (300, 1, ice_recon.Policy()),
        (2_000, 2, ice_recon.Policy(window_days=2, rounding="half_even")),
        (
            5_000,
            3,
            ice_recon.Policy(
                tolerances=dict([ice_recon.Tolerance.parse("loaded_miles=2%")]), window_days=3
            ),
        ),
    ],
)
def test_generated_folders(tmp_path: Path, lines: int, seed: int, policy: Any) -> None:
    folder = tmp_path / "in"
    generate(folder, lines=lines, contracts=3, seed=seed)
    assert_same(folder, tmp_path, policy=policy)


def test_generated_data_takes_the_fast_path(tmp_path: Path, python_reader_refused: None) -> None:
    # The generator plants malformed cells (bad dates, exponents, quoted "1,5", empty
    # required cells): the fast reader takes those per cell, never the whole file back.
    folder = tmp_path / "in"
    generate(folder, lines=3_000, contracts=2, seed=5)
    text = (folder / "invoice_lines.csv").read_text()
    assert '"' in text
    inputs = ice_recon.load(folder, engine="fast")
    assert any(p.file == "invoice_lines.csv" for p in inputs.problems)
    with pytest.raises(AssertionError, match="Python reader"):
        ice_recon.load(folder, engine="python")


def test_the_usual_lines_are_written_in_one_step(tmp_path: Path) -> None:
    # Most generated lines take the one-step path (else the comparisons above prove little).
    folder = tmp_path / "in"
    generate(folder, lines=2_000, contracts=2, seed=4)
    fused = Explainer.fused
    calls = 0

    def counted(self: Explainer, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        return fused(self, *args)

    with mock.patch.object(Explainer, "fused", counted):
        reconciled(folder, tmp_path / "out", "fast")
    assert calls > 2_000 // 2


def test_quotes_in_a_rules_texts_and_in_person_ids(tmp_path: Path) -> None:
    # The usual line's explanation is quoted (its citation holds a comma): a quote in the
    # rule's authority or in a person id is doubled there, as csv would.
    folder = tmp_path / "in"
    shutil.copytree(sample_dir(), folder)
    rates = folder / "rates.csv"
    rates.write_text(rates.read_text().replace("P00003 B.1", '"P00003 ""B.1"", rev"'))
    staff = folder / "staff.csv"
    staff.write_text(staff.read_text().replace("P20417", '"P2""04,17"'))
    off = tmp_path / "off"
    with written_lines_off():
        want = reconciled(folder, off, "python")
    assert reconciled(folder, tmp_path / "on", "python") == want
    explanations = [
        row["explanation"]
        for row in csv.DictReader(io.StringIO(want["results.csv"].decode(), newline=""))
    ]
    assert any(e.endswith('P00003 "B.1", rev); matches') for e in explanations)
    assert any('recorded 15.50 for P2"04,17, P20533 -> ' in e for e in explanations)
    assert_same(folder, tmp_path)


@given(case=cases(max_lines=12))
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_strategy_cases(case: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        case.write(folder)
        assert_same(folder, Path(tmp), policy=case.policy)


# ------------------------------------------------------------------------ forced fallbacks

HEADER = (
    "invoice_id,line_no,contract_id,clin,service_date,quantity,unit_price,amount,trip_ref,"
    "description"
)


def _folder(tmp_path: Path, body: list[str], *, raw: bytes | None = None) -> Path:
    folder = tmp_path / "in"
    generate(folder, lines=60, contracts=1, seed=7)
    lines = (folder / "invoice_lines.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    data = "\n".join([header, *rows[:40], *body, *rows[40:]]) + "\n"
    (folder / "invoice_lines.csv").write_bytes(raw if raw is not None else data.encode())
    return folder


def _row(folder: Path, **cells: str) -> str:
    """A copy of the folder's first invoice line with some cells changed (a new line_no)."""
    lines = (folder / "invoice_lines.csv").read_text().splitlines()
    names = lines[0].split(",")
    row = dict(zip(names, lines[1].split(","), strict=True))
    row["line_no"] = "9999"
    row.update(cells)
    return ",".join(row[name] for name in names)


# Rows the fast reader takes itself, parsing the odd cells one by one.
CELL_CASES = {
    "beyond int64": {"quantity": "1" * 30 + ".5", "amount": "9" * 25 + ".00"},
    "exponent": {"quantity": "1e3"},
    "money places": {"amount": "12.345"},
    "too many digits": {"quantity": "1" * 120},
    "bad date": {"service_date": "2022-02-30"},
    "not ISO date": {"service_date": "03/07/2022"},
    "zero line": {"line_no": "0"},
    "empty required": {"clin": ""},
    "quoted comma": {"quantity": '"1,5"'},
    "quoted fine": {"description": '"a, b"'},
    "lower ref": {"trip_ref": "t000000001"},
}


@pytest.mark.parametrize("cells", CELL_CASES.values(), ids=CELL_CASES.keys())
def test_odd_cells_are_taken_cell_by_cell(
    tmp_path: Path, cells: dict[str, str], python_reader_refused: None
) -> None:
    folder = _folder(tmp_path, [])
    path = folder / "invoice_lines.csv"
    lines = path.read_text().splitlines()
    lines.insert(20, _row(folder, **cells))
    path.write_text("\n".join(lines) + "\n")
    ice_recon.load(folder, engine="fast")  # never the Python reader (the fixture)


@pytest.mark.parametrize("cells", CELL_CASES.values(), ids=CELL_CASES.keys())
def test_odd_cells_give_the_same_bytes(tmp_path: Path, cells: dict[str, str]) -> None:
    folder = _folder(tmp_path, [])
    path = folder / "invoice_lines.csv"
    lines = path.read_text().splitlines()
    lines.insert(20, _row(folder, **cells))
    lines.insert(30, _row(folder, **{"line_no": "9998", **cells}))
    path.write_text("\n".join(lines) + "\n")
    assert_same(folder, tmp_path)


# Files the fast reader hands back whole to the Python reader.
FILE_CASES = {
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "bom": lambda t: "\ufeff" + t,
    "blank line": lambda t: t.replace("\n", "\n\n", 3),
    "wrong width": lambda t: t.replace("\n", ",extra\n", 2),
    "edge space": lambda t: t.replace(",", " ,", 30),
    "tab": lambda t: t.replace(",", ",\t", 5),
    "quoted line break": lambda t: t.replace(",", ',"a\nb",', 1).replace("\n", "\n", 1),
    "unterminated quote": lambda t: t.replace(",", ',"x', 40),
    "non-ascii": lambda t: t.replace(",", ",é", 40),
    "no final line end": lambda t: t.rstrip("\n"),
    "header only": lambda t: t.split("\n", 1)[0] + "\n",
    "empty": lambda t: "",
    "quote after quote": lambda t: t.replace(",", ',"a"b', 41),
    "row of empty cells": lambda t: t.replace(
        "\n", "\n" + "," * (t.split("\n", 1)[0].count(",")) + "\n", 2
    ),
}


@pytest.mark.parametrize("change", FILE_CASES.values(), ids=FILE_CASES.keys())
@pytest.mark.parametrize("name", BIG)
def test_odd_files_give_the_same_bytes(tmp_path: Path, change: Any, name: str) -> None:
    folder = _folder(tmp_path, [])
    path = folder / name
    path.write_bytes(change(path.read_text()).encode())
    want = _loaded(folder, "python")
    assert _loaded(folder, "fast") == want
    if isinstance(want, ice_recon.Inputs):
        assert_same(folder, tmp_path)


def _loaded(folder: Path, engine: str) -> Any:
    """The inputs, or the problems of the refusal."""
    try:
        return ice_recon.load(folder, engine=engine)  # type: ignore[arg-type]
    except ice_recon.InputError as refused:
        return refused.problems


# ---------------------------------------------------------------------------- the option


def test_the_cli_option(tmp_path: Path) -> None:
    for engine in ("python", "fast", "auto"):
        assert main(["reconcile", str(sample_dir()), "--out", str(tmp_path / engine), "--quiet",
                     "--engine", engine]) == 0  # fmt: skip
    assert files(tmp_path / "fast") == files(tmp_path / "python") == files(tmp_path / "auto")


def test_engine_names() -> None:
    assert _engine.resolve("auto") == "fast"  # the extra is installed (skipped otherwise)
    with pytest.raises(ArgumentError, match="engine must be one of"):
        ice_recon.reconcile(sample_dir(), engine="turbo")  # type: ignore[arg-type]


def test_fast_without_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_engine, "available", lambda: False)
    assert _engine.resolve("auto") == "python"
    with pytest.raises(ImportError, match=r"ice-recon\[fast\]"):
        ice_recon.load(sample_dir(), engine="fast")
    out = tmp_path / "out"
    code = main(["reconcile", str(sample_dir()), "--out", str(out), "--engine", "fast"])
    assert code == 2


def test_the_core_does_not_import_the_accelerator() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ice_recon; from ice_recon.cli import sample_dir;"
        "ice_recon.reconcile(sample_dir(), engine='python');"
        "bad = [m for m in ('numpy', 'pyarrow', 'pandas', 'polars', 'ice_recon._fast')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
