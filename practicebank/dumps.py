"""``practicebank dump``: dated, checksummed downloads of the whole dataset, for ``/dumps/``.

One dump is, under its folder:

* ``practicebank-YYYY-MM-DD.nq.gz``: every quad of the store (every named graph, and the
  default graph if anything was written there), N-Quads, gzip;
* ``graphs/YYYY-MM-DD/{name}.ttl.gz``: one Turtle file per named graph, ``{name}`` being the
  part after ``graph/`` (graphs of other IRIs, or names that are not plain slugs, get a
  slug plus a hash of the IRI, so no name can climb out of its folder or collide);
* ``manifests/YYYY-MM-DD.json``: the dump's manifest (each file's path, graph, media type,
  size, SHA-256 and quad count), what the server resolves file names from;
* ``SHA256SUMS`` (``sha256sum -c`` format, relative paths) and ``latest.json`` (the newest
  date's manifest) describe the newest dump.

Why it is written this way: every file is written into a hidden temporary folder, synced,
and moved into place with ``os.replace`` (atomic), and ``latest.json`` is replaced last,
so a reader (the server, a mirror) never sees a half-written file or a manifest that names
a file not yet there. Older dumps stay until ``keep`` newer ones exist. One dump at a time
per folder (a lock file), so two writers cannot interleave.

Everything is read through the :class:`~practicebank.backend.Store` protocol
(``named_graphs``, ``quads_of``), so a dump of a remote SPARQL server is the same files as a
dump of the embedded store. Each graph is read once, for both files, and never held
whole. Gzip is written with a zero timestamp, so the same data read in the same order gives
the same bytes (and the same SHA-256, which the server uses as its ETag).
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from datetime import date as Date
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from . import formats
from .backend import Store
from .journal import fsync_folder
from .namespaces import GRAPH, PREFIXES, slugify
from .progress import QUIET, Progress
from .settings import default_dump_dir
from .version import __version__

#: Dumps kept by default: the newest and two before it (a mirror that fetched yesterday's
#: can still finish while today's is published).
DEFAULT_KEEP = 3
#: gzip level: nearly all of level 9's saving for clearly less time than 9, and files
#: markedly smaller than level 1's (measured in docs/dumps.md).
GZIP_LEVEL = 6
#: The media type every dump file is served as; the manifest names the format inside.
COMPRESS_FORMAT = "application/gzip"
LATEST = "latest.json"
SUMS = "SHA256SUMS"
MANIFESTS = "manifests"
LOCK = ".lock"
TEMP_PREFIX = ".dump-"
#: The layout of manifest.json; bumped if a field changes meaning.
MANIFEST_FORMAT = "practicebank-dump/1"
#: A manifest larger than this is not read (the server reads them on requests): it takes
#: some 300 bytes a graph, so this allows tens of thousands of graphs.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: Quads held at once on their way to the dataset file.
BATCH = 10_000

DAY = r"\d{4}-\d{2}-\d{2}"
SHA256 = re.compile(r"[0-9a-f]{64}")
#: A graph name used as a file name as it is: lower-case letters, digits and hyphens.
PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


@dataclass(frozen=True)
class Layout:
    """One kind of dump file: where it goes, what is inside, how Oxigraph writes it, and
    the stable path that always means the latest one (what the DCAT description lists)."""

    kind: str                    # "dataset" (the whole store) or "graph" (one named graph)
    template: str                # its path under the dump folder
    format: formats.Format       # the serialisation inside the gzip
    alias: str                   # the path of the latest file of this kind (and name)
    alias_pattern: re.Pattern[str]

    def path(self, day: str, name: str | None = None) -> str:
        return self.template.format(date=day, name=name)


LAYOUTS: dict[str, Layout] = {layout.kind: layout for layout in (
    Layout("dataset", "practicebank-{date}.nq.gz", formats.by_name("nq"),
           "practicebank-latest.nq.gz", re.compile(r"practicebank-latest\.nq\.gz")),
    Layout("graph", "graphs/{date}/{name}.ttl.gz", formats.by_name("ttl"),
           "graphs/{name}-latest.ttl.gz",
           re.compile(rf"graphs/(?P<name>{PLAIN_NAME.pattern})-latest\.ttl\.gz")),
)}


@dataclass(frozen=True)
class DumpFile:
    """One file of a dump, as its manifest lists it."""

    path: str                    # relative to the dump folder, with "/"
    graph: str | None            # the graph IRI; None for the whole dataset
    name: str | None             # the graph's file name ({name}.ttl.gz); None for the dataset
    media_type: str              # of the content inside the gzip
    bytes: int                   # of the .gz file
    sha256: str                  # of the .gz file
    quads: int
    compression: str = "gzip"

    @property
    def kind(self) -> str:
        return "dataset" if self.graph is None else "graph"

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def alias(self) -> str:
        """The stable path that answers this file while it is the latest of its kind."""
        return LAYOUTS[self.kind].alias.format(name=self.name)


@dataclass(frozen=True)
class Manifest:
    """What one dump holds: the date it is for, when and by which version it was made."""

    date: str
    created: str
    version: str
    files: tuple[DumpFile, ...]
    format: str = MANIFEST_FORMAT
    _by_path: dict[str, DumpFile] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_path.update({f.path: f for f in self.files})

    @property
    def dataset(self) -> DumpFile:
        """The whole-dataset N-Quads file."""
        return next(f for f in self.files if f.graph is None)

    @property
    def graph_files(self) -> list[DumpFile]:
        return [f for f in self.files if f.graph is not None]

    def file(self, path: str) -> DumpFile | None:
        """The file listed at ``path`` exactly, or None (never a path it does not list)."""
        return self._by_path.get(path)

    def graph_file(self, name: str) -> DumpFile | None:
        """The Turtle file of the graph whose file name is ``name``."""
        return next((f for f in self.graph_files if f.name == name), None)

    def by_alias(self, path: str) -> DumpFile | None:
        """The file a stable path (``practicebank-latest.nq.gz``,
        ``graphs/{name}-latest.ttl.gz``) stands for in this dump, or None."""
        for layout in LAYOUTS.values():
            match = layout.alias_pattern.fullmatch(path)
            if match is not None:
                name = match.groupdict().get("name")
                return next((f for f in self.files if f.kind == layout.kind and f.name == name),
                            None)
        return None

    def sha256sums(self) -> str:
        """The ``SHA256SUMS`` text: ``sha256sum -c SHA256SUMS`` in the dump folder checks it."""
        return "".join(f"{f.sha256}  {f.path}\n" for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format, "date": self.date, "created": self.created,
            "version": self.version, "quads": self.dataset.quads,
            "graphs": len(self.graph_files),
            "files": [asdict(f) for f in self.files],
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """A manifest read back; anything that is not one of ours (a path outside the
        layouts, a missing field) is a ValueError, so a tampered manifest serves nothing."""
        try:
            files = tuple(DumpFile(**entry) for entry in data["files"])
            manifest = cls(date=str(data["date"]), created=str(data["created"]),
                           version=str(data["version"]), files=files,
                           format=str(data["format"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a practicebank dump manifest: {exc}") from exc
        if manifest.format != MANIFEST_FORMAT or not re.fullmatch(DAY, manifest.date):
            raise ValueError(f"not a {MANIFEST_FORMAT} manifest")
        for f in files:  # every path is one the layout makes, so none can leave the folder
            if ((f.name is None) != (f.kind == "dataset")
                    or (f.name is not None and not PLAIN_NAME.fullmatch(str(f.name)))
                    or f.path != LAYOUTS[f.kind].path(manifest.date, f.name)):
                raise ValueError(f"a dump manifest may not list {f.path!r}")
            # the sum becomes an ETag header, the sizes are compared with the files
            if (not isinstance(f.sha256, str) or not SHA256.fullmatch(f.sha256)
                    or not all(type(n) is int and n >= 0 for n in (f.bytes, f.quads))
                    or not all(isinstance(t, str) for t in (f.media_type, f.compression))
                    or not (f.graph is None or isinstance(f.graph, str))):
                raise ValueError(f"the manifest's entry for {f.path!r} is not well formed")
        if sum(f.graph is None for f in files) != 1:
            raise ValueError("a dump manifest lists exactly one whole-dataset file")
        return manifest


class DumpBusy(RuntimeError):
    """Another dump is being written into the same folder."""


# -- writing ------------------------------------------------------------------------------------

def write_dump(store: Store, directory: str | os.PathLike[str], *, date: Date | None = None,
               keep: int | None = DEFAULT_KEEP, progress: Progress = QUIET) -> Manifest:
    """Dump every graph of ``store`` into ``directory`` for ``date`` (default: today, UTC),
    publish it as the latest if it is the newest date, and delete dumps older than the
    newest ``keep`` (None keeps all). A dump of a date already there replaces it."""
    if keep is not None and keep < 1:
        raise ValueError("keep must be at least 1: the dump just written is kept")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    day = (date or datetime.now(UTC).date()).isoformat()
    with _locked(folder):
        _remove_leftovers(folder)
        scratch = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=folder))
        try:
            files = _write_files(store, scratch, day, progress)
            manifest = Manifest(date=day, created=_now(), version=__version__,
                                files=tuple(files))
            _publish(scratch, folder, manifest)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if keep is not None:
            _prune(folder, keep)
    return manifest


def _remove_leftovers(folder: Path) -> None:
    """What a dump that was killed left: its scratch folder and half-written manifests."""
    for stale in [*folder.glob(TEMP_PREFIX + "*"), *(folder / MANIFESTS).glob(TEMP_PREFIX + "*")]:
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _write_files(store: Store, scratch: Path, day: str, progress: Progress) -> list[DumpFile]:
    """The dataset file and one Turtle file per named graph, written under ``scratch``.

    Each graph is read once: its Turtle file is serialised from the quads as they come,
    and the same quads go on, a batch at a time, to the dataset file (a second read costs
    as much again on disk, where each term is looked up; a whole graph in a list costs its
    size in memory)."""
    graphs = sorted(store.named_graphs(), key=lambda g: g.value)
    names = file_names([g.value for g in graphs])
    dataset_layout, graph_layout = LAYOUTS["dataset"], LAYOUTS["graph"]
    files: list[DumpFile] = []
    progress.stage("dumping", len(graphs) + 1, unit="graphs")
    with _GzipOut(scratch / dataset_layout.path(day)) as dataset:
        batches = _Batches(dataset)
        batches.add_all(store.quads_of(ox.DefaultGraph()))
        progress.step()
        for graph in graphs:
            before = batches.total
            path = graph_layout.path(day, names[graph.value])
            with _GzipOut(scratch / path) as out:
                out.serialize(batches.passing(store.quads_of(graph)),
                              graph_layout.format.rdf_format, prefixes=PREFIXES)
            batches.flush()
            files.append(out.entry(path, graph.value, names[graph.value],
                                   graph_layout.format, batches.total - before))
            progress.step()
        batches.flush()
    progress.close()
    return [dataset.entry(dataset_layout.path(day), None, None, dataset_layout.format,
                          batches.total), *files]


def file_names(iris: Iterable[str]) -> dict[str, str]:
    """A file name for each graph IRI: the name after ``graph/`` when it is a plain slug,
    else a slug of it plus 12 hex digits of the IRI's SHA-256 (longer on a clash)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    prefix = str(GRAPH)
    for iri in sorted(iris):
        rest = iri[len(prefix):] if iri.startswith(prefix) else ""
        if PLAIN_NAME.fullmatch(rest) and rest not in taken:
            name = rest
        else:
            digest = hashlib.sha256(iri.encode()).hexdigest()
            slug = slugify(rest or iri)[:60].strip("-") or "graph"
            name = f"{slug}-{digest[:12]}"
            if name in taken:
                name = f"{slug}-{digest}"
        names[iri] = name
        taken.add(name)
    return names


