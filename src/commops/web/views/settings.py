"""Settings: users and roles (admins), API tokens (everyone their own; admins all), the
configuration (admins, read-only: commops.toml is the source of truth)."""

from __future__ import annotations

from typing import Annotated

import tomli_w
from fastapi import APIRouter, Depends, Form, Path
from fastapi.responses import Response

from commops.errors import PermissionDenied
from commops.web import accounts
from commops.web.deps import Ctx, register_nav, require
from commops.web.models import ROLES, SCOPES
from commops.web.permissions import can_admin, is_signed_in

router = APIRouter(include_in_schema=False)
register_nav("/settings", "Settings", is_signed_in, "settings")


def config_text(c: Ctx) -> str:
    """commops.toml as the server reads it (API tokens are never part of it)."""
    data = c.ws.config.to_toml()
    return tomli_w.dumps(data)


def _page(c: Ctx, *, new_token: str | None = None, status_code: int = 200) -> Response:
    """The settings page: every user (admins), the tokens one may see, the configuration."""
    assert c.principal is not None
    admin = c.allows(can_admin)
    with c.session() as session:
        everyone = accounts.list_users(session)
        tokens = accounts.list_tokens(session, None if admin else c.principal.user_id)
    return c.render(
        "settings/index.html.j2",
        status_code=status_code,
        users=everyone if admin else [],
        tokens=tokens,
        owners={u.id: u.username for u in everyone},
        roles=ROLES,
        scopes=SCOPES,
        new_token=new_token,
        config=config_text(c) if admin else None,
        config_path=str(c.ws.root / "commops.toml"),
    )


@router.get("/settings")
def settings_page(c: Annotated[Ctx, Depends(require(is_signed_in))]) -> Response:
    return _page(c)


@router.post("/settings/users")
def add_user(
    c: Annotated[Ctx, Depends(require(can_admin))],
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[str, Form(max_length=20)] = "viewer",
    display_name: Annotated[str, Form(max_length=200)] = "",
    member: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    with c.session() as session:
        accounts.add_user(
            session,
            username,
            password,
            role=role,
            display_name=display_name,
            member=int(member) if member.isdigit() else (member or None),
            actor=c.actor,
        )
    return c.redirect("/settings", c.gettext("User added."))


@router.post("/settings/users/{user_id}/role")
def change_role(
    c: Annotated[Ctx, Depends(require(can_admin))],
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    with c.session() as session:
        accounts.set_role(session, user_id, role, actor=c.actor)
    return c.redirect("/settings", c.gettext("Role changed."))


@router.post("/settings/users/{user_id}/active")
def change_active(
    c: Annotated[Ctx, Depends(require(can_admin))],
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    active: Annotated[bool, Form()],
) -> Response:
    assert c.principal is not None
    if user_id == c.principal.user_id and not active:
        raise PermissionDenied("you cannot disable your own account")
    with c.session() as session:
        accounts.set_active(session, user_id, active, actor=c.actor)
    return c.redirect(
        "/settings", c.gettext("Account enabled.") if active else c.gettext("Account disabled.")
    )


@router.post("/settings/tokens")
def create_token(
    c: Annotated[Ctx, Depends(require(is_signed_in))],
    name: Annotated[str, Form(max_length=200)],
    write: Annotated[bool, Form()] = False,
    days: Annotated[int | None, Form(ge=1, le=3650)] = None,
) -> Response:
    assert c.principal is not None
    with c.session() as session:
        issued = accounts.create_token(
            session,
            c.principal.user_id,
            name,
            scopes=("read", "write") if write else ("read",),
            days=days,
            actor=c.actor,
        )
    # The secret is shown once, on this page, never stored: no redirect here.
    return _page(c, new_token=issued.secret, status_code=201)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(
    c: Annotated[Ctx, Depends(require(is_signed_in))],
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    assert c.principal is not None
    with c.session() as session:
        mine = {t.id for t in accounts.list_tokens(session, c.principal.user_id)}
        if token_id not in mine and not c.allows(can_admin):
            raise PermissionDenied("you may revoke only your own tokens")
        accounts.revoke_token(session, token_id, actor=c.actor)
    return c.redirect("/settings", c.gettext("Token revoked."))
