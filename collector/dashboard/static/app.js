// The CS dashboard: overview, customer page, robot page.  Talks to /api/v1 with the token kept in
// sessionStorage, refreshes the current view when the live feed reports a change.
"use strict";

const TOKEN_KEY = "robopulse_token";
const VOLUMES = ["usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions"];
const SUBSYSTEMS = ["network", "vision", "touch", "nav", "asr", "nlp", "tts"];
const TREND = { up: "↑", down: "↓", flat: "→" };
// "Open" alerts: a call to action nobody has closed.  The same set as collector/alerts/states.py
// OPEN (a unit test compares them); pending ones are listed too, but not counted as open.
const OPEN_STATES = ["firing", "acknowledged", "snoozed"];
const state = { sort: { key: "score", dir: 1 }, csm: "", scene: "", feed: null, refreshTimer: null, role: "" };

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

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 16) + "Z";
}

function colorDot(color) { return el("span", { class: "dot " + (color || "none"), title: color || "no health yet" }); }
function stateTag(s) { return el("span", { class: "state " + (s || "unknown") }, s || "–"); }

// ---- overview -------------------------------------------------------------------------------

const COLUMNS = [
  { key: "color", label: "", value: (c) => ({ red: 0, yellow: 1, green: 2 })[c.health && c.health.color] ?? 3 },
  { key: "name", label: "Customer", value: (c) => c.name },
  { key: "scene", label: "Scene", value: (c) => c.scene },
  { key: "csm", label: "CSM", value: (c) => c.csm },
  { key: "score", label: "Score", value: (c) => (c.health ? c.health.score : Infinity) },
  { key: "trend", label: "Trend", value: (c) => (c.health ? c.health.trend : "") },
  { key: "robots", label: "Robots online", value: (c) => c.robots.online / Math.max(1, c.robots.total) },
  { key: "open_alerts", label: "Open alerts", value: (c) => c.open_alerts },
];

async function renderOverview(view) {
  const data = await api("/api/v1/customers?limit=1000");
  const customers = data.items;
  const options = (key) => [...new Set(customers.map((c) => c[key]).filter(Boolean))].sort();
  const select = (key, label) => el("label", {}, label + " ",
    el("select", { id: "filter-" + key, onchange: (e) => { state[key] = e.target.value; draw(); } },
      el("option", { value: "" }, "all"),
      options(key).map((v) => { const o = el("option", { value: v }, v); o.selected = state[key] === v; return o; })));
  const tbody = el("tbody");
  const head = el("tr", {}, COLUMNS.map((col) => el("th", {
    class: "sortable", "data-sort": col.key,
    onclick: () => { state.sort = { key: col.key, dir: state.sort.key === col.key ? -state.sort.dir : 1 }; draw(); },
  }, col.label)));
  const summary = el("p", { class: "muted", id: "overview-count" });
  view.replaceChildren(el("h1", {}, "Customers"),
    el("div", { class: "filters" }, select("csm", "CSM"), select("scene", "Scene")), summary,
    el("table", { id: "customers" }, el("thead", {}, head), tbody));

  function draw() {
    const col = COLUMNS.find((c) => c.key === state.sort.key) || COLUMNS[4];
    const rows = customers
      .filter((c) => (!state.csm || c.csm === state.csm) && (!state.scene || c.scene === state.scene))
      .sort((a, b) => {
        const va = col.value(a), vb = col.value(b);
        const cmp = typeof va === "string" ? va.localeCompare(vb) : va - vb;
        return (cmp || a.id.localeCompare(b.id)) * state.sort.dir;
      });
    head.querySelectorAll("th").forEach((th) => {
      th.classList.toggle("sorted-asc", th.dataset.sort === col.key && state.sort.dir === 1);
      th.classList.toggle("sorted-desc", th.dataset.sort === col.key && state.sort.dir === -1);
    });
    summary.textContent = `${rows.length} of ${customers.length} customers`;
    tbody.replaceChildren(...rows.map((c) => el("tr", {
      class: "clickable", "data-customer": c.id, "data-color": c.health ? c.health.color : "none",
      onclick: () => { location.hash = "#/customer/" + encodeURIComponent(c.id); },
    },
      el("td", {}, colorDot(c.health && c.health.color)),
      el("td", {}, el("a", { href: "#/customer/" + encodeURIComponent(c.id) }, c.name), " ",
        el("span", { class: "muted" }, c.id)),
      el("td", {}, c.scene), el("td", {}, c.csm),
      el("td", { class: "num score" }, c.health ? c.health.score.toFixed(1) : "–"),
      el("td", {}, c.health ? TREND[c.health.trend] || c.health.trend : ""),
      el("td", { class: "num" }, `${c.robots.online} / ${c.robots.total}`),
      el("td", { class: "num" }, c.open_alerts))));
  }
  draw();
}

