"""One query, evaluated and serialised (or one linked-data document, :mod:`.describe_jobs`):
the work a query worker (or the server) does.

A :class:`QueryJob` is plain picklable data, so the same :func:`execute` runs in a worker
process behind a pipe and in the server process for an in-memory store. Content negotiation
has already happened in the server, once the query's form was read
(:func:`~.sparql_text.query_kind`), so the job carries the chosen format. Output goes to a
:class:`Channel` as messages: an error before anything was sent, or a head (content type plus
the first bytes), more data, and an end. Small answers are one message; large ones stream in
chunks of :data:`CHUNK` bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import pyoxigraph as ox

from practicebank.formats import by_name, of_kind
from practicebank.settings import BY_NAME
from practicebank.sparql_text import has_dataset_clause
from practicebank.text_analysis import SPARQL_FUNCTIONS

from .bind_join import RemoteFailed
from .bind_join import Settings as BindJoinSettings
from .bind_join import rewrite as bind_join
from .describe_jobs import DescribeJob, run_describe
from .federation import RemotePlan, ServiceProxy, remote_failure
from .html_results import write_html

CHUNK = 64 * 1024


@dataclass(frozen=True)
class QueryJob:
    """Everything needed to answer one query, without any request object."""

    query: str
    default_graph: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    base_iri: str | None = None
    #: (public base, this server's root) when links to our IRIs in an HTML answer should
    #: stay on this server (:mod:`.site_links`); None keeps them as they are.
    link_root: tuple[str, str] | None = None
    #: The negotiated format's name (negotiated for the query's form before it ran), or
    #: None when nothing fits: a query that parses is then answered 406 with ``refusal``
    #: (one that does not is a 400, which says more).
    format: str | None = "json"
    refusal: str = ""
    remote: RemotePlan | None = None
    deadline: float = float("inf")  # time.time(); the same clock in every process
    service_timeout: float = 10.0
    service_max_bytes: int = BY_NAME["max_remote_answer"].default
    bind_join_batch: int = BY_NAME["bind_join_batch"].default  # 0: SERVICE as written
    bind_join_max_bindings: int = BY_NAME["bind_join_max_bindings"].default
    #: Instead of a query, a linked-data document to make (:mod:`.describe_jobs`).
    describe: DescribeJob | None = None


@dataclass(frozen=True)
class JobError:
    """An answer that is an error: the status, kind and message of the error shape."""

    code: int
    kind: str
    message: str


class Channel(Protocol):
    """Where :func:`execute` sends its messages."""

    def send(self, message: tuple) -> None: ...


class DeadlineExceeded(Exception):
    """Raised inside serialisation when an in-process query passes its deadline."""


class _Output:
    """A file-like sink for pyoxigraph's serialisers that sends chunks to a channel."""

    def __init__(self, channel: Channel, content_type: str, deadline: float,
                 check_deadline: bool) -> None:
        self.channel = channel
        self.content_type = content_type
        self.buffer = bytearray()
        self.started = False
        self.deadline = deadline
        self.check_deadline = check_deadline

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            if self.check_deadline and time.time() > self.deadline:
                raise DeadlineExceeded
            self._send(done=False)
        return len(data)

    def flush(self) -> None:
        pass

    def _send(self, done: bool) -> None:
        data = bytes(self.buffer)
        self.buffer.clear()
        if not self.started:
            self.channel.send(("head", self.content_type, data, done))
            self.started = True
        elif data or not done:
            self.channel.send(("data", data))
        if done and self.started:
            self.channel.send(("end",))

    def close(self) -> None:
        if not self.started:
            self.channel.send(("head", self.content_type, bytes(self.buffer), True))
            self.started = True
            return
        self._send(done=True)


def execute(store: ox.Store, job: QueryJob, channel: Channel, *,
            proxy: ServiceProxy | None = None, check_deadline: bool = False) -> None:
    """Evaluate ``job`` on ``store`` and send the answer (or an error) to ``channel``.

    With ``check_deadline`` (the in-process path, where nothing can kill the query) output
    stops at the deadline between chunks; in a worker the supervisor enforces it.
    """
    if job.describe is not None:
        run_describe(store, job.describe, channel)
        return
    registration = token = None
    text = job.query
    if job.remote is not None and job.remote.endpoints:
        proxy = proxy or ServiceProxy()
        token, registration = proxy.register(
            job.remote.endpoints, deadline=time.monotonic() + (job.deadline - time.time()),
            timeout=job.service_timeout, max_bytes=job.service_max_bytes)
        text = job.remote.bind(proxy.prefix(token))
    try:
        if registration is not None:
            try:
                text = _bind_join(store, job, text, registration, proxy.prefix(token)) or text
            except RemoteFailed:
                error = _evaluation_error(RuntimeError(), registration)
                channel.send(("error", error.code, error.kind, error.message))
                return
        run_query(store, job, text, channel, registration=registration,
                  check_deadline=check_deadline, functions=SPARQL_FUNCTIONS)
    finally:
        if token is not None:
            proxy.unregister(token)


