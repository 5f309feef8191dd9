"""Properties of ``reconcile()`` over generated data sets: the invariants of DESIGN section 7.

The data sets are drawn by :func:`datasets`, a strategy local to these tests: consistent
rates (flat, tiered, cancellation, labor, fuel), manifests and rosters, and invoice lines
that are mostly derived from the trips (correctly priced, or with one injected error), plus
duplicates and malformed rows. ``tests/reference.py`` is the independent ``Decimal``
reference the exactness property compares against.
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import functools
import importlib
import json
import random
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

import reference as ref
from ice_recon import (
    Finding,
    Inputs,
    LineResult,
    Policy,
    Report,
    Status,
    Tolerance,
    load_files,
    reconcile,
)
from ice_recon._csv import needs_care, text_cell

Tables = dict[str, list[dict[str, str]]]

BASE = dt.date(2021, 9, 1)
CONTRACTS = ("HSCEMD-19-C-00012", "70CDCR-20-C-00007", "HSCEMD-21-C-00031")
ORIGINS = ("PIDC", "KHRL", "RGVPC", "ELVSPC")
MODES = tuple(ref.MODES)
SERIES = "EIA-DIESEL-US"
FUEL_CLIN = "0009"
UNPRICED_CLIN = "0099"
NOWHERE = "NOWHERE"
KINDS = ("miles", "labor", "wait", "trip", "cancel", "graduated", "all_units", "labor", "fuel")
REFERENCE_KINDS = ("miles", "wait", "trip", "cancel", "graduated", "all_units")
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
RATE_COLUMNS = (
    "contract_id",
    "clin",
    "basis",
    "rate",
    "start",
    "end",
    "labor_category",
    "minimum_amount",
    "minimum_quantity",
    "free_quantity",
    "increment",
    "increment_rounding",
    "tier_from",
    "tier_mode",
    "rounding",
    "authority",
    "rule_id",
    "description",
)
LINE_COLUMNS = (
    "invoice_id",
    "line_no",
    "contract_id",
    "clin",
    "service_date",
    "trip_ref",
    "labor_category",
    "person_id",
    "origin",
    "destination",
    "quantity",
    "unit_price",
    "amount",
    "description",
)
PERTURBATIONS = (
    "none",
    "none",
    "none",
    "none",
    "quantity",
    "price",
    "amount",
    "rounding",
    "minimum",
    "date",
    "noref",
    "unknown_ref",
    "ref_case",
    "unpriced_clin",
    "wrong_category",
)
#: Cells that make a line malformed (so INVALID), each with the column it goes in.
BAD_CELLS = (
    ("amount", "1e3"),
    ("amount", "1,000.00"),
    ("amount", "12.345"),
    ("amount", "-5.00"),
    ("amount", "$5.00"),
    ("amount", ""),
    ("quantity", "+5"),
    ("quantity", ".5"),
    ("quantity", "Infinity"),
    ("unit_price", "5."),
    ("unit_price", "NaN"),
    ("service_date", "2021-02-30"),
    ("service_date", "09/01/2021"),
    ("line_no", "0"),
    ("line_no", "1.0"),
    ("clin", ""),
    ("contract_id", ""),
)
EXACT = decimal.Context(prec=100, traps=[decimal.Inexact, decimal.InvalidOperation])
ROUNDING = decimal.Context(prec=100, traps=[decimal.InvalidOperation])
BOOL = st.booleans()


# ------------------------------------------------------------------------------ generation


def _text(units: int, places: int) -> str:
    if places == 0:
        return str(units)
    whole, frac = divmod(units, 10**places)
    return f"{whole}.{frac:0{places}d}"


@functools.cache
def _ints(min_value: int, max_value: int) -> st.SearchStrategy[int]:
    return st.integers(min_value, max_value)


@functools.cache
def _choices(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


def _int(draw: st.DrawFn, min_value: int, max_value: int) -> int:
    """Draw an integer (strategies are built once: building them is what makes drawing slow)."""
    return draw(_ints(min_value, max_value))


def _pick(draw: st.DrawFn, values: Sequence[Any]) -> Any:
    """Draw one of *values*; unhashable values (rows) are drawn by index."""
    values = tuple(values)
    try:
        strategy = _choices(values)
    except TypeError:
        return values[_int(draw, 0, len(values) - 1)]
    return draw(strategy)


def _maybe_pick(draw: st.DrawFn, values: tuple[str, ...]) -> str:
    return str(_pick(draw, ("", *values)))


def _maybe_number(draw: st.DrawFn, max_value: int, places: int, min_value: int = 0) -> str:
    return _number(draw, max_value, places, min_value) if draw(BOOL) else ""


def _number(draw: st.DrawFn, max_value: int, places: int, min_value: int = 0) -> str:
    return _text(_int(draw, min_value * 10**places, max_value * 10**places), places)


def _day(offset: int) -> str:
    return (BASE + dt.timedelta(days=offset)).isoformat()


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def _maybe(draw: st.DrawFn, value: Any) -> Any:
    return value if draw(BOOL) else ""


def _windows(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Draw 1-2 non-overlapping windows, the second one after a gap of 0, 2 or 5 days."""
    start = _int(draw, -2, 6)
    end = start + _pick(draw, (20, 12, 30))
    windows = [(start, end)]
    if draw(BOOL):
        second = end + 1 + _pick(draw, (0, 2, 5))
        windows.append((second, second + _pick(draw, (20, 10, 30))))
    return [(_day(a), _day(b)) for a, b in windows]


