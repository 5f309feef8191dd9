"""The price inputs of a generated folder (internal): rates, fuel rules and the fuel index.

Each contract's option periods, its rates.csv and fuel_rules.csv rows, and the weekly
fuel_index.csv. See :mod:`ice_recon.generate` (:data:`~ice_recon.generate.CLINS` lists the
rule kind of every CLIN).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ice_recon._generate_common import _write
from ice_recon.money import format_cents, format_scaled

_SERIES: Final = "EIA-DIESEL-US"
#: A missing fuel index week every this many weeks.
_MISSING_WEEK_EVERY: Final = 37
_RATE_COLUMNS: Final = (
    "contract_id", "clin", "basis", "rate", "start", "end", "labor_category",
    "minimum_amount", "minimum_quantity", "free_quantity", "increment", "increment_rounding",
    "tier_from", "tier_mode", "rounding", "authority",
)  # fmt: skip
_FUEL_COLUMNS: Final = (
    "contract_id", "clin", "start", "end", "base_price", "mpg", "series", "week_rule",
    "places", "authority",
)  # fmt: skip
#: The deadhead (0010) all_units tiers: (tier_from, rate at scale 4 in the first period).
_DEADHEAD_TIERS: Final = ((0, 18750), (100, 16250), (250, 13750))
#: The passenger (0006) graduated tiers: (from, to, rate in cents).
_PASSENGER_TIERS: Final = ((0, 10, 1200), (10, 25, 900), (25, 10**9, 750))


def _windows(k: int, first: int, last: int) -> list[tuple[int, int]]:
    """Return contract *k*'s option periods ``(start, end)`` (ordinals) covering the period.

    Periods last 150 to 219 days; after every other one comes a lapse of 3 to 8 days
    without a contractual price (NO_RATE on those days).
    """
    windows = []
    start = first - 120 + (k * 37) % 61
    for w in itertools.count():
        end = start + 150 + (k * 13 + w * 29) % 70 - 1
        windows.append((start, end))
        if end >= last + 30:
            return windows
        start = end + 1 + (3 + (w * 7 + k) % 6 if (w + k) % 2 == 1 else 0)
    raise AssertionError("unreachable")  # pragma: no cover


def _rates(w: int, k: int) -> dict[str, int]:
    """Return the rates of option period *w* of contract *k* (units at the CLIN's scale)."""
    return {
        "0001": 23950 + 10 * (k % 7) + 150 * w,  # scale 4
        "0002": 5250 + 50 * w,
        "0003": 17550 + 200 * w,
        "TO": 4675 + 50 * w,
        "STO": 6040 + 50 * w,
        # Whole dollars and a quarter: half an hour at this rate ends in half a cent.
        "0009": 4125 + 100 * w,
        "0011": 3890 + 50 * w,
        "0010": 100 * w,  # added to each deadhead tier rate (scale 4)
    }


def _rate_rows(cid: str, k: int, windows: Sequence[tuple[int, int]]) -> list[list[str]]:
    """Return the rates.csv rows of one contract: every CLIN in every option period."""
    out = []
    for w, (start, end) in enumerate(windows):
        r = _rates(w, k)
        rows: list[dict[str, str]] = [
            {"clin": "0001", "basis": "loaded_miles", "rate": format_scaled(r["0001"], 4),
             "minimum_amount": "150.00"},
            {"clin": "0002", "basis": "wait_hours", "rate": format_cents(r["0002"]),
             "free_quantity": "1.00", "increment": "0.25", "increment_rounding": "down"},
            {"clin": "0003", "basis": "trip", "rate": format_cents(r["0003"])},
            {"clin": "0004", "basis": "labor_hours", "rate": format_cents(r["TO"]),
             "labor_category": "TO"},
            {"clin": "0004", "basis": "labor_hours", "rate": format_cents(r["STO"]),
             "labor_category": "STO"},
        ]  # fmt: skip
        rows += [
            {"clin": "0005", "basis": "cancellation", "rate": fee, "tier_from": tier,
             "tier_mode": "all_units"}
            for tier, fee in (("0", "500.00"), ("24", "250.00"), ("48", "0.00"))
        ]  # fmt: skip
        rows += [
            {"clin": "0006", "basis": "passengers", "rate": format_cents(fee),
             "tier_from": str(lo), "tier_mode": "graduated"}
            for lo, _, fee in _PASSENGER_TIERS
        ]  # fmt: skip
        rows.append(
            {"clin": "0009", "basis": "vehicle_hours", "rate": format_cents(r["0009"]),
             "minimum_quantity": "2.00", "increment": "0.50", "increment_rounding": "up",
             "rounding": "half_even"}
        )  # fmt: skip
        rows += [
            {"clin": "0010", "basis": "deadhead_miles", "rate": format_scaled(rate + r["0010"], 4),
             "tier_from": str(tier), "tier_mode": "all_units", "increment": "1",
             "increment_rounding": "nearest", "rounding": "down"}
            for tier, rate in _DEADHEAD_TIERS
        ]  # fmt: skip
        rows.append({"clin": "0011", "basis": "labor_hours", "rate": format_cents(r["0011"])})
        iso = (dt.date.fromordinal(start).isoformat(), dt.date.fromordinal(end).isoformat())
        for row in rows:
            row.update(contract_id=cid, start=iso[0], end=iso[1],
                       authority=f"P{w + 1:05d} B.{int(row['clin'])}")  # fmt: skip
            out.append([row.get(col, "") for col in _RATE_COLUMNS])
    return out


def _fuel_variant(w: int, k: int) -> tuple[bool, int]:
    """Return (prior_week, places) of the fuel rule of option period *w* of contract *k*."""
    return (True, 3) if (w + k) % 2 else (False, 2)


def _fuel_rows(cid: str, k: int, windows: Sequence[tuple[int, int]]) -> list[list[str]]:
    """Return the fuel_rules.csv rows of one contract: one rule per option period."""
    out = []
    for w, (start, end) in enumerate(windows):
        prior, places = _fuel_variant(w, k)
        out.append(
            [
                cid,
                "0007",
                dt.date.fromordinal(start).isoformat(),
                dt.date.fromordinal(end).isoformat(),
                "2.500",
                "6.0",
                _SERIES,
                "prior_week" if prior else "",  # empty: the default, service_week
                "3" if places == 3 else "",  # empty: the default, 2
                f"P{w + 1:05d} H.12",
            ]
        )
    return out


def _write_fuel_index(
    path: Path, rng: random.Random, first: int, last: int
) -> tuple[dict[int, int], set[int]]:
    """Write the weekly index over the period (and the weeks before), but some weeks.

    Return the price of every week (Monday ordinal -> units at scale 3; a vendor still
    knows the missing ones) and the weeks left out of the file.
    """
    monday = first - (first - 1) % 7 - 14  # ordinal 1 (0001-01-01) is a Monday
    fuel: dict[int, int] = {}
    missing: set[int] = set()
    price = 3400
    for i in itertools.count():
        if monday > last + 7:
            break
        # A random walk pulled back toward 3.800, within 2.600..5.900.
        price = max(2600, min(5900, price + rng.randrange(-100, 101) + (3800 - price) // 50))
        fuel[monday] = price
        if i % _MISSING_WEEK_EVERY == 20:
            missing.add(monday)
        monday += 7
    _write(
        path,
        ("series", "week", "price"),
        [
            [_SERIES, dt.date.fromordinal(d).isoformat(), format_scaled(p, 3)]
            for d, p in fuel.items()
            if d not in missing
        ],
    )
    return fuel, missing
