"""Accessibility of every kind of page the server shows people: WCAG 2.2 AA, checked with
axe-core in Debian's chromium on a real demo server.

Every page is loaded in chromium and axe-core (vendored in tests/vendor/axe-core) runs the
rules tagged WCAG 2.0, 2.1 and 2.2 A and AA on it. A "serious" or "critical" violation fails
the test, naming each rule, its impact, what it asks and the first elements that break it;
"moderate" and "minor" ones, and the checks axe could not finish ("needs review", such as the
contrast of text over an image), are listed at the end of the run without failing it.

axe cannot judge everything WCAG asks. Two checks it does not make are made here for the
pages of our own templates: the skip link is the first thing the keyboard reaches and shows
when it does (2.4.1, 2.4.7), and a page reflows to 320 CSS pixels, a 1280-pixel screen at
400 % zoom, without scrolling sideways (1.4.10).

The pages send a Content-Security-Policy that forbids every script, so the browser context is
opened with ``bypass_csp`` (tests/browser_fixtures.py): otherwise chromium would refuse to run
the injected axe. The pages themselves have no script, so nothing else changes.
"""

from __future__ import annotations

import urllib.parse

import pytest

#: The WCAG 2.2 AA rule set of axe: every A and AA rule of WCAG 2.0, 2.1 and 2.2.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING = {"serious", "critical"}
SMALL_SELECT = """PREFIX pb: <https://w3id.org/practicebank/def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?practice ?title ?started WHERE {
  ?practice a pb:Practice ; dcterms:title ?title .
  OPTIONAL { ?practice pb:startDate ?started }
} ORDER BY ?title LIMIT 5"""
#: Stands for the page of a practice with rating assessments, found at run time.
ASSESSED_PRACTICE = "<a practice with assessments>"

#: (what the page is, its path, the status it answers with): one of every kind of page.
PAGES = [
    ("landing", "/", 200),
    ("practice", ASSESSED_PRACTICE, 200),
    ("force", "/id/force/avon-and-somerset.html", 200),
    ("organisation", "/id/organisation/college-of-policing.html", 200),
    ("concept", "/concept/does-it-work/promising.html", 200),
    ("concept-scheme", "/concept/topic.html", 200),
    ("named-graph", "/graph/sample.html", 200),
    ("listing", "/id/practice/", 200),
    ("ontology", "/def/", 200),
    ("ontology-class", "/def/Practice.html", 200),
    ("ontology-property", "/def/rating.html", 200),
    ("vocabularies", "/concept/", 200),
    ("dataset", "/dataset", 200),
    ("dumps", "/dumps/", 200),
    ("query-results", "/sparql?" + urllib.parse.urlencode(
        {"query": SMALL_SELECT, "format": "html"}), 200),
    ("not-found", "/id/practice/no-such-thing.html", 404),
    ("query-editor", "/query", 200),
]
#: The pages drawn by our own templates (layout, resource, listing, not_found, index) and
#: by the query results' page, for the checks axe does not make.
OWN_TEMPLATES = {"landing", "practice", "force", "organisation", "concept", "concept-scheme",
                 "named-graph", "listing", "query-results", "not-found"}


def path_of(path: str, assessed_practice: str) -> str:
    return assessed_practice if path == ASSESSED_PRACTICE else path


def open_page(page, base: str, path: str, status: int):
    """Load ``path``; fail, saying what came instead, unless it is an HTML page with
    ``status`` (a page another part of the server does not serve yet fails here, not in
    axe's words about a JSON error)."""
    response = page.goto(base + path)
    assert response is not None, f"{path}: no answer"
    content_type = response.headers.get("content-type", "")
    if response.status != status or not content_type.startswith("text/html"):
        pytest.fail(f"{path} answered {response.status} {content_type}, not an HTML page "
                    f"with status {status}:\n{response.text()[:500]}", pytrace=False)
    return response


