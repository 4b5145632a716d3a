"""The notification outbox: one row per (alert event, webhook) in ``notifications``.

Rows are written in the same transaction as the alert transition that causes them, so a crash
never loses one; the delivery loop (notify.py) sends and retries them.  The payload schema is
``robopulse.alert.v1`` (docs/health.md); ``idempotency_key`` is the same on every retry.
"""

from __future__ import annotations

import json
from typing import Any

from collector.alerts.settings import SEVERITIES
from collector.store.seam import AlertStore
from protocol.config import Values

SCHEMA = "robopulse.alert.v1"
ALERT_FIELDS = ("id", "rule", "state", "severity", "customer", "site", "robot", "summary", "value",
                "opened_ms", "fired_ms", "resolved_ms", "parent_id")


def wants(hook: Values, alert: dict, account: tuple[str | None, str | None] = (None, None),
          tiers: dict | None = None) -> bool:
    """Does ``hook`` take ``alert``?  ``account``: the alert's customer's ``(csm, tier)`` (None when
    the customer is not imported: a webhook filtering on CSMs or tiers then does not take it);
    ``tiers``: ``notify.tiers``, a tier's least severity notified (docs/health.md, Routing)."""
    if hook.rules and alert["rule"] not in hook.rules:
        return False
    rank = SEVERITIES.index(alert["severity"])
    if rank < SEVERITIES.index(hook.min_severity):
        return False
    if hook.severities and alert["severity"] not in hook.severities:
        return False
    if hook.customers and alert["customer"] not in hook.customers:
        return False
    csm, tier = account
    if hook.csms and csm not in hook.csms:
        return False
    if hook.tiers and tier not in hook.tiers:
        return False
    if hook.follow_tiers and tier is not None and tier in (tiers or {}):
        return rank >= SEVERITIES.index(tiers[tier])
    return True


def routed(notify_cfg: Values, accounts: dict[str, tuple[str | None, str | None]]) -> Values:
    """``notify_cfg`` plus the customers' ``(csm, tier)`` the routing filters read (one dict per
    cycle, so that ``enqueue`` needs no read of its own)."""
    return notify_cfg.replace(accounts=accounts)


def text(event: str, alert: dict) -> str:
    """The line a chat tool shows."""
    head = {"firing": "FIRING", "repeat": "STILL FIRING", "resolved": "RESOLVED"}[event]
    return f"[{alert['severity'].upper()}] {head} {alert['rule']}: {alert['summary']}"


def payload(event: str, alert: dict, key: str, now_ms: int, children: list[str]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "idempotency_key": key,
        "event": event,
        "ts": now_ms,
        "alert": {**{f: alert.get(f) for f in ALERT_FIELDS}, "facts": alert.get("facts") or {},
                  "grouped_robots": children},
        "text": text(event, alert),
    }


def enqueue(store: AlertStore, alert: dict, event: str, now_ms: int, notify_cfg: Values) -> int:
    """Queue ``event`` (firing | repeat | resolved) of ``alert`` for every webhook that wants it.

    Runs inside the caller's transaction; returns the number of rows queued."""
    seq = alert.get("notify_count", 0) + 1
    alert["notify_count"], alert["notified_ms"] = seq, now_ms
    children = store.grouped_robots(alert["id"])
    rows = []
    account = notify_cfg.accounts.get(alert["customer"], (None, None))
    for hook in notify_cfg.webhooks:
        if not wants(hook, alert, account, notify_cfg.tiers):
            continue
        key = f"robopulse-{alert['id']}-{seq}-{event}-{hook.name}"
        rows.append((key, hook.name, json.dumps(payload(event, alert, key, now_ms, children), sort_keys=True)))
    store.queue_notifications(alert["id"], seq, now_ms, rows)
    return len(rows)
