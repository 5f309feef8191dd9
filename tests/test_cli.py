"""Tests of the ``ice-recon`` command line (validate, price, demo)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ice_recon
from ice_recon.cli import main, sample_dir


def _copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(sample_dir(), folder)
    return folder


class TestValidate:
    def test_valid_folder_prints_one_ok_line_and_exits_0(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A valid folder prints a single OK line and exits 0."""
        status = main(["validate", str(sample_dir())])

        out = capsys.readouterr().out
        assert status == 0
        assert out.startswith("OK: ")
        assert len(out.splitlines()) == 1

    def test_every_problem_is_printed_and_exit_is_1(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Two independent bad cells in two files are both printed, sorted by file, and exit 1."""
        folder = _copy_sample(tmp_path)
        rates = (folder / "rates.csv").read_text(encoding="utf-8").splitlines()
        header = rates[0].split(",")
        cells = rates[1].split(",")
        cells[header.index("rate")] = "1e3"
        rates[1] = ",".join(cells)
        (folder / "rates.csv").write_text("\n".join(rates) + "\n", encoding="utf-8")
        lines = (folder / "invoice_lines.csv").read_text(encoding="utf-8").splitlines()
        head = lines[0].split(",")
        cells = lines[2].split(",")
        cells[head.index("amount")] = "1,234.50"
        lines[2] = ",".join(f'"{c}"' for c in cells)
        (folder / "invoice_lines.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

        status = main(["validate", str(folder)])

        out = capsys.readouterr().out.splitlines()
        assert status == 1
        assert out == [
            "invoice_lines.csv:3: column 'amount': must be a decimal number like 123.45 "
            "(no exponent, sign, separator or symbol) (got '1,234.50')",
            "rates.csv:2: column 'rate': must be a decimal number like 123.45 "
            "(no exponent, sign, separator or symbol) (got '1e3')",
        ]

    def test_missing_folder_exits_2(self, tmp_path: Path) -> None:
        """A folder that does not exist is a usage error (exit 2), not a crash."""
        assert main(["validate", str(tmp_path / "nope")]) == 2


class TestPriceAndDemo:
    def test_demo_reconciles_the_sample(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The demo validates and reconciles the sample: one results row per invoice line."""
        status = main(["demo", "--out", str(tmp_path / "out")])

        out = capsys.readouterr().out
        n_lines = len((sample_dir() / "invoice_lines.csv").read_text().splitlines()) - 1
        results = (tmp_path / "out" / "results.csv").read_text(encoding="utf-8").splitlines()
        assert status == 0
        assert "validate: OK" in out
        assert f"Reconciled {n_lines} invoice lines." in out
        assert len(results) == 1 + n_lines

    def test_price_prints_one_row_per_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``ice-recon price`` prints a header and one row per invoice line."""
        status = main(["price", str(sample_dir())])

        out = capsys.readouterr().out.splitlines()
        n_lines = len((sample_dir() / "invoice_lines.csv").read_text().splitlines()) - 1
        assert status == 0
        assert out[0].startswith("contract ")
        assert len(out) == 1 + n_lines

    def test_console_script_runs(self) -> None:
        """``python -m ice_recon.cli --version`` prints the version."""
        done = subprocess.run(
            [sys.executable, "-m", "ice_recon.cli", "--version"],
            capture_output=True,
            text=True,
            check=False,
        )

        import ice_recon

        assert done.returncode == 0
        assert done.stdout.strip() == f"ice-recon {ice_recon.__version__}"


class TestReconcileProblems:
    def test_long_problem_lists_are_summarized(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Past 20 problems, reconcile prints the first 20 and a count; --all-problems all."""
        from ice_recon.generate import generate

        generate(tmp_path / "in", lines=3000, trips=2500, contracts=2, seed=2)
        n = len(ice_recon.validate(tmp_path / "in"))

        main(["reconcile", str(tmp_path / "in"), "--out", str(tmp_path / "o")])
        short = capsys.readouterr().err.splitlines()
        main(["reconcile", str(tmp_path / "in"), "--out", str(tmp_path / "o"),
              "--all-problems"])  # fmt: skip
        full = capsys.readouterr().err.splitlines()

        assert n > 20
        assert sum(1 for line in short if line.startswith("invoice_lines.csv:")) == 20
        assert f"ice-recon: ... and {n - 20} more input problem(s)" in short[20]
        assert sum(1 for line in full if line.startswith("invoice_lines.csv:")) == n


class TestPriceOutput:
    def test_problems_go_to_stderr_capped_and_exit_1(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`price` keeps stdout for its table; problems go to stderr, capped; exit 1."""
        from ice_recon.generate import generate

        generate(tmp_path / "in", lines=3000, trips=2500, contracts=2, seed=2)
        problems = ice_recon.validate(tmp_path / "in")
        n = len(problems)
        rows = len((tmp_path / "in" / "invoice_lines.csv").read_text().splitlines()) - 1

        short_status = main(["price", str(tmp_path / "in")])
        short = capsys.readouterr()
        full_status = main(["price", str(tmp_path / "in"), "--all-problems"])
        full = capsys.readouterr()

        assert n > 20
        assert (short_status, full_status) == (1, 1)
        out = short.out.splitlines()
        assert out[0].startswith("contract ")
        assert 1 + rows == len(out)
        assert not any(line.startswith("invoice_lines.csv:") for line in out)
        err = short.err.splitlines()
        assert sum(1 for line in err if line.startswith("invoice_lines.csv:")) == 20
        assert f"ice-recon: ... and {n - 20} more input problem(s)" in err[20]
        assert [str(p) for p in problems] == full.err.splitlines()[:n]
        assert [str(p) for p in problems[:20]] == err[:20]

    def test_clean_folder_exits_0_with_empty_stderr(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without problems, `price` exits 0 and prints nothing on stderr."""
        status = main(["price", str(sample_dir())])

        assert (status, capsys.readouterr().err) == (0, "")


class TestDemoOutput:
    def test_default_output_is_not_the_current_folder(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`ice-recon demo` without --out writes nothing into the current folder."""
        monkeypatch.chdir(tmp_path)

        status = main(["demo"])

        out = capsys.readouterr().out
        written = Path(out.split("summary.json to ")[1].splitlines()[0])
        try:
            assert status == 0
            assert list(tmp_path.iterdir()) == []
            assert (written / "summary.json").is_file()
            assert not written.is_relative_to(tmp_path)
        finally:
            shutil.rmtree(written, ignore_errors=True)


ROOT = Path(__file__).resolve().parent.parent


def _console_blocks(page: Path) -> list[tuple[str, str]]:
    """Return each ```console block of *page* as (command, expected output)."""
    import re

    blocks = []
    for block in re.findall(
        r"^```console\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M
    ):
        command, _, output = block.partition("\n")
        blocks.append((command.removeprefix("$ "), output))
    return blocks


class TestTutorialCommands:
    @pytest.mark.parametrize(
        ("command", "expected"),
        [b for b in _console_blocks(ROOT / "docs" / "tutorial.md") if b[0].startswith("ice-recon")],
    )
    def test_tutorial_output_is_the_cli_output(
        self,
        command: str,
        expected: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Each `ice-recon` command of the tutorial prints exactly what the tutorial shows."""
        monkeypatch.chdir(ROOT)
        args = command.split()[1:]
        if "--out" in args:  # write to a temporary folder, shown as the tutorial's
            shown = args[args.index("--out") + 1]
            args[args.index("--out") + 1] = str(tmp_path / "out")

        main(args)

        actual = capsys.readouterr().out
        if "--out" in args:
            actual = actual.replace(str(tmp_path / "out"), shown)
        assert expected == actual
