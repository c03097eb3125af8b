"""What every route gets: the request context (workspace, signed-in principal, language,
rendering) and the one permission check, ``require(rule)``.

Pages and the API share it: a page answers a refusal with the login page or a 403 page, the
API with ``application/problem+json``. Forms posted with a session cookie must carry the CSRF
token; API calls with a bearer token need none (a browser never sends it on its own) but need
the ``write`` scope for anything but reads.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from commops.errors import PermissionDenied
from commops.web import accounts
from commops.web.i18n import LANGUAGE_NAMES, LANGUAGES, Formatter, negotiate, translations
from commops.web.models import WebUser
from commops.web.permissions import Principal, Rule
from commops.workspace import Workspace

SESSION_COOKIE = "commops_session"
CSRF_COOKIE = "commops_csrf"
LANG_COOKIE = "commops_lang"
FLASH_COOKIE = "commops_flash"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSignedIn(Exception):
    """Nobody is signed in and the route needs someone."""


class CsrfFailed(Exception):
    """A form posted with a session cookie lacked the right CSRF token."""


@dataclass
class NavItem:
    href: str
    label: str
    rule: Rule
    area: str


# The menu: each area's entry, shown only to the roles its rule lets in. Areas register here
# from their view modules (``register_nav``), so the base template needs no edits.
NAV: list[NavItem] = []


# The menu's order, by area: the day's work first, administration last.
AREAS = (
    "overview",
    "metrics",
    "members",
    "feedback",
    "content",
    "qna",
    "events",
    "partners",
    "governance",
    "reports",
    "sources",
    "settings",
)


def register_nav(href: str, label: str, rule: Rule, area: str) -> None:
    if not any(item.href == href for item in NAV):
        NAV.append(NavItem(href, label, rule, area))
        rank = {name: i for i, name in enumerate(AREAS)}
        NAV.sort(key=lambda item: rank.get(item.area, len(AREAS)))


@dataclass
class Ctx:
    """The request as a route sees it."""

    request: Request
    ws: Workspace
    principal: Principal | None
    lang: str
    csrf_token: str

    @property
    def actor(self) -> str:
        return self.principal.actor if self.principal else "web:anonymous"

    @property
    def fmt(self) -> Formatter:
        return Formatter(self.lang)

    def gettext(self, message: str) -> str:
        return translations(self.lang).gettext(message)

    def allows(self, rule: Rule, obj: Any = None) -> bool:
        return rule(self.principal, obj)

    def check(self, rule: Rule, obj: Any = None) -> None:
        """An object-level check inside a route (the route's own rule has passed already)."""
        if not rule(self.principal, obj):
            raise PermissionDenied(f"not allowed: {rule.name}")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.ws.store.session() as session:
            yield session

    def render(
        self,
        template: str,
        *,
        status_code: int = 200,
        charts: Mapping[str, dict[str, Any]] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        from commops.web.render import render

        return render(self, template, status_code=status_code, charts=charts, context=context)

    def redirect(self, url: str, message: str | None = None) -> RedirectResponse:
        """303 to ``url`` after a form; ``message`` (already translated) shows there once."""
        response = RedirectResponse(url, status_code=303)
        if message:
            response.set_cookie(
                FLASH_COOKIE,
                quote(message[:300]),
                max_age=60,
                httponly=True,
                samesite="strict",
                secure=self.ws.config.web_secure_cookies,
            )
        return response


def _workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def _principal(user: WebUser, via: str, scopes: frozenset[str]) -> Principal:
    return Principal(user.id, user.username, user.role, via, scopes, user.language, user.member_id)


def _load_principal(request: Request) -> Principal | None:
    ws = _workspace(request)
    auth = request.headers.get("authorization", "")
    with ws.store.session() as session:
        if auth.lower().startswith("bearer "):
            found = accounts.token_user(session, auth[7:].strip())
            if found is None:
                return None
            user, token = found
            return _principal(user, "token", frozenset(token.scopes))
        secret = request.cookies.get(SESSION_COOKIE)
        user_or_none = accounts.session_user(session, secret) if secret else None
        if user_or_none is None:
            return None
        return _principal(user_or_none, "session", frozenset({"read", "write"}))


def _language(request: Request, principal: Principal | None) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    if principal is not None and principal.language in LANGUAGES:
        return str(principal.language)
    return negotiate(request.headers.get("accept-language"))


async def _csrf_ok(request: Request, token: str) -> bool:
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    return bool(token) and sent is not None and hmac.compare_digest(sent, token)


async def build_ctx(request: Request) -> Ctx:
    """The context of a request, without any permission check (public routes use it)."""
    cached: Ctx | None = getattr(request.state, "ctx", None)
    if cached is not None:
        return cached
    principal = await run_in_threadpool(_load_principal, request)
    # A browser's first request has no cookie yet: app.CsrfCookie made one for its response.
    csrf = getattr(request.state, "csrf", None) or request.cookies.get(CSRF_COOKIE) or ""
    ctx = Ctx(request, _workspace(request), principal, _language(request, principal), csrf)
    request.state.ctx = ctx
    return ctx


def require(rule: Rule) -> Callable[[Request], Awaitable[Ctx]]:
    """The dependency every route declares: ``c: Ctx = Depends(require(can_view))``."""

    async def dependency(request: Request) -> Ctx:
        ctx = await build_ctx(request)
        if request.method not in SAFE_METHODS:
            if ctx.principal is not None and ctx.principal.via == "token":
                if "write" not in ctx.principal.scopes:
                    raise PermissionDenied("this API token is read-only (scope: read)")
            elif not await _csrf_ok(request, ctx.csrf_token):
                raise CsrfFailed()
        if not rule(ctx.principal):
            if ctx.principal is None:
                raise NotSignedIn()
            raise PermissionDenied(f"your role ({ctx.principal.role}) may not do this")
        return ctx

    dependency.rule = rule  # type: ignore[attr-defined]
    return dependency


def route_rule(endpoint_dependencies: list[Any]) -> Rule | None:
    """The rule a route declared (for the authorisation test and the route table)."""
    for dep in endpoint_dependencies:
        rule = getattr(dep.call, "rule", None)
        if isinstance(rule, Rule):
            return rule
        found = route_rule(dep.dependencies)
        if found is not None:
            return found
    return None


def languages() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


def json_script(data: Any) -> str:
    """JSON safe to put in a ``<script type="application/json">`` element."""
    return (
        json.dumps(data, ensure_ascii=False, default=str)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
