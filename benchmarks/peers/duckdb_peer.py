"""DuckDB peer of the benchmark: the common core of a reconciliation in one SQL statement.

Run: ``python benchmarks/peers/duckdb_peer.py INPUT_DIR OUT_CSV`` (needs ``pip install duckdb``).

What a competent user would write instead of ice_recon, and only the common core of it
(``benchmarks/harness.py`` times it against the ``ice-recon`` CLI on the same files):

- read ``invoice_lines.csv``, ``manifests.csv`` and ``rates.csv`` as text (``all_varchar``);
  money as ``DECIMAL(18,2)``, quantities, measures and rates as ``DECIMAL(18,4)`` — never DOUBLE;
- exact match of a line to a trip on (contract_id, upper(trim(trip_ref))) = (contract_id,
  upper(trim(trip_id))); no inference;
- the rate rule of (contract_id, clin) whose window [start, end] holds the trip's service
  date (one row per rule: the one without a labor category, the first tier);
- billable quantity = the manifest measure named by the rule's basis (``loaded_miles``,
  ``wait_hours``, ``passengers``; ``trip`` and ``cancellation`` = 1; anything else, e.g.
  ``labor_hours``, or an empty measure = missing evidence); expected = round half up (q x rate,
  cents), then max(minimum_amount, .) when q > 0; no free quantity, increments, tiers,
  fuel, labor rosters, tolerances;
- status, the first that applies: INVALID (amount, quantity, unit_price or line_no not a plain
  decimal), UNSUPPORTED (no trip), NO_RATE, DUPLICATE (same (contract, trip, clin) as an
  earlier valid line in (invoice_id, line_no) order), UNSUPPORTED (missing measure), MATCHED
  (amount = expected), QUANTITY_MISMATCH, RATE_MISMATCH, AMOUNT_MISMATCH;
- write ``contract_id, invoice_id, line_no, status, billed, expected, variance`` ordered by
  (contract_id, invoice_id, line_no).
"""

from __future__ import annotations

import sys
from pathlib import Path

