"""Issue 13 in headless Chromium: the customer page shows seed 002's three figures per subsystem
(robots with anomalies, anomaly count, anomaly rate) and the skill mix, in both languages, and
says the usage charts are per robot in service."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.plugins.api import VIEWER

CHROMIUM = "/usr/bin/chromium"
FACTS = {
    "anomalies": {s: {"robots": 0, "count": 0, "rate": 0.0} for s in
                  ("network", "vision", "touch", "nav", "asr", "nlp", "tts")},
    "skills": {"guide": 0.75, "sign_in": 0.25},
    "usage": {"robot_days_30d": 87, "per_robot": 321},
}
FACTS["anomalies"]["network"] = {"robots": 2, "count": 5, "rate": 0.6667}


@pytest.mark.parametrize("locale,texts", [
    ("en-US", ("Robots with anomalies", "network", "guide tours", "75%", "87 robot-days")),
    ("zh-CN", ("异常机器人数", "网络", "导览", "75%", "87 台·天")),
])
def test_api_dashboard_customer_shows_anomalies_and_skill_mix(live_api, api_seed, locale, texts):
    conn = api_seed.connect()
    conn.execute("UPDATE customer_health SET facts = ?, computed_ms = computed_ms + 1 WHERE customer = 'acme-museum'",
                 (json.dumps(FACTS),))
    conn.close()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live_api.url + "/")
        page.fill("#token", VIEWER)
        page.click("#login-form button")
        page.goto(live_api.url + "/#/customer/acme-museum")
        network = page.locator("#anomalies tr[data-subsystem=network] td")
        expect(network).to_have_count(4)
        expect(network.nth(1)).to_have_text("2")
        expect(network.nth(2)).to_have_text("5")
        expect(network.nth(3)).to_contain_text("66.7")
        expect(page.locator("#anomalies tbody tr")).to_have_count(7)
        expect(page.locator("#skills tbody tr")).to_have_count(2)
        expect(page.locator("#skills tbody tr").first).to_have_attribute("data-skill", "guide")
        body = page.locator("body")
        for text in texts:
            expect(body).to_contain_text(text)
        browser.close()
    assert errors == []
