"""The one place that builds the collector from its config: ``robopulse collector run``.

Read top to bottom, ``run`` is the whole collector:

1. the store (``open_store``: migrates it, and gives each part below the store part it uses);
2. ingest (``Collector``): the writer process that commits telemetry, the intake that validates
   messages, the MQTT source that receives them and acknowledges them once committed;
3. the health evaluator (health, then alerts, every ``health.interval_s``) and the webhook
   notifier, plain asyncio tasks beside the HTTP app;
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

from collector.alerts.evaluator import Evaluator, settings_of
from collector.alerts.notify import Notifier
from collector.app import create_app, wall_clock_ms
from collector.http.listener import start_listener
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
        self.intake = Intake(config, self.writer, self.stats)
        self.source = MqttSource(config, self.intake, self.stats)
        self.writer.on_ack = self.source.ack
        self.writer.on_lost = self.source.stop          # a writer process that died: reconnect, so
        self.writer.on_restarted = self.source.start    # the broker sends what it held again

    def start(self) -> "Collector":
        self.writer.start()
        self.source.start()
        return self

    def stop(self) -> None:
        self.writer.stop()      # commits and acknowledges what it holds
        self.source.stop()

    def services(self) -> dict:
        return {"stats": self.stats, "writer": self.writer, "ingest": self.source, "registry": self.registry,
                "store": self.store}


async def serve(config, collector: Collector) -> None:
    """Serve until SIGTERM/SIGINT: the HTTP app, then the evaluator and the notifier beside it;
    stopped in reverse order.  ``collector`` (ingest) is already running."""
    store = collector.store
    app = create_app(config, store, services=collector.services())
    runner = web.AppRunner(app, handle_signals=False, access_log=None,
                           keepalive_timeout=config["http"]["idle_timeout_s"])
    await runner.setup()                       # the feed poller starts with the app
    listen = config["http"]["listen"]
    listener = None
    if listen:
        host, _, port = listen.rpartition(":")
        listener = await start_listener(runner, host.strip("[]"), int(port), config["http"])
        log.info("http_listening", listen=listen, scheme=listener.scheme, max_connections=listener.cap)
    settings = settings_of(config)
    evaluator = Evaluator(store, settings, wall_clock_ms)
    notifier = Notifier(store.outbox, settings["notify"], wall_clock_ms)
    evaluator.start()
    notifier.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("collector_stopping")
        await notifier.stop()
        await evaluator.stop()
        if listener is not None:
            listener.close()
        await runner.cleanup()


def run(config) -> int:
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
