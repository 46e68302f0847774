"""A small HTTP client for a SPARQL 1.1 server: Query, Update and the Graph Store Protocol.

Standard library only (``http.client``): the few things a store needs from a remote are
done by hand because the general-purpose clients do them differently or not at all:

* **Deadlines, not socket timeouts.** Every call has a deadline (``timeout`` seconds). A
  socket timeout bounds each ``recv`` but not the whole answer, so a server trickling a
  byte at a time would hold a caller for ever. Here a watchdog shuts the socket down at the
  deadline, and the body is read in pieces with the deadline checked between them; the
  connection is then closed, never reused. Where the server can stop a query itself (Virtuoso's
  ``timeout`` parameter, in milliseconds), it is told too, so it does not work on for nothing.
* **Authentication as the server asks.** Credentials are only sent after a 401 names the
  scheme (``WWW-Authenticate``): Basic or Digest (RFC 7616: MD5 or SHA-256, ``qop=auth``),
  Digest preferred when both are offered. The answer is then sent up front on later
  requests to the same path (Digest with a fresh nonce count), and a ``stale`` nonce is
  renewed. An upload from a file or an iterator is sent with ``Expect: 100-continue`` so a
  401 arrives before the body is spent, and with ``Content-Length``, never chunked
  (Virtuoso 7.2 answers 201 to a chunked upload and stores nothing): an iterator is first
  spooled to a temporary file. A file is rewound and sent again when a 401 comes after it.
* **Errors without secrets.** Every failure is a :class:`RemoteError` (or a subclass) with
  the HTTP status, a short message taken from the server's answer (Virtuoso echoes the whole
  query after ``SPARQL query:``; that part is cut) and the URL without credentials or query
  string. Underlying socket and ``http.client`` exceptions are not chained, and the password
  is never part of a message, a ``repr`` or a log line.
* **Keep-alive.** Idle connections are kept per host and reused; a request that fails on a
  reused connection before any answer arrived (the server closed it while idle) is sent
  once more on a fresh one.

Virtuoso quirks handled here because they are about the protocol, whatever the store does
with the answer: its anytime-query answer (HTTP 200 with ``X-SQL-State: S1TAT`` and
incomplete results once its ``timeout`` has passed) becomes :class:`RemoteTimeout`, and its
``X-SPARQL-MaxRows`` header (the answer reached ``ResultSetMaxRows`` and may be cut) is
reported on the :class:`Response` as ``max_rows``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.client
import io
import logging
import os
import re
import select
import socket
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

log = logging.getLogger(__name__)

#: What a SELECT or ASK asks for. XML first: Virtuoso's JSON writes xsd:boolean values as
#: "1"/"0", its XML as "true"/"false"; both parse with pyoxigraph.
RESULTS_ACCEPT = "application/sparql-results+xml, application/sparql-results+json;q=0.9"
#: What a CONSTRUCT or DESCRIBE asks for (Virtuoso takes the first type it can write, whatever
#: the q-values, so the two kinds of answer are never asked for in one Accept header).
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9"
NTRIPLES = "application/n-triples"

#: How long an upload waits for ``100 Continue`` (or an early refusal) before sending anyway.
CONTINUE_WAIT = 1.0
#: The most of an error answer that is read (the rest is dropped with the connection).
ERROR_BODY_LIMIT = 64 << 10
CHUNK = 64 << 10

Body = bytes | bytearray | memoryview | IO[bytes] | Iterable[bytes] | None
#: A server that rolled an update back because it waited too long for, or deadlocked on,
#: another transaction's locks (Virtuoso: "SR172: Transaction deadlocked", SQL state 40001,
#: and "SR171: Transaction timed out", S1T00; seen when a load meets the update a killed
#: writer left running on the server) has changed nothing: the update is sent again after
#: these pauses (seconds), within its deadline.
DEADLOCK = re.compile(r"deadlock|\b40001\b|SR172|SR171|transaction timed out",
                      re.IGNORECASE)
DEADLOCK_PAUSES = (1.0, 3.0, 10.0, 20.0)


class RemoteError(RuntimeError):
    """A SPARQL server refused or failed a request, or could not be reached.

    ``status`` is the HTTP status (None when there was no answer), ``url`` the address
    without credentials or query string, ``message`` a short text from the server.
    """

    def __init__(self, message: str, *, status: int | None = None, url: str = "",
                 method: str = "") -> None:
        self.message, self.status, self.url, self.method = message, status, url, method
        where = f"{method} {url}".strip()
        code = f"HTTP {status}: " if status is not None else ""
        super().__init__(f"{where}: {code}{message}" if where else f"{code}{message}")


class RemoteTimeout(RemoteError):
    """The deadline passed (the client stopped waiting), or the server said it stopped the
    query at its own timeout and would only return part of the answer."""


class AuthenticationError(RemoteError):
    """The server wants credentials that were not given, or refused the ones that were."""


class ResultsTruncated(RemoteError):
    """The server cut the answer at its row limit (Virtuoso's ``ResultSetMaxRows``)."""

    def __init__(self, message: str, *, max_rows: int, **kwargs: Any) -> None:
        self.max_rows = max_rows
        super().__init__(message, **kwargs)


@dataclass
class Response:
    """A complete answer: the body is in ``body`` unless it went to the caller's sink."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ("" when absent)."""
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def server(self) -> str:
        return self.headers.get("Server") or ""

    @property
    def max_rows(self) -> int | None:
        """The row limit the answer reached, when the server says so (Virtuoso)."""
        value = self.headers.get("X-SPARQL-MaxRows")
        return int(value) if value and value.strip().isdigit() else None


def safe_url(url: str) -> str:
    """``url`` without user information or query string: what messages may show."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``url`` without ``user:password@``, and those two (decoded), for URLs that carry them."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query,
                                     parts.fragment))
    user = urllib.parse.unquote(parts.username) if parts.username is not None else None
    password = urllib.parse.unquote(parts.password) if parts.password is not None else None
    return clean, user, password


class Deadline:
    """A point in time (``time.monotonic``) that a call must not outlive."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


class SparqlClient:
    """The three SPARQL 1.1 protocols against one server.

    ``query_url`` answers queries, ``update_url`` updates (default: ``query_url``, as on
    Virtuoso's ``/sparql``), ``store_url`` is the Graph Store Protocol endpoint (optional).
    Credentials may also be given in the URLs (``http://user:pass@host/…``); they are taken
    out of them. ``timeout`` (seconds) is the deadline of a call that gives none.
    ``server_timeout`` names the query parameter a server reads as its own query timeout and
    the factor from seconds (Virtuoso: ``("timeout", 1000)``); None sends none.
    The client may be shared between threads.
    """

    def __init__(self, query_url: str, update_url: str | None = None,
                 store_url: str | None = None, *, user: str | None = None,
                 password: str | None = None, timeout: float = 60.0,
                 server_timeout: tuple[str, float] | None = None,
                 user_agent: str = "practicebank-sparql-client") -> None:
        found_user: str | None = None
        found_password: str | None = None
        urls = []
        for url in (query_url, update_url or query_url, store_url):
            if url is None:
                urls.append(None)
                continue
            clean, u, p = split_credentials(url)
            found_user, found_password = found_user or u, found_password or p
            urls.append(clean)
        self.query_url, self.update_url, self.store_url = urls
        self.user = user if user is not None else found_user
        self._password = password if password is not None else found_password
        self.timeout = timeout
        self.server_timeout = server_timeout
        self.user_agent = user_agent
        #: The ``Server`` header of the latest answer (which engine this is).
        self.server = ""
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._auth: dict[tuple[str, str, int, str], _AuthState] = {}

    def __repr__(self) -> str:
        user = f", user={self.user!r}" if self.user else ""
        return (f"SparqlClient(query_url={self.query_url!r}, update_url={self.update_url!r}, "
                f"store_url={self.store_url!r}{user})")

    # -- the three protocols -----------------------------------------------------------------

    def query(self, sparql: str, *, accept: str = RESULTS_ACCEPT,
              default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = (),
              params: Mapping[str, str] | None = None, timeout: float | None = None,
              sink: IO[bytes] | None = None) -> Response:
        """POST a query as a form (``query=…``), the one way every server takes (Virtuoso
        7.2 never answers a POST of ``application/sparql-query``). ``default_graphs`` and
        ``named_graphs`` are the protocol's ``default-graph-uri`` and ``named-graph-uri``;
        ``params`` go along as they are. With ``sink`` a successful body is written there
        instead of being kept."""
        deadline = Deadline(self.timeout if timeout is None else timeout)
        fields: list[tuple[str, str]] = [("query", sparql)]
        fields += [("default-graph-uri", g) for g in default_graphs]
        fields += [("named-graph-uri", g) for g in named_graphs]
        if self.server_timeout is not None:
            name, scale = self.server_timeout
            # under the deadline (Virtuoso overruns by ~0.5 s), so its own answer comes first
            seconds = max(deadline.seconds / 2, deadline.seconds - 1.0)
            fields.append((name, str(max(1, int(seconds * scale)))))
        fields += list((params or {}).items())
        body = urllib.parse.urlencode(fields).encode("ascii")
        return self._request("POST", self.query_url, deadline, body=body, sink=sink, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": accept})

    def update(self, sparql: str, *, using_graphs: Sequence[str] = (),
               using_named_graphs: Sequence[str] = (), timeout: float | None = None
               ) -> Response:
        """POST an update as ``application/sparql-update``. No server timeout is passed: a
        server that stops an update part way (an "anytime" answer) would leave it half done."""
        deadline = Deadline(self.timeout if timeout is None else timeout)
        params = [("using-graph-uri", g) for g in using_graphs]
        params += [("using-named-graph-uri", g) for g in using_named_graphs]
        url = _with_params(self.update_url, params)
        pauses = iter(DEADLOCK_PAUSES)
        while True:
            try:
                return self._request("POST", url, deadline, body=sparql.encode("utf-8"),
                                     headers={"Content-Type": "application/sparql-update; "
                                              "charset=utf-8", "Accept": "*/*"})
            except RemoteError as error:
                pause = next(pauses, None)
                if pause is None or not DEADLOCK.search(error.message) or (
                        deadline.remaining() <= pause):
                    raise
                log.info("the server chose this update as a deadlock's victim; again in %g s",
                         pause)
                time.sleep(pause)

    def graph_get(self, graph: str | None, *, accept: str = NTRIPLES,
                  timeout: float | None = None, sink: IO[bytes] | None = None
                  ) -> Response | None:
        """GET one graph (``None``: the default graph); None when the server has no such
        graph (404)."""
        deadline = Deadline(self.timeout if timeout is None else timeout)
        try:
            return self._request("GET", self._graph_url(graph), deadline, sink=sink,
                                 headers={"Accept": accept})
        except RemoteError as error:
            if error.status == 404:
                return None
            raise

    def graph_put(self, graph: str | None, body: Body, *, content_type: str = NTRIPLES,
                  timeout: float | None = None) -> Response:
        """Replace one graph with ``body`` (bytes, a binary file or an iterator of bytes)."""
        return self._send_graph("PUT", graph, body, content_type, timeout)

    def graph_post(self, graph: str | None, body: Body, *, content_type: str = NTRIPLES,
                   timeout: float | None = None) -> Response:
        """Add ``body`` to one graph; streamed when it is a file or an iterator."""
        return self._send_graph("POST", graph, body, content_type, timeout)

    def graph_delete(self, graph: str | None, *, timeout: float | None = None) -> bool:
        """Delete one graph; False when it did not exist (404)."""
        deadline = Deadline(self.timeout if timeout is None else timeout)
        try:
            self._request("DELETE", self._graph_url(graph), deadline)
        except RemoteError as error:
            if error.status == 404:
                return False
            raise
        return True

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                body: Body = None, timeout: float | None = None,
                sink: IO[bytes] | None = None) -> Response:
        """Any other request, with the same deadline, authentication and errors."""
        deadline = Deadline(self.timeout if timeout is None else timeout)
        return self._request(method, url, deadline, headers=headers, body=body, sink=sink)

    def close(self) -> None:
        """Close the idle connections (requests in flight close their own)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for conn in connections:
                conn.close()

    def __enter__(self) -> SparqlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ------------------------------------------------------------------------------

    def _graph_url(self, graph: str | None) -> str:
        if self.store_url is None:
            raise RemoteError("no Graph Store Protocol URL was given")
        return _with_params(self.store_url, [("graph", graph)] if graph else [("default", "")])

    def _send_graph(self, method: str, graph: str | None, body: Body, content_type: str,
                    timeout: float | None) -> Response:
        deadline = Deadline(self.timeout if timeout is None else timeout)
        return self._request(method, self._graph_url(graph), deadline, body=body,
                             headers={"Content-Type": content_type, "Accept": "*/*"})

    def _request(self, method: str, url: str, deadline: Deadline, *,
                 headers: Mapping[str, str] | None = None, body: Body = None,
                 sink: IO[bytes] | None = None) -> Response:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise RemoteError(f"not an http(s) URL: {safe_url(url)}")
        origin = (parts.scheme, parts.hostname or "", parts.port or
                  (443 if parts.scheme == "https" else 80))
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        shown = safe_url(url)
        fixed = body is None or isinstance(body, bytes | bytearray | memoryview)
        if not fixed and not hasattr(body, "read"):
            with _spool(body) as spooled:  # type: ignore[arg-type]
                return self._request(method, url, deadline, headers=headers, body=spooled,
                                     sink=sink)
        start = None if fixed else _tell(body)
        stale_retry = auth_tries = 0

        def timed_out(what: str = "no answer") -> RemoteTimeout:
            return RemoteTimeout(f"{what} within {deadline.seconds:g} s", url=shown,
                                 method=method)

        while True:
            if deadline.expired:
                raise timed_out()
            all_headers = {"User-Agent": self.user_agent, **(headers or {})}
            state = self._auth.get((*origin, parts.path))
            if state is not None and self._password is not None:
                all_headers["Authorization"] = state.authorization(
                    method, target, self.user or "", self._password)
            conn, reused = self._connection(origin, fresh=not fixed)
            watchdog = _Watchdog(deadline)
            try:
                response, sent = self._exchange(conn, method, target, all_headers, body,
                                                fixed, deadline, watchdog)
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError) as error:
                watchdog.cancel()
                conn.close()
                if watchdog.fired or deadline.expired:
                    raise timed_out() from None
                if reused and fixed and stale_retry == 0:  # closed while idle: once more
                    stale_retry += 1
                    continue
                raise RemoteError(f"connection lost: {_describe(error)}", url=shown,
                                  method=method) from None
            except (OSError, http.client.HTTPException) as error:
                watchdog.cancel()
                conn.close()
                if watchdog.fired or deadline.expired or isinstance(error, TimeoutError):
                    raise timed_out() from None
                raise RemoteError(f"cannot reach the server: {_describe(error)}", url=shown,
                                  method=method) from None
            status = response.status
            self.server = response.getheader("Server") or self.server
            ok = 200 <= status < 300
            try:
                data = self._read(response, deadline, watchdog, sink if ok else None,
                                  None if ok else ERROR_BODY_LIMIT)
            except (OSError, http.client.HTTPException, ValueError):
                watchdog.cancel()
                conn.close()
                if watchdog.fired or deadline.expired:
                    raise timed_out("no complete answer") from None
                raise RemoteError("the answer was cut off", status=status, url=shown,
                                  method=method) from None
            watchdog.cancel()
            if watchdog.fired:  # the deadline fell just as the answer ended
                conn.close()
                raise timed_out("no complete answer")
            self._done(conn, origin, response, keep=sent)
            if status == 401:
                auth_tries += 1
                self._challenge(response, origin, parts.path, state, auth_tries, shown,
                                method)
                if not sent or fixed or (start is not None and _rewind(body, start)):
                    continue
                raise AuthenticationError(
                    "the server asked for credentials after the upload was sent, and it "
                    "cannot be sent again; retry the call", status=401, url=shown,
                    method=method)
            if (response.getheader("X-SQL-State") or "").strip() == "S1TAT":
                raise RemoteTimeout(
                    "the server stopped the query at its timeout and would only return part "
                    "of the answer", status=status, url=shown, method=method)
            if not ok:
                error_class = AuthenticationError if status == 403 else RemoteError
                raise error_class(self._message(data, response), status=status, url=shown,
                                  method=method)
            return Response(status, response.headers, data, shown)

    def _exchange(self, conn: http.client.HTTPConnection, method: str, target: str,
                  headers: dict[str, str], body: Body, fixed: bool, deadline: Deadline,
                  watchdog: _Watchdog) -> tuple[http.client.HTTPResponse, bool]:
        """Send one request and read the status and headers of its answer. Returns the
        answer and whether the whole body went (an early refusal stops a streamed upload)."""
        conn.timeout = max(0.001, deadline.remaining())
        if conn.sock is None:
            conn.connect()
        watchdog.start(conn.sock)
        conn.sock.settimeout(max(0.001, deadline.remaining()))
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if fixed:
            data = bytes(body) if body is not None else b""
            if data or method in ("POST", "PUT"):
                conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data or None)
            return conn.getresponse(), True
        length = _length(body)
        conn.putheader("Content-Length", str(length))
        expect = not isinstance(conn, http.client.HTTPSConnection)  # MSG_PEEK needs TCP
        if expect:
            conn.putheader("Expect", "100-continue")
        conn.endheaders()
        if expect and not self._continue(conn.sock, min(CONTINUE_WAIT, deadline.remaining())):
            conn.will_close_after = True  # type: ignore[attr-defined]
            return conn.getresponse(), False  # refused before the body: never sent
        while piece := body.read(CHUNK):  # type: ignore[union-attr]
            if deadline.expired:
                raise TimeoutError
            conn.sock.settimeout(max(0.001, deadline.remaining()))
            conn.send(piece)
        return conn.getresponse(), True

    @staticmethod
    def _continue(sock: socket.socket, wait: float) -> bool:
        """After headers with ``Expect: 100-continue``: True to send the body (the server said
        100, or said nothing within ``wait``), False when a final answer came first."""
        ready, _, _ = select.select([sock], [], [], max(0.0, wait))
        if not ready:
            return True
        head = sock.recv(4096, socket.MSG_PEEK)
        if not head.startswith(b"HTTP/1.") or head[9:12] != b"100":
            return False
        while b"\r\n\r\n" not in head:  # the whole interim answer, then take it off
            ready, _, _ = select.select([sock], [], [], max(0.0, wait))
            more = sock.recv(4096, socket.MSG_PEEK) if ready else b""
            if len(more) <= len(head):
                raise http.client.BadStatusLine("incomplete 100 Continue")
            head = more
        sock.recv(head.index(b"\r\n\r\n") + 4)
        return True

    @staticmethod
    def _read(response: http.client.HTTPResponse, deadline: Deadline, watchdog: _Watchdog,
              sink: IO[bytes] | None, limit: int | None) -> bytes:
        """Read the body piece by piece (each ``read1`` one ``recv`` at most), checking the
        deadline between pieces, into ``sink`` or memory, at most ``limit`` bytes."""
        pieces: list[bytes] = []
        total = 0
        while True:
            if deadline.expired:
                raise TimeoutError
            if watchdog.sock is not None:
                watchdog.sock.settimeout(max(0.001, deadline.remaining()))
            piece = response.read1(CHUNK)
            if not piece:
                break
            total += len(piece)
            if sink is not None:
                sink.write(piece)
            else:
                pieces.append(piece)
            if limit is not None and total >= limit:  # the rest is dropped with the connection
                response.will_close = True
                break
        response.close()  # read1 leaves an empty body (Content-Length: 0) open
        return b"".join(pieces)

    def _done(self, conn: http.client.HTTPConnection, origin: tuple[str, str, int],
              response: http.client.HTTPResponse, *, keep: bool) -> None:
        """Put a connection back in the pool when its answer was read to the end and both
        sides mean to keep it; close it otherwise."""
        reusable = (keep and not response.will_close and response.isclosed()
                    and not getattr(conn, "will_close_after", False) and conn.sock is not None)
        if not reusable:
            conn.close()
            return
        with self._lock:
            self._idle.setdefault(origin, []).append(conn)

    def _connection(self, origin: tuple[str, str, int], *, fresh: bool
                    ) -> tuple[http.client.HTTPConnection, bool]:
        if not fresh:
            with self._lock:
                idle = self._idle.get(origin)
                if idle:
                    return idle.pop(), True
        scheme, host, port = origin
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        return cls(host, port), False

    # -- authentication ------------------------------------------------------------------------

    def _challenge(self, response: http.client.HTTPResponse, origin: tuple[str, str, int],
                   path: str, state: _AuthState | None, tries: int, shown: str,
                   method: str) -> None:
        """Learn how to answer a 401, or raise when there is nothing (more) to try."""
        offered = parse_challenges(response.headers.get_all("WWW-Authenticate") or [])
        schemes = ", ".join(sorted({s.capitalize() for s, _ in offered})) or "none named"
        if self.user is None or self._password is None:
            raise AuthenticationError(f"the server asks for credentials ({schemes}); give a "
                                      "user and password", status=401, url=shown,
                                      method=method)
        chosen = _choose(offered)
        if chosen is None:
            raise AuthenticationError(f"the server asks for an authentication scheme this "
                                      f"client does not speak ({schemes})", status=401,
                                      url=shown, method=method)
        scheme, params = chosen
        stale = params.get("stale", "").lower() == "true"
        if (state is not None and not stale) or tries > 2:
            raise AuthenticationError(f"the server refused the credentials of user "
                                      f"{self.user!r} ({scheme.capitalize()})", status=401,
                                      url=shown, method=method)
        with self._lock:
            self._auth[(*origin, path)] = _AuthState(scheme, params)

    @staticmethod
    def _message(data: bytes, response: http.client.HTTPResponse) -> str:
        return short_message(data, response.getheader("Content-Type") or "",
                             response.reason or "")


@dataclass
class _AuthState:
    """What a server asked for on one path, and the nonce count of its Digest nonce."""

    scheme: str
    params: dict[str, str]
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def authorization(self, method: str, uri: str, user: str, password: str) -> str:
        if self.scheme == "basic":
            token = f"{user}:{password}".encode()
            return "Basic " + base64.b64encode(token).decode("ascii")
        with self.lock:
            self.count += 1
            count = self.count
        return digest_authorization(self.params, method, uri, user, password, count)


def digest_authorization(challenge: Mapping[str, str], method: str, uri: str, user: str,
                         password: str, count: int, cnonce: str | None = None) -> str:
    """The ``Authorization`` value answering a Digest challenge (RFC 7616)."""
    algorithm = challenge.get("algorithm", "MD5")
    base = algorithm.upper().removesuffix("-SESS")
    hash_name = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}.get(base)
    if hash_name is None:
        raise ValueError(f"unsupported Digest algorithm {algorithm}")

    def h(text: str) -> str:
        return hashlib.new(hash_name, text.encode("utf-8")).hexdigest()

    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    cnonce = cnonce or os.urandom(8).hex()
    ha1 = h(f"{user}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    fields = {"username": user, "realm": realm, "nonce": nonce, "uri": uri,
              "algorithm": algorithm}
    if "auth" in qops:
        nc = f"{count:08x}"
        fields["response"] = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        extra = f", qop=auth, nc={nc}, cnonce=\"{cnonce}\""
    else:
        fields["response"] = h(f"{ha1}:{nonce}:{ha2}")
        extra = ""
    if "opaque" in challenge:
        fields["opaque"] = challenge["opaque"]
    quoted = ", ".join(f'{k}="{v}"' if k != "algorithm" else f"{k}={v}"
                       for k, v in fields.items())
    return f"Digest {quoted}{extra}"


_TOKEN = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*(=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?\s*,?')


def parse_challenges(values: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """``WWW-Authenticate`` values as (lower-case scheme, parameters), in order."""
    found: list[tuple[str, dict[str, str]]] = []
    for value in values:
        position = 0
        while position < len(value):
            match = _TOKEN.match(value, position)
            if not match or match.end() == position:
                break
            position = match.end()
            name, has_value, raw = match.group(1), match.group(2), match.group(3)
            if has_value is None or (raw == "" and not found):
                found.append((name.lower(), {}))
            elif found:
                if raw.startswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                found[-1][1][name.lower()] = raw
    return found


def _choose(offered: list[tuple[str, dict[str, str]]]) -> tuple[str, dict[str, str]] | None:
    for wanted in ("digest", "basic"):
        for scheme, params in offered:
            if scheme == wanted:
                if scheme == "digest":
                    algorithm = params.get("algorithm", "MD5").upper().removesuffix("-SESS")
                    if algorithm not in ("MD5", "SHA-256", "SHA-512-256"):
                        continue
                return scheme, params
    return None


class _Watchdog:
    """Shuts a socket down at the deadline, whatever the request is blocked in (connecting
    is bounded by the socket timeout). It holds the socket itself: ``http.client`` drops
    the connection's reference when an answer says ``Connection: close``."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline, self.fired = deadline, False
        self.sock: socket.socket | None = None
        self.timer: threading.Timer | None = None

    def start(self, sock: socket.socket) -> None:
        self.sock = sock
        self.timer = threading.Timer(max(0.0, self.deadline.remaining()), self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self) -> None:
        self.fired = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        except OSError:
            pass

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def short_message(data: bytes, content_type: str, reason: str = "") -> str:
    """A one-line message from an error answer: tags stripped, the echoed query cut."""
    text = data[:8192].decode("utf-8", "replace")
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        body = re.search(r"<body[^>]*>(.*)</body>", text, re.S | re.I)
        text = re.sub(r"<[^>]+>", " ", body.group(1) if body else text)
        text = html.unescape(text)
    text = re.split(r"\n\s*SPARQL query:", text)[0]
    text = " ".join(text.split())
    if len(text) > 300:
        text = text[:297] + "..."
    return text or reason or "no message"


def _with_params(url: str, params: Sequence[tuple[str, str]]) -> str:
    """``url`` with ``params`` added; a parameter with an empty value goes as a bare name
    (the Graph Store Protocol's ``?default``)."""
    if not params:
        return url
    query = "&".join(urllib.parse.quote(k, safe="") + ("=" + urllib.parse.quote(v, safe="")
                                                        if v else "") for k, v in params)
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 200 else text[:197] + "..."


def _tell(body: Body) -> int | None:
    try:
        return body.tell() if hasattr(body, "seek") and body.seekable() else None  # type: ignore
    except (OSError, ValueError):
        return None


def _rewind(body: Body, start: int) -> bool:
    try:
        body.seek(start)  # type: ignore[union-attr]
        return True
    except (OSError, ValueError, AttributeError):
        return False


def _length(body: IO[bytes]) -> int:
    """The bytes left in a file: a body always goes with Content-Length, because some
    servers (Virtuoso 7.2) answer 201 to a chunked upload and store nothing."""
    try:
        return os.fstat(body.fileno()).st_size - body.tell()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    try:
        here = body.tell()
        end = body.seek(0, os.SEEK_END)
        body.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        raise RemoteError("an upload must be bytes, a seekable binary file or an iterator "
                          "of bytes") from None


def _spool(pieces: Iterable[bytes]) -> IO[bytes]:
    """An iterator's bytes in a temporary file (in memory up to 8 MB), so that the upload
    has a length and can be sent again after a 401."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    for piece in pieces:
        spool.write(piece)
    spool.seek(0)
    return spool  # type: ignore[return-value]


__all__ = [
    "AuthenticationError", "GRAPH_ACCEPT", "RESULTS_ACCEPT", "RemoteError", "RemoteTimeout",
    "Response", "ResultsTruncated", "SparqlClient", "digest_authorization",
    "parse_challenges", "safe_url", "short_message",
]
