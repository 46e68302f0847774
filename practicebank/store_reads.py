"""The reads both stores answer with the same SPARQL: counts, the types validation needs,
and the latest load of a graph.

The embedded store and a remote one differ in how a query reaches the data, not in what it
asks, so these are written once, over :meth:`SparqlReads.read`, which each store defines.
Every query here names its graphs (``GRAPH …``) or counts distinct things, so it needs
neither the merged default graph nor anything engine-specific.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from .namespaces import graph_node, sparql_prefixes

#: Graphs a load stages in (never context for validation, never a data graph).
STAGING_PREFIX = "urn:practicebank:staging:"
#: The short name of the graph every load's PROV-O record goes to.
PROVENANCE_GRAPH = "provenance"


class SparqlReads:
    """Reads written once for both stores; a store supplies :meth:`read`."""

    def read(self, sparql: str) -> Any:
        """Run one of the queries below (pyoxigraph's result objects)."""
        raise NotImplementedError

    def count(self, where: str) -> int:
        """``SELECT (COUNT(*) AS ?n) WHERE { where }`` with our prefixes, as an int."""
        rows = list(self.read(f"{sparql_prefixes()}SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"))
        return int(rows[0]["n"].value)

    def types_of(self, iris: Iterable[str], *, excluding: str | None = None,
                 chunk: int = 500) -> list[tuple[str, str]]:
        """(iri, class) for every rdf:type the store holds for ``iris`` outside graph
        ``excluding``: what validation needs to know about the things a load points at."""
        iris = sorted(set(iris))
        skip = f"FILTER (?g != {graph_node(excluding)})" if excluding else ""
        found = []
        for start in range(0, len(iris), chunk):
            values = " ".join(f"<{iri}>" for iri in iris[start:start + chunk])
            rows = self.read(
                f"SELECT DISTINCT ?s ?t WHERE {{ VALUES ?s {{ {values} }} "
                f"GRAPH ?g {{ ?s a ?t }} {skip} FILTER (!STRSTARTS(STR(?g), "
                f'"{STAGING_PREFIX}")) }}'
            )
            found += [(row["s"].value, row["t"].value) for row in rows]
        return found

    def descriptions(self, iris: Iterable[str], *, excluding: str | None = None,
                     chunk: int = 500) -> bytes:
        """N-Triples of every statement about ``iris`` outside graph ``excluding`` (and the
        staging graphs): what validation needs of a node another graph describes."""
        iris = sorted(set(iris))
        skip = f"FILTER (?g != {graph_node(excluding)})" if excluding else ""
        out = []
        for start in range(0, len(iris), chunk):
            values = " ".join(f"<{iri}>" for iri in iris[start:start + chunk])
            out.append(self.read(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g "
                f'{{ ?s ?p ?o }} {skip} FILTER (!STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }}'
            ).serialize(format=ox.RdfFormat.N_TRIPLES) or b"")
        return b"".join(out)

    def last_load(self, name: str) -> dict[str, str] | None:
        """The latest committed load of ``graph/{name}``: its activity, end time, source
        checksum and the checksum of the shapes it was validated with."""
        rows = list(self.read(
            f"{sparql_prefixes()}SELECT ?load ?end ?sha ?shapes WHERE {{ GRAPH "
            f"{graph_node(PROVENANCE_GRAPH)} {{ ?load a pb:Load ; pb:targetGraph "
            f"{graph_node(name)} ; prov:endedAtTime ?end . "
            "OPTIONAL { ?load prov:used ?file . ?file a pb:SourceFile ; pb:sha256 ?sha } "
            "OPTIONAL { ?load dcterms:conformsTo ?shapes } } } ORDER BY DESC(?end) LIMIT 1"
        ))
        if not rows:
            return None
        return {key: rows[0][key].value for key in ("load", "end", "sha", "shapes")
                if rows[0][key] is not None}
