"""The ``practicebank`` command as a user meets it: help, exit codes, reports, output."""

from __future__ import annotations

import csv
import io
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from practicebank.cli import main
from practicebank.store import PracticeStore

PAGE = "https://www.college.police.uk/support-forces/practices/"
COMMANDS = ["load", "validate", "convert", "query", "stats", "serve"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store"


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_reads_well(runner, command):
    result = run(runner, *([command] if command else []), "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    if command is None:
        for name in COMMANDS:
            assert name in result.output


def test_validate_exit_codes(runner, tmp_path, practices_csv):
    assert run(runner, "validate", practices_csv).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(f"title,does_it_work,source_url\nX,Brilliant,{PAGE}x\n", encoding="utf-8")
    result = run(runner, "validate", bad)
    assert result.exit_code == 1
    assert "row 2" in result.output and "column does_it_work" in result.output
    assert run(runner, "validate", tmp_path / "missing.csv").exit_code == 2
    assert run(runner, "validate", practices_csv, "--strict").exit_code == 1


def test_validate_json_report(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"title,does_it_work,source_url\nX,Brilliant,{PAGE}x\n", encoding="utf-8")
    result = run(runner, "validate", bad, "--report", "json")
    problems = json.loads(result.stdout)
    assert result.exit_code == 1
    assert {"row": 2, "column": "does_it_work", "value": "Brilliant"}.items() <= problems[0].items()


def test_load_then_query_as_csv(runner, store_path, practices_csv):
    result = run(runner, "load", practices_csv, "--graph", "sample", "--store", store_path)
    assert result.exit_code == 0, result.output
    assert "into graph/sample" in result.output
    query = ("PREFIX pb: <https://w3id.org/practicebank/def/> "
             "SELECT (COUNT(?p) AS ?n) WHERE { ?p a pb:Practice }")
    out = run(runner, "query", query, "--format", "csv", "--store", store_path)
    assert out.exit_code == 0
    assert list(csv.reader(io.StringIO(out.stdout))) == [["n"], ["28"]]


def test_query_from_file_and_graph_formats(runner, store_path, practices_csv, tmp_path):
    run(runner, "load", practices_csv, "--store", store_path)
    rq = tmp_path / "q.rq"
    rq.write_text("CONSTRUCT { ?p a <https://w3id.org/practicebank/def/Practice> } "
                  "WHERE { ?p a <https://w3id.org/practicebank/def/Practice> }")
    out = run(runner, "query", f"@{rq}", "--format", "nt", "--store", store_path)
    assert out.exit_code == 0 and out.stdout.count("\n") == 28
    wrong = run(runner, "query", f"@{rq}", "--format", "csv", "--store", store_path)
    assert wrong.exit_code == 2 and "a graph need one of" in wrong.output
    syntax = run(runner, "query", "SELEC nothing", "--store", store_path)
    assert syntax.exit_code == 2 and "not valid SPARQL" in syntax.output


def test_failed_load_exits_1_and_leaves_the_store_unchanged(runner, store_path, tmp_path):
    good = tmp_path / "p.csv"
    good.write_text(f"title,source_url\nKept,{PAGE}kept\n", encoding="utf-8")
    assert run(runner, "load", good, "--store", store_path).exit_code == 0
    with PracticeStore(store_path) as store:
        before = {str(q) for q in store.ox}
    good.write_text(f"title,does_it_work,source_url\nKept,Brilliant,{PAGE}kept\n",
                    encoding="utf-8")
    result = run(runner, "load", good, "--store", store_path)
    assert result.exit_code == 1
    assert "store is unchanged" in result.output
    with PracticeStore(store_path) as store:
        assert {str(q) for q in store.ox} == before


def test_store_in_use_is_a_usage_error(runner, store_path, practices_csv):
    holder = PracticeStore(store_path)
    try:
        result = run(runner, "stats", "--store", store_path)
        assert result.exit_code == 2 and "in use" in result.output
    finally:
        holder.close()


def test_stats_lists_counts_and_graphs(runner, store_path, practices_csv):
    run(runner, "load", practices_csv, "--graph", "sample", "--store", store_path)
    result = run(runner, "stats", "--store", store_path)
    assert result.exit_code == 0
    assert "practices" in result.output and "graph/sample" in result.output


def test_store_path_from_environment(runner, store_path, practices_csv, monkeypatch):
    monkeypatch.setenv("PRACTICEBANK_STORE", str(store_path))
    assert run(runner, "load", practices_csv).exit_code == 0
    assert (store_path).is_dir()


def test_convert_regenerates_the_bundled_sample(runner, tmp_path):
    from rdflib import Graph
    from rdflib.compare import isomorphic

    from practicebank.resources import SAMPLE, bundle_graph

    out = tmp_path / "sample.ttl"
    sample_csv = Path(__file__).resolve().parents[1] / "data" / "sample-practices.csv"
    result = run(runner, "convert", sample_csv, "--graph", "sample", "-o", out)
    assert result.exit_code == 0
    assert isomorphic(Graph().parse(out), bundle_graph(SAMPLE))


def test_serve_demo_answers_over_http(tmp_path):
    """The README's first command, as a real process on a loopback port."""
    import json
    import socket
    import subprocess
    import sys
    import time
    import urllib.parse
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "practicebank.cli", "serve", "--demo", "--port",
             str(port), "--store", str(tmp_path / "store")],
            stdout=subprocess.DEVNULL, stderr=sink,
        )
    query = ("PREFIX pb: <https://w3id.org/practicebank/def/> SELECT "
             "(COUNT(DISTINCT ?p) AS ?practices) (COUNT(DISTINCT ?f) AS ?forces) "
             "WHERE { { ?p a pb:Practice } UNION { ?f a pb:PoliceForce } }")
    url = f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode({"query": query})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    row = json.load(response)["results"]["bindings"][0]
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "server did not answer in 60 s"
                time.sleep(0.3)
        # 28 sample practices and 71 from the corpus (tests/test_model.py works it out)
        assert (row["practices"]["value"], row["forces"]["value"]) == ("99", "51")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_load_of_rdf_with_a_contact_email_exits_1_unless_asked_to_drop_it(
        runner, store_path, tmp_path):
    """Personal data in RDF is refused by default (exit 1, node, property and the shape's
    message, nothing changed); --drop-personal-data drops it with a warning instead."""
    leak = tmp_path / "leak.ttl"
    leak.write_text(f"""
        <https://w3id.org/practicebank/id/practice/leak>
            a <https://w3id.org/practicebank/def/Practice> ;
            <http://purl.org/dc/terms/title> "Leak"@en ;
            <http://www.w3.org/ns/prov#wasDerivedFrom> <{PAGE}leak> ;
            <http://xmlns.com/foaf/0.1/mbox> <mailto:officer@example.police.uk> .""",
                    encoding="utf-8")
    refused = run(runner, "load", leak, "--store", store_path)
    assert refused.exit_code == 1
    assert "https://w3id.org/practicebank/id/practice/leak" in refused.output
    assert "http://xmlns.com/foaf/0.1/mbox" in refused.output
    assert "personal data" in refused.output
    with PracticeStore(store_path) as store:
        assert len(store.ox) == 0
    dropped = run(runner, "load", leak, "--drop-personal-data", "--store", store_path)
    assert dropped.exit_code == 0 and "personal data" in dropped.output
    with PracticeStore(store_path) as store:
        assert not store.query("ASK { ?s <http://xmlns.com/foaf/0.1/mbox> ?o }")
        assert store.query("ASK { ?s <http://purl.org/dc/terms/title> \"Leak\"@en }")
    strict = run(runner, "load", leak, "--drop-personal-data", "--strict", "--force",
                 "--store", tmp_path / "other")
    assert strict.exit_code == 1


def test_serve_refuses_bad_settings_before_touching_the_store(runner, tmp_path):
    store = tmp_path / "store"
    result = run(runner, "serve", "--threads", "0", "--store", store)
    assert result.exit_code == 2
    assert "--threads must be at least 1" in result.output
    assert not store.exists()


def test_serve_says_so_when_its_port_is_taken(runner, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(runner, "serve", "--port", port, "--store", tmp_path / "store")
    assert result.exit_code == 2
    assert f"Cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port" in result.output
