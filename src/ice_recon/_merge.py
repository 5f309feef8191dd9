"""Merge the totals of runs over disjoint sets of contracts (datasets partitioned by contract).

Partition independence (DESIGN section 7) makes every figure of :class:`~ice_recon.report.Totals`
either a sum (counts, ledgers, payment ledgers, amounts, candidate pairs) or a union of
per-contract and per-invoice entries, each sequence sorted by contract first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from ice_recon.controls import PaymentLedgers
from ice_recon.errors import ArgumentError, Problem
from ice_recon.money import exact_sum
from ice_recon.oversight import Oversight
from ice_recon.records import Status
from ice_recon.report import (
    ContractSummary,
    Ledgers,
    StatusCounts,
    Totals,
    UnbilledTrip,
    _finding_order,
)

__all__ = ["merge_totals"]


def _money(values: Iterable[Any], field: str) -> Any:
    return exact_sum(getattr(v, field) for v in values)


def merge_totals(parts: Sequence[Totals]) -> Totals:
    """Return the totals of a run made of *parts*, runs over disjoint sets of contracts.

    Sums are exact; per-contract and per-invoice figures are taken from the part that has
    them; sorted sequences stay sorted (every one of them is sorted by contract first).
    The problems of the shared files, reported by every part, are kept once.

    Raises:
        ArgumentError: no parts, or two parts with the same contract.
    """
    if not parts:
        raise ArgumentError("merge_totals needs at least one part")
    contracts: dict[str, ContractSummary] = {}
    for part in parts:
        for cid, summary in part.contracts.items():
            if cid in contracts:
                raise ArgumentError(f"contract {cid!r} is in two parts")
            contracts[cid] = summary
    ledger_fields = [a.name for a in attrs.fields(Ledgers)]
    payment_fields = [a.name for a in attrs.fields(PaymentLedgers)]
    amounts = {
        s: exact_sum(p.amounts[s] for p in parts if s in p.amounts)
        for s in Status
        if any(s in p.amounts for p in parts)
    }
    by_contract = _by_contract
    return Totals(
        line_count=sum(p.line_count for p in parts),
        counts=StatusCounts({s: sum(p.counts[s] for p in parts) for s in Status}),
        ledgers=Ledgers(**{f: _money((p.ledgers for p in parts), f) for f in ledger_fields}),
        contracts=dict(sorted(contracts.items())),
        unbilled=tuple(
            sorted(itertools.chain.from_iterable(p.unbilled for p in parts), key=_unbilled_key)
        ),
        invoices=tuple(
            sorted(itertools.chain.from_iterable(p.invoices for p in parts), key=_finding_order)
        ),
        problems=tuple(
            sorted(
                dict.fromkeys(itertools.chain.from_iterable(p.problems for p in parts)),
                key=Problem.sort_key,
            )
        ),
        digests=dict(sorted(itertools.chain.from_iterable(p.digests.items() for p in parts))),
        stats={
            k: sum(p.stats.get(k, 0) for p in parts)
            for k in dict.fromkeys(k for p in parts for k in p.stats)
        },
        by_invoice=dict(sorted(itertools.chain.from_iterable(p.by_invoice.items() for p in parts))),
        amounts=amounts,
        invoice_counts=dict(
            sorted(itertools.chain.from_iterable(p.invoice_counts.items() for p in parts))
        ),
        policy=parts[0].policy,
        payments=PaymentLedgers(
            **{f: _money((p.payments for p in parts), f) for f in payment_fields}
        ),
        oversight=Oversight(
            months=by_contract(p.oversight.months for p in parts),
            contracts=by_contract(p.oversight.contracts for p in parts),
            capacity=by_contract(p.oversight.capacity for p in parts),
        ),
    )


def _by_contract(rows: Iterable[Sequence[Any]]) -> tuple[Any, ...]:
    """Concatenate row sequences sorted by contract first; sort stably by contract."""
    return tuple(sorted(itertools.chain.from_iterable(rows), key=lambda r: str(r.contract_id)))


def _unbilled_key(u: UnbilledTrip) -> tuple[str, str]:
    return (u.contract_id, u.trip_id)
