"""Benchmark the ``ice-recon`` CLI against DuckDB and pandas peers, in one run, on the same files.

Run: ``.venv/bin/python benchmarks/harness.py [--sizes 10000 100000 1000000] [--runs 3]
[--with-10m] [--json FILE] [--workdir DIR]`` (peers: ``pip install -r
benchmarks/requirements.txt``; a peer whose package is missing is skipped with a message).

For each size N, a folder is generated once with ``ice_recon.generate`` (N lines, the
generator's default trips for N lines, ``default_trips(N)``, 2/7 of the lines, 8 contracts,
seed 1; its time is reported apart). Then, R times, in alternation on that folder, each
contender runs as a separate process, whole process, CSV in -> CSV out:

- ``ice-recon reconcile DIR --out OUT --quiet``, the real CLI, full DESIGN semantics,
  streaming in one process;
- the same with ``--workers 2`` (its results.csv is compared with the one-process file);
- ``peers/duckdb_peer.py``, the common core in one DuckDB SQL statement (DECIMAL, no DOUBLE);
- ``peers/pandas_peer.py``, the common core in vectorized pandas with int64 cents.

The wall time of each process is measured around it, and its peak RSS is read from the
``wait4`` resource usage of that one child (what GNU ``time -f %M`` reports: for a run with
workers, the largest single process, not the sum). After the contenders of each run, the
harness itself times the loading floor, ``floor.split_folder`` (the bare chunked split of
the folder's CSV files, nothing checked or kept). Then ``inprocess.py`` runs in a child:
``ice_recon.load`` R times, ``ice_recon.reconcile()`` (in memory) R times on the loaded
inputs with its per-stage times (``progress=``), and one ``Report.write``.

From 10M lines on (``--with-10m``) only the two ice_recon contenders run, once each: the
peers and the in-memory ``reconcile()`` would hold every line in memory. A size above 1M
lines is generated with the trips of the 1M folder (``default_trips(1M)``) and the same
seed; the generator writes the manifest, roster, rates and fuel files before billing, from
the trips, contracts and seed alone, so these resident files are byte for byte those of
the 1M folder (checked when the 1M size ran too) and the 10M run streams ten times the
lines against the same resident tables. With ten times the lines for the same trips,
billing starts over with the first trips, so most of those lines are DUPLICATE.

Per size the table shows median seconds, lines/s, peak RSS and the ratios ice_recon/peer;
then the loading floor beside ``ice_recon.load`` (medians, and load / floor), the candidate
pairs inference examined per line, the in-process profile as a Markdown table (stage,
median seconds, microseconds per line, load and write included) and a sanity check of the
peers (MATCHED counts beside ice_recon's, on all lines and on the lines of plain-rate CLINs
where the common core and the full semantics agree). At the end: the growth ratio and the
pairs per line between sizes, and issue 9's targets at 1M lines, each with its measured
value, limit and verdict ("not measured" when a peer or a size did not run). Timings on a
shared machine are noisy: compare ratios measured in one run.
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

from floor import split_folder

from ice_recon.generate import default_trips

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
#: many lines get the trips of this size, hence its resident files, so that the 10M run
#: streams 10x the lines of the 1M run against the same resident tables.
RESIDENT_LINES = 1_000_000
#: The files the generator writes from the trips, contracts and seed alone.
RESIDENT_FILES = ("manifests.csv", "staff.csv", "rates.csv", "fuel_rules.csv", "fuel_index.csv")
#: From this size on only ice_recon runs (once): the peers and the in-memory reconcile()
#: would hold every line in memory.
STREAM_ONLY = 10_000_000
MATCHED = "MATCHED"
CORE_BASES = frozenset({"loaded_miles", "wait_hours", "passengers", "trip", "cancellation"})
DUCKDB = "duckdb SQL"
PANDAS = "pandas int cents"
POLARS = "polars int cents"
ICE_FAST = "ice_recon CLI fast"
ICE_FAST_WORKERS = f"ice_recon CLI fast -w{WORKERS}"
#: The accelerated contenders: their results.csv must be the Python engine's bytes.
FAST = (ICE_FAST, ICE_FAST_WORKERS)


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
        """The command line that reconciles *folder* into the output folder *out*."""
        if self.package is None:
            script = Path(sys.executable).parent / "ice-recon"
            head = [str(script)] if script.exists() else [sys.executable, "-m", "ice_recon.cli"]
            return [*head, "reconcile", str(folder), "--out", str(out), "--quiet", *self.options]
        peer = PEERS / f"{self.package}_peer.py"
        return [sys.executable, str(peer), str(folder), str(out / self.results)]


def contenders(*, peers: bool = True) -> list[Contender]:
    """The contenders whose packages are installed; say which are skipped and why."""
    found = [
        Contender(ICE, None, "results.csv", ("--engine", "python")),
        Contender(
            ICE_WORKERS, None, "results.csv", ("--engine", "python", "--workers", str(WORKERS))
        ),
    ]
    if importlib.util.find_spec("pyarrow") and importlib.util.find_spec("numpy"):
        found.append(Contender(ICE_FAST, None, "results.csv", ("--engine", "fast")))
        found.append(
            Contender(
                ICE_FAST_WORKERS,
                None,
                "results.csv",
                ("--engine", "fast", "--workers", str(WORKERS)),
            )
        )
    else:
        print("note: pyarrow/numpy are not installed: skipping the fast engine", flush=True)
    if not peers:
        return found
    for name, package in ((DUCKDB, "duckdb"), (PANDAS, "pandas"), (POLARS, "polars")):
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


def trips_for(size: int) -> int:
    """The trips of the folder of *size* lines: the generator's default, at most 1M lines'."""
    return default_trips(min(size, RESIDENT_LINES))


def input_folder(root: Path, size: int) -> Path:
    """Where the input folder of *size* lines is generated under the work folder *root*."""
    return root / str(size) / f"in-{size}"


def generate(folder: Path, size: int, log: Path) -> tuple[float, int]:
    """Generate the input folder in a child process; return (seconds, peak RSS bytes)."""
    code = (
        "import sys; from ice_recon.generate import generate; "
        "generate(sys.argv[1], lines=int(sys.argv[2]), trips=int(sys.argv[3]), "
        f"contracts={CONTRACTS}, seed={SEED})"
    )
    command = [sys.executable, "-c", code, str(folder), str(size), str(trips_for(size))]
    return spawn(command, log)


def same_resident_files(a: Path, b: Path) -> bool:
    """Whether folders *a* and *b* have byte-identical manifest, roster, rates and fuel files."""
    return all(filecmp.cmp(a / n, b / n, shallow=False) for n in RESIDENT_FILES)


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


def inprocess(folder: Path, runs: int, work: Path, engine: str = "python") -> tuple[dict, int]:
    """Run inprocess.py in a child (with *engine*); return its timings and its peak RSS."""
    target = work / f"inprocess-{engine}.json"
    command = [sys.executable, str(HERE / "inprocess.py"), str(folder), "--runs", str(runs)]
    command += ["--out", str(work / f"out-inprocess-{engine}"), "--json", str(target)]
    command += ["--engine", engine]
    _, rss = spawn(command, work / "inprocess.log")
    return json.loads(target.read_text(encoding="utf-8")), rss


def bench_size(size: int, runs: int, root: Path) -> dict:
    """Generate, run every contender *runs* times in alternation, print the tables."""
    folder = input_folder(root, size)
    work = folder.parent
    work.mkdir(parents=True, exist_ok=True)
    gen_seconds, gen_rss = generate(folder, size, work / f"generate-{size}.log")
    input_bytes = sum(p.stat().st_size for p in folder.iterdir())
    stream_only = size >= STREAM_ONLY
    if stream_only:
        runs = 1
    print(
        f"\n== {size:,} invoice lines, {trips_for(size):,} trips, {CONTRACTS} contracts, "
        f"seed {SEED}: "
        f"generated in {gen_seconds:.1f} s (peak RSS {gen_rss / MIB:,.0f} MiB), "
        f"inputs {input_bytes / MIB:,.1f} MiB",
        flush=True,
    )
    reference = input_folder(root, RESIDENT_LINES)
    if size > RESIDENT_LINES and reference.is_dir():
        same = same_resident_files(folder, reference)
        print(
            f"resident files ({', '.join(RESIDENT_FILES)}) and those of the "
            f"{RESIDENT_LINES:,}-line folder: {'identical' if same else 'DIFFERENT'}"
        )
    everyone = contenders(peers=not stream_only)
    outs = {
        c.name: work / f"out-{size}-{c.package or 'ice_recon'}{'-'.join(('', *c.options))}"
        for c in everyone
    }
    for out in outs.values():
        out.mkdir(parents=True, exist_ok=True)
    floor_seconds: list[float] = []
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
        if not stream_only:
            floor_seconds.append(split_folder(folder))
            print(f"  run {run + 1}/{runs} {'bare chunked split':18} {floor_seconds[-1]:8.2f} s")
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
    for name in FAST:
        ratios.pop(name, None)
    if DUCKDB in rows:
        for name in (name for name in FAST if name in rows):
            quotient_ = rows[name]["median"] / rows[DUCKDB]["median"]
            rss = rows[name]["rss_mib"] / rows[DUCKDB]["rss_mib"]
            print(f"{name} / duckdb: time {quotient_:.2f}x, peak RSS {rss:.2f}x (target <= 1)")
    for name in (name for name in FAST if name in rows):
        same_ = filecmp.cmp(outs[ICE] / "results.csv", outs[name] / "results.csv", shallow=False)
        verdict_ = "identical" if same_ else "DIFFERENT"
        print(f"results.csv of {name} and of the Python engine: {verdict_}")
    print(f"--workers {WORKERS} speed-up (CLI time / CLI -w{WORKERS} time): {speedup:.2f}x")
    if ratios:
        print(
            "ratios: " + "   ".join(f"ice_recon/{n.split()[0]} {r:.2f}x" for n, r in ratios.items())
        )
    same = filecmp.cmp(outs[ICE] / "results.csv", outs[ICE_WORKERS] / "results.csv", shallow=False)
    print(f"results.csv of -w{WORKERS} and of one process: {'identical' if same else 'DIFFERENT'}")
    measured = {
        "size": size,
        "trips": trips_for(size),
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
    floor = statistics.median(floor_seconds)
    load = timings["load"]
    print(
        f"loading (medians of {runs}): ice_recon.load {load:.3f} s, bare chunked split "
        f"{floor:.3f} s: load / floor {load / floor:.2f}x (target <= 2)"
    )
    if timings.get("stats"):
        print("reconcile() stats: " + ", ".join(f"{k} {v:,}" for k, v in timings["stats"].items()))
    pairs = timings.get("stats", {}).get("candidate_pairs")
    pairs_per_line = None if pairs is None else pairs / size
    if pairs_per_line is not None:
        print(f"candidate pairs examined per line: {pairs_per_line:.3f} (must stay bounded)")
    stages = stage_medians(timings["runs"])
    steps = {"load": load, **stages, "write": timings["write"]}
    total = load + reconcile_median + timings["write"]
    print(f"\nprofile at {size:,} lines (medians of {runs}; write once):\n")
    for line in profile_table(size, steps, total):
        print(line)
    print()
    fast_profile = None
    if ICE_FAST in rows:
        fast, _ = inprocess(folder, runs, work, "fast")
        fast_steps = {"load": fast["load"], **stage_medians(fast["runs"]), "write": fast["write"]}
        fast_total = sum(fast_steps.values())
        fast_profile = {**fast_steps, "total": fast_total}
        print(f"profile at {size:,} lines with the fast engine (medians of {runs}; write once):\n")
        for line in profile_table(size, fast_steps, fast_total):
            print(line)
        print()
    outputs = {
        name: outs[name] / "results.csv"
        for name in rows
        if name != ICE_WORKERS and name not in FAST
    }
    for line in sanity(folder, outputs):
        print(line)
    sys.stdout.flush()
    return {
        **measured,
        "inprocess": {**timings, "median": reconcile_median, "rss_mib": inproc_rss / MIB},
        "floor": {"seconds": floor_seconds, "median": floor},
        "load_over_floor": load / floor,
        "pairs_per_line": pairs_per_line,
        "stages": stages,
        "profile": {**steps, "total": total},
        "profile_fast": fast_profile,
    }


def stage_medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Median seconds of each stage ``reconcile(progress=...)`` reported, in its order."""
    return {s: statistics.median(r[s] for r in runs) for s in runs[0] if s != "total"}


