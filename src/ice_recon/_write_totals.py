"""The cells and lines of the output files of a :class:`~ice_recon.report.Totals`.

Money with exactly 2 places, the cells of the section 9 records (``oversight.csv``,
``contracts.csv``, ``capacity.csv``), a table's lines after its header, the ``policy`` and
``amounts`` objects of ``summary.json``, and the writing of a table as ``TABLE.csv`` or in
another format. Split out of :mod:`ice_recon.report`, which re-exports
:func:`csv_cell_line` and ``_check_format``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs

from ice_recon._csv import csv_cell, csv_line, text_cell
from ice_recon.money import Rounding, decimal_to_scaled, format_cents, to_cents
from ice_recon.output import OutputSet
from ice_recon.oversight import CapacityRow, ContractRow, OversightRow
from ice_recon.policy import Policy
from ice_recon.records import Status

__all__ = ["csv_cell_line"]


def _text(value: Decimal | None) -> str:
    if value is None:
        return ""
    units, scale = decimal_to_scaled(value)
    return format_cents(to_cents(units, scale, Rounding.HALF_UP))


def _cell(value: object) -> str:
    """Return the cell of a section 9 record's value (DESIGN section 9.3 formats)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, bool | int):
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ";".join(f.value for f in value)
    raise TypeError(f"no cell format for {value!r}")  # pragma: no cover


def _record_line(row: OversightRow | ContractRow | CapacityRow) -> str:
    """Return the CSV line of an oversight, contract or capacity row.

    Money has 2 places, ``utilization`` 4, and people, seats and passengers are written as
    the exact decimal without trailing zeros (``50``, ``12.5``).
    """
    cells = []
    for name, value in attrs.asdict(row, recurse=False).items():
        if isinstance(value, Decimal):
            if name in _EXACT:
                cells.append(_exact(value))
            elif name == "utilization":
                cells.append(format(value, "f"))
            else:
                cells.append(_text(value))
        else:
            cells.append(_cell(value))
    return csv_line(cells)


_EXACT: Final = frozenset({"people", "seats", "passengers"})


def _exact(value: Decimal) -> str:
    """Return a decimal as plain text without trailing fractional zeros: 50, 12.5."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _lines(header: Sequence[str], rows: Iterable[str]) -> Iterator[str]:
    yield csv_cell_line(header)
    yield from rows


def _policy(policy: Policy) -> dict[str, Any]:
    return {
        "tolerances": {
            basis: f"{t.value}%" if t.percent else f"{t.value}"
            for basis, t in policy.tolerances.items()
        },
        "window_days": policy.window_days,
        "rounding": policy.rounding.value,
        "passengers_measure": policy.passengers_measure,
        "seats_measure": policy.seats_measure,
        "utilization_floor": format(policy.utilization_floor, "f"),
        "as_of": None if policy.as_of is None else policy.as_of.isoformat(),
    }


def _amounts(amounts: Mapping[Status, Decimal]) -> dict[str, str]:
    zero = Decimal("0.00")
    return {s.value: _text(amounts.get(s, zero)) for s in Status if s is not Status.INVALID}


def _check_format(format: str) -> None:
    if format != "csv":
        from ice_recon.interop import check_format

        check_format(format)


def _write_table(
    out: OutputSet, table: str, lines: Callable[[], Iterator[str]], format: str
) -> None:
    """Write the output *table* from its CSV *lines* as ``TABLE.FORMAT``."""
    if format == "csv":
        out.write_lines(f"{table}.csv", lines())
    else:
        from ice_recon.interop import write_table

        write_table(out, table, lines, format)


def csv_cell_line(cells: Sequence[str]) -> str:
    """Return one CSV line of *cells* (quoted where a cell must be; no neutralisation)."""
    return csv_line([csv_cell(c) for c in cells])
