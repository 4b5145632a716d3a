// A customer's success goals on its page (issue 14): one card per goal with its metric, status,
// a progress bar (its level against the target), the projection to the due date and its progress
// per local day against the target.  Figures come from GET /api/v1/customers/{id}/goals; every
// visible string from the catalogue (messages.json).  Uses app.js's `el` at render time.
"use strict";

const RPGoals = (() => {
  const { t, term, num } = RPI18N;

  function metricName(metric) {
    if (typeof metric === "string" && metric.startsWith("skill:")) {
      const skill = metric.slice(6);
      return t("goal.metric.skill", { skill: term("metric.skill.", skill) });
    }
    return term("goal.metric.", metric);
  }

  // A value in the goal's unit: percents as "45.0%", counts with one decimal.
  function value(v, unit) {
    if (typeof v !== "number" || !Number.isFinite(v)) return t("none");
    return unit === "%" ? t("goals.percent", { value: num(v, 1) }) : num(v, 1);
  }

  function bar(g) {
    const share = typeof g.progress_pct === "number" ? Math.max(0, Math.min(100, g.progress_pct)) : 0;
    return el("div", { class: "goal-bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
      "aria-valuenow": Math.round(share) },
    el("div", { class: "goal-fill " + g.status, style: `width: ${share}%` }));
  }

  function chart(g) {
    if (!g.days.length || !window.RPCharts) return null;
    const days = g.days.map((d) => Date.UTC(+d.date.slice(0, 4), +d.date.slice(5, 7) - 1, +d.date.slice(8, 10)));
    return RPCharts.lineChart([
      { label: "value", values: g.days.map((d) => (typeof d.value === "number" ? d.value : 0)), color: "#3465a4" },
      { label: "target", values: g.days.map(() => g.target), color: "#c47d00", dashed: true }], days,
    { height: 110 });
  }

  function card(g) {
    return el("div", { class: "goal-card", "data-goal": g.id, "data-status": g.status },
      el("div", { class: "goal-head" }, el("strong", {}, metricName(g.metric)), " ",
        el("span", { class: "goal-status " + g.status, title: term("goal.reason.", g.reason) }, term("goal.status.", g.status))),
      bar(g),
      el("div", { class: "goal-figures" }, t("goals.progress_text", { progress: value(g.progress, g.unit),
        target: value(g.target, g.unit), pct: typeof g.progress_pct === "number" ? t("goals.percent", { value: num(g.progress_pct, 0) }) : t("none") })),
      el("div", { class: "label" }, t("goals.projection_text", { projection: value(g.projection, g.unit) })),
      el("div", { class: "label" }, t("goals.due_text", { start: RPI18N.date(g.start), due: RPI18N.date(g.due),
        days: num(g.days_left) })),
      g.note ? el("div", { class: "label goal-note" }, g.note) : null,
      chart(g),
      el("div", { class: "legend" }, el("span", { class: "own" }, t("goals.legend_value")), "  ",
        el("span", { class: "peer" }, t("goals.legend_target"))));
  }

  // The page's section: its heading and the cards (or a line saying there are none).
  function section(data) {
    const items = (data && data.items) || [];
    return el("section", { id: "goals" }, el("h2", {}, t("goals.title", { n: num(items.length) })),
      items.length ? el("div", { class: "goal-cards" }, items.map(card))
        : el("p", { class: "muted" }, t("goals.none")),
      data ? el("p", { class: "muted zone" }, t("goals.local_days", { today: RPI18N.date(data.today) })) : null);
  }

  return { section, metricName };
})();
