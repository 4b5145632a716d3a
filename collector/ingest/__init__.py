"""Ingest (the collector's source): MQTT messages -> validated batches and statuses -> the writer."""
