"""Build the lookup structures the later stages use: rate windows, fuel index, trips, roster.

The second stage of the pipeline. Rate rows are compiled into :class:`PricingRule` objects (a
tier set becomes one rule) and indexed by (contract, CLIN, labor category) as sorted,
non-overlapping windows, so that the rule for a service date is found by bisection — never
by scanning. A rule without a labor category is stored under the empty category and applies
to every category of its CLIN (validation guarantees it overlaps no categorized rule).

>>> from datetime import date
>>> from decimal import Decimal as D
>>> from ice_recon.records import RateRule
>>> rules = [RateRule(contract_id="C", clin="0001", basis="loaded_miles", rate=D("2.40"),
...                   start=date(2020, 10, 1), end=date(2021, 9, 30)),
...          RateRule(contract_id="C", clin="0001", basis="loaded_miles", rate=D("2.4575"),
...                   start=date(2021, 10, 1), end=date(2022, 9, 30))]
>>> rates = RateIndex(compile_rules(rules))
>>> rates.find("C", "0001", date(2021, 9, 30)).rate, rates.find("C", "0001", date(2021, 10, 1)).rate
(Decimal('2.40'), Decimal('2.4575'))
>>> rates.find("C", "0001", date(2022, 10, 1)) is None
True
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, Final

import attrs

from ice_recon._csv import needs_care
from ice_recon._rule_checks import tier_set_key
from ice_recon.errors import ArgumentError, ArgumentTypeError
from ice_recon.load import Inputs
from ice_recon.money import IncrementRounding, Rounding
from ice_recon.records import (
    BASIS_LABOR_HOURS,
    FuelIndexPoint,
    FuelRule,
    RateRule,
    TierMode,
    WeekRule,
    _date,
    _decimal,
    _text,
    to_increment_rounding,
    to_optional_rounding,
    to_optional_tier_mode,
    to_week_rule,
    whole,
)
from ice_recon.tables import DecimalColumn, ManifestTable

__all__ = [
    "FuelIndex",
    "FuelTerms",
    "Index",
    "PricingRule",
    "RateIndex",
    "Roster",
    "Tier",
    "TripIndex",
    "build",
    "compile_rules",
]


@attrs.frozen(kw_only=True)
class Tier:
    """One tier of a tier set: from *start* units (inclusive) on, the price is *rate*."""

    # The validators of the records (RateRule's), so that every record checks alike.
    start: Decimal = attrs.field(validator=_decimal())
    rate: Decimal = attrs.field(validator=_decimal())


@attrs.frozen(kw_only=True)
class FuelTerms:
    """The fuel-surcharge terms of a rule from ``fuel_rules.csv``."""

    base_price: Decimal = attrs.field(validator=_decimal())
    mpg: Decimal = attrs.field(validator=_decimal(positive=True))
    series: str = attrs.field(validator=_text)
    week_rule: WeekRule = attrs.field(default=WeekRule.SERVICE_WEEK, converter=to_week_rule)
    places: int = attrs.field(default=2, validator=whole(min_value=0))


@attrs.frozen(kw_only=True, cache_hash=True)
class PricingRule:
    """A compiled rule: one ``rates.csv`` row, one whole tier set, or one fuel rule.

    Exactly one of *rate* (a flat rate), *tiers* (a tier set, with *tier_mode*) and *fuel*
    (a per-unit rate from the weekly fuel index) says how P(q) is computed.
    """

    # The validators of RateRule's fields (records.py): a float rate fails here, naming it.
    rule_id: str = attrs.field(validator=_text)
    contract_id: str = attrs.field(validator=_text)
    clin: str = attrs.field(validator=_text)
    labor_category: str | None = attrs.field(default=None, validator=_text)
    basis: str = attrs.field(validator=_text)
    start: dt.date = attrs.field(validator=_date)
    end: dt.date = attrs.field(validator=_date)
    rate: Decimal | None = attrs.field(default=None, validator=_decimal())
    tiers: tuple[Tier, ...] = attrs.field(default=())
    tier_mode: TierMode | None = attrs.field(default=None, converter=to_optional_tier_mode)
    fuel: FuelTerms | None = attrs.field(default=None)
    minimum_amount: Decimal | None = attrs.field(default=None, validator=_decimal(money=True))
    minimum_quantity: Decimal | None = attrs.field(default=None, validator=_decimal())
    free_quantity: Decimal | None = attrs.field(default=None, validator=_decimal())
    increment: Decimal | None = attrs.field(default=None, validator=_decimal(positive=True))
    increment_rounding: IncrementRounding = attrs.field(
        default=IncrementRounding.DOWN, converter=to_increment_rounding
    )
    rounding: Rounding | None = attrs.field(default=None, converter=to_optional_rounding)
    authority: str | None = attrs.field(default=None, validator=_text)
    description: str | None = attrs.field(default=None, validator=_text)

    @tiers.validator
    def _check_tiers(self, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
        if not isinstance(value, tuple) or not all(isinstance(t, Tier) for t in value):
            raise ArgumentTypeError(f"tiers must be a tuple of Tier records (got {value!r})")

    @fuel.validator
    def _check_fuel(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, FuelTerms):
            raise ArgumentTypeError(f"fuel must be FuelTerms (got {value!r})")

    def __attrs_post_init__(self) -> None:
        kinds = (self.rate is not None) + bool(self.tiers) + (self.fuel is not None)
        if kinds != 1:
            raise ArgumentError(f"rule {self.rule_id!r}: give exactly one of rate, tiers and fuel")
        if self.tiers:
            starts = [t.start for t in self.tiers]
            if starts[0] != 0 or any(a >= b for a, b in itertools.pairwise(starts)):
                raise ArgumentError(
                    f"rule {self.rule_id!r}: tiers must start at 0 and strictly increase "
                    f"(got starts {', '.join(str(x) for x in starts)})"
                )
            if self.tier_mode is None:
                raise ArgumentError(f"rule {self.rule_id!r}: tiers need a tier_mode")
        if self.end < self.start:
            raise ArgumentError(
                f"rule {self.rule_id!r}: end {self.end} is before start {self.start}"
            )

    @property
    def window(self) -> str:
        """Return the effective window as ``START..END``."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def default_rule_id(contract_id: str, clin: str, labor_category: str | None, start: dt.date) -> str:
    """Return the default rule id ``contract_id/clin[/labor_category]/start``.

    >>> default_rule_id("C1", "0004", "TO", dt.date(2021, 10, 1))
    'C1/0004/TO/2021-10-01'
    """
    parts = [contract_id, clin]
    if labor_category:
        parts.append(labor_category)
    parts.append(start.isoformat())
    return "/".join(parts)


