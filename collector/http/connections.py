"""The open HTTP connections of the listener: a cap, a deadline for a new connection's request
head, and which connections are idle.

Why: aiohttp alone keeps a connection that never sends a request, or sends its head a byte at a
time, for an hour, and accepts connections until the process runs out of file descriptors; then
``/healthz`` no longer answers.  Here every connection the listener accepts is wrapped
(``GuardedProtocol``) and counted:

- a new connection must deliver a complete request head within ``header_timeout_s`` (a slowloris
  client is answered ``408`` and closed); between requests aiohttp's keep-alive timeout
  (``[http] idle_timeout_s``) closes an idle connection;
- at most ``cap`` connections are open.  A new one beyond the cap makes room by closing the
  connection that has been idle longest (no request in progress, nothing left to write); only when
  every connection is busy (live feeds, requests running) is the new one closed at once.  So a
  flood of idle sockets cannot keep ``/healthz`` from answering, and a live feed (a request in
  progress for as long as it lasts) is never taken for an idle connection.

A request is "in progress" from the moment it reaches the app's first middleware
(``track_requests``) until its handler returns and its response has been handed to the kernel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from collector.http.throttle import Throttle, log

REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class GuardedProtocol(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the connection table watching it."""

    def __init__(self, table: "Connections", inner: asyncio.Protocol):
        self.table = table
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.requests = 0          # in progress
        self.served = 0            # started so far
        self.idle_since = 0.0
        self._header_timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol -----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.table.admit(self):
            transport.close()
            return
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        if self.table.forget(self):
            self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # -- the table's view -----------------------------------------------------------------------
    def idle(self) -> bool:
        transport = self.transport
        return (self.requests == 0 and transport is not None and not transport.is_closing()
                and transport.get_write_buffer_size() == 0)

    def arm_header_timer(self, loop: asyncio.AbstractEventLoop, timeout_s: float) -> None:
        self._header_timer = loop.call_later(timeout_s, self._header_expired)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_expired(self) -> None:
        self._header_timer = None
        if self.served == 0 and self.transport is not None and not self.transport.is_closing():
            self.table.note("http_header_timeout")
            self.transport.write(REQUEST_TIMEOUT)
            self.transport.close()

    def request_started(self) -> None:
        self._cancel_header_timer()
        self.requests += 1
        self.served += 1

    def request_finished(self, now: float) -> None:
        self.requests -= 1
        self.idle_since = now


class Connections:
    """Every open connection of one listener, oldest first.  ``cap`` 0: no cap."""

    def __init__(self, cap: int = 0, header_timeout_s: float = 0.0, throttle: Throttle | None = None,
                 clock: Callable[[], float] | None = None):
        self.cap = cap
        self.header_timeout_s = header_timeout_s
        self.throttle = throttle or Throttle()
        self._clock = clock
        self._open: dict[asyncio.BaseTransport, GuardedProtocol] = {}
        self.refused = 0
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._open)

    def now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    def protocol_factory(self, make_inner: Callable[[], asyncio.Protocol]) -> Callable[[], GuardedProtocol]:
        return lambda: GuardedProtocol(self, make_inner())

    def find(self, transport) -> GuardedProtocol | None:
        return self._open.get(transport)

    def admit(self, conn: GuardedProtocol) -> bool:
        """Room for ``conn``: true, after closing the longest-idle connection if at the cap."""
        if self.cap and len(self._open) >= self.cap:
            idle = [c for c in self._open.values() if c.idle()]
            if not idle:
                self.refused += 1
                self.note("http_connection_refused")
                return False
            oldest = min(idle, key=lambda c: c.idle_since)
            self.evicted += 1
            self.note("http_idle_connection_closed")
            self.forget(oldest)
            oldest.inner.connection_lost(None)  # aiohttp forgets it now; the socket closes below
            oldest.transport.close()
        conn.idle_since = self.now()
        self._open[conn.transport] = conn
        if self.header_timeout_s:
            conn.arm_header_timer(asyncio.get_running_loop(), self.header_timeout_s)
        return True

    def forget(self, conn: GuardedProtocol) -> bool:
        """Drop ``conn`` from the table; False if it was not in it (refused or already evicted)."""
        return self._open.pop(conn.transport, None) is not None

    def note(self, event: str) -> None:
        count = self.throttle.ready(event)
        if count:
            log.warning(event, count=count, interval_s=self.throttle.interval_s, open=len(self._open),
                        cap=self.cap)


CONNECTIONS = web.AppKey("connections", Connections)


@web.middleware
async def track_requests(request: web.Request, handler):
    """Mark the request's connection busy while the request runs (a live feed: for as long as it
    streams), so the cap never closes it as idle."""
    table = request.app.get(CONNECTIONS)
    conn = table.find(request.transport) if table is not None else None
    if conn is None:
        return await handler(request)
    conn.request_started()
    try:
        return await handler(request)
    finally:
        conn.request_finished(table.now())
