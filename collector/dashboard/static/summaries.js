// Server-made English sentences shown in the page's language: an alert's summary is rendered again
// from its rule and facts (the facts carry the numbers, so they are formatted per locale), and a
// score part's fact is read back through the catalogue's fact_patterns.  When the facts do not have
// what a rule's sentence needs, English shows the server's summary and Chinese "<subject>: <rule>".
"use strict";

const RPSummaries = (() => {
  const { t, term, num, pct, change } = RPI18N;
  const isNum = (v) => typeof v === "number" && Number.isFinite(v);

  // A scene's primary measure as the health cycle names it ("delivery", "guide + interactions": the
  // metrics of [health] scene_measures without their usage./skill. prefix) in the page's language:
  // each part by its metric's catalogue name, joined by "metric.sum"; a metric the catalogue does
  // not know (a site's own skill) is shown as named, as data.
  function measureName(raw) {
    if (typeof raw !== "string" || !raw.trim()) return raw === undefined || raw === null ? "" : String(raw);
    const names = raw.split("+").map((part) => part.trim()).map((part) =>
      (RPI18N.has("metric.usage." + part) ? t("metric.usage." + part)
        : RPI18N.has("metric.skill." + part) ? t("metric.skill." + part) : part));
    return names.reduce((a, b) => t("metric.sum", { a, b }));
  }

  // rule -> (facts, alert) -> [catalogue key, params] or null when the facts lack something
  const RULES = {
    robot_offline: (f, a) => (isNum(f.minutes) && a.robot ? ["summary.robot_offline",
      { robot: a.robot, site: a.site || t("none"), minutes: num(f.minutes), state: term("state.", f.state) }] : null),
    subsystem_degraded: (f, a) => (f.subsystem && f.level && a.robot ? ["summary.subsystem_degraded",
      { subsystem: term("subsystem.", f.subsystem), level: term("state.", f.level), robot: a.robot,
        rate_1h: pct(f.rate_1h), rate_since_yesterday: pct(f.rate_since_yesterday) }] : null),
    site_outage: (f, a) => (isNum(f.robots) && Array.isArray(f.down) && a.site ? ["summary.site_outage",
      { site: a.site, customer: a.customer, down: num(f.down.length), robots: num(f.robots) }] : null),
    usage_drop: (f, a) => (isNum(f.vs_usual_pct) && f.measure
      ? ["summary.usage_drop_usual", { customer: a.customer, measure: measureName(f.measure), change: change(f.vs_usual_pct) }]
      : isNum(f.interactions_7d) && isNum(f.interactions_prev_7d) && f.interactions_prev_7d > 0
      ? ["summary.usage_drop", { customer: a.customer,
        change: change((f.interactions_7d - f.interactions_prev_7d) * 100 / f.interactions_prev_7d) }] : null),
    fleet_dormant: (f, a) => {
      if (!isNum(f.idle_days) || !isNum(f.robots)) return null;
      if (isNum(f.robots_on) && f.robots_on > 0) return ["summary.fleet_dormant", { customer: a.customer,
        on: num(f.robots_on), robots: num(f.robots), days: num(f.idle_days) }];
      return ["summary.fleet_dormant_off", { customer: a.customer, robots: num(f.robots), days: num(f.idle_days) }];
    },
    below_peers: (f, a) => (isNum(f.ratio) && isNum(f.median) && isNum(f.value) && isNum(f.peers) ? ["summary.below_peers",
      { customer: a.customer, value: num(f.value), measure: measureName(f.measure), ratio: pct(f.ratio), median: num(f.median),
        peers: num(f.peers), scene: term("scene.", f.scene) }]
      : null),
    onboarding_stalled: (f, a) => (isNum(f.active_last_7d) && isNum(f.age_days) && a.robot
      ? ["summary.onboarding_stalled", { robot: a.robot, customer: a.customer, active: num(f.active_last_7d),
        age: num(f.age_days) }] : null),
    renewal_risk: (f, a) => {
      if (!isNum(f.days_to_renewal)) return null;
      if (f.days_to_renewal <= 0) return ["summary.renewal_risk_ended", { customer: a.customer, days: num(-f.days_to_renewal) }];
      return ["summary.renewal_risk", { customer: a.customer, days: num(f.days_to_renewal), color: term("color.", f.color) }];
    },
    benchmark_candidate: (f, a) => (isNum(f.interactions_per_robot_day_30d) && isNum(f.robots)
      ? ["summary.benchmark_candidate", { customer: a.customer, value: num(f.interactions_per_robot_day_30d),
        robots: num(f.robots), scene: term("scene.", f.scene) }] : null),
    low_conversion: (f, a) => (isNum(f.conversion) && isNum(f.ratio) && isNum(f.median_conversion) && isNum(f.peers)
      ? ["summary.low_conversion", { customer: a.customer, conversion: pct(f.conversion / 100),
        ratio: num(f.ratio, 2), median: pct(f.median_conversion / 100), peers: num(f.peers),
        scene: term("scene.", f.scene) }] : null),
    goal_at_risk: (f, a) => (f.metric && isNum(f.target) && f.due ? ["summary.goal_at_risk", { customer: a.customer,
      metric: typeof RPGoals !== "undefined" ? RPGoals.metricName(f.metric) : term("goal.metric.", f.metric),
      target: num(f.target, 1),
      due: f.due, progress: num(f.progress, 1), projection: num(f.projection, 1) }] : null),
  };

  // a: an alert or a timeline event ({rule, facts, robot, site, customer, subject, summary});
  // customer: the page's customer id when `a` does not carry one (timeline events).
  function alert(a, customer) {
    const subject = a.robot || a.site || a.customer || customer || a.subject || "";
    const full = Object.assign({ customer: customer || subject }, a);
    const make = RULES[a.rule];
    const found = make && a.facts && typeof a.facts === "object" ? make(a.facts, full) : null;
    if (found) return t(found[0], found[1]);
    if (RPI18N.lang === "en" && a.summary) return a.summary;
    return t("summary.generic", { rule: term("rule.", a.rule), subject });
  }

  // A breakdown row's fact (English, from collector/health/customer.py) in the page's language.
  function fact(measure, text) {
    if (typeof text !== "string") return text === null || text === undefined ? "" : JSON.stringify(text);
    const patterns = (RPI18N.catalogue && RPI18N.catalogue.fact_patterns) || {};
    for (const [key, [source, names]] of Object.entries(patterns)) {
      const m = new RegExp(source).exec(text);
      if (!m) continue;
      const params = {};
      names.forEach((name, i) => {
        const raw = m[i + 1];
        if (name === "scene") params[name] = term("scene.", raw);
        else if (name === "change") params[name] = change(Number(raw.replace("%", "")));
        else if (name === "measure") params[name] = measureName(raw);  // [health] scene_measures' metrics
        else params[name] = num(Number(raw));
      });
      return t(key, params);
    }
    return RPI18N.lang === "en" ? text : t("measure_explain." + measure);
  }

  return { alert, fact, measureName, RULES };
})();

window.RPSummaries = RPSummaries;
