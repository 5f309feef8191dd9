"""Tests of the column reader's fast paths against the per-cell and record-by-record definitions."""

from __future__ import annotations

import gc
import re
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from ice_recon import _gc
from ice_recon._columns import _bad_lines, _fast_decimals, _fast_values
from ice_recon._read import TableReader
from ice_recon._specs import (
    INVOICE_LINES,
    MANIFESTS,
    SPECS,
    _p_count,
    _p_date,
    _p_decimal,
    _p_money,
    _p_positive,
    _p_positive_int,
    _p_ref,
    _p_text,
)
from ice_recon.errors import Problem
from ice_recon.money import parse_scaled

CELL = st.one_of(
    st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(
        ["", "0", "0.0", "-1", ".5", "5.", "1..2", "1.2.3", "1e3", "1,0", "٣", "12.00"]
    ),
    st.text(alphabet="0123456789.-", max_size=6),
)
DECIMAL_KINDS = st.sampled_from([_p_decimal, _p_money, _p_positive])


def _by_cell(cells: list[str], parse: Any) -> tuple[list[Any], list[int]]:
    """The definition: each cell parsed on its own; empty is absent, an error a slow row."""
    values: list[Any] = []
    slow: list[int] = []
    for i, c in enumerate(cells):
        if not c:
            values.append(None)
            continue
        try:
            values.append(parse(c))
        except ValueError:
            values.append(None)
            slow.append(i)
    return values, slow


class TestFastDecimals:
    @given(st.lists(CELL, max_size=40), DECIMAL_KINDS)
    @example(["1.5", "2", "0.25"], _p_decimal)
    @example(["0"], _p_positive)
    @example(["1.234"], _p_money)
    @example(["", "1.00", "", "2.50"], _p_money)
    @example(["1e3", "2.50", "3.75"], _p_money)
    def test_joined_path_equals_cell_by_cell(self, cells: list[str], parse: Any) -> None:
        """The whole-column path gives each cell the value and slow flag of the per-cell parser."""
        expected = _by_cell(cells, parse)

        actual = _fast_decimals(cells, parse)

        assert expected == actual

    @given(st.lists(st.from_regex(r"[0-9]{1,9}(\.[0-9]{1,6})?", fullmatch=True), min_size=1))
    def test_well_formed_cells_parse_as_parse_scaled(self, cells: list[str]) -> None:
        """Well-formed cells become exactly parse_scaled's (units, scale), with no slow rows."""
        expected = [parse_scaled(c) for c in cells]

        values, slow = _fast_decimals(cells, _p_decimal)

        assert (expected, []) == (values, slow)

    @given(st.lists(st.lists(CELL, max_size=30), max_size=8), DECIMAL_KINDS)
    def test_memoized_path_equals_cell_by_cell(self, chunks: list[list[str]], parse: Any) -> None:
        """Through the memo of cells already read, chunk after chunk, values stay per-cell."""
        reader = TableReader(SPECS[MANIFESTS], [])
        expected = [_by_cell(c, parse) for c in chunks]

        actual = [reader._decimals("m", c, parse) for c in chunks]

        assert expected == actual


class TestBadLines:
    @given(st.lists(CELL, min_size=1, max_size=30))
    def test_finds_exactly_the_lines_that_are_not_decimals(self, cells: list[str]) -> None:
        """Each line that is not digits with an optional fraction is found, and no other."""
        well = re.compile(r"[0-9]+(?:\.[0-9]+)?")
        expected = [i for i, c in enumerate(cells) if well.fullmatch(c) is None]

        actual = _bad_lines("\n".join(c.replace("\n", "") for c in cells))

        assert expected == actual


TEXT = st.text(alphabet="aAbß0-. ", max_size=5)


class TestFastValues:
    @given(
        st.lists(
            st.one_of(
                TEXT,
                st.sampled_from(["2021-10-04", "2021-02-30", "2021-1-4", "x", "", "0", "007"]),
                st.from_regex(r"[0-9]{1,4}", fullmatch=True),
            ),
            max_size=30,
        ),
        st.sampled_from([_p_text, _p_ref, _p_date, _p_positive_int, _p_count]),
    )
    @example(["1", "0", "12"], _p_positive_int)
    @example(["t1", "T2", ""], _p_ref)
    def test_column_paths_equal_cell_by_cell(self, cells: list[str], parse: Any) -> None:
        """Each kind of column gives every cell the per-cell parser's value or a slow row."""
        expected = _by_cell(cells, parse)

        values, slow = _fast_values(
            cells, parse, {} if parse in (_p_positive_int, _p_count) else None
        )

        assert expected == (values, sorted(slow))


LINE_CELLS = st.one_of(
    st.sampled_from(
        ["", "0001", "C1", "INV-1", "2021-10-04", "12.5", "1,5", '"a,b"', " T1 ", "x\ty"]
    ),
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,2})?", fullmatch=True),
)
HEADER = "invoice_id,line_no,contract_id,clin,service_date,quantity,unit_price,amount,trip_ref"


def _read(lines: list[str], fast: bool) -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []
    reader = TableReader(SPECS[INVOICE_LINES], problems)
    layout = reader._begin([HEADER.split(",")])
    assert layout is not None
    parsed = (reader._body_lines if fast else reader._records_body)(layout, 2, lines)
    return (parsed.lines, bytes(parsed.ok), parsed.values, parsed.text), problems


class TestFastBody:
    @given(st.lists(st.lists(LINE_CELLS, min_size=7, max_size=11), max_size=20))
    @example([["INV-1", "1", "C1", "0001", "2021-10-04", "1,5", "2", "3.00", "T1"]])
    @example([["", "", "", "", "", "", "", "", ""]])
    def test_lines_read_as_the_csv_module_reads_them(self, rows: list[list[str]]) -> None:
        """Columns split at C speed (odd lines through csv) equal reading every record by csv."""
        lines = [",".join(row) for row in rows]

        assert _read(lines, fast=True) == _read(lines, fast=False)


class TestGcPaused:
    def test_restores_the_callers_setting(self) -> None:
        """The collector is off inside the block and back to its previous state after it."""
        was = gc.isenabled()
        try:
            gc.enable()
            with _gc.paused():
                inside = gc.isenabled()
            after_enabled = gc.isenabled()
            gc.disable()
            with _gc.paused():
                pass
            after_disabled = gc.isenabled()
        finally:
            (gc.enable if was else gc.disable)()

        assert (inside, after_enabled, after_disabled) == (False, True, False)
