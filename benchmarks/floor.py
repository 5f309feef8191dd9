"""Time the bare chunked split of an input folder: the floor that loading is compared with.

Run: ``python benchmarks/floor.py INPUT_DIR [--runs R]``. For every CSV file of the folder,
the bytes are read in blocks of 4 MiB, each block cut at its last line end, decoded and
split into lines, and every 2,048 lines split into cells and sliced into columns — what any
reader of these files must do at least, with no cell checked, converted or kept. Loading
(``ice_recon.load``) does this and then validates and converts every cell; issue 9 asks it to
take at most twice this floor. ``benchmarks/harness.py`` imports :func:`split_folder`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

BLOCK = 1 << 22
LINES = 2048


def split_file(path: Path) -> int:
    """Split *path* into column chunks, keeping nothing; return the number of cells."""
    cells_seen = 0
    width = 0
    carry = b""
    with path.open("rb") as f:
        while True:
            data = f.read(BLOCK)
            end = not data
            data = carry + data
            if not data:
                break
            cut = len(data) if end else data.rfind(b"\n") + 1
            block, carry = data[:cut], data[cut:]
            lines = block.decode("utf-8", errors="surrogateescape").split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            if not width and lines:
                width = lines[0].count(",") + 1
                lines = lines[1:]
            for a in range(0, len(lines), LINES):
                cells = ",".join(lines[a : a + LINES]).split(",")
                columns = [cells[j::width] for j in range(width)]
                cells_seen += sum(map(len, columns))
            if end:
                break
    return cells_seen


def split_folder(folder: Path) -> float:
    """Return the seconds the bare chunked split of every CSV file of *folder* takes."""
    started = time.perf_counter()
    for path in sorted(folder.glob("*.csv")):
        split_file(path)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("input_dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    times = [split_folder(args.input_dir) for _ in range(args.runs)]
    print(f"bare chunked split: median {statistics.median(times):.3f} s of {args.runs} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
