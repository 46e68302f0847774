"""Run a SPARQL update on a copy of the store and report what it changed: the one step of a
write whose cost the server cannot bound, done where it can be stopped.

An update with a ``WHERE`` clause (or ``LOAD``, ``CLEAR ALL``…) is evaluated by Oxigraph in one
call that cannot be interrupted, so on disk it runs in a process of its own, started with
this file as a script (only the standard library and pyoxigraph: it starts in ~50 ms), on a
writable RocksDB checkpoint of the store (``after``) beside a read-only one (``before``).
When the write's deadline passes, the server kills the process and nothing has changed. Else
the process compares the graphs the update can write (or all of them) and writes the
difference as N-Quads files, keeping blank-node ids, which the server validates and applies
to the real store. Applying the difference rather than running the update again matters:
an update may not give the same result twice (``RAND()``, ``NOW()``, ``UUID()``, ``LOAD``,
``SERVICE``), and what is validated must be what is kept.

In memory the server calls :func:`changes_between` itself, on a copy in memory.

Protocol: ``python shadow_update.py FOLDER``, the request as JSON on stdin (``update``,
``base_iri``, ``graphs``: N-Triples terms or null for all); the answer as JSON on stdout,
``{"dropped": […], "created": […]}`` with ``removed.nq`` and ``added.nq`` in FOLDER, or
``{"error": "SyntaxError", "message": …}``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox

DEFAULT = ox.DefaultGraph()


def changes_between(before: ox.Store, after: ox.Store, graphs: list | None):
    """(dropped, created, removed, added) from ``before`` to ``after``, comparing ``graphs``
    (None: every graph) and every graph that appeared or disappeared."""
    old_names, new_names = set(before.named_graphs()), set(after.named_graphs())
    dropped, created = old_names - new_names, new_names - old_names
    compared = ({DEFAULT} | old_names | new_names) if graphs is None else set(graphs)
    compared |= dropped | created
    removed: list[ox.Quad] = []
    added: list[ox.Quad] = []
    for graph in compared:
        old = set(before.quads_for_pattern(None, None, None, graph))
        new = set(after.quads_for_pattern(None, None, None, graph))
        removed += old - new
        added += new - old
    return dropped, created, removed, added


def term(text: str) -> ox.NamedNode | ox.DefaultGraph:
    return DEFAULT if text == "DEFAULT" else ox.NamedNode(text)


def exit_with_parent(parent: int) -> None:
    """End this process if the server that started it goes (a server stopped or killed
    mid-update must not leave an update running). Oxigraph releases the GIL while it
    evaluates, so this thread runs."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main(folder: Path) -> int:
    exit_with_parent(os.getppid())
    request = json.loads(sys.stdin.read())
    graphs = request["graphs"]
    try:
        before = ox.Store.read_only(str(folder / "before"))
        after = ox.Store(str(folder / "after"))
        after.update(request["update"], base_iri=request["base_iri"])
        dropped, created, removed, added = changes_between(
            before, after, None if graphs is None else [term(g) for g in graphs])
        for name, quads in (("removed.nq", removed), ("added.nq", added)):
            ox.serialize(quads, output=str(folder / name), format=ox.RdfFormat.N_QUADS)
    except (SyntaxError, RuntimeError, OSError, ValueError) as exc:
        json.dump({"error": type(exc).__name__, "message": str(exc)}, sys.stdout)
        return 0
    json.dump({"dropped": sorted(g.value for g in dropped),
               "created": sorted(g.value for g in created)}, sys.stdout)
    return 0


if __name__ == "__main__":
    # Oxigraph parses and evaluates recursively: run on a stack as large as the query
    # threads' (query_limits.THREAD_STACK; written out here because this script imports
    # nothing of the package, so that it starts fast), not on the main thread's.
    threading.stack_size(64 * 1024 * 1024)
    outcome: list[int] = []
    runner = threading.Thread(target=lambda: outcome.append(main(Path(sys.argv[1]))))
    runner.start()
    runner.join()
    sys.exit(outcome[0] if outcome else 1)
