"""Bind joins (endpoint/bind_join.py) against real remotes: the partner endpoints, each behind a
counting forwarder, a dead port, a remote that breaks and one that is slow.

Two apps serve the demo store with the same allowlist: one with bind joins (batches of
:data:`BATCH`, small so that every query needs several) and one with ``bind_join_batch = 0``,
where every SERVICE goes to the remote as written (the engine's own, naive evaluation). For
every federated example query the two answers must be equal as multisets of solutions, and
the remote must have been sent no more than ⌈bindings / batch⌉ requests, the bindings counted
on the demo store by a query of the test's own. Two examples are also checked against
answers worked out from the partner slices' Turtle files with rdflib. The shapes the bind
join does not rewrite fall back to the naive path: one request, the same answers. A live
server checks the worker-process path and the ``--bind-join-batch`` flag.
"""

from __future__ import annotations

import http.server
import json
import math
import re
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from endpoint_live import LiveServer, free_port, send_answer
from rdflib import Graph, Literal, URIRef

from practicebank.counting_proxy import CountingProxy
from practicebank.endpoint import create_app
from practicebank.endpoint.bind_join import NotRewritable, read_shape
from practicebank.loaders.load import load_file
from practicebank.partner_services import localise
from practicebank.store import PracticeStore

BATCH = 5
ROOT = Path(__file__).resolve().parent.parent
PARTNERS = ROOT / "data" / "partners"
#: The library's federated queries (endpoint/queries/, QUESTIONS.md section C).
LIBRARY = sorted(p for p in (ROOT / "endpoint" / "queries").glob("*.rq")
                 if re.search(r"^\s*SERVICE\b", p.read_text("utf-8"), re.M | re.I))
PREFIXES = """PREFIX pb: <https://w3id.org/practicebank/def/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX measure: <http://statistics.data.gov.uk/def/measure-properties/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX country: <https://w3id.org/practicebank/concept/country/>
"""
YEAR_2022 = "<http://reference.data.gov.uk/id/year/2022>"
POPULATION_2022 = (f"?obs sdmx-dimension:refArea ?area ; sdmx-dimension:refPeriod {YEAR_2022} ; "
                   "measure:count ?population")
WELSH_LABEL = '?item wdt:P836 ?code ; rdfs:label ?welsh . FILTER(LANG(?welsh) = "cy")'

#: name → (query, the remote it calls, the demo-store query whose rows are the bindings sent)
EXAMPLES = {
    "practices per 100,000 residents by force area": ("""
        SELECT ?area (COUNT(DISTINCT ?p) AS ?practices) ?population
               ((COUNT(DISTINCT ?p) * 100000 / ?population) AS ?per100k) WHERE {
          ?p a pb:Practice ; pb:organisation ?force . ?force pb:policeForceArea ?area .
          SERVICE <{ons}> { {pop} }
        } GROUP BY ?area ?population ORDER BY DESC(?per100k) ?area""",
        "ons", "SELECT DISTINCT ?area { ?p a pb:Practice ; pb:organisation ?force . "
               "?force pb:policeForceArea ?area }"),
    "Welsh labels of forces": ("""
        SELECT ?force ?welsh WHERE {
          ?force a pb:PoliceForce ; pb:gssCode ?code .
          SERVICE <{wd}> { {welsh} }
        }""",
        "wd", "SELECT DISTINCT ?code { ?force a pb:PoliceForce ; pb:gssCode ?code }"),
    "OPTIONAL SERVICE: every force, its Welsh label where there is one": ("""
        SELECT ?force ?name ?welsh WHERE {
          ?force a pb:PoliceForce ; pb:gssCode ?code ; skos:prefLabel ?name .
          OPTIONAL { SERVICE <{wd}> { {welsh} } }
        } ORDER BY ?name""",
        "wd", "SELECT DISTINCT ?code { ?force a pb:PoliceForce ; pb:gssCode ?code ; "
              "skos:prefLabel ?name }"),
    "FILTER across both sides": ("""
        SELECT ?force ?population WHERE {
          ?force a pb:PoliceForce ; pb:policeForceArea ?area ; pb:country ?country .
          SERVICE <{ons}> { {pop} }
          FILTER(?population > 1500000 || ?country = country:wales)
        }""",
        "ons", "SELECT DISTINCT ?area { ?force a pb:PoliceForce ; pb:policeForceArea ?area ; "
               "pb:country ?country }"),
    "aggregates over the joined result": ("""
        SELECT ?country (COUNT(?force) AS ?forces) (SUM(?population) AS ?residents)
               (MAX(?population) AS ?largest) WHERE {
          ?force a pb:PoliceForce ; pb:policeForceArea ?area ; pb:country ?country .
          SERVICE <{ons}> { {pop} }
        } GROUP BY ?country HAVING (COUNT(?force) > 1) ORDER BY ?country""",
        "ons", "SELECT DISTINCT ?area { ?force a pb:PoliceForce ; pb:policeForceArea ?area ; "
               "pb:country ?country }"),
    "the SERVICE first, the local patterns after it": ("""
        SELECT ?force ?population WHERE {
          SERVICE <{ons}> { {pop} }
          ?force a pb:PoliceForce ; pb:policeForceArea ?area .
        }""",
        "ons", "SELECT DISTINCT ?area { ?force a pb:PoliceForce ; pb:policeForceArea ?area }"),
    "a BIND and a MINUS before the SERVICE": ("""
        SELECT ?force ?welsh WHERE {
          ?force a pb:PoliceForce ; pb:gssCode ?gss .
          BIND(STR(?gss) AS ?code)
          MINUS { ?force pb:country country:england }
          SERVICE <{wd}> { {welsh} }
        }""",
        "wd", "SELECT DISTINCT ?code { ?force a pb:PoliceForce ; pb:gssCode ?gss . "
              "BIND(STR(?gss) AS ?code) MINUS { ?force pb:country country:england } }"),
}

