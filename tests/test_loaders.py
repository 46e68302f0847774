"""Loading files into a real on-disk Oxigraph store: conversion of messy CSV, validation
before commit, all-or-nothing replacement of a graph, provenance, and personal data."""

from __future__ import annotations

from pathlib import Path

import pytest

from practicebank.loaders.concepts import bundled_index, clean, is_absent, split_values
from practicebank.loaders.load import load_file, validate_files
from practicebank.loaders.practices_csv import map_headings, parse_date
from practicebank.loaders.readers import InputError, read_file
from practicebank.problems import ValidationFailed
from practicebank.store import PracticeStore, StoreInUseError

HEADER = "title,does_it_work,purpose_focus,organisation,topics,source_url\n"
PAGE = "https://www.college.police.uk/support-forces/practices/"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(store: PracticeStore) -> set:
    return {str(q) for q in store.ox}


# -- cleaning messy values -------------------------------------------------------------------

@pytest.mark.parametrize("value", ["", "  ", "(blank in listing)", "(n/a)", "(unknown)",
                                   "(not captured)", "(n/a – smarter practice format)", None])
def test_placeholders_are_absent(value):
    assert is_absent(value)


def test_values_keep_labels_with_brackets_but_lose_annotations():
    index = bundled_index()
    assert index.find("topic", "Violence (other)").endswith("/topic/violence-other")
    assert index.find("region", "South East (as displayed)").endswith("/region/south-east")
    assert index.find("does-it-work", "untested - new or innovative").endswith(
        "/does-it-work/untested-new-or-innovative")
    assert index.find("does-it-work", "Didn’t work").endswith("/does-it-work/didnt-work")
    assert index.find("does-it-work", "Brilliant") is None
    assert clean("Smarter practice (listed as 'Project Vigilant – TVP')") == "Smarter practice"


def test_semicolons_inside_brackets_do_not_split():
    assert split_values("Possibly X (a; b); Police") == ["Possibly X (a; b)", "Police"]


def test_listing_headings_and_both_purpose_headings_are_accepted():
    listing = map_headings(["Title", "Summary", "Does it work?", "Focus", "Organisation"])
    assert listing == {"title": "Title", "summary": "Summary", "rating": "Does it work?",
                       "purpose": "Focus", "organisation": "Organisation"}
    assert map_headings(["Title", "Purpose"])["purpose"] == "Purpose"


@pytest.mark.parametrize("text,expected", [
    ("2024-12-17", "2024-12-17"), ("17 Dec 2024", "2024-12-17"), ("July 2023", "2023-07"),
    ("2023-07", "2023-07"), ("2023", "2023"), ("soon", None),
])
def test_dates_are_kept_as_precise_as_written(text, expected):
    value = parse_date(text)
    assert (str(value) if value is not None else None) == expected


# -- conversion of the sample ----------------------------------------------------------------

def test_sample_conversion_links_forces_and_organisations(practices_csv):
    _, conversion = read_file(practices_csv, graph_name="sample")
    g = conversion.graph
    q = """PREFIX pb: <https://w3id.org/practicebank/def/>
           SELECT ?org WHERE { <%s> pb:organisation ?org }"""
    org = {str(r.org) for r in g.query(q % "https://w3id.org/practicebank/id/practice/"
                                       "disrupting-predatory-behaviour-night-time-economy-"
                                       "project-vigilant")}
    assert org == {"https://w3id.org/practicebank/id/force/thames-valley"}
    hampshire = {str(r.org) for r in g.query(
        q % "https://w3id.org/practicebank/id/practice/"
        "senior-oversight-officers-hampshire-isle-of-wight-constabulary")}
    assert hampshire == {"https://w3id.org/practicebank/id/force/hampshire"}
    # placeholders do not become organisations
    assert not list(g.query(q % "https://w3id.org/practicebank/id/practice/clear-hold-build"))


def test_uncertain_values_are_warned_about_not_recorded(practices_csv):
    _, conversion = read_file(practices_csv, graph_name="sample")
    warned = [p for p in conversion.problems if p.column == "recognised_practice"]
    assert len(warned) == 1 and warned[0].row == 11 and "uncertain" in warned[0].message
    assert not conversion.graph.query(
        "ASK { <https://w3id.org/practicebank/id/practice/rapid-video-response-rvr-domestic-"
        "abuse> <https://w3id.org/practicebank/def/recognition> ?r }").askAnswer


# -- loading -----------------------------------------------------------------------------------

