"""The embedded Oxigraph store: opening it, querying it, and replacing one named graph at once.

Oxigraph takes an exclusive lock on an on-disk store, so one process owns it for writing;
a second open fails at once and is reported as :class:`StoreInUseError`. Every load goes into
its own named graph ``graph/{name}``. A replace first stages the new triples in a private
graph (one transaction), then swaps them in with a single SPARQL Update (a second
transaction), so a reader or a crash sees either the old graph or the new one, never half.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pyoxigraph as ox

from .namespaces import GRAPH, PB, sparql_prefixes

#: Where the store lives when neither ``--store`` nor ``PRACTICEBANK_STORE`` says otherwise.
DEFAULT_STORE_PATH = "practicebank-store"
STORE_ENV = "PRACTICEBANK_STORE"
STAGING_PREFIX = "urn:practicebank:staging:"
PROVENANCE_GRAPH = "provenance"


class StoreInUseError(RuntimeError):
    """Another process holds the store's write lock."""


def default_store_path() -> str:
    """The store path from the environment, else the documented default."""
    return os.environ.get(STORE_ENV) or DEFAULT_STORE_PATH


def graph_node(name: str) -> ox.NamedNode:
    """The NamedNode of named graph ``graph/{name}``."""
    return ox.NamedNode(str(GRAPH[name]))


class PracticeStore:
    """A pyoxigraph store plus the few operations practicebank needs on it.

    ``path=None`` gives an in-memory store (tests, validation scratch space).
    Queries see the union of all named graphs as their default graph, because every load
    lives in a named graph of its own.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is None:
            self.ox = ox.Store()
            return
        try:
            self.ox = ox.Store(str(self.path))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreInUseError(
                    f"The store at {self.path} is in use by another process "
                    "(for example a running `practicebank serve`). Stop that process, "
                    "or point --store at another folder."
                ) from exc
            raise

    # -- reading -------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        base_iri: str | None = None,
        default_graph: list[ox.NamedNode] | None = None,
        named_graphs: list[ox.NamedNode] | None = None,
    ):
        """Run a SPARQL query; the default graph is the union of all graphs unless
        ``default_graph`` names the graphs to use (SPARQL Protocol ``default-graph-uri``)."""
        return self.ox.query(
            sparql,
            base_iri=base_iri,
            use_default_graph_as_union=default_graph is None,
            default_graph=default_graph,
            named_graphs=named_graphs,
        )

    def count(self, where: str) -> int:
        """``SELECT (COUNT(*) AS ?n) WHERE { where }`` with our prefixes, as an int."""
        rows = list(self.query(f"{sparql_prefixes()}SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"))
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
            rows = self.query(
                f"SELECT DISTINCT ?s ?t WHERE {{ VALUES ?s {{ {values} }} "
                f"GRAPH ?g {{ ?s a ?t }} {skip} }}"
            )
            found += [(row["s"].value, row["t"].value) for row in rows]
        return found

    def has_graph(self, name: str) -> bool:
        return self.graph_size(name) > 0

    def graph_size(self, name: str) -> int:
        return sum(1 for _ in self.ox.quads_for_pattern(None, None, None, graph_node(name)))

    def graph_names(self) -> list[str]:
        """Short names of the ``graph/…`` named graphs that hold data."""
        prefix = str(GRAPH)
        return sorted(
            g.value[len(prefix):]
            for g in self.ox.named_graphs()
            if isinstance(g, ox.NamedNode) and g.value.startswith(prefix)
        )

    def stats(self) -> dict[str, int]:
        """Headline counts for the landing page and ``practicebank stats``."""
        return {
            "practices": self.count("SELECT DISTINCT ?p WHERE { ?p a pb:Practice }"),
            "organisations": self.count("SELECT DISTINCT ?o WHERE { ?o a pb:Organisation }"),
            "forces": self.count("SELECT DISTINCT ?f WHERE { ?f a pb:PoliceForce }"),
            "concept_schemes": self.count("SELECT DISTINCT ?s WHERE { ?s a skos:ConceptScheme }"),
            "concepts": self.count("SELECT DISTINCT ?c WHERE { ?c a skos:Concept }"),
            "graphs": len(self.graph_names()),
            "triples": len(self.ox),
        }

    # -- writing -------------------------------------------------------------------------

    def replace_graph(
        self,
        name: str,
        ntriples: bytes | str,
        *,
        provenance: Callable[[int, int], str] | None = None,
    ) -> tuple[int, int]:
        """Replace graph ``graph/{name}`` with ``ntriples``, all or nothing.

        ``provenance(added, removed)`` returns N-Triples that are written into
        ``graph/provenance`` in the same transaction as the swap.
        Returns (triples added, triples removed).
        """
        target = graph_node(name)
        staging = ox.NamedNode(STAGING_PREFIX + name)
        if self.ox.contains_named_graph(staging):  # left by a load that was killed
            self.ox.remove_graph(staging)
        self.ox.load(ntriples, format=ox.RdfFormat.N_TRIPLES, to_graph=staging)
        added = self._count_difference(staging, target)
        removed = self._count_difference(target, staging)
        prov = ""
        if provenance is not None:
            triples = provenance(added, removed)
            prov = f"INSERT DATA {{ GRAPH <{GRAPH[PROVENANCE_GRAPH]}> {{ {triples} }} }} ;\n"
        self.ox.update(
            f"DROP SILENT GRAPH {target} ;\n"
            f"ADD SILENT GRAPH {staging} TO GRAPH {target} ;\n"
            f"{prov}"
            f"DROP SILENT GRAPH {staging}"
        )
        return added, removed

    def _count_difference(self, a: ox.NamedNode, b: ox.NamedNode) -> int:
        rows = self.ox.query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {a} {{ ?s ?p ?o }} "
            f"FILTER NOT EXISTS {{ GRAPH {b} {{ ?s ?p ?o }} }} }}"
        )
        return int(next(iter(rows))["n"].value)

    def quads(self, name: str) -> Iterable[ox.Quad]:
        """Every quad of graph ``graph/{name}``."""
        return self.ox.quads_for_pattern(None, None, None, graph_node(name))

    def flush(self) -> None:
        self.ox.flush()

    def close(self) -> None:
        """Release the store (and its lock)."""
        self.flush()
        del self.ox

    def __enter__(self) -> PracticeStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["PracticeStore", "StoreInUseError", "default_store_path", "graph_node", "PB"]
