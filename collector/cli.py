"""``robopulse collector ...``: run the collector, import customers and commercial events."""

from __future__ import annotations

import argparse
import sys

from protocol.config import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robopulse collector", description="The cloud collector.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the collector: MQTT ingest, store, health, alerts, HTTP")
    run.add_argument("--config", required=True, help="TOML config file")
    imp = sub.add_parser("import-customers", help="load or update customers and contracts from a CSV file")
    imp.add_argument("csv", help="CSV with header id,name,scene,tier,contract_start,contract_end,arr,csm")
    imp.add_argument("--config", required=True, help="TOML config file (for [collector] db)")
    _add_import_events(sub)
    return parser


def _add_import_events(sub) -> None:
    """``import-events`` (issue 14): commercial events, refused whole on a bad row."""
    imp = sub.add_parser("import-events", help="record renewals, expansions, churns and referrals from a CSV file")
    imp.add_argument("csv", help="CSV with header customer,date,kind,amount,robots,referred_by,contract_end,note")
    imp.add_argument("--config", required=True, help="TOML config file (for [collector] db)")
    imp.add_argument("--by", default=None, help="who is importing (recorded with each event; default: the OS user)")


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from collector.config import load
    from protocol.logs import configure_logging

    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"robopulse collector: config error: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.collector.log_level)
    if args.command == "run":
        from collector.service import run

        return run(config)
    from collector.store import open_store
    from collector.store.customers import import_file

    if args.command == "import-events":
        return _import_events(args, config)
    store = open_store(config.collector.db)
    try:
        return import_file(args.csv, store.registry, out=sys.stdout, err=sys.stderr)
    finally:
        store.close()


def _import_events(args, config) -> int:
    from collector.store import open_store
    from collector.store.events import import_file

    store = open_store(config.collector.db)
    try:
        return import_file(args.csv, store.registry, out=sys.stdout, err=sys.stderr, actor=args.by)
    finally:
        store.close()
