"""SQLite implementation of the store seam's ``registry`` part (see collector/store/seam.py)."""

from __future__ import annotations


class SqliteRegistryStore:
    def __init__(self, path: str):
        self.path = path
