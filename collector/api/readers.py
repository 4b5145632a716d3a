"""A small pool of read-only SQLite connections, used from worker threads.

Queries run in ``asyncio.to_thread`` so a slow one never blocks the event loop (and with it the
feed and the ingest sharing the loop).  Each connection is used by one thread at a time; the pool
keeps at most ``size`` idle ones and opens more under load."""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from collector.http.keys import DB_PATH
from collector.store.sqlite.db import connect_reader

T = TypeVar("T")


class ReaderPool:
    def __init__(self, path: str, size: int = 8, threads: int = 4):
        self.path = path
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue(maxsize=size)
        # As many threads as cores: the Python half of each request holds the GIL, and more threads
        # mostly add switching (on 2 cores, 2 threads gave a lower p99 than 4 or 6 in
        # bench/api_latency.py).
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="api-reader")

    def _take(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return connect_reader(self.path)

    def _give(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.rollback()
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        conn = self._take()
        try:
            result = fn(conn, *args)
        except BaseException:
            conn.close()  # a connection that failed mid-query is not reused
            raise
        self._give(conn)
        return result

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.run_sync, fn, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


READERS = web.AppKey("api_readers", ReaderPool)


def setup(app: web.Application) -> None:
    """Install one pool per app (idempotent: the feed and the API share it)."""
    if READERS in app:
        return
    app[READERS] = ReaderPool(app[DB_PATH], threads=min(8, max(2, os.cpu_count() or 2)))

    async def close(app: web.Application):
        yield
        app[READERS].close()

    app.cleanup_ctx.append(close)
