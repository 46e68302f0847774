"""The embedded Oxigraph store: opening it, querying it, and replacing one named graph at once.

Oxigraph takes an exclusive lock on an on-disk store, so one process owns it for writing;
a second open fails at once and is reported as :class:`StoreInUseError`. Every load goes into
its own named graph ``graph/{name}``, and a graph is only ever changed all at once:

* **Filling an empty graph** (the first load of a file, the bulk case) uses Oxigraph's bulk
  loader, which is several times faster than a transaction but not atomic. So a *journal*
  file in the store folder is written first, naming the graph and the load; the load's
  provenance, written in one transaction once the data is checked, is the commit point, and
  the journal is then removed. A process killed before that leaves the journal behind, and
  the next read-write open (:meth:`PracticeStore.recover`) empties the graph again: the
  store is as it was before the load.
* **Changing a graph that holds data** applies only the difference (triples removed and
  added) and the provenance in a single SPARQL Update, which Oxigraph runs as one
  transaction.
* **Writes through the endpoint** are computed in full and validated first, then applied
  under a redo journal (:mod:`.journal`, :meth:`PracticeStore.commit_changes`): the next
  read-write open after a kill finishes applying them.

Bulk loading is several times faster than transactional inserts, and deletes slower still
(the figures are in docs/loading.md, "Speed and memory"), which is why a graph is never
copied or dropped whole on the way.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from . import journal as redo
from .journal import ChangeSet
from .merged_default import forget, live_view, note_change
from .namespaces import GRAPH, PB, graph_node
from .sparql_text import has_dataset_clause
from .staging import InPlaceFill, ScratchStage, Stage, bulk_add
from .store_reads import PROVENANCE_GRAPH, SparqlReads

#: Where the store lives when neither ``--store`` nor ``PRACTICEBANK_STORE`` says otherwise.
DEFAULT_STORE_PATH = "practicebank-store"
STORE_ENV = "PRACTICEBANK_STORE"
#: The journal of an unfinished bulk fill, inside the store folder (Oxigraph ignores it).
JOURNAL_NAME = "practicebank-load.journal"


class StoreInUseError(RuntimeError):
    """Another process holds the store's write lock."""


def default_store_path() -> str:
    """The store path from the environment, else the documented default."""
    return os.environ.get(STORE_ENV) or DEFAULT_STORE_PATH


