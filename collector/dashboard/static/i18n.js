// The dashboard's languages: the message catalogue (messages.json, one object per language with the
// same keys), the language choice (remembered switch, else the browser's languages) and the
// locale's number and date formats.  Every string the dashboard shows goes through t().
"use strict";

const RPI18N = (() => {
  const LANG_KEY = "robopulse_lang";
  const SUPPORTED = ["zh-CN", "en"];
  const DEFAULT_ZONE = "Asia/Shanghai";  // [health] timezone's default (contract section 6)
  let catalogue = null;
  let lang = "en";
  let formatLocale = "en";
  const listeners = [];

  // "zh", "zh-CN", "zh-TW", ... -> zh-CN; "en-*" -> en; anything else is not ours.
  function supported(tag) {
    const t = String(tag || "").toLowerCase();
    if (t.startsWith("zh")) return "zh-CN";
    if (t.startsWith("en")) return "en";
    return null;
  }

  // The remembered choice first, then the first browser language we speak, then English.
  function chooseLanguage() {
    const saved = localStorage.getItem(LANG_KEY);
    if (SUPPORTED.includes(saved)) return saved;
    for (const tag of navigator.languages || [navigator.language]) {
      const found = supported(tag);
      if (found) return found;
    }
    return "en";
  }

  // Numbers and dates follow the browser's own variant of the chosen language (en-US, en-GB...).
  function chooseFormatLocale(language) {
    if (language === "zh-CN") return "zh-CN";
    const own = (navigator.languages || []).find((tag) => supported(tag) === language);
    return own || language;
  }

  // Without its catalogue the page still works, showing message keys (and says so in the console).
  async function load() {
    try {
      const resp = await fetch("/static/messages.json", { cache: "no-cache" });
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      catalogue = await resp.json();
    } catch (err) {
      console.error("i18n: messages.json not loaded:", err.message);
      catalogue = { languages: {}, messages: { en: {}, "zh-CN": {} }, fact_patterns: {} };
    }
    use(chooseLanguage(), false);
  }

  function use(language, remember) {
    lang = SUPPORTED.includes(language) ? language : "en";
    formatLocale = chooseFormatLocale(lang);
    if (remember) localStorage.setItem(LANG_KEY, lang);
    document.documentElement.lang = lang;
    applyStatic();
    listeners.forEach((fn) => fn(lang));
  }

  function has(key) { return Boolean(catalogue && key in catalogue.messages[lang]); }

  // t("alerts.heading", {n: 3}): the message of the current language with its {placeholders} filled.
  // A missing key shows the key itself (the catalogue test and the page walk both catch it).
  function t(key, params) {
    const messages = catalogue ? catalogue.messages[lang] : {};
    const text = key in messages ? messages[key] : key;
    if (!(key in messages)) console.warn("i18n: no message", key);
    return text.replace(/\{(\w+)\}/g, (m, name) =>
      (params && params[name] !== undefined && params[name] !== null ? String(params[name]) : m));
  }

  // A value from a fixed vocabulary (scene, tier, state...): its message, or the value itself when
  // the catalogue does not know it (a customer's own scene name is data, shown as entered).
  function term(prefix, value) {
    if (value === null || value === undefined || value === "") return t("none");
    return has(prefix + value) ? t(prefix + value) : String(value);
  }

  function num(value, digits) {
    if (typeof value !== "number" || !Number.isFinite(value)) return t("none");
    const d = digits === undefined ? 0 : digits;
    return new Intl.NumberFormat(formatLocale, { minimumFractionDigits: d, maximumFractionDigits: d }).format(value);
  }

  // A share 0..1 as a percent ("40%", "40.5%").
  function pct(fraction, digits) {
    if (typeof fraction !== "number" || !Number.isFinite(fraction)) return t("none");
    return new Intl.NumberFormat(formatLocale, { style: "percent", maximumFractionDigits: digits ?? 1 }).format(fraction);
  }

  // A change in percent points of a base ("+12%", "-30%").
  function change(percent) {
    if (typeof percent !== "number" || !Number.isFinite(percent)) return t("none");
    return new Intl.NumberFormat(formatLocale, { style: "percent", maximumFractionDigits: 0,
      signDisplay: "exceptZero" }).format(percent / 100);
  }

  function money(value) {
    if (typeof value !== "number" || !Number.isFinite(value)) return t("none");
    return new Intl.NumberFormat(formatLocale, { maximumFractionDigits: 0 }).format(value);
  }

  function zoneOk(zone) {
    try { new Intl.DateTimeFormat("en", { timeZone: zone }); return true; } catch (e) { return false; }
  }

  // A customer's time zone: its `timezone` when the API gives a valid one, else Asia/Shanghai.
  function zoneOf(customer) {
    const zone = customer && customer.timezone;
    return zone && zoneOk(zone) ? zone : DEFAULT_ZONE;
  }

  function dateTime(ms, zone) {
    if (ms === null || ms === undefined) return "";
    return new Intl.DateTimeFormat(formatLocale, { year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone || DEFAULT_ZONE }).format(new Date(ms));
  }

  // A "YYYY-MM-DD" calendar date (contract dates) in the locale's form, no zone shift.
  function date(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
    if (!m) return text ? String(text) : t("unknown");
    return new Intl.DateTimeFormat(formatLocale, { year: "numeric", month: "2-digit", day: "2-digit",
      timeZone: "UTC" }).format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])));
  }

  // A UTC day (the API's day_ms) as a short month-day label for chart axes.
  function day(ms) {
    return new Intl.DateTimeFormat(formatLocale, { month: "numeric", day: "numeric", timeZone: "UTC" })
      .format(new Date(ms));
  }

  // "UTC+8 Asia/Shanghai": which zone the page's times are in.
  function zoneLabel(zone, atMs) {
    let offset = "";
    try {
      const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" })
        .formatToParts(new Date(atMs || Date.now())).find((p) => p.type === "timeZoneName");
      offset = part ? part.value.replace("GMT", "UTC") : "";
    } catch (e) { /* an engine without shortOffset: the name alone */ }
    if (offset === "UTC") offset = "UTC+0";
    return t("tz.shown", { zone: (offset ? offset + " " : "") + zone });
  }

  // Static text in index.html: data-i18n="key" sets the text, data-i18n-title="key" the tooltip.
  function applyStatic() {
    document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
    document.querySelectorAll("[data-i18n-title]").forEach((n) => { n.title = t(n.dataset.i18nTitle); });
    document.title = t("app.title");
    document.querySelectorAll("[data-lang]").forEach((b) => {
      b.classList.toggle("active", b.dataset.lang === lang);
      b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    });
  }

  return {
    load, use, t, term, has, num, pct, change, money, dateTime, date, day, zoneOf, zoneLabel, DEFAULT_ZONE,
    onChange: (fn) => listeners.push(fn),
    get lang() { return lang; },
    get catalogue() { return catalogue; },
  };
})();

window.RPI18N = RPI18N;
