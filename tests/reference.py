"""A slow, plainly written ``Decimal`` reference of DESIGN section 5, for the tests.

It is written from DESIGN.md alone (not from ``ice_recon``'s own modules; only the
``Status`` enum is imported, for its values) and uses nothing but ``decimal.Decimal`` with
explicit contexts, dicts and loops. It covers the semantics of section 5 over valid rates,
manifests, staff, fuel and invoice header rows (their validation is not re-implemented
here; invoice lines are checked for the problems that make them INVALID):

- rates.csv rules of every basis: flat rates, ``all_units`` and ``graduated`` tier sets,
  ``cancellation`` fees (flat or tiered by notice hours), ``labor_hours`` rules found by
  labor category with quantities from the staff roster (section 4.1), ``free_quantity``,
  ``increment`` with its three roundings, ``minimum_quantity``, ``minimum_amount`` and the
  five rounding modes (the rule's, else the policy default);
- fuel surcharge rules on a weekly index (section 4.4): the rate is the exact fraction
  ``max(0, (index - base_price) / mpg)`` rounded once to ``places``;
- matching: exact by ``trip_ref`` in processing order with charge claims (one charge per
  roster person billed for ``labor_hours`` CLINs) and DUPLICATE; then inference for the
  lines without a usable ref, in processing order, against the unclaimed charges (window,
  origin and destination, completed/cancelled, a rule on the trip's date, billable quantity
  within tolerance; best = smallest quantity difference, then smallest date distance; a tie
  is AMBIGUOUS_MATCH);
- every status of the table, the findings of every line (LABOR_CATEGORY_MISMATCH,
  INFERRED_MATCH, AMBIGUOUS_MATCH, SERVICE_DATE_MISMATCH, WITHIN_TOLERANCE,
  DUPLICATE_CANDIDATE), quantity tolerances (absolute or percent);
- malformed invoice lines (INVALID), unbilled trips, invoice footing and duplicate invoice
  headers, counts and ledgers per contract and overall.

Where DESIGN can be read two ways, it follows docs/explanation/decisions.md (completed trips
are inference candidates for every CLIN but cancellation ones, cancelled trips for
cancellation CLINs only; a trip
whose price evidence is missing but whose quantity is known is still a candidate), and
these readings of its own:

- the conditions of rows 8-14 (LABOR_CATEGORY_MISMATCH included) are checks of a *priced*
  line, one that reaches row 7: a NO_RATE, NOT_PERFORMED, DUPLICATE or row-6 line whose
  named person has another roster category does not list LABOR_CATEGORY_MISMATCH (section
  4.1: the line "is priced with the rule of the roster category [...] and gets" it);
- a ``labor_hours`` charge is one per person billed: the named person (on the roster or
  not), else every roster person of the billed category, else every roster person of the
  trip; a line whose charge overlaps a claimed one is a duplicate and claims nothing, and
  any other matched line claims its whole charge, whatever its status;
- a CLIN is priced by roster hours on a day when one of its rules in force that day has
  the ``labor_hours`` basis.

>>> round_cents(Decimal("112.125"), "half_even"), round_cents(Decimal("112.125"), "half_up")
(Decimal('112.12'), Decimal('112.13'))
>>> round_fraction(Decimal("0.9"), Decimal("6.0"), 2, "half_up")  # 0.15 exactly
Decimal('0.15')
>>> round_fraction(Decimal("1.0"), Decimal("6.0"), 2, "half_up")  # 0.1666...
Decimal('0.17')
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import decimal
import functools
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from ice_recon import Status

__all__ = [
    "MODES",
    "PAYMENT_LEDGERS",
    "FuelRule",
    "Policy9",
    "RefCapacity",
    "RefContract",
    "RefControls",
    "RefInvoiceFinding",
    "RefLine",
    "RefMonth",
    "RefResult",
    "Rule",
    "billable_quantity",
    "effective_rate",
    "expected_amount",
    "find_rule",
    "finding_order",
    "fuel_rate",
    "interest",
    "invalid_lines",
    "line_order_key",
    "parse_fuel_rules",
    "parse_roster",
    "parse_rules",
    "price_of",
    "read_folder",
    "reference",
    "reference9",
    "round_cents",
    "round_fraction",
    "round_half_up",
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
LABOR = "labor_hours"
CANCELLATION = "cancellation"
ONE_UNIT = ("trip", CANCELLATION)
#: The ledgers of DESIGN section 5, in the order of summary.json.
LEDGERS = (
    "billed",
    "expected",
    "variance",
    "erroneous",
    "unsupported",
    "questioned",
    "underbilled",
)
#: The files of an input folder, by table name.
FILES = {
    "rates": "rates.csv",
    "manifests": "manifests.csv",
    "staff": "staff.csv",
    "fuel_rules": "fuel_rules.csv",
    "fuel_index": "fuel_index.csv",
    "invoice_lines": "invoice_lines.csv",
    "invoices": "invoices.csv",
    # Section 9.1.
    "contracts": "contracts.csv",
    "cors": "cors.csv",
    "interest_rates": "interest_rates.csv",
}


def round_cents(value: Decimal, mode: str) -> Decimal:
    """Round *value* to cents with the rounding mode named *mode*."""
    return value.quantize(CENT, rounding=MODES[mode], context=TO_CENTS)


def _integer_and_scale(value: Decimal) -> tuple[int, int]:
    """Return (n, s) with value == n / 10**s exactly."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    n = int("".join(map(str, digits)) or "0")
    if sign:
        n = -n
    if exponent >= 0:
        return n * 10**exponent, 0
    return n, -exponent


def round_fraction(numerator: Decimal, denominator: Decimal, places: int, mode: str) -> Decimal:
    """Round the exact fraction numerator / denominator (both >= 0) to *places* places.

    Done in integers so that the quotient is rounded once, from its exact value.
    """
    a, s = _integer_and_scale(numerator)
    b, t = _integer_and_scale(denominator)
    assert a >= 0 and b > 0
    # numerator / denominator * 10**places == (a * 10**t * 10**places) / (b * 10**s)
    top, bottom = a * 10**t * 10**places, b * 10**s
    q, r = divmod(top, bottom)
    if r:
        twice = 2 * r
        up = {
            "down": False,
            "up": True,
            "half_up": twice >= bottom,
            "half_down": twice > bottom,
            "half_even": twice > bottom or (twice == bottom and q % 2 == 1),
        }[mode]
        if up:
            q += 1
    return Decimal(q).scaleb(-places, context=EXACT)


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


def read_folder(folder: str | Path) -> dict[str, list[dict[str, str]]]:
    """Read the CSV files of an input folder into row dicts by table name.

    A file that is absent has no key (section 9 tells "cors.csv given, header only" from
    "no cors.csv"); read a table with ``tables.get(name, [])``.
    """
    tables: dict[str, list[dict[str, str]]] = {}
    for name, file_name in FILES.items():
        path = Path(folder) / file_name
        if not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            tables[name] = [dict(row) for row in csv.DictReader(handle)]
    return tables


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
    labor_category: str = ""  # "" = any category


