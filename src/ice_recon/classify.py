"""Give every invoice line one status, its findings, the variance decomposition and ledgers.

The fifth stage (DESIGN section 5, "Status"). The status is the first row of the table
that applies; findings list every condition of rows 8-14 that holds, then the
informational codes. For priced lines (rows 7-14) the variance ``A - E`` is decomposed
exactly into four parts — with billed quantity qb, billed price pb, billable quantity qe,
R the rounding to cents with the rule's mode and P(q) the rule's price for q units::

    extension = A - R(qb*pb)      price = R(qb*pb) - P(qb)
    quantity  = P(qb) - P(qe)     minimum = P(qe) - E

which add up to the variance by construction. A positive variance is *erroneous*, a
negative one *underbilled*; lines without support are *unsupported*; so on every line
``variance = erroneous + unsupported - underbilled``.

Worked example (the OIG pattern "flight hours overcharged", here miles): billed
152.0 miles x 2.4575 = 373.54 where the trip recorded 137.4 -> 337.66: variance 35.88, all
of it the quantity part: R(152.0 x 2.4575) = 373.54 = P(152.0), P(137.4) = 337.66.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import attrs

from ice_recon.index import Index, PricingRule
from ice_recon.load import Inputs
from ice_recon.match import INFERRED, Matching, within_tolerance
from ice_recon.money import (
    Rounding,
    format_cents,
    format_scaled,
    pow10,
    to_cents,
)
from ice_recon.policy import Policy
from ice_recon.price import Priced, compiled
from ice_recon.records import BASIS_CANCELLATION, Finding, Status

__all__ = ["Classified", "classify"]

_MODES: Final = tuple(Rounding)
_TO_CENTS: Final = (100, 10, 1)
#: Status and finding codes as plain strings (an enum's .value is a descriptor lookup).
_CODE: Final[dict[Status | Finding, str]] = {m: m.value for m in (*Status, *Finding)}
_PARTS: Final = ("extension", "price", "quantity", "minimum")
_S = Status


@attrs.define(kw_only=True)
class Classified:
    """The classify stage's result, as columns indexed by invoice-line row.

    Money columns are integers of cents (``None`` for INVALID lines); ``decomposition``
    holds (extension, price, quantity, minimum) in cents for priced lines (rows 7-14).
    """

    status: list[Status]
    findings: list[tuple[str, ...]]
    billed: list[int | None]
    expected: list[int | None]
    erroneous: list[int]
    unsupported: list[int]
    underbilled: list[int]
    decomposition: list[tuple[int, int, int, int] | None]
    rule: list[PricingRule | None]
    explanation: list[str]


def _eq(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a[1] == b[1]:
        return a[0] == b[0]
    s = max(a[1], b[1])
    return a[0] * pow10(s - a[1]) == b[0] * pow10(s - b[1])


def _money(cents: int) -> str:
    return format_cents(cents)


def _signed(cents: int) -> str:
    return ("+" if cents > 0 else "") + format_cents(cents)


def classify(
    inputs: Inputs, index: Index, matching: Matching, policy: Policy | None = None
) -> Classified:
    """Classify every invoice line (DESIGN section 5) from the match stage's result."""
    policy = policy or Policy()
    lines = inputs.invoice_lines
    n = len(lines)
    out = Classified(
        status=[_S.INVALID] * n,
        findings=[()] * n,
        billed=[None] * n,
        expected=[None] * n,
        erroneous=[0] * n,
        unsupported=[0] * n,
        underbilled=[0] * n,
        decomposition=[None] * n,
        rule=[None] * n,
        explanation=[""] * n,
    )
    bad_columns = _problem_columns(inputs)
    texts = _Texts()
    for i in range(n):
        if not lines.valid[i]:
            out.findings[i] = (_CODE[_S.INVALID],)
            # Only the row's own cell problems: a duplicate key is reported at the later of
            # the two rows, which depends on row order; the explanation must not.
            cols = list(bad_columns.get(lines.line[i], ()))
            if lines.duplicate_key[i]:
                cols.append("duplicate line key")
            where = f" ({', '.join(cols)})" if cols else ""
            out.explanation[i] = f"invalid input row{where}; not reconciled"
            continue
        _classify_line(inputs, index, matching, policy, out, i, texts)
    return out


