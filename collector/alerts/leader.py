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
in the store, so the new notifier sends only what the old one had not marked.
"""

from __future__ import annotations

import asyncio
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

    def __init__(self, lease: LeaseStore, roles: Sequence[Background], check_s: float):
        self.lease = lease
        self.roles = tuple(roles)
        self.check_s = check_s
        self.running = False
        super().__init__()

    async def check(self) -> bool:
        """Ask the lease once and start or stop the roles to match; whether they run now."""
        held = await asyncio.to_thread(self.lease.hold)
        if held and not self.running:
            for role in self.roles:
                role.start()
            self.running = True
            TAKEOVERS.inc()
            LEADER.set(1)
            log.info("evaluator_role_taken")
        elif not held and self.running:
            await self._stop_roles()
            log.warning("evaluator_role_lost")
        return self.running

    async def _stop_roles(self) -> None:
        for role in reversed(self.roles):
            await role.stop()
        self.running = False
        LEADER.set(0)

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.check_s)

    async def stop(self) -> None:
        """Stop asking, stop the roles, then give the lease up so another collector takes it at once."""
        await super().stop()
        if self.running:
            await self._stop_roles()
        await asyncio.to_thread(self.lease.release)
