"""Server-rendered charts (/charts) and the evidence comparison (/compare).

Routes:

- ``GET /charts``: every chart of :data:`.chart_queries.CHARTS`, each an accessible SVG
  followed by its table, its query (with links to run it) and its downloads;
- ``GET /charts/<name>.csv`` and ``.json``: one chart's numbers (404 for an unknown name);
- ``GET /charts/force/<slug>``: a force's recorded crime by month with its practices' start
  months marked (404 for an unknown force);
- ``GET /compare``: the topics and intervention types there is something to compare for;
  ``?topic=<slug>`` or ``?intervention=<slug>``: the comparison (404 for an unknown slug,
  400 for a malformed or doubled parameter).

Chart numbers are the answer of the chart's own SPARQL query on the committed store,
computed once per commit (:class:`.per_commit.PerCommit`), so the query
shown under a chart gives exactly what it draws.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request
from markupsafe import Markup

from practicebank.namespaces import BASE

from . import compare as comparison
from .chart_queries import BY_NAME, CHARTS, ChartSpec
from .crime_trend import crime_trend_data, trend_figure
from .csv_cells import safe_record
from .per_commit import PerCommit
from .site_links import link_for
from .svg_charts import Category, ChartData, Series, bar_chart

bp = Blueprint("charts", __name__)

CSV_COLUMNS = ("category", "categoryLabel", "series", "seriesLabel", "count")
#: Chart numbers, per chart name, rebuilt once per committed write.
DATA: PerCommit[ChartData] = PerCommit()


def chart_data(spec: ChartSpec) -> ChartData:
    """The chart's numbers: its query's answer on the committed store."""
    return DATA.get(spec.name, lambda: build_data(spec))


def build_data(spec: ChartSpec) -> ChartData:
    data = ChartData()
    categories: dict[str, Category] = {}
    series: dict[str, Series] = {}
    category_var, category_label = spec.category
    for row in comparison.run(spec.query):
        key = row[category_var] or ""
        if key not in categories:
            label = row[category_label] or key
            href = link_for(key) if key.startswith(("http://", "https://")) else None
            categories[key] = Category(key, label, href)
        if spec.series is None:
            s_key, s_label = "", spec.series_label
        else:
            s_key = row[spec.series[0]] or ""
            s_label = row[spec.series[1]] or s_key
        series.setdefault(s_key, Series(s_key, s_label))  # first seen: the query's order
        count = int(row[spec.value] or 0)
        data.counts[(key, s_key)] = data.counts.get((key, s_key), 0) + count
    data.series = list(series.values())
    if spec.series_by_label:
        data.series.sort(key=lambda s: s.label.lower())
    data.categories = list(categories.values())
    if spec.order == "total":
        data.categories.sort(key=lambda c: (-data.total(c.key), c.label.lower()))
    else:
        data.categories.sort(key=lambda c: c.key)
    return data


def query_links(query: str) -> dict[str, str]:
    """Where to run a query: the query editor and the protocol endpoint (CSV and HTML)."""
    root = request.script_root
    return {"editor": f"{root}/query?{urlencode({'query': query})}",
            "csv": f"{root}/sparql?{urlencode({'query': query, 'format': 'csv'})}",
            "html": f"{root}/sparql?{urlencode({'query': query, 'format': 'html'})}"}


@dataclass
class ShownChart:
    spec: ChartSpec
    data: ChartData
    svg: Markup
    links: dict[str, str]


def shown(spec: ChartSpec) -> ShownChart:
    data = chart_data(spec)
    description = (f"Horizontal bars: {spec.counts}; {len(data.categories)} bars"
                   + (f", segments for {', '.join(s.label for s in data.series)}"
                      if len(data.series) > 1 else "") + ". The table below gives the numbers.")
    svg = Markup(bar_chart(f"chart-{spec.name}", spec.title, description, data))
    return ShownChart(spec, data, svg, query_links(spec.query))


@bp.get("/charts")
def charts_page() -> str:
    return render_template("charts.html", charts=[shown(spec) for spec in CHARTS])


@bp.get("/charts/<name>.<any(csv, json):extension>")
def chart_download(name: str, extension: str) -> Response:
    spec = BY_NAME.get(name)
    if spec is None:
        return Response(f"No chart named {name[:60]!r}; see /charts.\n", 404,
                        content_type="text/plain; charset=utf-8")
    rows = chart_data(spec).rows()
    if extension == "json":
        body = json.dumps({"chart": spec.name, "title": spec.title, "counts": spec.counts,
                           "query": spec.query, "rows": rows}, ensure_ascii=False, indent=1)
        return Response(body, content_type="application/json")
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(safe_record(r) for r in rows)  # no formulas (csv_cells.py)
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{spec.name}.csv"'})


@bp.get("/charts/force/<path:slug>")
def force_trend(slug: str) -> Response | str:
    if not comparison.SLUG.fullmatch(slug):
        return Response("Not a police force's identifier.\n", 404,
                        content_type="text/plain; charset=utf-8")
    iri = BASE + "id/force/" + slug
    rows = comparison.run(comparison.PREFIXES + f"""SELECT ?name WHERE {{
        <{iri}> a pb:PoliceForce ; skos:prefLabel ?name . FILTER (lang(?name) IN ("en", ""))
        }} LIMIT 1""")
    if not rows:
        return Response(f"No police force {slug!r}.\n", 404,
                        content_type="text/plain; charset=utf-8")
    name = rows[0]["name"]
    trend = crime_trend_data(iri)
    return render_template("force_trend.html", force=name, force_href=link_for(iri), trend=trend,
                           figure=trend_figure(trend, name) if trend else None,
                           links=query_links(trend.query) if trend else None)


def parameter(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        abort(Response(f"Give {name} once.\n", 400, content_type="text/plain; charset=utf-8"))
    return values[0] if values else None


@bp.get("/compare")
def compare_page() -> Response | str:
    topic, intervention = parameter("topic"), parameter("intervention")
    if topic is not None and intervention is not None:
        return Response("Give topic or intervention, not both.\n", 400,
                        content_type="text/plain; charset=utf-8")
    if topic is None and intervention is None:
        subjects = comparison.subjects()
        return render_template("compare.html", comparison=None,
                               topics=[s for s in subjects if s["kind"] == "topic"],
                               interventions=[s for s in subjects
                                              if s["kind"] == "intervention"])
    kind, slug = ("topic", topic) if topic is not None else ("intervention", intervention)
    if len(slug) > 120 or not comparison.SLUG.fullmatch(slug):
        return Response(f"A {kind} is named by its slug (lower-case letters, digits and "
                        "hyphens).\n", 400, content_type="text/plain; charset=utf-8")
    found = comparison.compare(kind, slug)
    if found is None:
        return Response(f"No {kind} {slug!r}; /compare lists them.\n", 404,
                        content_type="text/plain; charset=utf-8")
    return render_template("compare.html", comparison=found,
                           listed=comparison.LISTED_PRACTICES,
                           kind_label=comparison.KINDS[kind][2],
                           crosswalk_links=query_links(comparison.CROSSWALK),
                           crosswalk_query=comparison.CROSSWALK)
