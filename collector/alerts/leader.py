"""One evaluator at a time: the health and alert cycle and the webhook notifier run only on the
collector that holds the store's lease (``seam.LeaseStore``; issue 16).

Why a wrapper and not a check inside each loop: the evaluator and the notifier stay as they are
(plain ``Background`` tasks that a single collector runs), and the rule "only while the lease is
held" lives in one place.  ``Leadership`` asks the lease every ``check_s`` (at most the health
interval, so the role is re-checked at least once per cycle): on gaining it, it starts the roles
(the evaluator's first cycle runs at once); on losing it (another collector has it, the database
is unreachable), it stops them: a cycle already in its worker thread finishes its transaction,
none starts.  A survivor takes the role at its next ask after the holder's session ended, so
within one check of the holder's death (kill -9, crash: at once; a vanished host: the lease's
keepalive, ``postgres/lease.py``) and well within two cycles.

Why no alert fires twice and no webhook goes out twice across a hand-over: the alert engine's
state is in the store (a new holder reads the open alerts the old one wrote, under the alert
writers' lock), notifications are queued once per idempotency key, and a delivered row is marked
in the store, so the new notifier sends only what the old one had not marked.  Two guards close
the gap of a former holder that is alive but lost its lease (its database session ended, a
network cut): its notifier asks the lease before each POST (``Notifier(allowed=lease.hold)``), and
after a hand-over the new holder starts its notifier ``grace_s`` late (one delivery's timeout and
one check), so that a POST the former holder had under way is marked before the new one reads
the queue.  Only a former holder that cannot reach the database at all after its POST succeeded
leaves a row unmarked: that one is sent again, with the same ``Idempotency-Key``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from collector.alerts.background import Background
from collector.metrics import REGISTRY
from collector.store.seam import LeaseStore
from protocol.logs import get_logger

log = get_logger("health")
LEADER = REGISTRY.gauge("robopulse_evaluator_leader",
                        "1 while this collector holds the store's lease and runs the health and alert cycle "
                        "and the webhook notifier (exactly one collector of those sharing a store)")
TAKEOVERS = REGISTRY.counter("robopulse_evaluator_takeovers_total",
                             "times this collector took the evaluator's role")


class Leadership(Background):
    """``Leadership(lease, roles, check_s)``: runs ``roles`` (Background tasks) while ``lease`` is held."""

    task_name = "leader"

    def __init__(self, lease: LeaseStore, roles: Sequence[Background], check_s: float,
                 after_handover: Sequence[Background] = (), grace_s: float = 0.0):
        """``after_handover``: roles started ``grace_s`` late when the role was taken over from
        another collector (the notifier: a former holder cut off from the database may still be
        finishing one POST, which it may then mark delivered; the grace covers one delivery's
        timeout and one check).  On a first start nobody held it before: no wait."""
        self.lease = lease
        self.roles = tuple(roles)
        self.after_handover = tuple(after_handover)
        self.check_s = check_s
        self.grace_s = grace_s
        self.running = False
        self._seen_other = False       # refused or lost the lease once: a later take is a hand-over
        self._delayed: asyncio.Task | None = None
        super().__init__()

    async def check(self) -> bool:
        """Ask the lease once and start or stop the roles to match; whether they run now."""
        held = await asyncio.to_thread(self.lease.hold)
        if held and not self.running:
            for role in self.roles:
                role.start()
            if self.after_handover:
                self._delayed = asyncio.create_task(self._start_late(self.grace_s if self._seen_other else 0.0))
            self.running = True
            TAKEOVERS.inc()
            LEADER.set(1)
            log.info("evaluator_role_taken", handover=self._seen_other)
        elif not held:
            self._seen_other = True
            if self.running:
                await self._stop_roles()
                log.warning("evaluator_role_lost")
        return self.running

    async def _start_late(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        for role in self.after_handover:
            role.start()

    async def _stop_roles(self) -> None:
        if self._delayed is not None:
            self._delayed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delayed
            self._delayed = None
        for role in reversed(self.roles + self.after_handover):
            await role.stop()       # one never started: nothing to do
        self.running = False
        LEADER.set(0)

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # a bug must not end the asking: the roles would run on unchecked
                log.exception("evaluator_role_check_failed")
                if self.running:
                    await self._stop_roles()
            await asyncio.sleep(self.check_s)

    async def stop(self) -> None:
        """Stop asking, stop the roles, then give the lease up so another collector takes it at once."""
        await super().stop()
        if self.running:
            await self._stop_roles()
        await asyncio.to_thread(self.lease.release)
