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
import sys
import time

from aiohttp import web

from collector.alerts.evaluator import Evaluator, settings_of
from collector.alerts.leader import Leadership
from collector.alerts.notify import Notifier
from collector.app import create_app, wall_clock_ms
from collector.http.listener import start_listener
from collector.ingest.enroll import Enrollment
from collector.ingest.intake import Intake
from collector.ingest.mqtt_source import MqttSource
from collector.ingest.stats import IngestStats
from collector.metrics import REGISTRY, Registry
from collector.store import Store, is_postgres, open_lease, open_store
from collector.store.lock import StoreInUse, StoreLock
from collector.store.writer_process import WriterProcess
from protocol.logs import get_logger

log = get_logger("collector.service")
#: the longest wait between two asks of the evaluator's lease (a survivor's takeover delay)
LEASE_CHECK_S = 5.0


class Collector:
    """The ingest half (writer process + intake + MQTT source), usable on its own by tests and
    benchmarks.  Migrates the store before anything reads it."""

    def __init__(self, config: dict, registry: Registry = REGISTRY, store: Store | None = None,
                 lock: StoreLock | None = None):
        self.started = False
        self.config = config
        self.registry = registry
        self.store = store if store is not None else open_store(config.collector.db)
        self.stats = IngestStats(registry)
        self.writer = WriterProcess(config, self.stats, registry, lock.held() if lock is not None else None)
        ing = config.ingest
        self.enrollment = Enrollment(ing.enroll, self.store.registry, ing.new_customers_per_minute,
                                     ing.registry_refresh_s)
        self.intake = Intake(config, self.writer, self.stats, enrollment=self.enrollment)
        self.source = MqttSource(config, self.intake, self.stats)
        self.writer.on_ack = self.source.ack
        self.writer.on_lost = self.source.stop          # a writer process that died: reconnect, so
        self.writer.on_restarted = self.source.start    # the broker sends what it held again

    def start(self) -> "Collector":
        self.started = True
        self.enrollment.start()
        self.writer.start()
        self.source.start()
        return self

    def stop(self) -> None:
        if not self.started:
            return
        self.writer.stop()      # commits and acknowledges what it holds
        self.source.stop()
        self.enrollment.stop()

    def services(self) -> dict:
        return {"stats": self.stats, "writer": self.writer, "ingest": self.source, "registry": self.registry,
                "store": self.store}


class StartupRefused(Exception):
    """The collector cannot start and has touched nothing (exit status 1)."""


async def serve(config, collector: Collector) -> None:
    """Serve until SIGTERM/SIGINT: bind HTTP first (a busy port fails here, before ingest connects
    to the broker and takes over its session), then start ingest, the evaluator and the notifier;
    stopped in reverse order.  Raises ``StartupRefused`` when the listen address is taken."""
    store = collector.store
    app = create_app(config, store, services=collector.services())
    runner = web.AppRunner(app, handle_signals=False, access_log=None,
                           keepalive_timeout=config.http.idle_timeout_s)
    await runner.setup()                       # the feed poller starts with the app
    listen = config.http.listen
    listener = None
    if listen:
        host, _, port = listen.rpartition(":")
        try:
            listener = await start_listener(runner, host.strip("[]"), int(port), config.http)
        except OSError as exc:
            await runner.cleanup()
            raise StartupRefused(f"cannot listen on {listen}: {exc.strerror or exc}") from exc
        log.info("http_listening", listen=listen, scheme=listener.scheme, max_connections=listener.cap)
    collector.start()
    log.info("collector_started", db=str(config.collector.db), broker=f"{config.mqtt.host}:"
             f"{config.mqtt.port}", client_id=config.mqtt.client_id)
    settings = settings_of(config)
    lease = store.lease or open_lease(str(config.collector.db))
    evaluator = Evaluator(store, settings, wall_clock_ms)
    notifier = Notifier(store.outbox, settings.notify, wall_clock_ms, allowed=lease.hold)
    # only the lease's holder evaluates and notifies (on SQLite: always this one); asked at least
    # once per cycle, so a survivor takes over within one check of the holder's death
    check_s = min(float(settings.health.interval_s), LEASE_CHECK_S)
    leadership = Leadership(lease, (evaluator,), check_s, after_handover=(notifier,),
                            grace_s=float(settings.notify.timeout_s) + check_s)
    leadership.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("collector_stopping")
        await leadership.stop()            # the notifier, then the evaluator; the lease given up
        if listener is not None:
            listener.close()
        await runner.cleanup()


