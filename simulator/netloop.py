"""paho's ``Client.loop()`` without ``select()``, for a thousand connections in one process.

``loop()`` watches its socket with ``select.select``, which cannot take file descriptors above 1024
(FD_SETSIZE): past that it reports the connection lost.  On a robot the agent has a handful of
descriptors; the simulator has several per robot (socket, paho's wake-up pair, the outbox's SQLite
files), so a fleet of a few hundred crosses the limit.  ``install()`` replaces ``loop`` in the
simulator's process with the same steps (``loop_read``, ``loop_write``, ``loop_misc``: paho's public
API) driven by ``select.poll``, which has no such limit.  The agent's own code is unchanged.
"""

from __future__ import annotations

import select

import paho.mqtt.client as mqtt

#: paho's own select()-based loop, as the test that shows why it is replaced calls it
_original_loop = mqtt.Client.loop
_READ = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR


def poll_loop(self: mqtt.Client, timeout: float = 1.0) -> mqtt.MQTTErrorCode:
    sock = self.socket()
    if sock is None:
        return mqtt.MQTTErrorCode.MQTT_ERR_NO_CONN
    wake = getattr(self, "_sockpairR", None)  # written by publish() to wake a select(); drained here
    poller = select.poll()
    try:
        poller.register(sock, _READ | (select.POLLOUT if self.want_write() else 0))
        if wake is not None:
            poller.register(wake, select.POLLIN)
        events = dict(poller.poll(max(0, int(timeout * 1000))))
    except (OSError, ValueError, TypeError):
        return mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST
    pending = sock.pending() if hasattr(sock, "pending") else 0
    if events.get(sock.fileno(), 0) & _READ or pending:
        rc = self.loop_read()
        if rc or self.socket() is None:
            return rc
    if wake is not None and wake.fileno() in events:
        try:
            wake.recv(10000)
        except (BlockingIOError, OSError):
            pass
    if self.want_write():
        rc = self.loop_write()
        if rc or self.socket() is None:
            return rc
    return self.loop_misc()


def install() -> None:
    """Use ``poll_loop`` for every paho client of this process (the simulator's only)."""
    mqtt.Client.loop = poll_loop
