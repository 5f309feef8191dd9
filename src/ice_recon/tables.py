"""Columnar tables: the validated inputs as columns, the shape the core computes on.

Strings stay ``str`` (identifiers are compared exactly), dates are ordinals (``int``), and
decimals are :class:`DecimalColumn` — scaled integers with the scale each value was written
with, so that nothing is lost and arithmetic is exact integer arithmetic. Record objects
(:class:`~ice_recon.records.Trip`, :class:`~ice_recon.records.InvoiceLine` …) are built only
when asked for, at the API edge.

Small tables (rate rules, fuel rules and index, invoice headers) are kept as tuples of
records: there are few of them and the index stage compiles them once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, Final, Generic, TypeVar

import attrs

from ice_recon.money import scaled_to_decimal
from ice_recon.records import InvoiceLine, StaffAssignment, Trip, TripStatus

T = TypeVar("T")

__all__ = [
    "DecimalColumn",
    "InvoiceLineTable",
    "LineChunk",
    "ManifestTable",
    "Sourced",
    "StaffTable",
]


class DecimalColumn:
    """A column of optional decimals as scaled integers: ``(units, scale)`` per row.

    The value of a row is ``units / 10**scale``, with the scale it was written with; ``None``
    means the cell was empty (absent) or unreadable. The reader memoizes the pairs of a
    column's repeated cells, so most rows of a repeated rate or quantity share one pair
    object (cells first met within one slice of the file may each have their own).

    >>> col = DecimalColumn()
    >>> col.append(1374, 1); col.append(None, 0)
    >>> col.get(0), col.get(1), col.decimal(0), col.units, list(col.scales)
    ((1374, 1), None, Decimal('137.4'), [1374, None], [1, 0])
    """

    __slots__ = ("values",)

    def __init__(self, units: Sequence[int | None] = (), scales: Sequence[int] = ()) -> None:
        #: The rows as ``(units, scale)`` pairs, ``None`` where absent.
        self.values: list[tuple[int, int] | None] = [
            None if u is None else (u, s) for u, s in zip(units, scales, strict=True)
        ]

    @classmethod
    def of(cls, values: list[tuple[int, int] | None]) -> DecimalColumn:
        """Return the column of these ``(units, scale)`` pairs (the list is not copied)."""
        column = cls.__new__(cls)
        column.values = values
        return column

    @property
    def units(self) -> list[int | None]:
        """The units of every row (``None`` where absent)."""
        return [None if v is None else v[0] for v in self.values]

    @property
    def scales(self) -> bytearray:
        """The scale of every row (0 where absent)."""
        return bytearray(0 if v is None else v[1] for v in self.values)

    def append(self, units: int | None, scale: int) -> None:
        """Append one value (``None`` for absent)."""
        self.values.append(None if units is None else (units, scale))

    def get(self, i: int) -> tuple[int, int] | None:
        """Return ``(units, scale)`` of row *i*, or ``None`` when absent."""
        return self.values[i]

    def decimal(self, i: int) -> Decimal | None:
        """Return row *i* as a ``Decimal`` with its written scale, or ``None``."""
        v = self.values[i]
        return None if v is None else scaled_to_decimal(*v)

    def take(self, keep: list[int]) -> DecimalColumn:
        """Return a new column with the rows at positions *keep*, in that order."""
        return DecimalColumn.of(list(map(self.values.__getitem__, keep)))

    def __len__(self) -> int:
        return len(self.values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DecimalColumn) and self.values == other.values

    def __repr__(self) -> str:
        return f"<DecimalColumn: {len(self)} values>"


@attrs.frozen(kw_only=True)
class Sourced(Generic[T]):
    """A record with the file and physical line it was read from (for problems and evidence)."""

    file: str
    line: int
    record: T


@attrs.define(kw_only=True)
class ManifestTable:
    """The usable trips of ``manifests.csv`` as columns (rows with problems are left out).

    ``trip_id`` is upper-cased; ``service_date`` holds date ordinals; ``measures`` has one
    :class:`DecimalColumn` per measure column of the file (``None`` = not recorded).
    """

    file: str = "manifests.csv"
    line: list[int] = attrs.field(factory=list)
    trip_id: list[str] = attrs.field(factory=list)
    contract_id: list[str] = attrs.field(factory=list)
    service_date: list[int] = attrs.field(factory=list)
    cancelled: bytearray = attrs.field(factory=bytearray)
    origin: list[str | None] = attrs.field(factory=list)
    destination: list[str | None] = attrs.field(factory=list)
    cancel_notice_hours: DecimalColumn = attrs.field(factory=DecimalColumn)
    measures: dict[str, DecimalColumn] = attrs.field(factory=dict)

    def __len__(self) -> int:
        return len(self.trip_id)

    def __repr__(self) -> str:
        return f"<ManifestTable {self.file}: {len(self)} trips, {len(self.measures)} measures>"

    def trip(self, i: int) -> Trip:
        """Materialize row *i* as a :class:`~ice_recon.records.Trip`."""
        return Trip(
            trip_id=self.trip_id[i],
            contract_id=self.contract_id[i],
            service_date=dt.date.fromordinal(self.service_date[i]),
            status=TripStatus.CANCELLED if self.cancelled[i] else TripStatus.COMPLETED,
            origin=self.origin[i],
            destination=self.destination[i],
            cancel_notice_hours=self.cancel_notice_hours.decimal(i),
            measures={name: col.decimal(i) for name, col in self.measures.items()},
        )

    def trips(self) -> Iterator[Trip]:
        """Iterate over every usable trip as a record."""
        return (self.trip(i) for i in range(len(self)))

    def take(self, keep: list[int]) -> ManifestTable:
        """Return a table of the rows at positions *keep*."""
        return ManifestTable(
            file=self.file,
            line=[self.line[i] for i in keep],
            trip_id=[self.trip_id[i] for i in keep],
            contract_id=[self.contract_id[i] for i in keep],
            service_date=[self.service_date[i] for i in keep],
            cancelled=bytearray(self.cancelled[i] for i in keep),
            origin=[self.origin[i] for i in keep],
            destination=[self.destination[i] for i in keep],
            cancel_notice_hours=self.cancel_notice_hours.take(keep),
            measures={k: c.take(keep) for k, c in self.measures.items()},
        )


@attrs.define(kw_only=True)
class StaffTable:
    """The usable rows of ``staff.csv`` as columns (``trip_id`` upper-cased)."""

    file: str = "staff.csv"
    line: list[int] = attrs.field(factory=list)
    trip_id: list[str] = attrs.field(factory=list)
    contract_id: list[str] = attrs.field(factory=list)
    person_id: list[str] = attrs.field(factory=list)
    labor_category: list[str] = attrs.field(factory=list)
    hours: DecimalColumn = attrs.field(factory=DecimalColumn)

    def __len__(self) -> int:
        return len(self.trip_id)

    def __repr__(self) -> str:
        return f"<StaffTable {self.file}: {len(self)} rows>"

    def assignment(self, i: int) -> StaffAssignment:
        """Materialize row *i* as a :class:`~ice_recon.records.StaffAssignment`."""
        hours = self.hours.decimal(i)
        assert hours is not None  # required column; unusable rows are not stored
        return StaffAssignment(
            trip_id=self.trip_id[i],
            contract_id=self.contract_id[i],
            person_id=self.person_id[i],
            labor_category=self.labor_category[i],
            hours=hours,
        )

    def take(self, keep: list[int]) -> StaffTable:
        """Return a table of the rows at positions *keep*."""
        return StaffTable(
            file=self.file,
            line=[self.line[i] for i in keep],
            trip_id=[self.trip_id[i] for i in keep],
            contract_id=[self.contract_id[i] for i in keep],
            person_id=[self.person_id[i] for i in keep],
            labor_category=[self.labor_category[i] for i in keep],
            hours=self.hours.take(keep),
        )


@attrs.define(kw_only=True)
class InvoiceLineTable:
    """Every row of ``invoice_lines.csv`` as columns, INVALID rows included (never dropped).

    ``valid[i]`` is 0 for a row with any problem (``duplicate_key[i]`` is 1 when that
    problem is a (contract_id, invoice_id, line_no) shared with another row); such a row
    keeps its identifying text
    (``contract_id``, ``invoice_id``, ``line_no_text``) so that it is reported as INVALID
    under its own key. ``line_no[i]`` is ``None`` when the cell is not a positive integer.
    Other columns of an INVALID row may be ``None``.
    """

    file: str = "invoice_lines.csv"
    line: list[int] = attrs.field(factory=list)
    valid: bytearray = attrs.field(factory=bytearray)
    duplicate_key: bytearray = attrs.field(factory=bytearray)
    invoice_id: list[str] = attrs.field(factory=list)
    line_no: list[int | None] = attrs.field(factory=list)
    line_no_text: list[str] = attrs.field(factory=list)
    contract_id: list[str] = attrs.field(factory=list)
    clin: list[str | None] = attrs.field(factory=list)
    service_date: list[int | None] = attrs.field(factory=list)
    quantity: DecimalColumn = attrs.field(factory=DecimalColumn)
    unit_price: DecimalColumn = attrs.field(factory=DecimalColumn)
    amount: DecimalColumn = attrs.field(factory=DecimalColumn)
    trip_ref: list[str | None] = attrs.field(factory=list)
    labor_category: list[str | None] = attrs.field(factory=list)
    person_id: list[str | None] = attrs.field(factory=list)
    origin: list[str | None] = attrs.field(factory=list)
    destination: list[str | None] = attrs.field(factory=list)
    description: list[str | None] = attrs.field(factory=list)

    def __len__(self) -> int:
        return len(self.invoice_id)

    def __repr__(self) -> str:
        invalid = len(self) - sum(self.valid)
        return f"<InvoiceLineTable {self.file}: {len(self)} lines, {invalid} INVALID>"

    def rows(self) -> list[tuple[Any, ...]]:
        """Return every row as a plain tuple (the form batches of lines are stored in).

        >>> t = InvoiceLineTable.from_rows("x.csv", [])
        >>> t.rows(), len(InvoiceLineTable.from_rows("x.csv", InvoiceLineTable().rows()))
        ([], 0)
        """
        columns: list[Sequence[Any]] = [getattr(self, name) for name in _LINE_COLUMNS]
        columns += [getattr(self, name).values for name in _LINE_DECIMALS]
        return list(zip(*columns, strict=True))

    @classmethod
    def from_rows(cls, file: str, rows: Iterable[tuple[Any, ...]]) -> InvoiceLineTable:
        """Return the table of *rows* made by :meth:`rows` (of any tables of one file)."""
        table = cls(file=file)
        columns = list(zip(*rows, strict=True))
        if not columns:
            return table
        for k, name in enumerate(_LINE_COLUMNS):
            setattr(table, name, bytearray(columns[k]) if name in _FLAGS else list(columns[k]))
        for k, name in enumerate(_LINE_DECIMALS, len(_LINE_COLUMNS)):
            setattr(table, name, DecimalColumn.of(list(columns[k])))
        return table

    def columns(self) -> list[Any]:
        """Return the table's columns as plain lists and bytes (what :mod:`marshal` writes)."""
        out: list[Any] = [
            bytes(getattr(self, name)) if name in _FLAGS else getattr(self, name)
            for name in _LINE_COLUMNS
        ]
        out += [getattr(self, name).values for name in _LINE_DECIMALS]
        return out

    @classmethod
    def from_columns(cls, file: str, columns: Sequence[Any]) -> InvoiceLineTable:
        """Return the table of *columns* made by :meth:`columns`.

        >>> t = InvoiceLineTable.from_columns("x.csv", InvoiceLineTable().columns())
        >>> len(t), t.columns() == InvoiceLineTable().columns()
        (0, True)
        """
        table = cls(file=file)
        for name, column in zip(_LINE_COLUMNS, columns, strict=False):
            setattr(table, name, bytearray(column) if name in _FLAGS else list(column))
        for name, column in zip(_LINE_DECIMALS, columns[len(_LINE_COLUMNS) :], strict=True):
            setattr(table, name, DecimalColumn.of(list(column)))
        return table

    def take(self, rows: Sequence[int]) -> InvoiceLineTable:
        """Return a table of the rows at positions *rows*, in that order."""
        get = functools.partial(_take, rows)
        return InvoiceLineTable.from_columns(self.file, [get(c) for c in self.columns()])

    @classmethod
    def joined(cls, file: str, tables: Sequence[InvoiceLineTable]) -> InvoiceLineTable:
        """Return one table of the rows of *tables*, in order."""
        columns: list[Any] = [[] for _ in InvoiceLineTable().columns()]
        for table in tables:
            for whole, part in zip(columns, table.columns(), strict=True):
                whole += part
        return cls.from_columns(file, columns)

    def invoice_line(self, i: int) -> InvoiceLine | None:
        """Materialize row *i* as an :class:`~ice_recon.records.InvoiceLine`, or ``None``.

        ``None`` stands for an INVALID row, which has no record.
        """
        if not self.valid[i]:
            return None
        line_no, clin, date = self.line_no[i], self.clin[i], self.service_date[i]
        q, p, a = self.quantity.decimal(i), self.unit_price.decimal(i), self.amount.decimal(i)
        assert line_no is not None and clin is not None and date is not None
        assert q is not None and p is not None and a is not None
        return InvoiceLine(
            invoice_id=self.invoice_id[i],
            line_no=line_no,
            contract_id=self.contract_id[i],
            clin=clin,
            service_date=dt.date.fromordinal(date),
            quantity=q,
            unit_price=p,
            amount=a,
            trip_ref=self.trip_ref[i],
            labor_category=self.labor_category[i],
            person_id=self.person_id[i],
            origin=self.origin[i],
            destination=self.destination[i],
            description=self.description[i],
        )


