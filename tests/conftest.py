"""Fixtures shared by the test modules: paths, and stores built the way users build them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from practicebank.loaders.load import ensure_demo
from practicebank.store import PracticeStore

ROOT = Path(__file__).resolve().parent.parent


def find_shared() -> Path:
    """The project's ``shared/`` folder: ``$PRACTICEBANK_SHARED`` or ``../shared``."""
    candidates = [os.environ.get("PRACTICEBANK_SHARED"), ROOT.parent / "shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "domain" / "practices.csv").is_file():
            return Path(candidate)
    raise RuntimeError("shared/ not found: set PRACTICEBANK_SHARED to the shared folder")


@pytest.fixture(scope="session")
def shared() -> Path:
    return find_shared()


@pytest.fixture(scope="session")
def practices_csv(shared: Path) -> Path:
    return shared / "domain" / "practices.csv"


@pytest.fixture(scope="session")
def forces_csv(shared: Path) -> Path:
    return shared / "domain" / "forces.csv"


@pytest.fixture(scope="session")
def demo_store() -> PracticeStore:
    """An in-memory store holding everything ``serve --demo`` loads. Read-only by habit:
    tests that write build their own store."""
    store = PracticeStore()
    ensure_demo(store)
    return store


@pytest.fixture
def disk_store(tmp_path: Path):
    """An empty on-disk store, closed after the test."""
    store = PracticeStore(tmp_path / "store")
    yield store
    store.close()
