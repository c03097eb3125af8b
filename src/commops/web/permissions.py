"""Who may do what: small predicates, composed with ``|``, ``&`` and ``~``, used by every page
and every API route through one dependency (``commops.web.deps.require``).

A rule takes the signed-in principal (None when nobody is) and optionally the object at hand,
so object rules such as "a reviewer sees only the drafts assigned to them" are rules too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from commops.web.models import ROLES


@dataclass(frozen=True)
class Principal:
    """The signed-in user of a request, by session cookie or API token."""

    user_id: int
    username: str
    role: str
    via: str  # "session" or "token"
    scopes: frozenset[str] = field(default_factory=lambda: frozenset({"read", "write"}))
    language: str | None = None
    member_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"web:{self.username}"


Check = Callable[[Principal | None, Any], bool]


class Rule:
    """A named predicate over (principal, object)."""

    def __init__(self, name: str, check: Check) -> None:
        self.name = name
        self._check = check

    def __call__(self, principal: Principal | None, obj: Any = None) -> bool:
        return bool(self._check(principal, obj))

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"({self.name} | {other.name})", lambda p, o: self(p, o) or other(p, o))

    def __and__(self, other: Rule) -> Rule:
        return Rule(f"({self.name} & {other.name})", lambda p, o: self(p, o) and other(p, o))

    def __invert__(self) -> Rule:
        return Rule(f"~{self.name}", lambda p, o: not self(p, o))

    def __repr__(self) -> str:
        return f"Rule({self.name})"


def _role(role: str) -> Rule:
    assert role in ROLES
    return Rule(f"is_{role}", lambda p, o: p is not None and p.role == role)


anyone = Rule("anyone", lambda p, o: True)
is_signed_in = Rule("is_signed_in", lambda p, o: p is not None)
is_admin = _role("admin")
is_operator = _role("operator")
is_reviewer = _role("reviewer")
is_viewer = _role("viewer")

# Reads of the community's data (dashboards, metrics, members, every workflow's lists).
can_view = is_viewer | is_operator | is_admin
# Changes to the community's records (triage, merge members, check in, nominate, sync).
can_operate = is_operator | is_admin
# The community review pages; what a reviewer sees there is narrowed by object rules.
can_review = is_reviewer | can_operate
# Users, roles, tokens, configuration.
can_admin = is_admin

ROLE_RULES: dict[str, Rule] = {
    "anyone": anyone,
    "is_signed_in": is_signed_in,
    "can_view": can_view,
    "can_review": can_review,
    "can_operate": can_operate,
    "can_admin": can_admin,
}


def allowed_roles(rule: Rule, obj: Any = None) -> set[str]:
    """The roles a rule lets in (for the route table in docs and the authorisation test)."""
    return {
        role for role in ROLES if rule(Principal(0, "probe", role, "session", frozenset()), obj)
    }
