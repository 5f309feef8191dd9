"""Tests of report.html: ice_recon.htmlreport, ``ice-recon report`` and ``reconcile --html``."""

from __future__ import annotations

import csv
import re
import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import ice_recon
from ice_recon.cli import main, sample_dir
from ice_recon.records import Status

pytest.importorskip("jinja2", reason="the extra 'report' is not installed (jinja2)")
pytest.importorskip("matplotlib", reason="the extra 'report' is not installed (matplotlib)")

from ice_recon._outdir import read_folder
from ice_recon.htmlreport import write_report

PLANTED = "<script>alert(1)</script>"
_PRICED = set(list(Status)[list(Status).index(Status.MATCHED) :])


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[ice_recon.Report, Path]:
    report = ice_recon.reconcile(sample_dir())
    out = tmp_path_factory.mktemp("sample") / "out"
    report.write(out)
    return report, out


def _cents(value: Decimal) -> int:
    return int(value * 100)


def _planted(tmp_path: Path) -> Path:
    """A copy of the sample whose questioned line 7 of TRS-21-0142 has a planted invoice id."""
    folder = tmp_path / "in"
    shutil.copytree(sample_dir(), folder)
    path = folder / "invoice_lines.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    for row in rows[1:]:
        if row[head.index("invoice_id")] == "TRS-21-0142" and row[head.index("line_no")] == "7":
            row[head.index("invoice_id")] = PLANTED
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return folder


class TestReadFolder:
    def test_decomposition_per_contract_is_the_reports(
        self, sample: tuple[ice_recon.Report, Path]
    ) -> None:
        """Parts read from the explanations equal the Report's decomposition, and add up."""
        report, out = sample
        expected: dict[str, list[int]] = {}
        for line in report.lines:
            if line.variance is None or not line.variance:
                continue
            row = expected.setdefault(line.contract_id, [0] * 6)
            if line.decomposition is not None and line.status in _PRICED:
                for i, part in enumerate(line.decomposition):
                    row[i] += _cents(part)
            else:
                row[4] += _cents(line.variance)

        folder = read_folder(out)

        assert folder.decomposition == expected
        for contract, summary in report.contracts.items():
            variance = _cents(summary.ledgers.variance)
            assert sum(folder.decomposition.get(contract, [0])) == variance

    def test_by_status_and_month_agree_with_the_ledgers(
        self, sample: tuple[ice_recon.Report, Path]
    ) -> None:
        """Questioned and underbilled by status are the Report's sums; months add up too."""
        report, out = sample
        by_status: dict[str, list[int]] = {}
        for line in report.lines:
            if line.erroneous is None or line.unsupported is None or line.underbilled is None:
                continue
            s = by_status.setdefault(line.status.value, [0, 0])
            s[0] += _cents(line.erroneous + line.unsupported)
            s[1] += _cents(line.underbilled)

        folder = read_folder(out)

        nonzero = {k: v for k, v in by_status.items() if v != [0, 0]}
        assert {s[0]: [s[3], s[4]] for s in folder.statuses if s[3] or s[4]} == nonzero
        assert sum(m[3] for m in folder.months) == _cents(report.ledgers.questioned)
        assert sum(m[4] for m in folder.months) == _cents(report.ledgers.underbilled)

    def test_top_lines_are_the_largest_questioned(
        self, sample: tuple[ice_recon.Report, Path]
    ) -> None:
        """--top 4 keeps the 4 largest questioned lines, largest first; the count is all."""
        report, out = sample
        questioned = sorted(
            (
                _cents(x.erroneous + x.unsupported)
                for x in report.lines
                if x.erroneous is not None and x.unsupported is not None
                if x.erroneous + x.unsupported > 0
            ),
            reverse=True,
        )

        folder = read_folder(out, top=4)

        assert [x.questioned for x in folder.top_lines] == questioned[:4]
        assert folder.lines_questioned == len(questioned)
        assert len(folder.top_invoices) == 3
        assert folder.top_invoices[0]["invoice_id"] == "CSA-2110-0031"


