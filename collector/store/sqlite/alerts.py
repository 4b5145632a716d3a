"""SQLite implementation of the store seam's ``alerts`` part (see collector/store/seam.py)."""

from __future__ import annotations

import json

from collector.store.seam import AlertNotFound, AlertStateError
from collector.store.sqlite.db import connect_writer


class SqliteAlertStore:
    def __init__(self, path: str):
        self.path = path

    # ------------------------------------------------------------ the alert engine's reads and writes


    # ------------------------------------------------------------ people's actions (ack, snooze) from the API
    # Each action is one short write transaction of its own (BEGIN IMMEDIATE on a connection opened
    # for it): the API process is then one of the store's writers, for a few ms per click.

    def acknowledge(self, alert_id: int, actor: str, note: str, now_ms: int) -> dict:
        """A CSM takes the alert: no more repeats (and a snooze ends)."""
        return self._act(alert_id, "acknowledged", None, actor, note, now_ms)

    def snooze(self, alert_id: int, until_ms: int, note: str, actor: str, now_ms: int) -> dict:
        """Silence the alert until ``until_ms`` (it fires again then, if still true)."""
        if until_ms <= now_ms:
            raise AlertStateError("snooze until must be in the future")
        return self._act(alert_id, "snoozed", until_ms, actor, note, now_ms)

    def _act(self, alert_id: int, to: str, snoozed_until_ms: int | None, actor: str, note: str,
             now_ms: int) -> dict:
        conn = connect_writer(self.path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(f"SELECT {', '.join(_ACTION_COLUMNS)} FROM alerts WHERE id = ?",
                                   (alert_id,)).fetchone()
                if row is None:
                    raise AlertNotFound(alert_id)
                alert = dict(zip(_ACTION_COLUMNS, row))
                if alert["state"] == "resolved":
                    raise AlertStateError(f"alert {alert_id} is resolved")
                conn.execute("UPDATE alerts SET state = ?, snoozed_until_ms = ?, updated_ms = ? WHERE id = ?",
                             (to, snoozed_until_ms, now_ms, alert_id))
                conn.execute("INSERT INTO alert_events (alert_id, ts_ms, from_state, to_state, actor, note, facts)"
                             " VALUES (?,?,?,?,?,?,?)",
                             (alert_id, now_ms, alert["state"], to, actor, note,
                              json.dumps(json.loads(alert["facts"] or "{}"), sort_keys=True)))
                feed = {"id": alert_id, "rule": alert["rule"], "from": alert["state"], "state": to,
                        "severity": alert["severity"], "customer": alert["customer"], "site": alert["site"],
                        "robot": alert["robot"], "summary": alert["summary"], "actor": actor, "note": note,
                        "parent_id": alert["parent_id"], "ts": now_ms}
                conn.execute("INSERT INTO feed_events (ts_ms, kind, data) VALUES (?, 'alert', ?)",
                             (now_ms, json.dumps(feed, sort_keys=True)))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            row = conn.execute(f"SELECT {', '.join(_ACTION_COLUMNS)} FROM alerts WHERE id = ?",
                               (alert_id,)).fetchone()
            out = dict(zip(_ACTION_COLUMNS, row))
            out["facts"] = json.loads(out["facts"] or "{}")
            return out
        finally:
            conn.close()


#: the alert columns a person's action reads and returns
_ACTION_COLUMNS = ("id", "rule", "subject", "customer", "site", "robot", "severity", "state", "summary", "facts",
                   "parent_id", "opened_ms", "updated_ms", "fired_ms", "resolved_ms", "snoozed_until_ms")
