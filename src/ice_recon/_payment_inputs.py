"""Read the optional inputs of DESIGN section 9.1: contracts, COR appointments, interest rates.

Each reader checks its rows as section 4 says (cells, end before start, duplicate
contracts, overlapping windows reported at the later row, every row involved left out).
``cors.csv`` and ``interest_rates.csv`` read as ``None`` when they are absent or their
header is unusable — not known — and as ``()`` when given without rows.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Protocol

import attrs

from ice_recon._read import TableReader
from ice_recon._rows import Row, date, dec, drop_duplicates, values_of
from ice_recon._specs import CONTRACTS, CORS, INTEREST_RATES, Source
from ice_recon.money import scaled_to_decimal
from ice_recon.records import Appointment, ContractTerms, InterestRate
from ice_recon.tables import Sourced

__all__ = ["Loading", "read_contracts", "read_cors", "read_interest_rates"]


class Loading(Protocol):
    """What the readers need of the loader: rows of a table, and where problems go."""

    def rows(self, name: str, source: Source | None) -> tuple[TableReader, Iterator[Row]]: ...

    def finish(self, reader: TableReader) -> None: ...

    def problem(
        self,
        file: str,
        line: int,
        message: str,
        column: str | None = None,
        value: str | None = None,
    ) -> None: ...


def read_contracts(loader: Loading, source: Source | None) -> tuple[Sourced[ContractTerms], ...]:
    """Read ``contracts.csv``: one :class:`ContractTerms` per contract, duplicates left out."""
    reader, rows = loader.rows(CONTRACTS, source)
    out: list[Sourced[ContractTerms]] = []
    for row in rows:
        if not row.ok:
            continue
        v = values_of(row, reader.spec)
        if v["start"] is not None and v["end"] is not None and v["end"] < v["start"]:
            reader.problem(
                row.line, f"must not be before start {row.cells[4]}", "end", row.cells[5]
            )
            continue
        terms = ContractTerms(
            contract_id=v["contract_id"],
            ceiling=dec(v["ceiling"]),
            funded=dec(v["funded"]),
            estimate=dec(v["estimate"]),
            start=date(v["start"]),
            end=date(v["end"]),
            risk=v["risk"],
            payment_days=30 if v["payment_days"] is None else v["payment_days"],
            notice_percent=(
                scaled_to_decimal(85, 0)
                if v["notice_percent"] is None
                else scaled_to_decimal(*v["notice_percent"])
            ),
        )
        out.append(Sourced(file=reader.file, line=row.line, record=terms))
    loader.finish(reader)

    # A contract with two rows has no terms to trust: both rows are left out.
    def report(item: Sourced[ContractTerms], other: Sourced[ContractTerms]) -> None:
        key = item.record.contract_id
        loader.problem(
            item.file,
            item.line,
            f"duplicate contract {key!r}: also at line {other.line} (both are left out)",
            "contract_id",
            key,
        )

    return drop_duplicates(out, lambda t: t.contract_id, report)


def read_cors(loader: Loading, source: Source | None) -> tuple[Sourced[Appointment], ...] | None:
    """Read ``cors.csv``; None when absent or unusable (see the module)."""
    reader, rows = loader.rows(CORS, source)
    out: list[Sourced[Appointment]] = []
    for row in rows:
        if not row.ok:
            continue
        v = values_of(row, reader.spec)
        if v["expires"] is not None and v["expires"] < v["appointed"]:
            reader.problem(
                row.line,
                f"must not be before appointed {row.cells[2]}",
                "expires",
                row.cells[4],
            )
            continue
        appointment = Appointment(
            contract_id=v["contract_id"],
            person_id=v["person_id"],
            appointed=dt.date.fromordinal(v["appointed"]),
            level=v["level"],
            expires=date(v["expires"]),
        )
        out.append(Sourced(file=reader.file, line=row.line, record=appointment))
    loader.finish(reader)
    if not _known(source, reader):
        return None
    groups: dict[tuple[str, str], list[_Window]] = defaultdict(list)
    for item in out:
        a = item.record
        groups[(a.contract_id, a.person_id)].append(
            _Window(item, a.appointed.toordinal(), _ordinal(a.expires))
        )
    bad: set[int] = set()
    for (contract, person), windows in groups.items():
        subject = f" of person {person!r} on contract {contract!r}"
        bad |= _overlapping(loader, windows, "appointed", subject)
    return tuple(x for x in out if id(x) not in bad)


def read_interest_rates(
    loader: Loading, source: Source | None
) -> tuple[Sourced[InterestRate], ...] | None:
    """Read ``interest_rates.csv``; None when absent or unusable (see the module)."""
    reader, rows = loader.rows(INTEREST_RATES, source)
    out: list[Sourced[InterestRate]] = []
    for row in rows:
        if not row.ok:
            continue
        start, end, rate = row.values
        if end < start:
            reader.problem(
                row.line, f"must not be before start {row.cells[0]}", "end", row.cells[1]
            )
            continue
        record = InterestRate(
            start=dt.date.fromordinal(start),
            end=dt.date.fromordinal(end),
            rate=scaled_to_decimal(*rate),
        )
        out.append(Sourced(file=reader.file, line=row.line, record=record))
    loader.finish(reader)
    if not _known(source, reader):
        return None
    windows = [
        _Window(item, item.record.start.toordinal(), item.record.end.toordinal()) for item in out
    ]
    bad = _overlapping(loader, windows, "start", "")
    return tuple(x for x in out if id(x) not in bad)


def _known(source: Source | None, reader: TableReader) -> bool:
    """Whether a table that may be absent is known: given, and with a usable header if a file.

    An absent file, or one whose header is unusable (reported), is not known, which is not
    the same as known and empty.
    """
    return source is not None and (not isinstance(source, str | os.PathLike) or reader.header_ok)


def _overlapping(loader: Loading, windows: list[_Window], column: str, subject: str) -> set[int]:
    """Report every overlap of *windows* at its later row; return the ids of the rows involved."""
    bad: set[int] = set()
    for earlier, later in _window_overlaps(windows):
        _report_overlap(loader, earlier, later, column, subject)
        bad.update((id(earlier.item), id(later.item)))
    return bad


def _report_overlap(loader: Loading, a: _Window, b: _Window, column: str, subject: str) -> None:
    # Reported at the later row, naming the earlier one (DESIGN section 4).
    if b.item.line < a.item.line:
        a, b = b, a
    loader.problem(
        b.item.file,
        b.item.line,
        f"window {b.text()} overlaps the window at line {a.item.line} ({a.text()})"
        f"{subject}; both are left out",
        column,
        dt.date.fromordinal(b.start).isoformat(),
    )


def _ordinal(day: dt.date | None) -> int | None:
    return None if day is None else day.toordinal()


@attrs.frozen
class _Window:
    """A row's window for the overlap checks of §9.1; *end* None is open-ended."""

    item: Sourced[Any]
    start: int
    end: int | None

    def text(self) -> str:
        end = "" if self.end is None else dt.date.fromordinal(self.end).isoformat()
        return f"{dt.date.fromordinal(self.start).isoformat()}..{end or 'open'}"


def _window_overlaps(windows: list[_Window]) -> Iterator[tuple[_Window, _Window]]:
    """Yield each pair of *windows* that share a day (both ends inclusive).

    Sorted by start, each window is compared only with the earlier ones still open on its
    start date.
    """
    ordered = sorted(windows, key=lambda w: (w.start, w.item.line))
    active: list[_Window] = []
    for window in ordered:
        active = [a for a in active if a.end is None or a.end >= window.start]
        for other in active:
            yield other, window
        active.append(window)
