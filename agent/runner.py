"""``robopulse agent run``: a plain loop on the wall clock plus one thread for StatsD (and one for the
status HTTP server when enabled).  The loop closes windows, drives the publisher (paho's I/O runs
inside ``poll``), writes the status file every second and pets the systemd watchdog."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from pathlib import Path

from agent.core import AgentCore
from agent.outbox import FILE_MODE
from agent.publisher import Publisher, wall_ms
from agent.samplers import load_class
from agent.sdnotify import notify, watchdog_interval_s
from agent.status import LOCK_FILE, StatusServer, build_snapshot, read_status, write_status
from protocol.logs import get_logger

STEP_S = 0.2
STATUS_FAILED_LOG_EVERY_S = 60.0


class AlreadyRunning(RuntimeError):
    pass


def acquire_lock(state_dir: Path) -> int:
    """Hold ``agent.lock`` for the life of the process: one agent per outbox, and ``agent status``
    learns from it whether the agent runs (the kernel releases it even on kill -9)."""
    fd = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise AlreadyRunning(str(state_dir)) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def is_running(state_dir: str | Path) -> bool:
    try:
        fd = os.open(Path(state_dir) / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def run(config, stop: threading.Event | None = None, clock=wall_ms) -> int:
    log = get_logger("agent")
    stop = stop or threading.Event()
    state_dir = Path(config.agent.state_dir)
    try:
        state_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
        lock_fd = acquire_lock(state_dir)
    except AlreadyRunning:
        log.error("agent_already_running", state_dir=str(state_dir))
        return 1
    except OSError as exc:
        log.error("agent_start_failed", error=f"{type(exc).__name__}: {exc}", state_dir=str(state_dir))
        return 1
    try:
        core = AgentCore(config, clock=clock)
    except Exception as exc:  # e.g. an outbox file that is not a database
        log.error("agent_start_failed", error=f"{type(exc).__name__}: {exc}", state_dir=str(state_dir))
        os.close(lock_fd)
        return 1
    publisher = Publisher(config, core.outbox, clock=clock)
    core.sources = [load_class("system")(path=str(state_dir)),
                    load_class("network")(probe=config.network.probe, link=publisher)]
    previous = read_status(state_dir) or {}
    today = previous.get("usage_today") or {}
    core.recent.restore_today(today.get("date"), {**today.get("volumes", {}), **today.get("skills", {})})
    statsd = server = None
    try:
        if config.ingest.statsd:
            statsd = load_class("statsd")(core.accumulator, config.ingest.statsd).start()
        snapshot = build_snapshot(config, core, publisher, statsd)
        if config.status.listen:
            server = StatusServer(config.status.listen, lambda: snapshot).start()
    except OSError as exc:
        log.error("agent_start_failed", error=f"{type(exc).__name__}: {exc}")
        core.close()
        os.close(lock_fd)
        return 1

    def on_signal(signum, frame):
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    watchdog_s = watchdog_interval_s()
    log.info("agent_started", robot=config.agent.robot_id, customer=config.agent.customer_id,
             stream=core.outbox.stream, next_seq=core.outbox.next_seq, backlog=len(core.outbox),
             broker=publisher.broker, statsd=config.ingest.statsd or None, status_listen=config.status.listen or None)
    notify("READY=1\nSTATUS=starting")
    last_status = last_watchdog = 0.0
    status_failed_logged = -STATUS_FAILED_LOG_EVERY_S
    while not stop.is_set():
        try:
            core.tick()
            if not publisher.poll(STEP_S):
                stop.wait(STEP_S)
            mono = time.monotonic()
            if mono - last_status >= 1.0:
                last_status = mono
                snapshot = build_snapshot(config, core, publisher, statsd)
                try:
                    write_status(state_dir, snapshot)
                except OSError as exc:  # disk full: the loop goes on, the log says so once a minute
                    if mono - status_failed_logged >= STATUS_FAILED_LOG_EVERY_S:
                        status_failed_logged = mono
                        log.error("status_write_failed", error=f"{type(exc).__name__}: {exc}")
                c = snapshot["connection"]
                notify(f"STATUS={'connected' if c['connected'] else 'disconnected'}, "
                       f"backlog {snapshot['backlog']['windows']} windows")
            if watchdog_s and mono - last_watchdog >= watchdog_s:
                last_watchdog = mono
                notify("WATCHDOG=1")
        except Exception as exc:  # never let one bad iteration stop the agent; systemd sees no crash loop
            log.exception("loop_failed", error=f"{type(exc).__name__}: {exc}")
            stop.wait(1.0)
    notify("STOPPING=1")
    log.info("agent_stopping")
    core.cut()
    if core.unstored:  # the outbox still cannot write: say plainly what this stop loses
        log.error("window_dropped", reason="stopped_while_outbox_not_writable", windows=len(core.unstored),
                  first_t0=core.unstored[0][0], error=core.write_error)
    publisher.stop(timeout_s=5.0)
    if statsd is not None:
        statsd.stop()
    if server is not None:
        server.stop()
    snapshot = build_snapshot(config, core, publisher, statsd, running=False)
    try:
        write_status(state_dir, snapshot)
    except OSError as exc:
        log.error("status_write_failed", error=f"{type(exc).__name__}: {exc}")
    log.info("agent_stopped", backlog=len(core.outbox), next_seq=core.outbox.next_seq)
    core.close()
    os.close(lock_fd)
    return 0
