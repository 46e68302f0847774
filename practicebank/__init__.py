"""practicebank: a linked-data knowledge graph of crime-reduction practice.

Use it from Python::

    import practicebank

    with practicebank.open_store("my-store") as store:
        practicebank.load(store, "practices.csv")
        rows = practicebank.query(store, "SELECT ?t WHERE { ?p a pb:Practice ; dcterms:title ?t }")

``open_store``, ``load``, ``validate``, ``query``, ``export`` and ``serve`` are documented in
:mod:`practicebank.api`. They are loaded on first use, so that importing one module of the
package (``practicebank.store``, say) does not import them all.

The package maps onto the repository's folders: ``practicebank.x`` is ``practicebank/x.py``
(the core and the CLI), and ``practicebank.loaders``, ``practicebank.endpoint``,
``practicebank.ontology``, ``practicebank.shapes`` and ``practicebank.data`` are the
top-level folders of the same names.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .version import __version__

__all__ = ["__version__", "open_store", "load", "validate", "query", "export", "serve",
           "LoadOptions", "LoadResult", "Store"]


def __getattr__(name: str) -> Any:
    """The public API, imported from :mod:`practicebank.api` when first asked for."""
    if name in __all__:
        return getattr(import_module(".api", __name__), name)
    raise AttributeError(f"module 'practicebank' has no attribute {name!r}")