@dataclasses.dataclass
class FuelRule:
    """One rule of fuel_rules.csv (section 4.4)."""

    contract_id: str
    clin: str
    start: dt.date
    end: dt.date
    base_price: Decimal
    mpg: Decimal
    series: str
    week_rule: str
    places: int
    basis: str
    rounding: str | None
    labor_category: str = ""  # fuel rules have none: they cover every category


def parse_rules(rows: Iterable[Mapping[str, str]]) -> dict[tuple[str, str], list[Rule]]:
    """Group the (valid) rates rows into rules by (contract_id, clin).

    A tier set is the rows of one (contract, clin, labor category, window).
    """
    groups: dict[tuple[str, str, str, str, str], list[Mapping[str, str]]] = {}
    for row in rows:
        key = (
            _cell(row, "contract_id"),
            _cell(row, "clin"),
            _cell(row, "labor_category"),
            _cell(row, "start"),
            _cell(row, "end"),
        )
        groups.setdefault(key, []).append(row)
    book: dict[tuple[str, str], list[Rule]] = {}
    for (contract, clin, category, start, end), members in groups.items():
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
        default_id = "/".join(part for part in (contract, clin, category, start) if part)
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
            rule_id=_cell(first, "rule_id") or default_id,
            authority=_cell(first, "authority") or None,
            labor_category=category,
        )
        book.setdefault((contract, clin), []).append(rule)
    return book


def parse_fuel_rules(rows: Iterable[Mapping[str, str]]) -> dict[tuple[str, str], list[FuelRule]]:
    """Read the (valid) fuel_rules rows by (contract_id, clin), with section 4.4's defaults."""
    book: dict[tuple[str, str], list[FuelRule]] = {}
    for row in rows:
        rule = FuelRule(
            contract_id=_cell(row, "contract_id"),
            clin=_cell(row, "clin"),
            start=dt.date.fromisoformat(_cell(row, "start")),
            end=dt.date.fromisoformat(_cell(row, "end")),
            base_price=Decimal(_cell(row, "base_price")),
            mpg=Decimal(_cell(row, "mpg")),
            series=_cell(row, "series"),
            week_rule=_cell(row, "week_rule") or "service_week",
            places=int(_cell(row, "places") or "2"),
            basis=_cell(row, "basis") or "loaded_miles",
            rounding=_cell(row, "rounding") or None,
        )
        book.setdefault((rule.contract_id, rule.clin), []).append(rule)
    return book


def find_rule(
    book: Mapping[tuple[str, str], list[Rule]],
    contract_id: str,
    clin: str,
    day: dt.date,
    category: str = "",
) -> Rule | None:
    """Return the rule of (contract, clin, labor category) whose window covers *day*, if any.

    A rule without a category covers every category; *category* "" finds only those.
    """
    found = [
        r
        for r in book.get((contract_id, clin), [])
        if r.start <= day <= r.end and r.labor_category in ("", category)
    ]
    assert len(found) <= 1, f"overlapping windows for {contract_id}/{clin}/{category} on {day}"
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


# ------------------------------------------------------------------------------------ fuel


def fuel_week(rule: FuelRule, day: dt.date) -> dt.date:
    """Return the Monday of the index week that prices *day* under *rule*."""
    monday = day - dt.timedelta(days=day.weekday())
    if rule.week_rule == "prior_week":
        monday -= dt.timedelta(days=7)
    return monday


def fuel_rate(
    rule: FuelRule,
    index: Mapping[tuple[str, dt.date], Decimal],
    day: dt.date,
    default_rounding: str,
) -> Decimal | None:
    """Return max(0, (index - base_price) / mpg) rounded once to places (None: no index week)."""
    price = index.get((rule.series, fuel_week(rule, day)))
    if price is None:
        return None
    excess = _sub(price, rule.base_price)
    if excess < 0:
        excess = Decimal(0)
    return round_fraction(excess, rule.mpg, rule.places, rule.rounding or default_rounding)


def _flat(rule: FuelRule, rate: Decimal) -> Rule:
    """Return a flat-rate rule on the fuel rule's basis (section 4.4: "priced like ...")."""
    return Rule(
        contract_id=rule.contract_id,
        clin=rule.clin,
        basis=rule.basis,
        start=rule.start,
        end=rule.end,
        rate=rate,
        tiers=[],
        tier_mode=None,
        minimum_amount=None,
        minimum_quantity=None,
        free_quantity=None,
        increment=None,
        increment_rounding="down",
        rounding=rule.rounding,
        rule_id="",
        authority=None,
    )


# ---------------------------------------------------------------------------------- roster


def parse_roster(
    rows: Iterable[Mapping[str, str]],
) -> dict[tuple[str, str], dict[str, tuple[str, Decimal]]]:
    """Return (contract_id, trip_id) -> person_id -> (labor category, hours).

    A person in two labor categories on one trip is a problem between rows: every row
    involved is left out.
    """
    rows_of: dict[tuple[str, str, str], list[Mapping[str, str]]] = {}
    for row in rows:
        key = (_cell(row, "contract_id"), _cell(row, "trip_id").upper(), _cell(row, "person_id"))
        rows_of.setdefault(key, []).append(row)
    roster: dict[tuple[str, str], dict[str, tuple[str, Decimal]]] = {}
    for (contract, trip, person), members in rows_of.items():
        categories = {_cell(m, "labor_category") for m in members}
        if len(categories) > 1:
            continue
        assert len(members) == 1, f"{person} listed twice on {contract}/{trip}"
        hours = Decimal(_cell(members[0], "hours"))
        roster.setdefault((contract, trip), {})[person] = (categories.pop(), hours)
    return roster


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
    match: str = "none"  # exact | inferred | none
    # For section 9: the line's own service date, and the basis of the rule that priced it
    # on its matched trip (None when no rule is known).
    service_date: dt.date | None = None
    basis: str | None = None

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
    amount: Decimal | None = None  # section 9.2; None for FOOTING_ERROR, DUPLICATE_INVOICE

    @classmethod
    def of(cls, found: Any) -> RefInvoiceFinding:
        """Return an engine's ``InvoiceFinding`` in this form, to compare it (no semantics)."""
        return cls(
            found.contract_id,
            found.invoice_id,
            found.finding.value,
            found.header_total,
            found.lines_total,
            found.difference,
            found.amount,
        )


@dataclasses.dataclass
class RefResult:
    """The reference's results: per line key, unbilled trips, invoice findings, totals.

    *order* lists the keys of the valid lines in processing order; *unbilled_trips* has
    (contract_id, trip_id, service_date, status) of each unbilled trip; *counts* has every
    status (zeros included); *ledgers* maps each name of ``LEDGERS`` to its total;
    *contracts* maps a contract id to its (counts, ledgers).
    """

    lines: dict[tuple[str, str, str], RefLine]
    unbilled: set[tuple[str, str]]
    invoices: set[RefInvoiceFinding]
    order: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    unbilled_trips: set[tuple[str, str, dt.date, str]] = dataclasses.field(default_factory=set)
    counts: dict[Status, int] = dataclasses.field(default_factory=dict)
    ledgers: dict[str, Decimal] = dataclasses.field(default_factory=dict)
    contracts: dict[str, tuple[dict[Status, int], dict[str, Decimal]]] = dataclasses.field(
        default_factory=dict
    )


