"""The ``practicebank`` command: a thin shell over the library.

Each command makes one call into ``practicebank.loaders`` and turns the library's
exceptions into a message that says what to do next. Exit codes: 0 success, 1 the input
was invalid (nothing was changed), 2 usage error (wrong option, missing file, store in use,
a SPARQL server that cannot be reached or refuses the credentials).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
import pyoxigraph as ox

from practicebank.loaders.limits import InputRefused, ReadLimits
from practicebank.loaders.limits import click_options as limit_options
from practicebank.loaders.limits import from_flags as limits_from_flags
from practicebank.loaders.load import ensure_demo, input_files, load_file, validate_files_report
from practicebank.loaders.load import restore as restore_dump
from practicebank.loaders.readers import InputError, read_file
from practicebank.settings import click_options as endpoint_settings
from practicebank.settings import resolve, settings_from_flags

from . import dumps, formats
from .backend import Store
from .connect import open_from_settings
from .engines import engine_names
from .exporting import export_store
from .problems import ValidationFailed, errors, render_json, render_text
from .progress import Progress
from .remote_store import RemoteStore
from .sparql_client import RemoteError
from .store import DEFAULT_STORE_PATH, STORE_ENV, StoreInUseError
from .validation import Validation
from .version import __version__

store_option = click.option(
    "--store", "store_path", envvar=STORE_ENV, default=DEFAULT_STORE_PATH, show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Folder of the on-disk Oxigraph store, the embedded backend (env {STORE_ENV}).",
)
#: At most this many problems are printed one by one; the rest are counted by message.
REPORT_LIMIT = 50


class UsageProblem(click.UsageError):
    """A usage error whose message is already a full sentence."""


def backend_options(command):
    """``--store`` and the ``--backend…`` flags: where the data lives (and a remote's
    failures as messages: :func:`backend_errors`)."""
    return store_option(endpoint_settings(backend_errors(command), prefix="backend"))


def backend_errors(command):
    """A SPARQL server's failure (unreachable, credentials refused, an error answer) as a
    message naming the server and what it said, not a traceback. Its message never holds
    the password (:mod:`.sparql_client`)."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except RemoteError as exc:
            raise UsageProblem(f"The SPARQL server failed: {exc}. Check the backend_* "
                               "settings and that the server is up.") from exc
    return run


def open_store(path: Path, flags: dict | None = None, config_file: str | None = None
               ) -> Store:
    """The store the flags (and PRACTICEBANK_BACKEND… variables, and the config file) name:
    the embedded one at ``path``, or a SPARQL server."""
    try:
        values = resolve(settings_from_flags(flags or {}), config_file=config_file)
        return open_from_settings(values, path)
    except (StoreInUseError, ValueError) as exc:
        raise UsageProblem(str(exc)) from exc


def read_limits(flags) -> ReadLimits:
    """The read limits the flags (or their environment variables) ask for."""
    try:
        return limits_from_flags(flags)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from exc


def print_problems(problems, report: str) -> None:
    if report == "json":
        click.echo(render_json(problems))
    elif problems:
        click.echo(render_text(problems), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="practicebank")
def main() -> None:
    """practicebank: a knowledge graph of what works in crime reduction.

    Load practice records, police forces and vocabularies into an embedded Oxigraph
    store, validated with SHACL shapes, and serve them as a SPARQL 1.1 endpoint.

    \b
    Start here:
      practicebank serve --demo          load the bundled data, serve on localhost:7878
      practicebank load practices.csv    validate a file and load it into its own graph
      practicebank query 'SELECT ...'    run a query against the store
    """


