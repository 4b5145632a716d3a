"""Errors as JSON bodies with a message, the same shape on every route."""

from __future__ import annotations

from aiohttp import web


def json_error(status: int, message: str, **extra) -> web.Response:
    return web.json_response({"error": {"status": status, "message": message, **extra}}, status=status)
