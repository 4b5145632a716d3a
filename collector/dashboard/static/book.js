// A CSM's book of business (#/csm/<name>): the CSM's customers worst first with colour, lifecycle
// stage (when the health cycle gave one) and success goals, ARR, contract end and open alerts; ARR at risk;
// what changed in each customer's last 7 local days.  Everything from GET /api/v1/csms/{csm} as it
// is (the e2e test compares the numbers with the API's).  Uses app.js's helpers (el, api, colorDot),
// goals.js's metric names and funnel.js's stage tag.
"use strict";

function bookCard(id, label, big, detail) {
  return el("div", { class: "card", id }, el("div", { class: "label" }, label), el("div", { class: "big" }, big),
    detail ? el("div", { class: "label" }, detail) : null);
}

function bookSummary(s) {
  const colors = ["red", "yellow", "green", "none"].filter((c) => s.colors[c]).map((c) =>
    el("span", { class: "color-count", "data-color": c }, colorDot(c === "none" ? null : c), " ", num(s.colors[c])));
  return el("div", { class: "cards", id: "book-summary" },
    bookCard("book-customers", t("book.customers"), num(s.customers), colors.length ? el("span", {}, ...colors) : null),
    bookCard("book-arr", t("book.arr"), RPI18N.money(s.arr)),
    bookCard("book-arr-at-risk", t("outcomes.arr_at_risk"), RPI18N.money(s.arr_at_risk),
      t("book.customers_at_risk", { n: num(s.customers_at_risk) })),
    bookCard("book-open-alerts", t("card.open_alerts"), num(s.open_alerts)),
    s.goals ? bookCard("book-goals", t("book.goals"), num(Object.values(s.goals).reduce((a, b) => a + b, 0)),
      t("book.goals_detail", { at_risk: num(s.goals.at_risk), on_track: num(s.goals.on_track),
        achieved: num(s.goals.achieved), missed: num(s.goals.missed) })) : null,
    bookCard("book-renewals", t("book.renewals_due"), num(s.renewals_due.days_90.customers),
      t("book.renewals_bands", { d30: num(s.renewals_due.days_30.customers), d60: num(s.renewals_due.days_60.customers),
        arr: RPI18N.money(s.renewals_due.days_90.arr) })));
}

// A goal as GET /api/v1/customers/{id}/goals judges it (metric, target, progress, status).
function goalText(g) {
  const value = (v) => (typeof v !== "number" ? t("none")
    : g.unit === "%" ? t("goals.percent", { value: num(v, 1) }) : num(v, 1));
  return t("book.goal", { metric: RPGoals.metricName(g.metric), status: term("goal.status.", g.status),
    progress: value(g.progress), target: value(g.target) });
}

function bookCustomers(customers) {
  const lifecycle = customers.some((c) => c.lifecycle);
  const goals = customers.some((c) => Array.isArray(c.goals) && c.goals.length);
  return el("table", { id: "book-customers-table" },
    el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, t("col.customer")),
      lifecycle ? el("th", {}, t("book.lifecycle")) : null, el("th", {}, t("col.scene")),
      el("th", { class: "num" }, t("col.score")), el("th", { class: "num" }, t("outcomes.arr")),
      el("th", {}, t("outcomes.contract_end")), el("th", { class: "num" }, t("outcomes.days_left")),
      goals ? el("th", {}, t("book.goals")) : null, el("th", { class: "num" }, t("col.open_alerts")),
      el("th", {}, t("book.alerts")))),
    el("tbody", {}, customers.map((c) => el("tr", {
      "data-customer": c.id, "data-color": c.health ? c.health.color : "none", "data-at-risk": String(c.arr_at_risk),
    },
      el("td", {}, colorDot(c.health && c.health.color)),
      el("td", {}, el("a", { href: "#/customer/" + encodeURIComponent(c.id) }, c.name), " ",
        el("span", { class: "muted" }, c.id), c.arr_at_risk ? el("span", { class: "tag risk" }, t("book.at_risk")) : null),
      lifecycle ? el("td", { class: "stage" }, RPFunnel.stageTag(c.lifecycle)) : null,
      el("td", {}, term("scene.", c.scene)),
      el("td", { class: "num" }, c.health ? num(c.health.score, 1) : t("none")),
      el("td", { class: "num arr" }, RPI18N.money(c.arr)),
      el("td", {}, RPI18N.date(c.contract_end)),
      el("td", { class: "num" }, typeof c.days_to_contract_end === "number" ? num(c.days_to_contract_end) : t("none")),
      goals ? el("td", { class: "goals" }, (c.goals || []).length
        ? el("ul", { class: "plain" }, c.goals.map((g) => el("li", { "data-goal": g.id, "data-status": g.status,
          class: "goal " + g.status }, goalText(g)))) : t("none")) : null,
      el("td", { class: "num open" }, num(c.open_alerts)),
      el("td", {}, c.alerts.length ? el("ul", { class: "plain" }, c.alerts.map((a) => el("li", { "data-alert": a.id },
        el("span", { class: "sev " + a.severity }, term("severity.", a.severity)), " ", term("rule.", a.rule),
        el("div", { class: "muted" }, RPSummaries.alert(a))))) : t("none"))))));
}

