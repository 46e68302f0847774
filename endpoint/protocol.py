"""The SPARQL 1.1 Protocol at ``/sparql``: one view that routes each request to its handler.

A GET or POST with a query goes to :mod:`.sparql`, an update posted here to :mod:`.update`,
a GET without a query to the service description (:mod:`.service_description`), or, for a
browser (HTML preferred in ``Accept`` and no ``format=``), a 303 to the query editor at
``/query``, and OPTIONS to the CORS preflight. Routing lives here, above the three, so that
none of them imports another to reach it.
"""

from __future__ import annotations

from flask import Blueprint, Request, Response, redirect, request, url_for

from practicebank.formats import of_kind

from .negotiation import HTML, choose_format, requested_format
from .protocol_request import CORS_READ_HEADERS, is_update, no_query, preflight, read_protocol_query
from .service_description import service_description_response
from .sparql import answer_query
from .update import handle_update_request

bp = Blueprint("sparql", __name__)


@bp.route("/sparql", methods=["GET", "HEAD", "POST", "OPTIONS"])
def sparql() -> Response:
    """The protocol's query operation, updates posted here, the service description and the
    CORS preflight."""
    if request.method == "OPTIONS":
        return preflight()
    if is_update(request):
        return handle_update_request()
    asked = read_protocol_query(request)
    if asked.query is None and request.method in ("GET", "HEAD"):
        if wants_the_editor(request):
            return redirect(url_for("workbench.query_editor"), code=303)
        return service_description_response()
    if asked.query is None or not asked.query.strip():
        return no_query()
    return answer_query(asked)


def wants_the_editor(request: Request) -> bool:
    """A person opening /sparql in a browser: ``Accept`` prefers HTML to every RDF format
    of the service description, and no ``format=`` asks for one (``format=html`` still
    shows the description as a table). Nothing acceptable raises the description's 406."""
    if requested_format(request) or not request.accept_mimetypes:
        return False
    return choose_format([*of_kind("rdf"), HTML], accept=request.accept_mimetypes) is HTML


@bp.after_app_request
def public_read(response: Response) -> Response:
    """Protocol answers (errors included) vary with Accept; reads are open to any origin."""
    if request.path.startswith(("/sparql", "/update", "/store")):
        response.vary.add("Accept")
        if request.method in ("GET", "HEAD", "OPTIONS") or request.path == "/sparql":
            response.headers.update(CORS_READ_HEADERS)
    return response
