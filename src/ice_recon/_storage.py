"""Where a partitioned dataset is: a local folder, or an fsspec URL (``s3://…``) (internal)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from ice_recon.errors import MissingExtraError


def is_url(root: str | os.PathLike[str]) -> bool:
    return isinstance(root, str) and "://" in root


def filesystem(root: str) -> tuple[Any, str]:
    """Return the fsspec file system of the URL *root* and the path in it."""
    try:
        core = importlib.import_module("fsspec.core")
    except ImportError as exc:
        raise MissingExtraError(
            f"{root}: reading a dataset at a URL needs fsspec: pip install 'ice-recon[dask]' "
            f"(or fsspec and the package of the URL's file system) ({exc})"
        ) from exc
    fs, path = core.url_to_fs(root)
    return fs, str(path).rstrip("/")


def listing(root: str | os.PathLike[str]) -> tuple[list[str], list[tuple[str, int]]]:
    """Return the folders and the (file, size) of the folder or URL *root*, sorted by name."""
    if is_url(root):
        fs, path = filesystem(str(root))
        entries = fs.ls(path, detail=True)
        folders = sorted(
            e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e["type"] == "directory"
        )
        files = sorted(
            (e["name"].rsplit("/", 1)[-1], int(e.get("size") or 0))
            for e in entries
            if e["type"] != "directory"
        )
        return folders, files
    folder = Path(root)
    names = sorted(os.listdir(folder))
    return (
        [n for n in names if (folder / n).is_dir()],
        [(n, (folder / n).stat().st_size) for n in names if (folder / n).is_file()],
    )


def join(root: str, *names: str) -> str:
    if is_url(root):
        return "/".join([root.rstrip("/"), *names])
    return os.path.join(root, *names)
