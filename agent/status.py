"""``robopulse agent status``: what the agent sees, for the field engineer next to the robot.

The running agent writes ``<state_dir>/status.json`` every second (and serves the same JSON on
``[status] listen`` when set).  The command reads it, checks the agent's lock to say plainly when
the agent is not running, and prints a table (or ``--json``).  The OK/WARN/CRIT words use the fixed
thresholds below; the collector's health model is richer and lives in the cloud.
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from agent.outbox import FILE_MODE
from agent.windows import SUMMARY_COUNT, SUMMARY_SUM
from protocol.catalogue import HEALTH_SUBSYSTEMS, USAGE_VOLUMES, WINDOW_SECONDS, error_metrics

STATUS_FILE = "status.json"
LOCK_FILE = "agent.lock"

#: error rate over its denominator in the last hour: (warn, crit)
RATE_LIMITS = (0.05, 0.20)
#: below this many attempts in the hour a rate means little: judge the count per hour instead
MIN_DENOMINATOR = 20
#: counts per hour for metrics without a denominator: (warn, crit)
PER_HOUR_LIMITS = {"net.disconnects": (3, 10), "net.errors": (50, 500)}
DEFAULT_PER_HOUR = (10, 50)
#: share of the hour spent offline: (warn, crit)
OFFLINE_LIMITS = (0.01, 0.10)
WORDS = ("OK", "WARN", "CRIT")


def _level(value: float, limits: tuple[float, float]) -> int:
    return 2 if value >= limits[1] else 1 if value >= limits[0] else 0


def judge(subsystem: str, counts: dict[str, int], covered_s: int) -> tuple[str, str]:
    """(word, why) for one subsystem over the last hour; ``why`` names the threshold that set it."""
    worst, why = 0, "no errors"
    findings = []
    for metric in error_metrics(subsystem):
        n = counts.get(metric.name, 0)
        if metric.denominator == WINDOW_SECONDS:
            share = n / covered_s if covered_s else 0.0
            level = _level(share, OFFLINE_LIMITS)
            text = f"{metric.name} {n}s = {share:.1%} of {covered_s}s"
            limits = (f"{OFFLINE_LIMITS[0]:.0%}", f"{OFFLINE_LIMITS[1]:.0%}")
        elif metric.denominator and counts.get(metric.denominator, 0) >= MIN_DENOMINATOR:
            den = counts[metric.denominator]
            level = _level(n / den, RATE_LIMITS)
            text = f"{metric.name} {n}/{den} = {n / den:.1%}"
            limits = (f"{RATE_LIMITS[0]:.0%}", f"{RATE_LIMITS[1]:.0%}")
        else:
            lim = PER_HOUR_LIMITS.get(metric.name, DEFAULT_PER_HOUR)
            level = _level(n, lim)
            text = f"{metric.name} {n}/h"
            limits = (f"{lim[0]}/h", f"{lim[1]}/h")
        if n:
            findings.append((level, text, limits))
    if findings:
        level, text, limits = max(findings, key=lambda f: f[0])
        worst = level
        why = f"{text} >= {'crit' if level == 2 else 'warn'} {limits[level - 1]}" if level else \
            f"{text} < warn {limits[0]}"
    return WORDS[worst], why


def build_snapshot(config, core, publisher, statsd=None, now_ms: int | None = None, running: bool = True) -> dict:
    """The status document (JSON-ready).  Same shape in the file, over HTTP and in ``--json``."""
    now_ms = core.clock() if now_ms is None else now_ms
    a = config.agent
    last_hour, covered_s = core.recent.last_hour(now_ms)
    oldest = core.outbox.oldest_t0()
    summaries = core.recent.summaries(now_ms)
    summary_keys = {s["name"] + suffix for s in summaries for suffix in (SUMMARY_COUNT, SUMMARY_SUM)}
    subsystems = []
    for name in HEALTH_SUBSYSTEMS:
        word, why = judge(name, last_hour, covered_s)
        prefix = {"network": "net.", "nav": "nav."}.get(name, name + ".")
        counts = {k: v for k, v in sorted(last_hour.items()) if k.startswith(prefix) and k not in summary_keys}
        subsystems.append({"name": name, "state": word, "why": why, "counts": counts})
    today = core.recent.usage_today(now_ms)
    return {
        "running": running, "pid": os.getpid(), "updated_ms": now_ms,
        "robot": a.robot_id, "customer": a.customer_id, "site": a.site_id, "scene": a.scene,
        "interval_s": a.interval_s, "publish_interval_s": a.publish_interval_s,
        "connection": publisher.snapshot(),
        "backlog": {"windows": len(core.outbox), "oldest_t0_ms": oldest,
                    "oldest_age_s": None if oldest is None else max(0, (now_ms - oldest) // 1000)},
        "stream": core.outbox.stream, "next_seq": core.outbox.next_seq,
        "dropped_windows_total": core.outbox.dropped_total,
        "outbox_write": {"failing_since_ms": core.write_failing_since_ms, "error": core.write_error,
                         "windows_waiting": len(core.unstored), "dropped_waiting": core.unstored_dropped},
        "sampler_errors_total": core.sampler_errors_total,
        "statsd": None if statsd is None else {"listen": "%s:%s" % statsd.address[:2],
                                               "lines_total": statsd.lines_total,
                                               "bad_lines_total": statsd.bad_lines_total,
                                               "ignored_tags_total": statsd.ignored_tags_total},
        "last_hour_covered_s": covered_s,
        "subsystems": subsystems,
        "summaries": summaries,
        "usage_today": {"date": core.recent.today_date,
                        "volumes": {k: today.get(k, 0) for k in USAGE_VOLUMES},
                        "skills": {k: v for k, v in sorted(today.items()) if k.startswith("skill.")}},
    }


def write_status(state_dir: str | Path, snapshot: dict) -> None:
    """Atomic replace, so a reader never sees half a file."""
    path = Path(state_dir) / STATUS_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(fd, FILE_MODE)
        f.write(json.dumps(snapshot, ensure_ascii=False))
    os.replace(tmp, path)


def read_status(state_dir: str | Path) -> dict | None:
    try:
        return json.loads((Path(state_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class StatusServer:
    """``[status] listen``: the snapshot as JSON over HTTP on loopback (stdlib, one small thread)."""

    def __init__(self, listen: str, get_snapshot):
        host, _, port = listen.rpartition(":")
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (stdlib name)
                if self.path.split("?")[0] not in ("/", "/status"):
                    self.send_error(404)
                    return
                body = json.dumps(outer.get_snapshot(), ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # no access log on stderr
                pass

        self.get_snapshot = get_snapshot
        self.server = HTTPServer((host.strip("[]"), int(port)), Handler)
        self.address = self.server.server_address
        self._thread = threading.Thread(target=self.server.serve_forever, name="status-http", daemon=True)

    def start(self) -> "StatusServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------ rendering


def when(ms: int | None, now_ms: int) -> str:
    if not ms:
        return "never"
    age = max(0, (now_ms - ms) // 1000)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))
    return f"{stamp} ({_age(age)} ago)"


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}min"
    if seconds < 172800:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 86400}d"


def render(snapshot: dict, now_ms: int | None = None) -> str:
    """The readable table for a person on site."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    s = snapshot
    c = s["connection"]
    lines = [f"robot {s['robot']}  customer {s['customer']}  site {s['site']}  scene {s['scene'] or '-'}",
             f"agent        running (pid {s['pid']}), status updated {when(s['updated_ms'], now_ms)}"]
    if c["connected"]:
        lines.append(f"broker       CONNECTED to {c['broker']}{' (TLS)' if c['tls'] else ''} since {when(c['since_ms'], now_ms)}")
    else:
        lines.append(f"broker       NOT CONNECTED to {c['broker']} since {when(c['since_ms'], now_ms)}")
        if c.get("last_error"):
            lines.append(f"             last error: {c['last_error']}")
    lines.append(f"last publish {when(c['last_publish_ms'], now_ms)}")
    b = s["backlog"]
    oldest = "" if b["oldest_age_s"] is None else f", oldest {_age(b['oldest_age_s'])} old"
    lines.append(f"backlog      {b['windows']} windows{oldest}")
    lines.append(f"dropped      {s['dropped_windows_total']} windows so far (outbox full, or disk full too long)")
    w = s.get("outbox_write") or {}
    if w.get("failing_since_ms"):
        lines.append(f"outbox       WRITES FAILING since {when(w['failing_since_ms'], now_ms)}: {w['error']}")
        lines.append(f"             {w['windows_waiting']} closed windows waiting in memory"
                     f"{', %d dropped' % w['dropped_waiting'] if w['dropped_waiting'] else ''}")
    if s.get("statsd"):
        st = s["statsd"]
        lines.append(f"statsd       {st['listen']}: {st['lines_total']} lines, {st['bad_lines_total']} bad, "
                     f"{st.get('ignored_tags_total', 0)} tags ignored")
    lines.append("")
    lines.append(f"{'subsystem':<10} {'state':<5} last hour ({_age(s['last_hour_covered_s'])} of windows)")
    for sub in s["subsystems"]:
        counts = " ".join(f"{k.split('.', 1)[1]}={v}" for k, v in sub["counts"].items()) or "-"
        lines.append(f"{sub['name']:<10} {sub['state']:<5} {counts}")
        lines.append(f"{'':<10} {'':<5} why: {sub['why']}")
    if s.get("summaries"):
        lines.append("")
        lines.append("timers last hour (count, average, max)")
        for t in s["summaries"]:
            avg = t["sum"] / t["count"] if t["count"] else 0
            peak = "-" if t["max"] is None else f"{t['max']:g}"
            lines.append(f"  {t['name']:<30} n={t['count']} avg={avg:.1f} max={peak}")
    u = s["usage_today"]
    lines.append("")
    lines.append(f"usage today ({u['date'] or '-'}): " + ", ".join(
        f"{k.split('.', 1)[1]} {v}" for k, v in u["volumes"].items()))
    if u["skills"]:
        lines.append("skills today: " + ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in u["skills"].items()))
    return "\n".join(lines) + "\n"
