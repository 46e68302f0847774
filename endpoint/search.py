"""Full-text search (/search) and autocompletion (/complete) from per-commit indexes.

``/search`` is an HTML form and ranked results with no script (``/search.json``, or
``Accept: application/json``, gives the same as JSON); ``/complete`` answers JSON only, for
the query editor's autocompletion. Both JSON answers carry ``Access-Control-Allow-Origin:
*``: they read public data, and a page elsewhere may call them. Every parameter is bounded
and a value that cannot be used is a 400 with a sentence, never a traceback.
"""

from __future__ import annotations

import math

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from practicebank.text_analysis import MAX_QUERY_CHARS, parse_query

from . import completion, errors, text_index
from .params import whole_number

bp = Blueprint("search", __name__)

PAGE_SIZE = 20
MAX_PAGE = 500
#: The ``kind`` values of /search, with how the page names them.
SEARCH_KINDS = {"": "Everything", "practice": "Practices", "organisation": "Organisations"}
COMPLETE_KINDS = ("any", *completion.KINDS)


def _text_param(name: str = "q") -> str:
    text = request.args.get(name, "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise errors.bad_request(f"{name} is longer than {MAX_QUERY_CHARS} characters: "
                                 "search for fewer words.")
    return text


def _int_param(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    number = whole_number(raw)
    if number is None or not low <= number <= high:
        raise errors.bad_request(f"{name} must be a whole number from {low} to {high}.")
    return number


def _choice_param(name: str, allowed: tuple[str, ...] | dict, default: str) -> str:
    raw = request.args.get(name, default)
    if raw not in allowed:
        names = ", ".join(a for a in allowed if a) or "none"
        raise errors.bad_request(f"{name} must be one of: {names}.")
    return raw


def _public_json(body: dict) -> Response:
    response = jsonify(body)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public reads (see module doc)
    return response


@bp.get("/search")
def search() -> Response:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return _search(as_json=best == "application/json")


@bp.get("/search.json")
def search_json() -> Response:
    return _search(as_json=True)


def _search(*, as_json: bool) -> Response:
    text = _text_param()
    page = _int_param("page", 1, 1, MAX_PAGE)
    kind = _choice_param("kind", SEARCH_KINDS, "")
    total, hits, query = 0, [], ()
    if text:
        try:
            query = parse_query(text)
            total, hits = text_index.search(text, limit=PAGE_SIZE,
                                            offset=(page - 1) * PAGE_SIZE, kind=kind or None)
        except ValueError as exc:
            raise errors.bad_request(f"{exc} Type some words to search for.") from None
    if as_json:
        response = _public_json({
            "query": text, "total": total,
            "results": [{"iri": h.iri, "kind": h.kind, "title": h.title,
                         "snippet": h.snippet, "score": h.score} for h in hits]})
        response.vary.add("Accept")
        return response
    pages = min(MAX_PAGE, math.ceil(total / PAGE_SIZE))

    def page_link(number: int) -> str | None:
        if not 1 <= number <= pages:
            return None
        return url_for("search.search", q=text, kind=kind or None,
                       page=number if number > 1 else None)

    results = [(hit, text_index.marked(hit.snippet, query)) for hit in hits]
    response = Response(render_template(
        "search.html", text=text, kind=kind, kinds=SEARCH_KINDS, total=total, page=page,
        pages=pages, results=results, first=(page - 1) * PAGE_SIZE,
        previous_page=page_link(page - 1), next_page=page_link(page + 1),
        json_link=url_for("search.search_json", q=text or None,
                          kind=kind or None, page=page if page > 1 else None),
        style=url_for("static", filename="search.css")))
    response.vary.add("Accept")
    return response


@bp.get("/complete")
def complete() -> Response:
    text = _text_param()
    kind = _choice_param("kind", COMPLETE_KINDS, "any")
    limit = _int_param("limit", 10, 1, completion.MAX_LIMIT)
    found = completion.complete(text, kind=kind, limit=limit) if text else []
    return _public_json({"query": text, "results": [term.as_json() for term in found]})
