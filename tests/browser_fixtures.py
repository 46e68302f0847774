"""Fixtures of the browser tests (tests/browser): a real demo server on loopback, and
Debian's chromium. A plugin that tests/conftest.py names in ``pytest_plugins``, not a
``conftest.py`` of tests/browser: the tests import the root conftest by name
(``from conftest import …``), which a second module called ``conftest`` would shadow.

The browser is Debian's ``chromium`` (``apt-get install chromium``; .ci/run installs it),
driven by Playwright's Python package with ``executable_path``: Playwright's own browsers are
never downloaded (never run ``playwright install``). Without a ``chromium`` on the PATH the
browser tests are skipped, saying so; that is the only reason they skip.

The server is ``practicebank serve --demo`` in a :class:`~endpoint_live.LiveServer`, one for
the session, on a disk store that already holds the demo data (copied from the in-memory
``demo_store``, far quicker than loading it on disk): ``--demo`` then only publishes its first
dump, so /dumps/ has one to show.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from endpoint_live import LiveServer

from practicebank.store import PracticeStore

HERE = Path(__file__).resolve().parent
#: axe-core, vendored with its licence (tests/vendor/axe-core/README.md says how to update).
AXE = HERE / "vendor" / "axe-core" / "axe.min.js"
#: --no-sandbox: CI runs as root, where chromium's sandbox cannot start. The others keep a
#: headless chromium off the network (the tests run on a closed one): no update or component
#: checks, no sync, no QUIC probes, no first-run work. bench/screenshots.py uses the same.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
#: What axe found that does not fail a test (moderate and minor violations, checks it could
#: not finish), printed at the end of the run by :func:`pytest_terminal_summary`.
NOTES: list[str] = []


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None and os.environ.get("PRACTICEBANK_REQUIRE_BROWSER"):
        pytest.fail("PRACTICEBANK_REQUIRE_BROWSER is set (.ci/run sets it) but chromium is "
                    "not on the PATH: the browser tests must run, not skip")
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): the "
                    "browser tests drive it and never download a browser")
    return path


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh page. ``bypass_csp``: the pages send a strict Content-Security-Policy
    (``default-src 'none'``, no script at all), under which chromium would refuse the axe
    script the tests inject; bypassing it is the test's doing, and changes nothing the page
    itself does (it has no script)."""
    context = browser.new_context(bypass_csp=True, viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def demo_site(chromium: str, demo_store, tmp_path_factory) -> Iterator[LiveServer]:
    """``practicebank serve --demo`` on loopback, for the session."""
    tmp = tmp_path_factory.mktemp("browser-demo")
    with PracticeStore(tmp / "store") as disk:
        disk.ox.bulk_extend(demo_store.ox)
    with LiveServer(tmp / "store", tmp, "--demo", "--workers", "1") as server:
        yield server


@pytest.fixture(scope="session")
def assessed_practice(demo_site: LiveServer) -> str:
    """The page of a practice with at least one rating assessment, found through /sparql."""
    query = """PREFIX pb: <https://w3id.org/practicebank/def/>
SELECT ?p (COUNT(DISTINCT ?a) AS ?n) WHERE {
  ?a a pb:RatingAssessment ; pb:assessedPractice ?p . ?p a pb:Practice
} GROUP BY ?p ORDER BY DESC(?n) ?p LIMIT 1"""
    status, _, body = demo_site.query(query)
    assert status == 200, body[:500]
    rows = json.loads(body)["results"]["bindings"]
    assert rows, "the demo data has no practice with a rating assessment"
    iri = rows[0]["p"]["value"]
    base = "https://w3id.org/practicebank/"
    assert iri.startswith(base), iri
    return "/" + iri[len(base):] + ".html"


@pytest.fixture(scope="session")
def axe_script() -> str:
    """The path of axe-core's script, injected into each page."""
    assert AXE.is_file(), f"{AXE} is missing: tests/vendor/axe-core/README.md says how to get it"
    return str(AXE)


@pytest.fixture(scope="session")
def axe_notes() -> list[str]:
    """Where a test puts what it reports without failing."""
    return NOTES


def pytest_terminal_summary(terminalreporter) -> None:
    if NOTES:
        terminalreporter.section("axe-core: not failing (moderate, minor, needs review)")
        for line in NOTES:
            terminalreporter.write_line(line)
