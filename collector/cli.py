"""``robopulse collector ...``: run the collector, import customers, the asset registry and
commercial events and success goals, generate the broker's accounts and ACL from the registry, write monthly
value reports."""

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
    rob = sub.add_parser("import-robots", help="load the asset registry (robot, customer, site, activated) "
                                               "from a CSV file; a file with a bad row is refused whole")
    rob.add_argument("csv", help="CSV with header robot,customer,site,activated (optional model)")
    rob.add_argument("--config", required=True, help="TOML config file (for [collector] db)")
    acl = sub.add_parser("broker-acl", help="write Mosquitto's password_file and acl_file for the "
                                            "registry's robots and the collector's account")
    acl.add_argument("--config", required=True, help="TOML config file ([collector] db, [mqtt] username, "
                                                     "password, topic_prefix)")
    acl.add_argument("--out", required=True, help="folder for acl_file, password_file, credentials.csv")
    leave = sub.add_parser("leave-group", help="retire a collector of a shared group for good: store what the "
                                              "broker kept for its session, then have the broker drop the session")
    leave.add_argument("--config", required=True, help="the retired collector's TOML config (its [mqtt] client_id)")
    leave.add_argument("--client-id", default=None, help="the retired collector's MQTT client id (default: the "
                                                         "config's; a derived one is this host's)")
    leave.add_argument("--quiet-s", type=float, default=3.0, help="seconds without a message that mean the "
                                                                  "session's queue is drained")
    _add_import_events(sub)
    _add_report(sub)
    _add_import_goals(sub)
    return parser


#: files the collector creates (the store, its -wal and -shm, the lock) are 0640 and folders 0750:
#: the store holds customer names and contracts, readable by the service's group (backups), no one else
UMASK = 0o027


def _add_import_events(sub) -> None:
    """``import-events`` (issue 14): commercial events, refused whole on a bad row."""
    imp = sub.add_parser("import-events", help="record renewals, expansions, churns and referrals from a CSV file")
    imp.add_argument("csv", help="CSV with header customer,date,kind,amount,robots,referred_by,contract_end,note")
    imp.add_argument("--config", required=True, help="TOML config file (for [collector] db)")
    imp.add_argument("--by", default=None, help="who is importing (recorded with each event; default: the OS user)")


def _add_report(sub) -> None:
    """``report`` (issue 15): a customer's monthly value report as .pdf or .html, or every customer's."""
    rep = sub.add_parser("report", help="write a customer's monthly value report (.pdf or .html by the file's "
                                        "suffix), or with --all every customer's into a folder")
    who = rep.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", help="customer id")
    who.add_argument("--all", action="store_true", help="every customer: --out is a folder")
    rep.add_argument("--month", default=None, help="YYYY-MM, the customer's local month (default: last month)")
    rep.add_argument("--out", required=True, help="FILE.pdf or FILE.html; with --all, a folder")
    rep.add_argument("--format", choices=("pdf", "html"), default="pdf", help="with --all: the files' format")
    rep.add_argument("--config", default=None, help="TOML config file ([collector] db, [health]); default: "
                                                    "the environment (ROBOPULSE_COLLECTOR_DB)")
    rep.add_argument("--chromium", default=None, help="the browser that prints the PDF (default: chromium on the PATH)")


def _add_import_goals(sub) -> None:
    """``import-goals`` (issue 14): success goals, refused whole on a bad row."""
    imp = sub.add_parser("import-goals", help="set customers' success goals (metric, target, start, due) from a CSV file")
    imp.add_argument("csv", help="CSV with header customer,metric,target,start,due,note")
    imp.add_argument("--config", required=True, help="TOML config file (for [collector] db)")
    imp.add_argument("--by", default=None, help="who is importing (recorded with each goal; default: the OS user)")


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
    if args.command == "leave-group":
        from collector.service import leave_group

        if args.client_id:
            config = config.replace(mqtt=config.mqtt.replace(client_id=args.client_id))
        return leave_group(config, quiet_s=args.quiet_s)
    from collector.store import open_store

    if args.command == "import-events":
        return _import_events(args, config)
    if args.command == "report":
        return _report(args, config)
    if args.command == "import-goals":
        return _import_goals(args, config)
    store = open_store(config.collector.db)
    try:
        if args.command == "import-customers":
            from collector.store.customers import import_file

            return import_file(args.csv, store.registry, out=sys.stdout, err=sys.stderr)
        if args.command == "import-robots":
            from collector.store.robots import import_file as import_robots

            return import_robots(args.csv, store.registry, out=sys.stdout, err=sys.stderr)
        return _broker_acl(config, store.registry, args.out)
    finally:
        store.close()


def _broker_acl(config, registry, out_dir: str) -> int:
    from collector.ingest.broker_acl import generate

    if not config.mqtt.username:
        print("robopulse collector broker-acl: [mqtt] username is empty: the collector needs an account "
              "on a broker without anonymous access", file=sys.stderr)
        return 2
    robots = list(registry.registered_robots().values())
    try:
        generate(out_dir, config.mqtt.topic_prefix, config.mqtt.username, config.mqtt.password, robots)
    except RuntimeError as exc:
        print(f"robopulse collector broker-acl: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out_dir}: {len(robots)} robot accounts and the collector's ({config.mqtt.username}); "
          f"reload the broker (SIGHUP) to apply", file=sys.stdout)
    return 0


def _import_events(args, config) -> int:
    from collector.store import open_store
    from collector.store.events import import_file

    store = open_store(config.collector.db)
    try:
        return import_file(args.csv, store.registry, out=sys.stdout, err=sys.stderr, actor=args.by)
    finally:
        store.close()


def _report(args, config) -> int:
    """One report to a file, or ``--all`` into a folder: progress on stderr, what was written on stdout."""
    import time

    from collector.report import files
    from collector.report.pdf import PdfError
    from collector.report.period import ReportError, last_month
    from collector.store import open_store

    now = int(time.time() * 1000)
    month = args.month or last_month(now, config.health.timezone)
    store = open_store(config.collector.db)
    try:
        if not args.all:
            path = files.write_one(store.reads, args.customer, month, args.out, now, config.health, args.chromium)
            print(f"wrote {path}", file=sys.stdout)
            return 0
        written, skipped, failed = files.write_all(store.reads, month, args.out, now, config.health, args.format,
                                                   args.chromium, progress=sys.stderr)
    except (ReportError, PdfError) as exc:
        print(f"robopulse collector report: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"wrote {len(written)} reports for {month} to {args.out}:", file=sys.stdout)
    for path in written:
        print(f"  {path}", file=sys.stdout)
    for cid, why in skipped:
        print(f"  skipped {cid}: {why}", file=sys.stdout)
    for cid, why in failed:
        print(f"  FAILED {cid}: {why}", file=sys.stdout)
    return 1 if failed else 0


def _import_goals(args, config) -> int:
    from collector.store import open_store
    from collector.store.goals import import_file

    store = open_store(config.collector.db)
    try:
        return import_file(args.csv, store.registry, out=sys.stdout, err=sys.stderr, actor=args.by)
    finally:
        store.close()
