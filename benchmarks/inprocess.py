"""Time ``ice_recon.reconcile()`` alone, on inputs loaded once, with its per-stage times.

Run: ``python benchmarks/inprocess.py INPUT_DIR [--runs R] [--out OUT_DIR] [--json FILE]``.
Loads the folder R times with ``ice_recon.load`` (timed; each load's inputs are dropped
before the next, and the last are kept), then calls ``reconcile(inputs, progress=...)`` R
times, recording the wall time of each call and the seconds of each stage reported by the
``progress`` callback; finally writes the last report to OUT_DIR (timed, as the CLI does).
The JSON has ``load`` (the median load), ``load_runs``, ``write``, ``runs`` (one dict of
stage seconds and ``total`` per call) and the report's ``stats``. ``benchmarks/harness.py``
runs this as a child process so that its peak RSS is that of one load plus one
reconciliation.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def measure(folder: Path, runs: int, out_dir: Path, engine: str = "python") -> dict[str, object]:
    """Load *folder* and reconcile it *runs* times each, write once; return the timings."""
    import ice_recon

    loads: list[float] = []
    inputs = None
    for _ in range(runs):
        inputs = None  # drop the previous inputs: one load in memory at a time
        gc.collect()
        t0 = time.perf_counter()
        inputs = ice_recon.load(folder, engine=engine)  # type: ignore[arg-type]
        loads.append(time.perf_counter() - t0)
    assert inputs is not None
    results: list[dict[str, float]] = []
    report = None
    for _ in range(runs):
        report = None
        gc.collect()
        stages: dict[str, float] = {}

        def progress(stage: str, seconds: float, stages: dict[str, float] = stages) -> None:
            stages[stage] = stages.get(stage, 0.0) + seconds

        t0 = time.perf_counter()
        report = ice_recon.reconcile(inputs, progress=progress)
        stages["total"] = time.perf_counter() - t0
        results.append(stages)
    assert report is not None
    t0 = time.perf_counter()
    report.write(out_dir)
    write_seconds = time.perf_counter() - t0
    return {
        "version": ice_recon.__version__,
        "lines": len(report.lines),
        "matched": report.counts["MATCHED"],
        "stats": dict(getattr(report, "stats", {})),
        "load": statistics.median(loads),
        "load_runs": loads,
        "write": write_seconds,
        "runs": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("input_dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="where to write the last report")
    parser.add_argument("--json", type=Path, default=None, help="write the timings here")
    parser.add_argument("--engine", default="python", choices=["python", "fast", "auto"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        found = measure(args.input_dir, args.runs, args.out or Path(tmp) / "out", args.engine)
    if args.json is not None:
        args.json.write_text(json.dumps(found, indent=1), encoding="utf-8")
    else:
        runs = found["runs"]
        assert isinstance(runs, list)
        print(f"load {found['load']:.3f} s, write {found['write']:.3f} s, stats {found['stats']}")
        for stage in runs[0]:
            print(f"{stage:>16} {statistics.median(r[stage] for r in runs):8.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
