"""Every mistake of a caller raises an IceReconError that is also the builtin a caller expects."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

import ice_recon
from ice_recon import (
    FuelRule,
    FuelTerms,
    IceReconError,
    Inputs,
    InvoiceHeader,
    InvoiceLine,
    Policy,
    PricingRule,
    RateRule,
    StaffAssignment,
    Tier,
    Tolerance,
    Trip,
)
from ice_recon.cli import main, sample_dir
from ice_recon.errors import OutputError
from ice_recon.generate import generate

START, END = dt.date(2021, 10, 1), dt.date(2022, 9, 30)
RULE: dict[str, Any] = {
    "rule_id": "r",
    "contract_id": "C",
    "clin": "0001",
    "basis": "loaded_miles",
    "start": START,
    "end": END,
    "rate": D("2.4575"),
}
RATE: dict[str, Any] = {k: v for k, v in RULE.items() if k != "rule_id"}
TRIP: dict[str, Any] = {"trip_id": "T1", "contract_id": "C", "service_date": START}
LINE: dict[str, Any] = {
    "invoice_id": "I",
    "line_no": 1,
    "contract_id": "C",
    "clin": "0001",
    "service_date": START,
    "quantity": D("1"),
    "unit_price": D("1.00"),
    "amount": D("1.00"),
}
FUEL: dict[str, Any] = {
    "contract_id": "C",
    "clin": "0009",
    "start": START,
    "end": END,
    "base_price": D("1.20"),
    "mpg": D("6"),
    "series": "S",
}
STAFF: dict[str, Any] = {
    "trip_id": "T1",
    "contract_id": "C",
    "person_id": "P",
    "labor_category": "TO",
    "hours": D("8"),
}
COMMAND = (sys.executable, "-m", "ice_recon.cli")
HEADER: dict[str, Any] = {"invoice_id": "I", "contract_id": "C", "invoice_date": START}


def rule(**changes: Any) -> PricingRule:
    return PricingRule(**{**RULE, **changes})


#: (case id, the call, the builtin it must also be).
CASES: list[tuple[str, Callable[[], object], type[Exception]]] = [
    # price()
    ("price negative quantity", lambda: ice_recon.price(rule(), D("-5")), ValueError),
    ("price float quantity", lambda: ice_recon.price(rule(), 5.0), TypeError),  # type: ignore[arg-type]
    ("price NaN quantity", lambda: ice_recon.price(rule(), D("NaN")), ValueError),
    ("price not a rule", lambda: ice_recon.price("r", D("1")), TypeError),  # type: ignore[arg-type]
    (
        "price negative notice",
        lambda: ice_recon.price(rule(), D("1"), cancel_notice_hours=D("-1")),
        ValueError,
    ),
    (
        "price unknown rounding",
        lambda: ice_recon.price(rule(), D("1"), rounding="bankers"),  # type: ignore[arg-type]
        ValueError,
    ),
    (
        "price fuel rule without index",
        lambda: ice_recon.price(
            rule(rate=None, fuel=FuelTerms(base_price=D("1"), mpg=D("6"), series="S")), D("1")
        ),
        TypeError,
    ),
    (
        "price_trip not a trip",
        lambda: ice_recon.price_trip(rule(), "T1"),  # type: ignore[arg-type]
        TypeError,
    ),
    # PricingRule, Tier, FuelTerms
    ("PricingRule end before start", lambda: rule(end=dt.date(2021, 1, 1)), ValueError),
    ("PricingRule float rate", lambda: rule(rate=2.4575), TypeError),
    ("PricingRule negative rate", lambda: rule(rate=D("-1")), ValueError),
    ("PricingRule str start", lambda: rule(start="2021-10-01"), TypeError),
    ("PricingRule empty clin", lambda: rule(clin=" "), ValueError),
    ("PricingRule no price", lambda: rule(rate=None), ValueError),
    ("PricingRule 3-place minimum", lambda: rule(minimum_amount=D("1.005")), ValueError),
    ("PricingRule zero increment", lambda: rule(increment=D("0")), ValueError),
    ("PricingRule unknown rounding", lambda: rule(rounding="bankers"), ValueError),
    ("PricingRule unknown tier_mode", lambda: rule(tier_mode="stepped"), ValueError),
    ("PricingRule tiers not Tier", lambda: rule(rate=None, tiers=((0, 1),)), TypeError),
    ("PricingRule fuel not FuelTerms", lambda: rule(rate=None, fuel="S"), TypeError),
    (
        "PricingRule tiers not from 0",
        lambda: rule(rate=None, tiers=(Tier(start=D("1"), rate=D("1")),), tier_mode="graduated"),
        ValueError,
    ),
    ("Tier float rate", lambda: Tier(start=D("0"), rate=1.5), TypeError),  # type: ignore[arg-type]
    (
        "FuelTerms zero mpg",
        lambda: FuelTerms(base_price=D("1"), mpg=D("0"), series="S"),
        ValueError,
    ),
    (
        "FuelTerms negative places",
        lambda: FuelTerms(base_price=D("1"), mpg=D("6"), series="S", places=-1),
        ValueError,
    ),
    # records
    ("RateRule float rate", lambda: RateRule(**{**RATE, "rate": 2.4575}), TypeError),
    ("RateRule unknown rounding", lambda: RateRule(**{**RATE, "rounding": "x"}), ValueError),
    ("Trip unknown status", lambda: Trip(**TRIP, status="done"), ValueError),
    ("Trip negative measure", lambda: Trip(**TRIP, measures={"m": D("-1")}), ValueError),
    ("Trip datetime", lambda: Trip(**{**TRIP, "service_date": dt.datetime(2021, 1, 1)}), TypeError),
    ("InvoiceLine zero line_no", lambda: InvoiceLine(**{**LINE, "line_no": 0}), ValueError),
    ("InvoiceLine bool line_no", lambda: InvoiceLine(**{**LINE, "line_no": True}), TypeError),
    ("InvoiceLine float amount", lambda: InvoiceLine(**{**LINE, "amount": 1.0}), TypeError),
    ("FuelRule places str", lambda: FuelRule(**FUEL, places="2"), TypeError),  # type: ignore[arg-type]
    ("FuelRule week_rule", lambda: FuelRule(**FUEL, week_rule="next_week"), ValueError),
    ("StaffAssignment hours", lambda: StaffAssignment(**{**STAFF, "hours": D("-1")}), ValueError),
    ("InvoiceHeader status", lambda: InvoiceHeader(**HEADER, status="rejected"), ValueError),
    # Policy, Tolerance
    ("Policy negative window", lambda: Policy(window_days=-1), ValueError),
    ("Policy float window", lambda: Policy(window_days=1.5), TypeError),  # type: ignore[arg-type]
    ("Policy unknown rounding", lambda: Policy(rounding="bankers"), ValueError),
    ("Policy tolerances not a mapping", lambda: Policy(tolerances=[1]), TypeError),  # type: ignore[arg-type]
    (
        "Policy tolerance not a Tolerance",
        lambda: Policy(tolerances={"loaded_miles": D("1")}),  # type: ignore[dict-item]
        TypeError,
    ),
    ("Tolerance negative", lambda: Tolerance(value=D("-1")), ValueError),
    ("Tolerance float", lambda: Tolerance(value=0.5), TypeError),  # type: ignore[arg-type]
    ("Tolerance.parse text", lambda: Tolerance.parse("miles"), ValueError),
    ("Tolerance.parse not text", lambda: Tolerance.parse(5), TypeError),  # type: ignore[arg-type]
    # load, load_files, validate
    ("load not a folder", lambda: ice_recon.load("no/such/folder"), OSError),
    ("load not a path", lambda: ice_recon.load(42), TypeError),  # type: ignore[arg-type]
    ("validate not a folder", lambda: ice_recon.validate("no/such/folder"), OSError),
    (
        "load_files typed cell",
        lambda: ice_recon.load_files(
            rates=[{**{k: str(v) for k, v in RATE.items()}, "rate": D(1)}]
        ),
        TypeError,
    ),
    ("load_files row not a mapping", lambda: ice_recon.load_files(rates=[42]), TypeError),
    ("load_files source not iterable", lambda: ice_recon.load_files(rates=42), TypeError),  # type: ignore[arg-type]
    (
        "load_files strict with problems",
        lambda: ice_recon.load_files(
            rates=[
                {
                    "contract_id": "C",
                    "clin": "1",
                    "basis": "trip",
                    "rate": "x",
                    "start": "2021-01-01",
                    "end": "2021-01-02",
                }
            ],
            manifests=[],
            invoice_lines=[],
            strict=True,
        ),
        ExceptionGroup,
    ),
    (
        "load_files required tables missing",
        lambda: ice_recon.load_files(rates=[{"x": "1"}]),
        ValueError,
    ),
    ("build not Inputs", lambda: ice_recon.build(42), TypeError),  # type: ignore[arg-type]
    ("RateIndex not rules", lambda: ice_recon.RateIndex([42]), TypeError),  # type: ignore[list-item]
    ("Tolerance percent not bool", lambda: Tolerance(value=D(1), percent="yes"), TypeError),  # type: ignore[arg-type]
    ("generate no contracts", lambda: generate("unused", lines=1, contracts=0), ValueError),
    # reconcile, reconcile_to
    ("reconcile not Inputs", lambda: ice_recon.reconcile(42), TypeError),  # type: ignore[arg-type]
    ("reconcile policy not a Policy", lambda: ice_recon.reconcile(Inputs(), policy={}), TypeError),  # type: ignore[arg-type]
    ("reconcile not a folder", lambda: ice_recon.reconcile("no/such/folder"), OSError),
    ("reconcile_to out not a path", lambda: ice_recon.reconcile_to(sample_dir(), 42), TypeError),  # type: ignore[arg-type]
    ("reconcile_to input not a path", lambda: ice_recon.reconcile_to(42, "out"), TypeError),  # type: ignore[arg-type]
    (
        "reconcile_to workers 0",
        lambda: ice_recon.reconcile_to(sample_dir(), "o", workers=0),
        ValueError,
    ),
    ("Report.write not a path", lambda: ice_recon.reconcile(Inputs()).write(42), TypeError),  # type: ignore[arg-type]
    ("counts unknown status", lambda: ice_recon.reconcile(Inputs()).counts["MATCHD"], KeyError),
]


@pytest.mark.parametrize(("call", "builtin"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_raises_ice_recon_error_and_builtin(
    call: Callable[[], object], builtin: type[Exception]
) -> None:
    """A bad argument raises an IceReconError that is also the matching builtin."""
    with pytest.raises(IceReconError) as raised:
        call()

    assert isinstance(raised.value, builtin), type(raised.value).__mro__


def test_float_rate_names_the_field_like_rate_rule() -> None:
    """PricingRule(rate=<float>) fails at construction with RateRule's message, naming rate."""
    with pytest.raises(TypeError) as rate_rule:
        RateRule(**{**RATE, "rate": 2.4575})
    with pytest.raises(TypeError) as pricing_rule:
        rule(rate=2.4575)

    assert str(rate_rule.value) == str(pricing_rule.value)
    assert str(pricing_rule.value).startswith("rate must be a decimal.Decimal")


