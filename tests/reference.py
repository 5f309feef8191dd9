"""A slow, plainly written ``Decimal`` reference of DESIGN section 5, for the property tests.

It is written from DESIGN.md alone (not from ``ice_recon``'s own modules) and uses nothing
but ``decimal.Decimal`` with explicit contexts, dicts and loops. It covers a restricted but
meaningful subset of the semantics:

- rates.csv rules of every basis except ``labor_hours``: flat rates, ``all_units`` and
  ``graduated`` tier sets, ``cancellation`` fees (flat or tiered by notice hours),
  ``free_quantity``, ``increment`` with its three roundings, ``minimum_quantity``,
  ``minimum_amount`` and the five rounding modes (the rule's, else the policy default);
- exact matching by ``trip_ref`` only: a line without a usable ref must have no inference
  candidate (the reference checks that its origin is recorded by no trip of its contract);
- NO_RATE, UNSUPPORTED, NOT_PERFORMED, DUPLICATE, missing measures, and every priced status
  except LABOR_CATEGORY_MISMATCH;
- quantity tolerances (absolute or percent) and the findings of every line;
- malformed invoice lines (INVALID), unbilled trips and invoice footing.

The rates, manifests and invoices rows must be valid (their validation is not re-implemented
here); no staff or fuel rules.

>>> round_cents(Decimal("112.125"), "half_even"), round_cents(Decimal("112.125"), "half_up")
(Decimal('112.12'), Decimal('112.13'))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from ice_recon import Status

__all__ = [
    "MODES",
    "RefInvoiceFinding",
    "RefLine",
    "RefResult",
    "Rule",
    "billable_quantity",
    "effective_rate",
    "expected_amount",
    "find_rule",
    "invalid_lines",
    "line_order_key",
    "parse_rules",
    "price_of",
    "reference",
    "round_cents",
    "tier_rate",
]

#: Exact arithmetic: any operation that would have to round raises instead.
EXACT = decimal.Context(
    prec=1000,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[
        decimal.InvalidOperation,
        decimal.DivisionByZero,
        decimal.Overflow,
        decimal.Inexact,
        decimal.Rounded,
    ],
)
#: Rounding to cents (``quantize`` rounds by the mode passed to it).
TO_CENTS = decimal.Context(
    prec=1000, traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
)
MODES = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "down": decimal.ROUND_DOWN,
    "up": decimal.ROUND_UP,
}
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
REQUIRED_LINE_COLUMNS = (
    "invoice_id",
    "line_no",
    "contract_id",
    "clin",
    "service_date",
    "quantity",
    "unit_price",
    "amount",
)


def round_cents(value: Decimal, mode: str) -> Decimal:
    """Round *value* to cents with the rounding mode named *mode*."""
    return value.quantize(CENT, rounding=MODES[mode], context=TO_CENTS)


def _mul(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.multiply(a, b)


def _add(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.add(a, b)


def _sub(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.subtract(a, b)


def _cell(row: Mapping[str, str], name: str) -> str:
    return (row.get(name) or "").strip()


def _opt_decimal(row: Mapping[str, str], name: str) -> Decimal | None:
    text = _cell(row, name)
    return Decimal(text) if text else None


def _date(text: str) -> dt.date | None:
    if DATE_TEXT.fullmatch(text) is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _decimal(text: str, *, money: bool = False) -> Decimal | None:
    """Parse a non-negative decimal cell as section 4 allows, else None."""
    if DECIMAL_TEXT.fullmatch(text) is None or text.startswith("-"):
        return None
    value = Decimal(text)
    if money and -value.as_tuple().exponent > 2:
        return None
    return value


# ----------------------------------------------------------------------------------- rules


@dataclasses.dataclass
class Rule:
    """One rule of rates.csv: a flat rate, or a tier set (the rows of one window)."""

    contract_id: str
    clin: str
    basis: str
    start: dt.date
    end: dt.date
    rate: Decimal | None  # flat rate; None for a tier set
    tiers: list[tuple[Decimal, Decimal]]  # (tier_from, rate), ascending
    tier_mode: str | None
    minimum_amount: Decimal | None
    minimum_quantity: Decimal | None
    free_quantity: Decimal | None
    increment: Decimal | None
    increment_rounding: str
    rounding: str | None
    rule_id: str
    authority: str | None


def parse_rules(rows: Iterable[Mapping[str, str]]) -> dict[tuple[str, str], list[Rule]]:
    """Group the (valid, non-labor) rates rows into rules by (contract_id, clin)."""
    groups: dict[tuple[str, str, str, str], list[Mapping[str, str]]] = {}
    for row in rows:
        if _cell(row, "basis") == "labor_hours":
            continue
        key = (
            _cell(row, "contract_id"),
            _cell(row, "clin"),
            _cell(row, "start"),
            _cell(row, "end"),
        )
        groups.setdefault(key, []).append(row)
    book: dict[tuple[str, str], list[Rule]] = {}
    for (contract, clin, start, end), members in groups.items():
        first = members[0]
        tiers: list[tuple[Decimal, Decimal]] = []
        rate = None
        if _cell(first, "tier_from"):
            for member in members:
                tiers.append((Decimal(_cell(member, "tier_from")), Decimal(_cell(member, "rate"))))
            tiers.sort()
        else:
            assert len(members) == 1, f"several flat rules for {contract}/{clin}/{start}"
            rate = Decimal(_cell(first, "rate"))
        rule = Rule(
            contract_id=contract,
            clin=clin,
            basis=_cell(first, "basis"),
            start=dt.date.fromisoformat(start),
            end=dt.date.fromisoformat(end),
            rate=rate,
            tiers=tiers,
            tier_mode=_cell(first, "tier_mode") or None,
            minimum_amount=_opt_decimal(first, "minimum_amount"),
            minimum_quantity=_opt_decimal(first, "minimum_quantity"),
            free_quantity=_opt_decimal(first, "free_quantity"),
            increment=_opt_decimal(first, "increment"),
            increment_rounding=_cell(first, "increment_rounding") or "down",
            rounding=_cell(first, "rounding") or None,
            rule_id=_cell(first, "rule_id") or f"{contract}/{clin}/{start}",
            authority=_cell(first, "authority") or None,
        )
        book.setdefault((contract, clin), []).append(rule)
    return book


def find_rule(
    book: Mapping[tuple[str, str], list[Rule]], contract_id: str, clin: str, day: dt.date
) -> Rule | None:
    """Return the rule of (contract, clin) whose window covers *day*, if any."""
    found = [r for r in book.get((contract_id, clin), []) if r.start <= day <= r.end]
    assert len(found) <= 1, f"overlapping windows for {contract_id}/{clin} on {day}"
    return found[0] if found else None


def tier_rate(tiers: list[tuple[Decimal, Decimal]], key: Decimal) -> Decimal:
    """Return the rate of the tier reached by *key* (the last tier whose start is <= key)."""
    rate = tiers[0][1]
    for tier_from, this_rate in tiers:
        if tier_from <= key:
            rate = this_rate
    return rate


def billable_quantity(rule: Rule, quantity: Decimal) -> Decimal:
    """Apply free quantity, then increment, then minimum quantity (section 4.1)."""
    q = quantity
    if rule.free_quantity is not None:
        q = _sub(q, rule.free_quantity)
        if q < 0:
            q = Decimal(0)
    if rule.increment is not None:
        whole = EXACT.divide_int(q, rule.increment)
        rest = _sub(q, _mul(whole, rule.increment))
        if (rule.increment_rounding == "up" and rest > 0) or (
            rule.increment_rounding == "nearest" and _mul(rest, Decimal(2)) >= rule.increment
        ):
            whole = _add(whole, Decimal(1))
        q = _mul(whole, rule.increment)
    if rule.minimum_quantity is not None and q > 0 and rule.minimum_quantity > q:
        q = rule.minimum_quantity
    return q


def price_of(rule: Rule, q: Decimal, mode: str, fee: Decimal | None = None) -> Decimal:
    """Return P(q): the price of *q* billable units, rounded once, before minimum_amount.

    *fee* is the cancellation fee chosen by notice hours (it replaces the rate).
    """
    if fee is not None:
        return round_cents(_mul(q, fee), mode)
    if rule.rate is not None:
        return round_cents(_mul(q, rule.rate), mode)
    if rule.tier_mode == "all_units":
        return round_cents(_mul(q, tier_rate(rule.tiers, q)), mode)
    total = Decimal(0)
    for i, (tier_from, rate) in enumerate(rule.tiers):
        if q <= tier_from:
            break
        top = q
        if i + 1 < len(rule.tiers) and rule.tiers[i + 1][0] < q:
            top = rule.tiers[i + 1][0]
        total = _add(total, _mul(_sub(top, tier_from), rate))
    return round_cents(total, mode)


def expected_amount(rule: Rule, qe: Decimal, mode: str, fee: Decimal | None = None) -> Decimal:
    """Return E for billable quantity *qe*: P(qe), raised to minimum_amount when qe > 0."""
    amount = price_of(rule, qe, mode, fee)
    if rule.minimum_amount is not None and qe > 0 and rule.minimum_amount > amount:
        amount = rule.minimum_amount
    return amount


def effective_rate(rule: Rule, qe: Decimal, fee: Decimal | None = None) -> Decimal | None:
    """Return the single rate a unit price is checked against (None for graduated tiers)."""
    if fee is not None:
        return fee
    if rule.rate is not None:
        return rule.rate
    if rule.tier_mode == "all_units":
        return tier_rate(rule.tiers, qe)
    return None


# ----------------------------------------------------------------------------------- lines


def invalid_lines(rows: list[Mapping[str, str]]) -> set[int]:
    """Return the indexes of the invoice line rows that are INVALID (malformed or duplicated)."""
    bad: set[int] = set()
    first: dict[tuple[str, str, int], int] = {}
    for i, row in enumerate(rows):
        for name in REQUIRED_LINE_COLUMNS:
            if not _cell(row, name):
                bad.add(i)
        line_no_text = _cell(row, "line_no")
        line_no = None
        if line_no_text.isascii() and line_no_text.isdigit() and int(line_no_text) > 0:
            line_no = int(line_no_text)
        else:
            bad.add(i)
        if _cell(row, "service_date") and _date(_cell(row, "service_date")) is None:
            bad.add(i)
        for name in ("quantity", "unit_price"):
            if _cell(row, name) and _decimal(_cell(row, name)) is None:
                bad.add(i)
        if _cell(row, "amount") and _decimal(_cell(row, "amount"), money=True) is None:
            bad.add(i)
        contract, invoice = _cell(row, "contract_id"), _cell(row, "invoice_id")
        if line_no is not None and contract and invoice:
            j = first.setdefault((contract, invoice, line_no), i)
            if j != i:
                bad.add(i)
                bad.add(j)
    return bad


def line_order_key(
    row: Mapping[str, str], invoice_dates: Mapping[tuple[str, str], dt.date]
) -> tuple[object, ...]:
    """Return the processing-order key of a valid line (section 5)."""
    contract, invoice = _cell(row, "contract_id"), _cell(row, "invoice_id")
    day = invoice_dates.get((contract, invoice))
    dated = (0, day.toordinal()) if day is not None else (1, 0)
    return (dated, contract, invoice, int(_cell(row, "line_no")))


@dataclasses.dataclass
class RefLine:
    """What the reference says about one invoice line."""

    status: Status
    billed: Decimal | None = None
    expected: Decimal | None = None
    erroneous: Decimal | None = None
    unsupported: Decimal | None = None
    underbilled: Decimal | None = None
    trip_id: str | None = None
    decomposition: tuple[Decimal, Decimal, Decimal, Decimal] | None = None
    findings: list[str] = dataclasses.field(default_factory=list)
    within_tolerance: bool = False

    @property
    def variance(self) -> Decimal | None:
        """Return billed - expected (None for INVALID)."""
        if self.billed is None or self.expected is None:
            return None
        return _sub(self.billed, self.expected)


@dataclasses.dataclass(frozen=True)
class RefInvoiceFinding:
    """An invoice-level finding as the reference computes it."""

    contract_id: str
    invoice_id: str
    finding: str
    header_total: Decimal | None
    lines_total: Decimal
    difference: Decimal | None


@dataclasses.dataclass
class RefResult:
    """The reference's results: per line key, unbilled trips, invoice findings."""

    lines: dict[tuple[str, str, str], RefLine]
    unbilled: set[tuple[str, str]]
    invoices: set[RefInvoiceFinding]


