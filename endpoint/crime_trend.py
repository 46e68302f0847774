"""A police force's recorded crime by month, drawn as columns with the start months of the
force's practices marked: the chart on a force page, and at /charts/force/<slug>.

Only force-level observations count (``pb:CrimeCountObservation`` without ``pb:lsoa``, as in
endpoint/queries/12-crime-fell-after-start.rq): LSOA-level counts of the same crimes would
count them twice. A start month beside a change in the counts is an association to look
into, not evidence that the practice caused it; the page says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import render_template
from markupsafe import Markup

from .compare import PREFIXES, run
from .per_commit import PerCommit
from .svg_charts import Marker, column_chart

MONTHLY = PREFIXES + """
# Recorded crime per month in one force, from its force-level Data Cube observations.
SELECT ?month (SUM(?count) AS ?crimes)
WHERE {{
  ?observation a pb:CrimeCountObservation ;
               pb:force <{force}> ;
               pb:month ?observed ;
               pb:crimeCount ?count .
  FILTER NOT EXISTS {{ ?observation pb:lsoa ?lsoa }}
  BIND (STR(?observed) AS ?month)
}}
GROUP BY ?month
ORDER BY ?month
"""

STARTS = PREFIXES + """
# The practices the force ran that have a start date naming a month.
SELECT DISTINCT ?practice ?title ?startMonth
WHERE {{
  ?practice a pb:Practice ;
            pb:organisation <{force}> ;
            pb:startDate ?start .
  OPTIONAL {{ ?practice dcterms:title ?title }}
  FILTER (STRLEN(STR(?start)) >= 7)
  BIND (SUBSTR(STR(?start), 1, 7) AS ?startMonth)
}}
ORDER BY ?startMonth ?title
"""


@dataclass
class Start:
    practice: str
    title: str
    month: str


@dataclass
class CrimeTrend:
    force: str
    months: list[tuple[str, int]]
    starts: list[Start]

    @property
    def query(self) -> str:
        return MONTHLY.format(force=self.force)


#: What may stand between ``<`` and ``>`` in a query (SPARQL's IRIREF, and a scheme).
PLAIN_IRI = re.compile(r'https?://[^<>"{}|^`\\\x00-\x20]+')
TRENDS: PerCommit[CrimeTrend | None] = PerCommit()


def crime_trend_data(force_iri: str) -> CrimeTrend | None:
    """Monthly counts and practice starts for the force; None where it has no counts."""
    if not PLAIN_IRI.fullmatch(force_iri):
        return None  # not an IRI a query may hold between <>: never spliced into one
    return TRENDS.get(("trend", force_iri), lambda: build_trend(force_iri))


def build_trend(force_iri: str) -> CrimeTrend | None:
    months = [(r["month"], int(r["crimes"])) for r in run(MONTHLY.format(force=force_iri))
              if r["month"] and r["crimes"]]
    if not months:
        return None
    starts: dict[str, Start] = {}
    for r in run(STARTS.format(force=force_iri)):
        title = r["title"] or r["practice"]
        known = starts.get(r["practice"])
        if known is None or (title, r["startMonth"]) < (known.title, known.month):
            starts[r["practice"]] = Start(r["practice"], title, r["startMonth"])
    ordered = sorted(starts.values(), key=lambda s: (s.month, s.title))
    return CrimeTrend(force_iri, months, ordered)


def trend_svg(trend: CrimeTrend, force_name: str) -> Markup:
    """The chart's markup (labels escaped by :mod:`.svg_charts`)."""
    markers = [Marker(s.month, f"{s.title} started {s.month}") for s in trend.starts]
    first, last = trend.months[0][0], trend.months[-1][0]
    description = (f"Recorded crime per month in {force_name}, {first} to {last}; dashed "
                   f"numbered lines mark the months its practices started.")
    return Markup(column_chart("crime-trend", f"Recorded crime per month: {force_name}",
                               description, trend.months, markers))


def trend_figure(trend: CrimeTrend, force_name: str) -> Markup:
    """The chart in a ``<figure>`` whose caption lists the numbered practice starts."""
    return Markup(render_template("_crime_trend.html", trend=trend, force_name=force_name,
                                  svg=trend_svg(trend, force_name)))


def crime_trend_svg(force_iri: str, force_name: str = "this force") -> Markup | None:
    """The force page's chart: monthly counts with practice starts marked, in a figure whose
    caption names each numbered start; None where the force has no crime counts. A
    fragment: the page it goes in already shows the monthly numbers in a table."""
    trend = crime_trend_data(force_iri)
    return trend_figure(trend, force_name) if trend is not None else None
