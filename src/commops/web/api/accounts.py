"""``/api/v1/me``, ``/users`` (admins) and ``/tokens``: accounts over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field

from commops.errors import NotFoundError, PermissionDenied
from commops.web import accounts
from commops.web.api.common import API, Page, Paging, page_of, paging
from commops.web.deps import Ctx, require
from commops.web.models import ApiToken, WebUser
from commops.web.permissions import can_admin, is_signed_in

router = APIRouter(prefix=API, tags=["accounts"])

Role = Literal["admin", "operator", "reviewer", "viewer"]
Language = Literal["en", "zh-CN"]


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    language: Language | None
    member_id: int | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: WebUser) -> UserOut:
        return cls.model_validate(user, from_attributes=True)


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=r"^\S+$")
    password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=1000)
    role: Role = "viewer"
    display_name: str = Field(default="", max_length=200)
    language: Language | None = None
    member_id: int | None = Field(default=None, ge=1)


class UserPatch(BaseModel):
    role: Role | None = None
    active: bool | None = None
    language: Language | None = None


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    user_id: int
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls.model_validate(token, from_attributes=True)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Literal["read", "write"]] = Field(default=["read"], min_length=1, max_length=2)
    days: int | None = Field(default=None, ge=1, le=3650)


class TokenCreated(TokenOut):
    token: str = Field(description="The secret. Shown once: only its digest is stored.")


@router.get("/me", summary="The signed-in user")
def me(c: Annotated[Ctx, Depends(require(is_signed_in))]) -> UserOut:
    assert c.principal is not None
    with c.session() as session:
        return UserOut.of(accounts.get_user(session, c.principal.user_id))


@router.get("/users", summary="Users (admins)")
def list_users(
    c: Annotated[Ctx, Depends(require(can_admin))],
    p: Annotated[Paging, Depends(paging)],
    role: Role | None = None,
) -> Page[UserOut]:
    with c.session() as session:
        users = [UserOut.of(u) for u in accounts.list_users(session) if role in (None, u.role)]
    return page_of(users, p)


@router.post("/users", status_code=201, summary="Add a user (admins)")
def add_user(c: Annotated[Ctx, Depends(require(can_admin))], body: UserIn) -> UserOut:
    with c.session() as session:
        user = accounts.add_user(
            session,
            body.username,
            body.password,
            role=body.role,
            display_name=body.display_name,
            language=body.language,
            member=body.member_id,
            actor=c.actor,
        )
        return UserOut.of(user)


@router.patch("/users/{user_id}", summary="Change a user's role, language or status (admins)")
def patch_user(
    c: Annotated[Ctx, Depends(require(can_admin))],
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: UserPatch,
) -> UserOut:
    assert c.principal is not None
    with c.session() as session:
        if body.role is not None:
            accounts.set_role(session, user_id, body.role, actor=c.actor)
        if body.language is not None:
            accounts.set_language(session, user_id, body.language, actor=c.actor)
        if body.active is not None:
            if user_id == c.principal.user_id and not body.active:
                raise PermissionDenied("you cannot disable your own account")
            accounts.set_active(session, user_id, body.active, actor=c.actor)
        return UserOut.of(accounts.get_user(session, user_id))


@router.get("/tokens", summary="Your API tokens (admins: everyone's)")
def list_tokens(
    c: Annotated[Ctx, Depends(require(is_signed_in))],
    p: Annotated[Paging, Depends(paging)],
) -> Page[TokenOut]:
    assert c.principal is not None
    owner = None if c.allows(can_admin) else c.principal.user_id
    with c.session() as session:
        return page_of([TokenOut.of(t) for t in accounts.list_tokens(session, owner)], p)


@router.post("/tokens", status_code=201, summary="Create an API token for yourself")
def create_token(c: Annotated[Ctx, Depends(require(is_signed_in))], body: TokenIn) -> TokenCreated:
    assert c.principal is not None
    if "write" in body.scopes and "write" not in c.principal.scopes:
        raise PermissionDenied("a read-only token cannot create a write token")
    with c.session() as session:
        issued = accounts.create_token(
            session,
            c.principal.user_id,
            body.name,
            scopes=tuple(body.scopes),
            days=body.days,
            actor=c.actor,
        )
        out = TokenOut.of(issued.token).model_dump()
    return TokenCreated(**out, token=issued.secret)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def revoke_token(
    c: Annotated[Ctx, Depends(require(is_signed_in))],
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    assert c.principal is not None
    with c.session() as session:
        mine = {t.id for t in accounts.list_tokens(session, c.principal.user_id)}
        if token_id not in mine and not c.allows(can_admin):
            raise NotFoundError(f"no API token {token_id} of yours")
        accounts.revoke_token(session, token_id, actor=c.actor)
    return Response(status_code=204)