// ---- customer page ---------------------------------------------------------------------------

function timelineList(events) {
  if (!events.length) return el("p", { class: "muted" }, "No alerts yet.");
  return el("ul", { class: "timeline" }, events.map((e) => el("li", {},
    el("time", {}, fmtTime(e.ts_ms)), `${e.rule || ""} `, el("strong", {}, e.to_state),
    e.from_state ? ` (from ${e.from_state})` : "", e.robot ? ` · ${e.robot}` : "", ` · by ${e.actor}`,
    e.note ? ` · “${e.note}”` : "", e.summary ? el("div", { class: "muted" }, e.summary) : null)));
}

async function act(alertId, action, body) {
  const resp = await fetch(`/api/v1/alerts/${alertId}/${action}`, {
    method: "POST", body: JSON.stringify(body),
    headers: { Authorization: "Bearer " + token(), "Content-Type": "application/json" },
  });
  if (!resp.ok) {
    let message = resp.statusText;
    try { message = (await resp.json()).error.message; } catch (e) { /* not JSON */ }
    window.alert("Could not " + action + ": " + message);
  }
  render();
}

// "Open alerts (N)": N counts the open ones (the customer's card shows the same number); the
// pending ones listed below are named apart, they are not a call to action yet.
function alertsHeading(alerts, open) {
  const pending = alerts.filter((a) => !OPEN_STATES.includes(a.state)).length;
  return el("h2", { id: "open-alerts-heading" }, `Open alerts (${open})`,
    pending ? el("span", { class: "muted" }, ` · ${pending} pending`) : null);
}

function alertsTable(alerts) {
  if (!alerts.length) return el("p", { class: "muted" }, "No open alerts.");
  const admin = state.role === "admin";
  return el("table", { id: "open-alerts" },
    el("thead", {}, el("tr", {}, el("th", {}, "Opened"), el("th", {}, "Rule"), el("th", {}, "Severity"),
      el("th", {}, "State"), el("th", {}, "Subject"), el("th", {}, "Summary"), admin ? el("th", {}, "") : null)),
    el("tbody", {}, alerts.map((a) => el("tr", { "data-alert": a.id },
      el("td", {}, fmtTime(a.opened_ms)), el("td", {}, a.rule), el("td", {}, a.severity),
      el("td", { class: "alert-state" }, a.state), el("td", {}, a.robot || a.site || a.customer), el("td", {}, a.summary),
      admin ? el("td", {},
        el("button", { type: "button", class: "ack", onclick: () => act(a.id, "ack", {}) }, "Acknowledge"), " ",
        el("button", { type: "button", class: "snooze", onclick: () => act(a.id, "snooze", { minutes: 1440 }) },
          "Snooze 24 h")) : null))));
}

