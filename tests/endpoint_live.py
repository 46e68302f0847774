"""Real server processes on loopback for the endpoint tests that need one.

Deadlines, isolation, streaming and federation cannot be tested through Flask's test client:
they are about processes, sockets and time. :class:`LiveServer` runs ``practicebank serve``
on a free loopback port with an on-disk store and stops it (and, by the process group, every
worker) afterwards. :func:`oxigraph_serve` does the same for the Rust server used as a remote.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from practicebank.oxigraph_server import free_port, start_oxigraph, wait_until_up

TOKEN = "live-test-token"


class LiveServer:
    """``practicebank serve`` on ``store`` with extra flags; use as a context manager."""

    def __init__(self, store: Path, tmp: Path, *flags: str, env: dict | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"server-{self.port}.log"
        cli = Path(sys.executable).with_name("practicebank")
        command = [str(cli) if cli.exists() else shutil.which("practicebank"),
                   "serve", "--store", str(store), "--port", str(self.port), *flags]
        environment = {**os.environ, "PRACTICEBANK_WRITE_TOKEN": TOKEN, **(env or {})}
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=out,
                                            env=environment, start_new_session=True)

    def __enter__(self) -> LiveServer:
        try:
            wait_until_up(f"{self.base}/health", self.process, self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def children(self) -> list[int]:
        """The server's query worker processes: the ``serve`` command runs granian, whose
        child process runs the app, whose children are the workers."""
        return [pid for app in children_of(self.process.pid) if _spawned(app)
                for pid in children_of(app) if _spawned(pid)]

    # -- requests ---------------------------------------------------------------------------

    def query(self, query: str, *, client_timeout: float = 30,
              accept: str = "application/json", **params: str) -> tuple[int, dict, bytes]:
        url = f"{self.base}/sparql?" + urllib.parse.urlencode({"query": query, **params})
        return self.request("GET", url, headers={"Accept": accept}, timeout=client_timeout)

    def update(self, update: str, *, token: str | None = TOKEN) -> tuple[int, dict, bytes]:
        headers = {"Content-Type": "application/sparql-update"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.request("POST", f"{self.base}/update", body=update.encode(), headers=headers)

    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: dict | None = None, timeout: float = 30) -> tuple[int, dict, bytes]:
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def count(self, query: str) -> int:
        status, _, body = self.query(query)
        assert status == 200, body
        return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def wait_for_workers(server: LiveServer, n: int = 2, timeout: float = 30) -> list[int]:
    """The pids of ``server``'s query workers once ``n`` are up and idle (after a kill, the
    replacement starts in the background)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        health = json.loads(server.request("GET", f"{server.base}/health")[2])
        if health["workers"] == n and health["busy"] == 0:
            return server.children()
        time.sleep(0.1)
    raise AssertionError(f"workers did not come back: {health}")


def send_answer(handler, body: bytes, *, status: int = 200,
                content_type: str = "application/sparql-results+json") -> None:
    """Answer from a stand-in remote's ``http.server`` handler; a caller that gave up waiting
    (what the federation tests are often about) is not an error."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _spawned(pid: int) -> bool:
    """True for a process started by multiprocessing's spawn (not its resource tracker)."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time used so far by ``pids`` (those still alive)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def oxigraph_serve(location: Path, tmp: Path) -> tuple[subprocess.Popen, str]:
    """``oxigraph serve`` (the PyPI package ``oxigraph``) on a free loopback port."""
    server = start_oxigraph(location, log=tmp / f"oxigraph-{location.name}.log")
    return server.process, server.base
