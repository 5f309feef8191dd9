"""Frozen value records: one class per input table row of DESIGN section 4, and the enums.

Records are the API edge: ``@attrs.frozen(kw_only=True)``, hashable, validated for *types and
invariants only* (a ``float`` where money belongs is a ``TypeError``; NaN, infinities and
negative quantities are ``ValueError``). Parsing text lives in :mod:`ice_recon.load`; every
record can be turned back into the CSV row it stands for with :meth:`to_row`, which is how
``Inputs`` built from records goes through exactly the same validation as files do.

>>> from datetime import date
>>> from decimal import Decimal
>>> line = InvoiceLine(invoice_id="INV-1", line_no=1, contract_id="C1", clin="0001",
...                    service_date=date(2021, 10, 4), quantity=Decimal("137.4"),
...                    unit_price=Decimal("2.4575"), amount=Decimal("337.66"), trip_ref="T1")
>>> line.to_row()["quantity"]
'137.4'
>>> InvoiceLine(invoice_id="INV-1", line_no=1, contract_id="C1", clin="0001",
...             service_date=date(2021, 10, 4), quantity=137.4,
...             unit_price=Decimal("2.4575"), amount=Decimal("337.66"))
Traceback (most recent call last):
...
ice_recon.errors.MoneyTypeError: quantity must be a decimal.Decimal, never a float (got float 137.4)
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from ice_recon.errors import ArgumentError, ArgumentTypeError
from ice_recon.money import IncrementRounding, Rounding, check_decimal

__all__ = [
    "BASIS_CANCELLATION",
    "BASIS_LABOR_HOURS",
    "BASIS_TRIP",
    "NON_MEASURE_BASES",
    "ONE_UNIT_BASES",
    "Finding",
    "FuelIndexPoint",
    "FuelRule",
    "InvoiceHeader",
    "InvoiceLine",
    "InvoiceStatus",
    "RateRule",
    "StaffAssignment",
    "Status",
    "TierMode",
    "Trip",
    "TripStatus",
    "WeekRule",
]

#: Bases that are not manifest measures (DESIGN section 4.1).
BASIS_TRIP = "trip"
BASIS_CANCELLATION = "cancellation"
BASIS_LABOR_HOURS = "labor_hours"
#: Bases whose quantity is always one unit per trip.
ONE_UNIT_BASES = frozenset({BASIS_TRIP, BASIS_CANCELLATION})
#: Bases that are not manifest measures.
NON_MEASURE_BASES = frozenset({BASIS_TRIP, BASIS_CANCELLATION, BASIS_LABOR_HOURS})


class Status(enum.StrEnum):
    """The status of one invoice line: the first row of DESIGN section 5 that applies."""

    INVALID = "INVALID"
    NO_RATE = "NO_RATE"
    UNSUPPORTED = "UNSUPPORTED"
    NOT_PERFORMED = "NOT_PERFORMED"
    DUPLICATE = "DUPLICATE"
    MATCHED = "MATCHED"
    LABOR_CATEGORY_MISMATCH = "LABOR_CATEGORY_MISMATCH"
    MINIMUM_MISAPPLIED = "MINIMUM_MISAPPLIED"
    EXTENSION_ERROR = "EXTENSION_ERROR"
    QUANTITY_MISMATCH = "QUANTITY_MISMATCH"
    RATE_MISMATCH = "RATE_MISMATCH"
    ROUNDING_DIFF = "ROUNDING_DIFF"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"


class Finding(enum.StrEnum):
    """Informational and invoice-level finding codes that are not statuses (DESIGN section 5)."""

    MISSING_MEASURE = "MISSING_MEASURE"
    INFERRED_MATCH = "INFERRED_MATCH"
    AMBIGUOUS_MATCH = "AMBIGUOUS_MATCH"
    SERVICE_DATE_MISMATCH = "SERVICE_DATE_MISMATCH"
    WITHIN_TOLERANCE = "WITHIN_TOLERANCE"
    DUPLICATE_CANDIDATE = "DUPLICATE_CANDIDATE"
    FOOTING_ERROR = "FOOTING_ERROR"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"


class TripStatus(enum.StrEnum):
    """Whether a manifest trip was performed."""

    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TierMode(enum.StrEnum):
    """How a tier set prices a quantity: the reached tier's rate for all units, or by slices."""

    ALL_UNITS = "all_units"
    GRADUATED = "graduated"


