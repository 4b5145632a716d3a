"""A private Mosquitto on a free loopback port with its own config and data directory, never the
machine's broker on 1883.  The demo and the benchmark use ``Mosquitto``; the tests' ``Broker``
(tests/support/broker.py) writes richer configs (accounts, ACL, TLS) and runs them with
``MosquittoProcess``, so starting, waiting for the port and stopping live in one place."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mosquitto_binary() -> str:
    path = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(path):
        raise RuntimeError("mosquitto is not installed: `make demo` or `make test` installs it "
                           "(Debian package mosquitto)")
    return path


def keep_root(extra: str = "") -> list[str]:
    """Started as root, Mosquitto drops to the `mosquitto` user, which cannot write our data
    directory: keep root unless the config already names a user."""
    chose_user = any(line.strip().startswith("user ") for line in extra.splitlines())
    return ["user root"] if hasattr(os, "geteuid") and os.geteuid() == 0 and not chose_user else []


class MosquittoProcess:
    """One mosquitto process for a config file: ``start`` waits until the port answers (or says
    why it died), ``stop`` is a clean SIGTERM (a persistent queue is saved), ``kill`` is SIGKILL."""

    def __init__(self, conf_path: Path, port: int, log_path: Path, host: str = "127.0.0.1"):
        self.conf_path, self.port, self.log_path, self.host = Path(conf_path), port, Path(log_path), host
        self.proc: subprocess.Popen | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 10.0):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = subprocess.Popen([mosquitto_binary(), "-c", str(self.conf_path)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited {self.proc.returncode}: {err}\n{self.log()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on port {self.port}: {self.log()[-2000:]}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Mosquitto(MosquittoProcess):
    """The demo's and the benchmark's broker: anonymous, persistent, on loopback."""

    def __init__(self, workdir: Path, port: int | None = None, max_connections: int = -1):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(self.workdir / "mosquitto.conf", port or free_port(), self.workdir / "mosquitto.log")
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            f"log_dest file {self.log_path}",
            "log_type error", "log_type warning", "log_type notice",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "max_queued_messages 100000",
            f"max_connections {max_connections}",
            *keep_root(),
        ]
        self.conf_path.write_text("\n".join(lines) + "\n")
