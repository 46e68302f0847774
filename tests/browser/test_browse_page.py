"""/practices in a real browser on the demo server: ticking facets changes the counts and the
list, the CSV download parses, and axe-core finds no serious or critical WCAG 2.2 AA
violation. The page has no script: everything here is what a form and links do."""

from __future__ import annotations

import csv
import json
import re
import urllib.parse

import pytest

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING = {"serious", "critical"}


def total(page) -> int:
    heading = page.locator("#results-heading").inner_text()
    return int(re.match(r"(\d+) practice", heading).group(1))


def count_of(page, param: str, value: str) -> int:
    box = page.locator(f'input[name="{param}"][value="{value}"]')
    label = page.locator(f'label[for="{box.get_attribute("id")}"]').inner_text()
    return int(re.search(r"\((\d+)", label).group(1))


def test_ticking_facets_changes_the_counts_and_the_list(page, demo_site):
    page.goto(demo_site.base + "/practices")
    everything = total(page)
    promising = count_of(page, "rating", "promising")
    tilley_before = count_of(page, "recognition", "tilley-award")
    assert 0 < promising < everything
    page.get_by_label(re.compile(r"^Promising \(")).check()
    page.get_by_role("button", name="Show practices").first.click()
    page.wait_for_url(re.compile(r"rating=promising"))
    assert total(page) == promising
    assert page.locator("ol.practices > li").count() == min(promising, 20)
    # Its own facet keeps its siblings' counts; the others count within the selection.
    assert count_of(page, "rating", "promising") == promising
    assert count_of(page, "recognition", "tilley-award") <= tilley_before
    assert page.locator('input[name="rating"][value="promising"]').is_checked()
    region = page.locator('input[name="region"]').first
    region_count = count_of(page, "region", region.get_attribute("value"))
    region.check()
    page.get_by_role("button", name="Show practices").first.click()
    page.wait_for_url(re.compile(r"region="))
    assert total(page) == region_count
    page.get_by_role("link", name="Clear all filters").click()
    page.wait_for_load_state()
    assert total(page) == everything


def test_the_csv_download_parses(page, demo_site, tmp_path):
    page.goto(demo_site.base + "/practices?rating=promising")
    shown = total(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    path = tmp_path / "practices.csv"
    info.value.save_as(path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == shown
    assert all(r["rating"] == "Promising" and r["practice"].startswith("https://")
               for r in rows)


@pytest.mark.parametrize("path", ["/practices", "/practices?rating=promising&topic=violence"
                                  "&sort=date&page=1"])
def test_no_serious_or_critical_wcag_22_aa_violation(page, demo_site, axe_script, path):
    response = page.goto(demo_site.base + path)
    assert response.status == 200
    page.add_script_tag(path=axe_script)
    results = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}})""", WCAG_TAGS)
    failing = [f"{v['id']} ({v['impact']}): {v['help']} at "
               f"{[n['target'] for n in v['nodes'][:3]]}"
               for v in results["violations"] if v["impact"] in FAILING]
    assert not failing, "\n".join(failing)


def test_this_view_as_sparql_gives_the_same_list_through_the_endpoint(page, demo_site):
    """The page's own query, opened in the editor from the page, gives the practices the
    page lists, in the same order, when the endpoint runs it."""
    page.goto(demo_site.base + "/practices?rating=promising&sort=title&size=100")
    listed = [a.get_attribute("href") for a in page.locator("ol.practices > li > a").all()]
    assert len(listed) == total(page) > 0
    page.get_by_role("link", name="open it in the query editor").click()
    page.wait_for_selector("#workbench .yasqe .CodeMirror")
    query = page.evaluate("window.practicebankWorkbench.yasqe.getValue()")
    status, _, body = demo_site.query(query)
    assert status == 200, body[:300]
    rows = json.loads(body)["results"]["bindings"]
    variable = json.loads(body)["head"]["vars"][0]
    answered = [row[variable]["value"] for row in rows]
    base = "https://w3id.org/practicebank/"
    assert [demo_site.base + "/" + iri[len(base):] for iri in answered] == [
        urllib.parse.urljoin(demo_site.base + "/", href) for href in listed]
