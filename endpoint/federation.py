"""Safe federation: an allowlist for SERVICE and LOAD, and a local proxy with timeouts.

pyoxigraph sends ``SERVICE`` requests itself, with no HTTP timeout and to any host the query
names. So before a query runs, :func:`plan_remote_calls` finds every SERVICE endpoint (and
LOAD source) with the lexer, has Oxigraph itself resolve each one (escapes, prefixes and
BASE, exactly as it will when it runs the text), refuses variables and anything off the
allowlist (400 naming the endpoint; the allowlist compares scheme, host, port and path
segments, never strings), and rewrites each endpoint to ``http://127.0.0.1:PORT/TOKEN/N`` on
a :class:`ServiceProxy` that the process executing the query runs. The proxy forwards the
request to the real endpoint with a per-call timeout (never past the query's deadline) and a
cap on the answer's size, does not follow redirects, and records why a call failed so the
client is told which endpoint broke. A second, independent parse of the rewritten text with
rdflib's SPARQL grammar checks that no SERVICE is left pointing anywhere but the proxy.
Whatever either check cannot read is refused: they fail closed. In a worker, the proxy dies
with the worker, so a killed query cannot leave a remote call running.
"""

from __future__ import annotations

import http.client
import http.server
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from practicebank.sparql_text import (
    RemoteRef,
    Token,
    UncheckableRemote,
    remote_refs,
    replace_spans,
    tokenize,
)

from .engine_terms import resolve_iri
from .errors import EndpointError, bad_request
from .query_limits import QueryLimits, check_limits, data_blocks

PLACEHOLDER = "http://practicebank.invalid/remote/"
#: The endpoint of a SILENT call that the checks refused: the proxy fails it without a call.
REFUSED = ""
HOP_HEADERS = {"content-type", "accept", "user-agent"}
DEFAULT_PORTS = {"http": 80, "https": 443}
URL_SAFE = "/?:@!$&'()*+,;=%-._~"
#: The largest text (data blocks left out) that the independent rdflib parse checks; a
#: larger request that names a remote endpoint is refused (that parse is slow in Python).
MAX_CROSS_CHECK = 256 * 1024


@dataclass(frozen=True)
class Endpoint:
    """A remote endpoint URL taken apart: what the allowlist compares."""

    scheme: str
    host: str
    port: int
    segments: tuple[str, ...]

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """``url`` taken apart; ValueError for anything but a plain http(s) URL (userinfo,
        no host, a bad port, dot segments, characters a URL may not have)."""
        if any(c.isspace() or ord(c) < 0x21 or c == "\\" for c in url):
            raise ValueError("it has spaces, control characters or backslashes")
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError("only http and https endpoints can be called")
        if "@" in parts.netloc:
            raise ValueError("a user name or password in the URL is not allowed")
        host = (parts.hostname or "").lower()
        if not host or "%" in host:
            raise ValueError("it has no host name")
        port = parts.port  # raises ValueError for a port that is not a number in range
        path = urllib.parse.unquote(parts.path)
        segments = tuple(seg for seg in path.split("/") if seg)
        if any(seg in (".", "..") for seg in segments):
            raise ValueError("'.' and '..' path segments are not allowed")
        return cls(scheme, host, port or DEFAULT_PORTS[scheme], segments)

    def covers(self, other: Endpoint) -> bool:
        """True when ``other`` is this endpoint or below it: same scheme, host and port,
        and this path's segments a prefix of the other's."""
        return (self.scheme, self.host, self.port) == (other.scheme, other.host, other.port) \
            and other.segments[:len(self.segments)] == self.segments


