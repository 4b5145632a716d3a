"""The ingest metrics (messages, rejects by reason, the MQTT connection) on top of the store's
(``collector.store.stats.StoreStats``), registered once in a ``Registry`` and rendered at ``/metrics``.

One object so that the MQTT source, the validator and the writer count into the same series and
the HTTP part can find them through ``services["stats"]``.
"""

from __future__ import annotations

from collector.ingest.validate import REJECT_REASONS
from collector.metrics import Registry
from collector.store.stats import StoreStats


class IngestStats(StoreStats):
    def __init__(self, registry: Registry):
        self.messages = registry.counter(
            "robopulse_ingest_messages_total", "MQTT messages received, by kind", ("kind",))
        self.messages.preset(("telemetry",), ("status",), ("other",))
        super().__init__(registry)
        self.rejects.preset(*((r,) for r in REJECT_REASONS))
        self.connected = registry.gauge(
            "robopulse_ingest_connected", "1 while the MQTT connection is up")
        self.connected.set(0)
        self.clamped = registry.counter(
            "robopulse_ingest_clamped_total", "times from the future beyond the tolerance replaced by "
            "the receive time, by field", ("field",))
        self.clamped.preset(("status_ts",))
        self.connects = registry.counter(
            "robopulse_ingest_connects_total", "MQTT connections established")
