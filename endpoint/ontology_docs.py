"""Ontology documentation, generated from the bundled Turtle files, never kept by hand.

``ontology/practicebank.ttl`` and ``ontology/vocabularies.ttl`` are the single source: they
are read from the installed package, parsed once with rdflib, and turned into plain records
(:class:`Term`, :class:`Scheme`) that Jinja templates render. A term added to the Turtle
shows up here with no edit, and the documentation cannot say what the ontology does not.
We write our own generator rather than run pyLODE: a few templates that extend the site's
layout fit the site (its links, its Content-Security-Policy) better than a foreign page.

What the dereferencing blueprint calls (it owns the routes; this module owns none):

* :func:`render_ontology` the whole documentation (``/def``, ``/def/``, ``/def/{version}/``),
* :func:`render_term` one class or property (``/def/Practice``),
* :func:`render_vocabularies` the index of the concept schemes (``/concept/``),
* :func:`ontology_versions`, :func:`term_iris` (a sitemap) and :func:`is_term`.

The pages obey the site's rules. No script runs (the JSON-LD block is data, which the
Content-Security-Policy does not execute) and nothing is styled inline (the diagrams are
inline SVG with presentation attributes, drawn by :mod:`.ontology_diagrams` from the plain
data this module hands it). Jinja escapes every literal. Links to our own
IRIs go through ``link_for``, so they stay on the server the reader is on, while
``rel="canonical"`` names the public IRI. Rendering needs a Flask app (and, for
``link_for`` to see the host, a request) context.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from flask import render_template
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from practicebank.formats import by_name
from practicebank.namespaces import CONCEPT, PB, PREFIXES, QB
from practicebank.resources import ONTOLOGY, VOCABULARIES

from .ontology_diagrams import Diagram, Row, overview_diagram, star_diagram
from .site_links import link_for

ONTOLOGY_IRI = str(PB).rstrip("/")
NAMESPACE = str(PB)
VOCABULARIES_IRI = str(CONCEPT)
VANN = Namespace("http://purl.org/vocab/vann/")

#: Prefixes for compact names on the pages: the project's table, then a few that only the
#: ontology's alignments use.
DISPLAY_PREFIXES: dict[str, str] = {
    **PREFIXES,
    "dqv": "http://www.w3.org/ns/dqv#",
    "cs": "http://purl.org/vocab/changeset/schema#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vann": str(VANN),
}
#: Names for licences we know; any other licence shows as its IRI.
LICENCES = {
    "https://creativecommons.org/licenses/by/4.0/": "Creative Commons Attribution 4.0 (CC BY 4.0)",
    "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/":
        "Open Government Licence v3.0",
}
#: The other forms of a page, as (extension, format name): the URL of each is the page's IRI
#: plus the extension, as the dereferencing blueprint serves them.
ALTERNATES = (("ttl", "ttl"), ("jsonld", "jsonld"), ("nt", "nt"), ("rdf", "rdfxml"))

#: The kinds of term, by rdf:type, the first that matches: (type, kind, label).
KINDS = (
    (OWL.ObjectProperty, "object", "Object property"),
    (OWL.DatatypeProperty, "datatype", "Datatype property"),
    (OWL.AnnotationProperty, "annotation", "Annotation property"),
    (RDF.Property, "property", "Property"),
    (OWL.Class, "class", "Class"),
    (RDFS.Class, "class", "Class"),
)
MAIN_TYPES = frozenset(t for t, _, _ in KINDS)
#: The sections of the ontology page, in order: (id, title, intro).
GROUPS = (
    ("classes", "Classes", "Classes of the things the graph describes."),
    ("concept-classes", "Concept classes",
     "Classes of SKOS concepts, one per controlled vocabulary: their members are the "
     "concepts of a scheme (see the vocabularies)."),
    ("object-properties", "Object properties", "Properties whose values are resources."),
    ("datatype-properties", "Datatype properties", "Properties whose values are literals."),
    ("annotation-properties", "Annotation properties", "Properties for annotations."),
    ("properties", "Other properties", "Properties typed only rdf:Property."),
    ("other-terms", "Other terms",
     "Other resources the ontology defines in its namespace, such as Data Cube structures."),
)
#: Mapping and equivalence statements shown as a term's alignments (with rdfs:subClassOf and
#: rdfs:subPropertyOf to terms outside the ontology).
ALIGNMENTS = (OWL.equivalentClass, OWL.equivalentProperty, OWL.sameAs, SKOS.exactMatch,
              SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
NOTES = ((SKOS.scopeNote, "Scope note"), (SKOS.example, "Example"),
         (SKOS.historyNote, "History note"), (SKOS.editorialNote, "Editorial note"),
         (SKOS.changeNote, "Change note"))
LABELS = (RDFS.label, SKOS.prefLabel, DCTERMS.title)
#: A ``pb:term`` mentioned in prose; it becomes a link when it names a term.
MENTION = re.compile(r"\bpb:([A-Za-z_][A-Za-z0-9_]*)")
LOCAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


# -- Records the templates read ----------------------------------------------------------------

@dataclass(frozen=True)
class Ref:
    """A resource a page mentions: its IRI, compact name, label, and its anchor on the
    ontology page when it is a term of the ontology."""

    iri: str
    curie: str
    label: str
    anchor: str | None = None

    @property
    def short(self) -> str:
        """The name in diagrams: a term's local name, anything else's compact name."""
        return self.anchor or self.curie

    @property
    def linkable(self) -> bool:
        """Only web IRIs become links (a ``javascript:`` IRI stays text)."""
        return self.iri.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Segment:
    """A run of prose; a mention of a term carries the term."""

    text: str
    ref: Ref | None = None


Prose = tuple[Segment, ...]


@dataclass(frozen=True)
class ClassExpr:
    """A domain or range: one class, or a union ("or") or intersection ("and") of classes."""

    members: tuple[Ref, ...]
    operator: str = ""


@dataclass(frozen=True)
class Usage:
    """A property seen from a class: the class is its domain (``exprs`` are its ranges) or
    its range (``exprs`` are its domains)."""

    prop: Ref
    kind: str
    exprs: tuple[ClassExpr, ...]
    deprecated: bool = False


@dataclass(frozen=True)
class Component:
    """One component of a Data Cube structure."""

    role: str
    prop: Ref | None
    order: str = ""
    required: str = ""


@dataclass
class Term:
    """Everything the documentation says about one term; fields not of its kind stay empty."""

    ref: Ref
    kind: str
    kind_label: str
    types: list[Ref] = field(default_factory=list)
    definitions: list[Prose] = field(default_factory=list)
    comments: list[Prose] = field(default_factory=list)
    notes: list[tuple[str, Prose]] = field(default_factory=list)
    see_also: list[Ref] = field(default_factory=list)
    deprecated: bool = False
    replaced_by: list[Ref] = field(default_factory=list)
    alignments: list[tuple[Ref, Ref]] = field(default_factory=list)
    supers: list[Ref] = field(default_factory=list)
    subs: list[Ref] = field(default_factory=list)
    domain: list[ClassExpr] = field(default_factory=list)
    range: list[ClassExpr] = field(default_factory=list)
    inverse: list[Ref] = field(default_factory=list)
    code_lists: list[Ref] = field(default_factory=list)
    outgoing: list[Usage] = field(default_factory=list)
    incoming: list[Usage] = field(default_factory=list)
    inherited: list[tuple[Ref, list[Usage]]] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)
    diagram: Diagram | None = None
    group: str = ""

    @property
    def anchor(self) -> str:
        return self.ref.anchor or ""

    @property
    def label(self) -> str:
        return self.ref.label


@dataclass
class OntologyMeta:
    iri: str
    title: str
    description: list[Prose]
    version: str
    version_iri: str
    prior_versions: list[Ref]
    created: str
    modified: str
    licences: list[Ref]
    creators: list[Ref]
    publishers: list[Ref]
    prefix: str
    namespace: str
    change_notes: list[list[Prose]]
    see_also: list[Ref]


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    intro: str
    terms: tuple[Term, ...]


# -- Reading the graph ---------------------------------------------------------------------------

def _text(graph: Graph, node: Node, predicates: Iterable[URIRef]) -> str | None:
    """The first English (else untagged, else any) literal of the first predicate that has
    one."""
    for predicate in predicates:
        values = [v for v in graph.objects(node, predicate) if isinstance(v, Literal)]
        for wanted in ("en", None):
            for value in sorted(values):
                if (value.language or None) == wanted or (
                        wanted == "en" and (value.language or "").startswith("en-")):
                    return str(value)
        if values:
            return str(sorted(values)[0])
    return None


def _texts(graph: Graph, node: Node, predicate: URIRef) -> list[str]:
    """Every literal of ``predicate``, English ones first, in a stable order."""
    values = [v for v in graph.objects(node, predicate) if isinstance(v, Literal)]
    return [str(v) for v in sorted(values, key=lambda v: (v.language not in (None, "en"), v))]


def curie(iri: str) -> str:
    """``https://schema.org/Project`` -> ``schema:Project``; the IRI when no prefix fits."""
    best = ""
    for prefix, namespace in DISPLAY_PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(DISPLAY_PREFIXES.get(best, "")):
            if LOCAL_NAME.fullmatch(iri[len(namespace):]):
                best = prefix
    return f"{best}:{iri[len(DISPLAY_PREFIXES[best]):]}" if best else iri


