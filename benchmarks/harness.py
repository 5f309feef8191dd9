"""Benchmark the ``ice-recon`` CLI against DuckDB and pandas peers, in one run, on the same files.

Run: ``.venv/bin/python benchmarks/harness.py [--sizes 10000 100000 1000000] [--runs 3]
[--with-10m] [--json FILE] [--workdir DIR]`` (peers: ``pip install -r
benchmarks/requirements.txt``; a peer whose package is missing is skipped with a message).

For each size N, a folder is generated once with ``ice_recon.generate`` (N lines,
min(N, 1M) trips, 8 contracts, seed 1; its time is reported apart). Then, R times, in
alternation on that folder, each contender runs as a separate process, whole process, CSV
in -> CSV out:

- ``ice-recon reconcile DIR --out OUT --quiet``, the real CLI, full DESIGN semantics,
  streaming in one process;
- the same with ``--workers 2`` (its results.csv is compared with the one-process file);
- ``peers/duckdb_peer.py``, the common core in one DuckDB SQL statement (DECIMAL, no DOUBLE);
- ``peers/pandas_peer.py``, the common core in vectorized pandas with int64 cents.

The wall time of each process is measured around it, and its peak RSS is read from the
``wait4`` resource usage of that one child (what GNU ``time -f %M`` reports: for a run with
workers, the largest single process, not the sum). Then ``inprocess.py`` runs in a child:
``ice_recon.load`` once, ``ice_recon.reconcile()`` (in memory) R times on the loaded inputs
with its per-stage times (``progress=``), and one ``Report.write``.

From 10M lines on (``--with-10m``) only the two ice_recon contenders run, once each: the
peers and the in-memory ``reconcile()`` would hold every line in memory. The 10M folder has
the 1M folder's manifest (same seed, 1M trips), so that the run streams ten times the lines
against the same resident tables.

Per size the table shows median seconds, lines/s, peak RSS and the ratios ice_recon/peer;
then the in-process stage breakdown and a sanity check of the peers (MATCHED counts beside
ice_recon's, on all lines and on the lines of plain-rate CLINs where the common core and the
full semantics agree). At the end: the growth ratio between sizes and the issue-5 targets at
1M lines. Timings on a shared machine are noisy: compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import importlib.metadata
import importlib.util
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
MIB = 1024 * 1024
CONTRACTS = 8
SEED = 1
#: Rule columns that take a CLIN beyond the common core (plain rate x measure, minimum).
NOT_PLAIN = (
    "labor_category",
    "minimum_quantity",
    "free_quantity",
    "increment",
    "tier_from",
    "rounding",
)
ICE = "ice_recon CLI"
WORKERS = 2
ICE_WORKERS = f"ice_recon CLI -w{WORKERS}"
#: The manifest is resident by design (DESIGN: only the lines stream): sizes above this
#: many lines reuse the manifest of this size, so that the 10M run streams 10x the lines of
#: the 1M run against the same resident tables.
MAX_TRIPS = 1_000_000
#: From this size on only ice_recon runs (once): the peers and the in-memory reconcile()
#: would hold every line in memory.
STREAM_ONLY = 10_000_000
MATCHED = "MATCHED"
CORE_BASES = frozenset({"loaded_miles", "wait_hours", "passengers", "trip", "cancellation"})


@dataclass
class Contender:
    """One whole-process contender: how to run it and what it measured."""

    name: str
    package: str | None  # the optional package it needs, None for ice_recon
    results: str  # results CSV, relative to its output folder
    options: tuple[str, ...] = ()  # extra CLI options (ice_recon only)
    seconds: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)

    def command(self, folder: Path, out: Path) -> list[str]:
        if self.package is None:
            script = Path(sys.executable).parent / "ice-recon"
            head = [str(script)] if script.exists() else [sys.executable, "-m", "ice_recon.cli"]
            return [*head, "reconcile", str(folder), "--out", str(out), "--quiet", *self.options]
        peer = PEERS / f"{self.package}_peer.py"
        return [sys.executable, str(peer), str(folder), str(out / self.results)]


def contenders(*, peers: bool = True) -> list[Contender]:
    """The contenders whose packages are installed; say which are skipped and why."""
    found = [
        Contender(ICE, None, "results.csv"),
        Contender(ICE_WORKERS, None, "results.csv", ("--workers", str(WORKERS))),
    ]
    if not peers:
        return found
    for name, package in (("duckdb SQL", "duckdb"), ("pandas int cents", "pandas")):
        if importlib.util.find_spec(package) is None:
            print(
                f"note: {package} is not installed: skipping the {name} peer "
                f"(pip install -r {HERE.name}/requirements.txt)",
                flush=True,
            )
            continue
        found.append(Contender(name, package, "results.csv"))
    return found


def spawn(command: list[str], log: Path) -> tuple[float, int]:
    """Run *command* to completion; return (wall seconds, peak RSS bytes of that process)."""
    with log.open("wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}:\n{tail}")
    return seconds, usage.ru_maxrss * 1024  # Linux reports KiB


def generate(folder: Path, size: int, log: Path) -> tuple[float, int]:
    """Generate the input folder in a child process; return (seconds, peak RSS bytes)."""
    code = (
        "import sys; from ice_recon.generate import generate; "
        "n = int(sys.argv[2]); "
        f"generate(sys.argv[1], lines=n, trips=min(n, {MAX_TRIPS}), contracts={CONTRACTS}, "
        f"seed={SEED})"
    )
    return spawn([sys.executable, "-c", code, str(folder), str(size)], log)


def status_counts(path: Path, plain: set[tuple[str, str, str]]) -> tuple[Counter[str], dict]:
    """Count statuses of a results CSV; also return the status of each plain-CLIN line."""
    counts: Counter[str] = Counter()
    on_plain: dict[tuple[str, str, str], str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        c, i, n, s = (header.index(k) for k in ("contract_id", "invoice_id", "line_no", "status"))
        for row in rows:
            counts[row[s]] += 1
            key = (row[c], row[i], row[n])
            if key in plain:
                on_plain[key] = row[s]
    return counts, on_plain


def plain_lines(folder: Path) -> set[tuple[str, str, str]]:
    """Keys of the invoice lines whose CLIN has only plain rules (rate x core basis)."""
    plain: dict[tuple[str, str], bool] = {}
    with (folder / "rates.csv").open(newline="", encoding="utf-8") as handle:
        for rule in csv.DictReader(handle):
            key = (rule["contract_id"].strip(), rule["clin"].strip())
            simple = rule["basis"].strip() in CORE_BASES and not any(
                (rule.get(col) or "").strip() for col in NOT_PLAIN
            )
            plain[key] = plain.get(key, True) and simple
    keys: set[tuple[str, str, str]] = set()
    with (folder / "invoice_lines.csv").open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        c, i, n, k = (header.index(x) for x in ("contract_id", "invoice_id", "line_no", "clin"))
        for row in rows:
            if plain.get((row[c], row[k])):
                keys.add((row[c], row[i], row[n]))
    return keys


def sanity(folder: Path, outputs: dict[str, Path]) -> list[str]:
    """Compare the peers' statuses with ice_recon's; return the lines to print."""
    plain = plain_lines(folder)
    counts: dict[str, Counter[str]] = {}
    on_plain: dict[str, dict[tuple[str, str, str], str]] = {}
    for name, path in outputs.items():
        counts[name], on_plain[name] = status_counts(path, plain)
    ice = next(iter(outputs))
    total = sum(counts[ice].values())
    text = [f"sanity: MATCHED lines (of {total:,}; plain-rate CLINs: {len(plain):,} lines)"]
    for name in outputs:
        matched_plain = sum(1 for s in on_plain[name].values() if s == "MATCHED")
        line = (
            f"  {name:18} all {counts[name]['MATCHED']:>10,}"
            f"   plain-rate CLINs {matched_plain:>10,}"
        )
        if name != ice:
            mine, theirs = on_plain[name], on_plain[ice]
            same = sum(1 for k, s in mine.items() if theirs.get(k) == s)
            verdict = sum((s == MATCHED) == (theirs.get(k) == MATCHED) for k, s in mine.items())
            n = max(1, len(plain))
            line += (
                f"   same MATCHED verdict as ice_recon on {verdict / n:.1%},"
                f" same status on {same / n:.1%}"
            )
        text.append(line)
    peers = [p for name, p in outputs.items() if name != ice]
    if len(peers) == 2:
        same = peers[0].read_bytes() == peers[1].read_bytes()
        text.append(f"  the two peers' results files are {'identical' if same else 'DIFFERENT'}")
    return text


def inprocess(folder: Path, runs: int, work: Path) -> tuple[dict, int]:
    """Run inprocess.py in a child; return its timings and its peak RSS."""
    target = work / "inprocess.json"
    command = [sys.executable, str(HERE / "inprocess.py"), str(folder), "--runs", str(runs)]
    command += ["--out", str(work / "out-inprocess"), "--json", str(target)]
    _, rss = spawn(command, work / "inprocess.log")
    return json.loads(target.read_text(encoding="utf-8")), rss


def bench_size(size: int, runs: int, work: Path) -> dict:
    """Generate, run every contender *runs* times in alternation, print the table."""
    work.mkdir(parents=True, exist_ok=True)
    folder = work / f"in-{size}"
    gen_seconds, gen_rss = generate(folder, size, work / f"generate-{size}.log")
    input_bytes = sum(p.stat().st_size for p in folder.iterdir())
    stream_only = size >= STREAM_ONLY
    if stream_only:
        runs = 1
    print(
        f"\n== {size:,} invoice lines, {min(size, MAX_TRIPS):,} trips, {CONTRACTS} contracts, "
        f"seed {SEED}: "
        f"generated in {gen_seconds:.1f} s (peak RSS {gen_rss / MIB:,.0f} MiB), "
        f"inputs {input_bytes / MIB:,.1f} MiB",
        flush=True,
    )
    everyone = contenders(peers=not stream_only)
    outs = {c.name: work / f"out-{size}-{c.package or 'ice_recon'}" for c in everyone}
    for out in outs.values():
        out.mkdir(parents=True, exist_ok=True)
    for run in range(runs):
        for c in everyone:
            log = work / f"{c.package or 'ice_recon'}.log"
            seconds, rss = spawn(c.command(folder, outs[c.name]), log)
            c.seconds.append(seconds)
            c.rss.append(rss)
            print(
                f"  run {run + 1}/{runs} {c.name:18} {seconds:8.2f} s {rss / MIB:8,.0f} MiB",
                flush=True,
            )
    timings, inproc_rss = ({}, 0) if stream_only else inprocess(folder, runs, work)
    print()
    head = f"{'contender':24} {'median s':>9} {'min s':>8} {'max s':>8} {'lines/s':>10}"
    print(head + f" {'peak RSS MiB':>13}")
    rows: dict[str, dict] = {}
    for c in everyone:
        med = statistics.median(c.seconds)
        rows[c.name] = {
            "seconds": c.seconds,
            "median": med,
            "rss_mib": max(c.rss) / MIB,
        }
        print(
            f"{c.name:24} {med:9.2f} {min(c.seconds):8.2f} {max(c.seconds):8.2f} "
            f"{size / med:10,.0f} {max(c.rss) / MIB:13,.0f}"
        )
    ratios = {name: rows[ICE]["median"] / row["median"] for name, row in rows.items()}
    del ratios[ICE]
    speedup = ratios.pop(ICE_WORKERS)
    print(f"--workers {WORKERS} speed-up (CLI time / CLI -w{WORKERS} time): {speedup:.2f}x")
    if ratios:
        print(
            "ratios: " + "   ".join(f"ice_recon/{n.split()[0]} {r:.2f}x" for n, r in ratios.items())
        )
    same = filecmp.cmp(outs[ICE] / "results.csv", outs[ICE_WORKERS] / "results.csv", shallow=False)
    print(f"results.csv of -w{WORKERS} and of one process: {'identical' if same else 'DIFFERENT'}")
    measured = {
        "size": size,
        "generate_seconds": gen_seconds,
        "generate_rss_mib": gen_rss / MIB,
        "input_mib": input_bytes / MIB,
        "contenders": rows,
        "ratios": ratios,
        "speedup": speedup,
    }
    if stream_only:
        sys.stdout.flush()
        return measured
    stage_runs = timings["runs"]
    reconcile_median = statistics.median(r["total"] for r in stage_runs)
    print(
        f"{'reconcile() in-process':24} {reconcile_median:9.2f} "
        f"{min(r['total'] for r in stage_runs):8.2f} {max(r['total'] for r in stage_runs):8.2f} "
        f"{size / reconcile_median:10,.0f} {inproc_rss / MIB:13,.0f}  (RSS: load + reconcile)"
    )
    stages = {
        stage: statistics.median(r[stage] for r in stage_runs)
        for stage in stage_runs[0]
        if stage != "total"
    }
    print(
        f"reconcile() stages (median of {runs}; load and write once): load {timings['load']:.2f} s"
        + "".join(f", {stage} {sec:.2f} s" for stage, sec in stages.items())
        + f", write {timings['write']:.2f} s"
    )
    if timings.get("stats"):
        print("reconcile() stats: " + ", ".join(f"{k} {v:,}" for k, v in timings["stats"].items()))
    outputs = {name: outs[name] / "results.csv" for name in rows if name != ICE_WORKERS}
    for line in sanity(folder, outputs):
        print(line)
    sys.stdout.flush()
    return {
        **measured,
        "inprocess": {**timings, "median": reconcile_median, "rss_mib": inproc_rss / MIB},
        "stages": stages,
    }


def targets(results: dict[int, dict]) -> list[str]:
    """The issue-5 targets that these results can judge, each with its verdict."""
    text: list[str] = []
    sizes = sorted(results)
    for small, big in itertools.pairwise(sizes):
        a, b = results[small], results[big]
        cli = b["contenders"][ICE]["median"] / a["contenders"][ICE]["median"]
        growth = (
            f"growth {big // 1000:,}k/{small // 1000:,}k lines ({big // small}x): "
            f"ice_recon CLI {cli:.2f}x"
        )
        if "inprocess" in a and "inprocess" in b:
            rec = b["inprocess"]["median"] / a["inprocess"]["median"]
            growth += f", reconcile() {rec:.2f}x"
        text.append(growth)
    if 1_000_000 in results:
        m = results[1_000_000]
        cli = m["contenders"][ICE]
        checks: list[tuple[str, float, float]] = []  # (what, measured, limit): ok if <=
        if "duckdb SQL" in m["contenders"]:
            checks.append(("CLI time / DuckDB time", m["ratios"]["duckdb SQL"], 2.5))
        if "pandas int cents" in m["contenders"]:
            checks.append(("CLI time / pandas time (below 1)", m["ratios"]["pandas int cents"], 1))
        checks.append(("reconcile() on loaded inputs, s", m["inprocess"]["median"], 3.0))
        checks.append(("CLI peak RSS, GiB", cli["rss_mib"] / 1024, 1.0))
        checks.append((f"1 / (-w{WORKERS} speed-up) (>= 1.6x)", 1 / m["speedup"], 1 / 1.6))
        if 100_000 in results:
            base = results[100_000]["contenders"][ICE]["median"]
            checks.append(("CLI growth 1M/100k", cli["median"] / base, 11.0))
        text.append("issue-5 targets at 1M lines:")
        for what, got, limit in checks:
            verdict = "holds" if got <= limit else f"MISSED by {got / limit:.2f}x"
            text.append(f"  {what:36} {got:8.2f}  target <= {limit:g}: {verdict}")
    if 10_000_000 in results and 1_000_000 in results:
        ten = results[10_000_000]["contenders"][ICE]["rss_mib"]
        one = results[1_000_000]["contenders"][ICE]["rss_mib"]
        verdict = "holds" if ten <= 1.5 * one else f"MISSED by {ten / (1.5 * one):.2f}x"
        text.append(f"  10M CLI peak RSS / 1M: {ten / one:.2f}x  target <= 1.5: {verdict}")
    return text


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            kib = int(handle.readline().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for package in ("ice_recon", "duckdb", "pandas", "numpy"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    source = "unknown"
    try:
        root = HERE.parent
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        source = f"{head}{' + uncommitted changes in src/' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "source": source,
        "cpus": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000], metavar="N"
    )
    parser.add_argument("--runs", type=int, default=3, metavar="R")
    parser.add_argument("--with-10m", action="store_true", help="also run 10,000,000 lines")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep the generated data and outputs here"
    )
    args = parser.parse_args(argv)
    if not hasattr(os, "wait4"):
        print("harness.py needs os.wait4 (Linux, macOS) to measure peak RSS", file=sys.stderr)
        return 2
    sizes = sorted(set(args.sizes) | ({10_000_000} if args.with_10m else set()))
    info = machine()
    load_before = os.getloadavg()
    print(
        f"machine: {info['cpus']} CPUs, {info['memory']} memory, Python {info['python']}, "
        f"{info['platform']}"
    )
    print("packages: " + ", ".join(f"{k} {v}" for k, v in info["packages"].items()))
    print(f"ice_recon source: {info['source']}")
    print("load average before: " + " ".join(f"{x:.2f}" for x in load_before))
    print(f"runs per contender: {args.runs}, alternating; sizes: {', '.join(map(str, sizes))}")
    results: dict[int, dict] = {}
    tmp = None
    if args.workdir is None:
        tmp = tempfile.mkdtemp(prefix="ice-recon-bench-")
        work = Path(tmp)
    else:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    try:
        for size in sizes:
            results[size] = bench_size(size, args.runs, work / str(size))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    print()
    for line in targets(results):
        print(line)
    print("load average after: " + " ".join(f"{x:.2f}" for x in load_after))
    if args.json is not None:
        document = {
            "command": " ".join(sys.argv),
            "machine": info,
            "load_before": load_before,
            "load_after": load_after,
            "runs": args.runs,
            "results": {str(k): v for k, v in results.items()},
        }
        args.json.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
