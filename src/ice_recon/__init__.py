"""Reconcile billed transport trips against trip manifests and contract rate schedules."""

from ice_recon._version import __version__

__all__ = ["__version__"]
