"""One collector per store: an exclusive lock on a file next to the SQLite file (on PostgreSQL: a
session advisory lock, ``StoreLock``).

Why: a second collector started with the same config (a unit started twice, a manual run beside
the service) would connect with the same MQTT client id and take over the broker session of the
first, then write the same store with its own idea of each stream's highest seq.  The lock is
taken before anything connects, so the second one exits at once and touches nothing.

``fcntl.flock`` on ``<db>.lock``: the kernel releases it when the process ends however it ends
(``kill -9`` included), so a stale lock file never blocks a restart; the file holds the pid of
the holder for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class StoreInUse(Exception):
    """Another process holds the store's lock."""


#: the PostgreSQL session advisory lock a collector holds on its database ("RPcollct")
COLLECTOR_LOCK = 0x5250636F6C6C6374


class StoreLock:
    """On a PostgreSQL store (``postgresql://``) the lock is a session advisory lock held on a
    connection of its own: the server releases it when the connection ends, however the process
    ends.  One collector per database until issue 16's evaluator lease lets several share one
    (docs/scale.md): the evaluator and notifier must not run twice."""

    def __init__(self, db: str | os.PathLike):
        self.db = os.fspath(db)
        self.url = self.db if self.db.startswith(("postgresql://", "postgres://")) else None
        self.path = Path(f"{db}.lock")
        self._fd: int | None = None
        self._pg = None

    def _acquire_pg(self) -> "StoreLock":
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True, application_name=f"robopulse-collector pid {os.getpid()}")
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (COLLECTOR_LOCK,)).fetchone()[0]:
            holder = conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database()) AND (l.classid::bigint << 32 | l.objid::bigint) = %s",
                (COLLECTOR_LOCK,)).fetchone()
            conn.close()
            raise StoreInUse(f"store {self.url.rsplit('@', 1)[-1]} is in use by another collector "
                             f"({holder[0] if holder else 'unknown'})")
        self._pg = conn
        return self

    def acquire(self) -> "StoreLock":
        """Take the lock or raise ``StoreInUse`` at once (never waits)."""
        if self.url is not None:
            return self._acquire_pg()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreInUse(f"store {os.fspath(self.path)[:-5]} is in use by another collector "
                             f"(pid {holder}, lock {self.path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def held(self) -> HeldLock:
        """The descriptor to hand to the writer process (``HeldLock``)."""
        return HeldLock(self._fd)

    def release(self) -> None:
        if self._pg is not None:
            self._pg.close()  # ending the session releases its advisory lock
            self._pg = None
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the lock
            self._fd = None


class HeldLock:
    """The lock's descriptor handed to the writer process, so that the store stays locked until
    both processes have ended: a writer process whose main process was killed still commits
    what it holds before it exits, and no new collector may write beside it meanwhile.

    A spawned process inherits no descriptor by itself: pickled among the ``Process`` arguments,
    this one is duplicated into the child by multiprocessing (as its pipes are)."""

    def __init__(self, fd: int | None):
        self.fd = fd

    def __reduce__(self):
        from multiprocessing import reduction

        if self.fd is None:
            return HeldLock, (None,)
        return _held_in_child, (reduction.DupFd(self.fd),)


def _held_in_child(dup) -> HeldLock:
    return HeldLock(dup.detach())