def _tier_froms(draw: st.DrawFn, choices: tuple[int, ...]) -> list[str]:
    more = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3, unique=True))
    return ["0", *(str(x) for x in sorted(more))]


def _rule_rows(
    draw: st.DrawFn, contract: str, clin: str, kind: str, start: str, end: str, label: str
) -> list[dict[str, str]]:
    """Draw the rates rows of one rule (one row, a tier set, or one row per labor category)."""
    common = dict.fromkeys(RATE_COLUMNS, "")
    common.update(contract_id=contract, clin=clin, start=start, end=end)
    common["rounding"] = _maybe_pick(draw, MODES)
    common["authority"] = _maybe(draw, f"P0000{label[-1]} B.{clin[-1]}")
    common["rule_id"] = _maybe(draw, f"{contract}-{clin}-{label}")
    rows: list[dict[str, str]] = []
    if kind == "miles":
        common.update(
            basis="loaded_miles",
            rate=_number(draw, 5, _pick(draw, (2, 4)), 1),
            minimum_amount=_maybe_number(draw, 300, 2, 50),
            minimum_quantity=_maybe_number(draw, 60, 1),
        )
        rows.append(common)
    elif kind == "wait":
        increment = _maybe_pick(draw, ("0.25", "0.5", "1", "0.1"))
        common.update(
            basis="wait_hours",
            rate=_number(draw, 80, 2, 20),
            free_quantity=_maybe_pick(draw, ("1.00", "0.5", "0.25")),
            increment=increment,
            increment_rounding=_maybe_pick(draw, ("down", "up", "nearest")) if increment else "",
            minimum_quantity=_maybe_pick(draw, ("1", "0.5", "2.00")),
        )
        rows.append(common)
    elif kind == "trip":
        common.update(
            basis="trip",
            rate=_number(draw, 300, 2, 50),
            minimum_amount=_maybe_number(draw, 400, 2, 100),
        )
        rows.append(common)
    elif kind == "cancel":
        common["basis"] = "cancellation"
        if draw(BOOL):
            common["rate"] = _number(draw, 500, 2, 50)
            rows.append(common)
        else:
            for tier_from in _tier_froms(draw, (12, 24, 48)):
                rows.append(
                    {
                        **common,
                        "tier_from": tier_from,
                        "tier_mode": "all_units",
                        "rate": _number(draw, 500, 2),
                        "description": _maybe(draw, f"notice from {tier_from} hours"),
                    }
                )
    elif kind in ("graduated", "all_units"):
        basis = _pick(draw, ("passengers", "loaded_miles"))
        common.update(
            basis=basis,
            minimum_amount=_maybe_number(draw, 300, 2, 10),
            minimum_quantity=_maybe_number(draw, 20, 1) if kind == "all_units" else "",
        )
        choices = (5, 10, 25) if basis == "passengers" else (25, 50, 100, 150)
        for tier_from in _tier_froms(draw, choices):
            rows.append(
                {
                    **common,
                    "tier_from": tier_from,
                    "tier_mode": kind,
                    "rate": _number(draw, 15, _pick(draw, (2, 3, 4)), 1),
                }
            )
    elif kind == "labor":
        categories = _pick(draw, (("",), ("TO",), ("TO", "STO")))
        for category in categories:
            rows.append(
                {
                    **common,
                    "basis": "labor_hours",
                    "labor_category": category,
                    "rate": _number(draw, 70, 2, 30),
                    "minimum_quantity": _maybe_pick(draw, ("1", "4.00")),
                    "rule_id": f"{common['rule_id']}-{category}" if common["rule_id"] else "",
                }
            )
    return rows


def _fuel_index(draw: st.DrawFn) -> list[dict[str, str]]:
    """Draw weekly index prices for the Mondays around BASE, a few weeks missing."""
    monday = BASE - dt.timedelta(days=BASE.weekday() + 14)
    rows = []
    for week in range(12):
        if _int(draw, 0, 5) == 3:
            continue
        day = monday + dt.timedelta(weeks=week)
        rows.append({"series": SERIES, "week": day.isoformat(), "price": _number(draw, 4, 3, 2)})
    return rows


def _fuel_rate(rule: Mapping[str, str], index: Mapping[str, str], day: dt.date) -> Decimal | None:
    """Return the fuel surcharge rate of *rule* on *day* (approximately: for generation only)."""
    monday = day - dt.timedelta(days=day.weekday())
    if rule["week_rule"] == "prior_week":
        monday -= dt.timedelta(weeks=1)
    price = index.get(monday.isoformat())
    if price is None:
        return None
    rate = ROUNDING.divide(
        ROUNDING.subtract(Decimal(price), Decimal(rule["base_price"])), Decimal(rule["mpg"])
    )
    rate = max(rate, Decimal(0))
    mode = ref.MODES[rule["rounding"] or "half_up"]
    return rate.quantize(Decimal(1).scaleb(-int(rule["places"] or 2)), rounding=mode)


