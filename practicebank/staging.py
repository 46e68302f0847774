"""Staging: where a load's triples wait while they are checked, and how they are committed.

A load puts its data into a *stage*, settles it (personal data dropped, blank nodes given
IRIs, the difference with the current graph computed), has it validated, and then commits
it with its provenance in one transaction, or abandons it, leaving the store as it was. The
store chooses the stage (:meth:`~practicebank.store.PracticeStore.stage`):

* :class:`InPlaceFill`: the embedded store's fast path for a graph that is empty. Oxigraph's
  bulk loader writes straight into the target graph under the store's journal; abandoning
  empties the graph again.
* :class:`ScratchStage`: everywhere else (a graph that holds data, a remote store, a dry
  run). The data goes into a scratch Oxigraph store beside a copy of the current graph, and
  only the difference is committed, through the store's ``apply_change``.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pyoxigraph as ox

from .namespaces import BASE, graph_node
from .personal import drop_personal_data
from .problems import Problem
from .validation import Describe, focus_nodes

if TYPE_CHECKING:
    from .backend import Store
    from .store import PracticeStore

GENID = BASE + ".well-known/genid/"
NEW = ox.NamedNode("urn:practicebank:staging:new")
OLD = ox.NamedNode("urn:practicebank:staging:old")
QUAD_FORMATS = (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)
#: Above this many triples in the graph being replaced, the scratch store is on disk beside
#: the real one: in memory, each of the two copies costs about 0.5 KB a triple (a
#: 1.9-million-triple graph would need more than 2 GiB).
ON_DISK_STAGING = 250_000

#: Types the rest of the store states for IRIs (see :func:`validation_context`).
Outside = Callable[[list[str]], dict[str, set[str]]]


class Stage:
    """The triples of one load on their way into graph ``graph/{name}``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.owner: Store | None = None      # the store the load goes into
        self.store: ox.Store | None = None   # where the staged triples are
        self.graph: ox.NamedNode = NEW       # the graph of ``store`` that holds them
        self.size = self.added = self.removed = 0
        self.added_nt = self.removed_nt = b""  # the change as N-Triples, where it is listed
        self.problems: list[Problem] = []

    @property
    def from_empty(self) -> bool:
        """Whether the graph held nothing before this load (its history then lists no
        additions: they are the whole graph, see :mod:`.history`)."""
        return False

    def add(self, data: bytes | IO[bytes], fmt: ox.RdfFormat, *, path: str | None = None
            ) -> None:
        """Stage more data (a whole file or the next chunk). ``path`` names a file for
        Oxigraph to read itself, which is fastest. Raises SyntaxError on bad input."""
        bulk_add(self.store, self.graph, data, fmt, path=path)

    def settle(self, *, file: str, drop_personal: bool, blank_nodes: bool) -> None:
        """Finish staging: drop personal data if asked (with warnings in ``problems``),
        give blank nodes IRIs, count what is there and what changes."""
        if drop_personal:
            self.problems += drop_personal_data(self.store, self.graph, file=file)
        if blank_nodes:
            skolemize(self.store, self.graph)

    def focus(self, outside: Outside | None) -> list[str] | None:
        """The nodes to validate when only the change needs it; None means all."""
        return None

    def commit(self, provenance: str) -> None:
        raise NotImplementedError

    def abandon(self) -> None:
        """Leave the store as it was before the stage was opened."""

    def close(self) -> None:
        """Release what the stage holds: a failed load's traceback may keep the stage alive
        a while, and the store it points at must close when its owner closes it."""
        self.store = self.owner = None

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if exc is not None:
            self.abandon()
        self.close()


class InPlaceFill(Stage):
    """Bulk-load straight into the embedded store's empty target graph (journaled)."""

    def __init__(self, store: PracticeStore, name: str, activity: str) -> None:
        super().__init__(name)
        self.owner: PracticeStore | None = store
        self.store, self.graph = store.ox, graph_node(name)
        store.begin_fill(name, load=activity)
        self.committed = False

    @property
    def from_empty(self) -> bool:
        return True

    def add(self, data, fmt, *, path=None) -> None:
        if fmt == ox.RdfFormat.N_TRIPLES and path is None and not isinstance(data, bytes):
            self.owner.fill_lines(data, self.graph)  # blocks of lines, read as it loads
        else:
            super().add(data, fmt, path=path)

    def settle(self, *, file: str, drop_personal: bool, blank_nodes: bool) -> None:
        super().settle(file=file, drop_personal=drop_personal, blank_nodes=blank_nodes)
        self.size = self.added = self.owner.graph_size(self.name)

    def commit(self, provenance: str) -> None:
        self.owner.commit_fill(self.name, provenance=provenance)
        self.committed = True

    def abandon(self) -> None:
        if not self.committed:
            self.owner.abandon_fill(self.name)


