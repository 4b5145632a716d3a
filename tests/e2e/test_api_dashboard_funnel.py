"""Issue 14 on the dashboard, in headless Chromium with zh-CN and en-US: the customer page shows the
funnel (the API's figures, in the page's number format) and the lifecycle stage with its reason in
the page's language; the overview shows the lifecycle column and filter and the below-average panel.
Every visible string is checked against the page language's catalogue (the page walk's Checker).
The store is real: windows written into the rollups, the real health cycle, the real app on a port.
Screenshots go to test-output/ (docs/img/customer-funnel-*.png were taken from there)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect, sync_playwright

from collector.app import create_app
from collector.store import open_store
from collector.store.events import event_from
from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer
from collector.store.sqlite.registry import SqliteRegistryStore
from tests.e2e.test_api_dashboard import CHROMIUM, VISIBLE_TEXT, Checker, api_data
from tests.plugins.api import LiveServer, VIEWER, api_config
from tests.plugins.health import DAY, HOUR, T, daily, evaluate, make_settings

NOW = T + 4 * HOUR  # 2026-01-01 12:00 Beijing
#: customer -> (name, contract end, robots, daily foot traffic, interactions per robot)
BOOK = {
    "acme": ("上海博物馆", "2026-02-10", 2, 400, 100),    # renewal: its contract ends in 40 days
    "nanjing": ("南京博物院", "2027-06-30", 1, 300, 90),
    "suzhou": ("苏州博物馆", "2027-06-30", 1, 300, 60),
    "xian": ("西安碑林", "2027-06-30", 1, 300, 12),       # converts 4 %: low_conversion
    "hangzhou": ("浙江省博物馆", "2027-06-30", 1, 300, 75),
}


@pytest.fixture
def server(tmp_path):
    db = tmp_path / "store.db"
    conn = connect_writer(db)
    for cid, (name, end, robots, foot, inter) in BOOK.items():
        seed.add_customer(conn, cid, "museum", name=name, contract_start="2025-01-01", contract_end=end,
                          tier="high", csm="alice", timezone="Asia/Shanghai", hours="09:00-21:00", now_ms=T)
        for i in range(robots):
            rid = f"{cid}-r{i}"
            seed.add_robot(conn, rid, cid, scene="museum", first_seen_ms=T - 60 * DAY, now_ms=NOW)
            daily(conn, rid, T - 60 * DAY, 60, lambda d, f=foot, n=inter: {
                "usage.foot_traffic": f + (d // DAY) % 7, "usage.solicitations": f // 2, "usage.wakeups": f // 3,
                "usage.interactions": n})
            # reporting this morning too (today is not in the funnel's 30 complete days)
            seed.write_windows(conn, [(rid, NOW - 20 * 60_000, NOW - 60_000, {"usage.foot_traffic": 40,
                                                                            "usage.interactions": 9})])
    registry = SqliteRegistryStore(str(db))
    registry.add_events([event_from({"customer": "nanjing", "date": "2025-12-15", "kind": "expansion",
                                     "amount": "10000", "robots": "1"}, registry.customer_ids())], "test", "import", NOW)
    evaluate(conn, NOW, make_settings())
    conn.close()
    live = LiveServer(create_app(api_config(db), open_store(db), clock=lambda: NOW)).start()
    yield live
    live.stop()


def get(base: str, path: str) -> dict:
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {VIEWER}"})
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)


EXPECT = {  # what the page must say, per language
    "zh-CN": {"stage": "续约", "reason": "合同 40 天后（2026/02/10）到期，尚未登记续约", "title": "转化漏斗：从客流到交互",
              "conversion": "转化率（交互 / 客流）：{}", "foot": "客流", "filter": "续约",
              "below": "低于同场景平均分的客户"},
    "en": {"stage": "renewal", "reason": "contract ends in 40 days (02/10/2026), no renewal recorded yet",
           "title": "Funnel: foot traffic to interactions", "conversion": "Conversion (interactions / foot traffic): {}",
           "foot": "foot traffic", "filter": "renewal", "below": "Below their scene's average score"},
}


@pytest.mark.parametrize("locale,lang", [("zh-CN", "zh-CN"), ("en-US", "en")])
def test_api_dashboard_customer_page_shows_funnel_and_lifecycle(server, output_dir, locale, lang):
    funnel = get(server.url, "/api/v1/customers/acme")["funnel"]
    assert funnel["volumes"]["foot_traffic"] > 0
    checker = Checker(lang, api_data(server.url))
    want = EXPECT[lang]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: m.type in ("warning", "error") and errors.append(m.text))
        page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
        page.goto(server.url + "/")
        page.fill("#token", VIEWER)
        page.click("#login-form button")

        # overview: the lifecycle column and filter, the below-average panel
        rows = page.locator("#customers tbody tr")
        expect(rows).to_have_count(len(BOOK))
        expect(page.locator("#below-average h2")).to_have_text(want["below"])
        assert checker.untranslated(page.evaluate(VISIBLE_TEXT)) == []
        page.select_option("#filter-lifecycle", "renewal")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-customer", "acme")
        expect(rows.first.locator("[data-lifecycle]")).to_have_text(want["filter"])
        page.screenshot(path=output_dir / f"overview-lifecycle-{lang}.png", full_page=True)

        # the customer page: funnel figures as the API gives them, the stage and its reason
        page.goto(server.url + "/#/customer/acme")
        expect(page.locator("#funnel tbody tr")).to_have_count(4)
        expect(page.locator("#customer-lifecycle .big")).to_have_text(want["stage"])
        expect(page.locator("#lifecycle-reason")).to_have_text(want["reason"])
        shown = f"{funnel['conversion']:.1f}".rstrip("0").rstrip(".") + "%"  # Intl: at most one decimal
        expect(page.locator("#funnel-conversion strong")).to_have_text(want["conversion"].format(shown))
        expect(page.locator("#funnel tr[data-stage=foot_traffic] td").first).to_have_text(want["foot"])
        for stage in funnel["stages"]:
            expect(page.locator(f"#funnel tr[data-stage={stage['stage']}] .volume")).to_have_text(f"{stage['volume']:,}")
        expect(page.locator("#funnel-period")).to_contain_text("30")
        assert checker.untranslated(page.evaluate(VISIBLE_TEXT)) == []
        page.screenshot(path=output_dir / f"customer-funnel-{lang}.png", full_page=True)

        # another stage, another reason: the expansion keeps nanjing in growth
        page.goto(server.url + "/#/customer/nanjing")
        expect(page.locator("#customer-lifecycle .big")).to_have_text("成长" if lang == "zh-CN" else "growth")
        expect(page.locator("#lifecycle-reason")).to_have_text(
            "2025/12/15 增购（+1 台机器人）" if lang == "zh-CN" else "expansion on 12/15/2025 (+1 robots)")
        assert checker.untranslated(page.evaluate(VISIBLE_TEXT)) == []
        browser.close()
    assert errors == []
