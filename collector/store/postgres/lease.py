"""The evaluator's role on PostgreSQL (the store seam's ``lease``): a session-level advisory lock
held on a connection of its own.

Why an advisory lock and not a lease row with an expiry: the lock lives exactly as long as the
holder's database session, so there is no clock to trust and no expiry to tune.  A collector that
stops cleanly unlocks; one killed (``kill -9``, a crash) drops its connection and the server ends
its session at once, which frees the lock; a host that vanishes (power, network cut) is noticed by
the server's TCP keepalives, which this connection sets short (``KEEPALIVE``: about 25 s), so a
survivor takes over at its next ask, within two cycles of the default interval.

Re-checked before every cycle (``hold``): the check is ``pg_try_advisory_lock`` on the same
session (re-entrant: true while we hold it; the extra hold is given back at once so there is
only ever one).  A connection that fails is closed and the answer is "not held" (a collector
cut off from the database must stop evaluating); the next ask reconnects and tries again.
"""

from __future__ import annotations

import threading

import psycopg

from protocol.logs import get_logger

log = get_logger("collector.store")

#: the advisory lock key of the evaluator's role ("RPevalua"); other keys: migrations.MIGRATE_LOCK,
#: shared.ALERT_WRITERS, the ingest part's per-stream keys
EVALUATOR_LEASE = 0x52506576616C7561
#: server-side TCP keepalive of the lease's session: idle seconds, interval, probes
KEEPALIVE = (10, 5, 3)


class PgLease:
    """``hold()`` / ``release()`` / ``close()``; thread-safe (the service asks from a worker thread)."""

    def __init__(self, url: str, key: int = EVALUATOR_LEASE, connect_timeout_s: int = 5):
        self.url = url
        self.key = key
        self.connect_timeout_s = connect_timeout_s
        self._conn: psycopg.Connection | None = None
        self._held = False
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        """The last answer of ``hold`` (no database round trip)."""
        return self._held

    def _connect(self) -> psycopg.Connection:
        idle, interval, count = KEEPALIVE
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout_s,
                               keepalives=1, keepalives_idle=idle, keepalives_interval=interval,
                               keepalives_count=count, application_name="robopulse-lease")
        # the server's side of the same: a holder whose host vanished is noticed in ~25 s, not 2 h
        for name, value in (("tcp_keepalives_idle", idle), ("tcp_keepalives_interval", interval),
                            ("tcp_keepalives_count", count)):
            conn.execute(f"SET {name} = {int(value)}")
        return conn

    def hold(self) -> bool:
        with self._lock:
            before = was = self._held
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                    was = False  # a new session holds nothing
                got = bool(self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0])
                if got and was:
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))  # keep one hold
            except psycopg.Error as exc:
                self._drop()
                got = False
                if was:
                    log.warning("lease_check_failed", error=str(exc).strip().splitlines()[0][:200] if str(exc).strip()
                                else type(exc).__name__)
            if got != before:
                log.info("lease_taken" if got else "lease_lost", lease="evaluator")
            self._held = got
            return got

    def release(self) -> None:
        with self._lock:
            if self._held and self._conn is not None and not self._conn.closed:
                try:
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
                    log.info("lease_released", lease="evaluator")
                except psycopg.Error:
                    self._drop()  # the session is gone, and the lock with it
            self._held = False

    def holder_pid(self) -> int | None:
        """The server process id of the session holding the lease, if any (for operators, tests)."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout_s) as conn:
            row = conn.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                               " AND classid = %s AND objid = %s AND objsubid = 1",
                               ((self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF)).fetchone()
        return row[0] if row else None

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
        self._conn = None

    def close(self) -> None:
        self.release()
        with self._lock:
            self._drop()
