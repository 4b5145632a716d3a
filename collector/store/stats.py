"""The metrics the writer counts into: windows stored and duplicated, statuses, flushes, retention,
the backlog gauges, and messages dropped because the store failed on them (``internal_error``).

Defined on the store side so that the writer (and its process) need nothing from ingest;
``collector.ingest.stats.IngestStats`` adds ingest's own metrics to these.
"""

from __future__ import annotations

from collector.metrics import Registry
from collector.store.retention import RETAINED


class StoreStats:
    def __init__(self, registry: Registry):
        self.registry = registry
        # the writer counts ``internal_error`` here; ingest counts its validation reasons
        self.rejects = registry.counter(
            "robopulse_ingest_rejects_total", "messages rejected, by reason", ("reason",))
        self.windows_stored = registry.counter(
            "robopulse_store_windows_stored_total", "windows committed to the store for the first time")
        self.windows_duplicate = registry.counter(
            "robopulse_store_windows_duplicate_total", "windows received again and ignored (already stored)")
        self.statuses = registry.counter(
            "robopulse_store_statuses_total", "robot status messages applied")
        self.flushes = registry.counter(
            "robopulse_store_flushes_total", "write transactions committed")
        self.flush_seconds = registry.counter(
            "robopulse_store_flush_seconds_total", "time spent in write transactions")
        self.flush_errors = registry.counter(
            "robopulse_store_flush_errors_total", "write transactions that failed and were retried")
        self.commit_failing = registry.gauge(
            "robopulse_store_commit_failing",
            "1 while write transactions fail (disk full, I/O, locked) and are being retried, else 0")
        self.commit_failing.set(0)
        self.last_flush = registry.gauge(
            "robopulse_store_last_flush_seconds", "duration of the last write transaction")
        self.retention_deleted = registry.counter(
            "robopulse_store_retention_deleted_total", "rows removed by retention, by table", ("table",))
        self.retention_deleted.preset(*((table,) for table, _term in RETAINED))

    def bind_backlog(self, messages_fn, windows_fn) -> None:
        """Backlog gauges read live from the writer's queue."""
        self.registry.gauge("robopulse_ingest_backlog_messages",
                            "messages received but not yet committed (and not yet acknowledged)",
                            fn=messages_fn)
        self.registry.gauge("robopulse_ingest_backlog_windows",
                            "windows received but not yet committed", fn=windows_fn)
