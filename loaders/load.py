"""Loading files into the store: read, stage, validate, then commit one named graph at once.

This is the library behind ``practicebank load``, ``validate`` and ``serve --demo``. A load:

1. hashes the file; if the last committed load of the same graph read the same bytes, it
   does nothing (``force=True`` loads anyway);
2. reads it (:mod:`.readers`): RDF as it is, CSV and JSON through a converter;
3. stages it with Oxigraph's bulk loader into a graph of its own: straight into the target
   graph when that graph is empty (under the store's journal, see :mod:`.store`), else into
   an in-memory scratch store next to a copy of the current graph, to compute the
   difference; personal data is dropped and blank nodes are given IRIs there;
4. validates the staged graph (:mod:`.validation`): every node a shape targets, or, when
   the graph is replaced and was last validated with the same shapes, only the nodes the
   difference touches (``strict`` and ``force`` validate everything);
5. commits, or with any error (any problem with ``strict``) changes nothing and raises
   :class:`ValidationFailed`; ``dry_run`` stops before committing and reports what would
   change. Provenance (PROV-O) is written in the same transaction as the commit.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from practicebank import formats
from practicebank.engines import cached_shapes
from practicebank.namespaces import BASE, GRAPH, ID, PB, slugify
from practicebank.personal import drop_personal_data
from practicebank.problems import ERROR, Problem, ValidationFailed, errors
from practicebank.progress import QUIET, Progress
from practicebank.resources import DEMO_BUNDLES, Bundle
from practicebank.store import PracticeStore, count_lines, difference, graph_node
from practicebank.validation import Validation, focus_nodes, validate_store
from practicebank.version import __version__

from .bounded import check_file
from .conversion import BLANK_NODE_MARKS, Conversion, TripleBuffer, streaming
from .limits import DEFAULT_LIMITS, InputRefused, ReadLimits
from .readers import LINE_FORMATS, detect_format, read_input, read_rdf

GENID = BASE + ".well-known/genid/"
NEW = ox.NamedNode("urn:practicebank:staging:new")
OLD = ox.NamedNode("urn:practicebank:staging:old")


@dataclass
class LoadResult:
    """What one load did (or, with ``dry_run``, would do)."""

    graph: str
    triples: int
    added: int
    removed: int
    problems: list[Problem] = field(default_factory=list)
    skipped: bool = False          # unchanged since the last load: nothing done
    dry_run: bool = False
    reader: str = ""
    focus: int = 0                 # nodes validated
    engine: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    validation: Validation | None = None


class LoadFailed(ValidationFailed):
    """A load was refused; ``problems`` says why and ``validation`` has the SHACL reports."""

    def __init__(self, problems: list[Problem], validation: Validation | None = None) -> None:
        super().__init__(problems)
        self.validation = validation


def default_graph_name(path: Path) -> str:
    """``data/My Practices.csv`` loads into ``graph/my-practices`` unless --graph says."""
    return slugify(path.name.split(".")[0]) or "data"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def shapes_sha256() -> str:
    """A checksum of the shapes, kept with each load: a graph validated with the same
    shapes need only have its changes validated next time."""
    return hashlib.sha256(cached_shapes().serialize(format="nt", encoding="utf-8")).hexdigest()


def shapes_iri() -> str:
    return f"urn:practicebank:shapes:sha256:{shapes_sha256()}"


def input_files(paths: list[Path]) -> list[Path]:
    """Files to load: each file named, and every loadable file in each folder named
    (sorted, not recursive; hidden files and unknown extensions skipped)."""
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.iterdir()
                if p.is_file() and not p.name.startswith(".")
                and formats.by_extension(formats.strip_compression(p.name)) is not None
                and formats.by_extension(formats.strip_compression(p.name)).reader)
        else:
            found.append(path)
    return found


# -- loading --------------------------------------------------------------------------------

def load_file(store: PracticeStore, path: Path, *, graph: str | None = None,
              format: str | None = None, strict: bool = False, source_url: str | None = None,
              licence: str | None = None, dry_run: bool = False, force: bool = False,
              by_lsoa: bool = False, engine: str | None = None, keep_reports: bool = False,
              drop_personal: bool = False, progress: Progress = QUIET,
              limits: ReadLimits = DEFAULT_LIMITS) -> LoadResult:
    """Validate ``path`` and, if it conforms, make it the whole of ``graph/{graph}``.

    Personal data in RDF input is refused by the shapes (an error) unless ``drop_personal``
    says to drop it with a warning; CSV and JSON readers always drop personal fields. A file
    that breaks ``limits`` is refused (:class:`~.limits.InputRefused`) with the store as
    it was."""
    started = _now()
    name = graph or default_graph_name(path)
    digest = file_sha256(path)
    last = store.last_load(name)
    if (not force and last is not None and last.get("sha") == digest
            and store.has_graph(name)):
        return LoadResult(name, store.graph_size(name), 0, 0, skipped=True, dry_run=dry_run)
    clock = time.perf_counter()
    activity = ID[f"load/{uuid.uuid4()}"]
    fill = not dry_run and not store.has_graph(name)
    if fill and detect_format(path, format).reader != "rdf":
        # A converted input fills an empty graph while it is being converted.
        return _finish(store, *_fill_streaming(
            store, path, name, str(activity), format=format, by_lsoa=by_lsoa,
            drop_personal=drop_personal, limits=limits),
            path=path, name=name, activity=activity, digest=digest, started=started,
            clock=clock, strict=strict, engine=engine, keep_reports=keep_reports,
            source_url=source_url, licence=licence, progress=progress)
    reader, conversion = read_input(path, format=format, graph_name=name, by_lsoa=by_lsoa,
                                    limits=limits)
    direct = None  # a file Oxigraph can read itself, without Python in the way
    if conversion.rdf is not None:
        stream, fmt = conversion.rdf
        with path.open("rb") as head:
            compressed = formats.compression_of(path.name, head.read(4)) is not None
        if fill and not compressed and not progress.enabled and fmt in DIRECT_FORMATS:
            try:  # the stream's checks, which Oxigraph reading by path would not pass
                check_file(path, file=str(path), limits=limits, lines=fmt in LINE_FORMATS,
                           xml=fmt == ox.RdfFormat.RDF_XML)
            except BaseException:
                stream.close()
                raise
            direct = str(path)
        conversion.rdf = (progress.reader(stream, None if compressed else path.stat().st_size),
                          fmt)
    if errors(conversion.problems):
        raise LoadFailed(conversion.problems)
    staged: Staged | None = None
    try:
        if fill:
            staged = _fill(store, name, conversion, str(activity), str(path), drop_personal,
                           direct=direct)
        else:
            # Only the changes are validated, unless the user asks for everything.
            incremental = last if not (strict or force) else None
            staged = _stage_replacement(store, name, conversion, str(path), incremental,
                                        drop_personal)
        timings = {"read": time.perf_counter() - clock}
        clock = time.perf_counter()
        validation, problems = _validate_staged(store, name, staged, conversion, path,
                                                strict=strict, engine=engine,
                                                keep_reports=keep_reports, progress=progress)
        timings["validate"] = time.perf_counter() - clock
    except BaseException:
        if fill:
            store.abandon_fill(name)
        raise
    finally:
        if staged is not None:
            staged.discard_scratch()
        if conversion.rdf is not None and hasattr(conversion.rdf[0], "close"):
            conversion.rdf[0].close()
    result = LoadResult(name, staged.size, staged.added, staged.removed, problems,
                        dry_run=dry_run, reader=reader, focus=validation.focus,
                        engine=validation.engine, timings=timings, validation=validation)
    if dry_run:
        return result
    clock = time.perf_counter()
    prov = provenance(activity, name=name, filename=path.name, digest=digest, reader=reader,
                      started=started, source_url=source_url, licence=licence,
                      added=staged.added, removed=staged.removed)
    if fill:
        store.commit_fill(name, provenance=prov)
    else:
        store.apply_change(name, added=staged.added_nt, removed=staged.removed_nt,
                           provenance=prov)
        store.flush()
    result.timings["commit"] = time.perf_counter() - clock
    return result


#: Triple formats Oxigraph's bulk loader can read straight from a file into one graph.
DIRECT_FORMATS = frozenset({ox.RdfFormat.N_TRIPLES, ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML,
                            ox.RdfFormat.JSON_LD})


def file_may_have_blank_nodes(path: str, fmt: ox.RdfFormat) -> bool:
    """Whether the file's bytes could hold a blank node, found at C speed through mmap (a
    file Oxigraph read itself was never seen by :class:`BlankNodeSniffer`). Formats
    without marks of their own are assumed to have some."""
    marks = BLANK_NODE_MARKS.get(fmt)
    if marks is None:
        return True
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return False
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return any(view.find(mark) != -1 for mark in marks)


def _fill_streaming(store: PracticeStore, path: Path, name: str, activity: str, *,
                    format: str | None, by_lsoa: bool, drop_personal: bool,
                    limits: ReadLimits) -> tuple[str, Conversion, Staged]:
    """Convert ``path`` in a thread that hands N-Triples chunks to this one, which
    bulk-loads each as it comes (Oxigraph releases the GIL while it parses and writes), so
    converting and loading overlap. Several bulk loads of ~40k triples are also faster than
    one of the whole (measured 0.9 s against 1.3 s for 184k triples). Conversion errors are
    raised once everything is drained; the graph is then emptied again."""
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    outcome: dict[str, object] = {}
    stop = threading.Event()

    def send(chunk: bytes) -> None:
        while not stop.is_set():
            try:
                chunks.put(chunk, timeout=0.1)
                return
            except queue.Full:
                continue
        raise InterruptedError("the load stopped")

    def produce() -> None:
        try:
            with streaming(send):
                outcome["result"] = read_input(path, format=format, graph_name=name,
                                               by_lsoa=by_lsoa, limits=limits)
                outcome["result"][1].triples.flush()
        except BaseException as exc:  # handed to the loading thread below
            outcome["error"] = exc
        finally:
            chunks.put(None)

    producer = threading.Thread(target=produce, name="practicebank-convert", daemon=True)
    producer.start()
    try:
        store.fill_graph(name, b"", format=ox.RdfFormat.N_TRIPLES, load=activity)
        while (chunk := chunks.get()) is not None:
            store.ox.bulk_load(chunk, format=ox.RdfFormat.N_TRIPLES,
                               to_graph=graph_node(name))
    except BaseException:
        stop.set()
        store.abandon_fill(name)
        raise
    finally:
        stop.set()
        while producer.is_alive():  # let a blocked producer finish
            try:
                chunks.get(timeout=0.1)
            except queue.Empty:
                pass
        producer.join()
    if "error" in outcome:
        store.abandon_fill(name)
        raise outcome["error"]
    reader, conversion = outcome["result"]
    if errors(conversion.problems):
        store.abandon_fill(name)
        raise LoadFailed(conversion.problems)
    staged = _filled(store, name, str(path), drop_personal, conversion.may_have_blank_nodes())
    return reader, conversion, staged


def _validate_staged(store: PracticeStore, name: str, staged: Staged, conversion: Conversion,
                     path: Path, *, strict: bool, engine: str | None, keep_reports: bool,
                     progress: Progress) -> tuple[Validation, list[Problem]]:
    """Validate what a load staged; raise LoadFailed on any error (or, with ``strict``,
    any problem), else return the validation and every problem of the load."""
    progress.stage("validating", staged.focus_count(), unit="nodes")
    validation = validate_store(
        staged.store, staged.graph, focus=staged.focus, file=str(path),
        outside=outside_of(store, name), rows=conversion.rows, locate=conversion.locate,
        engine=engine, keep_reports=keep_reports, progress=progress.step)
    progress.close()
    problems = conversion.problems + staged.problems + validation.problems
    if errors(problems) or (strict and problems):
        raise LoadFailed(problems, validation)
    return validation, problems


def _finish(store: PracticeStore, reader: str, conversion: Conversion, staged: Staged, *,
            path: Path, name: str, activity: URIRef, digest: str, started: datetime,
            clock: float, strict: bool, engine: str | None, keep_reports: bool,
            source_url: str | None, licence: str | None, progress: Progress) -> LoadResult:
    """Validate a streamed fill and commit it (or abandon it on any error)."""
    timings = {"read": time.perf_counter() - clock}
    clock = time.perf_counter()
    try:
        validation, problems = _validate_staged(store, name, staged, conversion, path,
                                                strict=strict, engine=engine,
                                                keep_reports=keep_reports, progress=progress)
    except BaseException:
        store.abandon_fill(name)
        raise
    timings["validate"] = time.perf_counter() - clock
    clock = time.perf_counter()
    prov = provenance(activity, name=name, filename=path.name, digest=digest, reader=reader,
                      started=started, source_url=source_url, licence=licence,
                      added=staged.added, removed=staged.removed)
    store.commit_fill(name, provenance=prov)
    timings["commit"] = time.perf_counter() - clock
    return LoadResult(name, staged.size, staged.added, staged.removed, problems,
                      reader=reader, focus=validation.focus, engine=validation.engine,
                      timings=timings, validation=validation)


@dataclass
class Staged:
    """Where the new content of a graph sits while it is validated, and how it differs
    from the graph's current content."""

    store: ox.Store
    graph: ox.NamedNode
    size: int
    added: int
    removed: int
    added_nt: bytes = b""
    removed_nt: bytes = b""
    focus: list[str] | None = None     # None: every targeted node
    problems: list[Problem] = field(default_factory=list)
    scratch_folder: Path | None = None  # an on-disk scratch store, removed after validation

    def focus_count(self) -> int | None:
        return None if self.focus is None else len(self.focus)

    def discard_scratch(self) -> None:
        """Remove an on-disk scratch store once validation is done with it."""
        if self.scratch_folder is not None:
            self.store = None
            shutil.rmtree(self.scratch_folder, ignore_errors=True)
            self.scratch_folder = None


