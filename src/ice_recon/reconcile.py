"""Run the pipeline: load → index → match → price → classify → report, and nothing else."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final

from ice_recon import _engine
from ice_recon._gc import paused
from ice_recon.classify import classify_chunk
from ice_recon.errors import ArgumentTypeError
from ice_recon.index import build
from ice_recon.load import Inputs, load
from ice_recon.match import MatchState, claim_exact, match_chunk, processing_order
from ice_recon.policy import Policy
from ice_recon.price import Pricer, price_chunk
from ice_recon.report import ChunkResult, Report, report
from ice_recon.tables import LineChunk

__all__ = [
    "CHUNK_LINES",
    "STAGES",
    "Stopwatch",
    "check_policy",
    "chunk_bounds",
    "reconcile",
    "run_stages",
    "stages",
]


def reconcile(
    inputs: Inputs | str | os.PathLike[str],
    *,
    policy: Policy | None = None,
    progress: Callable[[str, float], None] | None = None,
    engine: _engine.Engine = "auto",
) -> Report:
    """Reconcile every invoice line of *inputs* against the manifests and rate rules.

    *inputs* is an :class:`~ice_recon.load.Inputs` (from :func:`~ice_recon.load.load` or
    :func:`~ice_recon.load.load_files`) or a folder of input files, loaded leniently:
    malformed invoice lines become INVALID results and the problems are in
    :attr:`Report.problems`. The lines go through the stages in chunks of about
    :data:`CHUNK_LINES`, in processing order: every exact match is claimed first
    (:func:`~ice_recon.match.claim_exact`), then each chunk is matched (inference asks the
    pricer only for candidates' billable quantities), priced and classified.

    *progress*, if given, is called after each stage with its name and its duration in
    seconds (the CLI uses it to show progress on long runs).

    *engine* is ``"auto"`` (the default: ``"fast"`` when numpy and pyarrow can be imported),
    ``"python"`` (the pure-Python core) or ``"fast"`` (the accelerator of the ``fast`` extra,
    ``pip install 'ice-recon[fast]'``; it reads the large CSV files of a folder with
    pyarrow). The results are the same, byte for byte, whichever engine runs.

    >>> from ice_recon.cli import sample_dir
    >>> report = reconcile(sample_dir())
    >>> report.counts["MATCHED"] > 0, len(report.lines) == sum(report.counts.values())
    (True, True)
    """
    with paused(), _engine.using(engine):
        return _reconcile(inputs, policy, progress)


def _reconcile(
    inputs: Inputs | str | os.PathLike[str],
    policy: Policy | None,
    progress: Callable[[str, float], None] | None,
) -> Report:
    step = Stopwatch(progress)
    check_policy(policy)
    if not isinstance(inputs, Inputs | str | os.PathLike):
        raise ArgumentTypeError(
            f"inputs must be an Inputs or a folder path (got {type(inputs).__name__})"
        )
    if not isinstance(inputs, Inputs):
        inputs = load(inputs, engine=_engine.current())
        step("load")
    policy = policy or Policy()
    index = build(inputs)
    step("index")
    lines = inputs.invoice_lines
    order = processing_order(inputs)
    chunks = [
        LineChunk(lines, order[a:b], a)
        for a, b in chunk_bounds(lines.contract_id, lines.invoice_id, order)
    ]
    step("order")
    pricer = Pricer(index, policy.rounding)
    state = MatchState.new(len(inputs.manifests))
    for chunk in chunks:
        claim_exact(chunk, pricer, state)
    step("claim")
    results = run_stages(chunks, pricer, policy, state, step)
    result = report(inputs, results, state, index.trips, policy)
    step("report")
    return result


def check_policy(policy: object) -> None:
    """Raise :class:`~ice_recon.errors.ArgumentTypeError` unless *policy* is a Policy or None."""
    if policy is not None and not isinstance(policy, Policy):
        raise ArgumentTypeError(f"policy must be a Policy (got {type(policy).__name__})")


def run_stages(
    chunks: Iterable[LineChunk],
    pricer: Pricer,
    policy: Policy,
    state: MatchState,
    step: Stopwatch,
) -> list[ChunkResult]:
    """Match, price and classify each chunk in order; report each stage's total time."""
    spent = dict.fromkeys(STAGES, 0.0)
    results = list(stages(chunks, pricer, policy, state, spent))
    step.split(*spent.items())
    return results


#: The stages that run chunk by chunk, in order.
STAGES: Final = ("match", "price", "classify")


def stages(
    chunks: Iterable[LineChunk],
    pricer: Pricer,
    policy: Policy,
    state: MatchState,
    spent: dict[str, float],
) -> Iterator[ChunkResult]:
    """Yield each chunk matched, priced and classified, adding each stage's time to *spent*."""
    clock = time.perf_counter
    for chunk in chunks:
        t0 = clock()
        m = match_chunk(chunk, pricer, policy, state)
        t1 = clock()
        p = price_chunk(chunk, m.trip, pricer)
        t2 = clock()
        c = classify_chunk(chunk, m, p, policy)
        t3 = clock()
        spent["match"] += t1 - t0
        spent["price"] += t2 - t1
        spent["classify"] += t3 - t2
        yield ChunkResult(chunk, m, p, c)


#: Lines per chunk: small enough that a chunk's columns stay in the processor's cache.
CHUNK_LINES: Final = 1024


def chunk_bounds(
    contract_ids: Sequence[str],
    invoice_ids: Sequence[str],
    order: Sequence[int],
    size: int = CHUNK_LINES,
) -> Iterator[tuple[int, int]]:
    """Yield (start, end) positions of *order* in chunks of about *size* lines.

    A chunk ends only where the invoice changes, so the rows of one invoice (and the
    INVALID copies of a duplicated line key) are always in one chunk.
    """
    n = len(order)
    start = 0
    while start < n:
        end = min(start + size, n)
        while end < n:
            a, b = order[end - 1], order[end]
            if invoice_ids[a] != invoice_ids[b] or contract_ids[a] != contract_ids[b]:
                break
            end += 1
        yield start, end
        start = end


class Stopwatch:
    """Call *progress* with each stage's name and the seconds since the previous stage."""

    def __init__(self, progress: Callable[[str, float], None] | None) -> None:
        self.progress = progress
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        if self.progress is not None:
            self.progress(stage, now - self.last)
        self.last = now

    def split(self, *stages: tuple[str, float]) -> None:
        """Report interleaved stages with the seconds each took, in all, since the last step."""
        now = time.perf_counter()
        if self.progress is not None:
            for stage, seconds in stages:
                self.progress(stage, seconds)
        self.last = now
