"""Telling bots from people.

Rules about a handle (``BotRules``; origin ``rule`` or ``list``). An identity is a bot when:

- its name ends in ``[bot]`` (GitHub Apps), or in a separate word "bot" or "robot"
  ("KubeSphere CI Bot");
- its username, or the login of its e-mail (the local part, or the login of a GitHub noreply
  address), is a known automation account (``KNOWN_ACCOUNTS``) or ends in ``-bot``/``_bot``/
  ``.bot`` (``robot`` alike) or starts with ``bot-``;
- it matches one of the workspace's own patterns (``[bots] patterns``: regular expressions
  searched in the name, the e-mail and the username, case-insensitively);
- origin ``list``: it is named in ``[bots] accounts`` (a login, an e-mail or an exact name,
  case-insensitively; a GitHub noreply address also matches its login).

Behaviour (``detect_bot_behaviour``; origin ``behaviour``), for accounts no rule names:

- **CI merger**: the identity merged at least ``[bots] merge_threshold`` pull requests
  (``github:pr_merged`` / ``gitee:pr_merged`` activities it is the actor of), and the member it
  belongs to authored at most one activity per ``MERGER_AUTHORED_RATIO`` of those merges
  (commits, opened pull requests and issues, comments, reviews, posts: ``AUTHORED_KINDS``).
- **Bursts**: in at least ``BURST_MINUTES`` different clock minutes (UTC), the identity opened
  or commented ``BURST_SIZE`` or more times within that one minute (``BURST_KINDS``: opening
  pull requests, issues and discussions, comments, forum posts; not review comments, which a
  person submits together in one review).

A member is a bot (``apply_bot_flags``) when every identity of it that has activity is a bot (or,
for a member with no activity, every identity): a person who got a bot's identity merged into
them by mistake stays a person. A flag set by hand (origin ``manual``) is never changed by
detection. Rules in full: docs/bots-and-staff.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, aliased

from commops.config import Config
from commops.identity.audit import Changes
from commops.store.models import Activity, Identity, IdentityLog, Member

__all__ = [
    "AUTHORED_KINDS",
    "BURST_KINDS",
    "BURST_MINUTES",
    "BURST_SIZE",
    "KNOWN_ACCOUNTS",
    "MERGER_AUTHORED_RATIO",
    "MERGE_KINDS",
    "BehaviourHit",
    "BotRules",
    "FlagChange",
    "FlagStats",
    "apply_bot_flags",
    "bot_plan",
    "detect_bot_behaviour",
]

KNOWN_ACCOUNTS = frozenset(
    {
        "dependabot",
        "dependabot-preview",
        "renovate",
        "renovate-bot",
        "renovatebot",
        "github-actions",
        "actions-user",
        "web-flow",
        "k8s-ci-robot",
        "ks-ci-bot",
        "codecov",
        "codecov-io",
        "codecov-commenter",
        "mergify",
        "snyk-bot",
        "allcontributors",
        "all-contributors",
        "pre-commit-ci",
        "greenkeeper",
        "greenkeeperio-bot",
        "travis-ci",
        "stale",
        "imgbot",
        "whitesource-bolt-for-github",
        "sonarcloud",
        "deepsource-autofix",
        "coveralls",
        "netlify",
        "vercel",
        "gitee-bot",
        "openfunction-bot",
        "kubesphere-bot",
        "fossabot",
        "copilot-swe-agent",
        "claassistant",
        "cla-assistant",
        "googlebot",
        "lgtm-com",
        "pyup-bot",
        "gitter-badger",
        "semantic-release-bot",
        "nobody",
        # merge bots: they merge pull requests for a project
        "bors",
        "bors-ng",
        "homu",
        "kodiakhq",
        "pytorchmergebot",
        "tensorflower-gardener",
    }
)

_NAME_BOT = re.compile(r"(\[bot\]$)|((^|[\s_\-.])(ci[\s_\-])?(ro)?bot$)", re.IGNORECASE)
_LOCAL_BOT = re.compile(r"(\[bot\]$)|([_\-.](ro)?bot$)|(^(ro)?bot[_\-.])", re.IGNORECASE)
_NOREPLY = re.compile(r"^(\d+\+)?(?P<login>[^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)

# The pseudo-platform of member keys of imported people files (connectors/tabular.py): not a
# handle anyone acts under, so never a bot and never evidence about one.
MEMBER_KEY_PLATFORM = "member_key"

AUTO_ORIGINS = frozenset({"list", "rule", "behaviour"})
# When a member's active identities are bots for different reasons, the member's origin is the
# first of these: the workspace's own list, then a rule, then behaviour.
ORIGIN_ORDER = ("list", "rule", "behaviour")

MERGE_KINDS = ("github:pr_merged", "gitee:pr_merged")
# What a person writes themselves. Closing, merging, pushing (a merge button pushes too), stars,
# forks, releases and tags are not authorship.
AUTHORED_KINDS = (
    "git:commit",
    "git:co_authored",
    "github:pr_opened",
    "github:issue_opened",
    "github:issue_comment",
    "github:review",
    "github:review_comment",
    "github:commit_comment",
    "github:discussion_opened",
    "github:discussion_comment",
    "github:question",
    "github:answer",
    "gitee:pr_opened",
    "gitee:issue_opened",
    "gitee:issue_comment",
    "gitee:pr_comment",
    "discourse:topic_created",
    "discourse:post",
)
# A CI merger may author at most one activity per this many of its merges (200 merges: 4).
MERGER_AUTHORED_RATIO = 50
BURST_KINDS = (
    "github:pr_opened",
    "github:issue_opened",
    "github:issue_comment",
    "github:commit_comment",
    "github:discussion_opened",
    "github:discussion_comment",
    "gitee:pr_opened",
    "gitee:issue_opened",
    "gitee:issue_comment",
    "gitee:pr_comment",
    "discourse:topic_created",
    "discourse:post",
)
BURST_SIZE = 10
BURST_MINUTES = 5


def _fold(text: str) -> str:
    return text.strip().casefold()


class BotRules:
    """The rules about handles: built-in, ``patterns`` (regular expressions) and ``accounts``
    (logins, e-mails or exact names, any case)."""

    def __init__(self, patterns: Iterable[str] = (), *, accounts: Iterable[str] = ()) -> None:
        self.patterns = [re.compile(p, re.IGNORECASE) for p in patterns]
        self.accounts = {_fold(a): a for a in accounts if a.strip()}

    @classmethod
    def from_config(cls, config: Config) -> BotRules:
        return cls(config.bot_patterns, accounts=config.bot_accounts)

    def is_bot(
        self, *, name: str | None = None, email: str | None = None, username: str | None = None
    ) -> bool:
        return self.origin(name=name, email=email, username=username) is not None

    def origin(
        self, *, name: str | None = None, email: str | None = None, username: str | None = None
    ) -> str | None:
        """``list`` when ``[bots] accounts`` names the handle, ``rule`` when a pattern or a
        built-in rule matches it, else None."""
        if self.account(name=name, email=email, username=username) is not None:
            return "list"
        candidates = [x for x in (name, email, username) if x]
        if any(p.search(x) for p in self.patterns for x in candidates):
            return "rule"
        if name and _NAME_BOT.search(name.strip()):
            return "rule"
        for login in _logins(email, username):
            low = login.lower()
            if low in KNOWN_ACCOUNTS or _LOCAL_BOT.search(low):
                return "rule"
        return None

    def account(
        self, *, name: str | None = None, email: str | None = None, username: str | None = None
    ) -> str | None:
        """The ``[bots] accounts`` entry that names this handle, as written in the config."""
        if not self.accounts:
            return None
        keys = [username, email, name]
        if email:
            m = _NOREPLY.match(email)
            if m:
                keys.append(m.group("login"))
        for key in keys:
            if key:
                found = self.accounts.get(_fold(key))
                if found is not None:
                    return found
        return None


def _logins(email: str | None, username: str | None) -> list[str]:
    out = []
    if username:
        out.append(username)
    if email:
        m = _NOREPLY.match(email)
        out.append(m.group("login") if m else email.split("@", 1)[0])
    return out


# -- behaviour --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BehaviourHit:
    """An identity whose activity looks like a machine's: ``rule`` is ``ci-merger`` or
    ``bursts``; ``detail`` says what was counted."""

    identity_id: int
    member_id: int
    rule: str
    detail: str


def _minute(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("minute", Activity.occurred_at)
    return func.strftime("%Y-%m-%d %H:%M", Activity.occurred_at)


def detect_bot_behaviour(
    session: Session,
    *,
    merge_threshold: int,
    burst_size: int = BURST_SIZE,
    burst_minutes: int = BURST_MINUTES,
    identity_ids: Collection[int] | None = None,
) -> list[BehaviourHit]:
    """Identities that act like machines (see the module's docstring for both rules). Two
    grouped queries over the whole activity table, whatever the number of identities;
    ``identity_ids`` narrows both to some identities."""
    hits: list[BehaviourHit] = []
    merges_q = select(Activity.actor_identity_id.label("iid"), func.count().label("merges")).where(
        Activity.kind.in_(MERGE_KINDS)
    )
    if identity_ids is not None:
        merges_q = merges_q.where(Activity.actor_identity_id.in_(list(identity_ids)))
    merges = (
        merges_q.group_by(Activity.actor_identity_id)
        .having(func.count() >= merge_threshold)
        .subquery()
    )
    merger = aliased(Identity)
    sibling = aliased(Identity)
    authored = aliased(Activity)
    rows = session.execute(
        select(merges.c.iid, merger.member_id, merges.c.merges, func.count(authored.id))
        .select_from(merges)
        .join(merger, merger.id == merges.c.iid)
        .join(sibling, sibling.member_id == merger.member_id)
        .outerjoin(
            authored,
            and_(
                authored.actor_identity_id == sibling.id,
                authored.kind.in_(AUTHORED_KINDS),
            ),
        )
        .group_by(merges.c.iid, merger.member_id, merges.c.merges)
        .order_by(merges.c.iid)
    )
    for iid, member_id, n_merges, n_authored in rows:
        if int(n_authored) * MERGER_AUTHORED_RATIO <= int(n_merges):
            hits.append(
                BehaviourHit(
                    int(iid),
                    int(member_id),
                    "ci-merger",
                    f"merged {n_merges} pull requests, authored {n_authored} activities",
                )
            )
    minute = _minute(session).label("minute")
    per_minute_q = select(Activity.actor_identity_id.label("iid"), minute).where(
        Activity.kind.in_(BURST_KINDS)
    )
    if identity_ids is not None:
        per_minute_q = per_minute_q.where(Activity.actor_identity_id.in_(list(identity_ids)))
    per_minute = (
        per_minute_q.group_by(Activity.actor_identity_id, minute)
        .having(func.count() >= burst_size)
        .subquery()
    )
    bursts = session.execute(
        select(per_minute.c.iid, Identity.member_id, func.count())
        .select_from(per_minute)
        .join(Identity, Identity.id == per_minute.c.iid)
        .group_by(per_minute.c.iid, Identity.member_id)
        .having(func.count() >= burst_minutes)
        .order_by(per_minute.c.iid)
    )
    for iid, member_id, n_minutes in bursts:
        hits.append(
            BehaviourHit(
                int(iid),
                int(member_id),
                "bursts",
                f"{burst_size} or more posts within one minute, in {n_minutes} different minutes",
            )
        )
    return hits


# -- member flags -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlagChange:
    """One member's bot or staff flag as detection (or a person) changed it."""

    member_id: int
    display_name: str
    flag: str  # bot | staff
    before: bool
    after: bool
    origin_before: str | None
    origin_after: str | None
    why: str | None = None


@dataclass
class FlagStats:
    """What one detection run did. ``manual_kept``: members set by hand that detection would
    have set otherwise; ``unmatched``: configuration entries that name nobody (yet)."""

    flag: str
    members_flagged: int = 0
    members_cleared: int = 0
    origins_changed: int = 0
    manual_kept: int = 0
    identities_flagged: int = 0
    identities_cleared: int = 0
    unmatched: list[str] = field(default_factory=list)
    changes: list[FlagChange] = field(default_factory=list)
    log_id: int | None = None


@dataclass
class BotPlan:
    """What automatic detection says: member id -> (origin, why) for members that are bots,
    and identity id -> its new ``is_bot`` where that changes."""

    members: dict[int, tuple[str, str]] = field(default_factory=dict)
    identities: dict[int, tuple[bool, bool]] = field(default_factory=dict)  # id -> before, after
    unmatched: list[str] = field(default_factory=list)


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])


