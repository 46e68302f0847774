"""Request bodies read under a deadline, a size cap and a bounded number of readers.

Why it exists: granian's ``wsgi.input`` blocks the calling thread inside Rust until the bytes
asked for arrive or the client goes away. It has no read timeout (granian issue #728,
"wontfix"), and a blocked read cannot be interrupted from Python. So a client sending one
byte a second held a request thread for as long as it liked, and eight of them held every
thread, ``/health`` included. And granian passes a chunked body on without a length, which
werkzeug caps at ``MAX_CONTENT_LENGTH`` by stopping there *silently*: a 2 MB chunked upload
was stored cut in half and answered 201.

What it does: :class:`BodyGuard`, the WSGI layer right around the Flask app (the fast lane in
front of it takes only GETs and never reads a body), gives every request that may carry a
body a :class:`GuardedInput` as ``wsgi.input``. Nothing is read until the app asks, so a
write refused for its token, a 404 or a GET never reads and never waits here. On the first
read the whole body is read by one of the reader threads:

* a reader is one of ``max_body_readers`` slots, taken without waiting (none free: 503 with
  ``Retry-After``); the server gives granian that many threads on top of ``threads`` (see
  :func:`.server.request_threads`), so requests busy with bodies never take the threads
  that answer reads and ``/health``;
* the request waits for its reader at most ``body_timeout`` seconds, then answers 408 with
  ``Connection: close``;
* a declared ``Content-Length`` over ``MAX_CONTENT_LENGTH`` is a 413 before anything is
  read, and a body without one (chunked, HTTP/2) is read to one byte past the cap: 413 if
  that byte comes, so a body is used whole or not at all;
* a body that ends before its ``Content-Length`` (the client went away) is a 400.

Then the app reads from memory.

Measured on granian 2.8.9, and the reason for the one subtle rule here: if a request ends
while a read of its body is still blocked in another thread, a granian thread then takes
the GIL and waits inside granian for that read (seen in gdb), which freezes every Python
thread of the server until the client sends its whole body or disconnects. So after a 408
the request does not end until its reader has returned: :class:`BodyGuard` answers the 408
at once (the client has it whole, ``Content-Length`` included) and holds the response
open, in ``close()``, until the read ends. A client that stays connected after its 408,
silent or trickling, thus keeps its reader slot and one of the extra request threads until
it has sent its body or disconnects; ``max_body_readers`` such clients can have uploads
refused with 503 for as long as they stay, but reads never wait. granian also reads a
chunked body cut short by a disconnect as a whole one (it drops hyper's error), which no
layer above it can tell apart.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask

from .errors import (
    EndpointError,
    incomplete_body,
    payload_too_large,
    request_timeout,
    uploads_busy,
)
from .wsgi import ClosingBody

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


class Read:
    """One body being read by a reader thread: ``done`` is set when the read returns."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.data = b""


