"""Define what :func:`cases` draws: a :class:`Case` and the :class:`ExpectedLine` answers.

A case holds the rows of every input file, the policy it was built for, and the answer for
every invoice line; it loads itself (:attr:`Case.inputs`) or writes its files
(:meth:`Case.write`).
"""

from __future__ import annotations

import csv
import functools
import io
import os
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import attrs

from ice_recon.load import Inputs, load_files
from ice_recon.money import scaled_to_decimal
from ice_recon.policy import Policy
from ice_recon.records import Status

#: ``(contract_id, invoice_id, line_no)``: how a case names an invoice line.
Key = tuple[str, str, int]


#: The input files of DESIGN section 4, with the :func:`~ice_recon.load_files` argument each
#: one is passed as.
_FILES: Final = {
    "rates.csv": "rates",
    "manifests.csv": "manifests",
    "staff.csv": "staff",
    "fuel_index.csv": "fuel_index",
    "fuel_rules.csv": "fuel_rules",
    "invoice_lines.csv": "invoice_lines",
    "invoices.csv": "invoices",
    "contracts.csv": "contracts",
    "cors.csv": "cors",
    "interest_rates.csv": "interest_rates",
}
#: The columns written for a table without rows (a header-only file: given, and empty).
_EMPTY_HEADERS: Final = {
    "cors.csv": ("contract_id", "person_id", "appointed", "level", "expires"),
    "interest_rates.csv": ("start", "end", "rate"),
}


@attrs.frozen(kw_only=True)
class ExpectedLine:
    """What one invoice line of a :class:`Case` was built to be: the right answer for it.

    Attributes:
        status: the status of DESIGN section 5 the line must get.
        findings: the codes ``results.csv`` lists for it: the status (none for MATCHED; for
            a missing measure ``UNSUPPORTED`` and ``MISSING_MEASURE``), every other
            condition of rows 8-14 that holds, then the informational codes.
        billed: the billed amount A (2 places); ``None`` for an INVALID line.
        expected: the expected amount E (0.00 for rows 2-6); ``None`` for INVALID.
        trip_id: the trip the line is matched to (exactly or by inference), else ``None``.
        match: ``exact``, ``inferred`` or ``none``.
        variant: how the line was built, e.g. ``UNSUPPORTED/ambiguous`` (for statistics).
    """

    status: Status
    findings: tuple[str, ...]
    billed: Decimal | None
    expected: Decimal | None
    trip_id: str | None
    match: str
    variant: str

    @property
    def variance(self) -> Decimal | None:
        """Return A - E, or ``None`` for an INVALID line."""
        if self.billed is None or self.expected is None:
            return None
        return self.billed - self.expected


def _add(*amounts: Decimal) -> Decimal:
    """Return the exact sum of money amounts, with 2 places (never the ambient context)."""
    cents = sum(Fraction(a) * 100 for a in amounts)
    assert isinstance(cents, Fraction | int) and Fraction(cents).denominator == 1
    return scaled_to_decimal(int(cents), 2)


@attrs.frozen(kw_only=True)
class ExpectedInvoiceFinding:
    """A row ``invoices.csv`` must have for a control of DESIGN section 9.2.

    Attributes:
        contract_id, invoice_id: the invoice.
        finding: the code (``APPROVAL_UNDOCUMENTED``, ``APPROVER_NOT_APPOINTED``,
            ``APPROVER_LEVEL_BELOW_RISK``, ``CEILING_85_PERCENT``, ``CEILING_EXCEEDED``,
            ``FUNDING_EXCEEDED``, ``LATE_PAYMENT`` or ``NO_INTEREST_RATE``).
        header_total: the total of the invoice's header when it has exactly one header
            with a total, else ``None``.
        lines_total: B, the sum of the amounts of the invoice's valid lines.
        difference: header_total - B, or ``None`` without a header total.
        amount: the cumulative billed (``CEILING_85_PERCENT``), the amount over
            (``CEILING_EXCEEDED``, ``FUNDING_EXCEEDED``), the interest (``LATE_PAYMENT``
            with a rate, owed or not), else ``None``.

    Added in 0.3.0.
    """

    contract_id: str
    invoice_id: str
    finding: str
    header_total: Decimal | None
    lines_total: Decimal
    difference: Decimal | None
    amount: Decimal | None


