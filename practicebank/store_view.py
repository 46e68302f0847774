"""A read view with pyoxigraph's ``Store`` methods over a store reached only by SPARQL.

The endpoint plans and validates writes by reading quads by pattern (what a graph holds,
what points at a node, which types a node has), with pyoxigraph's ``quads_for_pattern``,
``in``, ``contains_named_graph``, ``named_graphs`` and ``dump``. The embedded store hands
out its own ``pyoxigraph.Store``; a remote store hands out this view, which asks the same
questions as small SPARQL queries, so the write path is one code for both.

Only named graphs are read by a pattern without a graph (``graph_name=None``): the data
lives in named graphs, and a remote server's default graph is often the union of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

import pyoxigraph as ox

if TYPE_CHECKING:
    from .backend import Store

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Graph = ox.NamedNode | ox.DefaultGraph | None


class QueryView:
    """``quads_for_pattern`` and friends, answered by SPARQL queries on ``store``."""

    def __init__(self, store: Store, *, timeout: float | None = None) -> None:
        self.store = store
        self.timeout = timeout

    def quads_for_pattern(self, subject: Term | None, predicate: ox.NamedNode | None,
                          obj: Term | None, graph_name: Graph = None) -> Iterator[ox.Quad]:
        terms = {"s": subject, "p": predicate, "o": obj}
        pattern = " ".join(str(t) if t is not None else f"?{v}" for v, t in terms.items())
        if any(isinstance(t, ox.BlankNode) for t in terms.values()):
            return iter(())  # a blank node cannot be named in a query to another store
        if subject is None and predicate is None and obj is None and graph_name is not None:
            # a whole graph (what a Graph Store GET, PUT or DELETE reads) the way the store
            # reads one, in pages where the server cuts answers (Virtuoso at 10,000 rows): a
            # SELECT would come back cut, or refused as truncated
            return iter(self.store.quads_of(graph_name))
        if isinstance(graph_name, ox.DefaultGraph):  # what stands for it differs by server
            return (q for q in self.store.quads_of(graph_name)
                    if all(t is None or t == getattr(q, part) for part, t in
                           (("subject", subject), ("predicate", predicate), ("object", obj))))
        if graph_name is not None:
            where, graph = f"GRAPH {graph_name} {{ {pattern} }}", graph_name
        else:
            where, graph = f"GRAPH ?g {{ {pattern} }}", None
        rows = self.store.query(f"SELECT * WHERE {{ {where} }}", timeout=self.timeout)
        return (ox.Quad(terms["s"] or row["s"], terms["p"] or row["p"], terms["o"] or row["o"],
                        graph if graph is not None else row["g"]) for row in rows)

    def __contains__(self, quad: ox.Quad) -> bool:
        return any(True for _ in self.quads_for_pattern(quad.subject, quad.predicate,
                                                        quad.object, quad.graph_name))

    def contains_named_graph(self, graph: ox.NamedNode) -> bool:
        return self.store.contains_named_graph(graph)

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        return iter(self.store.named_graphs())

    def dump(self, output: IO[bytes] | str | None = None, *, format: ox.RdfFormat,
             from_graph: ox.NamedNode | ox.DefaultGraph | None = None) -> bytes | None:
        quads = self.quads_for_pattern(None, None, None, from_graph)
        if format.supports_datasets:
            return ox.serialize(quads, output, format=format)
        return ox.serialize((q.triple for q in quads), output, format=format)
