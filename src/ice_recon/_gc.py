"""Pause the cyclic garbage collector around bulk work (internal).

Loading and reconciling allocate millions of small objects (cells, ints, list slots) that
never form reference cycles. CPython's cyclic collector still walks every live container
each time allocations outrun deallocations, which more than doubles the time of building
large columns. :func:`paused` disables it for the duration of one call and restores the
caller's setting afterwards; reference counting still frees everything as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused"]


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block, if it was enabled."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
