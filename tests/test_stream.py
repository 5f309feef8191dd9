"""Streaming (ice_recon.stream) against the in-memory pipeline, and the chunked CSV reader.

The streamed run must write the very bytes ``reconcile(load(folder)).write(out)`` writes,
whatever the batch size and the number of workers: batches, sorted runs, the claim pass
over all batches and the contract groups are implementation details.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ice_recon import Policy, Problem, _fork, load, reconcile, reconcile_to, stream
from ice_recon._read import TableReader
from ice_recon._specs import FILES, INVOICE_LINES, SPECS
from ice_recon.cli import main, sample_dir
from ice_recon.stream import prepare
from test_properties import Tables, datasets

OUTPUTS = (
    "results.csv",
    "unbilled.csv",
    "invoices.csv",
    "by_invoice.csv",
    "problems.csv",
    "summary.json",
)


def _write_tables(tables: Tables, folder: Path) -> None:
    for name, rows in tables.items():
        if not rows:
            if FILES[name][1]:  # a required table without rows: a header-only file
                spec = SPECS[FILES[name][0]]
                names = ",".join(c.name for c in spec.columns if c.required)
                (folder / FILES[name][0]).write_text(names + "\n", encoding="utf-8")
            continue
        header: dict[str, None] = {}
        for row in rows:
            header.update(dict.fromkeys(row))
        with (folder / FILES[name][0]).open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, list(header), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def _in_memory(folder: Path, out: Path, policy: Policy | None = None) -> dict[str, bytes]:
    reconcile(load(folder), policy=policy).write(out)
    return _files(out)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    datasets(),
    st.integers(1, 8),
    st.sampled_from([1, 1, 2, 3]),
    st.sampled_from([0, stream.DEFAULT_MEMORY_BYTES]),
    st.integers(1, 9),
)
def test_streamed_outputs_are_the_in_memory_outputs(
    case: tuple[Tables, Policy], batch_lines: int, workers: int, memory: int, read_lines: int
) -> None:
    """Any batch size, worker count and chunking, in memory or spilled: the same four files."""
    tables, policy = case
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(stream, "_READ_LINES", read_lines):
        root = Path(tmp)
        (root / "in").mkdir()
        _write_tables(tables, root / "in")
        want = _in_memory(root / "in", root / "a", policy)

        totals = reconcile_to(
            root / "in",
            root / "b",
            policy=policy,
            batch_lines=batch_lines,
            workers=workers,
            memory_bytes=memory,
        )

        assert _files(root / "b") == want
        assert totals.line_count == len(tables["invoice_lines"]) - _blank_rows(tables)


def _blank_rows(tables: Tables) -> int:
    return sum(1 for row in tables["invoice_lines"] if not "".join(row.values()).strip())


def test_duplicate_line_keys_far_apart_are_found_across_chunks(tmp_path: Path) -> None:
    """Two rows with one line key, in different chunks of the file, are both INVALID."""
    folder = tmp_path / "in"
    _copy_sample(folder)
    path = folder / INVOICE_LINES
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    copy = dict(rows[0])
    copy["description"] = "the same key again, far below"
    _rewrite(path, [*rows, copy])
    want = _in_memory(folder, tmp_path / "a")

    with mock.patch.object(stream, "_READ_LINES", 5):
        totals = reconcile_to(folder, tmp_path / "b", batch_lines=1, memory_bytes=0)

    assert _files(tmp_path / "b") == want
    dup = [p for p in totals.problems if p.message.startswith("duplicate line")]
    assert [p.line for p in dup] == [len(rows) + 2]  # the later row: header + rows + 1
    assert "also at line 2 " in dup[0].message


def test_workers_and_batches_from_the_cli_give_the_default_outputs(tmp_path: Path) -> None:
    main(["reconcile", str(sample_dir()), "--out", str(tmp_path / "a"), "--quiet"])

    code = main(
        [
            "reconcile",
            str(sample_dir()),
            "--out",
            str(tmp_path / "b"),
            "--quiet",
            "--workers",
            "2",
            "--batch-lines",
            "3",
        ]
    )

    assert code == 0
    assert _files(tmp_path / "b") == _files(tmp_path / "a")


def test_prepared_problems_are_those_of_load_before_reconciling(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _copy_sample(folder)
    path = folder / INVOICE_LINES
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[3]["amount"] = "12,50"
    rows[7]["line_no"] = rows[6]["line_no"]
    rows[7]["invoice_id"] = rows[6]["invoice_id"]
    rows[7]["contract_id"] = rows[6]["contract_id"]
    _rewrite(path, rows)

    with prepare(folder, batch_lines=2) as ready:
        before = ready.problems  # nothing reconciled yet: a --strict caller stops here
        totals = ready.reconcile(tmp_path / "out")

    assert before == load(folder).problems
    assert {p.line for p in before} == {5, 9}  # the bad amount; the later row of the key
    assert totals.problems == before
    assert totals.counts["INVALID"] == 3  # the bad amount and both rows of the shared key


def test_strict_cli_stops_before_writing(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _copy_sample(folder)
    path = folder / INVOICE_LINES
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[0]["amount"] = "abc"
    _rewrite(path, rows)

    code = main(["reconcile", str(folder), "--out", str(tmp_path / "out"), "--strict", "--quiet"])

    assert code == 2
    assert not (tmp_path / "out" / "results.csv").exists()


@pytest.mark.parametrize("value", [0, -3])
def test_batch_lines_and_workers_must_be_positive(tmp_path: Path, value: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        reconcile_to(sample_dir(), tmp_path, batch_lines=value)
    with pytest.raises(ValueError, match="at least 1"):
        reconcile_to(sample_dir(), tmp_path, workers=value)


def test_no_temporary_files_are_left(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()

    reconcile_to(sample_dir(), tmp_path / "out", batch_lines=5, workers=2, workdir=work)

    assert list(work.iterdir()) == []


def test_workers_run_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """The forked workers work from a plain script too (not only under pytest)."""
    script = (
        "import sys; from ice_recon import reconcile_to; from ice_recon.cli import sample_dir\n"
        "t = reconcile_to(sample_dir(), sys.argv[1], workers=2, batch_lines=4)\n"
        "print(t.line_count)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "b")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "60"
    assert _files(tmp_path / "b") == _in_memory(sample_dir(), tmp_path / "a")


# -------------------------------------------------------------------------- chunked reader

RECORD = st.one_of(
    st.lists(st.sampled_from(["a", "b1", " 7 ", "", "x y", "2021-10-05"]), min_size=1, max_size=4)
    .map(",".join)
    .map(lambda s: s + "\n"),
    st.sampled_from(
        [
            '"quoted, with comma",b,c\n',
            '"two\nlines",b,c\n',
            '"unterminated,b,c\n',
            'a,"bad"quote,c\n',
            "a,b,c\r\n",
            "\n",
            "   \n",
            "a,\xe9t\xe9,c\n",
            'x,"3\r\nlines\nhere",z\n',
        ]
    ),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(RECORD, max_size=25), st.integers(1, 6), st.booleans())
@example(['"a\n', 'b"\n', "c\n"], 1, False)
@example(["x\n"], 1, True)
def test_chunked_reading_equals_reading_the_whole_file(
    records: list[str], rows: int, bom: bool
) -> None:
    """parse_chunks gives the rows, values and problems of parse, whatever the chunk size."""
    header = "invoice_id,line_no,contract_id\n"
    data = (("\ufeff" if bom else "") + header + "".join(records)).encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / INVOICE_LINES
        path.write_bytes(data)
        whole_problems: list[Problem] = []
        whole_reader = TableReader(SPECS[INVOICE_LINES], whole_problems)
        whole = whole_reader.parse(path)
        chunk_problems: list[Problem] = []
        chunk_reader = TableReader(SPECS[INVOICE_LINES], chunk_problems)
        chunks = list(chunk_reader.parse_chunks(path, rows))

    assert sorted(chunk_problems, key=Problem.sort_key) == sorted(
        whole_problems, key=Problem.sort_key
    )
    assert chunk_reader.digest == whole_reader.digest
    if whole is None:
        assert chunks == []
        return
    assert [line for c in chunks for line in c.lines] == whole.lines
    assert bytearray(b"".join(bytes(c.ok) for c in chunks)) == whole.ok
    for name in whole.text:
        assert [v for c in chunks for v in c.text[name]] == whole.text[name]
    for name in whole.values:
        assert [v for c in chunks for v in c.values[name]] == whole.values[name]


# ---------------------------------------------------------------------------------- helpers


def _copy_sample(folder: Path) -> None:
    folder.mkdir(parents=True)
    for path in sample_dir().iterdir():
        if path.suffix == ".csv":
            (folder / path.name).write_bytes(path.read_bytes())


def _rewrite(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _variant(text: str, kind: str) -> bytes:
    lines = text.splitlines()
    if kind == "crlf":
        return ("\r\n".join(lines) + "\r\n").encode()
    if kind == "bom":
        return ("\ufeff" + "\n".join(lines) + "\n").encode()
    if kind == "lone-cr":
        return ("\r".join(lines) + "\r").encode()
    if kind == "messy":
        # blank lines, a short row, a bad byte and no line end at the very end
        body = [*lines[:5], "", "   ", "X,1", *lines[5:9], lines[9] + ",extra", *lines[10:]]
        return "\n".join(body).encode().replace(b"ELP", b"E\xffP", 1)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["crlf", "bom", "lone-cr", "messy"])
@pytest.mark.parametrize(("workers", "batch_lines"), [(2, 1), (3, 4), (2, 1000)])
def test_lines_read_in_parallel_parts_are_read_like_the_whole_file(
    tmp_path: Path, kind: str, workers: int, batch_lines: int
) -> None:
    """A quote-free lines file is read in byte ranges by the workers: same lines, same problems."""
    folder = tmp_path / "in"
    _copy_sample(folder)
    path = folder / INVOICE_LINES
    text = path.read_text(encoding="utf-8").replace('"', "")
    path.write_bytes(_variant(text, kind))
    want = _in_memory(folder, tmp_path / "a")

    totals = reconcile_to(
        folder, tmp_path / "b", workers=workers, batch_lines=batch_lines, memory_bytes=0
    )

    assert _files(tmp_path / "b") == want
    assert totals.problems == load(folder).problems


def test_many_chunks_routed_to_many_batches_give_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spilled in 9 chunks and one batch per invoice, the lines give the in-memory files."""
    monkeypatch.setattr(stream, "_READ_LINES", 7)
    work = tmp_path / "work"
    work.mkdir()

    reconcile_to(sample_dir(), tmp_path / "b", batch_lines=1, workdir=work, memory_bytes=0)

    assert _files(tmp_path / "b") == _in_memory(sample_dir(), tmp_path / "a")
    assert list(work.iterdir()) == []


