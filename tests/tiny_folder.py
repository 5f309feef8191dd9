"""Tiny input folders written row by row, for the section 9 reference tests.

Every contract of a folder gets three flat rules for 2024 (``RATES``): ``0001`` per trip at
100.00, ``0002`` per loaded mile at 2.00 and ``0003`` per passenger at 1.00. A line billed at
100.00 on its own trip is then MATCHED with E = 100.00.
"""

from __future__ import annotations

import csv
from pathlib import Path

import reference as ref

RATES = [
    {"clin": "0001", "basis": "trip", "rate": "100.00"},
    {"clin": "0002", "basis": "loaded_miles", "rate": "2.00"},
    {"clin": "0003", "basis": "passengers", "rate": "1.00"},
]


class Folder:
    """A tiny input folder, built row by row (contract C1 unless told)."""

    def __init__(self, contracts: tuple[str, ...] = ("C1",)) -> None:
        self.contracts = contracts  # each gets the rules of RATES
        self.trips: list[dict[str, str]] = []
        self.lines: list[dict[str, str]] = []
        self.headers: list[dict[str, str]] = []
        self.files: dict[str, list[dict[str, str]]] = {}

    def trip(
        self, day: str, status: str = "completed", *, contract: str = "C1", **measures: str
    ) -> str:
        """Add a trip of *contract* and return its id."""
        trip_id = f"T{len(self.trips) + 1}"
        row = {"trip_id": trip_id, "contract_id": contract, "service_date": day, "status": status}
        self.trips.append(row | measures)
        return trip_id

    def bill(
        self,
        invoice: str,
        day: str,
        amount: str = "100.00",
        *,
        clin: str = "0001",
        quantity: str = "1",
        trip: str | None = None,
        contract: str = "C1",
        unit_price: str = "",
    ) -> None:
        """Bill a line of *invoice* on *trip* (a new completed trip of *day* by default).

        The unit price is the amount for one unit, else 2.00 (the per-mile rate) unless told.
        """
        line_no = 1 + sum(
            1
            for line in self.lines
            if (line["contract_id"], line["invoice_id"]) == (contract, invoice)
        )
        self.lines.append(
            {
                "invoice_id": invoice,
                "line_no": str(line_no),
                "contract_id": contract,
                "clin": clin,
                "service_date": day,
                "quantity": quantity,
                "unit_price": unit_price or (amount if quantity == "1" else "2.00"),
                "amount": amount,
                "trip_ref": trip if trip is not None else self.trip(day, contract=contract),
            }
        )

    def header(
        self, invoice: str, invoice_date: str, *, contract: str = "C1", **cells: str
    ) -> None:
        """Add an invoices.csv header for *invoice* of *contract*."""
        self.headers.append(
            {"invoice_id": invoice, "contract_id": contract, "invoice_date": invoice_date} | cells
        )

    def write(self, folder: Path) -> Path:
        """Write the CSV files into *folder* and return it."""
        folder.mkdir(parents=True, exist_ok=True)
        rates = [
            {"contract_id": contract, "start": "2024-01-01", "end": "2024-12-31"} | r
            for contract in self.contracts
            for r in RATES
        ]
        tables = {
            "rates.csv": rates,
            "manifests.csv": self.trips,
            "invoice_lines.csv": self.lines,
            "invoices.csv": self.headers,
        } | self.files
        for name, rows in tables.items():
            if rows:  # a file without rows is left out (its header would be unknown)
                _write_csv(folder / name, rows)
        return folder

    def run(self, folder: Path, policy: ref.Policy9 | None = None) -> ref.RefControls:
        """Write the folder, then return the reference's section 9 results on it."""
        tables = ref.read_folder(self.write(folder))
        return ref.reference9(tables, ref.reference(tables), policy=policy)


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """Write *rows* with the union of their keys as header (absent cells empty)."""
    header: list[str] = []
    for row in rows:
        header.extend(name for name in row if name not in header)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
