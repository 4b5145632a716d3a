// The Outcomes page (#/outcomes?from=&to=&group=): the six outcome rates of contract section 6 by
// count and by amount for a chosen period, optionally per CSM, scene, tier or distributor; ARR at
// risk; renewals due in 30/60/90 days with each customer's health colour.  Everything shown comes
// from GET /api/v1/outcomes as it is: the page formats, it never recomputes (the e2e test compares
// the numbers with the API's).  Uses app.js's helpers (el, api, colorDot).
"use strict";

const OUTCOME_GROUPS = ["csm", "scene", "tier", "distributor"];
// [rate key, numerator, denominator, count (true) or ARR]
const OUTCOME_RATES = [
  ["renewal_rate_by_count", "customers_renewed", "customers_due", true],
  ["renewal_rate_by_amount", "arr_renewed", "arr_due", false],
  ["expansion_rate_by_count", "customers_expanded", "customers_at_start", true],
  ["expansion_rate_by_amount", "arr_expanded", "arr_at_start", false],
  ["referral_rate_by_count", "customers_referred", "customers_at_start", true],
  ["referral_rate_by_amount", "arr_referred", "arr_at_start", false],
];

// A rate in percent (the API's) as the locale writes it; null (nobody to divide by) as "–".
function ratePct(value) { return typeof value === "number" ? RPI18N.pct(value / 100, 2) : t("none"); }

function outcomeQuery(params) {
  const q = new URLSearchParams();
  for (const key of ["from", "to", "group"]) if (params.get(key)) q.set(key, params.get(key));
  return q.toString();
}

function groupKey(group, key) {
  if (key === "") return t("outcomes.no_group_value");
  if (group === "scene") return term("scene.", key);
  if (group === "tier") return term("tier.", key);
  if (group === "csm") return el("a", { href: "#/csm/" + encodeURIComponent(key) }, key);
  return key;
}

function rateCards(o) {
  return el("div", { class: "cards", id: "outcome-rates" }, OUTCOME_RATES.map(([rate, part, whole, count]) =>
    el("div", { class: "card", "data-rate": rate, "data-value": o[rate] === null ? "null" : o[rate] },
      el("div", { class: "label" }, t("outcomes." + rate)),
      el("div", { class: "big rate" }, ratePct(o[rate])),
      el("div", { class: "label" }, t(count ? "outcomes.of_customers" : "outcomes.of_arr",
        { part: count ? num(o[part]) : RPI18N.money(o[part]), whole: count ? num(o[whole]) : RPI18N.money(o[whole]) })))),
    el("div", { class: "card risk", "data-value": o.arr_at_risk },
      el("div", { class: "label" }, t("outcomes.arr_at_risk")),
      el("div", { class: "big", id: "arr-at-risk" }, RPI18N.money(o.arr_at_risk)),
      el("div", { class: "label" }, t("outcomes.arr_at_risk_detail"))));
}

function groupTable(body) {
  if (!body.group) return null;
  return el("table", { id: "outcome-groups" },
    el("thead", {}, el("tr", {}, el("th", {}, t("outcomes.group." + body.group)),
      OUTCOME_RATES.map(([rate]) => el("th", { class: "num" }, t("outcomes.short." + rate))),
      el("th", { class: "num" }, t("outcomes.arr_at_risk")))),
    el("tbody", {}, body.groups.map((g) => el("tr", { "data-key": g.key },
      el("td", {}, groupKey(body.group, g.key)),
      OUTCOME_RATES.map(([rate]) => el("td", { class: "num", "data-rate": rate }, ratePct(g[rate]))),
      el("td", { class: "num", "data-rate": "arr_at_risk" }, RPI18N.money(g.arr_at_risk))))));
}

function renewalsDue(due) {
  return [
    el("div", { class: "cards", id: "renewal-bands" }, [30, 60, 90].map((days) => {
      const band = due["days_" + days];
      return el("div", { class: "card", "data-band": days },
        el("div", { class: "label" }, t("outcomes.due_within", { days: num(days) })),
        el("div", { class: "big" }, num(band.customers)),
        el("div", { class: "label" }, t("outcomes.due_arr", { arr: RPI18N.money(band.arr) })));
    })),
    due.customers.length ? el("table", { id: "renewals-due" },
      el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, t("col.customer")), el("th", {}, t("col.csm")),
        el("th", {}, t("outcomes.contract_end")), el("th", { class: "num" }, t("outcomes.days_left")),
        el("th", { class: "num" }, t("outcomes.arr")), el("th", { class: "num" }, t("col.score")))),
      el("tbody", {}, due.customers.map((c) => el("tr", { "data-customer": c.customer, "data-color": c.color || "none" },
        el("td", {}, colorDot(c.color)),
        el("td", {}, el("a", { href: "#/customer/" + encodeURIComponent(c.customer) }, c.name)),
        el("td", {}, c.csm ? el("a", { href: "#/csm/" + encodeURIComponent(c.csm) }, c.csm) : t("none")),
        el("td", {}, RPI18N.date(c.contract_end)), el("td", { class: "num" }, num(c.days_left)),
        el("td", { class: "num" }, RPI18N.money(c.arr)),
        el("td", { class: "num" }, typeof c.score === "number" ? num(c.score, 1) : t("none"))))))
      : el("p", { class: "muted" }, t("outcomes.none_due")),
  ];
}

// outcomes.csv of the period and grouping shown (the same figures, for Excel and BI tools).
async function downloadOutcomes(query) {
  const resp = await fetch("/api/v1/export/outcomes.csv" + (query ? "?" + query : ""),
    { headers: { Authorization: "Bearer " + token() } });
  if (!resp.ok) return;
  const url = URL.createObjectURL(await resp.blob());
  const a = el("a", { href: url, download: "outcomes.csv" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function renderOutcomes(view, query) {
  const params = new URLSearchParams(query || "");
  const body = await api("/api/v1/outcomes" + (outcomeQuery(params) ? "?" + outcomeQuery(params) : ""));
  const from = el("input", { type: "date", id: "outcomes-from", value: body.from });
  const to = el("input", { type: "date", id: "outcomes-to", value: body.to });
  const group = el("select", { id: "outcomes-group" }, el("option", { value: "" }, t("outcomes.group.none")),
    OUTCOME_GROUPS.map((g) => { const o = el("option", { value: g }, t("outcomes.group." + g)); o.selected = body.group === g; return o; }));
  const show = (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ from: from.value, to: to.value });
    if (group.value) q.set("group", group.value);
    location.hash = "#/outcomes?" + q.toString();
  };
  view.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, t("customer.back"))),
    el("h1", { id: "outcomes-title" }, t("outcomes.title")),
    el("form", { class: "filters", id: "outcomes-form", onsubmit: show },
      el("label", {}, t("outcomes.from") + " ", from), el("label", {}, t("outcomes.to") + " ", to),
      el("label", {}, t("outcomes.group") + " ", group), el("button", { type: "submit" }, t("outcomes.show")),
      el("button", { type: "button", id: "outcomes-csv", onclick: () => downloadOutcomes(outcomeQuery(params)) },
        t("outcomes.export"))),
    el("p", { class: "muted", id: "outcomes-period" }, t("outcomes.period", { from: RPI18N.date(body.from),
      to: RPI18N.date(body.to), today: RPI18N.date(body.today), grace: num(body.renewal_grace_days) })),
    rateCards(body.overall),
    groupTable(body),
    el("h2", {}, t("outcomes.renewals_due")),
    ...renewalsDue(body.renewals_due));
}
