"""Headers every answer carries so a browser cannot be turned against its user.

Query results can be HTML (``format=html``, or a browser's ``Accept``), and an attacker
chooses what a query returns: IRIs, literals, anything. Escaping (``html_results.py``) keeps
that text from becoming markup; these headers are the second wall. ``nosniff`` stops a
browser from reading a CSV or JSON answer as HTML or script; on HTML, a strict
Content-Security-Policy allows no script at all, styles and images only from this server,
forms only to this server, and no framing (so no clickjacking). The pages use no inline
script or style, so nothing is lost.

Both ways out add them: Flask's responses in :func:`init_app`'s hook, the fast lane's in its
own header list (``fast_lane.py``), from the one function :func:`security_headers`.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
ALWAYS = (("X-Content-Type-Options", "nosniff"),)
ON_HTML = (("Content-Security-Policy", CONTENT_SECURITY_POLICY),
           ("X-Frame-Options", "DENY"),
           ("Referrer-Policy", "no-referrer"))


def security_headers(content_type: str | None) -> tuple[tuple[str, str], ...]:
    """The headers an answer of ``content_type`` must carry."""
    if content_type and content_type.startswith("text/html"):
        return ALWAYS + ON_HTML
    return ALWAYS


def add_security_headers(response: Response) -> Response:
    for name, value in security_headers(response.content_type):
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Every Flask response (errors included) gets :func:`security_headers`."""
    app.after_request(add_security_headers)
