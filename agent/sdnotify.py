"""systemd's notify protocol in a few lines (no dependency): READY, STATUS, WATCHDOG, STOPPING.

A datagram to the unix socket named by $NOTIFY_SOCKET ("@" means the abstract namespace).  Outside
systemd the variable is absent and every call is a no-op."""

from __future__ import annotations

import os
import socket


def notify(message: str, env=None) -> bool:
    env = os.environ if env is None else env
    address = env.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8"))
        return True
    except OSError:
        return False


def watchdog_interval_s(env=None) -> float | None:
    """Half of WatchdogSec (systemd passes it as WATCHDOG_USEC), or None when no watchdog is set."""
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC")
    if not usec or not usec.isdigit() or int(usec) == 0:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 2e6
