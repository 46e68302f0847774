"""History: what each load changed in its graph, kept as a changeset beside its provenance.

A load that replaces a graph commits only the difference (triples removed, triples added);
this module writes that difference down, in ``graph/provenance`` with the load's PROV-O
record and in the same transaction, using the Changeset vocabulary
(http://purl.org/vocab/changeset/schema#, the representation DBpedia Live and the Talis
platform publish changes in): a ``cs:ChangeSet`` whose ``cs:subjectOfChange`` is the graph,
made by the load (``prov:wasGeneratedBy``), dated ``cs:createdDate``, with one
``cs:removal`` and one ``cs:addition`` per triple, each an ``rdf:Statement`` (reification,
so the old triples are described, never asserted: the union of the graphs still says only
what is true now). The statements are not typed ``rdf:Statement``: the vocabulary's range
says so, and the type would be a fifth triple for every triple changed.

A load into a graph that held nothing (its first, or after the graph was dropped) adds the
whole file; listing it would copy the graph into the provenance, so its changeset says
``pb:fromEmptyGraph true`` and lists nothing: what the graph held just after it is what it
holds now, less what later loads added and plus what they removed. So, for a date D:

* **the graph as it was on D** is every triple it holds now that no changeset after D
  added, and every triple a changeset after D removed that no changeset between D and that
  one added (``endpoint/queries``' history examples, and ``docs/model.md``);
* **what changed since D** is the statements of the changesets after D.

The history is data in ``graph/provenance``, so it goes wherever the store's graphs go
(``practicebank export`` writes it, and it comes back with them).
"""

from __future__ import annotations

import pyoxigraph as ox

from .namespaces import GRAPH, PB
from .provenance import LoadRecord, _when, now

CS = "http://purl.org/vocab/changeset/schema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_TYPE = ox.NamedNode(RDF + "type")
_SUBJECT, _PREDICATE, _OBJECT = (ox.NamedNode(RDF + p) for p in ("subject", "predicate", "object"))
_TRUE = ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))


def changeset_iri(activity: str) -> str:
    return f"{activity}/changes"


def changeset_ntriples(record: LoadRecord, *, added: bytes, removed: bytes,
                       from_empty: bool) -> str:
    """The changeset of ``record``'s load as N-Triples: the triples it ``added`` and
    ``removed`` (N-Triples), or, when the graph held nothing before (``from_empty``), only
    that fact."""
    changes = ox.NamedNode(changeset_iri(record.activity))
    triples = [
        ox.Triple(changes, _TYPE, ox.NamedNode(CS + "ChangeSet")),
        ox.Triple(changes, ox.NamedNode(CS + "subjectOfChange"),
                  ox.NamedNode(str(GRAPH[record.graph]))),
        ox.Triple(changes, ox.NamedNode(CS + "createdDate"), _when(now())),
        ox.Triple(changes, ox.NamedNode(CS + "changeReason"),
                  ox.Literal(f"load of {record.filename}", language="en")),
        ox.Triple(changes, ox.NamedNode("http://www.w3.org/ns/prov#wasGeneratedBy"),
                  ox.NamedNode(record.activity)),
    ]
    if from_empty:
        triples.append(ox.Triple(changes, ox.NamedNode(f"{PB}fromEmptyGraph"), _TRUE))
    else:
        triples += _statements(changes, "removal", removed)
        triples += _statements(changes, "addition", added)
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")


def _statements(changes: ox.NamedNode, kind: str, ntriples: bytes) -> list[ox.Triple]:
    """``cs:{kind}`` statements for each triple of ``ntriples``, named under the changeset
    (``…/changes/removal/1``) so that a later load can name them too."""
    out = []
    link = ox.NamedNode(CS + kind)
    if not ntriples:
        return out
    for n, triple in enumerate(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES), 1):
        statement = ox.NamedNode(f"{changes.value}/{kind}/{n}")
        out += [ox.Triple(changes, link, statement),  # an rdf:Statement by cs:addition's range
                ox.Triple(statement, _SUBJECT, triple.subject),
                ox.Triple(statement, _PREDICATE, triple.predicate),
                ox.Triple(statement, _OBJECT, triple.object)]
    return out
