"""Reading numbers from query strings.

``str.isdigit`` is true of characters ``int`` cannot read ("²", "٣"), so a check with it lets
``?page=²`` through to a ``ValueError`` and a 500. Every page number, size and limit a
request carries is read here instead: ASCII digits only, and not too many of them.
"""

from __future__ import annotations

#: More digits than any page, size or limit here could need (and cheap to convert).
MAX_DIGITS = 9


def whole_number(text: str | None) -> int | None:
    """``text`` as a non-negative int, or None when it is not one (empty, signed, spaced,
    non-ASCII digits, too long)."""
    if not text or len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
