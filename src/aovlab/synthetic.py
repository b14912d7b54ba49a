"""``aovlab.synthetic``: the seeded synthetic store (kept at its old import path).

The code lives in :mod:`aovlab.importers.synthetic`; this module re-exports it so that
``from aovlab.synthetic import write_orders`` keeps working.
"""

from .importers.synthetic import (  # noqa: F401 - re-exported
    Synthetic,
    SyntheticOptions,
    SyntheticStore,
    import_synthetic,
    read_manifest,
    write_orders,
)

__all__ = ["Synthetic", "SyntheticOptions", "SyntheticStore", "import_synthetic",
           "read_manifest", "write_orders"]
