"""SQLite implementation of the store seam's ``alerts`` part (see collector/store/seam.py)."""

from __future__ import annotations


class SqliteAlertStore:
    def __init__(self, path: str):
        self.path = path