@attrs.frozen(kw_only=True)
class ExpectedPayments:
    """The payment ledgers and funds put to better use a contract must get (DESIGN 9.2-9.3).

    Money with 2 places; named as the columns of ``contracts.csv`` and the keys of
    ``summary.json``. Added in 0.3.0.
    """

    paid_erroneous: Decimal
    paid_unsupported: Decimal
    to_withhold: Decimal
    interest_due: Decimal
    unused_capacity: Decimal
    deobligation: Decimal

    @property
    def funds_put_to_better_use(self) -> Decimal:
        """Return unused_capacity + deobligation."""
        return _add(self.unused_capacity, self.deobligation)

    @property
    def questioned(self) -> Decimal:
        """Return paid_erroneous + paid_unsupported + to_withhold: every questioned cent."""
        return _add(self.paid_erroneous, self.paid_unsupported, self.to_withhold)


@attrs.frozen(kw_only=True, eq=False)
class Case:
    """A generated data set whose every invoice line was built to be a known status.

    Attributes:
        tables: the rows of each input file (file name -> rows of cell text), exactly what
            :meth:`write` writes.
        policy: the :class:`~ice_recon.Policy` the case was built for (tolerances, the
            inference window, the default rounding); reconcile with it.
        lines: the answer for every invoice line, by ``(contract_id, invoice_id, line_no)``.
        unbilled: ``(contract_id, trip_id)`` of every trip no valid line is matched to.
        invoice_findings: ``(contract_id, invoice_id, finding)`` of every invoice-level
            finding: ``FOOTING_ERROR`` and the controls of DESIGN section 9.2 (for a case
            without the payment files, ``APPROVAL_UNDOCUMENTED`` of approved or paid
            headers, which name no approver).
        invoice_controls: the section 9.2 rows of ``invoices.csv`` with their figures, in
            the order of ``invoices.csv``.
        payments: per contract id (every contract of any row), its payment ledgers and
            funds put to better use.
        contract_findings: per contract id, the codes of its ``contracts.csv`` row
            (``COR_NOT_APPOINTED``, ``NO_COST_ESTIMATE``, ``NO_PEOPLE_COUNT``), sorted.
        capacity: ``(contract_id, trip_id) -> unused`` of every trip ``capacity.csv``
            lists (a claimed completed trip below the utilization floor whose lines of
            statuses 7-14, not priced per passenger, expect more than 0.00).
        inputs: the tables loaded (:func:`~ice_recon.load_files`), ready for
            :func:`~ice_recon.reconcile` (a property, loaded on first use).
    """

    tables: Mapping[str, tuple[Mapping[str, str], ...]]
    policy: Policy
    lines: Mapping[Key, ExpectedLine]
    unbilled: frozenset[tuple[str, str]]
    invoice_findings: frozenset[tuple[str, str, str]]
    invoice_controls: tuple[ExpectedInvoiceFinding, ...] = ()
    payments: Mapping[str, ExpectedPayments] = attrs.Factory(dict)
    contract_findings: Mapping[str, tuple[str, ...]] = attrs.Factory(dict)
    capacity: Mapping[tuple[str, str], Decimal] = attrs.Factory(dict)

    @functools.cached_property
    def inputs(self) -> Inputs:
        """Return the tables loaded by :func:`~ice_recon.load_files`, ready to reconcile.

        Loaded on first use (and kept): drawing a case does not pay for it. Its only
        problems are those of the INVALID lines.
        """
        sources: dict[str, Any] = {_FILES[name]: list(rows) for name, rows in self.tables.items()}
        return load_files(**sources)

    @property
    def expected(self) -> Mapping[Key, Status]:
        """Return the status each line was built to be, by (contract_id, invoice_id, line_no)."""
        return {key: line.status for key, line in self.lines.items()}

    @property
    def expected_amounts(self) -> Mapping[Key, Decimal]:
        """Return the expected amount E of every line that is not INVALID."""
        return {k: v.expected for k, v in self.lines.items() if v.expected is not None}

    @property
    def total_payments(self) -> ExpectedPayments:
        """Return the payment ledgers over every contract (``summary.json``'s overall ones)."""
        names = [a.name for a in attrs.fields(ExpectedPayments)]
        return ExpectedPayments(
            **{n: _add(*(getattr(p, n) for p in self.payments.values())) for n in names}
        )

    def write(self, directory: str | os.PathLike[str]) -> None:
        """Write the input files of DESIGN sections 4 and 9.1 into *directory* (created if needed).

        :func:`ice_recon.load` reads them back to the same tables as :attr:`inputs`.
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in self.tables.items():
            header = list(dict.fromkeys(k for row in rows for k in row))
            if not header:
                header = list(_EMPTY_HEADERS[name])
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([row.get(k, "") for k in header] for row in rows)
            (folder / name).write_bytes(buffer.getvalue().encode("utf-8"))
