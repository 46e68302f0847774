"""Dereferenced IRIs are read in the server process, without a worker's deadline, so every
description must be bounded by construction: a resource with a huge number of triples, a
blank-node cycle or a chain thousands deep, a concept linked from many thousands, a page
number in the millions. And ``practicebank restore``, a way in for whole files, refuses
oversized and malformed dumps and leaves the store as it was.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from practicebank.cli import main
from practicebank.endpoint import create_app
from practicebank.endpoint.descriptions import INCOMING_PAGE, MAX_DEPTH, MAX_TRIPLES
from practicebank.store import PracticeStore

BASE = "https://w3id.org/practicebank/"
GRAPH = ox.NamedNode(BASE + "graph/attack")
P = "https://w3id.org/practicebank/def/"


def client_for(turtle: str):
    store = PracticeStore()
    store.ox.load(turtle.encode(), ox.RdfFormat.TURTLE, to_graph=GRAPH)
    return create_app({"TESTING": True, "STORE": store}).test_client()


def test_a_resource_with_a_huge_description_is_cut_and_says_so():
    n = MAX_TRIPLES * 3
    client = client_for("\n".join(
        f'<{BASE}id/practice/big> <{P}keyword> "k{i}" .' for i in range(n)))
    started = time.monotonic()
    response = client.get("/id/practice/big.nt")
    assert response.status_code == 200
    triples = list(ox.parse(response.data, ox.RdfFormat.N_TRIPLES))
    assert len(triples) <= MAX_TRIPLES + 10
    page = client.get("/id/practice/big.html")
    assert page.status_code == 200 and b"shows its first part" in page.data
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("shape", ["cycle", "chain"])
def test_blank_node_cycles_and_deep_chains_end(shape):
    subject = f"<{BASE}id/practice/knot>"
    if shape == "cycle":
        text = f"{subject} <{P}cost> _:a . _:a <{P}next> _:b . _:b <{P}next> _:a ."
    else:
        text = f"{subject} <{P}cost> _:b0 .\n" + "\n".join(
            f"_:b{i} <{P}next> _:b{i + 1} ." for i in range(5000))
    client = client_for(text)
    for extension in ("nt", "html", "json"):
        response = client.get(f"/id/practice/knot.{extension}")
        assert response.status_code == 200, extension
    triples = list(ox.parse(client.get("/id/practice/knot.nt").data, ox.RdfFormat.N_TRIPLES))
    assert len(triples) <= MAX_DEPTH + 3


def test_incoming_links_are_paged_and_a_huge_page_number_is_refused_cheaply():
    concept = f"<{BASE}concept/topic/popular>"
    n = INCOMING_PAGE * 50
    client = client_for("\n".join(
        f"<{BASE}id/practice/p{i}> <{P}topic> {concept} ." for i in range(n)))
    response = client.get("/concept/topic/popular.nt")
    incoming = [t for t in ox.parse(response.data, ox.RdfFormat.N_TRIPLES)
                if t.predicate.value == P + "topic"]
    assert len(incoming) == INCOMING_PAGE
    for page in ("99999999999999999999", "-1", "abc", "1e9"):
        started = time.monotonic()
        response = client.get(f"/concept/topic/popular.nt?incoming={page}")
        assert response.status_code == 200
        assert time.monotonic() - started < 10


# -- restore --------------------------------------------------------------------------------

@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    PracticeStore(path).close()
    return path


def graph_count(path: Path) -> int:
    store = PracticeStore(path)
    try:
        return len(store.named_graphs())
    finally:
        store.close()


def test_restore_refuses_a_malformed_dump_and_changes_nothing(tmp_path, store_path):
    dump = tmp_path / "bad.nq"
    dump.write_text(f'<{BASE}id/practice/x> <{P}title> "ok" <{BASE}graph/sample> .\n'
                    "this is not N-Quads <\n")
    before = graph_count(store_path)
    result = CliRunner().invoke(main, ["restore", str(dump), "--store", str(store_path)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert graph_count(store_path) == before


def test_restore_stops_a_gzip_bomb_at_the_size_limit(tmp_path, store_path):
    dump = tmp_path / "bomb.nq.gz"
    line = f'<{BASE}id/practice/x> <{P}keyword> "{"a" * 900}" <{BASE}graph/sample> .\n'
    with gzip.open(dump, "wt") as out:
        for _ in range(20_000):  # ~18 MB unpacked, a few KB packed
            out.write(line)
    result = CliRunner().invoke(main, ["restore", str(dump), "--store", str(store_path),
                                       "--max-file-bytes", str(1024 * 1024)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert graph_count(store_path) == 0


def test_forged_forwarded_headers_are_ignored_unless_proxies_are_declared(demo_store):
    """With the default ``proxy_hops = 0`` a client cannot move the server's links to a host
    of its choosing by sending X-Forwarded-Host (a cache in front would keep the poisoned
    redirect for everyone)."""
    client = create_app({"TESTING": True, "STORE": demo_store}).test_client()
    hop = client.get("/id/practice/clear-hold-build", headers={
        "Accept": "text/html", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https",
        "X-Forwarded-Prefix": "/phish"})
    assert hop.status_code == 303
    assert hop.headers["Location"] == "http://localhost/id/practice/clear-hold-build.html"
