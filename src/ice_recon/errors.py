"""The exceptions ice_recon raises and the :class:`Problem` record of an input problem.

Every exception derives from :class:`IceReconError`; each subclass also inherits the builtin
exception a caller would naturally catch (``ValueError`` for bad data, ``TypeError`` for a
wrong argument type, ``LookupError`` for something not found, ``OSError`` for a folder that
cannot be read or written), the way attrs' ``FrozenError`` is an ``AttributeError``. So
``except IceReconError`` catches every mistake of a caller or an input, and nothing else.

Data problems in input rows are *data*: :func:`ice_recon.load` collects them as
:class:`Problem` records (lenient mode) or raises them together as an ``ExceptionGroup`` of
:class:`InputError` (``strict=True``).
"""

from __future__ import annotations

import attrs

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "IceReconError",
    "InputError",
    "InputErrors",
    "MissingEvidenceError",
    "MissingExtraError",
    "MoneyTypeError",
    "NotAFolderError",
    "OutputError",
    "Problem",
    "RuleNotFoundError",
    "UnknownStatusError",
]


@attrs.frozen(kw_only=True, order=False)
class Problem:
    """Describe one problem in the input files, at the cell, row or file it concerns.

    ``str(problem)`` is the line that ``ice-recon validate`` prints::

        FILE:LINE: column 'NAME': what was expected (got 'VALUE')

    *line* is the physical line where the record starts (the header is line 1); *column* is
    ``None`` for a problem about a whole row or file; *value* is ``None`` when there is no
    single offending cell value to quote.

    >>> str(Problem(file="rates.csv", line=3, column="rate",
    ...             message="must be a decimal number", value="1e3"))
    "rates.csv:3: column 'rate': must be a decimal number (got '1e3')"
    >>> str(Problem(file="rates.csv", line=1, column=None, message="file is empty"))
    'rates.csv:1: file is empty'
    """

    file: str
    line: int
    column: str | None = None
    message: str
    value: str | None = None

    def sort_key(self) -> tuple[str, int, str, str]:
        """Return the key problems are sorted by: file name, line, column, message."""
        return (self.file, self.line, self.column or "", self.message)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        if self.column is not None:
            where += f"column {self.column!r}: "
        got = "" if self.value is None else f" (got {self.value!r})"
        return f"{where}{self.message}{got}"


class IceReconError(Exception):
    """Root of every exception raised by ice_recon."""


class InputError(IceReconError, ValueError):
    """An input file, row or cell is not what DESIGN section 4 requires.

    The structured fields of the :class:`Problem` are exposed as attributes (``file``,
    ``line``, ``column``, ``value``) so that callers need not parse the message.

    An input that cannot be reconciled at all (a required file or column missing, an
    unusable header) raises one :class:`InputError` listing every such problem: the first
    is :attr:`problem`, all of them are :attr:`problems`, one per line of the message.
    """

    def __init__(self, problem: Problem, *more: Problem) -> None:
        super().__init__("\n".join(map(str, (problem, *more))))
        self.problem = problem
        #: Every problem this error reports (added in 0.3.0).
        self.problems: tuple[Problem, ...] = (problem, *more)
        self.file = problem.file
        self.line = problem.line
        self.column = problem.column
        self.value = problem.value

    def __reduce__(self) -> tuple[type[InputError], tuple[Problem, ...]]:
        # Pickled with its problems (a task on a cluster raises it to the client).
        return (type(self), self.problems)


class InputErrors(ExceptionGroup[InputError], IceReconError):
    """Every problem of the inputs, raised together by ``load(..., strict=True)``.

    An ``ExceptionGroup`` of :class:`InputError` (``except* InputError`` takes them) that is
    also an :class:`IceReconError`, like every error ice_recon raises.
    """


class ArgumentError(IceReconError, ValueError):
    """An argument has the right type but a value the function cannot take.

    A negative quantity, a rule whose end is before its start, a negative window.
    """


class ArgumentTypeError(IceReconError, TypeError):
    """An argument has the wrong type (a ``str`` where a date belongs, not an ``Inputs``)."""


class MoneyTypeError(ArgumentTypeError):
    """A value on the money path is not a ``Decimal`` (a ``float``, most often)."""


class MissingEvidenceError(IceReconError, LookupError):
    """:func:`ice_recon.price` was not given the evidence the rule needs.

    A fuel rule's index week is not in the fuel index, or a tiered cancellation fee has no
    notice hours. *missing* is the :class:`~ice_recon.price.MissingEvidence` record.
    """

    def __init__(self, missing: object, what: str) -> None:
        super().__init__(what)
        self.missing = missing


class MissingExtraError(IceReconError, ImportError):
    """A feature needs an optional extra that is not installed.

    The message names the extra to install (``pip install 'ice-recon[report]'``).

    ``name`` is the module that could not be imported. Added in 0.3.0.
    """


class NotAFolderError(IceReconError, NotADirectoryError):
    """The input folder given to :func:`ice_recon.load` (or the CLI) is not a folder."""


class OutputError(IceReconError, OSError):
    """An output file or folder cannot be written (not a folder, not writable, disk full).

    ``filename`` is the path that could not be written, ``strerror`` the reason.
    """

    def __init__(self, path: str, reason: str, errno: int | None = None) -> None:
        super().__init__(errno, reason, path)

    def __str__(self) -> str:
        return f"{self.filename}: cannot be written ({self.strerror})"


class RuleNotFoundError(IceReconError, LookupError):
    """No rate rule covers the requested (contract, CLIN, labor category, date)."""


class UnknownStatusError(IceReconError, KeyError):
    """A status name that is not one of :class:`~ice_recon.Status` (``counts["MATCHD"]``)."""