def bot_plan(
    session: Session, config: Config, member_ids: Collection[int] | None = None
) -> BotPlan:
    """Which members and identities are bots by rule, list and behaviour (all members, or
    those given). Changes nothing."""
    rules = BotRules.from_config(config)
    cols = (
        Identity.id,
        Identity.member_id,
        Identity.platform,
        Identity.kind,
        Identity.value,
        Identity.name,
        Identity.is_bot,
    )
    if member_ids is None:
        rows = list(session.execute(select(*cols).order_by(Identity.id)))
    else:
        rows = []
        for chunk in _chunks(sorted(member_ids)):
            rows += session.execute(select(*cols).where(Identity.member_id.in_(chunk)))
    scope = [r[0] for r in rows] if member_ids is not None else None
    hits = detect_bot_behaviour(
        session, merge_threshold=config.bot_merge_threshold, identity_ids=scope
    )
    behaviour: dict[int, str] = {}
    for hit in hits:
        behaviour.setdefault(hit.identity_id, hit.detail)
    active: set[int] = set()
    if scope is None:
        active.update(session.execute(select(Activity.actor_identity_id).distinct()).scalars())
    else:
        for chunk in _chunks(scope):
            active.update(
                session.execute(
                    select(Activity.actor_identity_id)
                    .where(Activity.actor_identity_id.in_(chunk))
                    .distinct()
                ).scalars()
            )
    plan = BotPlan()
    matched_accounts: set[str] = set()
    by_member: dict[int, list[tuple[bool, str | None, str]]] = defaultdict(list)
    for ident_id, member_id, platform, kind, value, name, is_bot in rows:
        if platform == MEMBER_KEY_PLATFORM:
            continue
        email = value if kind == "email" else None
        username = value if kind == "username" else None
        shown_name = name if name is not None else (value if kind == "name" else None)
        origin = rules.origin(name=shown_name, email=email, username=username)
        why = f"{platform}:{value}"
        if origin == "list":
            entry = rules.account(name=shown_name, email=email, username=username)
            assert entry is not None
            matched_accounts.add(entry)
            why += f" is in [bots] accounts ({entry})"
        elif origin == "rule":
            why += " matches a bot rule"
        elif ident_id in behaviour:
            origin = "behaviour"
            why += f" {behaviour[ident_id]}"
        if bool(is_bot) != (origin is not None):
            plan.identities[ident_id] = (bool(is_bot), origin is not None)
        by_member[member_id].append((ident_id in active, origin, why))
    for member_id, idents in by_member.items():
        basis = [i for i in idents if i[0]] or idents
        if all(origin is not None for _, origin, _ in basis):
            origins = {origin for _, origin, _ in basis}
            origin = next(o for o in ORIGIN_ORDER if o in origins)
            why = next(w for _, o, w in basis if o == origin)
            plan.members[member_id] = (origin, why)
    if member_ids is None:
        plan.unmatched = [
            f"[bots] accounts: {a!r}" for a in rules.accounts.values() if a not in matched_accounts
        ]
    return plan