class _Contract:
    """What the generator knows about one contract while it draws invoice lines."""

    def __init__(self, contract_id: str) -> None:
        self.contract_id = contract_id
        self.clins: list[tuple[str, str]] = []  # (clin, kind)
        self.labor: dict[str, list[tuple[str, ref.Rule]]] = {}  # clin -> (category, rule)
        self.fuel: dict[str, str] | None = None
        self.trips: list[dict[str, str]] = []
        self.staff: list[dict[str, str]] = []
        self.billed: set[tuple[str, str]] = set()  # (trip_id, clin) already billed


def _labor_rule(rows: list[dict[str, str]]) -> list[tuple[str, ref.Rule]]:
    rules = []
    for row in rows:
        rule = ref.Rule(
            contract_id=row["contract_id"],
            clin=row["clin"],
            basis="labor_hours",
            start=dt.date.fromisoformat(row["start"]),
            end=dt.date.fromisoformat(row["end"]),
            rate=Decimal(row["rate"]),
            tiers=[],
            tier_mode=None,
            minimum_amount=None,
            minimum_quantity=Decimal(row["minimum_quantity"]) if row["minimum_quantity"] else None,
            free_quantity=None,
            increment=None,
            increment_rounding="down",
            rounding=row["rounding"] or None,
            rule_id=row["rule_id"],
            authority=row["authority"] or None,
        )
        rules.append((row["labor_category"], rule))
    return rules


def _trip_row(
    draw: st.DrawFn, contract: str, k: int, span: tuple[int, int], trips: list[dict[str, str]]
) -> dict[str, str]:
    """Draw trip *k* of *contract*, mostly on a day within *span* (first, last day offset).

    A "twin" of an earlier trip (same day, places and measures) makes inference ambiguous.
    """
    where = _pick(draw, ("inside", "inside", "anywhere", "twin"))
    if where == "twin" and trips:
        return {**_pick(draw, trips), "trip_id": f"T{k}"}
    if where != "anywhere":
        day = _int(draw, *span)
    else:
        day = _int(draw, -3, 45)
    cancelled = _int(draw, 0, 4) == 3
    status = "cancelled" if cancelled else _pick(draw, ("completed", ""))

    def measure(max_value: int, places: int) -> str:
        if cancelled or _int(draw, 0, 5) == 3:
            return ""
        return _number(draw, max_value, places)

    return {
        "trip_id": f"T{k}",
        "contract_id": contract,
        "service_date": _day(day),
        "status": status,
        "origin": _maybe_pick(draw, ORIGINS),
        "destination": _maybe_pick(draw, ORIGINS),
        "cancel_notice_hours": _pick(draw, ("", "0", "6", "24", "30", "48", "72", "23.5"))
        if cancelled
        else "",
        "loaded_miles": measure(250, 1),
        "wait_hours": measure(4, 2),
        "passengers": measure(30, 0),
    }


def _truth(
    draw: st.DrawFn,
    c: _Contract,
    book: Mapping[tuple[str, str], list[ref.Rule]],
    fuel_index: Mapping[str, str],
    trip: Mapping[str, str],
    clin: str,
    kind: str,
    line: dict[str, str],
    mode: str,
) -> tuple[Decimal, Decimal, ref.Rule | None, Decimal | None, str] | None:
    """Return (billable quantity, effective rate, rule, fee, mode) of a charge, if priceable.

    For labor, also fills the line's labor_category / person_id.
    """
    day = dt.date.fromisoformat(trip["service_date"])
    cancelled = trip["status"] == "cancelled"
    if kind == "labor":
        roster = [s for s in c.staff if s["trip_id"] == trip["trip_id"]]
        if not roster:
            line["labor_category"] = _pick(draw, ("TO", "STO"))
            return None
        person = _pick(draw, roster)
        how = _pick(draw, ("person", "person+category", "category"))
        category = person["labor_category"]
        if how != "category":
            line["person_id"] = person["person_id"]
        if how != "person":
            line["labor_category"] = category
        if how == "category":
            hours = sum(
                (Decimal(s["hours"]) for s in roster if s["labor_category"] == category),
                Decimal(0),
            )
        else:
            hours = Decimal(person["hours"])
        for rule_category, rule in c.labor[clin]:
            if rule_category in ("", category) and rule.start <= day <= rule.end:
                qe = ref.billable_quantity(rule, hours)
                return qe, rule.rate or Decimal(0), rule, None, rule.rounding or mode
        return None
    if kind == "fuel":
        assert c.fuel is not None
        rate = _fuel_rate(c.fuel, fuel_index, day)
        miles = trip["loaded_miles"]
        if rate is None or not miles or cancelled:
            return None
        return Decimal(miles), rate, None, None, c.fuel["rounding"] or mode
    rule = ref.find_rule(book, c.contract_id, clin, day)
    if rule is None or cancelled != (rule.basis == "cancellation"):
        return None
    fee = None
    if rule.basis == "cancellation":
        quantity = Decimal(1)
        if rule.tiers:
            if not trip["cancel_notice_hours"]:
                return None
            fee = ref.tier_rate(rule.tiers, Decimal(trip["cancel_notice_hours"]))
        else:
            fee = rule.rate
    elif rule.basis == "trip":
        quantity = Decimal(1)
    else:
        if not trip[rule.basis]:
            return None
        quantity = Decimal(trip[rule.basis])
    qe = ref.billable_quantity(rule, quantity)
    rate = ref.effective_rate(rule, qe, fee)
    if rate is None:  # graduated: bill the average rate
        total = ref.price_of(rule, qe, rule.rounding or mode)
        rate = ROUNDING.divide(total, qe).quantize(Decimal("0.0001")) if qe else Decimal(0)
    return qe, rate, rule, fee, rule.rounding or mode