def _unpriced(
    status: Status, amount: Decimal, *, unsupported: bool = False, missing: bool = False
) -> RefLine:
    return RefLine(
        status=status,
        findings=[status.value, "MISSING_MEASURE"] if missing else [status.value],
        billed=amount,
        expected=ZERO,
        erroneous=ZERO if unsupported else amount,
        unsupported=amount if unsupported else ZERO,
        underbilled=ZERO,
    )


def _classify_priced(
    rule: Rule,
    qe: Decimal,
    fee: Decimal | None,
    mode: str,
    amount: Decimal,
    qb: Decimal,
    pb: Decimal,
) -> RefLine:
    """Rows 7 and 9-14 of the status table for a line with an expected price."""
    expected = expected_amount(rule, qe, mode, fee)
    extended = round_cents(_mul(qb, pb), mode)
    others = [m for m in MODES if m != mode]
    other_extensions = [round_cents(_mul(qb, pb), m) for m in others]
    p_qb = price_of(rule, qb, mode, fee)
    p_qe = price_of(rule, qe, mode, fee)
    parts = (
        _sub(amount, extended),
        _sub(extended, p_qb),
        _sub(p_qb, p_qe),
        _sub(p_qe, expected),
    )
    variance = _sub(amount, expected)
    rate = effective_rate(rule, qe, fee)
    quantity_right = qb == qe
    price_right = pb == rate if rate is not None else extended == p_qb
    holds = {
        Status.MINIMUM_MISAPPLIED: variance != 0
        and rule.minimum_amount is not None
        and parts[1] == 0
        and parts[2] == 0
        and (parts[3] != 0 or amount == rule.minimum_amount),
        Status.EXTENSION_ERROR: amount != extended and amount not in other_extensions,
        Status.QUANTITY_MISMATCH: not quantity_right,
        Status.RATE_MISMATCH: rate is not None and pb != rate,
        Status.ROUNDING_DIFF: quantity_right
        and price_right
        and amount in other_extensions
        and EXACT.abs(variance) == CENT,
    }
    holds[Status.AMOUNT_MISMATCH] = variance != 0 and not any(holds.values())
    status = Status.MATCHED
    if variance != 0:
        status = next(code for code, held in holds.items() if held)
    findings = [] if status is Status.MATCHED else [status.value]
    findings.extend(code.value for code, held in holds.items() if held and code is not status)
    return RefLine(
        status=status,
        billed=amount,
        expected=expected,
        erroneous=variance if variance > 0 else ZERO,
        unsupported=ZERO,
        underbilled=EXACT.minus(variance) if variance < 0 else ZERO,
        decomposition=parts,
        findings=findings,
    )


