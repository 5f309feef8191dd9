"""The ``ice-recon`` command: validate input folders and price invoice lines.

Exit status: 0 on success, 1 when the inputs have problems (``validate``), 2 on a usage
error or an input folder that cannot be read.
"""

from __future__ import annotations

import argparse
import importlib.resources
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ice_recon import __version__
from ice_recon.index import build
from ice_recon.load import Inputs, load
from ice_recon.money import format_scaled
from ice_recon.policy import Policy
from ice_recon.price import MissingEvidence, price_line

__all__ = ["main", "sample_dir"]


def sample_dir() -> Path:
    """Return the folder of the sample data set shipped with the package."""
    return Path(str(importlib.resources.files("ice_recon") / "sample"))


def _report_problems(inputs: Inputs, out: TextIO) -> None:
    for problem in inputs.problems:
        print(problem, file=out)


def _summary(inputs: Inputs) -> str:
    lines = inputs.invoice_lines
    return (
        f"{len(inputs.rates)} rate rows, {len(inputs.fuel_rules)} fuel rules, "
        f"{len(inputs.manifests)} trips, {len(inputs.staff)} roster rows, "
        f"{len(lines)} invoice lines, {len(inputs.invoices)} invoice headers"
    )


def cmd_validate(args: argparse.Namespace) -> int:
    """Print every problem of the input folder; exit 1 if there is any, else print OK."""
    inputs = load(args.input_dir)
    if inputs.problems:
        _report_problems(inputs, sys.stdout)
        n = len(inputs.problems)
        print(f"{n} problem{'s' if n != 1 else ''} found", file=sys.stderr)
        return 1
    print(f"OK: {args.input_dir} is valid ({_summary(inputs)})")
    return 0


def cmd_price(args: argparse.Namespace) -> int:
    """Print the expected amount of every invoice line whose trip_ref names a trip."""
    return _price(Path(args.input_dir), sys.stdout)


def _price(folder: Path, out: TextIO) -> int:
    inputs = load(folder)
    if inputs.problems:
        print(f"{len(inputs.problems)} input problem(s):", file=out)
        _report_problems(inputs, out)
        print(file=out)
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
    return 0


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    numeric = {5, 6}
    for r in [header, *rows]:
        cells = [
            r[c].rjust(widths[c]) if c in numeric else r[c].ljust(widths[c])
            for c in range(len(header))
        ]
        print("  ".join(cells).rstrip(), file=out)


def cmd_demo(args: argparse.Namespace) -> int:
    """Validate the bundled sample data and price its invoice lines."""
    folder = sample_dir()
    print(f"ice_recon {__version__} demo on the bundled sample data: {folder}\n")
    inputs = load(folder)
    if inputs.problems:
        _report_problems(inputs, sys.stdout)
        return 1
    print(f"validate: OK ({_summary(inputs)})\n")
    print("Expected amounts of the invoice lines that name a trip (full reconciliation of")
    print("every line, with statuses and ledgers, is `ice-recon reconcile`, coming next):\n")
    return _price(folder, sys.stdout)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ice-recon",
        description="Reconcile billed transport trips against trip manifests and contract "
        "rate schedules, exactly.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("validate", help="check every input file and print every problem")
    p.add_argument("input_dir", metavar="INPUT_DIR", help="folder with the input CSV files")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("price", help="print the expected amount of each invoice line")
    p.add_argument("input_dir", metavar="INPUT_DIR", help="folder with the input CSV files")
    p.set_defaults(func=cmd_price)
    p = sub.add_parser("demo", help="run on the sample data shipped with ice_recon")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ice-recon`` command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    folder = getattr(args, "input_dir", None)
    if folder is not None and not Path(folder).is_dir():
        print(f"ice-recon: {folder}: not a folder of input files", file=sys.stderr)
        return 2
    status: int = args.func(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