class PracticeStore(SparqlReads):
    """A pyoxigraph store plus the few operations practicebank needs on it.

    ``path=None`` gives an in-memory store (tests, validation scratch space).
    Queries see the union of all named graphs as their default graph, because every load
    lives in a named graph of its own. It keeps the :class:`~practicebank.backend.Store`
    contract.
    """

    kind = "embedded"

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.replayed = False  # set by recover(): a killed endpoint write was finished
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
        self.recovered = self.recover()

    # -- reading -------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        base_iri: str | None = None,
        default_graph: list[ox.NamedNode] | None = None,
        named_graphs: list[ox.NamedNode] | None = None,
        timeout: float | None = None,
    ):
        """Run a SPARQL query; the default graph is the merge of all graphs (each triple once,
        see :mod:`.merged_default`) unless ``default_graph`` names the graphs to use (SPARQL
        Protocol ``default-graph-uri``) or the query its own (``FROM``).
        ``timeout`` is ignored: an embedded query cannot be stopped (the endpoint runs
        queries in worker processes it can kill)."""
        if default_graph is None and not has_dataset_clause(sparql):
            return live_view(self).query(sparql, base_iri=base_iri, named_graphs=named_graphs,
                                         use_default_graph_as_union=True)
        return self.ox.query(sparql, base_iri=base_iri, default_graph=default_graph,
                             named_graphs=named_graphs)

    def read(self, sparql: str):
        """The shared reads (:mod:`.store_reads`) name their graphs: the plain union will do."""
        return self.ox.query(sparql, use_default_graph_as_union=True)

    def has_graph(self, name: str) -> bool:
        return bool(self.ox.query(f"ASK {{ GRAPH {graph_node(name)} {{ ?s ?p ?o }} }}"))

    def graph_size(self, name: str) -> int:
        return self._size(graph_node(name))

    def _size(self, graph: ox.NamedNode) -> int:
        rows = self.ox.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
        return int(next(iter(rows))["n"].value)

    def named_graphs(self) -> list[ox.NamedNode]:
        return [g for g in self.ox.named_graphs() if isinstance(g, ox.NamedNode)]

    def contains_named_graph(self, graph: ox.NamedNode) -> bool:
        return self.ox.contains_named_graph(graph)

    def quads_of(self, graph: ox.NamedNode | ox.DefaultGraph) -> Iterable[ox.Quad]:
        return self.ox.quads_for_pattern(None, None, None, graph)

    def view(self) -> ox.Store:
        """The store itself: the embedded store is its own read view."""
        return self.ox

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

    def dump(self, output: IO[bytes] | str | None = None, *, format: ox.RdfFormat,
             graph: str | None = None) -> bytes | None:
        """Serialise one graph (``graph``) or every named graph to ``output`` (or return
        bytes): the basis of ``practicebank export``."""
        if graph is not None:
            return self.ox.dump(output, format=format, from_graph=graph_node(graph))
        return self.ox.dump(output, format=format)

    # -- writing -------------------------------------------------------------------------

    def apply_change(self, name: str, *, added: bytes = b"", removed: bytes = b"",
                     provenance: str | bytes = "") -> None:
        """Remove and add N-Triples in ``graph/{name}`` and add ``provenance`` to
        ``graph/provenance``, in one transaction (one SPARQL Update)."""
        target = graph_node(name)
        parts = []
        if removed:
            parts.append(f"DELETE DATA {{ GRAPH {target} {{ {_text(removed)} }} }}")
        if added:
            parts.append(f"INSERT DATA {{ GRAPH {target} {{ {_text(added)} }} }}")
        if provenance:
            parts.append(f"INSERT DATA {{ GRAPH {graph_node(PROVENANCE_GRAPH)} "
                         f"{{ {_text(provenance)} }} }}")
        if parts:
            self.ox.update(" ;\n".join(parts))
            forget(self)

    def stage(self, name: str, *, activity: str, in_place: bool = True) -> Stage:
        """Where a load of ``graph/{name}`` stages its data (see :mod:`.staging`): straight
        into the graph when it is empty (``in_place``, not for a dry run), else in a
        scratch store beside this one."""
        if in_place and not self.has_graph(name):
            return InPlaceFill(self, name, activity)
        return ScratchStage(self, name, on_disk_beside=self.path.parent if self.path else None)

    def begin_fill(self, name: str, *, load: str) -> None:
        """Start bulk-loading into the empty graph ``graph/{name}`` under a journal naming
        the ``load`` activity; finish with :meth:`commit_fill` or :meth:`abandon_fill` (or
        the next open empties the graph again)."""
        if self.has_graph(name):
            raise ValueError(f"graph/{name} is not empty; only an empty graph is filled")
        self._write_journal({"graph": name, "load": load, "kind": "fill"})

    def fill_graph(self, name: str, data: bytes | IO[bytes], *, format: ox.RdfFormat,
                   load: str) -> None:
        """:meth:`begin_fill` and bulk-load ``data`` (a scratch store's whole fill)."""
        self.begin_fill(name, load=load)
        bulk_add(self.ox, graph_node(name), data, format)

    def fill_lines(self, stream: IO[bytes], target: ox.NamedNode,
                   block: int = 8 << 20) -> None:
        """Bulk-load N-Triples in blocks of whole lines: several bulk loads of a few
        megabytes are faster than one of the whole file (measured 0.9 s against 1.3 s for
        184k triples) and keep less in memory, and the next block is read while Oxigraph
        loads this one (it releases the GIL). Blank-node labels must be read in one piece,
        so from the first block that may hold one, the rest is loaded by one bulk load that
        reads the stream itself (never the rest of the file into memory at once)."""
        blocks: queue.Queue[tuple[bytes, bool] | BaseException | None] = queue.Queue(2)

        def read_blocks() -> None:
            try:
                rest = b""
                while data := stream.read(block):
                    data = rest + data
                    cut = data.rfind(b"\n") + 1
                    chunk, rest = data[:cut], data[cut:]
                    if b"_:" in chunk:
                        blocks.put((chunk + rest, True))  # the loader reads the rest itself
                        return
                    blocks.put((chunk, False))
                if rest.strip():
                    blocks.put((rest, False))
            except BaseException as exc:  # re-raised by the loading thread
                blocks.put(exc)
            finally:
                blocks.put(None)

        reader = threading.Thread(target=read_blocks, name="practicebank-read", daemon=True)
        reader.start()
        try:
            while (item := blocks.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                data = _Continued(item[0], stream) if item[1] else item[0]
                self.ox.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=target)
        finally:
            while reader.is_alive():  # unblock a reader waiting to put a block
                try:
                    blocks.get(timeout=0.1)
                except queue.Empty:
                    pass
            reader.join()

    def commit_fill(self, name: str, *, provenance: str | bytes = "",
                    removed: bytes = b"") -> None:
        """Make a fill permanent: the provenance transaction is the commit point.
        ``removed`` are triples taken out of the filled graph before it is kept
        (personal data), in the same transaction."""
        self.apply_change(name, removed=removed, provenance=provenance)
        self.flush()
        self._journal().unlink(missing_ok=True) if self.path else None

    def abandon_fill(self, name: str) -> None:
        """Undo a fill that failed validation: the graph was empty before, so it is again."""
        self.ox.remove_graph(graph_node(name))
        forget(self)
        self.flush()
        if self.path:
            self._journal().unlink(missing_ok=True)

    def commit_changes(self, change: ChangeSet) -> None:
        """Apply a validated endpoint write: on disk under the redo journal, so that a kill
        at any moment leaves the store before or after it (see :mod:`.journal`)."""
        if not change:
            return
        if self.path is None:  # in memory: a killed process takes the store with it
            redo.apply(self.ox, change)
            note_change(self, change)
            return
        redo.write_journal(self.path, change)
        redo.apply(self.ox, change)
        note_change(self, change)
        self.flush()  # durable before the journal goes, or a power cut could lose half
        redo.clear_journal(self.path)

    def recover(self) -> str | None:
        """Finish a write or undo a load that was killed (run on every read-write open).

        A write journal is applied again (``self.replayed`` is then True); a load journal's
        graph is emptied again. Returns the name of that graph, or None when there was no
        load to undo.
        """
        self.replayed = self._replay_write()
        journal = self._journal()
        if not journal.is_file():
            return None
        try:
            entry = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entry = {}
        name, load = entry.get("graph"), entry.get("load")
        committed = load and bool(self.ox.query(
            f"ASK {{ GRAPH {graph_node(PROVENANCE_GRAPH)} {{ <{load}> a {PB_LOAD} }} }}"))
        undone = None
        if name and not committed:
            self.ox.remove_graph(graph_node(name))
            self.flush()
            undone = name
        journal.unlink(missing_ok=True)
        return undone

    def _replay_write(self) -> bool:
        change = redo.read_journal(self.path)
        if change is not None:
            redo.apply(self.ox, change)
            self.flush()
        redo.clear_journal(self.path)
        return change is not None

    def _journal(self) -> Path:
        assert self.path is not None
        return self.path / JOURNAL_NAME

    def _write_journal(self, entry: dict) -> None:
        """Write the journal durably before the store is touched (write, fsync, rename)."""
        if self.path is None:
            return
        journal = self._journal()
        temporary = journal.with_suffix(".tmp")
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(entry, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, journal)
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

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


PB_LOAD = f"<{PB.Load}>"


class _Continued:
    """``head`` and then the rest of ``stream``, as one file Oxigraph reads as it goes."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head, self.stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.stream.read(size)
        if size is None or size < 0:
            data, self.head = self.head + self.stream.read(), b""
            return data
        data, self.head = self.head[:size], self.head[size:]
        return data


def _text(data: str | bytes) -> str:
    return data.decode("utf-8") if isinstance(data, bytes) else data


__all__ = ["PracticeStore", "StoreInUseError", "default_store_path", "graph_node"]
