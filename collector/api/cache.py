"""A small cache of serialized responses, keyed by the request and a cheap "data version".

The overview (every customer with its health) is the page everyone opens and the costliest to
build; it only changes when health is recomputed, an alert moves, or a customer or robot is added.
``data_version`` reads exactly those markers (each an O(1) or O(customers) lookup), so a cached body
is never stale: the key changes the moment any of them does (``ReadStore.data_version``)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from protocol.logs import get_logger

log = get_logger("collector.api")

class ResponseCache:
    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


#: default of [http] usage_refresh_s: how old the fleet's usage snapshot may get (see api/usage.py)
USAGE_REFRESH_S = 300.0


class UsageCache:
    """Values that are costly to compute and may be a little old (the fleet's usage snapshot).

    ``single_flight(key, compute)``: a missing value is computed by one thread only (the others wait
    for it instead of running the same heavy query twenty times at once).  Once a value exists it
    is served as is, and after ``ttl_s`` one background thread recomputes it while requests keep
    getting the previous value: a refresh never holds up a request or a reader thread.  A value
    older than twice ``ttl_s`` (nobody asked for a while) is recomputed before answering, so what is
    served is never older than that.
    ``compute`` must be callable from any thread (the store's read methods are)."""

    def __init__(self, ttl_s: float = USAGE_REFRESH_S, size: int = 2000):
        self.ttl_s = ttl_s
        self.size = size
        self._items: dict[tuple, tuple[float, dict]] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def put(self, key: tuple, value: dict) -> None:
        if len(self._items) > self.size:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl_s, value)

    def _lock(self, key: tuple) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def single_flight(self, key: tuple, compute) -> dict:
        hit = self._items.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] > self.ttl_s:
            hit = None  # idle for long: too old to serve even once, recompute in the foreground
        if hit is not None:
            if hit[0] <= now:
                lock = self._lock(key)
                if lock.acquire(blocking=False):  # one refresher; the others keep the old value
                    threading.Thread(target=self._refresh, args=(key, compute, lock), daemon=True,
                                     name="api-usage-refresh").start()
            return hit[1]
        with self._lock(key):
            again = self._items.get(key)
            if again is not None and time.monotonic() - again[0] <= self.ttl_s:
                return again[1]
            value = compute()
            self.put(key, value)
            return value

    def _refresh(self, key: tuple, compute, lock: threading.Lock) -> None:
        try:
            self.put(key, compute())
        except Exception as exc:  # keep serving the old value; the next request tries again
            log.warning("usage_refresh_failed", error=repr(exc))
            self._items[key] = (time.monotonic() + min(self.ttl_s, 30.0), self._items[key][1])
        finally:
            lock.release()