def test_every_public_exception_is_an_ice_recon_error() -> None:
    """Every exception class exported by ice_recon.errors derives from IceReconError."""
    from ice_recon import errors

    classes = [getattr(errors, n) for n in errors.__all__ if n != "Problem"]

    assert all(issubclass(c, IceReconError) for c in classes)


def test_price_returns_pricing() -> None:
    """price() returns a Pricing, whose expected amount is usable without a cast."""
    actual = ice_recon.price(rule(), D("137.4"))

    assert isinstance(actual, ice_recon.Pricing)
    assert D("337.66") == actual.expected  # 137.4 x 2.4575 = 337.6605, half up


class TestReportWrite:
    def test_write_to_a_file_path(self, tmp_path: Path) -> None:
        """Report.write to a path that is a file is an OutputError (an OSError) naming it."""
        target = tmp_path / "a-file"
        target.write_text("x")
        report = ice_recon.reconcile(sample_dir())

        with pytest.raises(OutputError) as raised:
            report.write(target)

        assert isinstance(raised.value, OSError)
        assert isinstance(raised.value, IceReconError)
        assert str(target) in str(raised.value)

    def test_write_under_a_file(self, tmp_path: Path) -> None:
        """A folder under a file cannot be made: OutputError naming the path."""
        (tmp_path / "a-file").write_text("x")
        report = ice_recon.reconcile(sample_dir())

        with pytest.raises(OutputError, match="a-file"):
            report.write(tmp_path / "a-file" / "out")

    def test_reconcile_to_a_file_path(self, tmp_path: Path) -> None:
        """reconcile_to with out_dir a file raises OutputError."""
        (tmp_path / "a-file").write_text("x")

        with pytest.raises(OutputError):
            ice_recon.reconcile_to(sample_dir(), tmp_path / "a-file")


