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

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ice_recon.index import T_CANCELLED, T_DAY
from ice_recon.match import INFERRED, Matched, within_tolerance
from ice_recon.money import Rounding, pow10, round_div, to_cents
from ice_recon.policy import Policy
from ice_recon.price import PricedChunk
from ice_recon.records import BASIS_CANCELLATION, Finding, Status
from ice_recon.tables import LineChunk

__all__ = ["Classified", "classify_chunk"]

_MODES: Final = tuple(Rounding)
_S = Status
_NO_RATE: Final = (_S.NO_RATE.value,)
_UNSUPPORTED: Final = (_S.UNSUPPORTED.value,)
_NOT_PERFORMED: Final = (_S.NOT_PERFORMED.value,)
_DUPLICATE: Final = (_S.DUPLICATE.value,)
_MISSING: Final = (_S.UNSUPPORTED.value, Finding.MISSING_MEASURE.value)
_INVALID: Final = (_S.INVALID.value,)
#: The informational codes, in the order findings list them.
_INFO_ORDER: Final = (
    Finding.INFERRED_MATCH.value,
    Finding.AMBIGUOUS_MATCH.value,
    Finding.SERVICE_DATE_MISMATCH.value,
    Finding.WITHIN_TOLERANCE.value,
    Finding.DUPLICATE_CANDIDATE.value,
)
_ZERO: Final = (0, 0, 0, 0)
_POW10: Final = tuple(10**i for i in range(40))
_HALF_UP: Final = Rounding.HALF_UP

#: Classify lines through the general path only (a property test compares both paths).
_FAST_PATHS = True


class Classified:
    """The classify stage's result for one chunk, as columns by position in the chunk.

    Money columns are integers of cents (``None`` for INVALID lines); ``parts`` holds the
    decomposition (extension, price, quantity, minimum) in cents for priced lines (rows
    7-14), else ``None``; ``rule`` is the rule cited as the line's evidence; ``used`` the
    quantity the expected amount is based on (the billable one, or the billed one when it
    is within tolerance: those lines are in ``within``).
    """

    __slots__ = (
        "billed",
        "erroneous",
        "expected",
        "findings",
        "parts",
        "rule",
        "status",
        "underbilled",
        "unsupported",
        "used",
        "within",
    )

    def __init__(self, n: int) -> None:
        self.status: list[Status] = [_S.INVALID] * n
        self.findings: list[tuple[str, ...]] = [_INVALID] * n
        self.billed: list[int | None] = [None] * n
        self.expected: list[int | None] = [None] * n
        self.erroneous: list[int] = [0] * n
        self.unsupported: list[int] = [0] * n
        self.underbilled: list[int] = [0] * n
        self.parts: list[tuple[int, int, int, int] | None] = [None] * n
        self.rule: list[Any] = [None] * n
        self.used: list[tuple[int, int] | None] = [None] * n
        self.within: set[int] = set()


