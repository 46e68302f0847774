"""The dataset described in the graph: graph/dataset after loads and writes, its figures
against counts made over the quads directly, its licences, and the routes that serve it.

Stores are in memory, built once from the demo bundles and copied per test; the figures are
checked against a count over the quads in Python (no SPARQL), so a wrong query cannot agree
with itself.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from practicebank import dataset_description as dd
from practicebank.endpoint import create_app
from practicebank.loaders.load import LoadFailed, ensure_demo, load_file
from practicebank.namespaces import GRAPH
from practicebank.problems import WARNING
from practicebank.store import PracticeStore

VOID = rdflib.Namespace(dd.VOID)
DCT = rdflib.Namespace(dd.DCT)
DCAT = rdflib.Namespace(dd.DCAT)
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
DATASET = rdflib.URIRef(dd.DATASET)
RDF_TYPE = dd.RDF + "type"
TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PRACTICE = "https://w3id.org/practicebank/id/practice/"


def practice(slug: str, title: str) -> str:
    """A practice that passes the shapes, as N-Triples."""
    return (f"<{PRACTICE}{slug}> a <https://w3id.org/practicebank/def/Practice> ;\n"
            f'  <http://purl.org/dc/terms/title> "{title}"@en ;\n'
            "  <http://www.w3.org/ns/prov#wasDerivedFrom> "
            "<https://www.college.police.uk/support-forces/practices> .\n")


@pytest.fixture(scope="module")
def demo_quads() -> list[ox.Quad]:
    store = PracticeStore()
    ensure_demo(store)
    return list(store.ox)


@pytest.fixture
def store(demo_quads) -> PracticeStore:
    store = PracticeStore()
    store.ox.extend(demo_quads)
    return store


@pytest.fixture
def client(store):
    return create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": TOKEN}).test_client()


def write_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def stored(store: PracticeStore) -> rdflib.Graph:
    """graph/dataset as an rdflib graph (which also proves it parses)."""
    data = store.ox.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=dd.DESCRIPTION_GRAPH)
    return rdflib.Graph().parse(data=data, format="nt")


def number(graph: rdflib.Graph, subject, predicate) -> int:
    values = list(graph.objects(rdflib.URIRef(str(subject)), predicate))
    assert len(values) == 1, (subject, predicate, values)
    return int(values[0])


def counted(store: PracticeStore) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """The figures of each described graph and of the whole, counted over the quads."""
    per: dict[str, list[ox.Quad]] = defaultdict(list)
    for quad in store.ox:
        graph = quad.graph_name
        if (isinstance(graph, ox.NamedNode) and graph.value.startswith(str(GRAPH))
                and graph != dd.DESCRIPTION_GRAPH):
            per[graph.value].append(quad)

    def figures(quads: list[ox.Quad]) -> dict[str, int]:
        subjects = {q.subject for q in quads}
        return {"triples": len(quads), "distinctSubjects": len(subjects),
                "entities": sum(isinstance(s, ox.NamedNode) for s in subjects),
                "properties": len({q.predicate for q in quads}),
                "classes": len({q.object for q in quads if q.predicate.value == RDF_TYPE})}

    every = [q for quads in per.values() for q in quads]
    return {g: figures(quads) for g, quads in per.items()}, figures(every)


def check_figures(store: PracticeStore) -> rdflib.Graph:
    description = stored(store)
    graphs, whole = counted(store)
    assert set(map(str, description.objects(DATASET, DCAT.hasPart))) == set(graphs)
    for name, expected in [*graphs.items(), (dd.DATASET, whole)]:
        found = {key: number(description, name, VOID[key]) for key in expected}
        assert found == expected, name
    return description


# -- the description after loads ---------------------------------------------------------------


def test_the_description_of_the_demo_matches_the_quads(store):
    check_figures(store)


def test_figures_kept_from_the_last_refresh_add_up_with_new_ones(store):
    """Only the changed graph is measured again; the union's figures still count a subject
    or an instance held by two graphs once, and a blank node as no entity."""
    blank, extra = ox.BlankNode(), graph_of("blank")
    known = next(q.subject for q in store.ox.quads_for_pattern(
        None, ox.NamedNode(RDF_TYPE), ox.NamedNode("https://w3id.org/practicebank/def/Practice"),
        graph_of("sample")))
    store.ox.extend([ox.Quad(blank, ox.NamedNode(dd.DCT + "title"), ox.Literal("b"), extra),
                     ox.Quad(blank, ox.NamedNode(RDF_TYPE), ox.NamedNode("urn:x:C"), extra),
                     ox.Quad(known, ox.NamedNode(RDF_TYPE),
                             ox.NamedNode("https://w3id.org/practicebank/def/Practice"), extra)])
    dd.refresh(store, changed={"blank"})
    description = check_figures(store)
    assert number(description, dd.DATASET, VOID.entities) < number(
        description, dd.DATASET, VOID.distinctSubjects)  # the blank node is no entity
    instances = defaultdict(set)
    for quad in store.ox.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), None):
        if quad.graph_name.value.startswith(str(GRAPH)) and quad.graph_name != dd.DESCRIPTION_GRAPH:
            instances[quad.object.value].add(quad.subject)
    partitions = {str(description.value(p, VOID["class"])): int(description.value(p, VOID.entities))
                  for p in description.objects(DATASET, VOID.classPartition)}
    assert partitions == {c: len(s) for c, s in instances.items()}
    kept = set(stored(store)) - set(stored(store).triples((None, DCT.modified, None)))
    dd.refresh(store)  # everything measured again: the same description
    again = stored(store)
    assert kept == set(again) - set(again.triples((None, DCT.modified, None)))


def test_a_load_whose_refresh_never_happened_is_noticed(store, tmp_path):
    load_file(store, write_file(tmp_path, "extra.ttl", practice("one", "One")), graph="extra",
              describe=False)  # as if the process was killed after the commit
    dd.refresh(store, changed={"another"})
    check_figures(store)


def graph_of(name: str) -> ox.NamedNode:
    return ox.NamedNode(str(GRAPH[name]))


def test_linksets_count_the_links_to_each_target(store):
    description = stored(store)
    links: dict[tuple[str, str], int] = defaultdict(int)
    for quad in store.ox:
        if (quad.graph_name == dd.DESCRIPTION_GRAPH or quad.predicate.value
                not in dd.LINK_PREDICATES or not isinstance(quad.object, ox.NamedNode)):
            continue
        for target in dd.TARGETS:
            if quad.object.value.startswith(target.uri_space):
                links[(f"{dd.BASE}id/dataset/{target.key}", quad.predicate.value)] += 1
    found = {}
    for linkset in description.subjects(rdflib.RDF.type, VOID.Linkset):
        end = str(description.value(linkset, VOID.objectsTarget))
        if "/scheme/" not in end:
            found[(end, str(description.value(linkset, VOID.linkPredicate)))] = int(
                description.value(linkset, VOID.triples))
    assert found == dict(links)
    assert {end for end, _ in found} >= {f"{dd.BASE}id/dataset/ons-statistical-geography",
                                         f"{dd.BASE}id/dataset/data-police-uk"}
    to_crimesolutions = [
        ls for ls in description.subjects(rdflib.RDF.type, VOID.Linkset)
        if str(description.value(ls, VOID.objectsTarget)).endswith("/scheme/crimesolutions")]
    assert to_crimesolutions
    scheme = description.value(description.value(to_crimesolutions[0], VOID.objectsTarget),
                               VOID.rootResource)
    assert str(scheme) == "https://w3id.org/practicebank/concept/crimesolutions"


def test_licences_are_one_statement_everywhere(client, store):
    served = rdflib.Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    for graph in served.objects(DATASET, DCAT.hasPart):
        name = str(graph).removeprefix(str(GRAPH))
        expected = dd.CC_BY if name in ("ontology", "vocabularies") else dd.OGL
        assert list(map(str, served.objects(graph, DCT.license))) == [expected], name
        dump = rdflib.URIRef(dd.graph_dump(name))
        assert list(map(str, served.objects(dump, DCT.license))) == [expected]
    assert list(map(str, served.objects(DATASET, DCT.license))) == [dd.OGL]
    rights = str(served.value(DATASET, DCT.rights))
    assert "CC BY 4.0" in rights and "graph/ontology" in rights and "graph/vocabularies" in rights
    sd = rdflib.Graph().parse(data=client.get("/sparql").data, format="turtle")
    assert list(map(str, sd.objects(DATASET, DCT.license))) == [dd.OGL]
    assert str(sd.value(DATASET, DCT.rights)) == rights
    for predicate in (DCT.publisher, DCT.creator):
        assert str(served.value(DATASET, predicate)) == dd.PROJECT


def test_the_description_repeats_no_triple_of_another_graph(store):
    """A triple in two graphs would make every query of the union pay (merged_default)."""
    ours = {q.triple for q in store.ox.quads_for_pattern(None, None, None, dd.DESCRIPTION_GRAPH)}
    others = {q.triple for q in store.ox if q.graph_name != dd.DESCRIPTION_GRAPH}
    assert ours and not ours & others


def test_a_second_load_changes_the_figures_and_the_date(store, tmp_path):
    load_file(store, write_file(tmp_path, "extra.ttl", practice("one", "One")), graph="extra")
    first = stored(store)
    when = first.value(DATASET, DCT.modified).toPython()
    assert number(first, GRAPH["extra"], VOID.triples) == 3
    load_file(store, write_file(tmp_path, "extra.ttl",
                                practice("one", "One") + practice("two", "Two")),
              graph="extra")
    second = check_figures(store)
    assert number(second, GRAPH["extra"], VOID.triples) == 6
    grown = (number(second, dd.DATASET, VOID.triples)  # the data, its provenance, history
             - number(first, dd.DATASET, VOID.triples))
    assert grown > 3
    assert second.value(DATASET, DCT.modified).toPython() > when


def test_a_load_that_fails_validation_leaves_the_description_as_it_was(store, tmp_path):
    before = set(store.ox.quads_for_pattern(None, None, None, dd.DESCRIPTION_GRAPH))
    untitled = (f"<{PRACTICE}untitled> a <https://w3id.org/practicebank/def/Practice> ;\n"
                "  <http://www.w3.org/ns/prov#wasDerivedFrom> "
                "<https://www.college.police.uk/support-forces/practices> .\n")
    with pytest.raises(LoadFailed):
        load_file(store, write_file(tmp_path, "bad.ttl", untitled), graph="bad")
    assert set(store.ox.quads_for_pattern(None, None, None, dd.DESCRIPTION_GRAPH)) == before


def test_no_history_or_provenance_names_the_description(store, tmp_path):
    load_file(store, write_file(tmp_path, "extra.ttl", practice("one", "One")), graph="extra")
    refused = load_file(store, write_file(tmp_path, "mine.ttl", practice("x", "X")),
                        graph=dd.DESCRIPTION_NAME)
    assert refused.skipped and [p.severity for p in refused.problems] == [WARNING]
    provenance = graph_of("provenance")
    mentions = [q for q in store.ox.quads_for_pattern(None, None, None, provenance)
                if dd.DESCRIPTION_IRI in (q.subject.value, q.object.value)]
    assert mentions == []
    assert not list(store.ox.quads_for_pattern(ox.NamedNode(f"{PRACTICE}x"), None, None))


class RefusingStore(PracticeStore):
    """A real store that cannot write a new description, as a full disk or a remote server
    that went away."""

    def commit_changes(self, change):
        if any(q.graph_name == dd.DESCRIPTION_GRAPH for q in change.added):
            raise OSError("the disk is full")
        super().commit_changes(change)


def test_a_failed_refresh_is_a_warning_and_the_load_stands(demo_quads, tmp_path, caplog):
    store = RefusingStore()
    store.ox.extend(demo_quads)
    with caplog.at_level(logging.WARNING, logger="practicebank.dataset_description"):
        result = load_file(store, write_file(tmp_path, "extra.ttl", practice("one", "One")),
                           graph="extra")
    assert result.triples == 3 and store.graph_size("extra") == 3
    assert "could not be refreshed" in caplog.text
    assert not store.ox.contains_named_graph(dd.DESCRIPTION_GRAPH)  # stale: dropped
    client = create_app({"TESTING": True, "STORE": store}).test_client()
    served = rdflib.Graph().parse(data=client.get("/dataset").data, format="turtle")
    assert number(served, GRAPH["extra"], VOID.triples) == 3  # computed meanwhile


def test_an_empty_store_is_described_with_no_graphs():
    store = PracticeStore()
    dd.refresh(store)
    description = stored(store)
    assert number(description, dd.DATASET, VOID.triples) == 0
    assert list(description.objects(DATASET, DCAT.hasPart)) == []


def test_a_remote_store_gets_the_same_figures(oxigraph_backend, demo_quads):
    """The same queries on ``oxigraph serve`` through RemoteStore: every figure and
    partition as in the embedded store (the example resources may differ: the first found)."""
    from backends import clear

    remote = oxigraph_backend.store()
    clear(remote)
    try:
        ensure_demo(remote)
        local = PracticeStore()
        local.ox.extend(demo_quads)
        assert dd.stored_parts(dd.description(remote)) == dd.stored_parts(dd.description(local))
    finally:
        clear(remote)
        remote.close()


# -- writes through the endpoint ---------------------------------------------------------------


def test_an_endpoint_write_to_a_data_graph_refreshes_the_description(client, store):
    before = stored(store).value(DATASET, DCT.modified).toPython()
    response = client.post("/update", data=(
        f"INSERT DATA {{ GRAPH <{GRAPH['curation']}> {{ {practice('lit', 'Lit alleys')} }} }}"),
        content_type="application/sparql-update", headers=AUTH)
    assert response.status_code == 204
    description = check_figures(store)
    assert number(description, GRAPH["curation"], VOID.triples) == 3
    assert description.value(DATASET, DCT.modified).toPython() > before


def test_writes_to_a_described_graph_update_its_figures_from_the_change(client, store):
    sample = GRAPH["sample"]
    steps = [f"INSERT DATA {{ GRAPH <{sample}> {{ {practice('lit', 'Lit alleys')} }} }}",
             f"DELETE WHERE {{ GRAPH <{sample}> {{ <{PRACTICE}lit> ?p ?o }} }}",
             f'INSERT DATA {{ GRAPH <{sample}> {{ _:b <{dd.DCT}title> "b" }} }}']
    for step in steps:
        response = client.post("/update", data=step, content_type="application/sparql-update",
                               headers=AUTH)
        assert response.status_code == 204, response.data
        check_figures(store)


def test_a_write_outside_the_data_graphs_leaves_the_description_alone(client, store):
    before = set(store.ox.quads_for_pattern(None, None, None, dd.DESCRIPTION_GRAPH))
    response = client.post("/update", data="INSERT DATA { GRAPH <urn:x:g> { <urn:a> <urn:b> "
                           "<urn:c> } }", content_type="application/sparql-update",
                           headers=AUTH)
    assert response.status_code == 204
    assert set(store.ox.quads_for_pattern(None, None, None, dd.DESCRIPTION_GRAPH)) == before


def test_the_description_answers_sparql_at_the_endpoint(client, store):
    query = (f"SELECT ?n WHERE {{ GRAPH <{dd.DESCRIPTION_IRI}> "
             f"{{ <{dd.DATASET}> <{dd.VOID}triples> ?n }} }}")
    response = client.get("/sparql", query_string={"query": query})
    rows = response.get_json()["results"]["bindings"]
    assert [int(r["n"]["value"]) for r in rows] == [number(stored(store), dd.DATASET,
                                                           VOID.triples)]


# -- the routes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/.well-known/void", "/dataset"])
@pytest.mark.parametrize("accept, mimetype, parser", [
    (None, "text/turtle", "turtle"),
    ("text/turtle", "text/turtle", "turtle"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
])
def test_the_routes_negotiate_rdf(client, store, path, accept, mimetype, parser):
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200 and response.mimetype == mimetype
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept" in response.headers["Vary"]
    served = rdflib.Graph().parse(data=response.data, format=parser)
    assert (DATASET, rdflib.RDF.type, VOID.Dataset) in served
    assert len(served) >= len(stored(store))  # the stored triples, and the graphs' own
    assert set(stored(store)) <= set(served)


def test_json_ld_parses_as_json_too(client):
    response = client.get("/dataset", query_string={"format": "jsonld"})
    assert response.mimetype == "application/ld+json"
    assert json.loads(response.data)


def test_the_routes_answer_html_for_browsers(client, store):
    response = client.get("/dataset", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    whole = number(stored(store), dd.DATASET, VOID.triples)
    assert f'<td id="whole-triples"><data value="{whole}">' in page
    assert "Links to other datasets" in page and "ONS statistical geographies" in page
    assert "CC BY 4.0" in page and "OGL v3" in page
    assert 'href="http://localhost/sparql"' in page  # our IRIs link to this server
    assert client.get("/.well-known/void", headers={"Accept": "text/html"}).mimetype == \
        "text/html"


def test_the_page_escapes_what_the_graphs_say_about_themselves(client, store):
    extra = graph_of("hostile")
    store.ox.extend([
        ox.Quad(extra, ox.NamedNode(dd.DCT + "title"),
                ox.Literal("<script>alert(1)</script>"), extra),
        ox.Quad(extra, ox.NamedNode(dd.DCT + "license"),
                ox.NamedNode("javascript:alert(1)"), extra)])
    dd.refresh(store)
    page = client.get("/dataset", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page


def test_a_conditional_get_is_answered_304(client):
    first = client.get("/dataset")
    again = client.get("/dataset", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_nothing_acceptable_is_406(client):
    assert client.get("/dataset", headers={"Accept": "text/csv"}).status_code == 406


def test_a_store_without_a_description_gets_one_computed_and_not_stored():
    store = PracticeStore()
    store.ox.add(ox.Quad(ox.NamedNode(f"{PRACTICE}a"), ox.NamedNode(dd.DCT + "title"),
                         ox.Literal("A"), graph_of("test")))
    client = create_app({"TESTING": True, "STORE": store}).test_client()
    response = client.get("/dataset")
    served = rdflib.Graph().parse(data=response.data, format="turtle")
    assert number(served, dd.DATASET, VOID.triples) == 1
    assert "computed for this answer" in client.get(
        "/dataset", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert not store.ox.contains_named_graph(dd.DESCRIPTION_GRAPH)


# -- the service description ----------------------------------------------------------------


def test_the_service_description_points_at_the_dataset(client, store):
    sd = rdflib.Graph().parse(data=client.get("/sparql").data, format="turtle")
    service = rdflib.URIRef("http://localhost/sparql")
    assert (service, SD.defaultDataset, DATASET) in sd
    assert str(sd.value(DATASET, VOID.sparqlEndpoint)) == "https://w3id.org/practicebank/sparql"
    assert number(sd, dd.DATASET, VOID.triples) == number(stored(store), dd.DATASET,
                                                          VOID.triples)
    assert (DATASET, rdflib.RDFS.seeAlso, rdflib.URIRef(dd.WELL_KNOWN)) in sd