def input_options(f):
    """Options shared by load and validate (same names, same meaning), then the read
    limits (``--max-file-bytes`` …, see :mod:`.limits`)."""
    f = limit_options(f)
    for option in reversed([
        click.option("--format", "fmt", metavar="FORMAT",
                     help="Input format when the extension does not say: "
                     + ", ".join(formats.readable_names())
                     + ". Gzip (.gz) is recognised by itself."),
        click.option("--strict", is_flag=True, help="Fail on warnings too."),
        click.option("--by-lsoa", is_flag=True,
                     help="Street-level crime: count per LSOA too, not only per force."),
        click.option("--engine", type=click.Choice(engine_names()),
                     help="SHACL engine (default: turbo where installed; pyshacl is the "
                     "reference)."),
        click.option("--report", type=click.Choice(["text", "json", "ttl"]), default="text",
                     show_default=True,
                     help="Problems as a readable list (stderr), as JSON (stdout), or the SHACL "
                     "validation report as Turtle (stdout)."),
        click.option("--shacl-report", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write the SHACL validation report as Turtle to this file."),
        click.option("--drop-personal-data", "drop_personal", is_flag=True,
                     help="RDF input: drop contact e-mails, telephones and people with a "
                     "warning instead of refusing the file. (CSV and JSON readers always drop "
                     "personal fields, with a warning.)"),
    ]):
        f = option(f)
    return f


def print_report(problems, report: str, validations=(), shacl_report: Path | None = None):
    """Problems as asked: text on stderr, JSON or the SHACL report in Turtle on stdout."""
    if report == "ttl" or shacl_report:
        merged = merge_reports(problems, validations)
        turtle = merged.serialize(format="turtle", encoding="utf-8")
        if shacl_report:
            shacl_report.write_bytes(turtle)
        if report == "ttl":
            sys.stdout.buffer.write(turtle)
            sys.stdout.flush()
            return
    if report == "json":
        click.echo(render_json(problems))
    elif problems:
        click.echo(render_text(problems, limit=REPORT_LIMIT), err=True)


def merge_reports(problems, validations):
    merged = Validation(problems=list(problems))
    for validation in validations:
        if validation is not None:
            merged.reports += validation.reports
    return merged.report_graph()


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--graph", help="Name of the graph to replace (graph/NAME). "
              "Default: the file name, e.g. practices.csv -> practices.")
@input_options
@click.option("--source-url", help="Where the file was downloaded from (kept as provenance).")
@click.option("--licence", "--license", "licence", metavar="URL",
              help="The licence of the source, e.g. the OGL v3 URL (kept as provenance).")
@click.option("--dry-run", is_flag=True,
              help="Validate and report the triples that would be added and removed; "
              "change nothing.")
@click.option("--force", is_flag=True,
              help="Load even when the file is unchanged since the graph's last load.")
@backend_options
def load(files, graph, fmt, strict, by_lsoa, engine, report, shacl_report, drop_personal,
         source_url, licence, dry_run, force, store_path, **flags) -> None:
    """Validate FILES (or every file in a folder) and load each into its own named graph.

    Each file replaces its graph completely, in one transaction, and only if it passes
    validation: an invalid file changes nothing and exits 1 with a report of each
    problem (file, row, column, node, path, value, shape message). A file whose checksum
    matches the graph's last load is skipped.
    """
    limits = read_limits(flags)
    paths = input_files(list(files))
    if graph and len(paths) > 1:
        raise UsageProblem("--graph names one graph; load one file at a time with it.")
    failure = None
    with open_store(store_path, flags) as store:
        after_stopped_loads(store, tidy=not dry_run)
        for path in paths:
            try:
                with Progress(path.name) as progress:
                    result = load_file(store, path, graph=graph, format=fmt, strict=strict,
                                       source_url=source_url, licence=licence, dry_run=dry_run,
                                       force=force, by_lsoa=by_lsoa, engine=engine,
                                       keep_reports=report == "ttl" or bool(shacl_report),
                                       drop_personal=drop_personal, progress=progress,
                                       limits=limits)
            except ValidationFailed as exc:
                # Kept without the exception: its traceback would keep the store open.
                failure = (path, exc.problems, getattr(exc, "validation", None))
            except (InputError, ValueError) as exc:
                raise UsageProblem(str(exc)) from exc
            if failure is not None:
                break
            print_report(result.problems, report, [result.validation], shacl_report)
            click.echo(describe(path, result), err=True)
    if failure is not None:
        path, problems, validation = failure
        print_report(problems, report, [validation], shacl_report)
        click.echo(f"{path}: not loaded; the store is unchanged.", err=True)
        sys.exit(1)


