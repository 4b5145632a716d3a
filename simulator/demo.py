"""``robopulse demo``: a private broker, the collector and a simulated fleet on this machine.

    robopulse demo [--data-dir ./demo-data] [--port 8080] [--speed 1] [--duration S] [--headless]

1. a private Mosquitto on a free loopback port (config and data under ``<data-dir>/broker``);
2. the collector (``robopulse collector run``) on SQLite under ``<data-dir>``, with the built-in
   scenario's customers imported (``robopulse collector import-customers``), then its commercial
   events and success goals (``import-events``, ``import-goals``);
3. the built-in scenario (simulator/scenarios/demo.toml): 8 customers, 60 robots, 30 days of history
   back-filled in 1-hour windows, then live with faults every few minutes;
4. prints the dashboard URL and a viewer token; Ctrl-C (or ``--duration``) stops everything cleanly.

Each run starts from a clean ``<data-dir>``.  The collector's evaluation runs every 5 s and a few
alert durations are shortened (see ``DEMO_COLLECTOR``) so that a newcomer sees green, yellow and red
customers and firing alerts within two minutes; docs/demo.md lists them.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from protocol.config import ConfigError

#: while the history is ingested: no evaluation (the first, on an empty store, finds nothing to judge)
HISTORY_PHASE = """
[health]
interval_s = 86400
"""

#: collector settings of the demo (TOML text appended to the generated config); documented in docs/demo.md
DEMO_COLLECTOR = """
[health]
interval_s = 5

[alerts.robot_offline]
threshold = 2.0

[alerts.subsystem_degraded]
for_s = 60

[alerts.site_outage]
for_s = 30
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robopulse demo",
                                description="broker + collector + simulated fleet on this machine")
    p.add_argument("--data-dir", default="demo-data", help="where everything is kept (wiped at start)")
    p.add_argument("--port", type=int, default=8080, help="HTTP port of the dashboard (0: any free port)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--duration", type=float, default=None, help="stop after this many real seconds")
    p.add_argument("--backfill-days", type=float, default=None, help="days of history (default 30)")
    p.add_argument("--scenario", default="demo", help="scenario TOML (default: the built-in demo)")
    p.add_argument("--headless", action="store_true",
                   help="no banner, JSON lines only (for tests and CI); the URL and tokens are also in "
                        "<data-dir>/demo.json")
    return p


def _pick_port(wanted: int) -> int:
    """``wanted``, or any free port when it is 0 or already taken (8080 often is)."""
    import socket

    from simulator.broker import free_port

    if wanted:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", wanted))
                return wanted
            except OSError:
                print(f"robopulse demo: port {wanted} is in use, using a free one", file=sys.stderr)
    return free_port()


def write_collector_config(path: Path, db: Path, broker_port: int, http_port: int,
                           tokens: dict[str, str], settings: str) -> None:
    lines = [
        "[collector]", f"db = {json.dumps(str(db))}", 'log_level = "warning"', "",
        "[mqtt]", 'host = "127.0.0.1"', f"port = {broker_port}", 'client_id = "robopulse-demo-collector"', "",
        "[http]", f'listen = "127.0.0.1:{http_port}"', "",
    ]
    for role, token in tokens.items():
        lines += ["[[http.tokens]]", f'token = "{token}"', f'role = "{role}"', f'name = "demo-{role}"', ""]
    path.write_text("\n".join(lines) + settings, encoding="utf-8")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "protocol.cli", *args]