class OntologyDocs:
    """The ontology as records for the templates, built once from its graph.

    Built from any graph (tests pass a copy with an extra term), so nothing here reads a
    file; :func:`ontology_docs` builds the one for the bundled ontology.
    """

    def __init__(self, graph: Graph, iri: str = ONTOLOGY_IRI) -> None:
        self.graph = graph
        self.iri = URIRef(iri)
        self.kinds = self._find_terms()
        self.terms: dict[str, Term] = {}
        for node, (kind, kind_label) in self.kinds.items():
            self.terms[str(node)] = self._term(node, kind, kind_label)
        self._link_classes()
        self.groups = self._groups()
        for term in self.terms.values():
            if term.kind == "class" and (term.incoming or term.outgoing):
                term.diagram = star_diagram(term.ref.short, term.anchor, _rows(term.incoming),
                                            _rows(term.outgoing))
        self.overview = self._overview()
        self.meta = self._meta()

    # Terms and references

    def _find_terms(self) -> dict[URIRef, tuple[str, str]]:
        """Every IRI in our namespace the graph says something about, with its kind."""
        found: dict[URIRef, tuple[str, str]] = {}
        for subject in set(self.graph.subjects()):
            if not isinstance(subject, URIRef) or not str(subject).startswith(NAMESPACE):
                continue
            types = set(self.graph.objects(subject, RDF.type))
            kind = next(((k, label) for t, k, label in KINDS if t in types), None)
            if kind is None and (types or (subject, RDFS.isDefinedBy, self.iri) in self.graph):
                kind = ("other", "Other term")
            if kind is not None:
                found[subject] = kind
        return found

    def ref(self, node: Node) -> Ref:
        iri = str(node)
        anchor = iri[len(NAMESPACE):] if node in self.kinds else None
        label = _text(self.graph, node, LABELS) or curie(iri)
        return Ref(iri, curie(iri), label, anchor)

    def refs(self, nodes: Iterable[Node]) -> list[Ref]:
        return sorted((self.ref(n) for n in set(nodes) if isinstance(n, URIRef)),
                      key=lambda r: r.curie.casefold())

    def prose(self, text: str) -> list[Prose]:
        return prose(text, lambda local: self.ref(PB[local]) if PB[local] in self.kinds else None)

    def expr(self, node: Node) -> ClassExpr:
        if isinstance(node, URIRef):
            return ClassExpr((self.ref(node),))
        for predicate, operator in ((OWL.unionOf, "or"), (OWL.intersectionOf, "and")):
            members = self.graph.value(node, predicate)
            if members is not None:
                return ClassExpr(tuple(self.ref(m) for m in Collection(self.graph, members)
                                       if isinstance(m, URIRef)), operator)
        return ClassExpr(())

    def _term(self, node: URIRef, kind: str, kind_label: str) -> Term:
        g = self.graph
        ours = set(self.kinds)
        term = Term(self.ref(node), kind, kind_label)
        term.types = self.refs(t for t in g.objects(node, RDF.type) if t not in MAIN_TYPES)
        if kind == "other":
            term.kind_label = ", ".join(t.curie for t in term.types) or kind_label
            term.types = []
        term.definitions = [p for text in _texts(g, node, SKOS.definition)
                            for p in self.prose(text)]
        term.comments = [p for text in _texts(g, node, RDFS.comment) for p in self.prose(text)]
        term.notes = [(title, p) for predicate, title in NOTES
                      for text in _texts(g, node, predicate) for p in self.prose(text)]
        term.see_also = self.refs(g.objects(node, RDFS.seeAlso))
        term.deprecated = _deprecated(g, node)
        term.replaced_by = self.refs(g.objects(node, DCTERMS.isReplacedBy))
        sub_of = RDFS.subClassOf if kind == "class" else RDFS.subPropertyOf
        supers = [o for o in g.objects(node, sub_of) if isinstance(o, URIRef)]
        term.supers = self.refs(o for o in supers if o in ours)
        term.subs = self.refs(s for s in g.subjects(sub_of, node) if s in ours)
        aligned = [(sub_of, o) for o in supers if o not in ours]
        aligned += [(p, o) for p in ALIGNMENTS for o in g.objects(node, p) if isinstance(o, URIRef)]
        term.alignments = sorted(((self.ref(p), self.ref(o)) for p, o in aligned),
                                 key=lambda a: (a[0].curie, a[1].curie))
        if kind != "class":
            term.domain = [self.expr(d) for d in g.objects(node, RDFS.domain)]
            term.range = [self.expr(r) for r in g.objects(node, RDFS.range)]
            term.inverse = self.refs([*g.objects(node, OWL.inverseOf),
                                      *g.subjects(OWL.inverseOf, node)])
            term.code_lists = self.refs(g.objects(node, QB.codeList))
        if kind == "other":
            term.components = self._components(node)
        return term

    def _components(self, node: URIRef) -> list[Component]:
        """A Data Cube structure's components, in their stated order."""
        found = []
        for component in self.graph.objects(node, QB.component):
            for role in ("dimension", "measure", "attribute", "componentProperty"):
                prop = self.graph.value(component, QB[role])
                if prop is not None:
                    order = self.graph.value(component, QB.order)
                    required = self.graph.value(component, QB.componentRequired)
                    found.append(Component(role, self.ref(prop), str(order or ""),
                                           "" if required is None else str(required)))
        return sorted(found, key=lambda c: (c.order == "", c.order.zfill(4), c.role,
                                            c.prop.curie if c.prop else ""))

    def _link_classes(self) -> None:
        """Each class's properties: those with it as domain, as range, and inherited."""
        for term in self.terms.values():
            if term.kind == "class" or term.kind == "other":
                continue
            usage = {"deprecated": term.deprecated, "kind": term.kind, "prop": term.ref}
            for expr in term.domain:
                for member in expr.members:
                    if member.iri in self.terms and self.terms[member.iri].kind == "class":
                        self.terms[member.iri].outgoing.append(
                            Usage(exprs=tuple(term.range), **usage))
            for expr in term.range:
                for member in expr.members:
                    if member.iri in self.terms and self.terms[member.iri].kind == "class":
                        self.terms[member.iri].incoming.append(
                            Usage(exprs=tuple(term.domain), **usage))
        order = {"object": 0, "datatype": 1}
        for term in self.terms.values():
            for usages in (term.outgoing, term.incoming):
                usages.sort(key=lambda u: (order.get(u.kind, 2), u.prop.curie.casefold()))
        for term in self.terms.values():
            if term.kind == "class":
                term.inherited = [(self.terms[a].ref, self.terms[a].outgoing)
                                  for a in self.ancestors(term.ref.iri)
                                  if self.terms[a].outgoing]

    def ancestors(self, iri: str) -> list[str]:
        """The ontology's own superclasses of a class, nearest first, each once."""
        seen: list[str] = []
        frontier = [s.iri for s in self.terms[iri].supers]
        while frontier:
            nxt = frontier.pop(0)
            if nxt not in seen and nxt != iri and nxt in self.terms:
                seen.append(nxt)
                frontier.extend(s.iri for s in self.terms[nxt].supers)
        return seen

    def is_concept_class(self, node: URIRef) -> bool:
        """Whether every member of the class is a SKOS concept (one class per vocabulary)."""
        return SKOS.Concept in self.graph.transitive_objects(node, RDFS.subClassOf)

    def _groups(self) -> list[Group]:
        def group_of(term: Term) -> str:
            if term.kind == "class":
                return "concept-classes" if self.is_concept_class(URIRef(term.ref.iri)) \
                    else "classes"
            return {"object": "object-properties", "datatype": "datatype-properties",
                    "annotation": "annotation-properties", "property": "properties"}.get(
                        term.kind, "other-terms")

        for term in self.terms.values():
            term.group = group_of(term)
        groups = []
        for group_id, title, intro in GROUPS:
            terms = sorted((t for t in self.terms.values() if t.group == group_id),
                           key=lambda t: t.anchor.casefold())
            if terms:
                groups.append(Group(group_id, title, intro, tuple(terms)))
        return groups

    def _meta(self) -> OntologyMeta:
        g, node = self.graph, self.iri
        change_notes = [self.prose(text) for text in _texts(g, node, SKOS.changeNote)]
        return OntologyMeta(
            iri=str(node),
            title=_text(g, node, (DCTERMS.title, RDFS.label)) or curie(str(node)),
            description=[p for text in _texts(g, node, DCTERMS.description)
                         for p in self.prose(text)],
            version=_text(g, node, (OWL.versionInfo,)) or "",
            version_iri=str(g.value(node, OWL.versionIRI) or node),
            prior_versions=self.refs(g.objects(node, OWL.priorVersion)),
            created=_text(g, node, (DCTERMS.created,)) or "",
            modified=_text(g, node, (DCTERMS.modified,)) or "",
            licences=[Ref(r.iri, r.curie, LICENCES.get(r.iri, r.label))
                      for r in self.refs(g.objects(node, DCTERMS.license))],
            creators=self.refs(g.objects(node, DCTERMS.creator)),
            publishers=self.refs(g.objects(node, DCTERMS.publisher)),
            prefix=_text(g, node, (VANN.preferredNamespacePrefix,)) or "",
            namespace=_text(g, node, (VANN.preferredNamespaceUri,)) or NAMESPACE,
            change_notes=sorted(change_notes, key=_version_key, reverse=True),
            see_also=self.refs(g.objects(node, RDFS.seeAlso)),
        )

    def _overview(self) -> Diagram | None:
        """The overview diagram: the classes that are not concept classes, the object
        properties between them and their subclass links. Properties to concepts are left to
        each class's own diagram, or the picture would be a hairball."""
        classes = [t for t in self.terms.values() if t.group == "classes"]
        links = [(d.iri, t.ref.short, r.iri) for t in self.terms.values() if t.kind == "object"
                 for d in _members(t.domain) for r in _members(t.range)]
        return overview_diagram({t.ref.iri: t.ref.short for t in classes}, links,
                                [(t.ref.iri, s.iri) for t in classes for s in t.supers])

    def term(self, iri: str) -> Term | None:
        return self.terms.get(iri)

    def jsonld(self, canonical: str) -> dict:
        """schema.org for search engines: the ontology as a set of defined terms."""
        meta = self.meta
        return {
            "@context": "https://schema.org/",
            "@type": "DefinedTermSet",
            "@id": meta.iri,
            "url": canonical,
            "name": meta.title,
            "description": plain(meta.description),
            "version": meta.version,
            "inLanguage": "en",
            "dateCreated": meta.created or None,
            "dateModified": meta.modified or None,
            "license": [r.iri for r in meta.licences],
            "creator": [{"@id": r.iri, "@type": "Organization", "name": r.label}
                        for r in meta.creators],
            "publisher": [{"@id": r.iri, "@type": "Organization", "name": r.label}
                          for r in meta.publishers],
            "hasDefinedTerm": [term_jsonld(t) for g in self.groups for t in g.terms],
        }


