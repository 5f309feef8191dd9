"""The billing of a generated folder's trips (internal): invoice lines and invoice headers.

What the vendor bills for each trip, the invoice_lines.csv rows with their planted errors
(:data:`ERROR_KINDS`), and the invoices.csv rows. :data:`ERROR_KINDS` and
:data:`DUPLICATE_HEADERS` are public as ``ice_recon.generate``'s; see that module.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ice_recon._generate_common import _Invoice, _IsoDates, _Texts, _Writer
from ice_recon._generate_rates import _DEADHEAD_TIERS, _PASSENGER_TIERS, _fuel_variant, _rates
from ice_recon._generate_terms import _Terms
from ice_recon.money import Rounding, format_cents, format_scaled, round_div

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
#: The malformed cells planted in INVALID lines: (column index, text).
_MALFORMED: Final = ((7, "1e3"), (4, "2022-02-30"), (3, ""), (5, "1,5"))
#: Lines per invoice.
_PER_INVOICE: Final = 50
#: Lines of a contract that a planted duplicate may copy (the most recent ones).
_RECENT: Final = 200
_LINE_COLUMNS: Final = (
    "invoice_id", "line_no", "contract_id", "clin", "service_date", "quantity", "unit_price",
    "amount", "trip_ref", "labor_category", "person_id", "origin", "destination",
)  # fmt: skip
_INVOICE_COLUMNS: Final = (
    "invoice_id", "contract_id", "invoice_date", "total", "status", "approved_by",
    "approved_date", "paid_date", "paid_amount",
)  # fmt: skip
#: Kinds that add a line of their own beside the charge.
_EXTRA: Final = frozenset({"duplicate", "unknown_ref", "missing_measure", "not_performed",
                           "no_rate", "ambiguous", "duplicate_no_ref"})  # fmt: skip
#: Kinds whose status comes before MISSING_MEASURE (DESIGN section 5, rows 1-5).
_BEFORE_MISSING: Final = frozenset({"invalid", "rebilled", "no_rate_gap", "missing_week"})
#: Kinds of lines that a planted duplicate may copy: matched exactly, priced by a rule.
_COPYABLE: Final = frozenset({"clean", "quantity", "rate", "extension", "rounding", "minimum",
                              "amount", "labor_category", "service_date"})  # fmt: skip
#: A trip as billing needs it: contract index, trip id, day, option period, lapse (no
#: period covers the day), notice hours (None: completed), miles, wait, passengers, vehicle
#: hours, deadhead miles, origin, destination, TO person and hours, STO person (None: no
#: STO on the trip) and hours.
_Trip = tuple[
    int, str, int, int, bool, int | None, int, int | None, int, int | None, int | None, str,
    str, str, int, str | None, int,
]  # fmt: skip
_HALF_UP: Final = Rounding.HALF_UP
_HALF_EVEN: Final = Rounding.HALF_EVEN
_DOWN: Final = Rounding.DOWN


def _cents(units: int, scale: int, mode: Rounding) -> int:
    """Round *units* at *scale* to cents with *mode*."""
    return round_div(units, 10 ** (scale - 2), mode) if scale > 2 else units * 10 ** (2 - scale)


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
