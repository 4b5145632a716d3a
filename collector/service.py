"""The runner behind ``robopulse collector run``: store, writer, MQTT ingest and the HTTP app.

It migrates the store, starts the writer process and the MQTT source, then serves ``create_app``
with the running pieces in ``services`` (``stats``, ``writer``, ``ingest``, ``registry``).  The app's parts
start their own background tasks through ``cleanup_ctx`` (health loop, notifier...), so adding a
part never changes this file.  SIGTERM or SIGINT stop everything cleanly: ingest stops taking
messages, the writer commits and acknowledges what it holds, the parts' tasks are cancelled.
"""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from collector.alerts import notify
from collector.health import loop as health_loop
from collector.http.app import create_app
from collector.ingest.intake import Intake
from collector.ingest.mqtt_source import MqttSource
from collector.ingest.stats import IngestStats
from collector.metrics import REGISTRY, Registry
from collector.store import open_store
from collector.store.sqlite.db import connect_writer
from collector.store.writer_process import WriterProcess
from protocol.logs import get_logger

log = get_logger("collector.service")


class Collector:
    """The ingest half (writer process + MQTT source), usable on its own by tests and benchmarks."""

    def __init__(self, config: dict, registry: Registry = REGISTRY):
        self.config = config
        self.registry = registry
        self.stats = IngestStats(registry)
        connect_writer(config["collector"]["db"]).close()  # migrate before anything reads the store
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
        return {"stats": self.stats, "writer": self.writer, "ingest": self.source, "registry": self.registry}


async def serve(config: dict, collector: Collector) -> None:
    store = open_store(config["collector"]["db"])
    app = create_app(config, store, services=collector.services(), background=(health_loop.setup, notify.setup))
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
        store.close()


def run(config: dict) -> int:
    collector = Collector(config).start()
    log.info("collector_started", db=str(config["collector"]["db"]), broker=f"{config['mqtt']['host']}:"
             f"{config['mqtt']['port']}", client_id=config["mqtt"]["client_id"])
    try:
        asyncio.run(serve(config, collector))
    finally:
        collector.stop()
        log.info("collector_stopped")
    return 0