def compile_rules(
    rates: Iterable[RateRule], fuel_rules: Iterable[FuelRule] = ()
) -> list[PricingRule]:
    """Compile validated rate rows (grouping tier sets) and fuel rules into pricing rules."""
    out: list[PricingRule] = []
    sets: dict[tuple[Any, ...], list[RateRule]] = defaultdict(list)
    for r in rates:
        if r.tier_from is None:
            out.append(_compile_rate(r, rate=r.rate))
        else:
            sets[tier_set_key(r)].append(r)
    for members in sets.values():
        ordered = sorted(members, key=lambda m: m.tier_from or Decimal(0))
        tiers = tuple(Tier(start=m.tier_from or Decimal(0), rate=m.rate) for m in ordered)
        out.append(_compile_rate(ordered[0], tiers=tiers, tier_mode=ordered[0].tier_mode))
    for f in fuel_rules:
        out.append(
            PricingRule(
                rule_id=f.rule_id or default_rule_id(f.contract_id, f.clin, None, f.start),
                contract_id=f.contract_id,
                clin=f.clin,
                basis=f.basis,
                start=f.start,
                end=f.end,
                fuel=FuelTerms(
                    base_price=f.base_price,
                    mpg=f.mpg,
                    series=f.series,
                    week_rule=f.week_rule,
                    places=f.places,
                ),
                rounding=f.rounding,
                authority=f.authority,
            )
        )
    return out