#: Two SERVICE blocks: (query, bindings query for ONS, for Wikidata).
TWO_REMOTES = ("""
    SELECT ?force ?population ?welsh WHERE {
      ?force a pb:PoliceForce ; pb:policeForceArea ?area ; pb:gssCode ?code ;
             pb:country country:wales .
      SERVICE <{ons}> { {pop} }
      OPTIONAL { SERVICE <{wd}> { {welsh} } }
    }""",
    "SELECT DISTINCT ?area { ?force a pb:PoliceForce ; pb:policeForceArea ?area ; "
    "pb:gssCode ?code ; pb:country country:wales }")

#: Shapes the bind join leaves to the engine (one request each), and why.
FALLBACKS = {
    "SERVICE in a UNION": """
        SELECT ?force ?welsh WHERE {
          ?force a pb:PoliceForce ; pb:gssCode ?code .
          { BIND("none" AS ?welsh) } UNION { SERVICE <{wd}> { {welsh} } }
        }""",
    "SERVICE in a sub-SELECT": """
        SELECT ?force ?welsh WHERE {
          ?force a pb:PoliceForce ; pb:gssCode ?code .
          { SELECT ?code ?welsh WHERE { SERVICE <{wd}> { {welsh} } } }
        }""",
    "SERVICE beside other patterns in an OPTIONAL": """
        SELECT ?force ?welsh WHERE {
          ?force a pb:PoliceForce ; pb:gssCode ?code .
          OPTIONAL { ?force pb:country country:wales SERVICE <{wd}> { {welsh} } }
        }""",
    "the shared variable only in the remote pattern's OPTIONAL": """
        SELECT ?force ?welsh WHERE {
          ?force a pb:PoliceForce ; pb:gssCode ?code .
          SERVICE <{wd}> { ?item rdfs:label ?welsh FILTER(LANG(?welsh) = "cy")
                           OPTIONAL { ?item wdt:P836 ?code } }
        }""",
}