def _die(k: int) -> None:
    os._exit(3)  # as if the out-of-memory killer had stopped the worker


def test_a_worker_that_dies_fails_the_run_instead_of_hanging() -> None:
    with pytest.raises(BrokenProcessPool):
        _fork.forked(_die, 2, None)


def test_quiet_prints_no_problems_unless_strict_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    _copy_sample(folder)
    path = folder / INVOICE_LINES
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[0]["amount"] = "abc"
    _rewrite(path, rows)

    quiet = main(["reconcile", str(folder), "--out", str(tmp_path / "q"), "--quiet"])
    said = capsys.readouterr()
    strict = main(["reconcile", str(folder), "--out", str(tmp_path / "s"), "--quiet", "--strict"])
    told = capsys.readouterr()

    assert (quiet, said.out, said.err) == (0, "", "")
    assert strict == 2
    assert "invoice_lines.csv:2: column 'amount'" in told.err


def test_charges_too_many_to_pack_fall_back_to_tuples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no room for codes, charges are (trip, CLIN, person) tuples: same results."""
    from ice_recon import match as match_module

    want = _in_memory(sample_dir(), tmp_path / "a")
    monkeypatch.setattr(match_module, "_CODE_BITS", 0)

    assert _in_memory(sample_dir(), tmp_path / "b") == want
    assert match_module._ChargeCodes().charges("0001", 3, (), False) == [(3, "0001", "")]


@pytest.mark.parametrize("many", [2, 255])
def test_a_line_named_by_many_duplicates_is_named_by_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, many: int
) -> None:
    """Five copies of one billed charge all name the first line, counted or past counting."""
    from ice_recon import match as match_module

    monkeypatch.setattr(match_module, "_MANY", many)
    folder = tmp_path / "in"
    _copy_sample(folder)
    path = folder / INVOICE_LINES
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    first = next(r for r in rows if r["trip_ref"] and r["contract_id"] == rows[0]["contract_id"])
    taken = {int(r["line_no"]) for r in rows if r["invoice_id"] == first["invoice_id"]}
    copies = [dict(first, line_no=str(max(taken) + k)) for k in range(1, 6)]
    _rewrite(path, [*rows, *copies])
    want = _in_memory(folder, tmp_path / "a")

    reconcile_to(folder, tmp_path / "b", batch_lines=2)

    assert _files(tmp_path / "b") == want
    results = list(csv.DictReader((tmp_path / "b" / "results.csv").open(encoding="utf-8")))
    named = [
        r["explanation"]
        for r in results
        if r["invoice_id"] == first["invoice_id"] and int(r["line_no"]) > max(taken)
    ]
    assert len(named) == 5
    assert all(f"already billed by invoice {first['invoice_id']} line " in e for e in named)
    assert len({e.split("already billed by ")[1] for e in named}) == 1


def test_a_misspelled_tolerance_is_refused_before_the_lines_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unread(*args: object, **kwargs: object) -> None:
        raise AssertionError("the invoice lines were read")

    monkeypatch.setattr(stream, "line_table", unread)  # only invoice lines become tables

    code = main(
        ["reconcile", str(sample_dir()), "--out", str(tmp_path), "--tolerance", "loaded_mile=1"]
    )

    assert code == 2
    assert "--tolerance for 'loaded_mile': no rule is priced on that basis" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "results.csv").exists()