SQL = r"""
COPY (
WITH
lines AS (
    SELECT
        contract_id, invoice_id, line_no, clin, trip_ref,
        regexp_full_match(amount, '[0-9]{1,12}(\.[0-9]{1,2})?')
            AND regexp_full_match(quantity, '[0-9]{1,12}(\.[0-9]{1,4})?')
            AND regexp_full_match(unit_price, '[0-9]{1,12}(\.[0-9]{1,4})?')
            AND regexp_full_match(line_no, '[0-9]{1,9}') AS ok,
        TRY_CAST(line_no AS BIGINT) AS line_num,
        TRY_CAST(amount AS DECIMAL(18, 2)) AS billed,
        TRY_CAST(quantity AS DECIMAL(18, 4)) AS qty,
        TRY_CAST(unit_price AS DECIMAL(18, 4)) AS price,
        upper(trim(trip_ref)) AS ref
    FROM read_csv(@LINES@, all_varchar = true, header = true)
),
trips AS (
    SELECT
        contract_id,
        upper(trim(trip_id)) AS trip_id,
        CAST(service_date AS DATE) AS service_date,
        TRY_CAST(loaded_miles AS DECIMAL(18, 4)) AS loaded_miles,
        TRY_CAST(wait_hours AS DECIMAL(18, 4)) AS wait_hours,
        TRY_CAST(passengers AS DECIMAL(18, 4)) AS passengers
    FROM read_csv(@MANIFESTS@, all_varchar = true, header = true)
),
rules AS (
    SELECT
        contract_id, clin, basis,
        CAST(rate AS DECIMAL(18, 4)) AS rate,
        CAST(start AS DATE) AS start_date,
        CAST("end" AS DATE) AS end_date,
        TRY_CAST(minimum_amount AS DECIMAL(18, 2)) AS minimum_amount
    FROM read_csv(@RATES@, all_varchar = true, header = true)
    QUALIFY row_number() OVER (
        PARTITION BY contract_id, clin, start, "end"
        ORDER BY labor_category NULLS FIRST, TRY_CAST(tier_from AS DECIMAL(18, 4)) NULLS FIRST
    ) = 1
),
matched AS (
    SELECT
        l.*, t.trip_id, t.service_date,
        CASE
            WHEN l.ok AND t.trip_id IS NOT NULL THEN row_number() OVER (
                PARTITION BY l.ok, l.contract_id, t.trip_id, l.clin
                ORDER BY l.invoice_id, l.line_num
            )
        END AS claim,
        CASE r.basis
            WHEN 'loaded_miles' THEN t.loaded_miles
            WHEN 'wait_hours' THEN t.wait_hours
            WHEN 'passengers' THEN t.passengers
            WHEN 'trip' THEN 1
            WHEN 'cancellation' THEN 1
        END AS billable,
        r.rate, r.minimum_amount, r.basis
    FROM lines l
    LEFT JOIN trips t ON l.contract_id = t.contract_id AND l.ref = t.trip_id
    LEFT JOIN rules r
        ON l.contract_id = r.contract_id AND l.clin = r.clin
        AND t.service_date BETWEEN r.start_date AND r.end_date
),
priced AS (
    SELECT
        *,
        CASE
            WHEN billable > 0 AND minimum_amount IS NOT NULL
                THEN greatest(minimum_amount, round(billable * rate, 2))
            ELSE round(billable * rate, 2)
        END AS computed
    FROM matched
),
judged AS (
    SELECT
        *,
        CASE
            WHEN NOT ok THEN 'INVALID'
            WHEN trip_id IS NULL THEN 'UNSUPPORTED'
            WHEN rate IS NULL THEN 'NO_RATE'
            WHEN claim > 1 THEN 'DUPLICATE'
            WHEN billable IS NULL THEN 'UNSUPPORTED'
            WHEN billed = computed THEN 'MATCHED'
            WHEN qty <> billable THEN 'QUANTITY_MISMATCH'
            WHEN price <> rate THEN 'RATE_MISMATCH'
            ELSE 'AMOUNT_MISMATCH'
        END AS status
    FROM priced
)
SELECT
    contract_id, invoice_id, line_no, status,
    CASE WHEN ok THEN billed END AS billed,
    CAST(CASE
        WHEN NOT ok THEN NULL
        WHEN status IN ('UNSUPPORTED', 'NO_RATE', 'DUPLICATE') THEN 0
        ELSE computed
    END AS DECIMAL(18, 2)) AS expected,
    CAST(CASE
        WHEN NOT ok THEN NULL
        WHEN status IN ('UNSUPPORTED', 'NO_RATE', 'DUPLICATE') THEN billed
        ELSE billed - computed
    END AS DECIMAL(18, 2)) AS variance
FROM judged
ORDER BY contract_id, invoice_id, line_num NULLS LAST, line_no
) TO @OUT@ (HEADER, DELIMITER ',')
"""


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def run(input_dir: Path, out_csv: Path) -> None:
    """Reconcile the common core of *input_dir* into *out_csv* with one DuckDB statement."""
    import duckdb

    sql = (
        SQL.replace("@LINES@", _quote(input_dir / "invoice_lines.csv"))
        .replace("@MANIFESTS@", _quote(input_dir / "manifests.csv"))
        .replace("@RATES@", _quote(input_dir / "rates.csv"))
        .replace("@OUT@", _quote(out_csv))
    )
    with duckdb.connect() as con:
        con.execute(sql)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: duckdb_peer.py INPUT_DIR OUT_CSV", file=sys.stderr)
        return 2
    try:
        import duckdb  # noqa: F401
    except ImportError:
        print("duckdb_peer: duckdb is not installed (pip install duckdb)", file=sys.stderr)
        return 3
    run(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