def _version_key(paragraphs: list[Prose]) -> tuple[int, ...]:
    """Change notes start with their version ("2.0.0 (2026-12-01): …"): newest first."""
    head = plain(paragraphs[:1])
    match = re.match(r"\s*(\d+(?:\.\d+)*)", head)
    return tuple(int(n) for n in match.group(1).split(".")) if match else ()


def prose(text: str, lookup: Callable[[str], Ref | None]) -> list[Prose]:
    """Paragraphs (one per line of the literal) with each ``pb:term`` mention that names a
    term made a link; everything else stays text, for Jinja to escape."""
    paragraphs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        segments: list[Segment] = []
        at = 0
        for match in MENTION.finditer(line):
            ref = lookup(match.group(1))
            if ref is None:
                continue
            if match.start() > at:
                segments.append(Segment(line[at:match.start()]))
            segments.append(Segment(match.group(0), ref))
            at = match.end()
        if at < len(line):
            segments.append(Segment(line[at:]))
        paragraphs.append(tuple(segments))
    return paragraphs


def plain(paragraphs: Iterable[Prose]) -> str:
    return "\n".join("".join(s.text for s in p) for p in paragraphs)


def term_jsonld(term: Term) -> dict:
    return {
        "@type": "DefinedTerm",
        "@id": term.ref.iri,
        "url": term.ref.iri,
        "name": term.label,
        "termCode": term.ref.curie,
        "description": plain(term.definitions or term.comments) or None,
    }


