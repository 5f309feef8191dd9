"""The input files, their columns and the parser of each cell kind (internal).

DESIGN section 4 as data: the file names (:data:`FILES`, with whether each is required),
each file's columns (:data:`SPECS`: name, required, cell parser) and the per-cell parsers,
which return the cell's value or raise ``ValueError`` with the words of the problem. The
reader (:mod:`ice_recon._read`) applies them column by column.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs

from ice_recon.money import IncrementRounding, Rounding, parse_scaled
from ice_recon.records import (
    NON_MEASURE_BASES,
    CorLevel,
    InvoiceStatus,
    Risk,
    TierMode,
    TripStatus,
    WeekRule,
)

RATES: Final = "rates.csv"
MANIFESTS: Final = "manifests.csv"
STAFF: Final = "staff.csv"
FUEL_INDEX: Final = "fuel_index.csv"
FUEL_RULES: Final = "fuel_rules.csv"
INVOICE_LINES: Final = "invoice_lines.csv"
INVOICES: Final = "invoices.csv"
CONTRACTS: Final = "contracts.csv"
CORS: Final = "cors.csv"
INTEREST_RATES: Final = "interest_rates.csv"

#: The input files ice_recon reads, by table name, with whether each is required.
FILES: Final = {
    "rates": (RATES, True),
    "manifests": (MANIFESTS, True),
    "staff": (STAFF, False),
    "fuel_index": (FUEL_INDEX, False),
    "fuel_rules": (FUEL_RULES, False),
    "invoice_lines": (INVOICE_LINES, True),
    "invoices": (INVOICES, False),
    "contracts": (CONTRACTS, False),
    "cors": (CORS, False),
    "interest_rates": (INTEREST_RATES, False),
}

FILES_REQUIRED: Final = dict(FILES.values())

#: Where a table comes from: a path, an iterable of row mappings (cells as text), or an
#: iterable of records (anything with a ``to_row()`` method, e.g. ``RateRule``).
Source = str | os.PathLike[str] | Iterable[Any]

BASES_NOT_MEASURES: Final = tuple(sorted(NON_MEASURE_BASES))


# ------------------------------------------------------------------------------ cell parsers
# Each parser takes a stripped, non-empty cell and returns the value or raises ValueError
# whose text says what was expected; the reader adds file, line, column and the cell.

_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NEGATIVE: Final = "must not be negative (credits are not supported yet)"


def _p_text(raw: str) -> str:
    return raw


def _p_ref(raw: str) -> str:
    return raw.upper()


def _p_date(raw: str) -> int:
    if _ISO_DATE.fullmatch(raw) is None:
        raise ValueError("must be a date in ISO form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(raw).toordinal()
    except ValueError:
        raise ValueError("is not a calendar date (expected YYYY-MM-DD)") from None


#: The most digits a decimal cell may have in all, and after the point (docs/reference/
#: formats.md): enough for any amount or rate, and far below the sizes at which exact
#: arithmetic or Python's integer conversion would fail or crawl.
MAX_DIGITS: Final = 100
MAX_PLACES: Final = 50
_TOO_LONG: Final = (
    f"must have at most {MAX_DIGITS} digits, at most {MAX_PLACES} of them after the point"
)
_DECIMAL_SHAPE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _p_decimal(raw: str) -> tuple[int, int]:
    # Checked on the text: converting thousands of digits is what must not happen.
    if (
        len(raw) > MAX_DIGITS
        and _DECIMAL_SHAPE.fullmatch(raw) is not None
        and len(raw) - raw.count(".") - raw.startswith("-") > MAX_DIGITS
    ):
        raise ValueError(_TOO_LONG)
    units, scale = parse_scaled(raw)
    if units < 0 or raw.startswith("-"):
        raise ValueError(_NEGATIVE)
    if scale > MAX_PLACES:
        raise ValueError(_TOO_LONG)
    return units, scale


def _p_rate(raw: str) -> tuple[int, int]:
    # A rate is no credit: a negative one gets its own wording (interest_rates.csv).
    if raw.startswith("-") and _DECIMAL_SHAPE.fullmatch(raw) is not None:
        raise ValueError("must not be negative")
    return _p_decimal(raw)


def _p_money(raw: str) -> tuple[int, int]:
    value = _p_decimal(raw)
    if value[1] > 2:
        raise ValueError("is money and must have at most 2 decimal places")
    return value


def _p_positive(raw: str) -> tuple[int, int]:
    value = _p_decimal(raw)
    if value[0] == 0:
        raise ValueError("must be greater than 0")
    return value


def _p_positive_int(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or int(raw[: MAX_DIGITS + 1]) == 0:
        raise ValueError("must be a positive whole number")
    if len(raw) > MAX_DIGITS:
        raise ValueError(f"must be a whole number of at most {MAX_DIGITS} digits")
    return int(raw)


def _p_count(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise ValueError("must be a whole number >= 0")
    if len(raw) > MAX_DIGITS:
        raise ValueError(f"must be a whole number of at most {MAX_DIGITS} digits")
    return int(raw)


def _p_places(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 3 or int(raw) > MAX_PLACES:
        raise ValueError(f"must be a whole number from 0 to {MAX_PLACES}")
    return int(raw)


class _Choice:
    """The parser of a column whose values come from a fixed set."""

    def __init__(self, choices: Iterable[str]) -> None:
        ordered = tuple(choices)
        self.allowed = frozenset(ordered) | {""}
        self.expected = "must be one of: " + ", ".join(ordered)

    def __call__(self, raw: str) -> str:
        if raw not in self.allowed or not raw:
            raise ValueError(self.expected)
        return raw


def _p_choice(choices: Iterable[str]) -> Callable[[str], str]:
    return _Choice(choices)


@attrs.frozen
class _Col:
    name: str
    parse: Callable[[str], Any]
    required: bool = False


@attrs.frozen
class Spec:
    file: str
    columns: tuple[_Col, ...]
    measures: bool = False  # extra columns are measures (manifests.csv)
    #: The columns whose cell text the tables use (None: all); the others' text is not kept.
    text: frozenset[str] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _req(name: str, parse: Callable[[str], Any]) -> _Col:
    return _Col(name, parse, required=True)


def _opt(name: str, parse: Callable[[str], Any]) -> _Col:
    return _Col(name, parse)


_ROUNDING = _p_choice(m.value for m in Rounding)

SPECS: Final = {
    RATES: Spec(
        RATES,
        (
            _req("contract_id", _p_text),
            _req("clin", _p_text),
            _req("basis", _p_text),
            _req("rate", _p_decimal),
            _req("start", _p_date),
            _req("end", _p_date),
            _opt("labor_category", _p_text),
            _opt("minimum_amount", _p_money),
            _opt("minimum_quantity", _p_decimal),
            _opt("free_quantity", _p_decimal),
            _opt("increment", _p_positive),
            _opt("increment_rounding", _p_choice(m.value for m in IncrementRounding)),
            _opt("tier_from", _p_decimal),
            _opt("tier_mode", _p_choice(m.value for m in TierMode)),
            _opt("rounding", _ROUNDING),
            _opt("authority", _p_text),
            _opt("rule_id", _p_text),
            _opt("description", _p_text),
        ),
    ),
    MANIFESTS: Spec(
        MANIFESTS,
        (
            _req("trip_id", _p_ref),
            _req("contract_id", _p_text),
            _req("service_date", _p_date),
            _opt("status", _p_choice(m.value for m in TripStatus)),
            _opt("origin", _p_text),
            _opt("destination", _p_text),
            _opt("cancel_notice_hours", _p_decimal),
        ),
        measures=True,
        text=frozenset(),
    ),
    STAFF: Spec(
        STAFF,
        (
            _req("trip_id", _p_ref),
            _req("contract_id", _p_text),
            _req("person_id", _p_text),
            _req("labor_category", _p_text),
            _req("hours", _p_decimal),
        ),
        text=frozenset(),
    ),
    FUEL_INDEX: Spec(
        FUEL_INDEX,
        (_req("series", _p_text), _req("week", _p_date), _req("price", _p_decimal)),
    ),
    FUEL_RULES: Spec(
        FUEL_RULES,
        (
            _req("contract_id", _p_text),
            _req("clin", _p_text),
            _req("start", _p_date),
            _req("end", _p_date),
            _req("base_price", _p_decimal),
            _req("mpg", _p_positive),
            _req("series", _p_text),
            _opt("week_rule", _p_choice(m.value for m in WeekRule)),
            _opt("places", _p_places),
            _opt("basis", _p_text),
            _opt("rounding", _ROUNDING),
            _opt("authority", _p_text),
            _opt("rule_id", _p_text),
        ),
    ),
    INVOICE_LINES: Spec(
        INVOICE_LINES,
        (
            _req("invoice_id", _p_text),
            _req("line_no", _p_positive_int),
            _req("contract_id", _p_text),
            _req("clin", _p_text),
            _req("service_date", _p_date),
            _req("quantity", _p_decimal),
            _req("unit_price", _p_decimal),
            _req("amount", _p_money),
            _opt("trip_ref", _p_ref),
            _opt("labor_category", _p_text),
            _opt("person_id", _p_text),
            _opt("origin", _p_text),
            _opt("destination", _p_text),
            _opt("description", _p_text),
        ),
        text=frozenset({"invoice_id", "line_no", "contract_id"}),
    ),
    INVOICES: Spec(
        INVOICES,
        (
            _req("invoice_id", _p_text),
            _req("contract_id", _p_text),
            _req("invoice_date", _p_date),
            _opt("received_date", _p_date),
            _opt("total", _p_money),
            _opt("status", _p_choice(m.value for m in InvoiceStatus)),
            _opt("paid_date", _p_date),
            _opt("approved_by", _p_text),
            _opt("approved_date", _p_date),
            _opt("paid_amount", _p_money),
        ),
    ),
    CONTRACTS: Spec(
        CONTRACTS,
        (
            _req("contract_id", _p_text),
            _opt("ceiling", _p_money),
            _opt("funded", _p_money),
            _opt("estimate", _p_money),
            _opt("start", _p_date),
            _opt("end", _p_date),
            _opt("risk", _p_choice(m.value for m in Risk)),
            _opt("payment_days", _p_positive_int),
            _opt("notice_percent", _p_positive),
        ),
    ),
    CORS: Spec(
        CORS,
        (
            _req("contract_id", _p_text),
            _req("person_id", _p_text),
            _req("appointed", _p_date),
            _req("level", _p_choice(m.value for m in CorLevel)),
            _opt("expires", _p_date),
        ),
    ),
    INTEREST_RATES: Spec(
        INTEREST_RATES,
        (_req("start", _p_date), _req("end", _p_date), _req("rate", _p_rate)),
    ),
}
