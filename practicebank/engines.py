"""The SHACL engines validation can run on, in one table.

``pyshacl`` is the reference: it is what the shapes were written and tested against.
``turbo`` is pyshacl-turbo, a Rust engine with pyshacl's API, 10-20 times faster on our
shapes (see docs/loading.md) and free of the GIL, so chunks validate in parallel threads.
It is the default where it is installed, because ``tests/test_engines.py`` proves that it
gives the same reports (focus node, path, value, message, severity, shape) as pyshacl on
every invalid fixture and on the sample. ``PRACTICEBANK_SHACL_ENGINE=pyshacl`` or
``--engine pyshacl`` chooses the reference.

An engine validates one chunk: the N-Triples of the chunk's data (its focus nodes and their
neighbours), always together with the bundled context, for the given focus nodes. ``run``
returns pyshacl's report graph (for ``--report``); ``results`` returns only the results
(:mod:`.shacl_results`), which for turbo skips building that graph in Python.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rdflib import Graph, URIRef

from .resources import CONTEXT_BUNDLES, bundle_graph, shapes_graph
from .shacl_results import Result, from_graph, from_ntriples

ENGINE_ENV = "PRACTICEBANK_SHACL_ENGINE"


@lru_cache(maxsize=1)
def cached_shapes() -> Graph:
    return shapes_graph()


@lru_cache(maxsize=1)
def cached_context() -> Graph:
    """The bundled ontology, vocabularies, forces and national bodies: what every
    validation sees besides the data."""
    return bundle_graph(*CONTEXT_BUNDLES)


@lru_cache(maxsize=1)
def context_ntriples() -> bytes:
    return cached_context().serialize(format="nt", encoding="utf-8")


def _pyshacl(chunk: bytes, focus: list[str]) -> Graph:
    import pyshacl

    data = Graph()
    data += cached_context()
    if chunk:
        data.parse(data=chunk, format="nt")
    _, report, _ = pyshacl.validate(
        data, shacl_graph=cached_shapes(), inference="none", allow_warnings=True,
        focus_nodes=[URIRef(f) for f in focus], abort_on_first=False,
    )
    return report


@lru_cache(maxsize=1)
def _turbo_shapes():
    import pyshacl_turbo

    return pyshacl_turbo.compile_shapes(cached_shapes())


def _turbo(chunk: bytes, focus: list[str]) -> Graph:
    # N-Triples text goes to the Rust parser as it is. (Passing a pyoxigraph Store instead
    # goes through an N-Quads dump that, in pyshacl-turbo 0.6.5, makes sh:in reject plain
    # strings such as "primary": tests/test_engines.py would catch such a difference.)
    from pyshacl_turbo.rdf import Input

    text = (context_ntriples() + chunk).decode("utf-8")
    _, report, _ = _turbo_shapes().validate(Input(text, "nt", None, {}, {}),
                                            focus_nodes=focus, allow_warnings=True)
    return report


def _turbo_results(chunk: bytes, focus: list[str]) -> list[Result]:
    """The results of :func:`_turbo` without its rdflib report graph: the same native call
    that ``CompiledShapes.validate`` makes (pyshacl-turbo 0.6, pinned in pyproject.toml),
    whose report text Oxigraph then reads. Building the rdflib graph from that text cost as
    much again as validating (see :mod:`.shacl_results`); ``tests/test_engines.py`` checks
    both give the same problems."""
    from pyshacl_turbo.errors import ShapeRecursionWarning

    compiled = _turbo_shapes()
    text = (context_ntriples() + chunk).decode("utf-8")
    _, report, _, _, recursion = compiled._native.validate(
        text, "nt", None,
        False, 100, 15,        # no rules to iterate; pyshacl's default validation depth
        False, False, True,    # not in place; infos no, warnings allowed (not failures)
        False, focus, [], [])  # not abort on first; only these focus nodes; all shapes
    for message in recursion:  # as CompiledShapes.validate reports it
        warnings.warn(message, ShapeRecursionWarning, stacklevel=2)
    return from_ntriples(report, compiled._blank_nodes)


def _has(module: str) -> Callable[[], bool]:
    def available() -> bool:
        try:
            __import__(module)
        except ImportError:
            return False
        return True

    return available


@dataclass(frozen=True)
class Engine:
    """One SHACL implementation: how to run it on a chunk (for the report graph, or for its
    results alone), and whether it can run in threads (a Python engine holds the GIL, so
    more threads only add overhead)."""

    name: str
    run: Callable[[bytes, list[str]], Graph]
    results: Callable[[bytes, list[str]], list[Result]]
    available: Callable[[], bool]
    parallel: bool


ENGINES: tuple[Engine, ...] = (
    Engine("turbo", _turbo, _turbo_results, _has("pyshacl_turbo"), parallel=True),
    Engine("pyshacl", _pyshacl, lambda chunk, focus: from_graph(_pyshacl(chunk, focus)),
           _has("pyshacl"), parallel=False),
)
REFERENCE = "pyshacl"


def engine_names() -> list[str]:
    return [e.name for e in ENGINES]


def choose(name: str | None = None) -> Engine:
    """The engine called ``name`` (or ``$PRACTICEBANK_SHACL_ENGINE``), else the first
    available one in table order."""
    name = name or os.environ.get(ENGINE_ENV)
    if name:
        engine = next((e for e in ENGINES if e.name == name), None)
        if engine is None:
            raise ValueError(f"Unknown SHACL engine {name!r}; use one of: "
                             + ", ".join(engine_names()) + ".")
        if not engine.available():
            raise ValueError(f"The SHACL engine {name!r} is not installed.")
        return engine
    return next(e for e in ENGINES if e.available())
