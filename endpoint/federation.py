"""Safe federation: an allowlist for SERVICE and LOAD, and a local proxy with timeouts.

pyoxigraph sends ``SERVICE`` requests itself, with no HTTP timeout and to any host the query
names. So before a query runs, :func:`plan_remote_calls` finds every SERVICE endpoint (and
LOAD source) with the lexer, refuses variables and anything off the allowlist (400 naming the
endpoint), and rewrites each endpoint to ``http://127.0.0.1:PORT/TOKEN/N`` on a
:class:`ServiceProxy` that the process executing the query runs. The proxy forwards the
request to the real endpoint with a per-call timeout (never past the query's deadline), does
not follow redirects, and records why a call failed so the client is told which endpoint
broke. A second, independent parse of the rewritten text with rdflib's SPARQL grammar checks
that no SERVICE is left pointing anywhere but the proxy. In a worker, the proxy dies with the
worker, so a killed query cannot leave a remote call running.
"""

from __future__ import annotations

import http.client
import http.server
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from .errors import EndpointError, bad_request
from .sparql_text import RemoteRef, remote_refs, replace_spans

PLACEHOLDER = "http://practicebank.invalid/remote/"
HOP_HEADERS = {"content-type", "accept", "user-agent"}


@dataclass(frozen=True)
class Allowlist:
    """URL prefixes that remote calls may go to; empty allows none."""

    prefixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> Allowlist:
        return cls(tuple((text or "").split()))

    def allows(self, url: str) -> bool:
        return any(url.startswith(prefix) for prefix in self.prefixes)


@dataclass(frozen=True)
class RemotePlan:
    """A query or update whose remote calls go through placeholders, and their real targets."""

    text: str  # with PLACEHOLDER + index for each remote IRI
    endpoints: tuple[str, ...] = ()

    def bind(self, proxy_prefix: str) -> str:
        """The text with the placeholders pointing at a proxy registration."""
        return self.text.replace(PLACEHOLDER, proxy_prefix) if self.endpoints else self.text


def plan_remote_calls(text: str, allowlist: Allowlist, *, base_iri: str | None = None,
                      is_update: bool = False) -> RemotePlan:
    """Check every SERVICE endpoint (and LOAD source) of ``text`` and route it to the proxy.

    Raises the 400 of :mod:`.errors` for a variable endpoint, an endpoint off the allowlist,
    or a query whose remote calls cannot be verified.
    """
    lowered = text.lower()
    if "service" not in lowered and "load" not in lowered:
        return RemotePlan(text)
    try:
        refs = remote_refs(text, base_iri=base_iri)
    except ValueError as exc:
        raise bad_request(str(exc), kind="syntax_error") from exc
    if not refs:
        return RemotePlan(text)
    for ref in refs:
        _check(ref, allowlist)
    endpoints = tuple(ref.iri for ref in refs)
    edits = [(ref.token.start, ref.token.end, f"<{PLACEHOLDER}{i}>") for i, ref in enumerate(refs)]
    rewritten = replace_spans(text, edits)
    _verify(rewritten, len(refs), is_update)
    return RemotePlan(rewritten, endpoints)


def _check(ref: RemoteRef, allowlist: Allowlist) -> None:
    if ref.iri is None:
        raise bad_request(
            f"{ref.keyword} {ref.token.text}: an endpoint chosen by a variable is not allowed. "
            "Name the endpoint with an IRI.", kind="service_not_allowed")
    if not allowlist.allows(ref.iri):
        allowed = (" Allowed prefixes: " + ", ".join(allowlist.prefixes) + "."
                   if allowlist.prefixes else " This server allows no remote endpoints.")
        raise bad_request(
            f"{ref.keyword} <{ref.iri}> is not on this server's allowlist.{allowed}",
            kind="service_not_allowed")


def _verify(rewritten: str, expected: int, is_update: bool) -> None:
    """Parse ``rewritten`` with rdflib and check each SERVICE/LOAD goes to a placeholder."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        tree = (parseUpdate if is_update else parseQuery)(rewritten)
    except ParseException as exc:
        raise bad_request(
            f"The query uses SERVICE or LOAD and could not be checked: {exc}. "
            "Check its syntax.", kind="syntax_error") from exc
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

    def register(self, endpoints: tuple[str, ...], *, deadline: float,
                 timeout: float) -> tuple[str, Registration]:
        self._start()
        token = secrets.token_hex(8)
        registration = Registration(endpoints, deadline, timeout)
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
        left = registration.deadline - time.monotonic()
        timeout = max(0.05, min(registration.timeout, left))
        try:
            status, headers, data = _call(self.command, endpoint, body, self.headers, timeout)
        except TimeoutError:
            registration.failures.append(f"{endpoint} did not answer within {timeout:.1f} s")
            self._fail(504, "timeout")
            return
        except OSError as exc:
            registration.failures.append(f"{endpoint} could not be reached ({exc})")
            self._fail(502, "unreachable")
            return
        if 300 <= status < 400:
            registration.failures.append(f"{endpoint} answered with a redirect ({status}), "
                                         "which is not followed")
            self._fail(502, "redirect refused")
            return
        if status >= 400:
            registration.failures.append(f"{endpoint} answered {status}")
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


def _call(method: str, url: str, body: bytes | None, headers, timeout: float):
    """One request to ``url`` with a total ``timeout``; returns (status, headers, body)."""
    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    started = time.monotonic()
    conn = cls(parts.hostname, parts.port, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = {k: v for k, v in headers.items() if k.lower() in HOP_HEADERS}
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        chunks = []
        while True:
            if time.monotonic() - started > timeout:
                raise TimeoutError
            chunk = response.read(65536)
            if not chunk:
                break
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
