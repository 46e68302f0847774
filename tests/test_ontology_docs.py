"""The generated ontology and vocabulary documentation (endpoint/ontology_docs.py).

What each page must show is computed here again, independently, with rdflib from the Turtle
files in the checkout, so a term the generator drops or misreads fails a test. Every page is
parsed (a small tree builder on the standard library's ``html.parser`` that refuses
unbalanced tags) and checked for the site's rules: no inline style, no script but the one
JSON-LD data block (which must parse as JSON and as JSON-LD), unique ids, in-page links that
land, headings in order, tables with headers, SVG diagrams with a name.

The pages extend the site layout, so they render in a tiny app with the endpoint's templates
and the few endpoints the layout links to; the dereferencing routes belong to another module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Blueprint, Flask
from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from practicebank.endpoint import ontology_docs, site_links
from practicebank.endpoint.ontology_docs import (
    NAMESPACE,
    ONTOLOGY_IRI,
    OntologyDocs,
    is_term,
    ontology_versions,
    render_ontology,
    render_term,
    render_vocabularies,
    term_iris,
)

ROOT = Path(__file__).resolve().parent.parent
LOCAL = "http://127.0.0.1:7878/"
PB = NAMESPACE
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


# -- A small, strict HTML tree ---------------------------------------------------------------------

@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None
    ids: dict[str, list[Node]] | None = None  # filled on the first by_id

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find_all(self, tag: str) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag]

    def by_id(self, ident: str) -> Node:
        if self.ids is None:
            self.ids = {}
            for n in self.walk():
                if "id" in n.attrs:
                    self.ids.setdefault(n.attrs["id"], []).append(n)
        found = self.ids.get(ident, [])
        assert len(found) == 1, f"{len(found)} elements with id {ident!r}"
        return found[0]

    def fields(self) -> dict[str, list[Node]]:
        """A ``<dl>``'s terms and the ``<dd>`` nodes under each."""
        out: dict[str, list[Node]] = {}
        current = None
        for child in self.children:
            if isinstance(child, Node) and child.tag == "dt":
                current = " ".join(child.text().split())
                out.setdefault(current, [])
            elif isinstance(child, Node) and child.tag == "dd" and current is not None:
                out[current].append(child)
        return out