def _fits(
    c: _Contract,
    book: Mapping[tuple[str, str], list[ref.Rule]],
    clin: str,
    kind: str,
    trip: Mapping[str, str],
) -> bool:
    """Return whether *clin* has a rule on *trip*'s date for which the trip is performed."""
    day = dt.date.fromisoformat(trip["service_date"])
    cancelled = trip["status"] == "cancelled"
    if kind == "labor":
        return not cancelled and any(r.start <= day <= r.end for _, r in c.labor[clin])
    if kind == "fuel":
        assert c.fuel is not None
        return not cancelled and c.fuel["start"] <= trip["service_date"] <= c.fuel["end"]
    rule = ref.find_rule(book, c.contract_id, clin, day)
    return rule is not None and cancelled == (rule.basis == "cancellation")


def _invoice_line(
    draw: st.DrawFn,
    c: _Contract,
    book: Mapping[tuple[str, str], list[ref.Rule]],
    fuel_index: Mapping[str, str],
    mode: str,
    *,
    inference: bool,
) -> dict[str, str]:
    """Draw one line billing a trip of *c*, correct or with one injected error."""
    line = dict.fromkeys(LINE_COLUMNS, "")
    clin, kind = _pick(draw, c.clins)
    fits = [
        t for t in c.trips if (t["trip_id"], clin) not in c.billed and _fits(c, book, clin, kind, t)
    ]
    if fits and _pick(draw, ("fits", "fits", "fits", "any")) == "fits":
        trip = _pick(draw, fits)
    else:
        trip = _pick(draw, c.trips)
    c.billed.add((trip["trip_id"], clin))
    line.update(
        contract_id=c.contract_id,
        clin=clin,
        service_date=trip["service_date"],
        trip_ref=trip["trip_id"],
        description=_maybe(draw, f"{kind} charge"),
    )
    if inference and draw(BOOL):
        line.update(origin=trip["origin"], destination=_maybe(draw, trip["destination"]))
    truth = _truth(draw, c, book, fuel_index, trip, clin, kind, line, mode)
    if truth is None:
        qb = Decimal(_number(draw, 200, 1))
        pb = Decimal(_number(draw, 100, 2))
        rule_mode, expected = mode, None
    else:
        qe, pb, rule, fee, rule_mode = truth
        qb = qe
        expected = None if rule is None else ref.expected_amount(rule, qe, rule_mode, fee)
    if expected is None:
        expected = ref.round_cents(EXACT.multiply(qb, pb), rule_mode)
    amount = expected
    how = _pick(draw, PERTURBATIONS)
    if how == "quantity":
        qb = EXACT.add(qb, Decimal(_pick(draw, ("0.1", "1", "10", "0.25"))))
        amount = ref.round_cents(EXACT.multiply(qb, pb), rule_mode)
    elif how == "price":
        pb = EXACT.add(pb, Decimal(_pick(draw, ("0.01", "0.10", "1.00", "0.0001"))))
        amount = ref.round_cents(EXACT.multiply(qb, pb), rule_mode)
    elif how == "amount":
        delta = Decimal(_pick(draw, ("0.01", "-0.01", "0.02", "1.00", "-1.00")))
        amount = max(EXACT.add(amount, delta), Decimal("0.00"))
    elif how == "rounding":
        others = [m for m in ("up", "down", "half_even", "half_down", "half_up") if m != rule_mode]
        amount = ref.round_cents(EXACT.multiply(qb, pb), _pick(draw, others))
    elif how == "minimum":
        amount = ref.round_cents(EXACT.multiply(qb, pb), rule_mode)
    elif how == "date":
        shifted = dt.date.fromisoformat(trip["service_date"]) + dt.timedelta(
            days=_pick(draw, (-3, -2, -1, 1, 2, 3))
        )
        line["service_date"] = shifted.isoformat()
    elif how == "noref":
        line["trip_ref"] = ""
    elif how == "unknown_ref":
        line["trip_ref"] = _pick(draw, ("T9", "X-1", "T0"))
    elif how == "ref_case":
        line["trip_ref"] = f" {trip['trip_id'].lower()} "
    elif how == "unpriced_clin":
        line["clin"] = UNPRICED_CLIN
    elif how == "wrong_category" and line["person_id"]:
        other = {"TO": "STO", "STO": "TO"}
        line["labor_category"] = other.get(line["labor_category"], "TO")
    line.update(quantity=_fmt(qb), unit_price=_fmt(pb), amount=_fmt(amount))
    usable = line["trip_ref"].strip().upper() in {t["trip_id"] for t in c.trips}
    if not inference and not usable:
        line.update(origin=NOWHERE, destination="")
    return line


