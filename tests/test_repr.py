"""repr() of every container is one short line of counts, never its contents."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

import ice_recon
from ice_recon.generate import generate
from ice_recon.stream import prepare

LINES = 3000


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out, lines=LINES, trips=900, contracts=2, seed=3)
    return out


def _rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def _containers(folder: Path, tmp: Path) -> Iterator[tuple[str, object, int]]:
    """Yield (name, container, a count its repr must show, counted independently)."""
    inputs = ice_recon.load(folder)
    report = ice_recon.reconcile(inputs)
    yield "Inputs", inputs, _rows(folder / "invoice_lines.csv")
    yield "Report", report, _rows(folder / "invoice_lines.csv")
    yield "Report.lines", report.lines, _rows(folder / "invoice_lines.csv")
    yield "Report.counts", report.counts, _rows(folder / "invoice_lines.csv")
    yield "Inputs.invoice_lines", inputs.invoice_lines, _rows(folder / "invoice_lines.csv")
    yield "Inputs.manifests", inputs.manifests, _rows(folder / "manifests.csv")
    yield "Inputs.staff", inputs.staff, _rows(folder / "staff.csv")
    yield "Index", ice_recon.build(inputs), _rows(folder / "manifests.csv")
    totals = ice_recon.reconcile_to(folder, tmp / "out")
    unbilled = _rows(tmp / "out" / "unbilled.csv")
    yield "Report.unbilled", report.unbilled, unbilled
    yield "Totals", totals, _rows(folder / "invoice_lines.csv")
    yield "Totals.unbilled", totals.unbilled, unbilled
    with prepare(folder) as ready:
        yield "Prepared", ready, _rows(folder / "invoice_lines.csv")
    with prepare(folder, memory_bytes=0, batch_lines=500) as spilled:
        yield "Prepared (spilled)", spilled, _rows(folder / "invoice_lines.csv")


def test_repr_is_one_short_line_of_counts(folder: Path, tmp_path: Path) -> None:
    """Each container's repr is one line under 300 characters that shows its count."""
    for name, container, count in _containers(folder, tmp_path):
        text = repr(container)

        assert "\n" not in text, name
        assert len(text) < 300, (name, len(text))
        assert f"{count} " in text, (name, count, text)


def test_report_repr_counts(folder: Path) -> None:
    """Report's repr gives lines, MATCHED, contracts, unbilled, findings, problems, questioned."""
    report = ice_recon.reconcile(folder)
    matched = sum(1 for line in report.lines if line.status == "MATCHED")
    n = len(report.lines)
    expected = (
        f"<Report: {n} invoice lines ({matched} MATCHED, {n - matched} not), "
        f"{len(report.contracts)} contracts, {len(report.unbilled)} unbilled trips, "
        f"{len(report.invoices)} invoice finding{'' if len(report.invoices) == 1 else 's'}, "
        f"{len(report.problems)} input problems, "
        f"questioned {report.ledgers.questioned}>"
    )

    actual = repr(report)

    assert expected == actual