class BodyReaders:
    """At most ``size`` bodies being read at once, by up to ``size`` reader threads.

    The threads are kept for a while between reads (measured on the 2-core machine under
    load: a thread started per read made a small POST query ~300 µs slower, a kept one ~50
    µs) and started only when every one is busy, so an app built for a test leaves none
    behind for long. A slot is given back when
    its read *returns*, not when its request gives up on it: that is what bounds the reads a
    silent client can keep stuck, and there are never fewer threads than slots taken, so a
    read never waits for a thread.
    """

    #: Seconds an idle reader thread waits for work before it ends.
    IDLE = 30.0

    def __init__(self, size: int) -> None:
        self.size = size
        self._jobs: queue.SimpleQueue[tuple[Any, int | None, Read]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._taken = 0  # slots: reads started and not yet returned
        self._threads = 0

    def start(self, stream: Any, size: int | None) -> Read:
        """``stream.read(size)`` started in a reader thread; the 503 when none is free."""
        with self._lock:
            if self._taken >= self.size:
                raise uploads_busy(self.size)
            self._taken += 1
            grow = self._threads < self._taken
            if grow:
                self._threads += 1
        read = Read()
        self._jobs.put((stream, size, read))
        if grow:
            try:
                threading.Thread(target=self._serve, name="body-reader", daemon=True).start()
            except BaseException:
                with self._lock:
                    self._threads -= 1
                raise  # the job stays queued for the threads there are
        return read

    def _serve(self) -> None:
        while True:
            try:
                stream, size, read = self._jobs.get(timeout=self.IDLE)
            except queue.Empty:
                with self._lock:
                    if self._threads > self._taken:  # the others are enough
                        self._threads -= 1
                        return
                continue
            try:
                read.data = stream.read(size) if size is not None else stream.read()
            except Exception:  # a broken connection: read as an empty body
                read.data = b""
            finally:
                with self._lock:
                    self._taken -= 1
                read.done.set()


class GuardedInput:
    """``wsgi.input`` that reads the whole body on first use (see the module docstring), then
    answers from memory. An error is kept and raised again on every later read: a second
    read must never start on a stream that a stuck reader still holds."""

    def __init__(self, raw: Any, declared: int | None, cap: int | None, timeout: float,
                 readers: BodyReaders) -> None:
        self._raw, self._declared, self._cap = raw, declared, cap
        self._timeout, self._readers = timeout, readers
        self._body: io.BytesIO | None = None
        self._error: EndpointError | None = None
        #: The read that outlived its deadline, if one did; the request must outlast it.
        self.stuck: Read | None = None

    def _loaded(self) -> io.BytesIO:
        if self._body is not None:
            return self._body
        if self._error is None:
            try:
                self._body = io.BytesIO(self._load())
                return self._body
            except EndpointError as error:
                self._error = error
        raise self._error

    def _load(self) -> bytes:
        declared, cap = self._declared, self._cap
        if declared is not None and cap is not None and declared > cap:
            raise payload_too_large(cap)
        wanted = declared if declared is not None else None if cap is None else cap + 1
        read = self._readers.start(self._raw, wanted)
        if not read.done.wait(self._timeout):
            self.stuck = read
            raise request_timeout(self._timeout)
        data = read.data
        if declared is None and cap is not None and len(data) > cap:
            raise payload_too_large(cap)
        if declared is not None and len(data) < declared:
            raise incomplete_body(declared, len(data))
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._loaded().read(size)

    def readinto(self, buffer: Any) -> int:
        return self._loaded().readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        return self._loaded().readline(size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self._loaded().readlines(hint)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._loaded())


class BodyGuard:
    """WSGI middleware around the Flask app (installed by ``create_app``): every request that
    may carry a body gets a :class:`GuardedInput`; the others pass untouched, at the cost of a
    few dict lookups."""

    def __init__(self, app: Flask, wrapped: WSGIApp) -> None:
        self.app = app
        self.wrapped = wrapped
        self.readers = BodyReaders(int(app.config["MAX_BODY_READERS"]))

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH")
        if length in (None, "", "0") and not _body_without_length(environ):
            return self.wrapped(environ, start_response)
        config = self.app.config
        guarded = GuardedInput(environ["wsgi.input"], _declared(length),
                               config.get("MAX_CONTENT_LENGTH"), float(config["BODY_TIMEOUT"]),
                               self.readers)
        environ["wsgi.input"] = guarded
        response = self.wrapped(environ, start_response)
        if guarded.stuck is not None:
            # The 408 may be sent whole at once, but for granian the request must not end
            # until its stuck read has returned (the module docstring says why).
            return ClosingBody(response, guarded.stuck.done.wait)
        return response



def _body_without_length(environ: dict[str, Any]) -> bool:
    """True when a body may come without a Content-Length: chunked (HTTP/1.1), or any request
    over HTTP/2 or later, whose body is a stream of frames of no declared length."""
    return ("HTTP_TRANSFER_ENCODING" in environ
            or not environ.get("SERVER_PROTOCOL", "HTTP/1.1").startswith("HTTP/1"))


def _declared(length: str | None) -> int | None:
    """The Content-Length as a number; None when absent (granian and werkzeug refuse a
    malformed one before it gets here, and a negative one is no length)."""
    try:
        value = int(length) if length else None
    except ValueError:
        return None
    return value if value is None or value >= 0 else None


__all__ = ["BodyGuard", "BodyReaders", "GuardedInput"]
