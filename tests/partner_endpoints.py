"""The partner endpoints as a session fixture: one ``oxigraph serve-read-only`` per partner
slice (data/partners/), started by :func:`practicebank.partners.start_partner_endpoints` and
stopped at the end of the session. A plugin named in tests/conftest.py's ``pytest_plugins``,
so that any module (the partner tests, the federated questions) can ask for the endpoints.

Also :func:`select`, the small SPARQL client the tests use to ask them, over real HTTP.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from practicebank.partners import PartnerEndpoints, start_partner_endpoints


@pytest.fixture(scope="session")
def partner_endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnerEndpoints]:
    """Every partner slice served on loopback; ``.urls[name]`` is a slice's query URL."""
    running = start_partner_endpoints(tmp_path_factory.mktemp("partners"))
    yield running
    running.stop()


def select(url: str, query: str, *, timeout: float = 30) -> list[dict[str, str]]:
    """The rows of a SELECT query sent to ``url`` by the SPARQL protocol (GET), each row a
    mapping of variable to the term's lexical value (unbound variables left out)."""
    request = urllib.request.Request(
        f"{url}?{urllib.parse.urlencode({'query': query})}",
        headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        bindings = json.load(response)["results"]["bindings"]
    return [{name: term["value"] for name, term in row.items()} for row in bindings]
