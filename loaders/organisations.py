"""Recognise forces and organisations by the names people write.

Practice records name their organisation loosely: "Thames Valley Police (per description)",
"Thames Valley (piloted; …)", "Hampshire & Isle of Wight Constabulary". The index knows every
force's name, its data.police.uk id, its Police Force Area name, the national bodies, and the
aliases in ``data/organisation-aliases.csv``; a name it does not know becomes a new
organisation ``id/organisation/{slug}``.
"""

from __future__ import annotations

import csv
from functools import lru_cache

from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SKOS

from practicebank.namespaces import BASE, ID, PB, slugify
from practicebank.resources import FORCES, ORGANISATIONS, bundle_graph, data_file

from .concepts import clean, normalise


class OrganisationIndex:
    """Known organisations by normalised name."""

    def __init__(self, reference: Graph, aliases: dict[str, str]) -> None:
        self._by_name: dict[str, URIRef] = {}
        for org in set(reference.subjects(SKOS.prefLabel, None)):
            for prop in (SKOS.prefLabel, SKOS.altLabel, PB.policeUkId):
                for name in reference.objects(org, prop):
                    self._add(str(name), org)
            for area in reference.objects(org, PB.policeForceArea):
                for name in reference.objects(area, RDFS.label):
                    self._add(str(name), org)
        for alias, target in aliases.items():
            self._add(alias, URIRef(BASE + target))

    def _add(self, name: str, org: URIRef) -> None:
        self._by_name.setdefault(normalise(name), org)

    def find(self, name: str) -> URIRef | None:
        """The known organisation called ``name`` (annotations stripped), or None."""
        return self._by_name.get(normalise(name)) or self._by_name.get(normalise(clean(name)))

    @staticmethod
    def mint(name: str) -> URIRef:
        """The IRI for an organisation we have not seen before."""
        return ID[f"organisation/{slugify(clean(name))}"]


def bundled_aliases() -> dict[str, str]:
    with data_file("organisation-aliases.csv").open(encoding="utf-8") as f:
        return {row["alias"]: row["organisation"] for row in csv.DictReader(f)}


@lru_cache(maxsize=1)
def bundled_organisations() -> OrganisationIndex:
    """The index over the bundled reference data (built once per process)."""
    return OrganisationIndex(bundle_graph(FORCES, ORGANISATIONS), bundled_aliases())
