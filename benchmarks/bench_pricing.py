"""Time the pricing core: scaled integers vs the plain Decimal definition, per priced line.

Run: ``.venv/bin/python benchmarks/bench_pricing.py [N]`` (default N = 200_000). Prints a
table of medians over 5 runs; compare the ratios, not the absolute numbers (timings on a
shared 2-core machine are noisy).
"""

from __future__ import annotations

import decimal
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from ice_recon.index import PricingRule, Tier
from ice_recon.money import Rounding, round_div
from ice_recon.price import compiled


def _median_seconds(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(n: int) -> None:
    rng = random.Random(20211001)
    quantities = [(rng.randrange(0, 500_000), 1) for _ in range(n)]  # up to 50000.0 miles
    decimals = [Decimal(u).scaleb(-s) for u, s in quantities]
    rate_units, rate_scale = 24575, 4
    rate = Decimal("2.4575")
    ctx = decimal.Context(prec=50)
    cent = Decimal("0.01")
    flat = PricingRule(
        rule_id="r",
        contract_id="C",
        clin="1",
        basis="loaded_miles",
        start=date(2021, 1, 1),
        end=date(2021, 12, 31),
        rate=rate,
        minimum_amount=Decimal("150.00"),
    )
    tiers = PricingRule(
        rule_id="t",
        contract_id="C",
        clin="1",
        basis="loaded_miles",
        start=date(2021, 1, 1),
        end=date(2021, 12, 31),
        tier_mode="graduated",
        tiers=(
            Tier(start=Decimal(0), rate=Decimal("4.00")),
            Tier(start=Decimal(100), rate=Decimal("3.00")),
            Tier(start=Decimal(250), rate=Decimal("2.50")),
        ),
    )
    cf, ct = compiled(flat), compiled(tiers)
    assert cf.tariff is not None and ct.tariff is not None
    flat_tariff, tier_tariff = cf.tariff, ct.tariff

    def decimal_multiply_quantize() -> None:
        for d in decimals:
            ctx.multiply(d, rate).quantize(cent, rounding=decimal.ROUND_HALF_UP, context=ctx)

    def scaled_multiply_round() -> None:
        den = 10 ** (1 + rate_scale - 2)
        for u, _ in quantities:
            round_div(u * rate_units, den, Rounding.HALF_UP)

    def core_flat_with_minimum() -> None:
        for q in quantities:
            qe = cf.billable(q)
            cf.expected_cents(qe, flat_tariff.price_cents(qe, Rounding.HALF_UP))

    def core_graduated() -> None:
        for q in quantities:
            tier_tariff.price_cents(q, Rounding.HALF_UP)

    rows = [
        ("Decimal multiply + quantize", _median_seconds(decimal_multiply_quantize)),
        ("scaled int multiply + round_div", _median_seconds(scaled_multiply_round)),
        ("core: flat rate with minimum", _median_seconds(core_flat_with_minimum)),
        ("core: graduated 3 tiers", _median_seconds(core_graduated)),
    ]
    base = rows[0][1]
    print(f"pricing {n:,} quantities, median of 5 runs")
    print(f"{'step':34} {'seconds':>8} {'ns/line':>8} {'vs Decimal':>10}")
    for name, secs in rows:
        print(f"{name:34} {secs:8.3f} {secs / n * 1e9:8.0f} {secs / base:10.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
