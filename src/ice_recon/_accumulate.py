"""The sums of the report stage: counts and ledgers over chunks of classified lines.

:class:`Accumulator` takes in the :class:`~ice_recon._result_lines.ChunkResult` of one chunk
after another (per invoice: its lines per status, the ledgers and billed amounts of its
valid lines in cents, and the facts DESIGN section 9 needs), then :meth:`Accumulator.totals`
makes the attributes of a :class:`~ice_recon.report.Totals` once. Split out of
:mod:`ice_recon.report`, which re-exports :class:`Accumulator` and ``_finding_order``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ice_recon._result_lines import ChunkResult
from ice_recon._section9 import section9
from ice_recon.controls import InvoiceFinding, PaymentLedgers, footing_findings
from ice_recon.index import T_ROW
from ice_recon.load import Inputs
from ice_recon.money import cents_to_decimal
from ice_recon.policy import Policy
from ice_recon.records import Status

if TYPE_CHECKING:
    from ice_recon.report import Ledgers

__all__ = ["Accumulator"]


class _Totals:
    __slots__ = ("billed", "erroneous", "expected", "underbilled", "unsupported")

    def __init__(self) -> None:
        self.billed = self.expected = self.erroneous = self.unsupported = self.underbilled = 0

    def add(self, other: _Totals) -> None:
        self.billed += other.billed
        self.expected += other.expected
        self.erroneous += other.erroneous
        self.unsupported += other.unsupported
        self.underbilled += other.underbilled

    def ledgers(self) -> Ledgers:
        from ice_recon.report import Ledgers  # the record lives with the Report

        d = cents_to_decimal
        return Ledgers(
            billed=d(self.billed),
            expected=d(self.expected),
            variance=d(self.billed - self.expected),
            erroneous=d(self.erroneous),
            unsupported=d(self.unsupported),
            questioned=d(self.erroneous + self.unsupported),
            underbilled=d(self.underbilled),
        )


class Accumulator:
    """Counts and ledgers summed over chunks of classified lines (internal).

    Both drivers add one chunk after another, then call :meth:`totals` once. One pass over
    each chunk's lines sums them per invoice; the contracts' and the run's figures are sums
    of the invoices' (an invoice belongs to one contract), made once in :meth:`totals`.
    """

    def __init__(self, policy: Policy | None = None) -> None:
        #: The measure whose rules price people (their lines are not unused capacity).
        self.passengers = (policy or Policy()).passengers_measure
        self.lines = 0
        # Per invoice: B (every invoice with a line), the ledgers of its valid lines, its
        # lines per status (INVALID included) and the billed amount per status.
        self.sums: dict[tuple[str, str], int] = {}
        self.invoice_totals: dict[tuple[str, str], _Totals] = {}
        self.invoice_counts: dict[tuple[str, str], dict[Status, int]] = {}
        self.invoice_amounts: dict[tuple[str, str], dict[Status, int]] = {}
        # For DESIGN section 9: each invoice's latest own service date (ordinal) of its valid
        # lines; per matched trip (manifest row) the billed, expected and questioned cents of
        # its valid lines and the expected cents of those priced, not per passenger; per
        # (contract, date ordinal) the first three sums of the valid lines without a trip.
        self.latest: dict[tuple[str, str], int] = {}
        self.by_trip: dict[int, list[int]] = {}
        self.loose: dict[tuple[str, int], list[int]] = {}

    def add(self, result: ChunkResult) -> None:
        """Add the lines of one chunk."""
        chunk, c = result.chunk, result.classified
        sums, invoice_totals, invoice_counts = self.sums, self.invoice_totals, self.invoice_counts
        invoice_amounts = self.invoice_amounts
        latest, by_trip, loose = self.latest, self.by_trip, self.loose
        per_passenger = self.passengers
        self.lines += len(chunk)
        key: tuple[str, str] | None = None
        t: _Totals | None = None
        ic: dict[Status, int] = {}
        ia: dict[Status, int] = {}
        top = 0
        for contract, invoice, status, billed, expected, err, uns, und, day, trip, pt, rule in zip(
            chunk.contract, chunk.invoice, c.status, c.billed, c.expected, c.erroneous,
            c.unsupported, c.underbilled, chunk.day, result.matched.trip, c.parts, c.rule,
            strict=True,
        ):  # fmt: skip
            if key is None or key[1] != invoice or key[0] != contract:
                if key is not None and top:
                    latest[key] = max(top, latest.get(key, 0))
                key = (contract, invoice)
                sums.setdefault(key, 0)
                t = None  # made at the invoice's first valid line
                ic = invoice_counts.setdefault(key, {})
                ia = invoice_amounts.setdefault(key, {})
                top = 0
            ic[status] = ic.get(status, 0) + 1
            if billed is None or expected is None:
                continue
            ia[status] = ia.get(status, 0) + billed
            sums[key] += billed
            if t is None:
                t = invoice_totals.get(key)
                if t is None:
                    t = invoice_totals[key] = _Totals()
            t.billed += billed
            t.expected += expected
            t.erroneous += err
            t.unsupported += uns
            t.underbilled += und
            if day > top:
                top = day
            if trip is None:
                line_sums = loose.get((contract, day))
                if line_sums is None:
                    line_sums = loose[(contract, day)] = [0, 0, 0, 0]
            else:
                line_sums = by_trip.get(trip[T_ROW])
                if line_sums is None:
                    line_sums = by_trip[trip[T_ROW]] = [0, 0, 0, 0]
                if pt is not None and rule.basis != per_passenger:
                    line_sums[3] += expected
            line_sums[0] += billed
            line_sums[1] += expected
            line_sums[2] += err + uns
        if key is not None and top:
            latest[key] = max(top, latest.get(key, 0))

    def merge(self, other: Accumulator) -> None:
        """Add the sums of *other*, made from lines of other contracts than this one's."""
        self.lines += other.lines
        assert not set(self.sums) & set(other.sums), "contract groups must not overlap"
        self.sums.update(other.sums)
        self.invoice_totals.update(other.invoice_totals)
        self.invoice_counts.update(other.invoice_counts)
        self.invoice_amounts.update(other.invoice_amounts)
        self.latest.update(other.latest)
        self.by_trip.update(other.by_trip)
        self.loose.update(other.loose)

    def _per_contract(
        self,
    ) -> dict[str, tuple[dict[Status, int], _Totals, dict[Status, int]]]:
        """Return per contract its lines per status, ledgers and billed per status."""
        out: dict[str, tuple[dict[Status, int], _Totals, dict[Status, int]]] = {}
        for key, ic in self.invoice_counts.items():
            entry = out.get(key[0])
            if entry is None:
                entry = out[key[0]] = (dict.fromkeys(Status, 0), _Totals(), {})
            counts, total, amounts = entry
            for status, n in ic.items():
                counts[status] += n
            t = self.invoice_totals.get(key)
            if t is not None:
                total.add(t)
            for status, cents in self.invoice_amounts.get(key, {}).items():
                amounts[status] = amounts.get(status, 0) + cents
        return out

    def totals(
        self, inputs: Inputs, claimed: bytearray, pairs: int, policy: Policy
    ) -> dict[str, Any]:
        """Return the :class:`Totals` attributes, given the trips *claimed* by any line."""
        # The records live with the Report.
        from ice_recon.report import ContractSummary, StatusCounts, Unbilled

        unbilled = Unbilled(inputs.manifests, claimed)
        d = cents_to_decimal
        per_contract = self._per_contract()
        counts = dict.fromkeys(Status, 0)
        total = _Totals()
        amounts_all: dict[Status, int] = {}
        for cnt, t, amounts in per_contract.values():
            for status, n in cnt.items():
                counts[status] += n
            total.add(t)
            for status, cents in amounts.items():
                amounts_all[status] = amounts_all.get(status, 0) + cents
        contract_totals = {cid: entry[1] for cid, entry in per_contract.items()}
        s9 = section9(
            inputs,
            policy,
            claimed=claimed,
            sums=self.sums,
            invoice_totals=self.invoice_totals,
            latest=self.latest,
            by_trip=self.by_trip,
            loose=self.loose,
            contract_totals=contract_totals,
        )
        # Contracts with lines, as before, and those with an invoice header or terms.
        empty: tuple[dict[Status, int], _Totals, dict[Status, int]] = (
            dict.fromkeys(Status, 0),
            _Totals(),
            {},
        )
        listed = set(per_contract)
        listed.update(h.record.contract_id for h in inputs.invoices)
        listed.update(c.record.contract_id for c in inputs.contracts)
        invoices = sorted(
            (*footing_findings(inputs.invoices, self.sums), *s9.findings),
            key=_finding_order,
        )
        return {
            "line_count": self.lines,
            "counts": StatusCounts(counts),
            "ledgers": total.ledgers(),
            "contracts": {
                cid: ContractSummary(
                    counts=cnt,
                    ledgers=t.ledgers(),
                    amounts={s: d(a) for s, a in amounts.items()},
                    payments=s9.by_contract.get(cid, PaymentLedgers()),
                )
                for cid in sorted(listed)
                for cnt, t, amounts in (per_contract.get(cid, empty),)
            },
            "unbilled": unbilled,
            "invoices": tuple(invoices),
            "payments": s9.payments,
            "oversight": s9.oversight,
            "problems": inputs.problems,
            "digests": inputs.digests,
            "stats": {"candidate_pairs": pairs},
            "by_invoice": {key: t.ledgers() for key, t in sorted(self.invoice_totals.items())},
            "amounts": {s: d(a) for s, a in amounts_all.items()},
            "invoice_counts": self.invoice_counts,
            "policy": policy,
        }


def _finding_order(f: InvoiceFinding) -> tuple[str, str, str, Decimal]:
    """Sort invoice findings by contract, invoice, code, then header total (empty first)."""
    return (
        f.contract_id,
        f.invoice_id,
        f.finding.value,
        Decimal(-1) if f.header_total is None else f.header_total,
    )
