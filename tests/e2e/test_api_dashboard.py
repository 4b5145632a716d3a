"""Must-show 6: the dashboard in headless Chromium (the system browser, driven by Playwright):
the overview lists the seeded customers with the right colours; clicking one shows its robots and
charts; a change in the store reaches the open page through the live feed without a reload."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.plugins.api import ADMIN, CUSTOMERS, HEALTH, VIEWER
from tests.support.handover import seed_handover

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


# ---- the dashboard in Chinese and English ----------------------------------------------------

STATIC = Path(__file__).resolve().parents[2] / "collector" / "dashboard" / "static"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
CATALOGUE = json.loads((STATIC / "messages.json").read_text(encoding="utf-8"))
PRODUCT = {"robopulse"}  # the product's name, the same in every language
NUMBER = re.compile(r"[+\-−]?\d[\d,.\u00a0]*%?")
DATES = {  # what Intl.DateTimeFormat writes for the formats i18n.js asks for
    "zh-CN": [r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}", r"\d{4}/\d{2}/\d{2}", r"\d{1,2}/\d{1,2}"],
    "en": [r"\d{2}/\d{2}/\d{4}, \d{2}:\d{2}", r"\d{2}/\d{2}/\d{4}", r"\d{1,2}/\d{1,2}"],
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
ZONE = re.compile(r"UTC[+-]\d{1,2}(:\d{2})? [A-Za-z_]+(/[A-Za-z_+-]+)+")  # "UTC+8 Asia/Shanghai"

#: every visible string: text nodes of rendered elements (SVG too), the options of selects, tooltips
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim(), parent = node.parentElement;
    if (!text || !parent || parent.closest("[hidden], script, style, option")) continue;
    if (parent.checkVisibility && !parent.checkVisibility()) continue;
    out.push(text);
  }
  document.querySelectorAll("select option").forEach((o) => out.push(o.textContent.trim()));
  document.querySelectorAll("[title]").forEach((n) => {
    if (!n.closest("[hidden]") && n.title.trim()) out.push(n.title.trim());
  });
  return out;
}"""


class Checker:
    """Says whether a visible string belongs to a language: a catalogue message of it (its
    {placeholders} filled with strings that belong too), a number, a date or time in its format,
    or a value from the data (ids, names, people; and in English the rules' own summaries)."""

    def __init__(self, lang: str, data: set[str]):
        self.lang = lang
        self.messages = CATALOGUE["messages"][lang]
        self.exact = {m.strip() for m in self.messages.values() if not PLACEHOLDER.search(m)}
        self.templates = [[p.strip() if i in (0, len(parts) - 1) else p for i, p in enumerate(parts)]
                          for parts in (PLACEHOLDER.split(m.strip()) for m in self.messages.values()
                                        if PLACEHOLDER.search(m))]
        self.dates = [re.compile(d) for d in DATES[lang]]
        self.data = {d.strip() for d in data if d and d.strip()} | PRODUCT
        self.seen: dict[tuple[str, int], bool] = {}

    def ok(self, text: str, depth: int = 0) -> bool:
        text = text.strip()
        if (text, depth) not in self.seen:
            self.seen[(text, depth)] = self._ok(text, depth)
        return self.seen[(text, depth)]

    def _ok(self, text: str, depth: int) -> bool:
        if not text:
            return False
        if text in self.exact or text in self.data or NUMBER.fullmatch(text) or ZONE.fullmatch(text):
            return True
        if any(d.fullmatch(text) for d in self.dates):
            return True
        lowered = text[:1].lower() + text[1:]
        if self.lang == "en" and lowered != text and self.ok(lowered, depth):
            return True  # a name starting a cell, card or bar (the report raises its first letter)
        if depth >= 3:
            return False
        return any(self._fits(text, parts, 0, depth) for parts in self.templates
                   if all(lit in text for lit in parts[0::2]))

    def _fits(self, text: str, parts: list[str], i: int, depth: int) -> bool:
        if i == len(parts):
            return text == ""
        if i % 2 == 0:
            return text.startswith(parts[i]) and self._fits(text[len(parts[i]):], parts, i + 1, depth)
        return any(self.ok(text[:end], depth + 1) and self._fits(text[end:], parts, i + 1, depth)
                   for end in range(1, len(text) + 1))

    def untranslated(self, texts: list[str]) -> list[str]:
        return sorted({t for t in texts if not self.ok(t)})


