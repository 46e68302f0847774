"""Every input kind loads from a real file into a real on-disk store, and each has invalid
fixtures that fail with the right report and leave the store unchanged."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from practicebank.loaders.load import load_file
from practicebank.loaders.readers import InputError
from practicebank.problems import ValidationFailed
from practicebank.resources import SAMPLE
from practicebank.store import PracticeStore, graph_node

FIXTURES = Path(__file__).parent / "fixtures"
ID = "https://w3id.org/practicebank/id/"
PB = "https://w3id.org/practicebank/def/"
CONCEPT = "https://w3id.org/practicebank/concept/"


def snapshot(store: PracticeStore) -> set[str]:
    return {str(q) for q in store.ox}


def ask(store: PracticeStore, where: str) -> bool:
    return bool(store.query(f"PREFIX pb: <{PB}> ASK {{ {where} }}"))


def refused(store: PracticeStore, path: Path, **options) -> list:
    """Load ``path``, which must fail, and check that the store did not change."""
    before = snapshot(store)
    with pytest.raises(ValidationFailed) as failed:
        load_file(store, path, **options)
    assert snapshot(store) == before
    return [p for p in failed.value.problems if p.is_error]


# -- practice JSON and JSON Lines -----------------------------------------------------------

def test_practice_json_loads_with_lists_strings_and_personal_fields_dropped(disk_store):
    result = load_file(disk_store, FIXTURES / "practices.json")
    assert result.graph == "practices" and result.reader == "practices-json"
    practice = f"<{ID}practice/synthetic-safer-night-time-streets>"
    assert ask(disk_store, f"{practice} pb:organisation <{ID}force/avon-and-somerset> ; "
                           f"pb:topic <{CONCEPT}topic/crime-prevention> ; "
                           f"pb:rating/pb:ratingValue <{CONCEPT}does-it-work/promising>")
    # "Diversion; Reoffending" in a string is split as in CSV; a data.police.uk id names a force
    assert ask(disk_store, f"<{ID}practice/youth-diversion-mentoring-synthetic> pb:purpose "
                           f"<{CONCEPT}purpose/diversion>, <{CONCEPT}purpose/reoffending>")
    assert ask(disk_store, f"<{ID}practice/synthetic-rural-crime-watch> pb:organisation "
                           f"<{ID}force/metropolitan>")
    dropped = {(p.column, p.pointer, p.row) for p in result.problems
               if "personal data" in p.message}
    assert dropped == {("email", "/0/email", 1), ("contact_name", "/1/contact_name", 2)}
    text = "".join(str(q) for q in disk_store.ox)
    assert "someone@example" not in text and "A. Person" not in text


def test_practice_json_lines_load_and_drop_the_telephone(disk_store):
    result = load_file(disk_store, FIXTURES / "practices.jsonl", graph="lines")
    assert result.reader == "practices-jsonl"
    assert ask(disk_store, f"GRAPH <https://w3id.org/practicebank/graph/lines> "
                           f"{{ <{ID}practice/synthetic-knife-amnesty-bins> a pb:Practice }}")
    [warning] = [p for p in result.problems if "personal data" in p.message]
    assert (warning.row_label, warning.row, warning.pointer) == ("line", 3, "/telephone")
    assert "01234" not in "".join(str(q) for q in disk_store.ox)


def test_practice_json_schema_errors_name_record_and_pointer(disk_store):
    load_file(disk_store, FIXTURES / "practices.json")
    problems = refused(disk_store, FIXTURES / "practices-invalid.json", graph="practices")
    found = {(p.row, p.pointer, p.row_label) for p in problems}
    assert (2, "/1/rating", "record") in found
    assert (3, "/2", "record") in found  # additionalProperties: the object itself
    number = next(p for p in problems if p.pointer == "/1/rating")
    assert "is not of type 'string'" in number.message and number.value == "5"
    assert "favourite_colour" in next(p for p in problems if p.row == 3).message


def test_practice_json_lines_converter_errors_name_the_line(disk_store):
    [problem] = refused(disk_store, FIXTURES / "practices-bad-rating.jsonl")
    assert (problem.row_label, problem.row, problem.column, problem.pointer) == (
        "line", 2, "rating", "/rating")
    assert problem.value == "Brilliant" and "Promising" in problem.message
    assert "line 2, field rating, pointer /rating" in problem.where()


def test_broken_json_is_an_input_error(tmp_path, disk_store):
    broken = tmp_path / "broken.json"
    broken.write_text('[{"title": "x",]', encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        load_file(disk_store, broken)
    lines = tmp_path / "broken.jsonl"
    lines.write_text('{"title": "x"}\n{"title": \n', encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        load_file(disk_store, lines)
    assert len(disk_store.ox) == 0


# -- data.police.uk forces -------------------------------------------------------------------

def test_police_forces_list_links_to_the_reference_forces(disk_store):
    result = load_file(disk_store, FIXTURES / "police-forces.json")
    assert result.reader == "police-forces-json"
    force = f"<{ID}force/avon-and-somerset>"
    assert ask(disk_store, f"{force} <http://www.w3.org/2000/01/rdf-schema#seeAlso> "
                           "<https://data.police.uk/api/forces/avon-and-somerset>")
    # A name that differs from the reference's is kept as an alternative label.
    assert ask(disk_store, f"<{ID}force/leicestershire> "
                           "<http://www.w3.org/2004/02/skos/core#altLabel> ?n")
    assert result.focus >= 4  # the forces were validated with their reference description


def test_police_forces_list_with_a_bad_id_fails_naming_record_and_pointer(disk_store):
    [problem] = refused(disk_store, FIXTURES / "police-forces-invalid.json")
    assert (problem.row, problem.pointer, problem.value) == (2, "/1/id", "Avon & Somerset")


def test_police_force_details_keep_links_and_drop_the_telephone(disk_store):
    result = load_file(disk_store, FIXTURES / "police-force-avon-and-somerset.json")
    assert result.reader == "police-force-json"
    force = f"<{ID}force/avon-and-somerset>"
    assert ask(disk_store, f"{force} <https://schema.org/url> "
                           "<https://www.avonandsomerset.police.uk>")
    assert ask(disk_store, f"{force} <http://www.w3.org/2000/01/rdf-schema#seeAlso> "
                           "<https://www.facebook.com/synthetic-avonandsomersetpolice>")
    [warning] = [p for p in result.problems if "personal data" in p.message]
    assert warning.column == "telephone"
    text = "".join(str(q) for q in disk_store.ox)
    assert '"101"' not in text and "Synthetic description" not in text


def test_police_force_details_with_a_bad_id_fail(disk_store):
    problems = refused(disk_store, FIXTURES / "police-force-invalid.json")
    assert [(p.pointer, p.value) for p in problems] == [("/id", "Avon and Somerset")]


def test_a_list_of_officers_is_refused_as_personal_data(disk_store):
    with pytest.raises(InputError, match="personal data"):
        load_file(disk_store, FIXTURES / "police-people.json")
    assert len(disk_store.ox) == 0


# -- data.police.uk street-level crime ---------------------------------------------------------

def counts(store: PracticeStore, graph: str) -> dict[tuple, int]:
    rows = store.query(f"""PREFIX pb: <{PB}>
        SELECT ?force ?month ?category ?lsoa ?n WHERE {{ GRAPH <{graph_node(graph).value}> {{
            ?o a pb:CrimeCountObservation ; pb:force ?force ; pb:month ?month ;
               pb:crimeCategory ?category ; pb:crimeCount ?n
            OPTIONAL {{ ?o pb:lsoa ?lsoa }} }} }}""")
    return {(r["force"].value.rsplit("/", 1)[-1], r["month"].value,
             r["category"].value.rsplit("/", 1)[-1],
             r["lsoa"].value.rsplit("/", 1)[-1] if r["lsoa"] else None): int(r["n"].value)
            for r in rows}


def test_street_crime_is_aggregated_per_force_month_and_category(disk_store):
    path = FIXTURES / "2024-01-avon-and-somerset-street.csv"
    result = load_file(disk_store, path, graph="crime")
    assert result.reader == "street-crime-csv"
    assert counts(disk_store, "crime") == {
        ("avon-and-somerset", "2024-01", "violent-crime", None): 3,
        ("avon-and-somerset", "2024-01", "anti-social-behaviour", None): 2,
        ("avon-and-somerset", "2024-01", "bicycle-theft", None): 1,
    }
    text = "".join(str(q) for q in disk_store.ox)
    assert "synthetic-0001" not in text and "Synthetic Street" not in text  # no rows kept
    assert ask(disk_store, "?o a <http://purl.org/linked-data/cube#Observation> ; "
                           "<http://purl.org/linked-data/cube#dataSet>/"
                           "<http://purl.org/linked-data/cube#structure> "
                           "pb:forceCrimeCountStructure")


def test_street_crime_by_lsoa_also_counts_per_lsoa_linked_to_ons(disk_store):
    load_file(disk_store, FIXTURES / "2024-01-avon-and-somerset-street.csv", graph="crime",
              by_lsoa=True)
    found = counts(disk_store, "crime")
    assert found[("avon-and-somerset", "2024-01", "violent-crime", "E01014399")] == 2
    assert found[("avon-and-somerset", "2024-01", "violent-crime", "E01014400")] == 1
    assert found[("avon-and-somerset", "2024-01", "violent-crime", None)] == 3
    assert ask(disk_store, "<http://statistics.data.gov.uk/id/statistical-geography/E01014399>"
                           ' <http://www.w3.org/2000/01/rdf-schema#label> "Bristol 023A"@en')


def test_street_crime_force_comes_from_the_file_name_when_falls_within_is_blank(tmp_path,
                                                                                 disk_store):
    text = (FIXTURES / "2024-01-avon-and-somerset-street.csv").read_text(encoding="utf-8")
    path = tmp_path / "2024-01-avon-and-somerset-street.csv"
    path.write_text(text.replace("Avon and Somerset Constabulary", ""), encoding="utf-8")
    load_file(disk_store, path, graph="crime")
    assert sum(counts(disk_store, "crime").values()) == 6


def test_street_crime_with_bad_months_and_types_fails_naming_rows(disk_store):
    problems = refused(disk_store, FIXTURES / "2024-01-avon-and-somerset-street-invalid.csv")
    found = {(p.row, p.column, p.value) for p in problems}
    assert found == {(3, "Month", "January 2024"), (4, "Crime type", "Hooliganism")}


# -- RDF in every serialisation, plain and gzipped ------------------------------------------------

RDF_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
               "nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
               "rdf": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD}


@pytest.fixture(scope="module")
def sample_store() -> ox.Store:
    store = ox.Store()
    store.load(SAMPLE.read_bytes(), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode("https://example.org/in-a-named-graph"))
    return store


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("ext", list(RDF_FORMATS))
def test_every_rdf_serialisation_loads_the_same_triples(tmp_path, disk_store, sample_store,
                                                        ext, gz):
    fmt = RDF_FORMATS[ext]
    graph = None if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG) else \
        ox.NamedNode("https://example.org/in-a-named-graph")
    data = sample_store.dump(format=fmt, from_graph=graph) if graph else \
        sample_store.dump(format=fmt)
    path = tmp_path / f"sample.{ext}{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(data) if gz else data)
    result = load_file(disk_store, path)
    assert result.graph == "sample" and result.reader.startswith(f"rdf-{ext}")
    assert result.triples == len(sample_store)
    loaded = {(q.subject, q.predicate, q.object) for q in disk_store.quads_of(graph_node("sample"))}
    assert loaded == {(q.subject, q.predicate, q.object) for q in sample_store}


def test_format_option_and_gzip_magic_bytes_without_extension(tmp_path, disk_store):
    path = tmp_path / "download"
    path.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert load_file(disk_store, path, format="turtle").triples > 500


def test_blank_nodes_get_iris_so_they_can_be_validated_and_replaced(tmp_path, disk_store):
    path = tmp_path / "evaluation.ttl"
    path.write_text(f"""@prefix pb: <{PB}> .
        <{ID}practice/a> a pb:Practice ; <http://purl.org/dc/terms/title> "A"@en ;
            <http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/a> ;
            pb:evaluation [ a pb:Evaluation ; pb:evaluates <{ID}practice/a> ;
                <http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/report> ] .""",
                    encoding="utf-8")
    result = load_file(disk_store, path)
    assert not any(p.is_error for p in result.problems)
    assert not disk_store.query("ASK { GRAPH ?g { ?s ?p ?o FILTER (isBlank(?s) || isBlank(?o)) } }")
    assert ask(disk_store, "?e a pb:Evaluation FILTER STRSTARTS(STR(?e), "
                           '"https://w3id.org/practicebank/.well-known/genid/")')
    path.write_text(path.read_text(encoding="utf-8").replace('"A"@en', '"A2"@en'),
                    encoding="utf-8")
    load_file(disk_store, path)  # a replacement removes the old, skolemised, nodes
    assert disk_store.count("?e a pb:Evaluation") == 1


def test_broken_rdf_fails_and_changes_nothing(tmp_path, disk_store):
    load_file(disk_store, FIXTURES / "practices.json")
    for name, text in (("sample.ttl", "<a> <b> ."), ("sample.nt", "<https://x> <https://y> .")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        [problem] = refused(disk_store, path)
        assert problem.message.startswith("Not valid")
        assert not disk_store.has_graph("sample")


# -- folders ------------------------------------------------------------------------------------

def test_a_folder_loads_every_file_in_it_into_its_own_graph(tmp_path):
    from click.testing import CliRunner

    from practicebank.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("practices.json", "police-forces.json", "2024-01-avon-and-somerset-street.csv"):
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "README.txt").write_text("not data", encoding="utf-8")
    result = CliRunner().invoke(main, ["load", str(folder), "--store", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    with PracticeStore(tmp_path / "s") as store:
        assert {"practices", "police-forces", "2024-01-avon-and-somerset-street"} <= set(
            store.graph_names())


def test_the_published_schema_is_the_one_the_loader_uses():
    root = Path(__file__).resolve().parent.parent
    published = (root / "docs" / "practice.schema.json").read_text(encoding="utf-8")
    assert published == (root / "data" / "practice.schema.json").read_text(encoding="utf-8")
