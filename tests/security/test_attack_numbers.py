"""Numbers in query strings: every page, size, limit and incoming-page parameter answers a
value that is not a plain number with a 4xx or by ignoring it, never a 500.

``"²".isdigit()`` is true and ``int("²")`` raises, so a check with ``isdigit`` alone once
let ``?page=²`` reach a ``ValueError`` on five routes (endpoint/params.py now reads them)."""

from __future__ import annotations

import pytest

from practicebank.endpoint import create_app

ROUTES = ["/search?q=police&page={}", "/search.json?q=police&page={}",
          "/complete?q=pr&limit={}", "/practices?page={}", "/practices?size={}",
          "/practices.csv?size={}", "/id/practice/clear-hold-build.html?incoming={}",
          "/id/practice/?page={}", "/concept/topic.html?incoming={}", "/sitemap.xml?page={}",
          "/dumps/?page={}", "/sparql?query=ASK%7B%7D&timeout={}"]
VALUES = ["²", "١٢", "１２", "1e3", "-1", "+1", " 1", "0x10", "9" * 40, "1.5", "½", "", "%00"]


@pytest.fixture(scope="module")
def client(demo_store):
    return create_app({"TESTING": False, "STORE": demo_store}).test_client()


@pytest.mark.parametrize("route", ROUTES)
def test_odd_numbers_never_make_a_500(client, route):
    for value in VALUES:
        response = client.get(route.format(value))
        assert response.status_code < 500, (route.format(value), response.status_code,
                                            response.data[:300])
