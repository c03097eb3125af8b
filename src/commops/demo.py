"""The demo community: a realistic synthetic community seeded into an empty workspace.

``generate`` writes what the connectors and the identity machinery would have written for a
community of ``members`` people over ``months`` months ending on ``end``:

* sources of each kind (``github``, ``git``, ``gitee``, ``discourse``, ``downloads``) whose
  location is ``demo://...`` and whose options say ``{"demo": true}``; no connector runs;
* people whose activity follows a power law (Zipf over a shuffled rank), with identities on
  several platforms (a git e-mail, a GitHub login, a Gitee login, a forum username), Chinese
  names with pinyin logins, bots (``dependabot[bot]``, a CI account merging pull requests), staff
  of the organisation ``DemoCorp`` (e-mails at ``democorp.example.com``) and people of other
  organisations recognised by their e-mail domains, some of whom change employer;
* activities of the kinds, targets, channels, attributes and contribution types the connectors
  produce: commits (most of them squashed pull requests), issues with and without answers, pull
  requests with reviews and merges, stars, forks, releases, forum questions with and without an
  accepted answer;
* observations: GitHub star, fork and watcher counters at each month end, daily PyPI downloads,
  a Docker Hub pull counter read weekly.

Identities go through ``IdentityRegistry`` (each one starts as a member of its own), then the
resolver, bot rules, affiliation and staff detection run as after a sync, so that who is who is
decided by the same code as for real data. The same parameters and seed give the same rows.
Activities are written with Core inserts in batches of ``BATCH`` rows, one transaction each, and
are never all held in memory.
"""

from __future__ import annotations

import hashlib
import json
import queue
import random
import threading
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import MetaData, Table, func, insert, select
from sqlalchemy.orm import Session

from commops.analytics.snapshot import Snapshot
from commops.clock import utcnow
from commops.config import Config
from commops.connectors.base import IdentityRef, activity_uid
from commops.errors import UsageError
from commops.identity.bots import BotRules, apply_bot_flags
from commops.identity.orgs import affiliate, ensure_organization
from commops.identity.registry import IdentityRegistry
from commops.identity.resolve import resolve
from commops.identity.staff import apply_staff_flags
from commops.ops.core import OPS_KIND
from commops.store.db import Store
from commops.store.models import (
    Activity,
    Enrollment,
    Identity,
    Member,
    Observation,
    Organization,
    Source,
)
from commops.sync import resolve_new_identities
from commops.workspace import Workspace

__all__ = [
    "DEFAULT_ACTIVITIES_PER_MEMBER",
    "DEFAULT_END",
    "DEFAULT_MEMBERS",
    "DEFAULT_MONTHS",
    "DEFAULT_SEED",
    "STAFF_ORGANIZATION",
    "DemoStats",
    "generate",
    "is_demo_source",
]

# A fixed end, never "now": the same seed gives the same rows whenever it runs.
DEFAULT_END = date(2026, 10, 31)
DEFAULT_MEMBERS = 500
DEFAULT_MONTHS = 24
DEFAULT_SEED = 1
DEFAULT_ACTIVITIES_PER_MEMBER = 100
MIN_MEMBERS = 20
MAX_MEMBERS = 200_000
MAX_MONTHS = 240
MAX_ACTIVITIES = 100_000_000
BATCH = 50_000
SQLITE_CACHE_KIB = 256 * 1024
ZIPF_EXPONENT = 1.2
STAFF_ORGANIZATION = "DemoCorp"
STAFF_DOMAIN = "democorp.example.com"
DEMO_SCHEME = "demo://"

ProgressFn = Callable[[str, int, int | None], None]

# (name, kind, e-mail domain): the organisations people's e-mail addresses reveal.
ORGANIZATIONS = (
    (STAFF_ORGANIZATION, "company", STAFF_DOMAIN),
    ("Acme Cloud", "company", "acme-cloud.example.com"),
    ("Globex", "company", "globex.example.com"),
    ("Initech", "company", "initech.example.com"),
    ("Qingyun Tech", "company", "qingyun-tech.example.com"),
    ("Demo University", "university", "demo-university.example.com"),
)
PUBLIC_MAIL = ("gmail.com", "outlook.com", "yahoo.com")
PUBLIC_MAIL_CN = ("qq.com", "163.com", "126.com", "gmail.com")

GITHUB_REPOS = ("demo-org/core", "demo-org/cli", "demo-org/docs", "demo-org/helm-charts")
GIT_REPOS = ("demo-org/core", "demo-org/cli", "demo-org/docs")
GITEE_REPO = "demo-org/core"
FORUM_CATEGORIES = ("questions", "questions", "questions", "general", "announcements", "show")
PYPI_PACKAGE = "demo-cli"
DOCKER_IMAGE = "demo-org/demo-server"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Aaron Abigail Adrian Alice Amelia Andrea Andrew Angela Anthony Ariana Arthur Audrey "
    "Benjamin Bianca Bradley Brandon Caroline Charles Charlotte Chelsea Christian Claire "
    "Daniel Deborah Dennis Dominic Dorothy Eleanor Elijah Elliot Emily Emmanuel Erica Ethan "
    "Eugene Evelyn Felix Fiona Francis Gabriel Georgia Gregory Hannah Harold Harriet Hector "
    "Isabel Isaac Jacob Jasmine Jeffrey Jessica Jonathan Joseph Joshua Julian Justine "
    "Katherine Kenneth Lauren Leonard Lillian Lorenzo Lucas Madeline Marcus Margaret Martina "
    "Matthew Melanie Michael Miranda Natalie Nathan Nicholas Olivia Oscar Patrick Penelope "
    "Philip Quentin Rachel Raphael Rebecca Richard Roberto Rosalind Samuel Sandra Sebastian "
    "Simone Stephen Sylvia Theodore Tobias Valerie Vincent Victoria Walter Wilhelmina Xavier "
    "Yvonne Zachary"
)
LAST_NAMES = _words(
    "Abernathy Albright Ashworth Bancroft Barrington Beaumont Blackwood Bradshaw Brennan "
    "Calloway Carmichael Castellano Chamberlain Coleridge Cromwell Dalrymple Davenport "
    "Delacroix Donnelly Drummond Eastwood Ellsworth Fairbanks Fitzgerald Fontaine Gallagher "
    "Garrison Gillespie Goodwin Greenaway Halloran Hargreaves Hawthorne Hendricks Holloway "
    "Huntington Iverson Jablonski Jefferson Kavanagh Kensington Kowalski Lancaster Lindqvist "
    "Livingston Lockhart Macintosh Marchetti Merriweather Montague Moreland Nakamura "
    "Northcott Oakley Oyelaran Pemberton Petrovic Prescott Quintero Radcliffe Ramirez "
    "Ravensworth Rutherford Salvatore Sandoval Schneider Sheffield Sinclair Stanhope "
    "Sutherland Thornbury Townsend Underwood Vandermeer Vasquez Wadsworth Wakefield Whitmore "
    "Wilkinson Winchester Yamamoto Zimmerman Okonkwo Haugland Bergstrom Fernandez Lindgren "
    "Castillo Moretti"
)
# (character, pinyin): readings pypinyin gives (a test checks them). No syllable is the start of
# another ("tan" of "tang"): the resolver would read Tan Yonggang into tangyonggang.
CN_SURNAMES = _words(
    "王wang 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 孙sun "
    "马ma 朱zhu 郭guo 何he 高gao 林lin 罗luo 郑zheng 梁liang 谢xie 宋song "
    "唐tang 韩han 冯feng 邓deng 曹cao 彭peng 田tian 董dong 潘pan 袁yuan "
    "蔡cai 杜du 叶ye 魏wei 丁ding 姚yao 钟zhong 崔cui 廖liao 石shi 金jin "
    "贾jia 夏xia 方fang 邹zou 熊xiong 白bai 孟meng 秦qin 邱qiu 侯hou"
)
CN_GIVEN = _words(
    "子zi 涵han 浩hao 然ran 轩xuan 欣xin 晨chen 博bo 文wen 杰jie 俊jun 嘉jia "
    "磊lei 婷ting 雪xue 琳lin 思si 鹏peng 凯kai 峰feng 涛tao 斌bin 辉hui "
    "颖ying 倩qian 霞xia 丹dan 瑞rui 悦yue 彤tong 楠nan 源yuan 泽ze 锦jin "
    "伟wei 芳fang 敏min 秀xiu 志zhi 勇yong 平ping 刚gang 桂gui 梅mei"
)

