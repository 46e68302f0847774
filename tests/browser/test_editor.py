"""The query editor (/query) in Debian's chromium, on a real demo server.

Most tests open the page in a context *without* ``bypass_csp``, so the page runs under its
own Content-Security-Policy: every violation the browser reports (a ``securitypolicyviolation``
event, logged by an init script, which the policy does not govern), every script error and
every request is recorded, and each test ends by checking there was no violation, no error
and no request to anything but the demo server. Results are compared with the same query
sent to /sparql over HTTP. The accessibility check uses the ``page`` fixture (which bypasses
the policy, to inject axe-core).
"""

from __future__ import annotations

import csv as csv_module
import io
import json
import urllib.parse
from pathlib import Path

import pytest
from test_accessibility import FAILING, describe, run_axe

QUERIES = Path(__file__).resolve().parent.parent.parent / "endpoint" / "queries"
EXAMPLE = "08-forces-by-practice-count"  # a label column, a count, fewer rows than a page
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", e =>
  console.log("CSP-VIOLATION " + e.violatedDirective + " " + e.blockedURI + " " + e.sample));"""


class Recorder:
    """What a page did: requests, policy violations, script errors."""

    def __init__(self, page, base: str) -> None:
        self.base = base
        self.requests: list[str] = []
        self.violations: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message) -> None:
        if message.text.startswith("CSP-VIOLATION"):
            self.violations.append(message.text)

    def check(self) -> None:
        assert not self.violations, self.violations
        assert not self.errors, self.errors
        elsewhere = [u for u in self.requests
                     if not (u.startswith(self.base + "/") or u.startswith("data:"))]
        assert not elsewhere, f"requests off the server: {elsewhere}"
        assert self.requests, "nothing was recorded"


@pytest.fixture
def strict(browser, demo_site):
    """(page, recorder) in a context that enforces the page's own policy."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    recorder = Recorder(page, demo_site.base)
    try:
        yield page, recorder
    finally:
        context.close()


def open_editor(page, base: str, path: str = "/query") -> None:
    page.goto(base + path)
    page.wait_for_selector("#workbench .yasqe .CodeMirror")
    assert page.is_hidden("#plain-form")


def editor_text(page) -> str:
    return page.evaluate("window.practicebankWorkbench.yasqe.getValue()")


def rows_over_http(demo_site, query: str) -> int:
    status, _, body = demo_site.query(query)
    assert status == 200, body[:300]
    return len(json.loads(body)["results"]["bindings"])


def test_an_example_runs_and_its_rows_fill_the_table(strict, demo_site):
    page, recorder = strict
    open_editor(page, demo_site.base)
    page.click(f"a[data-example='{EXAMPLE}']")
    page.wait_for_selector("#chosen h2")  # (wait_for_function would need 'unsafe-eval')
    example = "\n".join((QUERIES / f"{EXAMPLE}.rq").read_text("utf-8").splitlines()[3:])
    assert editor_text(page).strip() == example.strip()
    assert page.url.endswith(f"/query?example={EXAMPLE}")

    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table.dataTable tbody tr")
    expected = rows_over_http(demo_site, example)
    assert 0 < expected <= 50  # one page of the table
    assert page.locator(".yasr table.dataTable tbody tr").count() == expected
    assert f"{expected} results" in page.inner_text(".yasr_header")

    page.click(".yasr .select_chart")  # a label column and a numeric one: a bar chart
    page.wait_for_selector("svg.pb-chart")
    assert page.locator("svg.pb-chart g.bar").count() == expected
    page.click(".yasr .select_response")
    page.wait_for_selector(".yasr .CodeMirror")
    recorder.check()


def test_the_download_and_share_links_follow_the_query(strict, demo_site):
    page, recorder = strict
    open_editor(page, demo_site.base, f"/query?example={EXAMPLE}")
    csv = page.get_attribute("#download-csv", "href")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(csv).query)
    assert csv.startswith("/sparql?") and params["format"] == ["csv"]
    assert params["query"][0].strip() == editor_text(page).strip()
    assert page.is_hidden("#download-ttl")  # a SELECT has no Turtle
    status, headers, body = demo_site.request("GET", demo_site.base + csv)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert len(list(csv_module.reader(io.StringIO(body.decode())))) - 1 == rows_over_http(
        demo_site, params["query"][0])

    page.evaluate("window.practicebankWorkbench.yasqe.setValue('DESCRIBE <x:y>')")
    page.wait_for_selector("#download-ttl", state="visible")
    assert page.is_hidden("#download-csv")
    share = page.get_attribute("#share-link", "href")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(share).query)["query"] == [
        "DESCRIBE <x:y>"]
    recorder.check()


