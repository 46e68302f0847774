"""Every setting of practicebank (the store backend and the endpoint), declared once as
data (Datasette's ``SETTINGS`` idea).

The table drives the ``serve`` command's flags, the environment variables, the config file
and ``docs/settings.md`` (a test checks the doc against :func:`markdown_table`), so a setting
cannot exist without being documented. Precedence, lowest first: the default here, a TOML
config file (``--config FILE`` or ``PRACTICEBANK_CONFIG``), ``PRACTICEBANK_<NAME>``
environment variables, then flags (or the mapping a test passes to ``create_app``).
Secrets (the write token) have no flag, so they never show in a process list.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "PRACTICEBANK_"
CONFIG_ENV = "PRACTICEBANK_CONFIG"


@dataclass(frozen=True)
class Setting:
    """One setting: its name (snake_case), default, type and a sentence of help."""

    name: str
    default: Any
    type: type
    help: str
    secret: bool = False
    minimum: int | float | None = None
    choices: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The Flask config key, e.g. ``QUERY_TIMEOUT``."""
        return self.name.upper()

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.key

    @property
    def flag(self) -> str | None:
        return None if self.secret else "--" + self.name.replace("_", "-")

    def convert(self, value: Any) -> Any:
        """``value`` (from a file, the environment or a flag) as this setting's type."""
        if self.type is bool and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(f"{self.env}={value!r} is not a yes/no value")
            return lowered in {"1", "true", "yes", "on"}
        try:
            converted = self.type(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Setting {self.name} must be a {self.type.__name__}, not {value!r}"
            ) from exc
        if self.choices and converted not in self.choices:
            raise ValueError(f"{self.flag or self.env} must be one of "
                             f"{', '.join(self.choices)}, not {converted!r}")
        if self.minimum is not None and converted < self.minimum:
            raise ValueError(f"{self.flag or self.env} must be at least {self.minimum}, "
                             f"not {converted}")
        return converted


SETTINGS: tuple[Setting, ...] = (
    Setting("backend", "embedded", str,
            "Where the data lives: `embedded` (an on-disk Oxigraph store, the --store folder) "
            "or `sparql` (your SPARQL 1.1 server, at the backend_* URLs; see "
            "docs/backends.md).", choices=("embedded", "sparql")),
    Setting("backend_query_url", "", str,
            "The sparql backend's SPARQL Query endpoint, e.g. http://host:8890/sparql."),
    Setting("backend_update_url", "", str,
            "The sparql backend's SPARQL Update endpoint; default: the query URL."),
    Setting("backend_store_url", "", str,
            "The sparql backend's Graph Store Protocol endpoint (bulk uploads and "
            "downloads); empty: Update and CONSTRUCT are used instead."),
    Setting("backend_user", "", str,
            "User name for the sparql backend (HTTP basic or digest, as the server asks)."),
    Setting("backend_password", "", str,
            "Password for the sparql backend.", secret=True),
    Setting("query_timeout", 30.0, float,
            "Deadline of every query in seconds; a client may ask for less with timeout=."),
    Setting("workers", 2, int,
            "Query worker processes for an on-disk store. Queries go to the oldest with a "
            "free thread, so the others stand by warm to take over when a deadline kill "
            "ends it; 0 means one per CPU (at least 2). -1 runs queries in the server "
            "process, without enforced deadlines.", minimum=-1),
    Setting("worker_threads", 8, int,
            "Queries one worker process answers at once, sharing its open store and caches "
            "(measured: ~13% less CPU per heavy query than the same queries spread over "
            "processes). A query killed at its deadline takes its process down; the other "
            "queries it was answering run again on the next process.", minimum=1),
    Setting("threads", 8, int,
            "Python threads that run requests (granian's blocking threads); a query waiting "
            "for a worker holds one. Fewer contend less for the GIL (measured: cheap lookups "
            "~10% faster at 2); more keep lookups flowing while many slow queries wait.",
            minimum=1),
    Setting("max_queued", 64, int,
            "Queries that may wait for a free worker at once; more are refused with 503."),
    Setting("max_content_length", 1024 * 1024, int,
            "Largest request body in bytes (queries, updates, Graph Store uploads); 413 above."),
    Setting("body_timeout", 10.0, float,
            "Seconds a client may take to send a whole request body, from the first read of "
            "it; 408 past it, so a slow upload cannot keep its request waiting.", minimum=0.1),
    Setting("max_body_readers", 4, int,
            "Requests that may be receiving a body at once, each in a request thread added "
            "to `threads`; more are refused with 503 at once, so uploads never take the "
            "threads that serve reads. A client that stays connected after its 408 keeps its "
            "reader until it has sent its body or disconnects.", minimum=1),
    Setting("max_query_depth", 60, int,
            "Deepest nesting of { }, ( ) and [ ] a query or update may have; 400 above. "
            "Together with the two limits below, bounds the stack the engine needs.", minimum=1),
    Setting("max_query_clauses", 200, int,
            "Most OPTIONAL, MINUS, UNION, SERVICE, GRAPH, FILTER, BIND, VALUES, EXISTS and "
            "sub-SELECT clauses one query or update may have; 400 above.", minimum=1),
    Setting("max_query_operators", 1000, int,
            "Most property-path and expression operators (| / ^ + - * ! && || = < >) one "
            "query or update may have outside its data blocks; 400 above.", minimum=1),
    Setting("write_token", "", str,
            "Bearer token every write must carry. Empty disables writes (403).", secret=True),
    Setting("admin_token", "", str,
            "Bearer token for writes to the system graphs (ontology, vocabularies, reference "
            "data, provenance), which otherwise only the loader changes. Empty: no HTTP "
            "write may touch them (403).", secret=True),
    Setting("service_allowlist", "", str,
            "Space-separated URL prefixes that SERVICE and LOAD may call; empty allows none."),
    Setting("service_timeout", 10.0, float,
            "Seconds one SERVICE call may take before it fails (within the query's deadline)."),
    Setting("max_remote_answer", 64 * 1024 * 1024, int,
            "Largest answer in bytes one SERVICE or LOAD call may bring back (it is held in "
            "memory on the way); larger is a 502 naming the endpoint.", minimum=1),
    Setting("bind_join_batch", 100, int,
            "Local bindings sent to a remote in one `VALUES` block when a query's SERVICE is "
            "evaluated as a bind join (docs/federation.md); the remote gets one request per "
            "batch. 0 turns bind joins off: every SERVICE goes to the remote as written.",
            minimum=0),
    Setting("bind_join_max_bindings", 10_000, int,
            "Most distinct local bindings a bind join sends; a query whose local side has "
            "more runs its SERVICE as written instead (one request for the whole pattern).",
            minimum=1),
    Setting("snapshot_dir", "", str,
            "Folder for the workers' read-only snapshots; default: STORE.snapshots beside "
            "the store."),
    Setting("public_base", "https://w3id.org/practicebank/", str,
            "The public IRI base of the data. Every IRI under it dereferences on this server "
            "at the same path (id/, def/, concept/, graph/); when requests reach the server "
            "under another host, links in pages stay on this server (docs/publishing.md)."),
    Setting("dump_dir", "", str,
            "Folder of the dumps that `practicebank dump` writes and `serve` publishes at "
            "/dumps/; default: STORE.dumps beside the store."),
    Setting("proxy_hops", 0, int,
            "How many reverse proxies in front of the server set X-Forwarded-For, -Proto, "
            "-Host and -Prefix; the server then builds its links and redirects from them (https "
            "behind TLS termination). 0 trusts none: anyone can send those headers.",
            minimum=0),
    Setting("access_log", True, bool,
            "Write one JSON line per request (method, path, status, duration, query hash) "
            "to the practicebank.access logger."),
)

