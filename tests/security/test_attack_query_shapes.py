"""Crashing the engine with the shape of a query: deep nesting, long chains, many clauses.

The probe crashed both worker processes (a segfault in Oxigraph's recursive parser) with
2,000 nested ``{ }``, 5,000 nested ``( )``, 10,000 OPTIONALs and a 100,000-term path, and the
pool sent the same query to the standby, which died too. Here every such shape, and the
other nesting constructs a fix tuned to those could miss, is a 400 before dispatch; the
worst shapes *under* the limits run to the end on the threads' stacks, as queries and as
updates; and the workers are the same processes afterwards.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from endpoint_live import TOKEN, LiveServer, wait_for_workers

from practicebank.loaders.load import ensure_demo
from practicebank.store import PracticeStore

PATH = "<http://example.org/p>"


def past_the_limits() -> dict[str, str]:
    """Queries past the default limits (depth 60, clauses 200, operators 1000)."""
    return {
        "2,000 nested { }": "SELECT * WHERE " + "{" * 2000 + " ?s ?p ?o " + "}" * 2000,
        "5,000 nested ( )": "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }",
        "10,000 OPTIONALs": "SELECT * WHERE { ?s ?p ?o " + " OPTIONAL { ?s ?p ?o }" * 10000
                            + " }",
        "nested OPTIONALs": "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 500
                            + "}" * 500 + " }",
        "100,000-term path alternation": "SELECT * WHERE { ?s "
                                         + "|".join(["<p>"] * 100000) + " ?o }",
        "5,000-step path sequence": "SELECT * WHERE { ?s " + "/".join([PATH] * 5000) + " ?o }",
        "nested path groups": "SELECT * WHERE { ?s " + "(" * 3000 + PATH + ")" * 3000 + " ?o }",
        "20,000 UNIONs": "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * 20000) + " }",
        "20,000-term sum": "SELECT * WHERE { BIND(" + "+".join(["1"] * 20000) + " AS ?x) }",
        "20,000 negations": "SELECT * WHERE { FILTER(" + "!" * 20000 + "true) }",
        "nested blank nodes": "SELECT * WHERE { ?s ?p " + "[ <http://e/p> " * 3000 + "1"
                              + "]" * 3000 + " }",
        "nested sub-SELECTs": "SELECT * WHERE " + "{ SELECT * WHERE " * 1000 + "{ ?s ?p ?o }"
                              + "}" * 1000,
        "nested EXISTS": "SELECT * WHERE { ?s ?p ?o " + "FILTER EXISTS { ?s ?p ?o " * 1000
                         + "}" * 1000 + " }",
        "nested function calls": "SELECT * WHERE { BIND(" + "STR(" * 5000 + "1" + ")" * 5000
                                 + " AS ?x) }",
        "5,000 FILTERs": "SELECT * WHERE { ?s ?p ?o " + " FILTER(?o != 1)" * 5000 + " }",
        "10,000 MINUS": "SELECT * WHERE { ?s ?p ?o " + " MINUS { ?s ?p ?o }" * 10000 + " }",
    }


def at_the_limits() -> dict[str, str]:
    """The worst shapes that pass the default limits: they must run, not crash. (A path
    *sequence* that long is a CPU hog rather than a stack risk, ~40 s on an empty store,
    which the deadline handles like any other runaway; alternatives nest just as deep.)"""
    path = "|".join([PATH] * 997)
    return {
        "58 deep, a 997-term path, 199 OPTIONALs": (
            "SELECT * WHERE " + "{" * 58 + f" ?s {path} ?o "
            + " OPTIONAL { ?s ?p ?o }" * 199 + "}" * 58),
        "58 nested ( ) around a 999-term sum": (
            "SELECT * WHERE { FILTER(" + "(" * 58 + "+".join(["1"] * 999) + ")" * 58 + ") }"),
        "999 negations": "SELECT * WHERE { FILTER(" + "!" * 998 + "true) }",
        "59 nested OPTIONALs": ("SELECT * WHERE { ?s ?p ?o " + " OPTIONAL { ?s ?p ?o " * 59
                                + "}" * 59 + " }"),
        "58 nested path groups of 999 alternatives": (
            "SELECT * WHERE { ?s " + "(" * 58 + "|".join([PATH] * 999) + ")" * 58 + " ?o }"),
        "199 UNIONs": "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * 199) + " }",
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shapes")
    PracticeStore(tmp / "store").close()
    with LiveServer(tmp / "store", tmp, "--workers", "2", "--worker-threads", "2") as live:
        live.query("ASK {}")
        yield live


def test_queries_past_the_limits_are_a_clear_400_and_crash_nothing(server):
    workers = sorted(server.children())
    for name, query in past_the_limits().items():
        status, _, body = server.request(
            "POST", f"{server.base}/sparql", body=query.encode(),
            headers={"Content-Type": "application/sparql-query", "Accept": "application/json"})
        assert status == 400, (name, body[:300])
        error = json.loads(body)
        assert error["error"] == "query_too_complex", (name, error)
        assert "max_query_" in error["message"], error  # it names the setting
    assert sorted(server.children()) == workers, "a worker died"
    assert server.count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == 0


def test_updates_past_the_limits_are_a_clear_400_too(server):
    for name, query in list(past_the_limits().items())[:6]:
        where = query.split("WHERE", 1)[1]
        status, _, body = server.update(f"INSERT {{ <urn:a> <urn:b> 1 }} WHERE {where}")
        assert status == 400, (name, body[:300])
        assert json.loads(body)["error"] == "query_too_complex", name
    assert server.count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == 0


def test_the_worst_shapes_under_the_limits_run_without_crashing_anything(server):
    workers = sorted(server.children())
    for name, query in at_the_limits().items():
        status, _, body = server.query(query)
        assert status == 200, (name, body[:300])
    assert sorted(server.children()) == workers, "a worker died"


def test_updates_at_the_limits_run_in_the_server_without_crashing_it(server):
    path = "|".join([PATH] * 996)
    update = ("INSERT { <urn:a> <urn:b> ?o } WHERE " + "{" * 57 + f" ?s {path} ?o "
              + " OPTIONAL { ?s ?p ?o }" * 199 + "}" * 57)
    status, _, body = server.update(update, token=TOKEN)
    assert status == 204, body[:300]
    status, _, body = server.update("INSERT DATA { <urn:a> <urn:b> ("
                                    + " ( " * 58 + "1" + " ) " * 58 + ") }", token=TOKEN)
    assert status == 204, body[:300]
    assert server.request("GET", f"{server.base}/health")[0] == 200


def test_other_clients_are_served_while_an_attacker_sends_deep_queries(server):
    """The probe: four clients sending crashing queries made 65 of 80 other queries fail."""
    stop = threading.Event()
    attack = past_the_limits()["2,000 nested { }"]

    def attacker() -> None:
        for _ in range(40):
            if stop.is_set():
                return
            server.request("POST", f"{server.base}/sparql", body=attack.encode(),
                           headers={"Content-Type": "application/sparql-query"})

    attackers = [threading.Thread(target=attacker) for _ in range(4)]
    for thread in attackers:
        thread.start()
    try:
        answers = [server.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]
                   for _ in range(40)]
    finally:
        stop.set()
        for thread in attackers:
            thread.join()
    assert answers == [200] * 40


def test_the_limits_are_settings(tmp_path):
    PracticeStore(tmp_path / "store").close()
    with LiveServer(tmp_path / "store", tmp_path, "--max-query-depth", "5",
                    "--max-query-clauses", "2", "--max-query-operators", "3") as live:
        assert live.query("SELECT * WHERE " + "{" * 4 + "}" * 4)[0] == 200
        status, _, body = live.query("SELECT * WHERE " + "{" * 6 + "}" * 6)
        assert status == 400 and b"max_query_depth" in body
        status, _, body = live.query("SELECT * WHERE { OPTIONAL {} OPTIONAL {} OPTIONAL {} }")
        assert status == 400 and b"max_query_clauses" in body
        status, _, body = live.query(f"SELECT * WHERE {{ ?s {PATH}/{PATH}/{PATH}/{PATH} ?o }}")
        assert status == 400 and b"max_query_operators" in body
        # data blocks do not count operators: a long INSERT DATA of negative numbers is fine
        data = " ".join(f"<urn:s{i}> <urn:p> -{i} ." for i in range(50))
        assert live.update(f"INSERT DATA {{ GRAPH <urn:g> {{ {data} }} }}")[0] == 204


def test_a_crash_blames_its_own_query_and_spares_the_others(tmp_path):
    """With the limits lifted, a query crashes its worker (the probe's case). Only that query
    fails, with a 500, and is never run again (the probe saw the pool send it to the
    standby, which died too); a query the same process was answering at the same time runs
    again and is answered; the other process is untouched."""
    store = PracticeStore(tmp_path / "store")
    ensure_demo(store)
    store.close()
    lifted = ["--max-query-depth", "10000000", "--max-query-clauses", "10000000",
              "--max-query-operators", "10000000"]
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"  # ~1e7 rows, ~1 s
    crash = "SELECT * WHERE " + "{" * 100000 + "}" * 100000
    with LiveServer(tmp_path / "store", tmp_path, "--workers", "2", "--worker-threads", "2",
                    "--query-timeout", "60", *lifted) as live:
        pids = wait_for_workers(live)
        started = time.monotonic()
        status, _, body = live.query(slow, client_timeout=60)
        assert status == 200
        alone, expected = time.monotonic() - started, json.loads(body)
        pids = wait_for_workers(live)
        answer: dict = {}
        innocent = threading.Thread(
            target=lambda: answer.update(result=live.query(slow, client_timeout=60)))
        innocent.start()
        time.sleep(alone / 4)  # the innocent query is running on the first process
        status, _, body = live.request(
            "POST", f"{live.base}/sparql", body=crash.encode(),
            headers={"Content-Type": "application/sparql-query"})
        innocent.join()
        assert status == 500, body[:300]
        assert json.loads(body)["error"] == "worker_crashed"
        status, _, body = answer["result"]
        assert status == 200, body[:300]
        assert json.loads(body) == expected
        after = wait_for_workers(live)
        assert len(set(pids) & set(after)) == 1, "exactly one process died and was replaced"
        assert "crashed in thread" in live.log.read_text()