VERBS = ("Fix", "Add", "Update", "Refactor", "Remove", "Improve", "Document", "Support", "Test")
NOUNS = (
    "controller reconcile loop",
    "CLI flags",
    "helm chart values",
    "metrics endpoint",
    "login page",
    "API pagination",
    "installer",
    "config parser",
    "error messages",
    "storage driver",
    "upgrade guide",
    "webhook handler",
    "cache eviction",
    "release notes",
    "unit tests",
    "dashboard",
)
TOPIC_TITLES = (
    "How do I configure {}?",
    "Error when upgrading {}",
    "Best practice for {}",
    "Is {} supported on ARM?",
    "Question about {}",
    "Showcase: our setup with {}",
)


def is_demo_source(kind: str, location: str, options: dict[str, Any] | None) -> bool:
    """A source this generator made: a ``demo://`` location with ``{"demo": true}``."""
    return location.startswith(DEMO_SCHEME) and bool((options or {}).get("demo"))


@dataclass
class DemoStats:
    """What ``generate`` wrote, read back from the store after resolution."""

    members: int
    identities: int
    activities: int
    observations: int
    bots: int
    staff: int
    merged: int
    by_kind: dict[str, int]
    sources: dict[str, int]
    organizations: dict[str, int]
    multi_platform: int
    start: date
    end: date
    seed: int
    seconds: float
    rows_per_second: float
    snapshot: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "identities": self.identities,
            "activities": self.activities,
            "observations": self.observations,
            "bots": self.bots,
            "staff": self.staff,
            "merged_by_resolver": self.merged,
            "members_on_3_or_more_platforms": self.multi_platform,
            "activities_by_kind": dict(self.by_kind),
            "sources": dict(self.sources),
            "organizations": dict(self.organizations),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "seed": self.seed,
            "seconds": round(self.seconds, 2),
            "activities_per_second": round(self.rows_per_second),
            "snapshot_refreshed": self.snapshot,
        }


# -- the people -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    rank: int
    name: str  # Latin spelling
    tokens: tuple[str, str]  # (given, family), lower-case, for logins and e-mails
    cjk: str | None
    login: str
    weight: float
    start: float  # active span, as fractions of the period
    end: float
    tz: int  # minutes east of UTC
    staff: bool = False
    github: int | None = None
    discourse: int | None = None
    gitee: int | None = None
    # (until fraction, git identity id, e-mail, name): a change of employer adds a second one
    git: list[tuple[float, int, str, str]] = field(default_factory=list)
    platforms: int = 0

    def git_at(self, frac: float) -> tuple[int, str, str] | None:
        for until, ident, email, name in self.git:
            if frac < until:
                return ident, email, name
        if self.git:
            _, ident, email, name = self.git[-1]
            return ident, email, name
        return None


class _Sampler:
    """Weighted choice by bisection over cumulative weights (deterministic for a seed)."""

    def __init__(self, people: list[_Person], weight: Callable[[_Person], float]) -> None:
        self.people = [p for p in people if weight(p) > 0]
        self.cum: list[float] = []
        total = 0.0
        for p in self.people:
            total += weight(p)
            self.cum.append(total)
        self.total = total

    def __bool__(self) -> bool:
        return bool(self.people)

    def pick(self, r: random.Random) -> _Person:
        i = bisect_right(self.cum, r.random() * self.total)
        return self.people[min(i, len(self.people) - 1)]


def _names(r: random.Random, count: int) -> list[tuple[str, tuple[str, str], str | None]]:
    """``count`` people's names, no two that read the same once joined in either order, each
    long enough (8 letters or more) to be a distinctive handle."""
    seen: set[str] = set()
    out: list[tuple[str, tuple[str, str], str | None]] = []
    cn_sur = [(s[0], s[1:]) for s in CN_SURNAMES]
    cn_given = [(g[0], g[1:]) for g in CN_GIVEN]
    western_left = len(FIRST_NAMES) * len(LAST_NAMES)
    while len(out) < count:
        chinese = r.random() < 0.35 or western_left <= 0
        for _ in range(50):
            if chinese:
                sc, sp = cn_sur[int(r.random() * len(cn_sur))]
                g1c, g1p = cn_given[int(r.random() * len(cn_given))]
                g2c, g2p = cn_given[int(r.random() * len(cn_given))]
                given, family = g1p + g2p, sp
                cjk: str | None = sc + g1c + g2c
            else:
                given = FIRST_NAMES[int(r.random() * len(FIRST_NAMES))].lower()
                family = LAST_NAMES[int(r.random() * len(LAST_NAMES))].lower()
                cjk = None
            # Jia Yifeng and Feng Jiayi both write jiayifeng: one of them only.
            joined = (given + family, family + given)
            if len(given) + len(family) >= 8 and given != family and not seen & set(joined):
                seen.update(joined)
                if not chinese:
                    western_left -= 1
                out.append((f"{given.title()} {family.title()}", (given, family), cjk))
                break
        else:
            if not chinese:
                western_left = 0  # the Western names are used up: Chinese ones from now on
    return out


