"""Accounts: one function per change (add a user, change a role, sign in, sign out, issue and
revoke a token). They take a Session and never print; the CLI and the web pages call them."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import NotFoundError, StateConflict, UsageError
from commops.ops import core
from commops.web.models import ROLES, SCOPES, ApiToken, LoginAttempt, WebSession, WebUser

_hasher = PasswordHasher()
# A hash of a password nobody has: verifying against it when the user does not exist takes the
# same time as a real check, so response times do not tell which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 10
LOCKOUT = timedelta(minutes=15)
TOKEN_PREFIX = "cmo_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short: at least {MIN_PASSWORD} characters")


def _check_language(language: str | None) -> str | None:
    if language not in (None, "en", "zh-CN"):
        raise UsageError(f"language {language!r}: use en or zh-CN")
    return language


def get_user(session: Session, ref: int | str) -> WebUser:
    """A user by id or username."""
    column = WebUser.id if isinstance(ref, int) else WebUser.username
    user = session.scalars(select(WebUser).where(column == ref)).first()
    if user is None:
        raise NotFoundError(f"no user {ref!r}", hint="List them with: commops users list")
    return user


def list_users(session: Session) -> list[WebUser]:
    return list(session.scalars(select(WebUser).order_by(WebUser.username)))


def add_user(
    session: Session,
    username: str,
    password: str,
    *,
    role: str = "viewer",
    display_name: str = "",
    language: str | None = None,
    member: int | str | None = None,
    actor: str,
) -> WebUser:
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise UsageError(f"username {username!r}: 1 to 100 characters, no spaces")
    _check_role(role)
    _check_password(password)
    _check_language(language)
    if session.scalars(select(WebUser.id).where(WebUser.username == username)).first():
        raise StateConflict(f"user {username!r} already exists")
    member_id = core.require_member(session, member) if member is not None else None
    now = utcnow()
    user = WebUser(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=_hasher.hash(password),
        role=role,
        language=language,
        member_id=member_id,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type="web_user",
        record_id=user.id,
        action="added",
        details={"role": role},
    )
    return user


def set_role(session: Session, ref: int | str, role: str, *, actor: str) -> WebUser:
    user = get_user(session, ref)
    before = user.role
    user.role = _check_role(role)
    user.updated_at = utcnow()
    core.record(
        session,
        actor=actor,
        record_type="web_user",
        record_id=user.id,
        action="role",
        details={"from": before, "to": role},
    )
    return user


def set_password(session: Session, ref: int | str, password: str, *, actor: str) -> WebUser:
    _check_password(password)
    user = get_user(session, ref)
    user.password_hash = _hasher.hash(password)
    user.updated_at = utcnow()
    _end_sessions(session, user.id)
    core.record(session, actor=actor, record_type="web_user", record_id=user.id, action="password")
    return user


def set_language(session: Session, ref: int | str, language: str | None, *, actor: str) -> WebUser:
    user = get_user(session, ref)
    user.language = _check_language(language)
    user.updated_at = utcnow()
    core.record(
        session,
        actor=actor,
        record_type="web_user",
        record_id=user.id,
        action="language",
        details={"to": language},
    )
    return user


def set_active(session: Session, ref: int | str, active: bool, *, actor: str) -> WebUser:
    """Disable (or enable again) an account. Disabling ends its sessions; tokens stop working."""
    user = get_user(session, ref)
    user.active = active
    user.updated_at = utcnow()
    if not active:
        _end_sessions(session, user.id)
    core.record(
        session,
        actor=actor,
        record_type="web_user",
        record_id=user.id,
        action="enabled" if active else "disabled",
    )
    return user


def _end_sessions(session: Session, user_id: int) -> None:
    now = utcnow()
    for row in session.scalars(
        select(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
    ):
        row.ended_at = now


class LoginRefused(UsageError):
    """Wrong username or password, or too many attempts; the message never says which name
    exists."""


def recent_failures(session: Session, username: str, address: str, now: datetime) -> int:
    since = now - LOCKOUT
    by_name = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.username == username, LoginAttempt.attempted_at >= since)
    )
    by_address = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.address == address, LoginAttempt.attempted_at >= since)
    )
    return max(int(by_name or 0), int(by_address or 0))


def authenticate(
    session: Session, username: str, password: str, *, address: str, limit: int
) -> WebUser:
    """The user whose password this is. After ``limit`` failures for the name or the address
    within 15 minutes, refuse (even a right password) until the window passes. The caller
    records a refusal with ``note_failure`` (outside the refused transaction)."""
    now = utcnow()
    username = username.strip()
    if recent_failures(session, username, address, now) >= limit:
        raise LoginRefused("too many failed logins: try again in 15 minutes")
    user = session.scalars(select(WebUser).where(WebUser.username == username)).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        raise LoginRefused("wrong username or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    return user


def note_failure(session: Session, username: str, address: str) -> None:
    """Count a failed login (in its own transaction: the refused one rolls back)."""
    now = utcnow()
    session.add(LoginAttempt(username=username[:100], address=address[:100], attempted_at=now))
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - 4 * LOCKOUT))


def start_session(session: Session, user: WebUser, *, hours: int) -> str:
    """A new session for the user; returns the secret for the cookie (stored only hashed)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            digest=digest(secret),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return secret


def session_user(session: Session, secret: str) -> WebUser | None:
    """The active user of a live session, or None."""
    now = utcnow()
    row = session.scalars(
        select(WebSession).where(
            WebSession.digest == digest(secret),
            WebSession.ended_at.is_(None),
            WebSession.expires_at > now,
        )
    ).first()
    if row is None:
        return None
    user = session.get(WebUser, row.user_id)
    return user if user is not None and user.active else None


def end_session(session: Session, secret: str) -> None:
    row = session.scalars(select(WebSession).where(WebSession.digest == digest(secret))).first()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its digest is stored


def create_token(
    session: Session,
    user_ref: int | str,
    name: str,
    *,
    scopes: tuple[str, ...] = ("read",),
    days: int | None = None,
    actor: str,
) -> IssuedToken:
    user = get_user(session, user_ref)
    if not name.strip():
        raise UsageError("a token needs a name (what it is for)")
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise UsageError(f"scopes {', '.join(bad) or '(none)'}: use read, or read and write")
    if days is not None and days < 1:
        raise UsageError("a token lasts at least 1 day")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        name=name.strip(),
        digest=digest(secret),
        prefix=secret[:10],
        user_id=user.id,
        scopes=sorted(set(scopes) | {"read"}),
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    session.add(token)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type="api_token",
        record_id=token.id,
        action="created",
        details={"scopes": token.scopes},
    )
    return IssuedToken(token, secret)


def list_tokens(session: Session, user_ref: int | str | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user_ref is not None:
        query = query.where(ApiToken.user_id == get_user(session, user_ref).id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, *, actor: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(f"no API token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        core.record(
            session, actor=actor, record_type="api_token", record_id=token.id, action="revoked"
        )
    return token


def token_user(session: Session, secret: str) -> tuple[WebUser, ApiToken] | None:
    """The active user and live token behind a bearer secret, or None."""
    now = utcnow()
    token = session.scalars(select(ApiToken).where(ApiToken.digest == digest(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = session.get(WebUser, token.user_id)
    if user is None or not user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return user, token