@main.command()
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@limit_options
@backend_options
def restore(dump, store_path, **flags) -> None:
    """Put a whole-store export or dump (DUMP.nq, DUMP.nq.gz or DUMP.trig, from
    `practicebank export` or `practicebank dump`) back
    into an empty store: every graph under its own name, validated as a load is, and the
    export's provenance and load history as they were.

    Exit 1 (the store unchanged) when a graph fails validation; exit 2 when the store
    already holds data or the dump holds graphs that are not practicebank's.
    """
    limits = read_limits(flags)
    with open_store(store_path, flags) as store:
        after_stopped_loads(store)
        try:
            results = restore_dump(store, dump, limits=limits)
        except ValidationFailed as exc:
            print_report(exc.problems, "text", [getattr(exc, "validation", None)], None)
            click.echo(f"{dump}: not restored; the store is unchanged.", err=True)
            sys.exit(1)
        except (InputError, ValueError) as exc:
            raise UsageProblem(str(exc)) from exc
        for result in results:
            click.echo(f"graph/{result.graph}: {result.triples} triples", err=True)
        click.echo(f"{dump}: {len(results)} graph(s) restored, with their provenance and "
                   "history.", err=True)


def describe(path: Path, result) -> str:
    """One line on what a load did."""
    if result.skipped:
        return (f"{path}: unchanged since the last load of graph/{result.graph}; nothing to do "
                "(--force loads it anyway).")
    if result.dry_run:
        return (f"{path}: valid; loading it would put {result.triples} triples into "
                f"graph/{result.graph} (+{result.added} -{result.removed}). Nothing was changed "
                "(--dry-run).")
    return (f"{path}: {result.triples} triples into graph/{result.graph} "
            f"(+{result.added} -{result.removed}; {result.focus} nodes validated).")


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@input_options
def validate(files, fmt, strict, by_lsoa, engine, report, shacl_report,
             drop_personal, **limit_flags) -> None:
    """Check FILES (or every file in a folder) against the shapes without touching any store.

    Exit 0 when valid, 1 when there are errors (or warnings with --strict).
    Files given together may refer to each other.
    """
    limits = read_limits(limit_flags)
    try:
        with Progress("validating") as progress:
            problems, validations = validate_files_report(
                list(files), format=fmt, by_lsoa=by_lsoa, engine=engine,
                keep_reports=report == "ttl" or bool(shacl_report),
                drop_personal=drop_personal, progress=progress, limits=limits)
    except (InputError, ValueError) as exc:
        raise UsageProblem(str(exc)) from exc
    print_report(problems, report, validations, shacl_report)
    if errors(problems) or (strict and problems):
        sys.exit(1)
    if report == "text":
        click.echo(f"{len(input_files(list(files)))} file(s) valid "
                   f"({len(problems)} warning(s)).", err=True)


@main.command()
@click.option("--graph", help="Export only graph/NAME (default: every graph).")
@click.option("--format", "fmt", type=click.Choice(["nq", "trig", "ttl", "nt"]),
              default="nq", show_default=True,
              help="nq or trig keep graph names; ttl and nt need --graph.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of stdout.")
@backend_options
def export(graph, fmt, output, store_path, **flags) -> None:
    """Write a graph, or the whole store, as N-Quads, TriG, Turtle or N-Triples.

    Loading the export into an empty store gives the same triples (practicebank load
    store.nq for one graph, or every graph with their names kept by nq/trig).
    """
    try:
        with open_store(store_path, flags) as store:
            export_store(store, output if output else sys.stdout.buffer, graph=graph,
                         format=fmt)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from exc
    sys.stdout.flush()


@main.command()
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the dumps. Default: the dump_dir setting "
              "(env PRACTICEBANK_DUMP_DIR), else STORE.dumps beside the store, where "
              "`serve` publishes them at /dumps/.")
