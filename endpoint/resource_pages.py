"""Pages for people: a description (:mod:`.descriptions`) rendered as HTML.

One template shows any resource the same way (its facts, the records that belong to it,
what links to it), so every kind of resource gets a page and a new property shows up
without code. A few kinds get a section more, from a table rather than branches in the
template: where a record came from (the graphs holding it and when they were loaded), a
concept scheme's concept tree, a named graph's size. Every value is escaped by Jinja; IRIs
become links only for http(s) (a ``javascript:`` IRI is shown as text), and links to our
own IRIs stay on the server the reader is on (:func:`.site_links.link_for`).

Each page embeds a small schema.org JSON-LD block for search engines (a data block, which
the Content-Security-Policy does not run), ``<link rel="canonical">`` to the public IRI and
``rel="alternate"`` links to the other formats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import abort, render_template, request

from practicebank.namespaces import BASE

from .crime_trend import crime_trend_svg
from .description_source import source
from .descriptions import (
    LABELS,
    RDF_TYPE,
    Description,
    Linked,
    best_label,
    look_up,
    remembered,
    source_graphs,
)
from .html_facts import facts_html
from .html_results import linkable
from .params import whole_number
from .per_commit import PerCommit
from .runtime import get_runtime
from .site_links import link_for, public_base, rewriter

XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
PB = BASE + "def/"
#: Predicates shown in the page's heading rather than among the facts.
HEADING_PREDICATES = frozenset({RDF_TYPE, *LABELS[:3]})
#: schema.org types for the embedded JSON-LD, by our class (the first that matches).
SCHEMA_TYPES = {
    PB + "Practice": "Project",
    PB + "PoliceForce": "GovernmentOrganization",
    PB + "Organisation": "Organization",
    PB + "Evaluation": "Report",
    PB + "InspectionReport": "Report",
    PB + "RatingAssessment": "Review",
    PB + "Recognition": "Thing",
    SKOS + "ConceptScheme": "DefinedTermSet",
    SKOS + "Concept": "DefinedTerm",
    "http://www.w3.org/ns/dcat#Dataset": "Dataset",
    "http://www.w3.org/2002/07/owl#Class": "DefinedTerm",
}
#: Text for the JSON-LD description, best first.
DESCRIPTIONS = tuple(ox.NamedNode(i) for i in (
    PB + "abstract", DCT + "description", SKOS + "definition",
    "http://www.w3.org/2000/01/rdf-schema#comment"))
#: Links that name what a record without a label is about, for its title.
TITLE_PARTS = frozenset({PROV + "agent", PROV + "hadRole", PB + "ratingValue",
                         PB + "ratingScale", PB + "recognitionSource", PB + "awardOutcome",
                         PB + "fundingRound", PB + "inspectionReport", PB + "recognisedBy"})
#: Concepts shown in a scheme's tree.
MAX_TREE = 2000


@dataclass
class Value:
    """One object of a fact, ready for the template."""

    text: str
    href: str | None = None
    lang: str | None = None
    note: str | None = None  # a datatype's or IRI's short name, shown small
    rows: list[Row] = field(default_factory=list)  # a blank node's own facts


@dataclass
class Row:
    """One property of a resource and its values."""

    label: str
    href: str | None
    values: list[Value]


@dataclass
class Part:
    """A record shown inside its resource's page (an assessment, a recognition …)."""

    title: str
    kind: str
    href: str
    rows: list[Row]


@dataclass
class Incoming:
    label: str
    href: str | None
    via: str
    via_href: str | None


def short_name(iri: str) -> str:
    """The last segment of an IRI: ``…/def/Practice`` -> ``Practice``."""
    for sep in ("#", "/"):
        head, found, tail = iri.rstrip("/#").rpartition(sep)
        if found and tail:
            return tail
    return iri


