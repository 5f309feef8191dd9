"""Hypothesis strategies for ice_recon's inputs, and whole cases whose right answer is known.

An optional extra: ``pip install 'ice-recon[strategies]'`` brings in Hypothesis, and this
package is the only part of ice_recon that imports it (``import ice_recon`` never does). The
strategies follow Hypothesis' own conventions: plural nouns, keyword-only options, bounds
named ``min_value``/``max_value`` and sizes ``min_size``/``max_size``, and bad options raise
:class:`hypothesis.errors.InvalidArgument` as soon as the strategy is asked for.

- :func:`amounts`, :func:`rates`, :func:`quantities`: ``Decimal`` values drawn as scaled
  integers, so that every value has exactly the places asked for.
- :func:`rate_rules`, :func:`rate_schedules`, :func:`trips`, :func:`manifests`,
  :func:`rosters`, :func:`invoice_lines`: valid records of the input tables.
- :func:`cases`: a whole data set in which every invoice line was *built to be* a chosen
  status of DESIGN section 5, with the answer worked out independently of the engine — an
  oracle for property tests of ice_recon itself and of code built on it; with
  ``payments=True`` also the files of DESIGN section 9.1, and in every case the answer of
  section 9 (invoice controls, payment ledgers, funds put to better use).

>>> from decimal import Decimal
>>> from hypothesis import find
>>> find(amounts(min_value=Decimal("1.50")), lambda a: True)
Decimal('1.50')

The names above are the supported API; import them from here. The private modules behind
them: ``_values`` and ``_records`` (the number and record strategies), ``_check`` (option
checks), ``_draw`` (shared vocabulary and drawing primitives), ``_oracle`` (the independent
exact pricing and classification), ``_payment_oracle`` (the independent answer of section
9), ``_case`` (:class:`Case`, :class:`ExpectedLine` and the section 9 answers), and the
case builder: ``_parts``, ``_base``, ``_priced``, ``_payments``, ``_builder``, then ``_cases``
(:func:`cases`).
"""

from __future__ import annotations

from ice_recon.strategies._case import (
    Case,
    ExpectedInvoiceFinding,
    ExpectedLine,
    ExpectedPayments,
)
from ice_recon.strategies._case import Key as Key
from ice_recon.strategies._cases import cases
from ice_recon.strategies._check import InvalidArgument
from ice_recon.strategies._records import (
    RateSchedule,
    invoice_lines,
    manifests,
    rate_rules,
    rate_schedules,
    rosters,
    trips,
)
from ice_recon.strategies._values import amounts, quantities, rates

__all__ = [
    "Case",
    "ExpectedInvoiceFinding",
    "ExpectedLine",
    "ExpectedPayments",
    "InvalidArgument",
    "RateSchedule",
    "amounts",
    "cases",
    "invoice_lines",
    "manifests",
    "quantities",
    "rate_rules",
    "rate_schedules",
    "rates",
    "rosters",
    "trips",
]
