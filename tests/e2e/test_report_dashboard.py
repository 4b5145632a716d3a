"""Issue 15, must-show: the dashboard's monthly report page in headless Chromium, with zh-CN and
with en-US: every visible string is of the page's language (the page walk's own checker), the
month picker and the print button work, and printed on A4 the dashboard around the report is
hidden and no chart is wider than the page.

The seeded API store (tests/plugins/api.py) has daily rollups only; this test adds two local months
of hourly windows for acme-museum and its museum peer through the store's rollup writer, so the
report page shows every section.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect, sync_playwright

from collector.store.sqlite import seed
from tests.e2e.test_api_dashboard import CHROMIUM, VISIBLE_TEXT, Checker, api_data, realistic_alerts_and_scores
from tests.plugins.api import VIEWER

HOUR = 3_600_000
ZONE = ZoneInfo("Asia/Shanghai")


def add_hours(api_seed) -> None:
    """October and November 2026 (to the seed's now), 09:00-17:00 Beijing, for acme-museum and its peer."""
    start = int(dt.datetime(2026, 10, 1, tzinfo=ZONE).timestamp() * 1000)
    windows = []
    t = start
    while t < api_seed.now_ms - HOUR:
        hour = dt.datetime.fromtimestamp(t / 1000, ZONE).hour
        if 9 <= hour < 17:
            for i, rid in enumerate(("r-001", "r-002", "r-003", "p-001")):
                n = 40 + (i * 7 + hour) % 9
                windows.append((rid, t, t + HOUR, {"usage.foot_traffic": 5 * n, "usage.solicitations": 2 * n,
                                                   "usage.wakeups": n + 4, "usage.interactions": n,
                                                   "skill.guide": n // 3, "asr.requests": n,
                                                   "asr.unrecognized": n // 2 if rid == "r-002" else 1}))
        t += HOUR
    conn = api_seed.connect()
    seed.write_windows(conn, windows)
    conn.close()


@pytest.mark.parametrize("locale,lang", [("zh-CN", "zh-CN"), ("en-US", "en")])
def test_report_dashboard_page_is_in_the_page_language_and_prints_alone(live_api, api_seed, output_dir, locale, lang):
    realistic_alerts_and_scores(api_seed)
    add_hours(api_seed)
    checker = Checker(lang, api_data(live_api.url))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: m.type in ("warning", "error") and errors.append(m.text))
        page.goto(live_api.url + "/#/customer/acme-museum")
        page.fill("#token", VIEWER)
        page.click("#login-form button")
        page.click("#customer-report-link")
        # no month asked: the last complete one (November is still running on the seed's clock)
        article = page.locator("#report-body article.report")
        expect(article).to_have_attribute("data-month", "2026-10")
        expect(article).to_have_attribute("data-has-data", "true")
        expect(article.locator("#report-customer")).to_have_text("上海博物馆")
        expect(article.locator("svg.rchart")).to_have_count(4)
        texts = page.evaluate(VISIBLE_TEXT)
        assert len(texts) > 80
        assert checker.untranslated(texts) == []
        page.screenshot(path=output_dir / f"report-page-{lang}.png", full_page=True)

        page.select_option("#report-month-picker", "2026-11")  # the month so far
        expect(article).to_have_attribute("data-month", "2026-11")
        expect(article.locator(".note")).to_be_visible()
        assert checker.untranslated(page.evaluate(VISIBLE_TEXT)) == []

        page.goto(live_api.url + "/#/report/kiwi-ktv/2026-10")  # daily rollups only: nothing in its hours
        expect(page.locator("#report-no-data")).to_be_visible()
        assert checker.untranslated(page.evaluate(VISIBLE_TEXT)) == []

        page.goto(live_api.url + "/#/report/acme-museum/2026-10")
        expect(article.locator("svg.rchart").first).to_be_visible()
        page.set_viewport_size({"width": 718, "height": 1015})  # A4's printable width at 96 dpi
        page.emulate_media(media="print")
        expect(page.locator("body > header")).to_be_hidden()
        expect(page.locator(".report-toolbar")).to_be_hidden()
        fits = page.evaluate("""() => {
          const box = document.querySelector('#report-body article').getBoundingClientRect();
          return [...document.querySelectorAll('#report-body figure')].map((f) => {
            const r = f.getBoundingClientRect();
            return [r.left >= box.left - 1 && r.right <= box.right + 1, getComputedStyle(f).breakInside];
          });
        }""")
        assert fits and all(ok and brk == "avoid" for ok, brk in fits), fits
        page.pdf(path=str(output_dir / f"report-page-{lang}.pdf"), format="A4", print_background=True)
        browser.close()
    assert errors == []
