"""``commops serve`` and ``commops users ...``: the web app and its accounts."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer
from rich.markup import escape

from commops.cli.app import JsonOpt, app
from commops.cli.common import cli_actor, console, err_console, print_json, table, workspace
from commops.errors import UsageError

users_app = typer.Typer(
    help="Accounts of the web app: list, add, role, password, disable, enable, token, revoke.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

PASSWORD_ENV = "COMMOPS_PASSWORD"


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Serve the web app (dashboard, workflows, REST API under /api/v1) for the workspace.

    Sign in with an account made by `commops users add`. One process; it refreshes the
    analytics snapshot at start and runs scheduled work (reports) in the background.
    """
    import uvicorn

    from commops.web import create_app

    with workspace() as ws:
        if not ws.config.web_secure_cookies and host not in ("127.0.0.1", "localhost", "::1"):
            err_console.print(
                "[yellow]warning:[/] [web] secure_cookies = false on a public address: "
                "sessions travel without TLS"
            )
        application = create_app(ws)
        console.print(f"commops serving {escape(str(ws.root))} on http://{host}:{port}/")
        uvicorn.run(application, host=host, port=port, log_level=log_level, proxy_headers=False)


def _password(given: str | None, confirm: bool) -> str:
    if given is not None:
        return given
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ")
    return first


RoleOpt = Annotated[str, typer.Option("--role", help="admin, operator, reviewer or viewer.")]


@users_app.command("add")
def add_cmd(
    username: Annotated[str, typer.Argument(help="Login name (no spaces).")],
    role: RoleOpt = "viewer",
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    member: Annotated[
        str | None, typer.Option("--member", help="The member this person is (id or identity).")
    ] = None,
    language: Annotated[str | None, typer.Option("--language", help="en or zh-CN.")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help=f"The password (at least 10 characters). Default: ${PASSWORD_ENV}, else asked.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an account. Roles: admin (everything), operator (runs the workflows), reviewer
    (only the review pages, only what is assigned), viewer (reads)."""
    from commops.web.accounts import add_user

    secret = _password(password, confirm=True)
    with workspace() as ws, ws.store.session() as session:
        user = add_user(
            session,
            username,
            secret,
            role=role,
            display_name=name,
            language=language,
            member=int(member) if member and member.isdigit() else member,
            actor=cli_actor(),
        )
        row: dict[str, object] = {"id": user.id, "username": user.username, "role": user.role}
    if as_json:
        print_json(row)
    else:
        console.print(f"added user {escape(username)} ({role})")


@users_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """List the accounts."""
    from commops.web.accounts import list_users

    with workspace() as ws, ws.store.session() as session:
        rows = [
            {
                "id": u.id,
                "username": u.username,
                "name": u.display_name,
                "role": u.role,
                "language": u.language,
                "member_id": u.member_id,
                "active": u.active,
            }
            for u in list_users(session)
        ]
    if as_json:
        print_json(rows)
    else:
        console.print(table("Users", list(rows[0]) if rows else ["username"], rows))


@users_app.command("role")
def role_cmd(
    username: Annotated[str, typer.Argument(help="The account.")],
    role: Annotated[str, typer.Argument(help="admin, operator, reviewer or viewer.")],
) -> None:
    """Change an account's role."""
    from commops.web.accounts import set_role

    with workspace() as ws, ws.store.session() as session:
        set_role(session, username, role, actor=cli_actor())
    console.print(f"{escape(username)} is now {role}")


@users_app.command("password")
def password_cmd(
    username: Annotated[str, typer.Argument(help="The account.")],
    password: Annotated[
        str | None, typer.Option("--password", help=f"Default: ${PASSWORD_ENV}, else asked.")
    ] = None,
) -> None:
    """Set an account's password (ends its sessions)."""
    from commops.web.accounts import set_password

    secret = _password(password, confirm=True)
    with workspace() as ws, ws.store.session() as session:
        set_password(session, username, secret, actor=cli_actor())
    console.print(f"password of {escape(username)} changed; its sessions ended")


@users_app.command("disable")
def disable_cmd(username: Annotated[str, typer.Argument(help="The account.")]) -> None:
    """Disable an account: its sessions end and its API tokens stop working."""
    from commops.web.accounts import set_active

    with workspace() as ws, ws.store.session() as session:
        set_active(session, username, False, actor=cli_actor())
    console.print(f"{escape(username)} disabled")


@users_app.command("enable")
def enable_cmd(username: Annotated[str, typer.Argument(help="The account.")]) -> None:
    """Enable a disabled account again."""
    from commops.web.accounts import set_active

    with workspace() as ws, ws.store.session() as session:
        set_active(session, username, True, actor=cli_actor())
    console.print(f"{escape(username)} enabled")


@users_app.command("token")
def token_cmd(
    username: Annotated[str, typer.Argument(help="The account the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    write: Annotated[bool, typer.Option("--write", help="Allow changes (scope write).")] = False,
    days: Annotated[
        int | None, typer.Option("--days", min=1, help="Expires after this many days.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API token (printed once; only its digest is stored)."""
    from commops.web.accounts import create_token

    with workspace() as ws, ws.store.session() as session:
        issued = create_token(
            session,
            username,
            name,
            scopes=("read", "write") if write else ("read",),
            days=days,
            actor=cli_actor(),
        )
        scopes = [str(s) for s in issued.token.scopes]
        row = {"id": issued.token.id, "scopes": scopes, "token": issued.secret}
    if as_json:
        print_json(row)
    else:
        console.print(f"token {issued.token.id} ({', '.join(scopes)}): {issued.secret}")
        err_console.print("Keep it now: it is not shown again.")


@users_app.command("revoke")
def revoke_cmd(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
    """Revoke an API token."""
    from commops.web.accounts import revoke_token

    with workspace() as ws, ws.store.session() as session:
        revoke_token(session, token_id, actor=cli_actor())
    console.print(f"token {token_id} revoked")
