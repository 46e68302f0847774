"""The query editor at ``/query`` (YASGUI, vendored) and its named example queries.

``/query`` is a page for people writing SPARQL: YASQE (the editor) and YASR (the results)
from the YASGUI bundle in ``static/yasgui/``, set up by our own ``static/workbench.js``
against this server's ``/sparql``, with our prefixes, the example library
(``endpoint/queries/*.rq``), a share link, downloads and autocompletion from ``/complete``.
Everything it loads comes from this server: the page works offline and behind a proxy.

It is also a plain HTML form that submits to ``/sparql``: without JavaScript (or if the
bundle fails) the same page still runs queries, and ``?query=`` or ``?example=`` fill the
form on the server, so a shared link works for both.

The page needs script, which the site's default Content-Security-Policy forbids; it sets
its own (:data:`CONTENT_SECURITY_POLICY`), allowing script, styles, fonts and requests from
this server only.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from practicebank.namespaces import PREFIXES

from .pages import example_query
from .site_links import local_root, public_base

bp = Blueprint("workbench", __name__)

QUERIES = Path(__file__).resolve().parent / "queries"
#: The comment lines every example starts with, in this order (tests/test_questions.py).
HEADERS = ("title", "question", "description")
#: A ``?query=`` longer than this is refused: the editor is for queries people write, and
#: the page echoes the text back (``/sparql`` takes long queries by POST).
MAX_QUERY_CHARS = 20_000

#: The editor page's own policy (security_headers.py applies the default only where a view
#: set none). Each source is this server ('self'): the vendored bundle and workbench.js
#: (script-src), the queries the editor runs and the lookups of /query/examples.json and
#: /complete (connect-src), the bundle's and our style sheets (style-src). CodeMirror and
#: DataTables size and place elements through ``element.style`` (CSSOM), which 'self'
#: allows, so neither 'unsafe-inline' nor 'unsafe-eval' is needed. The one exception is the
#: table's column resizer in the bundle, which writes two fixed ``<style>`` elements (its
#: grip rules, and a drag cursor): they are allowed by their hashes (:data:`STYLE_HASHES`),
#: which change only with the bundle; the browser tests run the page under this policy and
#: fail on any violation it reports. img-src allows data: for the one image CodeMirror makes
#: (a 1-pixel GIF as the drag image when text is dragged).
STYLE_HASHES = (
    "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='",  # .grip-resizable{…} rules
    "'sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg='",  # *{cursor:col-resize!important}
)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; "
    f"style-src 'self' {' '.join(STYLE_HASHES)}; img-src 'self' data:; font-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Example:
    """One query of the library: its file's name (no ``.rq``), its header lines and the
    query text that follows them."""

    name: str
    title: str
    question: str
    description: str
    query: str


def parse_example(path: Path) -> Example:
    """The example in ``path``, which starts with ``# title:``, ``# question:`` and
    ``# description:`` lines; a file without them is a packaging error, said loudly."""
    lines = path.read_text(encoding="utf-8").splitlines()
    values = []
    for field, line in zip(HEADERS, lines, strict=False):
        match = re.fullmatch(rf"#\s*{field}:\s*(\S.*)", line)
        if match is None:
            raise ValueError(f"{path.name}: line {len(values) + 1} must be '# {field}: …'")
        values.append(match.group(1).strip())
    if len(values) < len(HEADERS):
        raise ValueError(f"{path.name}: must start with # title, # question, # description")
    query = "\n".join(lines[len(HEADERS):]).strip("\n") + "\n"
    return Example(path.stem, *values, query=query)


@functools.cache
def examples() -> tuple[Example, ...]:
    """Every example, by file name: read once per process (the files ship with the code)."""
    return tuple(parse_example(path) for path in sorted(QUERIES.glob("*.rq")))


def example_named(name: str) -> Example | None:
    return next((e for e in examples() if e.name == name), None)


def bad_request(message: str) -> Response:
    return Response(message + "\n", status=400, content_type="text/plain; charset=utf-8")


@bp.get("/query")
def query_editor() -> Response:
    """The editor, opened on ``?query=`` (a shared link), ``?example=`` (a library query)
    or, with neither, the landing page's example."""
    text = request.args.get("query")
    name = request.args.get("example")
    chosen = None
    if text is not None and len(text) > MAX_QUERY_CHARS:
        return bad_request(f"query= is longer than {MAX_QUERY_CHARS} characters: "
                           "send long queries to /sparql by POST.")
    if text is None and name is not None:
        chosen = example_named(name)
        if chosen is None:
            return bad_request(f"example={name[:80]} is not one of the example queries: "
                               f"see {url_for('workbench.example_list')}.")
        text = chosen.query
    page = render_template(
        "query.html",
        query=text if text is not None else example_query(),
        chosen=chosen,
        examples=examples(),
        prefixes=PREFIXES,
        public_base=public_base(),
        local_root=local_root(),
    )
    response = Response(page, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@bp.get("/query/examples.json")
def example_list() -> Response:
    """The example library as JSON, for the editor's list: name, title, question,
    description and query of each, and the editor's URL that opens it."""
    response = jsonify({"examples": [
        {**asdict(e), "url": url_for("workbench.query_editor", example=e.name)}
        for e in examples()
    ]})
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


__all__ = ["bp", "examples", "parse_example", "CONTENT_SECURITY_POLICY"]
