"""/search in a real browser on the demo server: the form works from the keyboard, results
link to their pages, and axe-core finds no serious or critical WCAG 2.2 AA violation on
the form or the results. The page has no script: a form and links."""

from __future__ import annotations

import json
import re

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING = {"serious", "critical"}


def serious_violations(page, axe_script: str) -> list[str]:
    page.add_script_tag(path=axe_script)
    results = page.evaluate("""tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                                        resultTypes: ["violations"]})""",
                            WCAG_TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results["violations"]
            if v["impact"] in FAILING]


def test_searching_from_the_keyboard_and_following_a_result(page, demo_site, axe_script):
    page.goto(demo_site.base + "/search")
    assert serious_violations(page, axe_script) == []
    page.get_by_label("Words to find").fill("burglaries")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=burglaries"))
    heading = page.get_by_role("heading", level=2).inner_text()
    found = int(re.match(r"(\d+) results? for", heading).group(1))
    links = page.locator("ol.search-results > li > a")
    assert found >= 1 and links.count() == min(found, 20)
    assert page.locator("ol.search-results mark").count() >= 1
    assert serious_violations(page, axe_script) == []
    title = links.first.inner_text()
    links.first.click()
    page.wait_for_load_state()
    assert title in page.locator("h1").inner_text()


def test_the_results_reflow_at_320_pixels(page, demo_site):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(demo_site.base + "/search?q=police")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_words_from_a_summary_find_its_practice(page, demo_site):
    """Two words of a practice's summary, typed into the search form, list that practice."""
    status, _, body = demo_site.query(
        "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
        "SELECT ?p ?title ?summary WHERE { ?p a <https://w3id.org/practicebank/def/Practice> ;"
        " dcterms:title ?title ; dcterms:abstract ?summary } ORDER BY ?p LIMIT 1")
    assert status == 200, body[:300]
    row = json.loads(body)["results"]["bindings"][0]
    title, summary = row["title"]["value"], row["summary"]["value"]
    words = sorted(set(re.findall(r"[A-Za-z]{6,}", summary)), key=len, reverse=True)[:2]
    assert words, summary
    page.goto(demo_site.base + "/search")
    page.get_by_label("Words to find").fill(" ".join(words))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q="))
    found = page.locator("ol.search-results > li > a").all_inner_texts()
    assert title in found, (words, found)
