"""Put a line's decided result into words: the explanation column of results.csv.

The classify stage decides every line as integers and codes; this module turns them into
the *statement of difference* of DESIGN section 5 ("Evidence"): what was billed, what the
trip recorded, the rule and rate authority that price it, the expected amount, and how the
variance decomposes — or why the line could not be priced. Texts are made only when a line
is written or read, never on the reconciliation's hot path, and cite keys (trips, invoices,
lines by number, rules), never input line numbers.

>>> from ice_recon.cli import sample_dir
>>> import ice_recon
>>> report = ice_recon.reconcile(sample_dir())
>>> print(report.lines[0].explanation)  # doctest: +NORMALIZE_WHITESPACE
billed 32.6 loaded_miles x 2.3950 = 150.00; trip T000123401 recorded 32.6 -> 150.00
(CLIN 0001, 2021-04-01..2021-09-30, P00003 B.1); matches
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ice_recon._csv import text_cell
from ice_recon.classify import ZERO_PARTS, Classified
from ice_recon.errors import Problem
from ice_recon.index import T_CANCELLED, T_DAY, T_ID, T_NOTICE, PricingRule
from ice_recon.match import Matched
from ice_recon.money import cents_text, format_cents, format_scaled, pow10
from ice_recon.price import PricedChunk, Tariff, Terms
from ice_recon.records import BASIS_LABOR_HOURS, Status
from ice_recon.tables import InvoiceLineTable, LineChunk

__all__ = ["Explainer", "Fused", "iso_date", "problem_columns", "same_value"]

#: The fixed texts of a usual line's results.csv row (:meth:`Explainer.fused`).
Fused = tuple[str, str, str]

_PARTS: Final = ("extension", "price", "quantity", "minimum")
_ZERO: Final = ZERO_PARTS
_S = Status


def problem_columns(problems: tuple[Problem, ...], file: str) -> dict[int, tuple[str, ...]]:
    """Return, by file line, what is wrong with an invoice line's own row (for INVALID).

    Each entry names the column, what was expected and the value found, as the problem
    says it (``column 'quantity': must be a decimal number (got '1,5')``). Only the row's
    own problems: a duplicate key is reported at the later of the two rows, which depends
    on row order; the explanation must not.
    """
    found: dict[int, list[str]] = {}
    for p in problems:
        if p.file == file and not p.message.startswith("duplicate line "):
            texts = found.setdefault(p.line, [])
            text = str(p)[len(f"{p.file}:{p.line}: ") :]
            if text not in texts:
                texts.append(text)
    return {line: tuple(texts) for line, texts in found.items()}


def same_value(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Return whether two ``(units, scale)`` numbers are equal in value (``1.50 == 1.5``)."""
    if a[1] == b[1]:
        return a[0] == b[0]
    s = max(a[1], b[1])
    return a[0] * pow10(s - a[1]) == b[0] * pow10(s - b[1])


def _signed(cents: int) -> str:
    return ("+" if cents > 0 else "") + format_cents(cents)


def iso_date(ordinal: int) -> str:
    """Return the ISO text of the date with *ordinal* (``2021-09-30``)."""
    return dt.date.fromordinal(ordinal).isoformat()


_iso = iso_date


class _Numbers(dict[tuple[int, int], str]):
    """(units, scale) -> the number's text, each made once; bounded."""

    def __missing__(self, value: tuple[int, int]) -> str:
        if len(self) > 100_000:
            self.clear()  # quantities vary without end: bound the memo
        text = self[value] = format_scaled(*value)
        return text


