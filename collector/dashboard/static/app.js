// The CS dashboard: overview, customer page, robot page.  Talks to /api/v1 with the token kept in
// sessionStorage, refreshes the current view when the live feed reports a change.  Every visible
// string comes from the catalogue (i18n.js, messages.json); times are shown in the customer's zone.
"use strict";

const { t, term, num } = RPI18N;

const TOKEN_KEY = "robopulse_token";
const VOLUMES = ["usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions"];
const SUBSYSTEMS = ["network", "vision", "touch", "nav", "asr", "nlp", "tts"];
// "Open" alerts: a call to action nobody has closed.  The same set as collector/alerts/states.py
// OPEN (a unit test compares them); pending ones are listed too, but not counted as open.
const OPEN_STATES = ["firing", "acknowledged", "snoozed"];
const state = { sort: { key: "score", dir: 1 }, csm: "", scene: "", lifecycle: "", feed: null, refreshTimer: null, role: "",
  live: "offline", me: null, zones: {} };

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }

async function api(path) {
  const resp = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (resp.status === 401) { logout(); throw new Error("unauthorised"); }
  if (!resp.ok) {
    let message = resp.statusText;
    try { message = (await resp.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return resp.json();
}

// Times in the customer's zone (its `timezone`, else Asia/Shanghai); the page names the zone shown.
function fmtTime(ms, zone) { return RPI18N.dateTime(ms, zone); }
function zoneNote(zone, ms) { return el("p", { class: "muted zone", id: "zone-shown" }, RPI18N.zoneLabel(zone, ms)); }

function trendText(trend) { return term("trend.", trend); }
function colorDot(color) { return el("span", { class: "dot " + (color || "none"), title: term("color.", color || "none") }); }
function stateTag(s) { return el("span", { class: "state " + (s || "unknown") }, s ? term("state.", s) : t("none")); }

// ---- overview -------------------------------------------------------------------------------

const COLUMNS = [
  { key: "color", label: "", value: (c) => ({ red: 0, yellow: 1, green: 2 })[c.health && c.health.color] ?? 3 },
  { key: "name", label: "col.customer", value: (c) => c.name },
  { key: "scene", label: "col.scene", value: (c) => term("scene.", c.scene) },
  { key: "csm", label: "col.csm", value: (c) => c.csm },
  { key: "score", label: "col.score", value: (c) => (c.health ? c.health.score : Infinity) },
  { key: "trend", label: "col.trend", value: (c) => (c.health ? c.health.trend : "") },
  { key: "lifecycle", label: "col.lifecycle", value: (c) => RPFunnel.STAGES.indexOf(c.lifecycle) },
  { key: "robots", label: "col.robots_online", value: (c) => c.robots.online / Math.max(1, c.robots.total) },
  { key: "open_alerts", label: "col.open_alerts", value: (c) => c.open_alerts },
];

async function renderOverview(view) {
  const data = await api("/api/v1/customers?limit=1000");
  const customers = data.items;
  customers.forEach((c) => { state.zones[c.id] = RPI18N.zoneOf(c); });
  const options = (key) => [...new Set(customers.map((c) => c[key]).filter(Boolean))].sort();
  const shown = { csm: (v) => v, scene: (v) => term("scene.", v), lifecycle: (v) => term("lifecycle.", v) };
  const select = (key, label) => el("label", {}, t(label) + " ",
    el("select", { id: "filter-" + key, onchange: (e) => { state[key] = e.target.value; draw(); } },
      el("option", { value: "" }, t("filter.all")),
      options(key).map((v) => { const o = el("option", { value: v }, shown[key](v)); o.selected = state[key] === v; return o; })));
  const tbody = el("tbody");
  const head = el("tr", {}, COLUMNS.map((col) => el("th", {
    class: "sortable", "data-sort": col.key,
    onclick: () => { state.sort = { key: col.key, dir: state.sort.key === col.key ? -state.sort.dir : 1 }; draw(); },
  }, col.label ? t(col.label) : "")));
  const summary = el("p", { class: "muted", id: "overview-count" });
  view.replaceChildren(el("h1", {}, t("overview.title")),
    el("div", { class: "filters" }, select("csm", "col.csm"), select("scene", "col.scene"),
      select("lifecycle", "col.lifecycle")), summary,
    el("table", { id: "customers" }, el("thead", {}, head), tbody), await RPFunnel.belowAverage());

  function draw() {
    const col = COLUMNS.find((c) => c.key === state.sort.key) || COLUMNS[4];
    const rows = customers
      .filter((c) => (!state.csm || c.csm === state.csm) && (!state.scene || c.scene === state.scene)
        && (!state.lifecycle || c.lifecycle === state.lifecycle))
      .sort((a, b) => {
        const va = col.value(a), vb = col.value(b);
        const cmp = typeof va === "string" ? va.localeCompare(vb) : va - vb;
        return (cmp || a.id.localeCompare(b.id)) * state.sort.dir;
      });
    head.querySelectorAll("th").forEach((th) => {
      th.classList.toggle("sorted-asc", th.dataset.sort === col.key && state.sort.dir === 1);
      th.classList.toggle("sorted-desc", th.dataset.sort === col.key && state.sort.dir === -1);
    });
    summary.textContent = t("overview.count", { shown: num(rows.length), total: num(customers.length) });
    tbody.replaceChildren(...rows.map((c) => el("tr", {
      class: "clickable", "data-customer": c.id, "data-color": c.health ? c.health.color : "none",
      onclick: () => { location.hash = "#/customer/" + encodeURIComponent(c.id); },
    },
      el("td", {}, colorDot(c.health && c.health.color)),
      el("td", {}, el("a", { href: "#/customer/" + encodeURIComponent(c.id) }, c.name), " ",
        el("span", { class: "muted" }, c.id)),
      el("td", {}, term("scene.", c.scene)), el("td", {}, c.csm ? el("a", { href: "#/csm/" + encodeURIComponent(c.csm),
        class: "csm", onclick: (e) => e.stopPropagation() }, c.csm) : ""),
      el("td", { class: "num score" }, c.health ? num(c.health.score, 1) : t("none")),
      el("td", {}, c.health ? trendText(c.health.trend) : ""),
      el("td", {}, RPFunnel.stageTag(c.lifecycle)),
      el("td", { class: "num" }, t("robots.fraction", { online: num(c.robots.online), total: num(c.robots.total) })),
      el("td", { class: "num" }, num(c.open_alerts)))));
  }
  draw();
}

// ---- customer page ---------------------------------------------------------------------------

function timelineList(events, zone, customer) {
  if (!events.length) return el("p", { class: "muted" }, t("timeline.none"));
  return el("ul", { class: "timeline" }, events.map((e) => el("li", {},
    el("time", {}, fmtTime(e.ts_ms, zone)), e.rule ? term("rule.", e.rule) + " " : "",
    el("strong", {}, term("alert_state.", e.to_state)),
    e.from_state ? t("timeline.from", { state: term("alert_state.", e.from_state) }) : "",
    e.robot ? t("timeline.robot", { robot: e.robot }) : "", t("timeline.by", { actor: term("actor.", e.actor) }),
    e.note ? t("timeline.note", { note: e.note }) : "",
    e.rule ? el("div", { class: "muted" }, RPSummaries.alert(e, customer)) : null)));
}

async function act(alertId, action, body) {
  const resp = await fetch(`/api/v1/alerts/${alertId}/${action}`, {
    method: "POST", body: JSON.stringify(body),
    headers: { Authorization: "Bearer " + token(), "Content-Type": "application/json" },
  });
  if (!resp.ok) {
    let message = resp.statusText;
    try { message = (await resp.json()).error.message; } catch (e) { /* not JSON */ }
    window.alert(t("error.action", { action: t("action." + action), message }));
  }
  render();
}

// "Open alerts (N)": N counts the open ones (the customer's card shows the same number); the
// pending ones listed below are named apart, they are not a call to action yet.
function alertsHeading(alerts, open) {
  const pending = alerts.filter((a) => !OPEN_STATES.includes(a.state)).length;
  return el("h2", { id: "open-alerts-heading" }, t("alerts.heading", { n: num(open) }),
    pending ? el("span", { class: "muted" }, t("alerts.pending", { n: num(pending) })) : null);
}

function alertsTable(alerts, zone) {
  if (!alerts.length) return el("p", { class: "muted" }, t("alerts.none"));
  const admin = state.role === "admin";
  return el("table", { id: "open-alerts" },
    el("thead", {}, el("tr", {}, el("th", {}, t("alerts.opened")), el("th", {}, t("alerts.rule")),
      el("th", {}, t("alerts.severity")), el("th", {}, t("alerts.state")), el("th", {}, t("alerts.subject")),
      el("th", {}, t("alerts.summary")), admin ? el("th", {}, "") : null)),
    el("tbody", {}, alerts.map((a) => el("tr", { "data-alert": a.id, "data-state": a.state },
      el("td", {}, fmtTime(a.opened_ms, zone)),
      el("td", { title: term("rule_explain.", a.rule) }, term("rule.", a.rule)),
      el("td", {}, term("severity.", a.severity)),
      el("td", { class: "alert-state" }, term("alert_state.", a.state)), el("td", {}, a.robot || a.site || a.customer),
      el("td", { class: "alert-summary" }, RPSummaries.alert(a)),
      admin ? el("td", {},
        el("button", { type: "button", class: "ack", onclick: () => act(a.id, "ack", {}) }, t("alerts.ack")), " ",
        el("button", { type: "button", class: "snooze", onclick: () => act(a.id, "snooze", { minutes: 1440 }) },
          t("alerts.snooze"))) : null))));
}

function robotsTable(robots, zone) {
  return el("table", { id: "robots" },
    el("thead", {}, el("tr", {}, el("th", {}, t("robots.robot")), el("th", {}, t("robots.site")),
      el("th", {}, t("robots.state")), el("th", {}, t("robots.score")),
      SUBSYSTEMS.map((s) => el("th", {}, term("subsystem.", s))), el("th", {}, t("robots.last_seen")))),
    el("tbody", {}, robots.map((r) => el("tr", {
      class: "clickable", "data-robot": r.id, onclick: () => { location.hash = "#/robot/" + encodeURIComponent(r.id); },
    },
      el("td", {}, el("a", { href: "#/robot/" + encodeURIComponent(r.id) }, r.id)), el("td", {}, r.site),
      el("td", {}, stateTag(r.state)), el("td", { class: "num" }, r.health ? num(r.health.score) : t("none")),
      SUBSYSTEMS.map((s) => el("td", {}, stateTag(r.health && r.health.subsystems[s] ? r.health.subsystems[s].state : null))),
      el("td", {}, fmtTime(r.last_seen_ms, zone))))));
}

function usageCharts(usage) {
  return el("div", { class: "charts", id: "usage-charts" }, VOLUMES.map((m) => {
    const v = usage.volumes[m];
    return el("div", { class: "chart", "data-metric": m },
      el("h3", {}, t("usage.chart_title", { metric: term("metric.", m) })),
      RPCharts.lineChart([{ label: "customer", values: v.per_robot, color: "#3465a4" }].concat(usage.peer_robots
        ? [{ label: "peers", values: v.peers_per_robot, color: "#c47d00", dashed: true }] : []), usage.days),
      el("div", { class: "legend" }, el("span", { class: "own" }, t("usage.own")), "  ",
        usage.peer_robots
          ? el("span", { class: "peer" }, t("usage.peers", { customers: num(usage.peer_customers), robots: num(usage.peer_robots) }))
          : el("span", {}, t("usage.no_peers"))));
  }));
}

// Seed 002's three figures per subsystem: robots with anomalies (lost or stale robots count in
// network), anomaly count, anomaly rate (robots with anomalies / robots).
function anomaliesTable(facts) {
  const a = (facts && facts.anomalies) || {};
  return el("table", { id: "anomalies" },
    el("thead", {}, el("tr", {}, el("th", {}, t("anomalies.subsystem")), el("th", {}, t("anomalies.robots")),
      el("th", {}, t("anomalies.count")), el("th", {}, t("anomalies.rate")))),
    el("tbody", {}, SUBSYSTEMS.filter((s) => a[s]).map((s) => el("tr", { "data-subsystem": s },
      el("td", {}, term("subsystem.", s)), el("td", { class: "num" }, num(a[s].robots)),
      el("td", { class: "num" }, num(a[s].count)), el("td", { class: "num" }, RPI18N.pct(a[s].rate))))));
}

// The skill mix of the customer's last local day: each skill's share of all skill uses.
function skillsTable(facts) {
  const mix = (facts && facts.skills) || {};
  const names = Object.keys(mix).sort((x, y) => mix[y] - mix[x]);
  if (!names.length) return el("p", { id: "skills", class: "muted" }, t("skills.none"));
  return el("table", { id: "skills" },
    el("thead", {}, el("tr", {}, el("th", {}, t("skills.skill")), el("th", {}, t("skills.share")))),
    el("tbody", {}, names.map((k) => el("tr", { "data-skill": k },
      el("td", {}, term("metric.skill.", k)), el("td", { class: "num" }, RPI18N.pct(mix[k]))))));
}

async function renderCustomer(view, id) {
  const [c, robots] = await Promise.all([api("/api/v1/customers/" + encodeURIComponent(id)),
    api("/api/v1/customers/" + encodeURIComponent(id) + "/robots?limit=1000")]);
  const h = c.health;
  // success goals (issue 14): a page without them still renders if the route fails
  const goals = await api("/api/v1/customers/" + encodeURIComponent(id) + "/goals").catch(() => null);
  const zone = RPI18N.zoneOf(c);
  state.zones[c.id] = zone;
  view.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, t("customer.back"))),
    el("p", {}, el("a", { href: "#/handover/" + encodeURIComponent(c.id), id: "handover-link" }, t("handover.link"))),
    el("h1", { id: "customer-name" }, colorDot(h && h.color), " ", c.name, " ", el("span", { class: "muted" }, c.id)),
    zoneNote(zone, h && h.computed_ms),
    el("p", { class: "report-link" }, el("a", { href: "#/report/" + encodeURIComponent(c.id), id: "customer-report-link" },
      t("report.page.link"))),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("div", { class: "label" }, t("card.score")),
        el("div", { class: "big", id: "customer-score" }, h ? num(h.score, 1) : t("none")),
        el("div", { class: "label" }, h ? t("card.color_since", { color: term("color.", h.color),
          time: fmtTime(h.color_since_ms, zone), trend: trendText(h.trend) }) : t("card.no_health"))),
      el("div", { class: "card" }, el("div", { class: "label" }, t("card.robots_online")),
        el("div", { class: "big" }, t("robots.fraction", { online: num(c.robots.online), total: num(c.robots.total) })),
        el("div", { class: "label" }, t("card.robots_detail", { offline: num(c.robots.offline), stale: num(c.robots.stale) }))),
      el("div", { class: "card" }, el("div", { class: "label" }, t("card.open_alerts")),
        el("div", { class: "big", id: "customer-open-alerts" }, num(c.open_alerts))),
      el("div", { class: "card" }, el("div", { class: "label" }, t("card.contract")),
        el("div", {}, t("card.contract_span", { start: RPI18N.date(c.contract_start), end: RPI18N.date(c.contract_end) })),
        el("div", { class: "label" }, t("card.contract_detail", { scene: term("scene.", c.scene), tier: term("tier.", c.tier),
          csm: c.csm || t("none"), arr: RPI18N.money(c.arr) }))),
      RPFunnel.lifecycleCard(c)),
    RPGoals.section(goals),
    el("h2", {}, t("breakdown.title")),
    el("table", { id: "breakdown" }, el("thead", {}, el("tr", {}, el("th", {}, t("breakdown.measure")),
      el("th", {}, t("breakdown.score")), el("th", {}, t("breakdown.weight")), el("th", {}, t("breakdown.fact")))),
    el("tbody", {}, c.breakdown.map((b) => el("tr", {},
      el("td", { title: term("measure_explain.", b.measure) }, term("measure.", b.measure)),
      el("td", { class: "num" }, typeof b.score === "number" ? num(b.score, 1) : t("none")),
      el("td", { class: "num" }, typeof b.weight === "number" ? num(b.weight, Number.isInteger(b.weight) ? 0 : 2) : t("none")),
      el("td", {}, RPSummaries.fact(b.measure, b.fact)))))),
    ...RPFunnel.funnelSection(c.funnel),
    el("h2", {}, t("anomalies.title")), anomaliesTable(c.facts),
    el("h2", {}, t("skills.title")), skillsTable(c.facts),
    el("h2", {}, t("robots.title", { n: num(robots.total) })), robotsTable(robots.items, zone),
    alertsHeading(c.alerts, c.open_alerts), alertsTable(c.alerts, zone),
    el("h2", {}, t("usage.title")),
    el("p", { class: "muted", id: "usage-denominator" }, t("usage.denominator",
      { robot_days: num(c.facts && c.facts.usage ? c.facts.usage.robot_days_30d : null) })),
    ...neverSeen(c.facts && c.facts.usage ? c.facts.usage.never_seen : null),
    usageCharts(c.usage),
    el("h2", {}, t("timeline.title")), timelineList(c.timeline, zone, c.id));
}