def _members(exprs: Iterable[ClassExpr]) -> list[Ref]:
    """The classes of a domain or range (of every class expression in it)."""
    return [m for e in exprs for m in e.members]


def _rows(usages: list[Usage]) -> list[Row]:
    """A class's properties as the rows of its diagram: one for each class at a property's
    other end, or one with no class when no domain or range is stated."""
    return [Row(u.prop.short, m.short if m is not None else None,
                ours=m is not None and bool(m.anchor), literal=u.kind == "datatype",
                deprecated=u.deprecated)
            for u in usages for m in (_members(u.exprs) or [None])]


# -- Vocabularies ---------------------------------------------------------------------------------

@dataclass
class ConceptNode:
    ref: Ref
    notations: list[str]
    other_labels: list[tuple[str, str]]  # (text, language): alternative and translated labels
    deprecated: bool
    children: list[ConceptNode] = field(default_factory=list)


@dataclass
class Scheme:
    ref: Ref
    id: str
    definitions: list[Prose]
    licences: list[Ref]
    count: int
    tops: list[ConceptNode]
    unplaced: list[ConceptNode]


def schemes(graph: Graph, lookup: Callable[[str], Ref | None]) -> list[Scheme]:
    """Every concept scheme in ``graph`` with its concept tree, by label."""
    found = [_scheme(graph, s, lookup) for s in set(graph.subjects(RDF.type, SKOS.ConceptScheme))
             if isinstance(s, URIRef)]
    return sorted(found, key=lambda s: s.ref.label.casefold())


