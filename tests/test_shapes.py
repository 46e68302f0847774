"""Every SHACL shape refuses what it should: one or more invalid fixtures per shape in
``tests/invalid/``, each naming the shape, focus node, path and message it must produce."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from practicebank.resources import shapes_graph
from practicebank.validation import validate_graph

INVALID = sorted((Path(__file__).parent / "invalid").glob("*.ttl"))
SHAPES_NS = "https://w3id.org/practicebank/shapes/"


def expectations(path: Path) -> dict[str, str]:
    """The ``# key: value`` lines at the top of a fixture."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# ") or ":" not in line:
            break
        key, value = line[2:].split(":", 1)
        found[key.strip()] = value.strip()
    return found


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_with_expected_report(fixture: Path):
    expected = expectations(fixture)
    problems = validate_graph(Graph().parse(fixture), file=fixture.name)
    path = None if expected["path"] == "-" else expected["path"]
    matching = [
        p for p in problems
        if p.is_error
        and p.focus == expected["focus"]
        and p.path == path
        and expected["message"] in p.message
        and p.shape == SHAPES_NS + expected["shape"]
    ]
    assert matching, "\n".join(
        f"{p.severity} {p.shape} {p.focus} {p.path} {p.message}" for p in problems
    ) or "no problems reported"


def test_every_node_shape_has_an_invalid_fixture():
    shapes = {
        str(s)[len(SHAPES_NS):]
        for s in shapes_graph().subjects(RDF.type, SH.NodeShape)
        if isinstance(s, URIRef)
    }
    covered = {expectations(f)["shape"] for f in INVALID}
    assert shapes - covered == set()


def test_every_constraint_has_a_message():
    g = shapes_graph()
    property_shapes = set(g.objects(None, SH.property))
    sparql = set(g.objects(None, SH.sparql))
    missing = [s for s in property_shapes | sparql if g.value(s, SH.message) is None]
    node_level = [s for s in g.subjects(SH.pattern, None) if s not in property_shapes
                  and g.value(s, SH.message) is None and (s, RDF.type, SH.NodeShape) in g]
    assert not missing and not node_level


def test_shapes_are_shacl_valid():
    """The shapes graph itself conforms to the SHACL-for-SHACL meta-shapes."""
    import pyshacl

    conforms, _, text = pyshacl.validate(Graph(), shacl_graph=shapes_graph(), meta_shacl=True)
    assert conforms, text
