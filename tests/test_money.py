"""Tests for ice_recon.money: strict decimal text, scaled integers and rounding (DESIGN §3)."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import ice_recon
from ice_recon.errors import MoneyTypeError
from ice_recon.index import PricingRule
from ice_recon.money import (
    IncrementRounding,
    Rounding,
    cents_to_decimal,
    check_decimal,
    decimal_to_scaled,
    exact_multiply,
    format_cents,
    format_scaled,
    parse_decimal,
    parse_scaled,
    pow10,
    rescale,
    round_decimal,
    round_div,
    round_to_multiple,
    scaled_to_decimal,
)

#: The decimal module's constant for each mode, written out here so that the reference
#: arithmetic of these tests does not rely on ``Rounding.decimal_mode``.
DECIMAL_MODE = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.UP: decimal.ROUND_UP,
}

# ------------------------------------------------------------------------------ strategies

#: Any integer: Hypothesis' unbounded integers plus explicitly huge ones.
any_int = st.one_of(st.integers(), st.integers(min_value=-(10**80), max_value=10**80))

#: Positive denominators: powers of ten (the scaled-integer case) and arbitrary ones.
denominators = st.one_of(
    st.integers(min_value=0, max_value=40).map(lambda k: 10**k),
    st.integers(min_value=1, max_value=10**30),
)

modes = st.sampled_from(Rounding)


def decimal_from(units: int, scale: int) -> Decimal:
    """Build ``units / 10**scale`` with exactly *scale* places, from text (always exact)."""
    return Decimal(f"{units}E-{scale}")


def reference_round_div(num: int, den: int, mode: Rounding) -> int:
    """Round ``num / den`` to an integer by the plain ``Decimal`` definition.

    The quotient is rounded to the context precision before ``quantize``; with
    ``len(str(den)) + 2`` digits after the point, that error is below ``1 / (2 * den)``,
    the smallest distance of a non-tie ``num / den`` from a half-integer, so it cannot
    move the quotient across a tie or an integer.
    """
    digits = len(str(abs(num))) + len(str(den)) + 10
    with decimal.localcontext() as ctx:
        ctx.prec = digits
        ctx.Emax = decimal.MAX_EMAX
        ctx.Emin = decimal.MIN_EMIN
        ctx.traps[decimal.Inexact] = False
        ctx.traps[decimal.Rounded] = False
        quotient = Decimal(num) / Decimal(den)
        return int(quotient.quantize(Decimal(1), rounding=DECIMAL_MODE[mode]))


# ---------------------------------------------------------------------------- parse_scaled


ACCEPTED = [
    ("0", (0, 0)),
    ("7", (7, 0)),
    ("137.4", (1374, 1)),
    ("2.4575", (24575, 4)),
    ("92.00", (9200, 2)),
    ("-0.5", (-5, 1)),
    ("0.000", (0, 3)),
    ("007", (7, 0)),
]

REJECTED = [
    "1e3",
    "1E3",
    "1,234.50",
    "$100.00",
    "NaN",
    "nan",
    "inf",
    "Infinity",
    "-Infinity",
    "+5",
    ".5",
    "5.",
    "-.5",
    "1 000",
    "",
    " ",
    " 5",
    "5\n",
    "-",
    "--5",
    "1.2.3",
    "١٢",  # Arabic-Indic digits: int() would accept them, the grammar does not
    "１２",  # full-width digits
    "\N{MINUS SIGN}5",
    "0x10",
    "0b1",
    "1_000",
]


class TestParseScaled:
    """parse_scaled: the strict decimal grammar of DESIGN §4, into (units, scale)."""

    @pytest.mark.parametrize(("text", "expected"), ACCEPTED)
    def test_accepts_decimal_text(self, text: str, expected: tuple[int, int]) -> None:
        """Well-formed decimal text parses to its units and its written scale."""

        actual = parse_scaled(text)

        assert expected == actual

    @pytest.mark.parametrize("text", REJECTED)
    def test_rejects_other_text(self, text: str) -> None:
        """Exponents, signs, separators, symbols, NaN/infinity and non-ASCII digits fail."""
        with pytest.raises(ValueError, match="must be a decimal number"):
            parse_scaled(text)

    @pytest.mark.parametrize("value", [1.5, 0.0, 7, Decimal("1.5"), None, b"1.5"])
    def test_non_str_is_type_error(self, value: object) -> None:
        """A float, int or any non-str argument is a MoneyTypeError (a TypeError)."""
        with pytest.raises(MoneyTypeError) as info:
            parse_scaled(value)  # type: ignore[arg-type]

        assert isinstance(info.value, TypeError)


class TestParseDecimal:
    """parse_decimal: the same grammar, as a Decimal that keeps the written scale."""

    @pytest.mark.parametrize(("text", "scaled"), ACCEPTED)
    def test_keeps_written_scale(self, text: str, scaled: tuple[int, int]) -> None:
        """The Decimal has the value and exactly the number of places written."""
        expected = (decimal_from(*scaled), -scaled[1])

        d = parse_decimal(text)
        actual = (d, d.as_tuple().exponent)

        assert expected == actual

    @pytest.mark.parametrize("text", ["0", "7", "137.4", "2.4575", "92.00", "-0.5"])
    def test_round_trips_text(self, text: str) -> None:
        """str() of the parsed Decimal is the text it was parsed from."""

        actual = str(parse_decimal(text))

        assert text == actual

    @pytest.mark.parametrize("text", REJECTED)
    def test_rejects_other_text(self, text: str) -> None:
        """Everything parse_scaled rejects is a ValueError here too."""
        with pytest.raises(ValueError, match="must be a decimal number"):
            parse_decimal(text)

    @pytest.mark.parametrize("value", [2.4575, 7])
    def test_float_or_int_is_type_error(self, value: object) -> None:
        """A float or int argument is a MoneyTypeError, which is a TypeError."""
        with pytest.raises(TypeError):
            parse_decimal(value)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- check_decimal


class TestCheckDecimal:
    """check_decimal: only finite Decimals pass."""

    @pytest.mark.parametrize("value", [Decimal("0"), Decimal("-0.5"), Decimal("1E+5")])
    def test_returns_finite_decimal(self, value: Decimal) -> None:
        """A finite Decimal is returned unchanged (the same object)."""

        actual = check_decimal(value)

        assert actual is value

    def test_float_is_type_error_naming_float(self) -> None:
        """A float is a MoneyTypeError (a TypeError) whose message says float."""
        with pytest.raises(TypeError, match="float") as info:
            check_decimal(137.4, "quantity")

        assert isinstance(info.value, MoneyTypeError)
        assert "quantity" in str(info.value)

    @pytest.mark.parametrize("value", [1, "1.5", None])
    def test_other_types_are_type_errors(self, value: object) -> None:
        """An int, a str or None is a MoneyTypeError as well."""
        with pytest.raises(MoneyTypeError):
            check_decimal(value)

    @pytest.mark.parametrize("text", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
    def test_non_finite_is_value_error(self, text: str) -> None:
        """NaN (quiet or signalling) and infinities are ValueErrors."""
        with pytest.raises(ValueError, match="finite"):
            check_decimal(Decimal(text))


# -------------------------------------------------------------------------------- round_div


ROUND_DIV_TABLE = [
    # 112125 / 1000 = 112.125 is not a tie at integer precision: only UP leaves 112.
    (112125, 1000, Rounding.HALF_UP, 112),
    (112125, 1000, Rounding.HALF_EVEN, 112),
    (112125, 1000, Rounding.HALF_DOWN, 112),
    (112125, 1000, Rounding.DOWN, 112),
    (112125, 1000, Rounding.UP, 113),
    # 112125 / 10 = 11212.5 is the cents tie of 2.30 h x 48.75 = 112.125.
    (112125, 10, Rounding.HALF_UP, 11213),
    (112125, 10, Rounding.HALF_EVEN, 11212),
    (112125, 10, Rounding.HALF_DOWN, 11212),
    (112125, 10, Rounding.DOWN, 11212),
    (112125, 10, Rounding.UP, 11213),
    # 11213.5 rounds half-even upward (to the even 11214).
    (112135, 10, Rounding.HALF_EVEN, 11214),
    # Negative ties: -5 / 2 = -2.5.
    (-5, 2, Rounding.HALF_UP, -3),
    (-5, 2, Rounding.HALF_EVEN, -2),
    (-5, 2, Rounding.HALF_DOWN, -2),
    (-5, 2, Rounding.DOWN, -2),
    (-5, 2, Rounding.UP, -3),
    (-7, 2, Rounding.HALF_EVEN, -4),
    # Non-ties either side of a half.
    (-4, 3, Rounding.HALF_UP, -1),
    (-5, 3, Rounding.HALF_DOWN, -2),
    (4, 3, Rounding.UP, 2),
    (-4, 3, Rounding.DOWN, -1),
    # Exact quotients are never moved.
    (0, 7, Rounding.UP, 0),
    (-12, 4, Rounding.UP, -3),
    (10**40, 10**20, Rounding.HALF_EVEN, 10**20),
]


class TestRoundDiv:
    """round_div: integer division rounded with a Rounding mode, exactly."""

    @pytest.mark.parametrize(("num", "den", "mode", "expected"), ROUND_DIV_TABLE)
    def test_table(self, num: int, den: int, mode: Rounding, expected: int) -> None:
        """Ties, negative values and exact quotients round as the mode says."""

        actual = round_div(num, den, mode)

        assert expected == actual

    @given(num=any_int, den=denominators, mode=modes)
    @example(num=112125, den=1000, mode=Rounding.HALF_UP)
    @example(num=112125, den=1000, mode=Rounding.UP)
    @example(num=112125, den=10, mode=Rounding.HALF_UP)
    @example(num=112125, den=10, mode=Rounding.HALF_EVEN)
    @example(num=112125, den=10, mode=Rounding.HALF_DOWN)
    @example(num=-112125, den=10, mode=Rounding.HALF_UP)
    @example(num=-112125, den=10, mode=Rounding.HALF_EVEN)
    @example(num=-5, den=2, mode=Rounding.HALF_UP)
    @example(num=-5, den=2, mode=Rounding.HALF_EVEN)
    @example(num=-5, den=2, mode=Rounding.HALF_DOWN)
    @example(num=-5, den=2, mode=Rounding.DOWN)
    @example(num=-5, den=2, mode=Rounding.UP)
    @example(num=0, den=1, mode=Rounding.UP)
    @example(num=0, den=3, mode=Rounding.DOWN)
    @example(num=-(10**60) - 1, den=2 * 10**59, mode=Rounding.HALF_EVEN)
    def test_equals_decimal_definition(self, num: int, den: int, mode: Rounding) -> None:
        """For any integers and every mode, the result is the Decimal quantize definition."""
        expected = reference_round_div(num, den, mode)

        actual = round_div(num, den, mode)

        assert expected == actual


# ---------------------------------------------------------------------------- round_decimal


def money_decimals(min_scale: int = 2, max_scale: int = 12) -> st.SearchStrategy[Decimal]:
    """Finite Decimals with *min_scale* to *max_scale* places, any sign and size."""
    return st.builds(
        decimal_from,
        st.integers(min_value=-(10**30), max_value=10**30),
        st.integers(min_value=min_scale, max_value=max_scale),
    )


class TestRoundDecimal:
    """round_decimal: Decimal.quantize to places, under the module's own context."""

    @pytest.mark.parametrize(
        ("value", "mode", "expected"),
        [
            ("112.125", Rounding.HALF_UP, "112.13"),
            ("112.125", Rounding.HALF_EVEN, "112.12"),
            ("112.125", Rounding.HALF_DOWN, "112.12"),
            ("112.125", Rounding.DOWN, "112.12"),
            ("112.125", Rounding.UP, "112.13"),
            ("-112.125", Rounding.HALF_UP, "-112.13"),
            ("-112.125", Rounding.HALF_EVEN, "-112.12"),
            ("337.66050", Rounding.HALF_UP, "337.66"),
            ("7", Rounding.UP, "7.00"),
        ],
    )
    def test_table(self, value: str, mode: Rounding, expected: str) -> None:
        """Ties and signs round as the mode says; the result has exactly 2 places."""

        actual = str(round_decimal(Decimal(value), 2, mode))

        assert expected == actual

    @given(value=money_decimals(), mode=modes)
    @example(value=Decimal("112.125"), mode=Rounding.HALF_EVEN)
    @example(value=Decimal("-0.005"), mode=Rounding.HALF_UP)
    @example(value=Decimal("0.00"), mode=Rounding.UP)
    def test_integer_core_equals_decimal(self, value: Decimal, mode: Rounding) -> None:
        """The integer core (round_div on scaled units) equals the Decimal definition."""
        units, scale = decimal_to_scaled(value)
        expected = scaled_to_decimal(round_div(units, 10 ** (scale - 2), mode), 2)

        actual = round_decimal(value, 2, mode)

        assert expected == actual
        assert expected.as_tuple().exponent == actual.as_tuple().exponent == -2

    def test_float_is_type_error(self) -> None:
        """A float is rejected before any rounding."""
        with pytest.raises(TypeError, match="float"):
            round_decimal(112.125, 2, Rounding.HALF_UP)  # type: ignore[arg-type]


