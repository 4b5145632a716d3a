"""The alert state machine: pending -> firing -> acknowledged | snoozed -> resolved.

One open alert per (rule, subject).  A pending alert fires once its firing condition has held
without a break for ``for_s`` (every cycle in between saw it); a cycle where it lapses resolves the
pending alert unnotified, and the next sighting opens a new one that waits ``for_s`` again.  Once
firing, it resolves only after its
clearing condition (a separate threshold) has held for ``clear_for_s``: data flapping around a
threshold gives one alert, not a storm.  Every transition is stored in ``alert_events`` with its
time, actor and facts (the customer's timeline) and in ``feed_events`` for the live feed.
"""

from __future__ import annotations

import json
from typing import Any

from collector.alerts import outbox
from collector.alerts.rules import NETWORK_RULES, RULE_FUNCTIONS
from collector.alerts.settings import ORDER
from collector.alerts.states import ACKNOWLEDGED, FIRING, OPEN, PENDING, RESOLVED, SNOOZED, STATES, UNRESOLVED
from collector.store.seam import ALERT_COLUMNS, AlertNotFound, AlertStateError, AlertStore
from protocol.config import Values

COLUMNS = ALERT_COLUMNS


def get(store: AlertStore, alert_id: int) -> dict[str, Any]:
    a = store.get(alert_id)
    if a is None:
        raise AlertNotFound(alert_id)
    return a


def _transition(store: AlertStore, a: dict, to: str, now_ms: int, actor: str = "rules", note: str = "",
                saved: bool = False) -> None:
    """Move ``a`` to state ``to``: the row (unless ``saved``: already written as it is), its
    timeline event and its feed event."""
    assert to in STATES, to
    before = a["state"]
    a["state"] = to
    if not saved:
        store.save(a, now_ms)
    store.add_transition(a, before, now_ms, actor, note)


def _open(store: AlertStore, rule: str, c: dict, cfg: Values, now_ms: int) -> dict:
    value = None if c["value"] is None else float(c["value"])  # as the REAL column gives it back
    # the row as get() would read it back, without reading it back (2,600 alerts open on a first cycle)
    a = dict.fromkeys(COLUMNS)
    a.update(rule=rule, subject=c["subject"], customer=c["customer"], site=c["site"],
             robot=c["robot"], severity=cfg.severity, state=PENDING, summary=c["summary"],
             facts=json.loads(json.dumps(c["facts"], sort_keys=True)),  # as the JSON column gives it back
             opened_ms=now_ms, updated_ms=now_ms, notify_count=0, value=value)
    a["id"] = store.insert(a)
    _transition(store, a, PENDING, now_ms, note=f"value {c['value']} reached threshold {cfg.threshold}",
                saved=True)
    return a


def _fire(store: AlertStore, a: dict, now_ms: int, notify_cfg: Values, note: str, opened: dict | None = None) -> None:
    if a["fired_ms"] is None:
        a["fired_ms"] = now_ms
    if a["rule"] in NETWORK_RULES and a["parent_id"] is None and a["site"] is not None:
        parent = store.site_outage_of(a["customer"], a["site"], OPEN)
        if parent is not None:
            a["parent_id"] = parent
            note = f"{note}; grouped under site_outage alert {parent}"
    _transition(store, a, FIRING, now_ms, note=note)
    if a["rule"] == "site_outage":
        for other in (opened or {}).values():  # keep the in-memory open alerts in step
            if (other["rule"] in NETWORK_RULES and other["customer"] == a["customer"]
                    and other["site"] == a["site"] and other["parent_id"] is None):
                other["parent_id"] = a["id"]
        store.adopt_children(a["id"], NETWORK_RULES, a["customer"], a["site"], UNRESOLVED)
    if a["parent_id"] is None:
        outbox.enqueue(store, a, "firing", now_ms, notify_cfg)


def _resolve(store: AlertStore, a: dict, now_ms: int, notify_cfg: Values, note: str) -> None:
    a["resolved_ms"] = now_ms
    a["clear_since_ms"] = None
    _transition(store, a, RESOLVED, now_ms, note=note)
    if a["notify_count"]:
        outbox.enqueue(store, a, "resolved", now_ms, notify_cfg)


SAVED = ("state", "summary", "facts", "value", "parent_id", "clear_since_ms", "snoozed_until_ms")


