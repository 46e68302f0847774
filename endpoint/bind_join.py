"""Bind joins: a SERVICE sent to its remote with the bindings the query already has.

pyoxigraph sends a ``SERVICE`` pattern to the remote as written, so a join with a large
endpoint asks for everything that matches the pattern. Here, for the shapes below, the local
side is evaluated first, its distinct bindings of the variables it shares with the SERVICE
pattern go to the remote in ``VALUES`` blocks of ``bind_join_batch`` rows (one request per
batch), and the query then runs with the SERVICE block replaced by an inline ``VALUES`` block
of the remote's answers, so that Oxigraph still does the final join, the filters, the
OPTIONALs, the aggregates and the ordering with its own semantics.

**Rewritten shapes** (anything else runs as written, through the proxy):

* every ``SERVICE`` of the query stands at the top level of its WHERE group, alone or as the
  only pattern of a top-level ``OPTIONAL`` (FILTERs beside it allowed);
* its endpoint is an IRI (the plan has already checked it against the allowlist);
* its pattern has no blank-node labels, is not a sub-SELECT, and nests no SERVICE;
* the variables sent are those the pattern binds for certain (they appear in its own triple
  patterns or ``GRAPH ?g``, not only in an OPTIONAL, a UNION, a VALUES or an expression) that
  every local solution binds too (a variable used locally only in a sub-SELECT or an OPTIONAL
  that leaves it unbound somewhere is not sent).

**Why the answers equal the engine's.** Call X the solutions that meet the SERVICE in the
query's algebra (the group's elements before it, FILTERs aside, since they apply to the whole
group) and R the pattern's solutions. Each solution of R binds every sent variable V, so the
remote's answer to ``VALUES B`` joined with the pattern is exactly the part of R whose V
values are in B, with the same multiplicities. Every solution of X binds V (checked on the
answers), so any solution of R compatible with one of X has its V values in B = DISTINCT
π_V(X): the join, or the left join of an OPTIONAL, comes out the same. For a SERVICE that is
not optional, the plain joins right after it (triples, VALUES, groups, up to the first
OPTIONAL, MINUS, BIND or SERVICE) are evaluated with the local side too, which may shrink B;
join being commutative and associative, what they remove could not have joined anyway.

No local solution: no call, and the SERVICE is an empty ``VALUES`` block (the join is empty;
under OPTIONAL nothing binds). No shared variable: one call without bindings (the naive
call). More than ``bind_join_max_bindings`` distinct bindings, a blank node in the remote's
answers or a term this module cannot write: the whole query runs as written instead. A
failed call (the same per-call timeout, deadline, size cap and redirect rule as the proxy's,
:func:`~.federation.call_remote`) is the error the client gets today; under ``SILENT`` the
SERVICE yields the one empty solution, as a failed SILENT SERVICE does.

Terms are written with :func:`sparql_term`, which escapes every character a string or IRI
could break out with, and the finished text is lexed again: a ``SERVICE`` or ``LOAD`` in it
that was not there to begin with sends the query down the checked naive path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from practicebank.sparql_text import Token, replace_spans, tokenize

from .federation import CallFailed, Registration, call_remote

BRACKETS = {"{": "}", "(": ")", "[": "]"}
CLOSERS = frozenset(BRACKETS.values())
#: Keywords that start a group element other than triples.
ELEMENT_KEYWORDS = frozenset({"OPTIONAL", "MINUS", "GRAPH", "SERVICE", "BIND", "VALUES",
                              "FILTER"})
#: Element kinds that join plainly with their neighbours (order does not matter to them).
PLAIN = frozenset({"triples", "values", "group"})
FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
RESULT_FORMATS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                  "application/json": ox.QueryResultsFormat.JSON,
                  "application/sparql-results+xml": ox.QueryResultsFormat.XML,
                  "application/xml": ox.QueryResultsFormat.XML}
REQUEST_HEADERS = {"Content-Type": "application/sparql-query",
                   "Accept": "application/sparql-results+json, application/sparql-results+xml",
                   "User-Agent": "practicebank-bind-join"}


class NotRewritable(Exception):
    """The query (or what the local side or a remote gave) is outside what this module
    rewrites: the query runs as written."""


class RemoteFailed(Exception):
    """A call of a SERVICE without SILENT failed; the registration says which and why."""


# -- writing terms ------------------------------------------------------------------------------

_IRI_SAFE = re.compile(r'[^<>"{}|^`\\\x00-\x20]*\Z')
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*\Z")
_STRING_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r",
                   **{c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F, 0x2028, 0x2029]
                      if c not in (0x0A, 0x0D)}}
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def sparql_term(term: object) -> str:
    """``term`` written as a SPARQL data-block value; raises :class:`NotRewritable` for a
    blank node, a quoted triple, a directional literal, or an IRI, datatype or language tag
    that could not be written without changing the text around it."""
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.Literal) and getattr(term, "direction", None) is None:
        quoted = '"' + term.value.translate(_STRING_ESCAPES) + '"'
        if term.language:
            if not _LANGUAGE.match(term.language):
                raise NotRewritable("a language tag that cannot be written")
            return f"{quoted}@{term.language}"
        datatype = term.datatype.value
        return quoted if datatype == XSD_STRING else f"{quoted}^^{_iri(datatype)}"
    raise NotRewritable(f"a term that a VALUES block cannot hold ({type(term).__name__})")


def _iri(value: str) -> str:
    if not _IRI_SAFE.match(value):
        raise NotRewritable("an IRI that cannot be written")
    return f"<{value}>"


_IRI_TEXT = r'<[^<>"{}|^`\\\x00-\x20]*>'
_TERM_TEXT = (rf'(?:{_IRI_TEXT}|"(?:[^"\\\n\r]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^{_IRI_TEXT})?'
              r"|UNDEF)")
#: What :func:`values_block` writes, and nothing else: a block is checked against it before
#: it goes into any query text (fail closed: a mismatch sends the query down the naive path).
_BLOCK = re.compile(rf"VALUES \((?:\?[^\s(){{}}?$]+ ?)*\) \{{\n(?:\((?:{_TERM_TEXT} ?)*\)\n)*\}}")


def values_block(names: list[str], rows: list[tuple[object, ...]]) -> str:
    """``VALUES (?a ?b) { (… …) … }``, None in a row meaning UNDEF; each distinct term is
    written once."""
    written: dict[object, str] = {None: "UNDEF"}

    def term_text(term: object) -> str:
        text = written.get(term)
        if text is None:
            text = written[term] = sparql_term(term)
        return text

    head = " ".join(f"?{name}" for name in names)
    body = "".join("(" + " ".join(map(term_text, row)) + ")\n" for row in rows)
    block = f"VALUES ({head}) {{\n{body}}}"
    if not _BLOCK.fullmatch(block):
        raise NotRewritable("a VALUES block that does not read as data alone")
    return block


# -- reading the query's shape ------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element of a group graph pattern: its kind and its first and last token."""

    kind: str  # triples, filter, optional, minus, bind, values, group, service
    first: int
    last: int


