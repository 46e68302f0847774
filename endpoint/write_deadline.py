"""The deadline of a write: planning and validation stop when it passes (a 504, nothing
changed), checked between steps by everything a write runs through."""

from __future__ import annotations

import time


class WriteTimeout(Exception):
    """The write's deadline passed before it was applied; nothing was changed."""


class Deadline:
    """The moment a write must be planned and validated by (``time.monotonic``)."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def check(self) -> None:
        if self.left() <= 0:
            raise WriteTimeout
