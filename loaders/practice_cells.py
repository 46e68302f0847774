"""Readings of a cell that more than one part of the practice converter needs.

A web address, a slug and a College of Policing practice page are recognised in
``source_url``, in the HMICFRS report columns and in the links between practices; the
patterns live here once so that those parts agree. :func:`json_text` lets a JSON record
reach the converter as the text a CSV cell would hold, so both formats take one path.
"""

from __future__ import annotations

import re

#: A practice page of the College of Policing (either of the hosts records use); group 1 is
#: the practice's slug, which becomes its IRI.
COLLEGE_PAGE = re.compile(
    r"^https://(?:www\.college\.police\.uk|production\.copweb\.aws\.college\.police\.uk)"
    r"/support-forces/practices/(?:smarter-practice/)?([a-z0-9-]+)/?$"
)
#: An http(s) address with none of the characters an IRI may not hold.
WEB_ADDRESS = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
#: A slug as our IRIs use them: lower-case words joined by single hyphens.
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def json_text(value: object) -> str | None:
    """A JSON scalar as the text a CSV cell would hold (numbers as written)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