def _bind_join(store, job: QueryJob, text: str, registration, prefix: str) -> str | None:
    """``text`` with its SERVICE blocks evaluated as bind joins (:mod:`.bind_join`), or None
    when the query is not one it rewrites."""
    return bind_join(
        text, registration,
        lambda query: store.query(query, **query_options(job, query, SPARQL_FUNCTIONS)),
        BindJoinSettings(job.bind_join_batch, job.bind_join_max_bindings, prefix,
                         job.base_iri))


def query_options(job: QueryJob, text: str, functions: dict | None = None) -> dict:
    """The keyword arguments of ``Store.query`` for ``text`` run as part of ``job``: its
    base IRI and dataset, and the custom functions of an embedded store."""
    options = {
        "base_iri": job.base_iri,
        "use_default_graph_as_union": job.default_graph is None
        and not has_dataset_clause(text),
        "default_graph": [ox.NamedNode(g) for g in job.default_graph]
        if job.default_graph is not None else None,
        "named_graphs": [ox.NamedNode(g) for g in job.named_graphs]
        if job.named_graphs is not None else None,
    }
    if functions:
        options["custom_functions"] = functions
    return options


#: Turns a store's own exception into the error answer it means (None: not one of its own).
Classify = Callable[[BaseException], "JobError | None"]


def run_query(store, job: QueryJob, text: str, channel: Channel, *, registration=None,
              check_deadline: bool = False, classify: Classify | None = None,
              functions: dict | None = None) -> None:
    """Evaluate ``text`` (the job's query, perhaps rewritten for the proxy) on ``store``,
    anything with pyoxigraph's ``Store.query``, and send the answer or the error to
    ``channel``. ``classify`` reads the exceptions of a store that is not pyoxigraph's (a
    remote server's refusal, its timeout); ``functions`` are the custom functions of an
    embedded store (``pbf:matches``; a remote server has its own or none)."""
    def fail(error: JobError) -> None:
        channel.send(("error", error.code, error.kind, error.message))

    try:
        results = store.query(text, **query_options(job, text, functions))
    except SyntaxError as exc:
        fail(JobError(400, "syntax_error",
                      f"The query is not valid SPARQL: {exc}. Fix it at that line:column and "
                      "send it again."))
        return
    except Exception as exc:
        known = classify(exc) if classify is not None else None
        if known is None and not isinstance(exc, OSError | RuntimeError):
            raise
        fail(known or _evaluation_error(exc, registration))
        return
    if job.format is None:
        fail(JobError(406, "not_acceptable", job.refusal))
        return
    kind = "rdf" if isinstance(results, ox.QueryTriples) else "results"
    fmt = by_name(job.format)
    if fmt.kind not in (kind, "html"):  # the form was misread before it ran: its default
        fmt = of_kind(kind)[0]
    out = _Output(channel, fmt.content_type, job.deadline, check_deadline)
    try:
        if fmt.kind == "html":
            write_html(results, out, link_root=job.link_root)
        elif kind == "rdf":
            results.serialize(out, format=fmt.rdf_format)
        else:
            results.serialize(out, format=fmt.results_format)
    except DeadlineExceeded:
        _late_or_early(out, channel, deadline_error(job))
        return
    except Exception as exc:
        known = classify(exc) if classify is not None else None
        if isinstance(exc.__cause__, DeadlineExceeded) or "DeadlineExceeded" in str(exc):
            _late_or_early(out, channel, deadline_error(job))
        elif known is not None or isinstance(exc, OSError | RuntimeError):
            _late_or_early(out, channel, known or _evaluation_error(exc, registration))
        else:
            raise
        return
    out.close()


def _late_or_early(out: _Output, channel: Channel, error: JobError) -> None:
    if out.started:
        channel.send(("abort", error.code, error.kind, error.message))
    else:
        channel.send(("error", error.code, error.kind, error.message))


def _evaluation_error(exc: Exception, registration) -> JobError:
    remote = remote_failure(registration)
    if remote is not None:
        return JobError(remote.code, remote.kind, remote.message)
    if isinstance(exc, RuntimeError):
        return JobError(400, "evaluation_error",
                        f"The query could not be evaluated: {exc}. Change the query.")
    return JobError(500, "internal_error", f"store fault: {exc}")


def deadline_error(job: QueryJob) -> JobError:
    return JobError(504, "deadline_exceeded",
                    "The query did not finish within its deadline and was stopped. "
                    "Make it more selective (LIMIT, more specific patterns), or ask for a "
                    "longer deadline with timeout= up to the server's maximum.")
