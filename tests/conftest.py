"""Shared test configuration: Hypothesis profiles (dev by default, ci in CI, thorough)."""

import contextlib
import os

from hypothesis import HealthCheck, settings

# The fast engine (engine="auto" when numpy and pyarrow are installed) imports them on its
# first use, about 0.3 s: import them once here, so that no Hypothesis example with a
# deadline pays for it.
with contextlib.suppress(ImportError):
    import ice_recon._fast.read  # noqa: F401

settings.register_profile("dev", max_examples=100)
settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
