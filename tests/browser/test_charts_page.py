"""The chart and comparison pages in chromium on a live demo server: axe-core finds no
serious or critical WCAG 2.2 AA violation, the pages reflow to 320 CSS pixels, the charts
draw at a real size, and the pages work under their own Content-Security-Policy (no script
is needed, and no inline style is refused).
"""

from __future__ import annotations

import pytest
from test_accessibility import FAILING, describe, open_page, run_axe

PAGES = [
    ("charts", "/charts"),
    ("compare-index", "/compare"),
    ("compare-topic", "/compare?topic=violence-against-women-and-girls"),
    ("compare-intervention", "/compare?intervention=mental-health-courts"),
    ("force-trend", "/charts/force/avon-and-somerset"),
]


@pytest.mark.parametrize(("kind", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_or_critical_violation(kind, path, page, demo_site, axe_script, axe_notes):
    open_page(page, demo_site.base, path, 200)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    results = run_axe(page, axe_script)
    failing = [v for v in results["violations"] if v["impact"] in FAILING]
    for rule in results["violations"]:
        if rule["impact"] not in FAILING:
            axe_notes.append(f"{kind} {path}: {describe(rule)}")
    assert not failing, f"axe-core finds on {path}:\n" + "\n".join(map(describe, failing))


@pytest.mark.parametrize(("kind", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_the_page_reflows_to_320_css_pixels(kind, path, page, demo_site):
    page.set_viewport_size({"width": 320, "height": 640})
    open_page(page, demo_site.base, path, 200)
    sizes = page.evaluate("""() => ({scroll: document.documentElement.scrollWidth,
                                     width: document.documentElement.clientWidth})""")
    assert sizes["scroll"] <= sizes["width"], sizes


def test_charts_draw_at_a_readable_size_under_the_pages_own_csp(browser, demo_site):
    """Without bypass_csp: the stylesheet loads and nothing is refused."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = context.new_page()
        refused: list[str] = []
        tab.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
        response = tab.goto(demo_site.base + "/charts")
        assert response.status == 200
        assert "script-src" in response.headers.get("content-security-policy", "") or \
            "default-src" in response.headers.get("content-security-policy", "")
        boxes = tab.evaluate("""() => [...document.querySelectorAll('svg.chart')]
            .map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; })""")
        assert len(boxes) == 4 and all(w > 300 and h > 100 for w, h in boxes), boxes
        assert not refused, refused
    finally:
        context.close()
