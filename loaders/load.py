"""The load pipeline: source → stage → validate → commit with provenance.

This is the library behind ``practicebank load``, ``validate`` and ``serve --demo``, on any
store (:mod:`practicebank.backend`). Each step has one owner:

1. **source**: the file is hashed; if the last committed load of the same graph read the
   same bytes, nothing is done (``force`` loads anyway). Readers (:mod:`.readers`) give RDF
   as it is, or convert CSV and JSON, streaming N-Triples chunks as they convert;
2. **stage** (:mod:`practicebank.staging`): the store chooses where the data waits, straight
   in an empty target graph of the embedded store or in a scratch store beside a copy of
   the current graph; personal data is dropped and blank nodes are given IRIs there;
3. **validate** (:mod:`practicebank.validation`), with the rest of the store as context: every
   node a shape targets, or, when a graph is replaced and was last validated with the same
   shapes, only the nodes the difference touches (``strict`` and ``force`` check all);
4. **commit** with a PROV-O record (:mod:`practicebank.provenance`) and the changeset of
   what changed (:mod:`practicebank.history`) in the same transaction;
   any error (any problem with ``strict``) abandons the stage and raises
   :class:`LoadFailed`, leaving the store as it was. ``dry_run`` stops before committing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import mmap
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import as_file
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from practicebank import formats
from practicebank.dataset_description import (
    DESCRIPTION_NAME,
    NOT_LOADED,
    refresh_after_commit,
)
from practicebank.history import changeset_ntriples
from practicebank.journal import ChangeSet
from practicebank.namespaces import GRAPH, graph_node, slugify
from practicebank.problems import ERROR, WARNING, Problem, ValidationFailed, errors
from practicebank.progress import QUIET, Progress
from practicebank.provenance import LoadRecord, shapes_iri
from practicebank.resources import DEMO_BUNDLES, Bundle
from practicebank.staging import Stage, outside_descriptions, validation_context
from practicebank.store import PracticeStore
from practicebank.store_reads import PROVENANCE_GRAPH as PROVENANCE
from practicebank.validation import Validation, validate_store

from .bounded import check_file
from .conversion import BLANK_NODE_MARKS, Conversion, streaming
from .limits import DEFAULT_LIMITS, InputRefused, ReadLimits
from .readers import LINE_FORMATS, detect_format, open_input, read_input

if TYPE_CHECKING:
    from practicebank.backend import Store


@dataclass(frozen=True)
class LoadOptions:
    """How to load: one object instead of a dozen keyword arguments on every function."""

    graph: str | None = None            # short name; default from the file name
    format: str | None = None           # a format name; default from the extension
    strict: bool = False                # warnings fail the load too
    source_url: str | None = None       # where the file came from (provenance)
    licence: str | None = None          # the file's licence IRI (provenance)
    dry_run: bool = False               # stop before committing
    force: bool = False                 # load even if unchanged; validate everything
    by_lsoa: bool = False               # street-crime CSV: aggregate per LSOA
    engine: str | None = None           # SHACL engine (see practicebank.engines)
    keep_reports: bool = False          # keep the SHACL report graphs in the result
    drop_personal: bool = False         # drop personal data in RDF input, with warnings
    validate: bool = True               # only bundled files skip it (never user input)
    describe: bool = True               # refresh graph/dataset after the commit
    progress: Progress = QUIET
    limits: ReadLimits = DEFAULT_LIMITS


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


def _options(options: LoadOptions | None, overrides: dict) -> LoadOptions:
    return dataclasses.replace(options or LoadOptions(), **overrides)


# -- the pipeline ---------------------------------------------------------------------------

#: Puts a source's data into a stage; returns (reader name, conversion, blank nodes maybe).
Feed = Callable[[Stage], tuple[str, Conversion, bool]]


def load_file(store: Store, path: Path, options: LoadOptions | None = None,
              **overrides) -> LoadResult:
    """Validate ``path`` and, if it conforms, make it the whole of ``graph/{name}``.

    ``options`` (or keyword arguments naming its fields) say how. Personal data in RDF
    input is refused by the shapes unless ``drop_personal`` drops it with a warning; CSV
    and JSON readers always drop personal fields. A file that breaks ``limits`` is refused
    (:class:`~.limits.InputRefused`) with the store as it was."""
    options = _options(options, overrides)
    name = options.graph or default_graph_name(path)
    record = LoadRecord(graph=name, filename=path.name, digest=file_sha256(path),
                        source_url=options.source_url, licence=options.licence)
    last = store.last_load(name)
    if (not options.force and last is not None and last.get("sha") == record.digest
            and store.has_graph(name)):
        return LoadResult(name, store.graph_size(name), 0, 0, skipped=True,
                          dry_run=options.dry_run)
    return run(store, record, lambda stage: _feed_file(stage, path, name, options), options,
               file=str(path), last=last)


def load_bundle(store: Store, bundle: Bundle, *, validate: bool = True,
                describe: bool = True) -> LoadResult:
    """Load one of the bundled files into its graph, through the same pipeline: Turtle as it
    is, other bundles (the CSVs) converted by the reader table like any file given to
    ``load``, so that every bundle loads the same way wherever it is loaded from."""
    if bundle.format != "ttl":
        with as_file(bundle.path()) as path:
            return load_file(store, path, graph=bundle.graph, format=bundle.format,
                             validate=validate, describe=describe)
    data = bundle.read_bytes()
    record = LoadRecord(graph=bundle.graph, filename=bundle.filename,
                        digest=hashlib.sha256(data).hexdigest(), reader="bundle")

    def feed(stage: Stage) -> tuple[str, Conversion, bool]:
        stage.add(data, ox.RdfFormat.TURTLE)
        return "bundle", Conversion(), b"_:" in data or b"[" in data

    return run(store, record, feed, LoadOptions(validate=validate, describe=describe),
               file=bundle.filename, last=None)


def ensure_demo(store: Store) -> list[LoadResult]:
    """Load every bundled graph that the store does not hold yet (``serve --demo``): Turtle
    as it is, other bundles (the corpus CSVs) converted like any file given to ``load``."""
    results = []
    for bundle in DEMO_BUNDLES:
        if not store.has_graph(bundle.graph):
            results.append(load_bundle(store, bundle, describe=False))
    if results:  # once for the whole demo, not once per bundle
        refresh_after_commit(store, changed={PROVENANCE, *(r.graph for r in results)})
    return results


def restore(store: Store, path: Path, *, limits: ReadLimits = DEFAULT_LIMITS,
            validate: bool = True) -> list[LoadResult]:
    """Put a whole-store export (``practicebank export``, N-Quads or TriG) or dump
    (``practicebank dump``, N-Quads gzip) back into a store
    that holds no data graph: each ``graph/…`` graph through the load pipeline (validated,
    with a record of this restore), then the export's own ``graph/provenance``, its loads
    and their history (:mod:`practicebank.history`), as it was. Refuses a store that holds
    data, and graphs that are not practicebank's."""
    inner = formats.strip_compression(path.name)
    fmt = ox.RdfFormat.TRIG if inner.lower().endswith(".trig") else ox.RdfFormat.N_QUADS
    lines = fmt == ox.RdfFormat.N_QUADS
    compressed = inner != path.name
    if not compressed:
        check_file(path, file=str(path), limits=limits, lines=lines)
    held = [name for name in store.graph_names() if name not in (PROVENANCE, DESCRIPTION_NAME)]
    if held:
        raise ValueError(f"the store already holds graph/{held[0]} (and {len(held) - 1} "
                         "more): restore into an empty store, or load files one by one")
    graphs: dict[str, list[ox.Triple]] = {}
    # a compressed file is read through the limits' stream (a bomb stops at the limit)
    source = open_input(path, limits, lines=lines) if compressed else None
    try:
        parsed = (ox.parse(source, format=fmt) if source is not None
                  else ox.parse(path=str(path), format=fmt))
        for quad in parsed:
            name = _graph_name(quad.graph_name, path)
            graphs.setdefault(name, []).append(quad.triple)
    except SyntaxError as exc:
        raise LoadFailed([_syntax_problem(exc, str(path), fmt)]) from exc
    finally:
        if source is not None:
            source.close()
    digest = file_sha256(path)
    kept = list(store.quads_of(graph_node(PROVENANCE)))  # to go back to if a graph fails
    results: list[LoadResult] = []
    try:
        # A graph is validated with the graphs restored before it as context (evaluations
        # need the practices they evaluate), so one that fails is tried again after the
        # others; the restore fails when a whole pass restores nothing more.
        pending = sorted(name for name in graphs if name not in (PROVENANCE, DESCRIPTION_NAME))
        while pending:
            deferred: list[tuple[str, LoadFailed]] = []
            for name in pending:
                data = ox.serialize(graphs[name], format=ox.RdfFormat.N_TRIPLES)
                record = LoadRecord(graph=name, filename=path.name, digest=digest,
                                    reader="restore")

                def feed(stage: Stage, data: bytes = data) -> tuple[str, Conversion, bool]:
                    stage.add(data, ox.RdfFormat.N_TRIPLES)
                    return "restore", Conversion(), b"_:" in data

                try:
                    results.append(run(store, record, feed,
                                       LoadOptions(validate=validate, describe=False),
                                       file=str(path), last=None))
                except LoadFailed as exc:
                    deferred.append((name, exc))
            if len(deferred) == len(pending):
                raise deferred[0][1]
            pending = [name for name, _ in deferred]
        if graphs.get(PROVENANCE):
            store.apply_change(PROVENANCE, added=ox.serialize(graphs[PROVENANCE],
                                                              format=ox.RdfFormat.N_TRIPLES))
            store.flush()
    except BaseException:  # all or nothing: the store held no data graph before
        done = {graph_node(r.graph) for r in results} | {graph_node(PROVENANCE)}
        store.commit_changes(ChangeSet(dropped=done, added=kept))
        raise
    refresh_after_commit(store)  # once, for every graph restored (graph/dataset is not)
    return results


