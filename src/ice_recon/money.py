"""Own every decision about decimal text, scales and rounding.

This is the only module of ice_recon that knows about decimal contexts. It never reads or
changes the caller's (ambient) decimal context: every ``Decimal`` operation that could round
is done through the private context :data:`_EXACT`, which traps inexact results, and the core
computes in *scaled integers* — an integer ``units`` and a number of decimal places
``scale``, so that ``Decimal(units).scaleb(-scale)`` is the value.

Rounding to cents is :func:`round_div` on integers; :func:`round_decimal` is the plain
``Decimal.quantize`` definition it must equal (a property test proves it, ties and negative
values included).

>>> parse_scaled("137.4"), parse_scaled("2.4575")
((1374, 1), (24575, 4))
>>> # 137.4 x 2.4575 = 337.66050 -> 337.66 with half_up
>>> round_div(1374 * 24575, 10 ** (1 + 4 - 2), Rounding.HALF_UP)
33766
>>> format_cents(33766), format_cents(-4113), format_cents(5)
('337.66', '-41.13', '0.05')
"""

from __future__ import annotations

import decimal
import enum
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from ice_recon.errors import ArgumentError, MoneyTypeError

__all__ = [
    "IncrementRounding",
    "Rounding",
    "cents_text",
    "cents_to_decimal",
    "check_decimal",
    "decimal_to_scaled",
    "exact_multiply",
    "format_cents",
    "format_scaled",
    "parse_decimal",
    "parse_scaled",
    "pow10",
    "rescale",
    "round_decimal",
    "round_div",
    "round_to_multiple",
    "scaled_to_decimal",
    "to_cents",
]

#: The grammar of a decimal cell (DESIGN section 4): ASCII digits, an optional leading minus
#: and an optional fraction with at least one digit. No ``+``, exponent, separators or signs.
_DECIMAL_TEXT: Final = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")

#: A private context for the few ``Decimal`` operations the module does. Precision is far
#: beyond any realistic value and ``Inexact`` is trapped, so an operation either is exact or
#: raises; the caller's context is never consulted.
_EXACT: Final = decimal.Context(
    prec=1000,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.DivisionByZero, decimal.Overflow],
)

_POW10: Final[tuple[int, ...]] = tuple(10**i for i in range(64))


def pow10(n: int) -> int:
    """Return ``10 ** n`` for ``n >= 0``, from a table for the usual small *n*."""
    return _POW10[n] if n < 64 else 10**n


class Rounding(enum.StrEnum):
    """Rounding modes of a priced line (DESIGN section 3); values are the CSV spellings.

    ``HALF_UP`` and ``HALF_DOWN`` break ties away from / toward zero; ``DOWN`` rounds toward
    zero and ``UP`` away from zero, as ``decimal.ROUND_DOWN`` and ``decimal.ROUND_UP`` do.
    """

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    HALF_DOWN = "half_down"
    DOWN = "down"
    UP = "up"

    @property
    def decimal_mode(self) -> str:
        """Return the matching ``decimal`` module rounding constant."""
        return _DECIMAL_MODES[self]


_DECIMAL_MODES: Final = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.UP: decimal.ROUND_UP,
}


class IncrementRounding(enum.StrEnum):
    """How a quantity is brought to a multiple of a rule's ``increment``.

    ``DOWN`` (the default) drops a partial increment, ``UP`` bills it whole, ``NEAREST``
    rounds to the nearest multiple with ties up.
    """

    DOWN = "down"
    UP = "up"
    NEAREST = "nearest"


def parse_scaled(text: str) -> tuple[int, int]:
    """Parse decimal text strictly into ``(units, scale)``.

    The text is taken as is (callers strip cells first). A ``ValueError`` names what was
    expected; it is the loader's job to add file, line and column.

    >>> parse_scaled("92.00"), parse_scaled("-0.5"), parse_scaled("7")
    ((9200, 2), (-5, 1), (7, 0))
    >>> parse_scaled("1e3")
    Traceback (most recent call last):
    ...
    ValueError: must be a decimal number like 123.45 (no exponent, sign, separator or symbol)
    """
    if not isinstance(text, str):
        raise MoneyTypeError(f"decimal text must be a str (got {type(text).__name__})")
    m = _DECIMAL_TEXT.fullmatch(text)
    if m is None:
        raise ValueError(
            "must be a decimal number like 123.45 (no exponent, sign, separator or symbol)"
        )
    sign, whole, frac = m.groups()
    if frac is None:
        units, scale = int(whole), 0
    else:
        units, scale = int(whole + frac), len(frac)
    return (-units if sign else units), scale