def test_a_result_iri_opens_its_page_on_this_server(strict, demo_site):
    """IRIs under the public base link to this server's page of the resource, which opens."""
    page, recorder = strict
    query = ("PREFIX pb: <https://w3id.org/practicebank/def/>\n"
             "SELECT ?practice WHERE { ?practice a pb:Practice } ORDER BY ?practice LIMIT 3")
    open_editor(page, demo_site.base, "/query?" + urllib.parse.urlencode({"query": query}))
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table.dataTable tbody tr a[href]")
    link = page.locator(".yasr table.dataTable tbody tr a[href]").first
    href = link.get_attribute("href")
    assert href.startswith(demo_site.base + "/id/practice/"), href
    if link.get_attribute("target") == "_blank":  # YASR opens result links in a new tab
        with page.expect_popup() as popup:
            link.click()
        opened = popup.value
    else:
        with page.expect_navigation():
            link.click()
        opened = page
    opened.wait_for_load_state()
    assert opened.url.startswith(demo_site.base + "/id/practice/"), opened.url
    assert opened.locator("h1").count() == 1
    recorder.check()


def test_a_shared_link_opens_the_editor_on_its_query(strict, demo_site):
    page, recorder = strict
    query = 'SELECT ?s WHERE { ?s ?p "a & b <c>" } LIMIT 3'
    open_editor(page, demo_site.base, "/query?" + urllib.parse.urlencode({"query": query}))
    assert editor_text(page) == query
    recorder.check()


def test_suggestions_come_from_complete(strict, demo_site):
    """Typing in a concept position asks /complete (on this server) and offers its
    answers; skipped until /complete exists."""
    status, _, _ = demo_site.request("GET", demo_site.base + "/complete?q=promis&kind=any")
    if status == 404:
        pytest.skip("/complete is not served yet")
    page, recorder = strict
    open_editor(page, demo_site.base)
    page.evaluate("window.practicebankWorkbench.yasqe.setValue('')")
    page.click("#yasqe .CodeMirror")
    page.keyboard.type("PREFIX pb: <https://w3id.org/practicebank/def/>\n"
                       "SELECT * WHERE { ?practice pb:rating promis", delay=10)
    page.wait_for_selector(".CodeMirror-hints li")
    offered = page.locator(".CodeMirror-hints li").all_inner_texts()
    assert any("romising" in text for text in offered), offered
    asked = [u for u in recorder.requests if "/complete?" in u]
    assert asked and "kind=concept" in asked[-1]
    page.keyboard.press("Enter")
    assert "practicebank/concept/" in editor_text(page)
    recorder.check()


def test_without_javascript_the_form_runs_the_query(browser, demo_site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(demo_site.base + f"/query?example={EXAMPLE}")
        assert page.is_visible("#plain-form") and page.is_hidden("#workbench")
        page.click("#plain-form button[type=submit]")
        page.wait_for_load_state()
        assert "/sparql?" in page.url
        query = (QUERIES / f"{EXAMPLE}.rq").read_text("utf-8")
        assert page.locator("table tbody tr").count() == rows_over_http(demo_site, query)
    finally:
        context.close()


def test_the_editor_has_no_serious_accessibility_violation(page, demo_site, axe_script,
                                                           axe_notes):
    page.goto(demo_site.base + f"/query?example={EXAMPLE}")
    page.wait_for_selector("#workbench .yasqe .CodeMirror")
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table.dataTable tbody tr")
    results = run_axe(page, axe_script)
    for rule in results["violations"]:
        if rule["impact"] not in FAILING:
            axe_notes.append(f"query editor: {describe(rule)}")
    failing = [v for v in results["violations"] if v["impact"] in FAILING]
    assert not failing, "\n".join(describe(v) for v in failing)
