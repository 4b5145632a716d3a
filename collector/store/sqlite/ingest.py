"""SQLite implementation of the store seam's ``ingest`` part (see collector/store/seam.py)."""

from __future__ import annotations


class SqliteIngestStore:
    def __init__(self, path: str):
        self.path = path
