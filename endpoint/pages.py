"""Human-facing pages: the landing page at ``/`` and the ``/health`` probe.

The landing page says what the dataset is, how big it is, and hands the visitor a query
that works, in a form that submits straight to ``/sparql``. ``/health`` is for load
balancers and the serve test: cheap, JSON, and it proves the store answers.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from practicebank.formats import of_kind
from practicebank.namespaces import PREFIXES
from practicebank.sparql_client import RemoteError

from .runtime import get_runtime

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


@bp.get("/")
def index() -> str:
    """The landing page: what practicebank is, its counts, and a query to start from."""
    return render_template(
        "index.html",
        stats=get_runtime().headline(),
        example=example_query(),
        formats=of_kind("results"),
    )


@bp.get("/health")
def health() -> Response:
    """Liveness and readiness: ``{"status": "ok", "ready": r, "triples": N, "workers": n,
    "threads": t, "busy": b}`` (worker processes, their query threads, the busy ones).

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
    return jsonify(status="ok", ready=bool(status["ready"]), triples=triples, **workers)
