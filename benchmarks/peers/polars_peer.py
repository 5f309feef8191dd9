"""polars peer of the benchmark: the common core of a reconciliation, integer cents.

Run: ``python benchmarks/peers/polars_peer.py INPUT_DIR OUT_CSV`` (needs ``pip install polars``).

The same common core as ``pandas_peer.py`` and ``duckdb_peer.py`` (see the DuckDB peer's
docstring for the exact rules), written with polars' lazy API the way a careful polars user
would: every column read as text, decimals split at the point into ``Int64`` units at a
fixed scale (money in cents, quantities, measures and rates in 1/10,000) — no float on the
money path —, an exact join on (contract_id, trip key), ``join_asof`` for the effective-dated
rate, a window ``cum_count`` for the duplicate charges and a ``when`` chain for the status.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCALE = 4
MEASURES = ("loaded_miles", "wait_hours", "passengers")


def run(input_dir: Path, out_csv: Path) -> None:
    """Reconcile the common core of *input_dir* into *out_csv* with polars."""
    import polars as pl

    def read(name: str, columns: list[str]) -> pl.DataFrame:
        frame = pl.read_csv(input_dir / name, infer_schema=False, columns=columns)
        return frame.with_columns(pl.all().fill_null(""))

    def scaled(col: str, places: int) -> tuple[pl.Expr, pl.Expr]:
        """Units of 10**-places of a plain decimal column, and whether it parsed."""
        text = pl.col(col)
        ok = text.str.contains(rf"^[0-9]{{1,12}}(?:\.[0-9]{{1,{places}}})?$")
        good = pl.when(ok).then(text).otherwise(pl.lit("0"))
        whole = good.str.split_exact(".", 1).struct.field("field_0").cast(pl.Int64)
        frac = (
            good.str.split_exact(".", 1)
            .struct.field("field_1")
            .fill_null("")
            .str.pad_end(places, "0")
            .cast(pl.Int64)
        )
        return whole * 10**places + frac, ok

    def money(col: str) -> pl.Expr:
        c = pl.col(col)
        mag = c.abs()
        text = (mag // 100).cast(pl.Utf8) + "." + (mag % 100).cast(pl.Utf8).str.zfill(2)
        return pl.when(c < 0).then("-" + text).otherwise(text)

    cols = ["contract_id", "invoice_id", "line_no", "clin", "quantity", "unit_price", "amount",
            "trip_ref"]  # fmt: skip
    lines = read("invoice_lines.csv", cols)
    line_ok = pl.col("line_no").str.contains(r"^[0-9]{1,9}$")
    billed, ok_amount = scaled("amount", 2)
    qty, ok_qty = scaled("quantity", SCALE)
    price, ok_price = scaled("unit_price", SCALE)
    lines = (
        lines.with_columns(
            pl.when(line_ok)
            .then(pl.col("line_no").cast(pl.Int64, strict=False))
            .otherwise(pl.lit(2**63 - 1))
            .alias("line_num"),
        )
        .sort(["contract_id", "invoice_id", "line_num"], maintain_order=True)
        .with_columns(
            billed.alias("billed"),
            qty.alias("qty"),
            price.alias("price"),
            (ok_amount & ok_qty & ok_price & line_ok).alias("ok"),
            pl.col("trip_ref").str.strip_chars().str.to_uppercase().alias("ref"),
        )
        .with_row_index("row")
    )
    trips = read("manifests.csv", ["trip_id", "contract_id", "service_date", *MEASURES])
    measures = []
    for name in MEASURES:
        units, present = scaled(name, SCALE)
        measures.append(pl.when(present).then(units).otherwise(-1).alias(name))
    trips = trips.select(
        pl.col("contract_id"),
        pl.col("trip_id").str.strip_chars().str.to_uppercase().alias("ref"),
        pl.col("service_date").str.to_date("%Y-%m-%d").alias("date"),
        *measures,
    )
    rules = read(
        "rates.csv",
        ["contract_id", "clin", "basis", "rate", "start", "end", "labor_category",
         "minimum_amount", "tier_from"],
    )  # fmt: skip
    tier, _ = scaled("tier_from", SCALE)
    rate, _ = scaled("rate", SCALE)
    minimum, has_minimum = scaled("minimum_amount", 2)
    rules = (
        rules.with_columns(tier.alias("tier"))
        .sort(["contract_id", "clin", "start", "labor_category", "tier"])
        .unique(["contract_id", "clin", "start", "end"], keep="first", maintain_order=True)
        .select(
            "contract_id",
            "clin",
            "basis",
            rate.alias("rate_units"),
            pl.when(has_minimum).then(minimum).otherwise(-1).alias("minimum"),
            pl.col("start").str.to_date("%Y-%m-%d").alias("start_date"),
            pl.col("end").str.to_date("%Y-%m-%d").alias("end_date"),
        )
        .sort("start_date")
    )
    found = (
        lines.select("row", "contract_id", "clin", "ref")
        .join(trips, on=["contract_id", "ref"], how="inner")
        .sort("date")
        .join_asof(
            rules,
            left_on="date",
            right_on="start_date",
            by=["contract_id", "clin"],
            strategy="backward",
            check_sortedness=False,
        )
        .select(
            "row",
            pl.lit(True).alias("has_trip"),
            (pl.col("date") <= pl.col("end_date")).fill_null(False).alias("has_rule"),
            pl.when(pl.col("basis") == "loaded_miles")
            .then(pl.col("loaded_miles"))
            .when(pl.col("basis") == "wait_hours")
            .then(pl.col("wait_hours"))
            .when(pl.col("basis") == "passengers")
            .then(pl.col("passengers"))
            .when(pl.col("basis").is_in(["trip", "cancellation"]))
            .then(pl.lit(10**SCALE))
            .otherwise(-1)
            .alias("billable"),
            pl.col("rate_units").fill_null(0).alias("rate"),
            pl.col("minimum").fill_null(-1).alias("floor"),
        )
    )
    df = lines.join(found, on="row", how="left").sort("row")
    df = df.with_columns(
        pl.col("has_trip").fill_null(False),
        pl.col("has_rule").fill_null(False),
        pl.col("billable").fill_null(-1),
        pl.col("rate").fill_null(0),
        pl.col("floor").fill_null(-1),
    )
    claim = pl.col("ok") & pl.col("has_trip")
    df = df.with_columns(
        (claim & (pl.int_range(pl.len()).over(["contract_id", "ref", "clin", claim]) > 0)).alias(
            "duplicate"
        )
    )
    half = 10 ** (2 * SCALE - 2)
    product = pl.when(pl.col("billable") >= 0).then(pl.col("billable")).otherwise(0) * pl.col(
        "rate"
    )
    expected = (product + half // 2) // half
    df = df.with_columns(
        pl.when((pl.col("billable") > 0) & (pl.col("floor") >= 0))
        .then(pl.max_horizontal(expected, pl.col("floor")))
        .otherwise(expected)
        .alias("expected")
    )
    status = (
        pl.when(~pl.col("ok")).then(pl.lit("INVALID"))
        .when(~pl.col("has_trip")).then(pl.lit("UNSUPPORTED"))
        .when(~pl.col("has_rule")).then(pl.lit("NO_RATE"))
        .when(pl.col("duplicate")).then(pl.lit("DUPLICATE"))
        .when(pl.col("billable") < 0).then(pl.lit("UNSUPPORTED"))
        .when(pl.col("billed") == pl.col("expected")).then(pl.lit("MATCHED"))
        .when(pl.col("qty") != pl.col("billable")).then(pl.lit("QUANTITY_MISMATCH"))
        .when(pl.col("price") != pl.col("rate")).then(pl.lit("RATE_MISMATCH"))
        .otherwise(pl.lit("AMOUNT_MISMATCH"))
    )  # fmt: skip
    df = df.with_columns(status.alias("status"))
    priced = pl.col("status").is_in(
        ["MATCHED", "QUANTITY_MISMATCH", "RATE_MISMATCH", "AMOUNT_MISMATCH"]
    )
    df = df.with_columns(pl.when(priced).then(pl.col("expected")).otherwise(0).alias("expected"))
    df = df.with_columns((pl.col("billed") - pl.col("expected")).alias("variance"))
    out = df.select(
        "contract_id",
        "invoice_id",
        "line_no",
        "status",
        *(
            pl.when(pl.col("ok")).then(money(name)).otherwise(pl.lit(None, pl.Utf8)).alias(name)
            for name in ("billed", "expected", "variance")
        ),
    )
    out.write_csv(out_csv, line_terminator="\n", quote_style="necessary", null_value="")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: polars_peer.py INPUT_DIR OUT_CSV", file=sys.stderr)
        return 2
    try:
        import polars  # noqa: F401
    except ImportError:
        print("polars_peer: polars is not installed (pip install polars)", file=sys.stderr)
        return 3
    run(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