#: Above this many triples in the graph being replaced, its staging happens in a temporary
#: on-disk store beside the real one: in memory, each of the two copies costs about 0.5 KB a
#: triple (a 1.9-million-triple graph would need more than 2 GiB).
ON_DISK_STAGING = 250_000


def _scratch_store(store: PracticeStore, name: str) -> tuple[ox.Store, Path | None]:
    """An in-memory scratch store, or an on-disk one when the graph is large."""
    if store.path is None or store.graph_size(name) < ON_DISK_STAGING:
        return ox.Store(), None
    folder = Path(tempfile.mkdtemp(prefix=".practicebank-staging-", dir=store.path.parent))
    return ox.Store(str(folder / "store")), folder


def _fill(store: PracticeStore, name: str, conversion: Conversion, activity: str,
          file: str, drop_personal: bool, *, direct: str | None = None) -> Staged:
    """Stage straight into the empty target graph (the fast path; journaled). ``direct``
    is the path of an uncompressed file for Oxigraph to read itself (measured 228 k
    triples/s for N-Triples and 239 k/s for Turtle, against 125–175 k/s through a Python
    stream)."""
    data, fmt = conversion.payload()
    try:
        store.fill_graph(name, data, format=fmt, load=activity, path=direct)
    except SyntaxError as exc:
        raise LoadFailed([_syntax_problem(exc, fmt, file)]) from exc
    blank = file_may_have_blank_nodes(direct, fmt) if direct else conversion.may_have_blank_nodes()
    return _filled(store, name, file, drop_personal, blank)