def _problem_columns(inputs: Inputs) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    for p in inputs.problems:
        if p.file == inputs.invoice_lines.file and not p.message.startswith("duplicate line "):
            cols = found.setdefault(p.line, [])
            name = f"column {p.column}" if p.column else "row"
            if name not in cols:
                cols.append(name)
    return {line: tuple(cols) for line, cols in found.items()}


def _classify_line(
    inputs: Inputs,
    index: Index,
    m: Matching,
    policy: Policy,
    out: Classified,
    i: int,
    texts: _Texts,
) -> None:
    lines, manifest = inputs.invoice_lines, inputs.manifests
    number = texts.number
    amount = lines.amount.get(i)
    qb = lines.quantity.get(i)
    pb = lines.unit_price.get(i)
    day = lines.service_date[i]
    clin = lines.clin[i]
    assert amount is not None and qb is not None and pb is not None
    assert day is not None and clin is not None
    a = amount[0] * _TO_CENTS[amount[1]]  # money has at most 2 places: exact
    out.billed[i] = a
    priced = m.priced[i]
    rule = None if priced is None else priced.rule
    # A rule found only to show that the CLIN has a rate is not the line's rule: not cited.
    cited = None if priced is None or priced.category_unknown else rule
    out.rule[i] = cited
    trip = m.trip[i]
    contract = lines.contract_id[i]
    billed_text = (
        f"billed {number(qb)}"
        + (f" {rule.basis}" if rule is not None else "")
        + f" x {number(pb)} = {_money(a)}"
    )

    info: list[str] = []
    notes: list[str] = []
    if m.kind[i] == INFERRED:
        info.append(_CODE[Finding.INFERRED_MATCH])
    if i in m.ambiguous:
        info.append(_CODE[Finding.AMBIGUOUS_MATCH])
        names = ", ".join(manifest.trip_id[r] for r in m.ambiguous[i])
        notes.append(f"ambiguous: trips {names} fit equally well")
    if trip >= 0 and manifest.service_date[trip] != day:
        info.append(_CODE[Finding.SERVICE_DATE_MISMATCH])
        notes.append(
            f"line dated {_iso(day)} but trip {manifest.trip_id[trip]} ran on "
            f"{_iso(manifest.service_date[trip])}"
        )
    candidate_of = m.duplicate_of.get(i) if trip < 0 else None

    def finish(status: Status, expected: int, codes: list[str], text: str) -> None:
        variance = a - expected
        if status is _S.UNSUPPORTED:
            out.unsupported[i] = a
        elif variance > 0:
            out.erroneous[i] = variance
        elif variance < 0:
            out.underbilled[i] = -variance
        all_info = list(info)
        if candidate_of is not None:
            all_info.append(_CODE[Finding.DUPLICATE_CANDIDATE])
            notes.append(f"looks like {candidate_of}, already matched")
        out.status[i] = status
        out.expected[i] = expected
        out.findings[i] = (*codes, *_ordered_info(all_info)) if all_info else tuple(codes)
        out.explanation[i] = "; ".join([text, *notes])

    # Row 2: no rule covers the date.
    if rule is None:
        on = _iso(manifest.service_date[trip]) if trip >= 0 else _iso(day)
        cat = lines.labor_category[i]
        what = f"CLIN {clin}" + (f" labor category {cat}" if cat else "")
        finish(
            _S.NO_RATE,
            0,
            [_CODE[_S.NO_RATE]],
            f"{billed_text}; no rate for {what} of contract {contract} on {on}; "
            f"erroneous {_money(a)}",
        )
        return
    # Row 3: no trip supports the line.
    if trip < 0:
        ref = lines.trip_ref[i]
        if ref is None:
            why = "the line names no trip"
        else:
            why = f"trip_ref {ref} is not a trip of contract {contract}"
        if i not in m.ambiguous:
            why += " and no trip could be inferred"
        finish(
            _S.UNSUPPORTED,
            0,
            [_CODE[_S.UNSUPPORTED]],
            f"{billed_text}; {why}; unsupported {_money(a)}",
        )
        return
    trip_id = manifest.trip_id[trip]
    cancelled = bool(manifest.cancelled[trip])
    # Row 4: the trip was not performed as billed.
    if cancelled != (rule.basis == BASIS_CANCELLATION):
        why = (
            f"trip {trip_id} was cancelled; CLIN {clin} ({rule.basis}) is not a cancellation fee"
            if cancelled
            else f"trip {trip_id} was completed; CLIN {clin} is a cancellation fee"
        )
        finish(
            _S.NOT_PERFORMED,
            0,
            [_CODE[_S.NOT_PERFORMED]],
            f"{billed_text}; {why}; erroneous {_money(a)}",
        )
        return
    # Row 5: the charge was claimed by an earlier line.
    if m.duplicate[i]:
        by = m.duplicate_of.get(i, "an earlier line")
        finish(
            _S.DUPLICATE,
            0,
            [_CODE[_S.DUPLICATE]],
            f"{billed_text}; trip {trip_id} CLIN {clin} was already billed by {by}; "
            f"erroneous {_money(a)}",
        )
        return
    assert priced is not None
    # Row 6: the trip did not record what the rule needs.
    if priced.missing is not None or priced.expected is None:
        what = priced.missing or "no quantity"
        source = _cite(cited) if cited is not None else f"CLIN {clin}"
        finish(
            _S.UNSUPPORTED,
            0,
            [_CODE[_S.UNSUPPORTED], _CODE[Finding.MISSING_MEASURE]],
            f"{billed_text}; missing evidence: {what} ({source}); unsupported {_money(a)}",
        )
        return

    # Rows 7-14: priced.
    mode = priced.mode
    c = compiled(rule)
    tariff, qe, q = priced.tariff, priced.qe, priced.q
    assert tariff is not None and qe is not None and q is not None
    assert priced.price is not None
    qty_equal = _eq(qb, qe)
    within = not qty_equal and within_tolerance(qb, qe, policy.tolerances.get(rule.basis))
    q_used = qb if within else qe
    p_qb = tariff.price_cents(qb, mode)
    if within:
        p_qe = tariff.price_cents(q_used, mode)
        expected = c.expected_cents(q_used, p_qe)
    else:
        p_qe, expected = priced.price, priced.expected
    product = (qb[0] * pb[0], qb[1] + pb[1])
    r_qb_pb = to_cents(product[0], product[1], mode)
    parts = (a - r_qb_pb, r_qb_pb - p_qb, p_qb - p_qe, p_qe - expected)
    out.decomposition[i] = parts
    rate = tariff.effective_rate(q_used)
    # The other modes matter only when the amount is not the extension under the rule's.
    other_modes = (
        {to_cents(product[0], product[1], md) for md in _MODES if md is not mode}
        if a != r_qb_pb
        else set()
    )
    quantity_mismatch = not qty_equal and not within
    price_right = (r_qb_pb == p_qb) if rate is None else _eq(pb, rate)
    conditions = [
        (_S.LABOR_CATEGORY_MISMATCH, priced.mismatch),
        (
            _S.MINIMUM_MISAPPLIED,
            a != expected
            and rule.minimum_amount is not None
            and parts[1] == 0
            and parts[2] == 0
            and (parts[3] != 0 or a == c.min_amount),
        ),
        (_S.EXTENSION_ERROR, a != r_qb_pb and a not in other_modes),
        (_S.QUANTITY_MISMATCH, quantity_mismatch),
        (_S.RATE_MISMATCH, rate is not None and not _eq(pb, rate)),
        (
            _S.ROUNDING_DIFF,
            not quantity_mismatch
            and price_right
            and a != r_qb_pb
            and a in other_modes
            and abs(a - expected) == 1,
        ),
    ]
    # Row 14 is "any *other* non-zero variance": it holds only when no row 8-13 explains it.
    conditions.append(
        (_S.AMOUNT_MISMATCH, a != expected and not any(holds for _, holds in conditions))
    )
    holding = [s for s, holds in conditions if holds]
    status = _S.MATCHED if a == expected else holding[0]
    codes = [] if status is _S.MATCHED else [_CODE[status]]
    codes += [_CODE[s] for s in holding if s is not status]
    if within:
        info.append(_CODE[Finding.WITHIN_TOLERANCE])
        notes.append(f"billed quantity {number(qb)} is within tolerance; accepted")
    measured = f"trip {trip_id} recorded {number(q)}"
    if not _eq(q, q_used):
        measured += f" (billable {number(q_used)})"
    if priced.persons and rule.basis == "labor_hours":
        measured += f" for {', '.join(priced.persons)}"
    if priced.mismatch:
        measured += f" in roster category {priced.labor_category}"
    if rate is not None and rule.rate is None:
        measured += f" at {number(rate)}"
    text = f"{billed_text}; {measured} -> {_money(expected)} ({texts.cite(rule, priced)})"
    if status is _S.MATCHED:
        text += "; matches"
    else:
        variance = a - expected
        shown = ", ".join(
            f"{part} {_signed(v)}" for part, v in zip(_PARTS, parts, strict=True) if v
        )
        direction = "over" if variance > 0 else "under"
        text += f"; {direction} by {_money(abs(variance))} ({shown})"
    finish(status, expected, codes, text)


