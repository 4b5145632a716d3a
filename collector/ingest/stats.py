"""The ingest and store metrics, registered once in a ``Registry`` and rendered at ``/metrics``.

One object so that the MQTT source, the validator and the writer count into the same series and
the HTTP part can find them through ``services["stats"]``.
"""

from __future__ import annotations

from collector.ingest.validate import REJECT_REASONS
from collector.metrics import Registry


class IngestStats:
    def __init__(self, registry: Registry):
        self.registry = registry
        self.messages = registry.counter(
            "robopulse_ingest_messages_total", "MQTT messages received, by kind", ("kind",))
        self.messages.preset(("telemetry",), ("status",), ("other",))
        self.rejects = registry.counter(
            "robopulse_ingest_rejects_total", "messages rejected, by reason", ("reason",))
        self.rejects.preset(*((r,) for r in REJECT_REASONS))
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
        self.last_flush = registry.gauge(
            "robopulse_store_last_flush_seconds", "duration of the last write transaction")
        self.retention_deleted = registry.counter(
            "robopulse_store_retention_deleted_total", "rows removed by retention, by table", ("table",))
        self.retention_deleted.preset(("window_chunks",), ("counter_hour",), ("counter_day",), ("customer_day",), ("rollup_marks",), ("gauge_hour",))
        self.connected = registry.gauge(
            "robopulse_ingest_connected", "1 while the MQTT connection is up")
        self.connected.set(0)
        self.connects = registry.counter(
            "robopulse_ingest_connects_total", "MQTT connections established")

    def bind_backlog(self, messages_fn, windows_fn) -> None:
        """Backlog gauges read live from the writer's queue."""
        self.registry.gauge("robopulse_ingest_backlog_messages",
                            "messages received but not yet committed (and not yet acknowledged)",
                            fn=messages_fn)
        self.registry.gauge("robopulse_ingest_backlog_windows",
                            "windows received but not yet committed", fn=windows_fn)
