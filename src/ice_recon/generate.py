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
import datetime as dt
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ice_recon._generate_billing import (
    _INVOICE_COLUMNS,
    DUPLICATE_HEADERS,
    ERROR_KINDS,
    _Billing,
    _Trip,
)
from ice_recon._generate_common import _IsoDates, _Texts, _write, _Writer
from ice_recon._generate_rates import (
    _FUEL_COLUMNS,
    _RATE_COLUMNS,
    _fuel_rows,
    _rate_rows,
    _windows,
    _write_fuel_index,
)
from ice_recon._generate_terms import _CONTRACT_COLUMNS, _interest_rows, _Terms
from ice_recon._generate_terms import CONTRACT_TERMS as CONTRACT_TERMS
from ice_recon.errors import ArgumentError

__all__ = [
    "CLINS",
    "DUPLICATE_HEADERS",
    "ERROR_KINDS",
    "MIN_DAYS",
    "TRIPS_PER_CONTRACT_DAY",
    "default_trips",
    "generate",
]

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
_MANIFEST_COLUMNS: Final = (
    "trip_id", "contract_id", "service_date", "status", "origin", "destination",
    "cancel_notice_hours", "loaded_miles", "wait_hours", "passengers", "vehicle_hours",
    "deadhead_miles", "seats",
)  # fmt: skip
#: Section 9.1 inputs. Contract *k* plays the part ``k % 4`` of :data:`CONTRACT_TERMS`.
#: The contract part whose trips record no passengers, and the share of the other completed
#: trips that record none.
_NO_COUNT: Final = 3
_UNCOUNTED: Final = 0.02
#: Shares of completed trips without seats, and with a 45-seat coach whatever the load.
_NO_SEATS: Final = 0.03
_COACH: Final = 0.08
_COACH_SEATS: Final = "45"


def default_trips(lines: int) -> int:
    """Return the number of trips used when none is given: ``max(1, lines * 2 // 7)``.

    A completed trip is billed about four lines (three to four charges and the lines that
    planted errors add), so about 85 % of the trips are billed and none twice.

    >>> default_trips(20_000), default_trips(0)
    (5714, 1)
    """
    return max(1, lines * 2 // 7)


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
