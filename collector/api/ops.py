"""``GET /healthz`` (liveness for a load balancer or systemd, no token) and ``GET /metrics``.

/healthz answers 200 while the writer process runs and 503 when it is down (ingest can no longer
commit, so nothing is acknowledged; the collector starts a new one and reconnects).  It also tells whether the broker
connection is up and how large the backlog is, which is information, not a failure: a collector
waiting for its broker is alive.  While the store's commits fail (disk full, I/O) it answers 200
with ``"status": "degraded"``, ``"store": "failing"`` and the store's error: the process is alive
and serves reads, and restarting it would not free the disk (a liveness probe that restarted it
would only add churn), but whoever looks must see that nothing is being stored.  /metrics renders the process's registry in Prometheus text.
"""

from __future__ import annotations

from aiohttp import web

from collector.http.keys import SERVICES
from collector.metrics import REGISTRY

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    writer, ingest = services.get("writer"), services.get("ingest")
    body: dict = {"status": "ok"}
    if writer is not None:
        body["writer"] = "running" if writer.alive() else "stopped"
        body["backlog_messages"] = writer.backlog_messages()
        failing = getattr(writer, "failing", None)
        body["store"] = "failing" if failing else "ok"
        if failing:
            body["status"] = "degraded"
            body["store_error"] = failing
        if not writer.alive():
            body["status"] = "failing"
    if ingest is not None:
        body["mqtt"] = "connected" if ingest.connected.is_set() else "disconnected"
    lease = getattr(services.get("store"), "lease", None)
    if lease is not None:  # true on the one collector of a store that runs the health cycle (scale.md)
        body["evaluator"] = bool(getattr(lease, "held", False))
    return web.json_response(body, status=503 if body["status"] == "failing" else 200)


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[SERVICES].get("registry", REGISTRY)
    return web.Response(body=registry.render().encode(), headers={"Content-Type": CONTENT_TYPE})


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
