"""The zh report in headless Chromium (selenium + Debian's chromium-driver): Chinese glyphs drawn
(no boxes), the text found through the DOM, the customer lists sorted by a click on a header and
filtered by the text box, the controls hidden in print. Skipped, with the reason, without
chromium, chromedriver or selenium. CI's sanitizer run leaves this file out (.ci/run)."""

import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from crmkit._report_input import simulate_demo
from crmkit._report_text import MESSAGES
from crmkit.report import build_report

CHROMEDRIVER = "/usr/bin/chromedriver"
NOTDEF = "\U0010fffd"  # private-use code points no font has: drawn as the missing-glyph box
OTHER_NOTDEF = "\U0010fffc"


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def zh_report(tmp_path_factory):
    log, survey = simulate_demo(2500, 7)
    out = tmp_path_factory.mktemp("zh")
    report = build_report(log, str(out), survey=survey, seed=7, progress=None, lang="zh")
    return report


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian package 'chromium')")
    if not os.access(CHROMEDRIVER, os.X_OK):
        pytest.skip(f"{CHROMEDRIVER} is missing (Debian package 'chromium-driver')")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium is missing (Debian package python3-selenium)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1280,1600",
                     f"--user-data-dir={tmp_path_factory.mktemp('profile')}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture()
def page(browser, zh_report):
    browser.get("file://" + zh_report.html_path)
    return browser


def _png_pixels(png):
    import io

    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]


def test_the_zh_page_is_read_through_the_dom(page, zh_report):
    from selenium.webdriver.common.by import By

    assert page.execute_script("return document.documentElement.lang") == "zh-CN"
    headings = [element.text for element in page.find_elements(By.CSS_SELECTOR, "h2")]
    for key in ("headline.heading", "rfm.heading", "value.heading", "slipping.heading",
                "lifecycle.heading", "satisfaction.heading", "models.heading"):
        assert MESSAGES[key]["zh"] in headings, key
    cards = {card.find_element(By.CLASS_NAME, "label").text:
             card.find_element(By.CLASS_NAME, "value").text
             for card in page.find_elements(By.CSS_SELECTOR, ".card")}
    assert cards["客户数"] == f"{len(zh_report.tables['customers']):,}"
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日至\d{4}年\d{1,2}月\d{1,2}日", cards["时间范围"])


def test_a_screenshot_shows_chinese_glyphs_not_boxes(page, tmp_path):
    from selenium.webdriver.common.by import By

    shot = tmp_path / "report-zh.png"
    page.save_screenshot(str(shot))
    pixels = _png_pixels(shot.read_bytes())
    assert pixels.std() > 0.05 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    # Characters of a heading, two other characters, and two missing-glyph boxes, each in a span
    # styled like the headings: boxes all look alike, real glyphs do not.
    heading = page.find_element(By.CSS_SELECTOR, "#slipping h2").text
    samples = [heading[:2], "价值", NOTDEF * 2, OTHER_NOTDEF * 2]
    page.execute_script(
        "var box = document.createElement('h2'); box.id = 'glyphs';"
        "arguments[0].forEach(function (s) { var span = document.createElement('span');"
        "  span.textContent = s; span.style.cssText = 'display:inline-block;padding:4px;"
        "  background:white;color:black;font-size:40px'; box.appendChild(span); });"
        "document.querySelector('main').prepend(box); window.scrollTo(0, 0);", samples)
    spans = page.find_elements(By.CSS_SELECTOR, "#glyphs span")
    images = [_png_pixels(span.screenshot_as_png) for span in spans]
    (tmp_path / "glyphs.png").write_bytes(spans[0].screenshot_as_png)
    for image in images:
        assert (image.mean(axis=2) < 0.5).sum() > 50  # ink: the text was drawn
    heading_glyphs, other_glyphs, boxes, other_boxes = images
    assert np.array_equal(boxes, other_boxes)  # what two characters without a font look like
    assert heading_glyphs.shape == boxes.shape  # two full-width characters each
    assert np.abs(heading_glyphs - boxes).sum() > 100
    assert np.abs(other_glyphs - boxes).sum() > 100
    assert np.abs(heading_glyphs - other_glyphs).sum() > 100


def _column(table, position):
    return [row.find_elements("css selector", "td")[position].text
            for row in table.find_elements("css selector", "tbody tr") if row.is_displayed()]


def _header(table, label):
    headers = table.find_elements("css selector", "thead th")
    labels = [header.text.rstrip(" ▲▼") for header in headers]
    return headers[labels.index(label)], labels.index(label)


def test_a_click_on_a_header_sorts_the_rows(page, zh_report):
    table = page.find_element("css selector", "#slipping .customer-list table")
    header, position = _header(table, "存活概率")
    header.click()
    values = [float(value) for value in _column(table, position)]
    assert values == sorted(values) and len(values) > 10
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert [float(value) for value in _column(table, position)] == sorted(values, reverse=True)
    # Dates written the Chinese way sort as dates: compare with pandas on the same rows.
    header, position = _header(table, "最近购买日期")
    header.click()
    shown = _column(table, position)
    as_dates = pd.to_datetime([re.sub(r"(\d+)年(\d+)月(\d+)日", r"\1-\2-\3", day)
                               for day in shown])
    assert as_dates.is_monotonic_increasing and as_dates.nunique() > 1
    # Customer ids sort as numbers, the first column.
    header, position = _header(table, "客户编号")
    header.click()
    ids = [int(value.replace(",", "")) for value in _column(table, 0)]
    assert ids == sorted(ids)
    warning = zh_report.tables["early_warning"]
    assert set(ids) == set(warning.index[:len(ids)])


def test_the_text_box_keeps_only_matching_rows(page):
    table_box = page.find_element("css selector", "#value .customer-list")
    table = table_box.find_element("css selector", "table")
    rows = table.find_elements("css selector", "tbody tr")
    segment_position = _header(table, "客群")[1]
    segments = [row.find_elements("css selector", "td")[segment_position].text for row in rows]
    wanted = segments[-1]
    field = table_box.find_element("css selector", "input")
    field.send_keys(wanted)
    shown = [row for row in rows if row.is_displayed()]
    expected = [row for row in rows if wanted in row.text]
    assert 0 < len(shown) == len(expected) < len(rows)
    count = table_box.find_element("css selector", ".count").text
    assert count == f"显示 {len(shown)} / {len(rows)} 行"
    field.clear()
    field.send_keys(" ")  # blank: every row again
    assert all(row.is_displayed() for row in rows)


def test_the_controls_are_hidden_in_print(page):
    control = page.find_element("css selector", ".controls")
    assert control.is_displayed()
    page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert page.execute_script("return getComputedStyle(arguments[0]).display",
                                   control) == "none"
        scroll = page.find_element("css selector", ".scroll")
        assert page.execute_script("return getComputedStyle(arguments[0]).overflow",
                                   scroll) == "visible"
    finally:
        page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