@click.option("--keep", default=dumps.DEFAULT_KEEP, show_default=True,
              type=click.IntRange(min=1),
              help="Dumps to keep, this one included; older ones are deleted.")
@backend_options
def dump(output, keep, store_path, **flags) -> None:
    """Write today's dump of the whole store into a folder: every graph as one N-Quads
    file (practicebank-DATE.nq.gz), each graph as Turtle (graphs/DATE/NAME.ttl.gz),
    SHA256SUMS and a manifest (latest.json).

    A dump of the same day replaces it. `practicebank restore` loads the N-Quads file
    into an empty store; docs/dumps.md says how to check the sums.
    """
    folder = output or dump_folder(store_path, flags)
    with open_store(store_path, flags) as store:
        try:
            with Progress("dump") as progress:
                manifest = dumps.write_dump(store, folder, keep=None, progress=progress)
            removed = dumps.prune(folder, keep)
        except dumps.DumpBusy as exc:
            raise UsageProblem(f"Not dumped: {exc}.") from exc
        except OSError as exc:
            raise UsageProblem(f"Cannot write the dump into {folder}: "
                               f"{exc.strerror or exc}.") from exc
    for line in dumps.describe(manifest):
        click.echo(line)
    pruned = f"; removed the dumps of {', '.join(removed)}" if removed else ""
    click.echo(f"Written into {folder}{pruned}.")


def dump_folder(store_path: Path, flags: dict, config_file: str | None = None) -> Path:
    """The dumps' folder the settings name (dump_dir), else the one beside the store."""
    values = resolve(settings_from_flags(flags), config_file=config_file)
    return dumps.folder_for(values["DUMP_DIR"], store_path)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", metavar="FORMAT", help="Input format, as for load.")
@click.option("--graph", default="data", show_default=True,
              help="Graph name the output describes (its dcat:Dataset).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write Turtle here instead of stdout.")
@limit_options
def convert(file, fmt, graph, output, **limit_flags) -> None:
    """Convert FILE (a practice or forces CSV, or RDF) to Turtle without loading it.

    This is how data/sample-practices.ttl and data/reference.ttl are made from the shared
    CSVs. Problems found while converting are printed; nothing is validated.
    """
    try:
        _, conversion = read_file(file, format=fmt, graph_name=graph,
                                  limits=read_limits(limit_flags))
    except InputError as exc:
        raise UsageProblem(str(exc)) from exc
    except InputRefused as exc:
        print_problems(exc.problems, "text")
        click.echo(f"{file}: not converted.", err=True)
        sys.exit(1)
    print_problems(conversion.problems, "text")
    turtle = conversion.graph.serialize(format="turtle", encoding="utf-8")
    if output:
        output.write_bytes(turtle)
    else:
        sys.stdout.buffer.write(turtle)


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(formats.names("results") + formats.names("rdf")),
              help="Output format. Default: json for SELECT/ASK, ttl for CONSTRUCT/DESCRIBE.")
