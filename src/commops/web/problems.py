"""Errors as pages for people and as ``application/problem+json`` (RFC 9457) for the API."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from commops.errors import (
    CommopsError,
    NotFoundError,
    PermissionDenied,
    StateConflict,
    UsageError,
)
from commops.web.deps import CsrfFailed, NotSignedIn, build_ctx

log = logging.getLogger("commops.web")
PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """An error (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


_PROBLEM_CONTENT = {PROBLEM: {"schema": Problem.model_json_schema()}}
# What any API route may answer besides its success (documented in the OpenAPI schema).
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Bad request: the message says what to change",
        "content": _PROBLEM_CONTENT,
    },
    401: {"description": "Not signed in: send a bearer token", "content": _PROBLEM_CONTENT},
    403: {"description": "Not allowed for this role or token scope", "content": _PROBLEM_CONTENT},
    404: {"description": "Not found", "content": _PROBLEM_CONTENT},
    409: {
        "description": "Conflict: the record's state, or one that exists, does not allow it",
        "content": _PROBLEM_CONTENT,
    },
    422: {
        "description": "Invalid parameters (errors lists each field)",
        "content": _PROBLEM_CONTENT,
    },
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(
    request: Request, status: int, title: str, detail: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def _page(request: Request, status: int, title: str, detail: str | None) -> Response:
    ctx = await build_ctx(request)
    return ctx.render(
        "error.html.j2",
        status_code=status,
        title=ctx.gettext(title),
        detail=detail,
        status=status,
    )


async def _answer(request: Request, status: int, title: str, detail: str | None) -> Response:
    if is_api(request):
        return problem(request, status, title, detail)
    return await _page(request, status, title, detail)


def install(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if is_api(request):
            return problem(request, 401, "Not signed in", "Send Authorization: Bearer <token>.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(PermissionDenied)
    async def denied(request: Request, exc: PermissionDenied) -> Response:
        return await _answer(request, 403, "Forbidden", exc.message)

    @app.exception_handler(CsrfFailed)
    async def csrf(request: Request, exc: CsrfFailed) -> Response:
        return await _answer(
            request,
            403,
            "Forbidden",
            "The form's security token is missing or stale: reload the page and try again.",
        )

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return await _answer(request, 404, "Not found", exc.message)

    @app.exception_handler(StateConflict)
    async def conflict(request: Request, exc: StateConflict) -> Response:
        return await _answer(request, 409, "Conflict", str(exc))

    @app.exception_handler(UsageError)
    async def usage(request: Request, exc: UsageError) -> Response:
        return await _answer(request, 400, "Bad request", str(exc))

    @app.exception_handler(CommopsError)
    async def commops_error(request: Request, exc: CommopsError) -> Response:
        return await _answer(request, 409, "Cannot be done", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if is_api(request):
            return problem(request, 422, "Invalid request", detail, errors=errors)
        return await _page(request, 422, "Invalid request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        response = await _answer(request, exc.status_code, title, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        if is_api(request):
            return problem(request, 500, "Internal server error", type(exc).__name__)
        return Response("Internal server error", status_code=500, media_type="text/plain")
