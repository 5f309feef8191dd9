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
from pathlib import Path
from typing import Any, Final

import attrs

from ice_recon.load import Inputs, load_files
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
            finding (``FOOTING_ERROR``).
        inputs: the tables loaded (:func:`~ice_recon.load_files`), ready for
            :func:`~ice_recon.reconcile` (a property, loaded on first use).
    """

    tables: Mapping[str, tuple[Mapping[str, str], ...]]
    policy: Policy
    lines: Mapping[Key, ExpectedLine]
    unbilled: frozenset[tuple[str, str]]
    invoice_findings: frozenset[tuple[str, str, str]]

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

    def write(self, directory: str | os.PathLike[str]) -> None:
        """Write the input files of DESIGN section 4 into *directory* (created if needed).

        :func:`ice_recon.load` reads them back to the same tables as :attr:`inputs`.
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in self.tables.items():
            header = list(dict.fromkeys(k for row in rows for k in row))
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([row.get(k, "") for k in header] for row in rows)
            (folder / name).write_bytes(buffer.getvalue().encode("utf-8"))
