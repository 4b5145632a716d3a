"""The listening socket of the HTTP app: plain or TLS, every connection through the app's
connection table (collector/http/connections.py), accept errors logged without a flood.

Why not ``web.TCPSite``: a site hands every accepted socket straight to aiohttp; the cap, the
head deadline and the idle bookkeeping need to see each connection first.  The runner still owns
the connections (graceful shutdown in ``runner.cleanup()``); this only owns the listening socket."""

from __future__ import annotations

import asyncio
import resource
import ssl
from dataclasses import dataclass

from aiohttp import web

from collector.http.connections import CONNECTIONS
from collector.http.throttle import install_loop_error_log, log

#: file descriptors kept for everything but HTTP connections (the store's connections, the
#: writer's pipes, the MQTT socket, logs) when the cap is fitted to the process's file limit
FD_RESERVE = 64


def fitted_cap(cap: int, fd_limit: int | None = None) -> int:
    """``cap`` (0: none) lowered to what the process's open-file limit leaves after
    ``FD_RESERVE``."""
    if fd_limit is None:
        fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if fd_limit == resource.RLIM_INFINITY:
        return cap
    room = max(1, fd_limit - FD_RESERVE)
    return min(cap, room) if cap else room


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context for ``[http] tls_cert`` / ``tls_key`` (PEM files), TLS 1.2 at least."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


@dataclass
class Listener:
    server: asyncio.base_events.Server
    scheme: str
    cap: int

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    def close(self) -> None:
        """Stop accepting; open connections are left to ``runner.cleanup()`` (awaiting
        ``wait_closed`` here would wait for them on Python 3.12+)."""
        self.server.close()


async def start_listener(runner: web.AppRunner, host: str, port: int, http, backlog: int = 128) -> Listener:
    """Listen on ``host:port`` for ``runner`` (already set up) with the ``[http]`` options ``http``:
    ``max_connections`` (fitted to the file limit), ``header_timeout_s``, ``tls_cert``/``tls_key``."""
    loop = asyncio.get_running_loop()
    install_loop_error_log(loop)
    table = runner.app[CONNECTIONS]
    configured = table.cap
    table.cap = fitted_cap(configured)
    if configured and table.cap < configured:
        log.warning("http_connection_cap_lowered", configured=configured, cap=table.cap,
                    reason="open-file limit (ulimit -n / LimitNOFILE)")
    context = tls_context(http.tls_cert, http.tls_key) if http.tls_cert else None
    extra = {"ssl_handshake_timeout": table.header_timeout_s or None} if context else {}
    server = await loop.create_server(table.protocol_factory(runner.server), host, port, ssl=context,
                                      backlog=backlog, reuse_address=True, **extra)
    return Listener(server, "https" if context else "http", table.cap)
