"""Run the pipeline: load → index → match → price → classify → report, and nothing else."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from ice_recon._gc import paused
from ice_recon.classify import classify
from ice_recon.index import build
from ice_recon.load import Inputs, load
from ice_recon.match import match
from ice_recon.policy import Policy
from ice_recon.report import Report, report

__all__ = ["reconcile"]


def reconcile(
    inputs: Inputs | str | os.PathLike[str],
    *,
    policy: Policy | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Report:
    """Reconcile every invoice line of *inputs* against the manifests and rate rules.

    *inputs* is an :class:`~ice_recon.load.Inputs` (from :func:`~ice_recon.load.load` or
    :func:`~ice_recon.load.load_files`) or a folder of input files, loaded leniently:
    malformed invoice lines become INVALID results and the problems are in
    :attr:`Report.problems`. Pricing happens inside the match stage (a line is priced
    against the trip it is matched to, and inference compares candidates' prices).

    *progress*, if given, is called after each stage with its name and its duration in
    seconds (the CLI uses it to show progress on long runs).

    >>> from ice_recon.cli import sample_dir
    >>> report = reconcile(sample_dir())
    >>> report.counts["MATCHED"] > 0, len(report.lines) == sum(report.counts.values())
    (True, True)
    """
    with paused():
        return _reconcile(inputs, policy, progress)


def _reconcile(
    inputs: Inputs | str | os.PathLike[str],
    policy: Policy | None,
    progress: Callable[[str, float], None] | None,
) -> Report:
    step = Stopwatch(progress)
    if not isinstance(inputs, Inputs):
        inputs = load(inputs)
        step("load")
    policy = policy or Policy()
    index = build(inputs)
    step("index")
    matching = match(inputs, index, policy)
    step("match and price")
    classified = classify(inputs, index, matching, policy)
    step("classify")
    result = report(inputs, matching, classified)
    step("report")
    return result


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