function robotsTable(robots) {
  return el("table", { id: "robots" },
    el("thead", {}, el("tr", {}, el("th", {}, "Robot"), el("th", {}, "Site"), el("th", {}, "State"),
      el("th", {}, "Score"), SUBSYSTEMS.map((s) => el("th", {}, s)), el("th", {}, "Last seen"))),
    el("tbody", {}, robots.map((r) => el("tr", {
      class: "clickable", "data-robot": r.id, onclick: () => { location.hash = "#/robot/" + encodeURIComponent(r.id); },
    },
      el("td", {}, el("a", { href: "#/robot/" + encodeURIComponent(r.id) }, r.id)), el("td", {}, r.site),
      el("td", {}, stateTag(r.state)), el("td", { class: "num" }, r.health ? r.health.score.toFixed(0) : "–"),
      SUBSYSTEMS.map((s) => el("td", {}, stateTag(r.health && r.health.subsystems[s] ? r.health.subsystems[s].state : null))),
      el("td", {}, fmtTime(r.last_seen_ms))))));
}

function usageCharts(usage) {
  return el("div", { class: "charts", id: "usage-charts" }, VOLUMES.map((m) => {
    const v = usage.volumes[m];
    return el("div", { class: "chart", "data-metric": m }, el("h3", {}, m.replace("usage.", "") + " per robot per day"),
      RPCharts.lineChart([{ label: "customer", values: v.per_robot, color: "#3465a4" }].concat(usage.peer_robots
        ? [{ label: "peers", values: v.peers_per_robot, color: "#c47d00", dashed: true }] : []), usage.days),
      el("div", { class: "legend" }, el("span", { class: "own" }, "━ this customer"), "  ",
        usage.peer_robots
          ? el("span", { class: "peer" }, `┅ scene peers (${usage.peer_customers} customers, ${usage.peer_robots} robots)`)
          : el("span", {}, "no other customer in this scene yet")));
  }));
}

async function renderCustomer(view, id) {
  const [c, robots] = await Promise.all([api("/api/v1/customers/" + encodeURIComponent(id)),
    api("/api/v1/customers/" + encodeURIComponent(id) + "/robots?limit=1000")]);
  const h = c.health;
  view.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, "← all customers")),
    el("h1", { id: "customer-name" }, colorDot(h && h.color), " ", c.name, " ", el("span", { class: "muted" }, c.id)),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("div", { class: "label" }, "score"),
        el("div", { class: "big", id: "customer-score" }, h ? h.score.toFixed(1) : "–"),
        el("div", { class: "label" }, h ? `${h.color} since ${fmtTime(h.color_since_ms)} · trend ${TREND[h.trend] || h.trend}` : "no health yet")),
      el("div", { class: "card" }, el("div", { class: "label" }, "robots online"),
        el("div", { class: "big" }, `${c.robots.online} / ${c.robots.total}`),
        el("div", { class: "label" }, `${c.robots.offline} offline · ${c.robots.stale} stale`)),
      el("div", { class: "card" }, el("div", { class: "label" }, "open alerts"),
        el("div", { class: "big", id: "customer-open-alerts" }, c.open_alerts)),
      el("div", { class: "card" }, el("div", { class: "label" }, "contract"),
        el("div", {}, `${c.contract_start || "?"} → ${c.contract_end || "?"}`),
        el("div", { class: "label" }, `${c.scene} · ${c.tier} · CSM ${c.csm} · ARR ${c.arr}`))),
    el("h2", {}, "Score breakdown"),
    el("table", { id: "breakdown" }, el("thead", {}, el("tr", {}, el("th", {}, "Measure"), el("th", {}, "Score"),
      el("th", {}, "Weight"), el("th", {}, "Fact"))),
    el("tbody", {}, c.breakdown.map((b) => el("tr", {}, el("td", {}, b.measure),
      el("td", { class: "num" }, typeof b.score === "number" ? b.score.toFixed(1) : b.score),
      el("td", { class: "num" }, b.weight), el("td", {}, typeof b.fact === "string" ? b.fact : JSON.stringify(b.fact)))))),
    el("h2", {}, `Robots (${robots.total})`), robotsTable(robots.items),
    alertsHeading(c.alerts, c.open_alerts), alertsTable(c.alerts),
    el("h2", {}, "Daily usage, last 30 days, against scene peers"), usageCharts(c.usage),
    el("h2", {}, "Alert timeline"), timelineList(c.timeline));
}

