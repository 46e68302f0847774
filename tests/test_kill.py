"""A load killed with SIGKILL half-way leaves the store as it was (a real process, a real
on-disk store, a file big enough to be caught in the middle of its bulk load)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from practicebank.loaders.load import load_file
from practicebank.store import JOURNAL_NAME, PracticeStore

BASE = "https://w3id.org/practicebank/"
PRACTICES = 40_000  # about 400,000 triples: two to three seconds of bulk loading here


def big_file(path: Path, n: int) -> Path:
    """Valid, synthetic practices as N-Triples, written fast (no converter)."""
    page = "https://www.college.police.uk/support-forces/practices/"
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            p = f"<{BASE}id/practice/killed-{i}>"
            f.write(f"{p} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                    f"<{BASE}def/Practice> .\n"
                    f'{p} <http://purl.org/dc/terms/title> "Synthetic practice {i}"@en .\n'
                    f'{p} <http://purl.org/dc/terms/abstract> "Synthetic summary {i}."@en .\n'
                    f"{p} <http://www.w3.org/ns/prov#wasDerivedFrom> <{page}killed-{i}> .\n"
                    f"{p} <{BASE}def/purpose> <{BASE}concept/purpose/prevention> .\n"
                    f"{p} <{BASE}def/topic> <{BASE}concept/topic/crime-prevention> .\n"
                    f"{p} <{BASE}def/organisation> <{BASE}id/force/kent> .\n"
                    f"{p} <{BASE}def/stage> <{BASE}concept/stage/implemented> .\n"
                    f"{p} <{BASE}def/scale> <{BASE}concept/scale/local> .\n"
                    f'{p} <http://purl.org/dc/terms/identifier> "killed-{i}" .\n')
    return path


def quads(folder: Path) -> set[str]:
    with PracticeStore(folder) as store:
        return {str(q) for q in store.ox}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_in_the_middle_of_a_load_leaves_the_store_as_before(tmp_path):
    folder = tmp_path / "store"
    kept = tmp_path / "kept.csv"
    kept.write_text("title,source_url\nKept practice,https://example.org/kept\n",
                    encoding="utf-8")
    with PracticeStore(folder) as store:
        load_file(store, kept)
    before = quads(folder)
    source = big_file(tmp_path / "big.nt", PRACTICES)
    loader = subprocess.Popen(
        [sys.executable, "-m", "practicebank.cli", "load", str(source), "--graph",
         "big", "--store", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = folder / JOURNAL_NAME
    deadline = time.monotonic() + 30
    while not journal.exists():  # the bulk load has begun
        assert loader.poll() is None, "the load ended before it could be killed"
        assert time.monotonic() < deadline, "the load did not start"
        time.sleep(0.01)
    time.sleep(0.5)  # well into the bulk load
    assert loader.poll() is None, "the load finished before it was killed"
    os.kill(loader.pid, signal.SIGKILL)
    assert loader.wait(timeout=10) == -signal.SIGKILL
    assert journal.exists()  # the load never committed
    import pyoxigraph as ox

    half = ox.Store.read_only(str(folder))  # what a reader sees before recovery
    partial = sum(1 for _ in half.quads_for_pattern(
        None, None, None, ox.NamedNode(BASE + "graph/big")))
    del half
    assert 0 <= partial < PRACTICES * 10  # killed before the whole file was in
    after = quads(folder)  # reopening undoes the unfinished load
    assert after == before
    assert not journal.exists()
