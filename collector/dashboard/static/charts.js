// Plain SVG charts: no library, no CDN.  Each function returns an <svg> element.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(value)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= value) return m * p;
  return 10 * p;
}

// A UTC day (the API's day_ms) in the page's locale ("11/27", "11月27日"); numbers likewise.
function dayLabel(ms) { return window.RPI18N ? RPI18N.day(ms) : new Date(ms).toISOString().slice(5, 10); }
function axisNumber(v) { return window.RPI18N ? RPI18N.num(v) : String(v); }

// series: [{label, values: [number], color}], days: [ms] (same length as values)
function lineChart(series, days, opts) {
  const o = Object.assign({ width: 360, height: 150, pad: 30 }, opts || {});
  const svg = svgEl("svg", { viewBox: `0 0 ${o.width} ${o.height}`, role: "img", class: "line-chart" });
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const n = Math.max(1, days.length - 1);
  const x = (i) => o.pad + (i * (o.width - o.pad - 8)) / n;
  const y = (v) => o.height - 18 - (v / max) * (o.height - 28);
  for (const frac of [0, 0.5, 1]) {
    const yy = y(max * frac);
    svg.append(svgEl("line", { x1: o.pad, x2: o.width - 8, y1: yy, y2: yy, stroke: "#e3e6eb" }));
    svg.append(svgEl("text", { x: o.pad - 4, y: yy + 3, "text-anchor": "end", "font-size": 9, fill: "#8a8f98" },
      axisNumber(Math.round(max * frac))));
  }
  for (const i of [0, Math.floor(n / 2), n]) {
    if (days[i] !== undefined) {
      const anchor = i === 0 ? "start" : i === n ? "end" : "middle";
      svg.append(svgEl("text", { x: x(i), y: o.height - 4, "text-anchor": anchor, "font-size": 9,
        fill: "#8a8f98" }, dayLabel(days[i])));
    }
  }
  for (const s of series) {
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const line = svgEl("polyline", { points, fill: "none", stroke: s.color, "stroke-width": 2,
      "data-series": s.label });
    if (s.dashed) line.setAttribute("stroke-dasharray", "4 3");
    svg.append(line);
  }
  return svg;
}

// values: [{label, value}]
function barChart(values, opts) {
  const o = Object.assign({ width: 360, height: 140, pad: 30, color: "#3465a4" }, opts || {});
  const svg = svgEl("svg", { viewBox: `0 0 ${o.width} ${o.height}`, role: "img", class: "bar-chart" });
  const max = niceMax(Math.max(0, ...values.map((v) => v.value)));
  const w = (o.width - o.pad - 8) / Math.max(1, values.length);
  values.forEach((v, i) => {
    const h = (v.value / max) * (o.height - 28);
    svg.append(svgEl("rect", { x: o.pad + i * w + 2, y: o.height - 18 - h, width: Math.max(1, w - 4), height: h,
      fill: o.color }));
    svg.append(svgEl("text", { x: o.pad + i * w + w / 2, y: o.height - 4, "text-anchor": "middle",
      "font-size": 9, fill: "#8a8f98" }, v.label));
  });
  svg.append(svgEl("text", { x: o.pad - 4, y: 13, "text-anchor": "end", "font-size": 9, fill: "#8a8f98" },
    axisNumber(max)));
  return svg;
}

window.RPCharts = { lineChart, barChart, dayLabel };
