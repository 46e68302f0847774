"""Human-facing pages: the landing page at ``/`` and the ``/health`` probe.

The landing page says what the dataset is and how big it is, leads to everything published
about it (the listings, the vocabularies, the ontology's documentation, the dataset
description, the dumps, the named graphs, the SPARQL endpoint and the sitemap), shows how
to get any resource as data, and hands the visitor a query that works, in a form that
submits straight to ``/sparql``. For machines it carries a schema.org ``Dataset`` (a JSON-LD
data block, which the Content-Security-Policy does not run) and links to the VoID
description and the sitemap in its head. ``/health`` is for load balancers and the serve
test: cheap, JSON, and it proves the store answers.
"""

from __future__ import annotations

import json
import time

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, render_template

from practicebank.formats import of_kind
from practicebank.namespaces import PB, PREFIXES
from practicebank.sparql_client import RemoteError

from . import warm_up
from .descriptions import RDF_TYPE
from .linked_data import source
from .runtime import get_runtime
from .site_links import public_base

bp = Blueprint("pages", __name__)

EXAMPLE_PREFIXES = ("pb", "skos", "dcterms")
EXAMPLE_BODY = """\
SELECT ?title ?rating WHERE {
  ?p a pb:Practice ;
     dcterms:title ?title .
  OPTIONAL { ?p pb:rating/pb:ratingValue/skos:prefLabel ?rating }
}
ORDER BY ?title
LIMIT 10"""


def example_query() -> str:
    """Practices with their "Does it work?" rating label, prefixes from the namespace table."""
    prefixes = "".join(f"PREFIX {name}: <{PREFIXES[name]}>\n" for name in EXAMPLE_PREFIXES)
    return f"{prefixes}\n{EXAMPLE_BODY}\n"


#: The practice the "use the data" examples fetch when the store holds it (the sample
#: data's; docs/publishing.md uses it too).
EXAMPLE_PRACTICE = "id/practice/clear-hold-build"
OGL = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def example_practice() -> str:
    """The path of a practice the store holds, for the examples (two index lookups):
    :data:`EXAMPLE_PRACTICE` if it is there, else the shortest of the first few found."""
    base, src, practice = public_base(), source(), ox.NamedNode(str(PB.Practice))
    if src.quads(ox.NamedNode(base + EXAMPLE_PRACTICE), RDF_TYPE, practice, 1):
        return EXAMPLE_PRACTICE
    found = [q.subject.value[len(base):] for q in src.quads(None, RDF_TYPE, practice, 8)
             if isinstance(q.subject, ox.NamedNode)
             and q.subject.value.startswith(base + "id/practice/")]
    return min(found, key=len, default=EXAMPLE_PRACTICE)


def dataset_jsonld() -> str:
    """The dataset for search engines (schema.org ``Dataset``), as JSON safe inside
    ``<script>``: no ``<``, ``>`` or ``&`` left to end the element early."""
    base = public_base()
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "@id": base + "id/dataset/practicebank",
        "name": "practicebank: UK crime-reduction practice as linked data",
        "description": (
            "A linked-data knowledge graph of UK crime-reduction and community-safety "
            "practice: what was tried, by which police force or organisation, for which "
            "problem, and how well it worked, with the ratings, evaluations and "
            "recognitions behind it."),
        "url": base,
        "sameAs": base + "id/dataset/practicebank",
        "license": OGL,
        "isAccessibleForFree": True,
        "inLanguage": "en-GB",
        "keywords": ["crime reduction", "community safety", "policing", "evidence-based "
                     "practice", "linked data", "SKOS", "SPARQL"],
        "spatialCoverage": {"@type": "Place", "name": "United Kingdom"},
        "creator": {"@type": "Organization",
                    "@id": base + "id/organisation/practicebank-project",
                    "name": "The practicebank project"},
        "distribution": [
            {"@type": "DataDownload", "encodingFormat": "application/n-quads",
             "contentUrl": base + "dumps/practicebank-latest.nq.gz"},
        ],
    }
    runtime = get_runtime()
    if not runtime.shared:  # a shared store's last change is not known here
        data["dateModified"] = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(runtime.freshness.last_modified))
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@bp.get("/")
def index() -> str:
    """The landing page: what practicebank is, its counts, where everything is, how to
    get the data, and a query to start from."""
    return render_template(
        "index.html",
        stats=get_runtime().headline(),
        example=example_query(),
        formats=of_kind("results"),
        practice=example_practice(),
        jsonld=dataset_jsonld(),
    )


@bp.get("/health")
def health() -> Response:
    """Liveness and readiness: ``{"status": "ok", "ready": r, "warming": w, "triples": N,
    "workers": n, "threads": t, "busy": b}`` (worker processes, their query threads, the
    busy ones; ``warming`` while the start-up builds of :mod:`.warm_up` run).

    The triple count comes from the runtime's cache (a full count of a big store takes a
    while), so a probe stays cheap; "ready" is false until the query workers are up.
    """
    runtime = get_runtime()
    status = runtime.executor.status()
    workers = {key: status[key] for key in ("workers", "threads", "busy")}
    try:
        triples = runtime.stats()["triples"]
    except RemoteError as exc:  # the remote store is down: say so, and that it is not us
        current_app.logger.error("The store does not answer: %s", exc)
        response = jsonify(status="store_unavailable", ready=False,
                           message="The store behind this endpoint does not answer.", **workers)
        response.status_code = 503
        return response
    return jsonify(status="ok", ready=bool(status["ready"]),
                   warming=warm_up.warming(current_app), triples=triples, **workers)