def step(store: AlertStore, rule: str, a: dict | None, c: dict | None, cfg: Values, now_ms: int, notify_cfg: Values,
         opened: dict | None = None) -> None:
    """Advance one (rule, subject): ``a`` the open alert or None, ``c`` this cycle's candidate or None.
    An alert that did not change is not written."""
    firing = c is not None and c["firing"] and cfg.enabled
    clearing = c is None or c["clearing"] or not cfg.enabled
    if a is None:
        if firing:
            a = _open(store, rule, c, cfg, now_ms)
            if cfg.for_s == 0:
                _fire(store, a, now_ms, notify_cfg, "threshold reached", opened)
        return
    before = tuple(a[k] for k in SAVED)
    if c is not None:
        a["summary"], a["facts"], a["value"] = c["summary"], c["facts"], c["value"]
    if a["state"] == PENDING:
        if clearing:
            _resolve(store, a, now_ms, notify_cfg, "cleared before firing")
        elif not firing:  # for_s means held without a break: a lapse ends the wait, unnotified
            _resolve(store, a, now_ms, notify_cfg, f"lapsed after {(now_ms - a['opened_ms']) // 1000} s, "
                     f"before holding for {cfg.for_s // 1000} s")
        elif now_ms - a["opened_ms"] >= cfg.for_s:
            _fire(store, a, now_ms, notify_cfg, f"held for {cfg.for_s // 1000} s", opened)
        elif tuple(a[k] for k in SAVED) != before:
            store.save(a, now_ms)
        return
    if a["state"] == SNOOZED and now_ms >= (a["snoozed_until_ms"] or 0):
        a["snoozed_until_ms"] = None
        _fire(store, a, now_ms, notify_cfg, "snooze ended", opened)
    if clearing:
        if a["clear_since_ms"] is None:
            a["clear_since_ms"] = now_ms
        if now_ms - a["clear_since_ms"] >= cfg.clear_for_s:
            _resolve(store, a, now_ms, notify_cfg, f"cleared for {cfg.clear_for_s // 1000} s")
            return
    else:
        a["clear_since_ms"] = None
    repeat = notify_cfg.repeat_s
    if (a["state"] == FIRING and a["parent_id"] is None and repeat > 0 and a["notify_count"]
            and now_ms - (a["notified_ms"] or 0) >= repeat * 1000):
        outbox.enqueue(store, a, "repeat", now_ms, notify_cfg)
    if tuple(a[k] for k in SAVED) != before:
        store.save(a, now_ms)


def run(store: AlertStore, ctx: dict, now_ms: int, alert_cfg: Values, notify_cfg: Values) -> dict[str, int]:
    """Evaluate every rule against ``ctx`` and advance every alert; call inside a transaction.

    Durations are compared in ms; settings are in seconds."""
    counts = {}
    notify_cfg = outbox.routed(notify_cfg, ctx.get("accounts", {}))
    opened = store.alerts_in(UNRESOLVED)
    for rule in ORDER:
        cfg = getattr(alert_cfg, rule)
        cfg = cfg.replace(for_s=cfg.for_s * 1000, clear_for_s=cfg.clear_for_s * 1000)
        found = RULE_FUNCTIONS[rule](ctx, cfg) if cfg.enabled else []
        by_subject = {c["subject"]: c for c in found}
        subjects = set(by_subject) | {s for (r, s) in opened if r == rule}
        for subject in sorted(subjects):
            step(store, rule, opened.get((rule, subject)), by_subject.get(subject), cfg, now_ms, notify_cfg, opened)
        counts[rule] = sum(1 for c in found if c["firing"])
    return counts


def acknowledge(store: AlertStore, alert_id: int, actor: str, note: str, now: int) -> dict:
    """A CSM takes the alert: no more repeats.  Raises AlertNotFound / AlertStateError."""
    return _act(store, alert_id, now, lambda a: _ack(store, a, actor, note, now))


def snooze(store: AlertStore, alert_id: int, until_ms: int, reason: str, actor: str, now: int) -> dict:
    """Silence the alert until ``until_ms`` (it fires again then, if still true)."""
    if until_ms <= now:
        raise AlertStateError("snooze until must be in the future")

    def do(a):
        a["snoozed_until_ms"] = until_ms
        _transition(store, a, SNOOZED, now, actor=actor, note=reason)
    return _act(store, alert_id, now, do)


def _ack(store: AlertStore, a, actor, note, now):
    a["snoozed_until_ms"] = None
    _transition(store, a, ACKNOWLEDGED, now, actor=actor, note=note)


def _act(store: AlertStore, alert_id, now, action) -> dict:
    with store.transaction(immediate=True):
        a = get(store, alert_id)
        if a["state"] not in UNRESOLVED:
            raise AlertStateError(f"alert {alert_id} is resolved")
        action(a)
    return get(store, alert_id)
