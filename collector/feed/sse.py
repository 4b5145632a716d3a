"""``GET /api/v1/feed``: Server-Sent Events of health changes and alert transitions.

Source: the ``feed_events`` table, written by health and alerts in the same transaction as the
change itself, so the feed can never announce something the store does not hold.  One poller per
app watches ``max(id)`` every ``[http] feed_poll_ms`` and wakes the connected clients; each client
then reads the rows after its own last id.  ``id:`` is ``feed_events.id``, so a client that
reconnects with ``Last-Event-ID`` (or ``?last_event_id=``) gets everything it missed that is still
kept; if older rows were already pruned it first gets an ``event: gap``.  An idle feed sends a
comment line every ``[http] feed_heartbeat_s`` so proxies keep the connection open and dead clients
are noticed."""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import web

from collector.http.errors import json_error
from collector.http.keys import CONFIG, STORE
from collector.http.tasks import run_while_serving
from collector.store.seam import FEED_KINDS, ReadStore
from protocol.logs import get_logger
from protocol.topics import ID_RE

KINDS = FEED_KINDS
BATCH = 500
RETRY_MS = 2000

log = get_logger("collector.feed")


class FeedHub:
    """Wakes feed clients when ``feed_events`` grows (one query per poll, whatever the clients)."""

    def __init__(self, poll_s: float):
        self.poll_s = poll_s
        self.last_id = 0
        self.closing = False
        self._changed = asyncio.Event()

    def wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def run(self, reads: ReadStore) -> None:
        while not self.closing:
            try:
                top = await reads.run(reads.feed_last_id)
            except Exception as exc:  # a store error (busy, locked...): try again at the next poll
                log.warning("feed_poll_failed", error=str(exc))
                top = self.last_id
            if top != self.last_id:
                self.last_id = top
                self.wake()
            await asyncio.sleep(self.poll_s)


HUB = web.AppKey("feed_hub", FeedHub)


def _start_id(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValueError("Last-Event-ID must be a non-negative integer")
    return int(raw)


def _filters(request: web.Request) -> tuple[set[str], str | None]:
    kinds = {k for k in request.query.get("kind", "").split(",") if k}
    if kinds - set(KINDS):
        raise ValueError(f"kind must be a comma-separated list of {', '.join(KINDS)}")
    customer = request.query.get("customer") or None
    if customer is not None and not ID_RE.match(customer):
        raise ValueError(f"customer must match {ID_RE.pattern}")
    return kinds or set(KINDS), customer


def format_event(event_id: int, kind: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"id: {event_id}\nevent: {kind}\n{lines}\n".encode()


def _wanted(kind: str, data: str, kinds: set[str], customer: str | None) -> bool:
    if kind not in kinds:
        return False
    if customer is None:
        return True
    try:
        return json.loads(data).get("customer") == customer
    except (ValueError, AttributeError):
        return False


async def feed(request: web.Request) -> web.StreamResponse:
    try:
        after = _start_id(request)
        kinds, customer = _filters(request)
    except ValueError as exc:
        return json_error(400, str(exc))
    app, http = request.app, request.app[CONFIG].http
    hub, reads = app[HUB], app[STORE].reads
    heartbeat_s = float(http.feed_heartbeat_s)
    # Fix the starting point before the client sees the response: an event committed after the
    # client got its headers is then always delivered.
    gap = None
    if after is None:
        after = await reads.run(reads.feed_last_id)
    else:
        oldest = await reads.run(reads.feed_oldest_id)
        if oldest > after + 1:
            gap = json.dumps({"after": after, "oldest": oldest})
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    await response.write(f"retry: {RETRY_MS}\n: robopulse feed\n\n".encode())
    if gap is not None:
        await response.write(f"event: gap\ndata: {gap}\n\n".encode())
    try:
        while not hub.closing:
            rows = await reads.run(reads.feed_after, after, BATCH)
            for event_id, _ts, kind, data in rows:
                if _wanted(kind, data, kinds, customer):
                    await response.write(format_event(event_id, kind, data))
                after = event_id
            if len(rows) == BATCH:
                continue
            before = hub.last_id
            if before > after:  # the poller saw rows after our query: read them now
                continue
            await hub.wait(heartbeat_s)
            if hub.last_id == before and not hub.closing:
                await response.write(b": heartbeat\n\n")
    except ConnectionResetError:  # the client went away
        pass
    return response


def setup(app: web.Application) -> None:
    app[HUB] = FeedHub(app[CONFIG].http.feed_poll_ms / 1000)

    def closing(app: web.Application) -> None:
        app[HUB].closing = True

    async def on_shutdown(app: web.Application) -> None:
        app[HUB].closing = True
        app[HUB].wake()

    run_while_serving(app, "feed-poller", lambda app: app[HUB].run(app[STORE].reads), closing)
    app.on_shutdown.append(on_shutdown)
    app.router.add_get("/api/v1/feed", feed)
