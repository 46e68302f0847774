"""Where linked-data reads come from for the current request, and what they share.

:func:`source` picks the committed snapshot (embedded store with workers), the store itself
(in memory) or SPARQL (a remote store), with the cache of linked resources' labels for the
current commit; :func:`ontology_docs` imports the documentation generator on first use.
"""

from __future__ import annotations

from types import ModuleType

from flask import g, has_app_context

from practicebank.remote_store import RemoteStore

from .descriptions import IndexSource, LinkedCache, Source, SparqlSource
from .runtime import get_runtime

#: Labels and types of linked resources, per committed state (see LinkedCache).
LINKED = LinkedCache()
#: Where ``g`` holds the source of a page made in a query worker (:mod:`.page_jobs`).
PAGE_SOURCE = "_page_source"


def ontology_docs() -> ModuleType:
    """The ontology documentation module (imported on first use: it parses the ontology)."""
    from . import ontology_docs as module

    return module


def source() -> Source:
    """Where descriptions are read: the committed snapshot, the in-memory store, or the
    remote server; in a query worker making a page, its snapshot (page_jobs)."""
    if has_app_context():
        bound = g.get(PAGE_SOURCE)
        if bound is not None:
            return bound
    runtime = get_runtime()
    if isinstance(runtime.store, RemoteStore):
        return SparqlSource(runtime.store)
    view = runtime.committed_view()
    cache = LINKED.for_version((id(runtime), runtime.version()))
    return IndexSource(view if view is not None else runtime.store.view(), cache)