# ----------------------------------------------------------- scaled_to_decimal / round trip


class TestScaledToDecimal:
    """scaled_to_decimal and decimal_to_scaled: exact, scale-keeping conversions."""

    @pytest.mark.parametrize(
        ("units", "scale", "expected"),
        [(1374, 1, "137.4"), (0, 2, "0.00"), (-5, 0, "-5"), (-5, 3, "-0.005"), (9200, 2, "92.00")],
    )
    def test_table(self, units: int, scale: int, expected: str) -> None:
        """The Decimal is written with exactly *scale* places."""

        actual = str(scaled_to_decimal(units, scale))

        assert expected == actual

    @given(
        units=st.one_of(st.integers(-(10**40), 10**40), st.integers()),
        scale=st.integers(min_value=0, max_value=40),
    )
    def test_round_trip_keeps_value_and_exponent(self, units: int, scale: int) -> None:
        """decimal_to_scaled and scaled_to_decimal invert each other, exponent included."""
        d = decimal_from(units, scale)

        actual = scaled_to_decimal(*decimal_to_scaled(d))

        assert d == actual
        assert d.as_tuple().exponent == actual.as_tuple().exponent
        assert (units, scale) == decimal_to_scaled(d)


class TestDecimalToScaled:
    """decimal_to_scaled: (units, scale) of a finite Decimal."""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2.4575", (24575, 4)),
            ("92.00", (9200, 2)),
            ("1E+2", (100, 0)),
            ("-0.00", (0, 2)),
            ("-3.5", (-35, 1)),
        ],
    )
    def test_table(self, value: str, expected: tuple[int, int]) -> None:
        """A positive exponent gives scale 0; the sign goes on the units."""

        actual = decimal_to_scaled(Decimal(value))

        assert expected == actual

    @pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity")])
    def test_non_finite_is_value_error(self, value: Decimal) -> None:
        """NaN and infinities have no scaled form."""
        with pytest.raises(ValueError, match="finite"):
            decimal_to_scaled(value)

    def test_float_is_type_error(self) -> None:
        """A float has no scaled form either."""
        with pytest.raises(TypeError):
            decimal_to_scaled(2.5)  # type: ignore[arg-type]


