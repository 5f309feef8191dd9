"""Write a notice of difference for every invoice with a questioned amount.

FAR 52.232-25(a)(3) has the designated billing office return an improper invoice within 7
days, stating its defects; a short payment is explained the same way. :func:`write_notices`
reads a complete output folder and writes, per invoice with a questioned amount,
``notices/CONTRACT/INVOICE.md`` and ``.html``: the invoice, each disputed line with its
billed, expected (accepted) amount and difference, the reason in words (the statement of
difference), the rule and rate authority, the trip and what it recorded, the totals and
the amount payable. Underbilled lines are listed apart, never netted against the
questioned amount.

Given the input folder too (*inputs*), a notice adds the invoice's header (dates, total,
status) and each trip's manifest row; the input files must be the ones the run read (their
sha256 is checked against ``summary.json``).

File names come from untrusted identifiers: :func:`safe_name` keeps them inside the
notices folder. Needs the optional extra ``report`` (Jinja2). Added in 0.3.0.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import attrs

from ice_recon._outdir import LineRow, money, read_lines, read_summary, untext
from ice_recon._render import html_env, markdown_env, require
from ice_recon.errors import ArgumentError
from ice_recon.money import format_cents
from ice_recon.output import output_errors

__all__ = ["REASONS", "Notice", "safe_name", "write_notices"]

_SAFE: Final = re.compile(r"[^A-Za-z0-9._-]")
_RESERVED: Final = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)]
)
#: The reason for each status, in words addressed to the contractor (DESIGN section 5).
REASONS: Final = {
    "NO_RATE": "the contract has no rate for this CLIN on the date of service.",
    "UNSUPPORTED": "no trip of the manifests supports this charge, or the trip did not record "
    "the measure the rate is priced on.",
    "NOT_PERFORMED": "the trip was cancelled (or, for a cancellation fee, completed): the "
    "service billed was not performed.",
    "DUPLICATE": "this charge for the trip was already billed on an earlier line.",
    "LABOR_CATEGORY_MISMATCH": "the person is in another labor category on the trip's "
    "roster; the rate of that category applies.",
    "MINIMUM_MISAPPLIED": "the contract's minimum amount was applied where it does not apply, "
    "or not applied where it does.",
    "EXTENSION_ERROR": "the amount is not the billed quantity times the billed unit price.",
    "QUANTITY_MISMATCH": "the quantity billed differs from what the trip recorded.",
    "RATE_MISMATCH": "the unit price billed differs from the contract's rate.",
    "ROUNDING_DIFF": "the amount was rounded in a way the contract does not provide for.",
    "AMOUNT_MISMATCH": "the amount differs from what the contract allows for the trip.",
}
#: The longest file name made from an identifier (before the suffix).
_MAX_NAME: Final = 80


def safe_name(identifier: str) -> str:
    """Return a file name for *identifier* that stays in its folder on any system.

    Letters, digits, ``.``, ``_`` and ``-`` are kept; anything else (``/``, ``\\``, ``..``
    as a whole name, control characters, a leading dot) is replaced by ``_``, and a name
    that had to change gets 10 hex digits of the identifier's sha256, so that two
    identifiers never share a file.

    >>> safe_name("TRS-21-0142")
    'TRS-21-0142'
    >>> safe_name("../../etc/passwd")
    '_._.._etc_passwd-3754d6cb3a'
    """
    name = _SAFE.sub("_", identifier)[:_MAX_NAME]
    if name.startswith("."):
        name = "_" + name[1:]
    changed = name != identifier or not name or name.split(".")[0].upper() in _RESERVED
    if changed:
        digest = hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        name = f"{name}-{digest}"
    return name


@attrs.frozen(kw_only=True)
class Notice:
    """The notice of one invoice: where it was written and its figures (cents)."""

    contract_id: str
    invoice_id: str
    markdown: Path
    html: Path
    billed: int
    questioned: int
    underbilled: int
    payable: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checked(inputs: Path, name: str, digests: dict[str, str]) -> Path | None:
    """Return the input file *name* if present; refuse one that is not what the run read."""
    path = inputs / name
    if not path.is_file():
        return None
    expected = digests.get(name)
    if expected is not None and _sha256(path) != expected:
        raise ArgumentError(
            f"{path}: is not the file the run read (its sha256 differs from summary.json's "
            "inputs); give the input folder of this run"
        )
    return path


def _read_inputs(
    inputs: Path, digests: dict[str, str], keys: set[tuple[str, str]], trips: set[tuple[str, str]]
) -> tuple[dict[tuple[str, str], list[dict[str, str]]], dict[tuple[str, str], dict[str, str]]]:
    headers: dict[tuple[str, str], list[dict[str, str]]] = {}
    manifests: dict[tuple[str, str], dict[str, str]] = {}
    for name in _files(inputs, "invoices.csv"):
        path = _checked(inputs, name, digests)
        if path is not None:
            with path.open(encoding="utf-8-sig", newline="") as f:
                for row in csv.DictReader(f):
                    key = (row.get("contract_id", ""), row.get("invoice_id", ""))
                    if key in keys:
                        headers.setdefault(key, []).append(row)
    for name in _files(inputs, "manifests.csv") if trips else ():
        path = _checked(inputs, name, digests)
        if path is not None:
            with path.open(encoding="utf-8-sig", newline="") as f:
                for row in csv.DictReader(f):
                    key = (row.get("contract_id", ""), row.get("trip_id", ""))
                    if key in trips and key not in manifests:
                        manifests[key] = row
    return headers, manifests


def _files(inputs: Path, name: str) -> list[str]:
    """Return the input files called *name*: in the folder, or in each of its partitions.

    A dataset partitioned by contract (``contract_id=…`` folders) has one per partition,
    named as ``summary.json`` names them (``contract_id=C1/invoices.csv``).
    """
    from ice_recon.partitioned import is_partitioned, scan

    if not is_partitioned(inputs):
        return [name]
    return [f"{p.name}/{name}" for p in scan(inputs).partitions if name in p.files]


def _group(lines: Iterable[LineRow]) -> dict[tuple[str, str], list[LineRow]]:
    found: dict[tuple[str, str], list[LineRow]] = {}
    for line in lines:
        if line.questioned > 0 or line.underbilled > 0:
            found.setdefault((line.contract_id, line.invoice_id), []).append(line)
    return {k: v for k, v in found.items() if any(x.questioned > 0 for x in v)}


def write_notices(
    out_dir: str | os.PathLike[str],
    *,
    dest: str | os.PathLike[str] | None = None,
    inputs: str | os.PathLike[str] | None = None,
) -> list[Notice]:
    """Write a notice of difference for every invoice with a questioned amount.

    Args:
        out_dir: the folder of a complete run (it has ``summary.json``).
        dest: the folder of the notices (default ``OUT_DIR/notices``); each invoice's are
            ``DEST/CONTRACT/INVOICE.md`` and ``.html``, named by :func:`safe_name`.
        inputs: the run's input folder, to add the invoice headers and the trips'
            manifest rows (checked against the sha256 in ``summary.json``).

    Returns:
        One :class:`Notice` per invoice, in the order of ``results.csv``.

    Raises:
        MissingExtraError: the extra ``report`` is not installed.
        ArgumentError: *out_dir* holds no complete run, or an input file is not the one read.
        OutputError: a notice cannot be written.
    """
    require("ice-recon notices")
    folder = Path(out_dir)
    summary = read_summary(folder)
    invoices = _group(read_lines(folder))
    totals = _invoice_totals(folder, set(invoices))
    findings = _findings(folder, set(invoices))
    headers: dict[tuple[str, str], list[dict[str, str]]] = {}
    manifests: dict[tuple[str, str], dict[str, str]] = {}
    if inputs is not None:
        trips = {(c, x.trip_id) for (c, _), v in invoices.items() for x in v if x.trip_id}
        headers, manifests = _read_inputs(
            Path(inputs), summary.get("inputs", {}), set(invoices), trips
        )
    root = Path(dest) if dest is not None else folder / "notices"
    md_template = markdown_env().get_template("notice.md.j2")
    html_template = html_env().get_template("notice.html.j2")
    written: list[Notice] = []
    with output_errors(root):
        for (contract, invoice), lines in invoices.items():
            total = totals.get((contract, invoice), {})
            disputed = [x for x in lines if x.questioned > 0]
            under = [x for x in lines if x.underbilled > 0]
            billed = money(total["billed"]) if "billed" in total else None
            questioned = sum(x.questioned for x in lines)
            underbilled = sum(x.underbilled for x in lines)
            payable = None if billed is None else billed - questioned
            context = {
                "contract_id": contract,
                "invoice_id": invoice,
                "version": summary.get("version", ""),
                "totals": total,
                "disputed": disputed,
                "under": under,
                "findings": findings.get((contract, invoice), []),
                "headers": headers.get((contract, invoice), []),
                "trips": {
                    x.trip_id: manifests.get((contract, x.trip_id))
                    for x in lines
                    if x.trip_id and manifests.get((contract, x.trip_id)) is not None
                },
                "billed": billed,
                "questioned": questioned,
                "underbilled": underbilled,
                "payable": payable,
                "money": format_cents,
                "reasons": REASONS,
                "with_inputs": inputs is not None,
            }
            place = root / safe_name(contract)
            place.mkdir(parents=True, exist_ok=True)
            stem = safe_name(invoice)
            md_path, html_path = place / f"{stem}.md", place / f"{stem}.html"
            md_path.write_text(md_template.render(context), encoding="utf-8", newline="\n")
            html_path.write_text(html_template.render(context), encoding="utf-8", newline="\n")
            written.append(
                Notice(
                    contract_id=contract,
                    invoice_id=invoice,
                    markdown=md_path,
                    html=html_path,
                    billed=billed if billed is not None else 0,
                    questioned=questioned,
                    underbilled=underbilled,
                    payable=payable if payable is not None else 0,
                )
            )
    return written


def _invoice_totals(
    folder: Path, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, str]]:
    found: dict[tuple[str, str], dict[str, str]] = {}
    path = folder / "by_invoice.csv"
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                key = (untext(row["contract_id"]), untext(row["invoice_id"]))
                if key in keys:
                    found[key] = row
    return found


def _findings(
    folder: Path, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], list[dict[str, str]]]:
    found: dict[tuple[str, str], list[dict[str, str]]] = {}
    path = folder / "invoices.csv"
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                key = (untext(row["contract_id"]), untext(row["invoice_id"]))
                if key in keys:
                    found.setdefault(key, []).append(row)
    return found
