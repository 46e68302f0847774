"""Docs that cannot rot: the README's commands and first query are the ones that work."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from practicebank.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_first_query_gives_the_answer_it_shows(demo_store):
    query = re.search(r"--data-urlencode query='(.*?)'\n```", README, re.S).group(1)
    rows = list(demo_store.query(query))
    promised = int(re.search(r"It answers with (\d+) rows", README).group(1))
    assert len(rows) == promised
    shown = re.search(r"title,rating,organisation\n(.*?)\n…", README, re.S).group(1)
    first = [line.split(",")[0] for line in shown.splitlines()]
    assert [r["title"].value for r in rows[: len(first)]] == first


def test_readme_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = re.search(r"```sh\n(python3\.11 .*pytest)\n```", README).group(1)
    assert test_command.replace("pip install", "pip install -q").replace(
        "python3.11", "$PYTHON") in ci


def test_every_command_in_the_readme_exists():
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", README, re.S))
    commands = set(re.findall(r"^practicebank (\w+)", blocks, re.M))
    for command in commands:
        assert CliRunner().invoke(main, [command, "--help"]).exit_code == 0, command
    assert commands >= {"validate", "load", "query", "stats", "serve"}


def test_the_python_example_in_the_readme_runs(tmp_path, monkeypatch, capsys):
    """The "Use it from Python" example, run as written on the sample practices CSV."""
    import shutil

    from conftest import find_shared

    example = re.search(r"## Use it from Python.*?```python\n(.*?)```", README, re.S).group(1)
    shutil.copy(find_shared() / "domain" / "practices.csv", tmp_path / "practices.csv")
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("sample ") and printed[0].endswith(" triples")
    assert len(printed) == 4 and printed[1:] == sorted(printed[1:])
    assert (tmp_path / "backup.nq").stat().st_size > 0
    import pyoxigraph as ox

    graphs = {q.graph_name.value for q in ox.parse(path=str(tmp_path / "backup.nq"),
                                                   format=ox.RdfFormat.N_QUADS)}
    assert "https://w3id.org/practicebank/graph/sample" in graphs
