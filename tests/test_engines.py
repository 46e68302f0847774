"""pyshacl-turbo may stand in for pyshacl only where it gives the same reports on our shapes.

Both engines run through the same chunked validation on every invalid fixture, on the
sample practices, on the bundled context, and on the fixtures of every input kind; the sets
of (severity, focus node, path, value, message, shape) they report must be equal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from practicebank.engines import REFERENCE, choose, engine_names
from practicebank.loaders.readers import read_file
from practicebank.resources import (
    EVALUATIONS,
    FORCES,
    ORGANISATIONS,
    SAMPLE,
    VOCABULARIES,
    bundle_graph,
)
from practicebank.validation import validate_graph

HERE = Path(__file__).parent
INVALID = sorted((HERE / "invalid").glob("*.ttl"))
INPUTS = [HERE / "fixtures" / name for name in (
    "practices.json", "practices.jsonl", "police-forces.json",
    "police-force-avon-and-somerset.json", "2024-01-avon-and-somerset-street.csv",
    "crime-counts.ttl")]
BUNDLES = {"sample": SAMPLE, "evaluations": EVALUATIONS, "reference": FORCES,
           "organisations": ORGANISATIONS, "vocabularies": VOCABULARIES}

pytestmark = pytest.mark.skipif("turbo" not in engine_names() or not choose("turbo"),
                                reason="pyshacl-turbo is not installed")


def report(graph: Graph, engine: str) -> set[tuple]:
    return {(p.severity, p.focus, p.path, p.value, p.message, p.shape)
            for p in validate_graph(graph, engine=engine)}


def assert_same(graph: Graph) -> None:
    reference, turbo = report(graph, REFERENCE), report(graph, "turbo")
    assert reference == turbo, (
        "only pyshacl:\n" + "\n".join(map(str, sorted(reference - turbo, key=str)))
        + "\nonly turbo:\n" + "\n".join(map(str, sorted(turbo - reference, key=str))))


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_same_report_on_every_invalid_fixture(fixture: Path):
    assert_same(Graph().parse(fixture))


@pytest.mark.parametrize("name", list(BUNDLES))
def test_same_report_on_the_bundled_data(name: str):
    assert_same(bundle_graph(BUNDLES[name]))


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_same_report_on_the_input_fixtures(path: Path):
    _, conversion = read_file(path, graph_name="fixture")
    assert_same(conversion.graph)


def test_the_default_engine_is_turbo_and_the_reference_can_be_chosen(monkeypatch):
    monkeypatch.delenv("PRACTICEBANK_SHACL_ENGINE", raising=False)
    assert choose().name == "turbo"
    assert choose("pyshacl").name == "pyshacl"
    monkeypatch.setenv("PRACTICEBANK_SHACL_ENGINE", "pyshacl")
    assert choose().name == "pyshacl"
    with pytest.raises(ValueError, match="Unknown SHACL engine"):
        choose("nonesuch")


@pytest.mark.parametrize("fixture", INVALID[::4], ids=lambda p: p.stem)
def test_turbo_results_read_from_its_report_text_equal_those_of_its_report_graph(fixture):
    """The turbo engine's results are read from its report text by Oxigraph, not from the
    rdflib graph pyshacl-turbo would build (``--report`` still builds it): both readings of
    the same validation must give the same problems."""
    import pyoxigraph as ox

    from practicebank.validation import SCRATCH_GRAPH, validate_store

    graph = Graph().parse(fixture).skolemize()
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES,
               to_graph=SCRATCH_GRAPH)
    fast = validate_store(store, SCRATCH_GRAPH, engine="turbo").problems
    kept = validate_store(store, SCRATCH_GRAPH, engine="turbo", keep_reports=True)
    assert fast, f"{fixture.name} should have problems"
    assert fast == kept.problems and kept.reports
