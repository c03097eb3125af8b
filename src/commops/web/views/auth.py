"""Signing in and out, and choosing the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from commops.web import accounts
from commops.web.deps import LANG_COOKIE, NAV, SESSION_COOKIE, Ctx, require
from commops.web.i18n import LANGUAGES
from commops.web.permissions import Principal, anyone, can_view, is_signed_in

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only paths on this site (no //host, no scheme): an open redirect helps phishing."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _landing(role: str, target: str) -> str:
    """Where to go after signing in: the page asked for, except that someone who may not see
    the overview (a reviewer) starts on the first page of the menu they may see."""
    probe = Principal(0, "", role, "session")
    if target != "/" or can_view(probe):
        return target
    return next((item.href for item in NAV if item.rule(probe)), "/settings")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(c: Annotated[Ctx, Depends(require(anyone))], next: str = "/") -> Response:
    if c.principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return c.render("login.html.j2", next=_safe_next(next), error=None, username="")


@router.post("/login")
def login(
    c: Annotated[Ctx, Depends(require(anyone))],
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        with c.session() as session:
            user = accounts.authenticate(
                session,
                username,
                password,
                address=_address(c.request),
                limit=c.ws.config.web_login_attempts,
            )
            secret = accounts.start_session(session, user, hours=c.ws.config.web_session_hours)
    except accounts.LoginRefused as exc:
        # The failed attempt was rolled back with the session: record it on its own.
        with c.session() as session:
            accounts.note_failure(session, username, _address(c.request))
        return c.render(
            "login.html.j2",
            status_code=401 if "too many" not in exc.message else 429,
            next=_safe_next(next),
            error=c.gettext(exc.message),
            username=username,
        )
    response = RedirectResponse(_landing(user.role, _safe_next(next)), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=c.ws.config.web_session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=c.ws.config.web_secure_cookies,
    )
    return response


@router.post("/logout")
def logout(c: Annotated[Ctx, Depends(require(is_signed_in))]) -> Response:
    secret = c.request.cookies.get(SESSION_COOKIE)
    if secret:
        with c.session() as session:
            accounts.end_session(session, secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
def language(
    c: Annotated[Ctx, Depends(require(anyone))],
    lang: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The language for this browser; a signed-in user's choice is also saved to the account."""
    if lang not in LANGUAGES:
        lang = "en"
    if c.principal is not None:
        with c.session() as session:
            accounts.set_language(session, c.principal.user_id, lang, actor=c.actor)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 86400,
        httponly=True,
        samesite="lax",
        secure=c.ws.config.web_secure_cookies,
    )
    return response