class _Remote(http.server.BaseHTTPRequestHandler):
    """A remote that is slow (``/slow``: answers after SLOW_SECONDS) or broken (500)."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/broken"):
            send_answer(self, b"broken", status=500, content_type="text/plain")
            return
        time.sleep(SLOW_SECONDS)
        send_answer(self, b'{"head":{"vars":["x"]},"results":{"bindings":[]}}')

    def log_message(self, *args):
        pass


SLOW_SECONDS = 5.0


@pytest.fixture(scope="module")
def remotes(partner_endpoints):
    ons = CountingProxy(partner_endpoints.urls["ons-geography"].rsplit("/", 1)[0])
    wd = CountingProxy(partner_endpoints.urls["wikidata"].rsplit("/", 1)[0])
    odd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Remote)
    odd.daemon_threads = True
    threading.Thread(target=odd.serve_forever, daemon=True).start()
    urls = {"ons": f"{ons.base}/query", "wd": f"{wd.base}/query",
            "dead": f"http://127.0.0.1:{free_port()}/sparql",
            "slow": f"http://127.0.0.1:{odd.server_address[1]}/slow",
            "broken": f"http://127.0.0.1:{odd.server_address[1]}/broken"}
    yield urls, {"ons": ons, "wd": wd}
    ons.close()
    wd.close()
    odd.shutdown()
    odd.server_close()


def _client(store, urls, **config):
    return create_app({"STORE": store, "SERVICE_ALLOWLIST": " ".join(urls.values()),
                       "TESTING": True, "ACCESS_LOG": False, **config}).test_client()


@pytest.fixture(scope="module")
def apps(demo_store, remotes):
    urls, _ = remotes
    return (_client(demo_store, urls, BIND_JOIN_BATCH=BATCH),
            _client(demo_store, urls, BIND_JOIN_BATCH=0))


def filled(query: str, urls: dict[str, str]) -> str:
    """``query`` with ``{name}`` replaced by the remote's URL or the pattern of that name."""
    for name, text in {**urls, "pop": POPULATION_2022, "welsh": WELSH_LABEL}.items():
        query = query.replace("{" + name + "}", text)
    return PREFIXES + query


def ask(client, query: str, **params) -> tuple[int, dict]:
    response = client.get("/sparql", query_string={"query": query, **params},
                          headers={"Accept": "application/sparql-results+json"})
    return response.status_code, json.loads(response.data)


def solutions(answer: dict) -> Counter:
    """The answer's solutions as a multiset (each one a frozenset of variable, term)."""
    return Counter(frozenset((name, json.dumps(term, sort_keys=True))
                             for name, term in row.items())
                   for row in answer["results"]["bindings"])


def bindings(store, query: str) -> int:
    return len(list(store.ox.query(PREFIXES + query, use_default_graph_as_union=True)))


def run_both(apps, proxies, query: str) -> tuple[dict, dict, dict[str, int], dict[str, int]]:
    """Both answers (bind join, naive) and the requests each sent to each remote."""
    bind, naive = apps
    for proxy in proxies.values():
        proxy.reset()
    status, bound = ask(bind, query)
    assert status == 200, bound
    sent_bound = {name: proxy.reset().requests for name, proxy in proxies.items()}
    status, plain = ask(naive, query)
    assert status == 200, plain
    sent_plain = {name: proxy.reset().requests for name, proxy in proxies.items()}
    return bound, plain, sent_bound, sent_plain


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_bind_join_answers_equal_the_naive_evaluation(apps, remotes, demo_store, name):
    urls, proxies = remotes
    query, remote, bindings_query = EXAMPLES[name]
    bound, plain, sent_bound, sent_plain = run_both(apps, proxies, filled(query, urls))
    assert solutions(bound) == solutions(plain)
    assert bound["results"]["bindings"], "an example with no answer proves little"
    if "ORDER BY DESC(?per100k) ?area" in query:  # a total order: the engine still sorts
        assert bound["results"]["bindings"] == plain["results"]["bindings"]
    expected = math.ceil(bindings(demo_store, bindings_query) / BATCH)
    assert sent_bound[remote] == expected  # one request per batch: at most ⌈bindings/batch⌉
    assert sent_plain[remote] == 1  # the naive path: the whole pattern at once


def test_two_services_are_each_bind_joined(apps, remotes, demo_store):
    urls, proxies = remotes
    query, bindings_query = TWO_REMOTES
    bound, plain, sent_bound, _ = run_both(apps, proxies, filled(query, urls))
    assert solutions(bound) == solutions(plain)
    welsh_areas = bindings(demo_store, bindings_query)
    assert sent_bound["ons"] == math.ceil(welsh_areas / BATCH)
    assert 1 <= sent_bound["wd"] <= math.ceil(welsh_areas / BATCH)


