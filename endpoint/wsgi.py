"""A WSGI helper shared by the layers in front of the Flask app (fast lane, body guard)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any


class ClosingBody:
    """A response body that, when the server is done with it, closes the body it wraps (a
    spooled answer holds a temporary file) and then runs ``after``."""

    def __init__(self, body: Iterable[bytes], after: Callable[[], Any]) -> None:
        self.body, self.after = body, after

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.after()
