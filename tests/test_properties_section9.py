"""Properties of the payment controls and oversight (DESIGN section 9) over generated cases.

The cases come from ``ice_recon.strategies.cases(payments=True)``: every line is built to
be a known status, and the files of section 9.1 (contracts, appointments, interest rates,
approval and payment columns, passengers and seats) are drawn around the invoices so that
ceilings are crossed, approvers are (or are not) appointed, payments are late by the days
drawn, trips run below the utilization floor. The case's answer for section 9
(:attr:`Case.invoice_controls`, :attr:`Case.payments` …) is worked out by the strategies'
own oracle with ``Fraction`` arithmetic, never by the engine; these tests compare.

The invariants of section 9.3: every questioned cent is in exactly one of the three payment
ledgers; the months of ``oversight.csv`` add up to the contract; partition independence per
contract; and the streamed run (``reconcile_to``, the CLI, several workers) writes the bytes
of the in-memory run.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ice_recon import Policy, Report, Status, load, reconcile
from ice_recon.cli import main
from ice_recon.money import Rounding
from ice_recon.strategies import Case, ExpectedPayments, InvalidArgument, cases
from ice_recon.stream import reconcile_to

#: The invoice findings of section 9.2 (FOOTING_ERROR and DUPLICATE_INVOICE are section 5's).
CONTROLS = frozenset(
    {
        "APPROVAL_UNDOCUMENTED",
        "APPROVER_NOT_APPOINTED",
        "APPROVER_LEVEL_BELOW_RISK",
        "CEILING_85_PERCENT",
        "CEILING_EXCEEDED",
        "FUNDING_EXCEEDED",
        "LATE_PAYMENT",
        "NO_INTEREST_RATE",
    }
)
PAYMENT_FIELDS = tuple(a.name for a in attrs.fields(ExpectedPayments))
#: Columns written for a table of a partition without rows (cors.csv given but empty).
EMPTY_HEADERS = {
    "cors.csv": ("contract_id", "person_id", "appointed", "level", "expires"),
    "interest_rates.csv": ("start", "end", "rate"),
}

#: Mostly cases with the payment files; some without (the oracle covers those too).
CASES = st.one_of(cases(max_lines=12, payments=True), cases(max_lines=6))
PAYMENT_CASES = cases(max_lines=12, payments=True)


def _report(case: Case) -> Report:
    return reconcile(case.inputs, policy=case.policy)


def _payments(ledgers: Any) -> dict[str, Decimal]:
    return {name: getattr(ledgers, name) for name in PAYMENT_FIELDS}


def _expected_payments(p: ExpectedPayments) -> dict[str, Decimal]:
    return {name: getattr(p, name) for name in PAYMENT_FIELDS}


def _control_rows(report: Report) -> list[tuple[Any, ...]]:
    return sorted(
        (
            f.contract_id,
            f.invoice_id,
            f.finding.value,
            f.header_total,
            f.lines_total,
            f.difference,
            f.amount,
        )
        for f in report.invoices
        if f.finding.value in CONTROLS
    )


def _write(folder: Path, tables: Mapping[str, Iterable[Mapping[str, str]]], keep: str) -> None:
    """Write *tables* into *folder*, keeping the rows of contract *keep* (and rows of none).

    Every file keeps its header, so that a part without trips still has the measure columns
    its rules name, and a part without appointments still has a (header-only) cors.csv.
    """
    folder.mkdir()
    for name, rows in tables.items():
        rows = list(rows)
        header = list(dict.fromkeys(k for row in rows for k in row)) or list(EMPTY_HEADERS[name])
        mine = [r for r in rows if r.get("contract_id", keep) == keep]
        with Path(folder, name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([r.get(k, "") for k in header] for r in mine)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------------- (a) the oracle


@given(CASES)
def test_section9_results_are_the_oracles(case: Case) -> None:
    """Invoice controls (codes, totals, amounts), ledgers, contract findings and capacity
    are what the case was built to get."""
    report = _report(case)
    want_rows = sorted(
        (
            f.contract_id,
            f.invoice_id,
            f.finding,
            f.header_total,
            f.lines_total,
            f.difference,
            f.amount,
        )
        for f in case.invoice_controls
    )
    got_findings = {(f.contract_id, f.invoice_id, f.finding.value) for f in report.invoices}
    got_contract_findings = {
        row.contract_id: tuple(f.value for f in row.findings) for row in report.oversight.contracts
    }
    got_capacity = {(r.contract_id, r.trip_id): r.unused for r in report.oversight.capacity}

    assert _control_rows(report) == want_rows
    assert got_findings == case.invoice_findings
    # contracts.csv lists every contract of any row; Report.contracts those with an
    # invoice line, a header or a contracts.csv row (the others have zero ledgers).
    assert {r.contract_id: _payments(r) for r in report.oversight.contracts} == {
        c: _expected_payments(p) for c, p in case.payments.items()
    }
    assert {c: _payments(s.payments) for c, s in report.contracts.items()} == {
        c: _expected_payments(case.payments[c]) for c in report.contracts
    }
    assert _payments(report.payments) == _expected_payments(case.total_payments)
    assert got_contract_findings == case.contract_findings
    assert got_capacity == case.capacity


# ----------------------------------------------------- (b) every questioned cent, once


@given(CASES)
def test_every_questioned_cent_is_in_one_payment_ledger(case: Case) -> None:
    """paid_erroneous + paid_unsupported + to_withhold = questioned, per contract and overall;
    the paid parts never exceed what the lines made erroneous and unsupported."""
    report = _report(case)
    scopes = [(report.ledgers, report.payments)] + [
        (s.ledgers, s.payments) for s in report.contracts.values()
    ]

    for ledgers, payments in scopes:
        parts = (payments.paid_erroneous, payments.paid_unsupported, payments.to_withhold)
        assert min(parts) >= 0
        assert sum(parts) == ledgers.questioned == ledgers.erroneous + ledgers.unsupported
        assert payments.paid_erroneous <= ledgers.erroneous
        assert payments.paid_unsupported <= ledgers.unsupported
    for row in report.oversight.contracts:
        assert row.paid_erroneous + row.paid_unsupported + row.to_withhold == row.questioned


# --------------------------------------------------------- (c) months add up to contracts


@given(PAYMENT_CASES)
def test_months_add_up_to_the_contract(case: Case) -> None:
    """Σ over a contract's months of counts, billed, expected, questioned and unused capacity
    is the contract's: its contracts.csv row, its ledgers, its trips."""
    report = _report(case)
    unbilled = {(u.contract_id, u.trip_id) for u in report.unbilled}
    trips = case.tables["manifests.csv"]

    assert {r.contract_id for r in report.oversight.months} <= {
        r.contract_id for r in report.oversight.contracts
    }
    for row in report.oversight.contracts:
        c = row.contract_id
        months = [m for m in report.oversight.months if m.contract_id == c]
        mine = [t for t in trips if t["contract_id"] == c]
        completed = [t for t in mine if t["status"] != "cancelled"]
        recorded = [t for t in completed if t.get("passengers", "")]

        def total(name: str, months: list[Any] = months) -> Any:
            return sum((getattr(m, name) for m in months), start=0)

        assert (
            total("billed"),
            total("expected"),
            total("questioned"),
            total("unused_capacity"),
        ) == (row.billed, row.expected, row.questioned, row.unused_capacity)
        ledgers = report.contracts[c].ledgers if c in report.contracts else None
        if ledgers is not None:
            assert (row.billed, row.expected, row.questioned, row.underbilled) == (
                ledgers.billed,
                ledgers.expected,
                ledgers.questioned,
                ledgers.underbilled,
            )
        assert (
            total("trips_completed"),
            total("trips_cancelled"),
            total("trips_unbilled"),
            total("trips_billed"),
            total("trips_without_count"),
        ) == (
            len(completed),
            len(mine) - len(completed),
            sum(1 for t in mine if (c, t["trip_id"]) in unbilled),
            sum(1 for t in mine if (c, t["trip_id"]) not in unbilled),
            len(completed) - len(recorded),
        )
        people = [m.people for m in months if m.people is not None]
        assert (sum(people) if people else None) == row.people
        assert row.funds_put_to_better_use == row.unused_capacity + row.deobligation


