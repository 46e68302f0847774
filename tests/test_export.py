"""``practicebank export``: a graph or the whole store, which loads back to the same triples."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from practicebank.cli import main
from practicebank.exporting import export_store
from practicebank.loaders.load import ensure_demo, load_file
from practicebank.store import PracticeStore, graph_node


def triples(store: PracticeStore, graphs: list[str]) -> set[tuple]:
    return {(q.subject, q.predicate, q.object)
            for g in graphs for q in store.quads_of(graph_node(g))}


@pytest.fixture
def demo_on_disk(tmp_path: Path) -> Path:
    with PracticeStore(tmp_path / "demo") as store:
        ensure_demo(store)
    return tmp_path / "demo"


@pytest.mark.parametrize("fmt", ["ttl", "nt", "nq", "trig"])
def test_a_graph_exported_then_loaded_into_an_empty_store_gives_the_same_triples(
        tmp_path, demo_on_disk, fmt):
    out = tmp_path / f"sample.{fmt}"
    result = CliRunner().invoke(main, ["export", "--graph", "sample", "--format", fmt,
                                       "-o", str(out), "--store", str(demo_on_disk)])
    assert result.exit_code == 0, result.output
    with PracticeStore(demo_on_disk) as original:
        expected = triples(original, ["sample"])
    with PracticeStore(tmp_path / "empty") as fresh:
        load_file(fresh, out, graph="sample")
        assert triples(fresh, ["sample"]) == expected


def test_the_whole_store_exported_as_nquads_loads_back(tmp_path, demo_on_disk):
    out = tmp_path / "everything.nq"
    result = CliRunner().invoke(main, ["export", "-o", str(out), "--store", str(demo_on_disk)])
    assert result.exit_code == 0, result.output
    with PracticeStore(demo_on_disk) as original:
        names = original.graph_names()
        expected = triples(original, names)
        quads = {str(q) for q in original.ox}
    with PracticeStore(tmp_path / "empty") as fresh:
        load_file(fresh, out, graph="everything")  # quads of every graph merged into one
        assert triples(fresh, ["everything"]) == expected
    exported = PracticeStore()
    exported.ox.load(path=str(out))
    assert {str(q) for q in exported.ox} == quads  # graph names kept in the file


def test_export_to_stdout_and_usage_errors(tmp_path, demo_on_disk):
    runner = CliRunner()
    out = runner.invoke(main, ["export", "--graph", "reference", "--format", "nt",
                               "--store", str(demo_on_disk)])
    assert out.exit_code == 0 and out.stdout.count("\n") > 500
    no_graph = runner.invoke(main, ["export", "--format", "ttl", "--store", str(demo_on_disk)])
    assert no_graph.exit_code == 2 and "--graph" in no_graph.output
    missing = runner.invoke(main, ["export", "--graph", "nope", "--store", str(demo_on_disk)])
    assert missing.exit_code == 2 and "holds no data" in missing.output


def test_export_store_writes_to_a_path(tmp_path, demo_store):
    target = tmp_path / "vocab.trig"
    export_store(demo_store, target, graph="vocabularies", format="trig")
    assert target.read_text(encoding="utf-8").count("skos:Concept") > 50 or \
        "Concept" in target.read_text(encoding="utf-8")
