"""Generate realistic input folders (DESIGN section 4) with planted errors, deterministically.

Used by ``ice-recon generate``, the tests and the benchmarks. The data scale like real data:
the service period grows with the number of trips (about :data:`TRIPS_PER_CONTRACT_DAY`
trips per contract and day, over at least :data:`MIN_DAYS` days), each contract runs
between 16 sites (240 routes), and its rates come in successive option periods of five to
seven months, some separated by a lapse of a few days with no contractual price. So the
trips per (contract, day) and per route stay bounded however many lines are asked for.

Per contract and option period, the rate schedule has one CLIN of every rule kind of
DESIGN sections 4.1 and 4.4 (see :data:`CLINS`); the fuel surcharge alternates between
the service week's index at 2 places and the prior week's index at 3 places, and some
index weeks are missing. The trips are billed in date order, in invoices of up to 50
lines; besides the clean lines, about 40 % of the charges get one planted error of
:data:`ERROR_KINDS`. Lines of trips on lapse days are NO_RATE, and fuel surcharges of a
missing index week are UNSUPPORTED with MISSING_MEASURE. The same arguments always write
the same bytes.

The optional inputs of DESIGN section 9.1 are written too, drawn from a random stream of
their own (the lines are those of earlier versions for the same seed): ``contracts.csv``
(contract *k* plays the part ``k % 4`` of :data:`CONTRACT_TERMS`: a ceiling notice at 85 %
and funds left to deobligate, an overrun of the ceiling and the funds, a Limitation of Funds
notice at 75 %, a contract without COR, cost estimate or passenger counts), ``cors.csv``
(yearly appointments with lapses, an alternate COR below the contract's risk),
``interest_rates.csv`` (half-years from 2019, one left out) and, in ``invoices.csv``, the
approval and payment of each invoice (some undocumented, approved by someone not appointed,
paid late). Manifests record ``seats``; some trips count no passengers (their passenger
charges are then UNSUPPORTED with MISSING_MEASURE). With four contracts or more, every
finding of section 9 occurs in a folder of a few thousand lines.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     stats = generate(folder, lines=200, trips=150, contracts=2, seed=7)
...     import ice_recon
...     report = ice_recon.reconcile(folder)
>>> stats["lines"], len(report.lines)
(200, 200)
"""

from __future__ import annotations

import bisect
import collections
import csv
import datetime as dt
import itertools
import os
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final, TextIO

from ice_recon.errors import ArgumentError
from ice_recon.money import Rounding, format_cents, format_scaled, round_div

__all__ = [
    "CLINS",
    "DUPLICATE_HEADERS",
    "ERROR_KINDS",
    "MIN_DAYS",
    "TRIPS_PER_CONTRACT_DAY",
    "default_trips",
    "generate",
]

#: Planted error kinds and their share of the charges (the rest, about 60 %, are clean).
#: ``duplicate``, ``unknown_ref``, ``missing_measure``, ``not_performed``, ``no_rate``,
#: ``ambiguous`` (a flat trip charge without a trip reference, on a day with several trips)
#: and ``duplicate_no_ref`` (an earlier line billed again without its trip reference) add a
#: line beside the charge, which is then billed clean; ``footing`` is drawn per invoice.
#: A kind that does not fit the charge (a minimum on a line above it) leaves it clean.
ERROR_KINDS: Final = (
    ("quantity", 0.06),
    ("rate", 0.04),
    ("extension", 0.03),
    ("rounding", 0.03),
    ("duplicate", 0.04),
    ("unknown_ref", 0.02),
    ("inferable", 0.04),
    ("missing_measure", 0.02),
    ("not_performed", 0.02),
    ("labor_category", 0.03),
    ("no_rate", 0.02),
    ("minimum", 0.02),
    ("amount", 0.02),
    ("invalid", 0.01),
    ("footing", 0.02),
    ("service_date", 0.01),
    ("ambiguous", 0.01),
    ("duplicate_no_ref", 0.01),
)
#: Share of invoices that get a second header (DUPLICATE_INVOICE).
DUPLICATE_HEADERS: Final = 0.01
#: Mean trips per contract and day: the service period grows with the trips to keep it.
TRIPS_PER_CONTRACT_DAY: Final = 12
#: The shortest service period, in days.
MIN_DAYS: Final = 365
#: The CLINs of every contract and option period, and the rule kind each one shows.
CLINS: Final = {
    "0001": "loaded_miles, 4-place rate, minimum_amount 150.00",
    "0002": "wait_hours, free_quantity 1.00, increment 0.25 rounded down",
    "0003": "trip (flat per trip; billed only as planted NOT_PERFORMED and ambiguous lines)",
    "0004": "labor_hours by labor category (TO, STO)",
    "0005": "cancellation fee, all_units tiers on cancel_notice_hours",
    "0006": "passengers, graduated tiers",
    "0007": "fuel surcharge (fuel_rules.csv): service_week at 2 places, prior_week at 3",
    "0008": "no rule at all (NO_RATE)",
    "0009": "vehicle_hours, increment 0.50 up, minimum_quantity 2.00, rounding half_even",
    "0010": "deadhead_miles, all_units tiers, increment 1 nearest, rounding down",
    "0011": "labor_hours without a labor category (any category)",
}