def _graph_name(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph, path: Path) -> str:
    """The short name of a practicebank graph IRI; anything else is refused."""
    iri = graph.value if isinstance(graph, ox.NamedNode) else ""
    if not iri.startswith(str(GRAPH)) or not iri[len(str(GRAPH)):]:
        where = f"graph <{iri}>" if iri else "the default graph"
        raise LoadFailed([Problem(severity=ERROR, file=str(path), message=(
            f"{where} is not a practicebank graph (graph/NAME): a restore takes a whole-store "
            "export of practicebank; load other files with `practicebank load`"))])
    return iri[len(str(GRAPH)):]


def run(store: Store, record: LoadRecord, feed: Feed, options: LoadOptions, *, file: str,
        last: dict[str, str] | None) -> LoadResult:
    """Stage what ``feed`` gives, validate it, and commit it with ``record``'s provenance,
    then refresh the dataset description (``options.describe``; a failed refresh is only a
    warning); on any error the stage is abandoned and the store is as it was."""
    clock = time.perf_counter()
    name = record.graph
    if name == DESCRIPTION_NAME:  # made from the store after every commit, never loaded
        return LoadResult(name, 0, 0, 0, [Problem(WARNING, NOT_LOADED, file)], skipped=True)
    with store.stage(name, activity=record.activity, in_place=not options.dry_run) as stage:
        record.reader, conversion, blank_nodes = feed(stage)
        if errors(conversion.problems):
            raise LoadFailed(conversion.problems)
        stage.settle(file=file, drop_personal=options.drop_personal, blank_nodes=blank_nodes)
        timings = {"read": time.perf_counter() - clock}
        clock = time.perf_counter()
        validation, problems = _validate(store, stage, conversion, options, file=file,
                                         last=last)
        timings["validate"] = time.perf_counter() - clock
        result = LoadResult(name, stage.size, stage.added, stage.removed, problems,
                            dry_run=options.dry_run, reader=record.reader,
                            focus=validation.focus if validation else 0,
                            engine=validation.engine if validation else "",
                            timings=timings, validation=validation)
        if options.dry_run:
            stage.abandon()
            return result
        clock = time.perf_counter()
        stage.commit(record.ntriples(added=stage.added, removed=stage.removed)
                     + changeset_ntriples(record, added=stage.added_nt,
                                          removed=stage.removed_nt,
                                          from_empty=stage.from_empty))
        result.timings["commit"] = time.perf_counter() - clock
    if options.describe:
        clock = time.perf_counter()
        refresh_after_commit(store, changed={name, PROVENANCE})
        result.timings["describe"] = time.perf_counter() - clock
    return result


