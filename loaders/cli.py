"""The ``practicebank`` command: a thin shell over the library.

Each command makes one call into ``practicebank.loaders`` and turns the library's
exceptions into a message that says what to do next. Exit codes: 0 success, 1 the input
was invalid (nothing was changed), 2 usage error (wrong option, missing file, store in use).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pyoxigraph as ox

from . import __version__, formats
from .load import ensure_demo, load_file, validate_files
from .problems import ValidationFailed, errors, render_json, render_text
from .readers import InputError, read_file
from .store import DEFAULT_STORE_PATH, STORE_ENV, PracticeStore, StoreInUseError

store_option = click.option(
    "--store", "store_path", envvar=STORE_ENV, default=DEFAULT_STORE_PATH, show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Folder of the on-disk Oxigraph store (env {STORE_ENV}).",
)
report_option = click.option(
    "--report", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="How to print problems: a readable list, or JSON for tools.",
)


class UsageProblem(click.UsageError):
    """A usage error whose message is already a full sentence."""


def open_store(path: Path) -> PracticeStore:
    try:
        return PracticeStore(path)
    except StoreInUseError as exc:
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


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--graph", help="Name of the graph to replace (graph/NAME). "
              "Default: the file name, e.g. practices.csv -> practices.")
@click.option("--format", "fmt", metavar="FORMAT",
              help="Input format when the extension does not say: csv, "
              + ", ".join(formats.names("rdf")) + ".")
@click.option("--strict", is_flag=True, help="Refuse the load on warnings too.")
@click.option("--source-url", help="Where the file was downloaded from (kept as provenance).")
@store_option
@report_option
def load(files, graph, fmt, strict, source_url, store_path, report) -> None:
    """Validate FILES and load each into its own named graph.

    Each file replaces its graph completely, in one transaction, and only if it passes
    validation: an invalid file changes nothing and exits 1 with a report of each
    problem (file, row, column, node, path, shape message).
    """
    if graph and len(files) > 1:
        raise UsageProblem("--graph names one graph; load one file at a time with it.")
    with open_store(store_path) as store:
        for path in files:
            try:
                result = load_file(store, path, graph=graph, format=fmt, strict=strict,
                                   source_url=source_url)
            except InputError as exc:
                raise UsageProblem(str(exc)) from exc
            except ValidationFailed as failed:
                print_problems(failed.problems, report)
                click.echo(f"{path}: not loaded; the store is unchanged.", err=True)
                sys.exit(1)
            print_problems(result.problems, report)
            click.echo(
                f"{path}: {result.triples} triples into graph/{result.graph} "
                f"(+{result.added} -{result.removed}).", err=True,
            )


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", metavar="FORMAT", help="Input format, as for load.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@report_option
def validate(files, fmt, strict, report) -> None:
    """Check FILES against the shapes without touching any store.

    Exit 0 when valid, 1 when there are errors (or warnings with --strict).
    Files given together may refer to each other.
    """
    try:
        problems = validate_files(list(files), format=fmt)
    except InputError as exc:
        raise UsageProblem(str(exc)) from exc
    print_problems(problems, report)
    if errors(problems) or (strict and problems):
        sys.exit(1)
    if report == "text":
        click.echo(f"{len(files)} file(s) valid ({len(problems)} warning(s)).", err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", metavar="FORMAT", help="Input format, as for load.")
@click.option("--graph", default="data", show_default=True,
              help="Graph name the output describes (its dcat:Dataset).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write Turtle here instead of stdout.")
def convert(file, fmt, graph, output) -> None:
    """Convert FILE (a practice or forces CSV, or RDF) to Turtle without loading it.

    This is how data/sample-practices.ttl and data/reference.ttl are made from the shared
    CSVs. Problems found while converting are printed; nothing is validated.
    """
    try:
        _, conversion = read_file(file, format=fmt, graph_name=graph)
    except InputError as exc:
        raise UsageProblem(str(exc)) from exc
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
@store_option
def query(query, fmt, store_path) -> None:
    """Run a SPARQL QUERY (or @FILE to read it from a file) and print the results.

    The default graph is the union of all named graphs. Output goes to stdout, so
    `--format csv` pipes into other tools.
    """
    if query.startswith("@"):
        try:
            query = Path(query[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"Cannot read the query file {query[1:]}: {exc.strerror}.") from exc
    with open_store(store_path) as store:
        try:
            results = store.query(query)
        except SyntaxError as exc:
            raise UsageProblem(f"The query is not valid SPARQL: {exc}") from exc
        is_graph = isinstance(results, ox.QueryTriples)
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
@store_option
def stats(store_path) -> None:
    """Count what the store holds: practices, forces, concepts, graphs, triples."""
    with open_store(store_path) as store:
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
def serve(host, port, demo, store_path) -> None:
    """Serve the store as a SPARQL endpoint (http://HOST:PORT/sparql).

    Uses the waitress production WSGI server. Stop it with Ctrl-C.
    """
    from practicebank.endpoint import create_app
    from practicebank.endpoint.server import serve as run_server

    store = open_store(store_path)
    if demo:
        for result in ensure_demo(store):
            click.echo(f"loaded graph/{result.graph}: {result.triples} triples", err=True)
    run_server(create_app({"STORE": store}), host=host, port=port)


if __name__ == "__main__":  # pragma: no cover
    main()
