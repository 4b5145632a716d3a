"""Issue 14: a customer's success goals on its dashboard page, in headless Chromium, in English and
in Chinese: one card per goal with the status, progress bar, figures and due date the API gives
(the same numbers), and the progress per local day drawn against the target.  Screenshots in
test-output/."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect, sync_playwright

from collector.store.sqlite import seed
from tests.plugins.api import GOALS, VIEWER

pytestmark = pytest.mark.sqlite_only("not yet on PostgreSQL: goals are seeded through the SQLite seed (lastrowid)")

CHROMIUM = "/usr/bin/chromium"
HOUR = 3_600_000
DAY = 24 * HOUR
SHANGHAI = 8 * HOUR
CATALOGUE = json.loads(open("collector/dashboard/static/messages.json", encoding="utf-8").read())["messages"]


def _history(api_seed) -> None:
    """acme-museum's robots at work from 1 November (Shanghai days): interactions rising against a
    steady 100 passers-by, so conversion climbs."""
    first = 1_793_462_400_000 - SHANGHAI  # 2026-11-01 00:00 in Shanghai
    conn = api_seed.connect()
    windows = []
    for d in range(26):
        for rid in ("r-001", "r-003"):
            t0 = first + d * DAY + 11 * HOUR
            windows.append((rid, t0, t0 + HOUR, {"usage.interactions": 20 + d, "usage.foot_traffic": 100,
                                                 "skill.guide": 3}))
    seed.write_windows(conn, windows)
    conn.close()


def _goal_alert(api_seed, goal: dict) -> int:
    """A firing goal_at_risk alert with the facts and summary the rule writes for ``goal``."""
    from collector.alerts.rules import goal_at_risk
    from collector.alerts.settings import defaults

    (c,) = goal_at_risk({"goals": [goal]}, defaults().goal_at_risk)
    conn = api_seed.connect()
    cur = conn.execute("INSERT INTO alerts (rule, subject, customer, severity, state, summary, facts, opened_ms,"
                       " updated_ms, fired_ms) VALUES ('goal_at_risk', ?, 'acme-museum', 'warning', 'firing', ?, ?,"
                       " ?, ?, ?)", (c["subject"], c["summary"], json.dumps(c["facts"]), api_seed.now_ms,
                                     api_seed.now_ms, api_seed.now_ms))
    conn.close()
    return cur.lastrowid


def _goals(base: str) -> dict:
    req = urllib.request.Request(base + "/api/v1/customers/acme-museum/goals",
                                 headers={"Authorization": f"Bearer {VIEWER}"})
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)


@pytest.mark.parametrize("locale,lang", [("en-US", "en"), ("zh-CN", "zh-CN")])
def test_api_dashboard_goals_on_the_customer_page(live_api, api_seed, output_dir, locale, lang):
    _history(api_seed)
    api = _goals(live_api.url)
    assert api["total"] == len(GOALS) == 3
    by_id = {g["id"]: g for g in api["items"]}
    assert {g["status"] for g in api["items"]} == {"on_track", "at_risk", "missed"}
    msgs = CATALOGUE[lang]
    alert_id = _goal_alert(api_seed, next(g for g in api["items"] if g["status"] == "at_risk"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 1000}, locale=locale).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live_api.url + "/#/customer/acme-museum")
        page.fill("#token", VIEWER)
        page.click("#login-form button")
        cards = page.locator("#goals .goal-card")
        expect(cards).to_have_count(3)
        expect(page.locator("#goals h2")).to_have_text(msgs["goals.title"].replace("{n}", "3"))
        for card in cards.all():
            goal = by_id[int(card.get_attribute("data-goal"))]
            assert card.get_attribute("data-status") == goal["status"]
            expect(card.locator(".goal-status")).to_have_text(msgs["goal.status." + goal["status"]])
            expect(card.locator(".goal-status")).to_have_attribute("title", msgs["goal.reason." + goal["reason"]])
            share = 0 if goal["progress_pct"] is None else min(100, goal["progress_pct"])
            expect(card.locator(".goal-bar")).to_have_attribute("aria-valuenow", str(round(share)))
            if goal["days"]:   # the daily values and the target, one point per complete local day
                expect(card.locator("polyline")).to_have_count(2)
                points = card.locator("polyline[data-series=value]").get_attribute("points").split()
                assert len(points) == goal["days_elapsed"]
        conversion = next(g for g in api["items"] if g["metric"] == "conversion")
        card = page.locator(f"#goals .goal-card[data-goal='{conversion['id']}']")
        if lang == "en":
            expect(card.locator(".goal-head strong")).to_have_text("interaction conversion (interactions / foot traffic)")
            expect(card.locator(".goal-figures")).to_have_text(
                f"{conversion['progress']:.1f}% of 45.0% ({conversion['progress_pct']:.0f}%)")
        else:
            expect(card.locator(".goal-head strong")).to_have_text("交互转化率（交互 / 客流）")
            expect(card.locator(".goal-figures")).to_have_text(
                f"{conversion['progress']:.1f}% / 目标 45.0%（{conversion['progress_pct']:.0f}%）")
        # the goal_at_risk alert the rule writes for the at-risk goal, its summary in the page's language
        risky = next(g for g in api["items"] if g["status"] == "at_risk")
        row = page.locator(f"#open-alerts tr[data-alert='{alert_id}']")
        metric = msgs["goal.metric." + risky["metric"]]
        target, now, projected = (f"{v:.1f}" for v in (risky["target"], risky["progress"], risky["projection"]))
        expect(row.locator(".alert-summary")).to_have_text(
            f"acme-museum: goal {metric} {target} by {risky['due']} at risk (now {now}, projected {projected})"
            if lang == "en" else
            f"acme-museum：目标「{metric}」{target}（{risky['due']} 截止）有风险：当前 {now}，预计到期 {projected}")
        page.locator("#goals").screenshot(path=output_dir / f"goals-{lang}.png")
        page.screenshot(path=output_dir / f"customer-goals-{lang}.png", full_page=True)
        browser.close()
    assert errors == []
