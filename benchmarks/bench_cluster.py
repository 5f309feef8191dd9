"""Time one folder several ways: one process, ``--workers N``, a LocalCluster of N workers,
and the same folder split by contract (``ice-recon split``) the same three ways.

Usage::

    python benchmarks/bench_cluster.py FOLDER OUT_ROOT [--workers 2] [--partitions P]
        [--only one|forked|cluster|split|dataset-one|dataset-forked|dataset-cluster]

Each way runs in a fresh interpreter (``python -c``) so that its peak RSS is its own: the
parent's ``ru_maxrss``, the forked workers' (``RUSAGE_CHILDREN``) and, for the cluster,
each worker process's, asked over ``client.run``. ``split`` writes OUT_ROOT/dataset (the
serial first pass); the ``dataset-*`` ways read it. Then the output folders are compared:
the flat ways byte for byte, the dataset ways byte for byte with each other and with the
flat output except the two files that name input files (problems.csv, summary.json).
Prints one JSON object per way, then a table.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

_ONE = """
import json, resource, sys, time
from ice_recon.stream import reconcile_to
t = time.perf_counter()
totals = reconcile_to(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]))
seconds = time.perf_counter() - t
print(json.dumps({
    "seconds": round(seconds, 2),
    "lines": totals.line_count,
    "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    "children_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
}))
"""

_SPLIT = """
import json, resource, sys, time
from ice_recon.partitioned import split
t = time.perf_counter()
dataset = split(sys.argv[1], sys.argv[2])
print(json.dumps({
    "seconds": round(time.perf_counter() - t, 2),
    "partitions": len(dataset.partitions),
    "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
}))
"""

_DATASET = """
import json, resource, sys, time
from ice_recon.partitioned import forked_runner, reconcile_dataset
t = time.perf_counter()
workers = int(sys.argv[3])
totals = reconcile_dataset(sys.argv[1], sys.argv[2], groups=workers,
                           runner=forked_runner if workers > 1 else None)
print(json.dumps({
    "seconds": round(time.perf_counter() - t, 2),
    "lines": totals.line_count,
    "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    "children_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
}))
"""

_CLUSTER = """
import json, resource, sys, time
from distributed import Client, LocalCluster
from ice_recon.distributed import reconcile_on

def peak():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

if __name__ == "__main__":
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=int(sys.argv[3]), threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=":0")
    client = Client(cluster)
    started = time.perf_counter() - t0
    partitions = int(sys.argv[4]) or None
    t = time.perf_counter()
    totals = reconcile_on(client, sys.argv[1], sys.argv[2], partitions=partitions)
    seconds = time.perf_counter() - t
    workers = sorted(client.run(peak).values())
    client.close()
    cluster.close()
    print(json.dumps({
        "seconds": round(seconds, 2),
        "cluster_start_seconds": round(started, 2),
        "lines": totals.line_count,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "worker_rss_mib": workers,
    }))
"""


WAYS = ["one", "forked", "cluster", "split", "dataset-one", "dataset-forked", "dataset-cluster"]
NAMING = {"problems.csv", "summary.json"}  # the outputs that name input files


def run(code: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def same(a: Path, b: Path, skip: frozenset[str] = frozenset()) -> bool:
    names = sorted(p.name for p in a.iterdir() if p.name not in skip)
    if names != sorted(p.name for p in b.iterdir() if p.name not in skip):
        return False
    _match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return not mismatch and not errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("out_root", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=0, help="0: the cluster's threads")
    parser.add_argument("--only", choices=WAYS, action="append")
    args = parser.parse_args()
    ways = args.only or WAYS
    outs: dict[str, Path] = {}
    results: dict[str, dict[str, object]] = {}
    dataset = args.out_root / "dataset"
    print(json.dumps({"load_average": os.getloadavg(), "cpus": os.cpu_count()}), flush=True)
    for way in ways:
        out = args.out_root / way
        source = str(dataset if way.startswith("dataset") else args.folder)
        workers = "1" if way in ("one", "dataset-one") else str(args.workers)
        if way.endswith("cluster"):
            result = run(_CLUSTER, source, str(out), workers, str(args.partitions))
        elif way == "split":
            result = run(_SPLIT, source, str(dataset))
        elif way.startswith("dataset"):
            result = run(_DATASET, source, str(out), workers)
        else:
            result = run(_ONE, source, str(out), workers)
        if way != "split":
            outs[way] = out
        results[way] = result
        print(json.dumps({"way": way, **result, "load_average": os.getloadavg()}), flush=True)
    flat = [w for w in outs if not w.startswith("dataset")]
    split_ways = [w for w in outs if w.startswith("dataset")]
    for group in (flat, split_ways):
        for way in group[1:]:
            print(f"{way} output identical to {group[0]}: {same(outs[group[0]], outs[way])}")
    if flat and split_ways:
        identical = same(outs[flat[0]], outs[split_ways[0]], frozenset(NAMING))
        print(f"{split_ways[0]} identical to {flat[0]} but for {sorted(NAMING)}: {identical}")
    print()
    print(f"{'way':16} {'seconds':>8} {'main RSS MiB':>13}  workers' peak RSS MiB")
    for way, r in results.items():
        peaks = r.get("worker_rss_mib", r.get("children_rss_mib", ""))
        print(f"{way:16} {r['seconds']!s:>8} {r['rss_mib']!s:>13}  {peaks}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
