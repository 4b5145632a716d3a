"""The writer in a process of its own: MQTT and validation in one process, storing in another.

Why: one Python process cannot use more than one core for Python code, and at one window per
message paho's own packet handling fills most of a core before anything is stored.  So the
collector's main process keeps paho, validation (``collector.ingest.intake``), the HTTP app and
the health loop, and sends each validated message down a pipe as an ``Envelope``
(``collector.store.records``: the record, its receive time and the MQTT packet id to acknowledge)
in its compact ``marshal`` form; this process's child turns it back into a ``Queued`` record for
the ``Writer`` thread on the store's ingest part.  After each commit the child sends back the ids
of the messages it holds on disk and its metrics (and, after a failed commit, the store's error); only then does the main process acknowledge them to the broker (paho's manual
ack), so a crash of either process loses nothing.  ``marshal`` because it is the cheapest
serialiser for tuples, dicts, strings and numbers (both ends are this program on one Python), and
records carry only those.

Back-pressure is the pipe itself: when the writer's backlog is full the child stops reading, the
pipe fills, paho's thread waits in ``send`` and stops reading from the broker, which queues.

If the child dies (killed, out of memory), the main process disconnects from the broker, starts a
new child and reconnects: every message the old child had not committed is unacknowledged, so the
broker sends it again, and the store's (robot, stream, seq) key drops what had been committed
already.  If the main process dies, the child sees the pipe close, commits what it holds (no one
can acknowledge it any more: the broker sends it again to the next collector) and exits.
"""

from __future__ import annotations

import collections
import functools
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable

from collector.metrics import Registry
from collector.store import open_store
from collector.store.lock import HeldLock
from collector.store.records import END, AckToken, Envelope, Queued, from_wire, to_wire
from collector.store.retention import Retention
from collector.store.stats import StoreStats
from collector.store.writer import Writer
from protocol.logs import configure_logging, get_logger

log = get_logger("collector.store.writer")

#: pipe capacity asked for (Linux caps it at /proc/sys/fs/pipe-max-size, 1 MiB by default): room
#: for a flush's worth of one-window messages while the child is busy committing
PIPE_BYTES = 1 << 20
F_SETPIPE_SZ = 1031
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def _widen(conn) -> None:
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
    except (OSError, ImportError, AttributeError):  # not Linux, or over the limit: the default is fine
        pass


class WriterProcess:
    """Main-process side.  ``submit`` is called from paho's thread; ``on_ack(mid, qos, generation)``
    from the reply thread after each commit; ``failing`` holds the child's store error while its
    commits fail (reported after every failed attempt, cleared by the next commit); ``on_lost`` / ``on_restarted`` around a restart of a
    child that died (the MQTT source disconnects and reconnects there)."""

    def __init__(self, config: dict, stats: StoreStats, registry: Registry, lock: HeldLock | None = None):
        self.config = config
        self.lock = lock or HeldLock(None)  # the store's lock, held by the child too
        self.stats = stats
        self.registry = registry
        self.on_ack: Callable[[int, int, int], None] | None = None
        self.on_lost: Callable[[], None] | None = None
        self.on_restarted: Callable[[], None] | None = None
        self._ctx = mp.get_context("spawn")  # never fork a process that runs threads
        self._sent = 0              # messages handed to this child (paho's thread only)
        self._done = 0              # messages it committed or dropped (reply thread only)
        self._backlog_windows = 0
        self.failing: str | None = None  # the child's store error while its commits fail
        self._prev: dict = {}
        self._stopping = False
        self._recent_restarts: collections.deque[float] = collections.deque(maxlen=5)
        self._proc = self._inbox = self._thread = None
        self._send = threading.Lock()  # paho's thread and stop() both write to the pipe
        stats.bind_backlog(self.backlog_messages, self.backlog_windows)

    # ---------------------------------------------------------------- public

    def start(self) -> "WriterProcess":
        self._spawn()
        return self

    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def submit(self, env: Envelope) -> None:
        """Forward one validated message; ``env.ack`` is its ``(mid, qos, generation)`` token, or
        None for QoS 0 (paho's thread; blocks while the child's backlog is full)."""
        data = to_wire(env)
        try:
            with self._send:
                self._inbox.send_bytes(data)
        except (OSError, ValueError, AttributeError):
            return  # the child is gone: not acknowledged, so the broker sends it again
        self._sent += 1

    def backlog_messages(self) -> int:
        return max(0, self._sent - self._done)

    def backlog_windows(self) -> int:
        return self._backlog_windows

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every message forwarded so far is committed."""
        target = self._sent
        deadline = time.monotonic() + timeout
        while self._done < target:
            if time.monotonic() > deadline or not self.alive():
                return False
            time.sleep(0.02)
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """The child commits what it holds (acknowledged through the reply thread), then ends."""
        self._stopping = True
        try:
            with self._send:
                self._inbox.send_bytes(END)
        except (OSError, ValueError, AttributeError):
            pass
        if self._thread is not None:
            self._thread.join(timeout)
        if self._proc is not None:
            self._proc.join(timeout)
            if self._proc.is_alive():
                self._proc.kill()
        if self._inbox is not None:
            self._inbox.close()

    # ---------------------------------------------------------------- child management

    def _spawn(self) -> None:
        child_in, inbox = self._ctx.Pipe(duplex=False)
        replies, child_out = self._ctx.Pipe(duplex=False)
        _widen(inbox)
        proc = self._ctx.Process(target=child_main, args=(self.config, child_in, child_out, self.lock),
                                 name="robopulse-writer", daemon=True)
        proc.start()
        child_in.close()   # the child's ends: only the child holds them now, so its death
        child_out.close()  # shows as EOF here and as EPIPE in submit
        self._prev = {}
        self._proc, self._inbox = proc, inbox
        self._thread = threading.Thread(target=self._read_replies, args=(proc, replies), name="writer-replies",
                                        daemon=True)
        self._thread.start()
        log.info("writer_process_started", pid=proc.pid)

    def _read_replies(self, proc, replies) -> None:
        while True:
            try:
                acks, snapshot, backlog_windows, failing = replies.recv()
            except (EOFError, OSError):
                break
            on_ack = self.on_ack
            for token in acks:
                if token is not None and on_ack is not None:
                    on_ack(*token)
            self._done += len(acks)
            self._backlog_windows = backlog_windows
            self.failing = failing
            self._absorb(snapshot)
        replies.close()
        proc.join(10)
        if proc.exitcode is not None and -proc.exitcode in STOP_SIGNALS:
            # a stop signal sent to the whole process group reached the child before it could
            # ignore it (while starting): the main process got it too and is about to stop us
            deadline = time.monotonic() + 3
            while not self._stopping and time.monotonic() < deadline:
                time.sleep(0.05)
        if not self._stopping:
            self._restart(proc.exitcode)

    def _restart(self, exitcode) -> None:
        log.error("writer_process_died", exitcode=exitcode)
        if self.on_lost is not None:
            self.on_lost()      # disconnect: what the dead child held comes again on reconnect
        now = time.monotonic()
        self._recent_restarts.append(now)
        if len(self._recent_restarts) == self._recent_restarts.maxlen and now - self._recent_restarts[0] < 60:
            time.sleep(10)      # dying over and over (a broken store?): do not spin
        self._sent = self._done = self._backlog_windows = 0
        self.failing = None  # the next child reports its own
        self.stats.commit_failing.set(0)
        if self._stopping:
            return
        self._spawn()
        if self.on_restarted is not None:
            self.on_restarted()

    def _absorb(self, snapshot: dict) -> None:
        """Add the child's counter increments (since its last report) to our registry."""
        prev = self._prev
        for (name, key), (kind, value) in snapshot.items():
            old = prev.get((name, key))
            if old is not None and old[1] == value:
                continue
            metric = self.registry.get(name)
            if metric is None:
                continue
            labels = dict(zip(metric.labelnames, key))
            if kind == "counter":
                metric.inc(value - (old[1] if old is not None else 0), **labels)
            else:
                metric.set(value, **labels)
        self._prev = snapshot