def _login(r: random.Random, given: str, family: str, chinese: bool) -> str:
    forms = (
        (f"{family}{given}", f"{family}-{given}", f"{given}{family}")
        if chinese
        else (f"{given}{family}", f"{given}-{family}", f"{family}{given}", f"{given}_{family}")
    )
    return forms[int(r.random() * len(forms))]


def _people(r: random.Random, count: int) -> list[_Person]:
    names = _names(r, count)
    ranks = list(range(count))
    r.shuffle(ranks)  # who is the most active is itself random
    people: list[_Person] = []
    for (name, (given, family), cjk), rank in zip(names, ranks, strict=True):
        q = rank / count
        if q < 0.05:
            start = r.random() * 0.15
            end = 1.0
        else:
            start = r.random() ** 0.7 * 0.95  # more people join later: the community grows
            end = min(1.0, start + 0.05 + r.expovariate(1 / 0.35))
        tz = 480 if cjk else (-420, -300, -240, 0, 60, 60, 120, 330)[int(r.random() * 8)]
        people.append(
            _Person(
                rank=rank,
                name=name,
                tokens=(given, family),
                cjk=cjk,
                login=_login(r, given, family, cjk is not None),
                weight=(rank + 1) ** -ZIPF_EXPONENT,
                start=start,
                end=end,
                tz=tz,
            )
        )
    return people


@dataclass
class _Bots:
    dependabot: int = 0
    dependabot_git: int = 0
    ci: int = 0


def _identities(session: Session, r: random.Random, people: list[_Person], config: Config) -> _Bots:
    """Decide each person's platforms and handles, and store them through the registry: each
    identity starts as a member of its own, as a connector would leave it."""
    reg = IdentityRegistry(session, BotRules.from_config(config))
    count = len(people)
    plan: list[tuple[_Person, list[tuple[str, IdentityRef, float]]]] = []
    forced_multi = 0
    orgs = [o for o in ORGANIZATIONS if o[0] != STAFF_ORGANIZATION]
    for p in sorted(people, key=lambda x: x.rank):
        q = p.rank / count
        given, family = p.tokens
        p.staff = r.random() < (0.6 if q < 0.05 else 0.03)
        multi = p.cjk is not None and q < 0.1 and forced_multi < max(3, count // 100)
        forced_multi += multi
        forum_only = not multi and not p.staff and q > 0.4 and r.random() < 0.3
        has_github = not forum_only
        has_git = multi or p.staff or (has_github and (q < 0.35 or r.random() < 0.1))
        has_forum = multi or forum_only or r.random() < (0.5 if q < 0.05 else 0.25)
        has_gitee = multi or (p.cjk is not None and has_github and r.random() < 0.3)
        refs: list[tuple[str, IdentityRef, float]] = []
        if has_github:
            refs.append(("github", IdentityRef("github", "username", p.login), 1.0))
        if has_git:
            git_name = p.cjk if p.cjk is not None and r.random() < 0.5 else p.name
            local = f"{given}.{family}" if p.cjk is None else f"{family}{given}"
            if p.staff:
                domain = STAFF_DOMAIN
            elif r.random() < 0.35:
                domain = orgs[int(r.random() * len(orgs))][2]
            elif has_github and r.random() < 0.4:
                domain = ""  # a GitHub no-reply address
            else:
                pool = PUBLIC_MAIL_CN if p.cjk is not None else PUBLIC_MAIL
                domain = pool[int(r.random() * len(pool))]
            email = (
                f"{100000 + p.rank}+{p.login}@users.noreply.github.com"
                if not domain
                else f"{local}@{domain}"
            )
            switch = 1.0
            if domain and not p.staff and r.random() < 0.1:  # changes employer midway
                switch = p.start + (p.end - p.start) * (0.3 + 0.4 * r.random())
            refs.append(("git", IdentityRef("git", "email", email, git_name), switch))
            if switch < 1.0:
                other = next(o[2] for o in orgs if o[2] != domain)
                refs.append(("git", IdentityRef("git", "email", f"{local}@{other}", git_name), 1.0))
        if has_forum:
            login = p.login if r.random() < 0.7 else f"{given}_{family}"
            shown = p.cjk if p.cjk is not None else p.name
            refs.append(("discourse", IdentityRef("discourse", "username", login, shown), 1.0))
        if has_gitee:
            refs.append(("gitee", IdentityRef("gitee", "username", p.login, p.cjk or p.name), 1.0))
        plan.append((p, refs))
    bot_refs = [
        IdentityRef("github", "username", "dependabot[bot]"),
        IdentityRef(
            "git",
            "email",
            "49699333+dependabot[bot]@users.noreply.github.com",
            "dependabot[bot]",
        ),
        IdentityRef("github", "username", "demo-ci-bot"),
    ]
    all_refs = [ref for _, refs in plan for _, ref, _ in refs] + bot_refs
    for i in range(0, len(all_refs), 5000):
        reg.ensure(all_refs[i : i + 5000])
    reg.flush_names()
    for p, refs in plan:
        p.platforms = len({platform for platform, _, _ in refs})
        for platform, ref, until in refs:
            ident = reg.id_of(ref)
            if platform == "github":
                p.github = ident
            elif platform == "discourse":
                p.discourse = ident
            elif platform == "gitee":
                p.gitee = ident
            else:
                p.git.append((until, ident, ref.value, ref.name or p.name))
    return _Bots(reg.id_of(bot_refs[0]), reg.id_of(bot_refs[1]), reg.id_of(bot_refs[2]))


# -- the activity stream ----------------------------------------------------------------------


@dataclass
class _Period:
    start: datetime
    end: datetime  # exclusive
    months: list[datetime]  # first instant of each month

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    def at(self, frac: float) -> datetime:
        return self.start + timedelta(seconds=int(frac * self.seconds))

    def frac(self, when: datetime) -> float:
        return (when - self.start).total_seconds() / self.seconds


def _period(end: date, months: int) -> _Period:
    year, month = end.year, end.month - months + 1
    while month < 1:
        month += 12
        year -= 1
    firsts = []
    y, m = year, month
    for _ in range(months):
        firsts.append(datetime(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return _Period(
        datetime(year, month, 1),
        datetime.combine(end, datetime.min.time()) + timedelta(days=1),
        firsts,
    )


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_iso(when: datetime, tz: int) -> str:
    local = when + timedelta(minutes=tz)
    sign = "+" if tz >= 0 else "-"
    return f"{local:%Y-%m-%dT%H:%M:%S}{sign}{abs(tz) // 60:02d}:{abs(tz) % 60:02d}"


# One activity row, in the order of COLUMNS.
_Row = tuple[Any, ...]
COLUMNS = (
    "uid",
    "source_id",
    "item_key",
    "kind",
    "occurred_at",
    "actor_identity_id",
    "object_identity_id",
    "channel",
    "target",
    "parent",
    "title",
    "contribution_type",
    "attributes",
)


class _Stream:
    """The activity rows, episode by episode (an issue with its comments, a pull request with
    its reviews, merge and commits, a forum topic with its answers), until ``total`` rows."""

    def __init__(
        self,
        r: random.Random,
        seed: int,
        people: list[_Person],
        bots: _Bots,
        sources: dict[str, tuple[int, str]],
        period: _Period,
        total: int,
    ) -> None:
        self.r = r
        self.seed = seed
        self.bots = bots
        self.sources = sources  # key -> (id, name)
        self.period = period
        self.total = total
        by_rank = sorted(people, key=lambda p: p.rank)
        core = by_rank[: max(3, len(people) * 3 // 100)]
        self.github = _Sampler(by_rank, lambda p: p.weight if p.github else 0.0)
        self.coders = _Sampler(by_rank, lambda p: p.weight if p.github and p.git else 0.0)
        self.pushers = _Sampler(core, lambda p: p.weight if p.git else 0.0)
        self.maintainers = _Sampler(
            core, lambda p: p.weight * (2.0 if p.staff else 1.0) if p.github else 0.0
        )
        self.forum = _Sampler(by_rank, lambda p: p.weight if p.discourse else 0.0)
        self.forum_helpers = _Sampler(by_rank, lambda p: p.weight**1.3 if p.discourse else 0.0)
        self.gitee = _Sampler(by_rank, lambda p: p.weight if p.gitee else 0.0)
        # Stars come from the long tail: anyone, nearly evenly.
        self.stargazers = _Sampler(by_rank, lambda p: 1.0 + p.weight if p.github else 0.0)
        self.numbers: Counter[str] = Counter()
        self.heads: dict[str, str] = {}
        self.starred: set[tuple[int, str]] = set()
        self.forked: set[tuple[int, str]] = set()
        self.gitee_starred: set[int] = set()
        self.star_months: Counter[tuple[str, int]] = Counter()
        self.fork_months: Counter[tuple[str, int]] = Counter()
        self.serial = 0
        self.topic = 0
        self.post = 0
        self.emitted = 0

    # helpers

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _sha(self) -> str:
        return hashlib.sha1(f"demo:{self.seed}:{self._next()}".encode()).hexdigest()

    def _when(self, p: _Person) -> datetime:
        return self.period.at(p.start + (p.end - p.start) * self.r.random())

    def _after(self, when: datetime, mean_hours: float) -> datetime:
        return when + timedelta(seconds=int(self.r.expovariate(1 / (mean_hours * 3600)) + 60))

    def _title(self) -> str:
        r = self.r
        return f"{VERBS[int(r.random() * len(VERBS))]} {NOUNS[int(r.random() * len(NOUNS))]}"

    def _pick_other(self, sampler: _Sampler, not_: _Person) -> _Person | None:
        for _ in range(8):
            p = sampler.pick(self.r)
            if p is not not_:
                return p
        return None

    def _row(
        self,
        source: str,
        kind: str,
        item_key: str,
        when: datetime,
        actor: int,
        *,
        discriminator: str = "",
        obj: int | None = None,
        channel: str | None = None,
        target: str | None = None,
        parent: str | None = None,
        title: str | None = None,
        contribution_type: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> _Row:
        source_id, source_name = self.sources[source]
        return (
            activity_uid(source_name, kind, item_key, discriminator),
            source_id,
            item_key,
            kind,
            when,
            actor,
            obj,
            channel,
            target,
            parent,
            title,
            contribution_type,
            attributes or {},
        )

    def rows(self) -> Iterator[_Row]:
        for row in self._episodes():
            if row[4] >= self.period.end:
                continue  # it has not happened yet on the last day
            yield row
            self.emitted += 1
            if self.emitted >= self.total:
                return

    def _episodes(self) -> Iterator[_Row]:
        r = self.r
        yield from self._releases()
        kinds = (
            (0.16, self._push),
            (0.22, self._pull),
            (0.15, self._issue),
            (0.20, self._star),
            (0.04, self._fork),
            (0.14, self._topic),
            (0.05, self._gitee),
            (0.04, self._bot_pull),
        )
        cum: list[float] = []
        acc = 0.0
        for share, _ in kinds:
            acc += share
            cum.append(acc)
        while True:
            i = min(bisect_right(cum, r.random() * acc), len(kinds) - 1)
            yield from kinds[i][1]()

    # episodes

    def _releases(self) -> Iterator[_Row]:
        """A minor release of core each month, patch releases now and then, by a maintainer.
        Bounded to a small share of the rows so that a tiny demo is not all releases."""
        budget = max(1, self.total // 100)
        minor = 0
        for first in self.period.months:
            minor += 1
            for patch in range(1 + (self.r.random() < 0.5)):
                if budget <= 0:
                    return
                budget -= 1
                who = self.maintainers.pick(self.r)
                if who.github is None:
                    continue
                when = first + timedelta(days=3 + 14 * patch, hours=int(self.r.random() * 10))
                tag = f"v1.{minor}.{patch}"
                rel_id = self._next()
                yield self._row(
                    "github",
                    "github:release_published",
                    f"demo-org/core/release/{rel_id}",
                    when,
                    who.github,
                    channel="demo-org/core",
                    target=tag,
                    title=f"Release {tag}",
                    contribution_type="maintenance",
                    attributes={"tag": tag, "prerelease": False},
                )

    def _commit(
        self,
        p: _Person,
        repo: str,
        authored: datetime,
        committed: datetime,
        subject: str,
        pr: int | None,
        *,
        parents: int = 1,
        ident: tuple[int, str, str] | None = None,
    ) -> _Row | None:
        ident = ident or p.git_at(self.period.frac(authored))
        if ident is None:
            return None
        actor, email, name = ident
        r = self.r
        sha = self._sha()
        head = self.heads.get(repo)
        parent_shas = [head] if head else []
        if parents > 1:
            parent_shas.append(self._sha())
        self.heads[repo] = sha
        files = 0 if parents > 1 else 1 + int(r.expovariate(1 / 3))
        insertions = 0 if parents > 1 else int(r.expovariate(1 / 60))
        deletions = 0 if parents > 1 else int(r.expovariate(1 / 25))
        attrs = {
            "sha": sha,
            "parents": parent_shas,
            "merge": parents > 1,
            "author_name": name,
            "author_email": email,
            "author_date": _local_iso(authored, p.tz),
            "author_tz_offset": p.tz,
            "committer_name": name,
            "committer_email": email,
            "committed_at": _iso(committed),
            "files_changed": files,
            "insertions": insertions,
            "deletions": deletions,
            "pr_number": pr,
        }
        return self._row(
            f"git:{repo}",
            "git:commit",
            sha,
            authored,
            actor,
            channel=repo,
            target=str(pr) if pr is not None else None,
            title=subject,
            contribution_type="code",
            attributes=attrs,
        )

    def _push(self) -> Iterator[_Row]:
        p = self.pushers.pick(self.r) if self.r.random() < 0.5 else self.coders.pick(self.r)
        repo = GIT_REPOS[int(self.r.random() ** 2 * len(GIT_REPOS))]
        when = self._when(p)
        row = self._commit(p, repo, when, when, self._title(), None)
        if row is not None:
            yield row

    def _pull(self) -> Iterator[_Row]:
        r = self.r
        author = self.coders.pick(r) if self.coders else self.github.pick(r)
        assert author.github is not None
        repo = GIT_REPOS[int(r.random() ** 2 * len(GIT_REPOS))]
        self.numbers[repo] += 1
        number = self.numbers[repo]
        key = f"{repo}#{number}"
        opened = self._when(author)
        title = self._title()
        common: dict[str, Any] = {"channel": repo, "target": str(number), "title": title}
        rows: list[_Row] = []
        reviews: list[datetime] = []
        at = opened
        for _ in range(int(r.random() * 3)):
            reviewer = self._pick_other(self.maintainers, author)
            if reviewer is None or reviewer.github is None:
                continue
            at = self._after(at, 20)
            reviews.append(at)
            rows.append(
                self._row(
                    "github",
                    "github:review",
                    f"{key}/review/{self._next()}",
                    at,
                    reviewer.github,
                    obj=author.github,
                    parent=key,
                    contribution_type="review",
                    attributes={
                        "number": number,
                        "state": "APPROVED" if r.random() < 0.6 else "COMMENTED",
                        "pr_author": author.login,
                        "reviewer_type": "User",
                        "author_association": "MEMBER",
                    },
                    **common,
                )
            )
            for _ in range(int(r.random() * 3)):
                rows.append(
                    self._row(
                        "github",
                        "github:review_comment",
                        f"{key}/review_comment/{self._next()}",
                        at,
                        reviewer.github,
                        channel=repo,
                        target=str(number),
                        parent=key,
                        contribution_type="review",
                        attributes={"number": number, "author": reviewer.login},
                    )
                )
        merged_at: datetime | None = None
        merger: int | None = None
        merger_login: str | None = None
        closed_at: datetime | None = None
        outcome = r.random()
        if outcome < 0.75:
            merged_at = self._after(at, 30)
            m = self._pick_other(self.maintainers, author) if r.random() >= 0.3 else None
            if m is None or m.github is None:
                merger, merger_login = self.bots.ci, "demo-ci-bot"
            else:
                merger, merger_login = m.github, m.login
        elif outcome < 0.87:
            closed_at = self._after(at, 72)
        ended = merged_at or closed_at
        attrs = {
            "number": number,
            "author": author.login,
            "labels": [],
            "state": "open" if ended is None else "closed",
            "created_at": _iso(opened),
            "closed_at": _iso(ended) if ended is not None else None,
            "comments": 0,
            "author_association": "MEMBER" if author.staff else "CONTRIBUTOR",
            "merged_at": _iso(merged_at) if merged_at else None,
            "merged_by": merger_login,
            "draft": False,
            "first_review_at": _iso(reviews[0]) if reviews else None,
        }
        yield self._row(
            "github",
            "github:pr_opened",
            key,
            opened,
            author.github,
            discriminator="opened",
            contribution_type="code",
            attributes=attrs,
            **common,
        )
        yield from rows
        if merged_at is not None and merger is not None:
            yield self._row(
                "github",
                "github:pr_merged",
                key,
                merged_at,
                merger,
                discriminator="merged",
                obj=author.github,
                contribution_type="maintenance",
                attributes=attrs,
                **common,
            )
            for i in range(1 if r.random() < 0.7 else 2 + int(r.random() * 2)):
                authored = opened - timedelta(hours=int(r.random() * 48) + i)
                row = self._commit(
                    author, repo, authored, merged_at, f"{title} (#{number})", number
                )
                if row is not None:
                    yield row
        elif closed_at is not None:
            closer = self.maintainers.pick(r)
            if closer.github is not None:
                yield self._row(
                    "github",
                    "github:pr_closed",
                    key,
                    closed_at,
                    closer.github,
                    discriminator=f"closed:{_iso(closed_at)}",
                    obj=author.github,
                    attributes={**attrs, "closed_at": _iso(closed_at)},
                    **common,
                )

    def _bot_pull(self) -> Iterator[_Row]:
        r = self.r
        repo = GIT_REPOS[int(r.random() * len(GIT_REPOS))]
        self.numbers[repo] += 1
        number = self.numbers[repo]
        key = f"{repo}#{number}"
        opened = self.period.at(r.random())
        title = f"Bump golang.org/x/net from 0.{number % 40}.0 to 0.{number % 40 + 1}.0"
        common: dict[str, Any] = {"channel": repo, "target": str(number), "title": title}
        merged = r.random() < 0.8
        merged_at = self._after(opened, 6)
        attrs = {
            "number": number,
            "author": "dependabot[bot]",
            "labels": ["dependencies"],
            "state": "closed" if merged else "open",
            "created_at": _iso(opened),
            "closed_at": _iso(merged_at) if merged else None,
            "comments": 0,
            "author_association": "CONTRIBUTOR",
            "merged_at": _iso(merged_at) if merged else None,
            "merged_by": "demo-ci-bot" if merged else None,
            "draft": False,
            "first_review_at": None,
        }
        yield self._row(
            "github",
            "github:pr_opened",
            key,
            opened,
            self.bots.dependabot,
            discriminator="opened",
            contribution_type="code",
            attributes=attrs,
            **common,
        )
        if merged:
            yield self._row(
                "github",
                "github:pr_merged",
                key,
                merged_at,
                self.bots.ci,
                discriminator="merged",
                obj=self.bots.dependabot,
                contribution_type="maintenance",
                attributes=attrs,
                **common,
            )
            bot = _Person(-1, "dependabot[bot]", ("", ""), None, "dependabot[bot]", 0, 0, 1, 0)
            ident = (
                self.bots.dependabot_git,
                "49699333+dependabot[bot]@users.noreply.github.com",
                "dependabot[bot]",
            )
            row = self._commit(
                bot, repo, opened, merged_at, f"{title} (#{number})", number, ident=ident
            )
            if row is not None:
                yield row

    def _issue(self) -> Iterator[_Row]:
        r = self.r
        author = self.github.pick(r)
        assert author.github is not None
        repo = GITHUB_REPOS[int(r.random() ** 1.5 * len(GITHUB_REPOS))]
        self.numbers[repo] += 1
        number = self.numbers[repo]
        key = f"{repo}#{number}"
        opened = self._when(author)
        idea = r.random() < 0.3
        title = self._title()
        comments: list[_Row] = []
        at = opened
        answered = r.random() >= 0.25  # a quarter are never answered
        if answered:
            for i in range(1 + int(r.expovariate(1 / 1.5))):
                if i % 2 == 1 and r.random() < 0.5:
                    who: _Person | None = author  # the author replies
                else:
                    who = self._pick_other(self.maintainers if i == 0 else self.github, author)
                if who is None or who.github is None:
                    continue
                at = self._after(at, 36 if i == 0 else 24)
                comments.append(
                    self._row(
                        "github",
                        "github:issue_comment",
                        f"{key}/comment/{self._next()}",
                        at,
                        who.github,
                        channel=repo,
                        target=str(number),
                        parent=key,
                        attributes={
                            "number": number,
                            "author": who.login,
                            "author_type": "User",
                            "author_association": "MEMBER" if who.staff else "NONE",
                            "created_at": _iso(at),
                        },
                    )
                )
        closed_at = self._after(at, 96) if r.random() < (0.6 if answered else 0.15) else None
        attrs = {
            "number": number,
            "author": author.login,
            "labels": ["enhancement"] if idea else ["bug"],
            "state": "closed" if closed_at else "open",
            "created_at": _iso(opened),
            "closed_at": _iso(closed_at) if closed_at else None,
            "comments": len(comments),
            "author_association": "MEMBER" if author.staff else "NONE",
        }
        common: dict[str, Any] = {"channel": repo, "target": str(number), "title": title}
        yield self._row(
            "github",
            "github:issue_opened",
            key,
            opened,
            author.github,
            discriminator="opened",
            contribution_type="ideas" if idea else "bug",
            attributes=attrs,
            **common,
        )
        yield from comments
        if closed_at is not None:
            closer = self.maintainers.pick(r)
            if closer.github is not None:
                yield self._row(
                    "github",
                    "github:issue_closed",
                    key,
                    closed_at,
                    closer.github,
                    discriminator=f"closed:{_iso(closed_at)}",
                    obj=author.github,
                    attributes={**attrs, "closed_at": _iso(closed_at)},
                    **common,
                )

    def _month(self, when: datetime) -> int:
        return (when.year - self.period.start.year) * 12 + when.month - self.period.start.month

    def _star(self) -> Iterator[_Row]:
        r = self.r
        p = self.stargazers.pick(r)
        assert p.github is not None
        repo = GITHUB_REPOS[int(r.random() ** 2 * len(GITHUB_REPOS))]
        if (p.rank, repo) in self.starred:
            return
        self.starred.add((p.rank, repo))
        when = self._when(p)
        self.star_months[(repo, self._month(when))] += 1
        yield self._row(
            "github",
            "github:star",
            f"{repo}/star/{p.login}",
            when,
            p.github,
            discriminator=_iso(when),
            channel=repo,
        )

    def _fork(self) -> Iterator[_Row]:
        r = self.r
        p = self.github.pick(r)
        assert p.github is not None
        repo = GITHUB_REPOS[int(r.random() ** 2 * len(GITHUB_REPOS))]
        if (p.rank, repo) in self.forked:
            return
        self.forked.add((p.rank, repo))
        when = self._when(p)
        self.fork_months[(repo, self._month(when))] += 1
        full = f"{p.login}/{repo.split('/')[1]}"
        yield self._row(
            "github",
            "github:fork",
            f"{repo}/fork/{full}",
            when,
            p.github,
            channel=repo,
            target=full,
            attributes={"fork": full},
        )

    def _topic(self) -> Iterator[_Row]:
        r = self.r
        if not self.forum:
            return
        asker = self.forum.pick(r)
        assert asker.discourse is not None
        category = FORUM_CATEGORIES[int(r.random() * len(FORUM_CATEGORIES))]
        question = category == "questions"
        self.topic += 1
        topic_id = self.topic
        noun = NOUNS[int(r.random() * len(NOUNS))]
        title = TOPIC_TITLES[int(r.random() * len(TOPIC_TITLES))].format(noun)
        opened = self._when(asker)
        common: dict[str, Any] = {"channel": category, "target": str(topic_id), "title": title}
        replies: list[tuple[_Person, datetime, int]] = []
        if r.random() >= 0.2:  # a fifth get no reply at all
            at = opened
            for i in range(1 + int(r.expovariate(1 / 1.2))):
                who = asker if i % 2 == 1 and r.random() < 0.4 else None
                who = who or self._pick_other(self.forum_helpers, asker)
                if who is None:
                    continue
                at = self._after(at, 14 if i == 0 else 20)
                self.post += 1
                replies.append((who, at, self.post))
        answers = [x for x in replies if x[0] is not asker]
        solution = answers[int(r.random() * len(answers))] if question and answers else None
        if solution is not None and r.random() >= 0.55:
            solution = None  # answered, but nobody marked an answer as the solution
        self.post += 1
        first_post = self.post
        base = {"topic_id": topic_id, "category_id": FORUM_CATEGORIES.index(category) + 1}
        yield self._row(
            "discourse",
            "discourse:topic_created",
            f"{topic_id}/{first_post}",
            opened,
            asker.discourse,
            contribution_type="question" if question else "forum",
            attributes={
                **base,
                "post_id": first_post,
                "post_number": 1,
                "reply_to_post_number": None,
                "likes": int(r.random() * 4),
                "accepted_answer": False,
                "tags": [],
                "views": 10 + int(r.expovariate(1 / 150)),
            },
            **common,
        )
        for n, (who, at, post_id) in enumerate(replies, start=2):
            assert who.discourse is not None
            attrs = {
                **base,
                "post_id": post_id,
                "post_number": n,
                "reply_to_post_number": None,
                "likes": int(r.random() * 3),
                "accepted_answer": solution is not None and solution[2] == post_id,
            }
            yield self._row(
                "discourse",
                "discourse:post",
                f"{topic_id}/{post_id}",
                at,
                who.discourse,
                obj=asker.discourse,
                parent=str(topic_id),
                contribution_type="answer" if question and who is not asker else "forum",
                attributes=attrs,
                **common,
            )
            if solution is not None and solution[2] == post_id:
                yield self._row(
                    "discourse",
                    "discourse:solution",
                    f"{topic_id}/solution",
                    at,
                    who.discourse,
                    discriminator=str(post_id),
                    obj=asker.discourse,
                    parent=str(topic_id),
                    contribution_type="answer",
                    attributes=attrs,
                    **common,
                )

    def _gitee(self) -> Iterator[_Row]:
        r = self.r
        if not self.gitee:
            return
        p = self.gitee.pick(r)
        assert p.gitee is not None
        when = self._when(p)
        if r.random() < 0.4:
            if p.rank in self.gitee_starred:
                return
            self.gitee_starred.add(p.rank)
            yield self._row(
                "gitee",
                "gitee:star",
                f"{GITEE_REPO}/star/{p.login}",
                when,
                p.gitee,
                discriminator=_iso(when),
                channel=GITEE_REPO,
            )
            return
        self.numbers["gitee"] += 1
        number = f"I{self.numbers['gitee']:05d}"
        idea = r.random() < 0.3
        yield self._row(
            "gitee",
            "gitee:issue_opened",
            f"{GITEE_REPO}#{number}",
            when,
            p.gitee,
            discriminator="opened",
            channel=GITEE_REPO,
            target=number,
            title=self._title(),
            contribution_type="ideas" if idea else "bug",
            attributes={
                "number": number,
                "author": p.login,
                "labels": [],
                "state": "open",
                "created_at": _iso(when),
                "comments": 0,
            },
        )


# -- writing ----------------------------------------------------------------------------------

_SOURCES = (
    ("github", "demo-github", "github", "demo://github/demo-org"),
    *(
        (f"git:{repo}", f"demo-git-{repo.split('/')[1]}", "git", f"demo://git/{repo}")
        for repo in GIT_REPOS
    ),
    ("gitee", "demo-gitee", "gitee", "demo://gitee/demo-org"),
    ("discourse", "demo-forum", "discourse", "demo://discourse/forum.demo-org"),
    ("downloads", "demo-downloads", "downloads", "demo://downloads/demo-org"),
)


class _Writer:
    """One transaction per batch. On SQLite the rows go straight to the driver, in the text
    forms SQLAlchemy itself stores (``YYYY-MM-DD HH:MM:SS.ffffff``, JSON text): the ORM's
    per-row processing would take longer than the insert. ``prepare`` (run on the generating
    thread) turns rows into parameters, ``write`` stores them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sqlite = store.dialect == "sqlite"
        self.sql = (
            f"INSERT INTO activities ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})"
        )

    def prepare(self, batch: list[_Row]) -> list[Any]:
        if not self.sqlite:
            return [dict(zip(COLUMNS, r, strict=True)) for r in batch]
        dumps = json.dumps
        return [
            (*r[:4], r[4].isoformat(" ", "microseconds"), *r[5:12], dumps(r[12])) for r in batch
        ]

    def write(self, params: list[Any]) -> None:
        with self.store.session() as session:
            if not self.sqlite:
                session.execute(insert(cast(Table, Activity.__table__)), params)
                return
            conn = session.connection()
            # A bigger page cache for this connection: the uid index takes inserts at random.
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            conn.exec_driver_sql(self.sql, params)


_DONE = object()


def _ahead(batches: Iterator[list[Any]], depth: int = 2) -> Iterator[list[Any]]:
    """The batches, made on another thread while the caller writes the previous ones (SQLite
    lets go of the GIL while it inserts). Stops the maker when the caller stops."""
    out: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def make() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        out.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            out.put(_DONE)
        except BaseException as exc:  # handed to the caller, raised there
            out.put(exc)

    worker = threading.Thread(target=make, name="commops-demo", daemon=True)
    worker.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _batches(stream: _Stream, writer: _Writer) -> Iterator[list[Any]]:
    batch: list[_Row] = []
    for row in stream.rows():
        batch.append(row)
        if len(batch) >= BATCH:
            yield writer.prepare(batch)
            batch = []
    if batch:
        yield writer.prepare(batch)


def _check(members: int, months: int, seed: int, activities: int | None) -> None:
    if not MIN_MEMBERS <= members <= MAX_MEMBERS:
        raise UsageError(
            f"--members {members}: give between {MIN_MEMBERS} and {MAX_MEMBERS:,} members"
        )
    if not 1 <= months <= MAX_MONTHS:
        raise UsageError(f"--months {months}: give between 1 and {MAX_MONTHS} months")
    if seed < 0:
        raise UsageError(f"--seed {seed}: the seed is a number 0 or greater")
    if activities is not None and not 1 <= activities <= MAX_ACTIVITIES:
        raise UsageError(
            f"--activities {activities}: give between 1 and {MAX_ACTIVITIES:,} activities"
        )


def _prepare_store(store: Store, replace: bool) -> None:
    """Refuse anything but an empty store or, with ``replace``, one that holds only a demo."""
    with store.session() as session:
        sources = session.execute(select(Source.name, Source.kind, Source.location, Source.options))
        found = list(sources)
        real = [
            name
            for name, kind, loc, opts in found
            if not is_demo_source(kind, loc, opts) and kind != OPS_KIND
        ]
        counts = {
            model.__tablename__: int(
                session.execute(select(func.count()).select_from(model)).scalar_one()
            )
            for model in (Identity, Member, Organization, Activity)
        }
    if real:
        raise UsageError(
            f"this workspace has real sources ({', '.join(real)}): the demo community is only "
            "seeded into an empty workspace, and nothing was changed",
            hint="Create a workspace for the demo: `commops init DIR`, then `commops -w DIR demo`.",
        )
    if found and not replace:
        raise UsageError(
            "this workspace already holds a demo community "
            f"(sources {', '.join(name for name, *_ in found)}); nothing was changed",
            hint="Seed it again with --replace (deletes everything in this workspace's "
            "database first), or create another workspace with `commops init DIR`.",
        )
    if not found and any(counts.values()):
        held = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
        raise UsageError(
            f"this workspace is not empty ({held}) although it has no source: the demo "
            "community is only seeded into an empty workspace, and nothing was changed",
            hint="Create a workspace for the demo: `commops init DIR`.",
        )
    if found:
        # Everything goes, the operations records (feedback, content, ...) about the demo's
        # people included: every table but Alembic's, children before parents.
        with store.session() as session:
            tables = MetaData()
            tables.reflect(bind=session.connection())
            for table in reversed(tables.sorted_tables):
                if table.name != "alembic_version":
                    session.execute(table.delete())


def _insert_sources(session: Session) -> dict[str, tuple[int, str]]:
    table = cast(Table, Source.__table__)
    out: dict[str, tuple[int, str]] = {}
    now = utcnow()
    for key, name, kind, location in _SOURCES:
        options: dict[str, Any] = {"demo": True}
        if kind == "git":
            options.update(branch="main", mailmap=True, channel=location.split("/", 3)[3])
        source_id = session.execute(
            insert(table).returning(table.c.id),
            {
                "name": name,
                "kind": kind,
                "location": location,
                "options": options,
                "created_at": now,
                "status": {"demo": "made by `commops demo`; not synced from anywhere"},
            },
        ).scalar_one()
        out[key] = (int(source_id), name)
    return out


def _observations(
    r: random.Random, stream: _Stream, sources: dict[str, tuple[int, str]], period: _Period
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    github_id = sources["github"][0]
    downloads_id = sources["downloads"][0]

    def add(
        source_id: int, series: str, at: datetime, kind: str, value: float, **attrs: Any
    ) -> None:
        rows.append(
            {
                "source_id": source_id,
                "series": series,
                "observed_at": at,
                "kind": kind,
                "value": float(value),
                "decreased": False,
                "attributes": attrs,
            }
        )

    # Counters as a monthly reading would have seen them: the stars and forks of the stream.
    for repo in GITHUB_REPOS:
        stars = forks = 0
        for i in range(len(period.months)):
            stars += stream.star_months[(repo, i)]
            forks += stream.fork_months[(repo, i)]
            at = (period.months[i + 1] if i + 1 < len(period.months) else period.end) - timedelta(
                seconds=1
            )
            add(github_id, f"github:{repo}:stars", at, "counter", stars, repo=repo)
            add(github_id, f"github:{repo}:forks", at, "counter", forks, repo=repo)
            add(github_id, f"github:{repo}:watchers", at, "counter", stars // 12, repo=repo)
    # Daily downloads, growing with the community, lower at weekends.
    days = (period.end - period.start).days
    pulls = 0.0
    for d in range(days):
        day = period.start + timedelta(days=d)
        growth = 1.0 + 3.0 * d / max(days, 1)
        weekend = 0.55 if day.weekday() >= 5 else 1.0
        add(
            downloads_id,
            f"pypi:{PYPI_PACKAGE}",
            day,
            "count",
            int(40 * growth * weekend * (0.7 + 0.6 * r.random())),
        )
        pulls += 300 * growth * weekend * (0.7 + 0.6 * r.random())
        if day.weekday() == 0:
            add(downloads_id, f"docker:{DOCKER_IMAGE}:pulls", day, "counter", int(pulls))
    return rows


def _summary(store: Store, seed: int, period: _Period, seconds: float, rate: float) -> DemoStats:
    with store.session() as session:
        by_kind = {
            k: int(n)
            for k, n in session.execute(
                select(Activity.kind, func.count()).group_by(Activity.kind).order_by(Activity.kind)
            )
        }
        sources = {
            name: int(n)
            for name, n in session.execute(
                select(Source.name, func.count(Activity.id))
                .outerjoin(Activity, Activity.source_id == Source.id)
                .group_by(Source.name)
                .order_by(Source.name)
            )
        }
        orgs = {
            name: int(n)
            for name, n in session.execute(
                select(Organization.name, func.count(func.distinct(Enrollment.member_id)))
                .outerjoin(Enrollment, Enrollment.organization_id == Organization.id)
                .group_by(Organization.name)
                .order_by(Organization.name)
            )
        }
        members = int(session.execute(select(func.count()).select_from(Member)).scalar_one())
        identities = int(session.execute(select(func.count()).select_from(Identity)).scalar_one())
        bots = int(
            session.execute(
                select(func.count()).select_from(Member).where(Member.is_bot.is_(True))
            ).scalar_one()
        )
        staff = int(
            session.execute(
                select(func.count()).select_from(Member).where(Member.is_staff.is_(True))
            ).scalar_one()
        )
        observations = int(
            session.execute(select(func.count()).select_from(Observation)).scalar_one()
        )
        per_member = (
            select(Identity.member_id, func.count(func.distinct(Identity.platform)).label("n"))
            .group_by(Identity.member_id)
            .subquery()
        )
        multi = int(
            session.execute(
                select(func.count()).select_from(per_member).where(per_member.c.n >= 3)
            ).scalar_one()
        )
    return DemoStats(
        members=members,
        identities=identities,
        activities=sum(by_kind.values()),
        observations=observations,
        bots=bots,
        staff=staff,
        merged=identities - members,
        by_kind=by_kind,
        sources=sources,
        organizations=orgs,
        multi_platform=multi,
        start=period.start.date(),
        end=(period.end - timedelta(days=1)).date(),
        seed=seed,
        seconds=seconds,
        rows_per_second=rate,
    )


def generate(
    ws_or_store: Workspace | Store,
    *,
    members: int = DEFAULT_MEMBERS,
    months: int = DEFAULT_MONTHS,
    seed: int = DEFAULT_SEED,
    activities: int | None = None,
    end: date = DEFAULT_END,
    replace: bool = False,
    progress: ProgressFn | None = None,
) -> DemoStats:
    """Seed an empty workspace (or store) with the demo community; see the module docstring.

    ``members`` counts everyone, the two bot accounts included; ``activities`` is the exact
    number of activity rows (default ``DEFAULT_ACTIVITIES_PER_MEMBER`` per member), spread over
    the ``months`` whole months that end with the month of ``end``. Refuses (``UsageError``, no
    change) a store that holds anything but a previous demo, and a previous demo unless
    ``replace``. With a workspace, its configuration ([bots], [staff], [organizations],
    [identity]) is used and the analytics snapshot is rebuilt; with a bare store, defaults."""
    _check(members, months, seed, activities)
    total = activities if activities is not None else members * DEFAULT_ACTIVITIES_PER_MEMBER
    ws = ws_or_store if isinstance(ws_or_store, Workspace) else None
    store = ws.store if ws is not None else cast(Store, ws_or_store)
    config = ws.config if ws is not None else Config()
    started = time.perf_counter()
    _prepare_store(store, replace)
    period = _period(end, months)
    r = random.Random(seed)
    people = _people(r, members - 2)  # the two bot accounts make up the rest

    def note(step: str, advance: int = 0, of: int | None = None) -> None:
        if progress is not None:
            progress(step, advance, of)

    note("people")
    with store.session() as session:
        sources = _insert_sources(session)
        for name, kind, domain in ORGANIZATIONS:
            ensure_organization(
                session,
                name,
                kind,
                [domain],
                extra_public=config.public_providers,
                configured=config.org_domains,
            )
        bots = _identities(session, r, people, config)
    stream = _Stream(r, seed, people, bots, sources, period, total)
    writer = _Writer(store)
    note("activities", 0, total)
    writing = time.perf_counter()
    for params in _ahead(_batches(stream, writer)):
        writer.write(params)
        note("activities", len(params), total)
    rate = stream.emitted / max(time.perf_counter() - writing, 1e-9)
    with store.session() as session:
        rows = _observations(r, stream, sources, period)
        session.execute(insert(cast(Table, Observation.__table__)), rows)
    note("who is who")
    if ws is not None:
        resolve_new_identities(ws)  # what a sync runs
    else:
        with store.session() as session:
            resolve(
                session,
                auto_merge_score=config.auto_merge_score,
                suggest_score=config.suggest_score,
            )
    with store.session() as session:
        apply_bot_flags(session, config, reason="demo community")
        affiliate(session, extra_domains=config.org_domains, extra_public=config.public_providers)
        apply_staff_flags(session, config, reason="demo community")
    snapshot = False
    if ws is not None:
        note("snapshot")
        Snapshot(ws.snapshot_dir).rebuild(store)
        snapshot = True
    stats = _summary(store, seed, period, time.perf_counter() - started, rate)
    stats.snapshot = snapshot
    return stats
