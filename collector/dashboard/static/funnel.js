// Issue 14 on the dashboard: the customer's funnel (foot traffic -> solicitations -> wake-ups ->
// interactions), its lifecycle stage with the reason, and the overview's below-average panel.  The
// reason is said from its code and values (facts.lifecycle: code, args), not the server's English,
// so it reads in the page's language.  Uses el() and api() of app.js (called only after it loaded).
"use strict";

const RPFunnel = (() => {
  const { t, term, num, pct, change, date } = RPI18N;
  const STAGES = ["signing", "launch", "growth", "maturity", "decline", "renewal", "churn"];
  const isNum = (v) => typeof v === "number" && Number.isFinite(v);

  // facts.lifecycle {stage, reason, code, args} -> the reason in the page's language
  function reason(lc) {
    if (!lc || !lc.code) return t("lifecycle.none");
    const a = lc.args || {};
    const params = {};
    for (const [k, v] of Object.entries(a)) {
      if (k === "date" || k === "renewed") params[k] = date(v);
      else if (k === "change") params[k] = change(v);
      else params[k] = isNum(v) ? num(v) : v;
    }
    const text = t("lifecycle_reason." + lc.code, params);
    return a.renewed ? text + "; " + t("lifecycle.renewed", { date: params.renewed }) : text;
  }

  function stageTag(stage) {
    return el("span", { class: "lifecycle " + (stage || "none"), "data-lifecycle": stage || "" },
      stage ? term("lifecycle.", stage) : t("lifecycle.none"));
  }

  function lifecycleCard(c) {
    const lc = (c.facts && c.facts.lifecycle) || null;
    return el("div", { class: "card", id: "customer-lifecycle" }, el("div", { class: "label" }, t("card.lifecycle")),
      el("div", { class: "big" }, stageTag(c.lifecycle)),
      el("div", { class: "label", id: "lifecycle-reason" }, reason(lc)));
  }

  // the funnel as a table with a bar per stage (its width: the stage's share of the foot traffic)
  function funnelSection(f) {
    if (!f) return [];
    const top = Math.max(1, f.volumes.foot_traffic || 0, ...f.stages.map((s) => s.volume));
    const scene = f.scene && isNum(f.scene.median_conversion)
      ? t("funnel.scene_median", { scene: term("scene.", f.scene.scene), value: pct(f.scene.median_conversion / 100),
        peers: num(f.scene.peers) })
      : t("funnel.no_peers");
    return [
      el("h2", {}, t("funnel.title")),
      el("p", { class: "muted", id: "funnel-period" }, t("funnel.period", { from: date(f.from), to: date(f.to), days: num(f.days) })),
      el("table", { id: "funnel" },
        el("thead", {}, el("tr", {}, el("th", {}, t("funnel.stage")), el("th", {}, t("funnel.volume")),
          el("th", {}, t("funnel.rate")), el("th", {}, t("funnel.per_robot_day")), el("th", {}, ""))),
        el("tbody", {}, f.stages.map((s) => el("tr", { "data-stage": s.stage },
          el("td", {}, term("metric.", "usage." + s.stage)),
          el("td", { class: "num volume" }, num(s.volume)),
          el("td", { class: "num" }, isNum(s.rate) ? pct(s.rate / 100) : t("none")),
          el("td", { class: "num" }, f.robot_days ? num(s.volume / f.robot_days, 1) : t("none")),
          el("td", { class: "bar-cell" }, el("span", { class: "funnel-bar",
            style: `width: ${Math.round((100 * s.volume) / top)}%` })))))),
      el("p", { id: "funnel-conversion" }, el("strong", {}, t("funnel.conversion", {
        value: isNum(f.conversion) ? pct(f.conversion / 100) : t("none") })), " ", el("span", { class: "muted" }, scene)),
    ];
  }

  // the overview's panel: customers under their scene's average score (seed 002)
  async function belowAverage() {
    const data = await api("/api/v1/below-average");
    const items = data.items;
    return el("section", { id: "below-average" },
      el("h2", {}, t("below.title")), el("p", { class: "muted" }, t("below.explain")),
      items.length ? el("table", { id: "below-average-table" },
        el("thead", {}, el("tr", {}, el("th", {}, t("col.customer")), el("th", {}, t("col.scene")),
          el("th", {}, t("col.score")), el("th", {}, t("below.average")), el("th", {}, t("below.gap")),
          el("th", {}, t("col.lifecycle")), el("th", {}, t("col.csm")))),
        el("tbody", {}, items.map((c) => el("tr", { class: "clickable", "data-customer": c.id,
          onclick: () => { location.hash = "#/customer/" + encodeURIComponent(c.id); } },
          el("td", {}, colorDot(c.color), " ", el("a", { href: "#/customer/" + encodeURIComponent(c.id) }, c.name)),
          el("td", {}, term("scene.", c.scene)), el("td", { class: "num" }, num(c.score, 1)),
          el("td", { class: "num" }, num(c.average, 1)), el("td", { class: "num" }, num(-c.gap, 1)),
          el("td", {}, stageTag(c.lifecycle)), el("td", {}, c.csm)))))
        : el("p", { class: "muted" }, t("below.none")));
  }

  return { STAGES, reason, stageTag, lifecycleCard, funnelSection, belowAverage };
})();

window.RPFunnel = RPFunnel;