@dataclasses.dataclass
class _Line:
    """A valid invoice line, its cells read."""

    key: tuple[str, str, str]
    contract: str
    clin: str
    day: dt.date
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    ref: str
    category: str
    person: str
    origin: str
    destination: str

    @property
    def identity(self) -> tuple[object, ...]:
        """What DUPLICATE_CANDIDATE compares: the line's own values."""
        return (self.contract, self.clin, self.category, self.person, self.day, self.amount)


@dataclasses.dataclass
class _Trip:
    """A manifest trip, its cells read (a measure not recorded is absent from *measures*)."""

    contract: str
    trip_id: str
    day: dt.date
    cancelled: bool
    status: str
    origin: str
    destination: str
    cancel_notice_hours: str
    measures: dict[str, str]


@dataclasses.dataclass
class _Terms:
    """What one trip says about one line: its rule, quantity and charge."""

    rule: Rule | FuelRule | None  # the rule that prices the line, if one is known
    has_rule: bool  # whether NO_RATE does not apply
    basis: str | None  # the basis of the rule that NO_RATE was judged on
    quantity: Decimal | None  # the trip's quantity for the line (None: missing evidence)
    charge: frozenset[tuple[str, str, str, str]]  # (contract, trip, clin, person or "")
    mismatch: bool  # LABOR_CATEGORY_MISMATCH


def _unpriced(
    status: Status,
    amount: Decimal,
    *,
    unsupported: bool = False,
    missing: bool = False,
) -> RefLine:
    """Rows 2-6: no expected price, so none of the checks of rows 8-14 is made."""
    findings = [status.value, "MISSING_MEASURE"] if missing else [status.value]
    return RefLine(
        status=status,
        findings=findings,
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
    *,
    mismatch: bool = False,
) -> RefLine:
    """Rows 7-14 of the status table for a line with an expected price."""
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
        Status.LABOR_CATEGORY_MISMATCH: mismatch,
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


def _within(qb: Decimal, qe: Decimal, tolerance: tuple[Decimal, bool] | None) -> bool:
    """Return whether billed *qb* is within *tolerance* of billable *qe* (equal without one)."""
    if qb == qe:
        return True
    if tolerance is None:
        return False
    value, percent = tolerance
    limit = EXACT.divide(_mul(qe, value), Decimal(100)) if percent else value
    return EXACT.abs(_sub(qb, qe)) <= limit


