"""A private Mosquitto on a free loopback port, with a config written by the test.

Never the machine's own broker on 1883: each test gets its own process, data directory and port.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from simulator.broker import MosquittoProcess, free_port, keep_root  # noqa: F401 (free_port: re-exported for tests)


@dataclass
class TLSFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


@dataclass
class Broker:
    """One Mosquitto process.  ``restart()`` keeps the port and (with persistence) the queue."""

    workdir: Path
    port: int = field(default_factory=free_port)
    passwords: dict[str, str] | None = None
    acl: str | None = None
    tls: TLSFiles | None = None
    require_certificate: bool = False
    persistence: bool = False
    extra: str = ""
    host: str = "127.0.0.1"
    process: MosquittoProcess | None = None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "mosquitto.log"
        self.conf_path = self.workdir / "mosquitto.conf"
        self._write_config()

    def _write_config(self) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            f"log_dest file {self.log_path}",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
        ]
        if self.passwords is not None:
            pwfile = self.workdir / "passwd"
            pwfile.write_text("")
            for user, password in self.passwords.items():
                subprocess.run(["mosquitto_passwd", "-b", str(pwfile), user, password], check=True,
                               capture_output=True)
            os.chmod(pwfile, 0o600)
            lines += ["allow_anonymous false", f"password_file {pwfile}"]
        else:
            lines.append("allow_anonymous true")
        if self.acl is not None:
            aclfile = self.workdir / "acl"
            aclfile.write_text(self.acl)
            os.chmod(aclfile, 0o600)
            lines.append(f"acl_file {aclfile}")
        if self.tls is not None:
            lines += [f"cafile {self.tls.ca}", f"certfile {self.tls.server_cert}",
                      f"keyfile {self.tls.server_key}",
                      f"require_certificate {'true' if self.require_certificate else 'false'}"]
        lines += keep_root(self.extra)
        if self.extra:
            lines.append(self.extra)
        self.conf_path.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 10.0) -> "Broker":
        self.process = MosquittoProcess(self.conf_path, self.port, self.log_path, self.host)
        self.process.start(timeout)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Clean stop (SIGTERM): with persistence on, the queue is saved."""
        if self.process is not None:
            self.process.stop(timeout)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.running

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def make_tls_files(directory: Path, cn: str = "127.0.0.1", client_cn: str = "robot-1") -> TLSFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl."""
    directory.mkdir(parents=True, exist_ok=True)
    d = directory

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=robopulse-test-ca",
        "-keyout", "ca.key", "-out", "ca.crt")
    for name, subject in (("server", cn), ("client", client_cn)):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={subject}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr")
        ext = d / f"{name}.ext"
        ext.write_text(f"subjectAltName=IP:{cn}\n" if name == "server" else "extendedKeyUsage=clientAuth\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-out", f"{name}.crt", "-extfile", str(ext))
    return TLSFiles(d / "ca.crt", d / "server.crt", d / "server.key", d / "client.crt", d / "client.key")