_FLAGS: Final = frozenset({"valid", "duplicate_key"})
#: InvoiceLineTable's decimal columns, stored in row tuples as units then scale.
_LINE_DECIMALS: Final = ("quantity", "unit_price", "amount")
#: InvoiceLineTable's other columns, in row-tuple order (before the decimals).
_LINE_COLUMNS: Final = tuple(
    a.name for a in attrs.fields(InvoiceLineTable) if a.name not in {"file", *_LINE_DECIMALS}
)


#: Cents per unit of money written with 0, 1 or 2 places.
_TO_CENTS: Final = (100, 10, 1)


class LineChunk:
    """Invoice lines in processing order, as the columns the stages compute on (internal).

    A chunk is up to about a thousand consecutive lines of the processing order, so that
    its columns stay in the processor's cache while every stage passes over them.
    ``start`` is the processing position of its first line; ``rows`` are the lines' rows in
    the table they come from. Decimals are ``(units, scale)`` pairs, the amount is in cents,
    dates are ordinals; every column holds ``None`` where an INVALID row has no value.
    """

    __slots__ = (
        "amount",
        "category",
        "clin",
        "contract",
        "day",
        "dest",
        "invoice",
        "line_no_text",
        "origin",
        "person",
        "price",
        "qty",
        "ref",
        "rows",
        "start",
        "table",
        "valid",
    )

    def __init__(self, table: InvoiceLineTable, rows: Sequence[int], start: int) -> None:
        self.table = table
        self.rows = rows
        self.start = start
        if isinstance(rows, range) and rows.step == 1 and len(rows) == len(table):
            take: Any = list  # the whole table, in order: no gathering
        else:
            take = functools.partial(_take, rows)
        self.valid: bytes = bytes(take(table.valid))
        self.contract: list[str] = take(table.contract_id)
        self.invoice: list[str] = take(table.invoice_id)
        self.line_no_text: list[str] = take(table.line_no_text)
        self.clin: list[str | None] = take(table.clin)
        self.day: list[int | None] = take(table.service_date)
        self.qty: list[tuple[int, int] | None] = take(table.quantity.values)
        self.price: list[tuple[int, int] | None] = take(table.unit_price.values)
        self.amount: list[int | None] = [
            None if v is None else v[0] * _TO_CENTS[v[1]] for v in take(table.amount.values)
        ]
        self.ref: list[str | None] = take(table.trip_ref)
        self.category: list[str | None] = take(table.labor_category)
        self.person: list[str | None] = take(table.person_id)
        self.origin: list[str | None] = take(table.origin)
        self.dest: list[str | None] = take(table.destination)

    def __len__(self) -> int:
        return len(self.rows)


def _take(rows: Sequence[int], column: Sequence[T]) -> list[T]:
    return list(map(column.__getitem__, rows))
