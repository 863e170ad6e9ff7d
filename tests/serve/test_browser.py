"""The search page in a real headless Chromium (Debian's ``chromium`` and ``chromium-driver``).

Skipped, with the reason, where Chromium, its driver or Selenium is missing. Run only this test with
``pytest -m browser tests/serve``; set NEURALCODES_SCREENSHOT=path.png to keep a screenshot.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from neuralcodes.index.api import Index

from ..browser import MARKS, chromium
from .live import live_server

pytestmark = MARKS
pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'neuralcodes[serve]'")


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium(tmp_path / "chromium-profile", monkeypatch) as driver:
        yield driver


def wait_for(driver: Any, condition: Any, timeout_s: float = 15.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout_s, poll_frequency=0.05).until(condition)


def search_count(driver: Any) -> int:
    return int(driver.find_element("tag name", "body").get_attribute("data-search-count"))


def test_upload_then_click_a_result(browser: Any, colour_index: Index, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from neuralcodes.serve import create_app

    query = tmp_path / "query.png"
    Image.new("RGB", (120, 80), (230, 10, 10)).save(query)
    with live_server(create_app(colour_index)) as url:
        browser.get(url + "/")
        wait_for(browser, lambda d: "6 images" in d.find_element(By.ID, "index-info").text)
        browser.find_element(By.ID, "file-input").send_keys(str(query))
        wait_for(browser, lambda d: search_count(d) == 1)
        cards = browser.find_elements(By.CSS_SELECTOR, "#results .result")
        assert [c.get_attribute("data-id") for c in cards] == ["0", "1", "5", "7", "2", "4"]
        distances = [c.find_element(By.CLASS_NAME, "distance").text for c in cards]
        assert distances[0] == f"{(25**2 + 10**2 + 10**2) ** 0.5 / 255:.4f}"  # 0.1126
        assert [float(d) for d in distances] == sorted(float(d) for d in distances)
        wait_for(browser, lambda d: all(_loaded(d, img) for img in
                                        d.find_elements(By.CSS_SELECTOR, "#results img.thumb")))
        assert browser.find_element(By.ID, "status").get_attribute("data-state") == "done"
        assert browser.find_element(By.ID, "query-caption").text == "query.png"

        cards[3].find_element(By.TAG_NAME, "button").click()  # yellow: search from it
        wait_for(browser, lambda d: search_count(d) == 2)
        cards = browser.find_elements(By.CSS_SELECTOR, "#results .result")
        assert [c.get_attribute("data-id") for c in cards] == ["5", "0", "2", "1", "4"]  # not 7
        grey = 128 / 255
        assert cards[0].find_element(By.CLASS_NAME, "distance").text == \
            f"{(2 * (1 - grey) ** 2 + grey**2) ** 0.5:.4f}"  # 0.8649
        assert browser.current_url.endswith("#id=7")
        assert browser.find_element(By.ID, "query-caption").text == "yellow.gif"
        _screenshot(browser, tmp_path)

        browser.execute_script(DROP_GREEN_PNG)  # a file dropped on the drop zone
        wait_for(browser, lambda d: search_count(d) == 3)
        first = browser.find_element(By.CSS_SELECTOR, "#results .result")
        assert first.get_attribute("data-id") == "2"  # green.png
        assert browser.find_element(By.ID, "query-caption").text == "dropped.png"
        assert not browser.current_url.endswith("#id=7")


def test_changing_the_number_of_results_searches_again(browser: Any, colour_index: Index,
                                                      tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from neuralcodes.serve import create_app

    query = tmp_path / "query.png"
    Image.new("RGB", (60, 40), (230, 10, 10)).save(query)
    with live_server(create_app(colour_index)) as url:
        browser.get(url + "/")
        browser.find_element(By.ID, "file-input").send_keys(str(query))
        wait_for(browser, lambda d: search_count(d) == 1)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results .result")) == 6
        Select(browser.find_element(By.ID, "k-select")).select_by_visible_text("5")
        wait_for(browser, lambda d: search_count(d) == 2)  # the upload, searched again
        cards = browser.find_elements(By.CSS_SELECTOR, "#results .result")
        assert [c.get_attribute("data-id") for c in cards] == ["0", "1", "5", "7", "2"]
        assert browser.find_element(By.ID, "query-caption").text == "query.png"
        cards[1].find_element(By.TAG_NAME, "button").click()  # dark red: search by id
        wait_for(browser, lambda d: search_count(d) == 3)
        Select(browser.find_element(By.ID, "k-select")).select_by_visible_text("10")
        wait_for(browser, lambda d: search_count(d) == 4)  # the id, searched again
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results .result")) == 5
        assert browser.current_url.endswith("#id=1")


def test_refused_upload_shows_the_message(browser: Any, colour_index: Index,
                                          tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from neuralcodes.serve import create_app

    notes = tmp_path / "notes.png"
    notes.write_text("this is not a picture")
    with live_server(create_app(colour_index)) as url:
        browser.get(url + "/")
        browser.find_element(By.ID, "file-input").send_keys(str(notes))
        status = browser.find_element(By.ID, "status")
        wait_for(browser, lambda d: status.get_attribute("data-state") == "error")
        assert "not an image" in status.text and "(415)" in status.text
        assert browser.find_elements(By.CSS_SELECTOR, "#results .result") == []


# Draws a green PNG in the page and drops it on the drop zone as a file would be dropped.
DROP_GREEN_PNG = """
const canvas = document.createElement("canvas");
canvas.width = 30; canvas.height = 20;
const ctx = canvas.getContext("2d");
ctx.fillStyle = "rgb(0, 240, 0)"; ctx.fillRect(0, 0, 30, 20);
canvas.toBlob((blob) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([blob], "dropped.png", { type: "image/png" }));
  const zone = document.getElementById("drop-zone");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true,
                                             cancelable: true }));
  }
}, "image/png");
"""


def _loaded(driver: Any, img: Any) -> bool:
    return bool(driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", img))


def _screenshot(driver: Any, tmp_path: Path) -> None:
    shot = tmp_path / "search-page.png"
    assert driver.save_screenshot(str(shot))
    with Image.open(shot) as im:
        assert im.size[0] >= 1000
    keep = os.environ.get("NEURALCODES_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
