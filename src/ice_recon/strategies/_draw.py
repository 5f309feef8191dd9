"""Draw the values every strategy shares: the vocabulary of generated data and its primitives.

The vocabulary is realistic: contract ids (PIIDs), sites, labor categories, the service-date
range, and for each manifest measure its places, ranges and rule features (:class:`_Measure`).
The primitives draw integers, dates, choices, booleans and ``Decimal`` values with exact
places; the integer strategies are built once and cached.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

import attrs
from hypothesis import strategies as st

from ice_recon.money import scaled_to_decimal

_CONTRACT_IDS: Final = (
    "HSCEMD-19-C-00012",
    "70CDCR-20-C-00007",
    "HSCEMD-21-C-00031",
    "70CDCR-22-D-00004",
    "HSCEMD-18-D-00019",
    "70CDCR-23-C-00002",
)
_SITES: Final = ("PIDC", "KHRL", "RGVPC", "ELVSPC", "KELP", "KIWA", "LRDPC", "OTMDC")
_CATEGORIES: Final = ("TO", "STO", "SUP", "MED")
_NO_RULE_CATEGORY: Final = "DRV"
_MIN_DATE: Final = dt.date(2021, 10, 1)
_MAX_DATE: Final = dt.date(2022, 9, 30)


@attrs.frozen
class _Measure:
    """How a manifest measure is drawn: its places, ranges (in units) and rule features."""

    places: int
    low: int
    high: int
    rate_low: int  # in cents (2 places)
    rate_high: int
    free: tuple[str, ...]
    increments: tuple[str, ...]
    minimums: tuple[str, ...]


_MEASURES: Final = {
    "loaded_miles": _Measure(
        1, 10, 4800, 150, 450, ("5.0", "10.0"), ("1", "0.5", "5.0"), ("25.0",)
    ),
    "vehicle_hours": _Measure(
        2, 50, 1200, 4500, 9500, ("0.50",), ("0.25", "0.50", "1.00"), ("2.00", "4.00")
    ),
    "flight_hours": _Measure(1, 5, 95, 250000, 950000, ("0.5",), ("0.1", "0.5"), ("1.0",)),
    "wait_hours": _Measure(2, 0, 600, 2000, 7500, ("1.00", "0.50"), ("0.25", "0.50"), ("1.00",)),
    "passengers": _Measure(0, 1, 60, 500, 4000, ("1", "2"), ("1", "5"), ("5", "10")),
}
_MEASURE_NAMES: Final = tuple(_MEASURES)


@functools.cache
def _ints(min_value: int, max_value: int) -> st.SearchStrategy[int]:
    # Strategies are built once: building them, not drawing from them, is what is slow.
    return st.integers(min_value, max_value)


def _clin_text(n: int, slin: bool) -> str:
    return f"{n:04d}" + ("AA" if slin else "")


@st.composite
def _dates(draw: st.DrawFn, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=draw(_ints(0, (hi - lo).days)))


def _maybe(draw: st.DrawFn, tenths: int) -> bool:
    """Draw True with probability *tenths*/10; shrinks to False (the simpler data)."""
    return draw(_ints(0, 9)) >= 10 - tenths


def _pick(draw: st.DrawFn, values: Sequence[Any]) -> Any:
    return values[draw(_ints(0, len(values) - 1))]


def _decimal(draw: st.DrawFn, low: int, high: int, places: int) -> Decimal:
    """Draw a Decimal with *places* places between low and high, given in units of 0.01."""
    scale = 10 ** (places - 2) if places >= 2 else None
    if scale is not None:
        return scaled_to_decimal(draw(_ints(low * scale, high * scale)), places)
    div = 10 ** (2 - places)
    return scaled_to_decimal(draw(_ints(-(-low // div), high // div)), places)