def test_per_100k_is_worked_out_from_the_slice_and_the_store(apps, remotes, demo_store):
    """The answer's populations are the slice's 2022 counts (read with rdflib), its
    practice counts the demo store's."""
    urls, _ = remotes
    slice_graph = Graph().parse(PARTNERS / "ons-geography.ttl", format="turtle")
    sdmx = "http://purl.org/linked-data/sdmx/2009/dimension#"
    population = {}
    for obs in slice_graph.subjects(URIRef(sdmx + "refPeriod"),
                                    URIRef(YEAR_2022.strip("<>"))):
        area = slice_graph.value(obs, URIRef(sdmx + "refArea"))
        count = slice_graph.value(
            obs, URIRef("http://statistics.data.gov.uk/def/measure-properties/count"))
        population[str(area)] = int(count)
    practices = Counter(row[1].value for row in demo_store.ox.query(
        PREFIXES + "SELECT DISTINCT ?p ?area { ?p a pb:Practice ; pb:organisation ?f . "
        "?f pb:policeForceArea ?area }", use_default_graph_as_union=True))
    _, answer = ask(apps[0], filled(EXAMPLES["practices per 100,000 residents by force area"][0],
                                    urls))
    got = {row["area"]["value"]: (int(row["practices"]["value"]),
                                  int(row["population"]["value"]))
           for row in answer["results"]["bindings"]}
    assert got == {area: (n, population[area]) for area, n in practices.items()}


def test_welsh_labels_are_the_slices(apps, remotes, demo_store):
    urls, _ = remotes
    wikidata = Graph().parse(PARTNERS / "wikidata.ttl", format="turtle")
    p836 = URIRef("http://www.wikidata.org/prop/direct/P836")
    welsh = {}
    for item, code in wikidata.subject_objects(p836):
        for label in wikidata.objects(item, URIRef("http://www.w3.org/2000/01/rdf-schema#label")):
            if isinstance(label, Literal) and label.language == "cy":
                welsh.setdefault(str(code), set()).add(str(label))
    codes = {row[0].value: row[1].value for row in demo_store.ox.query(
        PREFIXES + "SELECT ?code ?force { ?force a pb:PoliceForce ; pb:gssCode ?code }",
        use_default_graph_as_union=True)}
    expected = Counter((codes[code], label) for code in codes for label in welsh.get(code, ()))
    _, answer = ask(apps[0], filled(EXAMPLES["Welsh labels of forces"][0], urls))
    got = Counter((row["force"]["value"], row["welsh"]["value"])
                  for row in answer["results"]["bindings"])
    assert got == expected and expected


@pytest.mark.parametrize("name", list(FALLBACKS))
def test_shapes_outside_the_rewrite_fall_back_and_answer_the_same(apps, remotes, name):
    urls, proxies = remotes
    query = filled(FALLBACKS[name], urls)
    bound, plain, sent_bound, sent_plain = run_both(apps, proxies, query)
    assert solutions(bound) == solutions(plain)
    assert sent_bound["wd"] == sent_plain["wd"] == 1


