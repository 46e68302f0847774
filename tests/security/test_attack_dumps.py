"""``/dumps/`` serves the files a manifest lists and nothing else, and no Range breaks it.

Paths are sent as raw bytes (``http.client`` normalises nothing), so ``..``, encoded dots and
slashes, backslashes, NUL bytes and absolute paths reach the server as an attacker would
send them. Files planted in the dump folder, a manifest that names a path outside it, a
listed file swapped for a link out of the folder and an oversized manifest are each refused
with a 404 (the planted and outside bytes never come back). Ranges malformed, reversed,
beyond the file, or a thousand at once get 416 or the whole file: never a 500.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import re

import pytest
from endpoint_live import LiveServer

from practicebank import dumps
from practicebank.endpoint import create_app
from practicebank.settings import default_dump_dir
from practicebank.store import PracticeStore

DAY = "2026-02-03"
SECRET = b"secret-bytes-that-must-never-be-served"


def fill(store: PracticeStore) -> None:
    """Enough triples that the dump file spans many gzip blocks (ranges inside it)."""
    lines = b"".join(f'<urn:x:s{i}> <urn:x:p> "value {i} {i * 7919 % 104729}" .\n'.encode()
                     for i in range(3000))
    store.apply_change("things", added=lines)
    store.apply_change("other", added=b'<urn:x:a> <urn:x:p> "a" .\n')


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dump-paths")
    with PracticeStore(tmp / "store") as store:
        fill(store)
        manifest = dumps.write_dump(store, default_dump_dir(tmp / "store"),
                                    date=datetime.date.fromisoformat(DAY))
    folder = default_dump_dir(tmp / "store")
    # planted: in the folder but in no manifest, one of them where a graph file would be
    (folder / "secret.txt").write_bytes(SECRET)
    (folder / "graphs" / DAY / "planted.ttl.gz").write_bytes(SECRET)
    (folder / "manifests" / "notes.txt").write_bytes(SECRET)
    (tmp / "outside.txt").write_bytes(SECRET)
    with LiveServer(tmp / "store", tmp, "--workers", "1") as live:
        live.folder, live.manifest = folder, manifest
        yield live


def raw(server, path: str, method: str = "GET", headers: dict | None = None
        ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request with ``path`` sent exactly as given."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


TRAVERSALS = [
    "/dumps/../store/CURRENT",
    "/dumps/../../../../../../etc/passwd",
    "/dumps/../outside.txt",
    "/dumps/%2e%2e/outside.txt",
    "/dumps/%2e%2e%2foutside.txt",
    "/dumps/..%2foutside.txt",
    "/dumps/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/dumps/%252e%252e%252foutside.txt",
    "/dumps/..%5coutside.txt",
    "/dumps/..\\outside.txt",
    "/dumps/graphs/2026-02-03/../../secret.txt",
    "/dumps/graphs/2026-02-03/%2e%2e/%2e%2e/secret.txt",
    "/dumps/manifests/..%2fsecret.json",
    "/dumps//etc/passwd",
    "/dumps/%2fetc%2fpasswd",
    "/dumps/%2Ftmp%2Foutside.txt",
    "/dumps/./secret.txt",
    "/dumps/secret.txt",
    "/dumps/graphs/2026-02-03/planted.ttl.gz",
    "/dumps/graphs/planted-latest.ttl.gz",
    "/dumps/graphs/..-latest.ttl.gz",
    "/dumps/graphs/%2e%2e%2fsecret-latest.ttl.gz",
    "/dumps/manifests/notes.txt",
    "/dumps/manifests/2026-02-04.json",
    "/dumps/.lock",
    "/dumps/latest.json%00.txt",
    "/dumps/practicebank-2026-02-03.nq.gz%00",
    "/dumps/PRACTICEBANK-2026-02-03.NQ.GZ",
    "/dumps/practicebank-2026-02-03.nq.gz/",
    "/dumps/practicebank-2026-02-03.nq.gz/..",
    "/dumps/graphs/2026-02-03",
    "/dumps/graphs/",
    "/dumps/manifests/",
]


@pytest.mark.parametrize("path", TRAVERSALS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_no_path_reaches_a_file_no_manifest_lists(served, path, method):
    status, headers, body = raw(served, path, method)
    assert status in (400, 404, 308), (path, status, body[:200])
    assert SECRET not in body and b"root:" not in body
    if status == 308:  # a redirect to the path without the slash: it must lead nowhere new
        location = headers["Location"]
        assert raw(served, re.sub(r"^https?://[^/]+", "", location), method)[0] in (200, 404)


def test_the_listed_files_are_served(served):
    """The control for the test above: the same server serves what is listed."""
    for f in served.manifest.files:
        status, _, body = raw(served, f"/dumps/{f.path}")
        assert status == 200 and len(body) == f.bytes
    assert raw(served, "/dumps/manifests/2026-02-03.json")[0] == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_dump_files_cannot_be_written(served, method):
    path = f"/dumps/{served.manifest.dataset.path}"
    status, _, _ = raw(served, path, method, {"Content-Length": "0"})
    assert status == 405
    assert (served.folder / served.manifest.dataset.path).stat().st_size == \
        served.manifest.dataset.bytes


RANGES = [
    "bytes=0-1,4-5",
    "bytes=0-0,-1",
    "bytes=" + ",".join(f"{i}-{i}" for i in range(1000)),
    "bytes=99999999999999999999999999-",
    "bytes=0-99999999999999999999999999",
    "bytes=-99999999999999999999999999",
    "bytes=10-5",
    "bytes=-0",
    "bytes=abc",
    "bytes=",
    "bytes",
    "=0-1",
    "bits=0-10",
    "bytes=0-1; 4-5",
    "bytes=--1",
    "bytes=1--2",
    "bytes= 0 - 10",
    "bytes=0x10-0x20",
    "bytes=\u00bd-1".encode().decode("latin-1"),
    "bytes=0-10" + " " * 4000,
]


@pytest.mark.parametrize("header", RANGES)
def test_no_range_breaks_the_server(served, header):
    f = served.manifest.dataset
    data = (served.folder / f.path).read_bytes()
    status, headers, body = raw(served, f"/dumps/{f.path}", headers={"Range": header})
    assert status in (200, 206, 416, 400, 431), (header[:40], status, body[:200])
    if status == 200:
        assert body == data
    elif status == 206:
        start, end, total = map(int, re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)",
                                                  headers["Content-Range"]).groups())
        assert total == len(data) and body == data[start:end + 1]
    elif status == 416:
        assert headers["Content-Range"] == f"bytes */{len(data)}"
        assert json.loads(body)["error"] == "range_not_satisfiable"
    # the server still answers afterwards
    assert raw(served, f"/dumps/{f.path}", "HEAD")[0] == 200


# -- folders tampered with (in process: each test has its own folder) ---------------------

def client_for(folder):
    return create_app({"TESTING": True, "STORE": PracticeStore(),
                       "DUMP_DIR": str(folder)}).test_client()


@pytest.fixture
def dumped(tmp_path):
    store = PracticeStore()
    fill(store)
    folder = tmp_path / "dumps"
    manifest = dumps.write_dump(store, folder, date=datetime.date.fromisoformat(DAY))
    (tmp_path / "outside.txt").write_bytes(SECRET)
    return folder, manifest


def test_a_manifest_naming_a_path_outside_serves_nothing(dumped, caplog):
    folder, manifest = dumped
    data = manifest.to_json()
    data["files"][1]["path"] = "../outside.txt"
    for name in ("latest.json", f"manifests/{DAY}.json"):
        (folder / name).write_text(json.dumps(data))
    client = client_for(folder)
    for path in ("/dumps/../outside.txt", "/dumps/%2e%2e/outside.txt",
                 f"/dumps/{manifest.dataset.path}", "/dumps/practicebank-latest.nq.gz"):
        answer = client.get(path)
        assert answer.status_code == 404 and SECRET not in answer.data
    assert client.get("/dumps/", headers={"Accept": "application/json"}).status_code == 404
    assert "may not list" in caplog.text


def test_a_listed_file_swapped_for_a_link_out_of_the_folder_is_not_served(dumped, caplog):
    folder, manifest = dumped
    target = folder / manifest.dataset.path
    outside = folder.parent / "outside.gz"
    outside.write_bytes(SECRET.ljust(manifest.dataset.bytes, b"!"))  # the size it should be
    target.unlink()
    os.symlink(outside, target)
    answer = client_for(folder).get(f"/dumps/{manifest.dataset.path}")
    assert answer.status_code == 404 and SECRET not in answer.data
    assert "leads outside" in caplog.text


def test_an_oversized_manifest_is_not_read(dumped, caplog):
    folder, _ = dumped
    with open(folder / "latest.json", "r+b") as f:
        f.truncate(dumps.MAX_MANIFEST_BYTES + 1)  # sparse: no disk used
    for name in dumps.kept_dates(folder):
        os.truncate(folder / "manifests" / f"{name}.json", dumps.MAX_MANIFEST_BYTES + 1)
    client = client_for(folder)
    answer = client.get("/dumps/", headers={"Accept": "application/json"})
    assert answer.status_code == 404 and answer.json["error"] == "no_dump"
    assert client.get("/dumps/practicebank-latest.nq.gz").status_code == 404
    assert "larger than" in caplog.text


def test_a_file_changed_after_the_manifest_is_not_served_as_it(dumped):
    """A same-day dump moving files into place: the size no longer matches; 503, retry."""
    folder, manifest = dumped
    (folder / manifest.dataset.path).write_bytes(b"\x1f\x8b half")
    answer = client_for(folder).get("/dumps/practicebank-latest.nq.gz")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
