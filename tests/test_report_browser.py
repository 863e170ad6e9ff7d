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

from .browser import MARKS, chromium

pytestmark = MARKS
pytest.importorskip("selenium.webdriver", reason="selenium is not installed")


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium(tmp_path / "chromium-profile", monkeypatch) as driver:
        yield driver


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
