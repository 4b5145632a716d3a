"""Typed application keys shared by the HTTP parts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

CONFIG = web.AppKey("config", dict)
#: path of the SQLite store; each part opens its own read-only connections
DB_PATH = web.AppKey("db_path", str)
#: in-process services handed in by the runner (ingest stats, writer, ...), by name
SERVICES = web.AppKey("services", dict)
#: a callable returning "now" in ms; tests pass a fixed clock
CLOCK = web.AppKey("clock", Any)

#: set by the auth middleware for the handlers: the token's role and its name (the actor recorded
#: in an alert's timeline)
ROLE = web.RequestKey("role", str)
TOKEN_NAME = web.RequestKey("token_name", str)
