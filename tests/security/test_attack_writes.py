"""Attacks on the write path: kills mid-write, huge data blocks, runaway updates, personal
data in every namespace, writes to the system graphs, removals that leave dangling
references, and races on a new graph.

Most run against real ``practicebank serve`` processes on on-disk stores (the behaviour is
HTTP's or about processes: kills, deadlines, concurrent requests); a few that only need the
app's logic use Flask's test client on a store in memory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pyoxigraph as ox
import pytest
from endpoint_live import TOKEN, LiveServer

from practicebank.endpoint import create_app
from practicebank.journal import WRITE_JOURNAL
from practicebank.loaders.load import ensure_demo
from practicebank.personal import drop_personal_data
from practicebank.store import PracticeStore, StoreInUseError

BASE = "https://w3id.org/practicebank/"
ADMIN = "live-admin-token"
SAMPLE = BASE + "graph/sample"
PREFIXES = f"""PREFIX pb: <{BASE}def/>
PREFIX id: <{BASE}id/practice/>
PREFIX force: <{BASE}id/force/>
PREFIX purpose: <{BASE}concept/purpose/>
PREFIX topic: <{BASE}concept/topic/>
PREFIX stage: <{BASE}concept/stage/>
PREFIX scale: <{BASE}concept/scale/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX page: <https://www.college.police.uk/support-forces/practices/>
"""


def practices(n: int, tag: str) -> str:
    """``n`` valid practices (ten triples each) in Turtle/SPARQL syntax, using PREFIXES."""
    return "\n".join(
        f'id:{tag}-{i} a pb:Practice ; dcterms:title "Practice {tag} {i}"@en ; '
        f'dcterms:abstract "Summary {i}."@en ; prov:wasDerivedFrom page:{tag}-{i} ; '
        "pb:purpose purpose:prevention ; pb:topic topic:crime-prevention ; "
        "pb:organisation force:kent ; pb:stage stage:implemented ; pb:scale scale:local ; "
        f'dcterms:identifier "{tag}-{i}" .' for i in range(n))


def turtle(n: int, tag: str, *, invalid: bool = False) -> bytes:
    """A Turtle body of ``n`` practices; ``invalid`` adds one without a title at the end."""
    text = PREFIXES.replace("PREFIX ", "@prefix ").replace(">\n", "> .\n") + practices(n, tag)
    if invalid:
        text += f"\nid:{tag}-untitled a pb:Practice ; prov:wasDerivedFrom page:{tag}-u ."
    return text.encode()


def store_url(live: LiveServer, graph: str) -> str:
    return f"{live.base}/store?graph={urllib.parse.quote(graph, safe='')}"


def gsp(live: LiveServer, method: str, graph: str, body: bytes | str | None = None, *,
        token: str | None = TOKEN, content_type: str = "text/turtle",
        timeout: float = 60) -> tuple[int, dict]:
    headers = {"Content-Type": content_type} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body.encode() if isinstance(body, str) else body
    status, _, answer = live.request(method, store_url(live, graph), body=data,
                                     headers=headers, timeout=timeout)
    return status, json.loads(answer) if answer.startswith(b"{") else {}


def update(live: LiveServer, text: str, *, token: str | None = TOKEN) -> tuple[int, dict]:
    status, _, answer = live.update(text, token=token)
    return status, json.loads(answer) if answer.startswith(b"{") else {}


def lines(live: LiveServer, graph: str) -> set[str]:
    """The graph as a set of N-Triples lines (empty when it does not exist)."""
    status, _, body = live.request("GET", store_url(live, graph),
                                   headers={"Accept": "application/n-triples"})
    assert status in (200, 404), body
    return set(body.decode().splitlines()) if status == 200 else set()


def size(live: LiveServer, graph: str) -> int:
    return live.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """An on-disk store with the demo data, copied by each test that needs its own."""
    folder = tmp_path_factory.mktemp("template") / "store"
    with PracticeStore(folder) as store:
        ensure_demo(store)
    return folder


@pytest.fixture(scope="module")
def live(template, tmp_path_factory):
    """One server with a write token and an admin token, for the tests that do not kill it."""
    tmp = tmp_path_factory.mktemp("writes")
    shutil.copytree(template, tmp / "store")
    with LiveServer(tmp / "store", tmp, "--workers", "1", "--worker-threads", "2",
                    "--max-body-readers", "16",
                    env={"PRACTICEBANK_ADMIN_TOKEN": ADMIN}) as server:
        server.folder = tmp / "store"
        yield server


# -- item 13: OPTIONS and the race for a new graph ----------------------------------------------


def test_options_on_the_store_lists_every_method(live):
    expected = {"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"}
    for url in (f"{live.base}/store", f"{live.base}/store/some/graph",
                store_url(live, "urn:x:g")):
        status, headers, _ = live.request("OPTIONS", url)
        assert status == 204
        assert {m.strip() for m in headers["Allow"].split(",")} == expected
        assert {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")} == expected
    status, headers, _ = live.request("OPTIONS", f"{live.base}/sparql")
    assert status == 204 and "PUT" not in headers["Allow"]  # /sparql's own preflight


def test_concurrent_first_posts_to_a_new_graph_create_it_exactly_once(live):
    graph = f"urn:x:race-{uuid.uuid4()}"
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def post(i: int) -> None:
        barrier.wait()
        statuses.append(gsp(live, "POST", graph, f"<urn:x:s{i}> <urn:x:p> {i} .")[0])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201] + [204] * 7
    assert size(live, graph) == 8


def test_a_second_server_on_the_same_store_is_refused(live):
    with pytest.raises(StoreInUseError):
        PracticeStore(live.folder)


# -- item 9: personal data in every namespace ---------------------------------------------------

SCHEMA_HTTP, SCHEMA_HTTPS = "http://schema.org/", "https://schema.org/"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
PERSONAL_PROPERTIES = [
    *(ns + local for ns in (SCHEMA_HTTP, SCHEMA_HTTPS)
      for local in ("email", "telephone", "faxNumber", "contactPoint")),
    FOAF + "mbox", FOAF + "mbox_sha1sum", FOAF + "phone",
    VCARD + "email", VCARD + "hasEmail", VCARD + "tel", VCARD + "hasTelephone",
]
PERSONAL_CLASSES = [SCHEMA_HTTP + "Person", SCHEMA_HTTPS + "Person", FOAF + "Person",
                    VCARD + "Individual"]


def personal_triples(term: str, node: str) -> str:
    if term in PERSONAL_CLASSES:
        return f"<{node}> a <{term}> ."
    return f'<{node}> <{term}> "someone@example.org" .'


@pytest.mark.parametrize("term", PERSONAL_PROPERTIES + PERSONAL_CLASSES)
def test_personal_data_is_refused_in_every_namespace(live, term):
    graph = BASE + "graph/attack-personal"
    node = f"{BASE}id/organisation/leak-{uuid.uuid4().hex[:8]}"
    data = personal_triples(term, node)
    status, report = update(live, f"INSERT DATA {{ GRAPH <{graph}> {{ {data} }} }}")
    assert status == 422, report
    assert any(p["focus"] == node and p["severity"] == "error" for p in report["problems"])
    status, report = gsp(live, "POST", graph, data)
    assert status == 422, report
    assert lines(live, graph) == set()


def test_a_person_as_a_blank_node_is_refused_too(live):
    graph = BASE + "graph/attack-personal"
    status, report = update(live, f"INSERT DATA {{ GRAPH <{graph}> {{ _:p a "
                                  f"<{SCHEMA_HTTP}Person> ; <{SCHEMA_HTTP}email> \"x@y.org\" }} }}")
    assert status == 422, report
    assert lines(live, graph) == set()


def test_practicebank_validate_refuses_personal_data_in_every_namespace(tmp_path):
    data = "\n".join(personal_triples(term, f"{BASE}id/organisation/leak-{i}")
                     for i, term in enumerate(PERSONAL_PROPERTIES + PERSONAL_CLASSES))
    path = tmp_path / "leak.ttl"
    path.write_text(data, encoding="utf-8")
    cli = Path(sys.executable).with_name("practicebank")
    result = subprocess.run([str(cli if cli.exists() else shutil.which("practicebank")),
                             "validate", str(path), "--report", "json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr[-2000:]
    problems = json.loads(result.stdout)
    flagged = {p["focus"] for p in problems if p["severity"] == "error"}
    assert flagged == {f"{BASE}id/organisation/leak-{i}"
                       for i in range(len(PERSONAL_PROPERTIES + PERSONAL_CLASSES))}


def test_the_loader_drops_personal_data_in_every_namespace():
    store, graph = ox.Store(), ox.NamedNode(BASE + "graph/attack-load")
    terms = PERSONAL_PROPERTIES + PERSONAL_CLASSES
    data = "\n".join(personal_triples(term, f"{BASE}id/organisation/leak-{i}")
                     for i, term in enumerate(terms))
    store.load(data.encode(), format=ox.RdfFormat.TURTLE, to_graph=graph)
    warnings = drop_personal_data(store, graph, file="leak.nt")
    assert len(store) == 0
    assert {w.path for w in warnings} == set(terms)


# -- item 10: the system graphs, and removals -------------------------------------------------

NOTE = '<urn:x:note> <http://www.w3.org/2000/01/rdf-schema#comment> "not the loader" .'


def test_the_write_token_cannot_touch_provenance_by_any_route(live):
    graph = BASE + "graph/provenance"
    before = lines(live, graph)
    assert before  # the demo loads wrote their provenance
    for method in ("PUT", "POST", "DELETE"):
        status, error = gsp(live, method, graph, NOTE if method != "DELETE" else None)
        assert status == 403 and error["error"] == "admin_required", (method, error)
        assert "nothing was changed" in error["message"]
    for text in (f"INSERT DATA {{ GRAPH <{graph}> {{ {NOTE} }} }}",
                 f"DELETE WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                 f"DROP GRAPH <{graph}>", "CLEAR ALL",
                 "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s a "
                 "<https://w3id.org/practicebank/def/Load> ; ?p ?o } }"):
        status, error = update(live, text)
        assert status == 403 and error["error"] == "admin_required", (text, error)
    assert lines(live, graph) == before


@pytest.mark.parametrize("spelling", [
    "<https://w3id.org/practicebank/graph/provenanc\\u0065>",
    "<https://w3id.org/practicebank/graph/provenanc\\U00000065>",
    "g:provenance",
    "<./provenance>",
    "<provenance>",
    "<../graph/provenance>",
], ids=["\\u escape", "\\U escape", "prefixed", "dot segment", "BASE-relative",
        "dot-segments"])
def test_spellings_of_a_system_graph_in_an_update_are_caught(live, spelling):
    """What an update writes is worked out with the engine's own reading of its IRIs, so
    no spelling of graph/provenance gets a write past the admin check, or lost."""
    graph = BASE + "graph/provenance"
    before = lines(live, graph)
    text = (f"PREFIX g: <{BASE}graph/> BASE <{BASE}graph/> "
            f"INSERT {{ GRAPH {spelling} {{ {NOTE} }} }} WHERE {{}}")
    status, error = update(live, text)
    assert status == 403 and error["error"] == "admin_required", (text, error)
    assert lines(live, graph) == before


@pytest.mark.parametrize("name", ["ontology", "vocabularies", "reference", "organisations"])
def test_the_write_token_cannot_touch_the_model_or_reference_data(live, name):
    graph = f"{BASE}graph/{name}"
    before = lines(live, graph)
    assert gsp(live, "PUT", graph, NOTE)[0] == 403
    assert update(live, f"DELETE WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")[0] == 403
    assert lines(live, graph) == before


def test_the_admin_token_may_write_system_graphs(live):
    graph = BASE + "graph/provenance"
    before = lines(live, graph)
    assert gsp(live, "POST", graph, NOTE, token=ADMIN)[0] == 204
    assert lines(live, graph) == before | {NOTE}
    assert update(live, f"DELETE DATA {{ GRAPH <{graph}> {{ {NOTE} }} }}", token=ADMIN)[0] == 204
    assert lines(live, graph) == before


def test_what_a_write_actually_changes_decides_not_its_wording(live):
    # GRAPH ?g could reach the system graphs, but this one changes nothing there.
    status, error = update(live, "DELETE WHERE { GRAPH ?g { <urn:x:nothing> ?p ?o } }")
    assert status == 204, error


def test_without_an_admin_token_no_http_write_touches_system_graphs():
    store = PracticeStore()
    ensure_demo(store)
    client = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": TOKEN}).test_client()
    before = set(store.ox)
    response = client.post("/store?graph=" + urllib.parse.quote(BASE + "graph/provenance"),
                           data=NOTE, content_type="application/n-triples",
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 403
    assert "no admin token" in response.get_json()["message"]
    assert set(store.ox) == before


def test_a_removal_that_leaves_a_dangling_reference_is_refused(live):
    partners, curation = BASE + "graph/attack-partners", BASE + "graph/attack-curation"
    org = BASE + "id/organisation/attack-partner"
    practice = BASE + "id/practice/attack-pointing"
    typed = f"<{org}> a <{BASE}def/Organisation> ."
    assert gsp(live, "PUT", partners, f'{typed}\n<{org}> '
               '<http://www.w3.org/2004/02/skos/core#prefLabel> "Attack partner"@en .')[0] == 201
    link = f"<{practice}> <{BASE}def/organisation> <{org}> ."
    assert gsp(live, "PUT", curation, (
        f"<{practice}> a <{BASE}def/Practice> ; <http://purl.org/dc/terms/title> \"P\"@en ;"
        " <http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/p> .\n" + link))[0] == 201
    before = lines(live, partners), lines(live, curation)
    for status, report in (
            gsp(live, "DELETE", partners),
            gsp(live, "PUT", partners, f'<{org}> <http://www.w3.org/2004/02/skos/core#prefLabel> '
                                       '"Attack partner"@en .'),
            update(live, f"DELETE DATA {{ GRAPH <{partners}> {{ {typed} }} }}"),
            update(live, f"DELETE WHERE {{ GRAPH <{partners}> {{ <{org}> ?p ?o }} }}")):
        assert status == 422, report
        problem = next(p for p in report["problems"] if p["severity"] == "error")
        assert (problem["focus"], problem["path"]) == (practice, f"{BASE}def/organisation")
    assert (lines(live, partners), lines(live, curation)) == before
    # Once nothing points at it, the organisation may go.
    assert update(live, f"DELETE DATA {{ GRAPH <{curation}> {{ {link} }} }}")[0] == 204
    assert gsp(live, "DELETE", partners)[0] == 204


# -- item 8: large data blocks, and deadlines -----------------------------------------------------


def test_data_blocks_mean_what_oxigraph_makes_of_them():
    """The quads of INSERT DATA/DELETE DATA come from Oxigraph's own parser, chained
    operation by operation; its errors keep their line and column in the whole text."""
    store = PracticeStore()
    client = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": TOKEN}).test_client()

    def post(text: str):
        return client.post("/update", data=text.encode(), headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"})

    assert post("PREFIX x: <urn:x:> INSERT DATA { x:a x:b 1 } ; DELETE DATA { x:a x:b 1 } ;"
                " INSERT DATA { GRAPH x:g { x:c x:d 'two' } }").status_code == 204
    assert {str(q) for q in store.ox} == {'<urn:x:c> <urn:x:d> "two" <urn:x:g>'}
    bad = post("INSERT DATA { <urn:x:e> <urn:x:f> 3 } ;\nDELETE DATA { _:b <urn:x:d> 'two' }")
    assert bad.status_code == 400 and "2:" in bad.get_json()["message"]
    assert len(store.ox) == 1


def test_insert_data_and_delete_data_of_30000_triples(live):
    graph = BASE + "graph/attack-bulk"
    block = f"{{ GRAPH <{graph}> {{\n{practices(3000, 'bulk')}\n}} }}"
    assert len(PREFIXES + block) < 1024 * 1024  # under the default body limit
    status, error = update(live, f"{PREFIXES}INSERT DATA {block}")
    assert status == 204, error
    assert size(live, graph) == 30_000
    status, error = update(live, f"{PREFIXES}DELETE DATA {block}")
    assert status == 204, error
    assert size(live, graph) == 0


def test_a_write_that_cannot_be_checked_in_time_is_504_and_changes_nothing():
    store = PracticeStore()
    ensure_demo(store)
    client = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": TOKEN,
                         "QUERY_TIMEOUT": 0.2, "MAX_CONTENT_LENGTH": 4 << 20}).test_client()
    before = set(store.ox)
    text = f"{PREFIXES}INSERT DATA {{ GRAPH <{BASE}graph/slow> {{ {practices(3000, 's')} }} }}"
    response = client.post("/update", data=text.encode(), headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"})
    assert response.status_code == 504
    assert response.get_json()["error"] == "deadline_exceeded"
    assert set(store.ox) == before


def shadow_processes(under: Path) -> list[int]:
    """The update processes working on a copy of the store under ``under`` (this test's
    server's, not another test run's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                if b"shadow_update.py" in cmdline and str(under).encode() in cmdline:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_a_runaway_update_is_stopped_at_the_deadline(template, tmp_path):
    shutil.copytree(template, tmp_path / "store")
    with LiveServer(tmp_path / "store", tmp_path, "--workers", "-1",
                    "--query-timeout", "1") as live:
        started = time.monotonic()
        # A three-way cross join of the demo data (~3.5e10 rows) that keeps none of them.
        status, error = update(live, "INSERT { GRAPH <urn:x:runaway> { ?a <urn:x:p> ?d } } "
                                     "WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } "
                                     "GRAPH ?z { ?g ?h ?i } "
                                     "FILTER (CONCAT(STR(?c), STR(?f), STR(?i)) = 'never') }")
        elapsed = time.monotonic() - started
        assert status == 504 and error["error"] == "deadline_exceeded", error
        assert elapsed < 1 + 2.0
        assert not shadow_processes(tmp_path)  # killed: no CPU left burning
        assert size(live, "urn:x:runaway") == 0
        assert update(live, "INSERT DATA { GRAPH <urn:x:after> { <urn:x:a> <urn:x:b> 1 } }"
                      )[0] == 204


# -- item 7: SIGKILL at any moment leaves the store before or after ------------------------------

KILL_PRACTICES = 1500  # 15,000 triples: about a second of checking and applying here


def sample_quads(folder: Path) -> tuple[set[str], bool]:
    """Reopen the store (which finishes a journalled write) and read graph/sample, once the
    killed server's processes are gone (the kernel releases their lock as they go)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            store = PracticeStore(folder)
            break
        except StoreInUseError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    with store:
        quads = {str(q) for q in store.ox.quads_for_pattern(
            None, None, None, ox.NamedNode(SAMPLE))}
        return quads, store.replayed


def after_post(before: set[str], body: bytes) -> set[str]:
    graph = ox.NamedNode(SAMPLE)
    return before | {str(ox.Quad(q.subject, q.predicate, q.object, graph))
                     for q in ox.parse(body, format=ox.RdfFormat.TURTLE)}


def kill_during_post(folder: Path, tmp: Path, body: bytes, at) -> bool:
    """POST ``body`` to graph/sample on a fresh server and SIGKILL the whole server at
    ``at``: seconds after sending, "journal" (as soon as the write journal exists: the
    watching thread kills at once), "journal+" (30 ms later) or "end" (after the answer).
    True if a journal was ever seen."""
    server = LiveServer(folder, tmp, "--workers", "-1", "--max-content-length", str(4 << 20))
    journal = folder / WRITE_JOURNAL
    seen, done = threading.Event(), threading.Event()

    def kill() -> None:
        try:
            os.killpg(server.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    with server:
        def send() -> None:
            try:
                gsp(server, "POST", SAMPLE, body, timeout=60)
            except OSError:
                pass  # the server was killed under the request

        def watch() -> None:
            while not done.is_set():
                if journal.exists():
                    if at == "journal":
                        kill()
                    seen.set()
                    return
                time.sleep(0.001)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        sender = threading.Thread(target=send)
        sender.start()
        if at == "end":
            sender.join(timeout=60)
        elif str(at).startswith("journal"):
            assert seen.wait(timeout=30), "the write never reached its journal"
            time.sleep(0.03 if at == "journal+" else 0)
        else:
            time.sleep(at)
        kill()
        server.process.wait(timeout=10)
        sender.join(timeout=60)
    done.set()
    watcher.join(timeout=5)
    return journal.exists() or seen.is_set()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_a_refused_post_leaves_the_graph_as_before(template, tmp_path):
    body = turtle(KILL_PRACTICES, "refused", invalid=True)
    before, _ = sample_quads(template)
    for k, at in enumerate([0.05, 0.4, 0.9]):
        folder = tmp_path / f"round-{k}"
        shutil.copytree(template, folder)
        journalled = kill_during_post(folder, tmp_path, body, at)
        quads, replayed = sample_quads(folder)
        assert not journalled and not replayed, at  # a refused write never reaches the store
        assert quads == before, at


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_a_valid_post_leaves_the_graph_before_or_after(template, tmp_path):
    body = turtle(KILL_PRACTICES, "kept")
    before, _ = sample_quads(template)
    after = after_post(before, body)
    outcomes = {}
    for k, at in enumerate([0.05, 0.4, "journal", "journal+", "end"]):
        folder = tmp_path / f"round-{k}"
        shutil.copytree(template, folder)
        kill_during_post(folder, tmp_path, body, at)
        quads, replayed = sample_quads(folder)
        assert quads in (before, after), (at, len(quads), len(before), len(after))
        outcomes[at] = ("after" if quads == after else "before", replayed)
    assert outcomes["journal"] == ("after", True)  # killed while applying: finished on open
    assert outcomes["end"] == ("after", False)


# -- item 6, the endpoint's part: entities in an RDF/XML upload ---------------------------------

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
 <!ENTITY a "hahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahahaha">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:ex="http://example.org/">
 <rdf:Description rdf:about="http://example.org/s"><ex:p>&d;&d;&d;</ex:p></rdf:Description>
</rdf:RDF>
"""


@pytest.mark.parametrize("body", [
    LAUGHS,
    LAUGHS.replace("<!DOCTYPE rdf:RDF [", "<!doctype rdf:RDF ["),  # any case
    LAUGHS.replace('<?xml version="1.0"?>\n', '<?xml version="1.0"?>\n<!-- a note -->\n'),
    '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF SYSTEM "file:///etc/passwd">\n'
    + LAUGHS.split("]>\n", 1)[1],
], ids=["nested entities", "lower-case doctype", "after a comment", "external DTD"])
def test_rdfxml_uploads_with_a_doctype_are_refused_and_nothing_stored(live, body):
    graph = "urn:practicebank:test:laughs"
    status, _, answer = live.request(
        "PUT", f"{live.base}/store?graph={graph}", body=body.encode(),
        headers={"Content-Type": "application/rdf+xml", "Authorization": f"Bearer {TOKEN}"})
    assert status == 400, answer[:300]
    assert b"DOCTYPE" in answer or b"ENTITY" in answer
    assert len(answer) < 2000
    assert size(live, graph) == 0