def _flag_column(flag: str) -> str:
    return {"bot": "is_bot", "staff": "is_staff"}[flag]


def apply_member_flags(
    session: Session,
    ch: Changes,
    flag: str,
    auto: dict[int, tuple[str, str]],
    auto_origins: Collection[str],
    stats: FlagStats,
    member_ids: Collection[int] | None = None,
) -> None:
    """Bring members' ``flag`` in line with what detection says (``auto``: member id ->
    (origin, why)), recording each change through ``ch`` (an ``audit.Changes``).

    Detection sets a flag (recording its origin), and clears a flag it had set itself (origin in
    ``auto_origins``). It never touches a flag whose origin is something else (``manual``, or
    another tool's), and never clears a flag whose origin is not recorded (set by an import, or
    before detection ran): it only confirms those."""
    column = _flag_column(flag)
    flagged_col = getattr(Member, column)
    candidates = set(
        session.execute(select(Member.id).where(flagged_col.is_(True))).scalars()
    ) | set(auto)
    if member_ids is not None:
        candidates &= set(member_ids)
    for chunk in _chunks(sorted(candidates)):
        members = session.execute(
            select(Member).where(Member.id.in_(chunk)).order_by(Member.id)
        ).scalars()
        for member in list(members):
            origins = dict(member.flag_origins or {})
            origin = origins.get(flag)
            value = bool(getattr(member, column))
            want = auto.get(member.id)
            if origin is not None and origin not in auto_origins:
                if value != (want is not None):
                    stats.manual_kept += 1
                continue
            if want is not None:
                new_origin, why = want
                if value and origin == new_origin:
                    continue
                origins[flag] = new_origin
                ch.update_member(member, **{column: True, "flag_origins": origins})
            elif value and origin is not None:
                new_origin, why = None, "no rule matches any more"
                origins.pop(flag, None)
                ch.update_member(member, **{column: False, "flag_origins": origins})
            else:
                continue
            after = bool(getattr(member, column))
            if after and not value:
                stats.members_flagged += 1
            elif value and not after:
                stats.members_cleared += 1
            else:
                stats.origins_changed += 1
            stats.changes.append(
                FlagChange(
                    member.id, member.display_name, flag, value, after, origin, new_origin, why
                )
            )


