"""The SPARQL 1.1 Protocol update operation, at ``/update`` and as a POST to ``/sparql``.

An update is a write: it needs the bearer token (:func:`~.writes.require_write_access`),
runs in the server process (the store's one writer), and is computed, authorised and
validated before anything is changed (:class:`~.writes.Writer`), so a refused update changes
nothing. ``INSERT DATA``/``DELETE DATA`` are read without running anything; any other update
runs on a copy of the store in a process that is killed at the deadline
(:mod:`.write_plans`).
``using-graph-uri``/``using-named-graph-uri`` become ``USING`` clauses, since
``Store.update`` takes no dataset; combined with ``USING``/``WITH`` in the text they are a
400, as the protocol says. Relative IRIs resolve against the endpoint's URL. ``LOAD`` and
``SERVICE`` obey the same allowlist as queries and go through the server's proxy.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, request

from practicebank.problems import ValidationFailed
from practicebank.sparql_text import add_using, dataset_clauses, query_hash

from .errors import bad_request, internal_error, unsupported_media_type, validation_failed
from .federation import RemotePlan, plan_remote_calls, remote_failure
from .negotiation import FORM_TYPE
from .protocol_request import (
    UPDATE_TYPE,
    graph_params,
    preflight,
    single_param,
    utf8_body,
    warn_refused,
)
from .runtime import get_runtime
from .write_plans import update_changes
from .writes import require_write_access

bp = Blueprint("update", __name__)


@bp.route("/update", methods=["POST", "OPTIONS"])
def update() -> Response:
    """The protocol's update operation."""
    if request.method == "OPTIONS":
        return preflight()
    return handle_update_request()


def handle_update_request() -> Response:
    """Read, authorise, rewrite and apply one update request; 204 when it is kept."""
    admin = require_write_access(request, current_app.config["WRITE_TOKEN"],
                                 current_app.config.get("ADMIN_TOKEN", ""))
    if request.mimetype == UPDATE_TYPE:
        params = request.args
        text = utf8_body(request)
    elif request.mimetype == FORM_TYPE:
        params = request.values
        text = single_param(request.form, "update") or ""
    else:
        raise unsupported_media_type(
            f"An update must be POSTed with Content-Type {UPDATE_TYPE} (the update as the body) "
            f"or {FORM_TYPE} (update=… in the body), not {request.mimetype or 'none'}.")
    if not text.strip():
        raise bad_request("No update was given.", kind="missing_update")
    g.query_hash = query_hash(text)
    using = graph_params(params, "using-graph-uri") or []
    using_named = graph_params(params, "using-named-graph-uri") or []
    if (using or using_named) and dataset_clauses(text):
        raise bad_request(
            "using-graph-uri/using-named-graph-uri cannot be combined with USING or WITH in "
            "the update itself; use one or the other.", kind="dataset_conflict")
    try:
        text = add_using(text, [n.value for n in using], [n.value for n in using_named])
    except ValueError as exc:
        raise bad_request(f"The update is not valid SPARQL: {exc}.", kind="syntax_error") from exc
    plan = apply_update(text, base_iri=request.base_url, admin=admin)
    response = Response(status=204)
    warn_refused(response, plan)
    return response


def apply_update(text: str, *, base_iri: str | None, admin: bool = False) -> RemotePlan:
    """Apply a SPARQL update as one validated write (raises the 400/403/422/502/504
    errors); ``admin`` when the request carried the admin token. Returns its remote plan
    (which says what SILENT calls were refused)."""
    runtime = get_runtime()
    plan = plan_remote_calls(text, runtime.allowlist, base_iri=base_iri, is_update=True,
                             limits=runtime.limits)
    registration = token = None
    if plan.endpoints:
        token, registration = runtime.proxy.register(
            plan.endpoints, deadline=time.monotonic() + float(current_app.config["QUERY_TIMEOUT"]),
            timeout=float(current_app.config["SERVICE_TIMEOUT"]),
            max_bytes=int(current_app.config["MAX_REMOTE_ANSWER"]))
    final = plan.bind(runtime.proxy.prefix(token)) if token else plan.text

    def changes(deadline):
        return update_changes(runtime.store, final, base_iri=base_iri, deadline=deadline), None

    try:
        runtime.writer.write(changes, admin=admin,
                             admin_configured=bool(current_app.config.get("ADMIN_TOKEN")),
                             timeout=float(current_app.config["QUERY_TIMEOUT"]))
    except SyntaxError as exc:
        raise bad_request(f"The update is not valid SPARQL: {exc}. Fix it at that line:column.",
                          kind="syntax_error") from exc
    except ValidationFailed as failed:
        raise validation_failed(failed.problems) from failed
    except (OSError, RuntimeError, ValueError) as exc:
        remote = remote_failure(registration)
        if remote is not None:
            raise remote from exc
        if isinstance(exc, RuntimeError | ValueError):
            raise bad_request(f"The update could not be applied: {exc}.",
                              kind="evaluation_error") from exc
        current_app.logger.error("Update failed in the store: %s", exc, exc_info=exc)
        raise internal_error() from exc
    finally:
        if token is not None:
            runtime.proxy.unregister(token)
    return plan