def _eq(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a[1] == b[1]:
        return a[0] == b[0]
    s = max(a[1], b[1])
    return a[0] * pow10(s - a[1]) == b[0] * pow10(s - b[1])


def classify_chunk(
    chunk: LineChunk, matched: Matched, priced: PricedChunk, policy: Policy
) -> Classified:
    """Classify every line of *chunk* (DESIGN section 5) from the match and price stages.

    Decides the status, findings, amounts and decomposition as integers and codes; the
    words of the explanation are made later, only when a line is written or read
    (:mod:`ice_recon.explain`). The usual line — priced, billed exactly as expected at the
    rule's rate and the billable quantity — is decided inline; every other one by the
    general rules of :func:`_classify_line`.
    """
    n = len(chunk)
    out = Classified(n)
    status_col, findings_col, billed_col, expected_col = (
        out.status,
        out.findings,
        out.billed,
        out.expected,
    )
    parts_col, rule_col, used_col = out.parts, out.rule, out.used
    matched_ = _S.MATCHED
    fast = _FAST_PATHS
    pow10_ = _POW10
    half_up = _HALF_UP
    slow = _classify_line
    duplicate, candidate, ambiguous = matched.duplicate, matched.candidate, matched.ambiguous
    for k, (ok, a, qb, pb, day, trip, kind, rule, qe, p, e, tariff, terms) in enumerate(
        zip(
            chunk.valid, chunk.amount, chunk.qty, chunk.price, chunk.day, matched.trip,
            matched.kind, priced.rule, priced.qe, priced.price, priced.expected,
            priced.tariff, priced.terms,
            strict=True,
        )
    ):  # fmt: skip
        if not ok:
            continue
        billed_col[k] = a
        if (
            fast
            and a == e
            and a == p
            and trip is not None
            and k not in duplicate
            and tariff is not None
            and tariff.rate is not None
            and k not in priced.mismatch
        ):
            # Billed exactly: the amount is P(qe) (no minimum raised it), the billed
            # quantity is the billable one and the unit price the rate, so R(qb x pb) is
            # P(qb) = P(qe) = A and every part of the decomposition is zero.
            assert qb is not None and pb is not None and qe is not None and terms is not None
            rate = tariff.rate
            if (
                (qb == qe or _eq(qb, qe))
                and (pb == rate or _eq(pb, rate))
                and trip[T_CANCELLED] == (terms.basis == BASIS_CANCELLATION)
            ):
                n_ = qb[0] * pb[0]
                sc = qb[1] + pb[1]
                if sc <= 2:
                    r = n_ * pow10_[2 - sc]
                elif terms.mode is half_up:
                    d = pow10_[sc - 2]
                    r = (2 * n_ + d) // (2 * d)
                else:
                    r = round_div(n_, pow10_[sc - 2], terms.mode)
                if r == a:
                    status_col[k] = matched_
                    expected_col[k] = a
                    parts_col[k] = _ZERO
                    rule_col[k] = rule
                    used_col[k] = qe
                    inferred = kind == INFERRED
                    if trip[T_DAY] != day:
                        findings_col[k] = _SDM_INFERRED if inferred else _SDM
                    else:
                        findings_col[k] = _INFERRED_ONLY if inferred else ()
                    continue
        slow(chunk, matched, priced, policy, out, k, duplicate, candidate, ambiguous)
    return out


_SDM: Final = (Finding.SERVICE_DATE_MISMATCH.value,)
_INFERRED_ONLY: Final = (Finding.INFERRED_MATCH.value,)
_SDM_INFERRED: Final = (Finding.INFERRED_MATCH.value, Finding.SERVICE_DATE_MISMATCH.value)


def _classify_line(
    chunk: LineChunk,
    m: Matched,
    priced: PricedChunk,
    policy: Policy,
    out: Classified,
    k: int,
    duplicate: Mapping[int, str],
    candidate: Mapping[int, str],
    ambiguous: Mapping[int, Sequence[str]],
) -> None:
    """Classify line *k* of the chunk by the general rules of the status table."""
    a = chunk.amount[k]
    qb, pb, day = chunk.qty[k], chunk.price[k], chunk.day[k]
    assert a is not None and qb is not None and pb is not None and day is not None
    trip = m.trip[k]
    rule = priced.rule[k]
    # A rule found only to show that the CLIN has a rate is not the line's rule: not cited.
    out.rule[k] = None if k in priced.unknown else rule
    info: list[str] = []
    if m.kind[k] == INFERRED:
        info.append(Finding.INFERRED_MATCH.value)
    if k in ambiguous:
        info.append(Finding.AMBIGUOUS_MATCH.value)
    if trip is not None and trip[T_DAY] != day:
        info.append(Finding.SERVICE_DATE_MISMATCH.value)
    if trip is None and k in candidate:
        info.append(Finding.DUPLICATE_CANDIDATE.value)

    def finish(status: Status, expected: int, codes: Sequence[str]) -> None:
        variance = a - expected
        if status is _S.UNSUPPORTED:
            out.unsupported[k] = a
        elif variance > 0:
            out.erroneous[k] = variance
        elif variance < 0:
            out.underbilled[k] = -variance
        out.status[k] = status
        out.expected[k] = expected
        if info:
            ordered = [c for c in _INFO_ORDER if c in info]
            out.findings[k] = (*codes, *ordered)
        else:
            out.findings[k] = tuple(codes)

    if rule is None:  # Row 2: no rule covers the date.
        finish(_S.NO_RATE, 0, _NO_RATE)
        return
    if trip is None:  # Row 3: no trip supports the line.
        finish(_S.UNSUPPORTED, 0, _UNSUPPORTED)
        return
    if bool(trip[T_CANCELLED]) != (rule.basis == BASIS_CANCELLATION):  # Row 4
        finish(_S.NOT_PERFORMED, 0, _NOT_PERFORMED)
        return
    if k in duplicate:  # Row 5: the charge was claimed by an earlier line.
        finish(_S.DUPLICATE, 0, _DUPLICATE)
        return
    terms, tariff, qe = priced.terms[k], priced.tariff[k], priced.qe[k]
    if k in priced.missing or priced.expected[k] is None:  # Row 6: missing evidence.
        finish(_S.UNSUPPORTED, 0, _MISSING)
        return

    # Rows 7-14: priced.
    assert terms is not None and tariff is not None and qe is not None
    p_qe, expected = priced.price[k], priced.expected[k]
    assert p_qe is not None and expected is not None
    mode = terms.mode
    c = terms.compiled
    qty_equal = _eq(qb, qe)
    within = not qty_equal and within_tolerance(qb, qe, policy.tolerances.get(rule.basis))
    q_used = qb if within else qe
    p_qb = tariff.price_cents(qb, mode)
    if within:
        p_qe = tariff.price_cents(q_used, mode)
        expected = c.expected_cents(q_used, p_qe)
        out.within.add(k)
    product = (qb[0] * pb[0], qb[1] + pb[1])
    r_qb_pb = to_cents(product[0], product[1], mode)
    parts = (a - r_qb_pb, r_qb_pb - p_qb, p_qb - p_qe, p_qe - expected)
    out.parts[k] = parts
    out.used[k] = q_used
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
        (_S.LABOR_CATEGORY_MISMATCH, k in priced.mismatch),
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
    codes = [] if status is _S.MATCHED else [status.value]
    codes += [s.value for s in holding if s is not status]
    if within:
        info.append(Finding.WITHIN_TOLERANCE.value)
    finish(status, expected, codes)