def parse_decimal(text: str) -> Decimal:
    """Parse decimal text strictly (see :func:`parse_scaled`), keeping its scale.

    >>> parse_decimal("2.4575"), parse_decimal("92.00")
    (Decimal('2.4575'), Decimal('92.00'))
    """
    return scaled_to_decimal(*parse_scaled(text))


def scaled_to_decimal(units: int, scale: int) -> Decimal:
    """Return the ``Decimal`` whose value is ``units / 10**scale``, written with *scale* places.

    >>> scaled_to_decimal(1374, 1), scaled_to_decimal(0, 2), scaled_to_decimal(-5, 0)
    (Decimal('137.4'), Decimal('0.00'), Decimal('-5'))
    """
    # scaleb under the private exact context: never the caller's precision or traps.
    return Decimal(units).scaleb(-scale, _EXACT)


def cents_to_decimal(cents: int) -> Decimal:
    """Return a number of cents as a ``Decimal`` with exactly 2 places."""
    return scaled_to_decimal(cents, 2)


def check_decimal(value: object, what: str = "value") -> Decimal:
    """Return *value* if it is a finite ``Decimal``; reject floats and everything else.

    Raises:
        MoneyTypeError: *value* is not a ``Decimal`` (a ``float`` above all: money is never
            a float). ``MoneyTypeError`` is a ``TypeError``.
        ArgumentError: *value* is NaN or infinite (a ``ValueError``).
    """
    if not isinstance(value, Decimal):
        raise MoneyTypeError(
            f"{what} must be a decimal.Decimal, never a float (got {type(value).__name__} "
            f"{value!r})"
        )
    if not value.is_finite():
        raise ArgumentError(f"{what} must be a finite decimal (got {value!r})")
    return value


def decimal_to_scaled(value: Decimal) -> tuple[int, int]:
    """Return ``(units, scale)`` for a finite ``Decimal``; a positive exponent gives scale 0.

    >>> decimal_to_scaled(Decimal("2.4575")), decimal_to_scaled(Decimal("1E+2"))
    ((24575, 4), (100, 0))
    """
    check_decimal(value)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    units = 0
    for d in digits:
        units = units * 10 + d
    if exponent > 0:
        units *= pow10(exponent)
        exponent = 0
    return (-units if sign else units), -exponent


def round_div(num: int, den: int, mode: Rounding) -> int:
    """Return ``num / den`` rounded to an integer with *mode*, exactly (``den > 0``).

    >>> [round_div(n, 2, Rounding.HALF_EVEN) for n in (1, 3, 5, -1, -3)]
    [0, 2, 2, 0, -2]
    >>> [round_div(n, 2, Rounding.HALF_UP) for n in (1, -1)]
    [1, -1]
    >>> [round_div(n, 3, m) for n in (4, -4) for m in (Rounding.DOWN, Rounding.UP)]
    [1, 2, -1, -2]
    """
    q, r = divmod(num, den)  # floor division: q <= num/den < q + 1
    if r == 0:
        return q
    if mode is Rounding.DOWN:
        return q if num >= 0 else q + 1
    if mode is Rounding.UP:
        return q + 1 if num >= 0 else q
    twice = 2 * r
    if twice < den:
        return q
    if twice > den:
        return q + 1
    # An exact tie between q and q + 1.
    if mode is Rounding.HALF_UP:
        return q + 1 if num >= 0 else q
    if mode is Rounding.HALF_DOWN:
        return q if num >= 0 else q + 1
    return q if q % 2 == 0 else q + 1


