"""``commops serve``: the FastAPI application.

Pages (``commops.web.views.*``) and the REST API (``commops.web.api.*``, under ``/api/v1``)
are routers found by module, each route guarded by ``deps.require(rule)``. Static files are
ours; the chart bundle is the one vl-convert-python ships, served from memory.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commops import __version__
from commops.web import problems
from commops.web.deps import CSRF_COOKIE
from commops.web.insights import Insights
from commops.workspace import Workspace

log = logging.getLogger("commops.web")
STATIC = Path(__file__).parent / "static"

# No inline scripts anywhere (charts read their specs from JSON data blocks); Vega draws with
# vega-embed's expression interpreter (ast: true), so no eval either. Vega and its tooltips
# set style attributes.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]

_CHART_SNIPPET = """
function drawCharts() {
  const data = document.getElementById("commops-charts");
  if (!data) return;
  const specs = JSON.parse(data.textContent);
  for (const [id, spec] of Object.entries(specs)) {
    const el = document.getElementById(id);
    if (!el) continue;
    // ast: vega-embed then evaluates expressions with its interpreter, never with eval.
    vegaEmbed(el, spec, {actions: false, renderer: "svg", ast: true})
      .then(() => el.setAttribute("data-rendered", "true"))
      .catch((err) => { el.textContent = "Chart could not be drawn: " + err; });
  }
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", drawCharts);
} else {
  drawCharts();
}
"""


@cache
def charts_js() -> str:
    import vl_convert

    from commops.reports.charts import vega_lite_version

    bundle: str = vl_convert.javascript_bundle(_CHART_SNIPPET, vl_version=vega_lite_version())
    return bundle


class SecurityHeaders:
    """Adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.headers = list(SECURITY_HEADERS)
        if secure:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k, v) for k, v in self.headers if k not in present
                ]
            await send(message)

        await self.app(scope, receive, wrapped)


class CsrfCookie:
    """Every browser gets a random CSRF token in an HttpOnly, SameSite=Strict cookie on its
    first response; forms echo it (double submit) and ``deps.require`` compares the two."""

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = Request(scope).cookies.get(CSRF_COOKIE, "")
        if len(token) >= 32:
            await self.app(scope, receive, send)
            return
        token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf"] = token
        cookie = f"{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=strict"
        if self.secure:
            cookie += "; Secure"

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, wrapped)


@dataclass
class Periodic:
    name: str
    every_seconds: float
    run: Callable[[FastAPI], None]


# Work `commops serve` does on its own (scheduled reports, ...), registered by view modules.
PERIODIC: list[Periodic] = []


def register_periodic(name: str, every_seconds: float, run: Callable[[FastAPI], None]) -> None:
    if not any(p.name == name for p in PERIODIC):
        PERIODIC.append(Periodic(name, every_seconds, run))


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every route of the app, flattened (newer FastAPI keeps included routers as branches).
    Routers are included without a prefix of their own, so each route's path is complete."""
    found: list[APIRoute] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):
                walk(list(route.original_router.routes))

    walk(list(app.routes))
    return found


def _routers(package: str) -> list[Any]:
    module = importlib.import_module(package)
    found = []
    for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name):
        sub = importlib.import_module(f"{package}.{info.name}")
        router = getattr(sub, "router", None)
        if router is not None:
            found.append(router)
    return found


def _background(app: FastAPI, stop: threading.Event) -> None:
    insights: Insights = app.state.insights
    try:
        insights.refresh()
    except Exception:
        log.exception("refreshing the analytics snapshot failed")
    app.state.ready.set()
    last: dict[str, float] = {}
    import time

    while not stop.is_set():
        now = time.monotonic()
        for task in PERIODIC:
            if now - last.get(task.name, -1e9) >= task.every_seconds:
                last[task.name] = now
                try:
                    task.run(app)
                except Exception:
                    log.exception("background task %s failed", task.name)
        stop.wait(5.0)


def create_app(ws: Workspace, *, background: bool = True) -> FastAPI:
    """The app for one workspace. ``background``: refresh the snapshot and run scheduled work
    in a thread (off in tests, which call what they need)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if background:
            thread = threading.Thread(
                target=_background, args=(app, stop), name="commops-background", daemon=True
            )
            thread.start()
        else:
            app.state.ready.set()
        try:
            yield
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=10)

    app = FastAPI(
        title="commops",
        version=__version__,
        description="The open-source community operations platform: REST API. Authenticate "
        "with `Authorization: Bearer <token>` (create one under Settings → API tokens or with "
        "`commops users token`).",
        # Swagger UI and ReDoc load from a CDN: off. The schema is at /api/v1/openapi.json.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.workspace = ws
    app.state.insights = Insights(ws)
    app.state.ready = threading.Event()
    problems.install(app)

    @app.get("/static/charts.js", include_in_schema=False)
    def chart_bundle() -> Response:
        return Response(
            charts_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in _routers("commops.web.views"):
        app.include_router(router)
    for router in _routers("commops.web.api"):
        app.include_router(router, responses=problems.RESPONSES)
    app.add_middleware(CsrfCookie, secure=ws.config.web_secure_cookies)
    app.add_middleware(SecurityHeaders, secure=ws.config.web_secure_cookies)
    return app
