"""Tests of the data generator used by ``ice-recon generate`` and the benchmarks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import ice_recon
from ice_recon.generate import generate
from ice_recon.load import FILES


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


class TestGenerate:
    def test_same_seed_same_bytes(self, tmp_path: Path) -> None:
        """The same arguments write byte-identical folders; another seed does not."""
        generate(tmp_path / "a", lines=300, trips=250, contracts=2, seed=3)
        generate(tmp_path / "b", lines=300, trips=250, contracts=2, seed=3)
        generate(tmp_path / "c", lines=300, trips=250, contracts=2, seed=4)

        a, b, c = (_bytes(tmp_path / x) for x in "abc")

        assert a == b
        assert a["invoice_lines.csv"] != c["invoice_lines.csv"]

    def test_only_the_planted_malformed_lines_are_problems(self, tmp_path: Path) -> None:
        """Every input problem is a planted malformed cell of a line; every other row is valid."""
        stats = generate(tmp_path, lines=6000, trips=5000, contracts=3, seed=11)

        inputs = ice_recon.load(tmp_path)

        assert len(inputs.invoice_lines) == stats["lines"] == 6000
        assert {(p.file, p.column, p.value) for p in inputs.problems} == {
            ("invoice_lines.csv", "amount", "1e3"),
            ("invoice_lines.csv", "service_date", "2022-02-30"),
            ("invoice_lines.csv", "clin", None),
            ("invoice_lines.csv", "quantity", "1,5"),
        }
        # A malformed line is in no invoice total: only the planted footing errors show.
        report = ice_recon.reconcile(inputs)
        footing = [f for f in report.invoices if f.finding.value == "FOOTING_ERROR"]
        assert all(f.difference in {Decimal("9.00"), Decimal("-18.00"), Decimal("0.01")}
                   for f in footing)  # fmt: skip

    def test_planted_errors_reach_most_statuses(self, tmp_path: Path) -> None:
        """About 60 % of lines are clean, and the planted errors give most statuses."""
        generate(tmp_path, lines=3000, trips=2400, contracts=2, seed=1)

        report = ice_recon.reconcile(tmp_path)

        counts = {s.value: n for s, n in report.counts.items() if n}
        assert 0.55 < counts["MATCHED"] / 3000 < 0.9
        assert set(counts) >= {
            "INVALID", "NO_RATE", "NOT_PERFORMED", "DUPLICATE", "MATCHED",
            "LABOR_CATEGORY_MISMATCH", "EXTENSION_ERROR", "QUANTITY_MISMATCH",
            "RATE_MISMATCH", "ROUNDING_DIFF",
        }  # fmt: skip
        findings = {code for line in report.lines for code in line.findings}
        assert findings >= {"SERVICE_DATE_MISMATCH", "INFERRED_MATCH", "MISSING_MEASURE"}


class TestGenerateCommand:
    def test_writes_a_valid_folder(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``ice-recon generate`` writes the seven files; the same seed gives the same bytes."""
        from ice_recon.cli import main

        args = ["--lines", "120", "--trips", "100", "--contracts", "2", "--seed", "9"]
        status = main(["generate", str(tmp_path / "a"), *args])
        main(["generate", str(tmp_path / "b"), *args])

        out = capsys.readouterr().out
        assert status == 0
        assert out.startswith("Wrote 120 invoice lines, 100 trips")
        assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
            name for name, _ in FILES.values()
        )
        assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")

    def test_bad_sizes_are_a_usage_error(self, tmp_path: Path) -> None:
        """A non-positive trip count exits 2 without writing anything."""
        from ice_recon.cli import main

        status = main(["generate", str(tmp_path / "x"), "--trips", "0"])

        assert status == 2
        assert not (tmp_path / "x").exists()
