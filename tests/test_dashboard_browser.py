"""The dashboard in a real browser: Debian's headless Chromium driven by Selenium.

Opens a signed link on seeded data, reads the tiles, waits for every chart's SVG, applies a
filter, checks the console stayed clean, and saves screenshots (phone, 1080p, 1080p dark) under
bench/out/. Skips only when Chromium is absent outside CI; under CI=true its absence fails.
"""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from models.types import utcnow
from tests.conftest import IN_CI, RunningBot
from tests.dashboard_support import dash_bot, seed  # noqa: F401 - fixture

__all__ = ["dash_bot"]
OUT = Path(__file__).resolve().parent.parent / "bench" / "out"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if not (CHROMIUM and DRIVER):
        if IN_CI:
            pytest.fail("chromium and chromedriver are needed (apt-get install -y chromium chromium-driver); CI=true makes this a failure")
        pytest.skip("chromium / chromedriver not installed (apt-get install -y chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1920,1080", "--no-proxy-server"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _wait(predicate, *, timeout: float = 20.0, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _tile(driver, name: str) -> str:  # type: ignore[no-untyped-def]
    return driver.execute_script(f"return document.querySelector('[data-tile=\"{name}\"] .value').textContent")


def _charts_drawn(driver) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return driver.execute_script(
        "const out = {}; for (const f of document.querySelectorAll('[data-chart]')) {"
        " const svg = f.querySelector('svg'); const box = svg ? svg.getBoundingClientRect() : null;"
        " out[f.dataset.chart] = svg && box.width > 50 && box.height > 30 ? svg.querySelectorAll('path').length : 0; } return out;")


def test_the_dashboard_in_a_real_browser(dash_bot: RunningBot, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import Select

    expected = seed(dash_bot.engine, team_id=dash_bot.fake.team_id, now=utcnow())
    text = dash_bot.slack.command(text="dashboard", user="U_T1").json()["text"]
    query = urlsplit(re.search(r"https://\S+/dashboard\?k=\S+", text).group(0)).query  # type: ignore[union-attr]
    browser.get(f"{dash_bot.server.url}/dashboard?{query}")
    _wait(lambda: browser.execute_script("return document.body.dataset.loaded") is not None, what="the data")
    assert [_tile(browser, f"open-{s}") for s in ("critical", "high", "medium", "low")] == [
        str(expected["open_critical"]), str(expected["open_high"]), str(expected["open_medium"]), str(expected["open_low"])]
    assert (_tile(browser, "new-today"), _tile(browser, "resolved-today"), _tile(browser, "waiting"), _tile(browser, "satisfaction")) == (
        str(expected["new_today"]), str(expected["resolved_today"]), str(expected["waiting"]), f"{expected['satisfaction']}%")
    _wait(lambda: all(_charts_drawn(browser).values()) and len(_charts_drawn(browser)) == 5, what=f"five charts drawn, got {_charts_drawn(browser)}")
    rows = browser.find_elements("css selector", "#tickets tbody tr")
    assert len(rows) == expected["total"]
    key_link = browser.find_element("css selector", "#tickets tbody tr td a")
    assert key_link.get_attribute("href").startswith("https://fake.slack.com/archives/C100/")

    OUT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(OUT / "dashboard-1080p.png"))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    time.sleep(0.2)
    browser.save_screenshot(str(OUT / "dashboard-1080p-dark.png"))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})

    Select(browser.find_element("name", "severity")).select_by_value("high")
    Select(browser.find_element("name", "status")).select_by_value("open")
    def keys() -> list[str]:  # read in one go: the table is redrawn when each filter's answer comes
        return sorted(browser.execute_script("return [...document.querySelectorAll('#tickets tbody tr td:first-child')].map(td => td.textContent)"))

    _wait(lambda: keys() == ["HC-10", "HC-3", "HC-4"], what="the filtered table")

    browser.set_window_size(390, 844)  # a phone
    time.sleep(0.3)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
    import base64

    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})  # the whole page
    (OUT / "dashboard-phone.png").write_bytes(base64.b64decode(shot["data"]))
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    assert (OUT / "dashboard-phone.png").stat().st_size > 10_000 and (OUT / "dashboard-1080p.png").stat().st_size > 10_000