// ---- robot page ------------------------------------------------------------------------------

async function renderRobot(view, id) {
  const r = await api("/api/v1/robots/" + encodeURIComponent(id));
  const subs = (r.health && r.health.subsystems) || {};
  const metrics = Object.keys(r.usage.metrics);
  view.replaceChildren(
    el("p", {}, el("a", { href: "#/customer/" + encodeURIComponent(r.customer) }, "← " + r.customer)),
    el("h1", { id: "robot-name" }, r.id, " ", stateTag(r.state)),
    el("p", { class: "muted" }, `${r.customer} · site ${r.site} · ${r.scene} · agent ${r.agent_version} · ` +
      `status ${r.status.state}${r.status.reason ? " (" + r.status.reason + ")" : ""} · last seen ${fmtTime(r.last_seen_ms)}`),
    el("h2", {}, "Subsystems"),
    el("table", { id: "subsystems" }, el("thead", {}, el("tr", {}, el("th", {}, "Subsystem"), el("th", {}, "State"),
      el("th", {}, "Details"))),
    el("tbody", {}, SUBSYSTEMS.map((s) => el("tr", {}, el("td", {}, s), el("td", {}, stateTag(subs[s] && subs[s].state)),
      el("td", { class: "muted" }, subs[s] ? Object.entries(subs[s]).filter(([k]) => k !== "state")
        .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ") : ""))))),
    alertsHeading(r.alerts, r.alerts.filter((a) => OPEN_STATES.includes(a.state)).length), alertsTable(r.alerts),
    el("h2", {}, "Usage, last 7 days"),
    metrics.length ? el("div", { class: "charts" }, metrics.map((m) => el("div", { class: "chart" }, el("h3", {}, m),
      RPCharts.barChart(r.usage.metrics[m].map((v, i) => ({ label: RPCharts.dayLabel(r.usage.days[i]), value: v }))))))
      : el("p", { class: "muted" }, "No usage recorded."),
    el("h2", {}, "Alert timeline"), timelineList(r.timeline));
}

// ---- routing, login, live feed ---------------------------------------------------------------

async function render() {
  const view = $("#view");
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  const [kind, id] = hash.split("/");
  try {
    if (kind === "customer" && id) await renderCustomer(view, id);
    else if (kind === "robot" && id) await renderRobot(view, id);
    else await renderOverview(view);
  } catch (err) {
    if (token()) view.replaceChildren(el("p", { class: "error" }, "Could not load: " + err.message));
  }
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(render, 300);
}

function startFeed() {
  if (state.feed) state.feed.close();
  const live = $("#live");
  const feed = new EventSource("/api/v1/feed?access_token=" + encodeURIComponent(token()));
  feed.onopen = () => { live.textContent = "● live"; live.className = "live on"; };
  feed.onerror = () => { live.textContent = "● reconnecting"; live.className = "live off"; };
  for (const kind of ["customer_health", "robot_state", "alert", "gap"]) feed.addEventListener(kind, scheduleRefresh);
  state.feed = feed;
}

async function showApp() {
  $("#login").hidden = true;
  $("#view").hidden = false;
  $("#exports").hidden = false;
  try {
    const me = await api("/api/v1/me");
    state.role = me.role;
    $("#who").textContent = `${me.name} (${me.role})`;
  } catch (e) { state.role = ""; }
  startFeed();
  render();
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.feed) state.feed.close();
  state.feed = null;
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

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const candidate = $("#token").value.trim();
    const resp = await fetch("/api/v1/customers?limit=1", { headers: { Authorization: "Bearer " + candidate } });
    if (!resp.ok) {
      const err = $("#login-error");
      err.textContent = resp.status === 401 ? "Unknown token." : "Sign-in failed: " + resp.status;
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
