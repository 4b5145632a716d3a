"""SQLite implementation of the store seam's ``outbox`` part (see collector/store/seam.py)."""

from __future__ import annotations


class SqliteOutboxStore:
    def __init__(self, path: str):
        self.path = path
