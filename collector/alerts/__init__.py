"""CS alerts: rules over health, the alert engine, the evaluator that runs a cycle (health, then
alerts) and the webhook notifier.  Imports health and the store, never the web layer."""