def _update_identities(session: Session, changes: dict[int, tuple[bool, bool]]) -> None:
    for value in (True, False):
        ids = sorted(i for i, (_, after) in changes.items() if after is value)
        for chunk in _chunks(ids):
            session.execute(update(Identity).where(Identity.id.in_(chunk)).values(is_bot=value))


def write_flag_log(
    ch: Changes,
    action: str,
    actor: str,
    reason: str | None,
    identities: dict[int, tuple[bool, bool]] | None = None,
) -> IdentityLog | None:
    """The log entry of a detection run (None when nothing changed). Identity flag changes are
    kept as ``identities_updated`` ([identity id, before, after]) for the record; they are
    derived, recomputed by every run."""
    if ch.empty and not identities:
        return None
    entry = ch.write(action, actor, reason)
    if identities:
        entry.changes = {
            **dict(entry.changes or {}),
            "identities_updated": [[i, b, a] for i, (b, a) in sorted(identities.items())],
        }
        ch.session.flush()
    return entry


def apply_bot_flags(
    session: Session, config: Config, *, actor: str = "detector", reason: str | None = None
) -> FlagStats:
    """Set ``is_bot`` on identities and members from the rules, the ``[bots] accounts`` list
    and behaviour; one ``bot-detect`` log entry holds every member change (undo reverts it)."""
    plan = bot_plan(session, config)
    stats = FlagStats("bot", unmatched=plan.unmatched)
    _update_identities(session, plan.identities)
    stats.identities_flagged = sum(1 for _, after in plan.identities.values() if after)
    stats.identities_cleared = len(plan.identities) - stats.identities_flagged
    ch = Changes(session)
    apply_member_flags(session, ch, "bot", plan.members, AUTO_ORIGINS, stats)
    entry = write_flag_log(ch, "bot-detect", actor, reason, plan.identities)
    stats.log_id = entry.id if entry is not None else None
    return stats