class TestWriteReport:
    def test_page_is_self_contained_and_deterministic(
        self, sample: tuple[ice_recon.Report, Path], tmp_path: Path
    ) -> None:
        """Six inline SVG charts, a CSP that forbids requests, no external URL; same bytes."""
        _, out = sample
        first = write_report(out, path=tmp_path / "a.html").read_text(encoding="utf-8")
        second = write_report(out, path=tmp_path / "b.html").read_text(encoding="utf-8")

        assert first == second
        assert first.count("<svg") == 6
        assert "default-src 'none'" in first
        assert re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", first) is None
        assert re.search(r"url\(\s*['\"]?(https?:|//)", first) is None
        assert "<link" not in first and "@import" not in first
        assert "17,529.62" in first  # funds put to better use
        assert "6,006.75" in first  # to_withhold

    def test_planted_script_renders_as_text(self, tmp_path: Path) -> None:
        """A <script> in an invoice id is escaped in the page and in the chart labels."""
        out = tmp_path / "out"
        assert main(["reconcile", str(_planted(tmp_path)), "--out", str(out), "--quiet"]) == 0
        assert main(["report", str(out)]) == 0

        page = (out / "report.html").read_text(encoding="utf-8")

        assert PLANTED not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert page.count("<script") == 1  # the page's own

    def test_report_to_html_is_the_folder_page(
        self, sample: tuple[ice_recon.Report, Path], tmp_path: Path
    ) -> None:
        """Report.to_html writes the same page as ice-recon report on the Report's files."""
        report, out = sample
        report.to_html(tmp_path / "report.html", top=10)

        expected = write_report(out, path=tmp_path / "folder.html", top=10).read_text("utf-8")
        actual = (tmp_path / "report.html").read_text("utf-8")
        name = re.compile(r"Audit report: [^<]*|ice_recon audit report: [^<]*")
        assert name.sub("", actual) == name.sub("", expected)


class TestCommand:
    def test_reconcile_html_writes_the_page(self, tmp_path: Path) -> None:
        """reconcile --html writes report.html beside the CSV files."""
        out = tmp_path / "out"

        status = main(["reconcile", str(sample_dir()), "--out", str(out), "--quiet", "--html"])

        assert status == 0
        assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    def test_html_with_another_format_exits_2_before_writing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The page reads the CSV files: --html with --format jsonl is refused at once."""
        out = tmp_path / "out"

        status = main(
            ["reconcile", str(sample_dir()), "--out", str(out), "--html", "--format", "jsonl"]
        )

        assert status == 2
        assert "--format csv" in capsys.readouterr().err
        assert not out.exists()

    def test_folder_without_a_run_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A folder without summary.json is refused with exit 2 and one line."""
        status = main(["report", str(tmp_path)])

        err = capsys.readouterr().err
        assert status == 2
        assert "summary.json" in err and "no complete run" in err

    @pytest.mark.parametrize("module", ["jinja2", "matplotlib"])
    def test_without_the_extra_exits_2_naming_it(
        self,
        module: str,
        sample: tuple[ice_recon.Report, Path],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """With the library not importable, report, notices and --html say which extra."""
        _, out = sample
        monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
        target = tmp_path / "out"

        statuses = [
            main(["report", str(out), "--output", str(tmp_path / "r.html")]),
            main(["notices", str(out), "--dest", str(tmp_path / "n")]),
            main(["reconcile", str(sample_dir()), "--out", str(target), "--html"]),
        ]

        err = capsys.readouterr().err
        assert statuses == [2, 2, 2]
        assert err.count("pip install 'ice-recon[report]'") == 3
        assert not (tmp_path / "r.html").exists() and not (tmp_path / "n").exists()
        assert not target.exists()  # refused before any work


class TestDemo:
    def test_demo_writes_and_prints_the_page_and_notices(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`ice-recon demo` prints the paths of report.html and of the 3 notices (md and html)."""
        out = tmp_path / "out"

        status = main(["demo", "--out", str(out)])

        printed = capsys.readouterr().out
        paths = [Path(x.strip()) for x in printed.splitlines() if x.strip().startswith(str(out))]
        assert status == 0
        assert f"Report: {out / 'report.html'}" in printed
        assert (out / "report.html").is_file()
        assert len(paths) == 6 and all(p.is_file() for p in paths)
        assert {p.suffix for p in paths} == {".md", ".html"}

    def test_demo_without_the_extra_says_which(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without jinja2 the demo still reconciles (exit 0) and names the extra to install."""
        monkeypatch.setitem(sys.modules, "jinja2", None)

        status = main(["demo", "--out", str(tmp_path / "out")])

        assert status == 0
        assert "pip install 'ice-recon[report]'" in capsys.readouterr().out
        assert not (tmp_path / "out" / "report.html").exists()
