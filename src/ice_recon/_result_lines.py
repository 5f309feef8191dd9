"""The lines of ``results.csv`` for one chunk of classified lines (the write stage).

:class:`ChunkResult` holds what the stages decided for a chunk and turns it into the CSV
lines of ``results.csv`` (most priced lines in one step from their rule's fixed texts, the
others through the explanation builder) or into :class:`~ice_recon.report.LineResult`
records; :func:`untied` orders the rows that share a line key. Split out of
:mod:`ice_recon.report`, which re-exports both names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ice_recon._csv import text_cell, text_cells
from ice_recon.classify import ZERO_PARTS, Classified
from ice_recon.explain import Explainer, iso_date, same_value
from ice_recon.index import T_DAY, T_ID
from ice_recon.match import Matched
from ice_recon.money import cents_text, cents_to_decimal
from ice_recon.price import PricedChunk
from ice_recon.records import BASIS_LABOR_HOURS, Status
from ice_recon.tables import LineChunk

if TYPE_CHECKING:
    from ice_recon.report import LineResult

__all__ = ["ChunkResult", "untied"]


class IsoDays(dict[int, str]):
    """Date ordinal -> ISO text, each made once."""

    def __call__(self, ordinal: int) -> str:
        text = self.get(ordinal)
        if text is None:
            text = self[ordinal] = dt.date.fromordinal(ordinal).isoformat()
        return text


#: Write the usual lines in one step (off: every line from its explanation; a property test
#: compares both).
_FAST_PATHS = True
#: The statuses of lines the one-step path may write (those Explainer.line words by rule).
_WORDED: Final = frozenset(
    {
        Status.MATCHED,
        Status.MINIMUM_MISAPPLIED,
        Status.EXTENSION_ERROR,
        Status.QUANTITY_MISMATCH,
        Status.RATE_MISMATCH,
        Status.ROUNDING_DIFF,
        Status.AMOUNT_MISMATCH,
    }
)


class ChunkResult:
    """What the stages decided for one chunk of lines, and the order to write them in.

    ``order`` lists the chunk's positions in output order: the processing order, except
    that rows sharing a line key (INVALID copies of a duplicated key) are sorted by what is
    written for them, so that the file's row order does not show (:func:`untied`).
    """

    __slots__ = ("chunk", "classified", "matched", "order", "priced")

    def __init__(
        self, chunk: LineChunk, matched: Matched, priced: PricedChunk, classified: Classified
    ) -> None:
        self.chunk = chunk
        self.matched = matched
        self.priced = priced
        self.classified = classified
        self.order: Sequence[int] = range(len(chunk))

    def lines(self, explainer: Explainer) -> list[str]:
        """Return the results.csv lines of the chunk, in output order, each ending in ``\\n``.

        The lines are those :mod:`csv` writes (minimal quoting), made by joining cells
        directly: identifiers are quoted only when a cell needs it, money is formatted once
        per value, and a rule's id and authority once per rule. The usual line (see
        :meth:`Explainer.fused`) is made in one step from its rule's fixed texts; every
        other line from its explanation (:meth:`Explainer.chunk`).
        """
        chunk, m, c, p = self.chunk, self.matched, self.classified, self.priced
        f = cents_text
        contract = text_cells(chunk.contract)
        invoice = text_cells(chunk.invoice)
        line_no = text_cells(chunk.line_no_text)
        findings, kinds = c.findings, m.kind
        matched = Status.MATCHED
        n = len(chunk)
        done: list[str | None] = [None] * n
        rest: list[int] = []
        if explainer.plain_trip_ids and _FAST_PATHS:
            # Trip ids need no quoting, in their cell or in the quoted explanation.
            fused = explainer.fused
            number = explainer.number
            iso = iso_date
            zero = ZERO_PARTS
            labor = BASIS_LABOR_HOURS
            worded = _WORDED
            variance_words = explainer.variance
            persons_col, terms_col, tariff_col = p.persons, p.terms, p.tariff
            expected_col, within, mismatch = c.expected, c.within, p.mismatch
            erroneous, unsupported, underbilled = c.erroneous, c.unsupported, c.underbilled
            ambiguous = m.ambiguous
            for k, (status, parts, rule, cited, trip, q, used, qb, pb, a, day, billed) in enumerate(
                zip(
                    c.status, c.parts, p.rule, c.rule, m.trip, p.q, c.used, chunk.qty,
                    chunk.price, chunk.amount, chunk.day, c.billed,
                    strict=True,
                )
            ):  # fmt: skip
                if (
                    rule is None
                    or trip is None
                    or status not in worded
                    or cited is not rule
                    or billed != a
                ):
                    rest.append(k)
                    continue
                terms = terms_col[k]
                expected = expected_col[k]
                assert expected is not None  # a priced line's
                if parts is zero:  # the classify stage's fast path (as Explainer.chunk)
                    if rule.rate is None and rule.fuel is None:
                        rest.append(k)
                        continue
                    billable = not (q is used or q == used)
                elif (  # classified by the general rules, as Explainer.line words them
                    parts is not None
                    and k not in within
                    and k not in mismatch
                    and k not in ambiguous
                    and (terms is None or not terms.by_notice)
                ):
                    billable = q != used and not same_value(q, used)
                else:
                    rest.append(k)
                    continue
                head, middle, cite = fused(rule, pb, terms)
                qb_text = number(qb)
                q_text = qb_text if q == qb else number(q)
                if billable:
                    extra = f" (billable {qb_text if used == qb else number(used)})"
                else:
                    extra = ""
                persons = persons_col[k]
                if persons and rule.basis == labor:
                    who = ", ".join(persons)
                    extra += " for " + (who.replace('"', '""') if '"' in who else who)
                if rule.rate is None:  # a fuel rule (its rate is the index week's) or tiers
                    tariff = tariff_col[k]
                    assert tariff is not None
                    if parts is zero:
                        assert tariff.rate is not None
                        extra += f" at {number(tariff.rate)}"
                    else:
                        rate = tariff.effective_rate(used)
                        if rate is not None:
                            extra += f" at {number(rate)}"
                money = f(billed)
                trip_id = trip[T_ID]
                if expected == billed and status is matched:
                    cells = f"{money},{money},0.00,0.00,0.00,0.00,{trip_id},"
                    close = "; matches"
                    e_text = money
                else:
                    variance = billed - expected
                    e_text = money if expected == billed else f(expected)
                    cells = (
                        f"{money},{e_text},{f(variance)},{f(erroneous[k])},"
                        f"{f(unsupported[k])},{f(underbilled[k])},{trip_id},"
                    )
                    close = "; matches" if status is matched else variance_words(parts, variance)
                if trip[T_DAY] != day:
                    close += f"; line dated {iso(day)} but trip {trip_id} ran on {iso(trip[T_DAY])}"
                code = findings[k]
                done[k] = (
                    f"{contract[k]},{invoice[k]},{line_no[k]},{status},"
                    f"{';'.join(code) if code else ''},{cells}{kinds[k]},"
                    f"{head}{qb_text}{middle}{money}; trip {trip_id} "
                    f'recorded {q_text}{extra} -> {e_text}{cite}{close}"\n'
                )
        else:
            rest = list(range(n))
        if rest:
            self._other_lines(explainer, rest, done, (contract, invoice, line_no))
        if isinstance(self.order, range) and self.order == range(n):
            return done  # type: ignore[return-value]  # every position is filled
        return [done[k] for k in self.order]  # type: ignore[misc]

    def _other_lines(
        self,
        explainer: Explainer,
        rest: list[int],
        done: list[str | None],
        keys: tuple[list[str], list[str], list[str]],
    ) -> None:
        """Fill in the results.csv lines at positions *rest* of *done*, from explanations.

        *keys* are the chunk's contract, invoice and line number cells.
        """
        chunk, m, c, p = self.chunk, self.matched, self.classified, self.priced
        f = cents_text
        whys = explainer.chunk(chunk, m, p, c, rest)
        q = text_cell
        contract, invoice, line_no = keys
        statuses, findings, billed_col, expected_col = c.status, c.findings, c.billed, c.expected
        rules, kinds, trips = c.rule, m.kind, m.trip
        matched = Status.MATCHED
        cited = explainer.rule_cells
        plain_ids = explainer.plain_trip_ids
        for k, why in zip(rest, whys, strict=True):
            billed, expected = billed_col[k], expected_col[k]
            status = statuses[k]
            if billed is None or expected is None:
                money = ",,,,,,,"  # six money cells and the trip, empty
            else:
                trip = trips[k]
                trip_id = "" if trip is None else trip[T_ID] if plain_ids else q(trip[T_ID])
                if status is matched and billed == expected:
                    text = f(billed)
                    money = f"{text},{text},0.00,0.00,0.00,0.00,{trip_id},"
                else:
                    money = (
                        f"{f(billed)},{f(expected)},{f(billed - expected)},{f(c.erroneous[k])},"
                        f"{f(c.unsupported[k])},{f(c.underbilled[k])},{trip_id},"
                    )
            rule = rules[k]
            code = findings[k]
            # An explanation begins with the library's words (never neutralised), and may
            # quote input text holding any character.
            if "," in why or '"' in why or "\n" in why or "\r" in why:
                why = '"' + why.replace('"', '""') + '"' if '"' in why else '"' + why + '"'
            done[k] = (
                f"{contract[k]},{invoice[k]},{line_no[k]},{status},"
                f"{';'.join(code) if code else ''},{money}{kinds[k]},"
                f"{',' if rule is None else cited(rule)},{why}\n"
            )

    def line_result(self, k: int, explainer: Explainer) -> LineResult:
        """Return the :class:`LineResult` of the line at position *k* of the chunk."""
        from ice_recon.report import LineResult  # the record lives with the Report

        chunk, m, c = self.chunk, self.matched, self.classified
        billed, expected = c.billed[k], c.expected[k]
        trip = m.trip[k]
        rule = c.rule[k]
        money = None if billed is None or expected is None else billed - expected
        d = cents_to_decimal
        parts = c.parts[k]
        table, row = chunk.table, chunk.rows[k]
        return LineResult(
            contract_id=chunk.contract[k],
            invoice_id=chunk.invoice[k],
            line_no=table.line_no[row],
            line_no_text=chunk.line_no_text[k],
            status=c.status[k],
            findings=c.findings[k],
            billed=None if billed is None else d(billed),
            expected=None if expected is None else d(expected),
            variance=None if money is None else d(money),
            erroneous=None if billed is None else d(c.erroneous[k]),
            unsupported=None if billed is None else d(c.unsupported[k]),
            underbilled=None if billed is None else d(c.underbilled[k]),
            trip_id=None if trip is None else trip[T_ID],
            match=m.kind[k],
            rule_id=None if rule is None else rule.rule_id,
            rate_authority=None if rule is None else rule.authority,
            explanation=explainer.line(chunk, m, self.priced, c, k),
            decomposition=None
            if parts is None
            else (d(parts[0]), d(parts[1]), d(parts[2]), d(parts[3])),
        )


def untied(result: ChunkResult, explainer: Explainer) -> None:
    """Order the chunk's rows that share a line key by what is written for them.

    Only INVALID rows can share a key (a duplicate key makes every copy INVALID); the
    processing order breaks their tie by file row, which must not show in the output.
    Chunks end where an invoice ends, so the rows of one key are in one chunk.
    """
    chunk = result.chunk
    table, rows, duplicate = chunk.table, chunk.rows, chunk.table.duplicate_key
    if not any(duplicate[r] for r in rows):
        return
    keys = list(zip(chunk.contract, chunk.invoice, chunk.line_no_text, strict=True))
    order = list(range(len(chunk)))
    c = result.classified
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and keys[end] == keys[start]:
            end += 1
        if end - start > 1:
            order[start:end] = sorted(
                order[start:end],
                key=lambda k: (c.findings[k], explainer.invalid(table, rows[k])),
            )
        start = end
    result.order = order