class _Reconciler:
    """The indexes of one reconciliation and the rules of section 5 over them."""

    def __init__(
        self,
        tables: Mapping[str, list[dict[str, str]]],
        default_rounding: str,
        tolerances: Mapping[str, tuple[Decimal, bool]],
    ) -> None:
        self.default_rounding = default_rounding
        self.tolerances = tolerances
        self.book = parse_rules(tables.get("rates", []))
        self.fuel = parse_fuel_rules(tables.get("fuel_rules", []))
        self.index: dict[tuple[str, dt.date], Decimal] = {}
        for row in tables.get("fuel_index", []):
            week = dt.date.fromisoformat(_cell(row, "week"))
            self.index[(_cell(row, "series"), week)] = Decimal(_cell(row, "price"))
        self.roster = parse_roster(tables.get("staff", []))
        # Remembered answers of clin_rules and rule_on: inference asks them many times.
        self.in_force: dict[tuple[str, str, dt.date], list[Rule | FuelRule]] = {}
        self.rule_of: dict[tuple[str, str, str, dt.date], Rule | FuelRule | None] = {}
        self.trips: dict[tuple[str, str], _Trip] = {}
        # Inference looks candidates up by (contract, service date), and by (contract,
        # service date, origin) when the line gives an origin.
        self.by_day: dict[tuple[str, dt.date], list[tuple[str, str]]] = {}
        self.by_day_origin: dict[tuple[str, dt.date, str], list[tuple[str, str]]] = {}
        for row in tables.get("manifests", []):
            key = (_cell(row, "contract_id"), _cell(row, "trip_id").upper())
            assert key not in self.trips, f"duplicate trip {key}"
            status = _cell(row, "status") or "completed"
            trip = _Trip(
                contract=key[0],
                trip_id=key[1],
                day=dt.date.fromisoformat(_cell(row, "service_date")),
                cancelled=status == "cancelled",
                status=status,
                origin=_cell(row, "origin"),
                destination=_cell(row, "destination"),
                cancel_notice_hours=_cell(row, "cancel_notice_hours"),
                measures={name: cell for name in row if name and (cell := _cell(row, name))},
            )
            self.trips[key] = trip
            self.by_day.setdefault((key[0], trip.day), []).append(key)
            self.by_day_origin.setdefault((key[0], trip.day, trip.origin), []).append(key)

    # -- rules

    def clin_rules(self, contract: str, clin: str, day: dt.date) -> list[Rule | FuelRule]:
        """Return every rule of (contract, clin), of any category, in force on *day*."""
        key = (contract, clin, day)
        found = self.in_force.get(key)
        if found is None:
            found = [r for r in self.book.get((contract, clin), []) if r.start <= day <= r.end]
            found.extend(r for r in self.fuel.get((contract, clin), []) if r.start <= day <= r.end)
            self.in_force[key] = found
        return found

    def rule_on(
        self, contract: str, clin: str, category: str, day: dt.date
    ) -> Rule | FuelRule | None:
        """Return the rule of (contract, clin, category) on *day* (rules without one cover all)."""
        key = (contract, clin, category, day)
        if key not in self.rule_of:
            found = [
                r
                for r in self.clin_rules(contract, clin, day)
                if r.labor_category in ("", category)
            ]
            assert len(found) <= 1, f"overlapping rules for {contract}/{clin}/{category} on {day}"
            self.rule_of[key] = found[0] if found else None
        return self.rule_of[key]

    def has_rule_unmatched(self, line: _Line) -> bool:
        """Return whether a rule covers an unmatched line's own date (row 2)."""
        if line.category:
            return self.rule_on(line.contract, line.clin, line.category, line.day) is not None
        # Without a trip, no roster says the category: NO_RATE is judged on the CLIN alone.
        return bool(self.clin_rules(line.contract, line.clin, line.day))

    # -- a line against a trip

    def terms(self, line: _Line, trip_key: tuple[str, str]) -> _Terms:
        """Return the rule, quantity and charge of *line* on the trip *trip_key*."""
        contract, trip_id = trip_key
        trip = self.trips[trip_key]
        day = trip.day
        on_day = self.clin_rules(contract, line.clin, day)
        if not any(r.basis == LABOR for r in on_day):
            rule = self.rule_on(contract, line.clin, line.category, day)
            quantity = None
            if rule is not None:
                if rule.basis in ONE_UNIT:
                    quantity = Decimal(1)
                elif rule.basis in trip.measures:
                    quantity = Decimal(trip.measures[rule.basis])
            return _Terms(
                rule=rule,
                has_rule=rule is not None,
                basis=rule.basis if rule is not None else None,
                quantity=quantity,
                charge=frozenset({(contract, trip_id, line.clin, "")}),
                mismatch=False,
            )
        # labor_hours (section 4.1): the roster says the quantity, the charge and maybe the
        # category.
        people = self.roster.get(trip_key, {})
        mismatch = False
        if line.person:
            charge = frozenset({(contract, trip_id, line.clin, line.person)})
            if line.person in people:
                category, quantity = people[line.person]
                mismatch = bool(line.category) and line.category != category
            else:
                category, quantity = line.category, None
        else:
            category = line.category
            members = [p for p, (c, _) in people.items() if not category or c == category]
            charge = frozenset((contract, trip_id, line.clin, p) for p in members)
            quantity = None
            for p in members:
                quantity = _add(quantity or Decimal(0), people[p][1])
        rule = self.rule_on(contract, line.clin, category, day)
        if rule is None and not category:
            # The category cannot be known: NO_RATE is judged on the CLIN alone, and the
            # line, if the CLIN has a rule, is then missing evidence.
            return _Terms(
                rule=None,
                has_rule=bool(on_day),
                basis=on_day[0].basis if on_day else None,
                quantity=None,
                charge=charge,
                mismatch=False,
            )
        return _Terms(
            rule=rule,
            has_rule=rule is not None,
            basis=rule.basis if rule is not None else None,
            quantity=quantity,
            charge=charge,
            mismatch=mismatch,
        )

    def billable(self, terms: _Terms) -> Decimal | None:
        """Return the billable quantity of *terms* (None when it is not known)."""
        if terms.rule is None or terms.quantity is None:
            return None
        if isinstance(terms.rule, FuelRule):
            return terms.quantity
        return billable_quantity(terms.rule, terms.quantity)

    def candidate(
        self,
        line: _Line,
        trip_key: tuple[str, str],
        claimed: set[tuple[str, str, str, str]],
    ) -> tuple[Decimal, int] | None:
        """Return (quantity difference, date distance) if the trip is a candidate for *line*."""
        trip = self.trips[trip_key]
        if line.origin and trip.origin != line.origin:
            return None
        if line.destination and trip.destination != line.destination:
            return None
        terms = self.terms(line, trip_key)
        if terms.rule is None:
            return None
        if trip.cancelled != (terms.rule.basis == CANCELLATION):
            return None
        qe = self.billable(terms)
        if qe is None:
            return None
        if not _within(line.quantity, qe, self.tolerances.get(terms.rule.basis)):
            return None
        if terms.charge & claimed:
            return None
        distance = abs((trip.day - line.day).days)
        return EXACT.abs(_sub(line.quantity, qe)), distance

    def classify_matched(
        self, line: _Line, trip_key: tuple[str, str], terms: _Terms, duplicate: bool
    ) -> RefLine:
        """Rows 2 and 4-14 for a line matched to a trip, given its terms on that trip."""
        trip = self.trips[trip_key]
        amount = line.amount
        if not terms.has_rule:
            return _unpriced(Status.NO_RATE, amount)
        if trip.cancelled != (terms.basis == CANCELLATION):
            return _unpriced(Status.NOT_PERFORMED, amount)
        if duplicate:
            return _unpriced(Status.DUPLICATE, amount)
        missing = _unpriced(Status.UNSUPPORTED, amount, unsupported=True, missing=True)
        rule = terms.rule
        if rule is None or terms.quantity is None:
            return missing
        fee = None
        if isinstance(rule, FuelRule):
            rate = fuel_rate(rule, self.index, trip.day, self.default_rounding)
            if rate is None:
                return missing
            priced = _flat(rule, rate)
            qe = terms.quantity
        else:
            priced = rule
            if rule.basis == CANCELLATION:
                if rule.tiers:
                    hours = trip.cancel_notice_hours
                    if not hours:
                        return missing
                    fee = tier_rate(rule.tiers, Decimal(hours))
                else:
                    fee = rule.rate
            qe = billable_quantity(rule, terms.quantity)
        mode = rule.rounding or self.default_rounding
        within = False
        if line.quantity != qe and _within(line.quantity, qe, self.tolerances.get(rule.basis)):
            within = True
            qe = line.quantity  # accepted as billed: E uses the billed quantity
        result = _classify_priced(
            priced,
            qe,
            fee,
            mode,
            amount,
            line.quantity,
            line.unit_price,
            mismatch=terms.mismatch,
        )
        result.within_tolerance = within
        return result


