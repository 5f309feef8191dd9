"""The three ways of reading results.csv give the same figures, and the same page.

``read_folder`` reads ``results.csv`` with pyarrow when it is installed, else by parsing
only the lines with an amount; the csv module reading every row is the reference. Here the
figures of all three are compared on the sample, on a generated folder with planted errors
and on a folder whose results.csv holds what the fast paths hand back to the reference
(line breaks inside a cell, a statement of difference that does not add up, non-ASCII
digits); and report.html is made with and without pyarrow and compared byte for byte.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

import ice_recon
from ice_recon import _outdir
from ice_recon.cli import sample_dir
from ice_recon.generate import generate
from ice_recon.money import format_cents


def _scans(folder: Path, top: int) -> dict[str, tuple[object, ...]]:
    def figures(scan: _outdir._Scan) -> tuple[object, ...]:
        return (scan.by_status, list(scan.parts.items()), scan.questioned_lines, scan.top)

    got = {
        "csv": figures(_outdir._scan_csv(folder, top)),
        "lines": figures(_outdir._scan_lines(folder, top)),
    }
    if _arrow_installed():
        from ice_recon._outdir_arrow import scan_arrow

        scan = scan_arrow(folder, _outdir._Scan(top, str(folder / "results.csv")))
        assert scan is not None
        got["arrow"] = figures(scan)
    return got


def _arrow_installed() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "out"
    ice_recon.reconcile(sample_dir()).write(out)
    return out


@pytest.fixture(scope="module")
def generated_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("generated")
    generate(base / "in", lines=6000, contracts=4, seed=7)
    out = base / "out"
    ice_recon.reconcile(base / "in").write(out)
    return out


def _without_pyarrow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import raises ImportError
    monkeypatch.delitem(sys.modules, "ice_recon._outdir_arrow", raising=False)


@pytest.mark.parametrize("top", [1, 3, 50])
def test_figures_of_every_path_are_the_references(
    sample_out: Path, generated_out: Path, top: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if top == 3 and _arrow_installed():  # many small batches, added up in many chunks
        from ice_recon import _outdir_arrow

        monkeypatch.setattr(_outdir_arrow, "_BLOCK", 1 << 14)
        monkeypatch.setattr(_outdir_arrow, "_CHUNK", 100)
    for folder in (sample_out, generated_out):
        got = _scans(folder, top)
        reference = got.pop("csv")
        assert reference[2] > 0 and reference[1]  # lines questioned, contracts decomposed
        for name, figures in got.items():
            assert figures == reference, (folder, name)


def test_generated_folder_has_lines_of_every_kind(generated_out: Path) -> None:
    """The planted errors reach the paths: priced, unpriced and undecomposed variances."""
    parts = dict(_scans(generated_out, 5)["csv"][1])
    assert any(row[0] or row[1] or row[2] or row[3] for row in parts.values())
    assert any(row[4] for row in parts.values())


def _awkward(source: Path, tmp_path: Path) -> Path:
    """A copy of *source* whose results.csv has cells the fast paths hand to the csv module."""
    folder = tmp_path / "awkward"
    folder.mkdir()
    for path in source.iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    with (source / "results.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    varied = [r for r in rows[1:] if r[7] != "0.00" and r[5]]
    assert len(varied) >= 6
    # A line break inside an explanation, before its statement of difference.
    varied[0][15] = 'line one\nline two, "quoted"' + varied[0][15]
    # A first statement that does not add up, before the true one (the true one counts).
    varied[1][15] = "; over by 1.00 (price +1.00)" + varied[1][15]
    # Non-ASCII digits that Python's \d reads (a statement RE2 does not see).
    varied[2][15] = "; over by ٣.00 (price +٣.00) " + varied[2][15]
    # A statement that names parts twice (and adds up: it counts). Its first mentions
    # alone add up too, to other parts: only the sum of all mentions is right.
    v = _outdir.money(varied[4][7])

    def signed(cents: int) -> str:
        return ("+" if cents >= 0 else "") + format_cents(cents)

    listed = f"extension +0.01, price {signed(v - 1)}, extension -0.01, price +0.01"
    direction = "over" if v > 0 else "under"
    varied[4][15] = f"; {direction} by {format_cents(abs(v))} ({listed})"
    # A first statement whose parts add up to the variance but whose total does not.
    w = _outdir.money(varied[5][7])
    varied[5][15] = f"; over by 99999.99 (minimum {signed(w)})" + varied[5][15]
    # A contract cell neutralised as a formula and quoted.
    varied[3][0] = "'=SUM(A1, A2)"
    with (folder / "results.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return folder


def test_awkward_cells_give_the_references_figures(sample_out: Path, tmp_path: Path) -> None:
    folder = _awkward(sample_out, tmp_path)
    got = _scans(folder, 50)
    reference = got.pop("csv")
    assert reference != _scans(sample_out, 50)["csv"]  # the edits do change the figures
    for name, figures in got.items():
        assert figures == reference, name


def test_a_cell_not_in_the_format_is_named_on_every_path(
    sample_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _awkward(sample_out, tmp_path)
    text = (folder / "results.csv").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines()[1:] if ",0.00,0.00,0.00,0.00," not in line)
    cells = next(csv.reader([row]))
    bad = row.replace(f",{cells[8]},{cells[9]},", f",{cells[8]}0,{cells[9]},", 1)
    (folder / "results.csv").write_text(text.replace(row, bad, 1), encoding="utf-8")
    with pytest.raises(ice_recon.ArgumentError, match="not a money cell"):
        _outdir.read_folder(folder)
    _without_pyarrow(monkeypatch)
    with pytest.raises(ice_recon.ArgumentError, match="not a money cell"):
        _outdir.read_folder(folder)


@pytest.mark.parametrize("which", ["sample_out", "generated_out"])
def test_page_is_the_same_with_and_without_pyarrow(
    which: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow", reason="the extra 'fast' is not installed (pyarrow)")
    pytest.importorskip("jinja2", reason="the extra 'report' is not installed (jinja2)")
    pytest.importorskip("matplotlib", reason="the extra 'report' is not installed (matplotlib)")
    from ice_recon.htmlreport import write_report

    folder: Path = request.getfixturevalue(which)
    with_arrow = write_report(folder, path=tmp_path / "with.html", top=20).read_bytes()
    arrow_figures = _outdir.read_folder(folder, top=20)
    _without_pyarrow(monkeypatch)
    without = write_report(folder, path=tmp_path / "without.html", top=20).read_bytes()
    assert "ice_recon._outdir_arrow" not in sys.modules  # the pure-Python path was taken
    assert with_arrow == without
    assert _outdir.read_folder(folder, top=20) == arrow_figures


def test_charts_drawn_while_reading_give_the_same_page(generated_out: Path, tmp_path: Path) -> None:
    """write_report draws four charts in a thread while results.csv is read: same bytes."""
    pytest.importorskip("jinja2", reason="the extra 'report' is not installed (jinja2)")
    pytest.importorskip("matplotlib", reason="the extra 'report' is not installed (matplotlib)")
    from ice_recon.htmlreport import render_report, write_report

    page = write_report(generated_out, path=tmp_path / "page.html", top=7).read_bytes()
    alone = render_report(_outdir.read_folder(generated_out, top=7)).encode("utf-8")
    assert page == alone
    assert page.count(b"<svg") >= 5


def test_an_error_drawing_in_the_thread_is_raised(
    sample_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("jinja2", reason="the extra 'report' is not installed (jinja2)")
    pytest.importorskip("matplotlib", reason="the extra 'report' is not installed (matplotlib)")
    from ice_recon import _charts, htmlreport

    bars = _charts.bars

    def failing(prefix: str, *args: object, **kwargs: object) -> str:
        if prefix == "by-month":  # drawn in the thread
            raise RuntimeError("no month")
        return bars(prefix, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_charts, "bars", failing)
    with pytest.raises(RuntimeError, match="no month"):
        htmlreport.write_report(sample_out, path=tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()
