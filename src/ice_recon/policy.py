"""The reconciliation policy: tolerances, the inference window, the default rounding mode."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ice_recon.errors import ArgumentError, ArgumentTypeError
from ice_recon.money import Rounding, check_decimal, parse_decimal
from ice_recon.records import to_rounding, whole

__all__ = ["Policy", "Tolerance"]

_TOLERANCE = re.compile(r"\s*([^=\s]+)\s*=\s*([0-9.\-]+)\s*(%?)\s*")


@attrs.frozen(kw_only=True)
class Tolerance:
    """How far a billed quantity may be from the billable quantity and still be accepted.

    *value* is absolute (in units of the basis) or, with *percent*, a percentage of the
    billable quantity.

    >>> Tolerance.parse("loaded_miles=2%")
    ('loaded_miles', Tolerance(value=Decimal('2'), percent=True))
    >>> Tolerance.parse("wait_hours=0.25")
    ('wait_hours', Tolerance(value=Decimal('0.25'), percent=False))
    """

    value: Decimal = attrs.field()
    percent: bool = attrs.field(default=False)

    @percent.validator
    def _check_percent(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, bool):
            raise ArgumentTypeError(f"percent must be a bool (got {value!r})")

    @value.validator
    def _check(self, attribute: attrs.Attribute[Any], value: object) -> None:
        d = check_decimal(value, "tolerance")
        if d < 0:
            raise ArgumentError(f"a tolerance must not be negative (got {d})")

    @classmethod
    def parse(cls, text: str) -> tuple[str, Tolerance]:
        """Parse ``BASIS=VALUE`` or ``BASIS=PERCENT%`` (the CLI's ``--tolerance``)."""
        if not isinstance(text, str):
            raise ArgumentTypeError(f"a tolerance must be text BASIS=VALUE (got {text!r})")
        m = _TOLERANCE.fullmatch(text)
        if m is None:
            raise ArgumentError(f"expected BASIS=VALUE or BASIS=PERCENT% (got {text!r})")
        basis, number, percent = m.groups()
        try:
            value = parse_decimal(number)
        except ValueError as exc:
            raise ArgumentError(f"tolerance for {basis!r}: {exc} (got {number!r})") from None
        return basis, cls(value=value, percent=bool(percent))


def _tolerances(value: Mapping[str, Tolerance]) -> Mapping[str, Tolerance]:
    if not isinstance(value, Mapping):
        raise ArgumentTypeError(
            f"tolerances must be a mapping of basis to Tolerance (got {type(value).__name__})"
        )
    for basis, tolerance in value.items():
        if not isinstance(basis, str) or not isinstance(tolerance, Tolerance):
            raise ArgumentTypeError(
                f"tolerances must map a basis (str) to a Tolerance (got {basis!r}: {tolerance!r})"
            )
    return dict(sorted(value.items()))


def _measure_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ArgumentTypeError(f"{attribute.name} must be a measure name (got {value!r})")


def _floor(value: object) -> Decimal:
    """Accept the floor as a Decimal, an int or text like ``0.75`` (never a float)."""
    if isinstance(value, str):
        try:
            return parse_decimal(value.strip())
        except ValueError as exc:
            raise ArgumentError(f"utilization_floor: {exc} (got {value!r})") from None
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return check_decimal(value, "utilization_floor")


def _check_floor(instance: object, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    if not 0 <= value <= 1:
        raise ArgumentError(f"utilization_floor must be between 0 and 1 (got {value})")


def _optional_day(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, dt.date) or isinstance(value, dt.datetime)):
        raise ArgumentTypeError(f"as_of must be a datetime.date or None (got {value!r})")


@attrs.frozen(kw_only=True)
class Policy:
    """Options of a reconciliation run (DESIGN section 5).

    Attributes:
        tolerances: per rule basis (a measure name or ``labor_hours``); default none.
        window_days: how many days a line's date may be from a trip's for inference (±).
        rounding: the mode for rules without their own ``rounding`` column value.
        passengers_measure: the manifest measure counting the people transported
            (DESIGN section 9.1; default ``passengers``).
        seats_measure: the manifest measure giving a trip's capacity (default ``seats``).
        utilization_floor: a claimed completed trip whose passengers / seats is below this
            ratio has unused capacity (section 9.3; default 0.80, between 0 and 1).
        as_of: the day a contract's period of performance is judged ended for
            deobligation; ``None`` (the default) takes, per contract, the latest
            ``invoice_date`` of its invoice headers.

    >>> Policy(utilization_floor="0.75").utilization_floor
    Decimal('0.75')
    """

    tolerances: Mapping[str, Tolerance] = attrs.field(
        factory=dict, converter=_tolerances, hash=False
    )
    window_days: int = attrs.field(default=1, validator=whole(min_value=0))
    rounding: Rounding = attrs.field(default=Rounding.HALF_UP, converter=to_rounding)
    passengers_measure: str = attrs.field(default="passengers", validator=_measure_name)
    seats_measure: str = attrs.field(default="seats", validator=_measure_name)
    utilization_floor: Decimal = attrs.field(
        default=Decimal("0.80"), converter=_floor, validator=_check_floor
    )
    as_of: dt.date | None = attrs.field(default=None, validator=_optional_day)
