"""report.html of the sample, opened in a real headless Chromium (the system package).

Skipped, with the reason shown, when no Chromium is installed (``.ci/run`` installs
Debian's ``chromium`` with apt-get when it can) or the extra ``report`` is absent.
Set ICE_RECON_SCREENSHOTS=DIR to keep the screenshots (docs/images/ comes from it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import ice_recon
from ice_recon.cli import sample_dir

pytest.importorskip("jinja2", reason="the extra 'report' is not installed (jinja2)")
pytest.importorskip("matplotlib", reason="the extra 'report' is not installed (matplotlib)")
pytest.importorskip("websockets", reason="websockets (dev extra) drives the browser")

from cdp import Page, browser, find_browser

BROWSER = find_browser()
needs_browser = pytest.mark.skipif(
    BROWSER is None,
    reason="no Chromium installed (apt-get install chromium; .ci/run does it where apt exists)",
)


def _page(tmp_path: Path) -> Path:
    report = ice_recon.reconcile(sample_dir())
    out = tmp_path / "out"
    report.write(out)
    from ice_recon.htmlreport import write_report

    return write_report(out)


@pytest.fixture(scope="module")
def page() -> object:
    assert BROWSER is not None
    with browser(BROWSER) as p:
        yield p


@needs_browser
class TestSampleReportInChromium:
    def test_page_renders_charts_sorts_and_stays_offline(
        self, tmp_path: Path, page: Page, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every chart is a non-empty SVG, a header click sorts, no error, no request out."""
        path = _page(tmp_path)
        url = path.resolve().as_uri()

        seconds = page.open(url)
        shot = tmp_path / "report.png"
        page.screenshot(shot)
        keep = os.environ.get("ICE_RECON_SCREENSHOTS")
        if keep:  # the images of docs/: the top of the page, and the page from "By month"
            page.screenshot(Path(keep) / "report.png", height=1400)
            top = page.evaluate("document.getElementById('months').offsetTop")
            page.screenshot(Path(keep) / "report-months.png", height=1400, top=int(top))
        charts = page.evaluate(
            """Array.from(document.querySelectorAll('figure.chart')).map(f => {
                 const svg = f.querySelector('svg');
                 if (!svg) return null;
                 const box = svg.getBoundingClientRect();
                 return {id: f.id, shapes: svg.querySelectorAll('path, rect, use').length,
                         width: box.width, height: box.height};
               })"""
        )
        before = page.evaluate(
            "Array.from(document.querySelectorAll('#table-status tbody tr'))"
            ".map(r => r.cells[0].textContent)"
        )
        page.evaluate("document.querySelectorAll('#table-status thead th')[3].click()")
        ascending = page.evaluate(
            "Array.from(document.querySelectorAll('#table-status tbody tr'))"
            ".map(r => r.cells[3].textContent.replace(/,/g, ''))"
        )
        page.evaluate("document.querySelectorAll('#table-status thead th')[3].click()")
        descending = page.evaluate(
            "Array.from(document.querySelectorAll('#table-status tbody tr'))"
            ".map(r => r.cells[3].textContent.replace(/,/g, ''))"
        )
        box = "document.querySelector('#table-lines').previousElementSibling"
        page.evaluate(f"{box}.value = 'RATE_MISMATCH'; {box}.dispatchEvent(new Event('input'))")
        shown = page.evaluate(
            "Array.from(document.querySelectorAll('#table-lines tbody tr'))"
            ".filter(r => !r.hidden).map(r => r.cells[3].textContent)"
        )
        with capsys.disabled():
            print(f"\nreport.html of the sample loaded in {seconds:.3f} s; screenshot {shot}")

        from decimal import Decimal

        assert len(charts) == 6
        assert all(c is not None and c["shapes"] > 10 and c["width"] > 100 for c in charts)
        assert before[0] == "INVALID"
        assert [Decimal(x) for x in ascending] == sorted(Decimal(x) for x in ascending)
        assert [Decimal(x) for x in descending] == sorted(
            (Decimal(x) for x in ascending), reverse=True
        )
        assert shown and set(shown) == {"RATE_MISMATCH"}
        assert page.exceptions == []
        assert [c for c in page.console if c[0] in ("error", "assert", "warning")] == []
        assert set(page.requests) <= {url}
        assert shot.stat().st_size > 10_000


@pytest.mark.slow
@needs_browser
def test_page_load_time_at_100k_lines(
    tmp_path: Path, page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    """Print how long report.html of a 100k-line run takes to load (no timed assertion)."""
    from ice_recon.cli import main
    from ice_recon.generate import generate

    folder = os.environ.get("ICE_RECON_100K_OUT")
    if folder is None:
        generate(tmp_path / "in", lines=100_000, seed=1)
        assert (
            main(
                [
                    "reconcile",
                    str(tmp_path / "in"),
                    "--out",
                    str(tmp_path / "out"),
                    "--quiet",
                    "--html",
                ]
            )
            == 0
        )
        folder = str(tmp_path / "out")
    else:
        assert main(["report", folder]) == 0
    url = (Path(folder) / "report.html").resolve().as_uri()

    seconds = page.open(url)
    with capsys.disabled():
        print(f"\nreport.html at 100k lines loaded in {seconds:.3f} s")

    assert page.exceptions == []
    assert set(page.requests) <= {url}