def test_csv_loads_into_its_own_graph_with_provenance(tmp_path, disk_store):
    row = ("Street lighting trial,Promising,Prevention,Kent Police,Crime prevention,"
           f"{PAGE}street-lighting\n")
    path = write(tmp_path, "my-practices.csv", HEADER + row)
    result = load_file(disk_store, path)
    assert result.graph == "my-practices" and result.added == result.triples > 0
    assert disk_store.query("""
        PREFIX pb: <https://w3id.org/practicebank/def/>
        ASK { GRAPH <https://w3id.org/practicebank/graph/my-practices> {
            <https://w3id.org/practicebank/id/practice/street-lighting>
                pb:organisation <https://w3id.org/practicebank/id/force/kent> } }""")
    rows = list(disk_store.query("""
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX pb: <https://w3id.org/practicebank/def/>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?name ?sum ?added ?end WHERE {
          GRAPH <https://w3id.org/practicebank/graph/provenance> {
            ?load a pb:Load ; prov:generated <https://w3id.org/practicebank/graph/my-practices> ;
                  prov:used ?file ; pb:triplesAdded ?added ; prov:endedAtTime ?end .
            ?file dcterms:title ?name ; pb:sha256 ?sum } }"""))
    assert len(rows) == 1
    assert rows[0]["name"].value == "my-practices.csv"
    assert len(rows[0]["sum"].value) == 64 and int(rows[0]["added"].value) == result.triples


def test_reload_replaces_the_graph_and_counts_the_difference(tmp_path, disk_store):
    path = write(tmp_path, "p.csv", HEADER + f"Trial A,Promising,Prevention,,,{PAGE}a\n"
                 f"Trial B,Worked,Diversion,,,{PAGE}b\n")
    load_file(disk_store, path)
    write(tmp_path, "p.csv", HEADER + f"Trial A,Promising,Prevention,,,{PAGE}a\n")
    second = load_file(disk_store, path)
    assert second.added == 0 and second.removed > 0
    assert not disk_store.query(
        "ASK { <https://w3id.org/practicebank/id/practice/b> ?p ?o }")
    assert disk_store.query("ASK { <https://w3id.org/practicebank/id/practice/a> ?p ?o }")


def test_unknown_rating_fails_with_row_and_column_and_changes_nothing(tmp_path, disk_store):
    good = write(tmp_path, "p.csv", HEADER + f"Trial A,Promising,Prevention,,,{PAGE}a\n")
    load_file(disk_store, good)
    before = snapshot(disk_store)
    bad = write(tmp_path, "p.csv", HEADER + f"Trial A,Promising,Prevention,,,{PAGE}a\n"
                f"Trial C,Brilliant,Prevention,,,{PAGE}c\n")
    with pytest.raises(ValidationFailed) as failed:
        load_file(disk_store, bad)
    [problem] = [p for p in failed.value.problems if p.is_error]
    assert (problem.row, problem.column, problem.value) == (3, "does_it_work", "Brilliant")
    assert "Worked" in problem.message
    assert snapshot(disk_store) == before


def test_practice_without_title_fails_naming_row_path_and_shape_message(tmp_path, disk_store):
    bad = write(tmp_path, "p.csv", HEADER + f",Promising,Prevention,,,{PAGE}untitled-thing\n")
    with pytest.raises(ValidationFailed) as failed:
        load_file(disk_store, bad)
    [problem] = [p for p in failed.value.problems if p.is_error]
    assert problem.row == 2
    assert problem.focus == "https://w3id.org/practicebank/id/practice/untitled-thing"
    assert problem.path == "http://purl.org/dc/terms/title"
    assert "exactly one title" in problem.message
    assert len(disk_store.ox) == 0


def test_rdf_with_a_contact_email_is_refused_or_dropped_when_asked(tmp_path, disk_store):
    good = write(tmp_path, "p.csv", HEADER + f"Trial A,Promising,Prevention,,,{PAGE}a\n")
    load_file(disk_store, good)
    before = snapshot(disk_store)
    bad = write(tmp_path, "leak.ttl", f"""
        @prefix pb: <https://w3id.org/practicebank/def/> .
        <https://w3id.org/practicebank/id/practice/leak> a pb:Practice ;
            <http://purl.org/dc/terms/title> "Leak"@en ;
            <http://www.w3.org/ns/prov#wasDerivedFrom> <{PAGE}leak> ;
            <https://schema.org/email> "officer@example.police.uk" .""")
    with pytest.raises(ValidationFailed) as failed:
        load_file(disk_store, bad)
    errors = [p for p in failed.value.problems if p.is_error]
    assert [(p.focus, p.path) for p in errors] == [
        ("https://w3id.org/practicebank/id/practice/leak", "https://schema.org/email")]
    assert "personal data" in errors[0].message
    assert snapshot(disk_store) == before
    with pytest.raises(ValidationFailed):
        load_file(disk_store, bad, drop_personal=True, strict=True)
    assert snapshot(disk_store) == before
    result = load_file(disk_store, bad, drop_personal=True)
    assert [p.path for p in result.problems if "personal data" in p.message] == [
        "https://schema.org/email"]
    assert not disk_store.query("ASK { ?s <https://schema.org/email> ?o }")
    assert disk_store.query("ASK { ?s <http://purl.org/dc/terms/title> \"Leak\"@en }")