def _scheme(graph: Graph, scheme: URIRef, lookup: Callable[[str], Ref | None]) -> Scheme:
    """One scheme and its tree: from the top concepts down skos:narrower (and up
    skos:broader), within the scheme; a concept no path reaches is listed as unplaced."""
    members = {c for c in graph.subjects(SKOS.inScheme, scheme) if isinstance(c, URIRef)}
    tops = {c for c in [*graph.objects(scheme, SKOS.hasTopConcept),
                        *graph.subjects(SKOS.topConceptOf, scheme)] if isinstance(c, URIRef)}
    members |= tops
    children: dict[Node, set[Node]] = {}
    for c in members:
        for narrower in graph.objects(c, SKOS.narrower):
            children.setdefault(c, set()).add(narrower)
        for broader in graph.objects(c, SKOS.broader):
            children.setdefault(broader, set()).add(c)
    if not tops:
        tops = {c for c in members if not any(b in members for b in graph.objects(c, SKOS.broader))}
    placed: set[Node] = set()

    def node(c: Node, path: frozenset) -> ConceptNode:
        placed.add(c)
        kids = [k for k in children.get(c, ()) if k in members and k not in path]
        return ConceptNode(
            ref=_concept_ref(graph, c),
            notations=_texts(graph, c, SKOS.notation),
            other_labels=_other_labels(graph, c),
            deprecated=_deprecated(graph, c),
            children=[node(k, path | {k}) for k in _ordered(graph, kids)])

    top_nodes = [node(c, frozenset({c})) for c in _ordered(graph, tops)]
    unplaced = []
    while members - placed:
        first = _ordered(graph, members - placed)[0]
        unplaced.append(node(first, frozenset({first})))
    slug = re.sub(r"[^A-Za-z0-9_-]", "-", str(scheme).rstrip("/").rsplit("/")[-1])
    return Scheme(
        ref=Ref(str(scheme), curie(str(scheme)),
                _text(graph, scheme, (SKOS.prefLabel, DCTERMS.title, RDFS.label)) or str(scheme)),
        id="scheme-" + slug,
        definitions=[p for t in _texts(graph, scheme, SKOS.definition) for p in prose(t, lookup)],
        licences=[Ref(str(lic), curie(str(lic)), LICENCES.get(str(lic), str(lic)))
                  for lic in sorted(graph.objects(scheme, DCTERMS.license))],
        count=len(members), tops=top_nodes, unplaced=unplaced)