def reference(
    tables: Mapping[str, list[dict[str, str]]],
    *,
    default_rounding: str = "half_up",
    tolerances: Mapping[str, tuple[Decimal, bool]] | None = None,
    window_days: int = 1,
) -> RefResult:
    """Classify every invoice line of *tables* (row dicts by table name) per DESIGN section 5.

    *tolerances* maps a rule basis to (value, is a percentage of the billable quantity);
    *window_days* is the inference window (± days).
    """
    rec = _Reconciler(tables, default_rounding, tolerances or {})

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
    results: dict[tuple[str, str, str], RefLine] = {}
    for i in sorted(bad):
        row = rows[i]
        key = (_cell(row, "contract_id"), _cell(row, "invoice_id"), _cell(row, "line_no"))
        # Several rows may share an INVALID key.
        results[key] = RefLine(status=Status.INVALID, findings=[Status.INVALID.value])

    lines: list[_Line] = []
    for i in sorted(
        (i for i in range(len(rows)) if i not in bad),
        key=lambda i: line_order_key(rows[i], invoice_dates),
    ):
        row = rows[i]
        key = (_cell(row, "contract_id"), _cell(row, "invoice_id"), _cell(row, "line_no"))
        assert key not in results, f"a valid line shares its key {key} with another line"
        results[key] = RefLine(status=Status.INVALID)  # a placeholder, replaced below
        lines.append(
            _Line(
                key=key,
                contract=key[0],
                clin=_cell(row, "clin"),
                day=dt.date.fromisoformat(_cell(row, "service_date")),
                quantity=Decimal(_cell(row, "quantity")),
                unit_price=Decimal(_cell(row, "unit_price")),
                amount=Decimal(_cell(row, "amount")),
                ref=_cell(row, "trip_ref").upper(),
                category=_cell(row, "labor_category"),
                person=_cell(row, "person_id"),
                origin=_cell(row, "origin"),
                destination=_cell(row, "destination"),
            )
        )

    # Matching, first exact: every line whose ref names a trip of its contract, in order.
    claimed: set[tuple[str, str, str, str]] = set()
    matched: dict[int, tuple[tuple[str, str], str, _Terms]] = {}  # line -> (trip, how, terms)
    duplicates: set[int] = set()
    for n, line in enumerate(lines):
        trip_key = (line.contract, line.ref)
        if not line.ref or trip_key not in rec.trips:
            continue
        terms = rec.terms(line, trip_key)
        matched[n] = (trip_key, "exact", terms)
        if terms.charge & claimed:
            duplicates.add(n)  # a DUPLICATE line claims nothing
        else:
            claimed |= terms.charge
    # Then inference, in order, against the charges still unclaimed.
    ambiguous: set[int] = set()
    for n, line in enumerate(lines):
        if n in matched:
            continue
        scored: list[tuple[tuple[Decimal, int], tuple[str, str]]] = []
        for offset in range(-window_days, window_days + 1):
            day = line.day + dt.timedelta(days=offset)
            if line.origin:
                keys = rec.by_day_origin.get((line.contract, day, line.origin), [])
            else:
                keys = rec.by_day.get((line.contract, day), [])
            for trip_key in keys:
                score = rec.candidate(line, trip_key, claimed)
                if score is not None:
                    scored.append((score, trip_key))
        if not scored:
            continue
        best = min(score for score, _ in scored)
        tied = [trip_key for score, trip_key in scored if score == best]
        if len(tied) > 1:
            ambiguous.add(n)
            continue
        terms = rec.terms(line, tied[0])
        matched[n] = (tied[0], "inferred", terms)
        claimed |= terms.charge

    # Status and findings, in processing order.
    matched_identities: set[tuple[object, ...]] = set()
    claimed_trips: set[tuple[str, str]] = set()
    lines_total: dict[tuple[str, str], Decimal] = {}
    order: list[tuple[str, str, str]] = []
    for n, line in enumerate(lines):
        invoice_key = (line.contract, line.key[1])
        lines_total[invoice_key] = _add(lines_total.get(invoice_key, Decimal(0)), line.amount)
        if n in matched:
            trip_key, how, terms = matched[n]
            claimed_trips.add(trip_key)
            result = rec.classify_matched(line, trip_key, terms, n in duplicates)
            result.trip_id = trip_key[1]
            result.basis = terms.rule.basis if terms.rule is not None else None
            result.match = how
            if how == "inferred":
                result.findings.append("INFERRED_MATCH")
            if line.day != rec.trips[trip_key].day:
                result.findings.append("SERVICE_DATE_MISMATCH")
            if result.within_tolerance:
                result.findings.append("WITHIN_TOLERANCE")
            matched_identities.add(line.identity)
        else:
            if rec.has_rule_unmatched(line):
                result = _unpriced(Status.UNSUPPORTED, line.amount, unsupported=True)
            else:
                result = _unpriced(Status.NO_RATE, line.amount)
            if n in ambiguous:
                result.findings.append("AMBIGUOUS_MATCH")
            if line.identity in matched_identities:
                result.findings.append("DUPLICATE_CANDIDATE")
        result.service_date = line.day
        results[line.key] = result
        order.append(line.key)

    unbilled = {key for key in rec.trips if key not in claimed_trips}
    unbilled_trips = {
        (key[0], key[1], rec.trips[key].day, rec.trips[key].status) for key in unbilled
    }
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
    counts, ledgers, contracts = _totals(results)
    return RefResult(
        lines=results,
        unbilled=unbilled,
        invoices=findings,
        order=order,
        unbilled_trips=unbilled_trips,
        counts=counts,
        ledgers=ledgers,
        contracts=contracts,
    )


def _totals(
    results: Mapping[tuple[str, str, str], RefLine],
) -> tuple[
    dict[Status, int],
    dict[str, Decimal],
    dict[str, tuple[dict[Status, int], dict[str, Decimal]]],
]:
    """Return the counts and ledgers, overall and per contract (INVALID: counted only)."""

    def empty() -> tuple[dict[Status, int], dict[str, Decimal]]:
        return dict.fromkeys(Status, 0), dict.fromkeys(LEDGERS, ZERO)

    contracts: dict[str, tuple[dict[Status, int], dict[str, Decimal]]] = {}
    for (contract, _, _), result in results.items():
        if contract not in contracts:
            contracts[contract] = empty()
        counts, ledgers = contracts[contract]
        counts[result.status] += 1
        if result.status is Status.INVALID:
            continue
        assert result.billed is not None and result.expected is not None
        assert result.erroneous is not None and result.unsupported is not None
        assert result.underbilled is not None and result.variance is not None
        amounts = {
            "billed": result.billed,
            "expected": result.expected,
            "variance": result.variance,
            "erroneous": result.erroneous,
            "unsupported": result.unsupported,
            "questioned": _add(result.erroneous, result.unsupported),
            "underbilled": result.underbilled,
        }
        for name, value in amounts.items():
            ledgers[name] = _add(ledgers[name], value)
    counts, ledgers = empty()
    for contract_counts, contract_ledgers in contracts.values():
        for status, n in contract_counts.items():
            counts[status] += n
        for name, value in contract_ledgers.items():
            ledgers[name] = _add(ledgers[name], value)
    return counts, ledgers, contracts


# ------------------------------------------------------------------------------ section 9
#
# Payment controls and oversight (DESIGN section 9), from the per-line results above and
# the section 9.1 files, with the readings of notes/sec9_spec.md. Written without looking
# at ice_recon's controls, payment or oversight modules: the point is to be independent.

#: The payment ledgers of section 9, in the order of summary.json.
PAYMENT_LEDGERS = (
    "paid_erroneous",
    "paid_unsupported",
    "to_withhold",
    "interest_due",
    "unused_capacity",
    "deobligation",
    "funds_put_to_better_use",
)
#: Statuses 7-14: the lines with an expected price (sec9_spec.md reading 10).
PRICED = frozenset(
    {
        Status.MATCHED,
        Status.LABOR_CATEGORY_MISMATCH,
        Status.MINIMUM_MISAPPLIED,
        Status.EXTENSION_ERROR,
        Status.QUANTITY_MISMATCH,
        Status.RATE_MISMATCH,
        Status.ROUNDING_DIFF,
        Status.AMOUNT_MISMATCH,
    }
)
#: The appointment level each risk needs (section 9.2: high III, moderate II, low I).
LEVEL_NEEDED = {"low": 1, "moderate": 2, "high": 3}
LEVELS = {"I": 1, "II": 2, "III": 3}
#: Interest is owed only from one dollar (section 9.2).
ONE_DOLLAR = Decimal("1.00")
#: The files whose contract ids make a contracts.csv row (sec9_spec.md reading 11).
CONTRACT_FILES = ("rates", "fuel_rules", "manifests", "staff", "invoices", "contracts", "cors")


@dataclasses.dataclass(frozen=True)
class Policy9:
    """The policy inputs of section 9 (the ``ice_recon.Policy`` fields of the same names)."""

    passengers_measure: str = "passengers"
    seats_measure: str = "seats"
    utilization_floor: Decimal = Decimal("0.80")
    as_of: dt.date | None = None  # None: per contract, its latest header invoice_date


@dataclasses.dataclass(frozen=True)
class RefMonth:
    """One oversight.csv row; fields named as the columns."""

    contract_id: str
    month: str
    trips_completed: int
    trips_cancelled: int
    trips_billed: int
    trips_unbilled: int
    people: Decimal | None
    trips_without_count: int
    seats: Decimal | None
    utilization: Decimal | None
    billed: Decimal
    expected: Decimal
    questioned: Decimal
    cost_per_person: Decimal | None
    unused_capacity: Decimal