def test_personal_data_columns_are_dropped_with_a_warning(tmp_path):
    path = write(tmp_path, "p.csv", "title,contact,email,source_url\n"
                 f"Trial A,Jo Bloggs,jo@example.org,{PAGE}a\n")
    _, conversion = read_file(path)
    warned = {p.column for p in conversion.problems if "personal data" in p.message}
    assert warned == {"contact", "email"}
    text = conversion.graph.serialize(format="nt")
    assert "Bloggs" not in text and "jo@example.org" not in text


def test_a_file_can_refer_to_things_already_in_the_store(tmp_path, disk_store):
    load_file(disk_store, write(tmp_path, "p.csv", HEADER + f"Trial A,,,,,{PAGE}a\n"))
    evaluation = write(tmp_path, "eval.ttl", """
        @prefix pb: <https://w3id.org/practicebank/def/> .
        <https://w3id.org/practicebank/id/evaluation/a> a pb:Evaluation ;
            pb:evaluates <https://w3id.org/practicebank/id/practice/a> ;
            pb:studyDesign <https://w3id.org/practicebank/concept/study-design/pre-post> ;
            <http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/report> .""")
    assert load_file(disk_store, evaluation).triples == 4
    # on its own, the evaluation points at a practice nobody has described
    problems = validate_files([evaluation])
    assert any(p.is_error and p.path.endswith("/evaluates") for p in problems)


def test_bad_syntax_and_unknown_formats_are_clear(tmp_path, disk_store):
    broken = write(tmp_path, "broken.ttl", "<a> <b> .")
    with pytest.raises(ValidationFailed) as failed:
        load_file(disk_store, broken)
    assert "Not valid ttl" in failed.value.problems[0].message
    with pytest.raises(InputError, match="--format"):
        load_file(disk_store, write(tmp_path, "data.xlsx", "x"))
    with pytest.raises(InputError, match="Title column"):
        load_file(disk_store, write(tmp_path, "odd.csv", "a,b\n1,2\n"))
    assert len(disk_store.ox) == 0


def test_a_second_writer_gets_a_clear_store_in_use_error(tmp_path):
    first = PracticeStore(tmp_path / "store")
    try:
        with pytest.raises(StoreInUseError, match="in use"):
            PracticeStore(tmp_path / "store")
    finally:
        first.close()


def test_ntriples_load_in_blocks_keeps_every_triple_and_blank_node(tmp_path):
    """Bulk loads in blocks of whole lines; a blank node whose lines fall in two blocks is
    still one node."""
    import io

    import pyoxigraph as ox

    lines = [f"<https://example.org/s{i}> <https://example.org/p> \"{i}\" .\n"
             for i in range(50)]
    lines += ["_:b <https://example.org/p> \"x\" .\n"] + lines[:3] + [
        "_:b <https://example.org/q> \"y\" .\n"]
    store = PracticeStore(tmp_path / "store")
    try:
        target = ox.NamedNode("https://w3id.org/practicebank/graph/blocks")
        store.fill_lines(io.BytesIO("".join(lines).encode()), target, block=100)
        assert store.graph_size("blocks") == 52
        rows = list(store.query("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE "
                                "{ ?s ?p ?o FILTER isBlank(?s) }"))
        assert rows[0]["n"].value == "1"
    finally:
        store.close()


def test_replacing_a_large_graph_stages_on_disk_and_cleans_up(tmp_path, monkeypatch):
    from practicebank import staging

    monkeypatch.setattr(staging, "ON_DISK_STAGING", 1)
    store = PracticeStore(tmp_path / "store")
    try:
        path = write(tmp_path, "p.csv", HEADER + f"Trial A,Promising,Prevention,,,{PAGE}a\n"
                     f"Trial B,Worked,Diversion,,,{PAGE}b\n")
        load_file(store, path)
        write(tmp_path, "p.csv", HEADER + f"Trial A,Promising,Prevention,,,{PAGE}a\n")
        result = load_file(store, path)
        assert result.removed > 0 and result.added == 0
        assert not store.query("ASK { <https://w3id.org/practicebank/id/practice/b> ?p ?o }")
        assert not list(tmp_path.glob(".practicebank-staging-*"))
    finally:
        store.close()