@st.composite
def datasets(draw: st.DrawFn, *, reference: bool = False) -> tuple[Tables, Policy]:
    """Draw a small consistent data set (rows by table name) and a policy.

    With *reference*, stay inside the subset that ``tests/reference.py`` covers: no labor,
    no fuel, and lines without a usable trip ref that no trip could be inferred for.
    """
    mode = _pick(draw, MODES)
    tolerances = {}
    for basis in ("loaded_miles", "wait_hours", "passengers", "labor_hours"):
        if _int(draw, 0, 3) == 2:
            value = Decimal(_pick(draw, ("0.5", "1", "2", "10")))
            tolerances[basis] = Tolerance(value=value, percent=draw(BOOL))
    window = 1 if reference else _pick(draw, (1, 0, 2))
    policy = Policy(rounding=mode, tolerances=tolerances, window_days=window)
    kinds = REFERENCE_KINDS if reference else KINDS
    contracts = draw(st.lists(st.sampled_from(CONTRACTS), min_size=1, max_size=3, unique=True))
    tables: Tables = {
        "rates": [],
        "manifests": [],
        "staff": [],
        "fuel_rules": [],
        "fuel_index": [],
        "invoice_lines": [],
        "invoices": [],
    }
    models = []
    for contract in contracts:
        c = _Contract(contract)
        rated = st.sampled_from([k for k in kinds if k != "fuel"])  # rates.csv is required
        chosen = [draw(rated), *draw(st.lists(st.sampled_from(kinds), max_size=3))]
        for n, kind in enumerate(chosen):
            clin = FUEL_CLIN if kind == "fuel" else f"{n + 1:04d}"
            if (clin, kind) in c.clins:
                continue
            c.clins.append((clin, kind))
            if kind == "fuel":
                start, end = _windows(draw)[0]
                c.fuel = {
                    "contract_id": contract,
                    "clin": clin,
                    "start": start,
                    "end": end,
                    "base_price": _number(draw, 3, 3, 2),
                    "mpg": _pick(draw, ("6.0", "6.5", "7")),
                    "series": SERIES,
                    "week_rule": _pick(draw, ("", "service_week", "prior_week")),
                    "places": _pick(draw, ("", "2", "3")),
                    "basis": _pick(draw, ("", "loaded_miles")),
                    "rounding": _maybe_pick(draw, MODES),
                }
                tables["fuel_rules"].append(c.fuel)
                continue
            for w, (start, end) in enumerate(_windows(draw)):
                rows = _rule_rows(draw, contract, clin, kind, start, end, f"W{w + 1}")
                tables["rates"].extend(rows)
                if kind == "labor":
                    c.labor.setdefault(clin, []).extend(_labor_rule(rows))
        days = [
            (dt.date.fromisoformat(row[edge]) - BASE).days
            for row in (*tables["rates"], *tables["fuel_rules"])
            if row["contract_id"] == contract
            for edge in ("start", "end")
        ]
        span = (min(days), max(days))
        for k in range(1, _int(draw, 1, 6) + 1):
            trip = _trip_row(draw, contract, k, span, c.trips)
            c.trips.append(trip)
            if c.labor and trip["status"] != "cancelled":
                people = draw(
                    st.lists(st.sampled_from(("P1", "P2", "P3")), max_size=3, unique=True)
                )
                for person in people:
                    c.staff.append(
                        {
                            "trip_id": trip["trip_id"],
                            "contract_id": contract,
                            "person_id": person,
                            "labor_category": _pick(draw, ("TO", "STO")),
                            "hours": _number(draw, 12, 2),
                        }
                    )
        tables["manifests"].extend(c.trips)
        tables["staff"].extend(c.staff)
        models.append(c)

    if tables["fuel_rules"]:
        tables["fuel_index"] = _fuel_index(draw)
    fuel_index = {row["week"]: row["price"] for row in tables["fuel_index"]}
    book = ref.parse_rules(tables["rates"])
    budget = 24
    for c in models:
        invoices = draw(
            st.lists(st.sampled_from(("INV-A", "INV-B", "INV-C")), min_size=1, max_size=3)
        )
        lines: list[dict[str, str]] = []
        for _ in range(_int(draw, 0 if len(models) > 1 else 1, min(8, budget))):
            line = _invoice_line(draw, c, book, fuel_index, mode, inference=not reference)
            line["invoice_id"] = _pick(draw, invoices)
            lines.append(line)
        if lines and draw(BOOL):  # a verbatim copy, maybe on another invoice
            copy = dict(_pick(draw, lines))
            copy["invoice_id"] = _pick(draw, invoices)
            lines.append(copy)
        budget -= len(lines)
        numbers: collections.Counter[str] = collections.Counter()
        for line in lines:
            numbers[line["invoice_id"]] += 1
            no = numbers[line["invoice_id"]]
            line["line_no"] = f"0{no}" if _int(draw, 0, 9) == 7 else str(no)
        for line in lines:
            if _int(draw, 0, 9) == 7:
                column, cell = _pick(draw, BAD_CELLS)
                line[column] = cell
            if _int(draw, 0, 9) == 5:  # surrounding whitespace is stripped from every cell
                column = _pick(draw, ("amount", "quantity", "clin", "line_no", "invoice_id"))
                line[column] = f" {line[column]}  "
        if len(lines) > 1 and _int(draw, 0, 4) == 3:  # two lines with one line_no
            a, b = draw(st.permutations(range(len(lines))))[:2]
            lines[b]["invoice_id"] = lines[a]["invoice_id"]
            lines[b]["line_no"] = lines[a]["line_no"]
        tables["invoice_lines"].extend(lines)

        bad = ref.invalid_lines(lines)
        totals: dict[str, Decimal] = {}
        for i, line in enumerate(lines):
            if i not in bad:
                so_far = totals.get(line["invoice_id"], Decimal("0.00"))
                totals[line["invoice_id"]] = EXACT.add(so_far, Decimal(line["amount"]))
        for invoice in sorted(set(invoices)):
            copies = _pick(draw, (1, 1, 1, 1, 0, 2))
            for _ in range(copies):
                right = totals.get(invoice, Decimal("0.00"))
                total = _pick(
                    draw,
                    (
                        right,
                        right,
                        EXACT.add(right, Decimal("0.01")),
                        EXACT.add(right, Decimal("100.00")),
                        None,
                    ),
                )
                tables["invoices"].append(
                    {
                        "invoice_id": invoice,
                        "contract_id": c.contract_id,
                        "invoice_date": _day(_int(draw, 30, 40)),
                        "total": "" if total is None else _fmt(total),
                        "status": _maybe_pick(draw, ("received", "paid")),
                    }
                )
    return tables, policy


