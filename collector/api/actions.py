"""Admin actions on alerts (acknowledge, snooze): the only writes the API makes.

This module validates the request body and hands the transition to the alert engine
(``engine.acknowledge`` / ``snooze``, the same transition code the rules use: one short write
transaction on an alerts part of its own, recorded in the alert's timeline and the feed), with the
acting token's person (else its name) as the actor (``collector.http.auth.actor``)."""

from __future__ import annotations

from collections.abc import Callable

from collector.alerts import engine
from collector.store.seam import AlertNotFound, AlertStateError, AlertStore

MAX_SNOOZE_MINUTES = 30 * 24 * 60
MAX_NOTE = 500


class ActionError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_body(body: object, action: str) -> dict:
    """``{"note": str?}`` for ack; ``{"minutes": int}`` or ``{"until_ms": int}`` plus note for snooze."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ActionError(400, "body must be a JSON object")
    allowed = {"note"} | ({"minutes", "until_ms"} if action == "snooze" else set())
    unknown = set(body) - allowed
    if unknown:
        raise ActionError(400, f"unknown field {sorted(unknown)[0]!r}")
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ActionError(400, f"note must be a string of at most {MAX_NOTE} characters")
    out = {"note": note}
    if action == "snooze":
        minutes, until = body.get("minutes"), body.get("until_ms")
        if (minutes is None) == (until is None):
            raise ActionError(400, "snooze needs exactly one of minutes or until_ms")
        for name, value in (("minutes", minutes), ("until_ms", until)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ActionError(400, f"{name} must be an integer")
        if minutes is not None and not 1 <= minutes <= MAX_SNOOZE_MINUTES:
            raise ActionError(400, f"minutes must be between 1 and {MAX_SNOOZE_MINUTES}")
        out["minutes"], out["until_ms"] = minutes, until
    return out


def perform(open_alerts: Callable[[], AlertStore], action: str, alert_id: int, actor: str, now_ms: int,
            body: dict) -> dict:
    """Run one action on an alerts part of its own (called in a worker thread)."""
    until = None
    if action == "snooze":
        until = body["until_ms"] if body.get("until_ms") is not None else now_ms + body["minutes"] * 60_000
        if until <= now_ms:
            raise ActionError(400, "until_ms must be in the future")
    alerts = open_alerts()
    try:
        if action == "ack":
            return engine.acknowledge(alerts, alert_id, actor, body["note"], now_ms)
        return engine.snooze(alerts, alert_id, until, body["note"], actor, now_ms)
    except AlertNotFound:
        raise ActionError(404, f"no alert {alert_id}") from None
    except AlertStateError as exc:
        raise ActionError(409, str(exc)) from None
    finally:
        alerts.close()