@dataclass(frozen=True)
class Service:
    """A rewritable SERVICE block."""

    element: int  # its element (or its OPTIONAL's) in the WHERE group
    optional: bool
    silent: bool
    endpoint: int  # the index of its target in the registration
    keyword: int  # token index of SERVICE
    close: int  # token index of the pattern's closing brace
    pattern: str  # the text between the pattern's braces
    bound: tuple[str, ...]  # variables every solution of the pattern binds, in order
    variables: tuple[str, ...]  # every variable of the pattern, in order


@dataclass(frozen=True)
class Shape:
    """A query whose SERVICE blocks can all be bind-joined."""

    text: str
    tokens: list[Token]
    prolog: str  # BASE/PREFIX declarations, verbatim
    dataset: str  # FROM / FROM NAMED clauses, verbatim
    elements: tuple[Element, ...]
    services: tuple[Service, ...]


def _close(tokens: list[Token], i: int) -> int:
    """The index of the bracket that closes the one at ``i``."""
    if i >= len(tokens) or tokens[i].kind != "other" or tokens[i].text not in BRACKETS:
        raise NotRewritable("a bracket was expected")
    depth = 0
    for j in range(i, len(tokens)):
        tok = tokens[j]
        if tok.kind == "other" and tok.text in BRACKETS:
            depth += 1
        elif tok.kind == "other" and tok.text in CLOSERS:
            depth -= 1
            if depth == 0:
                return j
    raise NotRewritable("unbalanced brackets")