def profile_table(size: int, steps: dict[str, float], total: float) -> list[str]:
    """The profile as Markdown table lines: stage, seconds, microseconds per line; total."""
    text = ["| stage | s | µs/line |", "|---|---:|---:|"]
    for step, seconds in {**steps, "total (load + reconcile() + write)": total}.items():
        text.append(f"| {step} | {seconds:.3f} | {seconds / size * 1e6:.2f} |")
    return text


def verdict(got: float | None, limit: float, strict: bool) -> str:
    """'holds', 'MISSED by Nx' or 'not measured' for *got* against *limit* (< if *strict*)."""
    if got is None:
        return "not measured"
    if got < limit if strict else got <= limit:
        return "holds"
    return f"MISSED by {got / limit:.2f}x"


def median_of(result: dict | None, name: str) -> float | None:
    """The median seconds of contender *name* in one size's *result*, None if it did not run."""
    row = (result or {}).get("contenders", {}).get(name)
    return None if row is None else row["median"]


def quotient(a: float | None, b: float | None) -> float | None:
    """a / b, or None if either is missing."""
    return None if a is None or b is None else a / b


def targets(results: dict[int, dict]) -> list[dict]:
    """Issue 9's targets, each with its measured value (None: not measured), limit, verdict."""
    one = results.get(1_000_000)
    ten = results.get(10_000_000)
    cli = median_of(one, ICE)
    inproc = (one or {}).get("inprocess", {}).get("median")
    rss = None if one is None else one["contenders"][ICE]["rss_mib"] / 1024
    rss10 = None if ten is None else ten["contenders"][ICE]["rss_mib"] / 1024
    with_pandas = [s for s in sorted(results) if median_of(results[s], PANDAS) is not None]
    worst = max(
        (quotient(median_of(results[s], ICE), median_of(results[s], PANDAS)) for s in with_pandas),
        default=None,
    )
    sizes = ", ".join(f"{s:,}" for s in with_pandas) or "none"
    checks = [  # (what, measured, limit, unit, strict)
        ("CLI one process / DuckDB", quotient(cli, median_of(one, DUCKDB)), 4, "x", False),
        (
            f"CLI --workers {WORKERS} / DuckDB",
            quotient(median_of(one, ICE_WORKERS), median_of(one, DUCKDB)),
            2.5,
            "x",
            False,
        ),
        ("reconcile() on loaded inputs", inproc, 4, "s", False),
        ("load / bare chunked split", (one or {}).get("load_over_floor"), 2, "x", False),
        ("CLI peak RSS, one process", rss, 1, "GiB", False),
        ("10M streamed CLI peak RSS / 1M's", quotient(rss10, rss), 1.3, "x", False),
        (
            "CLI time 1M / 100k",
            quotient(cli, median_of(results.get(100_000), ICE)),
            10.5,
            "x",
            False,
        ),
        (f"CLI / pandas, worst of sizes {sizes}", worst, 1, "x", True),
    ]
    return [
        {
            "target": what,
            "measured": got,
            "unit": unit,
            "comparison": "<" if strict else "<=",
            "limit": limit,
            "verdict": verdict(got, limit, strict),
        }
        for what, got, limit, unit, strict in checks
    ]


def summary(results: dict[int, dict]) -> list[str]:
    """Growth and pairs per line between sizes, then the targets as a Markdown table."""
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
    pairs = {
        s: r["pairs_per_line"] for s, r in results.items() if r.get("pairs_per_line") is not None
    }
    if pairs:
        text.append(
            "candidate pairs examined per line: "
            + ", ".join(f"{s:,} lines {p:.3f}" for s, p in pairs.items())
        )
    text += ["", "issue 9 targets at 1M lines:", ""]
    text += ["| target | measured | limit | verdict |", "|---|---:|---:|---|"]
    for t in targets(results):
        unit = t["unit"] if t["unit"] == "x" else f" {t['unit']}"
        got = "not measured" if t["measured"] is None else f"{t['measured']:.2f}{unit}"
        limit = f"{t['comparison']} {t['limit']:g}{unit}"
        text.append(f"| {t['target']} | {got} | {limit} | {t['verdict']} |")
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
    """Parse the options, run every size, print the summary; return the exit status."""
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
            results[size] = bench_size(size, args.runs, work)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    print()
    for line in summary(results):
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
            "targets": targets(results),
        }
        args.json.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