// Registry robots handed over and never connected (issue 13): named under the usage charts, since
// their robot-days in service lower the per-robot figures.  No element when there are none.
function neverSeen(list) {
  if (!Array.isArray(list) || !list.length) return [];
  return [el("p", { class: "muted", id: "usage-never-seen" }, t("usage.never_seen", {
    robots: list.map((r) => t("usage.never_seen_item", { robot: r.robot, site: r.site, date: RPI18N.date(r.activated) }))
      .join(", ") }))];
}

// ---- robot page ------------------------------------------------------------------------------

// The robot's customer's zone: known from a page already seen, else read once from its customer.
async function zoneOfCustomer(customer) {
  if (!state.zones[customer]) {
    try { state.zones[customer] = RPI18N.zoneOf(await api("/api/v1/customers/" + encodeURIComponent(customer))); }
    catch (e) { return RPI18N.DEFAULT_ZONE; }
  }
  return state.zones[customer];
}

function figure(key, value) {
  let shown;
  if (value === null || value === undefined) shown = t("none");
  else if (typeof value === "boolean") shown = t(value ? "yes" : "no");
  else if (key.startsWith("rate_")) shown = RPI18N.pct(value);
  else if (key === "level") shown = term("state.", value);
  else if (typeof value === "number") shown = num(value, Number.isInteger(value) ? 0 : 1);
  else shown = typeof value === "object" ? JSON.stringify(value) : String(value);
  return t("robot.figure", { name: term("figure.", key), value: shown });
}

