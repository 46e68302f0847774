"""Links from pages to resources: public IRIs, or this server when it is not the public base.

The data's IRIs live under one public base (``https://w3id.org/practicebank/`` by default,
the ``public_base`` setting), which w3id.org redirects to a deployment. A server reached
under another host (localhost, a staging host, a mirror) answers the same paths, so links in
its pages and HTML results point at itself: a user can click through without leaving it.
``<link rel="canonical">`` and the data itself always carry the public IRI.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_app_context, has_request_context, request

from .html_results import linkable


def public_base() -> str:
    """The configured public base, always ending in ``/``."""
    base = current_app.config.get("PUBLIC_BASE") or "https://w3id.org/practicebank/"
    return base if base.endswith("/") else base + "/"


def local_root() -> str:
    """The root of this server as the client reached it (``http://127.0.0.1:7878/``)."""
    return _rewrite()[2]


def is_public_host() -> bool:
    """True when the request came in under the public base itself."""
    return local_root() == public_base()


#: Where ``current_app.extensions`` keeps this server's roots, by where requests came in.
ROOTS = "practicebank.site_roots"
#: Roots remembered per app (the Host header is the client's: the memo is bounded).
MAX_ROOTS = 64


def _where(environ: dict) -> tuple:
    """What ``request.host_url`` and ``request.script_root`` are made of."""
    return (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
            environ.get("SCRIPT_NAME"))


def known_root(app: Flask, environ: dict) -> str | None:
    """This server's root for a request arriving as ``environ``, if a request that came in
    the same way has been answered (werkzeug made it then): for the fast path
    (:mod:`.fast_pages`), which makes documents without a request context."""
    return app.extensions.get(ROOTS, {}).get(_where(environ))


def bind_root(root: str) -> None:
    """Make ``root`` this app context's server root (the fast path's, from
    :func:`known_root`): links, ``Content-Location`` and ``local_root`` use it."""
    base = public_base()
    g._site_links = (base, None if root == base else root, root)


def _rewrite() -> tuple[str, str | None, str]:
    """(public base, this server's root or None when it is the public base, this server's
    root), worked out once per request: a page asks for hundreds of links."""
    if has_app_context():
        cached = g.get("_site_links")
        if cached is not None:
            return cached
        if has_request_context():
            base = public_base()
            roots = current_app.extensions.setdefault(ROOTS, {})
            where = _where(request.environ)
            root = roots.get(where)
            if root is None:  # werkzeug's reading of the scheme, Host and mount point
                root = request.host_url.rstrip("/") + request.script_root + "/"
                if len(roots) >= MAX_ROOTS:
                    roots.clear()
                roots[where] = root
            cached = g._site_links = (base, None if root == base else root, root)
            return cached
    base = public_base()
    return base, None, base


def rewriter():
    """``link_for`` with this request's base and root bound: for code that makes many."""
    base, root, _ = _rewrite()
    if root is None:
        return lambda iri: iri
    size = len(base)

    def link(iri: str) -> str:
        return root + iri[size:] if iri.startswith(base) else iri

    return link


def link_root(public: str, endpoint_url: str) -> tuple[str, str] | None:
    """(public base, this server's root) when links should be rewritten, else None, from
    the URL a query reached (``http://127.0.0.1:7878/sparql``): for code that writes links
    outside a request context (the fast lane, the query workers' HTML tables)."""
    public = public if public.endswith("/") else public + "/"
    root = endpoint_url.rpartition("/")[0] + "/"
    return None if root == public else (public, root)


def link_for(iri: str) -> str:
    """Where a page should link for ``iri``: on this server if it is one of ours."""
    base, root, _ = _rewrite()
    if root is not None and iri.startswith(base):
        return root + iri[len(base):]
    return iri


def site_link(path: str) -> str:
    """A link to ``path`` (under the base, e.g. ``id/practice/``) on this server."""
    return local_root() + path.lstrip("/")


def public_iri(path: str) -> str:
    """The public IRI of ``path`` on this server (``id/practice/x`` -> ``https://…/x``)."""
    return public_base() + path.lstrip("/")


#: The site's navigation: (path under the root, text).
NAVIGATION = (("practices", "Practices"), ("search", "Search"), ("charts", "Charts"),
              ("compare", "Compare"), ("concept/", "Vocabularies"), ("def/", "Ontology"),
              ("dataset", "Dataset"), ("dumps/", "Dumps"), ("query", "Query"))


def chrome() -> dict:
    """The URLs every page's header and footer link to, worked out once per server root
    (``url_for`` builds from the URL map each time: a dozen calls were a tenth of a page)."""
    root = local_root()
    key = (root, request.script_root if has_request_context() else "")
    cached = _CHROME.get(key)
    if cached is None:
        from flask import url_for

        cached = {
            "home": url_for("pages.index"),
            "style": url_for("static", filename="style.css"),
            "sparql": url_for("sparql.sparql"),
            "health": url_for("pages.health"),
            "navigation": [(root + path, "/" + path, text) for path, text in NAVIGATION],
        }
        if len(_CHROME) > 64:
            _CHROME.clear()
        _CHROME[key] = cached
    return cached


_CHROME: dict[tuple[str, str], dict] = {}


def init_app(app: Flask) -> None:
    """``link_for``, ``site_link`` and ``public_iri`` in every template, and the test
    ``linkable``."""
    app.jinja_env.globals.update(link_for=link_for, site_link=site_link, public_iri=public_iri,
                                 chrome=chrome)
    app.jinja_env.tests["linkable"] = linkable
