"""Tests of the notices of difference: ice_recon.notices and ``ice-recon notices``."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import ice_recon
from ice_recon.cli import main, sample_dir

pytest.importorskip("jinja2", reason="the extra 'report' is not installed (jinja2)")
pytest.importorskip("matplotlib", reason="the extra 'report' is not installed (matplotlib)")

from ice_recon.notices import safe_name, write_notices


def _cents(value: Decimal) -> int:
    return int(value * 100)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[ice_recon.Report, Path]:
    report = ice_recon.reconcile(sample_dir())
    out = tmp_path_factory.mktemp("sample") / "out"
    report.write(out)
    return report, out


def _rename(folder: Path, invoice: str, new: str, contract: str | None = None) -> None:
    """Rename an invoice (and optionally its contract) in the lines of *folder*."""
    path = folder / "invoice_lines.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    for row in rows[1:]:
        if row[head.index("invoice_id")] == invoice:
            row[head.index("invoice_id")] = new
            if contract is not None:
                row[head.index("contract_id")] = contract
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


class TestWriteNotices:
    def test_one_notice_per_questioned_invoice_with_its_totals(
        self, sample: tuple[ice_recon.Report, Path], tmp_path: Path
    ) -> None:
        """Each questioned invoice gets .md and .html; payable = billed − questioned."""
        report, out = sample
        expected = {
            key: (_cents(ledgers.billed), _cents(ledgers.questioned), _cents(ledgers.underbilled))
            for key, ledgers in report.by_invoice.items()
            if ledgers.questioned > 0
        }

        notices = write_notices(out, dest=tmp_path / "n")

        assert {
            (n.contract_id, n.invoice_id): (n.billed, n.questioned, n.underbilled) for n in notices
        } == expected
        for n in notices:
            assert n.payable == n.billed - n.questioned
            assert n.markdown == tmp_path / "n" / n.contract_id / f"{n.invoice_id}.md"
            assert n.html.is_file() and n.markdown.is_file()

    def test_every_disputed_line_is_in_its_notice_and_underbilled_apart(
        self, sample: tuple[ice_recon.Report, Path], tmp_path: Path
    ) -> None:
        """TRS-21-0157: its 6 questioned lines with amounts; line 19 (0.01) under its own head."""
        report, out = sample
        write_notices(out, dest=tmp_path / "n", inputs=sample_dir())
        text = (tmp_path / "n" / "HSCEMD-19-C-00012" / "TRS-21-0157.md").read_text("utf-8")
        disputed, underbilled = text.split("## Underbilled lines")
        lines = [
            x
            for x in report.lines
            if x.invoice_id == "TRS-21-0157"
            and x.erroneous is not None
            and x.unsupported is not None
            and x.erroneous + x.unsupported > 0
        ]

        assert len(lines) == 6
        for x in lines:
            assert f"| {x.line_no} | " in disputed
            assert f"| {x.billed} | {x.expected} | {x.variance} |" in disputed
        assert "| 19 | ROUNDING\\_DIFF | 112.12 | 112.13 | 0.01 |" in underbilled
        assert "| 19 |" not in disputed
        assert "**5,922.26**" in disputed  # 6453.67 − 531.41, the 0.01 not netted
        assert "status approved" in disputed  # the header, from --inputs
        assert "cancel\\_notice\\_hours 60" in disputed  # trip T000123415 as recorded

    def test_the_inputs_of_a_partitioned_dataset_give_the_same_notices(
        self, sample: tuple[ice_recon.Report, Path], tmp_path: Path
    ) -> None:
        """--inputs ROOT of a dataset split by contract: headers and trips from its partitions."""
        from ice_recon.partitioned import reconcile_dataset, split

        _, out = sample
        split(sample_dir(), tmp_path / "parts")
        reconcile_dataset(tmp_path / "parts", tmp_path / "out")
        write_notices(out, dest=tmp_path / "flat", inputs=sample_dir())
        write_notices(tmp_path / "out", dest=tmp_path / "split", inputs=tmp_path / "parts")
        flat = sorted(p.relative_to(tmp_path / "flat") for p in (tmp_path / "flat").rglob("*.md"))
        assert flat == sorted(
            p.relative_to(tmp_path / "split") for p in (tmp_path / "split").rglob("*.md")
        )
        for name in flat:
            split_text = (tmp_path / "split" / name).read_bytes()
            assert split_text == (tmp_path / "flat" / name).read_bytes()
        notice = tmp_path / "split" / "HSCEMD-19-C-00012" / "TRS-21-0157.md"
        assert "status approved" in notice.read_text("utf-8")  # its header, from the partition
        # A partition's file changed after the run is refused, as a flat folder's is.
        with (tmp_path / "parts" / "contract_id=HSCEMD-19-C-00012" / "invoices.csv").open("a") as f:
            f.write("\n")
        with pytest.raises(ice_recon.errors.ArgumentError, match="is not the file the run read"):
            write_notices(tmp_path / "out", dest=tmp_path / "again", inputs=tmp_path / "parts")

    def test_inputs_that_are_not_the_runs_are_refused(
        self, sample: tuple[ice_recon.Report, Path], tmp_path: Path
    ) -> None:
        """--inputs with a changed manifests.csv exits 2: its sha256 is not summary.json's."""
        _, out = sample
        folder = tmp_path / "in"
        shutil.copytree(sample_dir(), folder)
        with (folder / "manifests.csv").open("a", encoding="utf-8") as f:
            f.write("\n")

        status = main(["notices", str(out), "--inputs", str(folder), "--dest", str(tmp_path)])

        assert status == 2

    def test_hostile_ids_stay_inside_the_notices_folder(self, tmp_path: Path) -> None:
        """Ids with ../, / and a leading dot make files under DEST only, none overwritten."""
        folder = tmp_path / "in"
        shutil.copytree(sample_dir(), folder)
        _rename(folder, "TRS-21-0142", "../../../escaped", contract="..")
        _rename(folder, "TRS-21-0157", "/etc/passwd")
        _rename(folder, "CSA-2110-0031", ".hidden")
        out, dest = tmp_path / "out", tmp_path / "deep" / "notices"
        assert main(["reconcile", str(folder), "--out", str(out), "--quiet"]) == 0

        notices = write_notices(out, dest=dest)

        written = sorted(p for p in tmp_path.rglob("*.md") if p.name != "README.md")
        assert len(notices) == 3
        assert len(written) == 3
        assert all(p.resolve().is_relative_to(dest.resolve()) for p in written)
        assert all(not p.name.startswith(".") for p in dest.rglob("*"))


class TestSafeName:
    @pytest.mark.parametrize(
        "identifier", ["..", ".", "", "a/b", "a\\b", "CON", "x\x00y", "é", ".git", "a" * 300]
    )
    def test_name_is_one_plain_component(self, identifier: str) -> None:
        """The name has no separator, is not . or .., does not start with a dot."""
        name = safe_name(identifier)

        assert name and "/" not in name and "\\" not in name and "\x00" not in name
        assert name not in {".", ".."} and not name.startswith(".")
        assert len(name) <= 100

    def test_different_ids_get_different_names(self) -> None:
        """Ids that sanitise alike still differ (a digest is added to changed names)."""
        ids = ["a/b", "a_b", "a\\b", "a b", "a:b"]

        assert len({safe_name(i) for i in ids}) == len(ids)
        assert safe_name("a_b") == "a_b"