def _validate(store: Store, stage: Stage, conversion: Conversion, options: LoadOptions, *,
              file: str, last: dict[str, str] | None
              ) -> tuple[Validation | None, list[Problem]]:
    """Validate the staged graph; raise LoadFailed on any error (or, with ``strict``, any
    problem), else return the validation and every problem of the load."""
    problems = conversion.problems + stage.problems
    if not options.validate:
        return None, problems
    outside = validation_context(store, stage.name)
    described = outside_descriptions(store, stage.name) if outside is not None else None
    incremental = (last is not None and last.get("shapes") == shapes_iri()
                   and not (options.strict or options.force))
    focus = stage.focus(outside) if incremental else None
    options.progress.stage("validating", None if focus is None else len(focus), unit="nodes")
    validation = validate_store(
        stage.store, stage.graph, focus=focus, file=file, outside=outside,
        rows=conversion.rows, locate=conversion.locate, engine=options.engine,
        keep_reports=options.keep_reports, progress=options.progress.step,
        described=described)
    options.progress.close()
    problems += validation.problems
    if errors(problems) or (options.strict and problems):
        raise LoadFailed(problems, validation)
    return validation, problems


# -- sources ----------------------------------------------------------------------------------

#: Triple formats Oxigraph's bulk loader can read straight from a file into one graph.
DIRECT_FORMATS = frozenset({ox.RdfFormat.N_TRIPLES, ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML,
                            ox.RdfFormat.JSON_LD})


