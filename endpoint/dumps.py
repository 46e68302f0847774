"""``/dumps/``: the dumps ``practicebank dump`` wrote, for download (Range, ETag, HEAD).

The server only ever sends a file that a manifest lists, looked up by its exact path
(:meth:`~practicebank.dumps.Manifest.file`): a URL is never joined to the folder, so no
``..``, encoded slash or absolute path can name anything else, and a file dropped into the
folder by hand is not served either. The manifests themselves only hold paths of the
layouts' own shapes (:meth:`~practicebank.dumps.Manifest.from_json`), and a listed file that
resolves (through a link) outside the folder is refused.

Files go out as they are on disk, ``application/gzip`` attachments, with werkzeug's
conditional machinery: a single byte range (206, or 416 for one it cannot satisfy, with
``Content-Range: bytes */size``), ``If-None-Match`` against the file's SHA-256 as a strong
ETag, ``If-Modified-Since`` and ``If-Range``. Stable aliases (``practicebank-latest.nq.gz``,
``graphs/{name}-latest.ttl.gz``) answer the latest file itself, naming the dated one in
``Content-Location``, so a DCAT distribution can link a URL that never changes.

Manifests are read again only when ``latest.json`` or the ``manifests/`` folder changes
(their stat is checked on each request), each within ``MAX_MANIFEST_BYTES``.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_file, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from practicebank import dumps
from practicebank.dumps import COMPRESS_FORMAT, DumpFile, Manifest
from practicebank.formats import by_name

from .errors import EndpointError, service_unavailable
from .negotiation import choose_format

bp = Blueprint("dumps", __name__, url_prefix="/dumps")

EXTENSION = "practicebank.dumps"
#: Seconds a dated file may be cached before it is checked again (a dump of the same day
#: replaces it, so not "immutable"); what answers "the latest" is checked more often.
DATED_MAX_AGE = 3600
LATEST_MAX_AGE = 60
#: Older dumps whose manifests are read to resolve a path (``--keep`` is usually 3).
MAX_KEPT = 100
#: The index page: HTML for browsers, the latest manifest for ``Accept: application/json``.
INDEX_FORMATS = (by_name("html"), by_name("jsondata"))
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers",
     "ETag, Last-Modified, Content-Range, Content-Location, Content-Disposition, "
     "Accept-Ranges"),
)


@dataclass
class Shelf:
    """The manifests of one folder as last read, and the stat they were read at."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    key: tuple | None = None
    latest: Manifest | None = None
    kept: list[Manifest] = field(default_factory=list)  # newest first, the latest included


@bp.record_once
def _init(state: BlueprintSetupState) -> None:
    state.app.extensions[EXTENSION] = {}


def dump_folder() -> Path | None:
    """The current app's dump folder: ``DUMP_DIR``, else beside the store on disk; None for
    an in-memory or remote store handed in as ``STORE`` with no ``DUMP_DIR``."""
    config = current_app.config
    store = config.get("STORE")
    store_path = getattr(store, "path", None) if store is not None else config.get("STORE_PATH")
    return dumps.folder_for(config.get("DUMP_DIR"), store_path)


def shelf() -> tuple[Path | None, Shelf]:
    """The folder and its manifests, read again if anything was published since."""
    folder = dump_folder()
    shelves: dict[Path | None, Shelf] = current_app.extensions[EXTENSION]
    current = shelves.setdefault(folder, Shelf())
    if folder is None:
        return folder, current
    key = (_stat(folder / dumps.LATEST), _stat(folder / dumps.MANIFESTS))
    if key != current.key:
        with current.lock:
            if key != current.key:
                current.latest, current.kept = _read(folder)
                current.key = key
    return folder, current


def _stat(path: Path) -> tuple | None:
    try:
        s = path.stat()
    except OSError:
        return None
    return s.st_ino, s.st_mtime_ns, s.st_size


def _read(folder: Path) -> tuple[Manifest | None, list[Manifest]]:
    try:
        latest = dumps.latest(folder)
    except (OSError, ValueError) as exc:
        current_app.logger.error("Cannot read the latest dump's manifest in %s: %s", folder, exc)
        latest = None
    kept = [latest] if latest is not None else []
    for day in reversed(dumps.kept_dates(folder)[-MAX_KEPT:]):
        if latest is not None and day == latest.date:
            continue
        try:
            kept.append(dumps.manifest_of(folder, day))
        except (OSError, ValueError) as exc:
            current_app.logger.error("Cannot read the manifest of the %s dump: %s", day, exc)
    return latest, kept


def latest_manifest() -> Manifest | None:
    """The manifest of the latest dump this server publishes (for the DCAT description)."""
    return shelf()[1].latest


