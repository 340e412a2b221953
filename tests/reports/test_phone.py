"""The report on a phone (375 CSS px): nothing wider than the viewport, every table stacked or scrolling inside its
card, and chart text no smaller than 8 CSS px as drawn."""

from __future__ import annotations

import os
import shutil

import pytest
from matplotlib.text import Text

from reports import charts

PHONE = 375
MIN_TEXT_PX = 8.0  # CSS px: about the smallest text a phone shows legibly (the report once had 5 px chart text)

# Elements outside the viewport, each with its box; an element inside a container that scrolls or clips
# sideways is judged by that container (a spillover matrix scrolls inside its card).
OUTSIDE = """
const w = window.innerWidth, out = [];
for (const e of document.querySelectorAll('body *')) {
  let clipped = false;
  for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) { clipped = true; break; }
  }
  const r = e.getBoundingClientRect();
  if (clipped || (r.width === 0 && r.height === 0)) continue;
  if (r.left < -0.5 || r.right > w + 0.5) out.push([e.tagName, e.id || e.className, r.left, r.right]);
}
return out;
"""


@pytest.fixture(scope="module")
def exported(report_exported):
    ctx, result, _ = report_exported  # exported once per session, in every format (tests/reports/conftest.py)
    return ctx, result


def smallest_text_pt(fig) -> float:
    """The smallest font size (points) of any visible text drawn in a figure."""
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes)


@pytest.fixture
def phone(tmp_path):
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        reason = "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
        if os.environ.get("MONITOR_REQUIRE_BROWSER"):  # CI installs them: a skip there would hide a failure
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_argument("--hide-scrollbars")
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": PHONE, "height": 812}})
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    yield browser
    browser.quit()


@pytest.mark.browser
def test_at_375_px_nothing_is_wider_than_the_viewport_and_chart_text_is_legible(exported, phone):
    from selenium.webdriver.support.ui import WebDriverWait

    ctx, result = exported
    phone.get(result.report.as_uri())
    WebDriverWait(phone, 60).until(
        lambda b: (
            b.execute_script("return document.readyState") == "complete"
            and b.execute_script("return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        )
    )
    assert phone.execute_script("return window.innerWidth") == PHONE
    assert phone.execute_script("return document.documentElement.scrollWidth") <= PHONE
    assert phone.execute_script(OUTSIDE) == []
    # Tables of words stack into labelled lines: none of them needs to scroll.
    for table in ("overnight", "freshness", "changes"):
        width = phone.execute_script(f"const t = document.querySelector('#{table} table'); return t && t.scrollWidth")
        assert width is None or width <= PHONE, table
    shown = phone.execute_script(
        "return Object.fromEntries(Array.from(document.querySelectorAll('figure[id^=chart-] img'))"
        ".map(i => [i.closest('figure').id.slice(6), i.getBoundingClientRect().width]))"
    )
    assert set(shown) == set(result.pngs)
    for name, width in shown.items():
        assert width >= PHONE * 0.9, name  # the chart fills the width
        fig = charts.render(name, ctx)
        px = smallest_text_pt(fig) / 72 * width / fig.get_figwidth()  # CSS px per inch of the figure
        assert px >= MIN_TEXT_PX, f"{name}: smallest text {px:.1f} CSS px"
