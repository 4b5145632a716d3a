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
