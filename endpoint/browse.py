"""Faceted browsing of practices at /practices, mirroring the practice bank's filters.

``/practices`` is a plain HTML form (GET, no script): one URL parameter per facet, repeated
for several values (``?rating=promising&rating=worked&topic=burglary``), ``q`` for text,
``sort``, ``page`` and ``size``; every value shows how many practices it would leave. The
same parameters on ``/practices.csv`` and ``/practices.json`` download the whole selection,
streamed. Each view also shows the SPARQL query that gives the same list
(:func:`facets.as_sparql`), linked to the query editor and to /sparql.

Parameters the page does not know are ignored (as tracking tags added by mail clients and
social sites are), but a known parameter with a value it cannot use is refused with a 400
and a sentence saying what is allowed: a silently ignored filter would show a wrong list.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context

from . import errors, facets
from .csv_cells import safe_row
from .description_source import source
from .html_results import linkable
from .params import whole_number
from .per_commit import PerCommit
from .site_links import link_for

try:  # the text index is another part of the workbench; until it is there, q is refused
    from . import text_index
except ImportError:  # pragma: no cover - depends on what is installed
    text_index = None

bp = Blueprint("browse", __name__)

PAGE_SIZES = (20, 50, 100)
#: Deepest result a page may show: past it, the downloads give the whole list.
MAX_OFFSET = 10_000
MAX_TEXT = 200  # characters of q
#: Text searches whose practices are kept as a bitmap (per commit's index).
TEXT_CACHE = 64
CSV_COLUMNS = ("practice", "title", "rating", "force", "region", "start_date", "page")


@dataclass(frozen=True)
class View:
    """A request to /practices, checked: facet parameter -> slugs, text, order, page."""

    chosen: dict[str, list[str]]
    text: str | None
    sort: str
    page: int
    size: int
    root: str = ""  # the app's script root (behind a proxy that mounts it under a path)

    def params(self, **changes) -> list[tuple[str, str]]:
        """This view's URL parameters with ``changes`` (a facet parameter to a list of
        slugs, or q, sort, page, size; None drops one), in a stable order."""
        chosen = {**self.chosen, **{k: v for k, v in changes.items() if k in facets.BY_PARAM}}
        out = [("q", changes.get("q", self.text))]
        out += [(f.param, slug) for f in facets.FACETS for slug in chosen.get(f.param) or ()]
        out += [("sort", changes.get("sort", self.sort)),
                ("size", changes.get("size", self.size)),
                ("page", changes.get("page", self.page))]
        defaults = {"sort": "title", "size": PAGE_SIZES[0], "page": 1}
        return [(k, str(v)) for k, v in out if v not in (None, "") and defaults.get(k) != v]

    def url(self, path: str = "/practices", **changes) -> str:
        query = urllib.parse.urlencode(self.params(**changes))
        return self.root + path + ("?" + query if query else "")


def facet_index() -> facets.FacetIndex:
    """The index of the committed store, built once per commit (per app)."""
    cache = current_app.extensions.setdefault("browse.index", PerCommit())
    return cache.get("practices", lambda: facets.build(source()))


def parse(args, index: facets.FacetIndex) -> View:
    """The view ``args`` asks for, or a 400 saying which value is wrong."""
    chosen: dict[str, list[str]] = {}
    for facet in facets.FACETS:
        slugs: list[str] = []
        for text in args.getlist(facet.param):
            slug = facets.resolve(index, facet.param, text.strip())
            if slug is None:
                raise errors.bad_request(
                    f"{facet.param}={shorten(text)} is not a value of {facet.name!r}: use "
                    f"the values /practices lists (e.g. {example(index, facet.param)})")
            if slug not in slugs:
                slugs.append(slug)
        if slugs:
            chosen[facet.param] = slugs
    text = (args.get("q") or "").strip() or None
    if text is not None and len(text) > MAX_TEXT:
        raise errors.bad_request(f"q is {len(text)} characters long: at most {MAX_TEXT}")
    sort = args.get("sort", "title")
    if sort not in facets.SORTS:
        raise errors.bad_request(f"sort={shorten(sort)}: use one of {', '.join(facets.SORTS)}")
    size = whole(args, "size", PAGE_SIZES[0])
    if size not in PAGE_SIZES:
        raise errors.bad_request(f"size={size}: use {', '.join(map(str, PAGE_SIZES))}")
    page = whole(args, "page", 1)
    if page < 1 or (page - 1) * size > MAX_OFFSET:
        raise errors.bad_request(
            f"page={page}: pages run from 1 to {MAX_OFFSET // size + 1} at size {size}; "
            "download the whole list as CSV or JSON instead")
    return View(chosen, text, sort, page, size, request.script_root)


def whole(args, name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    number = whole_number(raw)
    if number is None or len(raw) > 6:
        raise errors.bad_request(f"{name}={shorten(raw)} is not a whole number")
    return number


def shorten(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def example(index: facets.FacetIndex, param: str) -> str:
    return ", ".join(list(index.values[param])[:3]) or "none yet"


def text_bits(index: facets.FacetIndex, text: str | None) -> int | None:
    """The practices the text search finds, as a bitmap (None: no text search)."""
    if text is None:
        return None
    if text_index is None:
        raise errors.bad_request("text search (q) is not available on this server yet")
    cache = index.text_cache
    if text not in cache:
        try:
            found = text_index.practice_ids(text)
        except ValueError as exc:
            raise errors.bad_request(f"q={shorten(text)}: {exc}") from None
        if len(cache) >= TEXT_CACHE:
            cache.pop(next(iter(cache), None), None)  # the oldest; threads may race here
        cache[text] = index.bits_of(found)
    return cache[text]


def sparql_of(index: facets.FacetIndex, view: View) -> str:
    pattern = None
    if view.text is not None and text_index is not None:
        pattern = text_index.sparql_restriction(view.text, "practice")
    return facets.as_sparql(index, view.chosen, view.sort, view.text, pattern)


def current() -> tuple[facets.FacetIndex, View, facets.Selection]:
    index = facet_index()
    view = parse(request.args, index)
    selection = facets.select(index, view.chosen, text_bits(index, view.text))
    return index, view, selection


# -- the page ----------------------------------------------------------------------------------


@bp.get("/practices")
def practices() -> str:
    index, view, selection = current()
    start = (view.page - 1) * view.size
    rows = [row(index, i) for i in facets.page_of(index, selection.bits, view.sort, start,
                                                  view.size)]
    last_page = max(1, -(-selection.total // view.size))
    query = sparql_of(index, view)
    return render_template(
        "practices.html", view=view, total=selection.total, rows=rows, start=start,
        groups=[group(index, view, selection, f) for f in facets.FACETS],
        active=[(facets.BY_PARAM[p].name, index.values[p][s].label,
                 view.url(**{p: [x for x in slugs if x != s], "page": None}))
                for p, slugs in view.chosen.items() for s in slugs],
        last_page=min(last_page, MAX_OFFSET // view.size + 1),
        sorts=[(s, label) for s, label in SORT_LABELS.items()], sizes=PAGE_SIZES,
        sparql=query, text_available=text_index is not None,
        query_link=view.root + "/query?" + urllib.parse.urlencode({"query": query}),
        sparql_link=view.root + "/sparql?" + urllib.parse.urlencode({"query": query}),
        csv_link=view.url("/practices.csv", page=None, size=None),
        json_link=view.url("/practices.json", page=None, size=None),
        clear_all=view.url(**{f.param: [] for f in facets.FACETS}, q=None, page=None))


SORT_LABELS = {"title": "Title (A to Z)", "date": "Start date (newest first)"}


def group(index: facets.FacetIndex, view: View, selection: facets.Selection,
          facet: facets.Facet) -> dict:
    """One facet as the template shows it: its values as a tree of checkboxes with counts;
    values no practice has are left out unless chosen."""
    chosen = view.chosen.get(facet.param, [])
    values, counts = index.values[facet.param], selection.counts[facet.param]
    ids = itertools.count()  # a value under two broader ones is shown, with its own id, twice

    def node(slug: str, seen: frozenset) -> dict | None:
        v = values[slug]
        if not v.bits and slug not in chosen:
            return None
        kids = [n for k in v.children if k not in seen
                for n in [node(k, seen | {k})] if n is not None]
        return {"slug": slug, "label": v.label, "count": counts[slug],
                "checked": slug in chosen, "children": kids,
                "id": f"f-{facet.param}-{next(ids)}"}

    nodes = [n for s in index.roots[facet.param] for n in [node(s, frozenset({s}))]
             if n is not None]
    return {"name": facet.name, "param": facet.param, "nodes": nodes,
            "chosen": [values[s].label for s in chosen],
            "clear": view.url(**{facet.param: [], "page": None}) if chosen else None}


def row(index: facets.FacetIndex, i: int) -> dict:
    iri = index.practices[i]
    listed = {p: "; ".join(index.of_practice[p][i]) for p in index.of_practice}
    href = link_for(iri) if linkable(iri) else None  # no javascript: links
    return {"iri": iri, "href": href, "title": index.titles[i] or iri,
            "start": index.starts[i] or "", **listed}


# -- downloads ---------------------------------------------------------------------------------


@bp.get("/practices.csv")
def practices_csv() -> Response:
    index, view, selection = current()

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(CSV_COLUMNS)
        for n, i in enumerate(facets.members(index, selection.bits, view.sort), 1):
            r = row(index, i)
            out.writerow(safe_row((r["iri"], index.titles[i] or "", r["rating"], r["force"],
                                   r["region"], r["start"], r["href"])))
            if n % 500 == 0:
                yield flush(buffer)
        yield flush(buffer)

    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="practices.csv"'})


@bp.get("/practices.json")
def practices_json() -> Response:
    index, view, selection = current()
    head = {"total": selection.total, "sort": view.sort, "q": view.text,
            "filters": view.chosen, "counts": selection.counts,
            "sparql": sparql_of(index, view)}

    def parts() -> Iterator[str]:
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "practices": ['
        for n, i in enumerate(facets.members(index, selection.bits, view.sort)):
            r = row(index, i)
            record = {"practice": r["iri"], "title": index.titles[i],
                      "rating": list(index.of_practice["rating"][i]),
                      "force": list(index.of_practice["force"][i]),
                      "region": list(index.of_practice["region"][i]),
                      "start_date": index.starts[i], "page": r["href"]}
            yield ("," if n else "") + json.dumps(record, ensure_ascii=False)
        yield "]}\n"

    return Response(stream_with_context(parts()), mimetype="application/json")


def flush(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