class TestCentsToDecimal:
    """cents_to_decimal: cents as a Decimal with 2 places."""

    @pytest.mark.parametrize(("cents", "expected"), [(0, "0.00"), (33766, "337.66"), (-1, "-0.01")])
    def test_table(self, cents: int, expected: str) -> None:
        """The result always has exactly 2 places."""

        actual = str(cents_to_decimal(cents))

        assert expected == actual


# ------------------------------------------------------------------------ caller's context


def hostile_context() -> decimal.Context:
    """Return a caller context that would break any library code that relied on it."""
    return decimal.Context(
        prec=3,
        rounding=decimal.ROUND_FLOOR,
        traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation],
    )


def context_state(ctx: decimal.Context) -> tuple[object, ...]:
    """Return everything observable about a context, flags included."""
    return (
        ctx.prec,
        ctx.rounding,
        ctx.Emax,
        ctx.Emin,
        ctx.capitals,
        ctx.clamp,
        dict(ctx.traps),
        dict(ctx.flags),
    )


class TestCallerContext:
    """The library neither depends on nor changes the caller's decimal context."""

    def test_round_decimal_ignores_and_keeps_context(self) -> None:
        """112.125 rounds half-up to 112.13 under prec=3, ROUND_FLOOR and trapped Inexact."""
        expected = Decimal("112.13")

        with decimal.localcontext(hostile_context()) as ctx:
            before = context_state(ctx)
            actual = round_decimal(Decimal("112.125"), 2, Rounding.HALF_UP)
            after = context_state(decimal.getcontext())

        assert expected == actual
        assert before == after

    def test_exact_multiply_ignores_and_keeps_context(self) -> None:
        """A product with more digits than the caller's precision is still exact."""
        expected = Decimal("2457500000.24575")

        with decimal.localcontext(hostile_context()) as ctx:
            before = context_state(ctx)
            actual = exact_multiply(Decimal("1000000000.1"), Decimal("2.4575"))
            after = context_state(decimal.getcontext())

        assert str(expected) == str(actual)
        assert before == after

    def test_price_ignores_and_keeps_context(self) -> None:
        """1000000000.1 miles x 2.4575 = 2457500000.24575 -> 2457500000.25 under any context."""
        rule = PricingRule(
            rule_id="r",
            contract_id="C",
            clin="0001",
            basis="loaded_miles",
            start=dt.date(2021, 10, 1),
            end=dt.date(2022, 9, 30),
            rate=Decimal("2.4575"),
            rounding=Rounding.HALF_UP,
        )
        expected = Decimal("2457500000.25")

        with decimal.localcontext(hostile_context()) as ctx:
            before = context_state(ctx)
            result = ice_recon.price(rule, Decimal("1000000000.1"))
            after = context_state(decimal.getcontext())

        assert isinstance(result, ice_recon.Pricing)
        assert str(expected) == str(result.expected)
        assert before == after


