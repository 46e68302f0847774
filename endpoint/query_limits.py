"""Limits on the shape of a query or update, checked before it is dispatched.

Oxigraph parses and evaluates recursively, so a request nested deeply enough overflows the
stack of the thread that runs it and the whole process dies (a segfault, not an error):
measured with pyoxigraph 0.5 on an 8 MiB stack, about 5,000 nested ``{ }`` or ``( )``,
1,000 OPTIONALs one after another, 2,000 steps of one property path or 20,000 terms of an
expression were enough. Three numbers bound that work, each a setting (``docs/security.md``):

* **depth**: the deepest nesting of ``{ }``, ``( )`` and ``[ ]``, anywhere;
* **clauses**: how many OPTIONAL, MINUS, UNION, SERVICE, GRAPH, FILTER, BIND, VALUES,
  EXISTS and sub-SELECT clauses the text has in all (each nests the algebra one level);
* **operators**: how many path and expression operators (``| / ^ + - * ! && || = != < >``)
  the text has in all outside its data blocks (``INSERT DATA``, ``DELETE DATA``,
  ``VALUES``), where a long chain becomes a deep tree.

Every thread that runs Oxigraph on a request is given a stack that holds anything under the
limits (:data:`THREAD_STACK`; a test runs the worst shapes at the limits), and a request past
them is a 400 naming the limit and its setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from practicebank.sparql_text import Token, matching_brace, tokenize

from .errors import bad_request

#: Keywords that each add a level to the algebra.
CLAUSES = frozenset({"OPTIONAL", "MINUS", "UNION", "SERVICE", "GRAPH", "FILTER", "BIND",
                     "VALUES", "EXISTS", "SELECT"})
OPERATORS = frozenset("|/^+-*!&=<>")
OPENING, CLOSING = frozenset("{(["), frozenset("})]")
#: The stack of every thread that runs Oxigraph on a request (worker query threads,
#: granian's request threads, the update shadow process). 8 MiB runs the worst shapes at
#: the default limits (2 MiB does not); 64 MiB leaves room for limits set higher. Only the
#: pages a query touches are ever committed.
THREAD_STACK = 64 * 1024 * 1024


@dataclass(frozen=True)
class QueryLimits:
    """The three limits; the defaults are the settings' defaults."""

    depth: int = 60
    clauses: int = 200
    operators: int = 1000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> QueryLimits:
        return cls(int(config["MAX_QUERY_DEPTH"]), int(config["MAX_QUERY_CLAUSES"]),
                   int(config["MAX_QUERY_OPERATORS"]))


def surely_within(text: str, limits: QueryLimits) -> bool:
    """True when ``text`` cannot be past ``limits``, known from counting characters alone:
    each count of the raw text is at least the count the lexer would make (it also counts
    brackets, operators and keywords inside strings and IRIs). Most queries are settled
    here, without a lexer pass (a tenth of the cost of a cheap query)."""
    if sum(text.count(c) for c in OPENING) > limits.depth:
        return False
    if sum(text.count(c) for c in OPERATORS) > limits.operators:
        return False
    lowered = text.lower()
    return sum(lowered.count(word.lower()) for word in CLAUSES) <= limits.clauses


def check_limits(text: str, limits: QueryLimits, *,
                 is_update: bool = False) -> list[Token] | None:
    """Raise a 400 (``query_too_complex``) when ``text`` is past any of ``limits``. Returns
    the tokens when it had to read them (for the caller to reuse), None when the character
    count settled it."""
    if surely_within(text, limits):
        return None
    tokens = tokenize(text)
    what = "update" if is_update else "query"
    depth = deepest = clauses = operators = 0
    blocks = iter(data_blocks(tokens))
    block = next(blocks, None)
    for tok in tokens:
        if block is not None and tok.start >= block[1]:
            block = next(blocks, None)
        in_data = block is not None and block[0] <= tok.start < block[1]
        if tok.kind == "other":
            if tok.text in OPENING:
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if deepest > limits.depth:
                        raise _too_complex(
                            f"nests groups and brackets more than {limits.depth} deep",
                            "max_query_depth", what)
            elif tok.text in CLOSING:
                depth -= 1
            elif tok.text in OPERATORS and not in_data:
                operators += 1
                if operators > limits.operators:
                    raise _too_complex(
                        f"has more than {limits.operators} path and expression operators",
                        "max_query_operators", what)
        elif tok.kind == "word" and tok.text.upper() in CLAUSES:
            clauses += 1
            if clauses > limits.clauses:
                raise _too_complex(
                    f"has more than {limits.clauses} OPTIONAL, UNION, MINUS, FILTER, GRAPH, "
                    "SERVICE and similar clauses", "max_query_clauses", what)
    return tokens


def _too_complex(reason: str, setting: str, what: str):
    return bad_request(
        f"The {what} {reason}, past this server's limit (setting {setting}). Simplify it, "
        "or split it into several requests.", kind="query_too_complex")


def data_blocks(tokens: list[Token]) -> list[tuple[int, int]]:
    """The (start, end) offsets of every ``{ … }`` after ``INSERT DATA``, ``DELETE DATA`` or
    ``VALUES``: plain data, where no operator nests anything and nothing is called."""
    spans = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        opens = None
        if tok.is_word("DATA") and i > 0 and tokens[i - 1].is_word("INSERT", "DELETE"):
            opens = i + 1
        elif tok.is_word("VALUES"):
            opens = next((j for j in range(i + 1, min(n, i + 1000))
                          if tokens[j].kind == "other" and tokens[j].text == "{"), None)
        if opens is not None:
            try:
                close = matching_brace(tokens, opens)
            except ValueError:
                return spans  # unbalanced: the parser will say so
            spans.append((tokens[opens].start, tokens[close].end))
            i = close
        i += 1
    return spans
