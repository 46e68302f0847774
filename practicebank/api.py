"""The public Python API: what ``import practicebank`` offers, as sqlite-utils and rdflib do.

Each function is a thin, documented door onto the library the CLI also uses, so a script
does what the command line does, with the same validation, provenance and limits::

    import practicebank

    with practicebank.open_store("my-store") as store:      # or backend="sparql", query_url=…
        practicebank.load(store, "practices.csv")           # validated, with provenance
        for row in practicebank.query(store, "SELECT ?t WHERE { ?p dcterms:title ?t }"):
            print(row["t"].value)
        practicebank.export(store, "backup.nq")
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from .backend import Store
from .connect import open_store
from .exporting import export_store
from .loaders.load import LoadOptions, LoadResult, load_file, validate_files
from .namespaces import sparql_prefixes
from .problems import Problem

__all__ = ["Store", "open_store", "load", "validate", "query", "export", "serve",
           "LoadOptions", "LoadResult", "Problem"]


def load(store: Store, path: str | os.PathLike[str], **options: Any) -> LoadResult:
    """Validate the file at ``path`` and, if it conforms, make it the whole of its graph
    (``graph="name"``, default from the file name). Options are the fields of
    :class:`LoadOptions` (``strict``, ``dry_run``, ``source_url``, ``licence`` …). Raises
    :class:`~practicebank.loaders.load.LoadFailed` with every problem; the store is then
    as it was."""
    return load_file(store, Path(path), **options)


def validate(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
             **options: Any) -> list[Problem]:
    """Every problem in the files (or folders), without touching any store; files given
    together may refer to each other. An empty list means they would load."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return validate_files([Path(p) for p in paths], **options)


def query(store: Store, sparql: str, *, prefixes: bool = True, **dataset: Any):
    """Run a SPARQL query; the default graph is the union of the data graphs. With
    ``prefixes`` the practice bank's prefixes (``pb:``, ``dcterms:``, ``skos:`` …) are
    declared for you. Returns pyoxigraph's solutions (rows indexed by variable name), a
    boolean for ASK, or triples; each can ``serialize(format=…)``."""
    text = sparql_prefixes() + sparql if prefixes else sparql
    return store.query(text, **dataset)


def export(store: Store, output: str | os.PathLike[str] | IO[bytes], *,
           graph: str | None = None, format: str = "nq") -> None:
    """Write one data graph, or with ``graph=None`` every graph (as N-Quads or TriG), to a
    file name or a binary file object."""
    target = Path(output) if isinstance(output, str | os.PathLike) else output
    export_store(store, target, graph=graph, format=format)


def serve(store_path: str | os.PathLike[str] = "practicebank-store", *,
          host: str = "127.0.0.1", port: int = 7878, **settings: Any) -> None:
    """Serve a store as the SPARQL endpoint until the process is stopped (as ``practicebank
    serve``). ``settings`` are those of :mod:`practicebank.settings` by name
    (``query_timeout=10``, ``backend="sparql"``, ``backend_query_url=…``)."""
    from .endpoint.server import serve as run_server  # Flask and granian only when serving
    from .settings import settings_from_flags

    run_server({"STORE_PATH": os.fspath(store_path), **settings_from_flags(settings)},
               host=host, port=port)
