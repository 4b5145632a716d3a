// The monthly value report page (#/report/<customer>/<YYYY-MM>): a month picker, a print button and
// the report itself, made by the server in the page's language (GET .../reports/<month>?format=html:
// the same HTML the PDF is printed from, so what the CSM checks here is what the customer gets).
// Printing this page gives the report alone on A4 (style.css hides the dashboard around it).
"use strict";

const RPReport = (() => {
  const { t } = RPI18N;

  function monthTitle(label) {
    return t("report.month_title", { year: label.slice(0, 4), month_name: t("report.month." + Number(label.slice(5))) });
  }

  // The month shown when none is asked for: the last complete one, else the current one.
  function defaultMonth(months) { return months.length > 1 ? months[1] : months[0]; }

  async function fetchHtml(id, month) {
    const url = `/api/v1/customers/${encodeURIComponent(id)}/reports/${month}?format=html&lang=${RPI18N.lang}`;
    const resp = await fetch(url, { headers: { Authorization: "Bearer " + sessionStorage.getItem("robopulse_token") } });
    if (!resp.ok) {
      let message = resp.statusText;
      try { message = (await resp.json()).error.message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    return resp.text();
  }

  async function render(view, id, month, { api, el }) {
    const list = await api(`/api/v1/customers/${encodeURIComponent(id)}/reports`);
    const back = el("p", { class: "no-print" }, el("a", { href: "#/customer/" + encodeURIComponent(id) }, t("report.page.back")));
    if (!list.months.length) {
      view.replaceChildren(back, el("p", { class: "muted", id: "report-none" }, t("report.page.none")));
      return;
    }
    const shown = list.months.includes(month) ? month : defaultMonth(list.months);
    const picker = el("select", { id: "report-month-picker", onchange: (e) => {
      location.hash = `#/report/${encodeURIComponent(id)}/${e.target.value}`;
    } }, list.months.map((m) => { const o = el("option", { value: m }, monthTitle(m)); o.selected = m === shown; return o; }));
    const body = el("div", { id: "report-body" }, el("p", { class: "muted" }, t("report.page.loading")));
    view.replaceChildren(back,
      el("div", { class: "report-toolbar no-print" },
        el("label", {}, t("report.page.month") + " ", picker),
        el("button", { type: "button", id: "report-print", onclick: () => window.print() }, t("report.page.print"))),
      body);
    body.innerHTML = await fetchHtml(id, shown);  // server-made, every value escaped there
  }

  return { render, monthTitle };
})();

window.RPReport = RPReport;
