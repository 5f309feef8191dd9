"""pandas peer of the benchmark: the common core of a reconciliation, vectorized, integer cents.

Run: ``python benchmarks/peers/pandas_peer.py INPUT_DIR OUT_CSV`` (needs ``pip install pandas``).

The same common core as ``duckdb_peer.py`` (see its docstring for the exact rules), written
as a careful pandas user would: every column read as text, decimals parsed by splitting the
string at the point into ``int64`` units at a fixed scale (money in cents, quantities,
measures and rates in 1/10,000) — no float anywhere on the money path —, an exact merge on
(contract_id, trip key), ``merge_asof`` for the effective-dated rate, ``duplicated`` for the
duplicate charges, and ``np.select`` for the status. Products are exact while
quantity x rate < 9.2e10 (int64 at scale 8).
"""

from __future__ import annotations

import sys
from pathlib import Path

SCALE = 4  # quantities, measures and rates in units of 1/10,000
MEASURES = ("loaded_miles", "wait_hours", "passengers")


def run(input_dir: Path, out_csv: Path) -> None:
    """Reconcile the common core of *input_dir* into *out_csv* with pandas."""
    import numpy as np
    import pandas as pd

    def read(name: str, columns: list[str]) -> pd.DataFrame:
        return pd.read_csv(input_dir / name, dtype=str, keep_default_na=False, usecols=columns)

    def scaled(text: pd.Series, places: int) -> tuple[np.ndarray, np.ndarray]:
        """Parse plain decimals into int64 units of 10**-places; return (units, ok)."""
        ok = text.str.fullmatch(rf"[0-9]{{1,12}}(?:\.[0-9]{{1,{places}}})?").to_numpy(bool)
        parts = text.where(ok, "0").str.partition(".")
        whole = parts[0].astype("int64").to_numpy()
        frac = parts[2].str.ljust(places, "0").astype("int64").to_numpy()
        return whole * 10**places + frac, ok

    def money(cents: np.ndarray, present: np.ndarray) -> np.ndarray:
        magnitude = np.abs(cents)
        text = (
            pd.Series(magnitude // 100).astype(str)
            + "."
            + pd.Series(magnitude % 100).astype(str).str.zfill(2)
        ).to_numpy(object)
        text = np.where(cents < 0, "-" + text, text)
        return np.where(present, text, "")

    # Invoice lines, in processing order (contract_id, invoice_id, line_no).
    lines = read(
        "invoice_lines.csv",
        ["contract_id", "invoice_id", "line_no", "clin", "quantity", "unit_price", "amount",
         "trip_ref"],
    )  # fmt: skip
    line_ok = lines["line_no"].str.fullmatch(r"[0-9]{1,9}").to_numpy(bool)
    lines["line_num"] = np.where(
        line_ok, lines["line_no"].where(line_ok, "0").astype("int64"), np.iinfo(np.int64).max
    )
    lines = lines.sort_values(["contract_id", "invoice_id", "line_num"], kind="stable")
    lines = lines.reset_index(drop=True)
    billed, ok_amount = scaled(lines["amount"], 2)
    qty, ok_qty = scaled(lines["quantity"], SCALE)
    price, ok_price = scaled(lines["unit_price"], SCALE)
    ok = ok_amount & ok_qty & ok_price & line_ok
    lines["ref"] = lines["trip_ref"].str.strip().str.upper()
    lines["row"] = np.arange(len(lines))

    # Trips: key, date, measures (-1 = not recorded).
    trips = read("manifests.csv", ["trip_id", "contract_id", "service_date", *MEASURES])
    trips["ref"] = trips["trip_id"].str.strip().str.upper()
    trips["date"] = pd.to_datetime(trips["service_date"], format="%Y-%m-%d")
    for name in MEASURES:
        units, present = scaled(trips[name], SCALE)
        trips[name] = np.where(present, units, -1)
    trips = trips.drop(columns=["trip_id", "service_date"])

    # Rules: one per (contract, clin, window): no labor category first, then the first tier.
    rules = read(
        "rates.csv",
        ["contract_id", "clin", "basis", "rate", "start", "end", "labor_category",
         "minimum_amount", "tier_from"],
    )  # fmt: skip
    rules["tier"], _ = scaled(rules["tier_from"], SCALE)
    rules = rules.sort_values(["contract_id", "clin", "start", "labor_category", "tier"])
    rules = rules.drop_duplicates(["contract_id", "clin", "start", "end"])
    rules["rate_units"], _ = scaled(rules["rate"], SCALE)
    minimum, has_minimum = scaled(rules["minimum_amount"], 2)
    rules["minimum"] = np.where(has_minimum, minimum, -1)
    rules["start_date"] = pd.to_datetime(rules["start"], format="%Y-%m-%d")
    rules["end_date"] = pd.to_datetime(rules["end"], format="%Y-%m-%d")
    rules = rules[
        ["contract_id", "clin", "basis", "rate_units", "minimum", "start_date", "end_date"]
    ].sort_values("start_date")

    # Exact match, then the rule in force on the trip's date.
    found = lines[["row", "contract_id", "clin", "ref"]].merge(
        trips, on=["contract_id", "ref"], how="inner"
    )
    found = pd.merge_asof(
        found.sort_values("date"),
        rules,
        left_on="date",
        right_on="start_date",
        by=["contract_id", "clin"],
        direction="backward",
    ).sort_values("row")
    rows = found["row"].to_numpy()
    has_trip = np.zeros(len(lines), bool)
    has_trip[rows] = True
    has_rule = np.zeros(len(lines), bool)
    has_rule[rows] = (found["date"] <= found["end_date"]).to_numpy(bool)

    basis = found["basis"].to_numpy(object)
    q = np.select(
        [basis == name for name in MEASURES] + [(basis == "trip") | (basis == "cancellation")],
        [found[name].to_numpy() for name in MEASURES] + [10**SCALE],
        default=-1,
    )
    billable = np.full(len(lines), -1, np.int64)
    billable[rows] = q
    rate = np.zeros(len(lines), np.int64)
    rate[rows] = found["rate_units"].fillna(0).to_numpy("int64")
    floor = np.full(len(lines), -1, np.int64)
    floor[rows] = found["minimum"].fillna(-1).to_numpy("int64")

    # Duplicates: the same (contract, trip, clin) as an earlier valid matched line.
    claims = lines.loc[ok & has_trip, ["contract_id", "ref", "clin"]]
    duplicate = np.zeros(len(lines), bool)
    duplicate[claims.index.to_numpy()] = claims.duplicated(keep="first").to_numpy(bool)

    # Expected: round half up (q x rate) to cents, then the minimum when q > 0.
    measured = billable >= 0
    product = np.where(measured, billable, 0) * rate  # units of 10**-(2 * SCALE)
    half = 10 ** (2 * SCALE - 2)
    expected = (product + half // 2) // half
    expected = np.where((billable > 0) & (floor >= 0), np.maximum(expected, floor), expected)

    status = np.select(
        [
            ~ok,
            ~has_trip,
            ~has_rule,
            duplicate,
            ~measured,
            billed == expected,
            qty != billable,
            price != rate,
        ],
        [
            "INVALID",
            "UNSUPPORTED",
            "NO_RATE",
            "DUPLICATE",
            "UNSUPPORTED",
            "MATCHED",
            "QUANTITY_MISMATCH",
            "RATE_MISMATCH",
        ],
        default="AMOUNT_MISMATCH",
    )
    priced = np.isin(status, ["MATCHED", "QUANTITY_MISMATCH", "RATE_MISMATCH", "AMOUNT_MISMATCH"])
    expected = np.where(priced, expected, 0)
    out = pd.DataFrame(
        {
            "contract_id": lines["contract_id"],
            "invoice_id": lines["invoice_id"],
            "line_no": lines["line_no"],
            "status": status,
            "billed": money(billed, ok),
            "expected": money(expected, ok),
            "variance": money(billed - expected, ok),
        }
    )
    out.to_csv(out_csv, index=False, lineterminator="\n")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: pandas_peer.py INPUT_DIR OUT_CSV", file=sys.stderr)
        return 2
    try:
        import pandas  # noqa: F401
    except ImportError:
        print("pandas_peer: pandas is not installed (pip install pandas)", file=sys.stderr)
        return 3
    run(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
