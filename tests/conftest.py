"""Fixtures shared by the test modules: paths, stores built the way users build them, and
the throwaway SPARQL servers of the remote backend.

The servers (``oxigraph serve`` and Virtuoso 7, :mod:`backends`) are session fixtures: one
of each per test session, shared by every module that asks (tests/test_remote_store.py,
tests/test_backends.py), because Virtuoso takes seconds to start. Sharing is safe because
tests run one at a time and each test leaves the servers as it found them: it names graphs
of its own, or drops what it made.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from practicebank.loaders.load import ensure_demo
from practicebank.store import PracticeStore

ROOT = Path(__file__).resolve().parent.parent


#: The browser tests' fixtures (tests/browser_fixtures.py says why they are a plugin).
pytest_plugins = ("browser_fixtures", "partner_endpoints")

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


@pytest.fixture(scope="session")
def oxigraph_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """``oxigraph serve`` on loopback, for the whole session. Without
    ``--union-default-graph``: RemoteStore asks for the union per query, and with the flag
    the server ignores a query's own ``FROM`` (Oxigraph 0.5), which no store of ours does."""
    from backends import start_oxigraph

    backend = start_oxigraph(tmp_path_factory.mktemp("oxigraph"), union_default_graph=False)
    yield backend
    backend.stop()


@pytest.fixture(scope="session")
def virtuoso_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A Virtuoso 7 on loopback, for the whole session; a missing Virtuoso fails the tests
    that need it, naming the package to install (CI installs it: never a skip)."""
    from backends import BackendUnavailable, start_virtuoso

    try:
        backend = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    except BackendUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    yield backend
    backend.stop()