class TestCli:
    def test_out_is_a_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`reconcile --out FILE`: one line on stderr naming the path, exit 2, no traceback."""
        target = tmp_path / "a-file"
        target.write_text("x")

        status = main(["reconcile", str(sample_dir()), "--out", str(target), "--quiet"])

        err = capsys.readouterr().err
        assert status == 2
        assert str(target) in err
        assert "Traceback" not in err

    @pytest.mark.parametrize("workers", [1, 2])
    def test_results_csv_is_a_folder(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: int
    ) -> None:
        """`results.csv` a folder in --out: one line naming it, exit 2, no traceback."""
        (tmp_path / "out" / "results.csv").mkdir(parents=True)
        args = ["reconcile", str(sample_dir()), "--out", str(tmp_path / "out")]

        status = main([*args, "--quiet", "--workers", str(workers)])

        err = capsys.readouterr().err
        assert status == 2
        assert f"{tmp_path / 'out' / 'results.csv'}: cannot be written" in err

    def test_generate_under_a_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`generate` into a folder under a file: one line naming the path, exit 2."""
        (tmp_path / "a-file").write_text("x")

        status = main(["generate", str(tmp_path / "a-file" / "g"), "--lines", "10"])

        err = capsys.readouterr().err
        assert status == 2
        assert f"ice-recon generate: {tmp_path / 'a-file'}" in err
        assert "Traceback" not in err

    def test_demo_out_is_a_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`demo --out FILE` (Report.write): exit 2 with a message naming the path."""
        target = tmp_path / "a-file"
        target.write_text("x")

        status = main(["demo", "--out", str(target)])

        err = capsys.readouterr().err
        assert status == 2
        assert f"ice-recon demo: {target}: cannot be written" in err

    @pytest.mark.skipif(
        sys.platform == "win32" or os.geteuid() == 0, reason="root can write anywhere"
    )
    def test_out_not_writable(self, tmp_path: Path) -> None:
        """An output folder that is not writable: exit 2, no traceback (as a subprocess)."""
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        out = locked / "out"

        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ice_recon.cli",
                "reconcile",
                str(sample_dir()),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
        )

        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert str(out) in done.stderr

    def test_out_is_a_file_subprocess(self, tmp_path: Path) -> None:
        """The installed command prints no traceback for an unusable --out."""
        target = tmp_path / "a-file"
        target.write_text("x")

        done = subprocess.run(
            [*COMMAND, "reconcile", str(sample_dir()), "--out", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )

        assert (done.returncode, done.stdout) == (2, "")
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith(f"ice-recon reconcile: {target}")