def _deprecated(graph: Graph, node: Node) -> bool:
    return any(v.toPython() is True for v in graph.objects(node, OWL.deprecated)
               if isinstance(v, Literal))


def _concept_ref(graph: Graph, concept: Node) -> Ref:
    iri = str(concept)
    return Ref(iri, curie(iri), _text(graph, concept, (SKOS.prefLabel, RDFS.label)) or iri)


def _other_labels(graph: Graph, concept: Node) -> list[tuple[str, str]]:
    main = _text(graph, concept, (SKOS.prefLabel,))
    labels = [(str(v), v.language or "") for v in sorted(graph.objects(concept, SKOS.prefLabel))
              if isinstance(v, Literal) and str(v) != main]
    labels += [(str(v), v.language or "") for v in sorted(graph.objects(concept, SKOS.altLabel))
               if isinstance(v, Literal)]
    return labels


def _ordered(graph: Graph, concepts: Iterable[Node]) -> list[Node]:
    """Concepts by their ``pb:order`` where a scheme has one, then by label."""
    def key(c: Node) -> tuple:
        order = graph.value(c, PB.order)
        number = order.toPython() if isinstance(order, Literal) else None
        return (not isinstance(number, int), number if isinstance(number, int) else 0,
                (_text(graph, c, (SKOS.prefLabel,)) or str(c)).casefold())
    return sorted(concepts, key=key)


