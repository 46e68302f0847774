"""``practicebank export``: a graph or the whole store, in a serialisation that loads back.

N-Quads and TriG keep each triple's graph, so a whole-store export restores every graph;
Turtle and N-Triples hold one graph, so they need ``graph``. Oxigraph writes the bytes
itself (or the remote store sends them), streaming, so an export of millions of triples
needs little memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pyoxigraph as ox

from . import formats
from .backend import Store
from .namespaces import graph_node

QUAD_FORMATS = frozenset({"nq", "trig"})


def export_store(store: Store, output: IO[bytes] | Path, *, graph: str | None = None,
                 format: str = "nq") -> None:
    """Write ``graph/{graph}`` (or every ``graph/…`` graph) to ``output``."""
    fmt = formats.by_name(format)
    if fmt is None or fmt.rdf_format is None:
        raise ValueError(f"Cannot export as {format}; use nq, trig, ttl or nt.")
    if graph is None and format not in QUAD_FORMATS:
        raise ValueError(f"--format {format} holds one graph: name it with --graph, "
                         "or export everything as nq or trig.")
    if graph is not None and not store.has_graph(graph):
        raise ValueError(f"graph/{graph} holds no data; `practicebank stats` lists the graphs.")
    target = str(output) if isinstance(output, Path) else output
    if graph is not None and format not in QUAD_FORMATS:
        store.dump(target, format=fmt.rdf_format, graph=graph)
        return
    if graph is None:
        store.dump(target, format=fmt.rdf_format)
        return
    ox.serialize(store.quads_of(graph_node(graph)), target, format=fmt.rdf_format)
