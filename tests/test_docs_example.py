"""The example of docs/how-to/property-testing.md, as a test module a user would write.

Keep it in step with the page: it is what the page promises runs.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given

import ice_recon
from ice_recon import LineResult, Status
from ice_recon.strategies import Case, cases

NOT_PAYABLE = {
    Status.INVALID,
    Status.NO_RATE,
    Status.UNSUPPORTED,
    Status.NOT_PERFORMED,
    Status.DUPLICATE,
}


def amount_to_pay(result: LineResult) -> Decimal:
    """Return what to pay for one reconciled line (the payment code under test)."""
    if result.status in NOT_PAYABLE:
        return Decimal("0.00")
    assert result.billed is not None and result.expected is not None
    return min(result.billed, result.expected)


@given(cases(max_lines=10))
def test_pays_what_the_contract_allows_and_nothing_unsupported(case: Case) -> None:
    """Every line is paid as its built status and amounts say, never more than billed."""
    report = ice_recon.reconcile(case.inputs, policy=case.policy)
    for result in report.lines:
        answer = case.lines[result.key]
        paid = amount_to_pay(result)
        if answer.status in NOT_PAYABLE:
            assert paid == 0, answer.variant
        else:
            assert answer.billed is not None and answer.expected is not None
            assert paid == min(answer.billed, answer.expected), answer.variant
        assert paid <= (answer.billed or 0), answer.variant
