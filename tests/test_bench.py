"""The endpoint benchmark runs with one command: a miniature run, checked for its report.

Timings are not asserted (the benchmark reports them); this checks that the command builds
its store, starts the three servers, finds their answers equal, measures every workload and
prints the table and the targets' lines, and that it stops every server it started.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "bench_endpoint.py"

pytestmark = pytest.mark.skipif(shutil.which("oxigraph") is None
                                and not Path(sys.executable).with_name("oxigraph").exists(),
                                reason="needs the oxigraph server (the test extras)")


def test_the_endpoint_benchmark_runs_with_one_command(tmp_path):
    result = subprocess.run(
        [sys.executable, str(BENCH), "--practices", "300", "--seconds", "1", "--slices", "1",
         "--warmup", "0.2",
         "--store", str(tmp_path / "store")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert re.search(r"built .*store: \d+ triples", out)
    rows = re.findall(r"^\| (oxigraph serve|practicebank [^|]+) \| ([a-z ]+) \| (\d+) \|", out,
                      re.MULTILINE)
    assert {(server.strip(), workload.strip()) for server, workload, _ in rows} == {
        (server, workload)
        for server in ("oxigraph serve", "practicebank (workers, deadlines)",
                       "practicebank (in process, no deadlines)")
        for workload in ("cheap lookup", "lookup via worker", "research mix")}
    assert all(int(rps) > 0 for *_, rps in rows)
    assert "errors" in out and not re.search(r"errors [1-9]", out)
    assert re.search(r"- research mix: \d+\.\d% of oxigraph serve's throughput "
                     r"\(target >= 90%", out)
    assert "runaway cross join with timeout=2: HTTP 504" in out
    # Every server it started is gone: nothing holds the store's lock.
    from practicebank.store import PracticeStore

    PracticeStore(tmp_path / "store").close()


def test_the_write_benchmark_runs_with_one_command():
    """``bench/bench_writes.py`` in miniature: every operation on both servers, in the table."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_writes.py"), "--sizes", "50",
         "--rounds", "1"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rows = re.findall(r"^\| (practicebank serve|oxigraph serve) \| ([A-Z/ ]+) \| "
                      r"(data|scratch) graph \| 50 \|", result.stdout, re.MULTILINE)
    assert len(rows) == 12, result.stdout[-2000:]
