"""Ladder rule files: roles in ladder order, each with the criteria that make someone a
candidate for it. See docs/governance.md for the language (grammar and table).

A file is loaded whole or not at all: every rule is validated (activity kinds against the kinds
commops' connectors and workflows emit, role names against the file's roles, thresholds and
durations) and the first problem raises a ``UsageError`` naming the file and the line, read from
the YAML node marks.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Union

import yaml  # type: ignore[import-untyped]

from commops.connectors.tabular import CONTRIBUTION_TYPES as ALL_CONTRIBUTORS_TYPES
from commops.errors import UsageError

# The activity kinds commops' connectors and operations workflows emit. A rule may name one of
# these or a namespace pattern (``github:*``) for a namespace listed here.
KNOWN_KINDS = frozenset(
    {
        "git:commit",
        "git:co_authored",
        "github:pr_opened",
        "github:pr_merged",
        "github:pr_closed",
        "github:review",
        "github:review_comment",
        "github:issue_opened",
        "github:issue_comment",
        "github:issue_closed",
        "github:commit_comment",
        "github:discussion_opened",
        "github:discussion_comment",
        "github:question",
        "github:answer",
        "github:answer_accepted",
        "github:release_published",
        "github:wiki_edited",
        "github:push",
        "github:star",
        "github:fork",
        "gitee:pr_opened",
        "gitee:pr_merged",
        "gitee:pr_closed",
        "gitee:pr_comment",
        "gitee:issue_opened",
        "gitee:issue_comment",
        "gitee:issue_closed",
        "gitee:release_published",
        "gitee:star",
        "gitee:fork",
        "gitee:watch",
        "discourse:topic_created",
        "discourse:post",
        "discourse:solution",
        "slack:message",
        "slack:channel_join",
        "meetup:rsvp",
        "meetup:event_hosted",
        "meetup:comment",
        "content:authored",
        "content:reviewed",
        "content:translated",
        "event:attended",
        "event:spoke",
        "event:organized",
        "event:volunteered",
        "feedback:raised",
        "feedback:closed_loop",
    }
)
KNOWN_NAMESPACES = frozenset(k.split(":", 1)[0] for k in KNOWN_KINDS)

# The all-contributors contribution types (the tabular import's list), and the two the
# forum and Q&A connectors also write.
CONTRIBUTION_TYPES = ALL_CONTRIBUTORS_TYPES | {"answer", "forum"}

_DURATION = re.compile(r"^\s*(\d+)\s*(d|days?|w|weeks?|m|months?|y|years?)\s*$", re.IGNORECASE)
_CREDITS = ("actor", "object")
_DISTINCT = ("item",)


@dataclass(frozen=True)
class Duration:
    """A span of days or calendar months, as written (``365d``, ``6 months``, ``1y``)."""

    amount: int
    unit: str  # "days" | "months"
    text: str

    def before(self, day: date) -> date:
        """The day this span before ``day`` (calendar months clamp to the month's end)."""
        if self.unit == "days":
            return day - timedelta(days=self.amount)
        months = day.year * 12 + (day.month - 1) - self.amount
        year, month0 = divmod(months, 12)
        last = calendar.monthrange(year, month0 + 1)[1]
        return date(year, month0 + 1, min(day.day, last))

    def window_start(self, as_of: date) -> date:
        """The first day of the window of this length that ends on ``as_of`` (inclusive): a
        ``365d`` window ending on 2026-10-31 is 2025-11-01 .. 2026-10-31."""
        return self.before(as_of) + timedelta(days=1)


@dataclass(frozen=True)
class Count:
    """Activities of some kinds / contribution types, credited to the actor or the object,
    in a window, at least ``min`` of them (distinct items when ``distinct`` is ``item``)."""

    kinds: tuple[str, ...]
    contribution_types: tuple[str, ...]
    credit: str
    within: Duration | None
    min: int
    distinct: str | None
    label: str
    line: int


@dataclass(frozen=True)
class MemberFor:
    """Tenure: the member's first (non-bot) activity is at least ``duration`` before as_of."""

    duration: Duration
    label: str
    line: int


@dataclass(frozen=True)
class Sponsors:
    """The member's open nomination for the role has at least ``count`` sponsors (from that many
    different organisations when ``distinct_organizations``)."""

    count: int
    distinct_organizations: bool
    label: str
    line: int


@dataclass(frozen=True)
class HasRole:
    """The member holds ``role`` (of the same ladder), for at least ``held_for`` if given."""

    role: str
    held_for: Duration | None
    label: str
    line: int


@dataclass(frozen=True)
class Group:
    """``all`` (every part), ``any`` (one part) or ``at_least`` ``n`` parts."""

    mode: str  # "all" | "any" | "at_least"
    n: int
    parts: tuple[Criterion, ...]
    label: str
    line: int


Criterion = Union[Count, MemberFor, Sponsors, HasRole, Group]  # noqa: UP007


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    criteria: Group
    line: int


@dataclass(frozen=True)
class Ladder:
    """A loaded rule file: ``roles`` in ladder order (lowest first)."""

    name: str
    path: str
    roles: tuple[Role, ...]
    inactivity: Duration | None = None
    inactivity_kinds: tuple[str, ...] = field(default=())

    def role(self, name: str) -> Role:
        for role in self.roles:
            if role.name == name:
                return role
        raise UsageError(
            f"ladder {self.name!r} has no role {name!r}",
            hint=f"Roles: {', '.join(r.name for r in self.roles)}.",
        )

    def rank(self, name: str) -> int:
        return [r.name for r in self.roles].index(self.role(name).name)


# -- parsing -----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, node: Any, message: str, hint: str | None = None) -> UsageError:
        return UsageError(f"{self.path} line {node.start_mark.line + 1}: {message}", hint=hint)

    def mapping(self, node: Any, what: str) -> dict[str, tuple[Any, Any]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, tuple[Any, Any]] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, f"{what}: keys must be plain names")
            if key.value in out:
                raise self.fail(key, f"{what}: {key.value!r} appears twice")
            out[key.value] = (key, value)
        return out

    def only(self, fields: dict[str, tuple[Any, Any]], allowed: set[str], what: str) -> None:
        for name, (key, _) in fields.items():
            if name not in allowed:
                raise self.fail(
                    key,
                    f"{what}: unknown field {name!r}",
                    hint=f"Fields: {', '.join(sorted(allowed))}.",
                )

    def scalar(self, node: Any, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.value == "":
            raise self.fail(node, f"{what} must be a single value")
        return str(node.value)

    def count(self, node: Any, what: str, minimum: int = 0) -> int:
        text = self.scalar(node, what)
        if not re.fullmatch(r"\d+", text.strip()):
            raise self.fail(node, f"{what}: {text!r} is not a whole number")
        value = int(text)
        if value < minimum:
            raise self.fail(node, f"{what}: must be at least {minimum}, got {value}")
        return value

    def duration(self, node: Any, what: str) -> Duration:
        text = self.scalar(node, what)
        m = _DURATION.match(text)
        if m is None:
            raise self.fail(
                node, f"{what}: {text!r} is not a duration", hint="Use e.g. 365d, 6 months, 1y."
            )
        amount, unit = int(m.group(1)), m.group(2).lower()
        if amount < 1:
            raise self.fail(node, f"{what}: the duration must be at least 1")
        if unit.startswith("w"):
            return Duration(amount * 7, "days", text.strip())
        if unit.startswith("d"):
            return Duration(amount, "days", text.strip())
        if unit.startswith("y"):
            return Duration(amount * 12, "months", text.strip())
        return Duration(amount, "months", text.strip())

    def names(self, node: Any, what: str) -> list[tuple[Any, str]]:
        if isinstance(node, yaml.ScalarNode):
            return [(node, self.scalar(node, what))]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a name or a non-empty list of names")
        return [(item, self.scalar(item, what)) for item in node.value]

    def kind(self, node: Any, text: str) -> str:
        kind = text.strip()
        if kind.endswith(":*"):
            if kind[:-2] in KNOWN_NAMESPACES:
                return kind
        elif kind in KNOWN_KINDS:
            return kind
        raise self.fail(
            node,
            f"unknown activity kind {kind!r}",
            hint="Use a kind commops emits (see docs/governance.md) or a pattern like github:*.",
        )

    def criterion(self, node: Any, roles: set[str], what: str) -> Criterion:
        fields = self.mapping(node, what)
        line = node.start_mark.line + 1
        label = self.scalar(fields["label"][1], "label") if "label" in fields else ""
        forms = [
            f
            for f in ("activities", "all", "any", "at_least", "member_for", "sponsors", "has_role")
            if f in fields
        ]
        if len(forms) != 1:
            raise self.fail(
                node,
                f"{what}: a criterion needs exactly one of activities, all, any, at_least, "
                f"member_for, sponsors, has_role (found {', '.join(forms) or 'none'})",
            )
        form = forms[0]
        if form == "activities":
            self.only(fields, {"activities", "min", "within", "label"}, what)
            if "min" not in fields:
                raise self.fail(node, f"{what}: an activities criterion needs a threshold: min")
            spec = self.mapping(fields["activities"][1], "activities")
            self.only(spec, {"kinds", "contribution_types", "credit", "distinct"}, "activities")
            if "kinds" not in spec and "contribution_types" not in spec:
                raise self.fail(
                    fields["activities"][1], "activities: name kinds, contribution_types or both"
                )
            kinds = (
                tuple(self.kind(n, t) for n, t in self.names(spec["kinds"][1], "kinds"))
                if "kinds" in spec
                else ()
            )
            ctypes: list[str] = []
            if "contribution_types" in spec:
                for n, t in self.names(spec["contribution_types"][1], "contribution_types"):
                    if t not in CONTRIBUTION_TYPES:
                        raise self.fail(
                            n,
                            f"unknown contribution type {t!r}",
                            hint="Use an all-contributors type (code, doc, review, ...).",
                        )
                    ctypes.append(t)
            credit = "actor"
            if "credit" in spec:
                credit = self.scalar(spec["credit"][1], "credit")
                if credit not in _CREDITS:
                    raise self.fail(spec["credit"][1], f"credit: {credit!r} is not actor or object")
            distinct = None
            if "distinct" in spec:
                distinct = self.scalar(spec["distinct"][1], "distinct")
                if distinct not in _DISTINCT:
                    raise self.fail(spec["distinct"][1], f"distinct: {distinct!r} is not item")
            within = self.duration(fields["within"][1], "within") if "within" in fields else None
            return Count(
                kinds,
                tuple(ctypes),
                credit,
                within,
                self.count(fields["min"][1], "min", 1),
                distinct,
                label,
                line,
            )
        if form == "member_for":
            self.only(fields, {"member_for", "label"}, what)
            return MemberFor(self.duration(fields["member_for"][1], "member_for"), label, line)
        if form == "sponsors":
            self.only(fields, {"sponsors", "label"}, what)
            spec = self.mapping(fields["sponsors"][1], "sponsors")
            self.only(spec, {"count", "distinct_organizations"}, "sponsors")
            if "count" not in spec:
                raise self.fail(fields["sponsors"][1], "sponsors: count is required")
            by_org = False
            if "distinct_organizations" in spec:
                text = self.scalar(spec["distinct_organizations"][1], "distinct_organizations")
                if text.lower() not in ("true", "false"):
                    raise self.fail(
                        spec["distinct_organizations"][1],
                        "distinct_organizations: use true or false",
                    )
                by_org = text.lower() == "true"
            return Sponsors(self.count(spec["count"][1], "sponsors count", 1), by_org, label, line)
        if form == "has_role":
            self.only(fields, {"has_role", "label"}, what)
            value = fields["has_role"][1]
            held_for = None
            if isinstance(value, yaml.MappingNode):
                spec = self.mapping(value, "has_role")
                self.only(spec, {"role", "for"}, "has_role")
                if "role" not in spec:
                    raise self.fail(value, "has_role: role is required")
                role_node = spec["role"][1]
                if "for" in spec:
                    held_for = self.duration(spec["for"][1], "has_role for")
            else:
                role_node = value
            role = self.scalar(role_node, "has_role")
            if role not in roles:
                raise self.fail(
                    role_node,
                    f"unknown role {role!r}",
                    hint=f"Roles in this file: {', '.join(sorted(roles))}.",
                )
            return HasRole(role, held_for, label, line)
        # combinators
        self.only(fields, {form, "label"}, what)
        body = fields[form][1]
        n = 0
        if form == "at_least":
            spec = self.mapping(body, "at_least")
            self.only(spec, {"n", "of"}, "at_least")
            if "n" not in spec or "of" not in spec:
                raise self.fail(body, "at_least: needs n and of")
            n = self.count(spec["n"][1], "at_least n", 1)
            body = spec["of"][1]
        parts = self.criteria(body, roles, form)
        if form == "at_least" and n > len(parts):
            raise self.fail(node, f"at_least: n is {n} but there are only {len(parts)} criteria")
        return Group(form, n, parts, label, line)

    def criteria(self, node: Any, roles: set[str], what: str) -> tuple[Criterion, ...]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a non-empty list of criteria")
        return tuple(self.criterion(item, roles, what) for item in node.value)


def parse_ladder(text: str, path: str) -> Ladder:
    """The ladder in ``text`` (``path`` names it in errors), fully validated."""
    p = _Parser(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise UsageError(
            f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    if root is None:
        raise UsageError(f"{path}: the file is empty", hint="A ladder file needs roles:.")
    top = p.mapping(root, "the file")
    p.only(top, {"ladder", "description", "roles", "inactivity"}, "the file")
    if "roles" not in top:
        raise p.fail(root, "roles: is missing")
    roles_node = top["roles"][1]
    if not isinstance(roles_node, yaml.SequenceNode) or not roles_node.value:
        raise p.fail(roles_node, "roles must be a non-empty list, lowest role first")
    names: list[str] = []
    for item in roles_node.value:
        fields = p.mapping(item, "a role")
        if "name" not in fields:
            raise p.fail(item, "a role needs a name")
        name = p.scalar(fields["name"][1], "name")
        if name in names:
            raise p.fail(fields["name"][1], f"role {name!r} appears twice")
        names.append(name)
    roles: list[Role] = []
    for item, name in zip(roles_node.value, names, strict=True):
        fields = p.mapping(item, f"role {name!r}")
        p.only(fields, {"name", "description", "criteria"}, f"role {name!r}")
        if "criteria" not in fields:
            raise p.fail(item, f"role {name!r} has no criteria")
        desc = p.scalar(fields["description"][1], "description") if "description" in fields else ""
        # A role may only require roles below it in the ladder.
        below = set(names[: names.index(name)])
        parts = p.criteria(fields["criteria"][1], below, f"role {name!r} criteria")
        group = Group("all", 0, parts, "", item.start_mark.line + 1)
        roles.append(Role(name, desc, group, item.start_mark.line + 1))
    ladder_name = p.scalar(top["ladder"][1], "ladder") if "ladder" in top else Path(path).stem
    inactivity = None
    inactivity_kinds: tuple[str, ...] = ()
    if "inactivity" in top:
        spec = p.mapping(top["inactivity"][1], "inactivity")
        p.only(spec, {"after", "kinds"}, "inactivity")
        if "after" not in spec:
            raise p.fail(top["inactivity"][1], "inactivity: after is required (e.g. 18 months)")
        inactivity = p.duration(spec["after"][1], "inactivity after")
        if "kinds" in spec:
            inactivity_kinds = tuple(
                p.kind(n, t) for n, t in p.names(spec["kinds"][1], "inactivity kinds")
            )
    return Ladder(ladder_name, path, tuple(roles), inactivity, inactivity_kinds)


def load_ladder(path: str | Path) -> Ladder:
    """The ladder in the rule file at ``path`` (a path, or the name of a shipped ladder such
    as ``kubesphere-ladder``)."""
    file = Path(path)
    if not file.exists():
        shipped = SHIPPED / f"{file.name.removesuffix('.yaml')}.yaml"
        if shipped.exists():
            file = shipped
        else:
            names = ", ".join(shipped_ladders())
            raise UsageError(f"{path}: no such rule file", hint=f"Shipped ladders: {names}.")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: cannot read the rule file ({exc})") from None
    return parse_ladder(text, str(file))


SHIPPED = Path(__file__).parent / "ladders"


def shipped_ladders() -> list[str]:
    """The names of the rule files shipped with commops."""
    return sorted(p.stem for p in SHIPPED.glob("*.yaml"))


def kind_matches(pattern: str, kind: str) -> bool:
    if pattern.endswith(":*"):
        return kind.startswith(pattern[:-1])
    return pattern == kind


def describe(c: Criterion) -> str:
    """A short human description of a criterion (used when it has no label)."""
    if c.label:
        return c.label
    if isinstance(c, Count):
        what = " or ".join([*c.kinds, *(f"type {t}" for t in c.contribution_types)])
        credit = " (as object)" if c.credit == "object" else ""
        items = " distinct items" if c.distinct else ""
        window = f" in the last {c.within.text}" if c.within else ""
        return f"{what}{credit}{items} >= {c.min}{window}"
    if isinstance(c, MemberFor):
        return f"member for >= {c.duration.text}"
    if isinstance(c, Sponsors):
        orgs = " from different organisations" if c.distinct_organizations else ""
        return f"sponsors >= {c.count}{orgs}"
    if isinstance(c, HasRole):
        return f"has role {c.role}" + (f" for >= {c.held_for.text}" if c.held_for else "")
    if c.mode == "at_least":
        return f"at least {c.n} of {len(c.parts)}"
    return f"{c.mode} of {len(c.parts)}"