@dataclasses.dataclass(frozen=True)
class RefContract:
    """One contracts.csv row; fields named as the columns (*findings* sorted codes)."""

    contract_id: str
    findings: tuple[str, ...]
    billed: Decimal
    expected: Decimal
    questioned: Decimal
    underbilled: Decimal
    ceiling: Decimal | None
    funded: Decimal | None
    estimate: Decimal | None
    estimate_variance: Decimal | None
    people: Decimal | None
    cost_per_person: Decimal | None
    utilization: Decimal | None
    paid_erroneous: Decimal
    paid_unsupported: Decimal
    to_withhold: Decimal
    interest_due: Decimal
    unused_capacity: Decimal
    deobligation: Decimal
    funds_put_to_better_use: Decimal


@dataclasses.dataclass(frozen=True)
class RefCapacity:
    """One capacity.csv row; fields named as the columns."""

    contract_id: str
    trip_id: str
    service_date: dt.date
    passengers: Decimal
    seats: Decimal
    expected: Decimal
    unused: Decimal


@dataclasses.dataclass
class RefControls:
    """The reference's section 9 results.

    *invoices* is every invoices.csv row (sections 5 and 9.2) in file order; *payments* the
    overall payment ledgers and *contract_payments* those of each contract of
    *summary_contracts* (the contracts of ``Report.contracts``); *months*, *contracts* and
    *capacity* the rows of oversight.csv, contracts.csv and capacity.csv, in file order.
    """

    invoices: list[RefInvoiceFinding]
    payments: dict[str, Decimal]
    contract_payments: dict[str, dict[str, Decimal]]
    summary_contracts: set[str]
    months: list[RefMonth]
    contracts: list[RefContract]
    capacity: list[RefCapacity]


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round the exact non-negative *value* half up to *places* places, once.

    >>> round_half_up(Fraction(3371875, 100000), 2)  # 33.71875
    Decimal('33.72')
    """
    assert value >= 0
    q, r = divmod(value.numerator * 10**places, value.denominator)
    if 2 * r >= value.denominator:
        q += 1
    return Decimal(q).scaleb(-places, context=EXACT)


def interest(principal: Decimal, rate_percent: Decimal, days_late: int) -> Decimal:
    """Return the Prompt Payment interest of section 9.2 (5 CFR 1315.10), in cents.

    d = min(days late, 365), n = d // 30, k = d % 30;
    interest = P (1 + r/12)^n (1 + r k/360) - P, exact, rounded half up once.

    >>> interest(Decimal("12450.00"), Decimal("4.875"), 20)  # 12450 x 0.04875 x 20/360
    Decimal('33.72')
    >>> interest(Decimal("1500.00"), Decimal("6"), 75)  # 1500 x 1.005^2 x 1.0025 - 1500
    Decimal('18.83')
    """
    d = min(days_late, 365)
    n, k = divmod(d, 30)
    p, r = Fraction(principal), Fraction(rate_percent) / 100
    return round_half_up(p * (1 + r / 12) ** n * (1 + r * k / 360) - p, 2)


def _opt_date(row: Mapping[str, str], name: str) -> dt.date | None:
    text = _cell(row, name)
    return dt.date.fromisoformat(text) if text else None


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _covers(start: dt.date, end: dt.date | None, day: dt.date) -> bool:
    """Whether the window [start, end] (end None: open-ended) holds *day*, ends included."""
    return start <= day and (end is None or day <= end)


@dataclasses.dataclass
class _Invoice:
    """One invoice of section 9.2: its headers and its non-INVALID lines."""

    contract: str
    invoice: str
    headers: list[Mapping[str, str]] = dataclasses.field(default_factory=list)
    lines: list[RefLine] = dataclasses.field(default_factory=list)

    def total(self, name: str) -> Decimal:
        """Return the sum of one amount (billed, erroneous, unsupported) over the lines."""
        total = ZERO
        for line in self.lines:
            value = getattr(line, name)
            assert value is not None
            total = _add(total, value)
        return total

    def order_key(self) -> tuple[object, ...]:
        """Section 5's processing order (sec9_spec.md reading 1): undated invoices last."""
        days = [dt.date.fromisoformat(_cell(h, "invoice_date")) for h in self.headers]
        dated = (0, min(days).toordinal()) if days else (1, 0)
        return (dated, self.contract, self.invoice)


@dataclasses.dataclass
class _Tally:
    """The oversight sums of one contract-month, or of one whole contract."""

    completed: int = 0
    cancelled: int = 0
    billed_trips: int = 0
    unbilled_trips: int = 0
    people: Decimal | None = None  # None: no completed trip recorded passengers
    without_count: int = 0
    seats: Decimal | None = None  # over the completed trips that recorded both
    seated_people: Decimal = Decimal(0)  # passengers over those same trips
    billed: Decimal = ZERO
    expected: Decimal = ZERO
    questioned: Decimal = ZERO
    counted_amount: Decimal = ZERO  # A of lines matched to completed trips with passengers
    unused: Decimal = ZERO

    def utilization(self) -> Decimal | None:
        """Σ passengers / Σ seats over the trips that recorded both, 4 places half up."""
        if self.seats is None or self.seats == 0:
            return None
        return round_fraction(self.seated_people, self.seats, 4, "half_up")

    def cost_per_person(self) -> Decimal | None:
        """Σ A of the lines on counted trips / people, cents half up."""
        if self.people is None or self.people == 0:
            return None
        return round_fraction(self.counted_amount, self.people, 2, "half_up")


