// The handover page (#/handover/<id>, issue 15, seed 003): a CSM taking over an account finds the
// whole context in one place: success goals, contract and commercial events, contacts, notes (an
// admin writes them here, signed with the token's person), open alerts, the last 90 days of the
// alert timeline and links to the monthly reports.  Uses app.js's helpers (el, api, alertsTable,
// timelineList, ...); every visible string comes from the catalogue, times are in the customer's zone.
"use strict";

const RPHandover = (() => {
  const { t, term, num } = RPI18N;
  const GOALS_ROUTE = "/api/v1/customers/{id}/goals";
  const REPORT_ROUTE = "/api/v1/customers/{id}/reports/{month}";
  // the dashboard's report page for a customer's month (the report work's route)
  const reportHash = (id, month) => "#/report/" + encodeURIComponent(id) + "/" + month;
  let routes = null;  // the API's paths, from its public OpenAPI document (read once)

  // Which optional parts this collector serves (goals, reports): asked of the OpenAPI document
  // rather than by calling them, so a collector without them shows a line, not a failed request.
  async function served() {
    if (!routes) {
      try {
        const resp = await fetch("/api/v1/openapi.json");
        routes = new Set(Object.keys((await resp.json()).paths || {}));
      } catch (e) { routes = new Set(); }
    }
    return routes;
  }

  async function post(path, body, method) {
    const resp = await fetch(path, {
      method: method || "POST", body: body === undefined ? undefined : JSON.stringify(body),
      headers: { Authorization: "Bearer " + token(), "Content-Type": "application/json" },
    });
    if (resp.ok) return true;
    let message = resp.statusText;
    try { message = (await resp.json()).error.message; } catch (e) { /* not JSON */ }
    return message;
  }

  // ---- parts -----------------------------------------------------------------------------------

  function table(id, heads, rows) {
    return el("table", { id }, el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, h)))),
      el("tbody", {}, rows));
  }

  function cell(value) { return el("td", {}, value === null || value === undefined || value === "" ? t("none") : value); }

  // The customer's local calendar day today ("YYYY-MM-DD"), for the days left on the contract.
  function localToday(zone) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  }

  function daysBetween(from, to) {
    const p = (s) => s.split("-").map(Number);
    const [a, b] = [p(from), p(to)];
    return Math.round((Date.UTC(b[0], b[1] - 1, b[2]) - Date.UTC(a[0], a[1] - 1, a[2])) / 86400000);
  }

  function contractPart(c, events, zone) {
    const lines = [el("p", { id: "handover-contract" },
      t("handover.contract_span", { start: RPI18N.date(c.contract_start), end: RPI18N.date(c.contract_end) }),
      c.contract_end ? t("list.sep") : "",
      c.contract_end ? (() => {
        const left = daysBetween(localToday(zone), c.contract_end);
        return left >= 0 ? t("handover.contract_left", { days: num(left) }) : t("handover.contract_over", { days: num(-left) });
      })() : "",
      t("list.sep"),
      t("handover.contract_detail", { arr: RPI18N.money(c.arr), csm: c.csm || t("none"), tier: term("tier.", c.tier) }),
      c.distributor ? t("list.sep") + t("handover.distributor", { name: c.distributor }) : "")];
    if (!events.length) return lines.concat(el("p", { class: "muted" }, t("handover.events_none")));
    return lines.concat(table("handover-events",
      [t("handover.event.date"), t("handover.event.kind"), t("handover.event.amount"), t("handover.event.detail"),
        t("handover.event.by")],
      events.slice().reverse().map((e) => el("tr", { "data-kind": e.kind },
        el("td", {}, RPI18N.date(e.date)), el("td", {}, term("event_kind.", e.kind)),
        el("td", { class: "num" }, e.kind === "churn" && !e.amount ? t("none") : RPI18N.money(e.amount)),
        el("td", {}, [e.robots ? t("handover.event.robots", { n: num(e.robots) }) : null,
          e.contract_end ? t("handover.event.new_end", { date: RPI18N.date(e.contract_end) }) : null,
          e.referred_by ? t("handover.event.referred_by", { customer: e.referred_by }) : null,
          e.note || null].filter(Boolean).join(t("list.sep")) || t("none")),
        el("td", {}, e.actor)))));
  }

  function contactsPart(id, contacts, admin) {
    const heads = ["name", "role", "phone", "email", "wechat", "note"].map((k) => t("handover.contact." + k))
      .concat(t("handover.contact.by"), admin ? "" : null).filter((h) => h !== null);
    const list = contacts.length ? table("handover-contacts", heads, contacts.map((c) => el("tr", { "data-contact": c.id },
      el("td", { class: "contact-name" }, c.name), cell(c.role), cell(c.phone),
      cell(c.email ? el("a", { href: "mailto:" + c.email }, c.email) : ""), cell(c.wechat), cell(c.note),
      el("td", { class: "muted" }, c.actor),
      admin ? el("td", {}, el("button", { type: "button", class: "contact-remove", onclick: async () => {
        if (!window.confirm(t("handover.contact_remove_confirm", { name: c.name }))) return;
        const done = await post(`/api/v1/customers/${encodeURIComponent(id)}/contacts/${c.id}`, undefined, "DELETE");
        if (done !== true) window.alert(t("error.action", { action: t("action.remove_contact"), message: done }));
        render();
      } }, t("handover.contact_remove"))) : null)))
      : el("p", { class: "muted" }, t("handover.contacts_none"));
    if (!admin) return [list];
    const fields = ["name", "role", "phone", "email", "wechat", "note"];
    const form = el("form", { id: "contact-form", class: "handover-form" },
      el("div", { class: "label" }, t("handover.contact_form")),
      fields.map((f) => el("label", {}, t("handover.contact." + f) + " ",
        el("input", { name: f, id: "contact-" + f, type: f === "email" ? "email" : "text", required: f === "name" ? "" : null }))),
      el("button", { type: "submit", id: "contact-save" }, t("handover.contact_save")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {};
      fields.forEach((f) => { const v = form.elements[f].value.trim(); if (v) body[f] = v; });
      const done = await post(`/api/v1/customers/${encodeURIComponent(id)}/contacts`, body);
      if (done !== true) { window.alert(t("error.action", { action: t("action.contact"), message: done })); return; }
      form.reset();
      render();
    });
    return [list, form];
  }

  function notesPart(id, notes, zone, admin) {
    const out = [];
    if (admin) {
      const me = state.me || {};
      const form = el("form", { id: "note-form", class: "handover-form" },
        el("label", { for: "note-text", class: "label" }, t("handover.note_form")),
        el("textarea", { id: "note-text", name: "text", rows: 3, maxlength: 4000, required: "" }),
        el("div", {}, el("button", { type: "submit", id: "note-save" }, t("handover.note_save")), " ",
          el("span", { class: "muted", id: "note-signed" }, me.person ? t("handover.note_signed", { person: me.person })
            : t("handover.note_unsigned", { name: me.name || t("none") }))));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const done = await post(`/api/v1/customers/${encodeURIComponent(id)}/notes`, { text: form.elements.text.value });
        if (done !== true) { window.alert(t("error.action", { action: t("action.note"), message: done })); return; }
        form.reset();
        render();
      });
      out.push(form);
    }
    if (!notes.items.length) return out.concat(el("p", { class: "muted" }, t("handover.notes_none")));
    out.push(el("ul", { class: "notes", id: "handover-notes" }, notes.items.map((n) => el("li", { "data-note": n.id },
      el("div", { class: "muted note-by" }, t("handover.note_by", { author: n.author, time: fmtTime(n.created_ms, zone) })),
      el("div", { class: "note-text" }, n.text)))));
    if (notes.total > notes.items.length) {
      out.push(el("p", { class: "muted" }, t("handover.notes_more", { shown: num(notes.items.length), total: num(notes.total) })));
    }
    return out;
  }

  function monthLabel(m) {
    const [year, month] = m.month.split("-");
    const label = t("handover.month", { year, month });
    return m.complete ? label : t("handover.month_partial", { month: label });
  }

  function reportsPart(id, months, available) {
    if (!available) return el("p", { class: "muted" }, t("handover.reports_unavailable"));
    if (!months.length) return el("p", { class: "muted" }, t("handover.reports_none"));
    return el("ul", { class: "reports", id: "handover-reports" }, months.map((m) => el("li", {},
      el("a", { href: reportHash(id, m.month), "data-month": m.month }, monthLabel(m)))));
  }

  // A half-written note or contact survives the redraw a live-feed event causes.
  function keepDrafts(view) {
    const drafts = {};
    view.querySelectorAll("#note-form textarea, #contact-form input").forEach((n) => { if (n.value) drafts[n.id] = n.value; });
    return () => Object.entries(drafts).forEach(([nid, v]) => { const n = document.getElementById(nid); if (n) n.value = v; });
  }

  // ---- the page --------------------------------------------------------------------------------

  async function renderPage(view, id) {
    const base = "/api/v1/customers/" + encodeURIComponent(id);
    const paths = await served();
    const hasGoals = paths.has(GOALS_ROUTE);
    const [c, h, goals] = await Promise.all([api(base), api(base + "/handover"),
      hasGoals ? api(base + "/goals").catch(() => null) : Promise.resolve(null)]);
    const zone = RPI18N.zoneOf(c);
    state.zones[c.id] = zone;
    const admin = state.role === "admin";
    const health = c.health;
    const restore = keepDrafts(view);
    const parts = [
      el("p", {}, el("a", { href: "#/customer/" + encodeURIComponent(c.id), id: "handover-back" }, t("handover.back"))),
      el("h1", { id: "handover-name" }, colorDot(health && health.color), " ", t("handover.title", { name: c.name }), " ",
        el("span", { class: "muted" }, c.id)),
      zoneNote(zone, health && health.computed_ms),
      el("p", { class: "muted" }, t("handover.intro", { days: num(h.days) })),
      el("p", { id: "handover-summary" }, t("handover.summary", {
        score: health ? num(health.score, 1) : t("none"), color: term("color.", health ? health.color : "none"),
        online: num(c.robots.online), total: num(c.robots.total), alerts: num(c.open_alerts) })),
      // the goals work's own section (goals.js: a card per goal, the same as on the customer page)
      hasGoals && typeof RPGoals !== "undefined" ? RPGoals.section(goals)
        : [el("h2", {}, t("handover.goals")),
          el("p", { class: "muted", id: "handover-goals-unavailable" }, t("handover.goals_unavailable"))],
      el("h2", {}, t("handover.contract")), contractPart(c, h.events, zone),
      el("h2", {}, t("handover.contacts")), contactsPart(c.id, h.contacts, admin),
      el("h2", {}, t("handover.notes")), notesPart(c.id, h.notes, zone, admin),
      alertsHeading(c.alerts, c.open_alerts), alertsTable(c.alerts, zone),
      el("h2", {}, t("handover.timeline", { days: num(h.days) })),
      h.timeline_truncated ? el("p", { class: "muted" }, t("handover.timeline_truncated", { n: num(h.timeline.length) })) : null,
      el("div", { id: "handover-timeline" }, timelineList(h.timeline, zone, c.id)),
      el("h2", {}, t("handover.reports")), reportsPart(c.id, h.months, paths.has(REPORT_ROUTE))];
    view.replaceChildren(...parts.flat().filter((p) => p !== null && p !== undefined));
    restore();
  }

  return { render: renderPage, reportHash };
})();

window.RPHandover = RPHandover;