def _compile_rate(r: RateRule, **how: Any) -> PricingRule:
    return PricingRule(
        rule_id=r.rule_id or default_rule_id(r.contract_id, r.clin, r.labor_category, r.start),
        contract_id=r.contract_id,
        clin=r.clin,
        labor_category=r.labor_category,
        basis=r.basis,
        start=r.start,
        end=r.end,
        minimum_amount=r.minimum_amount,
        minimum_quantity=r.minimum_quantity,
        free_quantity=r.free_quantity,
        increment=r.increment,
        increment_rounding=r.increment_rounding or IncrementRounding.DOWN,
        rounding=r.rounding,
        authority=r.authority,
        description=r.description,
        **how,
    )


class RateIndex:
    """Effective-dated rules by (contract, CLIN, labor category), found by bisection.

    Windows of one key never overlap (validation leaves overlapping rules out), so the rule
    for a date is the last window starting on or before it, if that window has not ended.
    """

    def __init__(self, rules: Iterable[PricingRule]) -> None:
        grouped: dict[tuple[str, str, str], list[PricingRule]] = defaultdict(list)
        bases: dict[tuple[str, str], set[str]] = defaultdict(set)
        if not isinstance(rules, Iterable):
            raise ArgumentTypeError(f"rules must be PricingRule records (got {rules!r})")
        for rule in rules:
            if not isinstance(rule, PricingRule):
                raise ArgumentTypeError(f"rules must be PricingRule records (got {rule!r})")
            grouped[(rule.contract_id, rule.clin, rule.labor_category or "")].append(rule)
            bases[(rule.contract_id, rule.clin)].add(rule.basis)
        self._windows: dict[tuple[str, str, str], tuple[list[int], list[int], list[PricingRule]]]
        self._windows = {}
        for key, group in grouped.items():
            group.sort(key=lambda r: r.start)
            self._windows[key] = (
                [r.start.toordinal() for r in group],
                [r.end.toordinal() for r in group],
                group,
            )
        self._bases = {key: frozenset(v) for key, v in bases.items()}
        self._categories: dict[tuple[str, str], list[str]] = defaultdict(list)
        for contract_id, clin, category in sorted(self._windows):
            self._categories[(contract_id, clin)].append(category)

    def find(
        self, contract_id: str, clin: str, on: dt.date | int, labor_category: str | None = None
    ) -> PricingRule | None:
        """Return the rule of (contract, CLIN, labor category) in force on *on*, or ``None``.

        *on* is a date or a date ordinal. A rule without a category applies to any category;
        with *labor_category* ``None``, only such rules are found.
        """
        day = on if isinstance(on, int) else on.toordinal()
        rule = self._find((contract_id, clin, ""), day)
        if rule is None and labor_category:
            rule = self._find((contract_id, clin, labor_category), day)
        return rule

    def find_any(self, contract_id: str, clin: str, on: dt.date | int) -> PricingRule | None:
        """Return a rule of the CLIN in force on *on* in any labor category, or ``None``.

        This is how "no rate" is judged on the CLIN alone when a line's category cannot be
        known; categories are tried in sorted order, so the answer is deterministic.
        """
        day = on if isinstance(on, int) else on.toordinal()
        for category in self._categories.get((contract_id, clin), ()):
            rule = self._find((contract_id, clin, category), day)
            if rule is not None:
                return rule
        return None

    def _find(self, key: tuple[str, str, str], day: int) -> PricingRule | None:
        entry = self._windows.get(key)
        if entry is None:
            return None
        starts, ends, rules = entry
        i = bisect.bisect_right(starts, day) - 1
        if i >= 0 and ends[i] >= day:
            return rules[i]
        return None

    def bases(self, contract_id: str, clin: str) -> frozenset[str]:
        """Return the bases the CLIN's rules use (empty if the CLIN has no rule)."""
        return self._bases.get((contract_id, clin), frozenset())

    def is_labor(self, contract_id: str, clin: str) -> bool:
        """Return whether the CLIN is priced on ``labor_hours``."""
        return BASIS_LABOR_HOURS in self.bases(contract_id, clin)