def _at(tokens: list[Token], i: int, text: str) -> int:
    if i >= len(tokens) or tokens[i].kind != "other" or tokens[i].text != text:
        raise NotRewritable(f"{text} was expected")
    return i


def _element(tokens: list[Token], i: int, end: int) -> Element:
    """The element that starts at token ``i`` of a group that closes at ``end``."""
    tok = tokens[i]
    word = tok.text.upper() if tok.kind == "word" else ""
    if word in ("OPTIONAL", "MINUS"):
        return Element(word.lower(), i, _close(tokens, _at(tokens, i + 1, "{")))
    if word == "GRAPH":
        return Element("group", i, _close(tokens, _at(tokens, i + 2, "{")))
    if word == "SERVICE":
        j = i + 1 + tokens[i + 1].is_word("SILENT")
        return Element("service", i, _close(tokens, _at(tokens, j + 1, "{")))
    if word == "BIND":
        return Element("bind", i, _close(tokens, _at(tokens, i + 1, "(")))
    if word == "VALUES":
        j = i + 2 if tokens[i + 1].kind == "var" else _close(tokens, _at(tokens, i + 1, "(")) + 1
        return Element("values", i, _close(tokens, _at(tokens, j, "{")))
    if word == "FILTER":
        nxt = tokens[i + 1]
        if nxt.is_word("NOT"):
            last = _close(tokens, _at(tokens, i + 3, "{"))
        elif nxt.is_word("EXISTS"):
            last = _close(tokens, _at(tokens, i + 2, "{"))
        elif nxt.kind == "other" and nxt.text == "(":
            last = _close(tokens, i + 1)
        else:  # a function call: name ( … )
            last = _close(tokens, _at(tokens, i + 2, "("))
        return Element("filter", i, last)
    if tok.kind == "other" and tok.text == "{":
        last = _close(tokens, i)
        while last + 1 < end and tokens[last + 1].is_word("UNION"):
            last = _close(tokens, _at(tokens, last + 2, "{"))
        return Element("group", i, last)
    if word in ("SELECT", "UNION"):
        raise NotRewritable(f"{word} where a pattern was expected")
    j = i  # triples: up to the next element keyword or group at this depth
    while j < end:
        here = tokens[j]
        if (here.kind == "word" and here.text.upper() in ELEMENT_KEYWORDS) or \
                (here.kind == "other" and here.text == "{"):
            break
        j = _close(tokens, j) + 1 if here.kind == "other" and here.text in "([" else j + 1
    last = j - 1
    while last > i and tokens[last].kind == "other" and tokens[last].text == ".":
        last -= 1
    return Element("triples", i, last)


def group_elements(tokens: list[Token], open_index: int, close_index: int) -> list[Element]:
    """The elements of the group whose braces are at ``open_index`` and ``close_index``."""
    found, i = [], open_index + 1
    while i < close_index:
        if tokens[i].kind == "other" and tokens[i].text == ".":
            i += 1
            continue
        element = _element(tokens, i, close_index)
        found.append(element)
        i = element.last + 1
    return found


def _name(token: Token) -> str:
    return token.text[1:]