def to_cents(units: int, scale: int, mode: Rounding) -> int:
    """Return ``units / 10**scale`` rounded to a whole number of cents with *mode*.

    >>> to_cents(112125, 3, Rounding.HALF_UP), to_cents(112125, 3, Rounding.HALF_EVEN)
    (11213, 11212)
    >>> to_cents(7, 0, Rounding.HALF_UP)
    700
    """
    if scale <= 2:
        return units * pow10(2 - scale)
    return round_div(units, pow10(scale - 2), mode)


def rescale(units: int, scale: int, new_scale: int, mode: Rounding = Rounding.HALF_UP) -> int:
    """Return the units of ``units / 10**scale`` at *new_scale*, rounding with *mode* if needed.

    >>> rescale(1374, 1, 3), rescale(112125, 3, 2, Rounding.HALF_EVEN)
    (137400, 11212)
    """
    if new_scale >= scale:
        return units * pow10(new_scale - scale)
    return round_div(units, pow10(scale - new_scale), mode)


def round_to_multiple(units: int, step: int, mode: IncrementRounding) -> int:
    """Return *units* (``>= 0``) rounded to a multiple of *step* (``> 0``), in the same scale.

    >>> [round_to_multiple(133, 25, m) for m in IncrementRounding]
    [125, 150, 125]
    >>> round_to_multiple(1375, 250, IncrementRounding.NEAREST)
    1500
    """
    if mode is IncrementRounding.DOWN:
        n = units // step
    elif mode is IncrementRounding.UP:
        n = -(-units // step)
    else:
        n = round_div(units, step, Rounding.HALF_UP)
    return n * step


def round_decimal(value: Decimal, places: int, mode: Rounding) -> Decimal:
    """Round a ``Decimal`` to *places* with *mode*: the plain definition, for reference.

    Uses ``Decimal.quantize`` under the module's private context, never the caller's.

    >>> round_decimal(Decimal("112.125"), 2, Rounding.HALF_UP)
    Decimal('112.13')
    >>> round_decimal(Decimal("112.125"), 2, Rounding.HALF_EVEN)
    Decimal('112.12')
    """
    check_decimal(value)
    exp = Decimal((0, (1,), -places))
    return value.quantize(exp, rounding=mode.decimal_mode, context=_EXACT_QUANTIZE)


#: ``quantize`` rounds by design, so it needs a context that does not trap ``Inexact``.
_EXACT_QUANTIZE: Final = decimal.Context(
    prec=1000,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def exact_multiply(a: Decimal, b: Decimal) -> Decimal:
    """Return ``a * b`` exactly, under the private context (never the caller's)."""
    return _EXACT.multiply(a, b)


def exact_sum(values: Iterable[Decimal], start: Decimal = Decimal("0.00")) -> Decimal:
    """Return *start* plus every value, exactly, under the private context.

    >>> exact_sum([Decimal("1.50"), Decimal("2.25")])
    Decimal('3.75')
    """
    total = start
    for value in values:
        total = _EXACT.add(total, value)
    return total


class _CentsText(dict[int, str]):
    """Cents -> their text, each made once; bounded (amounts recur, but not without end)."""

    def __missing__(self, cents: int) -> str:
        if len(self) >= 1 << 17:
            self.clear()
        text = self[cents] = format_scaled(cents, 2)
        return text


_CENTS_TEXT: Final = _CentsText({0: "0.00"})


def format_cents(cents: int) -> str:
    """Format a number of cents as a plain decimal with exactly 2 places.

    >>> format_cents(0), format_cents(-1), format_cents(123456)
    ('0.00', '-0.01', '1234.56')
    """
    return _CENTS_TEXT[cents]


#: :func:`format_cents` at the cost of a dictionary lookup (for loops over many cells).
cents_text: Final = _CENTS_TEXT.__getitem__


def format_scaled(units: int, scale: int) -> str:
    """Format scaled units as plain decimal text with *scale* places.

    >>> format_scaled(1374, 1), format_scaled(-5, 3), format_scaled(7, 0), format_scaled(0, 2)
    ('137.4', '-0.005', '7', '0.00')
    """
    if scale == 0:
        return str(units)
    # String slicing: several times faster than divmod and a nested format spec.
    digits = str(-units if units < 0 else units).rjust(scale + 1, "0")
    sign = "-" if units < 0 else ""
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"