def run(config) -> int:
    """``robopulse collector run``: 0 after a clean stop; 1 when it cannot start (the store is in
    use by another collector, the HTTP address is taken), with the reason on stderr and in the log.

    Order: the store's lock first (a second collector on the same store exits before it connects
    to anything), the store, HTTP, and only then the broker."""
    try:
        collector, lock = _open_collector(config)
    except StoreInUse as exc:
        return _refuse(str(exc))
    try:
        asyncio.run(serve(config, collector))
    except StartupRefused as exc:
        return _refuse(str(exc))
    finally:
        _close_collector(collector, lock)
    log.info("collector_stopped")
    return 0


def _open_collector(config) -> tuple[Collector, StoreLock | None]:
    """The store's lock, then the store, then the collector around it (not started): what ``run``
    and ``leave_group`` both begin with.  SQLite: one collector per store file.  PostgreSQL: several
    collectors share the database by design (each its own client id; the lease picks the
    evaluator), and there is no file to lock.  Raises ``StoreInUse``."""
    lock = None if is_postgres(config.collector.db) else StoreLock(config.collector.db)
    if lock is not None:
        lock.acquire()
    return Collector(config, store=open_store(config.collector.db), lock=lock), lock


def _close_collector(collector: Collector, lock: StoreLock | None) -> None:
    """Stop the collector, close its store, release the lock: the reverse of ``_open_collector``."""
    collector.stop()
    collector.store.close()
    if lock is not None:
        lock.release()


def _refuse(reason: str) -> int:
    log.error("collector_refused_to_start", reason=reason)
    print(f"robopulse collector: cannot start: {reason}", file=sys.stderr)
    return 1


def leave_group(config, quiet_s: float = 3.0, timeout_s: float = 600.0) -> int:
    """``robopulse collector leave-group``: retire a collector of a shared group for good.

    Why: a broker keeps a persistent session that is gone (its collector stopped or killed) as a
    member of the group; Mosquitto goes on handing it its turn of the group's messages until it
    returns or the session expires (mosquitto#2662), so stopping a collector is not leaving.  This
    connects with the collector's client id (``[mqtt] client_id``, or the one derived for its
    host), stores what the broker kept for it, unsubscribes, waits until all it received is
    committed and acknowledged, and disconnects with a session expiry of 0: the broker drops the
    session.  Run it with the retired collector's config (its client id) while that collector is
    stopped.  0 when the session is gone; 1 when it could not connect or drain in time."""
    if not config.mqtt.shared_group:
        return _refuse("leave-group is for a collector of a shared group ([mqtt] shared_group)")
    try:
        collector, lock = _open_collector(config)
    except StoreInUse as exc:
        return _refuse(str(exc))
    source = collector.source
    try:
        collector.start()
        if not source.connected.wait(30):
            return _refuse(f"cannot subscribe at {source.broker} as {config.mqtt.client_id}")
        deadline = time.monotonic() + timeout_s

        def settle() -> bool:
            """Wait until nothing arrived for ``quiet_s`` and all received is committed and acked."""
            seen, since = -1, time.monotonic()
            while time.monotonic() < deadline:
                if source.received != seen:
                    seen, since = source.received, time.monotonic()
                elif time.monotonic() - since >= quiet_s and source.acked >= seen \
                        and collector.writer.backlog_messages() == 0:
                    return True
                time.sleep(0.1)
            return False

        if not settle():   # what the broker kept for this session
            return _refuse("the session's messages were not all stored in time")
        if not source.leave():
            return _refuse("the broker did not confirm the unsubscribe")
        if not settle():   # what was under way when the broker took the unsubscribe
            return _refuse("the session's messages were not all stored in time")
        source.end_session()
        log.info("shared_group_left", client_id=config.mqtt.client_id, group=config.mqtt.shared_group,
                 messages=source.received)
        print(f"robopulse collector: {config.mqtt.client_id} left group {config.mqtt.shared_group}: "
              f"{source.received} waiting messages stored, the broker dropped its session")
        return 0
    finally:
        _close_collector(collector, lock)