# --------------------------------------------------------------------------------- helpers


def _load(tables: Tables) -> Inputs:
    # A required table without rows is a table with no rows (a header-only file), not a
    # missing one (which refuses the run); an optional one without rows is left out.
    required = {"rates", "manifests", "invoice_lines"}
    return load_files(
        **{name: rows if rows or name in required else None for name, rows in tables.items()}
    )


def _run(tables: Tables, policy: Policy) -> Report:
    return reconcile(_load(tables), policy=policy)


def _outputs(report: Report) -> dict[str, bytes]:
    """Return the bytes of the files ``Report.write`` writes (summary without digests).

    problems.csv is left out: it cites input line numbers, which shuffling rows changes.
    """
    with tempfile.TemporaryDirectory() as tmp:
        report.write(tmp)
        files = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())}
    del files["problems.csv"]
    summary = json.loads(files["summary.json"])
    summary.pop("inputs")
    files["summary.json"] = json.dumps(summary, sort_keys=True).encode()
    return files


def _input_keys(tables: Tables) -> collections.Counter[tuple[str, str, str]]:
    return collections.Counter(
        (row["contract_id"].strip(), row["invoice_id"].strip(), row["line_no"].strip())
        for row in tables["invoice_lines"]
    )


def _line_keys(report: Report) -> collections.Counter[tuple[str, str, str]]:
    return collections.Counter((r.contract_id, r.invoice_id, r.line_no_text) for r in report.lines)


def _split(tables: Tables) -> Iterator[tuple[str, Tables]]:
    """Yield each contract id with its own rows (every fuel index row goes to every part)."""
    contracts = sorted(
        {
            row["contract_id"].strip()
            for name, rows in tables.items()
            if name != "fuel_index"
            for row in rows
        }
    )
    for contract in contracts:
        yield (
            contract,
            {
                name: [
                    r for r in rows if name == "fuel_index" or r["contract_id"].strip() == contract
                ]
                for name, rows in tables.items()
            },
        )


def _money(value: Decimal | None) -> Decimal:
    assert value is not None
    return value


# ------------------------------------------------------------------------------ properties


@given(datasets())
def test_conservation(case: tuple[Tables, Policy]) -> None:
    """Every line is reported once; every trip is either claimed or unbilled, never both."""
    tables, policy = case

    inputs = _load(tables)
    report = reconcile(inputs, policy=policy)

    # The generator only makes invoice lines malformed, so every manifest trip is usable.
    assert {p.file for p in inputs.problems} <= {"invoice_lines.csv"}
    assert len(inputs.manifests) == len(tables["manifests"])
    assert _line_keys(report) == _input_keys(tables)
    assert len(report.lines) == len(tables["invoice_lines"])
    trips = {(t["contract_id"], t["trip_id"]) for t in tables["manifests"]}
    claimed = {
        (r.contract_id, r.trip_id)
        for r in report.lines
        if r.status is not Status.INVALID and r.trip_id is not None
    }
    unbilled = [(u.contract_id, u.trip_id) for u in report.unbilled]
    assert claimed <= trips
    assert len(unbilled) == len(set(unbilled))
    assert set(unbilled) == trips - claimed
    for r in report.lines:
        if r.status is Status.INVALID:
            assert r.match == "none"
            assert r.billed is None and r.expected is None and r.variance is None


