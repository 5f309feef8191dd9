"""Generate realistic input folders (DESIGN section 4) with planted errors, deterministically.

Used by ``ice-recon generate`` and the benchmarks. A data set has, per contract, the CLIN
kinds of the sample (per-mile with a minimum, wait time with a free hour and quarter-hour
increments, a flat per-trip charge, a labor-category pair, cancellation-fee tiers, graduated
passenger tiers, a fuel surcharge on a weekly index) over two rate windows, a staff roster,
and invoice lines of which about 60 % are clean; the rest carry one planted error each, of
every kind the reconciliation classifies. The same arguments always give the same bytes.

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
import csv
import datetime as dt
import io
import itertools
import os
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from ice_recon.money import Rounding, format_cents, format_scaled, round_div

__all__ = ["DUPLICATE_HEADERS", "ERROR_KINDS", "generate"]

#: Planted error kinds and their share of the lines (the rest, about 60 %, are clean).
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
)
#: Share of invoices that get a second header (DUPLICATE_INVOICE).
DUPLICATE_HEADERS: Final = 0.005
#: The malformed cells planted in INVALID lines: (column index, text).
_MALFORMED: Final = ((7, "1e3"), (4, "2022-02-30"), (3, ""), (5, "1,5"))

_START = dt.date(2021, 7, 1)
_DAYS = 365
_W1 = (dt.date(2021, 4, 1), dt.date(2021, 9, 30))
_W2 = (dt.date(2021, 10, 1), dt.date(2022, 9, 30))
_SITES = ("KRO", "ELP", "HRL", "AZC", "LRD", "SND", "OTM", "BTV", "PHX", "SAT")
_SERIES = "EIA-DIESEL-US"
_RATE_COLUMNS: Final = (
    "contract_id", "clin", "basis", "rate", "start", "end", "labor_category",
    "minimum_amount", "minimum_quantity", "free_quantity", "increment", "increment_rounding",
    "tier_from", "tier_mode", "rounding", "authority",
)  # fmt: skip


class _IsoDates(dict[int, str]):
    """Date ordinal -> ISO text, computed once per date."""

    def __call__(self, day: int) -> str:
        text = self.get(day)
        if text is None:
            text = self[day] = dt.date.fromordinal(day).isoformat()
        return text


def _cents(units: int, scale: int) -> int:
    return (
        round_div(units, 10 ** (scale - 2), Rounding.HALF_UP)
        if scale > 2
        else units * 10 ** (2 - scale)
    )


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def generate(
    out_dir: str | os.PathLike[str],
    *,
    lines: int,
    trips: int,
    contracts: int = 1,
    seed: int = 0,
) -> dict[str, int]:
    """Write a generated input folder to *out_dir*; return counts of what was written.

    Args:
        lines: the number of invoice lines.
        trips: the number of manifest trips (spread over the contracts).
        contracts: the number of contracts.
        seed: the random seed; the same arguments always write the same bytes.
    """
    if lines < 0 or trips < 1 or contracts < 1:
        raise ValueError("need lines >= 0, trips >= 1 and contracts >= 1")
    rng = random.Random(seed)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    cids = [f"HSCEMD-{19 + k % 5}-C-{10000 + k:05d}" for k in range(contracts)]

    # Rates: per contract, two windows; miles rate 2.3950 then 2.4575 (varied per contract).
    rate_rows: list[list[str]] = []
    miles_rate: dict[tuple[str, int], int] = {}  # (contract, window) -> units at scale 4
    for k, cid in enumerate(cids):
        for w, (start, end) in enumerate((_W1, _W2)):
            p = f"P{3 + w:05d}"
            mr = 23950 + 625 * w + 10 * (k % 7)
            miles_rate[(cid, w)] = mr
            rows = [
                {"clin": "0001", "basis": "loaded_miles", "rate": format_scaled(mr, 4),
                 "minimum_amount": "150.00"},
                {"clin": "0002", "basis": "wait_hours", "rate": f"{52 + 3 * w}.50",
                 "free_quantity": "1.00", "increment": "0.25", "increment_rounding": "down"},
                {"clin": "0003", "basis": "trip", "rate": f"{175 + 12 * w}.50"},
                {"clin": "0004", "basis": "labor_hours", "rate": f"{46 + 2 * w}.75",
                 "labor_category": "TO"},
                {"clin": "0004", "basis": "labor_hours", "rate": f"{60 + 2 * w}.40",
                 "labor_category": "STO"},
            ]  # fmt: skip
            rows += [
                {"clin": "0005", "basis": "cancellation", "rate": fee, "tier_from": tier,
                 "tier_mode": "all_units"}
                for tier, fee in (("0", "500.00"), ("24", "250.00"), ("48", "0.00"))
            ]  # fmt: skip
            rows += [
                {"clin": "0006", "basis": "passengers", "rate": fee, "tier_from": tier,
                 "tier_mode": "graduated"}
                for tier, fee in (("0", "12.00"), ("10", "9.00"), ("25", "7.50"))
            ]  # fmt: skip
            for row in rows:
                row.update(contract_id=cid, start=start.isoformat(), end=end.isoformat(),
                           authority=f"{p} B.{int(row['clin'])}")  # fmt: skip
                rate_rows.append([row.get(col, "") for col in _RATE_COLUMNS])
    _write(folder / "rates.csv", _RATE_COLUMNS, rate_rows)
    _write(
        folder / "fuel_rules.csv",
        ("contract_id", "clin", "start", "end", "base_price", "mpg", "series", "authority"),
        [
            [
                cid,
                "0007",
                _W1[0].isoformat(),
                _W2[1].isoformat(),
                "2.500",
                "6.0",
                _SERIES,
                "P00002 H.12",
            ]
            for cid in cids
        ],
    )
    # Fuel index: every Monday over the service period (and the week before it).
    monday = _START - dt.timedelta(days=_START.weekday() + 7)
    fuel: dict[int, int] = {}  # Monday ordinal -> price units at scale 3
    price = 3400
    while monday <= _START + dt.timedelta(days=_DAYS + 7):
        price = max(2600, min(5900, price + rng.randrange(-90, 110)))
        fuel[monday.toordinal()] = price
        monday += dt.timedelta(days=7)
    _write(
        folder / "fuel_index.csv",
        ("series", "week", "price"),
        [
            [_SERIES, dt.date.fromordinal(d).isoformat(), format_scaled(p, 3)]
            for d, p in sorted(fuel.items())
        ],
    )

    # Trips, their measures and roster.
    trip_rows: list[list[str]] = []
    staff_rows: list[list[str]] = []
    trip_info: list[tuple[str, str, int, bool, int, int | None, int, str, str]] = []
    uniform = rng.random
    first_day = _START.toordinal()

    def below(n: int) -> int:
        # Uniform enough for test data, and several times cheaper than randrange.
        return int(uniform() * n)

    iso = _IsoDates()
    for t in range(trips):
        cid = cids[t % contracts]
        tid = f"T{t + 1:09d}"
        day = first_day + below(_DAYS)
        cancelled = uniform() < 0.04
        miles = 200 + below(3800)  # scale 1
        wait = below(400) if uniform() < 0.5 else None  # scale 2
        pax = 1 + below(44)
        o = _SITES[below(len(_SITES))]
        d = _SITES[(_SITES.index(o) + 1 + below(len(_SITES) - 1)) % len(_SITES)]
        notice = str(rng.choice((6, 12, 30, 60))) if cancelled else ""
        trip_rows.append(
            [
                tid,
                cid,
                iso(day),
                "cancelled" if cancelled else "completed",
                o,
                d,
                notice,
                "" if cancelled else format_scaled(miles, 1),
                "" if wait is None or cancelled else format_scaled(wait, 2),
                "" if cancelled else str(pax),
            ]
        )
        trip_info.append((cid, tid, day, cancelled, miles, wait, pax, o, d))
        if not cancelled:
            hours = 150 + below(750)
            staff_rows.append([tid, cid, f"P{t % 9973:05d}", "TO", format_scaled(hours, 2)])
            if uniform() < 0.3:
                staff_rows.append([tid, cid, f"S{t % 997:04d}", "STO", format_scaled(hours, 2)])
    _write(
        folder / "manifests.csv",
        (
            "trip_id",
            "contract_id",
            "service_date",
            "status",
            "origin",
            "destination",
            "cancel_notice_hours",
            "loaded_miles",
            "wait_hours",
            "passengers",
        ),
        trip_rows,
    )
    _write(
        folder / "staff.csv",
        ("trip_id", "contract_id", "person_id", "labor_category", "hours"),
        staff_rows,
    )
    roster = {(r[1], r[0], r[3]): (r[2], int(r[4].replace(".", ""))) for r in staff_rows}

    # Invoice lines: the charges of the trips, in order, with planted errors.
    kinds = [k for k, _ in ERROR_KINDS] + ["clean"]
    weights = [w for _, w in ERROR_KINDS]
    weights.append(1.0 - sum(weights))
    cumulative = list(itertools.accumulate(weights))
    total_weight = cumulative[-1]
    cumulative[-1] = total_weight * 2  # the last bucket takes everything up to the total
    line_rows: list[list[str]] = []
    malformed: set[int] = set()
    per_invoice: dict[tuple[str, str], list[int]] = {}
    invoice_of_contract: dict[str, tuple[str, int]] = {}
    counter = dict.fromkeys(cids, 0)
    of_contract: dict[str, list[int]] = {}
    t = 0
    while len(line_rows) < lines:
        cid, tid, day, cancelled, miles, wait, pax, o, d = trip_info[t % trips]
        t += 1
        w = 0 if day <= _W1[1].toordinal() else 1
        charges: list[tuple[str, int, int, int, int]] = []  # clin, q units, q scale, p, p scale
        if cancelled:
            charges.append(("0005", 1, 0, 0, 2))
        else:
            charges.append(("0001", miles, 1, miles_rate[(cid, w)], 4))
            week = day - dt.date.fromordinal(day).weekday()
            fsc = max(0, round_div((fuel[week] - 2500) * 10 * 100, 60 * 1000, Rounding.HALF_UP))
            charges.append(("0007", miles, 1, fsc, 2))
            if (cid, tid, "TO") in roster:
                charges.append(("0004", roster[(cid, tid, "TO")][1], 2, (46 + 2 * w) * 100 + 75, 2))
            if uniform() < 0.15:
                # Graduated passenger tiers 0 -> 12.00, 10 -> 9.00, 25 -> 7.50.
                cents = sum(
                    max(0, min(pax, hi) - lo) * fee
                    for lo, hi, fee in ((0, 10, 1200), (10, 25, 900), (25, 10**6, 750))
                )
                charges.append(("0006", pax, 0, -cents, 2))  # negative price: total given
            if wait is not None and uniform() < 0.5:
                billable = max(0, wait - 100) // 25 * 25
                charges.append(("0002", billable, 2, (52 + 3 * w) * 100 + 50, 2))
        for clin, qu, qs, pu, ps in charges:
            if len(line_rows) >= lines:
                break
            seq, count = invoice_of_contract.get(cid, ("", 0))
            if not seq or count >= 50:
                counter[cid] += 1
                seq, count = f"INV-{cid[-5:]}-{counter[cid]:06d}", 0
            invoice_of_contract[cid] = (seq, count + 1)
            person = ""
            category = ""
            if clin == "0004":
                person, category = roster[(cid, tid, "TO")][0], "TO"
            if clin == "0005":
                hours = int(trip_rows[(t - 1) % trips][6])
                pu = 50000 if hours < 24 else 25000 if hours < 48 else 0
            if pu < 0:  # a tiered charge: the total is given, the unit price is its average
                amount = -pu
                pu, ps = round_div(amount * 100, qu, Rounding.HALF_UP), 4
            else:
                amount = _cents(qu * pu, qs + ps)
            if clin == "0001":
                amount = max(amount, 15000)
            ref, date_text = tid, iso(day)
            origin = dest = ""
            qty_text, price_text = format_scaled(qu, qs), format_scaled(pu, ps)
            amount_text = format_cents(amount)
            kind = kinds[bisect.bisect(cumulative, uniform() * total_weight)]
            bad_column, bad_text = -1, ""
            if kind == "quantity" and clin in ("0001", "0007"):
                qu2 = qu + rng.randrange(5, 150)
                qty_text = format_scaled(qu2, qs)
                amount_text = format_cents(
                    max(_cents(qu2 * pu, qs + ps), 15000 if clin == "0001" else 0)
                )
            elif kind == "rate" and clin in ("0001", "0004"):
                pu2 = pu + (5 if ps == 2 else 250)
                price_text = format_scaled(pu2, ps)
                amount_text = format_cents(_cents(qu * pu2, qs + ps))
            elif kind == "extension":
                amount_text = format_cents(amount + rng.choice((900, 1000, 2700)))
            elif kind == "rounding" and qs + ps > 2:
                down = round_div(qu * pu, 10 ** (qs + ps - 2), Rounding.DOWN)
                up = round_div(qu * pu, 10 ** (qs + ps - 2), Rounding.UP)
                other = down if amount == up else up
                if abs(other - amount) == 1 and (clin != "0001" or other > 15000):
                    amount_text = format_cents(other)
            elif kind == "duplicate" and of_contract.get(cid):
                earlier = of_contract[cid]
                source = earlier[rng.randrange(len(earlier))]
                if source in malformed:
                    malformed.add(len(line_rows))
                line_rows.append(list(line_rows[source]))
                line_rows[-1][0], line_rows[-1][1] = seq, str(count + 1)
                per_invoice.setdefault((cid, seq), []).append(len(line_rows) - 1)
                continue
            elif kind == "unknown_ref":
                ref = f"X{rng.randrange(10**8):08d}"
            elif kind == "inferable":
                ref, origin, dest = "", o, d
            elif kind == "missing_measure" and clin == "0001":
                clin, qty_text, price_text = "0002", "1.25", "55.00"
                amount_text = "68.75"
            elif kind == "not_performed":
                if cancelled:
                    clin, qty_text, price_text, amount_text = "0003", "1", "187.50", "187.50"
                else:
                    clin, qty_text, price_text, amount_text = "0005", "1", "500.00", "500.00"
            elif kind == "amount" and clin == "0006":
                flat = qu * 1200
                price_text, amount_text = "12.00", format_cents(flat)
            elif kind == "labor_category" and clin == "0004":
                category = "STO"
                price_text = f"{60 + 2 * w}.40"
                amount_text = format_cents(_cents(qu * ((60 + 2 * w) * 100 + 40), qs + 2))
            elif kind == "no_rate":
                clin, qty_text, price_text, amount_text = "0008", "1", "18.50", "18.50"
            elif kind == "minimum" and clin == "0001" and amount == 15000:
                amount_text = format_cents(_cents(qu * pu, qs + ps))
            elif kind == "invalid":
                bad_column, bad_text = _MALFORMED[below(len(_MALFORMED))]
            elif kind == "service_date" and ref:
                date_text = iso(day + 1)  # the trip's date governs: SERVICE_DATE_MISMATCH
            line_row = [
                seq,
                str(count + 1),
                cid,
                clin,
                date_text,
                qty_text,
                price_text,
                amount_text,
                ref,
                category,
                person,
                origin,
                dest,
            ]
            if bad_column >= 0:
                line_row[bad_column] = bad_text
                malformed.add(len(line_rows))  # INVALID: in no invoice total
            line_rows.append(line_row)
            of_contract.setdefault(cid, []).append(len(line_rows) - 1)
            per_invoice.setdefault((cid, seq), []).append(len(line_rows) - 1)
    _write(
        folder / "invoice_lines.csv",
        (
            "invoice_id",
            "line_no",
            "contract_id",
            "clin",
            "service_date",
            "quantity",
            "unit_price",
            "amount",
            "trip_ref",
            "labor_category",
            "person_id",
            "origin",
            "destination",
        ),
        line_rows,
    )
    header_rows = []
    for (cid, seq), members in sorted(per_invoice.items()):
        total = 0
        for i in members:
            text = line_rows[i][7]
            if i not in malformed and "." in text and text.replace(".", "").isdigit():
                whole, frac = text.split(".")
                total += int(whole) * 100 + int(frac.ljust(2, "0"))
        if uniform() < dict(ERROR_KINDS)["footing"]:
            total += rng.choice((900, -1800, 1))
        last = max(int(line_rows[i][4].replace("-", "")) for i in members)
        when = dt.date(last // 10000, last // 100 % 100, last % 100) + dt.timedelta(days=14)
        header_rows.append([seq, cid, when.isoformat(), format_cents(total), "received"])
        if uniform() < DUPLICATE_HEADERS:
            # Billed twice: a second header, later, for the same invoice.
            again = (when + dt.timedelta(days=30)).isoformat()
            header_rows.append([seq, cid, again, format_cents(total), "received"])
    _write(
        folder / "invoices.csv",
        ("invoice_id", "contract_id", "invoice_date", "total", "status"),
        header_rows,
    )
    return {
        "lines": len(line_rows),
        "trips": trips,
        "contracts": contracts,
        "rate_rows": len(rate_rows),
        "staff_rows": len(staff_rows),
        "invoices": len(header_rows),
    }