# -------------------------------------------------------------------- the child

def child_main(config: dict, inbox, replies, store_lock: HeldLock | None = None) -> None:
    """The writer process: read records, store them; report acks and metrics per commit.
    ``store_lock`` (the store's lock descriptor, from the main process) stays open until this
    process ends."""
    # SIGTERM/SIGINT go to the main process (a terminal's Ctrl-C or systemd reach the whole group):
    # it sends us the end of the pipe when its MQTT side has stopped, and we commit and exit then
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    col = config.collector
    configure_logging(col.log_level)
    registry = Registry()
    stats = StoreStats(registry)
    acks: collections.deque[AckToken | None] = collections.deque()
    lock = threading.Lock()
    last: list[dict] = [{}]

    def report() -> None:
        with lock:
            n = len(acks)
            done = [acks.popleft() for _ in range(n)]
            snapshot = registry.snapshot()
            if not done and snapshot == last[0]:
                return
            last[0] = snapshot
            try:
                replies.send((done, snapshot, writer.backlog_windows(), writer.failing))
            except OSError:
                pass  # the parent is gone

    store = open_store(col.db)
    writer = Writer(store.ingest, stats=stats, flush_ms=col.flush_ms,
                    flush_windows=col.flush_windows, rejects_kept=col.rejects_kept,
                    retention=Retention(col.raw_retention_days, col.rollup_retention_days,
                                        interval_s=col.retention_interval_s),
                    on_flushed=report)
    writer.start()
    threading.Thread(target=_watch, args=(writer,), name="writer-watch", daemon=True).start()
    take = acks.append
    submit = writer.submit
    try:
        while True:
            item = queued_of(inbox.recv_bytes(), take)
            if item is None:
                break
            submit(item)
    except (EOFError, OSError):
        log.warning("writer_parent_gone")  # commit what we hold; unacknowledged, it comes again
    writer.stop()
    report()
    replies.close()
    store.close()


def queued_of(data: bytes, take: Callable[[AckToken | None], None]) -> Queued | None:
    """The record an envelope's bytes hold, queued with an ack that hands its token to ``take``
    (None for the end of the stream)."""
    env = from_wire(data)
    if env is None:
        return None
    return Queued.of(env.record, env.received_ms, functools.partial(take, env.ack))


def _watch(writer) -> None:
    """A writer thread that died can commit nothing more: end the process so a new one starts."""
    while writer.alive():
        time.sleep(1.0)
    if not writer._stopping:
        log.error("writer_thread_died")
        os._exit(3)