def run_axe(page, axe_script: str) -> dict:
    page.add_script_tag(path=axe_script)
    return page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                      resultTypes: ["violations", "incomplete"]})""",
        WCAG_TAGS)


def describe(rule: dict, nodes: int = 3) -> str:
    """One axe rule's result in a line: rule, impact, what it asks, where it fails."""
    targets = "; ".join(" ".join(map(str, n["target"])) for n in rule["nodes"][:nodes])
    more = f" and {len(rule['nodes']) - nodes} more" if len(rule["nodes"]) > nodes else ""
    return (f"{rule['id']} ({rule['impact']}): {rule['help']} [{rule['helpUrl'].split('?')[0]}]"
            f"\n    at {targets}{more}")


@pytest.mark.parametrize(("kind", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_or_critical_wcag_22_aa_violation(kind, path, status, page, demo_site,
                                                     assessed_practice, axe_script, axe_notes):
    path = path_of(path, assessed_practice)
    open_page(page, demo_site.base, path, status)
    results = run_axe(page, axe_script)
    failing = [v for v in results["violations"] if v["impact"] in FAILING]
    for rule in results["violations"]:
        if rule["impact"] not in FAILING:
            axe_notes.append(f"{kind} {path}: {describe(rule)}")
    for rule in results["incomplete"]:
        axe_notes.append(f"{kind} {path}: needs review (axe could not decide): "
                         f"{describe(rule, nodes=1)}")
    assert not failing, (f"axe-core {results['testEngine']['version']} finds on {path}:\n"
                         + "\n".join(describe(v) for v in failing))


def test_axe_runs_and_finds_what_is_wrong(page, axe_script):
    """The harness itself: on a page with known faults, axe runs and reports them (a script
    that did not run would otherwise pass every page)."""
    page.set_content('<html><head></head><body><img src="data:,"><a href="#"></a>'
                     '<p style="color:#aaa">faint</p></body></html>')
    results = run_axe(page, axe_script)
    found = {v["id"]: v["impact"] for v in results["violations"]}
    assert found.get("image-alt") == "critical", found
    assert found.get("link-name") == "serious", found
    assert found.get("html-has-lang") == "serious", found
    assert found.get("color-contrast") == "serious", found


def test_the_skip_link_comes_first_and_shows_when_focused(page, demo_site, assessed_practice):
    open_page(page, demo_site.base, assessed_practice, 200)
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => {
        const e = document.activeElement, r = e.getBoundingClientRect();
        return {text: e.textContent, href: e.getAttribute("href"), left: r.left, top: r.top,
                right: r.right, width: innerWidth,
                outline: getComputedStyle(e).outlineStyle}; }""")
    assert focused["text"] == "Skip to content" and focused["href"] == "#content", focused
    assert 0 <= focused["left"] and focused["right"] <= focused["width"] and focused["top"] >= 0
    assert focused["outline"] != "none", "the focused skip link shows no focus ring"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#content"


@pytest.mark.parametrize(("kind", "path", "status"),
                         [p for p in PAGES if p[0] in OWN_TEMPLATES],
                         ids=[p[0] for p in PAGES if p[0] in OWN_TEMPLATES])
def test_the_page_reflows_to_320_css_pixels(kind, path, status, page, demo_site,
                                            assessed_practice):
    page.set_viewport_size({"width": 320, "height": 640})
    path = path_of(path, assessed_practice)
    open_page(page, demo_site.base, path, status)
    wider = page.evaluate("""() => {
        const width = document.documentElement.clientWidth, found = [];
        for (const e of document.body.querySelectorAll("*")) {
          const r = e.getBoundingClientRect();
          if (r.right > width + 1 && !e.closest(".results, pre")) {
            found.push(`${e.tagName.toLowerCase()}${e.className ? "." + e.className : ""}`
                       + ` to ${Math.round(r.right)}px`);
          }
        }
        return {scroll: document.documentElement.scrollWidth, width, found};
    }""")
    assert wider["scroll"] <= wider["width"], (
        f"{path} scrolls sideways at 320 CSS pixels ({wider['scroll']} px wide): "
        + ", ".join(wider["found"][:8]))