@backend_options
def query(query, fmt, store_path, **flags) -> None:
    """Run a SPARQL QUERY (or @FILE to read it from a file) and print the results.

    The default graph is the union of all named graphs. Output goes to stdout, so
    `--format csv` pipes into other tools.
    """
    if query.startswith("@"):
        try:
            query = Path(query[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"Cannot read the query file {query[1:]}: {exc.strerror}.") from exc
    with open_store(store_path, flags) as store:
        try:
            results = store.query(query)
        except SyntaxError as exc:
            raise UsageProblem(f"The query is not valid SPARQL: {exc}") from exc
        except RemoteError as exc:
            if exc.status != 400:  # the server's parser: what SyntaxError is embedded
                raise
            raise UsageProblem(f"The query is not valid SPARQL: {exc.message}") from exc
        is_graph = not (hasattr(results, "variables") or isinstance(results, ox.QueryBoolean))
        chosen = formats.by_name(fmt or ("ttl" if is_graph else "json"))
        target = chosen.rdf_format if is_graph else chosen.results_format
        out = results.serialize(format=target) if target is not None else None
        del results  # an unfinished iterator would keep the store (and its lock) open
    if out is None:
        kind, needs = ("a graph", "rdf") if is_graph else ("SELECT/ASK results", "results")
        raise UsageProblem(f"--format {fmt} does not fit this query: {kind} need one of "
                           + ", ".join(formats.names(needs)) + ".")
    sys.stdout.buffer.write(out)
    sys.stdout.flush()


@main.command()
@backend_options
def stats(store_path, **flags) -> None:
    """Count what the store holds: practices, forces, concepts, graphs, triples."""
    with open_store(store_path, flags) as store:
        for name, count in store.stats().items():
            click.echo(f"{name.replace('_', ' '):<16} {count:>8}")
        for name in store.graph_names():
            click.echo(f"  graph/{name:<22} {store.graph_size(name):>8}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7878, show_default=True, type=int, help="Port to listen on.")
@click.option("--demo", is_flag=True,
              help="First load the bundled ontology, vocabularies, reference and sample data "
              "into any graph that does not hold them yet.")
@store_option
@endpoint_settings
def serve(host, port, demo, store_path, config_file, **settings) -> None:
    """Serve the store as a SPARQL endpoint (http://HOST:PORT/sparql).

    Uses granian, a production HTTP server written in Rust; queries run in worker
    processes under a deadline. Every setting is also an environment variable and a
    config-file key: see docs/settings.md. Stop it with Ctrl-C.
    """
    from practicebank.endpoint import create_app
    from practicebank.endpoint.server import serve as run_server

    config = {"STORE_PATH": str(store_path), "CONFIG_FILE": config_file,
              **settings_from_flags(settings)}
    try:
        create_app(config)  # check the settings first, where a mistake can be reported
    except ValueError as exc:
        raise UsageProblem(str(exc)) from exc
    check_port(host, port)
    store = open_store(store_path, settings, config_file)
    try:
        after_stopped_loads(store)
        if demo:
            for result in ensure_demo(store):
                click.echo(f"loaded graph/{result.graph}: {result.triples} triples", err=True)
            first_dump(store, dump_folder(store_path, settings, config_file))
    finally:
        store.close()  # release the store's lock: the server's own process opens it
    run_server(config, host=host, port=port)


def first_dump(store: Store, folder: Path) -> None:
    """Publish a dump at /dumps/ when the folder has none yet, so the demo shows one (a
    fraction of a second on the demo data)."""
    if dumps.kept_dates(folder):
        return
    try:
        manifest = dumps.write_dump(store, folder)
    except (dumps.DumpBusy, OSError) as exc:  # the demo serves without it
        click.echo(f"No first dump written into {folder}: {exc}", err=True)
        return
    click.echo(f"wrote the dump of {manifest.date} into {folder} "
               f"({manifest.dataset.quads} quads)", err=True)


def after_stopped_loads(store: Store, *, tidy: bool = True) -> None:
    """Say what was undone of a load that was stopped before it committed. The embedded
    store undoes it as it opens; a remote has no journal undone at open, so before a load
    and before serving, what a stopped load left on the server goes here (``tidy``): its
    staging graphs, and a graph it was filling, emptied again."""
    if tidy and isinstance(store, RemoteStore) and store.tidy():
        click.echo(f"Dropped {store.dropped_staging} staging graph(s) that a stopped load "
                   "left on the server.", err=True)
    if getattr(store, "recovered", None):
        click.echo(f"Undid an unfinished load of graph/{store.recovered} "
                   "(the process was stopped before it committed).", err=True)


def check_port(host: str, port: int) -> None:
    """Refuse at once, in words, an address the server could not listen on (granian's own
    error is a traceback from its worker)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            sock.bind((host, port))
    except OSError as exc:
        raise UsageProblem(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Stop whatever is using "
            "that port, or choose another with --port.") from exc


if __name__ == "__main__":  # pragma: no cover
    main()
