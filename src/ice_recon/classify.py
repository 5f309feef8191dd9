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

__all__ = ["ZERO_PARTS", "Classified", "classify_chunk"]

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
#: The decomposition of a line the fast path decided: one object, which marks such lines.
ZERO_PARTS: Final = (0, 0, 0, 0)
_ZERO: Final = ZERO_PARTS
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
    info = 0  # bits of _INFO_ORDER
    if m.kind[k] == INFERRED:
        info |= 1
    if k in ambiguous:
        info |= 2
    if trip is not None and trip[T_DAY] != day:
        info |= 4
    if trip is None and k in candidate:
        info |= 16
    expected = 0
    codes: Sequence[str]
    if rule is None:  # Row 2: no rule covers the date.
        status, codes = _S.NO_RATE, _NO_RATE
    elif trip is None:  # Row 3: no trip supports the line.
        status, codes = _S.UNSUPPORTED, _UNSUPPORTED
    elif bool(trip[T_CANCELLED]) != (rule.basis == BASIS_CANCELLATION):  # Row 4
        status, codes = _S.NOT_PERFORMED, _NOT_PERFORMED
    elif k in duplicate:  # Row 5: the charge was claimed by an earlier line.
        status, codes = _S.DUPLICATE, _DUPLICATE
    elif k in priced.missing or priced.expected[k] is None:  # Row 6: missing evidence.
        status, codes = _S.UNSUPPORTED, _MISSING
    else:  # Rows 7-14: priced.
        status, codes, expected, within = _priced(chunk, priced, policy, out, k, rule, qb, pb, a)
        if within:
            info |= 8
    variance = a - expected
    if status is _S.UNSUPPORTED:
        out.unsupported[k] = a
    elif variance > 0:
        out.erroneous[k] = variance
    elif variance < 0:
        out.underbilled[k] = -variance
    out.status[k] = status
    out.expected[k] = expected
    out.findings[k] = _findings(tuple(codes), info)


_FINDINGS: dict[tuple[tuple[str, ...], int], tuple[str, ...]] = {}


def _findings(codes: tuple[str, ...], info: int) -> tuple[str, ...]:
    """Return the findings tuple of *codes* and the informational bits (one object each)."""
    key = (codes, info)
    found = _FINDINGS.get(key)
    if found is None:
        found = _FINDINGS[key] = (
            *codes,
            *(c for bit, c in enumerate(_INFO_ORDER) if info >> bit & 1),
        )
    return found


def _priced(
    chunk: LineChunk,
    priced: PricedChunk,
    policy: Policy,
    out: Classified,
    k: int,
    rule: Any,
    qb: tuple[int, int],
    pb: tuple[int, int],
    a: int,
) -> tuple[Status, list[str], int, bool]:
    """Decide a priced line (rows 7-14): status, codes, expected amount, within tolerance."""
    terms, tariff, qe = priced.terms[k], priced.tariff[k], priced.qe[k]
    p_qe, expected = priced.price[k], priced.expected[k]
    assert terms is not None and tariff is not None and qe is not None
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
    product, scale = qb[0] * pb[0], qb[1] + pb[1]
    r_qb_pb = to_cents(product, scale, mode)
    parts = (a - r_qb_pb, r_qb_pb - p_qb, p_qb - p_qe, p_qe - expected)
    out.parts[k] = parts
    out.used[k] = q_used
    rate = tariff.effective_rate(q_used)
    # The other modes matter only when the amount is not the extension under the rule's.
    in_other_mode = a != r_qb_pb and any(
        to_cents(product, scale, md) == a for md in _MODES if md is not mode
    )
    quantity_mismatch = not qty_equal and not within
    rate_right = rate is None or _eq(pb, rate)
    price_right = (r_qb_pb == p_qb) if rate is None else rate_right
    holding: list[Status] = []
    if k in priced.mismatch:
        holding.append(_S.LABOR_CATEGORY_MISMATCH)
    if (
        a != expected
        and rule.minimum_amount is not None
        and parts[1] == 0
        and parts[2] == 0
        and (parts[3] != 0 or a == c.min_amount)
    ):
        holding.append(_S.MINIMUM_MISAPPLIED)
    if a != r_qb_pb and not in_other_mode:
        holding.append(_S.EXTENSION_ERROR)
    if quantity_mismatch:
        holding.append(_S.QUANTITY_MISMATCH)
    if not rate_right:
        holding.append(_S.RATE_MISMATCH)
    if not quantity_mismatch and price_right and in_other_mode and abs(a - expected) == 1:
        holding.append(_S.ROUNDING_DIFF)
    # Row 14 is "any *other* non-zero variance": it holds only when no row 8-13 explains it.
    if a != expected and not holding:
        holding.append(_S.AMOUNT_MISMATCH)
    if a == expected:
        return _S.MATCHED, [s.value for s in holding], expected, within
    return holding[0], [s.value for s in holding], expected, within
