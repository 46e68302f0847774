"""The query editor at /query (YASGUI, vendored) and its named example queries."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("workbench", __name__)
