"""Provide the public number strategies: :func:`amounts`, :func:`rates`, :func:`quantities`.

Values are drawn as scaled integers, so that every value has exactly the places asked for.
"""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import strategies as st

from ice_recon.money import scaled_to_decimal
from ice_recon.strategies._check import InvalidArgument, _check_bound, _check_int
from ice_recon.strategies._draw import _ints


def _scaled(
    name: str, min_value: object, max_value: object, places: object, max_places: int
) -> st.SearchStrategy[Decimal]:
    p = _check_int("places", places, 0, max_places)
    lo, hi = _check_bound("min_value", min_value), _check_bound("max_value", max_value)
    if lo > hi:
        raise InvalidArgument(
            f"min_value={min_value} must not be greater than max_value={max_value}"
        )
    low, high = math.ceil(lo * 10**p), math.floor(hi * 10**p)
    if low > high:
        raise InvalidArgument(
            f"{name}: no value with {p} places lies between min_value={min_value} and "
            f"max_value={max_value}"
        )
    return _ints(low, high).map(lambda units: scaled_to_decimal(units, p))


def amounts(
    *,
    min_value: Decimal | int = 0,
    max_value: Decimal | int = Decimal("99999.99"),
    places: int = 2,
) -> st.SearchStrategy[Decimal]:
    """Return a strategy of money amounts: ``Decimal`` values with exactly *places* places.

    Amounts are non-negative by default (credits are not supported yet). *places* is at
    most 2: money has at most 2 places.

    >>> from hypothesis import find
    >>> find(amounts(), lambda a: a > 1)
    Decimal('1.01')
    """
    return _scaled("amounts", min_value, max_value, places, 2)


def rates(
    *,
    min_value: Decimal | int = 0,
    max_value: Decimal | int = Decimal("9999.9999"),
    places: int = 4,
) -> st.SearchStrategy[Decimal]:
    """Return a strategy of rates (prices per unit) with exactly *places* places.

    >>> from hypothesis import find
    >>> find(rates(places=2), lambda r: r >= Decimal("2.4575"))
    Decimal('2.46')
    """
    return _scaled("rates", min_value, max_value, places, 255)


def quantities(
    *,
    min_value: Decimal | int = 0,
    max_value: Decimal | int = Decimal("9999.9"),
    places: int = 1,
) -> st.SearchStrategy[Decimal]:
    """Return a strategy of quantities (miles, hours, passengers …) with exactly *places* places.

    >>> from hypothesis import find
    >>> find(quantities(places=2), lambda q: q > Decimal("137.4"))
    Decimal('137.41')
    """
    return _scaled("quantities", min_value, max_value, places, 255)