# ------------------------------------------------------- (d) partition independence


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_lines=12, payments=True, contracts=3))
def test_partition_independence(case: Case) -> None:
    """Reconciling each contract's rows alone gives that contract's section 9 rows, ledgers
    and oversight as reconciling everything at once."""
    whole = _report(case)
    contracts = sorted({r.contract_id for r in whole.oversight.contracts})

    with tempfile.TemporaryDirectory() as tmp:
        for c in contracts:
            _write(Path(tmp, c), case.tables, c)
            part = reconcile(load(Path(tmp, c)), policy=case.policy)

            assert list(part.invoices) == [f for f in whole.invoices if f.contract_id == c]
            assert part.oversight.contracts == tuple(
                r for r in whole.oversight.contracts if r.contract_id == c
            )
            assert part.oversight.months == tuple(
                r for r in whole.oversight.months if r.contract_id == c
            )
            assert part.oversight.capacity == tuple(
                r for r in whole.oversight.capacity if r.contract_id == c
            )
            assert _payments(part.payments) == _payments(
                whole.contracts[c].payments if c in whole.contracts else part.payments
            )
            if c in whole.contracts:
                assert part.contracts[c] == whole.contracts[c]


# ------------------------------------------------------ (e) streaming and workers


def _cli_args(policy: Policy) -> list[str]:
    """Return the ``ice-recon reconcile`` options that give *policy* (rounding half up)."""
    args = ["--window-days", str(policy.window_days)]
    for basis, t in policy.tolerances.items():  # the CLI refuses one for a basis without rule
        args += ["--tolerance", f"{basis}={t.value}{'%' if t.percent else ''}"]
    args += ["--utilization-floor", str(policy.utilization_floor)]
    if policy.as_of is not None:
        args += ["--as-of", policy.as_of.isoformat()]
    return args


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(PAYMENT_CASES, st.integers(1, 5))
def test_streamed_and_parallel_runs_write_the_in_memory_bytes(case: Case, batch_lines: int) -> None:
    """reconcile_to (spilled in batches of any size, or two workers) and ``ice-recon
    reconcile --workers 2`` write every output file as ``reconcile(load(dir)).write(out)``."""
    # The CLI has no rounding option, and refuses a tolerance for a basis no rule prices:
    # the comparison needs only one policy for every run.
    bases = {r["basis"] for r in case.tables["rates.csv"]} | {
        r.get("basis") or "loaded_miles" for r in case.tables.get("fuel_rules.csv", ())
    }
    policy = attrs.evolve(
        case.policy,
        rounding=Rounding.HALF_UP,
        tolerances={b: t for b, t in case.policy.tolerances.items() if b in bases},
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case.write(root / "in")
        reconcile(load(root / "in"), policy=policy).write(root / "memory")
        want = _files(root / "memory")

        reconcile_to(
            root / "in", root / "one", policy=policy, batch_lines=batch_lines, memory_bytes=0
        )
        reconcile_to(root / "in", root / "two", policy=policy, workers=2)
        code = main(
            [
                "reconcile",
                str(root / "in"),
                "--out",
                str(root / "cli"),
                "--workers",
                "2",
                "--quiet",
                *_cli_args(policy),
            ]
        )

        assert {"oversight.csv", "contracts.csv", "capacity.csv", "invoices.csv"} <= set(want)
        assert _files(root / "one") == want
        assert _files(root / "two") == want
        assert code in (0, 1)
        assert _files(root / "cli") == want


# --------------------------------------------------------------- the strategy itself


@settings(max_examples=100)
@given(PAYMENT_CASES)
def test_payment_files_are_valid_and_load_back(case: Case) -> None:
    """The drawn section 9.1 files have no problem (only INVALID lines do); written and
    loaded back, they are the case's inputs."""
    invalid = sum(1 for line in case.lines.values() if line.status is Status.INVALID)

    with tempfile.TemporaryDirectory() as tmp:
        case.write(tmp)
        loaded = load(tmp)

    assert {p.file for p in case.inputs.problems} == ({"invoice_lines.csv"} if invalid else set())
    assert attrs.evolve(loaded, digests={}) == case.inputs


def test_payments_option_reaches_every_file_and_finding() -> None:
    """Over 300 derandomized cases, payments=True draws every file of section 9.1 and
    builds every invoice control, every contract finding, unused capacity, owed and
    under-1.00 interest, deobligations, payments late by more than 365 days."""
    seen: set[str] = set()

    @settings(max_examples=300, derandomize=True, database=None, deadline=None)
    @given(cases(max_lines=12, payments=True))
    def collect(case: Case) -> None:
        seen.update(case.tables)
        seen.update(f.finding for f in case.invoice_controls)
        seen.update(code for codes in case.contract_findings.values() for code in codes)
        total = case.total_payments
        for name in PAYMENT_FIELDS:
            if getattr(total, name) > 0:
                seen.add(name)
        for f in case.invoice_controls:
            if f.finding == "LATE_PAYMENT" and f.amount is not None and f.amount < 1:
                seen.add("interest under 1.00")
        for h in case.tables.get("invoices.csv", ()):
            if h.get("paid_date") and h.get("approved_date"):
                seen.add("paid and approved")
        if any(row.get("seats") for row in case.tables["manifests.csv"]):
            seen.add("seats")

    collect()

    assert {
        "contracts.csv",
        "cors.csv",
        "interest_rates.csv",
        "invoices.csv",
        *CONTROLS,
        "NO_COST_ESTIMATE",
        "NO_PEOPLE_COUNT",
        "COR_NOT_APPOINTED",
        *PAYMENT_FIELDS,
        "interest under 1.00",
        "paid and approved",
        "seats",
    } <= seen


@settings(max_examples=50)
@given(cases(max_lines=3))
def test_cases_without_payments_keep_their_files(case: Case) -> None:
    """Without payments=True a case has only the files of section 4, as before."""
    assert set(case.tables) <= {
        "rates.csv",
        "manifests.csv",
        "staff.csv",
        "fuel_index.csv",
        "fuel_rules.csv",
        "invoice_lines.csv",
        "invoices.csv",
    }


def test_payments_must_be_a_bool() -> None:
    """payments="yes" is refused as Hypothesis refuses a bad option (InvalidArgument)."""
    with pytest.raises(InvalidArgument, match="payments must be a bool"):
        cases(payments="yes")  # type: ignore[arg-type]