def _filled(store: PracticeStore, name: str, file: str, drop_personal: bool,
            blank_nodes: bool) -> Staged:
    """Finish staging a filled graph: drop personal data if asked, give blank nodes IRIs,
    count what is there."""
    target = graph_node(name)
    problems = drop_personal_data(store.ox, target, file=file) if drop_personal else []
    if blank_nodes:
        skolemize(store.ox, target)
    size = store.graph_size(name)
    return Staged(store.ox, target, size, size, 0, problems=problems)


def _stage_replacement(store: PracticeStore, name: str, conversion: Conversion, file: str,
                       last: dict[str, str] | None, drop_personal: bool) -> Staged:
    """Stage in a scratch store beside a copy of the current graph."""
    scratch, folder = _scratch_store(store, name)
    data, fmt = conversion.payload()
    try:
        _bulk(scratch, NEW, data, fmt)
    except BaseException as exc:  # a syntax error, or a limit the input broke
        if folder is not None:
            del scratch
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, SyntaxError):
            raise LoadFailed([_syntax_problem(exc, fmt, file)]) from exc
        raise
    problems = drop_personal_data(scratch, NEW, file=file) if drop_personal else []
    if conversion.may_have_blank_nodes():
        skolemize(scratch, NEW)
    if store.has_graph(name) and folder is not None:
        copy = folder / "current.nt"  # through a file, not a bytes object in memory
        with copy.open("wb") as out:
            store.dump(out, format=ox.RdfFormat.N_TRIPLES, graph=name)
        scratch.bulk_load(path=str(copy), format=ox.RdfFormat.N_TRIPLES, to_graph=OLD)
        copy.unlink()
    elif store.has_graph(name):
        scratch.bulk_load(store.dump(format=ox.RdfFormat.N_TRIPLES, graph=name),
                          format=ox.RdfFormat.N_TRIPLES, to_graph=OLD)
    added_nt = difference(scratch, NEW, OLD)
    removed_nt = difference(scratch, OLD, NEW)
    size = int(next(iter(scratch.query(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {NEW} {{ ?s ?p ?o }} }}")))["n"].value)
    focus = None
    if last is not None and last.get("shapes") == shapes_iri():
        focus = touched(scratch, added_nt + removed_nt, outside_of(store, name))
    return Staged(scratch, NEW, size, count_lines(added_nt), count_lines(removed_nt),
                  added_nt, removed_nt, focus, problems, folder)


def touched(scratch: ox.Store, changed_nt: bytes, outside=None) -> list[str]:
    """The nodes of the new graph whose validation a change can affect: the subjects of
    changed triples and the nodes pointing at them (their ``sh:class`` checks look one
    step ahead). The rest of the graph was validated when it was loaded."""
    if not changed_nt:
        return []
    changes = ox.Store()
    changes.load(changed_nt, format=ox.RdfFormat.N_TRIPLES)
    subjects = {q.subject.value for q in changes if isinstance(q.subject, ox.NamedNode)}
    found = set(subjects)
    for start in range(0, len(subjects), 500):
        chunk = " ".join(f"<{s}>" for s in sorted(subjects)[start:start + 500])
        found.update(row["s"].value for row in scratch.query(
            f"SELECT DISTINCT ?s WHERE {{ VALUES ?x {{ {chunk} }} GRAPH {NEW} {{ ?s ?p ?x }} "
            "FILTER isIRI(?s) }"))
    return focus_nodes(scratch, NEW, outside, among=found)


def _bulk(store: ox.Store, graph: ox.NamedNode, data, fmt: ox.RdfFormat) -> None:
    if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, graph)
                          for q in ox.parse(data, format=fmt))
    else:
        store.bulk_load(data, format=fmt, to_graph=graph)