def test_the_shapes_are_read_as_the_docs_say():
    prefix = "http://127.0.0.1:1/t/"
    rewritten = [
        f"SELECT * {{ ?s ?p ?o SERVICE <{prefix}0> {{ ?o ?q ?r }} }}",
        f"SELECT * {{ ?s ?p ?o OPTIONAL {{ SERVICE SILENT <{prefix}0> {{ ?o ?q ?r }} "
        "FILTER(?r) } }",
        f"CONSTRUCT {{ ?s ?p ?r }} FROM <urn:g> WHERE {{ ?s ?p ?o . SERVICE <{prefix}0> "
        f"{{ ?o ?q ?r }} SERVICE <{prefix}1> {{ ?r ?q ?t }} }}",
    ]
    for query in rewritten:
        assert read_shape(query, prefix).services
    refused = [
        f"SELECT * {{ {{ SERVICE <{prefix}0> {{ ?o ?q ?r }} }} }}",  # nested in a group
        f"SELECT * {{ SERVICE <{prefix}0> {{ SERVICE <{prefix}1> {{ ?o ?q ?r }} }} }}",
        f"SELECT * {{ SERVICE <{prefix}0> {{ _:b ?q ?r }} }}",  # a blank-node label
        f"SELECT * {{ SERVICE <{prefix}0> {{ SELECT ?r {{ ?o ?q ?r }} }} }}",
        f"SELECT * {{ FILTER EXISTS {{ SERVICE <{prefix}0> {{ ?o ?q ?r }} }} }}",
        "SELECT * { SERVICE <http://elsewhere.example/> { ?o ?q ?r } }",  # not the proxy
        # a comparison the lexer reads as an IRI, hiding brackets
        f"SELECT * {{ ?s ?p ?o FILTER(?o<?s&&STR(?s)>?o) SERVICE <{prefix}0> {{ ?o ?q ?r }} }}",
    ]
    for query in refused:
        with pytest.raises(NotRewritable):
            read_shape(query, prefix)


def test_zero_local_bindings_make_no_call(apps, remotes):
    urls, proxies = remotes
    query = filled("""SELECT ?force ?welsh WHERE {
        ?force a pb:PoliceForce ; pb:gssCode "no such code" .
        OPTIONAL { SERVICE <{wd}> { {welsh} } }
        ?force pb:gssCode ?code }""", urls)
    bound, plain, sent_bound, sent_plain = run_both(apps, proxies, query)
    assert solutions(bound) == solutions(plain) == Counter()
    assert sent_bound["wd"] == 0 and sent_plain["wd"] == 1


@pytest.fixture(scope="module")
def library(demo_store, partner_endpoints):
    """Both apps over the demo data plus the CrimeSolutions crosswalk (as
    tests/test_cross_sector.py runs the library), every partner behind a counting forwarder."""
    store = PracticeStore()
    store.ox.extend(list(demo_store.ox))
    if not store.has_graph("crimesolutions-crosswalk"):
        load_file(store, PARTNERS / "crimesolutions-crosswalk.ttl",
                  graph="crimesolutions-crosswalk")
    proxies = {name: CountingProxy(url.rsplit("/", 1)[0])
               for name, url in partner_endpoints.urls.items()}
    urls = {name: f"{proxy.base}/query" for name, proxy in proxies.items()}
    yield (_client(store, urls, BIND_JOIN_BATCH=BATCH),
           _client(store, urls, BIND_JOIN_BATCH=0)), urls, proxies
    for proxy in proxies.values():
        proxy.close()


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_the_library_federated_queries_answer_the_same_with_bind_joins(library, path):
    apps, urls, proxies = library
    query = localise(path.read_text("utf-8"), urls)
    bound, plain, _, _ = run_both(apps, proxies, query)
    assert solutions(bound) == solutions(plain)


# -- failures: SILENT, broken and slow remotes, the deadline ------------------------------------


@pytest.mark.parametrize("remote", ["dead", "broken"])
def test_silent_to_a_failing_remote_gives_the_naive_answer(apps, remotes, remote):
    urls, _ = remotes
    query = filled("""SELECT ?force ?code ?x WHERE {
        ?force a pb:PoliceForce ; pb:gssCode ?code .
        SERVICE SILENT <{REMOTE}> { ?x <http://example.org/code> ?code } }"""
        .replace("REMOTE", remote), urls)
    answers = [ask(client, query) for client in apps]
    assert [status for status, _ in answers] == [200, 200]
    assert solutions(answers[0][1]) == solutions(answers[1][1])
    assert len(answers[0][1]["results"]["bindings"]) == 43  # the one empty solution joined


@pytest.mark.parametrize("remote", ["dead", "broken"])
def test_without_silent_a_failing_remote_is_the_same_error_as_today(apps, remotes, remote):
    urls, _ = remotes
    query = filled("""SELECT * WHERE { ?force a pb:PoliceForce ; pb:gssCode ?code .
        SERVICE <{REMOTE}> { ?x <http://example.org/code> ?code } }"""
        .replace("REMOTE", remote), urls)
    (status, bound), (naive_status, naive) = (ask(client, query) for client in apps)
    assert status == naive_status == 502
    assert bound["error"] == naive["error"] == "remote_endpoint_failed"
    assert urls[remote] in bound["message"]