# ------------------------------------------------------------------- round_to_multiple etc.


class TestRoundToMultiple:
    """round_to_multiple: a non-negative quantity to a multiple of an increment."""

    @pytest.mark.parametrize(
        ("units", "step", "mode", "expected"),
        [
            (133, 25, IncrementRounding.DOWN, 125),
            (133, 25, IncrementRounding.UP, 150),
            (133, 25, IncrementRounding.NEAREST, 125),
            (137, 25, IncrementRounding.NEAREST, 125),  # 5.48 steps
            (138, 25, IncrementRounding.NEAREST, 150),  # 5.52 steps
            (1375, 250, IncrementRounding.NEAREST, 1500),  # 5.5 steps: a tie goes up
            (1375, 250, IncrementRounding.DOWN, 1250),
            (1375, 250, IncrementRounding.UP, 1500),
            (50, 100, IncrementRounding.NEAREST, 100),  # 0.5 steps: tie up
            (49, 100, IncrementRounding.NEAREST, 0),
            (1, 100, IncrementRounding.UP, 100),
            (99, 100, IncrementRounding.DOWN, 0),
            (125, 25, IncrementRounding.DOWN, 125),  # exact multiples stay
            (125, 25, IncrementRounding.UP, 125),
            (125, 25, IncrementRounding.NEAREST, 125),
            (0, 25, IncrementRounding.UP, 0),
            (0, 25, IncrementRounding.NEAREST, 0),
        ],
    )
    def test_table(self, units: int, step: int, mode: IncrementRounding, expected: int) -> None:
        """DOWN drops, UP bills, NEAREST rounds half up a partial increment."""

        actual = round_to_multiple(units, step, mode)

        assert expected == actual


