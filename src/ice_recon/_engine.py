"""Which engine runs: the pure-Python core, or the optional accelerator (internal).

``engine="python"`` is the pure-Python core; ``engine="fast"`` uses the accelerator of the
``fast`` extra (``pip install 'ice-recon[fast]'``: numpy and pyarrow) where it has a path,
and the core everywhere else; ``engine="auto"`` (the default) is ``"fast"`` when numpy and
pyarrow can be imported, else ``"python"``. Both engines give the same bytes.

The engine in force is a context variable set by :func:`using` around a run, so the core
asks :func:`fast` at the few places the accelerator hooks in, and never imports it
otherwise.

>>> resolve("python"), resolve("auto") in ("python", "fast")
('python', True)
>>> with using("python"):
...     fast()
False
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib.util
from collections.abc import Iterator
from typing import Final, Literal

from ice_recon.errors import ArgumentError, IceReconError

__all__ = [
    "ENGINES",
    "Engine",
    "EngineUnavailableError",
    "available",
    "current",
    "fast",
    "resolve",
    "using",
]

Engine = Literal["auto", "python", "fast"]
#: The engines a caller may name.
ENGINES: Final = ("auto", "python", "fast")

_CURRENT: Final[contextvars.ContextVar[str]] = contextvars.ContextVar(
    "ice_recon_engine", default="python"
)


class EngineUnavailableError(IceReconError, ImportError):
    """``engine="fast"`` was asked for, but numpy or pyarrow cannot be imported."""


@functools.cache
def available() -> bool:
    """Return whether the accelerator's packages (numpy, pyarrow) are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("numpy", "pyarrow"))


def resolve(engine: str) -> str:
    """Return ``"python"`` or ``"fast"`` for the engine a caller named.

    Raises:
        ArgumentError: *engine* is not one of :data:`ENGINES` (a ``ValueError``).
        EngineUnavailableError: ``"fast"`` without numpy and pyarrow (an ``ImportError``).
    """
    if engine not in ENGINES:
        raise ArgumentError(f"engine must be one of {', '.join(ENGINES)} (got {engine!r})")
    if engine == "auto":
        return "fast" if available() else "python"
    if engine == "fast" and not available():
        raise EngineUnavailableError(
            "engine='fast' needs numpy and pyarrow: pip install 'ice-recon[fast]'"
        )
    return engine


@contextlib.contextmanager
def using(engine: str) -> Iterator[str]:
    """Run the block with *engine* in force (resolved); yield the resolved name."""
    token = _CURRENT.set(resolve(engine))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


def current() -> Engine:
    """Return the engine in force (``"python"`` outside :func:`using`)."""
    return "fast" if fast() else "python"


def fast() -> bool:
    """Return whether the accelerator is in force."""
    return _CURRENT.get() == "fast"