class WeekRule(enum.StrEnum):
    """Which fuel index week prices a service date."""

    SERVICE_WEEK = "service_week"
    PRIOR_WEEK = "prior_week"


class InvoiceStatus(enum.StrEnum):
    """Where an invoice header is in the payment process."""

    RECEIVED = "received"
    APPROVED = "approved"
    PAID = "paid"


# --------------------------------------------------------------------------------- validators


def _decimal(*, non_negative: bool = True, positive: bool = False, money: bool = False) -> Any:
    """Return an attrs validator for a finite ``Decimal`` with the given invariants.

    The finiteness check comes first because ``Decimal("NaN") >= 0`` raises
    ``InvalidOperation`` instead of answering.
    """

    def validate(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        name = attribute.name
        d = check_decimal(value, name)
        if positive and d <= 0:
            raise ArgumentError(f"{name} must be greater than 0 (got {d})")
        # is_signed() also catches -0, which the loader rejects as text ("-0") as well.
        if non_negative and d.is_signed():
            raise ArgumentError(f"{name} must not be negative (got {d})")
        exponent = d.as_tuple().exponent
        if money and isinstance(exponent, int) and exponent < -2:
            raise ArgumentError(f"{name} is money and must have at most 2 decimal places (got {d})")

    return validate


def _date(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    # datetime is a subclass of date; a time of day has no meaning for a service date.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ArgumentTypeError(f"{attribute.name} must be a datetime.date (got {value!r})")


def _text(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{attribute.name} must be a str (got {value!r})")
    if not value.strip():
        raise ArgumentError(f"{attribute.name} must not be empty")


def _positive_int(name: str, value: object) -> None:
    # bool is an int subclass; True is not a line number.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be an int (got {value!r})")
    if value <= 0:
        raise ArgumentError(f"{name} must be a positive integer (got {value})")


_E = TypeVar("_E", bound=enum.Enum)


def to_enum(kind: type[_E], value: object) -> _E:
    """Return *value* as a member of the enum *kind*, or raise an error naming the allowed values.

    The enum's own ``ValueError`` would say only "'x' is not a valid Rounding"; this is an
    :class:`~ice_recon.errors.ArgumentError` listing what is allowed.
    """
    try:
        return kind(value)
    except (ValueError, TypeError):
        allowed = ", ".join(str(m.value) for m in kind)
        raise ArgumentError(f"{kind.__name__} must be one of: {allowed} (got {value!r})") from None


# Named converters (the attrs mypy plugin takes only named functions as converters).
def to_rounding(value: object) -> Rounding:
    """Convert to :class:`Rounding` (an ``ArgumentError`` names the modes)."""
    return to_enum(Rounding, value)


def to_optional_rounding(value: object) -> Rounding | None:
    """Convert to :class:`Rounding`, keeping ``None``."""
    return None if value is None else to_enum(Rounding, value)


def to_increment_rounding(value: object) -> IncrementRounding:
    """Convert to :class:`IncrementRounding`."""
    return to_enum(IncrementRounding, value)


def _opt_increment_rounding(value: object) -> IncrementRounding | None:
    return None if value is None else to_enum(IncrementRounding, value)


def to_optional_tier_mode(value: object) -> TierMode | None:
    """Convert to :class:`TierMode`, keeping ``None``."""
    return None if value is None else to_enum(TierMode, value)


def to_week_rule(value: object) -> WeekRule:
    """Convert to :class:`WeekRule`."""
    return to_enum(WeekRule, value)


def _trip_status(value: object) -> TripStatus:
    return to_enum(TripStatus, value)


def _opt_invoice_status(value: object) -> InvoiceStatus | None:
    return None if value is None else to_enum(InvoiceStatus, value)


def whole(*, min_value: int) -> Any:
    """Return an attrs validator for an ``int`` (never a ``bool``) of at least *min_value*."""

    def validate(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ArgumentTypeError(f"{attribute.name} must be an int (got {value!r})")
        if value < min_value:
            raise ArgumentError(f"{attribute.name} must be at least {min_value} (got {value})")

    return validate


def _dec_text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _opt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _row(record: Any) -> dict[str, str]:
    return {a.name: _opt(getattr(record, a.name)) for a in attrs.fields(type(record))}


def _opt_text() -> Any:
    return attrs.field(default=None, validator=_text)


def _opt_dec(**kw: bool) -> Any:
    return attrs.field(default=None, validator=_decimal(**kw))


def _req_dec(**kw: bool) -> Any:
    return attrs.field(validator=_decimal(**kw))


# ------------------------------------------------------------------------------------ records


@attrs.frozen(kw_only=True)
class RateRule:
    """One row of ``rates.csv``: the price of a CLIN over an effective window.

    Rows of a tier set (same contract, CLIN, labor category and window) are separate
    ``RateRule`` records that differ in ``tier_from``, ``rate`` and ``description``.
    """

    contract_id: str = attrs.field(validator=_text)
    clin: str = attrs.field(validator=_text)
    basis: str = attrs.field(validator=_text)
    rate: Decimal = _req_dec()
    start: dt.date = attrs.field(validator=_date)
    end: dt.date = attrs.field(validator=_date)
    labor_category: str | None = _opt_text()
    minimum_amount: Decimal | None = _opt_dec(money=True)
    minimum_quantity: Decimal | None = _opt_dec()
    free_quantity: Decimal | None = _opt_dec()
    increment: Decimal | None = _opt_dec(positive=True)
    increment_rounding: IncrementRounding | None = attrs.field(
        default=None, converter=_opt_increment_rounding
    )
    tier_from: Decimal | None = _opt_dec()
    tier_mode: TierMode | None = attrs.field(default=None, converter=to_optional_tier_mode)
    rounding: Rounding | None = attrs.field(default=None, converter=to_optional_rounding)
    authority: str | None = _opt_text()
    rule_id: str | None = _opt_text()
    description: str | None = _opt_text()

    def to_row(self) -> dict[str, str]:
        """Return the ``rates.csv`` row (all cells as text) this record stands for."""
        return _row(self)


def _measures(value: Mapping[str, Decimal | None] | Any) -> tuple[tuple[str, Decimal], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), v) for k, v in items if v is not None))


@attrs.frozen(kw_only=True)
class Trip:
    """One row of ``manifests.csv``: the government's record that a trip was performed.

    *measures* maps a measure name (a manifest column such as ``loaded_miles``) to its value;
    a measure that was not recorded is simply absent — never zero.

    >>> from datetime import date
    >>> t = Trip(trip_id="T1", contract_id="C1", service_date=date(2021, 10, 4),
    ...          measures={"loaded_miles": Decimal("137.4"), "wait_hours": None})
    >>> t.measure("loaded_miles"), t.measure("wait_hours")
    (Decimal('137.4'), None)
    """

    trip_id: str = attrs.field(validator=_text)
    contract_id: str = attrs.field(validator=_text)
    service_date: dt.date = attrs.field(validator=_date)
    status: TripStatus = attrs.field(default=TripStatus.COMPLETED, converter=_trip_status)
    origin: str | None = _opt_text()
    destination: str | None = _opt_text()
    cancel_notice_hours: Decimal | None = _opt_dec()
    measures: tuple[tuple[str, Decimal], ...] = attrs.field(
        default=(), converter=_measures, validator=attrs.validators.instance_of(tuple)
    )

    @measures.validator
    def _check(self, attribute: attrs.Attribute[Any], value: Any) -> None:
        for name, d in value:
            check_decimal(d, f"measure {name!r}")
            if d < 0:
                raise ArgumentError(f"measure {name!r} must not be negative (got {d})")

    def measure(self, name: str) -> Decimal | None:
        """Return the recorded value of measure *name*, or ``None`` when not recorded."""
        for key, value in self.measures:
            if key == name:
                return value
        return None

    def to_row(self) -> dict[str, str]:
        """Return the ``manifests.csv`` row this record stands for (measures as columns)."""
        row = {
            "trip_id": self.trip_id,
            "contract_id": self.contract_id,
            "service_date": self.service_date.isoformat(),
            "status": self.status.value,
            "origin": _opt(self.origin),
            "destination": _opt(self.destination),
            "cancel_notice_hours": _opt(self.cancel_notice_hours),
        }
        for name, value in self.measures:
            row[name] = _dec_text(value)
        return row


@attrs.frozen(kw_only=True)
class StaffAssignment:
    """One row of ``staff.csv``: a person who worked a trip, their labor category and hours."""

    trip_id: str = attrs.field(validator=_text)
    contract_id: str = attrs.field(validator=_text)
    person_id: str = attrs.field(validator=_text)
    labor_category: str = attrs.field(validator=_text)
    hours: Decimal = _req_dec()

    def to_row(self) -> dict[str, str]:
        """Return the ``staff.csv`` row this record stands for."""
        return _row(self)


@attrs.frozen(kw_only=True)
class FuelIndexPoint:
    """One row of ``fuel_index.csv``: the price of a fuel series for the week starting *week*."""

    series: str = attrs.field(validator=_text)
    week: dt.date = attrs.field(validator=_date)
    price: Decimal = _req_dec()

    def to_row(self) -> dict[str, str]:
        """Return the ``fuel_index.csv`` row this record stands for."""
        return _row(self)


@attrs.frozen(kw_only=True)
class FuelRule:
    """One row of ``fuel_rules.csv``: a fuel-surcharge CLIN priced from a weekly index.

    The per-unit rate on a service date is ``max(0, (index - base_price) / mpg)``, computed
    exactly and rounded once to *places* with *rounding*.
    """

    contract_id: str = attrs.field(validator=_text)
    clin: str = attrs.field(validator=_text)
    start: dt.date = attrs.field(validator=_date)
    end: dt.date = attrs.field(validator=_date)
    base_price: Decimal = _req_dec()
    mpg: Decimal = _req_dec(positive=True)
    series: str = attrs.field(validator=_text)
    week_rule: WeekRule = attrs.field(default=WeekRule.SERVICE_WEEK, converter=to_week_rule)
    places: int = attrs.field(default=2, validator=whole(min_value=0))
    basis: str = attrs.field(default="loaded_miles", validator=_text)
    rounding: Rounding | None = attrs.field(default=None, converter=to_optional_rounding)
    authority: str | None = _opt_text()
    rule_id: str | None = _opt_text()

    def to_row(self) -> dict[str, str]:
        """Return the ``fuel_rules.csv`` row this record stands for."""
        return _row(self)


@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One row of ``invoice_lines.csv``: what the vendor billed for one charge."""

    invoice_id: str = attrs.field(validator=_text)
    line_no: int = attrs.field(validator=lambda _, a, v: _positive_int(a.name, v))
    contract_id: str = attrs.field(validator=_text)
    clin: str = attrs.field(validator=_text)
    service_date: dt.date = attrs.field(validator=_date)
    quantity: Decimal = _req_dec()
    unit_price: Decimal = _req_dec()
    amount: Decimal = _req_dec(money=True)
    trip_ref: str | None = _opt_text()
    labor_category: str | None = _opt_text()
    person_id: str | None = _opt_text()
    origin: str | None = _opt_text()
    destination: str | None = _opt_text()
    description: str | None = _opt_text()

    @property
    def key(self) -> tuple[str, str, int]:
        """Return the line's identity ``(contract_id, invoice_id, line_no)``."""
        return (self.contract_id, self.invoice_id, self.line_no)

    def to_row(self) -> dict[str, str]:
        """Return the ``invoice_lines.csv`` row this record stands for."""
        return _row(self)


@attrs.frozen(kw_only=True)
class InvoiceHeader:
    """One row of ``invoices.csv``: an invoice's header, identified by (contract, invoice)."""

    invoice_id: str = attrs.field(validator=_text)
    contract_id: str = attrs.field(validator=_text)
    invoice_date: dt.date = attrs.field(validator=_date)
    received_date: dt.date | None = attrs.field(default=None, validator=_date)
    total: Decimal | None = _opt_dec(money=True)
    status: InvoiceStatus | None = attrs.field(default=None, converter=_opt_invoice_status)
    paid_date: dt.date | None = attrs.field(default=None, validator=_date)
    approved_by: str | None = _opt_text()
    approved_date: dt.date | None = attrs.field(default=None, validator=_date)
    paid_amount: Decimal | None = _opt_dec(money=True)

    def to_row(self) -> dict[str, str]:
        """Return the ``invoices.csv`` row this record stands for."""
        return _row(self)