#: The malformed cells planted in INVALID lines: (column index, text).
_MALFORMED: Final = ((7, "1e3"), (4, "2022-02-30"), (3, ""), (5, "1,5"))
#: Lines per invoice.
_PER_INVOICE: Final = 50
#: Lines of a contract that a planted duplicate may copy (the most recent ones).
_RECENT: Final = 200
_START: Final = dt.date(2019, 10, 1)
#: The service period ends before this date, whatever the trips (ISO dates end in 9999).
_LATEST: Final = dt.date(9900, 1, 1)
_SITES: Final = (
    "KRO", "ELP", "HRL", "AZC", "LRD", "SND", "OTM", "BTV", "PHX", "SAT", "MIA", "ATL",
    "NOL", "HOU", "DAL", "SEA", "SFR", "LOS", "CHI", "DET", "NYC", "NEW", "BAL", "PHI",
    "BOS", "BUF", "DEN", "SLC", "SPM", "KCM", "STL", "LVG", "SDC", "TUC", "YUM", "ALB",
    "OKC", "MEM", "ORL", "TAM", "JAX", "CLT", "RAL", "RIC", "PIT", "CLE", "OMA", "POR",
)  # fmt: skip
_SITES_PER_CONTRACT: Final = 16
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
_MANIFEST_COLUMNS: Final = (
    "trip_id", "contract_id", "service_date", "status", "origin", "destination",
    "cancel_notice_hours", "loaded_miles", "wait_hours", "passengers", "vehicle_hours",
    "deadhead_miles", "seats",
)  # fmt: skip
_LINE_COLUMNS: Final = (
    "invoice_id", "line_no", "contract_id", "clin", "service_date", "quantity", "unit_price",
    "amount", "trip_ref", "labor_category", "person_id", "origin", "destination",
)  # fmt: skip
#: Kinds that add a line of their own beside the charge.
_EXTRA: Final = frozenset({"duplicate", "unknown_ref", "missing_measure", "not_performed",
                           "no_rate", "ambiguous", "duplicate_no_ref"})  # fmt: skip
#: Kinds whose status comes before MISSING_MEASURE (DESIGN section 5, rows 1-5).
_BEFORE_MISSING: Final = frozenset({"invalid", "rebilled", "no_rate_gap", "missing_week"})
#: Kinds of lines that a planted duplicate may copy: matched exactly, priced by a rule.
_COPYABLE: Final = frozenset({"clean", "quantity", "rate", "extension", "rounding", "minimum",
                              "amount", "labor_category", "service_date"})  # fmt: skip
#: The deadhead (0010) all_units tiers: (tier_from, rate at scale 4 in the first period).
_DEADHEAD_TIERS: Final = ((0, 18750), (100, 16250), (250, 13750))
#: The passenger (0006) graduated tiers: (from, to, rate in cents).
_PASSENGER_TIERS: Final = ((0, 10, 1200), (10, 25, 900), (25, 10**9, 750))
#: A trip as billing needs it: contract index, trip id, day, option period, lapse (no
#: period covers the day), notice hours (None: completed), miles, wait, passengers, vehicle
#: hours, deadhead miles, origin, destination, TO person and hours, STO person (None: no
#: STO on the trip) and hours.
_Trip = tuple[
    int, str, int, int, bool, int | None, int, int | None, int, int | None, int | None, str,
    str, str, int, str | None, int,
]  # fmt: skip
#: Section 9.1 inputs. Contract *k* plays the part ``k % 4`` of :data:`CONTRACT_TERMS`.
#: The contract part whose trips record no passengers, and the share of the other completed
#: trips that record none.
_NO_COUNT: Final = 3
_UNCOUNTED: Final = 0.02
#: Shares of completed trips without seats, and with a 45-seat coach whatever the load.
_NO_SEATS: Final = 0.03
_COACH: Final = 0.08
_COACH_SEATS: Final = "45"
#: Shares of approved invoices left without approved_by or approved_date, approved by the
#: contracting officer (no COR appointment), or, where one is appointed, by the alternate COR.
_UNDOCUMENTED: Final = 0.02
_BY_CO: Final = 0.02
_BY_ALTERNATE: Final = 0.15
#: Shares of paid invoices paid late, and of those paid one day late (small interest).
_LATE: Final = 0.08
_ONE_DAY_LATE: Final = 0.3
#: Share of the invoices before a contract's last two that are approved but not yet paid.
_UNPAID: Final = 0.05
_INVOICE_COLUMNS: Final = (
    "invoice_id", "contract_id", "invoice_date", "total", "status", "approved_by",
    "approved_date", "paid_date", "paid_amount",
)  # fmt: skip
_CONTRACT_COLUMNS: Final = (
    "contract_id", "ceiling", "funded", "estimate", "start", "end", "risk", "payment_days",
    "notice_percent",
)  # fmt: skip
#: What each contract part plants (DESIGN section 9), as percentages of the contract's
#: billed total (whole dollars, rounded down; empty: no such figure), and its terms:
#: (ceiling, funded, estimate, risk, payment_days, notice_percent, the COR's level, the
#: alternate COR's level or None, period of performance ends at the last billed trip).
CONTRACT_TERMS: Final = (
    # 0: ceiling notice at 85 %, no overrun; the period ended with money left (deobligation);
    #    the alternate COR's level I is below the moderate risk.
    (110, 125, 97, "moderate", "30", "", "II", "I", True),
    # 1: over the ceiling and the funds; no cost estimate; high risk, alternate at level II.
    (95, 90, None, "high", "", "", "III", "II", False),
    # 2: a Limitation of Funds contract: notice at 75 % of the ceiling.
    (125, 115, 104, "low", "", "75", "I", None, False),
    # 3: no COR appointed, no cost estimate, no passenger counted (see _write_trips).
    (200, 150, None, "moderate", "15", "", None, None, False),
)
#: Prompt Payment interest rates (percent a year) per half-year from January 2019: close to
#: the rates Treasury published, but not official figures; later half-years cycle through
#: :data:`_LATER_RATES`.
_INTEREST_RATES: Final = (
    "3.625", "2.875", "2.125", "0.875", "1.125", "1.375", "1.625", "3.000", "4.750", "4.875",
    "4.625", "4.375", "4.625", "4.500",
)  # fmt: skip
_LATER_RATES: Final = ("4.250", "4.000", "3.875", "4.125", "4.500", "4.875", "5.000", "4.625")
_HALF_UP: Final = Rounding.HALF_UP
_HALF_EVEN: Final = Rounding.HALF_EVEN
_DOWN: Final = Rounding.DOWN


