"""The ``ice-recon`` command: validate, price and reconcile input folders.

Exit status: 0 on success; 1 when ``validate`` or ``price`` finds problems, or when ``reconcile
--fail-on`` finds what it was told to fail on; 2 on a usage error, an input folder that
cannot be read, a required input file or column missing or an unusable header (in lenient
mode too), an output folder or file that cannot be written, any other input or usage
error (one message on stderr, never a traceback), or input problems under ``reconcile
--strict``; 130 when interrupted by SIGINT (Ctrl-C), 143 by SIGTERM (then no
``summary.json`` is left in the output folder and the temporary files are removed); 3 when
a worker process of ``--workers`` died (killed, out of memory), or a task of ``--scheduler``
failed, likewise leaving no ``summary.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.resources
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TextIO

from ice_recon import __version__
from ice_recon._engine import EngineUnavailableError
from ice_recon.errors import IceReconError, InputError, InputErrors, OutputError, Problem
from ice_recon.index import build
from ice_recon.load import Inputs, inspect, load
from ice_recon.money import format_scaled
from ice_recon.output import OUTPUT_FILES, output_errors, prepare_output
from ice_recon.policy import Policy, Tolerance
from ice_recon.price import MissingEvidence, price_line
from ice_recon.reconcile import reconcile
from ice_recon.records import Status
from ice_recon.report import Totals
from ice_recon.stream import DEFAULT_BATCH_LINES, Prepared, prepare

__all__ = ["main", "sample_dir"]


def sample_dir() -> Path:
    """Return the folder of the sample data set shipped with the package."""
    return Path(str(importlib.resources.files("ice_recon") / "sample"))


def _report_problems(inputs: Inputs, out: TextIO) -> None:
    for problem in inputs.problems:
        print(problem, file=out)


def _summary(inputs: Inputs) -> str:
    return ", ".join(_count(n, noun) for noun, n in _counts(inputs).items())


def _counts(inputs: Inputs) -> dict[str, int]:
    """Return the rows of each table of *inputs*, by what the validation summary calls them."""
    counts = {
        "rate row": len(inputs.rates),
        "fuel rule": len(inputs.fuel_rules),
        "trip": len(inputs.manifests),
        "roster row": len(inputs.staff),
        "invoice line": len(inputs.invoice_lines),
        "invoice header": len(inputs.invoices),
    }
    # The optional files of DESIGN section 9.1, when given.
    if inputs.contracts:
        counts["contract term row"] = len(inputs.contracts)
    if inputs.cors is not None:
        counts["COR appointment"] = len(inputs.cors)
    if inputs.interest_rates is not None:
        counts["interest rate window"] = len(inputs.interest_rates)
    return counts


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def cmd_validate(args: argparse.Namespace) -> int:
    """Print every problem of the input folder; exit 1 if there is any, else print OK."""
    from ice_recon.partitioned import inspect_dataset, is_partitioned

    if is_partitioned(args.input_dir):
        return _validate_dataset(args.input_dir, inspect_dataset(args.input_dir))
    inputs = inspect(args.input_dir)
    if inputs.problems:
        _report_problems(inputs, sys.stdout)
        n = len(inputs.problems)
        print(f"{n} problem{'s' if n != 1 else ''} found", file=sys.stderr)
        return 1
    print(f"OK: {args.input_dir} is valid ({_summary(inputs)})")
    return 0


def _validate_dataset(root: str, partitions: Iterator[tuple[object, Inputs]]) -> int:
    """``validate`` of a dataset partitioned by contract, one partition at a time."""
    seen: set[Problem] = set()  # a shared file's problems come with every partition
    counts: dict[str, int] = {}
    n = found = 0
    for _, inputs in partitions:
        n += 1
        for problem in inputs.problems:
            if problem not in seen:
                seen.add(problem)
                found += 1
                print(problem)
        for noun, count in _counts(inputs).items():
            # interest_rates.csv is at the root, read with every partition: count it once.
            shared = noun == "interest rate window"
            counts[noun] = count if shared else counts.get(noun, 0) + count
    if found:
        print(f"{found} problem{'s' if found != 1 else ''} found", file=sys.stderr)
        return 1
    summary = ", ".join(_count(c, noun) for noun, c in counts.items())
    print(f"OK: {root} is valid ({_count(n, 'contract partition')}; {summary})")
    return 0


def cmd_price(args: argparse.Namespace) -> int:
    """Print the expected amount of every invoice line whose trip_ref names a trip.

    The table goes to stdout; input problems go to stderr, the first :data:`MAX_PROBLEMS`
    unless ``--all-problems``. Exit 1 when there is any input problem (as ``validate``).
    """
    return _price(Path(args.input_dir), sys.stdout, every_problem=args.all_problems)


def _price(folder: Path, out: TextIO, *, every_problem: bool = False) -> int:
    inputs = load(folder)
    index = build(inputs)
    policy = Policy()
    lines, trips = inputs.invoice_lines, inputs.manifests
    header = ("contract", "invoice", "line", "clin", "trip", "billed", "expected", "rule / note")
    rows: list[tuple[str, ...]] = []
    for i in range(len(lines)):
        key = (lines.contract_id[i], lines.invoice_id[i], lines.line_no_text[i])
        if not lines.valid[i]:
            rows.append((*key, "", "", "", "", "INVALID (see problems)"))
            continue
        amount = lines.amount.get(i)
        billed = "" if amount is None else format_scaled(*amount)
        clin = lines.clin[i] or ""
        ref = lines.trip_ref[i]
        trip = None if ref is None else index.trips.row(key[0], ref)
        if trip is None:
            note = "no trip_ref" if ref is None else f"trip {ref} is not in manifests.csv"
            rows.append((*key, clin, ref or "", billed, "", note))
            continue
        found = price_line(inputs, index, i, trip, policy=policy)
        trip_id = trips.trip_id[trip]
        if found.rule is None or found.pricing is None:
            rows.append((*key, clin, trip_id, billed, "", "no rate on the trip's date"))
        elif isinstance(found.pricing, MissingEvidence):
            rows.append((*key, clin, trip_id, billed, "", f"missing: {found.pricing.what}"))
        else:
            p = found.pricing
            cite = f"{p.rule.rule_id} ({p.rule.authority})" if p.rule.authority else p.rule.rule_id
            note = f"{p.billable_quantity} {p.rule.basis} -> {cite}"
            if found.category_mismatch:
                note += f"; priced at roster category {found.labor_category}"
            rows.append((*key, clin, trip_id, billed, f"{p.expected}", note))
    _table(header, rows, out)
    if inputs.problems:
        _print_problems(inputs.problems, every=every_problem)
        n = len(inputs.problems)
        print(
            f"ice-recon: {n} input problem(s); INVALID lines are not priced, other bad rows "
            "are left out",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_problems(problems: Sequence[Problem], *, every: bool) -> None:
    """Print the input problems on stderr: the first :data:`MAX_PROBLEMS`, or *every* one."""
    shown = problems if every else problems[:MAX_PROBLEMS]
    for problem in shown:
        print(problem, file=sys.stderr)
    if len(shown) < len(problems):
        print(
            f"ice-recon: ... and {len(problems) - len(shown)} more input problem(s) "
            "(--all-problems, or `ice-recon validate`, lists every one)",
            file=sys.stderr,
        )


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    numeric = {5, 6}
    for r in [header, *rows]:
        cells = [
            r[c].rjust(widths[c]) if c in numeric else r[c].ljust(widths[c])
            for c in range(len(header))
        ]
        print("  ".join(cells).rstrip(), file=out)


#: Show stage progress on stderr from this many invoice lines on (or with --progress).
PROGRESS_LINES = 20_000
#: How many input problems ``reconcile`` prints before summarizing the rest.
MAX_PROBLEMS = 20


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Reconcile the input folder, write the output files and print a summary."""
    try:
        policy = Policy(
            tolerances=dict(Tolerance.parse(t) for t in args.tolerance),
            window_days=args.window_days,
            utilization_floor=args.utilization_floor,
            as_of=_day(args.as_of),
        )
    except (ValueError, TypeError) as exc:
        print(f"ice-recon reconcile: {exc}", file=sys.stderr)
        return 2
    show = not args.quiet
    if args.format != "csv":
        from ice_recon.interop import check_format

        try:
            check_format(args.format)
        except ImportError as exc:
            print(f"ice-recon reconcile: --format {args.format}: {exc}", file=sys.stderr)
            return 2
    if args.html and args.format != "csv":
        print(
            "ice-recon reconcile: --html reads the CSV output files; use it with --format csv "
            "(or run ice-recon report on a CSV output folder)",
            file=sys.stderr,
        )
        return 2
    if args.html:
        from ice_recon._render import require

        require("ice-recon reconcile --html")  # before any work: exit 2 naming the extra
        if args.top < 1:
            print("ice-recon reconcile: --top must be at least 1", file=sys.stderr)
            return 2
    if args.workers < 1 or args.batch_lines < 1:
        print(
            "ice-recon reconcile: --workers and --batch-lines must be at least 1", file=sys.stderr
        )
        return 2
    if args.partitions is not None and (args.partitions < 1 or not args.scheduler):
        print(
            "ice-recon reconcile: --partitions must be at least 1 and needs --scheduler",
            file=sys.stderr,
        )
        return 2
    from ice_recon.partitioned import is_partitioned

    run = _reconcile_dataset if is_partitioned(args.input_dir) else _reconcile_checked
    if args.scheduler:
        from ice_recon.distributed import DistributedRunError, connect

        try:
            client, close = connect(args.scheduler)
        except DistributedRunError as exc:
            print(f"ice-recon reconcile: {exc}", file=sys.stderr)
            return 2
        try:
            return run(args, policy, show, client)
        except DistributedRunError as exc:
            print(f"ice-recon: {exc}", file=sys.stderr)
            return 3
        finally:
            close()
    return run(args, policy, show, None)


