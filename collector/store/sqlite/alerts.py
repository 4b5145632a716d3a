"""SQLite implementation of the store seam's ``alerts`` part (see collector/store/seam.py)."""

from __future__ import annotations


class SqliteAlertStore:
    def __init__(self, path: str):
        self.path = path

    # ------------------------------------------------------------ the alert engine's reads and writes


    # ------------------------------------------------------------ people's actions (ack, snooze) from the API
