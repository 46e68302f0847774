"""PROV-O records of loads: what was read, with which shapes, into which graph, and when.

Every load writes one record into ``graph/provenance`` in the same transaction as its data,
so the record is the commit point (:mod:`practicebank.store` relies on it to tell a finished
load from a killed one) and the store never holds data it cannot account for.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import pyoxigraph as ox

from .engines import cached_shapes
from .namespaces import GRAPH, ID, PB
from .version import __version__

_PROV = "http://www.w3.org/ns/prov#"
_DCT = "http://purl.org/dc/terms/"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")


def now() -> datetime:
    """The current time in UTC, to the millisecond (what provenance records): the latest
    load of a graph is the one with the latest end, and two loads ending within one second
    (a quick reload) must not tie, or the older could be taken for the last (and a file
    skipped as unchanged since it). Milliseconds round-trip on every store (Virtuoso keeps
    no finer)."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@lru_cache(maxsize=1)
def shapes_sha256() -> str:
    """A checksum of the shapes, kept with each load: a graph validated with the same
    shapes need only have its changes validated next time."""
    return hashlib.sha256(cached_shapes().serialize(format="nt", encoding="utf-8")).hexdigest()


def shapes_iri() -> str:
    return f"urn:practicebank:shapes:sha256:{shapes_sha256()}"


@dataclass
class LoadRecord:
    """What provenance says about one load, gathered as the load goes."""

    graph: str                     # the short name of the graph loaded
    filename: str
    digest: str                    # SHA-256 of the bytes read
    reader: str = ""
    source_url: str | None = None
    licence: str | None = None
    started: datetime = field(default_factory=now)
    activity: str = field(default_factory=lambda: f"{ID}load/{uuid.uuid4()}")

    def ntriples(self, *, added: int, removed: int) -> str:
        """The record as N-Triples for ``graph/provenance``: the activity, the source file
        it used (name, SHA-256, where it came from, its licence), the shapes it was
        validated with, the graph it generated, the software, times and counts."""
        activity, target = ox.NamedNode(self.activity), ox.NamedNode(str(GRAPH[self.graph]))
        source = ox.NamedNode(f"urn:sha256:{self.digest}")
        agent = ox.NamedNode(f"{ID}software/practicebank/{__version__}")
        prov, dct = _namespace(_PROV), _namespace(_DCT)
        pb = _namespace(str(PB))
        triples = [
            (activity, _RDF_TYPE, pb("Load")),
            (activity, _RDF_TYPE, prov("Activity")),
            (activity, _LABEL, ox.Literal(f"Load of {self.filename} into graph/{self.graph}",
                                          language="en")),
            (activity, prov("used"), source),
            (activity, pb("targetGraph"), target),
            (activity, prov("generated"), target),
            (activity, prov("startedAtTime"), _when(self.started)),
            (activity, prov("endedAtTime"), _when(now())),
            (activity, pb("triplesAdded"), ox.Literal(str(added), datatype=_INTEGER)),
            (activity, pb("triplesRemoved"), ox.Literal(str(removed), datatype=_INTEGER)),
            (activity, prov("wasAssociatedWith"), agent),
            (activity, dct("description"), ox.Literal(f"reader: {self.reader}")),
            (activity, dct("conformsTo"), ox.NamedNode(shapes_iri())),
            (target, prov("wasGeneratedBy"), activity),
            (source, _RDF_TYPE, pb("SourceFile")),
            (source, _RDF_TYPE, prov("Entity")),
            (source, dct("title"), ox.Literal(self.filename)),
            (source, pb("sha256"), ox.Literal(self.digest)),
            (agent, _RDF_TYPE, prov("SoftwareAgent")),
            (agent, _LABEL, ox.Literal(f"practicebank {__version__}")),
        ]
        if self.source_url:
            triples += [(source, dct("source"), ox.NamedNode(self.source_url)),
                        (source, prov("atLocation"), ox.NamedNode(self.source_url))]
        if self.licence:
            triples.append((source, dct("license"), ox.NamedNode(self.licence)))
        return ox.serialize((ox.Triple(*t) for t in triples),
                            format=ox.RdfFormat.N_TRIPLES).decode("utf-8")


_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def _namespace(base: str):
    return lambda local: ox.NamedNode(base + local)


def _when(moment: datetime) -> ox.Literal:
    spec = "milliseconds" if moment.microsecond else "seconds"
    return ox.Literal(moment.isoformat(timespec=spec), datatype=_DATETIME)