def test_a_slow_remote_is_cut_off_by_the_per_call_timeout(demo_store, remotes):
    urls, _ = remotes
    client = _client(demo_store, urls, BIND_JOIN_BATCH=BATCH, SERVICE_TIMEOUT=1.0)
    query = filled("""SELECT * WHERE { ?force a pb:PoliceForce ; pb:gssCode ?code .
        SERVICE <{slow}> { ?x <http://example.org/code> ?code } }""", urls)
    started = time.monotonic()
    status, answer = ask(client, query)
    assert status == 504, answer
    assert answer["error"] == "remote_endpoint_failed" and urls["slow"] in answer["message"]
    assert time.monotonic() - started < SLOW_SECONDS  # one timed-out batch, not nine


def test_the_query_deadline_bounds_the_bind_join(demo_store, remotes):
    urls, _ = remotes
    client = _client(demo_store, urls, BIND_JOIN_BATCH=BATCH, SERVICE_TIMEOUT=30.0)
    query = filled("""SELECT * WHERE { ?force a pb:PoliceForce ; pb:gssCode ?code .
        SERVICE <{slow}> { ?x <http://example.org/code> ?code } }""", urls)
    started = time.monotonic()
    status, _ = ask(client, query, timeout="0.5")
    assert status == 504
    assert time.monotonic() - started < 0.5 + 1.0


# -- the worker-process path, with the setting given as a flag ----------------------------------


def test_a_live_server_bind_joins_in_its_workers(tmp_path, remotes):
    urls, proxies = remotes
    PracticeStore(tmp_path / "store").close()
    areas = ["E23000036", "E23000026", "E23000023", "W15000001", "W15000004"]
    data = " ".join(f"<urn:force:{code}> <urn:area> "
                    f"<http://statistics.data.gov.uk/id/statistical-geography/{code}> ."
                    for code in areas)
    with LiveServer(tmp_path / "store", tmp_path, "--workers", "1",
                    "--service-allowlist", urls["ons"], "--bind-join-batch", "2") as live:
        status, _, body = live.update(f"INSERT DATA {{ {data} }}")
        assert status == 204, body
        proxies["ons"].reset()
        status, _, body = live.query(filled("""SELECT ?force ?population WHERE {
            ?force <urn:area> ?area . SERVICE <{ons}> { {pop} } }""", urls))
        assert status == 200, body
        assert proxies["ons"].reset().requests == math.ceil(len(areas) / 2)
    slice_graph = Graph().parse(PARTNERS / "ons-geography.ttl", format="turtle")
    expected = {}
    for code in areas:
        query = f"""SELECT ?n WHERE {{ ?o <http://purl.org/linked-data/sdmx/2009/dimension#refArea>
            <http://statistics.data.gov.uk/id/statistical-geography/{code}> ;
            <http://purl.org/linked-data/sdmx/2009/dimension#refPeriod> {YEAR_2022} ;
            <http://statistics.data.gov.uk/def/measure-properties/count> ?n }}"""
        expected[f"urn:force:{code}"] = {int(row[0]) for row in slice_graph.query(query)}
    got = {}
    for row in json.loads(body)["results"]["bindings"]:
        got.setdefault(row["force"]["value"], set()).add(int(row["population"]["value"]))
    assert got == {force: counts for force, counts in expected.items() if counts}


def test_the_service_description_says_which_shapes_are_rewritten(demo_store):
    client = create_app({"STORE": demo_store, "TESTING": True,
                         "ACCESS_LOG": False}).test_client()
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.data, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    service = next(graph.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                  URIRef(sd + "Service")))
    assert (service, URIRef(sd + "feature"), URIRef(sd + "BasicFederatedQuery")) in graph
    comments = [str(c) for c in graph.objects(
        service, URIRef("http://www.w3.org/2000/01/rdf-schema#comment"))]
    assert any("bind join" in c and "OPTIONAL" in c and "docs/federation.md" in c
               for c in comments), comments
