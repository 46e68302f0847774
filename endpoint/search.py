"""Full-text search (/search) and autocompletion (/complete) from per-commit indexes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("search", __name__)
