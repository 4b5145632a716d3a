"""``robopulse agent run | status | check-config``.  Imports the pipeline only for ``run``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from protocol.config import ConfigError

DEFAULT_CONFIG = "/etc/robopulse/agent.toml"
EXIT_NOT_RUNNING = 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robopulse agent", description="The edge agent on the robot.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the agent (systemd runs this)")
    run.add_argument("--config", required=True, help="TOML file")
    run.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    st = sub.add_parser("status", help="what the agent sees: connection, backlog, subsystems, usage today")
    st.add_argument("--config", default=DEFAULT_CONFIG, help=f"TOML file (default {DEFAULT_CONFIG})")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    cc = sub.add_parser("check-config", help="validate a config file; exit 2 naming the bad key")
    cc.add_argument("--config", required=True, help="TOML file")
    return p


def _load(path: str):
    from agent.config import load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        sys.stderr.write(f"robopulse agent: bad config: {exc.key}: {exc.reason}\n")
        return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = _load(args.config)
    if config is None:
        return 2
    if args.command == "check-config":
        print(f"{args.config}: OK (robot {config.agent.robot_id}, customer {config.agent.customer_id}, "
              f"broker {config.mqtt.host}:{config.mqtt.port})")
        return 0
    if args.command == "status":
        return status(config, as_json=args.json)
    from agent.runner import run
    from protocol.logs import configure_logging

    configure_logging(args.log_level)
    # whatever the agent (or SQLite) creates beyond the files it sets to 0640 itself: nothing for
    # other users (set here, for the process, not in run(): library callers keep their umask)
    os.umask(0o027)
    return run(config)


def _fetch(listen: str) -> dict | None:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/status"
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return json.loads(resp.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None


def status(config, as_json: bool = False) -> int:
    from agent.outbox import read_summary
    from agent.runner import is_running
    from agent.status import read_status, render, when

    state_dir = Path(config.agent.state_dir)
    snapshot = None
    try:
        if config.status.listen:
            snapshot = _fetch(config.status.listen)
            running = snapshot is not None
        else:
            running = is_running(state_dir)
            if running:
                snapshot = read_status(state_dir)
        summary = None if running else read_summary(state_dir / "outbox.db")
        last = None if running else read_status(state_dir)
    except PermissionError as exc:
        sys.stderr.write(f"robopulse agent: cannot read {exc.filename}: run as root or as the agent's user\n")
        return 4
    if running and snapshot is not None:
        if as_json:
            print(json.dumps(snapshot, ensure_ascii=False, indent=2))
        else:
            sys.stdout.write(render(snapshot))
        return 0
    if running:  # holds the lock but has not written its first status yet
        print(json.dumps({"running": True, "starting": True}) if as_json else "agent starting (no status yet)")
        return 0
    if as_json:
        print(json.dumps({"running": False, "outbox": summary,
                          "last_status_ms": last.get("updated_ms") if last else None}, indent=2))
    else:
        print(f"agent not running (nothing holds {state_dir / 'agent.lock'})")
        if summary is not None:
            print(f"outbox: {summary['windows']} windows waiting, {summary['dropped_total']} dropped so far, "
                  f"next seq {summary['next_seq']} (stream {summary['stream']})")
        if last is not None:
            print(f"last status written {when(last.get('updated_ms'), int(time.time() * 1000))}")
    return EXIT_NOT_RUNNING