def stable_url(entry: DumpFile) -> str:
    """The URL of the stable alias of ``entry`` on this server."""
    return url_for("dumps.file", name=entry.alias, _external=True)


# -- views -----------------------------------------------------------------------------------

@bp.get("/")
def index() -> Response:
    """The latest dump: a page listing its files, or its manifest as JSON."""
    chosen = choose_format(INDEX_FORMATS, accept=request.accept_mimetypes)
    if chosen.name != "html":
        response = latest_json()
    else:
        page = render_template("dumps.html", manifest=latest_manifest(),
                               size=dumps.format_bytes)
        response = _small(page.encode(), "text/html; charset=utf-8")
    response.vary.add("Accept")
    return response


@bp.get("/latest.json")
def latest_json() -> Response:
    """The latest dump's manifest (the same bytes as ``latest.json`` on disk)."""
    manifest = latest_manifest()
    if manifest is None:
        raise no_dump()
    return _small(manifest.to_bytes(), "application/json")


@bp.get("/SHA256SUMS")
def sums() -> Response:
    """``sha256sum -c`` input for the latest dump (as ``SHA256SUMS`` on disk)."""
    manifest = latest_manifest()
    if manifest is None:
        raise no_dump()
    return _small(manifest.sha256sums().encode(), "text/plain; charset=utf-8")


@bp.get("/manifests/<day>.json")
def manifest(day: str) -> Response:
    """The manifest of any dump still kept."""
    found = next((m for m in shelf()[1].kept if m.date == day), None)
    if found is None:
        raise not_listed()
    return _small(found.to_bytes(), "application/json")


@bp.get("/<path:name>")
def file(name: str) -> Response:
    """A file a manifest lists, or the latest file a stable alias stands for."""
    folder, current = shelf()
    entry = current.latest.by_alias(name) if current.latest is not None else None
    alias = entry is not None
    if entry is None:  # the latest manifest first: it is the one a dated path most often is in
        entry = next((f for m in current.kept if (f := m.file(name)) is not None), None)
    if entry is None or folder is None:
        raise not_listed()
    response = send_dump_file(folder, entry, max_age=LATEST_MAX_AGE if alias else DATED_MAX_AGE)
    if alias:
        response.headers["Content-Location"] = url_for("dumps.file", name=entry.path)
    return response


def send_dump_file(folder: Path, entry: DumpFile, *, max_age: int) -> Response:
    """``entry``'s bytes, conditional and by range, if they are still what it lists."""
    try:
        root = folder.resolve(strict=True)
        path = (folder / entry.path).resolve(strict=True)
    except OSError as exc:
        current_app.logger.error("The dump file %s is listed but missing: %s", entry.path, exc)
        raise not_listed() from exc
    if not path.is_relative_to(root) or not path.is_file():
        current_app.logger.error("The dump file %s leads outside %s; not served",
                                 entry.path, root)
        raise not_listed()
    size = path.stat().st_size
    if size != entry.bytes:  # a dump of the same day is being moved into place
        raise service_unavailable("This dump file is being replaced; retry in a moment.")
    try:
        return send_file(path, mimetype=COMPRESS_FORMAT, as_attachment=True,
                         download_name=entry.filename, conditional=True, etag=entry.sha256,
                         max_age=max_age)
    except RequestedRangeNotSatisfiable as exc:
        raise EndpointError(
            416, "range_not_satisfiable",
            f"The Range asked for is not within this file of {size} bytes, or is not one "
            "range of bytes (bytes=START-END); ask for one range inside the file, or for "
            "the whole file without Range.",
            headers={"Content-Range": f"bytes */{size}"}) from exc


def _small(body: bytes, content_type: str) -> Response:
    """A manifest-sized answer, with its SHA-256 as ETag (304 when it still matches)."""
    response = Response(body, content_type=content_type)
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.cache_control.max_age = LATEST_MAX_AGE
    response.cache_control.public = True
    return response.make_conditional(request)


def no_dump() -> EndpointError:
    """404: nothing has been published yet (or this server keeps no dumps)."""
    return EndpointError(404, "no_dump", "No dump has been published here yet. The operator "
                         "makes one with `practicebank dump`; meanwhile, query /sparql.")


def not_listed() -> EndpointError:
    """404: the path is no file of a dump kept here."""
    return EndpointError(404, "not_found", "No dump kept here has a file at this path; "
                         "/dumps/ lists the latest dump's files, /dumps/latest.json its "
                         "manifest.")


@bp.after_request
def cors(response: Response) -> Response:
    """Dumps are public reads: any page may fetch them (and see the range headers)."""
    for name, value in CORS_HEADERS:
        response.headers.setdefault(name, value)
    return response
