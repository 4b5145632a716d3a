"""``robopulse sim run``: drive a scenario's robots through the real agent code against a broker.

    robopulse sim run --scenario FILE [--ledger OUT.json] [--speed N] [--duration S]
                      [--backfill-days D] [--broker HOST:PORT] [--state-dir DIR] [--start OFFSET]
                      [--workers N] [--log-level LEVEL]

Exit status: 0 when every window reached the broker (the ledger says ``"complete": true``),
1 when some were left undelivered (robots still switched off or cut off at the end), 2 on a bad
scenario or command line.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from protocol.config import ConfigError, host_port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robopulse sim", description="simulated robots through the real agent")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario against a broker")
    run.add_argument("--scenario", required=True, help="scenario TOML file (docs/simulator.md); 'demo' for the built-in one")
    run.add_argument("--ledger", help="write what every robot emitted, per metric, to this JSON file")
    run.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second (default 1)")
    run.add_argument("--duration", type=float, default=None,
                     help="simulated seconds to run live, then stop cleanly (default: until Ctrl-C)")
    run.add_argument("--backfill-days", type=float, default=None,
                     help="days of history in long windows before going live (default: the scenario's)")
    run.add_argument("--broker", default="127.0.0.1:1883", help="MQTT broker host:port")
    run.add_argument("--state-dir", default=None, help="where the robots' outboxes live (default: a temp dir)")
    run.add_argument("--start", default="0",
                     help="when the live part starts, relative to now (e.g. -2h: with --speed the fleet "
                          "catches up with the wall clock)")
    run.add_argument("--workers", type=int, default=4, help="threads driving the robots (default 4)")
    run.add_argument("--flush-timeout", type=float, default=60.0, help="seconds to deliver outboxes at the end")
    run.add_argument("--log-level", default="info")
    return parser


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    from protocol.logs import configure_logging, get_logger
    from simulator import scenario as scenario_mod
    from simulator.fleet import Fleet

    if host_port(args.broker) or not args.broker:
        raise ConfigError("--broker", f"{args.broker!r} is not host:port")
    if args.speed <= 0:
        raise ConfigError("--speed", "must be greater than 0")
    host, _, port = args.broker.rpartition(":")
    now_ms = int(time.time() * 1000) + int(scenario_mod.parse_offset(args.start, "--start") * 1000)
    path = scenario_mod.builtin(args.scenario) if args.scenario == "demo" else args.scenario
    scn = scenario_mod.load(path, now_ms)
    configure_logging(args.log_level)  # after validation: a bad command line only prints its error
    log = get_logger("simulator.cli")
    state_dir = Path(args.state_dir) if args.state_dir else Path(tempfile.mkdtemp(prefix="robopulse-sim-"))
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        if threading.current_thread() is threading.main_thread():
            signal.signal(sig, lambda *_: stop.set())
    fleet = Fleet(scn, state_dir, host, int(port), speed=args.speed, workers=args.workers)
    began = time.monotonic()
    history = fleet.backfill(args.backfill_days)
    fleet.start()
    log.info("sim_started", scenario=scn.name, robots=len(fleet.robots), backfilled=history,
             backfill_s=round(time.monotonic() - began, 1), broker=args.broker, speed=args.speed)
    fleet.run_for(args.duration, stop)
    left = fleet.stop(args.flush_timeout)
    extra = {"complete": not left, "undelivered": left, "errors": fleet.errors,
             "live_start_ms": scn.live_start_ms, "end_ms": fleet.clock.now_ms(), "speed": args.speed}
    if args.ledger:
        fleet.ledger.write(args.ledger, extra)
    log.info("sim_finished", windows=fleet.ledger.windows(), undelivered=sum(left.values()), errors=fleet.errors)
    return 0 if not left and not fleet.errors else 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except ConfigError as exc:
        sys.stderr.write(f"robopulse sim: {exc}\n")
        return 2