BY_NAME = {s.name: s for s in SETTINGS}


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The settings in a TOML file (``query_timeout = 10`` …), as config keys; unknown names
    are an error, so a typo is not silently ignored."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    unknown = sorted(set(data) - set(BY_NAME))
    if unknown:
        raise ValueError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(BY_NAME)}"
        )
    return {BY_NAME[name].key: BY_NAME[name].convert(value) for name, value in data.items()}


def resolve(config: Mapping[str, Any], environ: Mapping[str, str] | None = None,
            config_file: str | None = None) -> dict[str, Any]:
    """Defaults, then the config file, then the environment, then ``config`` (flags/tests)."""
    environ = os.environ if environ is None else environ
    values = {s.key: s.default for s in SETTINGS}
    config_file = config_file or environ.get(CONFIG_ENV)
    if config_file:
        values.update(read_config_file(config_file))
    for s in SETTINGS:
        if s.env in environ:
            values[s.key] = s.convert(environ[s.env])
    for s in SETTINGS:
        if config.get(s.key) is not None:
            values[s.key] = s.convert(config[s.key])
    return values


def click_options(command: Callable, *, prefix: str = "") -> Callable:
    """Add one ``--flag`` per non-secret setting (and ``--config``) to a click command;
    with ``prefix``, only the settings whose names start with it (and no ``--config``).

    Flags default to None so that the environment and the config file still apply when a
    flag is not given; the command passes ``settings_from_flags(kwargs)`` to ``create_app``.
    """
    import click

    for s in reversed(SETTINGS):
        if s.flag is None or not s.name.startswith(prefix):
            continue
        kind = click.BOOL if s.type is bool else s.type
        command = click.option(s.flag, s.name, type=kind, default=None,
                               help=f"{s.help} [env {s.env}; default {s.default!r}]")(command)
    if prefix:
        return command
    return click.option("--config", "config_file", type=click.Path(dir_okay=False, exists=True),
                        default=None, help=f"TOML file of settings [env {CONFIG_ENV}].")(command)


def settings_from_flags(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Config keys for the flags that were given."""
    return {BY_NAME[name].key: value for name, value in kwargs.items()
            if name in BY_NAME and value is not None}


def markdown_table() -> str:
    """The settings as the Markdown table in ``docs/settings.md``."""
    lines = ["| setting | flag | environment variable | default | what it does |",
             "| --- | --- | --- | --- | --- |"]
    for s in SETTINGS:
        flag = f"`{s.flag}`" if s.flag else "(none: secret)"
        default = f"`{s.default!r}`"
        lines.append(f"| `{s.name}` | {flag} | `{s.env}` | {default} | {s.help} |")
    return "\n".join(lines) + "\n"


def default_snapshot_dir(store_path: str | os.PathLike[str]) -> Path:
    path = Path(store_path)
    return path.with_name(path.name + ".snapshots")


def default_dump_dir(store_path: str | os.PathLike[str]) -> Path:
    """Where dumps go when ``dump_dir`` is empty: ``STORE.dumps`` beside the store, so they
    stay with the data they were made from and never inside the store's own folder."""
    path = Path(store_path)
    return path.with_name(path.name + ".dumps")
