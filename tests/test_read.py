"""Tests of the column reader's fast paths against the per-cell definition."""

from __future__ import annotations

import gc

from hypothesis import example, given
from hypothesis import strategies as st

from ice_recon import _gc
from ice_recon._read import _decimals_by_cell, _fast_decimals, _p_decimal, _p_money, _p_positive
from ice_recon.money import parse_scaled

CELL = st.one_of(
    st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(["", "0", "0.0", "-1", ".5", "5.", "1..2", "1.2.3", "1e3", "1,0", " 1", "٣"]),
    st.text(alphabet="0123456789.\n-", max_size=6),
)


def _settled(
    units: list[int | None], scales: bytearray, slow: list[int]
) -> tuple[list[tuple[int | None, int] | None], list[int]]:
    rows = sorted(slow)
    values = [
        None if i in rows else (u, s) for i, (u, s) in enumerate(zip(units, scales, strict=True))
    ]
    return values, rows


class TestFastDecimals:
    @given(st.lists(CELL, max_size=30), st.sampled_from([_p_decimal, _p_money, _p_positive]))
    @example(["1.5", "2", "0.25"], _p_decimal)
    @example(["0"], _p_positive)
    @example(["1.234"], _p_money)
    @example([""], _p_decimal)
    def test_joined_path_equals_cell_by_cell(self, cells: list[str], parse: object) -> None:
        """The whole-column path agrees with the cell-by-cell one on every column.

        Cells sent to the slow path are re-parsed by the per-cell parser, so only the set of
        slow rows and the values of the other rows must agree.
        """
        expected = _settled(*_decimals_by_cell(cells, parse))  # type: ignore[arg-type]

        actual = _settled(*_fast_decimals(cells, parse))  # type: ignore[arg-type]

        assert expected == actual

    @given(st.lists(st.from_regex(r"[0-9]{1,9}(\.[0-9]{1,6})?", fullmatch=True), min_size=1))
    def test_well_formed_cells_parse_as_parse_scaled(self, cells: list[str]) -> None:
        """Well-formed cells become exactly parse_scaled's (units, scale), with no slow rows."""
        expected = [parse_scaled(c) for c in cells]

        units, scales, slow = _fast_decimals(cells, _p_decimal)

        assert (expected, []) == (list(zip(units, scales, strict=True)), slow)


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