class FuelIndex:
    """Weekly fuel prices by (series, Monday of the week)."""

    def __init__(self, points: Iterable[FuelIndexPoint]) -> None:
        self._prices = {(p.series, p.week.toordinal()): p.price for p in points}

    def price(self, series: str, week: dt.date | int) -> Decimal | None:
        """Return the index price of *series* for the week starting on Monday *week*."""
        day = week if isinstance(week, int) else week.toordinal()
        return self._prices.get((series, day))

    @staticmethod
    def week_for(service_date: dt.date | int, rule: WeekRule) -> int:
        """Return the ordinal of the Monday of the index week that prices *service_date*.

        >>> dt.date.fromordinal(FuelIndex.week_for(dt.date(2021, 10, 7), WeekRule.SERVICE_WEEK))
        datetime.date(2021, 10, 4)
        >>> dt.date.fromordinal(FuelIndex.week_for(dt.date(2021, 10, 7), WeekRule.PRIOR_WEEK))
        datetime.date(2021, 9, 27)
        """
        day = service_date if isinstance(service_date, int) else service_date.toordinal()
        monday = day - dt.date.fromordinal(day).weekday()
        return monday - 7 if rule is WeekRule.PRIOR_WEEK else monday


#: Positions in a trip tuple (:class:`TripIndex`): the manifest row, the trip id, the
#: contract, the service date ordinal, 1 if cancelled, origin, destination, the cancel notice
#: hours, then each measure; decimals as ``(units, scale)``, ``None`` when not recorded.
T_ROW, T_ID, T_CONTRACT, T_DAY, T_CANCELLED, T_ORIGIN, T_DEST, T_NOTICE = range(8)
T_MEASURES: Final = 8


class TripIndex:
    """Trips by upper-cased trip id, each as one tuple (the core's trip table).

    A trip is one tuple of the positions ``T_*`` (its row, id, contract, date, status,
    route, notice hours, then one slot per measure, in the order of :attr:`measures`), so
    the kernels read a trip with one lookup and no attribute access. Trip ids are unique
    within a contract; :attr:`by_id` maps an id to the trip of the earliest row with it,
    and the (rare) trips of other contracts with the same id are found by :meth:`resolve`.
    A lookup is ``by_id.get(ref)``, then a check of the contract — a table built at C
    speed, with no key tuple per trip.

    >>> from ice_recon.tables import ManifestTable, DecimalColumn
    >>> t = ManifestTable(trip_id=["T1", "T1"], contract_id=["C", "D"],
    ...                   service_date=[738000, 738001], cancelled=bytearray(2),
    ...                   origin=["KRO", None], destination=[None, None],
    ...                   cancel_notice_hours=DecimalColumn([None, None], bytearray(2)),
    ...                   measures={"loaded_miles": DecimalColumn([1374, None], bytearray([1, 0]))})
    >>> trips = TripIndex(t)
    >>> trips.row("C", "t1"), trips.row("D", "T1"), trips.row("E", "T1")
    (0, 1, None)
    >>> trips.get("C", "T1")[T_MEASURES:], trips.slot("loaded_miles")
    (((1374, 1),), 8)
    """

    def __init__(self, trips: ManifestTable) -> None:
        self.measures: tuple[str, ...] = tuple(trips.measures)
        columns: list[Iterable[Any]] = [
            range(len(trips)),
            trips.trip_id,
            trips.contract_id,
            trips.service_date,
            trips.cancelled,
            trips.origin,
            trips.destination,
            _scaled(trips.cancel_notice_hours),
        ]
        columns += [_scaled(column) for column in trips.measures.values()]
        #: The trip tuples, by manifest row.
        self.tuples: list[tuple[Any, ...]] = list(zip(*columns, strict=True))
        ids = trips.trip_id
        #: No trip id has a character that a CSV cell would quote or neutralise.
        self.plain_ids = not needs_care(ids)
        #: Upper-cased trip id -> the trip of the earliest row with that id.
        self.by_id: dict[str, tuple[Any, ...]] = dict(
            zip(reversed(ids), reversed(self.tuples), strict=True)
        )
        self._others: dict[tuple[str, str], tuple[Any, ...]] = {}
        if len(self.by_id) < len(ids):
            by_id = self.by_id
            for trip in self.tuples:
                if by_id[trip[T_ID]] is not trip:
                    self._others[(trip[T_CONTRACT], trip[T_ID])] = trip

    def slot(self, measure: str) -> int | None:
        """Return the position of *measure* in a trip tuple, or ``None`` if it is no column."""
        try:
            return T_MEASURES + self.measures.index(measure)
        except ValueError:
            return None

    def contracts(self) -> list[str]:
        """Return the contracts that have trips, sorted."""
        return sorted({t[T_CONTRACT] for t in self.by_id.values()} | {c for c, _ in self._others})

    def resolve(self, contract_id: str, trip_id: str) -> tuple[Any, ...] | None:
        """Return the trip of *contract_id* with the upper-cased *trip_id*, or ``None``.

        The slow half of a lookup, for when ``by_id`` holds another contract's trip.
        """
        trip = self.by_id.get(trip_id)
        if trip is None or trip[T_CONTRACT] == contract_id:
            return trip
        return self._others.get((contract_id, trip_id)) if self._others else None

    def get(self, contract_id: str, trip_id: str) -> tuple[Any, ...] | None:
        """Return the trip tuple of the contract's trip *trip_id* (any case), or ``None``."""
        return self.resolve(contract_id, trip_id.upper())

    def row(self, contract_id: str, trip_id: str) -> int | None:
        """Return the manifest row of the trip, or ``None`` if the contract has no such trip."""
        trip = self.get(contract_id, trip_id)
        return None if trip is None else int(trip[T_ROW])