async function renderRobot(view, id) {
  const r = await api("/api/v1/robots/" + encodeURIComponent(id));
  const zone = r.timezone && RPI18N.zoneOf(r) !== RPI18N.DEFAULT_ZONE ? RPI18N.zoneOf(r) : await zoneOfCustomer(r.customer);
  const subs = (r.health && r.health.subsystems) || {};
  const metrics = Object.keys(r.usage.metrics);
  const status = term("state.", r.status.state);
  view.replaceChildren(
    el("p", {}, el("a", { href: "#/customer/" + encodeURIComponent(r.customer) }, t("robot.back", { customer: r.customer }))),
    el("h1", { id: "robot-name" }, r.id, " ", stateTag(r.state)),
    el("p", { class: "muted" }, t("robot.line", { customer: r.customer, site: r.site, scene: term("scene.", r.scene),
      version: r.agent_version || t("none"),
      status: r.status.reason ? t("robot.status_reason", { state: status, reason: term("reason.", r.status.reason) }) : status,
      time: fmtTime(r.last_seen_ms, zone) })),
    zoneNote(zone, r.last_seen_ms),
    el("h2", {}, t("robot.subsystems")),
    el("table", { id: "subsystems" }, el("thead", {}, el("tr", {}, el("th", {}, t("robot.subsystem")),
      el("th", {}, t("robot.state")), el("th", {}, t("robot.details")))),
    el("tbody", {}, SUBSYSTEMS.map((s) => el("tr", {}, el("td", {}, term("subsystem.", s)),
      el("td", {}, stateTag(subs[s] && subs[s].state)),
      el("td", { class: "muted" }, subs[s] ? Object.entries(subs[s]).filter(([k]) => k !== "state")
        .map(([k, v]) => figure(k, v)).join(t("list.sep")) : ""))))),
    alertsHeading(r.alerts, r.alerts.filter((a) => OPEN_STATES.includes(a.state)).length), alertsTable(r.alerts, zone),
    el("h2", {}, t("robot.usage")),
    metrics.length ? el("div", { class: "charts" }, metrics.map((m) => el("div", { class: "chart" },
      el("h3", {}, term("metric.", m)),
      RPCharts.barChart(r.usage.metrics[m].map((v, i) => ({ label: RPCharts.dayLabel(r.usage.days[i]), value: v }))))))
      : el("p", { class: "muted" }, t("robot.no_usage")),
    el("h2", {}, t("timeline.title")), timelineList(r.timeline, zone, r.customer));
}

