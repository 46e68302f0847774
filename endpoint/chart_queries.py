"""The charts of /charts, declared as data: each one's SPARQL query and how its answer maps to
bars and segments.

The query is the chart's definition, not a description of it: the page runs it on the
committed store (once per commit) and shows it under the chart, so a researcher who runs it
at /sparql gets exactly the numbers drawn. The practice queries lean on the properties'
domain (pb:topic and pb:organisation are said of practices only) rather than joining
``?practice a pb:Practice``: on 100,000 practices Oxigraph plans that join badly (25 s for
the force count alone, against 0.4 s without it). Queries are written to be read: the same idioms
as the curated queries in endpoint/queries/ (current ratings as in
29-current-rating-and-history.rq, recognitions as in 03-recognised-practices.rq).
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIXES = """PREFIX pb:      <https://w3id.org/practicebank/def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdf:     <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX schema:  <https://schema.org/>
PREFIX skos:    <http://www.w3.org/2004/02/skos/core#>
PREFIX concept: <https://w3id.org/practicebank/concept/>
"""

RATINGS_BY_TOPIC = PREFIXES + """
# Practices per topic and current "Does it work?" rating: the rating of an assessment that
# no other assessment supersedes; practices with none are "Not rated". A practice with
# several topics counts once under each. (pb:topic's domain is pb:Practice, so the subjects
# are practices: joining "?practice a pb:Practice" as well makes the query far slower.)
SELECT ?topic ?topicLabel ?rating ?ratingLabel (COUNT(DISTINCT ?practice) AS ?practices)
WHERE {
  {
    # Rated practices, by their current rating.
    ?practice pb:topic ?topic .
    { ?practice pb:rating ?current } UNION { ?current pb:assessedPractice ?practice }
    ?current pb:ratingValue ?rating .
    ?rating skos:inScheme concept:does-it-work ;
            skos:prefLabel ?ratingLabel ;
            pb:order ?ratingOrder .
    MINUS { ?newer pb:supersedes ?current }
  } UNION {
    # Practices with no current rating.
    ?practice pb:topic ?topic .
    MINUS {
      { ?practice pb:rating ?any } UNION { ?any pb:assessedPractice ?practice }
      ?any pb:ratingValue/skos:inScheme concept:does-it-work .
      MINUS { ?newer pb:supersedes ?any }
    }
    BIND ("Not rated" AS ?ratingLabel)
    BIND (99 AS ?ratingOrder)
  }
  ?topic skos:prefLabel ?topicLabel .
}
GROUP BY ?topic ?topicLabel ?rating ?ratingLabel ?ratingOrder
ORDER BY ?ratingOrder ?topicLabel
"""

PRACTICES_BY_FORCE = PREFIXES + """
# Practices per police force: those whose pb:organisation (lead or co-lead) is the force.
# (pb:organisation's domain is pb:Practice, so its subjects are practices.)
SELECT ?force ?forceName (COUNT(DISTINCT ?practice) AS ?practices)
WHERE {
  ?practice pb:organisation ?force .
  ?force a pb:PoliceForce ;
         skos:prefLabel ?forceName .
  FILTER (lang(?forceName) = "en")  # the Welsh forces have a Welsh name too
}
GROUP BY ?force ?forceName
ORDER BY DESC(?practices) ?forceName
"""

PRACTICES_BY_REGION = PREFIXES + """
# Practices per region: the region of the police force that ran the practice. A practice
# run by forces in two regions counts once in each.
SELECT ?region ?regionLabel (COUNT(DISTINCT ?practice) AS ?practices)
WHERE {
  ?practice pb:organisation ?force .
  ?force a pb:PoliceForce ;
         pb:region ?region .
  ?region skos:prefLabel ?regionLabel .
  FILTER (lang(?regionLabel) IN ("en", ""))
}
GROUP BY ?region ?regionLabel
ORDER BY DESC(?practices) ?regionLabel
"""

RECOGNITIONS_BY_YEAR = PREFIXES + """
# Recognitions per year and source (HMICFRS, smarter-practice review, Tilley award, Police
# STAR Fund). The year is the Tilley award year; else the year of the recognition's own
# date; else the year its STAR Fund round starts (a financial year, April to March); else
# the year of the inspection report; else "not recorded".
SELECT ?year ?source ?sourceLabel (COUNT(DISTINCT ?recognition) AS ?recognitions)
WHERE {
  ?recognition pb:recognitionSource|(rdf:type/^pb:recognitionClass) ?source .
  ?source skos:prefLabel ?sourceLabel .
  OPTIONAL { ?recognition pb:awardYear ?awardYear }
  OPTIONAL { ?recognition dcterms:date ?date }
  OPTIONAL { ?recognition pb:fundingRound/schema:startDate ?roundStart }
  OPTIONAL { ?recognition pb:inspectionReport/dcterms:date ?reportDate }
  BIND (COALESCE(SUBSTR(STR(?awardYear), 1, 4), SUBSTR(STR(?date), 1, 4),
                 SUBSTR(STR(?roundStart), 1, 4), SUBSTR(STR(?reportDate), 1, 4),
                 "not recorded") AS ?year)
}
GROUP BY ?year ?source ?sourceLabel
ORDER BY ?year ?sourceLabel
"""


@dataclass(frozen=True)
class ChartSpec:
    """One chart: its query and which answer columns are the bar, the segment and the
    number. ``series`` None means one series, named ``series_label``; ``order`` is "total"
    (biggest bar first) or "key" (categories in key order, as for years); series come in
    the query's order (ratings by strength) unless ``series_by_label``."""

    name: str
    title: str
    counts: str
    query: str
    category: tuple[str, str]
    value: str
    series: tuple[str, str] | None = None
    series_label: str = ""
    order: str = "total"
    series_by_label: bool = False


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("ratings-by-topic", "Practices by topic and current rating",
              "practices per topic, split by their current “Does it work?” rating",
              RATINGS_BY_TOPIC, ("topic", "topicLabel"), "practices",
              series=("rating", "ratingLabel")),
    ChartSpec("practices-by-force", "Practices by police force",
              "practices per police force that ran them", PRACTICES_BY_FORCE,
              ("force", "forceName"), "practices", series_label="Practices"),
    ChartSpec("practices-by-region", "Practices by region",
              "practices per region of the police force that ran them", PRACTICES_BY_REGION,
              ("region", "regionLabel"), "practices", series_label="Practices"),
    ChartSpec("recognitions-by-year", "Recognitions by year and source",
              "recognitions per year, split by where they came from", RECOGNITIONS_BY_YEAR,
              ("year", "year"), "recognitions", series=("source", "sourceLabel"),
              order="key", series_by_label=True),
)
BY_NAME = {chart.name: chart for chart in CHARTS}