def default_trips(lines: int) -> int:
    """Return the number of trips used when none is given: ``max(1, lines * 2 // 7)``.

    A completed trip is billed about four lines (three to four charges and the lines that
    planted errors add), so about 85 % of the trips are billed and none twice.

    >>> default_trips(20_000), default_trips(0)
    (5714, 1)
    """
    return max(1, lines * 2 // 7)


class _IsoDates(dict[int, str]):
    """Date ordinal -> ISO text, computed once per date (``iso[day]``)."""

    def __missing__(self, day: int) -> str:
        text = self[day] = dt.date.fromordinal(day).isoformat()
        return text


class _Texts(dict[int, str]):
    """Scaled units -> decimal text at one scale, computed once per value (``texts[units]``).

    The measures and prices take a few thousand distinct values: a dictionary hit is several
    times cheaper than formatting again.
    """

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def __missing__(self, units: int) -> str:
        text = self[units] = format_scaled(units, self.scale)
        return text


class _Invoice:
    """An invoice being billed: its contract, id, the total of its lines and latest date."""

    __slots__ = ("contract", "invoice_id", "last_day", "total")

    def __init__(self, contract: int, invoice_id: str, day: int) -> None:
        self.contract = contract
        self.invoice_id = invoice_id
        self.total = 0
        self.last_day = day


class _Writer:
    """A CSV file written in blocks of rows (bounded memory, the same bytes as one write)."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self._handle: TextIO = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._handle, lineterminator="\n")
        self._csv.writerow(header)
        self.rows: list[list[str]] = []

    def write(self, rows: Iterable[Sequence[str]]) -> None:
        self._csv.writerows(rows)

    def flush(self) -> None:
        self._csv.writerows(self.rows)
        self.rows.clear()

    def close(self) -> None:
        self.flush()
        self._handle.close()


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    writer = _Writer(path, header)
    writer.write(rows)
    writer.close()


def _cents(units: int, scale: int, mode: Rounding) -> int:
    """Round *units* at *scale* to cents with *mode*."""
    return round_div(units, 10 ** (scale - 2), mode) if scale > 2 else units * 10 ** (2 - scale)


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


def generate(
    out_dir: str | os.PathLike[str],
    *,
    lines: int,
    trips: int | None = None,
    contracts: int = 1,
    seed: int = 0,
) -> dict[str, int]:
    """Write a generated input folder to *out_dir*; return counts of what was written.

    Args:
        lines: the number of invoice lines.
        trips: the number of manifest trips (spread over the contracts); default
            :func:`default_trips` of *lines*, so that most trips are billed once. With
            more lines than the trips' charges, billing starts over with the first trips
            (every charge then billed again is a DUPLICATE).
        contracts: the number of contracts.
        seed: the random seed; the same arguments always write the same bytes.

    Returns:
        ``lines``, ``trips``, ``contracts``, ``days`` (the service period), ``rate_rows``,
        ``staff_rows`` and ``invoices`` (headers written).

    Changed in 0.2.0: *trips* is optional; the service period grows with the trips.
    """
    return _generate(out_dir, lines=lines, trips=trips, contracts=contracts, seed=seed)[0]


def _generate(
    out_dir: str | os.PathLike[str],
    *,
    lines: int,
    trips: int | None,
    contracts: int,
    seed: int,
) -> tuple[dict[str, int], list[str]]:
    """Write the folder as :func:`generate` does; also return each line's planted kind.

    The kinds, in invoice_lines.csv order, are those of :data:`ERROR_KINDS` (but
    ``footing``), ``clean``, ``no_rate_gap`` (a trip on a lapse day between option
    periods), ``missing_week`` (a fuel surcharge whose index week is missing) and
    ``rebilled`` (a charge billed again once every trip was billed).
    """
    if trips is None:
        trips = default_trips(lines)
    if lines < 0 or trips < 1 or contracts < 1:
        raise ArgumentError("need lines >= 0, trips >= 1 and contracts >= 1")
    rng = random.Random(seed)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    cids = [f"HSCEMD-{19 + k % 5}-C-{10000 + k:05d}" for k in range(contracts)]
    first = _START.toordinal()
    per_contract = -(-trips // contracts)
    days = max(MIN_DAYS, -(-per_contract // TRIPS_PER_CONTRACT_DAY))
    days = min(days, _LATEST.toordinal() - first)
    last = first + days - 1

    # Rates and fuel rules: per contract, successive option periods over the whole period.
    windows = [_windows(k, first, last) for k in range(contracts)]
    rate_rows = [row for k, cid in enumerate(cids) for row in _rate_rows(cid, k, windows[k])]
    _write(folder / "rates.csv", _RATE_COLUMNS, rate_rows)
    _write(
        folder / "fuel_rules.csv",
        _FUEL_COLUMNS,
        (row for k, cid in enumerate(cids) for row in _fuel_rows(cid, k, windows[k])),
    )
    fuel, missing = _write_fuel_index(folder / "fuel_index.csv", rng, first, last)
    # Section 9.1 draws come from a stream of their own, so that the lines stay the same.
    plan = random.Random(f"ice_recon.generate section 9.1 {seed}")
    trip_info, staff_rows, completed, no_count = _write_trips(
        folder, rng, cids, windows, first, days, trips, plan
    )
    billing = _Billing(rng, cids, windows, fuel, missing, completed, no_count)
    billing.bill(folder / "invoice_lines.csv", trip_info, lines)
    terms = _Terms(cids, windows, last, billing.invoices, plan)
    header_rows = billing.headers(plan, terms)
    _write(folder / "invoices.csv", _INVOICE_COLUMNS, header_rows)
    _write(folder / "contracts.csv", _CONTRACT_COLUMNS, terms.contract_rows())
    _write(folder / "cors.csv", ("contract_id", "person_id", "appointed", "level", "expires"),
           terms.cor_rows())  # fmt: skip
    paid = [dt.date.fromisoformat(row[7]).toordinal() for row in header_rows if row[7]]
    dated = sorted(row[2] for row in header_rows)
    # One half-year without a published rate: the one of the invoice date nine tenths of
    # the way through (late enough to leave rates for most invoices of a short period).
    gap = dt.date.fromisoformat(dated[len(dated) * 9 // 10]).toordinal() if dated else last
    _write(
        folder / "interest_rates.csv",
        ("start", "end", "rate"),
        _interest_rows(max([last + 60, *paid]), gap),
    )
    stats = {
        "lines": len(billing.planted),
        "trips": trips,
        "contracts": contracts,
        "days": days,
        "rate_rows": len(rate_rows),
        "staff_rows": staff_rows,
        "invoices": len(header_rows),
    }
    return stats, billing.planted


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


def _write_trips(
    folder: Path,
    rng: random.Random,
    cids: Sequence[str],
    windows: Sequence[Sequence[tuple[int, int]]],
    first: int,
    days: int,
    trips: int,
    plan: random.Random,
) -> tuple[list[_Trip], int, collections.Counter[tuple[int, int]], bytearray]:
    """Write manifests.csv and staff.csv; return the trips, the number of roster rows,
    the number of completed trips per (contract index, day) of an option period, and
    which trips recorded no passenger count (1 at the trip's index).

    Trip *t* belongs to contract ``t % contracts``; each contract's trips are in date
    order, their days drawn uniformly over the period. The trips of every fourth contract
    (index 3, 7, …) record no passengers at all (NO_PEOPLE_COUNT), and :data:`_UNCOUNTED`
    of the other completed trips none either; the vendor still bills what it says it
    carried. ``seats`` is the capacity of the vehicle sent.
    """
    contracts = len(cids)
    uniform = rng.random
    plan_uniform = plan.random
    no_count = bytearray(trips)

    def below(n: int) -> int:
        # Uniform enough for test data, and several times cheaper than randrange.
        return int(uniform() * n)

    offsets = [below(days) for _ in range(trips)]
    for k in range(contracts):
        offsets[k::contracts] = sorted(offsets[k::contracts])
    starts = [[s for s, _ in ws] for ws in windows]
    ends = [[e for _, e in ws] for ws in windows]
    sites = [
        tuple(_SITES[(5 * k + j) % len(_SITES)] for j in range(_SITES_PER_CONTRACT))
        for k in range(contracts)
    ]
    n_sites = _SITES_PER_CONTRACT
    iso = _IsoDates()
    tenths, hundredths = _Texts(1), _Texts(2)
    manifest = _Writer(folder / "manifests.csv", _MANIFEST_COLUMNS)
    staff = _Writer(folder / "staff.csv", ("trip_id", "contract_id", "person_id",
                                           "labor_category", "hours"))  # fmt: skip
    staff_rows = 0
    out: list[_Trip] = []
    completed: collections.Counter[tuple[int, int]] = collections.Counter()
    for t in range(trips):
        k = t % contracts
        cid = cids[k]
        tid = f"T{t + 1:09d}"
        day = first + offsets[t]
        w = bisect.bisect_right(starts[k], day) - 1
        lapse = day > ends[k][w]
        here = sites[k]
        oi = below(n_sites)
        o, d = here[oi], here[(oi + 1 + below(n_sites - 1)) % n_sites]
        if uniform() < 0.04:
            notice = (6, 12, 30, 60)[below(4)]
            manifest.rows.append([tid, cid, iso[day], "cancelled", o, d, str(notice),
                                  "", "", "", "", "", ""])  # fmt: skip
            out.append((k, tid, day, w, lapse, notice, 0, None, 0, None, None, o, d,
                        "", 0, None, 0))  # fmt: skip
            continue
        # Miles at scale 1: one trip in five is a short transfer, billed at the minimum.
        miles = 50 + below(550) if uniform() < 0.2 else 200 + below(3800)
        wait = below(400) if uniform() < 0.3 else None  # scale 2
        pax = 1 + below(44)
        vehicle = 50 + below(800) if uniform() < 0.12 else None  # scale 2
        deadhead = 5 + below(3600) if uniform() < 0.12 else None  # scale 1
        # The head count and the seats come from the plan's stream: the trips and lines
        # drawn from *rng* stay what they were before these columns existed.
        counted = k % 4 != _NO_COUNT and plan_uniform() >= _UNCOUNTED
        if not counted:
            no_count[t] = 1
        u = plan_uniform()
        if u < _NO_SEATS:
            seats = ""
        elif u < _NO_SEATS + _COACH:
            seats = _COACH_SEATS  # a coach sent for a van's load: below the floor if pax < 36
        else:
            seats = str(pax + int(pax * plan_uniform() * 0.2))  # at least 5/6 of the seats used
        manifest.rows.append(
            [
                tid,
                cid,
                iso[day],
                "completed",
                o,
                d,
                "",
                tenths[miles],
                "" if wait is None else hundredths[wait],
                str(pax) if counted else "",
                "" if vehicle is None else hundredths[vehicle],
                "" if deadhead is None else tenths[deadhead],
                seats,
            ]
        )
        to_person, to_hours = f"P{t % 9973:05d}", 150 + below(750)
        staff.rows.append([tid, cid, to_person, "TO", hundredths[to_hours]])
        sto_person, sto_hours = None, 0
        if uniform() < 0.2:
            sto_person, sto_hours = f"S{t % 997:04d}", 150 + below(750)
            staff.rows.append([tid, cid, sto_person, "STO", hundredths[sto_hours]])
        out.append((k, tid, day, w, lapse, None, miles, wait, pax, vehicle, deadhead, o, d,
                    to_person, to_hours, sto_person, sto_hours))  # fmt: skip
        if not lapse:
            completed[k, day] += 1
        if len(manifest.rows) >= 50_000:
            staff_rows += len(staff.rows)
            manifest.flush()
            staff.flush()
    staff_rows += len(staff.rows)
    manifest.close()
    staff.close()
    return out, staff_rows, completed, no_count


#: A charge: clin, quantity units and scale, price units and scale, amount in cents, the
#: rule's rounding, labor category, person.
_Charge = tuple[str, int, int, int, int, int, Rounding, str, str]


class _Billing:
    """Bill the trips' charges in invoices, planting errors; remember each line's kind."""

    def __init__(
        self,
        rng: random.Random,
        cids: Sequence[str],
        windows: Sequence[Sequence[tuple[int, int]]],
        fuel: dict[int, int],
        missing: set[int],
        completed: collections.Counter[tuple[int, int]],
        no_count: bytearray,
    ) -> None:
        self.rng = rng
        self.completed = completed
        self.no_count = no_count
        self.cids = cids
        self.rates = [[_rates(w, k) for w in range(len(ws))] for k, ws in enumerate(windows)]
        self.fuel = fuel
        self.missing = missing
        self.fuel_rate: dict[tuple[int, bool, int], int] = {}
        self.iso = _IsoDates()
        self.texts = [_Texts(scale) for scale in range(5)]  # by scale
        self.planted: list[str] = []
        self.invoices: list[_Invoice] = []  # in the order opened
        contracts = len(cids)
        self.current = [-1] * contracts  # contract -> its open invoice (index in invoices)
        self.in_current = [0] * contracts  # contract -> lines in its open invoice
        self.counter = [0] * contracts
        self.recent: list[collections.deque[tuple[list[str], int, int]]] = [
            collections.deque(maxlen=_RECENT) for _ in range(contracts)
        ]

    def below(self, n: int) -> int:
        # Uniform enough for test data, and several times cheaper than randrange.
        return int(self.rng.random() * n)

    def open_line(self, k: int, day: int) -> tuple[str, str]:
        """Return (invoice id, line number) of the next line of contract *k*, on *day*."""
        at = self.current[k]
        if at < 0 or self.in_current[k] >= _PER_INVOICE:
            self.counter[k] += 1
            at = self.current[k] = len(self.invoices)
            invoice_id = f"INV-{self.cids[k][-5:]}-{self.counter[k]:06d}"
            self.invoices.append(_Invoice(k, invoice_id, day))
            self.in_current[k] = 0
        self.in_current[k] += 1
        invoice = self.invoices[at]
        if day > invoice.last_day:
            invoice.last_day = day
        return invoice.invoice_id, str(self.in_current[k])

    def charges(self, trip: _Trip) -> tuple[list[_Charge], bool]:
        """Return what the vendor bills for *trip*, and whether its fuel index week is missing.

        Each amount is what the rule gives: the vendor bills correctly unless an error is
        planted. On a lapse day the vendor bills the rates of the period before.
        """
        (k, _, day, w, _, notice, miles, wait, pax, vehicle, deadhead, _, _,
         to_person, to_hours, sto_person, sto_hours) = trip  # fmt: skip
        uniform, below = self.rng.random, self.below
        if notice is not None:
            fee = 50000 if notice < 24 else 25000 if notice < 48 else 0
            return [("0005", 1, 0, fee, 2, fee, _HALF_UP, "", "")], False
        rate = self.rates[k][w]
        out: list[_Charge] = []

        def flat(clin: str, q: int, qs: int, p: int, ps: int, mode: Rounding = _HALF_UP,
                 category: str = "", person: str = "") -> None:  # fmt: skip
            out.append((clin, q, qs, p, ps, _cents(q * p, qs + ps, mode), mode, category, person))

        mr = rate["0001"]
        out.append(("0001", miles, 1, mr, 4, max(15000, _cents(miles * mr, 5, _HALF_UP)),
                    _HALF_UP, "", ""))  # fmt: skip
        week = day - (day - 1) % 7
        prior, places = _fuel_variant(w, k)
        index_week = week - 7 if prior else week
        key = (week, prior, places)
        fsc = self.fuel_rate.get(key)
        if fsc is None:
            excess = self.fuel[index_week] - 2500  # base price 2.500, 6.0 miles per gallon
            fsc = self.fuel_rate[key] = max(0, round_div(excess * 10**places, 6000, _HALF_UP))
        flat("0007", miles, 1, fsc, places)
        # Labor by category; a line names the person and the category, or only one of them.
        for category, person, hours in (("TO", to_person, to_hours),
                                        ("STO", sto_person, sto_hours)):  # fmt: skip
            if person is not None:
                form = below(5)
                flat("0004", hours, 2, rate[category], 2, _HALF_UP,
                     "" if form == 3 else category, "" if form == 4 else person)  # fmt: skip
        if uniform() < 0.15:
            cents = sum(max(0, min(pax, hi) - lo) * fee for lo, hi, fee in _PASSENGER_TIERS)
            # The unit price is the average, to 4 places; the amount is the tiers' total.
            average = round_div(cents * 100, pax, _HALF_UP)
            out.append(("0006", pax, 0, average, 4, cents, _HALF_UP, "", ""))
        if wait is not None and uniform() < 0.5:
            flat("0002", max(0, wait - 100) // 25 * 25, 2, rate["0002"], 2)
        if vehicle is not None:
            flat("0009", max(200, -(-vehicle // 50) * 50), 2, rate["0009"], 2, _HALF_EVEN)
        if deadhead is not None:
            billable = (deadhead + 5) // 10  # whole miles, half up
            tier = next(r for lo, r in reversed(_DEADHEAD_TIERS) if billable >= lo)
            flat("0010", billable, 0, tier + rate["0010"], 4, _DOWN)
        if uniform() < 0.06:
            form = below(3)  # the whole crew, only a person, or only a category
            flat("0011", to_hours + sto_hours if form == 0 else to_hours, 2, rate["0011"], 2,
                 _HALF_UP, "TO" if form == 2 else "", to_person if form == 1 else "")  # fmt: skip
        return out, index_week in self.missing

    def bill(self, path: Path, trips: Sequence[_Trip], lines: int) -> None:
        """Write *lines* invoice lines to *path*: the trips' charges, in order, planted."""
        kinds = [k for k, _ in ERROR_KINDS] + ["clean"]
        weights = [w for _, w in ERROR_KINDS]
        weights.append(1.0 - sum(weights))
        cumulative = list(itertools.accumulate(weights))
        total_weight = cumulative[-1]
        cumulative[-1] = total_weight * 2  # the last bucket takes everything up to the total
        uniform, below, iso, planted = self.rng.random, self.below, self.iso, self.planted
        texts, no_count = self.texts, self.no_count
        invoices, current, cids = self.invoices, self.current, self.cids
        out = _Writer(path, _LINE_COLUMNS)

        def add(k: int, row: list[str], cents: int, kind: str) -> None:
            """Write one line; count its amount in its invoice unless it is malformed."""
            out.rows.append(row)
            planted.append(kind)
            if kind != "invalid":
                invoices[current[k]].total += cents
            if len(out.rows) >= 50_000:
                out.flush()

        iterations = 0
        while len(planted) < lines:
            trip = trips[iterations % len(trips)]
            uncounted = no_count[iterations % len(trips)]
            rebilled = iterations >= len(trips)
            iterations += 1
            k, tid, day, w, lapse, notice = trip[:6]
            wait, vehicle, o, d, to_person = trip[7], trip[9], trip[11], trip[12], trip[13]
            cid, rate = cids[k], self.rates[k][w]
            charges, fsc_missing = self.charges(trip)
            extras_done: set[str] = set()
            for clin, qu, qs, pu, ps, amount, mode, category, person in charges:
                if len(planted) >= lines:
                    break
                kind = kinds[bisect.bisect(cumulative, uniform() * total_weight)]
                if kind in _EXTRA:
                    if not lapse and not rebilled and kind not in extras_done:
                        extras_done.add(kind)
                        extra = self.extra_line(kind, k, tid, day, notice, wait, vehicle, rate)
                        if extra is not None:
                            row, cents, when = extra
                            row[0], row[1] = self.open_line(k, when)
                            add(k, row, cents, kind)
                            if len(planted) >= lines:
                                break
                    kind = "clean"
                ref, date_day, origin, dest = tid, day, "", ""
                qty_text, price_text = texts[qs][qu], texts[ps][pu]
                if kind == "invalid":
                    pass
                elif rebilled:
                    kind = "rebilled"
                elif lapse:
                    kind = "no_rate_gap"
                elif clin == "0007" and fsc_missing:
                    kind = "missing_week"
                elif kind == "quantity" and clin in ("0001", "0007", "0009"):
                    qu2 = qu + (50 if clin == "0009" else 5 + below(145))
                    amount2 = _cents(qu2 * pu, qs + ps, mode)
                    if clin == "0001":
                        amount2 = max(amount2, 15000)
                    if amount2 != amount:
                        qty_text, amount = format_scaled(qu2, qs), amount2
                    else:
                        kind = "clean"
                elif kind == "rate" and clin in ("0001", "0002", "0004", "0009", "0010", "0011"):
                    pu2 = pu + (5 if ps == 2 else 250)
                    amount2 = _cents(qu * pu2, qs + ps, mode)
                    if clin == "0001":
                        amount2 = max(amount2, 15000)
                    if amount2 != amount:
                        price_text, amount = format_scaled(pu2, ps), amount2
                    else:
                        kind = "clean"
                elif kind == "extension" and not (clin == "0001" and amount == 15000):
                    amount += (900, 1000, 2700)[below(3)]
                elif kind == "rounding" and clin not in ("0005", "0006") and qs + ps > 2:
                    down = _cents(qu * pu, qs + ps, _DOWN)
                    up = _cents(qu * pu, qs + ps, Rounding.UP)
                    other = down if amount == up else up
                    # Off by a cent: rounded with another mode than the rule's.
                    if down != up and (clin != "0001" or min(amount, other) > 15000):
                        amount = other
                    else:
                        kind = "clean"
                elif kind == "inferable" and clin in ("0001", "0004", "0007"):
                    ref, origin, dest = "", o, d
                elif kind == "minimum" and clin == "0001" and amount == 15000:
                    amount2 = _cents(qu * pu, qs + ps, mode)
                    if amount2 != amount:
                        amount = amount2
                    else:
                        kind = "clean"
                elif kind == "amount" and clin == "0006" and qu > 10:
                    price_text, amount = "12.00", qu * 1200  # the first tier's rate throughout
                elif kind == "labor_category" and clin == "0004" and person:
                    # Billed at the other category's rate; the roster says otherwise.
                    category = "STO" if category != "STO" and person == to_person else "TO"
                    price_text = format_cents(rate[category])
                    amount = _cents(qu * rate[category], 4, _HALF_UP)
                elif kind == "service_date":
                    date_day = day + 1  # the trip's date governs: SERVICE_DATE_MISMATCH
                else:
                    kind = "clean"
                copyable = kind in _COPYABLE
                if uncounted and clin == "0006" and kind not in _BEFORE_MISSING:
                    # Billed per passenger on a trip that counted none: missing evidence,
                    # whatever else was planted (a planted date stays: SERVICE_DATE_MISMATCH
                    # too). Decided after the draws and still copyable (its copy is a
                    # DUPLICATE), so that the random stream and the lines stay as they were.
                    kind = "missing_measure"
                row = ["", "", cid, clin, iso[date_day], qty_text, price_text,
                       format_cents(amount), ref, category, person, origin, dest]  # fmt: skip
                if kind == "invalid":
                    column, text = _MALFORMED[below(len(_MALFORMED))]
                    row[column] = text  # INVALID: in no invoice total
                row[0], row[1] = self.open_line(k, date_day)
                add(k, row, amount, kind)
                if copyable:
                    self.recent[k].append((row, amount, date_day))
        out.close()

    def extra_line(
        self,
        kind: str,
        k: int,
        tid: str,
        day: int,
        notice: int | None,
        wait: int | None,
        vehicle: int | None,
        rate: dict[str, int],
    ) -> tuple[list[str], int, int] | None:
        """Return the line a kind adds beside a charge: (row, amount cents, day), or None."""
        cid, iso, below = self.cids[k], self.iso[day], self.below
        if kind == "duplicate":
            recent = self.recent[k]
            if not recent:
                return None
            row, cents, when = recent[below(len(recent))]
            return list(row), cents, when
        if kind == "unknown_ref":
            # A trip that is not in the manifest: its miles have 2 places (the manifest
            # records 1), so no trip is inferred for it; 100 miles or more, never the minimum.
            miles = (1000 + below(3000)) * 10 + 1 + below(9)
            cents = max(15000, _cents(miles * rate["0001"], 6, _HALF_UP))
            row = ["", "", cid, "0001", iso, format_scaled(miles, 2),
                   format_scaled(rate["0001"], 4), format_cents(cents),
                   f"X{below(10**8):08d}", "", "", "", ""]  # fmt: skip
            return row, cents, day
        if kind == "missing_measure" and notice is None:
            # A charge on a measure that the trip did not record.
            if wait is None:
                clin, quantity, price = "0002", 125, rate["0002"]
            elif vehicle is None:
                clin, quantity, price = "0009", 200, rate["0009"]
            else:
                return None
            cents = _cents(quantity * price, 4, _HALF_UP)
            row = ["", "", cid, clin, iso, format_scaled(quantity, 2), format_cents(price),
                   format_cents(cents), tid, "", "", "", ""]  # fmt: skip
            return row, cents, day
        if kind == "not_performed":
            # A flat trip charge for a cancelled trip, or a cancellation fee for a completed one.
            clin, cents = ("0003", rate["0003"]) if notice is not None else ("0005", 50000)
            text = format_cents(cents)
            return ["", "", cid, clin, iso, "1", text, text, tid, "", "", "", ""], cents, day
        if kind == "ambiguous" and self.completed[k, day] >= 2:
            # No reference and no route: every completed trip of that day fits equally well.
            text = format_cents(rate["0003"])
            return (
                ["", "", cid, "0003", iso, "1", text, text, "", "", "", "", ""],
                rate["0003"],
                day,
            )
        if kind == "duplicate_no_ref":
            # Billed again without the reference: the trip's charge is already claimed, and
            # no other trip has the same miles (DUPLICATE_CANDIDATE).
            recent = self.recent[k]
            if not recent:
                return None
            row, cents, when = recent[below(len(recent))]
            if row[3] not in ("0001", "0007"):
                return None
            row = list(row)
            row[8] = ""
            return row, cents, when
        if kind == "no_rate":
            row = ["", "", cid, "0008", iso, "1", "18.50", "18.50", tid, "", "", "", ""]
            return row, 1850, day
        return None

    def headers(self, plan: random.Random, terms: _Terms) -> list[list[str]]:
        """Return the invoices.csv rows: one per invoice (two for some), planted footing errors.

        An invoice is dated 14 days after its latest service date, but never before the
        contract's previous invoice: a planted duplicate then comes after the line it copies
        in processing order. Dates come from the day numbers, never from the lines' text
        (which may be a planted malformed date). Approval and payment come from *plan*
        (see :meth:`_Terms.payment`); a second header is a resubmission, only received.
        """
        left = collections.Counter(invoice.contract for invoice in self.invoices)
        footing = dict(ERROR_KINDS)["footing"]
        uniform, below, iso = self.rng.random, self.below, self.iso
        latest = [0] * len(self.cids)
        rows = []
        for invoice in self.invoices:
            k, total = invoice.contract, invoice.total
            when = latest[k] = max(latest[k], invoice.last_day + 14)
            if uniform() < footing:
                total += (900, -1800, 1)[below(3)]
            cid = self.cids[k]
            left[k] -= 1
            payment = terms.payment(k, when, invoice.total, left[k], plan)
            rows.append([invoice.invoice_id, cid, iso[when], format_cents(total), *payment])
            if uniform() < DUPLICATE_HEADERS:
                # Billed twice: a second header, later, for the same invoice.
                again = iso[when + 30]
                rows.append([invoice.invoice_id, cid, again, format_cents(total), "received",
                             "", "", "", ""])  # fmt: skip
        rows.sort(key=lambda row: (row[1], row[0]))
        return rows


def _iso(day: int) -> str:
    return dt.date.fromordinal(day).isoformat()


def _share(cents: int, percent: int) -> str:
    """Return *percent* % of *cents* in whole dollars, rounded down (at least 1,000.00)."""
    return format_cents(max(100_000, cents * percent // 10_000 * 100))


class _Terms:
    """The section 9.1 terms of the contracts: figures, periods, COR appointments, approvers.

    The money figures are shares of each contract's billed total (the sum of its
    non-malformed lines, what DESIGN section 9.2 adds up against the ceiling), so that the
    part a contract plays (:data:`CONTRACT_TERMS`) shows at any size. The COR is appointed
    from 30 days before the period for a year at a time; the first renewal, and every third
    after it, comes 20 to 40 days after the appointment ended (invoices approved then are
    approved by an expired appointment). The alternate COR is appointed for 240 days around
    the middle of the billing.
    """

    def __init__(
        self,
        cids: Sequence[str],
        windows: Sequence[Sequence[tuple[int, int]]],
        last: int,
        invoices: Sequence[_Invoice],
        plan: random.Random,
    ) -> None:
        n = len(cids)
        self.cids = cids
        self.totals = [0] * n
        billed: list[list[int]] = [[] for _ in range(n)]
        for invoice in invoices:
            self.totals[invoice.contract] += invoice.total
            billed[invoice.contract].append(invoice.last_day)
        self.start = [ws[0][0] for ws in windows]
        self.end = [
            max(days) if CONTRACT_TERMS[k % 4][8] and days else max(ws[-1][1], last + 60)
            for k, (ws, days) in enumerate(zip(windows, billed, strict=True))
        ]
        self.payment_days = [int(CONTRACT_TERMS[k % 4][4] or 30) for k in range(n)]
        #: (contract, person, appointed, level, expires or None), in file order.
        self.cors: list[tuple[int, str, int, str, int | None]] = []
        self.alternate: list[tuple[int, int] | None] = [None] * n
        for k in range(n):
            level, alternate_level = CONTRACT_TERMS[k % 4][6:8]
            if level is None:
                continue
            day, until = self.start[k] - 30, max(self.end[k], last) + 120
            renewal = 0
            while True:
                expires = day + 364
                if expires >= until:
                    self.cors.append((k, self.primary(k), day, level, None))
                    break
                self.cors.append((k, self.primary(k), day, level, expires))
                lapse = 20 + int(plan.random() * 21) if renewal % 3 == 0 else 0
                day, renewal = expires + 1 + lapse, renewal + 1
            if alternate_level is not None:
                mid = (min(billed[k]) + max(billed[k])) // 2 if billed[k] else last
                self.alternate[k] = (mid - 120, mid + 120)
                self.cors.append((k, f"COR-{k + 1:02d}-2", mid - 120, alternate_level, mid + 120))

    @staticmethod
    def primary(k: int) -> str:
        return f"COR-{k + 1:02d}-1"

    def contract_rows(self) -> list[list[str]]:
        """Return the contracts.csv rows."""
        rows = []
        for k, cid in enumerate(self.cids):
            ceiling, funded, estimate, risk, days, notice = CONTRACT_TERMS[k % 4][:6]
            total = self.totals[k]
            rows.append([
                cid, _share(total, ceiling), _share(total, funded),
                "" if estimate is None else _share(total, estimate),
                _iso(self.start[k]), _iso(self.end[k]), risk, days, notice,
            ])  # fmt: skip
        return rows

    def cor_rows(self) -> list[list[str]]:
        """Return the cors.csv rows."""
        return [
            [self.cids[k], person, _iso(day), level, "" if until is None else _iso(until)]
            for k, person, day, level, until in self.cors
        ]

    def payment(self, k: int, when: int, cents: int, later: int, plan: random.Random) -> list[str]:
        """Return status, approved_by, approved_date, paid_date, paid_amount of an invoice.

        *later* is the number of the contract's invoices after this one: the last is only
        received, the one before approved. Of the others, :data:`_UNPAID` are approved and
        the rest paid: on time (by the invoice date + payment_days, the earliest due date
        DESIGN 9.2 can give) or :data:`_LATE` late (after approved_date + payment_days, the
        latest due date it can give). *cents* (the lines' total) is the paid amount written
        for 70 % of the paid invoices; the others fall back to the header total.
        """
        if later == 0:
            return ["received", "", "", "", ""]
        uniform = plan.random
        paid = later > 1 and uniform() >= _UNPAID
        late = paid and uniform() < _LATE
        one_day = late and uniform() < _ONE_DAY_LATE
        # Approved on receipt when paid one day late: every reading of the due date then
        # gives the invoice date + payment_days, so the interest is one day's.
        approved = when if one_day else when + int(uniform() * 6)
        by = self.approver(k, approved, uniform())
        undocumented = uniform()
        approved_text = _iso(approved)
        base = approved
        if undocumented < _UNDOCUMENTED / 2:
            by = ""
        elif undocumented < _UNDOCUMENTED:
            approved_text, base = "", when
        if not paid:
            return ["approved", by, approved_text, "", ""]
        days = self.payment_days[k]
        if late:
            day = base + days + (1 if one_day else 2 + int(uniform() * 120))
        else:
            day = base + int(uniform() * (when + days - base + 1))
        amount = format_cents(cents) if uniform() < 0.7 else ""
        return ["paid", by, approved_text, _iso(day), amount]

    def approver(self, k: int, day: int, u: float) -> str:  # float-ok: a random draw, not money
        """Return who approves contract *k*'s invoice on *day*, with *u* uniform in [0, 1)."""
        if u < _BY_CO:
            return f"CO-{k + 1:02d}"  # the contracting officer: no COR appointment
        alternate = self.alternate[k]
        if alternate and alternate[0] <= day <= alternate[1] and u < _BY_CO + _BY_ALTERNATE:
            return f"COR-{k + 1:02d}-2"
        return self.primary(k)


def _interest_rows(until: int, gap: int) -> list[list[str]]:
    """Return interest_rates.csv: half-years from January 2019 to *until*, but *gap*'s."""
    rows: list[list[str]] = []
    for i in itertools.count():
        year, half = 2019 + i // 2, i % 2
        start = dt.date(year, 7 if half else 1, 1).toordinal()
        end = dt.date(year, 12, 31).toordinal() if half else dt.date(year, 6, 30).toordinal()
        if start > until:
            return rows
        if not start <= gap <= end:
            rate = _INTEREST_RATES[i] if i < len(_INTEREST_RATES) else _LATER_RATES[i % 8]
            rows.append([_iso(start), _iso(end), rate])
    raise AssertionError("unreachable")  # pragma: no cover
