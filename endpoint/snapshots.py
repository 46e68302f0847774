"""Read-only snapshots of the store for the query workers, one generation per committed write.

pyoxigraph's read-only open of a store that another process is writing is undefined
behaviour, so workers never open the live store. After each committed write the server
calls :meth:`Snapshots.publish`: ``Store.backup`` makes a RocksDB checkpoint in a fresh
folder (hard links to the immutable table files: about 1-20 ms and no extra space on the
100k-practice store), and later queries run on it. A checkpoint is taken after the whole
write, so no query sees half of one, and before the write is acknowledged, so the next query
sees it. Old generations are deleted as soon as no worker has them open.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from practicebank.merged_default import prepare_snapshot
from practicebank.store import PracticeStore


@dataclass(frozen=True)
class Generation:
    number: int
    path: str


class Snapshots:
    """The generations of checkpoints under ``root`` (emptied on start and on close)."""

    def __init__(self, store: PracticeStore, root: Path) -> None:
        self.store = store
        self.root = Path(root)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        self._lock = threading.Lock()
        self._refs: dict[int, int] = {}
        self.current: Generation | None = None
        self.publish()

    def publish(self) -> Generation:
        """Checkpoint the store as it is now; later queries see this generation."""
        with self._lock:
            number = self.current.number + 1 if self.current else 1
            path = self.root / f"{number:08d}"
            self.store.ox.backup(str(path))
            prepare_snapshot(self.store, str(path))  # the default graph as the merge
            self.current = Generation(number, str(path))
            self._collect()
            return self.current

    def acquire(self) -> Generation:
        """The current generation, counted as in use until :meth:`release`."""
        with self._lock:
            generation = self.current
            self._refs[generation.number] = self._refs.get(generation.number, 0) + 1
            return generation

    def release(self, generation: Generation | None) -> None:
        if generation is None:
            return
        with self._lock:
            left = self._refs.get(generation.number, 0) - 1
            if left > 0:
                self._refs[generation.number] = left
                return
            self._refs.pop(generation.number, None)
            if generation.number != self.current.number:
                self._collect()  # the last user of an old generation is gone

    def _collect(self) -> None:
        keep = {self.current.number, *self._refs}
        for folder in self.root.iterdir():
            if folder.name.isdigit() and int(folder.name) not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
