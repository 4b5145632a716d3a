"""Issue 15, the handover page in headless Chromium (the system browser, driven by Playwright): a
CSM taking over acme-museum finds its contract and commercial events, contacts, notes, open alerts,
the last 90 days of its timeline and its report months in one place, in zh-CN and en-US with no
untranslated string; an admin whose token names a person writes a note from the page and the note
is signed with that person; a viewer gets no forms.  Screenshot: docs/img/handover-zh.png."""

from __future__ import annotations

import re
import shutil
import urllib.request
import json

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.test_api_dashboard import (CHROMIUM, DOCS_IMG, VISIBLE_TEXT, Checker, api_data,
                                          realistic_alerts_and_scores, summaries)
from tests.plugins.api import CSM_ADMIN, CSM_PERSON, GOALS, VIEWER
from tests.support.handover import CONTACTS, NOTES, seed_handover


def _get(base: str, path: str, token: str = VIEWER) -> dict:
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)


@pytest.fixture
def browser_page():
    """A factory of pages in one headless Chromium; every page error, console warning or error and
    failed request is collected and must stay empty."""
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])

        def make(locale: str):
            page = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale).new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: m.type in ("warning", "error") and errors.append(m.text))
            page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
            return page

        yield make
        browser.close()
    assert errors == []


def sign_in(page, base: str, token: str) -> None:
    page.goto(base + "/")
    page.fill("#token", token)
    page.click("#login-form button")
    expect(page.locator("#customers tbody tr").first).to_be_visible()


def test_dashboard_handover_zh_admin_writes_a_signed_note(live_api, api_seed, browser_page, output_dir):
    realistic_alerts_and_scores(api_seed)  # with seed_handover's contacts, notes and events
    page = browser_page("zh-CN")
    sign_in(page, live_api.url, CSM_ADMIN)
    expect(page.locator("#who")).to_have_text(f"{CSM_PERSON}（管理员）")

    page.goto(live_api.url + "/#/customer/acme-museum")
    page.click("#handover-link")
    expect(page.locator("#handover-name")).to_contain_text("客户交接：上海博物馆")
    expect(page.locator("#zone-shown")).to_contain_text("UTC+8 Asia/Shanghai")
    # success goals: the goals work's cards (goals.js), one per seeded goal
    expect(page.locator("#goals .goal-card")).to_have_count(len(GOALS))
    # contract and events: the 2026-03-01 expansion, its amount in the zh-CN number format
    expect(page.locator("#handover-contract")).to_contain_text("合同期 2025/03/01 → 2027/02/28")
    expect(page.locator("#handover-contract")).to_contain_text("距合同到期")
    event = page.locator("#handover-events tbody tr")
    expect(event).to_have_count(1)
    expect(event).to_contain_text("2026/03/01增购20,000新增 1 台机器人 · hall B opened")
    # contacts, sorted by name, with who recorded them
    expect(page.locator("#handover-contacts tbody tr")).to_have_count(len(CONTACTS))
    expect(page.locator("#handover-contacts")).to_contain_text("li@museum.example")
    expect(page.locator("#handover-contacts")).to_contain_text(CSM_PERSON)
    # the seeded notes, newest first, with their author and the time in Shanghai
    notes = page.locator("#handover-notes li")
    expect(notes).to_have_count(len(NOTES))
    expect(notes.first).to_contain_text(NOTES[1])
    expect(notes.first.locator(".note-by")).to_have_text("ops-admin · 2026/11/23 20:00")
    # open alerts (the pending one, listed apart) and the 90 days' timeline; reports and goals
    expect(page.locator("#open-alerts tbody tr")).to_have_count(1)
    expect(page.locator("#handover-timeline li").first).to_be_visible()
    expect(page.locator("#note-signed")).to_have_text(f"署名：{CSM_PERSON}。")

    # the admin writes a note: it is listed first, signed 王芳, and the API says the same
    page.fill("#note-text", "交接给李明：二月前约馆长谈续约。")
    page.click("#note-save")
    expect(notes).to_have_count(len(NOTES) + 1)
    expect(notes.first.locator(".note-text")).to_have_text("交接给李明：二月前约馆长谈续约。")
    expect(notes.first.locator(".note-by")).to_contain_text(f"{CSM_PERSON} · ")
    stored = _get(live_api.url, "/api/v1/customers/acme-museum/notes")["items"][0]
    assert (stored["text"], stored["author"], stored["token"]) == (
        "交接给李明：二月前约馆长谈续约。", CSM_PERSON, "wang-fang-laptop")

    # and a contact
    page.fill("#contact-name", "王主任")
    page.fill("#contact-role", "运营主任")
    page.fill("#contact-phone", "138 0000 0000")
    page.click("#contact-save")
    expect(page.locator("#handover-contacts tbody tr")).to_have_count(len(CONTACTS) + 1)
    assert [c["name"] for c in _get(live_api.url, "/api/v1/customers/acme-museum/contacts")["items"]] == [
        "Zhang Wei", "李馆长", "王主任"]

    checker = Checker("zh-CN", api_data(live_api.url) | handover_data(live_api.url) | {CSM_PERSON})
    assert checker.untranslated(page.evaluate(VISIBLE_TEXT)) == []
    page.screenshot(path=output_dir / "handover-zh.png", full_page=True)
    shutil.copy(output_dir / "handover-zh.png", DOCS_IMG / "handover-zh.png")


