"""Issue 13 in headless Chromium: a closed venue's reliability fact ("venue closed: no robot in
service", before shown in English on a zh-CN page) in the page's language, and the registry robots
handed over and never seen named under the usage charts."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.plugins.api import VIEWER

CHROMIUM = "/usr/bin/chromium"
FACTS = {"usage": {"robot_days_30d": 70, "per_robot": 321,
                   "never_seen": [{"robot": "acme-ghost", "site": "hall-2", "activated": "2026-11-17"}]}}
BREAKDOWN = [{"measure": "reliability", "score": 100.0, "weight": 0.25, "fact": "venue closed: no robot in service"}]


@pytest.mark.parametrize("locale,closed,ghost", [
    ("en-US", "venue closed: no robot in service", "Handed over, never seen"),
    ("zh-CN", "场所已过营业时间：没有在役机器人", "已交付但从未上线"),
])
def test_closed_fact_and_never_seen_robots_in_the_page_language(live_api, api_seed, locale, closed, ghost):
    conn = api_seed.connect()
    conn.execute("UPDATE customer_health SET facts = ?, breakdown = ?, computed_ms = computed_ms + 1"
                 " WHERE customer = 'acme-museum'", (json.dumps(FACTS), json.dumps(BREAKDOWN)))
    conn.close()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live_api.url + "/")
        page.fill("#token", VIEWER)
        page.click("#login-form button")
        # signed in (the token kept) before moving on: navigating at once raced the sign-in
        expect(page.locator("#customers tbody tr").first).to_be_visible()
        page.goto(live_api.url + "/#/customer/acme-museum")
        expect(page.locator("#breakdown tbody tr").first).to_contain_text(closed)
        expect(page.locator("#usage-never-seen")).to_contain_text(ghost)
        expect(page.locator("#usage-never-seen")).to_contain_text("acme-ghost")
        expect(page.locator("#usage-never-seen")).to_contain_text("hall-2")
        browser.close()
    assert errors == []
