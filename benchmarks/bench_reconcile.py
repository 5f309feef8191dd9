"""Time each pipeline stage of a reconciliation on generated data (10k and 100k lines).

Run: ``.venv/bin/python benchmarks/bench_reconcile.py [SIZE ...] [--runs R]`` (default sizes
10000 100000, R = 3). For each size a folder is generated with ``ice_recon.generate``
(seed 1, trips = 0.8 x lines, 4 contracts, planted errors of every kind) and reconciled R
times; the table shows the median seconds of each stage and the lines per second of the
whole run. Compare ratios measured in one run: timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ice_recon._gc import paused
from ice_recon.classify import classify
from ice_recon.generate import generate
from ice_recon.index import build
from ice_recon.load import load
from ice_recon.match import match
from ice_recon.policy import Policy
from ice_recon.report import report

STAGES = ("load", "index", "match+price", "classify", "report", "write")


def run_once(folder: Path, out: Path) -> dict[str, float]:
    """Run every stage once on *folder*; return seconds per stage."""
    times: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        times[name] = now - t
        t = now

    inputs = load(folder)
    lap("load")
    index = build(inputs)
    lap("index")
    policy = Policy()
    matching = match(inputs, index, policy)
    lap("match+price")
    classified = classify(inputs, index, matching, policy)
    lap("classify")
    result = report(inputs, matching, classified)
    lap("report")
    result.write(out)
    lap("write")
    times["pairs"] = matching.pairs_considered
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            folder = Path(tmp) / f"in-{size}"
            t0 = time.perf_counter()
            generate(folder, lines=size, trips=max(1, size * 4 // 5), contracts=4, seed=1)
            gen = time.perf_counter() - t0
            runs = []
            for _ in range(args.runs):
                # As reconcile() and load() do: no cyclic GC during the bulk work.
                with paused():
                    runs.append(run_once(folder, Path(tmp) / f"out-{size}"))
            med = {s: statistics.median(r[s] for r in runs) for s in STAGES}
            total = sum(med.values())
            rows.append((size, gen, med, total, int(runs[0]["pairs"])))
    head = f"{'lines':>9} {'generate':>9} " + " ".join(f"{s:>11}" for s in STAGES)
    print(f"median seconds of {args.runs} runs per stage")
    print(head + f" {'total':>8} {'lines/s':>9} {'pairs':>8}")
    for size, gen, med, total, pairs in rows:
        cells = " ".join(f"{med[s]:11.3f}" for s in STAGES)
        print(f"{size:9d} {gen:9.2f} {cells} {total:8.2f} {size / total:9.0f} {pairs:8d}")
    if len(rows) >= 2:
        (s1, _, _, t1, _), (s2, _, _, t2, _) = rows[0], rows[-1]
        print(f"\ntime ratio {s2 // s1}x lines: {t2 / t1:.2f}x")


if __name__ == "__main__":
    main()
