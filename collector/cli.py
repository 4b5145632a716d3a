"""``robopulse collector ...``: run the collector, import customers."""

from __future__ import annotations

import argparse
import os
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
    return parser


#: files the collector creates (the store, its -wal and -shm, the lock) are 0640 and folders 0750:
#: the store holds customer names and contracts, readable by the service's group (backups), no one else
UMASK = 0o027


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    os.umask(UMASK)
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

    store = open_store(config.collector.db)
    try:
        return import_file(args.csv, store.registry, out=sys.stdout, err=sys.stderr)
    finally:
        store.close()