def reference(
    tables: Mapping[str, list[dict[str, str]]],
    *,
    default_rounding: str = "half_up",
    tolerances: Mapping[str, tuple[Decimal, bool]] | None = None,
) -> RefResult:
    """Classify every invoice line of *tables* (row dicts by table name) per DESIGN section 5.

    *tolerances* maps a rule basis to (value, is a percentage of the billable quantity).
    """
    book = parse_rules(tables.get("rates", []))
    trips: dict[tuple[str, str], Mapping[str, str]] = {}
    for trip in tables.get("manifests", []):
        trips[(_cell(trip, "contract_id"), _cell(trip, "trip_id").upper())] = trip
    origins: dict[str, set[str]] = {}
    for (contract, _), trip in trips.items():
        origins.setdefault(contract, set()).add(_cell(trip, "origin"))

    headers: dict[tuple[str, str], list[Mapping[str, str]]] = {}
    for header in tables.get("invoices", []):
        key = (_cell(header, "contract_id"), _cell(header, "invoice_id"))
        headers.setdefault(key, []).append(header)
    invoice_dates = {
        key: min(dt.date.fromisoformat(_cell(h, "invoice_date")) for h in hs)
        for key, hs in headers.items()
    }

    rows = tables.get("invoice_lines", [])
    bad = invalid_lines(rows)
    lines: dict[tuple[str, str, str], RefLine] = {}
    for i in sorted(bad):
        row = rows[i]
        key = (_cell(row, "contract_id"), _cell(row, "invoice_id"), _cell(row, "line_no"))
        # Several rows may share an INVALID key.
        lines[key] = RefLine(status=Status.INVALID, findings=[Status.INVALID.value])

    valid = sorted(
        (i for i in range(len(rows)) if i not in bad),
        key=lambda i: line_order_key(rows[i], invoice_dates),
    )
    claimed_charges: set[tuple[str, str, str]] = set()
    claimed_trips: set[tuple[str, str]] = set()
    lines_total: dict[tuple[str, str], Decimal] = {}
    matched: set[tuple[object, ...]] = set()  # identities of the lines matched so far
    for i in valid:
        row = rows[i]
        contract, invoice = _cell(row, "contract_id"), _cell(row, "invoice_id")
        clin = _cell(row, "clin")
        assert not _cell(row, "labor_category") and not _cell(row, "person_id"), "no labor"
        amount = Decimal(_cell(row, "amount"))
        qb, pb = Decimal(_cell(row, "quantity")), Decimal(_cell(row, "unit_price"))
        line_date = dt.date.fromisoformat(_cell(row, "service_date"))
        lines_total[(contract, invoice)] = _add(
            lines_total.get((contract, invoice), Decimal(0)), amount
        )
        # What DUPLICATE_CANDIDATE compares: the line's own (contract, CLIN, labor category,
        # person, service date, amount).
        identity = (contract, clin, "", "", line_date, amount)
        ref = _cell(row, "trip_ref").upper()
        trip = trips.get((contract, ref)) if ref else None
        if trip is None:
            origin = _cell(row, "origin")
            assert origin and origin not in origins.get(contract, set()), (
                "out of the reference's subset: a line without a usable ref could be inferred"
            )
            if find_rule(book, contract, clin, line_date) is None:
                result = _unpriced(Status.NO_RATE, amount)
            else:
                result = _unpriced(Status.UNSUPPORTED, amount, unsupported=True)
            if identity in matched:
                result.findings.append("DUPLICATE_CANDIDATE")
        else:
            trip_id = _cell(trip, "trip_id").upper()
            claimed_trips.add((contract, trip_id))
            trip_date = dt.date.fromisoformat(_cell(trip, "service_date"))
            cancelled = _cell(trip, "status") == "cancelled"
            rule = find_rule(book, contract, clin, trip_date)
            charge = (contract, trip_id, clin)
            if rule is None:
                result = _unpriced(Status.NO_RATE, amount)
            elif cancelled != (rule.basis == "cancellation"):
                result = _unpriced(Status.NOT_PERFORMED, amount)
            elif charge in claimed_charges:
                result = _unpriced(Status.DUPLICATE, amount)
            else:
                claimed_charges.add(charge)
                result = _price_matched(
                    rule, trip, amount, qb, pb, default_rounding, tolerances or {}
                )
            result.trip_id = trip_id
            if line_date != trip_date:
                result.findings.append("SERVICE_DATE_MISMATCH")
            if result.within_tolerance:
                result.findings.append("WITHIN_TOLERANCE")
            matched.add(identity)
        key = (contract, invoice, _cell(row, "line_no"))
        assert key not in lines, f"a valid line shares its key {key} with another line"
        lines[key] = result

    unbilled = {key for key in trips if key not in claimed_trips}
    findings: set[RefInvoiceFinding] = set()
    for (contract, invoice), hs in headers.items():
        total = lines_total.get((contract, invoice), ZERO)
        if len(hs) > 1:
            findings.add(
                RefInvoiceFinding(contract, invoice, "DUPLICATE_INVOICE", None, total, None)
            )
        for header_total in {Decimal(_cell(h, "total")) for h in hs if _cell(h, "total")}:
            if header_total != total:
                findings.add(
                    RefInvoiceFinding(
                        contract,
                        invoice,
                        "FOOTING_ERROR",
                        header_total,
                        total,
                        _sub(header_total, total),
                    )
                )
    return RefResult(lines=lines, unbilled=unbilled, invoices=findings)