// ---- routing, login, live feed, language -------------------------------------------------------

async function render() {
  const view = $("#view");
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  const [kind, id, month] = hash.split("/");
  try {
    if (kind === "customer" && id) await renderCustomer(view, id);
    else if (kind === "report" && id) await RPReport.render(view, id, month, { api, el });
    else if (kind === "robot" && id) await renderRobot(view, id);
    else if (kind === "handover" && id) await RPHandover.render(view, id);
    else if (kind.split("?")[0] === "outcomes") await renderOutcomes(view, kind.split("?")[1]);
    else if (kind === "csm" && id) await renderBook(view, id);
    else await renderOverview(view);
  } catch (err) {
    if (token()) view.replaceChildren(el("p", { class: "error" }, t("error.load", { message: err.message })));
  }
}

function scheduleRefresh() {
  if (location.hash.startsWith("#/report/")) return;  // a month's report: live changes do not redraw it
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(render, 300);
}

const LIVE = { on: "live.on", offline: "live.offline", reconnecting: "live.reconnecting" };

function paintLive(status) {
  if (status) state.live = status;
  const live = $("#live");
  live.textContent = t(LIVE[state.live]);
  live.className = "live " + (state.live === "on" ? "on" : "off");
}

function paintWho() {
  // the person the token names (issue 14), else its name
  $("#who").textContent = state.me ? t("who", { name: state.me.person || state.me.name, role: term("role.", state.me.role) }) : "";
}

