"""Provide the public :func:`cases` strategy: whole data sets whose right answer is known.

It checks the options, draws a policy, and runs the :class:`~._builder._Builder` one group of
lines at a time, each group one nested draw that the shrinker can delete whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Final

from hypothesis import strategies as st

from ice_recon.money import Rounding
from ice_recon.policy import Policy, Tolerance
from ice_recon.records import Status
from ice_recon.strategies._base import _MAX_WINDOW
from ice_recon.strategies._builder import _Builder
from ice_recon.strategies._case import Case
from ice_recon.strategies._check import InvalidArgument, _check_int, _check_names
from ice_recon.strategies._draw import _CONTRACT_IDS, _ints, _maybe, _pick
from ice_recon.strategies._payments import _FLOORS

_PRICED: Final = (
    Status.MATCHED,
    Status.ROUNDING_DIFF,
    Status.EXTENSION_ERROR,
    Status.QUANTITY_MISMATCH,
    Status.RATE_MISMATCH,
    Status.MINIMUM_MISAPPLIED,
    Status.AMOUNT_MISMATCH,
    Status.LABOR_CATEGORY_MISMATCH,
)
#: The default order of :func:`cases` statuses: Hypothesis shrinks toward the first.
_STATUSES: Final = (
    *_PRICED,
    Status.NO_RATE,
    Status.UNSUPPORTED,
    Status.NOT_PERFORMED,
    Status.DUPLICATE,
    Status.INVALID,
)
_MAX_LINES: Final = 200


@st.composite
def _policies(draw: st.DrawFn, payments: bool = False) -> Policy:
    """Draw a policy: a rounding default, an inference window, tolerances now and then.

    With *payments*, also a utilization floor (the as_of day is drawn with the files).
    """
    rounding = _pick(draw, tuple(Rounding))
    window = _pick(draw, (1, 0, 2, _MAX_WINDOW))
    tolerances: dict[str, Tolerance] = {}
    if _maybe(draw, 4):
        for basis, absolute in (
            ("loaded_miles", ("0.5", "2.0")),
            ("labor_hours", ("0.25", "0.50")),
            ("wait_hours", ("0.25",)),
            ("vehicle_hours", ("0.25", "0.50")),
            ("passengers", ("1",)),
            ("flight_hours", ("0.1",)),
        ):
            if _maybe(draw, 4):
                if _maybe(draw, 5):
                    tolerances[basis] = Tolerance(value=Decimal(_pick(draw, absolute)))
                else:
                    percent = Decimal(_pick(draw, ("2", "0.5", "1", "5")))
                    tolerances[basis] = Tolerance(value=percent, percent=True)
    if payments:
        floor = Decimal(_pick(draw, _FLOORS))
        return Policy(
            tolerances=tolerances, window_days=window, rounding=rounding, utilization_floor=floor
        )
    return Policy(tolerances=tolerances, window_days=window, rounding=rounding)


def cases(
    *,
    statuses: Iterable[Status | str] | None = None,
    min_lines: int = 1,
    max_lines: int = 20,
    contracts: int | Sequence[str] = 3,
    payments: bool = False,
) -> st.SearchStrategy[Case]:
    """Return a strategy of :class:`Case`: data sets whose every line was built to be a status.

    Each invoice line is built to get a status drawn from *statuses* (every status of
    DESIGN section 5 by default), through one of several constructions per status — for
    example UNSUPPORTED by a missing or unknown trip reference, a reference to another
    contract's trip, a tie between two trips, a copy of a matched line without its
    reference (``DUPLICATE_CANDIDATE``), or a measure, roster hours, notice hours or fuel
    index week the trip did not record; priced lines on flat rates, ``trip`` and
    ``cancellation`` fees, labor categories, ``all_units`` and ``graduated`` tiers and fuel
    surcharges, with free quantities, increments, minimum quantities and amounts, rounding
    modes, exact and inferred matches, tolerances and date mismatches. The answer for every
    line (:attr:`Case.lines`: status, findings, A, E, trip and match) is worked out with
    exact fractions inside this module, never by the engine.

    Lines cannot interact by accident: each one (or each group, below) has its own CLIN,
    its own trips and its own dates, three weeks from any other line's, so inference never
    sees another line's trips. Lines interact only where the status needs it: a DUPLICATE
    line comes after the exactly matched line whose charge it bills again (built as one of
    the priced statuses among *statuses*, or MATCHED if there is none), and a
    ``DUPLICATE_CANDIDATE`` copy after the line it copies (used only when a priced status
    is among *statuses*); within a contract, invoices follow the order the lines were
    built in, so "earlier" holds in processing order.

    Args:
        statuses: the statuses to build lines as (``Status`` members or their names).
        min_lines, max_lines: how many invoice lines the case has (a case always has
            exactly a number of lines in this range).
        contracts: how many contracts the lines are spread over (picked from a list of
            realistic PIIDs), or the contract ids to use.
        payments: also draw the payment-control and oversight inputs of DESIGN section
            9.1 — ``contracts.csv``, ``cors.csv``, ``interest_rates.csv``, the approval
            and payment columns of ``invoices.csv``, ``passengers`` and ``seats`` on the
            trips — and a :class:`~ice_recon.Policy` with a drawn ``utilization_floor``
            and ``as_of``. Off by default, so that cases drawn without it keep their shape.
            Either way, the case knows what section 9 must say
            (:attr:`Case.invoice_controls`, :attr:`Case.payments`,
            :attr:`Case.contract_findings`, :attr:`Case.capacity`). Added in 0.3.0.

    Raises:
        InvalidArgument: an unknown status, bad sizes, or DUPLICATE as the only status with
            ``min_lines < 2`` (a duplicate needs the line it duplicates).

    >>> from hypothesis import find
    >>> case = find(cases(statuses=["ROUNDING_DIFF"], max_lines=1), lambda case: True)
    >>> [(line.status.value, line.variance) for line in case.lines.values()]
    [('ROUNDING_DIFF', Decimal('...'))]
    """
    if not isinstance(payments, bool):
        raise InvalidArgument(f"payments must be a bool (got {payments!r})")
    chosen: tuple[Status, ...]
    if statuses is None:
        chosen = _STATUSES
    else:
        if isinstance(statuses, str) or not isinstance(statuses, Iterable):
            raise InvalidArgument(f"statuses must be an iterable of Status (got {statuses!r})")
        found = []
        for s in statuses:
            try:
                found.append(Status(s))
            except ValueError:
                raise InvalidArgument(
                    f"statuses: {s!r} is not a status (expected one of "
                    f"{', '.join(x.value for x in Status)})"
                ) from None
        if not found:
            raise InvalidArgument("statuses must not be empty")
        chosen = tuple(x for x in _STATUSES if x in found)
    # Hypothesis bounds how much one example may draw; 200 lines stay well inside it.
    lo = _check_int("min_lines", min_lines, 1, _MAX_LINES)
    hi = _check_int("max_lines", max_lines, 1, _MAX_LINES)
    if lo > hi:
        raise InvalidArgument(f"min_lines={lo} must not be greater than max_lines={hi}")
    if chosen == (Status.DUPLICATE,) and lo < 2:
        raise InvalidArgument(
            "with DUPLICATE as the only status, min_lines must be at least 2: a duplicate "
            "comes with the line it duplicates"
        )
    if isinstance(contracts, int) and not isinstance(contracts, bool):
        count = _check_int("contracts", contracts, 1, len(_CONTRACT_IDS))
        contract_ids = _CONTRACT_IDS[:count]
    else:
        contract_ids = _check_names("contracts", contracts)
    # The chance to stop before each group beyond min_lines, for (lo + hi) / 2 lines on
    # average, as lists do; Hypothesis draws many smaller cases besides, by design.
    stop = max(1, round(1000 / (1 + max(0.0, (hi - lo) / 2))))
    priced = [x for x in chosen if x in _PRICED]
    originals = priced or [Status.MATCHED]
    others = [x for x in chosen if x is not Status.DUPLICATE]

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        policy = draw(_policies(payments))
        base = dt.date(2021, 10, 4) + dt.timedelta(days=draw(_ints(0, 364)))
        b = _Builder(draw, policy, contract_ids, base)
        b.payments = payments

        @st.composite
        def group(inner: st.DrawFn) -> bool:
            """Build one group of lines; return False to end the case instead.

            A group is one nested draw, so each is one span of choices that the shrinker
            can delete whole, as it deletes the elements of Hypothesis' own lists.
            """
            b.draw = inner
            b.bits_left = 0
            # Like lists: a "one more?" choice before each group, ignored below min_lines
            # but always drawn, so that every group's choices are laid out alike.
            more = inner(_ints(0, 999)) >= stop
            if len(b.lines) >= lo and not more:
                return False
            room = hi - len(b.lines)
            status = b.sample(chosen)
            if status is Status.DUPLICATE and b.originals and (room < 2 or b.maybe(7)):
                # Any earlier exactly matched priced line can be billed again.
                b.add_duplicate(b.pick(b.originals))
                return True
            if status is Status.DUPLICATE and room < 2:
                status = b.sample(others)
            if status in _PRICED:
                b.priced(status)
            elif status is Status.NO_RATE:
                b.no_rate()
            elif status is Status.UNSUPPORTED:
                b.unsupported(room, priced)
            elif status is Status.NOT_PERFORMED:
                b.not_performed()
            elif status is Status.DUPLICATE:
                b.duplicate(originals)
            else:
                b.invalid()
            return True

        one_group = group()
        while len(b.lines) < hi and draw(one_group):
            pass
        b.draw = draw
        b.bits_left = 0
        return b.finish()

    return draw_case()