class TreeBuilder(HTMLParser):
    """Builds a :class:`Node` tree and fails on an end tag that closes the wrong element
    (no implied closing: the templates close what they open)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list) -> None:
        node = Node(tag, dict(attrs), parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list) -> None:  # <path ... /> in SVG
        self.stack[-1].children.append(Node(tag, dict(attrs), parent=self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"end tag for void element <{tag}>"
        open_tag = self.stack[-1].tag
        assert open_tag == tag, f"</{tag}> closes <{open_tag}> (line {self.getpos()[0]})"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert [n.tag for n in builder.stack] == ["#document"], "unclosed elements at the end"
    return builder.root


def check_page(html: str) -> Node:
    """The rules every documentation page keeps; returns its tree for more checks."""
    doc = parse(html)
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert doc.find_all("html")[0].attrs.get("lang")
    assert len(doc.find_all("main")) == 1 and len(doc.find_all("h1")) == 1
    for node in doc.walk():
        assert "style" not in node.attrs, f"inline style on <{node.tag}>"
        assert not any(a.startswith("on") for a in node.attrs), f"event handler on <{node.tag}>"
        if node.tag == "a":
            assert node.attrs.get("href"), "a link without href"
            assert node.text().strip(), f"a link with no text: {node.attrs['href']}"
            assert not node.attrs["href"].lower().startswith("javascript:")
    assert not doc.find_all("style")
    scripts = doc.find_all("script")
    assert [s.attrs.get("type") for s in scripts] == ["application/ld+json"]
    ids = [n.attrs["id"] for n in doc.walk() if "id" in n.attrs]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for node in doc.find_all("a"):
        if node.attrs["href"].startswith("#"):
            assert node.attrs["href"][1:] in ids, f"in-page link to nowhere: {node.attrs['href']}"
    levels = [int(n.tag[1]) for n in doc.walk() if n.tag in ("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), "heading skips"
    for table in doc.find_all("table"):
        assert table.find_all("th") and table.find_all("caption")
    for svg in doc.find_all("svg"):
        assert svg.attrs.get("role") == "img"
        titles = svg.find_all("title")
        assert titles and titles[0].text().strip()
        assert all(i in ids for i in svg.attrs["aria-labelledby"].split())
    return doc


def jsonld_of(doc: Node) -> dict:
    """The page's JSON-LD: JSON, and JSON-LD that rdflib reads (offline: the schema.org
    context is swapped for its ``@vocab``, which is all the page relies on)."""
    data = json.loads(doc.find_all("script")[0].text())
    assert data["@context"] == "https://schema.org/"
    graph = Graph().parse(data=json.dumps({**data, "@context": {"@vocab": "https://schema.org/"}}),
                          format="json-ld")
    assert len(graph) > 0
    return data


# -- Fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app() -> Flask:
    """The endpoint's templates and static files, the endpoints the layout links to, and
    ``link_for``; no store, no dereferencing routes."""
    folder = os.path.dirname(ontology_docs.__file__)
    app = Flask("ontology_docs_test", template_folder=os.path.join(folder, "templates"),
                static_folder=os.path.join(folder, "static"))
    pages, sparql = Blueprint("pages", __name__), Blueprint("sparql", __name__)
    pages.add_url_rule("/", "index", lambda: "")
    pages.add_url_rule("/health", "health", lambda: "")
    sparql.add_url_rule("/sparql", "sparql", lambda: "")
    app.register_blueprint(pages)
    app.register_blueprint(sparql)
    site_links.init_app(app)
    return app


@pytest.fixture
def local(app: Flask) -> Iterator[None]:
    """A request to a server that is not the public base, as on a laptop."""
    with app.test_request_context("/def/", base_url=LOCAL):
        yield


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology" / "practicebank.ttl")


@pytest.fixture(scope="module")
def vocabularies() -> Graph:
    return Graph().parse(ROOT / "ontology" / "vocabularies.ttl")


@pytest.fixture(scope="module")
def page(app: Flask) -> tuple[str, Node]:
    with app.test_request_context("/def/", base_url=LOCAL):
        html = render_ontology()
    return html, check_page(html)


def terms_of(graph: Graph) -> list[URIRef]:
    return sorted({s for t in TERM_TYPES for s in graph.subjects(RDF.type, t)
                   if isinstance(s, URIRef)})


def label_of(graph: Graph, node: URIRef) -> str:
    return str(next(v for v in graph.objects(node, RDFS.label) if v.language == "en"))


def members(graph: Graph, node) -> set[str]:
    """A domain or range as the set of its classes (a union's members)."""
    if isinstance(node, URIRef):
        return {str(node)}
    return {str(m) for m in Collection(graph, graph.value(node, OWL.unionOf))}


# -- The ontology page -----------------------------------------------------------------------------

def test_every_class_and_property_has_an_entry_with_its_label(page, ontology: Graph) -> None:
    _, doc = page
    terms = terms_of(ontology)
    assert len(terms) > 100
    contents = doc.by_id("sec-contents").parent
    toc = {a.attrs["href"] for a in contents.find_all("a")}
    for term in terms:
        local = str(term)[len(PB):]
        entry = doc.by_id(local)
        heading = entry.find_all("h3")[0].text()
        assert label_of(ontology, term) in heading, local
        assert f"pb:{local}" in heading
        assert f"#{local}" in toc
        assert str(term) in entry.text()


def test_entries_say_the_kind_and_the_definition(page, ontology: Graph) -> None:
    _, doc = page
    kinds = {OWL.Class: "Class", OWL.ObjectProperty: "Object property",
             OWL.DatatypeProperty: "Datatype property"}
    for term in terms_of(ontology):
        fields = doc.by_id(str(term)[len(PB):]).find_all("dl")[0].fields()
        kind = next(k for t, k in kinds.items() if (term, RDF.type, t) in ontology)
        assert fields["Kind"][0].text().startswith(kind)
        shown = " ".join(" ".join(dd.text().split()) for dd in fields.get("Definition", []))
        for definition in ontology.objects(term, SKOS.definition):
            assert " ".join(str(definition).split()) in shown, term


def test_domains_and_ranges_match_the_turtle(page, ontology: Graph) -> None:
    _, doc = page
    for prop in sorted(set(ontology.subjects(RDF.type, OWL.ObjectProperty))):
        fields = doc.by_id(str(prop)[len(PB):]).find_all("dl")[0].fields()
        for name, predicate in (("Domain", RDFS.domain), ("Range", RDFS.range)):
            stated = [members(ontology, o) for o in ontology.objects(prop, predicate)]
            shown = {a.attrs["href"] for dd in fields[name] for a in dd.find_all("a")}
            expected = {f"#{i[len(PB):]}" if i.startswith(PB) else i
                        for group in stated for i in group}
            # Our terms are in-page anchors; other vocabularies' terms link out as they are.
            assert shown == expected, (prop, name)


def test_metadata_comes_from_the_ontology_header(page, ontology: Graph) -> None:
    _, doc = page
    header = URIRef(ONTOLOGY_IRI)
    fields = doc.by_id("sec-about").parent.find_all("dl")[0].fields()
    assert fields["Version"][0].text() == str(ontology.value(header, OWL.versionInfo))
    assert fields["Version IRI"][0].text() == str(ontology.value(header, OWL.versionIRI))
    assert str(ontology.value(header, OWL.priorVersion)) in fields["Prior version"][0].text()
    assert "CC BY 4.0" in fields["Licence"][0].text()
    assert fields["Creator"][0].text() == "The practicebank project"
    assert fields["Preferred prefix"][0].text() == "pb:"
    notes = doc.by_id("sec-changes").parent.text()
    for note in ontology.objects(header, SKOS.changeNote):
        assert str(note).splitlines()[0][:60] in notes


def test_deprecated_terms_say_what_replaces_them(page) -> None:
    _, doc = page
    entry = doc.by_id("assessmentDate")
    assert "deprecated" in entry.find_all("h3")[0].text()
    warning = next(p for p in entry.find_all("p") if "onto-deprecated" in p.attrs.get("class", ""))
    assert "dcterms:date" in warning.text()


def test_the_overview_and_the_class_diagrams(page, ontology: Graph) -> None:
    _, doc = page
    overview = doc.by_id("sec-overview").parent.find_all("svg")[0]
    shown = {t.text().strip() for t in overview.find_all("text")}
    assert {"Practice", "Organisation", "RatingAssessment"} <= shown
    practice = URIRef(PB + "Practice")
    svg = doc.by_id("Practice").find_all("svg")[0]
    labels = {t.text().strip() for t in svg.find_all("text")}
    for prop in ontology.subjects(RDFS.domain, None):
        if any(str(practice) in members(ontology, d) for d in ontology.objects(prop, RDFS.domain)):
            assert str(prop)[len(PB):] in labels
    for prop in ontology.subjects(RDFS.range, practice):
        assert str(prop)[len(PB):] in labels
    assert doc.by_id("diagram-Practice-title").text()


def test_the_page_is_for_search_engines_too(page) -> None:
    html, doc = page
    head = doc.find_all("head")[0]
    links = {(n.attrs["rel"], n.attrs.get("type")): n.attrs["href"] for n in head.find_all("link")}
    assert links[("canonical", None)] == ONTOLOGY_IRI
    assert links[("alternate", "text/turtle")] == LOCAL + "def.ttl"
    assert links[("alternate", "application/ld+json")] == LOCAL + "def.jsonld"
    assert links[("alternate", "application/n-triples")] == LOCAL + "def.nt"
    assert links[("alternate", "application/rdf+xml")] == LOCAL + "def.rdf"
    data = jsonld_of(doc)
    assert data["@type"] == "DefinedTermSet" and data["version"] == "2.0.0"
    assert PB + "Practice" in {t["@id"] for t in data["hasDefinedTerm"]}


# -- Versions, term pages, the API -----------------------------------------------------------------

def test_versions(local, ontology: Graph) -> None:
    version = str(ontology.value(URIRef(ONTOLOGY_IRI), OWL.versionInfo))
    assert ontology_versions() == [version] == ["2.0.0"]
    doc = check_page(render_ontology("2.0.0"))
    canonical = next(n for n in doc.find_all("link") if n.attrs["rel"] == "canonical")
    assert canonical.attrs["href"] == ONTOLOGY_IRI + "/2.0.0"
    assert "version 2.0.0" in doc.find_all("h1")[0].text()
    assert render_ontology("9.9.9") is None
    assert render_ontology("0.1.0") is None  # a prior version, not bundled


@pytest.mark.parametrize("local_name", ["organisation", "partnerType", "period", "outcomeResult"])
def test_a_term_page_shows_domain_and_range(local, ontology: Graph, local_name: str) -> None:
    iri = PB + local_name
    doc = check_page(render_term(iri))
    fields = doc.find_all("dl")[0].fields()
    for name, predicate in (("Domain", RDFS.domain), ("Range", RDFS.range)):
        expected = {local_href(i) if i.startswith(PB) else i
                    for o in ontology.objects(URIRef(iri), predicate)
                    for i in members(ontology, o)}
        shown = {a.attrs["href"] for dd in fields[name] for a in dd.find_all("a")}
        assert shown == expected, name  # other terms are their own pages, on this server
    back = [a.attrs["href"] for a in doc.find_all("a")]
    assert f"{LOCAL}def#{local_name}" in back and LOCAL + "def" in back
    head = {(n.attrs["rel"], n.attrs.get("type")): n.attrs["href"] for n in doc.find_all("link")}
    assert head[("canonical", None)] == iri
    assert head[("alternate", "text/turtle")] == f"{LOCAL}def/{local_name}.ttl"
    data = jsonld_of(doc)
    assert data["@id"] == iri and data["name"] == label_of(ontology, URIRef(iri))
    assert data["inDefinedTermSet"]["@id"] == ONTOLOGY_IRI


def test_a_class_page_has_its_tables_and_diagram(local) -> None:
    doc = check_page(render_term(PB + "TilleyAward"))
    captions = [c.text() for c in doc.find_all("caption")]
    assert "Properties inherited from pb:Recognition" in captions
    doc = check_page(render_term(PB + "Practice"))
    assert len(doc.find_all("svg")) == 1
    doc = check_page(render_term(PB + "forceCrimeCountStructure"))  # a Data Cube structure
    rows = doc.find_all("tbody")[0].find_all("tr")
    assert [r.find_all("a")[0].text() for r in rows] == ["pb:force", "pb:month",
                                                         "pb:crimeCategory", "pb:crimeCount"]


def test_unknown_terms(local) -> None:
    assert render_term(PB + "NoSuchTerm") is None
    assert render_term("https://schema.org/Project") is None
    assert render_term(ONTOLOGY_IRI) is None
    assert not is_term(PB + "NoSuchTerm") and not is_term(ONTOLOGY_IRI)


def test_term_iris_cover_the_ontology(ontology: Graph) -> None:
    iris = term_iris()
    assert iris == sorted(set(iris))
    for term in terms_of(ontology):
        assert str(term) in iris and is_term(str(term))
    assert PB + "forceCrimeCountStructure" in iris


def test_links_stay_public_on_the_public_host(app: Flask) -> None:
    with app.test_request_context("/practicebank/def/",
                                  base_url="https://w3id.org/practicebank/"):
        doc = check_page(render_term(PB + "organisation"))
    hrefs = {a.attrs["href"] for a in doc.find_all("a")}
    assert PB + "Practice" in hrefs and ONTOLOGY_IRI + "#organisation" in hrefs


# -- Escaping --------------------------------------------------------------------------------------

EVIL = """
@prefix pb: <https://w3id.org/practicebank/def/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
pb:Evil a owl:Class ;
    rdfs:label "<script>alert(1)</script> & \\"quoted\\""@en ;
    skos:definition "Unlike pb:Practice, </script><b onclick=x>bold</b>"@en ;
    rdfs:seeAlso <javascript:alert(2)> .
pb:evilProp a owl:ObjectProperty ;
    rdfs:label "<img src=x onerror=alert(3)>"@en ;
    rdfs:domain pb:Evil ;
    rdfs:range pb:Practice .
"""


def test_markup_in_the_data_is_escaped(app: Flask, ontology: Graph) -> None:
    graph = Graph()
    for triple in ontology:
        graph.add(triple)
    graph.parse(data=EVIL, format="turtle")
    docs = OntologyDocs(graph)
    with app.test_request_context("/def/", base_url=LOCAL):
        pages = [render_term(PB + "Evil", docs=docs), render_term(PB + "evilProp", docs=docs),
                 render_ontology(docs=docs)]
    for html in pages:
        doc = check_page(html)  # one script, no handlers, no javascript: links
        assert "<script>alert" not in html and "<b " not in html and "<img" not in html
        assert 'href="javascript:' not in html
        assert "</script>" not in doc.find_all("script")[0].text()
    evil = pages[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quoted&#34;" in evil
    assert "&lt;/script&gt;&lt;b onclick=x&gt;bold&lt;/b&gt;" in evil
    data = json.loads(parse(evil).find_all("script")[0].text())
    assert data["name"] == '<script>alert(1)</script> & "quoted"'  # intact once parsed
    # The mention of pb:Practice in the definition is still a link.
    assert f'href="{LOCAL}def/Practice"' in evil
    assert "&lt;img src=x onerror=alert(3)&gt;" in pages[1]


def test_markup_in_a_vocabulary_is_escaped(app: Flask) -> None:
    graph = Graph().parse(format="turtle", data="""
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <https://w3id.org/practicebank/concept/evil> a skos:ConceptScheme ;
            skos:prefLabel "Evil <i>scheme</i>"@en ;
            skos:hasTopConcept <https://w3id.org/practicebank/concept/evil/x> .
        <https://w3id.org/practicebank/concept/evil/x> a skos:Concept ;
            skos:inScheme <https://w3id.org/practicebank/concept/evil> ;
            skos:prefLabel "<script>alert(1)</script>"@en ;
            skos:notation "<b>x</b>" .
        """)
    with app.test_request_context("/concept/", base_url=LOCAL):
        html = render_vocabularies(found=ontology_docs.schemes(graph, lambda local: None))
    check_page(html)
    assert "<script>alert" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- The vocabularies index ------------------------------------------------------------------------

def test_every_scheme_is_listed_with_its_concepts(app: Flask, vocabularies: Graph) -> None:
    with app.test_request_context("/concept/", base_url=LOCAL):
        html = render_vocabularies()
    doc = check_page(html)
    schemes = sorted(s for s in vocabularies.subjects(RDF.type, SKOS.ConceptScheme))
    assert len(schemes) >= 28
    sections = [n for n in doc.find_all("section") if n.attrs.get("id", "").startswith("scheme-")]
    assert len(sections) == len(schemes)
    for scheme in schemes:
        concepts = set(vocabularies.subjects(SKOS.inScheme, scheme))
        section = doc.by_id("scheme-" + str(scheme).rsplit("/", 1)[-1])
        label = next(v for v in vocabularies.objects(scheme, SKOS.prefLabel) if v.language == "en")
        assert section.find_all("h2")[0].text() == str(label)
        count = next(d for d in section.find_all("data") if "onto-count" in d.attrs["class"])
        assert count.attrs["value"] == str(len(concepts))
        linked = [a.attrs["href"] for ul in section.find_all("ul") for a in ul.find_all("a")
                  if ul.parent is section]
        expected = {local_href(c) for c in concepts}
        assert sorted(linked) == sorted(expected), scheme  # every concept, once
        assert "CC BY 4.0" in section.find_all("dl")[0].fields()["Licence"][0].text()
    data = jsonld_of(doc)
    assert {s["@id"] for s in data["@graph"]} == {str(s) for s in schemes}
    canonical = next(n for n in doc.find_all("link") if n.attrs["rel"] == "canonical")
    assert canonical.attrs["href"] == "https://w3id.org/practicebank/concept/"


def test_concept_trees_follow_broader_and_narrower(app: Flask, vocabularies: Graph) -> None:
    with app.test_request_context("/concept/", base_url=LOCAL):
        doc = parse(render_vocabularies())
    section = doc.by_id("scheme-topic")
    for concept, broader in vocabularies.subject_objects(SKOS.broader):
        if (concept, SKOS.inScheme, URIRef("https://w3id.org/practicebank/concept/topic")) \
                not in vocabularies:
            continue
        link = next(a for a in section.find_all("a") if a.attrs["href"] == local_href(concept))
        parent_item = link.parent.parent.parent  # a > li > ul > li
        assert parent_item.find_all("a")[0].attrs["href"] == local_href(broader)
    # Labels in other languages are marked as such (WCAG 3.1.2).
    welsh = {str(v) for v in vocabularies.objects(None, SKOS.prefLabel) if v.language == "cy"}
    assert welsh
    assert welsh <= {n.text() for n in doc.walk() if n.attrs.get("lang") == "cy"}


def local_href(iri) -> str:
    return LOCAL + str(iri)[len("https://w3id.org/practicebank/"):]