def realistic_alerts_and_scores(seed) -> None:
    """The seeded alerts get the facts their rules really write (collector/alerts/rules.py) and the
    customers the score breakdown the health cycle really writes, so the page renders them in its
    language; acme_usage keeps facts its rule does not write (the fallback path)."""
    from collector.health.customer import measures, score
    from collector.health.settings import defaults

    facts = {
        "ktv_offline": {"state": "offline", "reason": "lost", "last_window_ms": seed.now_ms - 3_600_000,
                        "minutes": 60.0},
        "ktv_asr": {"subsystem": "asr", "level": "crit", "rate_1h": 0.4, "rate_since_yesterday": 0.125, "volume_1h": 40,
                    "volume_since_yesterday": 800},
        "sky_renewal": {"arr": 90000.0, "contract_end": "2026-08-31", "days_to_renewal": -88,
                        "color": "yellow", "score": 62.0},
        "acme_pending": {"state": "offline", "reason": "lost", "last_window_ms": seed.now_ms - 600_000,
                         "minutes": 10.0},
    }
    robots = [{"state": "online", "score": 95.0}, {"state": "offline", "score": 55.5}]
    use = {"interactions_per_robot_day_30d": 212.0, "trend_7d_pct": -18.0, "interactions_7d": 4000}
    _, breakdown = score(measures(robots, use, {"percentile": 25.0, "peers": 1, "scene": "museum"},
                                  [{"milestones": {"7": {"status": "met"}}}], {"days_to_renewal": 93},
                                  defaults()), defaults())
    conn = seed.connect()
    for key, f in facts.items():
        conn.execute("UPDATE alerts SET facts = ? WHERE id = ?", (json.dumps(f), seed.alerts[key]))
        conn.execute("UPDATE alert_events SET facts = ? WHERE alert_id = ?", (json.dumps(f), seed.alerts[key]))
    conn.execute("UPDATE customer_health SET breakdown = ?", (json.dumps(breakdown),))
    conn.close()
    seed_handover(seed)  # contacts, notes, events for the handover page (issue 15)


def api_data(base: str) -> set[str]:
    """The strings of the data the pages show as they are: ids, names, people, versions, notes;
    plus the rules' English summaries (shown as they are in English only)."""
    import urllib.request

    def get(path):
        req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {VIEWER}"})
        with urllib.request.urlopen(req) as resp:
            return json.load(resp)

    out: set[str] = {get("/api/v1/me")["name"]}
    for c in get("/api/v1/customers?limit=1000")["items"]:
        out |= {c["id"], c["name"], c["csm"] or ""}
        one = get(f"/api/v1/customers/{c['id']}")
        for row in one["alerts"] + one["timeline"]:
            out |= {row.get(k) or "" for k in ("customer", "robot", "site", "subject", "note")}
            out |= {row.get("actor") or ""} - {"rules"}  # the engine's own name is translated
    for r in get("/api/v1/robots?limit=1000")["items"]:
        out |= {r["id"], r["customer"], r["site"], r["agent_version"] or ""}
    for c in get("/api/v1/customers?limit=1000")["items"]:  # the handover page's people and notes
        h = get(f"/api/v1/customers/{c['id']}/handover")
        out |= {v for contact in h["contacts"] for v in contact.values() if isinstance(v, str)}
        out |= {v for n in h["notes"]["items"] for v in (n["text"], n["author"])}
        out |= {v for e in h["events"] for v in (e["note"], e["actor"], e["referred_by"])}
    return out


def summaries(base: str) -> set[str]:
    import urllib.request

    req = urllib.request.Request(base + "/api/v1/alerts?limit=1000", headers={"Authorization": f"Bearer {VIEWER}"})
    with urllib.request.urlopen(req) as resp:
        return {a["summary"] for a in json.load(resp)["items"]}


def walk(page, base: str, checker: Checker) -> dict[str, list[str]]:
    """Overview, two customer pages, two robot pages, a handover page, the Outcomes page, a CSM's
    book and a monthly report: each page's untranslated strings."""
    found = {}
    for name, hash_, ready in (("overview", "#/", "#customers tbody tr"),
                               ("customer acme-museum", "#/customer/acme-museum", "#usage-charts svg"),
                               ("customer kiwi-ktv", "#/customer/kiwi-ktv", "#open-alerts tbody tr"),
                               ("handover acme-museum", "#/handover/acme-museum", "#handover-timeline li"),
                               ("outcomes", "#/outcomes?group=csm", "#outcome-groups tbody tr"),
                               ("csm bob", "#/csm/bob", "#book-customers-table tbody tr"),
                               ("report acme-museum", "#/report/acme-museum/2026-10", "#report-body article"),
                               ("robot k-001", "#/robot/k-001", "#subsystems tbody tr"),
                               ("robot r-001", "#/robot/r-001", "#subsystems tbody tr")):
        page.goto(base + "/" + hash_)
        expect(page.locator(ready).first).to_be_visible()
        expect(page.locator("#live")).to_have_class(re.compile(r"\bon\b"))
        texts = page.evaluate(VISIBLE_TEXT)
        assert len(texts) > 10, name
        found[name] = checker.untranslated(texts)
    return found


