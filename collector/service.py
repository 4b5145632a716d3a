"""The one place that builds the collector from its config: ``robopulse collector run``.

Read top to bottom, ``run`` is the whole collector:

1. the store (``open_store``: migrates it, and gives each part below the store part it uses);
2. ingest (``Collector``): the writer process that commits telemetry, the intake that validates
   messages, the MQTT source that receives them and acknowledges them once committed;
3. the health evaluator (health, then alerts, every ``health.interval_s``) and the webhook
   notifier (see the spot marked below);
4. the HTTP app (``/healthz``, ``/metrics``, ``/api/v1/...``, the dashboard) with the running
   pieces in ``services``.

Each is imported directly and started here, and stopped here in reverse order on SIGTERM or SIGINT:
the HTTP app stops serving, ingest stops taking messages, the writer commits and acknowledges what
it holds.
"""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from collector.http.app import create_app
from collector.ingest.enroll import Enrollment
from collector.ingest.intake import Intake
from collector.ingest.mqtt_source import MqttSource
from collector.ingest.stats import IngestStats
from collector.metrics import REGISTRY, Registry
from collector.store import Store, open_store
from collector.store.writer_process import WriterProcess
from protocol.logs import get_logger

log = get_logger("collector.service")


class Collector:
    """The ingest half (writer process + intake + MQTT source), usable on its own by tests and
    benchmarks.  Migrates the store before anything reads it."""

    def __init__(self, config: dict, registry: Registry = REGISTRY, store: Store | None = None):
        self.config = config
        self.registry = registry
        self.store = store if store is not None else open_store(config["collector"]["db"])
        self.stats = IngestStats(registry)
        self.writer = WriterProcess(config, self.stats, registry)
        ing = config.ingest
        self.enrollment = Enrollment(ing.enroll, self.store.registry, ing.new_customers_per_minute,
                                     ing.registry_refresh_s)
        self.intake = Intake(config, self.writer, self.stats, enrollment=self.enrollment)
        self.source = MqttSource(config, self.intake, self.stats)
        self.writer.on_ack = self.source.ack
        self.writer.on_lost = self.source.stop          # a writer process that died: reconnect, so
        self.writer.on_restarted = self.source.start    # the broker sends what it held again

    def start(self) -> "Collector":
        self.enrollment.start()
        self.writer.start()
        self.source.start()
        return self

    def stop(self) -> None:
        self.writer.stop()      # commits and acknowledges what it holds
        self.source.stop()
        self.enrollment.stop()

    def services(self) -> dict:
        return {"stats": self.stats, "writer": self.writer, "ingest": self.source, "registry": self.registry,
                "store": self.store}


async def serve(config: dict, collector: Collector) -> None:
    # The health evaluator and the webhook notifier: today they still run as parts of the HTTP app
    # (collector/http/app.py PARTS: collector.health.loop, collector.alerts.notify), started with
    # it below.  When they become plain classes, build and start them here from ``collector.store``
    # and ``config``, next to ingest, and stop them after the HTTP app in the ``finally``.
    app = create_app(config, services=collector.services())
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()                       # runs the parts' cleanup_ctx start-up
    listen = config["http"]["listen"]
    if listen:
        host, _, port = listen.rpartition(":")
        site = web.TCPSite(runner, host.strip("[]"), int(port))
        await site.start()
        log.info("http_listening", listen=listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("collector_stopping")
        await runner.cleanup()


def run(config: dict) -> int:
    store = open_store(config["collector"]["db"])
    collector = Collector(config, store=store).start()
    log.info("collector_started", db=str(config["collector"]["db"]), broker=f"{config['mqtt']['host']}:"
             f"{config['mqtt']['port']}", client_id=config["mqtt"]["client_id"])
    try:
        asyncio.run(serve(config, collector))
    finally:
        collector.stop()
        store.close()
        log.info("collector_stopped")
    return 0
