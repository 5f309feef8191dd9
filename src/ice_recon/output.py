"""The output folder of a run: every file under a temporary name, renamed into place at the end.

A folder with a ``summary.json`` holds one complete set of files (DESIGN section 6):
:func:`prepare_output` removes the ``summary.json`` of an earlier run before anything is
read, :class:`OutputSet` writes each file under a temporary name and renames them all, in
:data:`OUTPUT_FILES` order, once every one is complete; :func:`output_errors` turns an
``OSError`` on the way into an :class:`~ice_recon.errors.OutputError` naming the path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from ice_recon.errors import ArgumentTypeError, OutputError

__all__ = ["OUTPUT_FILES", "OUTPUT_TABLES", "OutputSet", "output_errors", "prepare_output"]

#: The output tables, each written as ``NAME.csv`` (or ``.jsonl``, ``.parquet``).
OUTPUT_TABLES: Final = (
    "results",
    "unbilled",
    "invoices",
    "by_invoice",
    "oversight",
    "contracts",
    "capacity",
    "problems",
)

#: The output files, in the order they are renamed into place: ``summary.json``, written
#: last, says that the set is complete (DESIGN section 6).
OUTPUT_FILES: Final = (
    "unbilled.csv",
    "invoices.csv",
    "by_invoice.csv",
    "oversight.csv",
    "contracts.csv",
    "capacity.csv",
    "problems.csv",
    "results.csv",
    "summary.json",
)
#: The output files of every format (``format="jsonl"`` and ``"parquet"`` write the tables
#: as ``NAME.jsonl`` or ``NAME.parquet``), in the order they are renamed into place.
_ALL_FILES: Final = (
    *(
        f"{name.removesuffix('.csv')}.{suffix}"
        for name in OUTPUT_FILES[:-1]
        for suffix in ("csv", "jsonl", "parquet")
    ),
    "summary.json",
)


class OutputSet:
    """Write a run's output files under temporary names, then rename them into place.

    Entering removes a ``summary.json`` left by an earlier run (the mark of a complete
    set) and checks that the folder can hold the files. :meth:`path` names the temporary
    file of an output; :meth:`commit` renames every file written into place, in
    :data:`OUTPUT_FILES` order (``summary.json`` last). Leaving without a commit (an error,
    an interruption) deletes the temporary files. Any :class:`OSError` on the output folder
    becomes an :class:`~ice_recon.errors.OutputError` naming the path.
    """

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.folder = Path(out_dir)
        self._temps: dict[str, Path] = {}
        self._current: Path = self.folder

    def __enter__(self) -> OutputSet:
        prepare_output(self.folder)
        return self

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        temps = {str(t) for t in self._temps.values()}
        for temp in self._temps.values():
            with contextlib.suppress(OSError):  # the folder went away: nothing to leave
                temp.unlink(missing_ok=True)
        self._temps.clear()
        if isinstance(error, OSError) and not isinstance(error, OutputError):
            name = error.filename
            if name is not None and str(name) in temps:
                error.filename = None  # name the output file, not its temporary name
            elif name is not None and Path(name).parent != self.folder:
                return  # not an output file (a spill file, an input): left as it is
            raise _output_error(self._current, error) from error

    def path(self, name: str) -> Path:
        """Return the temporary path for the output file *name* (one of OUTPUT_FILES)."""
        assert name in _ALL_FILES, name
        temp = self._temps.get(name) or self.folder / f".{name}.{os.getpid()}.part"
        self._temps[name] = temp
        self._current = self.folder / name
        return temp

    def write_lines(self, name: str, lines: Iterable[str]) -> None:
        """Write the output file *name* (UTF-8) from *lines*, under its temporary name."""
        with self.path(name).open("wb") as f:
            buffer: list[str] = []
            size = 0
            for line in lines:
                buffer.append(line)
                size += len(line)
                if size >= 1 << 20:
                    f.write("".join(buffer).encode("utf-8"))
                    buffer.clear()
                    size = 0
            f.write("".join(buffer).encode("utf-8"))

    def discard(self, name: str) -> None:
        """Delete the temporary file of *name*: it is not an output of this set after all."""
        temp = self._temps.pop(name, None)
        if temp is not None:
            temp.unlink(missing_ok=True)

    def commit(self) -> None:
        """Rename every file written into place, ``summary.json`` last."""
        for name in _ALL_FILES:
            target = self.folder / name
            if name in self._temps and target.is_dir():
                raise OutputError(str(target), "it is a folder")
        for name in _ALL_FILES:
            temp = self._temps.get(name)
            if temp is None:
                continue
            self._current = self.folder / name
            os.replace(temp, self._current)
            del self._temps[name]


def prepare_output(out_dir: str | os.PathLike[str]) -> Path:
    """Make *out_dir* ready for a run's files; remove a ``summary.json`` of an earlier run.

    Raises:
        OutputError: *out_dir* is (or is under) a file, cannot be created or written, or
            one of the output names is a folder.
        ArgumentTypeError: *out_dir* is not a path.
    """
    if not isinstance(out_dir, str | os.PathLike):
        raise ArgumentTypeError(f"out_dir must be a path (got {type(out_dir).__name__})")
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(str(folder), "not a folder") from None
    except OSError as exc:
        raise _output_error(folder, exc) from exc
    for name in OUTPUT_FILES:
        if (folder / name).is_dir():
            raise OutputError(str(folder / name), "it is a folder")
    try:
        (folder / "summary.json").unlink(missing_ok=True)
        probe = folder / f".probe.{os.getpid()}.part"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise _output_error(folder, exc) from exc
    return folder


def _output_error(path: Path, error: OSError) -> OutputError:
    where = error.filename if error.filename is not None else path
    return OutputError(str(where), error.strerror or str(error), error.errno)


@contextlib.contextmanager
def output_errors(out_dir: object) -> Iterator[None]:
    """Turn an ``OSError`` while writing outputs into an :class:`OutputError` naming the path."""
    if not isinstance(out_dir, str | os.PathLike):
        raise ArgumentTypeError(f"out_dir must be a path (got {type(out_dir).__name__})")
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        path = exc.filename if exc.filename is not None else out_dir
        raise OutputError(os.fsdecode(path), exc.strerror or str(exc), exc.errno) from exc
