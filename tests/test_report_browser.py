"""The report page of a run in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``): every figure loads and fits the report's column, nothing overflows the page,
code spans are rendered. Skipped, with the reason, where Chromium, its driver or Selenium is
missing; run with ``pytest -m browser tests/test_report_browser.py``; set
NEURALCODES_SCREENSHOT=path.png to keep a screenshot of the whole page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
    pytest.mark.skipif(not CHROMEDRIVER.exists(),
                       reason=f"{CHROMEDRIVER} is missing (apt-get install chromium-driver)"),
]
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never download anything
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_report_page_shows_every_figure_within_the_column(browser: Any,
                                                               tiny_run: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get((tiny_run / "report.html").resolve().as_uri())
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 3  # history, PCA, retrieval examples
    for img in images:
        assert browser.execute_script("return arguments[0].complete && "
                                      "arguments[0].naturalWidth > 0", img)
        assert 500 < img.size["width"] <= 1000
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "`" not in body and "Configuration and environment" in body
    assert "pixels" in [c.text for c in browser.find_elements(By.TAG_NAME, "code")]
    if os.environ.get("NEURALCODES_SCREENSHOT"):
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1000, height)
        browser.save_screenshot(os.environ["NEURALCODES_SCREENSHOT"])