@given(datasets())
def test_ledger_identity(case: tuple[Tables, Policy]) -> None:
    """Per line and in total, variance = billed - expected = erroneous + unsupported - under."""
    tables, policy = case

    report = _run(tables, policy)

    fields = ("billed", "expected", "variance", "erroneous", "unsupported", "underbilled")
    totals = dict.fromkeys(fields, Decimal(0))
    per_contract: dict[str, dict[str, Decimal]] = {}
    counts: collections.Counter[Status] = collections.Counter()
    contract_counts: dict[str, collections.Counter[Status]] = {}
    for r in report.lines:
        counts[r.status] += 1
        contract_counts.setdefault(r.contract_id, collections.Counter())[r.status] += 1
        if r.status is Status.INVALID:
            continue
        billed, expected, variance = _money(r.billed), _money(r.expected), _money(r.variance)
        erroneous, unsupported = _money(r.erroneous), _money(r.unsupported)
        underbilled = _money(r.underbilled)
        assert variance == billed - expected == erroneous + unsupported - underbilled
        money = (billed, expected, variance, erroneous, unsupported, underbilled)
        assert all(m.as_tuple().exponent == -2 for m in money), r
        assert min(erroneous, unsupported, underbilled) >= 0
        assert sum(1 for x in (erroneous, unsupported, underbilled) if x != 0) <= 1
        sums = per_contract.setdefault(r.contract_id, dict.fromkeys(fields, Decimal(0)))
        for name in fields:
            totals[name] += getattr(r, name)
            sums[name] += getattr(r, name)

    ledgers = report.ledgers
    assert ledgers.billed - ledgers.expected == ledgers.variance
    assert ledgers.questioned == ledgers.erroneous + ledgers.unsupported
    assert ledgers.variance == ledgers.erroneous + ledgers.unsupported - ledgers.underbilled
    assert {name: getattr(ledgers, name) for name in fields} == totals
    assert set(contract_counts) <= set(report.contracts)
    for contract, summary in report.contracts.items():
        expected_sums = per_contract.get(contract, dict.fromkeys(fields, Decimal(0)))
        assert {name: getattr(summary.ledgers, name) for name in fields} == expected_sums
        assert summary.ledgers.questioned == summary.ledgers.erroneous + summary.ledgers.unsupported
        assert {s: n for s, n in summary.counts.items() if n} == dict(
            contract_counts.get(contract, {})
        )
    for name in (*fields, "questioned"):
        assert sum(getattr(s.ledgers, name) for s in report.contracts.values()) == getattr(
            ledgers, name
        )
    assert {s: n for s, n in report.counts.items() if n} == dict(counts)
    assert set(report.counts) == set(Status)
    assert sum(report.counts.values()) == len(tables["invoice_lines"])


@given(datasets())
def test_decomposition_adds_up_to_the_variance(case: tuple[Tables, Policy]) -> None:
    """The four parts of a decomposition sum exactly to the variance; only priced lines have one."""
    tables, policy = case

    report = _run(tables, policy)

    for r in report.lines:
        if r.status in PRICED:
            assert r.decomposition is not None, r
            assert sum(r.decomposition) == r.variance, r
        else:
            assert r.decomposition is None, r


def _shuffled(tables: Tables, rnd: random.Random) -> Tables:
    """Return *tables* with the rows of every table, and the columns, in a random order."""
    out: Tables = {}
    for name, rows in tables.items():
        columns = list(rows[0]) if rows else []
        rnd.shuffle(columns)
        out[name] = [{col: row[col] for col in columns} for row in rows]
        rnd.shuffle(out[name])
    return out


@given(datasets(), st.randoms())
def test_order_independence(case: tuple[Tables, Policy], rnd: random.Random) -> None:
    """Shuffling the rows (and columns) of every input table changes no output byte."""
    tables, policy = case

    shuffled = _outputs(_run(_shuffled(tables, rnd), policy))

    assert shuffled == _outputs(_run(tables, policy))


def _tie_case() -> Tables:
    rate = dict.fromkeys(RATE_COLUMNS, "")
    rate.update(
        contract_id="C1",
        clin="0001",
        basis="trip",
        rate="100.00",
        start="2021-09-01",
        end="2021-09-30",
    )
    trip = {"trip_id": "T1", "contract_id": "C1", "service_date": "2021-09-02"}
    line = dict.fromkeys(LINE_COLUMNS, "")
    line.update(
        invoice_id="I1",
        line_no="1",
        contract_id="C1",
        clin="0001",
        service_date="2021-09-02",
        trip_ref="T1",
        quantity="1",
        unit_price="100.00",
        amount="100.00",
    )
    return {
        "rates": [rate],
        "manifests": [trip],
        "invoice_lines": [{**line, "amount": "1e3"}, line],
    }


def test_invalid_lines_sharing_a_key_are_reported_in_an_order_independent_order() -> None:
    """Two rows with one line key, one also malformed, give the same results.csv either way."""
    tables = _tie_case()
    backwards = {**tables, "invoice_lines": tables["invoice_lines"][::-1]}

    forwards_files = _outputs(_run(tables, Policy()))
    backwards_files = _outputs(_run(backwards, Policy()))

    assert backwards_files == forwards_files


