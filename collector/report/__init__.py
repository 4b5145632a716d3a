"""The monthly value report a CSM sends a customer (issue 15): figures, risks and next steps, HTML
with SVG charts in the customer's language, and a PDF printed by the system's Chromium.

``build.report(reads, customer, month, now_ms, health)`` is the one entry: the API's JSON, the
dashboard's page and ``robopulse collector report`` all start from it (docs/report.md)."""
