"""Log lines that cannot flood: an event that repeats (a socket error, a failed sign-in, a refused
connection) is logged at most once per interval with the number of times it happened since.

Why: under a connection flood the event loop reported every failed ``accept()`` with a traceback,
219,399 lines in ten seconds, which filled the disk and hid everything else.  The loop's exception
handler installed here logs such errors as one bounded line per interval, without a traceback for
the operating system errors a server is expected to meet (EMFILE, ECONNRESET, ...)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable

from protocol.logs import get_logger

log = get_logger("collector.http")


class Throttle:
    """``ready(key)`` -> how many times ``key`` happened since it was last let through (the call
    itself included), or 0 while its interval has not passed.  Keys are bounded by the caller
    (an event name, a reason, an errno), never raw input."""

    def __init__(self, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self._last: dict[Hashable, float] = {}
        self._count: dict[Hashable, int] = {}

    def ready(self, key: Hashable) -> int:
        self._count[key] = self._count.get(key, 0) + 1
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            return 0
        self._last[key] = now
        return self._count.pop(key)


def install_loop_error_log(loop: asyncio.AbstractEventLoop, throttle: Throttle | None = None) -> None:
    """Replace the loop's exception handler: one line per kind of error per interval, with a count;
    a traceback only for errors that are not operating-system errors (bugs), and those throttled
    too."""
    throttle = throttle or Throttle()

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        message = str(context.get("message", "event loop error"))
        key = (message, type(exc).__name__, getattr(exc, "errno", None))
        count = throttle.ready(key)
        if not count:
            return
        fields = {"message": message, "error": f"{type(exc).__name__}: {exc}" if exc else "", "count": count,
                  "interval_s": throttle.interval_s}
        if exc is None or isinstance(exc, OSError):
            log.warning("event_loop_error", **fields)
        else:
            log.error("event_loop_error", exc_info=exc, **fields)

    loop.set_exception_handler(handler)