def _feed_file(stage: Stage, path: Path, name: str, options: LoadOptions
               ) -> tuple[str, Conversion, bool]:
    """RDF goes to the stage as it is (read by Oxigraph itself from the file when it can,
    which is markedly faster than through a Python stream: bench/bench_load.py); CSV and
    JSON are converted in a thread that hands N-Triples chunks to the stage as they come."""
    if detect_format(path, options.format).reader != "rdf":
        return _feed_converted(stage, path, name, options)
    reader, conversion = read_input(path, format=options.format, graph_name=name,
                                    by_lsoa=options.by_lsoa, limits=options.limits)
    stream, fmt = conversion.rdf
    try:
        return _feed_rdf(stage, path, reader, conversion, options)
    except SyntaxError as exc:
        raise LoadFailed([_syntax_problem(exc, str(path), fmt)]) from exc
    finally:
        stream.close()


def _feed_rdf(stage: Stage, path: Path, reader: str, conversion: Conversion,
              options: LoadOptions) -> tuple[str, Conversion, bool]:
    """Stage RDF input; returns (reader name, conversion, blank nodes maybe)."""
    stream, fmt = conversion.rdf
    with path.open("rb") as head:
        compressed = formats.compression_of(path.name, head.read(4)) is not None
    if not compressed and not options.progress.enabled and fmt in DIRECT_FORMATS:
        # the stream's checks, which Oxigraph reading by path would not pass
        check_file(path, file=str(path), limits=options.limits,
                   lines=fmt in LINE_FORMATS, xml=fmt == ox.RdfFormat.RDF_XML)
        stage.add(b"", fmt, path=str(path))
        return reader, conversion, file_may_have_blank_nodes(str(path), fmt)
    size = None if compressed else path.stat().st_size
    stage.add(options.progress.reader(stream, size), fmt)
    return reader, conversion, conversion.may_have_blank_nodes()