class TestFormatCents:
    """format_cents: cents as plain text with exactly 2 places."""

    @pytest.mark.parametrize(
        ("cents", "expected"),
        [
            (0, "0.00"),
            (5, "0.05"),
            (99, "0.99"),
            (100, "1.00"),
            (33766, "337.66"),
            (123456789, "1234567.89"),
            (-1, "-0.01"),
            (-99, "-0.99"),
            (-100, "-1.00"),
            (-4113, "-41.13"),
        ],
    )
    def test_table(self, cents: int, expected: str) -> None:
        """Negatives keep their sign below one unit; zero is 0.00."""

        actual = format_cents(cents)

        assert expected == actual

    @given(st.integers(min_value=-(10**20), max_value=10**20))
    def test_equals_decimal_text(self, cents: int) -> None:
        """The text is the fixed-point text of the cents as a 2-place Decimal."""
        expected = format(decimal_from(cents, 2), "f")

        actual = format_cents(cents)

        assert expected == actual


class TestFormatScaled:
    """format_scaled: scaled units as plain text with their scale."""

    @pytest.mark.parametrize(
        ("units", "scale", "expected"),
        [(1374, 1, "137.4"), (-5, 3, "-0.005"), (7, 0, "7"), (0, 2, "0.00"), (-7, 0, "-7")],
    )
    def test_table(self, units: int, scale: int, expected: str) -> None:
        """The text has exactly *scale* places and a sign only when negative."""

        actual = format_scaled(units, scale)

        assert expected == actual


class TestRescale:
    """rescale: units at another scale, rounded only when places are dropped."""

    @pytest.mark.parametrize(
        ("units", "scale", "new_scale", "mode", "expected"),
        [
            (1374, 1, 3, Rounding.HALF_UP, 137400),
            (112125, 3, 2, Rounding.HALF_EVEN, 11212),
            (112125, 3, 2, Rounding.HALF_UP, 11213),
            (-112125, 3, 2, Rounding.HALF_UP, -11213),
            (5, 2, 2, Rounding.UP, 5),
        ],
    )
    def test_table(
        self, units: int, scale: int, new_scale: int, mode: Rounding, expected: int
    ) -> None:
        """Adding places is exact; dropping places rounds with the mode."""

        actual = rescale(units, scale, new_scale, mode)

        assert expected == actual


class TestPow10:
    """pow10: powers of ten, from the table and beyond it."""

    @pytest.mark.parametrize("n", [0, 1, 2, 63, 64, 100])
    def test_equals_power(self, n: int) -> None:
        """pow10(n) is 10 ** n inside and outside the precomputed table."""
        expected = 10**n

        actual = pow10(n)

        assert expected == actual
