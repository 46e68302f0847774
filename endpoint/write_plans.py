"""What a write would change, computed before anything is changed: a :class:`ChangeSet`.

* Graph Store bodies are already quads (parsed by pyoxigraph): a POST adds those the graph
  lacks, a PUT removes and adds the difference from the graph's current content, a DELETE
  drops the graph.
* ``INSERT DATA``/``DELETE DATA`` updates (the large ones) are read without running anything
  on the store: :mod:`.update_ops` finds each operation's data block, and Oxigraph parses
  it, by running the operation on an empty store in memory (so the data means exactly what
  Oxigraph makes of it: 30,000 triples in ~0.1-0.2 s). The operations' effects are then
  chained against the store (a quad inserted then deleted is no change).
* Any other update runs on a copy of the store (:mod:`.shadow_update`): in a killable
  process on a checkpoint for a store on disk, in process on a copy for one in memory.

Every step checks the write's :class:`Deadline`, so a write that cannot be planned in time
stops with nothing changed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pyoxigraph as ox

from practicebank.backend import Store
from practicebank.journal import ChangeSet
from practicebank.namespaces import GRAPH
from practicebank.store import PracticeStore

from . import shadow_update
from .remote_updates import remote_changes
from .update_ops import DATA_KINDS, Operation, graphs_of, read_operations
from .write_deadline import Deadline, WriteTimeout

DEFAULT = ox.DefaultGraph()
DATA_GRAPH_PREFIX = str(GRAPH)
ERRORS = {"SyntaxError": SyntaxError, "RuntimeError": RuntimeError, "OSError": OSError,
          "ValueError": ValueError}


def is_data_graph(graph: object) -> bool:
    """Named graphs under ``graph/``, where every load goes: the ones held to the shapes."""
    return isinstance(graph, ox.NamedNode) and graph.value.startswith(DATA_GRAPH_PREFIX)


# -- Graph Store -------------------------------------------------------------------------------


def post_changes(store: ox.Store, quads: list[ox.Quad]) -> ChangeSet:
    """Adding ``quads``: those the store does not hold yet."""
    return ChangeSet(added=[q for q in dict.fromkeys(quads) if q not in store])


def put_changes(store: ox.Store, graph: ox.NamedNode | ox.DefaultGraph,
                quads: list[ox.Quad]) -> ChangeSet:
    """Replacing ``graph`` with ``quads``: for a data graph the difference (validation
    needs to know what goes), for another named graph a drop and the new quads (no need to
    read the old ones); an empty body drops the graph."""
    exists = isinstance(graph, ox.NamedNode) and store.contains_named_graph(graph)
    if isinstance(graph, ox.NamedNode) and not is_data_graph(graph):
        return ChangeSet(dropped={graph} if exists else set(), added=list(dict.fromkeys(quads)))
    old = set(store.quads_for_pattern(None, None, None, graph))
    new = set(quads)
    change = ChangeSet(removed=list(old - new), added=[q for q in dict.fromkeys(quads)
                                                       if q not in old])
    if not quads and exists:
        change.dropped.add(graph)
    return change


def delete_changes(store: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> ChangeSet:
    """Dropping ``graph`` (clearing the default graph). The quads that go are listed for
    the default graph (there is no dropping it) and for data graphs (validation needs them)."""
    if isinstance(graph, ox.NamedNode) and not is_data_graph(graph):
        return ChangeSet(dropped={graph})
    change = ChangeSet(removed=list(store.quads_for_pattern(None, None, None, graph)))
    if isinstance(graph, ox.NamedNode):
        change.dropped.add(graph)
    return change


# -- SPARQL Update -----------------------------------------------------------------------------


def update_changes(store: Store, text: str, *, base_iri: str | None,
                   deadline: Deadline) -> ChangeSet:
    """What ``text`` would change in ``store``. Raises SyntaxError, RuntimeError, OSError
    or ValueError as ``Store.update`` would, and :class:`WriteTimeout`."""
    operations = read_operations(text, base_iri=base_iri)
    if operations and all(op.kind in DATA_KINDS for op in operations):
        change = data_changes(store.view(), text, operations, base_iri=base_iri,
                              deadline=deadline)
        if change is not None:
            return change
    graphs = graphs_of(operations)
    if not isinstance(store, PracticeStore):
        return remote_changes(store, text, operations, base_iri=base_iri, deadline=deadline)
    if store.path is None:
        return _in_memory(store.ox, text, base_iri, graphs, deadline)
    return _in_process_of_its_own(store, text, base_iri, graphs, deadline)


def data_changes(store: ox.Store, text: str, operations: list[Operation], *,
                 base_iri: str | None, deadline: Deadline) -> ChangeSet | None:
    """The change of an update made only of INSERT DATA/DELETE DATA, without running it
    on the store; None if the operations were not read as Oxigraph reads them."""
    added: dict[ox.Quad, None] = {}
    removed: dict[ox.Quad, None] = {}
    for op in operations:
        block = text[op.body[0]:op.body[1]]
        try:
            if op.kind == "DELETE DATA":  # its own rules (no blank nodes), then its quads
                ox.Store().update(f"{op.prologue}DELETE DATA {block}", base_iri=base_iri)
            parsed = ox.Store()
            parsed.update(f"{op.prologue}INSERT DATA {block}", base_iri=base_iri)
        except SyntaxError:
            ox.Store().update(text, base_iri=base_iri)  # the error, placed in the whole text
            return None  # the whole text is valid: this reader split it wrongly
        deadline.check()
        for quad in parsed:
            if op.kind == "INSERT DATA":
                if quad in removed:
                    del removed[quad]
                elif quad not in added and quad not in store:
                    added[quad] = None
            elif quad in added:
                del added[quad]
            elif quad in store:
                removed[quad] = None
        deadline.check()
    return ChangeSet(removed=list(removed), added=list(added))


def _in_memory(store: ox.Store, text: str, base_iri: str | None, graphs,
               deadline: Deadline) -> ChangeSet:
    """Run the update on a copy in memory, in this process: a store in memory (tests,
    scratch) is small, and lives in this process, so there is none to kill."""
    copy = ox.Store()
    copy.extend(store)
    for graph in store.named_graphs():
        copy.add_graph(graph)
    copy.update(text, base_iri=base_iri)
    deadline.check()
    dropped, created, removed, added = shadow_update.changes_between(
        store, copy, None if graphs is None else list(graphs))
    return ChangeSet(dropped, created, removed, added)


def shadow_folder(store_path: Path) -> Path:
    """Where the copies of a store on disk are made: beside it, like its snapshots."""
    return store_path.with_name(store_path.name + ".shadow")


def _in_process_of_its_own(store: PracticeStore, text: str, base_iri: str | None, graphs,
                           deadline: Deadline) -> ChangeSet:
    """Run the update on a checkpoint in a process that is killed at the deadline."""
    root = shadow_folder(store.path)
    shutil.rmtree(root, ignore_errors=True)  # leftovers of a killed server
    folder = root.resolve() / uuid.uuid4().hex  # fresh: a stray old process cannot write here
    folder.mkdir(parents=True)
    try:
        store.ox.backup(str(folder / "before"))
        store.ox.backup(str(folder / "after"))
        request = {"update": text, "base_iri": base_iri,
                   "graphs": None if graphs is None else sorted(
                       "DEFAULT" if isinstance(g, ox.DefaultGraph) else g.value
                       for g in graphs)}
        process = subprocess.Popen(
            [sys.executable, "-P", shadow_update.__file__, str(folder)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = process.communicate(json.dumps(request).encode(),
                                           timeout=max(deadline.left(), 0.01))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise WriteTimeout from None
        if process.returncode != 0:
            raise OSError(f"the update process failed: {err.decode(errors='replace')[-500:]}")
        answer = json.loads(out)
        if "error" in answer:
            raise ERRORS.get(answer["error"], RuntimeError)(answer["message"])
        return ChangeSet(
            dropped={ox.NamedNode(g) for g in answer["dropped"]},
            created={ox.NamedNode(g) for g in answer["created"]},
            removed=list(ox.parse(path=str(folder / "removed.nq"),
                                  format=ox.RdfFormat.N_QUADS)),
            added=list(ox.parse(path=str(folder / "added.nq"), format=ox.RdfFormat.N_QUADS)))
    finally:
        shutil.rmtree(root, ignore_errors=True)
