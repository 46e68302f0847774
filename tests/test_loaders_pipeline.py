"""The load pipeline around the readers: checksums, dry runs, provenance, incremental
validation, reports, the journal, and the store lock across processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.namespace import SH

from practicebank.cli import main
from practicebank.loaders.load import load_file
from practicebank.store import JOURNAL_NAME, PracticeStore, StoreInUseError

FIXTURES = Path(__file__).parent / "fixtures"
PAGE = "https://www.college.police.uk/support-forces/practices/"
HEADER = "title,does_it_work,purpose_focus,organisation,topics,source_url\n"


def snapshot(store: PracticeStore) -> set[str]:
    return {str(q) for q in store.ox}


def write(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def rows(n: int) -> list[str]:
    return [f"Trial {i},Promising,Prevention,Kent Police,Crime prevention,{PAGE}trial-{i}\n"
            for i in range(n)]


def test_an_unchanged_file_is_recognised_by_its_checksum_and_skipped(tmp_path, disk_store):
    path = write(tmp_path / "p.csv", rows(3))
    first = load_file(disk_store, path)
    before = snapshot(disk_store)
    again = load_file(disk_store, path)
    assert again.skipped and (again.added, again.removed) == (0, 0)
    assert snapshot(disk_store) == before  # not even a provenance record
    forced = load_file(disk_store, path, force=True)
    assert not forced.skipped and forced.added == forced.removed == 0
    write(path, rows(4))
    changed = load_file(disk_store, path)
    assert not changed.skipped and changed.added > 0 and first.triples < changed.triples


def test_dry_run_reports_the_difference_and_writes_nothing(tmp_path, disk_store):
    path = write(tmp_path / "p.csv", rows(3))
    preview = load_file(disk_store, path, dry_run=True)
    assert preview.dry_run and preview.added == preview.triples > 0 and preview.removed == 0
    assert len(disk_store.ox) == 0
    load_file(disk_store, path)
    before = snapshot(disk_store)
    write(path, rows(2))
    preview = load_file(disk_store, path, dry_run=True)
    assert preview.added == 0 and preview.removed > 0
    assert snapshot(disk_store) == before


def test_where_a_practice_came_from_and_when_it_was_last_loaded(tmp_path, disk_store):
    path = write(tmp_path / "p.csv", rows(2))
    load_file(disk_store, path, source_url="https://example.org/downloads/p.csv",
              licence="http://www.nationalarchives.gov.uk/doc/open-government-licence/"
                      "version/3/")
    write(path, rows(3))
    load_file(disk_store, path, source_url="https://example.org/downloads/p.csv")
    answer = list(disk_store.query("""
        PREFIX pb: <https://w3id.org/practicebank/def/>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?graph ?file ?sha ?url ?software ?lastLoaded ?added WHERE {
          GRAPH ?graph { <https://w3id.org/practicebank/id/practice/trial-0> a pb:Practice }
          GRAPH <https://w3id.org/practicebank/graph/provenance> {
            ?load pb:targetGraph ?graph ; prov:endedAtTime ?lastLoaded ;
                  pb:triplesAdded ?added ; prov:used ?source ;
                  prov:wasAssociatedWith/rdfs:label ?software .
            ?source a pb:SourceFile ; dcterms:title ?file ; pb:sha256 ?sha ;
                    dcterms:source ?url .
            FILTER NOT EXISTS { ?later pb:targetGraph ?graph ; prov:endedAtTime ?end
                                FILTER (?end > ?lastLoaded) }
          } } ORDER BY DESC(?added) LIMIT 1"""))
    assert len(answer) == 1
    row = answer[0]
    assert row["graph"].value == "https://w3id.org/practicebank/graph/p"
    assert row["file"].value == "p.csv" and len(row["sha"].value) == 64
    assert row["url"].value == "https://example.org/downloads/p.csv"
    assert row["software"].value.startswith("practicebank ")
    assert disk_store.query("""ASK { GRAPH ?g { ?f <http://purl.org/dc/terms/license>
        <http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/> ;
        a <https://w3id.org/practicebank/def/SourceFile> } }""")


def test_replacing_one_practice_validates_only_what_it_touches(tmp_path, disk_store):
    path = write(tmp_path / "p.csv", rows(40))
    assert load_file(disk_store, path).focus >= 80  # practices and their rating assessments
    changed = rows(40)
    changed[7] = changed[7].replace("Trial 7,Promising", "Trial 7,Worked")
    result = load_file(disk_store, write(path, changed))
    assert (result.added, result.removed) == (1, 1)
    assert 1 <= result.focus <= 2  # the assessment, and the practice that points at it
    changed[8] = changed[8].replace("Trial 8,Promising", "Trial 8,Brilliant")
    with pytest.raises(Exception, match="error"):
        load_file(disk_store, write(path, changed))


def test_a_killed_fill_is_undone_when_the_store_is_next_opened(tmp_path):
    """What a SIGKILL during a bulk fill leaves: the journal, and part of the graph."""
    folder = tmp_path / "store"
    store = PracticeStore(folder)
    load_file(store, write(tmp_path / "keep.csv", rows(2)))
    before = snapshot(store)
    store.fill_graph("half", (FIXTURES / "crime-counts.ttl").read_bytes(),
                     format=__import__("pyoxigraph").RdfFormat.TURTLE, load="urn:x:never")
    assert (folder / JOURNAL_NAME).is_file() and store.has_graph("half")
    store.close()
    reopened = PracticeStore(folder)
    assert reopened.recovered == "half"
    assert snapshot(reopened) == before and not (folder / JOURNAL_NAME).exists()
    reopened.close()


def test_a_second_writer_process_gets_a_clear_store_in_use_error(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from practicebank.store import "
         "PracticeStore; s = PracticeStore(sys.argv[1]); print('ready', flush=True); "
         "time.sleep(60)", str(tmp_path / "store")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreInUseError, match="in use by another process"):
            PracticeStore(tmp_path / "store")
        path = write(tmp_path / "p.csv", rows(1))
        result = CliRunner().invoke(main, ["load", str(path), "--store", str(tmp_path / "store")])
        assert result.exit_code == 2 and "in use" in result.output
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()
    deadline = time.monotonic() + 10
    while True:  # the lock goes with the process
        try:
            PracticeStore(tmp_path / "store").close()
            break
        except StoreInUseError:
            assert time.monotonic() < deadline
            time.sleep(0.1)


# -- the command line ---------------------------------------------------------------------------

def run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_reports_as_text_json_and_shacl_turtle(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("""<https://w3id.org/practicebank/id/practice/x>
        a <https://w3id.org/practicebank/def/Practice> ;
        <http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/x> .""",
                   encoding="utf-8")
    text = run("validate", bad)
    assert text.exit_code == 1 and "exactly one title" in text.output
    problems = json.loads(run("validate", bad, "--report", "json").stdout)
    assert any(p["path"] == "http://purl.org/dc/terms/title" for p in problems)
    turtle = run("validate", bad, "--report", "ttl")
    assert turtle.exit_code == 1
    report = Graph().parse(data=turtle.stdout, format="turtle")
    assert (None, SH.conforms, None) in report
    assert any(str(m).startswith("A practice needs exactly one title")
               for m in report.objects(None, SH.resultMessage))
    saved = tmp_path / "report.ttl"
    result = run("load", bad, "--store", tmp_path / "s", "--shacl-report", saved)
    assert result.exit_code == 1 and "store is unchanged" in result.output
    assert len(Graph().parse(saved, format="turtle")) > 5


def test_load_dry_run_and_checksum_messages(tmp_path):
    path = write(tmp_path / "p.csv", rows(2))
    store = tmp_path / "s"
    dry = run("load", path, "--dry-run", "--store", store)
    assert dry.exit_code == 0 and "Nothing was changed" in dry.output
    assert run("load", path, "--store", store).exit_code == 0
    again = run("load", path, "--store", store)
    assert again.exit_code == 0 and "unchanged since the last load" in again.output
    strict = run("load", path, "--store", store, "--force", "--strict")
    assert strict.exit_code == 1  # the practices have no summary: warnings fail with --strict
    assert "WARNING" in strict.output


def test_long_reports_are_summarised_by_message(tmp_path):
    path = write(tmp_path / "p.csv", rows(60))
    result = run("validate", path)
    assert result.exit_code == 0
    assert "more (--report json lists them all)" in result.output
    assert "This practice has no summary" in result.output
