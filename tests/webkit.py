"""Helpers for the web tests: a demo workspace with one user per role, and a synchronous
client that talks to the app in process through httpx's ASGI transport (no mocks: the real
app, the real database)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from commops.demo import generate
from commops.web import accounts, create_app
from commops.web.deps import CSRF_COOKIE
from commops.workspace import Workspace, init_workspace

ROLES = ("admin", "operator", "reviewer", "viewer")
PASSWORD = "a long test password"


def demo_workspace(
    path: Path,
    *,
    members: int = 200,
    months: int = 12,
    seed: int = 3,
    database_url: str | None = None,
) -> Workspace:
    """A workspace seeded by the demo generator, with users admin, operator, reviewer and
    viewer (password ``PASSWORD``)."""
    ws, _ = init_workspace(path, database_url)
    generate(ws, members=members, months=months, seed=seed, end=date(2026, 10, 31))
    add_role_users(ws)
    return ws


def add_role_users(ws: Workspace) -> None:
    with ws.store.session() as session:
        for role in ROLES:
            accounts.add_user(session, role, PASSWORD, role=role, actor="test")


def web_app(ws: Workspace) -> FastAPI:
    """The app without its background thread; the snapshot is refreshed once, here."""
    app = create_app(ws, background=False)
    app.state.insights.refresh()
    return app


_LOOP: asyncio.AbstractEventLoop | None = None


def _loop() -> asyncio.AbstractEventLoop:
    """One event loop for every client of the test process (a loop per client would leave
    unclosed loops behind when a test forgets to close its client)."""
    global _LOOP
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
    return _LOOP


class WebClient:
    """httpx.AsyncClient over ASGITransport, driven synchronously for readable tests."""

    def __init__(self, app: FastAPI, *, headers: Mapping[str, str] | None = None) -> None:
        self.app = app
        self._loop = _loop()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
            base_url="https://testserver",
            headers=dict(headers or {}),
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    @property
    def csrf(self) -> str:
        """The CSRF token (fetches a page first if the browser has none yet)."""
        token = self._client.cookies.get(CSRF_COOKIE)
        if token is None:
            self.get("/login")
            token = self._client.cookies.get(CSRF_COOKIE)
        assert token is not None
        return token

    def form(
        self, url: str, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """POST a form the way the page does: with its CSRF token."""
        return self.post(url, data={**(data or {}), "csrf_token": self.csrf}, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = self.form("/login", {"username": username, "password": password, "next": "/"})
        assert response.status_code == 303, response.text
        return response

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())


def client_as(app: FastAPI, role: str | None) -> WebClient:
    """A client signed in as the user named after ``role`` (None: nobody)."""
    client = WebClient(app)
    if role is not None:
        client.login(role)
    return client


def token_client(ws: Workspace, app: FastAPI, role: str, scopes: tuple[str, ...]) -> WebClient:
    with ws.store.session() as session:
        issued = accounts.create_token(session, role, "test", scopes=scopes, actor="test")
    return WebClient(app, headers={"Authorization": f"Bearer {issued.secret}"})


@dataclass
class Site:
    """A test module's workspace and app, and the clients it made (closed at the end)."""

    ws: Workspace
    app: FastAPI
    clients: list[WebClient] = field(default_factory=list)

    def as_role(self, role: str) -> WebClient:
        client = client_as(self.app, role)
        self.clients.append(client)
        return client

    def token(self, role: str, scopes: tuple[str, ...]) -> WebClient:
        client = token_client(self.ws, self.app, role, scopes)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.ws.close()
