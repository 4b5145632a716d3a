"""The cloud side: ingest -> store -> health, alerts -> api, feed, notify."""