def humanise(name: str) -> str:
    """``wasDerivedFrom`` -> ``was derived from``: a readable name for a term with no label."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ")
    return words if name.isupper() else words.lower()


def href_of(iri: str, link=link_for) -> str | None:
    return link(iri) if linkable(iri) else None


class Renderer:
    """Turns a description's terms into values, labels first."""

    def __init__(self, description: Description) -> None:
        self.d = description
        self.link = rewriter()
        self._labels: dict = {}

    def label(self, node: ox.NamedNode | ox.BlankNode) -> str:
        found = self.d.label_of(node)
        return found.value if found is not None else short_name(node.value)

    def term_label(self, node: ox.NamedNode) -> str:
        """A property's or class's label, or its name made readable."""
        label = self._labels.get(node)
        if label is None:
            found = self.d.label_of(node)
            label = found.value if found is not None else humanise(short_name(node.value))
            self._labels[node] = label
        return label

    def part_title(self, node: ox.NamedNode) -> str:
        """A record's label, or its kind and what it points at (``Participation: West
        Yorkshire Police, Lead``)."""
        found = self.d.label_of(node)
        if found is not None:
            return found.value
        named = [self.label(t.object) for t in self.d.about(node)
                 if t.predicate.value in TITLE_PARTS and isinstance(t.object, ox.NamedNode)]
        kinds = [self.term_label(t) for t in sorted(self.d.types_of(node),
                                                     key=lambda t: not t.value.startswith(PB))]
        head = kinds[0] if kinds else humanise(short_name(node.value))
        return f"{head}: {', '.join(named)}" if named else head

    def value(self, term: object, depth: int = 0) -> Value:
        if isinstance(term, ox.NamedNode) and term in self.d.parts:  # shown further down
            return Value(self.part_title(term), href=href_of(term.value, self.link))
        if isinstance(term, ox.NamedNode):
            known = self.d.label_of(term)
            return Value(known.value if known is not None else term.value,
                         href=href_of(term.value, self.link))
        if isinstance(term, ox.BlankNode):
            rows = self.rows(self.d.about(term), depth + 1) if depth < 6 else []
            return Value(self.label(term), rows=rows)
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value
            note = None
            if not term.language and datatype not in (XSD + "string",):
                note = short_name(datatype)
            if datatype == XSD + "anyURI" and linkable(term.value):
                return Value(term.value, href=term.value)
            return Value(term.value, lang=term.language or None, note=note)
        return Value(str(term))

    def rows(self, triples: Iterable[ox.Triple], depth: int = 0,
             skip: frozenset = frozenset()) -> list[Row]:
        grouped: dict[ox.NamedNode, list[Value]] = {}
        for t in triples:
            if t.predicate in skip:
                continue
            grouped.setdefault(t.predicate, []).append(self.value(t.object, depth))
        return [Row(self.term_label(p), href_of(p.value, self.link),
                    sorted(vs, key=lambda v: v.text.lower()))
                for p, vs in sorted(grouped.items(),
                                    key=lambda kv: self.term_label(kv[0]).lower())]


def render(description: Description, stem: str, alternates: list) -> str:
    """The HTML page of ``description`` (the resource at ``stem``)."""
    r = Renderer(description)
    subject = description.subject
    types = description.types_of(subject)
    parts = [
        Part(r.part_title(node), ", ".join(r.term_label(t) for t in description.types_of(node))
             or "Record", link_for(node.value),
             r.rows(triples, skip=frozenset({RDF_TYPE})))
        for node, triples in description.parts.items()
    ]
    parts.sort(key=lambda p: (p.kind, p.title))
    part_nodes = set(description.parts)
    incoming = [Incoming(r.label(s), href_of(s.value) if isinstance(s, ox.NamedNode) else None,
                         r.term_label(p), href_of(p.value))
                for s, p in description.incoming if s not in part_nodes]
    extras = [section for kind, build in EXTRAS if kind in {t.value for t in types}
              for section in [build(description, r)] if section]
    page = description.incoming_page
    return render_template(
        "resource.html",
        facts_html=facts_html,
        iri=subject.value,
        title=r.label(subject),
        types=[(r.term_label(t), href_of(t.value)) for t in types],
        rows=r.rows(description.about(subject), skip=HEADING_PREDICATES),
        parts=parts,
        incoming=incoming,
        previous_page=f"{request.path}?incoming={page - 1}" if page > 0 else None,
        next_page=f"{request.path}?incoming={page + 1}" if description.incoming_more else None,
        origin=origin(description, r),
        extras=extras,
        alternates=alternates,
        jsonld=schema_jsonld(description, types),
        truncated=description.truncated,
    )