def _pattern_variables(tokens: list[Token], open_index: int,
                       close_index: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the variables bound in every solution of the pattern, all its variables): the first
    are those at the pattern's own level (its triple patterns, ``GRAPH ?g``), not inside any
    bracket and not the variable of a one-variable VALUES."""
    bound: list[str] = []
    every: list[str] = []
    depth = 0
    for j in range(open_index + 1, close_index):
        tok = tokens[j]
        if tok.kind == "other" and tok.text in BRACKETS:
            depth += 1
        elif tok.kind == "other" and tok.text in CLOSERS:
            depth -= 1
        elif tok.kind == "var":
            name = _name(tok)
            if name not in every:
                every.append(name)
            if depth == 0 and not tokens[j - 1].is_word("VALUES") and name not in bound:
                bound.append(name)
    return tuple(bound), tuple(every)


def _service(tokens: list[Token], element: Element, index: int, optional: bool, text: str,
             prefix: str) -> Service:
    first = element.first
    silent = tokens[first + 1].is_word("SILENT")
    target = tokens[first + 1 + silent]
    written = f"<{prefix}"
    if target.kind != "iri" or not target.text.startswith(written) or \
            not target.text[len(written):-1].isdigit():
        raise NotRewritable("an endpoint that does not go through this query's proxy")
    open_index = first + 2 + silent
    inner = tokens[open_index + 1:element.last]
    if any(t.kind == "bnode" for t in inner) or (inner and inner[0].is_word("SELECT")):
        raise NotRewritable("a SERVICE pattern with blank-node labels or a sub-SELECT")
    bound, every = _pattern_variables(tokens, open_index, element.last)
    pattern = text[tokens[open_index].end:tokens[element.last].start]
    return Service(index, optional, silent, int(target.text[len(written):-1]), first,
                   element.last, pattern, bound, every)


def _may_be_a_comparison(iri: str) -> bool:
    """True for an "IRI" token that may be ``?a<?b … ?c>?d`` (the lexer reads ``<`` as an
    IRI's start): brackets could hide inside it, and the elements would be split wrongly."""
    return iri[1:2] in ("?", "$", "=") or iri.count("(") != iri.count(")")


def read_shape(text: str, proxy_prefix: str) -> Shape:
    """The query's WHERE group and its rewritable SERVICE blocks; raises
    :class:`NotRewritable` when not every SERVICE of the query is one."""
    tokens = tokenize(text)
    if any(t.kind == "iri" and _may_be_a_comparison(t.text) for t in tokens):
        raise NotRewritable("a comparison the lexer may have read as an IRI")
    i = 0
    while i < len(tokens) and tokens[i].is_word("BASE", "PREFIX"):
        i += 2 if tokens[i].is_word("BASE") else 3
    if i >= len(tokens) or not tokens[i].is_word(*FORMS):
        raise NotRewritable("not a query")
    form, j = tokens[i], i + 1
    if form.is_word("CONSTRUCT") and j < len(tokens) and tokens[j].text == "{":
        j = _close(tokens, j) + 1
    dataset = []
    while j < len(tokens) and not (tokens[j].kind == "other" and tokens[j].text == "{"):
        if tokens[j].is_word("FROM"):
            named = tokens[j + 1].is_word("NAMED")
            target = tokens[j + 1 + named]
            dataset.append(text[tokens[j].start:target.end])
        j = _close(tokens, j) + 1 if tokens[j].kind == "other" and tokens[j].text in "([" \
            else j + 1
    close_index = _close(tokens, j)
    elements = group_elements(tokens, j, close_index)
    services = []
    for index, element in enumerate(elements):
        if element.kind == "service":
            services.append(_service(tokens, element, index, False, text, proxy_prefix))
        elif element.kind == "optional":
            inner = group_elements(tokens, element.first + 1, element.last)
            kinds = [e.kind for e in inner]
            if kinds.count("service") == 1 and set(kinds) <= {"service", "filter"}:
                found = next(e for e in inner if e.kind == "service")
                services.append(_service(tokens, found, index, True, text, proxy_prefix))
    if not services or len(services) != sum(t.is_word("SERVICE") for t in tokens):
        raise NotRewritable("a SERVICE outside the rewritten shapes")
    return Shape(text, tokens, text[:form.start], " ".join(dataset), tuple(elements),
                 tuple(services))


# -- evaluating ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How the bind join runs: the batch size, the most bindings, the proxy's registration
    prefix and the query's base IRI."""

    batch: int
    max_bindings: int
    proxy_prefix: str
    base_iri: str | None = None


#: Runs a query on the local store with the job's dataset and options.
Evaluate = Callable[[str], object]


def rewrite(text: str, registration: Registration, evaluate: Evaluate,
            settings: Settings) -> str | None:
    """``text`` (the query with its SERVICE endpoints on the proxy) with every SERVICE
    block replaced by the remote's answers to its bindings, or None when the query is not
    one this module rewrites (it then runs as written). Raises :class:`RemoteFailed` when a
    call of a SERVICE without SILENT failed."""
    if settings.batch <= 0:
        return None
    try:
        shape = read_shape(text, settings.proxy_prefix)
        replaced: dict[int, str] = {}  # SERVICE keyword token index → its replacement
        for service in shape.services:
            replaced[service.keyword] = _replacement(shape, service, replaced, registration,
                                                     evaluate, settings)
        return _with(shape, 0, len(text), replaced)
    except (NotRewritable, IndexError):  # IndexError: a text that ends where it may not
        return None


def _with(shape: Shape, start: int, end: int, replaced: dict[int, str]) -> str:
    """``shape.text[start:end]`` with the SERVICE blocks inside it replaced."""
    edits = []
    for service in shape.services:
        if service.keyword in replaced:
            first, last = shape.tokens[service.keyword].start, shape.tokens[service.close].end
            if start <= first and last <= end:
                edits.append((first - start, last - start, replaced[service.keyword]))
    return replace_spans(shape.text[start:end], edits)


def _local_elements(shape: Shape, service: Service) -> list[Element]:
    """The elements that the local side of ``service`` evaluates: every one before it but
    the FILTERs, then (unless it is optional) the plain joins after it."""
    chosen = [e for e in shape.elements[:service.element] if e.kind != "filter"]
    if not service.optional:
        for element in shape.elements[service.element + 1:]:
            if element.kind == "filter":
                continue
            if element.kind not in PLAIN:
                break
            chosen.append(element)
    return chosen


def _replacement(shape: Shape, service: Service, replaced: dict[int, str],
                 registration: Registration, evaluate: Evaluate, settings: Settings) -> str:
    elements = _local_elements(shape, service)
    pieces = [_with(shape, shape.tokens[e.first].start, shape.tokens[e.last].end, replaced)
              for e in elements]
    local_tokens = [t for e in elements for t in shape.tokens[e.first:e.last + 1]]
    mentioned = {_name(t) for t in local_tokens if t.kind == "var"}
    shared = [name for name in service.bound if name in mentioned]
    where = " WHERE {\n" + " .\n".join(pieces) + "\n}"
    if not shared:
        found = _local(evaluate, f"{shape.prolog}ASK {shape.dataset}{where}")
        if not bool(found):
            return _answers(service, [], [])
        return _fetch_all(shape, service, None, registration, settings)
    query = (f"{shape.prolog}SELECT DISTINCT {' '.join('?' + n for n in shared)} "
             f"{shape.dataset}{where} LIMIT {settings.max_bindings + 1}")
    rows = [tuple(solution[name] for name in shared) for solution in _local(evaluate, query)]
    if len(rows) > settings.max_bindings:
        raise NotRewritable("more local bindings than bind_join_max_bindings")
    if not rows:
        return _answers(service, [], [])
    keep = [k for k in range(len(shared)) if all(row[k] is not None for row in rows)]
    if not keep:
        return _fetch_all(shape, service, None, registration, settings)
    names = [shared[k] for k in keep]
    bindings = list(dict.fromkeys(
        tuple(row[k] for k in keep) for row in rows
        if not any(isinstance(row[k], ox.BlankNode) for k in keep)))  # cannot meet a remote
    return _fetch_all(shape, service, (names, bindings), registration, settings)


def _local(evaluate: Evaluate, query: str):
    """The local side's answer; an error there sends the query down the naive path, which
    reports it as the engine does."""
    try:
        found = evaluate(query)
        return bool(found) if isinstance(found, ox.QueryBoolean) else list(found)
    except (SyntaxError, ValueError, OSError, RuntimeError) as exc:
        raise NotRewritable(f"the local side failed: {exc}") from None


def _fetch_all(shape: Shape, service: Service,
               bindings: tuple[list[str], list[tuple]] | None, registration: Registration,
               settings: Settings) -> str:
    """The replacement of ``service``: its answers to every batch of ``bindings`` (None:
    one call without any), the empty solution for a failed SILENT call."""
    if bindings is None:
        batches = [None]
    else:
        names, rows = bindings
        batches = [values_block(names, rows[k:k + settings.batch])
                   for k in range(0, len(rows), settings.batch)]
    head = f"BASE {_iri(settings.base_iri)}\n" if settings.base_iri else ""
    variables: list[str] = []
    answers: list[tuple] = []
    for block in batches:
        inner = f"  {block}\n" if block else ""
        query = (f"{head}{shape.prolog}SELECT * WHERE {{\n{inner}"
                 f"  {{ {service.pattern} }}\n}}")
        try:
            found_vars, found = _call(registration, service, query)
        except CallFailed:
            if service.silent:
                return "{}"
            raise RemoteFailed from None
        if found_vars != variables:  # the first batch, or a remote that changed its head
            known = len(variables)
            variables += [v for v in found_vars if v not in variables]
            answers = [row + (None,) * (len(variables) - known) for row in answers]
            where = [found_vars.index(v) if v in found_vars else None for v in variables]
            found = [tuple(None if k is None else row[k] for k in where) for row in found]
        answers += found
    return _answers(service, variables, answers)


def _call(registration: Registration, service: Service,
          query: str) -> tuple[list[str], list[tuple]]:
    endpoint = registration.endpoints[service.endpoint]
    status, headers, data = call_remote(registration, endpoint, "POST", query.encode(),
                                        REQUEST_HEADERS)
    if status >= 400:
        raise CallFailed(502, f"answered {status}")
    content_type = next((value.split(";")[0].strip().lower() for name, value in headers
                         if name.lower() == "content-type"), "")
    fmt = RESULT_FORMATS.get(content_type)
    try:
        if fmt is None:
            raise ValueError(f"content type {content_type or 'none'}")
        results = ox.parse_query_results(data, format=fmt)
        if not isinstance(results, ox.QuerySolutions):
            raise ValueError("a boolean")
        names = [v.value for v in results.variables]
        width = range(len(names))
        rows = [tuple(solution[k] for k in width) for solution in results]
    except (SyntaxError, ValueError, OSError) as exc:
        registration.failures.append(
            f"{endpoint} answered with something that is not SPARQL results ({exc})")
        raise CallFailed(502, "not SPARQL results") from None
    return names, rows


def _answers(service: Service, variables: list[str], rows: list[tuple]) -> str:
    """The inline data that stands for ``service`` (``rows`` are in the order of
    ``variables``): its pattern's variables first, in the order it names them, then any
    others the remote answered with."""
    if not variables and not rows:
        return "{ " + values_block(list(service.variables), []) + " }"
    names = [v for v in service.variables if v in variables]
    names += [v for v in variables if v not in names]
    if names != variables and rows:
        where = [variables.index(name) for name in names]
        rows = [tuple(row[k] for k in where) for row in rows]
    return "{ " + values_block(names, rows) + " }"


__all__ = ["NotRewritable", "RemoteFailed", "Settings", "read_shape", "rewrite",
           "sparql_term", "values_block"]