def _start_collector(config: Path, log, url: str, data: Path) -> subprocess.Popen:
    proc = subprocess.Popen(_cli("collector", "run", "--config", str(config)), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    _wait_http(url + "healthz", proc, data / "collector.log")
    return proc


def _stop_collector(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _stored(url: str) -> float:
    with urllib.request.urlopen(url + "metrics", timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("robopulse_store_windows_stored_total "):
                return float(line.split()[-1])
    return 0.0


def _wait_stored(url: str, windows: int, proc: subprocess.Popen, data: Path, timeout: float = 180.0) -> None:
    """Until the collector has stored ``windows`` windows (the whole history)."""
    deadline = time.monotonic() + timeout
    while _stored(url) < windows:
        if proc.poll() is not None:
            raise RuntimeError(f"the collector exited {proc.returncode}; see {data / 'collector.log'}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the collector stored {_stored(url):.0f} of {windows} history windows "
                               f"in {timeout:.0f} s; see {data / 'collector.log'}")
        time.sleep(0.5)


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the collector exited {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"the collector did not answer on {url}")


def _import_outcomes(scn, data: Path, config: Path) -> None:
    """The scenario's commercial events and success goals (issue 14), through the collector's own
    ``import-events`` and ``import-goals``, so the demo's customers show outcomes and goals."""
    from simulator import outcomes

    for command, name, text in (("import-events", "events.csv", outcomes.events_csv(scn)),
                                ("import-goals", "goals.csv", outcomes.goals_csv(scn))):
        (data / name).write_text(text, encoding="utf-8")
        done = subprocess.run(_cli("collector", command, str(data / name), "--config", str(config), "--by", "demo"),
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{command} failed: {done.stdout}{done.stderr}")


def _say(headless: bool, event: str, text: str, **fields) -> None:
    """A line for a person, or a JSON line for a test (``--headless``)."""
    if headless:
        print(json.dumps({"event": event, **fields}, ensure_ascii=False), flush=True)
    else:
        print(text.format(**fields), flush=True)


def run(args: argparse.Namespace, stop: threading.Event) -> int:
    from protocol.logs import configure_logging
    from simulator import scenario as scenario_mod
    from simulator.broker import Mosquitto
    from simulator.fleet import Fleet

    data = Path(args.data_dir).resolve()
    if data.exists():
        for child in ("broker", "sim", "robopulse.db", "robopulse.db-wal", "robopulse.db-shm", "collector.log",
                      "sim.log", "demo.json", "customers.csv", "collector.toml", "events.csv", "goals.csv"):
            target = data / child
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    data.mkdir(parents=True, exist_ok=True)
    sim_log = open(data / "sim.log", "a", encoding="utf-8")
    configure_logging("warning", json=True, stream=sim_log)

    path = scenario_mod.builtin(args.scenario) if args.scenario == "demo" else Path(args.scenario)
    scn = scenario_mod.load(path, int(time.time() * 1000))
    http_port = _pick_port(args.port)
    tokens = {"viewer": "viewer-" + secrets.token_hex(12), "admin": "admin-" + secrets.token_hex(12)}
    url = f"http://127.0.0.1:{http_port}/"

    broker = Mosquitto(data / "broker").start()
    collector: subprocess.Popen | None = None
    fleet: Fleet | None = None
    col_log = open(data / "collector.log", "ab")
    config = data / "collector.toml"
    try:
        # Phase 1: the collector ingests the history with its health evaluation paused, and no
        # customers yet: judged half-loaded, a customer would look red for a moment, and an alert
        # like renewal_risk, once fired, rightly stays.  A real collector has had the history all along.
        write_collector_config(config, data / "robopulse.db", broker.port, http_port, tokens, HISTORY_PHASE)
        collector = _start_collector(config, col_log, url, data)
        fleet = Fleet(scn, data / "sim", "127.0.0.1", broker.port, speed=args.speed, workers=2)
        _say(args.headless, "demo_backfilling",
             "robopulse demo: back-filling {days:g} days of history for {robots} robots...",
             days=scn.backfill_days if args.backfill_days is None else args.backfill_days, robots=len(fleet.robots))
        fleet.backfill(args.backfill_days)
        fleet.start()
        _wait_stored(url, fleet.ledger.windows(), collector, data)
        _stop_collector(collector)
        # Phase 2: customers and contracts in, the collector with the demo's settings.
        (data / "customers.csv").write_text(scenario_mod.customers_csv(scn), encoding="utf-8")
        imported = subprocess.run(_cli("collector", "import-customers", str(data / "customers.csv"),
                                       "--config", str(config)), capture_output=True, text=True)
        if imported.returncode != 0:
            raise RuntimeError(f"import-customers failed: {imported.stdout}{imported.stderr}")
        _import_outcomes(scn, data, config)
        write_collector_config(config, data / "robopulse.db", broker.port, http_port, tokens, DEMO_COLLECTOR)
        collector = _start_collector(config, col_log, url, data)
        info = {"url": url, "viewer_token": tokens["viewer"], "admin_token": tokens["admin"],
                "broker_port": broker.port, "http_port": http_port, "customers": len(scn.customers),
                "robots": len(fleet.robots), "data_dir": str(data),
                "days": scn.backfill_days if args.backfill_days is None else args.backfill_days}
        (data / "demo.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
        _say(args.headless, "demo_ready", BANNER, **info)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while not stop.is_set():
            if collector.poll() is not None:
                raise RuntimeError(f"the collector exited {collector.returncode}; see {data / 'collector.log'}")
            if deadline is not None and time.monotonic() >= deadline:
                break
            stop.wait(0.5)
        _say(args.headless, "demo_stopping", "robopulse demo: stopping...")
        return 0
    finally:
        if fleet is not None:
            fleet.stop(flush_timeout_s=10)
        if collector is not None:
            _stop_collector(collector)
        broker.stop()
        col_log.close()
        sim_log.close()


BANNER = """
robopulse demo is running: {customers} customers, {robots} robots, {days:g} days of history, live faults.

  Dashboard:     {url}
  Viewer token:  {viewer_token}
  Admin token:   {admin_token}   (acknowledge and snooze alerts)

  API example:   curl -H 'Authorization: Bearer {viewer_token}' {url}api/v1/customers
  Data, logs:    {data_dir}

Colours and alerts appear within two minutes.  Ctrl-C stops everything.
"""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        return run(args, stop)
    except ConfigError as exc:
        sys.stderr.write(f"robopulse demo: {exc}\n")
        return 2
    except RuntimeError as exc:
        sys.stderr.write(f"robopulse demo: {exc}\n")
        return 1