def origin(description: Description, r: Renderer) -> list[dict]:
    """Where the resource's record came from: each graph holding it and its last load."""
    out = []
    src = source()
    for graph in source_graphs(description):
        ended = remembered(src, ("loaded", graph), lambda g=graph: last_loaded(src, g))
        out.append({"graph": graph.value, "href": link_for(graph.value),
                    "label": r.label(graph) if graph in description.linked else
                    short_name(graph.value), "loaded": ended})
    return out


def last_loaded(src, graph: ox.NamedNode) -> str | None:
    """When the last load of ``graph`` ended (read once per commit: every page from the
    graph shows it)."""
    ended = None
    for q in src.quads(graph, ox.NamedNode(PROV + "wasGeneratedBy"), None, 4):
        for t in src.quads(q.object, ox.NamedNode(PROV + "endedAtTime"), None, 1):
            ended = t.object.value
    return ended


def schema_jsonld(description: Description, types: list[ox.NamedNode]) -> str:
    """A schema.org description for search engines, as JSON safe inside ``<script>``."""
    subject = description.subject
    kind = next((SCHEMA_TYPES[t.value] for t in types if t.value in SCHEMA_TYPES), "Thing")
    data: dict = {"@context": "https://schema.org", "@type": kind, "@id": subject.value,
                  "url": subject.value}
    label = description.label_of(subject)
    if label is not None:
        data["name"] = label.value
    about = description.about(subject)
    for predicate in DESCRIPTIONS:
        text = next((t.object.value for t in about if t.predicate == predicate
                     and isinstance(t.object, ox.Literal)), None)
        if text:
            data["description"] = text
            break
    if kind in ("DefinedTerm", "DefinedTermSet"):
        data["inDefinedTermSet"] = next(
            (t.object.value for t in about if t.predicate.value == SKOS + "inScheme"), None)
        if data["inDefinedTermSet"] is None:
            del data["inDefinedTermSet"]
    data["license"] = next((t.object.value for t in about if t.predicate.value == DCT
                            + "license"), None) or (
        "https://creativecommons.org/licenses/by/4.0/" if subject.value.startswith(
            (BASE + "def", BASE + "concept/")) else
        "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def scheme_tree(description: Description, r: Renderer) -> dict | None:
    """A concept scheme's concepts as a tree, from ``skos:inScheme`` and ``skos:broader``."""
    src = source()
    scheme = description.subject
    members = [q.subject for q in src.quads(None, ox.NamedNode(SKOS + "inScheme"), scheme,
                                            MAX_TREE)]
    members = list(dict.fromkeys(m for m in members if isinstance(m, ox.NamedNode)))
    children: dict[ox.NamedNode | None, list[ox.NamedNode]] = {}
    names: dict[ox.NamedNode, tuple[str, str | None]] = {}
    member_set = set(members)
    for concept in members:
        linked: Linked = description.linked.get(concept) or look_up(src, concept)
        notation = next((q.object.value for q in src.quads(
            concept, ox.NamedNode(SKOS + "notation"), None, 1)), None)
        names[concept] = (linked.label.value if linked.label else short_name(concept.value),
                          notation)
        broader = [q.object for q in src.quads(concept, ox.NamedNode(SKOS + "broader"),
                                                None, 4) if q.object in member_set]
        children.setdefault(broader[0] if broader else None, []).append(concept)

    def branch(parent: ox.NamedNode | None, depth: int) -> list[dict]:
        nodes = sorted(children.get(parent, []), key=lambda c: names[c][0].lower())
        return [{"label": names[c][0], "notation": names[c][1], "href": link_for(c.value),
                 "children": branch(c, depth + 1) if depth < 12 else []} for c in nodes]

    return {"title": "Concepts in this scheme", "tree": branch(None, 0),
            "count": len(members)} if members else None


def graph_size(description: Description, r: Renderer) -> dict | None:
    """A named graph's size, from the runtime's cached counts."""
    count = get_runtime().stats()["graphs"].get(description.subject.value)
    if count is None:
        return None
    return {"title": "What this graph holds", "facts": [("Triples", f"{count:,}")],
            "links": [("The graph's contents as TriG",
                       link_for(description.subject.value) + ".trig"),
                      ("The graph's contents as N-Quads",
                       link_for(description.subject.value) + ".nq")]}


def where_it_ran(description: Description, r: Renderer) -> dict | None:
    """A practice's forces and organisations with the region each is in."""
    src = source()
    region = ox.NamedNode(PB + "region")
    rows = []
    for predicate in (PB + "organisation", PB + "partner"):
        for node in description.values(description.subject, ox.NamedNode(predicate)):
            if not isinstance(node, ox.NamedNode):
                continue
            regions = remembered(src, ("regions", node), lambda n=node: [
                q.object for q in src.quads(n, region, None, 4)
                if isinstance(q.object, ox.NamedNode)])
            names = [label_text(look_up(src, g), g) for g in regions]
            rows.append((r.label(node), link_for(node.value), ", ".join(names) or "–"))
    if not rows:
        return None
    return {"title": "Where it ran", "table": {"head": ("Organisation", "Region"),
                                                "rows": [((name, href), (reg, None))
                                                         for name, href, reg in rows]}}


def label_text(linked: Linked, node: ox.NamedNode) -> str:
    return linked.label.value if linked.label is not None else short_name(node.value)


#: Observations a force page reads to total its crime counts; past this it links a query.
MAX_OBSERVATIONS = 2000


def crime_counts(description: Description, r: Renderer) -> dict | None:
    """A force's recorded crime by month, from its Data Cube observations (where loaded)."""
    src = source()
    observations = [q.subject for q in src.quads(None, ox.NamedNode(PB + "force"),
                                                 description.subject, MAX_OBSERVATIONS + 1)]
    if not observations:
        return None
    query = (f"PREFIX pb: <{PB}>\nSELECT ?month (SUM(?n) AS ?crimes) WHERE {{\n"
             f"  ?o pb:force <{description.subject.value}> ; pb:month ?month ; "
             "pb:crimeCount ?n .\n} GROUP BY ?month ORDER BY ?month")
    link = ("Monthly totals as a SPARQL query",
            f"{request.script_root}/sparql?{urlencode({'query': query, 'format': 'html'})}")
    if len(observations) > MAX_OBSERVATIONS:
        return {"title": "Recorded crime", "links": [link],
                "facts": [("Observations", f"more than {MAX_OBSERVATIONS:,}")]}
    month, count = ox.NamedNode(PB + "month"), ox.NamedNode(PB + "crimeCount")
    totals: dict[str, int] = {}
    for o in observations:
        facts = {q.predicate: q.object for q in src.quads(o, None, None, 16)}
        if month in facts and count in facts:
            try:
                totals[facts[month].value] = totals.get(facts[month].value, 0) + int(
                    facts[count].value)
            except ValueError:
                continue
    rows = [((m, None), (f"{n:,}", None)) for m, n in sorted(totals.items())]
    chart_page = (f"{request.script_root}/charts/force/"
                  f"{description.subject.value.rsplit('/', 1)[-1]}")
    return {"title": "Recorded crime",
            "links": [link, ("Chart of recorded crime by month, with practice start dates",
                             chart_page)],
            # Force-level counts only (no LSOA rows); None where there are none.
            "figure": crime_trend_svg(description.subject.value,
                                      r.label(description.subject)),
            "table": {"head": ("Month", "Crimes recorded"), "rows": rows}}


#: Sections some kinds of resource get, by class IRI.
EXTRAS: tuple[tuple[str, Callable[[Description, Renderer], dict | None]], ...] = (
    (SKOS + "ConceptScheme", scheme_tree),
    (PB + "Practice", where_it_ran),
    (PB + "PoliceForce", crime_counts),
    ("http://www.w3.org/ns/dcat#Dataset", graph_size),
)


#: What ``id/{kind}/`` lists, by kind.
LISTED_CLASSES = {
    "id/practice/": (PB + "Practice", "Practices"),
    "id/force/": (PB + "PoliceForce", "Police forces"),
    "id/organisation/": (PB + "Organisation", "Organisations"),
    "id/evaluation/": (PB + "Evaluation", "Evaluations"),
    "id/report/": (PB + "InspectionReport", "Inspection reports"),
    "graph/": ("http://www.w3.org/ns/dcat#Dataset", "Named graphs"),
}
LIST_PAGE = 200


def listing(stem: str) -> str:
    """A page of the resources of one kind, in title order (precomputed per commit)."""
    if stem not in LISTED_CLASSES:
        abort(404)
    class_iri, heading = LISTED_CLASSES[stem]
    items = ordered_members(class_iri, stem)
    page_arg = request.args.get("page", "0")
    page = whole_number(page_arg) or 0
    chunk = items[page * LIST_PAGE:(page + 1) * LIST_PAGE]
    body = render_template(
        "listing.html", heading=heading, items=chunk, total=len(items), first=page * LIST_PAGE,
        previous_page=f"{request.path}?page={page - 1}" if page > 0 else None,
        next_page=f"{request.path}?page={page + 1}" if len(items) > (page + 1) * LIST_PAGE
        else None)
    return body


#: Each listing's order (label, IRI), built once per committed write (100,000 practices:
#: seconds), never sorted per request.
ORDERS: PerCommit[list[tuple[str, str]]] = PerCommit()
#: Above this many members, labels are read by scanning each label property once rather
#: than looking each member up (measured on 100,000 practices: 1.7 s against 18 s and more).
SCAN_ABOVE = 2000


def ordered_members(class_iri: str, stem: str) -> list[tuple[str, str]]:
    """(label, IRI) of every instance of ``class_iri`` under ``stem``, sorted by label once
    per committed write (a listing never sorts the store per request)."""
    return ORDERS.get((class_iri, stem), lambda: build_order(source(), class_iri, stem))


def build_order(src, class_iri: str, stem: str) -> list[tuple[str, str]]:
    prefix = public_base() + stem if stem != "graph/" else BASE + "graph/"
    members = dict.fromkeys(
        q.subject for q in src.quads(None, RDF_TYPE, ox.NamedNode(class_iri), 10_000_000)
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(prefix))
    labels: dict[ox.NamedNode, list[ox.Triple]] = {}
    if len(members) > SCAN_ABOVE:
        for predicate in LABELS[:3]:
            for q in src.quads(None, predicate, None, 10_000_000):
                if q.subject in members:
                    labels.setdefault(q.subject, []).append(q.triple)
    else:
        for m in members:
            labels[m] = [q.triple for p in LABELS[:3] for q in src.quads(m, p, None, 4)]
    items = []
    for m in members:
        label = best_label(labels.get(m, ()))
        items.append((label.value if label else short_name(m.value), m.value))
    items.sort(key=lambda item: item[0].lower())
    return items