class Explainer:
    """Make explanations, remembering texts that recur across lines (numbers, citations).

    One explainer serves a whole run; its memos are bounded.
    """

    __slots__ = ("_bad", "_cells", "_cites", "_fused", "_numbers", "plain_trip_ids")

    def __init__(
        self, bad_columns: Mapping[int, tuple[str, ...]], *, plain_trip_ids: bool = False
    ) -> None:
        self._bad = bad_columns
        #: No trip id needs quoting in a CSV cell (so none is checked line by line).
        self.plain_trip_ids = plain_trip_ids
        self._numbers = _Numbers()
        self._cites: dict[tuple[int, int | None], tuple[PricingRule, str]] = {}
        self._cells: dict[int, tuple[PricingRule, str]] = {}
        self._fused: dict[tuple[int, tuple[int, int], int | None], tuple[PricingRule, Fused]] = {}

    def rule_cells(self, rule: PricingRule) -> str:
        """Return the ``rule_id,rate_authority`` cells of results.csv for *rule*."""
        found = self._cells.get(id(rule))
        if found is None or found[0] is not rule:
            text = text_cell(rule.rule_id) + "," + text_cell(rule.authority or "")
            found = self._cells[id(rule)] = (rule, text)
        return found[1]

    def fused(self, rule: PricingRule, price: tuple[int, int], terms: Terms | None) -> Fused:
        """Return the fixed texts of a priced line's results.csv row at *rule* and *price*.

        A priced line that :meth:`line` words by rule alone — on the trip's day or not,
        with no note of tolerance, roster category, ambiguity or notice tiers — is
        ``...,{match},{head}{quantity}{middle}{amount}; trip {trip} recorded {quantity}{more}
        -> {expected}{cite}{end}"`` (*more*: the billable quantity, the persons, the rate,
        as :meth:`line` says them; *end*: ``; matches`` or :meth:`variance`, and the date
        note). *head* holds the ``rule_id,rate_authority`` cells and opens the quoted
        explanation (which always holds a comma: the citation's); a quote in the rule's
        texts is doubled. *terms* matter for a fuel rule (its week).
        """
        week = terms.week if terms is not None and rule.fuel is not None else None
        key = (id(rule), price, week)
        found = self._fused.get(key)
        if found is None or found[0] is not rule:
            if len(self._fused) > 10_000:
                self._fused.clear()  # prices may vary without end: bound the memo
            basis = rule.basis.replace('"', '""')
            cite = self.cite(rule, terms).replace('"', '""')
            fused = (
                self.rule_cells(rule) + ',"billed ',
                f" {basis} x {self._numbers[price]} = ",
                f" ({cite})",
            )
            found = self._fused[key] = (rule, fused)
        return found[1]

    def number(self, value: tuple[int, int]) -> str:
        """Return ``format_scaled(*value)`` (memoized)."""
        return self._numbers[value]

    def cite(self, rule: PricingRule, terms: Terms | None) -> str:
        """Return the citation of *rule* (with the fuel index week its terms used)."""
        week = terms.week if terms is not None and rule.fuel is not None else None
        found = self._cites.get((id(rule), week))
        if found is None or found[0] is not rule:
            found = self._cites[(id(rule), week)] = (rule, _cite(rule, terms))
        return found[1]

    def invalid(self, table: InvoiceLineTable, row: int) -> str:
        """Return the explanation of the INVALID line at *row* of *table*."""
        why = list(self._bad.get(table.line[row], ()))
        if table.duplicate_key[row]:
            why.append("its (contract_id, invoice_id, line_no) is on another row too")
        where = f": {'; '.join(why)}" if why else ""
        return f"invalid input row{where}; not reconciled"

    def chunk(
        self,
        chunk: LineChunk,
        m: Matched,
        p: PricedChunk,
        c: Classified,
        positions: Sequence[int] | None = None,
    ) -> list[str]:
        """Return the explanations of the lines at *positions* (all) of a classified chunk.

        The usual line — MATCHED on the classify stage's fast path: billed as expected, at
        the rule's rate, for the billable quantity — is put into words here, in one pass
        over the columns; every other line by :meth:`line`.
        """
        out: list[str] = []
        append = out.append
        line = self.line
        number = self._numbers.__getitem__
        cents = cents_text
        cite = self.cite
        matched = _S.MATCHED
        zero = _ZERO
        labor = BASIS_LABOR_HOURS
        if positions is None:
            positions = range(len(chunk))
        status_col, parts_col, rule_col, trip_col = c.status, c.parts, p.rule, m.trip
        # Typed Any: an INVALID line holds None there, and goes to :meth:`line` below.
        numbers: tuple[Sequence[Any], ...] = (
            p.q, c.used, chunk.qty, chunk.price, chunk.amount, chunk.day
        )  # fmt: skip
        q_col, used_col, qb_col, pb_col, a_col, day_col = numbers
        for k in positions:
            status, parts, rule, trip = status_col[k], parts_col[k], rule_col[k], trip_col[k]
            q, used, qb, pb, a, day = (
                q_col[k], used_col[k], qb_col[k], pb_col[k], a_col[k], day_col[k]
            )  # fmt: skip
            if (
                parts is not zero
                or status is not matched
                or rule is None
                or trip is None
                or (rule.rate is None and rule.fuel is None)
            ):
                append(line(chunk, m, p, c, k))
                continue
            qb_text, pb_text, money = number(qb), number(pb), cents(a)
            q_text = qb_text if q == qb else number(q)
            if q is used or q == used:
                measured = f"trip {trip[T_ID]} recorded {q_text}"
            else:
                billable = qb_text if used == qb else number(used)
                measured = f"trip {trip[T_ID]} recorded {q_text} (billable {billable})"
            persons = p.persons[k]
            if persons and rule.basis == labor:
                measured += f" for {', '.join(persons)}"
            if rule.rate is None:  # a fuel rule: its rate is that of the index week
                tariff = p.tariff[k]
                assert tariff is not None and tariff.rate is not None
                measured += f" at {number(tariff.rate)}"
            text = (
                f"billed {qb_text} {rule.basis} x {pb_text} = {money}; {measured} -> {money} "
                f"({cite(rule, p.terms[k])}); matches"
            )
            if trip[T_DAY] != day:
                text += f"; line dated {_iso(day)} but trip {trip[T_ID]} ran on {_iso(trip[T_DAY])}"
            append(text)
        return out

    def line(self, chunk: LineChunk, m: Matched, p: PricedChunk, c: Classified, k: int) -> str:
        """Return the explanation of line *k* of a classified chunk."""
        if not chunk.valid[k]:
            return self.invalid(chunk.table, chunk.rows[k])
        number = self.number
        a, qb, pb = chunk.amount[k], chunk.qty[k], chunk.price[k]
        day, clin, contract = chunk.day[k], chunk.clin[k], chunk.contract[k]
        assert a is not None and qb is not None and pb is not None and day is not None
        rule = p.rule[k]
        trip = m.trip[k]
        status = c.status[k]
        money = format_cents(a)
        qb_text, pb_text = number(qb), number(pb)
        if rule is not None:
            billed = f"billed {qb_text} {rule.basis} x {pb_text} = {money}"
        else:
            billed = f"billed {qb_text} x {pb_text} = {money}"
        notes: list[str] = []
        if k in m.ambiguous:
            notes.append(f"ambiguous: trips {', '.join(m.ambiguous[k])} fit equally well")
        if trip is not None and trip[T_DAY] != day:
            notes.append(f"line dated {_iso(day)} but trip {trip[T_ID]} ran on {_iso(trip[T_DAY])}")
        if rule is None:
            on = _iso(trip[T_DAY]) if trip is not None else _iso(day)
            cat = chunk.category[k]
            what = f"CLIN {clin}" + (f" labor category {cat}" if cat else "")
            text = f"{billed}; no rate for {what} of contract {contract} on {on}; erroneous {money}"
        elif trip is None:
            ref = chunk.ref[k]
            if ref is None:
                why = "the line names no trip"
            else:
                why = f"trip_ref {ref} is not a trip of contract {contract}"
            if k not in m.ambiguous:
                why += " and no trip could be inferred"
            text = f"{billed}; {why}; unsupported {money}"
        elif status is _S.NOT_PERFORMED:
            if trip[T_CANCELLED]:
                why = (
                    f"trip {trip[T_ID]} was cancelled; CLIN {clin} ({rule.basis}) is not a "
                    "cancellation fee"
                )
            else:
                why = f"trip {trip[T_ID]} was completed; CLIN {clin} is a cancellation fee"
            text = f"{billed}; {why}; erroneous {money}"
        elif status is _S.DUPLICATE:
            by = m.duplicate.get(k, "an earlier line")
            text = (
                f"{billed}; trip {trip[T_ID]} CLIN {clin} was already billed by {by}; "
                f"erroneous {money}"
            )
        elif c.parts[k] is None:  # row 6: missing evidence
            what = p.missing.get(k) or "no quantity"
            cited = c.rule[k]
            source = _cite(cited, None) if cited is not None else f"CLIN {clin}"
            text = f"{billed}; missing evidence: {what} ({source}); unsupported {money}"
        else:
            text = self._priced(chunk, m, p, c, k, billed, qb_text, notes)
        if trip is None and k in m.candidate:
            notes.append(f"looks like {m.candidate[k]}, already matched")
        if notes:
            return "; ".join([text, *notes])
        return text

    def _priced(
        self,
        chunk: LineChunk,
        m: Matched,
        p: PricedChunk,
        c: Classified,
        k: int,
        billed: str,
        qb_text: str,
        notes: list[str],
    ) -> str:
        number = self.number
        rule, trip, q, used = p.rule[k], m.trip[k], p.q[k], c.used[k]
        tariff, parts, expected = p.tariff[k], c.parts[k], c.expected[k]
        assert rule is not None and trip is not None and q is not None and used is not None
        assert tariff is not None and parts is not None and expected is not None
        qb, a = chunk.qty[k], chunk.amount[k]
        assert qb is not None and a is not None
        if k in c.within:
            notes.append(f"billed quantity {qb_text} is within tolerance; accepted")
        q_text = qb_text if q == qb else number(q)
        measured = f"trip {trip[T_ID]} recorded {q_text}"
        if q != used and not same_value(q, used):
            measured += f" (billable {qb_text if used == qb else number(used)})"
        persons = p.persons[k]
        if persons and rule.basis == BASIS_LABOR_HOURS:
            measured += f" for {', '.join(persons)}"
        if k in p.mismatch:
            measured += f" in roster category {p.category[k]}"
        if rule.rate is None:
            rate = tariff.effective_rate(used)
            if rate is not None:
                measured += f" at {number(rate)}"
        terms = p.terms[k]
        if terms is not None and terms.by_notice and terms.tariff is not None:
            measured += "; " + self._notice(terms.tariff, trip[T_NOTICE])
        e_text = format_cents(expected) if expected != a else billed[billed.rindex(" ") + 1 :]
        text = f"{billed}; {measured} -> {e_text} ({self.cite(rule, p.terms[k])})"
        if c.status[k] is _S.MATCHED:
            return text + "; matches"
        return text + self.variance(parts, a - expected)

    @staticmethod
    def variance(parts: tuple[int, int, int, int], variance: int) -> str:
        """Return how a priced line's *variance* (cents) decomposes into its *parts*.

        E.g. ``; over by 27.00 (extension +27.00)``: the end of its explanation.
        """
        shown = ", ".join(
            f"{part} {_signed(v)}" for part, v in zip(_PARTS, parts, strict=True) if v
        )
        direction = "over" if variance > 0 else "under"
        return f"; {direction} by {format_cents(abs(variance))} ({shown})"

    def _notice(self, tiers: Tariff, notice: tuple[int, int] | None) -> str:
        """Say which cancellation tier the trip's notice hours reach, and why.

        E.g. ``notice 20 h: tier from 12 h applies (next tier from 24 h), fee 150.00``.
        """
        if notice is None:  # pragma: no cover - a fee without notice hours is not priced
            return "cancel_notice_hours not recorded"
        i = tiers.tier_index(notice)
        scale = tiers.from_scale
        text = f"notice {self.number(notice)} h: tier from {self.number((tiers.froms[i], scale))} h"
        if i + 1 < len(tiers.froms):
            text += f" applies (next tier from {self.number((tiers.froms[i + 1], scale))} h)"
        else:
            text += " applies (the highest tier)"
        return f"{text}, fee {self.number(tiers.tier_rate(notice))}"


def _cite(rule: PricingRule, terms: Terms | None) -> str:
    parts = [f"CLIN {rule.clin}"]
    if rule.labor_category:
        parts.append(rule.labor_category)
    parts.append(rule.window)
    if rule.authority:
        parts.append(rule.authority)
    if terms is not None and terms.week is not None and rule.fuel is not None:
        parts.append(
            f"fuel index {rule.fuel.series} week {_iso(terms.week)} at {terms.index_price}"
        )
    return ", ".join(parts)
