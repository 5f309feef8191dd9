"""What the generator's modules share (internal): cached texts, block CSV writing, invoices.

Date and decimal texts computed once per value, CSV files written in blocks of rows, and the
invoice being billed (filled by the billing, read by the section 9.1 terms). See
:mod:`ice_recon.generate`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from ice_recon.money import format_scaled


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
