"""Mutation tests of the loader and the CLI (issue 10, item 11).

The bundled sample folder is mutated the way a fuzzer would (byte flips, truncation, stray
quotes, NUL, BOMs, CRLF, invalid UTF-8, huge cells and numbers, exponents, NaN, unicode
digits, duplicated and missing columns, a missing file), and then loaded, reconciled and run
through ``ice-recon reconcile``. Whatever the damage: no exception but an ``IceReconError``,
no traceback from the CLI, and whenever reconcile runs, every data line of
``invoice_lines.csv`` is in ``results.csv`` exactly once. The default run is short; ``-m
slow`` runs many more cases.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ice_recon
from ice_recon import IceReconError
from ice_recon.cli import main, sample_dir

FILES = (
    "invoice_lines.csv",
    "rates.csv",
    "manifests.csv",
    "fuel_rules.csv",
    "fuel_index.csv",
    "staff.csv",
    "invoices.csv",
)
SAMPLE = {p.name: p.read_bytes() for p in sample_dir().iterdir() if p.suffix == ".csv"}

#: Cell texts a fuzzer likes: huge, exponents, NaN, unicode digits, signs, separators.
NASTY_CELLS = (
    "9" * 5000,
    "1." + "5" * 300,
    "x" * 140_000,
    "1e3",
    "NaN",
    "-inf",
    "١٢٣",
    "+5",
    "1,234.50",
    "",
    "\x00",
    '"',
    '"a""b"',
    "0001-01-01",
    "9999-12-31",
    "5000",
)

Mutation = Callable[[bytes], bytes]


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, bytes | None]:
    """Draw a file name and its mutated bytes (None: the file is removed)."""
    name = draw(st.sampled_from(FILES))
    data = SAMPLE[name]
    kind = draw(
        st.sampled_from(
            [
                "flip",
                "truncate",
                "insert",
                "bom",
                "crlf",
                "cell",
                "dup-column",
                "drop-column",
                "remove",
            ]
        )
    )
    if kind == "remove":
        return name, None
    if kind == "flip":
        at = draw(st.integers(0, len(data) - 1))
        return name, data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if kind == "truncate":
        return name, data[: draw(st.integers(0, len(data)))]
    if kind == "insert":
        at = draw(st.integers(0, len(data)))
        piece = draw(st.sampled_from([b'"', b"\x00", b"\xff\xfe", b"\r", b"\n", b",", b"\xc3"]))
        return name, data[:at] + piece + data[at:]
    if kind == "bom":
        return name, draw(st.sampled_from([b"\xef\xbb\xbf", b"\xef\xbb\xbf" * 2])) + data
    if kind == "crlf":
        return name, data.replace(b"\n", b"\r\n")
    lines = data.decode("utf-8").split("\n")
    header = lines[0].split(",")
    if kind in ("dup-column", "drop-column"):
        j = draw(st.integers(0, len(header) - 1))
        if kind == "dup-column":
            lines = [line + "," + line.split(",")[j] if line else line for line in lines]
        else:
            lines = [",".join(c for k, c in enumerate(line.split(",")) if k != j) for line in lines]
        return name, "\n".join(lines).encode("utf-8")
    # "cell": one cell of one data row replaced by a nasty text
    row = draw(st.integers(1, max(1, len(lines) - 2)))
    cells = lines[row].split(",")
    j = draw(st.integers(0, len(cells) - 1))
    cells[j] = draw(st.sampled_from(NASTY_CELLS))
    lines[row] = ",".join(cells)
    return name, "\n".join(lines).encode("utf-8", "surrogateescape")


def _physical_records(data: bytes) -> int | None:
    """Return how many data records *data* has, if each physical line is one (else None).

    Computed independently of the reader: without any quote, a record is a physical line
    (ended by \\n, \\r\\n or \\r), and a line whose cells are all blank is not a record.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("utf-8", "surrogateescape")
    if '"' in text:
        # Quoted records may span lines: count them as a strict csv reader does, if it can.
        try:
            records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error:
            return None
        return sum(1 for cells in records[1:] if "".join(cells).strip())
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return sum(1 for line in lines[1:] if "".join(line.split(",")).strip())


def _check(name: str, content: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        shutil.copytree(sample_dir(), folder)
        if content is None:
            (folder / name).unlink()
        else:
            (folder / name).write_bytes(content)
        with contextlib.suppress(IceReconError):
            ice_recon.load(folder)
        out = Path(tmp) / "out"
        try:
            ice_recon.reconcile_to(folder, out)
        except IceReconError:
            assert not out.exists()
        else:
            limit = csv.field_size_limit(1 << 24)  # an output cell may quote a huge input cell
            try:
                with (out / "results.csv").open(encoding="utf-8", newline="") as f:
                    rows = list(csv.DictReader(f))
            finally:
                csv.field_size_limit(limit)
            lines = (folder / "invoice_lines.csv").read_bytes()
            expected = _physical_records(lines)
            if expected is not None:
                assert len(rows) == expected
            keys = [(r["contract_id"], r["invoice_id"], r["line_no"]) for r in rows]
            valid = [k for k, r in zip(keys, rows, strict=True) if r["status"] != "INVALID"]
            assert len(valid) == len(set(valid))
        status = main(["reconcile", str(folder), "--out", str(Path(tmp) / "cli"), "--quiet"])
        assert status in (0, 1, 2)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutations())
@example(
    ("invoice_lines.csv", SAMPLE["invoice_lines.csv"] + b'G1,99,X,0001,2022-01-01,1,1,20.00,"T1')
)
@example(("fuel_rules.csv", SAMPLE["fuel_rules.csv"].replace(b",2,", b",5000,")))
@example(
    ("invoice_lines.csv", SAMPLE["invoice_lines.csv"].replace(b",1,", b"," + b"9" * 5000 + b","))
)
@example(  # approved on the calendar's last day: its due date is past it (found by the long run)
    ("invoices.csv", SAMPLE["invoices.csv"].replace(b"2021-10-15", b"9999-12-31"))
)
def test_mutated_folders_never_crash(case: tuple[str, bytes | None]) -> None:
    """A mutated input folder gives an IceReconError or a run that keeps every line."""
    _check(*case)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutations())
def test_mutated_folders_never_crash_long(case: tuple[str, bytes | None]) -> None:
    """The same, over many more mutated folders (run with -m slow)."""
    _check(*case)


def test_mutation_count_is_independent() -> None:
    """The record count used above counts physical lines, skipping blank ones."""
    data = b"\xef\xbb\xbfa,b\r\n1,2\n,\n\r3,4"

    assert _physical_records(data) == 2
    assert _physical_records(b'a\n"1\n') is None
    assert _physical_records(b'a,b\n"1\n2",3\n') == 1