def skolemize(store: ox.Store, graph: ox.NamedNode) -> int:
    """Give blank nodes IRIs (RDF 1.1 §3.5 ``.well-known/genid/``), so that every node can
    be validated, named in a report, and removed again by a later load."""
    rows = list(store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH {graph} {{ ?s ?p ?o "
                            "FILTER (isBlank(?s) || isBlank(?o)) } }"))
    if not rows:
        return 0
    names: dict[str, ox.NamedNode] = {}

    def iri(term):
        if isinstance(term, ox.BlankNode):
            return names.setdefault(term.value, ox.NamedNode(GENID + uuid.uuid4().hex))
        return term

    for row in rows:
        store.remove(ox.Quad(row["s"], row["p"], row["o"], graph))
    store.extend(ox.Quad(iri(r["s"]), r["p"], iri(r["o"]), graph) for r in rows)
    return len(names)


def outside_of(store: PracticeStore, name: str):
    """Types the rest of the store (every graph but ``graph/{name}``) states for IRIs; None
    when no other graph holds data (a fresh store), which spares validation the lookups."""
    if not store.ox.query(f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != {graph_node(name)}) }}"):
        return None

    def types(iris: list[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for iri, kind in store.types_of(iris, excluding=name):
            found.setdefault(iri, set()).add(kind)
        return found

    return types


def _syntax_problem(exc: SyntaxError, fmt: ox.RdfFormat, file: str) -> Problem:
    fmt_name = next((f.name for f in formats.FORMATS if f.rdf_format == fmt), str(fmt))
    return Problem(ERROR, f"Not valid {fmt_name}: {exc}".strip(), file)


# -- validating without a store -----------------------------------------------------------------

def validate_files(paths: list[Path], *, format: str | None = None, by_lsoa: bool = False,
                   engine: str | None = None, keep_reports: bool = False,
                   drop_personal: bool = False, progress: Progress = QUIET,
                   limits: ReadLimits = DEFAULT_LIMITS) -> list[Problem]:
    """Every problem in the files, without touching any store. Files given together may
    refer to each other: each is validated with the others' types as context."""
    return validate_files_report(paths, format=format, by_lsoa=by_lsoa, engine=engine,
                                 keep_reports=keep_reports, drop_personal=drop_personal,
                                 progress=progress, limits=limits)[0]


def validate_files_report(paths: list[Path], *, format: str | None = None,
                          by_lsoa: bool = False, engine: str | None = None,
                          keep_reports: bool = False, drop_personal: bool = False,
                          progress: Progress = QUIET, limits: ReadLimits = DEFAULT_LIMITS
                          ) -> tuple[list[Problem], list[Validation]]:
    """Problems and SHACL validations of the files. A file refused by ``limits`` gives its
    one error and is not validated; the other files still are."""
    scratch = PracticeStore()
    problems: list[Problem] = []
    staged: list[tuple[Path, str, Conversion]] = []
    for path in input_files(paths):
        name = f"file-{len(staged)}"
        data = None
        try:
            _, conversion = read_input(path, format=format,
                                       graph_name=default_graph_name(path), by_lsoa=by_lsoa,
                                       limits=limits)
            data, fmt = conversion.payload()
            scratch.fill_graph(name, data, format=fmt, load=name)
        except SyntaxError as exc:
            problems += conversion.problems
            problems.append(_syntax_problem(exc, fmt, str(path)))
            scratch.abandon_fill(name)
            continue
        except InputRefused as exc:
            problems += exc.problems
            scratch.abandon_fill(name)
            continue
        finally:
            if hasattr(data, "close"):
                data.close()
        problems += conversion.problems
        if drop_personal:
            problems += drop_personal_data(scratch.ox, graph_node(name), file=str(path))
        skolemize(scratch.ox, graph_node(name))
        staged.append((path, name, conversion))
    validations = []
    for path, name, conversion in staged:
        if errors(conversion.problems):
            continue
        validation = validate_store(scratch.ox, graph_node(name), file=str(path),
                                    outside=outside_of(scratch, name), rows=conversion.rows,
                                    locate=conversion.locate, engine=engine,
                                    keep_reports=keep_reports, progress=progress.step)
        problems += validation.problems
        validations.append(validation)
    return problems, validations


# -- bundles ---------------------------------------------------------------------------------

def load_bundle(store: PracticeStore, bundle: Bundle, *, validate: bool = True) -> LoadResult:
    """Load one of the bundled files into its graph (validated like any other load)."""
    started = _now()
    data = bundle.read_bytes()
    conversion = read_rdf(data, formats.by_name("ttl"))
    activity = ID[f"load/{uuid.uuid4()}"]
    digest = hashlib.sha256(data).hexdigest()
    if store.has_graph(bundle.graph):
        staged = _stage_replacement(store, bundle.graph, conversion, bundle.filename, None,
                                    drop_personal=False)
    else:
        staged = _fill(store, bundle.graph, conversion, str(activity), bundle.filename,
                       drop_personal=False)
    problems: list[Problem] = []
    try:
        if validate:
            problems = validate_store(
                staged.store, staged.graph, file=bundle.filename,
                outside=outside_of(store, bundle.graph)).problems
            if errors(problems):
                raise LoadFailed(problems)
    except BaseException:
        if staged.store is store.ox:
            store.abandon_fill(bundle.graph)
        raise
    prov = provenance(activity, name=bundle.graph, filename=bundle.filename, digest=digest,
                      reader="bundle", started=started, added=staged.added,
                      removed=staged.removed)
    if staged.store is store.ox:
        store.commit_fill(bundle.graph, provenance=prov)
    else:
        store.apply_change(bundle.graph, added=staged.added_nt, removed=staged.removed_nt,
                           provenance=prov)
    return LoadResult(bundle.graph, staged.size, staged.added, staged.removed, problems,
                      reader="bundle")


def ensure_demo(store: PracticeStore) -> list[LoadResult]:
    """Load every bundled graph that the store does not hold yet (``serve --demo``)."""
    return [load_bundle(store, b) for b in DEMO_BUNDLES if not store.has_graph(b.graph)]


# -- provenance -------------------------------------------------------------------------------

def provenance(activity: URIRef, *, name: str, filename: str, digest: str, reader: str,
               started: datetime, added: int, removed: int, source_url: str | None = None,
               licence: str | None = None) -> str:
    """PROV-O for one load, as N-Triples for ``graph/provenance``: the activity, the source
    file it used (name, SHA-256, where it came from, its licence), the shapes it was
    validated with, the graph it generated, the software, times and counts."""
    g = TripleBuffer()
    target = GRAPH[name]
    source = URIRef(f"urn:sha256:{digest}")
    agent = ID[f"software/practicebank/{__version__}"]
    g.add((activity, RDF.type, PB.Load))
    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, RDFS.label, Literal(f"Load of {filename} into graph/{name}", lang="en")))
    g.add((activity, PROV.used, source))
    g.add((activity, PB.targetGraph, target))
    g.add((activity, PROV.generated, target))
    g.add((activity, PROV.startedAtTime, Literal(started, datatype=XSD.dateTime)))
    g.add((activity, PROV.endedAtTime, Literal(_now(), datatype=XSD.dateTime)))
    g.add((activity, PB.triplesAdded, Literal(added)))
    g.add((activity, PB.triplesRemoved, Literal(removed)))
    g.add((activity, PROV.wasAssociatedWith, agent))
    g.add((activity, DCTERMS.description, Literal(f"reader: {reader}")))
    g.add((activity, DCTERMS.conformsTo, URIRef(shapes_iri())))
    g.add((target, PROV.wasGeneratedBy, activity))
    g.add((source, RDF.type, PB.SourceFile))
    g.add((source, RDF.type, PROV.Entity))
    g.add((source, DCTERMS.title, Literal(filename)))
    g.add((source, PB.sha256, Literal(digest)))
    if source_url:
        g.add((source, DCTERMS.source, URIRef(source_url)))
        g.add((source, PROV.atLocation, URIRef(source_url)))
    if licence:
        g.add((source, DCTERMS.license, URIRef(licence)))
    g.add((agent, RDF.type, PROV.SoftwareAgent))
    g.add((agent, RDFS.label, Literal(f"practicebank {__version__}")))
    return g.ntriples().decode("utf-8")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
