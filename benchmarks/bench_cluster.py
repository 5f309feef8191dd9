"""Time one folder three ways: one process, ``--workers N``, a LocalCluster of N workers.

Usage::

    python benchmarks/bench_cluster.py FOLDER OUT_ROOT [--workers 2] [--partitions P]
        [--only one|forked|cluster]

Each way runs in a fresh interpreter (``python -c``) so that its peak RSS is its own: the
parent's ``ru_maxrss``, the forked workers' (``RUSAGE_CHILDREN``) and, for the cluster,
each worker process's, asked over ``client.run``. Then the output folders are compared
byte for byte. Prints one JSON object per way, then whether the outputs are identical.
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


def run(code: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def same(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    if names != sorted(p.name for p in b.iterdir()):
        return False
    _match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return not mismatch and not errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("out_root", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=0, help="0: the cluster's threads")
    parser.add_argument("--only", choices=["one", "forked", "cluster"], action="append")
    args = parser.parse_args()
    ways = args.only or ["one", "forked", "cluster"]
    outs = {}
    print(json.dumps({"load_average": os.getloadavg(), "cpus": os.cpu_count()}), flush=True)
    for way in ways:
        out = args.out_root / way
        if way == "cluster":
            result = run(_CLUSTER, str(args.folder), str(out), str(args.workers),
                         str(args.partitions))  # fmt: skip
        else:
            workers = "1" if way == "one" else str(args.workers)
            result = run(_ONE, str(args.folder), str(out), workers)
        outs[way] = out
        print(json.dumps({"way": way, **result, "load_average": os.getloadavg()}), flush=True)
    first, *others = outs
    for way in others:
        print(f"{way} output identical to {first}: {same(outs[first], outs[way])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