def _scaled(column: DecimalColumn) -> list[tuple[int, int] | None]:
    """Return the values of *column* as ``(units, scale)`` pairs, ``None`` where absent."""
    return column.values


class Roster:
    """The staff roster: hours and labor category per person per trip.

    Hours of repeated rows of one person on one trip are summed; the person's category is
    that of their first row (a person has one category per trip: ``load`` leaves out the
    rows of anyone listed in two). The roster keeps the staff columns it is given and, per
    contract and trip id, only the row numbers of the trip's rows (one ``int`` for a
    single row, else a tuple sorted by person): a million trips cost no copy of the staff.
    """

    def __init__(
        self,
        contract_ids: list[str],
        trip_ids: list[str],
        person_ids: list[str],
        categories: list[str],
        hours: DecimalColumn,
    ) -> None:
        self._person = person_ids
        self._category = categories
        self._hours = hours
        assert None not in hours.values  # required column; unusable rows are not stored
        self._contract = contract_ids
        self._trip = trip_ids
        n = len(trip_ids)
        # Rows by trip id (of any contract: a lookup keeps its contract's rows). The last
        # row of each id at C speed; only ids with several rows need a pass in Python.
        grouped: dict[str, int | tuple[int, ...]] = dict(zip(trip_ids, range(n), strict=True))
        self._mixed: set[str] = set()
        if len(grouped) < n:
            first = dict(zip(reversed(trip_ids), reversed(range(n)), strict=True))
            several = {t for t, r in first.items() if grouped[t] != r}
            lists: dict[str, list[int]] = {t: [] for t in several}
            for t, r in zip(trip_ids, range(n), strict=True):
                if t in several:
                    lists[t].append(r)
            by_person = person_ids.__getitem__
            for t, found in lists.items():
                grouped[t] = tuple(sorted(found, key=by_person))
                if len({contract_ids[r] for r in found}) > 1:
                    self._mixed.add(t)
        self._trips = grouped

    def _rows(self, contract_id: str, trip_id: str) -> tuple[int, ...]:
        rows = self._trips.get(trip_id)
        if rows is None:
            return ()
        contract = self._contract
        if isinstance(rows, int):
            return (rows,) if contract[rows] == contract_id else ()
        if trip_id in self._mixed or contract[rows[0]] != contract_id:
            return tuple(r for r in rows if contract[r] == contract_id)
        return rows

    def entries(self) -> list[tuple[str, str, str]]:
        """Return every (contract, trip, person) on the roster."""
        return list(self.iter_entries())

    def iter_entries(self) -> Iterator[tuple[str, str, str]]:
        """Yield every (contract, trip, person) on the roster, one at a time."""
        contract = self._contract
        for t, rows in self._trips.items():
            if isinstance(rows, int):
                rows = (rows,)
            contracts = sorted({contract[r] for r in rows}) if t in self._mixed else None
            for c in contracts or (contract[rows[0]],):
                for p in self.people(c, t):
                    yield c, t, p

    def trips_of(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
        """Return, for each wanted (contract, person), the ids of the trips listing them.

        Each trip once, in the order of the roster's rows.
        """
        persons = {p for _, p in wanted}
        contract, trip = self._contract, self._trip
        found: dict[tuple[str, str], list[str]] = {}
        rows = itertools.compress(range(len(self._person)), map(persons.__contains__, self._person))
        for r in rows:
            key = (contract[r], self._person[r])
            if key in wanted:
                ids = found.setdefault(key, [])
                if trip[r] not in ids:
                    ids.append(trip[r])
        return found

    def category(self, contract_id: str, trip_id: str, person_id: str) -> str | None:
        """Return the person's labor category on the trip, or ``None`` if not on its roster."""
        for r in self._rows(contract_id, trip_id):
            if self._person[r] == person_id:
                return self._category[r]
        return None

    def person(self, contract_id: str, trip_id: str, person_id: str) -> tuple[str, int, int] | None:
        """Return the person's (category, hours units, hours scale) on the trip, or ``None``.

        One pass over the trip's rows: what :meth:`category` and :meth:`hours` give together.
        """
        found: tuple[str, int, int] | None = None
        for r in self._rows(contract_id, trip_id):
            if self._person[r] == person_id:
                hours = self._hours.values[r]
                assert hours is not None
                units, scale = hours
                if found is None:
                    found = (self._category[r], units, scale)
                else:
                    total = _add((found[1], found[2]), (units, scale))
                    found = (found[0], total[0], total[1])
        return found

    def hours(self, contract_id: str, trip_id: str, person_id: str) -> tuple[int, int] | None:
        """Return the person's hours on the trip as ``(units, scale)``, or ``None``."""
        return self.total_hours(contract_id, trip_id, (person_id,))

    def people(
        self, contract_id: str, trip_id: str, labor_category: str | None = None
    ) -> list[str]:
        """Return the persons on the trip's roster (of *labor_category*, if given), sorted."""
        found: list[str] = []
        last: str | None = None
        for r in self._rows(contract_id, trip_id):
            person = self._person[r]
            if person == last:
                continue  # a repeated row: the person's category is that of the first
            last = person
            if labor_category is None or self._category[r] == labor_category:
                found.append(person)
        return found

    def total_hours(
        self, contract_id: str, trip_id: str, persons: Iterable[str]
    ) -> tuple[int, int] | None:
        """Return the summed hours of *persons* on the trip, or ``None`` if there are none."""
        wanted = set(persons)
        total: tuple[int, int] | None = None
        for r in self._rows(contract_id, trip_id):
            if self._person[r] in wanted:
                h = self._hours.get(r)
                assert h is not None
                total = h if total is None else _add(total, h)
        return total


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    scale = max(a[1], b[1])
    return a[0] * 10 ** (scale - a[1]) + b[0] * 10 ** (scale - b[1]), scale


@attrs.frozen(kw_only=True)
class Index:
    """Everything the matching and pricing stages look things up in."""

    rates: RateIndex
    fuel: FuelIndex
    trips: TripIndex
    roster: Roster
    rules: tuple[PricingRule, ...]

    def __repr__(self) -> str:
        # Counts, never contents: an agency's year has thousands of rules, millions of trips.
        return f"<Index: {len(self.rules)} rules, {len(self.trips.tuples)} trips>"


def build(inputs: Inputs) -> Index:
    """Build the indexes of the pipeline from validated inputs."""
    if not isinstance(inputs, Inputs):
        raise ArgumentTypeError(f"inputs must be an Inputs (got {type(inputs).__name__})")
    rules = compile_rules((s.record for s in inputs.rates), (s.record for s in inputs.fuel_rules))
    staff = inputs.staff
    return Index(
        rates=RateIndex(rules),
        fuel=FuelIndex(s.record for s in inputs.fuel_index),
        trips=TripIndex(inputs.manifests),
        roster=Roster(
            staff.contract_id, staff.trip_id, staff.person_id, staff.labor_category, staff.hours
        ),
        rules=tuple(rules),
    )
