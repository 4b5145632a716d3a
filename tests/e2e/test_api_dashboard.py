"""Must-show 6: the dashboard in headless Chromium (the system browser, driven by Playwright):
the overview lists the seeded customers with the right colours; clicking one shows its robots and
charts; a change in the store reaches the open page through the live feed without a reload."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.plugins.api import ADMIN, CUSTOMERS, HEALTH, VIEWER

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def page(live_api):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
        yield page
        browser.close()
    # the only failed request is the deliberate sign-in with a wrong token
    assert [e.split("?")[0] for e in errors] == [f"401 {live_api.url}/api/v1/customers"], errors


def test_api_dashboard_overview_customer_and_live_refresh(page, live_api, api_seed, output_dir):
    page.goto(live_api.url + "/")
    page.fill("#token", "wrong-token-000")
    page.click("#login-form button")
    expect(page.locator("#login-error")).to_have_text("Unknown token.")
    page.fill("#token", VIEWER)
    page.click("#login-form button")

    rows = page.locator("#customers tbody tr")
    expect(rows).to_have_count(len(CUSTOMERS))
    colors = {r.get_attribute("data-customer"): r.get_attribute("data-color") for r in rows.all()}
    assert colors == {**{cid: h[1] for cid, h in HEALTH.items()}, "new-bank": "none"}
    assert rows.first.get_attribute("data-customer") == "kiwi-ktv"  # worst score first
    expect(page.locator("#customers")).to_contain_text("上海博物馆")
    expect(page.locator("#live")).to_have_text("● live")
    page.screenshot(path=output_dir / "overview.png", full_page=True)

    page.select_option("#filter-csm", "alice")
    expect(rows).to_have_count(2)
    page.click("th[data-sort=score]")  # sorted by score ascending already: one click reverses it
    assert [r.get_attribute("data-customer") for r in rows.all()] == ["acme-museum", "sky-scenic"]

    page.click("tr[data-customer=acme-museum]")
    expect(page.locator("#robots tbody tr")).to_have_count(3)
    expect(page.locator("#customer-name")).to_contain_text("上海博物馆")
    expect(page.locator("#customer-score")).to_have_text("86.5")
    expect(page.locator("#usage-charts .chart")).to_have_count(4)
    expect(page.locator("#usage-charts polyline")).to_have_count(8)
    expect(page.locator("#open-alerts tbody tr")).to_have_count(1)
    expect(page.locator("#open-alerts button")).to_have_count(0)  # a viewer gets no actions
    page.screenshot(path=output_dir / "customer.png", full_page=True)

    # the store changes: the open page follows the feed, without a reload
    page.evaluate("window.__notReloaded = true")
    conn = api_seed.connect()
    conn.execute("UPDATE customer_health SET score = 42.0, color = 'red', computed_ms = computed_ms + 1000 "
                 "WHERE customer = 'acme-museum'")  # as a health cycle does
    conn.execute("INSERT INTO feed_events (ts_ms, kind, data) VALUES (?, 'customer_health', ?)",
                 (api_seed.now_ms, json.dumps({"customer": "acme-museum", "color": "red", "score": 42.0})))
    conn.close()
    expect(page.locator("#customer-score")).to_have_text("42.0", timeout=10_000)
    assert page.evaluate("window.__notReloaded") is True

    page.click("tr[data-robot=r-001]")
    expect(page.locator("#robot-name")).to_contain_text("r-001")
    expect(page.locator("#subsystems tbody tr")).to_have_count(7)
    page.screenshot(path=output_dir / "robot.png", full_page=True)

    # an admin acknowledges from the customer page; the timeline shows who did it
    page.click("#logout")
    page.fill("#token", ADMIN)
    page.click("#login-form button")
    expect(page.locator("#who")).to_have_text("ops-admin (admin)")
    page.goto(live_api.url + "/#/customer/kiwi-ktv")
    row = page.locator(f"#open-alerts tr[data-alert='{api_seed.alerts['ktv_offline']}']")
    expect(row.locator(".alert-state")).to_have_text("firing")
    row.locator("button.ack").click()
    expect(row.locator(".alert-state")).to_have_text("acknowledged")
    expect(page.locator("ul.timeline li").first).to_contain_text("by ops-admin")
    page.screenshot(path=output_dir / "customer-admin.png", full_page=True)


def test_api_dashboard_open_alerts_card_and_heading_agree(page, live_api):
    """The customer page's "open alerts" card and its "Open alerts (N)" heading count the same
    alerts: acme-museum has one pending alert (listed, named apart, not counted), kiwi-ktv a firing
    and an acknowledged one."""
    page.goto(live_api.url + "/")
    page.fill("#token", "wrong-token-000")  # the fixture expects exactly this one failed request
    page.click("#login-form button")
    expect(page.locator("#login-error")).to_have_text("Unknown token.")
    page.fill("#token", VIEWER)
    page.click("#login-form button")
    expect(page.locator("#customers tbody tr")).to_have_count(len(CUSTOMERS))
    for cid, open_count, heading in (("acme-museum", 0, "Open alerts (0) · 1 pending"),
                                     ("kiwi-ktv", 2, "Open alerts (2)")):
        page.goto(f"{live_api.url}/#/customer/{cid}")
        expect(page.locator("#customer-open-alerts")).to_have_text(str(open_count))
        expect(page.locator("#open-alerts-heading")).to_have_text(heading)
