"""Check the options of the public strategies, raising ``InvalidArgument`` as Hypothesis does.

Each check names the option and what was expected, and returns the value normalized (a tuple
of names, a ``Fraction`` bound …) for the strategy to use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from hypothesis.errors import InvalidArgument as _InvalidArgument

from ice_recon.errors import IceReconError


class InvalidArgument(IceReconError, _InvalidArgument):
    """A strategy option is wrong: Hypothesis's ``InvalidArgument`` and an ``IceReconError``.

    So ``except IceReconError`` catches it like every other mistake of a caller, and Hypothesis
    users still get the error they expect (a ``TypeError``).
    """

    __module__ = "ice_recon.strategies"  # where it is exported


def _check_type(name: str, value: object, kinds: type | tuple[type, ...], what: str) -> None:
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise InvalidArgument(f"{name} must be {what} (got {value!r})")


def _check_int(name: str, value: object, min_value: int, max_value: int | None = None) -> int:
    _check_type(name, value, int, "an int")
    assert isinstance(value, int)
    if value < min_value or (max_value is not None and value > max_value):
        upper = "" if max_value is None else f" and <= {max_value}"
        raise InvalidArgument(f"{name} must be >= {min_value}{upper} (got {value})")
    return value


def _check_size(min_size: object, max_size: object, upper: int | None = None) -> tuple[int, int]:
    lo = _check_int("min_size", min_size, 0, upper)
    hi = _check_int("max_size", max_size, 0, upper)
    if lo > hi:
        raise InvalidArgument(f"min_size={lo} must not be greater than max_size={hi}")
    return lo, hi


def _check_bound(name: str, value: object) -> Fraction:
    # A float bound is refused like a float on the money path: 0.1 is not a decimal.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidArgument(f"{name} must be a Decimal or an int, never a float (got {value!r})")
    if isinstance(value, Decimal) and not value.is_finite():
        raise InvalidArgument(f"{name} must be finite (got {value!r})")
    return Fraction(value)


def _check_date(name: str, value: object) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidArgument(f"{name} must be a datetime.date (got {value!r})")
    return value


def _check_dates(min_date: object, max_date: object) -> tuple[dt.date, dt.date]:
    lo, hi = _check_date("min_date", min_date), _check_date("max_date", max_date)
    if lo > hi:
        raise InvalidArgument(f"min_date={lo} must not be after max_date={hi}")
    return lo, hi


def _check_names(name: str, values: object, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidArgument(f"{name} must be a sequence of strings (got {values!r})")
    out = tuple(values)
    if not out and not allow_empty:
        raise InvalidArgument(f"{name} must not be empty")
    for v in out:
        if not isinstance(v, str) or not v.strip() or v != v.strip():
            raise InvalidArgument(
                f"{name} must hold non-empty strings without surrounding spaces (got {v!r})"
            )
    if len(set(out)) != len(out):
        raise InvalidArgument(f"{name} must not repeat a value (got {out!r})")
    return out
