"""The wire contract shared by agent, collector and simulator.

Standard library and msgpack only (``logs`` imports structlog lazily), so that importing
it on a robot costs nothing.
"""

SCHEMA_VERSION = 1
DEFAULT_PREFIX = "robopulse/v1"