@given(datasets())
def test_partition_independence(case: tuple[Tables, Policy]) -> None:
    """Reconciling contract by contract gives the same results as reconciling all at once."""
    tables, policy = case
    whole = _run(tables, policy)

    parts = {contract: _run(part, policy) for contract, part in _split(tables)}

    for contract, part in parts.items():
        assert list(part.lines) == [r for r in whole.lines if r.contract_id == contract]
        assert part.unbilled == tuple(u for u in whole.unbilled if u.contract_id == contract)
        assert part.invoices == tuple(f for f in whole.invoices if f.contract_id == contract)
        if contract in whole.contracts:
            assert part.contracts[contract] == whole.contracts[contract]
    assert sum(len(p.lines) for p in parts.values()) == len(whole.lines)


@given(datasets())
def test_fast_paths_are_the_general_definitions(case: tuple[Tables, Policy]) -> None:
    """The inline pricing, classifying, explaining and writing of usual lines change no byte.

    With the fast paths off, every line is priced by ``Pricer.line``, classified by the
    general rules, explained by ``Explainer.line`` and written from its explanation: the
    plain definitions. With the writing's alone off, the usual lines (classified on the
    fast path) are written from ``Explainer.chunk``'s explanations.
    """
    tables, policy = case
    fast = _outputs(_run(tables, policy))
    written = mock.patch.object(
        importlib.import_module("ice_recon._result_lines"), "_FAST_PATHS", False
    )

    with written:
        explained = _outputs(_run(tables, policy))
    with (
        mock.patch.object(importlib.import_module("ice_recon.price"), "_FAST_PATHS", False),
        mock.patch.object(importlib.import_module("ice_recon.classify"), "_FAST_PATHS", False),
        written,
    ):
        general = _outputs(_run(tables, policy))

    assert explained == fast
    assert general == fast


@given(
    st.lists(
        st.text(st.sampled_from("aZ09 .-_/'=+@\t\r\n,\"é"), max_size=6),
        max_size=8,
    )
)
def test_a_column_needs_care_when_one_of_its_cells_does(texts: list[str]) -> None:
    """``needs_care`` (substring scans of the joined column) says what ``text_cell`` does."""
    assert needs_care(texts) == any(text_cell(t) != t for t in texts)


def _reference(tables: Tables, policy: Policy) -> ref.RefResult:
    tolerances = {basis: (t.value, t.percent) for basis, t in policy.tolerances.items()}
    return ref.reference(tables, default_rounding=policy.rounding.value, tolerances=tolerances)


def _as_reference(r: LineResult) -> dict[str, Any]:
    valid = r.status is not Status.INVALID
    return {
        "status": r.status,
        "findings": list(r.findings),
        "billed": r.billed,
        "expected": r.expected,
        "variance": r.variance,
        "erroneous": r.erroneous,
        "unsupported": r.unsupported,
        "underbilled": r.underbilled,
        "decomposition": r.decomposition,
        "trip_id": r.trip_id if valid else None,
    }


@given(datasets(reference=True))
def test_exactness_against_the_reference(case: tuple[Tables, Policy]) -> None:
    """Every line's status, findings, amounts and decomposition equal the Decimal reference's."""
    tables, policy = case
    want = _reference(tables, policy)

    report = _run(tables, policy)

    assert {(r.contract_id, r.invoice_id, r.line_no_text) for r in report.lines} == set(want.lines)
    for r in report.lines:
        w = want.lines[(r.contract_id, r.invoice_id, r.line_no_text)]
        wanted = {name: getattr(w, name) for name in _as_reference(r)}
        assert _as_reference(r) == wanted, r
    assert {(u.contract_id, u.trip_id) for u in report.unbilled} == want.unbilled
    # The reference implements section 5's invoice findings; section 9's are compared
    # with the section 9 reference in their own tests.
    section5 = (Finding.FOOTING_ERROR, Finding.DUPLICATE_INVOICE)
    assert {
        ref.RefInvoiceFinding.of(f) for f in report.invoices if f.finding in section5
    } == want.invoices


@given(datasets())
def test_the_callers_decimal_context_is_neither_used_nor_changed(
    case: tuple[Tables, Policy],
) -> None:
    """Under a 2-digit context that traps rounding, results are the same and it is untouched."""
    tables, policy = case
    plain = _run(tables, policy)
    hostile = decimal.Context(
        prec=2,
        rounding=decimal.ROUND_FLOOR,
        Emin=-5,
        Emax=5,
        traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation],
    )

    with decimal.localcontext(hostile) as ctx:
        before = (ctx.prec, ctx.rounding, ctx.Emin, ctx.Emax, dict(ctx.traps), dict(ctx.flags))
        report = _run(tables, policy)
        lines = list(report.lines)
        outputs = _outputs(report)
        after = (ctx.prec, ctx.rounding, ctx.Emin, ctx.Emax, dict(ctx.traps), dict(ctx.flags))
        current = decimal.getcontext()

    assert current is ctx
    assert after == before
    assert lines == list(plain.lines)
    assert outputs == _outputs(plain)