def _price_matched(
    rule: Rule,
    trip: Mapping[str, str],
    amount: Decimal,
    qb: Decimal,
    pb: Decimal,
    default_rounding: str,
    tolerances: Mapping[str, tuple[Decimal, bool]],
) -> RefLine:
    """Price an exactly matched, performed, first claim of a charge (rows 6-14)."""
    mode = rule.rounding or default_rounding
    fee = None
    if rule.basis == "cancellation":
        quantity = Decimal(1)
        if rule.tiers:
            hours = _cell(trip, "cancel_notice_hours")
            if not hours:
                return _unpriced(Status.UNSUPPORTED, amount, unsupported=True, missing=True)
            fee = tier_rate(rule.tiers, Decimal(hours))
        else:
            fee = rule.rate
    elif rule.basis == "trip":
        quantity = Decimal(1)
    else:
        measured = _cell(trip, rule.basis)
        if not measured:
            return _unpriced(Status.UNSUPPORTED, amount, unsupported=True, missing=True)
        quantity = Decimal(measured)
    qe = billable_quantity(rule, quantity)
    within = False
    tolerance = tolerances.get(rule.basis)
    if tolerance is not None and qb != qe:
        value, percent = tolerance
        limit = EXACT.divide(_mul(qe, value), Decimal(100)) if percent else value
        if EXACT.abs(_sub(qb, qe)) <= limit:
            within = True
            qe = qb  # accepted as billed: E uses the billed quantity
    result = _classify_priced(rule, qe, fee, mode, amount, qb, pb)
    result.within_tolerance = within
    return result
