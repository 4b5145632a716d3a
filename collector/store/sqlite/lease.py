"""The evaluator's role on SQLite (the store seam's ``lease``): always held.

Why nothing more: one collector per SQLite store is enforced already (``store/lock.py`` refuses a
second ``collector run`` on the same file), so the collector that has the store is the only one
that could evaluate."""

from __future__ import annotations


class SqliteLease:
    held = True

    def hold(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass
