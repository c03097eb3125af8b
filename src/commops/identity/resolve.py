"""The resolver: which identities are one person, with the evidence, a score, and merges people
can trust.

1. Each identity gets a profile (normalised e-mail, the accounts and logins it proves, the
   handles it uses, its names folded and transliterated: identity/names.py) and blocking keys.
   Only identities that share a key are compared, never all pairs; keys are stored in
   ``identity_keys`` so that after a sync only the new identities are looked at.
2. Each candidate pair is scored from independent signals (``SIGNALS``, documented in
   docs/identity.md): score = 1 - prod(1 - weight). The same e-mail (case, ``+tag`` and Gmail
   dots aside) or the same account (a GitHub no-reply address names its login) is certain.
3. A pair merges on its own when it is certain, or when its score reaches ``auto_merge_score``
   and at least one *strong* signal (one that ties an account: a login, an e-mail's local part,
   a handle) is present: a name alone, or a one-word or generic name, never merges. Pairs from
   ``suggest_score`` up become suggestions to review.
4. Merges are made between members, never across a ``different`` decision (an unmerge or a
   rejected suggestion), are logged per merged group (action ``auto-merge``) and can be undone.
   The resolver only ever joins members: manual splits and merges stay as they are.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from rapidfuzz import fuzz
from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.identity.audit import member_row
from commops.identity.names import (
    Email,
    full_forms,
    full_name,
    handle,
    is_generic,
    name_handles,
    name_tokens,
    parse_email,
)
from commops.store.models import (
    Activity,
    Enrollment,
    Identity,
    IdentityDecision,
    IdentityKey,
    IdentityLog,
    Member,
    MergeSuggestion,
)

ACTOR = "resolver"
# Blocks larger than this are too ambiguous to say anything ("Wang Wei" in a big community);
# e-mail and account keys are certain and never capped.
MAX_BLOCK = 40
CERTAIN_KEYS = ("e:", "a:")
# Identities on these platforms are bookkeeping, not handles of a person.
SKIP_PLATFORMS = frozenset({"member_key"})
# An e-mail's local part that says nothing about its owner.
GENERIC_LOCALS = frozenset(
    {
        "me",
        "mail",
        "email",
        "info",
        "contact",
        "hello",
        "hi",
        "dev",
        "github",
        "git",
        "code",
        "admin",
        "root",
        "user",
        "test",
        "noreply",
        "no-reply",
        "work",
        "home",
        "office",
        "public",
        "private",
        "personal",
        "oss",
        "opensource",
        "support",
        "team",
    }
)
PUBLIC_DOMAIN_LABELS = frozenset(
    {"gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "qq", "foxmail", "icloud"}
    | {"protonmail", "proton", "gmx", "mail", "email", "users", "noreply", "github", "gitee"}
    | {"com", "org", "net", "edu", "gov", "info", "io", "dev", "ac", "co", "uk", "de", "cn"}
    | {"localhost", "local", "localdomain", "lan", "home", "163", "126", "sina", "aliyun"}
)


@dataclass(frozen=True)
class Signal:
    weight: float
    strong: bool
    certain: bool = False


SIGNALS = {
    "email": Signal(1.0, True, certain=True),
    "account": Signal(1.0, True, certain=True),
    "login": Signal(0.7, True),
    "handle": Signal(0.7, True),
    "distinctive-handle": Signal(0.8, True),
    "name-email": Signal(0.7, True),
    "full-name-email": Signal(0.8, True),
    "login-as-name": Signal(0.8, True),
    "name-in-repository": Signal(0.8, True),
    "name": Signal(0.6, False),
    "similar-name": Signal(0.5, False),
    "name-part-email": Signal(0.35, False),
    "one-word-name": Signal(0.3, False),
}


@dataclass(frozen=True)
class Evidence:
    signal: str
    detail: str

    @property
    def weight(self) -> float:
        return SIGNALS[self.signal].weight

    def to_json(self) -> dict[str, Any]:
        s = SIGNALS[self.signal]
        return {
            "signal": self.signal,
            "weight": s.weight,
            "strong": s.strong,
            "detail": self.detail,
        }


@dataclass
class Profile:
    id: int
    member_id: int
    platform: str
    value: str
    names: tuple[str, ...]
    is_bot: bool
    email: Email | None = None
    accounts: frozenset[tuple[str, str]] = frozenset()
    logins: frozenset[str] = frozenset()
    handles: frozenset[str] = frozenset()
    login_handles: frozenset[str] = frozenset()
    fulls: tuple[tuple[str, ...], ...] = ()
    handle_words: tuple[tuple[str, ...], ...] = ()  # andrew.j.fowlie -> (andrew, j, fowlie)
    name_handles: frozenset[str] = frozenset()
    singles: frozenset[str] = frozenset()
    domain_labels: frozenset[str] = frozenset()
    sources: frozenset[int] = frozenset()  # where a git author identity made commits

    def keys(self) -> set[str]:
        out: set[str] = set()
        if self.email is not None:
            out.add("e:" + self.email.normalized)
        out.update(f"a:{p}:{login}" for p, login in self.accounts)
        if self.is_bot:
            return out  # bots join people on certain evidence only
        out.update("l:" + login for login in self.logins)
        out.update("h:" + h for h in self.handles | self.name_handles)
        for tokens in (*self.fulls, *self.handle_words):
            words = sorted({t for t in tokens[:4] if len(t) > 1})
            out.update(f"p:{a}|{b}" for i, a in enumerate(words) for b in words[i + 1 :] if a != b)
        return {k[:300] for k in out}


def make_profile(
    ident_id: int,
    member_id: int,
    platform: str,
    kind: str,
    value: str,
    name: str | None,
    other_names: Sequence[str] | None,
    is_bot: bool,
) -> Profile:
    names = tuple(dict.fromkeys(n for n in (name, *(other_names or ())) if n and n.strip()))
    p = Profile(ident_id, member_id, platform, value, names, is_bot)
    accounts: set[tuple[str, str]] = set()
    logins: set[str] = set()
    handles: set[str] = set()
    labels: set[str] = set()
    if kind == "email" or "@" in value:
        p.email = parse_email(value)
        if p.email is not None:
            if p.email.login:
                accounts.add((p.email.login_platform or "", p.email.login))
                logins.add(p.email.login)
                handles.add(handle(p.email.login))
            else:
                local = p.email.local
                if local not in GENERIC_LOCALS and not is_generic(local):
                    h = handle(local)
                    if len(h) >= 5:
                        handles.add(h)
                labels = {
                    lab
                    for lab in p.email.domain.split(".")[:-1]
                    if len(lab) >= 4 and lab not in PUBLIC_DOMAIN_LABELS
                }
    elif kind == "username":
        login = value.strip().lower()
        if login and not is_generic(login):
            accounts.add((platform, login))
            logins.add(login)
            h = handle(login)
            if len(h) >= 3:
                handles.add(h)
    fulls: list[tuple[str, ...]] = []
    nh: set[str] = set()
    singles: set[str] = set()
    for n in names:
        tokens = full_name(n)
        if tokens is not None:
            fulls.append(tokens)
            nh |= name_handles(tokens)
        elif not is_generic(n):
            words = name_tokens(n)
            if len(words) == 1 and len(words[0]) >= 5:
                singles.add(handle(words[0]))
    # A first name is no handle: "david@" at two domains are not one David.
    handles -= {t[0] for t in fulls}
    # An address that is just the owner's short one-word name ("daniel@") says no more than
    # the name does.
    handles -= {w for w in singles if len(w) < 8}
    p.accounts = frozenset(accounts)
    p.logins = frozenset(logins)
    p.handles = frozenset(handles)
    p.login_handles = frozenset(handle(login) for _, login in accounts)
    raw = [login for _, login in accounts]
    if p.email is not None and not p.email.login:
        raw.append(value.split("@", 1)[0].split("+", 1)[0])
    p.handle_words = tuple(w for w in map(name_tokens, raw) if len(w) >= 2)
    p.fulls = tuple(dict.fromkeys(fulls))
    p.singles = frozenset(singles)
    p.name_handles = frozenset(nh | singles)
    p.domain_labels = frozenset(labels)
    return p


def _spells(tokens: tuple[str, ...], h: str) -> bool:
    """The handle holds the first and the last word of the name, in order: eric.antonio.quintero
    spells Eric Quintero."""
    first, last = tokens[0], tokens[-1]
    if len(first) < 3 or len(last) < 3:
        return False
    i = h.find(first)
    return i >= 0 and h.find(last, i + len(first)) >= 0


def _name_account(a: Profile, b: Profile, common: frozenset[str]) -> Evidence | None:
    """b's e-mail local part or login against a's names, the most telling match first."""
    for h in sorted(b.handles):
        for t in a.fulls:
            if len(h) >= 8 and (h in full_forms(t) or _spells(t, h)):
                return Evidence("full-name-email", f"{h} ({b.value}) spells {' '.join(t)}")
    for h in sorted(b.login_handles & a.singles):
        if len(h) >= 6 and h not in common:
            return Evidence("login-as-name", f"{b.value} is the account {h}, {a.value}'s name")
    for h in sorted(b.handles & a.name_handles):
        return Evidence("name-email", f"{h} ({b.value}) matches the name of {a.value}")
    for h in sorted(b.handles):
        for t in a.fulls:
            if _spells(t, h):
                return Evidence("name-email", f"{h} ({b.value}) spells {' '.join(t)}")
    return None


def score_pair(
    a: Profile, b: Profile, common: frozenset[str] = frozenset()
) -> tuple[float, list[Evidence]]:
    """The evidence that two identities are one person, and its score (1.0 when certain).
    ``common``: words too common to be anyone's handle (first names seen in the data)."""
    ev: list[Evidence] = []
    if a.email is not None and b.email is not None and a.email.normalized == b.email.normalized:
        ev.append(Evidence("email", f"{a.value} = {b.value}"))
    same_account = a.accounts & b.accounts
    if same_account:
        platform, login = sorted(same_account)[0]
        ev.append(Evidence("account", f"both are {platform} account {login}"))
    if a.is_bot or b.is_bot:
        return (1.0, ev) if ev else (0.0, [])
    logins = (a.logins & b.logins) - {login for _, login in same_account}
    if logins:
        ev.append(Evidence("login", f"login {sorted(logins)[0]} on {a.platform} and {b.platform}"))
    shared = (a.handles & b.handles) - {handle(x) for x in a.logins & b.logins}
    if shared:
        h = max(shared, key=len)
        signal = "distinctive-handle" if len(h) >= 8 else "handle"
        ev.append(Evidence(signal, f"both use the handle {h}"))
    crossed = set((a.name_handles & b.handles) | (b.name_handles & a.handles)) - shared
    found = [e for e in (_name_account(a, b, common), _name_account(b, a, common)) if e]
    named = _name_evidence(a, b, crossed | set(shared))
    if named is not None and named.signal in ("name", "name-in-repository"):
        # Both carry the same name: a handle spelling it is what anyone of that name would
        # pick, so it says nothing more than the name itself.
        found = [e for e in found if e.signal == "login-as-name"]
    if found:
        ev.append(max(found, key=lambda e: e.weight))
    if named is not None:
        ev.append(named)
    if not found:
        part = _name_part(a, b) or _name_part(b, a)
        if part is not None:
            ev.append(part)
    if not ev:
        return 0.0, []
    if any(SIGNALS[e.signal].certain for e in ev):
        return 1.0, ev
    rest = 1.0
    for e in ev:
        rest *= 1.0 - e.weight
    return round(1.0 - rest, 4), ev


def _name_evidence(a: Profile, b: Profile, used: set[str]) -> Evidence | None:
    """Names compared; handles already counted as e-mail evidence are not counted again."""
    best: Evidence | None = None
    same_repo = bool(a.sources & b.sources) and a.platform == b.platform == "git"

    def same(x: str, y: str) -> Evidence:
        if same_repo:
            return Evidence("name-in-repository", f"{x} = {y}, git authors of one repository")
        return Evidence("name", f"{x} = {y}")

    for x, y in ((a, b), (b, a)):  # "scottsievert" is "Scott Sievert" written as one word
        for t in y.fulls:
            hit = x.singles & full_forms(t)
            if len(t) == 2 and hit:
                return same(sorted(hit)[0], " ".join(t))
    for ta in a.fulls:
        for tb in b.fulls:
            if sorted(ta) == sorted(tb):
                return same(" ".join(ta), " ".join(tb))
            short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
            if (set(short) <= set(long_) and len(short) >= 2) or fuzz.token_sort_ratio(
                " ".join(ta), " ".join(tb)
            ) >= 92:
                best = Evidence("similar-name", f"{' '.join(ta)} ~ {' '.join(tb)}")
    if best is not None:
        return best
    common = (a.name_handles & b.name_handles) - used
    if common:
        if (a.singles & b.singles) == common:
            return Evidence("one-word-name", f"both are called {sorted(common)[0]}")
        return Evidence("similar-name", f"names spell {sorted(common)[0]}")
    return None


def _name_part(a: Profile, b: Profile) -> Evidence | None:
    """A word of a's full name is b's e-mail local part or a label of b's e-mail domain."""
    if b.email is None:
        return None
    words = {tokens[-1] for tokens in a.fulls if len(tokens[-1]) >= 4}
    words |= {h for h in a.name_handles if len(h) >= 6}
    if not words:
        return None
    for h in b.handles:
        if h in words:
            return Evidence("name-part-email", f"{b.value}: local part {h} is in the name")
    for label in b.domain_labels:
        if label in words or any(len(w) >= 6 and w in label for w in words):
            return Evidence("name-part-email", f"{b.value}: domain names {label}")
    return None


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Stats:
    mode: str = "incremental"
    identities: int = 0  # looked at (new ones, or all)
    candidates: int = 0  # identities compared with them
    pairs: int = 0
    merges: int = 0  # groups of members joined
    members_merged: int = 0  # members that disappeared into another
    suggestions: int = 0
    blocked: int = 0  # merges not made because of a "different" decision
    stale: int = 0
    seconds: float = 0.0
    log_ids: list[int] = field(default_factory=list)


_ROW = (
    Identity.id,
    Identity.member_id,
    Identity.platform,
    Identity.kind,
    Identity.value,
    Identity.name,
    Identity.names,
    Identity.is_bot,
)


def _profiles(rows: Iterable[Any]) -> dict[int, Profile]:
    out: dict[int, Profile] = {}
    for ident_id, member_id, platform, kind, value, name, names, is_bot in rows:
        if platform in SKIP_PLATFORMS:
            continue
        if isinstance(names, str):  # JSON text from a driver that does not decode it
            names = json.loads(names)
        out[ident_id] = make_profile(
            ident_id, member_id, platform, kind, value, name, names, bool(is_bot)
        )
    return out


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _Members:
    """Union-find over members with cannot-link sets ("different" decisions)."""

    def __init__(self, forbidden: dict[int, set[int]]) -> None:
        self.parent: dict[int, int] = {}
        self.items: dict[int, set[int]] = {}
        self.forbidden = forbidden

    def find(self, m: int) -> int:
        parent = self.parent
        root = parent.setdefault(m, m)
        while root != parent[root]:
            root = parent[root]
        while m != root:
            parent[m], m = root, parent[m]
        return root

    def members(self, root: int) -> set[int]:
        return self.items.get(root) or {root}

    def blocked(self, ra: int, rb: int) -> bool:
        small, big = sorted((self.members(ra), self.members(rb)), key=len)
        return any(not self.forbidden.get(m, set()).isdisjoint(big) for m in small)

    def union(self, ra: int, rb: int) -> int:
        a, b = self.members(ra), self.members(rb)
        if len(a) < len(b):
            ra, rb, a, b = rb, ra, b, a
        self.parent[rb] = ra
        self.items[ra] = a | b
        self.items.pop(rb, None)
        return ra


def resolve(
    session: Session,
    *,
    full: bool = False,
    auto_merge_score: float = 0.8,
    suggest_score: float = 0.5,
    actor: str = ACTOR,
) -> Stats:
    """Resolve the identities not yet seen by the resolver (all of them with ``full``), merge
    the members strong evidence joins, suggest the rest. Writes in ``session``; the caller
    commits (one transaction: a failure leaves everything as it was)."""
    started = time.perf_counter()
    stats = Stats(mode="full" if full else "incremental")
    now = utcnow()
    if full:
        focus = _profiles(session.execute(select(*_ROW)))
        session.execute(delete(IdentityKey))
        others: dict[int, Profile] = {}
    else:
        focus = _profiles(session.execute(select(*_ROW).where(Identity.resolved_at.is_(None))))
    stats.identities = len(focus)
    if not focus:
        stats.seconds = time.perf_counter() - started
        return stats
    keys = {i: p.keys() for i, p in focus.items()}
    key_rows = [{"identity_id": i, "key": k} for i, ks in keys.items() for k in ks]
    if not full:
        ids = list(focus)
        for chunk in _chunks(ids):
            session.execute(delete(IdentityKey).where(IdentityKey.identity_id.in_(chunk)))
    key_table = cast(Table, IdentityKey.__table__)  # Core: no ORM work per row
    for chunk in _chunks(key_rows, 5000):
        session.execute(insert(key_table), list(chunk))

    blocks: dict[str, list[int]] = defaultdict(list)
    for i, ks in keys.items():
        for k in ks:
            blocks[k].append(i)
    if not full:
        others = _neighbours(session, focus, blocks)
    stats.candidates = len(others)
    profiles = {**others, **focus}
    _add_sources(session, profiles, full)

    pairs: set[tuple[int, int]] = set()
    for k, ids in blocks.items():
        if len(ids) < 2:
            continue
        certain = k.startswith(CERTAIN_KEYS)
        if len(ids) > MAX_BLOCK and not certain:
            continue
        ids = sorted(set(ids))
        if certain:  # a chain is enough to join them all
            pairs.update(itertools.pairwise(ids))
            continue
        for x, a in enumerate(ids):
            ma = profiles[a].member_id
            for b in ids[x + 1 :]:
                if profiles[b].member_id != ma:
                    pairs.add((a, b))
    stats.pairs = len(pairs)

    forbidden = _forbidden(session)
    uf = _Members(forbidden)
    scored: list[tuple[float, int, int, list[Evidence]]] = []
    common = frozenset(t[0] for p in profiles.values() for t in p.fulls)
    for a, b in pairs:
        pa, pb = profiles[a], profiles[b]
        if pa.member_id == pb.member_id:
            continue
        score, ev = score_pair(pa, pb, common)
        if score >= suggest_score:
            scored.append((score, a, b, ev))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    reasons: dict[int, list[tuple[float, int, int, list[Evidence]]]] = defaultdict(list)
    pending: list[tuple[float, int, int, list[Evidence]]] = []
    for item in scored:
        score, a, b, ev = item
        strong = any(SIGNALS[e.signal].strong for e in ev)
        if score >= 1.0 or (score >= auto_merge_score and strong):
            ra, rb = uf.find(profiles[a].member_id), uf.find(profiles[b].member_id)
            if ra == rb:
                continue
            if uf.blocked(ra, rb):
                stats.blocked += 1
                continue
            root = uf.union(ra, rb)
            reasons[root] = [*reasons.pop(ra, []), *reasons.pop(rb, []), item]
        else:
            pending.append(item)

    groups = {root: uf.members(root) for root in list(uf.items)}
    if groups:
        stats.log_ids = _apply_merges(session, groups, reasons, profiles, actor, now)
        stats.merges = len(groups)
        stats.members_merged = sum(len(g) - 1 for g in groups.values())
    stats.suggestions, stats.stale = _suggest(session, pending, uf, profiles, now)
    if full:
        session.execute(update(Identity).values(resolved_at=now))
    else:
        for chunk in _chunks(list(focus)):
            session.execute(update(Identity).where(Identity.id.in_(chunk)).values(resolved_at=now))
    stats.seconds = time.perf_counter() - started
    return stats


def _add_sources(session: Session, profiles: dict[int, Profile], full: bool) -> None:
    """The repositories each git author identity committed to (one grouped query)."""
    git = [i for i, p in profiles.items() if p.platform == "git"]
    if not git:
        return
    found: dict[int, set[int]] = defaultdict(set)
    query = select(Activity.actor_identity_id, Activity.source_id).distinct()
    if full:
        for ident_id, source_id in session.execute(query):
            found[ident_id].add(source_id)
    else:
        for chunk in _chunks(git):
            for ident_id, source_id in session.execute(
                query.where(Activity.actor_identity_id.in_(chunk))
            ):
                found[ident_id].add(source_id)
    for ident_id, sources in found.items():
        p = profiles.get(ident_id)
        if p is not None and p.platform == "git":
            p.sources = frozenset(sources)


def _neighbours(
    session: Session, focus: dict[int, Profile], blocks: dict[str, list[int]]
) -> dict[int, Profile]:
    """The stored identities that share a key with the new ones (keys too common skipped)."""
    wanted = list(blocks)
    found: dict[str, list[int]] = defaultdict(list)
    for chunk in _chunks(wanted):
        for ident_id, key in session.execute(
            select(IdentityKey.identity_id, IdentityKey.key).where(IdentityKey.key.in_(chunk))
        ):
            if ident_id not in focus:
                found[key].append(ident_id)
    ids: set[int] = set()
    for key, members in found.items():
        if len(members) + len(blocks[key]) > MAX_BLOCK and not key.startswith(CERTAIN_KEYS):
            continue
        blocks[key].extend(members)
        ids.update(members)
    out: dict[int, Profile] = {}
    for chunk in _chunks(sorted(ids)):
        out.update(_profiles(session.execute(select(*_ROW).where(Identity.id.in_(chunk)))))
    for key in list(blocks):  # drop neighbours that are bookkeeping identities
        blocks[key] = [i for i in blocks[key] if i in focus or i in out]
    return out


def _member_of(session: Session, ids: Iterable[int]) -> dict[int, int]:
    """Identity id -> the member it is on now."""
    out: dict[int, int] = {}
    for chunk in _chunks(sorted(ids)):
        out.update(
            session.execute(
                select(Identity.id, Identity.member_id).where(Identity.id.in_(chunk))
            ).all()
        )
    return out


def _forbidden(session: Session) -> dict[int, set[int]]:
    """Member -> the members it must never be merged with."""
    rows = session.execute(
        select(IdentityDecision.identity_a_id, IdentityDecision.identity_b_id).where(
            IdentityDecision.decision == "different"
        )
    ).all()
    if not rows:
        return {}
    member_of = _member_of(session, {i for row in rows for i in row})
    out: dict[int, set[int]] = defaultdict(set)
    for a, b in rows:
        ma, mb = member_of.get(a), member_of.get(b)
        if ma is not None and mb is not None and ma != mb:
            out[ma].add(mb)
            out[mb].add(ma)
    return out


def _apply_merges(
    session: Session,
    groups: dict[int, set[int]],
    reasons: dict[int, list[tuple[float, int, int, list[Evidence]]]],
    profiles: dict[int, Profile],
    actor: str,
    now: datetime,
) -> list[int]:
    member_ids = sorted({m for g in groups.values() for m in g})
    rows: dict[int, Any] = {}
    for chunk in _chunks(member_ids):
        member_t = cast(Table, Member.__table__)
        for row in session.execute(select(member_t).where(member_t.c.id.in_(chunk))):
            rows[row.id] = row
    idents: dict[int, list[int]] = defaultdict(list)
    enrolls: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(member_ids):
        for ident_id, member_id in session.execute(
            select(Identity.id, Identity.member_id).where(Identity.member_id.in_(chunk))
        ):
            idents[member_id].append(ident_id)
        for enr_id, member_id in session.execute(
            select(Enrollment.id, Enrollment.member_id).where(Enrollment.member_id.in_(chunk))
        ):
            enrolls[member_id].append(enr_id)
    moves_params: list[dict[str, int]] = []
    log_rows: list[dict[str, Any]] = []
    renames: list[dict[str, Any]] = []
    gone: list[int] = []
    for root, group in groups.items():
        target = max(group, key=lambda m: (len(idents[m]), -m))
        others = sorted(group - {target})
        changes: dict[str, Any] = {
            "moves": [[i, m, target] for m in others for i in idents[m]],
            "members_deleted": [member_row(rows[m]) for m in others],
        }
        if any(enrolls[m] for m in others):
            changes["enrollments_moved"] = [[e, m, target] for m in others for e in enrolls[m]]
        name = _better_name(rows[target].display_name, [rows[m].display_name for m in others])
        if name != rows[target].display_name:
            changes["members_updated"] = [
                {
                    "id": target,
                    "before": {"display_name": rows[target].display_name},
                    "after": {"display_name": name},
                }
            ]
            renames.append({"mid": target, "display_name": name})
        moves_params.extend({"to": target, "frm": m} for m in others)
        gone.extend(others)
        log_rows.append(
            {
                "action": "auto-merge",
                "actor": actor,
                "reason": _reason(reasons.get(root, []), profiles),
                "created_at": now,
                "changes": changes,
            }
        )
    ident_t = cast(Table, Identity.__table__)
    enr_t = cast(Table, Enrollment.__table__)
    member_t = cast(Table, Member.__table__)
    session.execute(
        update(ident_t)
        .where(ident_t.c.member_id == bindparam("frm"))
        .values(member_id=bindparam("to")),
        moves_params,
    )
    session.execute(
        update(enr_t)
        .where(enr_t.c.member_id == bindparam("frm"))
        .values(member_id=bindparam("to")),
        moves_params,
    )
    if renames:
        session.execute(
            update(member_t)
            .where(member_t.c.id == bindparam("mid"))
            .values(display_name=bindparam("display_name")),
            renames,
        )
    for chunk in _chunks(gone):
        session.execute(delete(member_t).where(member_t.c.id.in_(chunk)))
    log_t = cast(Table, IdentityLog.__table__)
    stmt = insert(log_t).returning(log_t.c.id, sort_by_parameter_order=True)
    return [row[0] for row in session.execute(stmt, log_rows)] if log_rows else []


def _better_name(current: str, others: list[str]) -> str:
    """Keep the member's name unless it is a bare handle and another one is a full name."""
    if full_name(current) is not None:
        return current
    fulls = [n for n in others if full_name(n) is not None]
    return fulls[0] if fulls else current


def _reason(
    items: list[tuple[float, int, int, list[Evidence]]], profiles: dict[int, Profile]
) -> str:
    parts = []
    for score, a, b, ev in items[:5]:
        what = "; ".join(f"{e.signal}: {e.detail}" for e in ev)
        parts.append(f"{profiles[a].value} + {profiles[b].value} ({score:.2f}: {what})")
    more = f"; and {len(items) - 5} more" if len(items) > 5 else ""
    return "; ".join(parts) + more


def _suggest(
    session: Session,
    pending: list[tuple[float, int, int, list[Evidence]]],
    uf: _Members,
    profiles: dict[int, Profile],
    now: datetime,
) -> tuple[int, int]:
    """Store the best pending pair per pair of (merged) members as an open suggestion, unless
    a decision or an earlier suggestion already covers it; mark open suggestions whose
    identities are now one member as stale."""
    best: dict[tuple[int, int], tuple[float, int, int, list[Evidence]]] = {}
    for item in pending:
        _, a, b, _ = item
        ra, rb = uf.find(profiles[a].member_id), uf.find(profiles[b].member_id)
        if ra == rb or uf.blocked(ra, rb):
            continue
        key = (min(ra, rb), max(ra, rb))
        if key not in best:
            best[key] = item
    stale = 0
    existing = session.execute(
        select(
            MergeSuggestion.id,
            MergeSuggestion.identity_a_id,
            MergeSuggestion.identity_b_id,
            MergeSuggestion.status,
        )
    ).all()
    if existing:
        member_of = _member_of(session, {i for row in existing for i in row[1:3]})
        covered: set[tuple[int, int]] = set()
        to_stale = []
        for sid, a, b, status in existing:
            ma, mb = member_of.get(a), member_of.get(b)
            if ma is None or mb is None:
                continue
            ra, rb = uf.find(ma), uf.find(mb)
            if ra == rb:
                if status == "open":
                    to_stale.append(sid)
                continue
            covered.add((min(ra, rb), max(ra, rb)))
        for key in covered:
            best.pop(key, None)
        for chunk in _chunks(to_stale):
            session.execute(
                update(MergeSuggestion)
                .where(MergeSuggestion.id.in_(chunk))
                .values(status="stale", decided_at=now, decided_by=ACTOR)
            )
        stale = len(to_stale)
    rows = [
        {
            "identity_a_id": min(a, b),
            "identity_b_id": max(a, b),
            "score": score,
            "evidence": [e.to_json() for e in ev],
            "status": "open",
            "created_at": now,
        }
        for score, a, b, ev in best.values()
    ]
    for chunk in _chunks(rows, 2000):
        session.execute(insert(MergeSuggestion), list(chunk))
    return len(rows), stale


def unresolved_count(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(Identity).where(Identity.resolved_at.is_(None))
    ).scalar_one()
