"""`sdbridge serve`: the HTTP face of live mode, on Starlette and uvicorn.

Why these: Starlette is the small, well-kept ASGI toolkit under FastAPI (routing, request
streaming, lifespan), with nothing sdbridge does not use; uvicorn is its usual server, stops
gracefully on SIGTERM (in-flight requests finish, then the lifespan's shutdown runs) and
binds a socket we give it. The work itself runs in `LiveService`'s threads, because the
tracker clients (`jira`, `python-gitlab`) are blocking; a handler only checks, parses and
queues, and answers at once.

Routes:
- `POST /hooks/{source}`: a delivery for that source. 202 accepted (or dropped as a
  redelivery, sdbridge's own change, or older than what was evaluated: said in the body);
  401 unsigned or wrongly signed; 404 no such Jira/GitLab source; 413 too large; 400 not
  JSON; 503 with `Retry-After` while the queue is full or the service stops.
- `GET /healthz`: 200 while serving, 503 while draining.
- `GET /metrics`: Prometheus text.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sdbridge.live.deliveries import DeliveryRefused, gitlab_delivery, jira_delivery
from sdbridge.live.service import LiveService

log = logging.getLogger("sdbridge.live")
RETRY_AFTER_SECONDS = 30


def make_app(service: LiveService) -> Starlette:
    secrets: dict[str, str | None] = {}

    async def hook(request: Request) -> Response:
        name = request.path_params["source"]
        source = service.sources.get(name)
        if source is None:
            return JSONResponse({"error": f"no Jira or GitLab source {name!r}"}, status_code=404)
        if service.draining:
            return _busy("sdbridge is stopping")
        limit = service.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            service.metrics.rejected.labels(name, "too_large").inc()
            return JSONResponse({"error": f"a delivery of more than {limit} bytes"}, status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                service.metrics.rejected.labels(name, "too_large").inc()
                return JSONResponse({"error": f"a delivery of more than {limit} bytes"}, status_code=413)
        if name not in secrets:
            secrets[name] = service.secret(name)
        read = jira_delivery if source.type == "jira" else gitlab_delivery
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            delivery = read(name, secrets[name], headers, bytes(body))
        except DeliveryRefused as refused:
            service.metrics.received.labels(name).inc()
            service.metrics.rejected.labels(name, refused.reason).inc()
            log.warning(json.dumps({"event": "delivery", "source": name, "refused": refused.reason}))
            return JSONResponse({"error": str(refused)}, status_code=refused.status)
        if delivery is None:
            service.metrics.received.labels(name).inc()
            service.metrics.rejected.labels(name, "not_relevant").inc()
            return JSONResponse({"status": "not_relevant"}, status_code=202)
        outcome = service.offer(delivery)
        if outcome == "full":
            return _busy("the queue is full")
        return JSONResponse({"status": outcome}, status_code=202)

    async def healthz(request: Request) -> Response:
        if service.draining:
            return JSONResponse({"status": "draining", "pending": service.pending}, status_code=503)
        return JSONResponse({"status": "ok", "pending": service.pending})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            service.stop()

    return Starlette(
        routes=[
            Route("/hooks/{source}", hook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _busy(why: str) -> Response:
    return JSONResponse({"error": why}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def bind(host: str, port: int) -> socket.socket:
    """The listening socket (port 0: one the system picks; the log says which)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def serve(config: Any, store: Any, *, host: str, port: int, ready: Any = None) -> None:
    """Serve until SIGTERM or SIGINT, then answer what is in flight, evaluate every ticket
    still waiting, and return. `ready(url)` is called once the socket listens."""
    import uvicorn

    service = LiveService(config, store)
    sock = bind(host, port)
    where = sock.getsockname()
    url = f"http://{'[' + where[0] + ']' if ':' in where[0] else where[0]}:{where[1]}"
    server = uvicorn.Server(
        uvicorn.Config(
            make_app(service),
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=30,
        )
    )
    sock.listen(2048)  # deliveries wait in the backlog while the service starts
    log.info(json.dumps({"event": "live", "status": "listening", "url": url}))
    if ready is not None:
        ready(url, service)
    if threading.current_thread() is threading.main_thread():
        # uvicorn stops gracefully on these, then raises them again under the handler found
        # before it: a stop that finished its work is an exit 0, not a death by signal.
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, lambda signum, frame: None)
    server.run(sockets=[sock])
