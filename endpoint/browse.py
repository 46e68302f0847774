"""Faceted browsing of practices at /practices, mirroring the practice bank's filters."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("browse", __name__)