def _reconcile_dataset(
    args: argparse.Namespace, policy: Policy, show: bool, client: object | None
) -> int:
    """Reconcile a dataset partitioned by contract (``contract_id=…`` folders, or a URL)."""
    from ice_recon import partitioned

    dataset = partitioned.scan(args.input_dir)  # an InputError: main() prints it, exit 2
    long_run = show and (args.progress or dataset.size >= PROGRESS_LINES * 100)
    groups = args.workers
    runner: partitioned.GroupRunner | None = None
    if args.workers > 1:
        runner = partitioned.forked_runner
    if client is not None:
        from ice_recon.distributed import dataset_runner, default_partitions

        groups = args.partitions or default_partitions(client)
        runner = dataset_runner(client)

    def check(merged: partitioned.GroupResult) -> None:
        _check_bases(merged.bases, policy)
        if not _problems_allowed(args, merged.totals.problems, show, "written"):
            raise partitioned.Refused("--strict")

    try:
        result = partitioned.reconcile_dataset(
            args.input_dir,
            args.out,
            policy=policy,
            progress=_progress if long_run else None,
            format=args.format,
            batch_lines=args.batch_lines,
            check=check,
            groups=groups,
            runner=runner,
            engine=args.engine,
        )
    except partitioned.Refused:
        return 2
    except (_Refused, EngineUnavailableError) as refused:
        print(f"ice-recon reconcile: {refused}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"ice-recon reconcile: {exc}; no output written", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the temporary folder is full
        print(f"ice-recon reconcile: {exc}; no output written", file=sys.stderr)
        return 2
    return _finish(args, result, show)


def _reconcile_checked(
    args: argparse.Namespace, policy: Policy, show: bool, client: object | None
) -> int:
    groups = None
    if client is not None:
        from ice_recon.distributed import default_partitions

        groups = args.partitions or default_partitions(client)
    lines_file = Path(args.input_dir) / "invoice_lines.csv"
    # The line count is known only once the file is read: judge a long run by its size.
    guess = lines_file.exists() and lines_file.stat().st_size >= PROGRESS_LINES * 100
    long_run = show and (args.progress or bool(guess))
    try:
        # Before anything is read: an unusable --out fails at once, and the summary.json of
        # an earlier run goes, so that an interrupted run never leaves a complete-looking set.
        existed = os.path.lexists(args.out)
        prepare_output(args.out)
        try:
            ready = prepare(
                args.input_dir,
                batch_lines=args.batch_lines,
                workers=args.workers,
                progress=_progress if long_run else None,
                check=lambda inputs: _check_tolerances(inputs, policy),
                engine=args.engine,
                groups=groups,
            )
        except InputError:
            if not existed:  # a refused run leaves nothing behind, not even an empty folder
                with contextlib.suppress(OSError):
                    os.rmdir(args.out)
            raise
        with ready:
            return _reconcile_prepared(args, ready, policy, show, long_run, client)
    except _Refused as refused:
        print(f"ice-recon reconcile: {refused}", file=sys.stderr)
        return 2
    except EngineUnavailableError as exc:
        print(f"ice-recon reconcile: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"ice-recon reconcile: {exc}; no output written", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the temporary folder of spilled lines is full
        print(f"ice-recon reconcile: {exc}; no output written", file=sys.stderr)
        return 2


def _day(text: str | None) -> dt.date | None:
    """Parse ``--as-of``: an ISO date, or None when not given."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--as-of: expected a date YYYY-MM-DD (got {text!r})") from None


class _Refused(Exception):
    """The command line asks for something the inputs cannot give (usage error)."""


def _check_tolerances(inputs: Inputs, policy: Policy) -> None:
    bases = {s.record.basis for s in inputs.rates} | {s.record.basis for s in inputs.fuel_rules}
    _check_bases(bases, policy)


def _check_bases(bases: set[str] | frozenset[str], policy: Policy) -> None:
    unknown = sorted(set(policy.tolerances) - bases)
    if unknown:
        # A misspelled basis would silently accept nothing: refuse it.
        raise _Refused(
            f"--tolerance for {', '.join(map(repr, unknown))}: no rule is priced on that "
            f"basis (bases: {', '.join(sorted(bases)) or 'none'})"
        )


def _progress(stage: str, seconds: float) -> None:  # float-ok: elapsed time, not money
    print(f"ice-recon: {stage} done in {seconds:.2f} s", file=sys.stderr, flush=True)


def _reconcile_prepared(
    args: argparse.Namespace,
    ready: Prepared,
    policy: Policy,
    show: bool,
    long_run: bool,
    client: object | None = None,
) -> int:
    if not _problems_allowed(args, ready.problems, show, "reconciled"):
        return 2
    progress = _progress if long_run else None
    if client is not None:
        from ice_recon.distributed import reconcile_prepared

        result = reconcile_prepared(
            client, ready, args.out, policy=policy, progress=progress, format=args.format
        )
    else:
        result = ready.reconcile(args.out, policy=policy, progress=progress, format=args.format)
    return _finish(args, result, show)


def _problems_allowed(
    args: argparse.Namespace, problems: Sequence[Problem], show: bool, nothing: str
) -> bool:
    """Print the input problems (when shown or --strict); False when --strict refuses them."""
    if problems and (show or args.strict):
        _print_problems(problems, every=args.all_problems)
        n = len(problems)
        if args.strict:
            print(f"ice-recon: {n} input problem(s); nothing {nothing} (--strict)", file=sys.stderr)
            return False
        print(
            f"ice-recon: {n} input problem(s); malformed invoice lines are INVALID, other "
            "bad rows are left out",
            file=sys.stderr,
        )
    return True


def _finish(args: argparse.Namespace, result: Totals, show: bool) -> int:
    """Print the summary, write report.html if asked; return the exit status of the run."""
    if show:
        print_summary(result, sys.stdout, out_dir=args.out, format=args.format)
    if args.html:
        from ice_recon.htmlreport import write_report

        page = write_report(args.out, top=args.top)
        if show:
            print(f"Wrote {page}")
    if "questioned" in args.fail_on and result.ledgers.questioned > 0:
        return 1
    if "problems" in args.fail_on and result.problems:
        return 1
    return 0


def print_summary(
    result: Totals, out: TextIO, *, out_dir: str | None = None, top: int = 5, format: str = "csv"
) -> None:
    """Print the human summary of a reconciliation: counts, ledgers, top invoices."""
    n = result.line_count
    print(f"Reconciled {n} invoice line{'s' if n != 1 else ''}.", file=out)
    print("\nLines by status:", file=out)
    for status in Status:
        count = result.counts[status]
        if count:
            print(f"  {status.value:24} {count:>8}", file=out)
    print("\nLedgers:", file=out)
    for name, value in result.ledgers.as_strings().items():
        print(f"  {name:24} {value:>14}", file=out)
    print("\nPayments and funds put to better use (DESIGN section 9):", file=out)
    for name, value in result.payments.as_strings().items():
        print(f"  {name:24} {value:>14}", file=out)
    questioned = sorted(
        (
            (ledgers.questioned, key)
            for key, ledgers in result.by_invoice.items()
            if ledgers.questioned > 0
        ),
        key=lambda item: (-item[0], item[1]),
    )[:top]
    if questioned:
        print("\nTop invoices by questioned amount:", file=out)
        for amount, (contract, invoice) in questioned:
            print(f"  {contract}  {invoice:16} {amount:>14}", file=out)
    if result.invoices:
        n = len(result.invoices)
        print(f"\nInvoice findings ({n}; all in invoices.csv):", file=out)
        for f in result.invoices[: top * 2]:
            if f.detail:
                detail = f": {f.detail}"
            elif f.difference is not None:
                detail = f" (header - lines = {f.difference})"
            else:
                detail = ""
            print(f"  {f.contract_id}  {f.invoice_id}  {f.finding.value}{detail}", file=out)
        if n > top * 2:
            print(f"  ... and {n - top * 2} more", file=out)
    print(f"\nUnbilled trips: {len(result.unbilled)}", file=out)
    print(f"Inference examined {result.stats['candidate_pairs']} candidate pair(s).", file=out)
    if out_dir is not None:
        names = ["results.csv", *(n for n in OUTPUT_FILES if n != "results.csv")]
        names = [n.replace(".csv", f".{format}") for n in names]
        print(f"Wrote {', '.join(names)} to {out_dir}", file=out)


def cmd_split(args: argparse.Namespace) -> int:
    """Write an input folder as a dataset partitioned by contract."""
    from ice_recon.partitioned import split

    try:
        dataset = split(args.input_dir, args.out, progress=_progress)
    except OutputError as exc:
        print(f"ice-recon split: {exc}", file=sys.stderr)
        return 2
    n = len(dataset.partitions)
    shared = f"; {', '.join(dataset.shared)} at the root" if dataset.shared else ""
    print(f"Wrote {n} contract partition{'s' if n != 1 else ''} to {dataset.root}{shared}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write report.html of an output folder (needs the extra ``report``)."""
    from ice_recon.htmlreport import write_report

    if args.top < 1:
        print("ice-recon report: --top must be at least 1", file=sys.stderr)
        return 2
    started = time.perf_counter()
    page = write_report(args.out_dir, path=args.output, top=args.top)
    seconds = time.perf_counter() - started
    print(f"Wrote {page} in {seconds:.1f} s")
    return 0


def cmd_notices(args: argparse.Namespace) -> int:
    """Write a notice of difference per invoice with a questioned amount."""
    from ice_recon.notices import write_notices

    if args.inputs is not None and not Path(args.inputs).is_dir():
        print(f"ice-recon notices: {args.inputs}: not a folder of input files", file=sys.stderr)
        return 2
    written = write_notices(args.out_dir, dest=args.dest, inputs=args.inputs)
    dest = args.dest if args.dest is not None else str(Path(args.out_dir) / "notices")
    print(f"Wrote {len(written)} notice(s) of difference (Markdown and HTML) to {dest}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a generated input folder with planted errors (deterministic per seed)."""
    from ice_recon.generate import generate

    if args.lines < 0 or (args.trips is not None and args.trips < 1) or args.contracts < 1:
        print(
            "ice-recon generate: need --lines >= 0, --trips >= 1, --contracts >= 1", file=sys.stderr
        )
        return 2
    started = time.perf_counter()
    with output_errors(args.out_dir):
        stats = generate(
            args.out_dir,
            lines=args.lines,
            trips=args.trips,
            contracts=args.contracts,
            seed=args.seed,
        )
    seconds = time.perf_counter() - started
    print(
        f"Wrote {stats['lines']} invoice lines, {stats['trips']} trips over "
        f"{stats['days']} days, "
        f"{stats['invoices']} invoices, {stats['rate_rows']} rate rows and "
        f"{stats['staff_rows']} roster rows for {stats['contracts']} contract(s) to "
        f"{args.out_dir} in {seconds:.1f} s (seed {args.seed})"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Validate and reconcile the bundled sample data; print the summary."""
    folder = sample_dir()
    print(f"ice_recon {__version__} demo on the bundled sample data: {folder}\n")
    inputs = load(folder)
    if inputs.problems:
        _report_problems(inputs, sys.stdout)
        return 1
    print(f"validate: OK ({_summary(inputs)})\n")
    result = reconcile(inputs)
    # Never into the current folder by default: run from a clone, that would dirty it.
    out = args.out if args.out is not None else tempfile.mkdtemp(prefix="ice-recon-demo-")
    result.write(out)
    print_summary(result, sys.stdout, out_dir=out)
    _demo_pages(out, folder)
    print("\nNot MATCHED, with the statement of difference:", file=sys.stdout)
    for line in result.lines:
        if line.status is not Status.MATCHED:
            print(
                f"  {line.invoice_id} line {line.line_no_text}: {line.status.value}\n"
                f"      {line.explanation}"
            )
    return 0


def _demo_pages(out: str, inputs: Path) -> None:
    """Write the demo's report.html and notices, or say which extra they need."""
    from ice_recon.errors import MissingExtraError

    try:
        from ice_recon.htmlreport import write_report
        from ice_recon.notices import write_notices

        page = write_report(out)
        notices = write_notices(out, inputs=inputs)
    except MissingExtraError as exc:
        print(f"\nreport.html and notices not written: {exc}")
        return
    print(f"\nReport: {page}")
    print(f"Notices of difference ({len(notices)}):")
    for notice in notices:
        print(f"  {notice.html}")
        print(f"  {notice.markdown}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ice-recon",
        description="Reconcile billed transport trips against trip manifests and contract "
        "rate schedules, exactly.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("validate", help="check every input file and print every problem")
    p.add_argument("input_dir", metavar="INPUT_DIR", help="folder of input CSV (or Parquet) files")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser(
        "price",
        help="print the expected amount of each invoice line (input problems on stderr; "
        "exit 1 if any)",
    )
    p.add_argument("input_dir", metavar="INPUT_DIR", help="folder of input CSV (or Parquet) files")
    p.add_argument(
        "--all-problems",
        action="store_true",
        help=f"print every input problem (default: the first {MAX_PROBLEMS} and a count)",
    )
    p.set_defaults(func=cmd_price)
    p = sub.add_parser(
        "reconcile", help="reconcile every invoice line and write the results to OUT_DIR"
    )
    p.add_argument(
        "input_dir",
        metavar="INPUT_DIR",
        help="folder of input CSV (or Parquet) files, or a dataset partitioned by contract "
        "(contract_id=... folders, see `ice-recon split`; a folder or an fsspec URL)",
    )
    p.add_argument("--out", required=True, metavar="OUT_DIR", help="folder for the outputs")
    p.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="BASIS=VALUE",
        help="accept billed quantities within VALUE (or PERCENT%%) of the billable quantity "
        "for rules on BASIS (repeatable), e.g. loaded_miles=0.5 or wait_hours=5%%",
    )
    p.add_argument(
        "--window-days",
        type=int,
        default=1,
        metavar="N",
        help="inference matches trips within N days of the line's date (default 1)",
    )
    p.add_argument(
        "--utilization-floor",
        default="0.80",
        metavar="RATIO",
        help="a billed trip carrying fewer than RATIO of its seats in passengers has unused "
        "capacity (DESIGN section 9.3; default 0.80)",
    )
    p.add_argument(
        "--as-of",
        default=None,
        metavar="YYYY-MM-DD",
        help="judge contracts whose period of performance ended before this day for "
        "deobligation (default: per contract, its latest invoice_date)",
    )
    p.add_argument("--strict", action="store_true", help="stop with exit 2 on any input problem")
    p.add_argument(
        "--fail-on",
        action="append",
        default=[],
        choices=["questioned", "problems"],
        help="exit 1 when anything is questioned, or when the inputs have problems",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="reconcile the contracts in N processes (default 1; the results are the same)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="reconcile the contract groups as tasks on a Dask cluster: a scheduler address "
        "(tcp://HOST:PORT) or local:N (a LocalCluster of N worker processes); needs pip "
        "install 'ice-recon[dask]'; the output files are the same bytes",
    )
    p.add_argument(
        "--partitions",
        type=int,
        default=None,
        metavar="N",
        help="with --scheduler: how many contract groups (tasks) to make (default: the "
        "cluster's worker threads)",
    )
    p.add_argument(
        "--batch-lines",
        type=int,
        default=DEFAULT_BATCH_LINES,
        metavar="N",
        help="invoice lines per batch when invoice_lines.csv is too long to hold in memory "
        f"(over 256 MiB; default {DEFAULT_BATCH_LINES}; the results are the same)",
    )
    p.add_argument(
        "--format",
        default="csv",
        choices=["csv", "jsonl", "parquet"],
        help="write the tables as NAME.csv (default), NAME.jsonl (JSON lines) or NAME.parquet "
        "(needs pyarrow: pip install 'ice-recon[fast]'); summary.json is always JSON",
    )
    p.add_argument(
        "--engine",
        choices=["auto", "python", "fast"],
        default="auto",
        help="who reads the large CSV files: python (the pure-Python core), fast (pyarrow, "
        "from pip install 'ice-recon[fast]') or auto (fast when installed; the default); "
        "the output files are the same bytes",
    )
    p.add_argument("--progress", action="store_true", help="always show stage progress")
    p.add_argument(
        "--all-problems",
        action="store_true",
        help=f"print every input problem (default: the first {MAX_PROBLEMS} and a count)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.add_argument(
        "--html",
        action="store_true",
        help="also write OUT_DIR/report.html, as `ice-recon report` does (needs the extra "
        "'report')",
    )
    p.add_argument(
        "--top",
        type=int,
        default=50,
        metavar="N",
        help="with --html: how many invoices, lines and rows each list of the page shows "
        "(default 50)",
    )
    p.set_defaults(func=cmd_reconcile)
    p = sub.add_parser(
        "report",
        help="write report.html, one self-contained page with charts, from an output folder "
        "(needs the extra 'report')",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="the output folder of a complete run")
    p.add_argument(
        "--top",
        type=int,
        default=50,
        metavar="N",
        help="how many invoices, lines, findings, problem kinds and rows each list shows "
        "(default 50; every row is in the CSV files)",
    )
    p.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="where to write the page (default OUT_DIR/report.html)",
    )
    p.set_defaults(func=cmd_report)
    p = sub.add_parser(
        "notices",
        help="write a notice of difference (Markdown and HTML) per invoice with a "
        "questioned amount (needs the extra 'report')",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="the output folder of a complete run")
    p.add_argument(
        "--inputs",
        default=None,
        metavar="INPUT_DIR",
        help="the run's input folder: add the invoice headers and the trips' manifest rows "
        "(checked against the sha256 in summary.json)",
    )
    p.add_argument(
        "--dest",
        default=None,
        metavar="DIR",
        help="where to write the notices (default OUT_DIR/notices)",
    )
    p.set_defaults(func=cmd_notices)
    p = sub.add_parser(
        "generate", help="write a realistic generated input folder with planted errors"
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder to write the CSV files to")
    p.add_argument("--lines", type=int, default=10_000, help="invoice lines (default 10000)")
    p.add_argument(
        "--trips",
        type=int,
        default=None,
        help="manifest trips (default: 2/7 of the lines, so that most trips are billed)",
    )
    p.add_argument("--contracts", type=int, default=4, help="contracts (default 4)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.set_defaults(func=cmd_generate)
    p = sub.add_parser(
        "split",
        help="write an input folder as a dataset partitioned by contract (one "
        "contract_id=... folder per contract), for runs on a cluster",
    )
    p.add_argument("input_dir", metavar="INPUT_DIR", help="folder of input CSV files")
    p.add_argument("--out", required=True, metavar="ROOT", help="new (or empty) folder to write")
    p.set_defaults(func=cmd_split)
    p = sub.add_parser("demo", help="reconcile the sample data shipped with ice_recon")
    p.add_argument(
        "--out",
        default=None,
        metavar="OUT_DIR",
        help="where to write the outputs (default: a new temporary folder, printed)",
    )
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ice-recon`` command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    folder = getattr(args, "input_dir", None)
    url = args.command == "reconcile" and folder is not None and "://" in folder
    if folder is not None and not url and not Path(folder).is_dir():
        print(f"ice-recon: {folder}: not a folder of input files", file=sys.stderr)
        return 2
    try:
        with _interruptible():
            status: int = args.func(args)
    except BrokenPipeError:  # e.g. `ice-recon demo | head`: not an error of ours
        sys.stderr.close()
        return 0
    except (KeyboardInterrupt, _Terminated) as exc:
        signum = exc.signum if isinstance(exc, _Terminated) else signal.SIGINT
        name = signal.Signals(signum).name
        print(f"ice-recon: interrupted by {name}; the run did not complete", file=sys.stderr)
        return 128 + signum
    except InputError as exc:
        # A required file or column missing, or an unusable header: nothing was read past
        # the headers and nothing was written (the input exit status, lenient mode too).
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        n = len(exc.problems)
        print(
            f"ice-recon: {n} input error{'s' if n != 1 else ''}: nothing reconciled, "
            "nothing written",
            file=sys.stderr,
        )
        return 2
    except BrokenProcessPool:
        print(
            "ice-recon: a worker process died (killed, or out of memory); the run did not "
            "complete and no summary.json was written",
            file=sys.stderr,
        )
        return 3
    except IceReconError as exc:
        # A usage or input error (an unwritable --out included): one line, never a traceback.
        print(f"ice-recon {args.command}: {_message(exc)}", file=sys.stderr)
        return 2
    return status


def _message(exc: IceReconError) -> str:
    """Return the error's message; a group of input errors lists each one on its own line."""
    if isinstance(exc, InputErrors):
        return "\n".join([str(exc), *(str(e) for e in exc.exceptions)])
    return str(exc) or type(exc).__name__


class _Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C, so that temporary files are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated(signum)


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGTERM into an exception while the command runs (only in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
