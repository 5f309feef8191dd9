"""A 100,000-line generated run, checked line by line against the reference (issue 5, item 6).

``ice_recon.generate`` writes a realistic input folder with planted errors of every kind
(labor lines against a roster, a fuel surcharge on a weekly index, lines to be matched by
inference, cancellation and graduated tiers, duplicates, malformed rows, footing errors).
``ice_recon.reconcile`` and the plain ``Decimal`` reference of ``tests/reference.py`` both
reconcile it, and every line, total, unbilled trip and invoice finding must agree. The
100,000-line run uses the default policy; a second, 25,000-line run (kept smaller so that
the module stays well under a minute on two cores) uses tolerances, a wider inference
window and another default rounding mode, which exercise paths the default leaves idle
(WITHIN_TOLERANCE, inference ranked by quantity difference).

Section 9 (payment controls and oversight) is compared too, with ``reference9``: the
invoices.csv rows (sections 5 and 9.2, in file order), the payment ledgers overall and per
contract, and the rows of oversight.csv, contracts.csv and capacity.csv. The generated
folders may have no section 9 files (then every contract has NO_COST_ESTIMATE and nothing is
paid), so the same comparison also runs on ``every9.every_finding``, a small folder on which
every section 9 finding occurs.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import reference as ref
from every9 import CONTRACT_CODES, INVOICE_CODES, every_finding
from ice_recon import Policy, Report, Status, Tolerance, reconcile
from ice_recon.generate import generate

CONTRACTS = 4
SEED = 20_260_505
#: How many differing lines an assertion message shows.
SHOWN = 8
#: The fields compared for every line.
FIELDS = (
    "status",
    "findings",
    "billed",
    "expected",
    "variance",
    "erroneous",
    "unsupported",
    "underbilled",
    "trip_id",
    "match",
    "decomposition",
)


@dataclasses.dataclass(frozen=True)
class Run:
    """A generated folder's size and a policy, as the engine and the reference take it."""

    name: str
    lines: int
    trips: int
    seed: int
    policy: Policy
    default_rounding: str
    tolerances: Mapping[str, tuple[Decimal, bool]]
    window_days: int


TOLERANCES = {
    "loaded_miles": Tolerance(value=Decimal("2"), percent=True),
    "wait_hours": Tolerance(value=Decimal("0.25")),
    "passengers": Tolerance(value=Decimal("1")),
}
RUNS = (
    Run("default-100k", 100_000, 80_000, SEED, Policy(), "half_up", {}, 1),
    Run(
        "tolerant-25k",
        25_000,
        20_000,
        SEED + 1,
        Policy(tolerances=TOLERANCES, window_days=2, rounding="half_even"),
        "half_even",
        {basis: (t.value, t.percent) for basis, t in TOLERANCES.items()},
        2,
    ),
)


@dataclasses.dataclass(frozen=True)
class Both:
    """The engine's report and the reference's result for one run, and the tables read."""

    run: Run
    tables: dict[str, list[dict[str, str]]]
    report: Report
    want: ref.RefResult
    controls: ref.RefControls
    folder: Path | None = None

    def __repr__(self) -> str:
        # Short: pytest shows the fixture in a failure, and the tables hold 100,000 rows.
        return f"Both({self.run.name})"