def _feed_converted(stage: Stage, path: Path, name: str, options: LoadOptions
                    ) -> tuple[str, Conversion, bool]:
    """Convert ``path`` in a thread that hands N-Triples chunks to this one, which stages
    each as it comes (Oxigraph releases the GIL while it parses and writes), so converting
    and loading overlap. Conversion errors are raised once everything is drained."""
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
                outcome["result"] = read_input(path, format=options.format, graph_name=name,
                                               by_lsoa=options.by_lsoa, limits=options.limits)
                outcome["result"][1].triples.flush()
        except BaseException as exc:  # handed to the loading thread below
            outcome["error"] = exc
        finally:
            chunks.put(None)

    producer = threading.Thread(target=produce, name="practicebank-convert", daemon=True)
    producer.start()
    try:
        while (chunk := chunks.get()) is not None:
            stage.add(chunk, ox.RdfFormat.N_TRIPLES)
    finally:
        stop.set()
        while producer.is_alive():  # let a blocked producer finish
            try:
                chunks.get(timeout=0.1)
            except queue.Empty:
                pass
        producer.join()
    if "error" in outcome:
        raise outcome["error"]
    reader, conversion = outcome["result"]
    return reader, conversion, conversion.may_have_blank_nodes()


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


def _syntax_problem(exc: SyntaxError, file: str, fmt: ox.RdfFormat | None = None) -> Problem:
    name = next((f.name for f in formats.FORMATS if f.rdf_format == fmt), "RDF")
    return Problem(ERROR, f"Not valid {name}: {exc}".strip(), file)


# -- validating without a store -----------------------------------------------------------------

def validate_files(paths: list[Path], options: LoadOptions | None = None,
                   **overrides) -> list[Problem]:
    """Every problem in the files, without touching any store. Files given together may
    refer to each other: each is validated with the others' types as context."""
    return validate_files_report(paths, options, **overrides)[0]


def validate_files_report(paths: list[Path], options: LoadOptions | None = None,
                          **overrides) -> tuple[list[Problem], list[Validation]]:
    """Problems and SHACL validations of the files, each staged like a load into one
    scratch store (so that they are each other's context) and validated there. A file
    refused by ``limits`` gives its one error and is not validated; the others still are."""
    options = _options(options, overrides)
    scratch = PracticeStore()
    problems: list[Problem] = []
    staged: list[tuple[Path, Stage, Conversion]] = []
    for path in input_files(paths):
        name = f"file-{len(staged)}"
        stage = scratch.stage(name, activity=name)
        try:
            _, conversion, blank_nodes = _feed_file(stage, path, default_graph_name(path),
                                                    options)
        except (LoadFailed, InputRefused) as exc:
            problems += exc.problems
            stage.abandon()
            continue
        stage.settle(file=str(path), drop_personal=options.drop_personal,
                     blank_nodes=blank_nodes)
        problems += conversion.problems + stage.problems
        staged.append((path, stage, conversion))
    validations = []
    for path, stage, conversion in staged:
        if errors(conversion.problems):
            continue
        validation = validate_store(
            scratch.ox, stage.graph, file=str(path),
            outside=validation_context(scratch, stage.name), rows=conversion.rows,
            locate=conversion.locate, engine=options.engine,
            keep_reports=options.keep_reports, progress=options.progress.step,
            described=outside_descriptions(scratch, stage.name))
        problems += validation.problems
        validations.append(validation)
    return problems, validations
