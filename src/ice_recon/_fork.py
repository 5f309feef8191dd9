"""Run functions in forked worker processes that share this process's memory (internal).

Forked processes see every object of the parent as it was at the fork (copy-on-write), so
the resident tables and indexes need not be pickled to them; only arguments that are
small (an index) and results go through pipes. Workers read what they share from
:data:`shared`, set only while a pool is open. A worker that dies (killed, out of memory)
makes the pool raise ``BrokenProcessPool`` instead of waiting for ever. When the parent
stops early (an error, Ctrl-C, SIGTERM), the workers are killed: they ignore SIGINT and take
SIGTERM's default action, leaving interruptions to the parent, which cleans up.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: What the processes of the open pool share with their parent.
shared: Any = None


@contextmanager
def pool(count: int, state: object) -> Iterator[concurrent.futures.ProcessPoolExecutor]:
    """Open a pool of *count* forked processes that share *state* (as :data:`shared`)."""
    global shared
    shared = state
    try:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(
            count, mp_context=context, initializer=_worker_signals
        ) as executor:
            try:
                yield executor
            except BaseException:
                _kill(executor)
                raise
    finally:
        shared = None


def _worker_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _kill(executor: concurrent.futures.ProcessPoolExecutor) -> None:
    """Stop the workers now, instead of waiting for their work to end."""
    processes = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            process.kill()
    executor.shutdown(wait=False, cancel_futures=True)


def forked(function: Callable[[int], Any], count: int, state: object) -> list[Any]:
    """Return ``[function(k) for k in range(count)]``, computed in *count* forked processes."""
    with pool(count, state) as executor:
        return list(executor.map(function, range(count)))