@dataclass(frozen=True)
class Allowlist:
    """The endpoints that remote calls may go to (each with everything below its path);
    empty allows none. Compared by parts, never as strings: scheme, host and port exactly,
    the path segment by segment."""

    prefixes: tuple[str, ...] = ()
    endpoints: tuple[Endpoint, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        """Take every entry apart; ValueError naming one that is not a plain http(s) URL."""
        endpoints = []
        for entry in self.prefixes:
            try:
                endpoints.append(Endpoint.parse(entry))
            except ValueError as exc:
                raise ValueError(f"service_allowlist entry {entry!r} is not usable: {exc}.") \
                    from exc
        object.__setattr__(self, "endpoints", tuple(endpoints))

    @classmethod
    def parse(cls, text: str | None) -> Allowlist:
        """The setting's space-separated URLs."""
        return cls(tuple((text or "").split()))

    def allows(self, url: str) -> bool:
        try:
            target = Endpoint.parse(url)
        except ValueError:
            return False
        return any(entry.covers(target) for entry in self.endpoints)


@dataclass(frozen=True)
class RemotePlan:
    """A query or update whose remote calls go through placeholders, and their real targets."""

    text: str  # with PLACEHOLDER + index for each remote IRI
    endpoints: tuple[str, ...] = ()  # REFUSED for a SILENT call that may not be made
    #: Why each SILENT call was refused (the answer says so in a ``Warning`` header).
    refused: tuple[str, ...] = ()

    def bind(self, proxy_prefix: str) -> str:
        """The text with the placeholders pointing at a proxy registration."""
        return self.text.replace(PLACEHOLDER, proxy_prefix) if self.endpoints else self.text


def plan_remote_calls(text: str, allowlist: Allowlist, *, base_iri: str | None = None,
                      is_update: bool = False, limits: QueryLimits | None = None) -> RemotePlan:
    """Check ``text`` before it is run: its size limits (when ``limits`` is given), then every
    SERVICE endpoint and LOAD source, each routed to the proxy.

    Each target is resolved by Oxigraph itself (escapes, prefixes, BASE), so what is checked
    is what the engine would call. Fails closed: raises the 400 of :mod:`.errors` for a
    request past the limits, a variable endpoint, an endpoint off the allowlist, and for
    anything the checks cannot read with certainty.
    """
    tokens = check_limits(text, limits, is_update=is_update) if limits is not None else None
    lowered = text.lower()
    if "service" not in lowered and "load" not in lowered:
        return RemotePlan(text)
    tokens = tokenize(text) if tokens is None else tokens
    try:
        refs = remote_refs(text, tokens)
    except UncheckableRemote as exc:
        raise bad_request(f"The remote calls of this request could not be checked: {exc}",
                          kind="service_not_allowed") from exc
    endpoints, refused = [], []
    for ref in refs:
        try:
            endpoints.append(_target(ref, allowlist, base_iri))
        except EndpointError as error:
            if not ref.silent or ref.is_variable:
                raise
            # SILENT: a call that may not be made fails like an unreachable endpoint, which
            # the query goes on without (Federated Query §4); the proxy answers it with a
            # 502 and connects nowhere.
            endpoints.append(REFUSED)
            refused.append(error.message)
    edits = [(ref.token.start, ref.token.end, f"<{PLACEHOLDER}{i}>") for i, ref in enumerate(refs)]
    rewritten = replace_spans(text, edits)
    if refs or _may_hide_a_call(tokens):
        _verify(rewritten, len(refs), is_update)
    return RemotePlan(rewritten, tuple(endpoints), tuple(refused))


def refused_warning(plan: RemotePlan) -> str | None:
    """The ``Warning`` header of an answer some SILENT calls of which were refused (RFC 7234
    "199 Miscellaneous warning"; quotes and control characters dropped from the text)."""
    if not plan.refused:
        return None
    text = " ".join(plan.refused)
    text = "".join(c for c in text if c.isprintable() and c not in '"\\')[:500]
    return f'199 practicebank "SERVICE or LOAD SILENT not called: {text}"'


def _target(ref: RemoteRef, allowlist: Allowlist, base_iri: str | None) -> str:
    if ref.is_variable:
        raise bad_request(
            f"{ref.keyword} {ref.token.text}: an endpoint chosen by a variable is not allowed. "
            "Name the endpoint with an IRI.", kind="service_not_allowed")
    try:
        iri = resolve_iri(ref.token.text, ref.prolog, base_iri=base_iri)
    except ValueError as exc:
        raise bad_request(f"{ref.keyword} {ref.token.text[:200]} does not name an endpoint "
                          f"this server can check ({exc}).", kind="service_not_allowed") from exc
    try:
        Endpoint.parse(iri)
    except ValueError as exc:
        raise bad_request(f"{ref.keyword} <{iri[:200]}> cannot be called: {exc}.",
                          kind="service_not_allowed") from exc
    if not allowlist.allows(iri):
        allowed = (" Allowed endpoints: " + ", ".join(allowlist.prefixes) + "."
                   if allowlist.prefixes else " This server allows no remote endpoints.")
        raise bad_request(
            f"{ref.keyword} <{iri[:200]}> is not on this server's allowlist.{allowed}",
            kind="service_not_allowed")
    return iri


#: In an IRI token: a keyword that a comment after it would leave standing (see below).
_HIDDEN_KEYWORD = re.compile(r"(?:service|load)[^#]*#", re.IGNORECASE)


def _may_hide_a_call(tokens: list[Token]) -> bool:
    """True when the lexer may have missed a SERVICE or LOAD that the engine would see.

    ``<`` is both an IRI's start and less-than, and the lexer takes ``?a<?b)SERVICE#>`` for
    one IRI where the engine reads a comparison, the keyword, and a comment that swallows
    the ``>`` (the target then follows on the next line). An IRI token can hide a call only
    that way: it holds no spaces, ``<`` or ``{``, so the keyword must be followed by a ``#``
    inside it. Such a token sends the request to the second parse; so does any call found.
    """
    return any(tok.kind == "iri" and _HIDDEN_KEYWORD.search(tok.text) for tok in tokens)


def _verify(rewritten: str, expected: int, is_update: bool) -> None:
    """Parse ``rewritten`` with rdflib, a second and independent SPARQL grammar, and check
    that it finds exactly the remote calls the lexer found, each going to a placeholder.
    Data blocks (``INSERT DATA``/``DELETE DATA``) are left out: they cannot call anything,
    and rdflib takes seconds for each thousand triples."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    checked = replace_spans(rewritten, [(start, end, "{}") for start, end
                                        in data_blocks(tokenize(rewritten))])
    if len(checked) > MAX_CROSS_CHECK:
        raise bad_request(
            f"A request that names a remote endpoint may be at most {MAX_CROSS_CHECK} "
            "characters long (data blocks aside); send a shorter one.",
            kind="service_not_allowed")
    try:
        tree = (parseUpdate if is_update else parseQuery)(checked)
    except ParseException as exc:
        raise bad_request(
            f"The request names SERVICE or LOAD and could not be checked: {str(exc)[:200]}. "
            "Check its syntax.", kind="syntax_error") from exc
    except RecursionError as exc:
        raise bad_request("The request names SERVICE or LOAD and is nested too deeply to be "
                          "checked; nest fewer groups and brackets.",
                          kind="service_not_allowed") from exc
    found: list[object] = []
    _walk(tree, found)
    if len(found) != expected or not all(str(t).startswith(PLACEHOLDER) for t in found):
        raise bad_request("The remote calls of this request could not be verified; "
                          "write each SERVICE endpoint as a plain IRI.",
                          kind="service_not_allowed")


def _walk(node: object, found: list[object]) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            found.append(dict.get(node, "term"))
        elif node.name == "Load":
            found.append(dict.get(node, "iri"))
        for value in node.values():
            _walk(value, found)
    elif isinstance(node, list | tuple) or hasattr(node, "asList"):
        for value in node:
            _walk(value, found)


# -- the proxy -------------------------------------------------------------------------------


@dataclass
class Registration:
    """The remote targets of one running query, and what went wrong with them."""

    endpoints: tuple[str, ...]
    deadline: float  # time.monotonic() value
    timeout: float
    max_bytes: int  # the max_remote_answer setting
    failures: list[str] = field(default_factory=list)


class ServiceProxy:
    """A loopback HTTP server that forwards SERVICE/LOAD calls with timeouts.

    One per process that executes queries; started on first use. ``register`` returns the
    URL prefix that replaces the placeholders of a :class:`RemotePlan`.
    """

    def __init__(self) -> None:
        self._registrations: dict[str, Registration] = {}
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None

    def _start(self) -> int:
        with self._lock:
            if self._server is None:
                handler = type("Handler", (_ProxyHandler,), {"proxy": self})
                self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
                self._server.daemon_threads = True
                threading.Thread(target=self._server.serve_forever, daemon=True,
                                 name="service-proxy").start()
            return self._server.server_address[1]

    def register(self, endpoints: tuple[str, ...], *, deadline: float, timeout: float,
                 max_bytes: int) -> tuple[str, Registration]:
        self._start()
        token = secrets.token_hex(8)
        registration = Registration(endpoints, deadline, timeout, max_bytes)
        with self._lock:
            self._registrations[token] = registration
        return token, registration

    def prefix(self, token: str) -> str:
        return f"http://127.0.0.1:{self._start()}/{token}/"

    def unregister(self, token: str) -> None:
        with self._lock:
            self._registrations.pop(token, None)

    def lookup(self, path: str) -> tuple[Registration, str] | None:
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 2 or not parts[1].isdigit():
            return None
        with self._lock:
            registration = self._registrations.get(parts[0])
        if registration is None or int(parts[1]) >= len(registration.endpoints):
            return None
        return registration, registration.endpoints[int(parts[1])]

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    proxy: ServiceProxy
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming
        self._forward()

    def do_POST(self) -> None:  # noqa: N802
        self._forward()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        found = self.proxy.lookup(self.path)
        if found is None:
            self._fail(404, "unknown remote call")
            return
        registration, endpoint = found
        try:
            status, headers, data = call_remote(registration, endpoint, self.command, body,
                                                self.headers)
        except CallFailed as failed:
            self._fail(failed.status, failed.reason)
            return
        self.send_response(status)
        for name, value in headers:
            if name.lower() in ("content-type",):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _fail(self, status: int, message: str) -> None:
        data = message.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class CallFailed(Exception):
    """A remote call that failed (its reason already recorded on the registration): the
    status the proxy answers the engine with, and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def call_remote(registration: Registration, endpoint: str, method: str, body: bytes | None,
                headers) -> tuple[int, list[tuple[str, str]], bytes]:
    """One call to ``endpoint`` (an allowlisted target of ``registration``, or REFUSED) with
    the registration's per-call timeout, never past its deadline, and its size cap; no
    redirect is followed. Returns (status, headers, body); an answer of 4xx/5xx is returned
    and recorded. Raises :class:`CallFailed` after recording why for anything else that
    went wrong. The proxy and the bind join (:mod:`.bind_join`) both call remotes only
    through here, so both obey the same rules and report failures the same way."""
    if endpoint == REFUSED:
        registration.failures.append("a SILENT call was refused by the allowlist")
        raise CallFailed(502, "refused: not on the allowlist")
    left = registration.deadline - time.monotonic()
    timeout = max(0.05, min(registration.timeout, left))
    try:
        status, answer_headers, data = _call(method, endpoint, body, headers, timeout,
                                             registration.max_bytes)
    except TimeoutError:
        registration.failures.append(f"{endpoint} did not answer within {timeout:.1f} s")
        raise CallFailed(504, "timeout") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        registration.failures.append(f"{endpoint} could not be reached ({exc})")
        raise CallFailed(502, "unreachable") from None
    if 300 <= status < 400:
        registration.failures.append(f"{endpoint} answered with a redirect ({status}), "
                                     "which is not followed")
        raise CallFailed(502, "redirect refused")
    if status >= 400:
        registration.failures.append(f"{endpoint} answered {status}")
    return status, answer_headers, data


def _call(method: str, url: str, body: bytes | None, headers, timeout: float,
          max_bytes: int):
    """One request to ``url`` with a total ``timeout``; returns (status, headers, body)."""
    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    started = time.monotonic()
    conn = cls(parts.hostname, parts.port, timeout=timeout)
    try:
        # An IRI may hold characters a request line may not: percent-encode them (only).
        path = urllib.parse.quote((parts.path or "/") + (f"?{parts.query}" if parts.query
                                                         else ""), safe=URL_SAFE)
        sent = {k: v for k, v in headers.items() if k.lower() in HOP_HEADERS}
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        chunks, size = [], 0
        while True:
            if time.monotonic() - started > timeout:
                raise TimeoutError
            chunk = response.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:  # held in memory on the way: bounded
                raise ValueError(f"its answer is larger than {max_bytes} bytes "
                                 "(the max_remote_answer setting)")
            chunks.append(chunk)
        return response.status, response.getheaders(), b"".join(chunks)
    finally:
        conn.close()


def remote_failure(registration: Registration | None) -> EndpointError | None:
    """The 502/504 to answer when a query failed because of a remote endpoint."""
    if registration is None or not registration.failures:
        return None
    reason = registration.failures[0]
    code = 504 if "did not answer" in reason else 502
    return EndpointError(code, "remote_endpoint_failed",
                         f"A remote SPARQL endpoint failed: {reason}. Try again later, or use "
                         "SERVICE SILENT to go on without it.")
