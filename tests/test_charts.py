"""Charts (/charts), their downloads, the crime trend of a force and the evidence comparison
(/compare), on the demo store through Flask's test client.

Every expected number is worked out here, independently of endpoint/chart_queries.py: from
small SPARQL queries that list plain facts (practice and topic, practice and force …) and
counts made in Python, so a chart query that joined or grouped wrongly would disagree. The
drawing is checked as XML (one bar per table row, the same numbers in bar, table, CSV and
JSON), and labels that hold markup are checked escaped in a store of their own.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest

from practicebank.endpoint import create_app
from practicebank.endpoint.chart_queries import BY_NAME, CHARTS
from practicebank.endpoint.crime_trend import crime_trend_svg
from practicebank.store import PracticeStore

PB = "https://w3id.org/practicebank/def/"
BASE = "https://w3id.org/practicebank/"
SVG = "{http://www.w3.org/2000/svg}"
PREFIXES = """PREFIX pb: <https://w3id.org/practicebank/def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX concept: <https://w3id.org/practicebank/concept/>
"""
CRIME_COUNTS = Path(__file__).resolve().parent / "fixtures" / "crime-counts.ttl"
TOKEN = "s3cret"


@pytest.fixture(scope="module")
def client(demo_store):
    return create_app({"TESTING": True, "STORE": demo_store}).test_client()


def rows(store: PracticeStore, query: str) -> list[dict[str, str | None]]:
    solutions = store.query(PREFIXES + query)
    names = [v.value for v in solutions.variables]
    return [{n: (r[n].value if r[n] is not None else None) for n in names} for r in solutions]


# -- the expected numbers, worked out independently ------------------------------------------

def current_ratings(store) -> dict[str, set[str]]:
    """Practice -> its current "Does it work?" ratings (assessments nothing supersedes)."""
    found: dict[str, set[str]] = {}
    for r in rows(store, """SELECT DISTINCT ?practice ?rating WHERE {
            { ?practice pb:rating ?a } UNION { ?a pb:assessedPractice ?practice }
            ?practice a pb:Practice .
            ?a pb:ratingValue ?rating . ?rating skos:inScheme concept:does-it-work .
            MINUS { ?later pb:supersedes ?a } }"""):
        found.setdefault(r["practice"], set()).add(r["rating"])
    return found


def expected_ratings_by_topic(store) -> Counter:
    ratings = current_ratings(store)
    counts: Counter = Counter()
    for r in rows(store, """SELECT DISTINCT ?practice ?topic WHERE {
            ?practice a pb:Practice ; pb:topic ?topic . ?topic skos:prefLabel ?l }"""):
        for rating in ratings.get(r["practice"], {""}):
            counts[(r["topic"], rating)] += 1
    return counts


def practice_forces(store) -> list[tuple[str, str]]:
    return [(r["practice"], r["force"]) for r in rows(store, """SELECT DISTINCT ?practice ?force
        WHERE { ?practice a pb:Practice ; pb:organisation ?force . ?force a pb:PoliceForce }""")]


def expected_by_force(store) -> Counter:
    return Counter((force, "") for _, force in practice_forces(store))


def expected_by_region(store) -> Counter:
    regions: dict[str, set[str]] = {}
    for r in rows(store, "SELECT ?force ?region WHERE { ?force a pb:PoliceForce ; pb:region "
                         "?region . ?region skos:prefLabel ?l }"):
        regions.setdefault(r["force"], set()).add(r["region"])
    pairs = {(p, region) for p, force in practice_forces(store)
             for region in regions.get(force, ())}
    return Counter((region, "") for _, region in pairs)


def expected_recognitions_by_year(store) -> Counter:
    """The year of each recognition, by the rule the page states, worked out in Python."""
    facts: dict[str, dict[str, list[str]]] = {}
    sources: dict[str, set[str]] = {}
    for r in rows(store, """SELECT DISTINCT ?rec ?source WHERE {
            { ?rec pb:recognitionSource ?source }
            UNION { ?rec a ?class . ?source pb:recognitionClass ?class }
            ?source skos:prefLabel ?l }"""):
        sources.setdefault(r["rec"], set()).add(r["source"])
    for name, path in (("award", "pb:awardYear"), ("date", "dcterms:date"),
                       ("round", "pb:fundingRound/schema:startDate"),
                       ("report", "pb:inspectionReport/dcterms:date")):
        for r in rows(store, f"SELECT ?rec ?v WHERE {{ ?rec {path} ?v }}"):
            facts.setdefault(r["rec"], {}).setdefault(name, []).append(r["v"])
    counts: Counter = Counter()
    for rec, found in sources.items():
        mine = facts.get(rec, {})
        years = next(({v[:4] for v in mine[k]} for k in ("award", "date", "round", "report")
                      if k in mine), {"not recorded"})
        for year in years:
            for source in found:
                counts[(year, source)] += 1
    return counts


EXPECTED = {
    "ratings-by-topic": expected_ratings_by_topic,
    "practices-by-force": expected_by_force,
    "practices-by-region": expected_by_region,
    "recognitions-by-year": expected_recognitions_by_year,
}


def downloaded(client, name: str) -> Counter:
    body = client.get(f"/charts/{name}.json").get_json()
    return Counter({(r["category"], r["series"]): r["count"] for r in body["rows"]})


# -- chart numbers -----------------------------------------------------------------------------

def test_every_chart_has_an_independent_check():
    assert set(EXPECTED) == set(BY_NAME)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_chart_data_equals_an_independent_answer(client, demo_store, name):
    expected = EXPECTED[name](demo_store)
    assert expected, f"the demo data gives {name} nothing to count"
    assert downloaded(client, name) == expected


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_chart_data_equals_its_shown_query_run_at_the_sparql_endpoint(client, name):
    spec = BY_NAME[name]
    response = client.get("/sparql?" + urlencode({"query": spec.query, "format": "csv"}))
    assert response.status_code == 200, response.data[:300]
    answer: Counter = Counter()
    series_column = spec.series[0] if spec.series else None
    for row in csv.DictReader(io.StringIO(response.get_data(as_text=True))):
        key = (row[spec.category[0]], row[series_column] if series_column else "")
        answer[key] += int(row[spec.value])
    assert downloaded(client, name) == answer


def test_csv_and_json_downloads_carry_the_same_rows(client):
    for spec in CHARTS:
        response = client.get(f"/charts/{spec.name}.csv")
        assert response.mimetype == "text/csv"
        from_csv = [dict(r, count=int(r["count"]))
                    for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))]
        body = client.get(f"/charts/{spec.name}.json").get_json()
        assert body["query"] == spec.query
        assert from_csv == body["rows"] and from_csv


def test_an_unknown_chart_is_404_with_a_short_message(client):
    response = client.get("/charts/no-such-chart.csv")
    assert response.status_code == 404
    assert response.mimetype == "text/plain" and len(response.data) < 200


# -- the drawing and its table ----------------------------------------------------------------

class Tables(HTMLParser):
    """The page's tables that carry ``data-chart``: name -> rows of (cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.cell: list[str] | None = None
        self.captions: dict[str, str] = {}
        self.in_caption = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-chart" in attrs:
            self.current = attrs["data-chart"]
            self.tables[self.current] = []
        elif self.current and tag == "tr":
            self.tables[self.current].append([])
        elif self.current and tag in ("td", "th"):
            self.cell = []
        elif self.current and tag == "caption":
            self.in_caption, self.captions[self.current] = True, ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.current = None
        elif self.current and tag in ("td", "th") and self.cell is not None:
            self.tables[self.current][-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "caption":
            self.in_caption = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.in_caption and self.current:
            self.captions[self.current] += data


def svgs(page: str) -> dict[str, ET.Element]:
    """Each chart's SVG, parsed as XML (it must be well-formed), by its chart name."""
    found = {}
    for markup in re.findall(r"<svg\b.*?</svg>", page, flags=re.S):
        root = ET.fromstring(markup)
        title = root.find(f"{SVG}title")
        found[title.get("id").removeprefix("chart-").removesuffix("-title")] = root
    return found


@pytest.fixture(scope="module")
def charts_page(client) -> str:
    response = client.get("/charts")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_each_svg_is_an_image_named_by_its_title_with_one_bar_per_table_row(client,
                                                                             charts_page):
    drawings, tables = svgs(charts_page), Tables()
    tables.feed(charts_page)
    assert set(drawings) == set(BY_NAME) == set(tables.tables)
    for name, root in drawings.items():
        assert root.get("role") == "img"
        ids = {e.get("id") for e in root.iter() if e.get("id")}
        assert set(root.get("aria-labelledby").split()) <= ids
        data = downloaded(client, name)
        bars = root.findall(f"{SVG}g[@class='bar']")
        table_rows = tables.tables[name][1:]  # the header row first
        categories = {c for c, _ in data}
        assert len(bars) == len(table_rows) == len(categories)
        assert tables.captions[name].strip() == BY_NAME[name].title
        for bar, row in zip(bars, table_rows, strict=True):
            segments = {s.get("data-series"): int(s.get("data-count"))
                        for s in bar.findall(f"{SVG}rect")}
            key = bar.get("data-category")
            assert segments == {s: n for (c, s), n in data.items() if c == key}
            label = bar.find(f"{SVG}text[@class='bar-label']").text
            total = bar.find(f"{SVG}text[@class='bar-total']").text
            assert row[0].startswith(label.rstrip("…")), (row, label)
            numbers = [int(cell) for cell in row[1:]]
            assert int(total) == sum(segments.values()) == numbers[-1]


def test_each_chart_links_its_query_and_its_downloads(charts_page):
    for spec in CHARTS:
        assert f'href="/charts/{spec.name}.csv"' in charts_page
        assert f'href="/charts/{spec.name}.json"' in charts_page
        editor = "/query?" + urlencode({"query": spec.query})
        assert editor.replace("&", "&amp;") in charts_page
        runs = "/sparql?" + urlencode({"query": spec.query, "format": "csv"})
        assert runs.replace("&", "&amp;") in charts_page


def test_the_page_has_no_inline_style_or_script(charts_page):
    assert "style=" not in charts_page and "<script" not in charts_page


# -- escaping -----------------------------------------------------------------------------------

MARKUP = '<script>alert("x")</script> & Co'


@pytest.fixture(scope="module")
def markup_client():
    """A store of its own: one practice on a topic whose label is markup."""
    store = PracticeStore()
    g = ox.NamedNode(BASE + "graph/markup")
    topic = ox.NamedNode(BASE + "concept/topic/markup")
    practice = ox.NamedNode(BASE + "id/practice/markup")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    store.ox.extend([
        ox.Quad(topic, rdf_type, ox.NamedNode(PB + "Topic"), g),
        ox.Quad(topic, ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
                ox.Literal(MARKUP, language="en"), g),
        ox.Quad(practice, rdf_type, ox.NamedNode(PB + "Practice"), g),
        ox.Quad(practice, ox.NamedNode(PB + "topic"), topic, g),
        ox.Quad(practice, ox.NamedNode("http://purl.org/dc/terms/title"),
                ox.Literal(MARKUP), g),
    ])
    return create_app({"TESTING": True, "STORE": store}).test_client()


def test_markup_in_a_label_is_escaped_in_svg_and_table_and_plain_in_csv(markup_client):
    page = markup_client.get("/charts").get_data(as_text=True)
    assert "<script" not in page
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co"
    drawing = svgs(page)["ratings-by-topic"]
    assert drawing.find(f"{SVG}g/{SVG}text[@class='bar-label']").text == MARKUP
    tables = Tables()
    tables.feed(page)
    assert tables.tables["ratings-by-topic"][1][0] == MARKUP
    assert escaped in page.replace("&#39;", "'").replace("&quot;", "&#34;")
    text = markup_client.get("/charts/ratings-by-topic.csv").get_data(as_text=True)
    assert next(csv.DictReader(io.StringIO(text)))["categoryLabel"] == MARKUP
    compare = markup_client.get("/compare?topic=markup").get_data(as_text=True)
    assert "<script" not in compare and "&lt;script&gt;" in compare


# -- a commit changes a chart --------------------------------------------------------------------

@pytest.fixture
def writable(demo_store):
    store = PracticeStore()
    store.ox.extend(list(demo_store.ox))
    return create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": TOKEN}).test_client()


def test_a_committed_write_changes_the_chart(writable):
    force = BASE + "id/force/avon-and-somerset"
    before = downloaded(writable, "practices-by-force")[(force, "")]
    update = f"""{PREFIXES}INSERT DATA {{ GRAPH <{BASE}graph/curation> {{
        <{BASE}id/practice/lit-alleys> a pb:Practice ; dcterms:title "Lit alleys"@en ;
            prov:wasDerivedFrom <https://www.college.police.uk/support-forces/practices> ;
            pb:organisation <{force}> . }} }}"""
    response = writable.post("/update", data=update.encode(),
                             content_type="application/sparql-update",
                             headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code in (200, 204), response.data[:500]
    assert downloaded(writable, "practices-by-force")[(force, "")] == before + 1


# -- a force's crime trend -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def crime_app(demo_store):
    store = PracticeStore()
    store.ox.extend(list(demo_store.ox))
    store.ox.load(path=str(CRIME_COUNTS), format=ox.RdfFormat.TURTLE,
                  to_graph=ox.NamedNode(BASE + "graph/crime-test"))
    return create_app({"TESTING": True, "STORE": store}), store


def test_a_forces_crime_trend_counts_force_level_observations_by_month(crime_app):
    app, store = crime_app
    force = BASE + "id/force/merseyside"
    expected: Counter = Counter()
    for r in rows(store, f"""SELECT ?o ?month ?n WHERE {{ ?o pb:force <{force}> ;
            pb:month ?month ; pb:crimeCount ?n . FILTER NOT EXISTS {{ ?o pb:lsoa ?any }} }}"""):
        expected[r["month"]] += int(r["n"])
    starts = {r["month"][:7] for r in rows(store, f"""SELECT ?month WHERE {{
        ?p a pb:Practice ; pb:organisation <{force}> ; pb:startDate ?month }}""")}
    assert expected and starts
    page = app.test_client().get("/charts/force/merseyside").get_data(as_text=True)
    drawing = ET.fromstring(re.search(r"<svg\b.*?</svg>", page, flags=re.S).group(0))
    columns = {c.get("data-month"): int(c.get("data-count"))
               for c in drawing.iter(f"{SVG}rect")}
    assert columns == dict(expected)
    table = dict(re.findall(r'<tr data-month="([^"]+)"><th scope="row">[^<]+</th>'
                            r'<td class="num">(\d+)</td>', page))
    assert {m: int(n) for m, n in table.items()} == dict(expected)
    marked = len(drawing.findall(f"{SVG}g[@class='marker']"))
    in_range = [s for s in starts if min(expected) <= s <= max(expected)]
    assert marked >= len(in_range) > 0
    with app.test_request_context("/"):
        assert crime_trend_svg(force, "Merseyside Police") is not None
        assert crime_trend_svg(BASE + "id/force/avon-and-somerset") is None


def test_the_force_page_embeds_its_crime_trend_and_links_the_chart_page(crime_app, client):
    app, _ = crime_app
    page = app.test_client().get("/id/force/merseyside.html").get_data(as_text=True)
    section = page[page.index("Recorded crime"):]
    assert re.search(r"<svg\b[^>]*role=\"img\"", section), "no chart in the crime section"
    assert 'href="/charts/force/merseyside"' in section
    assert "charts.css" in page
    quiet = client.get("/id/force/avon-and-somerset.html").get_data(as_text=True)
    assert "charts.css" not in quiet and "/charts/force/" not in quiet  # no counts, no chart


def test_a_force_without_counts_says_so_and_an_unknown_force_is_404(client):
    page = client.get("/charts/force/avon-and-somerset")
    assert page.status_code == 200 and b"no recorded-crime counts" in page.data
    assert client.get("/charts/force/no-such-force").status_code == 404


# -- the comparison ------------------------------------------------------------------------

def expected_mappings(store, ratings: set[str], effects: set[str] = frozenset()) -> set[str]:
    return {r["m"] for r in rows(store, """SELECT ?m ?s ?o WHERE {
        ?m a pb:ConceptMapping ; pb:mappingSubject ?s ; pb:mappingObject ?o ;
           skos:scopeNote ?note .
        ?o skos:inScheme ?scheme .
        FILTER (?scheme IN (concept:emmie-effect, concept:crimesolutions)) }""")
            if r["s"] in ratings or r["o"] in effects}


def shown_mappings(page: str) -> set[str]:
    return set(re.findall(r'<tr data-mapping="([^"]+)"', page))


def test_a_topic_comparison_shows_the_mappings_of_its_practices_ratings(client, demo_store):
    topic = BASE + "concept/topic/violence-against-women-and-girls"
    practices = {r["p"] for r in rows(demo_store, f"""SELECT DISTINCT ?p WHERE {{
        ?p a pb:Practice ; pb:topic ?t . ?t skos:broader* <{topic}> }}""")}
    ratings = set().union(*(current_ratings(demo_store).get(p, set()) for p in practices))
    expected = expected_mappings(demo_store, ratings)
    assert expected, "the demo data gives this topic no mapped rating"
    page = client.get("/compare?topic=violence-against-women-and-girls")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert shown_mappings(text) == expected
    assert set(re.findall(r'<tr data-practice="([^"]+)"', text)) == practices
    for r in rows(demo_store, "SELECT ?m ?note WHERE { ?m skos:scopeNote ?note }"):
        if r["m"] in expected:
            assert r["note"].replace("'", "&#39;") in text
    has_crimesolutions = bool(demo_store.query(PREFIXES + """ASK { ?a pb:ratingValue ?r .
        ?r skos:inScheme concept:crimesolutions }"""))
    assert ('id="no-crimesolutions"' in text) == (not has_crimesolutions)


def test_an_intervention_comparison_shows_the_toolkit_assessment_and_its_source(client,
                                                                                demo_store):
    kind = BASE + "concept/intervention-type/mental-health-courts"
    found = rows(demo_store, f"""SELECT ?a ?effect ?label ?page WHERE {{
        ?a pb:assessedInterventionType <{kind}> ; pb:ratingValue ?effect ;
           prov:wasDerivedFrom ?page . ?effect skos:prefLabel ?label }}""")
    assert found
    text = client.get("/compare?intervention=mental-health-courts").get_data(as_text=True)
    for r in found:
        assert f'data-assessment="{r["a"]}"' in text
        assert r["label"] in text and r["page"].replace("&", "&amp;") in text
    assert shown_mappings(text) == expected_mappings(demo_store, set(),
                                                     {r["effect"] for r in found})


def test_the_compare_index_lists_topics_with_practices(client, demo_store):
    text = client.get("/compare").get_data(as_text=True)
    topics = {r["t"] for r in rows(demo_store, """SELECT DISTINCT ?t WHERE {
        ?p a pb:Practice ; pb:topic ?x . ?x skos:broader* ?t . ?t a pb:Topic }""")}
    listed = {BASE + "concept/topic/" + s for s in re.findall(r"compare\?topic=([a-z0-9-]+)",
                                                               text)}
    assert listed == topics
    assert "compare?intervention=mental-health-courts" in text


@pytest.mark.parametrize(("query", "status"), [
    ("topic=no-such-topic", 404),
    ("intervention=no-such-type", 404),
    ("topic=Bad%20Slug", 400),
    ("topic=" + "a" * 300, 400),
    ("topic=violence&intervention=mental-health-courts", 400),
    ("topic=violence&topic=road-safety", 400),
])
def test_bad_comparison_parameters_get_a_short_message(client, query, status):
    response = client.get("/compare?" + query)
    assert response.status_code == status
    assert response.mimetype == "text/plain" and len(response.data) < 200


def test_the_compare_index_is_the_first_page_a_fresh_server_builds(demo_store):
    """Its build reads other per-commit values (the Toolkit's assessments, the topic tree):
    a fresh app asked for it first must answer, not wait on itself."""
    fresh = create_app({"TESTING": True, "STORE": demo_store}).test_client()
    response = fresh.get("/compare")
    assert response.status_code == 200 and b"compare?topic=" in response.data