@pytest.fixture(scope="module", params=RUNS, ids=[run.name for run in RUNS])
def both(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Both:
    """Generate a folder and reconcile it with the engine and with the reference."""
    run: Run = request.param
    folder = tmp_path_factory.mktemp(run.name)
    stats = generate(folder, lines=run.lines, trips=run.trips, contracts=CONTRACTS, seed=run.seed)
    assert stats["lines"] == run.lines
    tables = ref.read_folder(folder)
    report = reconcile(folder, policy=run.policy, engine="python")
    want = ref.reference(
        tables,
        default_rounding=run.default_rounding,
        tolerances=run.tolerances,
        window_days=run.window_days,
    )
    return Both(run, tables, report, want, ref.reference9(tables, want), folder)


def test_the_fast_engine_writes_the_python_engines_bytes(
    both: Both, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same run with ``engine="fast"`` (when the extra is installed): the same files."""
    pytest.importorskip("pyarrow", reason="the fast engine needs the fast extra (pyarrow)")
    pytest.importorskip("numpy", reason="the fast engine needs the fast extra (numpy)")
    assert both.folder is not None
    out = tmp_path_factory.mktemp(f"{both.run.name}-engines")
    both.report.write(out / "python")
    reconcile(both.folder, policy=both.run.policy, engine="fast").write(out / "fast")
    for path in sorted((out / "python").iterdir()):
        assert (out / "fast" / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.fixture(scope="module")
def every(tmp_path_factory: pytest.TempPathFactory) -> Both:
    """Reconcile the every-finding folder with the engine and with the reference."""
    folder = every_finding(tmp_path_factory.mktemp("every9"))
    tables = ref.read_folder(folder)
    want = ref.reference(tables)
    run = Run("every-finding", len(tables["invoice_lines"]), 0, 0, Policy(), "half_up", {}, 1)
    return Both(run, tables, reconcile(folder), want, ref.reference9(tables, want))


def _engine_line(r: Any) -> dict[str, Any]:
    valid = r.status is not Status.INVALID
    return {
        "status": r.status.value,
        "findings": tuple(r.findings),
        "billed": r.billed,
        "expected": r.expected,
        "variance": r.variance,
        "erroneous": r.erroneous,
        "unsupported": r.unsupported,
        "underbilled": r.underbilled,
        "trip_id": r.trip_id if valid else None,
        "match": r.match,
        "decomposition": r.decomposition,
    }


def _reference_line(w: ref.RefLine) -> dict[str, Any]:
    return {
        "status": w.status.value,
        "findings": tuple(w.findings),
        "billed": w.billed,
        "expected": w.expected,
        "variance": w.variance,
        "erroneous": w.erroneous,
        "unsupported": w.unsupported,
        "underbilled": w.underbilled,
        "trip_id": w.trip_id,
        "match": w.match,
        "decomposition": w.decomposition,
    }


def _show(differences: Sequence[tuple[object, object, object]], total: int, what: str) -> str:
    """Format the first differences, both sides, for an assertion message."""
    text = [f"{total} {what} differ between the engine and the reference; the first {SHOWN}:"]
    for key, engine, reference in differences[:SHOWN]:
        text.append(f"  {key}")
        text.append(f"    engine:    {engine}")
        text.append(f"    reference: {reference}")
    return "\n".join(text)


def _ledgers(ledgers: Any) -> dict[str, Decimal]:
    return {name: getattr(ledgers, name) for name in ref.LEDGERS}


def test_every_line_equals_the_reference(both: Both) -> None:
    """Each line's status, findings, amounts, trip, match kind and decomposition agree.

    The engine lists the lines in processing order, as the reference does.
    """
    report, want = both.report, both.want

    lines = list(report.lines)  # built once: Report.lines materializes results on access
    got_keys = [(r.contract_id, r.invoice_id, r.line_no_text) for r in lines]
    assert len(got_keys) == both.run.lines
    assert set(got_keys) == set(want.lines)
    differences = []
    for r, key in zip(lines, got_keys, strict=True):
        engine, reference = _engine_line(r), _reference_line(want.lines[key])
        if engine != reference:
            fields = [name for name in FIELDS if engine[name] != reference[name]]
            differences.append(
                (
                    key,
                    {name: engine[name] for name in fields},
                    {name: reference[name] for name in fields},
                )
            )
    assert not differences, _show(differences, len(differences), "lines")
    valid = [key for r, key in zip(lines, got_keys, strict=True) if r.status != "INVALID"]
    assert valid == want.order, "the valid lines are not in the reference's processing order"


def test_counts_and_ledgers_equal_the_reference(both: Both) -> None:
    """Counts and ledgers agree, overall and per contract."""
    report, want = both.report, both.want

    assert dict(report.counts) == want.counts
    assert _ledgers(report.ledgers) == want.ledgers
    got = {
        cid: (dict(summary.counts), _ledgers(summary.ledgers))
        for cid, summary in report.contracts.items()
    }
    assert got == want.contracts


def test_unbilled_trips_and_invoice_findings_equal_the_reference(both: Both) -> None:
    """The unbilled trips and the invoice-level findings agree."""
    report, want = both.report, both.want

    unbilled = {(u.contract_id, u.trip_id, u.service_date, str(u.status)) for u in report.unbilled}
    section5 = {"FOOTING_ERROR", "DUPLICATE_INVOICE"}
    invoices = {
        dataclasses.replace(ref.RefInvoiceFinding.of(f), amount=None)
        for f in report.invoices
        if str(f.finding) in section5
    }

    assert len(unbilled) == len(report.unbilled)
    missing, extra = want.unbilled_trips - unbilled, unbilled - want.unbilled_trips
    assert not missing and not extra, (
        f"unbilled trips differ: only the reference has {sorted(missing)[:SHOWN]}, "
        f"only the engine has {sorted(extra)[:SHOWN]}"
    )
    assert invoices == want.invoices


def test_the_inputs_are_valid_but_for_planted_invoice_lines(both: Both) -> None:
    """Only invoice_lines.csv has problems: the reference assumes the other files are valid."""
    report = both.report

    assert {p.file.rsplit("/", 1)[-1] for p in report.problems} <= {"invoice_lines.csv"}


def test_the_run_exercises_the_hard_paths(both: Both) -> None:
    """Every status, finding and match kind occurs, and so do priced labor, fuel and tier lines.

    So the comparison cannot pass vacuously. WITHIN_TOLERANCE needs a tolerance (the
    non-default run), and there it must also have ranked an inference by a non-zero
    quantity difference.
    """
    want = both.want
    findings = collections.Counter(f for w in want.lines.values() for f in w.findings)
    kinds = collections.Counter(w.match for w in want.lines.values())
    clin_of = {
        (row["contract_id"], row["invoice_id"], row["line_no"]): row["clin"]
        for row in both.tables["invoice_lines"]
    }
    priced = collections.Counter(
        clin_of[key] for key, w in want.lines.items() if w.decomposition is not None
    )
    codes = [
        "MISSING_MEASURE",
        "INFERRED_MATCH",
        "AMBIGUOUS_MATCH",
        "SERVICE_DATE_MISMATCH",
        "DUPLICATE_CANDIDATE",
    ]
    if both.run.tolerances:
        codes.append("WITHIN_TOLERANCE")

    assert all(want.counts[status] > 0 for status in Status), want.counts
    assert all(findings[code] > 0 for code in codes), findings
    assert all(kinds[kind] > 0 for kind in ("exact", "inferred", "none")), kinds
    # labor_hours from the roster, cancellation-fee tiers, graduated tiers, fuel surcharge.
    assert all(priced[clin] > 0 for clin in ("0004", "0005", "0006", "0007")), priced
    assert any(f.finding == "FOOTING_ERROR" for f in want.invoices)
    if len(want.lines) >= 100_000:  # about one invoice in 200 has a second header
        assert any(f.finding == "DUPLICATE_INVOICE" for f in want.invoices)
    assert want.unbilled
    if both.run.tolerances:
        assert any(
            "INFERRED_MATCH" in w.findings and "WITHIN_TOLERANCE" in w.findings
            for w in want.lines.values()
        )


# ------------------------------------------------------------------------------ section 9


def _plain(value: object) -> object:
    """Return *value* with enums as their strings (tuples of findings included)."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return value


def _rows_equal(got: Iterable[Any], want: list[Any], what: str) -> None:
    """Assert that the engine's rows equal the reference's dataclass rows, field by field."""
    names = [field.name for field in dataclasses.fields(want[0])] if want else []
    engine = [{name: _plain(getattr(row, name)) for name in names} for row in got]
    reference = [dataclasses.asdict(row) for row in want]
    if len(engine) != len(reference) or not names:
        assert len(engine) == len(reference), f"{what}: {len(engine)} rows, want {len(reference)}"
        return
    differences = [
        (
            i,
            {name: e[name] for name in names if e[name] != r[name]},
            {name: r[name] for name in names if e[name] != r[name]},
        )
        for i, (e, r) in enumerate(zip(engine, reference, strict=True))
        if e != r
    ]
    assert not differences, _show(differences, len(differences), what)


def _check_invoices(both: Both) -> None:
    got = [ref.RefInvoiceFinding.of(f) for f in both.report.invoices]
    want = both.controls.invoices
    assert sorted(got, key=ref.finding_order) == want, "invoice findings differ"
    assert got == want, "invoice findings are not in invoices.csv order"


def _check_payments(both: Both) -> None:
    report, want = both.report, both.controls
    assert {n: getattr(report.payments, n) for n in ref.PAYMENT_LEDGERS} == want.payments
    assert set(report.contracts) == want.summary_contracts
    got = {
        cid: {n: getattr(summary.payments, n) for n in ref.PAYMENT_LEDGERS}
        for cid, summary in report.contracts.items()
    }
    assert got == want.contract_payments


def _check_months(both: Both) -> None:
    _rows_equal(both.report.oversight.months, both.controls.months, "oversight.csv rows")


def _check_contracts(both: Both) -> None:
    _rows_equal(both.report.oversight.contracts, both.controls.contracts, "contracts.csv rows")


def _check_capacity(both: Both) -> None:
    _rows_equal(both.report.oversight.capacity, both.controls.capacity, "capacity.csv rows")


CHECKS = {
    "invoices": _check_invoices,
    "payments": _check_payments,
    "oversight": _check_months,
    "contracts": _check_contracts,
    "capacity": _check_capacity,
}


@pytest.mark.parametrize("aspect", CHECKS)
def test_section9_equals_the_reference(both: Both, aspect: str) -> None:
    """Invoice findings, payment ledgers, oversight, contracts and capacity rows agree."""
    CHECKS[aspect](both)


@pytest.mark.parametrize("aspect", CHECKS)
def test_section9_on_a_folder_with_every_finding(every: Both, aspect: str) -> None:
    """The same comparison on the small folder where every section 9 finding occurs."""
    CHECKS[aspect](every)


def test_the_every_finding_folder_lines_equal_the_reference(every: Both) -> None:
    """Its lines agree too (the section 9 comparison stands on the same per-line results)."""
    got = {
        (r.contract_id, r.invoice_id, r.line_no_text): _engine_line(r) for r in every.report.lines
    }
    want = {key: _reference_line(w) for key, w in every.want.lines.items()}

    assert got == want


def test_the_every_finding_folder_exercises_every_finding(every: Both) -> None:
    """Every section 9 code and ledger occurs in the reference's results on that folder.

    So its comparison cannot pass vacuously.
    """
    want = every.controls
    invoice_codes = {f.finding for f in want.invoices}
    contract_codes = {code for row in want.contracts for code in row.findings}
    late = [f for f in want.invoices if f.finding == "LATE_PAYMENT"]

    assert invoice_codes == set(INVOICE_CODES)
    assert contract_codes == set(CONTRACT_CODES)
    assert all(want.payments[name] > 0 for name in ref.PAYMENT_LEDGERS), want.payments
    # Interest under 1.00 (written, not owed) and a late payment without a rate.
    assert any(f.amount is not None and f.amount < 1 for f in late)
    assert any(f.amount is None for f in late)
    assert want.capacity
    assert any(m.people is None for m in want.months)
    assert any(m.utilization is not None for m in want.months)