def vocabularies_jsonld(found: list[Scheme]) -> dict:
    return {
        "@context": "https://schema.org/",
        "@graph": [{
            "@type": "DefinedTermSet",
            "@id": s.ref.iri,
            "url": s.ref.iri,
            "name": s.ref.label,
            "description": plain(s.definitions) or None,
            "license": [r.iri for r in s.licences],
            "hasDefinedTerm": [{"@type": "DefinedTerm", "@id": c.ref.iri, "name": c.ref.label,
                                "termCode": c.notations[0] if c.notations else None}
                               for c in _walk(s.tops + s.unplaced)],
        } for s in found],
    }


def _walk(nodes: list[ConceptNode]) -> Iterable[ConceptNode]:
    for n in nodes:
        yield n
        yield from _walk(n.children)


# -- The cached sources and the public API ------------------------------------------------

@lru_cache(maxsize=1)
def ontology_graph() -> Graph:
    """The bundled ontology, parsed once."""
    return Graph().parse(data=ONTOLOGY.read_bytes(), format="turtle")


@lru_cache(maxsize=1)
def vocabularies_graph() -> Graph:
    """The bundled concept schemes, parsed once."""
    return Graph().parse(data=VOCABULARIES.read_bytes(), format="turtle")


@lru_cache(maxsize=1)
def ontology_docs() -> OntologyDocs:
    """The documentation records of the bundled ontology, built once."""
    return OntologyDocs(ontology_graph())


