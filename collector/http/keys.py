"""Typed application keys shared by the HTTP parts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from collector.store.seam import Store

CONFIG = web.AppKey("config", dict)
#: the store (collector/store/seam.py): the handlers read through ``store.reads`` and act through
#: ``store.alerts``; they never see a connection or SQL text
STORE = web.AppKey("store", Store)
#: the store's location (``[collector] db``), for the background tasks that still open their own
#: connections (the health loop and the notifier, until the service starts them)
#: in-process services handed in by the runner (ingest stats, writer, ...), by name
SERVICES = web.AppKey("services", dict)
#: a callable returning "now" in ms; tests pass a fixed clock
CLOCK = web.AppKey("clock", Any)

#: set by the auth middleware for the handlers: the token's role and its name (the actor recorded
#: in an alert's timeline)
ROLE = web.RequestKey("role", str)
TOKEN_NAME = web.RequestKey("token_name", str)
#: the person who holds the token (``[[http.tokens]] person``), "" when it names none; see
#: ``collector.http.auth.actor``: the name recorded for what they do
PERSON = web.RequestKey("person", str)
