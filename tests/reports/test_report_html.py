"""The exports folder and report.html: complete, self-contained, escaped, reproducible, and clean in a browser."""

from __future__ import annotations

import json
import os
import re
import shutil

import pandas as pd
import pytest

from reports import charts
from reports.export import export_all
from tests.reports.fixture import AS_OF, XSS


@pytest.fixture(scope="module")
def exported(report_exported):
    return report_exported  # exported once per session (tests/reports/conftest.py)


@pytest.mark.slow
def test_exports_hold_every_chart_in_three_formats_tables_run_json_and_the_report(exported):
    ctx, result, root = exported
    out = root / AS_OF.isoformat()
    assert result.directory == out and not result.skipped
    for name in charts.names():
        for fmt in ("png", "svg", "pdf"):
            path = out / "charts" / f"{name}.{fmt}"
            assert path.stat().st_size > 1000, path
    assert (out / "charts" / "krw_usd.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "charts" / "krw_usd.pdf").read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in (out / "charts" / "krw_usd.svg").read_bytes()[:500]
    latest = (out / "latest_values.csv").read_text().splitlines()
    assert latest[0] == "series,label,date,value,units,source,key" and len(latest) == 1 + len(ctx.series)
    table = (out / "spillover_market_daily_table.csv").read_text().splitlines()
    assert table[0].endswith(",FROM") and table[-1].startswith("NET,")
    assert (out / "spillover_market_daily_rolling.csv").read_text().startswith("date,TCI,cTCI")
    rolling = pd.read_csv(out / "spillover_market_daily_rolling.csv", index_col=0)
    assert {"TCI_lo", "TCI_hi", "NET_kospi_lo"} <= set(rolling.columns)
    pairs = pd.read_csv(out / "spillover_market_daily_pairwise.csv")
    assert pairs.columns.tolist() == ["i", "j", "PCI", "INFLUENCE", "NPDC"] and len(pairs) == 3
    assert pairs["PCI"].iloc[0] == pytest.approx(ctx.models["market_daily"].current_table.pci[0, 1], rel=1e-6)
    frequency = pd.read_csv(out / "spillover_market_daily_frequency.csv", index_col=[0, 1, 2])
    absolute = frequency.xs("absolute", level="form")
    total = sum(
        absolute.xs(b, level="band").loc[["krw_usd", "kospi", "foreign_net_kospi"], "FROM"]
        for b in ("1-5", "5-20", "20+")
    )
    assert total.to_numpy() == pytest.approx(ctx.models["market_daily"].current_table.from_, rel=1e-6)
    bands = pd.read_csv(out / "spillover_market_daily_bands.csv", index_col=0)
    assert bands.columns.tolist() == ["estimate", "lo", "hi"] and bands.index[0] == "TCI"
    summary = pd.read_csv(out / "model_groups_summary.csv")
    assert set(summary["model"]) == {"asia.KR", "asia.TW", "asia.JP"} and "zscore" in summary
    assert json.loads((out / "run.json").read_text())["status"] == "ok"


def test_report_is_self_contained_and_escapes_every_text(exported):
    _, result, _ = exported
    html = result.report.read_text()
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()  # the report runs no script at all
    assert not re.search(r"""(src|href)=["'](https?:|//|file:)""", html)  # nothing loaded from elsewhere
    assert html.count("data:image/png;base64,") == len(charts.names())
    assert 'id="headline"' in html and 'id="freshness"' in html and 'id="changes"' in html


@pytest.mark.slow
def test_re_exporting_the_same_date_rewrites_identical_files(exported, tmp_path):
    ctx, first, _ = exported
    again = export_all(ctx, tmp_path, run={"status": "ok", "as_of": AS_OF.isoformat(), "fired": []})
    for name, files in first.charts.items():
        for a, b in zip(files, again.charts[name], strict=True):
            assert a.read_bytes() == b.read_bytes(), a.name
    assert first.report.read_bytes() == again.report.read_bytes()


@pytest.mark.browser
def test_report_opens_cleanly_in_headless_chromium(exported, tmp_path):
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        reason = "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
        if os.environ.get("MONITOR_REQUIRE_BROWSER"):  # CI installs them: a skip there would hide a failure
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    _, result, _ = exported
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,2000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        browser.get(result.report.as_uri())
        # A report of several MB of inline images may still be parsing on a loaded machine: wait for the load
        # event to have fired (bounded), then look at every image.
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(browser, 60).until(
            lambda b: (
                b.execute_script("return document.readyState") == "complete"
                and b.execute_script("return document.images.length") == len(charts.names())
            )
        )
        widths = browser.execute_script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);")
        assert len(widths) == len(charts.names())
        assert all(done and width > 0 for done, width in widths), widths
        assert browser.find_element("id", "headline").is_displayed()
        shot = tmp_path / "report.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        # Readable on a phone: no horizontal scrolling of the page itself at a narrow width.
        browser.set_window_size(390, 844)
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1;")
    finally:
        browser.quit()


def test_latest_values_csv_holds_each_value_to_its_series_precision_in_the_units_people_read(exported):
    ctx, _, root = exported
    latest = pd.read_csv(root / AS_OF.isoformat() / "latest_values.csv", index_col="series")
    kospi = ctx.series["kospi"].dropna()
    assert latest.loc["kospi", "value"] == round(float(kospi.iloc[-1]), 2)  # not the float's 15 digits
    exports = ctx.series["exports_total"].dropna()  # stored in thousand USD
    assert latest.loc["exports_total", "units"] == "USD billion"
    assert latest.loc["exports_total", "value"] == round(float(exports.iloc[-1]) / 1e6, 2)
    assert latest.loc["foreign_net_kospi", "units"] == "trillion KRW"
    for value in latest["value"]:
        assert len(repr(float(value)).split(".")[1]) <= 2, value