def reference9(
    tables: Mapping[str, list[dict[str, str]]],
    result: RefResult,
    *,
    policy: Policy9 | None = None,
) -> RefControls:
    """Compute section 9 for *tables* from the section 5 *result* of ``reference(tables)``.

    The section 9.1 files are assumed valid, like the other files but invoice lines.
    """
    policy = policy or Policy9()
    pax, seats_name = policy.passengers_measure, policy.seats_measure

    # -- section 9.1 inputs
    terms: dict[str, Mapping[str, str]] = {}
    for row in tables.get("contracts", []):
        cid = _cell(row, "contract_id")
        assert cid not in terms, f"contract {cid} listed twice"
        terms[cid] = row
    cors_given = "cors" in tables
    appointments: dict[tuple[str, str], list[tuple[dt.date, dt.date | None, int]]] = {}
    for row in tables.get("cors", []):
        key = (_cell(row, "contract_id"), _cell(row, "person_id"))
        appointed = dt.date.fromisoformat(_cell(row, "appointed"))
        window = (appointed, _opt_date(row, "expires"), LEVELS[_cell(row, "level")])
        appointments.setdefault(key, []).append(window)
    rates_given = "interest_rates" in tables
    interest_rates = [
        (
            dt.date.fromisoformat(_cell(row, "start")),
            dt.date.fromisoformat(_cell(row, "end")),
            Decimal(_cell(row, "rate")),
        )
        for row in tables.get("interest_rates", [])
    ]

    def money(cid: str, name: str) -> Decimal | None:
        return _opt_decimal(terms[cid], name) if cid in terms else None

    def day_of(cid: str, name: str) -> dt.date | None:
        return _opt_date(terms[cid], name) if cid in terms else None

    # -- trips (the usable manifest rows, as the section 5 reference reads them)
    trips: dict[tuple[str, str], _Trip] = {}
    for row in tables.get("manifests", []):
        key = (_cell(row, "contract_id"), _cell(row, "trip_id").upper())
        trips[key] = _Trip(
            contract=key[0],
            trip_id=key[1],
            day=dt.date.fromisoformat(_cell(row, "service_date")),
            cancelled=(_cell(row, "status") or "completed") == "cancelled",
            status=_cell(row, "status") or "completed",
            origin="",
            destination="",
            cancel_notice_hours="",
            measures={name: cell for name in row if name and (cell := _cell(row, name))},
        )

    # -- invoices: those with a line (INVALID included) or a header
    invoices: dict[tuple[str, str], _Invoice] = {}

    def invoice_of(key: tuple[str, str]) -> _Invoice:
        if key not in invoices:
            invoices[key] = _Invoice(*key)
        return invoices[key]

    for header in tables.get("invoices", []):
        key = (_cell(header, "contract_id"), _cell(header, "invoice_id"))
        invoice_of(key).headers.append(header)
    for (cid, iid, _), line in result.lines.items():
        if not cid or not iid:
            continue  # an INVALID line without an invoice: no invoice, no B
        invoice = invoice_of((cid, iid))
        if line.status is not Status.INVALID:
            invoice.lines.append(line)

    # -- section 9.2, per contract in processing order
    findings = set(result.invoices)
    payments: dict[str, dict[str, Decimal]] = {}

    def ledgers_of(cid: str) -> dict[str, Decimal]:
        return payments.setdefault(cid, dict.fromkeys(PAYMENT_LEDGERS, ZERO))

    def credit(cid: str, name: str, value: Decimal) -> None:
        ledgers = ledgers_of(cid)
        ledgers[name] = _add(ledgers[name], value)

    cumulative: dict[str, Decimal] = {}
    noticed: set[str] = set()
    for invoice in sorted(invoices.values(), key=_Invoice.order_key):
        cid, iid, hs = invoice.contract, invoice.invoice, invoice.headers
        b = invoice.total("billed")
        erroneous, unsupported = invoice.total("erroneous"), invoice.total("unsupported")
        questioned = _add(erroneous, unsupported)
        one = hs[0] if len(hs) == 1 else None
        header_total = _opt_decimal(one, "total") if one is not None else None
        difference = _sub(header_total, b) if header_total is not None else None

        new = functools.partial(
            RefInvoiceFinding,
            contract_id=cid,
            invoice_id=iid,
            header_total=header_total,
            lines_total=b,
            difference=difference,
        )

        # Ceilings: on billed amounts, every invoice counted (duplicates, no header too).
        total = cumulative[cid] = _add(cumulative.get(cid, ZERO), b)
        ceiling, funded = money(cid, "ceiling"), money(cid, "funded")
        if ceiling is not None:
            notice = _opt_decimal(terms[cid], "notice_percent")
            if notice is None:
                notice = Decimal(85)
            if cid not in noticed and _mul(total, Decimal(100)) >= _mul(notice, ceiling):
                noticed.add(cid)
                findings.add(new(finding="CEILING_85_PERCENT", amount=total))
        for code, limit in (("CEILING_EXCEEDED", ceiling), ("FUNDING_EXCEEDED", funded)):
            if limit is not None and total > limit:
                over = min(b, _sub(total, limit))
                if over > 0:
                    findings.add(new(finding=code, amount=over))

        # Paid / approved: any header says so (sec9_spec.md reading 4).
        paid = any(_cell(h, "status") == "paid" or _cell(h, "paid_date") for h in hs)
        approved = paid or any(_cell(h, "status") == "approved" for h in hs)
        if paid:
            credit(cid, "paid_erroneous", erroneous)
            credit(cid, "paid_unsupported", unsupported)
        else:
            credit(cid, "to_withhold", questioned)
        if one is None:
            continue  # the header checks need exactly one header

        approved_by, approved_date = _cell(one, "approved_by"), _opt_date(one, "approved_date")
        if approved and (not approved_by or approved_date is None):
            findings.add(new(finding="APPROVAL_UNDOCUMENTED"))
        elif approved and cors_given:
            assert approved_date is not None
            covering = [
                level
                for start, end, level in appointments.get((cid, approved_by), [])
                if _covers(start, end, approved_date)
            ]
            assert len(covering) <= 1, f"overlapping appointments of {approved_by} on {cid}"
            risk = _cell(terms[cid], "risk") if cid in terms else ""
            if not covering:
                findings.add(new(finding="APPROVER_NOT_APPOINTED"))
            elif risk and covering[0] < LEVEL_NEEDED[risk]:
                findings.add(new(finding="APPROVER_LEVEL_BELOW_RISK"))

        paid_date = _opt_date(one, "paid_date")
        if paid_date is None:
            continue
        payment_days = dt.timedelta(days=int(_cell(terms.get(cid, {}), "payment_days") or "30"))
        received = _opt_date(one, "received_date") or dt.date.fromisoformat(
            _cell(one, "invoice_date")
        )
        if invoice.lines:
            service = [line.service_date for line in invoice.lines]
            assert all(day is not None for day in service)
            constructive = max(day for day in service if day is not None) + dt.timedelta(days=7)
            if questioned > 0:  # a disagreement: no constructive acceptance
                acceptance = approved_date or constructive
            elif approved_date is not None:
                acceptance = min(approved_date, constructive)
            else:
                acceptance = constructive
        else:
            acceptance = approved_date or received
        due = max(received, acceptance) + payment_days
        if paid_date <= due:
            continue
        rates = [rate for start, end, rate in interest_rates if start <= due + ONE_DAY <= end]
        assert len(rates) <= 1, f"overlapping interest rate windows on {due + ONE_DAY}"
        if not rates:
            findings.add(new(finding="LATE_PAYMENT"))
            if rates_given:
                findings.add(new(finding="NO_INTEREST_RATE"))
            continue
        # P = paid_amount, else the header total, else B.
        principal = _opt_decimal(one, "paid_amount")
        if principal is None:
            principal = header_total if header_total is not None else b
        owed = interest(principal, rates[0], (paid_date - due).days)
        findings.add(new(finding="LATE_PAYMENT", amount=owed))
        if owed >= ONE_DOLLAR:
            credit(cid, "interest_due", owed)

    # -- section 9.3: trips and lines by contract and month
    months: dict[tuple[str, str], _Tally] = {}
    whole: dict[str, _Tally] = {}
    claimed = set(trips) - result.unbilled

    def tallies(cid: str, day: dt.date) -> tuple[_Tally, _Tally]:
        return months.setdefault((cid, _month(day)), _Tally()), whole.setdefault(cid, _Tally())

    for key, trip in trips.items():
        for tally in tallies(trip.contract, trip.day):
            if trip.cancelled:
                tally.cancelled += 1
            else:
                tally.completed += 1
            if key in claimed:
                tally.billed_trips += 1
            else:
                tally.unbilled_trips += 1
            if trip.cancelled:
                continue
            if pax not in trip.measures:
                tally.without_count += 1
                continue
            people = Decimal(trip.measures[pax])
            tally.people = _add(tally.people or Decimal(0), people)
            if seats_name in trip.measures:
                tally.seats = _add(tally.seats or Decimal(0), Decimal(trip.measures[seats_name]))
                tally.seated_people = _add(tally.seated_people, people)

    on_trip: dict[tuple[str, str], list[RefLine]] = {}
    for (cid, _, _), line in result.lines.items():
        if line.status is Status.INVALID:
            continue
        assert line.billed is not None and line.expected is not None
        assert line.erroneous is not None and line.unsupported is not None
        matched = trips[(cid, line.trip_id)] if line.trip_id is not None else None
        day = matched.day if matched is not None else line.service_date
        assert day is not None
        for tally in tallies(cid, day):
            tally.billed = _add(tally.billed, line.billed)
            tally.expected = _add(tally.expected, line.expected)
            tally.questioned = _add(tally.questioned, _add(line.erroneous, line.unsupported))
            if matched is not None and not matched.cancelled and pax in matched.measures:
                tally.counted_amount = _add(tally.counted_amount, line.billed)
        if matched is not None:
            on_trip.setdefault((cid, matched.trip_id), []).append(line)

    # Funds put to better use, part 1: unused capacity of claimed completed trips.
    capacity: list[RefCapacity] = []
    for key in sorted(claimed):
        trip = trips[key]
        if trip.cancelled or pax not in trip.measures or seats_name not in trip.measures:
            continue
        people, seats = Decimal(trip.measures[pax]), Decimal(trip.measures[seats_name])
        if seats == 0 or people >= _mul(policy.utilization_floor, seats):
            continue  # ratio undefined, or not below the floor
        counted = [
            line for line in on_trip.get(key, []) if line.status in PRICED and line.basis != pax
        ]
        if not counted:
            continue
        expected = ZERO
        for line in counted:
            assert line.expected is not None
            expected = _add(expected, line.expected)
        # E x (seats - passengers) / seats, exact, rounded half up once per trip.
        unused = round_fraction(_mul(expected, _sub(seats, people)), seats, 2, "half_up")
        capacity.append(RefCapacity(key[0], key[1], trip.day, people, seats, expected, unused))
        for tally in tallies(trip.contract, trip.day):
            tally.unused = _add(tally.unused, unused)
        credit(trip.contract, "unused_capacity", unused)

    month_rows = [
        RefMonth(
            contract_id=cid,
            month=month,
            trips_completed=t.completed,
            trips_cancelled=t.cancelled,
            trips_billed=t.billed_trips,
            trips_unbilled=t.unbilled_trips,
            people=t.people,
            trips_without_count=t.without_count,
            seats=t.seats,
            utilization=t.utilization(),
            billed=t.billed,
            expected=t.expected,
            questioned=t.questioned,
            cost_per_person=t.cost_per_person(),
            unused_capacity=t.unused,
        )
        for (cid, month), t in sorted(months.items())
    ]

    # -- contracts: every contract id of a usable row of any input file
    contract_ids = {cid for cid, _, _ in result.lines if cid}
    for name in CONTRACT_FILES:
        contract_ids |= {_cell(row, "contract_id") for row in tables.get(name, [])}
    summary = {cid for cid, _, _ in result.lines} | {cid for cid, _ in invoices} | set(terms)
    summary |= {_cell(h, "contract_id") for h in tables.get("invoices", [])}

    # Funds put to better use, part 2: deobligation of ended contracts.
    latest_invoice: dict[str, dt.date] = {}
    for header in tables.get("invoices", []):
        cid, day = (
            _cell(header, "contract_id"),
            dt.date.fromisoformat(_cell(header, "invoice_date")),
        )
        latest_invoice[cid] = max(day, latest_invoice.get(cid, day))
    for cid in sorted(terms):
        funded, end = money(cid, "funded"), day_of(cid, "end")
        as_of = policy.as_of or latest_invoice.get(cid)
        if funded is None or end is None or as_of is None or not end < as_of:
            continue
        spent = result.contracts[cid][1]["expected"] if cid in result.contracts else ZERO
        left = _sub(funded, spent)
        if left > 0:
            credit(cid, "deobligation", left)

    for cid in contract_ids | summary:
        ledgers = ledgers_of(cid)
        ledgers["funds_put_to_better_use"] = _add(
            ledgers["unused_capacity"], ledgers["deobligation"]
        )

    contract_rows = []
    for cid in sorted(contract_ids):
        t = whole.get(cid, _Tally())
        codes = []
        estimate = money(cid, "estimate")
        if estimate is None:
            codes.append("NO_COST_ESTIMATE")
        if t.completed and t.people is None:
            codes.append("NO_PEOPLE_COUNT")
        if cors_given:
            start, end = day_of(cid, "start"), day_of(cid, "end")
            overlapping = [
                (person, window)
                for (c, person), windows in appointments.items()
                if c == cid
                for window in windows
                if (end is None or window[0] <= end)
                and (start is None or window[1] is None or window[1] >= start)
            ]
            if not overlapping:
                codes.append("COR_NOT_APPOINTED")
        ledgers5 = (
            result.contracts[cid][1] if cid in result.contracts else dict.fromkeys(LEDGERS, ZERO)
        )
        contract_rows.append(
            RefContract(
                contract_id=cid,
                findings=tuple(sorted(codes)),
                billed=ledgers5["billed"],
                expected=ledgers5["expected"],
                questioned=ledgers5["questioned"],
                underbilled=ledgers5["underbilled"],
                ceiling=money(cid, "ceiling"),
                funded=money(cid, "funded"),
                estimate=estimate,
                estimate_variance=(
                    _sub(ledgers5["billed"], estimate) if estimate is not None else None
                ),
                people=t.people,
                cost_per_person=t.cost_per_person(),
                utilization=t.utilization(),
                **ledgers_of(cid),
            )
        )

    overall = dict.fromkeys(PAYMENT_LEDGERS, ZERO)
    for cid in summary:
        for name, value in ledgers_of(cid).items():
            overall[name] = _add(overall[name], value)
    return RefControls(
        invoices=sorted(findings, key=finding_order),
        payments=overall,
        contract_payments={cid: ledgers_of(cid) for cid in summary},
        summary_contracts=summary,
        months=month_rows,
        contracts=contract_rows,
        capacity=capacity,
    )


ONE_DAY = dt.timedelta(days=1)


def finding_order(f: RefInvoiceFinding) -> tuple[object, ...]:
    """invoices.csv order: contract, invoice, code, then header_total with empty first."""
    total = (0, ZERO) if f.header_total is None else (1, f.header_total)
    return (f.contract_id, f.invoice_id, f.finding, total)