def test_dashboard_handover_en_viewer_reads_without_forms(live_api, api_seed, browser_page):
    realistic_alerts_and_scores(api_seed)  # with seed_handover's contacts, notes and events
    page = browser_page("en-US")
    sign_in(page, live_api.url, VIEWER)
    page.goto(live_api.url + "/#/handover/acme-museum")
    expect(page.locator("#handover-name")).to_contain_text("Handover: 上海博物馆")
    expect(page.locator("#handover-contract")).to_contain_text("Contract 03/01/2025 → 02/28/2027")
    expect(page.locator("#handover-notes li").first.locator(".note-by")).to_have_text("ops-admin · 11/23/2026, 20:00")
    expect(page.locator("#handover-contacts tbody tr")).to_have_count(len(CONTACTS))
    expect(page.locator("#note-form")).to_have_count(0)
    expect(page.locator("#contact-form")).to_have_count(0)
    expect(page.locator(".contact-remove")).to_have_count(0)
    expect(page.locator("#open-alerts button")).to_have_count(0)
    checker = Checker("en", api_data(live_api.url) | summaries(live_api.url) | handover_data(live_api.url))
    assert checker.untranslated(page.evaluate(VISIBLE_TEXT)) == []


def handover_data(base: str) -> set[str]:
    """The handover's data strings shown as they are: contact fields, notes, authors, event notes."""
    out: set[str] = set()
    for c in _get(base, "/api/v1/customers?limit=1000")["items"]:
        h = _get(base, f"/api/v1/customers/{c['id']}/handover")
        for contact in h["contacts"]:
            out |= {contact[k] for k in ("name", "role", "phone", "email", "wechat", "note", "actor")}
        for note in h["notes"]["items"]:
            out |= {note["text"], note["author"]}
        for event in h["events"]:
            out |= {event["note"], event["actor"], event["referred_by"]}
    return {s for s in out if s}


def test_dashboard_handover_report_links_follow_the_months(live_api, api_seed, browser_page):
    """The report months are the customer's local months from its first data (September) to now
    (November, not complete); without the report route they are named as unavailable, not linked."""
    seed_handover(api_seed)
    months = [m["month"] for m in _get(live_api.url, "/api/v1/customers/acme-museum/handover")["months"]]
    assert months == ["2026-11", "2026-10", "2026-09"]
    page = browser_page("zh-CN")
    sign_in(page, live_api.url, VIEWER)
    page.goto(live_api.url + "/#/handover/acme-museum")
    expect(page.locator("#handover-name")).to_be_visible()
    served = {r.canonical for r in live_api.app.router.resources()}
    if "/api/v1/customers/{id}/reports/{month}" in served:
        links = page.locator("#handover-reports a")
        expect(links).to_have_count(3)
        expect(links.first).to_have_text("2026年11月（截至目前）")
        assert re.search(r"2026-11$", links.first.get_attribute("href"))
    else:
        expect(page.get_by_text("此采集器未提供月度报告。")).to_be_visible()