def _ordered_info(codes: list[str]) -> list[str]:
    order = (
        _CODE[Finding.INFERRED_MATCH],
        _CODE[Finding.AMBIGUOUS_MATCH],
        _CODE[Finding.SERVICE_DATE_MISMATCH],
        _CODE[Finding.WITHIN_TOLERANCE],
        _CODE[Finding.DUPLICATE_CANDIDATE],
    )
    return [c for c in order if c in codes]


class _Texts:
    """Texts that recur across lines (numbers, rule citations), each made once per batch."""

    __slots__ = ("_cites", "_numbers")

    def __init__(self) -> None:
        self._numbers: dict[tuple[int, int], str] = {}
        self._cites: dict[tuple[int, int | None], tuple[PricingRule, str]] = {}

    def number(self, value: tuple[int, int]) -> str:
        """Return ``format_scaled(*value)``."""
        text = self._numbers.get(value)
        if text is None:
            if len(self._numbers) > 100_000:
                self._numbers.clear()  # quantities vary without end: bound the memo
            text = self._numbers[value] = format_scaled(*value)
        return text

    def cite(self, rule: PricingRule, priced: Priced) -> str:
        """Return ``_cite(rule, priced)``."""
        week = priced.index_week if rule.fuel is not None else None
        found = self._cites.get((id(rule), week))
        if found is None or found[0] is not rule:
            found = self._cites[(id(rule), week)] = (rule, _cite(rule, priced))
        return found[1]


def _cite(rule: PricingRule, priced: Priced | None = None) -> str:
    parts = [f"CLIN {rule.clin}"]
    if rule.labor_category:
        parts.append(rule.labor_category)
    parts.append(rule.window)
    if rule.authority:
        parts.append(rule.authority)
    if priced is not None and priced.index_week is not None and rule.fuel is not None:
        parts.append(
            f"fuel index {rule.fuel.series} week {_iso(priced.index_week)} at {priced.index_price}"
        )
    return ", ".join(parts)


def _iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()
