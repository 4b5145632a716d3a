"""SQLite implementation of the store seam's ``reads`` part (see collector/store/seam.py)."""

from __future__ import annotations


class SqliteReadStore:
    def __init__(self, path: str):
        self.path = path
