"""structlog set-up shared by every process: JSON lines by default (journald keeps them),
readable console output when stdout is a terminal.  structlog is imported only when called."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "info", json: bool | None = None, stream=None) -> None:
    import structlog

    stream = stream or sys.stdout
    if json is None:
        json = not (hasattr(stream, "isatty") and stream.isatty())
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str):
    import structlog

    return structlog.get_logger(name)


class FailureLog:
    """One line per failure, not one per attempt: a fault that repeats (a full disk, a broker that
    refuses) is logged when it starts and whenever its cause changes, then at most once every
    ``every_s`` seconds with how many attempts failed meanwhile, and once more when it ends.

    Why: a retry loop that logs every attempt buries the cause under thousands of copies (and
    fills the disk that is already full); one that logs nothing hides it.  Not thread-safe: each
    retry loop owns its own."""

    def __init__(self, log, event: str, every_s: float = 60.0, clock=None):
        import time

        self.log, self.event, self.every_s = log, event, every_s
        self.clock = clock or time.monotonic
        self.error: str | None = None       # the cause while failing, else None
        self.since: float | None = None     # clock() when it started failing
        self.failures = 0                   # attempts failed since it started
        self._logged_at = 0.0
        self._suppressed = 0

    @property
    def failing(self) -> bool:
        return self.error is not None

    def failed(self, error: str, **fields) -> None:
        now = self.clock()
        changed = error != self.error
        if self.error is None:
            self.since = now
        self.error = error
        self.failures += 1
        if changed or now - self._logged_at >= self.every_s:
            self.log.error(self.event, error=error, failures=self.failures, suppressed=self._suppressed, **fields)
            self._logged_at, self._suppressed = now, 0
        else:
            self._suppressed += 1

    def recovered(self, event: str, **fields) -> None:
        """Call after a success: logs ``event`` (with how long and how many attempts it failed)
        if it was failing, and resets."""
        if self.error is None:
            return
        self.log.info(event, failed_for_s=round(self.clock() - (self.since or 0.0), 1), failures=self.failures,
                      last_error=self.error, **fields)
        self.error, self.since, self.failures, self._suppressed = None, None, 0, 0
