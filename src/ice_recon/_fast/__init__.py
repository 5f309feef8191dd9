"""The accelerator of the ``fast`` extra: numpy and pyarrow paths over the core's layout.

Imported only when ``engine="fast"`` is in force (see :mod:`ice_recon._engine`); nothing in
the core imports it otherwise. Every path here gives exactly what the pure-Python path
gives, and hands back to it (returns ``None``) for anything it cannot decide exactly.
"""
