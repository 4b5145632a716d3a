"""SQLite implementation of the store seam's ``health`` part (see collector/store/seam.py)."""

from __future__ import annotations


class SqliteHealthStore:
    def __init__(self, path: str):
        self.path = path