function weekList(id, items, line) {
  return el("ul", { class: "timeline", id }, items.length ? items.map(line) : el("li", { class: "muted" }, t("book.nothing")));
}

function bookWeek(week, zones) {
  const when = (a, ms) => fmtTime(ms, zones[a.customer]);
  return [
    el("h2", {}, t("book.week", { days: num(week.days) })),
    el("p", { class: "muted" }, t("book.week_note")),
    el("h3", {}, t("book.color_changes", { n: num(week.color_changes.length) })),
    weekList("week-colors", week.color_changes, (x) => el("li", { "data-customer": x.customer },
      el("time", {}, RPI18N.date(x.date)), t("book.color_change", { customer: x.name,
        from: term("color.", x.from || "none"), to: term("color.", x.to) }))),
    el("h3", {}, t("book.alerts_opened", { n: num(week.alerts_opened.length) })),
    weekList("week-opened", week.alerts_opened, (a) => el("li", { "data-alert": a.id },
      el("time", {}, when(a, a.fired_ms)), t("book.alert_line", { customer: a.name, rule: term("rule.", a.rule),
        severity: term("severity.", a.severity), state: term("alert_state.", a.state) }))),
    el("h3", {}, t("book.alerts_resolved", { n: num(week.alerts_resolved.length) })),
    weekList("week-resolved", week.alerts_resolved, (a) => el("li", { "data-alert": a.id },
      el("time", {}, when(a, a.resolved_ms)), t("book.alert_line", { customer: a.name, rule: term("rule.", a.rule),
        severity: term("severity.", a.severity), state: term("alert_state.", a.state) }))),
    el("h3", {}, t("book.events", { n: num(week.events.length) })),
    weekList("week-events", week.events, (e) => el("li", { "data-event": e.id },
      el("time", {}, RPI18N.date(e.date)), t("book.event_line", { customer: e.name, kind: term("event_kind.", e.kind),
        amount: RPI18N.money(e.amount), actor: e.actor }))),
  ];
}

async function renderBook(view, csm) {
  const b = await api("/api/v1/csms/" + encodeURIComponent(csm));
  const zones = {};
  b.customers.forEach((c) => { zones[c.id] = RPI18N.zoneOf(c); state.zones[c.id] = zones[c.id]; });
  view.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, t("customer.back")), " · ", el("a", { href: "#/outcomes?group=csm" }, t("nav.outcomes"))),
    el("h1", { id: "book-title" }, t("book.title", { csm: b.csm })),
    el("p", { class: "muted" }, t("book.today", { today: RPI18N.date(b.today) })),
    bookSummary(b.summary),
    el("h2", {}, t("book.customers_heading", { n: num(b.customers.length) })), bookCustomers(b.customers),
    ...bookWeek(b.week, zones));
}