@pytest.mark.parametrize("locale,lang", [("zh-CN", "zh-CN"), ("en-US", "en")])
def test_api_dashboard_every_visible_string_is_in_the_page_language(live_api, api_seed, output_dir, locale, lang):
    """Must show (issue 15): in headless Chromium with zh-CN and with en-US, the overview, customer
    and robot pages show no string that is not of the browser's language; times are in the
    customer's zone (Asia/Shanghai when it has none) and the page says which."""
    realistic_alerts_and_scores(api_seed)
    data = api_data(live_api.url)
    checker = Checker(lang, data | (summaries(live_api.url) if lang == "en" else set()))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: m.type in ("warning", "error") and errors.append(m.text))
        page.goto(live_api.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.fill("#token", VIEWER)
        page.click("#login-form button")
        expect(page.locator("#customers tbody tr")).to_have_count(len(CUSTOMERS))

        assert walk(page, live_api.url, checker) == {k: [] for k in (
            "overview", "customer acme-museum", "customer kiwi-ktv", "robot k-001", "robot r-001",
            "handover acme-museum", "outcomes", "csm bob", "report acme-museum")}

        # kiwi-ktv's robot went offline at 11:00 UTC: 19:00 in Shanghai, the zone the page names
        page.goto(live_api.url + "/#/customer/kiwi-ktv")
        row = page.locator(f"#open-alerts tr[data-alert='{api_seed.alerts['ktv_offline']}']")
        expect(page.locator("#zone-shown")).to_contain_text("UTC+8 Asia/Shanghai")
        if lang == "zh-CN":
            expect(row.locator("td").first).to_have_text("2026/11/27 19:00")
            expect(row.locator(".alert-summary")).to_have_text("机器人 k-001（场地 room-1）已失联 60 分钟（离线）")
            expect(row.locator(".alert-state")).to_have_text("告警中")
            expect(page.locator("#customer-name")).to_contain_text("欢乐KTV 朝阳店")
            page.screenshot(path=output_dir / "customer-zh.png", full_page=True)
            page.goto(live_api.url + "/#/robot/k-001")
            expect(page.locator("#subsystems tbody tr").first).to_contain_text("网络")
            page.screenshot(path=output_dir / "robot-zh.png", full_page=True)
        else:
            expect(row.locator("td").first).to_have_text("11/27/2026, 19:00")
            expect(row.locator(".alert-summary")).to_have_text("robot k-001 at room-1 unreachable for 60 min (offline)")
            expect(row.locator(".alert-state")).to_have_text("firing")
        page.goto(live_api.url + "/#/")
        expect(page.locator("#customers tbody tr")).to_have_count(len(CUSTOMERS))
        page.screenshot(path=output_dir / f"dashboard-{lang}.png", full_page=True)
        browser.close()
    assert errors == []


def test_api_dashboard_language_switch_is_remembered(live_api, api_seed, output_dir):
    """A Chinese browser switched to English stays English after a reload (and the other way)."""
    realistic_alerts_and_scores(api_seed)
    en = Checker("en", api_data(live_api.url) | summaries(live_api.url))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
        page.goto(live_api.url + "/#/customer/kiwi-ktv")
        expect(page.locator("#login h1")).to_have_text("登录")
        page.fill("#token", VIEWER)
        page.click("#login-form button")
        expect(page.locator("#open-alerts-heading")).to_have_text("未关闭告警（2）")
        expect(page.locator("[data-lang='zh-CN']")).to_have_attribute("aria-pressed", "true")

        page.click("[data-lang=en]")  # the open page is drawn again at once, no reload
        expect(page.locator("#open-alerts-heading")).to_have_text("Open alerts (2)")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert en.untranslated(page.evaluate(VISIBLE_TEXT)) == []
        page.reload()
        expect(page.locator("#open-alerts-heading")).to_have_text("Open alerts (2)")
        assert walk(page, live_api.url, en) == {k: [] for k in (
            "overview", "customer acme-museum", "customer kiwi-ktv", "robot k-001", "robot r-001",
            "handover acme-museum", "outcomes", "csm bob", "report acme-museum")}

        page.click("[data-lang=zh-CN]")
        expect(page.locator("#subsystems th").first).to_have_text("子系统")
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("#subsystems th").first).to_have_text("子系统")
        assert page.evaluate("localStorage.getItem('robopulse_lang')") == "zh-CN"
        browser.close()
