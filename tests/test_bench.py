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


def test_the_backend_benchmark_runs_with_one_command(tmp_path):
    """``bench/bench_backends.py`` in miniature (~20,000 triples, 50 queries of the mix):
    it loads on all three backends, POSTs the file to each remote engine's own Graph Store,
    runs the mix through ``practicebank serve`` on each, and prints every table. Its
    temporary folder is put under ``tmp_path`` (TMPDIR), so that afterwards no process may
    still be running from there: every server it started is stopped."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_backends.py"), "--triples", "20000",
         "--mix", "50", "--slices", "1", "--check", "10", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    main = re.findall(r"^\| (embedded|oxigraph serve|Virtuoso) \| ([\d,]+) \| ([\d,]+) \| "
                      r"([\d,]+) \| (\d+)% \((\d+)%\) \| ([\d.]+) \|", out, re.MULTILINE)
    assert [row[0] for row in main] == ["embedded", "oxigraph serve", "Virtuoso"], out[-3000:]
    assert all(int(row[1].replace(",", "")) > 0 and float(row[6]) > 0 for row in main)
    triples = re.search(r"^data: .* \(([\d,]+) triples\)", out, re.MULTILINE).group(1)
    loads = re.findall(rf"^\| (embedded|oxigraph serve|Virtuoso) \| {triples} \|", out,
                       re.MULTILINE)
    assert sorted(loads) == ["Virtuoso", "embedded", "oxigraph serve"], out[-3000:]
    bulk = re.findall(r"^\| (embedded|oxigraph serve|Virtuoso) \| (pyoxigraph|POST) ", out,
                      re.MULTILINE)
    assert {name for name, _ in bulk} == {"embedded", "oxigraph serve", "Virtuoso"}
    assert re.search(r"^- oxigraph serve: remote load rate / engine's own bulk rate = \d+%",
                     out, re.MULTILINE)
    assert re.search(r"^- Virtuoso: remote load rate / engine's own bulk rate = \d+%", out,
                     re.MULTILINE)
    assert "upload thread: upload into the graph itself (Graph Store POST)" in out
    assert (tmp_path / "out" / "bench_backends.md").read_text(encoding="utf-8").strip()
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and _mentions(pid, tmp_path)]
    assert not left, f"processes still running from the benchmark's folder: {left}"


def _mentions(pid: str, folder: Path) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return str(folder).encode() in f.read()
    except OSError:
        return False


def test_the_browse_benchmark_runs_with_one_command():
    """``bench/bench_browse.py`` in miniature: every cell answers (no error cell) and every
    target gets a verdict."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_browse.py"), "--practices", "300",
         "--seconds", "0.5", "--rounds", "1"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    cells = re.findall(r"^\| (facet page[^|]*|text search[^|]*|autocompletion[^|]*) \| "
                       r"([\d.]+) \|", out, re.MULTILINE)
    assert len(cells) == 8 and all(float(p50) > 0 for _, p50 in cells), out[-2000:]
    assert "error" not in out.split("| what |")[1].split("Start-up")[0]
    assert len(re.findall(r"^- (PASS|FAIL): ", out, re.MULTILINE)) == 8


def test_the_federation_benchmark_runs_with_one_command():
    """``bench/bench_federation.py`` in miniature: both paths run, give the same answer
    (the script stops otherwise) and the speed-up is reported."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_federation.py"), "--triples", "20000",
         "--selective", "10", "--runs", "1"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert re.search(r"Bind join: [\d.,]+× faster than naive", result.stdout)
    assert re.search(r"Both paths gave the same \d+ ", result.stdout)