@lru_cache(maxsize=1)
def vocabulary_schemes() -> tuple[Scheme, ...]:
    """The concept schemes of the bundled vocabularies file, built once."""
    docs = ontology_docs()
    return tuple(schemes(vocabularies_graph(),
                         lambda local: docs.ref(PB[local]) if PB[local] in docs.kinds else None))


def ontology_versions() -> list[str]:
    """The versions served: only the current one (older versions are not bundled)."""
    version = ontology_docs().meta.version
    return [version] if version else []


def term_iris() -> list[str]:
    """Every term the ontology defines, for a sitemap."""
    return sorted(ontology_docs().terms)


def is_term(iri: str) -> bool:
    """Whether ``iri`` is a class, property or other term of the ontology."""
    return iri in ontology_docs().terms


def alternates(iri: str) -> list[dict[str, str]]:
    """The other forms of the page about ``iri``, on this server: its IRI plus an extension."""
    base = link_for(iri).rstrip("/")
    return [{"media_type": by_name(name).media_type, "href": f"{base}.{extension}",
             "name": extension.upper()}
            for extension, name in ALTERNATES]


def _without_nulls(data: object) -> object:
    """JSON-LD without the keys whose value is unknown (None), at any depth."""
    if isinstance(data, dict):
        return {k: _without_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_without_nulls(v) for v in data]
    return data


def render_ontology(version: str | None = None, *, docs: OntologyDocs | None = None
                    ) -> str | None:
    """The whole documentation: for ``/def`` (``version`` None) or ``/def/{version}/``.

    None for a version that is not served, which the caller answers with 404."""
    docs = docs or ontology_docs()
    if version is not None and version != docs.meta.version:
        return None
    canonical = docs.meta.version_iri if version is not None else docs.meta.iri
    return render_template("ontology.html", docs=docs, meta=docs.meta, version_page=version,
                           canonical=canonical, alternates=alternates(canonical),
                           jsonld=_without_nulls(docs.jsonld(canonical)), in_page=True)


def render_term(iri: str, *, docs: OntologyDocs | None = None) -> str | None:
    """The page of one term (``/def/Practice``), or None when ``iri`` is not one."""
    docs = docs or ontology_docs()
    term = docs.term(iri)
    if term is None:
        return None
    jsonld = {"@context": "https://schema.org/", **term_jsonld(term),
              "inDefinedTermSet": {"@type": "DefinedTermSet", "@id": docs.meta.iri,
                                   "name": docs.meta.title}}
    return render_template("term.html", docs=docs, meta=docs.meta, term=term,
                           canonical=term.ref.iri, alternates=alternates(term.ref.iri),
                           jsonld=_without_nulls(jsonld), in_page=False)


def render_vocabularies(*, found: Iterable[Scheme] | None = None) -> str:
    """The index of the concept schemes the vocabularies file defines (``/concept/``)."""
    listed = list(vocabulary_schemes() if found is None else found)
    return render_template("vocabularies.html", schemes=listed, canonical=VOCABULARIES_IRI,
                           total=sum(s.count for s in listed),
                           jsonld=_without_nulls(vocabularies_jsonld(listed)), in_page=False)
