"""Placeholder: replaced by the part that owns it (see collector/http/app.py PARTS)."""

from aiohttp import web


def setup(app: web.Application) -> None:
    pass
