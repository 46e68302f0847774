"""Server-rendered charts (/charts) and the evidence comparison (/compare)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("charts", __name__)
