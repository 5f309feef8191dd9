"""The narrowed candidate lookups of inference change nothing but the work done."""

from __future__ import annotations

import pytest
from hypothesis import given

from ice_recon import Policy
from ice_recon import match as match_module
from test_properties import Tables, _outputs, _run, datasets


@given(datasets())
def test_narrowed_lookups_give_the_results_of_a_full_scan(case: tuple[Tables, Policy]) -> None:
    """Results are byte-identical with the keyed lookups on and off; pairs never grow."""
    tables, policy = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(match_module, "_NARROW_CANDIDATES", False)
        full = _run(tables, policy)

    narrowed = _run(tables, policy)

    assert _outputs(narrowed) == _outputs(full)
    assert narrowed.stats["candidate_pairs"] <= full.stats["candidate_pairs"]