class _GzipOut:
    """A gzip file being written, hashed and counted as its bytes go out, synced on close."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._raw = path.open("wb")
        self._sha = hashlib.sha256()
        self.size = 0
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self, mtime=0,
                                   compresslevel=GZIP_LEVEL)

    # the file object GzipFile writes to
    def write(self, data: bytes) -> int:
        self._sha.update(data)
        self.size += len(data)
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()

    def serialize(self, items: Iterable[Any], format: ox.RdfFormat, **options: Any) -> None:
        ox.serialize(items, self._gzip, format, **options)

    def entry(self, path: str, graph: str | None, name: str | None, fmt: formats.Format,
              quads: int) -> DumpFile:
        return DumpFile(path=path, graph=graph, name=name, media_type=fmt.media_type,
                        bytes=self.size, sha256=self._sha.hexdigest(), quads=quads)

    def __enter__(self) -> _GzipOut:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._gzip.close()
            self._raw.flush()
            os.fsync(self._raw.fileno())
        finally:
            self._raw.close()


class _Batches:
    """Quads on their way to the dataset file, serialised a batch at a time (N-Quads is a
    line per quad, so batches simply follow one another)."""

    def __init__(self, out: _GzipOut) -> None:
        self.out = out
        self.pending: list[ox.Quad] = []
        self.total = 0

    def passing(self, quads: Iterable[ox.Quad]) -> Iterator[ox.Triple]:
        """The triples of ``quads``, each quad also queued for the dataset file."""
        for quad in quads:
            self.pending.append(quad)
            if len(self.pending) >= BATCH:
                self.flush()
            yield quad.triple

    def add_all(self, quads: Iterable[ox.Quad]) -> None:
        for _ in self.passing(quads):
            pass

    def flush(self) -> None:
        if self.pending:
            self.out.serialize(self.pending, ox.RdfFormat.N_QUADS)
            self.total += len(self.pending)
            self.pending = []


def _publish(scratch: Path, folder: Path, manifest: Manifest) -> None:
    """Move the files into place, then the manifest, then (if this date is the newest)
    SHA256SUMS and latest.json: each step atomic, the last one the moment of publication."""
    for f in manifest.files:
        target = folder / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch / f.path, target)
        fsync_folder(target.parent)
    graphs_of_day = folder / "graphs" / manifest.date
    listed = {f.path for f in manifest.files}
    _write_atomic(folder / MANIFESTS / f"{manifest.date}.json", manifest.to_bytes())
    newest = max(kept_dates(folder))
    if newest == manifest.date:
        _write_atomic(folder / SUMS, manifest.sha256sums().encode())
        _write_atomic(folder / LATEST, manifest.to_bytes())
    # a graph in an earlier dump of the same date that this one no longer has
    if graphs_of_day.is_dir():
        for old in graphs_of_day.iterdir():
            if f"graphs/{manifest.date}/{old.name}" not in listed:
                old.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=TEMP_PREFIX, delete=False) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)
    fsync_folder(path.parent)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with (folder / LOCK).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DumpBusy(f"another dump is being written into {folder}; wait for it to "
                           "finish") from exc
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def prune(directory: str | os.PathLike[str], keep: int) -> list[str]:
    """Delete every dump but the newest ``keep``: its manifest first (so nothing serves it
    any more), then its files. Returns the dates deleted."""
    if keep < 1:
        raise ValueError("keep must be at least 1: the latest dump is always kept")
    folder = Path(directory)
    if not folder.is_dir():
        return []
    with _locked(folder):
        return _prune(folder, keep)


def _prune(folder: Path, keep: int) -> list[str]:
    dates = sorted(kept_dates(folder), reverse=True)
    survivors = [m for m in (_read_or_none(folder, d) for d in dates[:keep]) if m is not None]
    still_listed = {f.path for m in survivors for f in m.files}
    gone = dates[keep:]
    for day in gone:
        manifest = _read_or_none(folder, day)
        (folder / MANIFESTS / f"{day}.json").unlink(missing_ok=True)
        for f in manifest.files if manifest is not None else ():
            if f.path not in still_listed:
                (folder / f.path).unlink(missing_ok=True)
        shutil.rmtree(folder / "graphs" / day, ignore_errors=True)
    return gone


# -- reading ------------------------------------------------------------------------------------

def folder_for(dump_dir: str | os.PathLike[str] | None,
               store_path: str | os.PathLike[str] | None) -> Path | None:
    """Where the dumps of a store live: the ``dump_dir`` setting, else ``STORE.dumps``
    beside the store; None for a store with no folder (in memory) and no setting. The
    ``dump`` command and the server both ask here, so they agree."""
    if dump_dir:
        return Path(dump_dir)
    return default_dump_dir(store_path) if store_path else None


def kept_dates(directory: str | os.PathLike[str]) -> list[str]:
    """The dates of the dumps in ``directory`` (each has a manifest), oldest first."""
    folder = Path(directory) / MANIFESTS
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir()
                  if p.suffix == ".json" and re.fullmatch(DAY, p.stem))


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The manifest in file ``path``; OSError or ValueError when it is missing, too big or
    not one of ours."""
    with open(path, "rb") as f:
        data = f.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise ValueError(f"{path} is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        return Manifest.from_json(json.loads(data))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from exc


def latest(directory: str | os.PathLike[str]) -> Manifest | None:
    """The newest dump's manifest, or None when nothing was published there yet."""
    path = Path(directory) / LATEST
    return read_manifest(path) if path.is_file() else None


def manifest_of(directory: str | os.PathLike[str], day: str) -> Manifest:
    """The manifest of the dump of date ``day`` (``YYYY-MM-DD``)."""
    if not re.fullmatch(DAY, day):
        raise ValueError(f"{day!r} is not a date (YYYY-MM-DD)")
    return read_manifest(Path(directory) / MANIFESTS / f"{day}.json")


def _read_or_none(folder: Path, day: str) -> Manifest | None:
    try:
        return manifest_of(folder, day)
    except (OSError, ValueError):
        return None


def verify(directory: str | os.PathLike[str], manifest: Manifest) -> list[str]:
    """The paths whose bytes do not match ``manifest`` (missing, other size or SHA-256)."""
    bad = []
    for f in manifest.files:
        path = Path(directory) / f.path
        try:
            digest = _sha256_of(path)
        except OSError:
            bad.append(f.path)
            continue
        if digest != f.sha256 or path.stat().st_size != f.bytes:
            bad.append(f.path)
    return bad


def _sha256_of(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def describe(manifest: Manifest) -> list[str]:
    """One line per file (path, size, quads) and a total: what the CLI prints."""
    width = max(len(f.path) for f in manifest.files)
    lines = [f"{f.path:<{width}}  {format_bytes(f.bytes):>9}  {f.quads:>10,} quads"
             for f in manifest.files]
    lines.append(f"{manifest.dataset.quads:,} quads in {len(manifest.graph_files)} graph(s), "
                 f"dump of {manifest.date}")
    return lines


def format_bytes(n: int) -> str:
    """1234567 -> "1.2 MB" (decimal units, as download pages show them)."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def open_file(directory: str | os.PathLike[str], f: DumpFile) -> IO[bytes]:
    """The decompressed content of a dump file (for tests and tools)."""
    return gzip.open(Path(directory) / f.path, "rb")


__all__ = ["DEFAULT_KEEP", "DumpBusy", "DumpFile", "LAYOUTS", "Manifest", "describe",
           "file_names", "folder_for", "format_bytes", "kept_dates", "latest", "manifest_of",
           "open_file", "prune", "read_manifest", "verify", "write_dump"]