class ScratchStage(Stage):
    """Stage in a scratch Oxigraph store beside a copy of the current graph, and commit only
    the difference (triples removed and added) with the provenance, in one transaction of
    the real store, embedded or remote."""

    def __init__(self, store: Store, name: str, *, on_disk_beside: Path | None = None
                 ) -> None:
        super().__init__(name)
        self.owner = store
        self.folder: Path | None = None
        self.current = store.graph_size(name) if store.has_graph(name) else 0
        if on_disk_beside is not None and self.current >= ON_DISK_STAGING:
            self.folder = Path(tempfile.mkdtemp(prefix=".practicebank-staging-",
                                                dir=on_disk_beside))
            self.store = ox.Store(str(self.folder / "store"))
        else:
            self.store = ox.Store()
        self.changed_nt = b""

    @property
    def from_empty(self) -> bool:
        return self.current == 0

    def settle(self, *, file: str, drop_personal: bool, blank_nodes: bool) -> None:
        super().settle(file=file, drop_personal=drop_personal, blank_nodes=blank_nodes)
        if self.current:
            self._copy_current()
        self.added_nt = difference(self.store, NEW, OLD)
        self.removed_nt = difference(self.store, OLD, NEW)
        self.added, self.removed = count_lines(self.added_nt), count_lines(self.removed_nt)
        self.size = _size(self.store, NEW)

    def _copy_current(self) -> None:
        if self.folder is not None:  # through a file, not a bytes object in memory
            copy = self.folder / "current.nt"
            with copy.open("wb") as out:
                self.owner.dump(out, format=ox.RdfFormat.N_TRIPLES, graph=self.name)
            self.store.bulk_load(path=str(copy), format=ox.RdfFormat.N_TRIPLES, to_graph=OLD)
            copy.unlink()
        else:
            self.store.bulk_load(self.owner.dump(format=ox.RdfFormat.N_TRIPLES, graph=self.name),
                                 format=ox.RdfFormat.N_TRIPLES, to_graph=OLD)

    def focus(self, outside: Outside | None) -> list[str] | None:
        """The nodes of the new graph whose validation the change can affect: the subjects
        of changed triples and the nodes pointing at them (their ``sh:class`` checks look
        one step ahead). The rest of the graph was validated when it was loaded."""
        changed = self.added_nt + self.removed_nt
        if not changed:
            return []
        changes = ox.Store()
        changes.load(changed, format=ox.RdfFormat.N_TRIPLES)
        subjects = sorted({q.subject.value for q in changes
                           if isinstance(q.subject, ox.NamedNode)})
        found = set(subjects)
        for start in range(0, len(subjects), 500):
            chunk = " ".join(f"<{s}>" for s in subjects[start:start + 500])
            found.update(row["s"].value for row in self.store.query(
                f"SELECT DISTINCT ?s WHERE {{ VALUES ?x {{ {chunk} }} GRAPH {NEW} "
                "{ ?s ?p ?x } FILTER isIRI(?s) }"))
        return focus_nodes(self.store, NEW, outside, among=found)

    def commit(self, provenance: str) -> None:
        self.owner.apply_change(self.name, added=self.added_nt, removed=self.removed_nt,
                                provenance=provenance)
        self.owner.flush()

    def close(self) -> None:
        super().close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def bulk_add(store: ox.Store, graph: ox.NamedNode, data: bytes | IO[bytes],
             fmt: ox.RdfFormat, *, path: str | None = None) -> None:
    """Bulk-load ``data`` (or the file at ``path``) into ``graph``; the quads of a TriG or
    N-Quads file go into that one graph, whatever graph they name."""
    if fmt in QUAD_FORMATS:
        source = {"path": path} if path is not None else {"input": data}
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, graph)
                          for q in ox.parse(**source, format=fmt))
    elif path is not None:
        store.bulk_load(path=path, format=fmt, to_graph=graph)
    else:
        store.bulk_load(data, format=fmt, to_graph=graph)


def skolemize(store: ox.Store, graph: ox.NamedNode) -> int:
    """Give blank nodes IRIs (RDF 1.1 §3.5 ``.well-known/genid/``), so that every node can
    be validated, named in a report, and removed again by a later load."""
    rows = list(store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH {graph} {{ ?s ?p ?o "
                            "FILTER (isBlank(?s) || isBlank(?o)) } }"))
    if not rows:
        return 0
    names: dict[str, ox.NamedNode] = {}

    def iri(term):
        if isinstance(term, ox.BlankNode):
            return names.setdefault(term.value, ox.NamedNode(GENID + uuid.uuid4().hex))
        return term

    for row in rows:
        store.remove(ox.Quad(row["s"], row["p"], row["o"], graph))
    store.extend(ox.Quad(iri(r["s"]), r["p"], iri(r["o"]), graph) for r in rows)
    return len(names)


def validation_context(store: Store, name: str) -> Outside | None:
    """Types the rest of the store (every graph but ``graph/{name}``) states for IRIs, read
    from the store itself; None when no other graph holds data (a fresh store), which
    spares validation the lookups."""
    if not any(g != graph_node(name) for g in store.named_graphs()):
        return None

    def types(iris: list[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for iri, kind in store.types_of(iris, excluding=name):
            found.setdefault(iri, set()).add(kind)
        return found

    return types


def outside_descriptions(store: Store, name: str) -> Describe | None:
    """What the rest of the store says about IRIs (every graph but ``graph/{name}``), for
    validating nodes another graph describes; None in a store with no other graph."""
    if not any(g != graph_node(name) for g in store.named_graphs()):
        return None
    return lambda iris: store.descriptions(iris, excluding=name)


def difference(store: ox.Store, a: ox.NamedNode, b: ox.NamedNode) -> bytes:
    """N-Triples of the triples of graph ``a`` that graph ``b`` lacks."""
    return store.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {a} {{ ?s ?p ?o }} "
        f"FILTER NOT EXISTS {{ GRAPH {b} {{ ?s ?p ?o }} }} }}"
    ).serialize(format=ox.RdfFormat.N_TRIPLES)


def count_lines(ntriples: bytes) -> int:
    return ntriples.count(b"\n")


def _size(store: ox.Store, graph: ox.NamedNode) -> int:
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
    return int(next(iter(rows))["n"].value)