function startFeed() {
  if (state.feed) state.feed.close();
  const feed = new EventSource("/api/v1/feed?access_token=" + encodeURIComponent(token()));
  feed.onopen = () => paintLive("on");
  feed.onerror = () => paintLive("reconnecting");
  for (const kind of ["customer_health", "robot_state", "alert", "gap"]) feed.addEventListener(kind, scheduleRefresh);
  state.feed = feed;
}

async function showApp() {
  $("#login").hidden = true;
  $("#view").hidden = false;
  $("#exports").hidden = false;
  try {
    state.me = await api("/api/v1/me");
    state.role = state.me.role;
  } catch (e) { state.role = ""; state.me = null; }
  paintWho();
  startFeed();
  render();
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.feed) state.feed.close();
  state.feed = null;
  state.me = null;
  paintLive("offline");
  $("#view").hidden = true;
  $("#exports").hidden = true;
  $("#login").hidden = false;
}

async function download(name) {
  const resp = await fetch(`/api/v1/export/${name}.csv`, { headers: { Authorization: "Bearer " + token() } });
  if (!resp.ok) return;
  const url = URL.createObjectURL(await resp.blob());
  const a = el("a", { href: url, download: name + ".csv" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

document.addEventListener("DOMContentLoaded", async () => {
  await RPI18N.load();
  // the switch: the choice is remembered (localStorage) and the open view is drawn again at once
  RPI18N.onChange(() => { paintLive(); paintWho(); if (token()) render(); });
  document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => RPI18N.use(b.dataset.lang, true)));
  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const candidate = $("#token").value.trim();
    const resp = await fetch("/api/v1/customers?limit=1", { headers: { Authorization: "Bearer " + candidate } });
    if (!resp.ok) {
      const err = $("#login-error");
      err.textContent = resp.status === 401 ? t("login.unknown") : t("login.failed", { status: resp.status });
      err.hidden = false;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, candidate);
    $("#login-error").hidden = true;
    showApp();
  });
  $("#logout").addEventListener("click", logout);
  document.querySelectorAll("[data-export]").forEach((b) => b.addEventListener("click", () => download(b.dataset.export)));
  window.addEventListener("hashchange", render);
  if (token()) showApp(); else logout();
});
