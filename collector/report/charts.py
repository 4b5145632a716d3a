"""The report's charts as inline SVG strings: no script, no external file, so the same markup shows
in the dashboard, in a saved .html file and in the PDF Chromium prints.

Each chart has a fixed ``viewBox`` and scales to the width of its column (``width: 100%``); the
report's CSS keeps a figure on one page.  Every text drawn is given already translated and is
escaped here.
"""

from __future__ import annotations

from html import escape

INK, MUTED, GRID = "#1f2933", "#6b7785", "#d9dee4"
BAR, BAR_PREV, GOOD, WARN, PEER = "#2f6fb3", "#a9c3e0", "#2e8540", "#c0392b", "#e08a1e"


def _t(x: float, y: float, text: str, size: int = 11, anchor: str = "start", fill: str = INK,
       weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg class="rchart" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
            f'preserveAspectRatio="xMidYMid meet">{"".join(body)}</svg>')


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    mag = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * mag:
            return step * mag
    return 10 * mag


def daily_bars(values: list[float], labels: list[str], fmt, label: str, lines: list[tuple[float, str, str]]) -> str:
    """Bars per day with horizontal reference lines ``(value, colour, legend)`` (benchmark, peers)."""
    w, h, left, right, top, bottom = 720, 230, 56, 10, 26, 40
    top_value = _nice_max(max([*values, *(v for v, _, _ in lines)], default=0) * 1.05)
    plot_w, plot_h = w - left - right, h - top - bottom
    body = []
    for i in range(5):
        v = top_value * i / 4
        y = top + plot_h - plot_h * v / top_value
        body.append(f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>')
        body.append(_t(left - 6, y + 4, fmt(v), 10, "end", MUTED))
    n = max(1, len(values))
    slot = plot_w / n
    for i, v in enumerate(values):
        bh = plot_h * v / top_value
        body.append(f'<rect x="{left + i * slot + slot * 0.15:.1f}" y="{top + plot_h - bh:.1f}" '
                    f'width="{slot * 0.7:.1f}" height="{bh:.1f}" fill="{BAR}"/>')
        if i % max(1, round(n / 10)) == 0 or i == n - 1:
            body.append(_t(left + (i + 0.5) * slot, h - bottom + 16, labels[i], 10, "middle", MUTED))
    x = left
    for v, colour, legend in lines:
        y = top + plot_h - plot_h * v / top_value
        body.append(f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" '
                    f'stroke-width="2" stroke-dasharray="6 4"/>')
        body.append(f'<line x1="{x}" x2="{x + 22}" y1="12" y2="12" stroke="{colour}" stroke-width="2" '
                    f'stroke-dasharray="6 4"/>')
        body.append(_t(x + 28, 16, legend, 11))
        x += 40 + 7 * len(legend) * (2 if any(ord(ch) > 0x2e80 for ch in legend) else 1)
    return _svg(w, h, body, label)


def funnel(steps: list[tuple[str, float, str]], fmt, label: str) -> str:
    """Horizontal bars narrowing from foot traffic to interactions: ``(name, total, step text)``."""
    w, row, left, right = 720, 38, 130, 270
    h = row * len(steps) + 8
    top_value = max([s[1] for s in steps], default=0) or 1
    body = []
    for i, (name, total, step) in enumerate(steps):
        y = 4 + i * row
        bw = max(2.0, (w - left - right) * total / top_value)
        x = left + (w - left - right - bw) / 2
        body.append(_t(left - 10, y + 21, name, 12, "end"))
        body.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{bw:.1f}" height="{row - 10}" rx="3" fill="{BAR}"/>')
        body.append(_t(w - right + 12, y + 21, fmt(total), 12, "start", INK, "bold"))
        if step:
            body.append(_t(w - right + 92, y + 21, step, 10, "start", MUTED))
    return _svg(w, h, body, label)


def paired_bars(rows: list[tuple[str, float | None, float | None]], fmt, legends: tuple[str, str], label: str) -> str:
    """For each row, this month against a comparison (the month before, the peers) side by side."""
    w, row, left = 720, 34, 150
    h = row * len(rows) + 30
    top_value = _nice_max(max([v or 0 for _, a, b in rows for v in (a, b)], default=0))
    plot_w = w - left - 90
    body = [f'<rect x="{left}" y="6" width="14" height="10" fill="{BAR}"/>', _t(left + 20, 15, legends[0], 11),
            f'<rect x="{left + 200}" y="6" width="14" height="10" fill="{BAR_PREV}"/>',
            _t(left + 220, 15, legends[1], 11)]
    for i, (name, a, b) in enumerate(rows):
        y = 26 + i * row
        body.append(_t(left - 10, y + 17, name, 12, "end"))
        for j, (v, colour) in enumerate(((a, BAR), (b, BAR_PREV))):
            if v is None:
                continue
            bw = max(1.0, plot_w * v / top_value)
            body.append(f'<rect x="{left}" y="{y + 2 + j * 13}" width="{bw:.1f}" height="11" fill="{colour}"/>')
            body.append(_t(left + bw + 6, y + 12 + j * 13, fmt(v), 10, "start", MUTED))
    return _svg(w, h, body, label)


def progress(value: float, target: float, fmt, label: str, caption: str) -> str:
    """A bar filled to ``value`` of ``target`` (the benchmark), with the target marked."""
    w, h, left, right = 720, 56, 10, 10
    span = max(value, target) * 1.1 or 1
    plot_w = w - left - right
    fill = GOOD if value >= target else BAR
    tx = left + plot_w * target / span
    body = [f'<rect x="{left}" y="14" width="{plot_w}" height="18" rx="4" fill="{GRID}"/>',
            f'<rect x="{left}" y="14" width="{plot_w * value / span:.1f}" height="18" rx="4" fill="{fill}"/>',
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="8" y2="38" stroke="{WARN}" stroke-width="2"/>',
            _t(tx, 52, caption, 11, "middle", WARN),
            _t(left + 4, 28, fmt(value), 12, "start", "#ffffff", "bold")]
    return _svg(w, h, body, label)
