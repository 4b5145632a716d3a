"""A small cache of serialized responses, keyed by the request and a cheap "data version".

The overview (every customer with its health) is the page everyone opens and the costliest to
build; it only changes when health is recomputed, an alert moves, or a customer or robot is added.
``data_version`` reads exactly those markers (each an O(1) or O(customers) lookup), so a cached body
is never stale: the key changes the moment any of them does."""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict

VERSION_SQL = """
SELECT (SELECT max(computed_ms) FROM customer_health), (SELECT count(*) FROM customer_health),
       (SELECT max(id) FROM alert_events), (SELECT max(updated_ms) FROM customers),
       (SELECT count(*) FROM customers), (SELECT max(rowid) FROM robots), (SELECT count(*) FROM robots)
"""


def data_version(conn: sqlite3.Connection) -> tuple:
    return tuple(conn.execute(VERSION_SQL).fetchone())


class ResponseCache:
    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return body

    def put(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
