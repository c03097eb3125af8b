"""Activity and influence: OpenDigger's developer activity, community OpenRank, and engagement
levels in the spirit of the Orbit model (docs/metrics-concentration-influence.md).

Each definition is a pure function (the formula, testable by hand) plus an Ibis expression or a
small query that feeds it from the snapshot, so the same definition runs on any Ibis backend.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

import ibis
import numpy as np
import scipy.sparse as sp
from ibis.expr.types import Table

from commops.analytics.metrics import Metrics
from commops.errors import UsageError

# -- OpenDigger developer activity --------------------------------------------------------------

# OpenDigger src/metrics/indices.ts (ISSUE_COMMENT_WEIGHT ... PULL_MERGED_WEIGHT).
ACTIVITY_WEIGHTS: dict[str, float] = {
    "issue_comment": 0.5252,
    "open_issue": 2.2235,
    "open_pull": 4.0679,
    "review_comment": 0.7427,
    "merged_pull": 2.0339,
}

# Which activity kinds are which OpenDigger event. GitHub's issue comments include the
# conversation comments of pull requests (as IssueCommentEvent does); Gitee's PR comments
# (diff and conversation alike: the snapshot cannot tell them apart) count as review comments.
ACTIVITY_KINDS: dict[str, str] = {
    "github:issue_comment": "issue_comment",
    "gitee:issue_comment": "issue_comment",
    "github:issue_opened": "open_issue",
    "gitee:issue_opened": "open_issue",
    "github:pr_opened": "open_pull",
    "gitee:pr_opened": "open_pull",
    "github:review_comment": "review_comment",
    "gitee:pr_comment": "review_comment",
    "github:pr_merged": "merged_pull",
    "gitee:pr_merged": "merged_pull",
}
PR_OPENED_KINDS = ("github:pr_opened", "gitee:pr_opened")
PR_MERGED_KINDS = ("github:pr_merged", "gitee:pr_merged")
COUNTS = tuple(ACTIVITY_WEIGHTS)


def developer_activity(
    *,
    issue_comment: int = 0,
    open_issue: int = 0,
    open_pull: int = 0,
    review_comment: int = 0,
    merged_pull: int = 0,
) -> float:
    """OpenDigger developer activity of one developer in one repository and month:
    ``sqrt(0.5252*issue_comment + 2.2235*open_issue + 4.0679*open_pull + 0.7427*review_comment
    + 2.0339*merged_pull)``. One issue comment: 0.7247; a PR opened and merged: 2.4702."""
    counts = {
        "issue_comment": issue_comment,
        "open_issue": open_issue,
        "open_pull": open_pull,
        "review_comment": review_comment,
        "merged_pull": merged_pull,
    }
    for name, n in counts.items():
        if n < 0:
            raise UsageError(f"{name}: {n} is negative; counts are 0 or more")
    return math.sqrt(sum(ACTIVITY_WEIGHTS[k] * n for k, n in counts.items()))


def _with_sources(metrics: Metrics, a: Table) -> Table:
    if not metrics.params.sources:
        return a
    s = metrics.engine.sources
    keep = s.filter(s.source.isin(list(metrics.params.sources))).select("source_id")
    return a.semi_join(keep, "source_id")


def credited_events(metrics: Metrics) -> Table:
    """The activities the formula reads, one row each, with the member credited: the actor,
    except for a merged pull request, credited to its author (the activity's object identity;
    without one, the actor of the PR's opening activity in the same source, repository and
    number; without either the merge is left out). Bots and staff are dropped by the credited
    member's flags, as the parameters say. Columns: id, occurred_at, source_id, channel, target,
    event (issue_comment ... merged_pull), member_id, display_name."""
    a = _with_sources(metrics, metrics.engine.raw_activities)
    a = a.filter(a.kind.isin(list(ACTIVITY_KINDS)))
    o = a.filter(a.kind.isin(list(PR_OPENED_KINDS)))
    opened = o.group_by(
        [o.source_id.name("o_source"), o.channel.name("o_channel"), o.target.name("o_target")]
    ).aggregate(opener=o.actor_identity_id.argmin(o.occurred_at))
    j = a.left_join(
        opened,
        [
            a.source_id == opened.o_source,
            a.channel == opened.o_channel,
            a.target == opened.o_target,
        ],
    )
    merged = j.kind.isin(list(PR_MERGED_KINDS))
    j = j.select(
        j.id,
        j.occurred_at,
        j.source_id,
        j.channel,
        j.target,
        event=j.kind.substitute(ACTIVITY_KINDS),
        credited=ibis.ifelse(merged, j.object_identity_id.coalesce(j.opener), j.actor_identity_id),
    ).view()  # a projection of a join cannot be joined on a computed column without a view
    i = metrics.engine.identities.select(
        "identity_id", "member_id", "display_name", "is_bot", "is_staff", "member_tags"
    )
    t = j.join(i, [("credited", "identity_id")]).drop("credited")
    t = metrics.cut(metrics.drop_people(t))  # channels, organisations, tags of the credited
    return metrics.in_range(t, "occurred_at").drop("is_bot", "is_staff", "member_tags")


def activity_counts(metrics: Metrics) -> Table:
    """One row per (period, channel, member_id): the five counts and ``activity``. Openings and
    merges count distinct items (source, number), comments count activities, as OpenDigger's
    ``uniqExact`` over issue ids and comment ids does. OpenDigger's periods are months (the
    default); a longer period applies the square root to the whole period's counts."""
    t = credited_events(metrics)
    item = t.source_id.cast("string") + "/" + t.target.fill_null("")
    aggs: dict[str, Any] = {}
    for name in COUNTS:
        hit = t.event == name
        if name in ("open_issue", "open_pull", "merged_pull"):
            aggs[name] = ibis.ifelse(hit, item, ibis.null()).nunique()
        else:
            aggs[name] = hit.sum()
    g = t.group_by([metrics.bucket(t, "occurred_at"), t.channel, t.member_id]).aggregate(
        display_name=t.display_name.min(), **aggs
    )
    score = sum((ACTIVITY_WEIGHTS[k] * g[k].fill_null(0) for k in COUNTS), ibis.literal(0.0))
    return g.mutate(activity=score.sqrt())


def developer_activity_rows(metrics: Metrics) -> list[dict[str, Any]]:
    """``activity_counts`` as rows, sorted by period, channel, activity (highest first)."""
    rows: list[dict[str, Any]] = activity_counts(metrics).to_pyarrow().to_pylist()
    for r in rows:
        for k in COUNTS:
            r[k] = int(r[k] or 0)
    rows.sort(key=lambda r: (r["period"], r["channel"] or "", -r["activity"], r["member_id"]))
    return rows


def repository_activity(metrics: Metrics) -> dict[tuple[date, str], float]:
    """OpenDigger repository activity: the sum of its developers' activity, per period."""
    t = activity_counts(metrics)
    g = t.group_by([t.period, t.channel]).aggregate(activity=t.activity.sum())
    return {(r["period"], r["channel"]): r["activity"] for r in g.to_pyarrow().to_pylist()}


# -- community OpenRank -------------------------------------------------------------------------

Action = Literal["open", "comment", "review", "close"]

# What each kind is on the developer–issue/PR graph; the actor is the developer.
OPENRANK_KINDS: dict[str, Action] = {
    "github:issue_opened": "open",
    "gitee:issue_opened": "open",
    "github:pr_opened": "open",
    "gitee:pr_opened": "open",
    "github:issue_comment": "comment",
    "gitee:issue_comment": "comment",
    "github:review_comment": "comment",
    "gitee:pr_comment": "comment",
    "github:review": "review",
    "github:issue_closed": "close",
    "gitee:issue_closed": "close",
    "github:pr_closed": "close",
    "gitee:pr_closed": "close",
    "github:pr_merged": "close",
    "gitee:pr_merged": "close",
}
PR_KINDS = frozenset(
    {
        "github:pr_opened",
        "gitee:pr_opened",
        "github:pr_closed",
        "gitee:pr_closed",
        "github:pr_merged",
        "gitee:pr_merged",
        "github:review",
        "github:review_comment",
        "gitee:pr_comment",
    }
)


@dataclass(frozen=True)
class ItemActivity:
    """One edge of the graph: ``developer`` did ``action`` on the issue or PR ``item`` of
    ``repo``."""

    developer: Hashable
    item: Hashable
    repo: str
    action: Action
    is_pr: bool = False
    merged: bool = False


@dataclass(frozen=True)
class OpenRankParams:
    """The parameters of OpenDigger's project (community) OpenRank, with its published values."""

    developer_init: float = 1.0
    repo_init: float = 1.0
    issue_init: float = 2.0
    pr_init: float = 3.0
    merged_pr_init: float = 5.0
    developer_retention: float = 0.15
    repo_retention: float = 0.15
    item_retention: float = 0.8
    item_to_repo: float = 0.1
    open_ratio: float = 0.5
    weights: Mapping[str, float] = field(
        default_factory=lambda: {"open": 2.0, "comment": 1.0, "review": 1.0, "close": 2.0}
    )
    tolerance: float = 1e-9
    max_iterations: int = 1000

    def __post_init__(self) -> None:
        for name in ("developer_init", "repo_init", "issue_init", "pr_init", "merged_pr_init"):
            if getattr(self, name) < 0:
                raise UsageError(f"{name} {getattr(self, name)!r}: must be 0 or more")
        for name in ("developer_retention", "repo_retention", "item_retention"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise UsageError(f"{name} {value!r}: must be more than 0 and at most 1")
        for name in ("item_to_repo", "open_ratio"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise UsageError(f"{name} {value!r}: must be between 0 and 1")
        if set(self.weights) != {"open", "comment", "review", "close"} or any(
            w <= 0 for w in self.weights.values()
        ):
            raise UsageError(
                f"weights {dict(self.weights)!r}: need open, comment, review and close, each > 0"
            )
        if self.tolerance <= 0 or self.max_iterations < 1:
            raise UsageError("tolerance must be > 0 and max_iterations at least 1")


@dataclass
class OpenRankResult:
    developers: dict[Hashable, float]
    items: dict[Hashable, float]
    repos: dict[str, float]
    iterations: int
    converged: bool

    @property
    def total(self) -> float:
        return sum(self.developers.values()) + sum(self.items.values()) + sum(self.repos.values())


def community_openrank(
    edges: Iterable[ItemActivity], params: OpenRankParams | None = None
) -> OpenRankResult:
    """OpenRank on the graph of developers, issues/PRs and repositories.

    Each node has an initial value ``i`` and a retention ``a``; every node hands its whole
    value to its neighbours each round (the transfer matrix ``P`` is column-stochastic):

    - a developer to the issues/PRs it acted on, in proportion to its action weights there;
    - an issue/PR ``item_to_repo`` to its repository and the rest to its developers: the
      author (who opened it, when the opening is in the data) first receives ``open_ratio`` of
      that rest, then the remainder is split among all its developers (author included) in
      proportion to their action weights;
    - a repository to its issues/PRs, equally.

    ``r <- a*i + (1-a) * (P r)`` from ``r = i`` until no value moves by ``tolerance`` or more.
    Values are non-negative; with one retention for every node, they sum to the sum of the
    initial values. Nodes are ordered by ``repr`` so the result does not depend on edge order."""
    p = params or OpenRankParams()
    weight: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    item_repo: dict[Hashable, str] = {}
    item_kind: dict[Hashable, tuple[bool, bool]] = {}
    authors: dict[Hashable, set[Hashable]] = defaultdict(set)
    for e in edges:
        if e.action not in p.weights:
            raise UsageError(f"action {e.action!r}: use one of open, comment, review, close")
        repo = item_repo.setdefault(e.item, e.repo)
        if repo != e.repo:
            raise UsageError(f"item {e.item!r} is in two repositories: {repo!r} and {e.repo!r}")
        pr, merged = item_kind.get(e.item, (False, False))
        item_kind[e.item] = (pr or e.is_pr or e.merged, merged or e.merged)
        weight[(e.developer, e.item)] += p.weights[e.action]
        if e.action == "open":
            authors[e.item].add(e.developer)
    if not weight:
        return OpenRankResult({}, {}, {}, 0, True)

    def order(xs: Iterable[Any]) -> list[Any]:
        return sorted(set(xs), key=lambda x: (type(x).__name__, repr(x)))

    devs = order(d for d, _ in weight)
    items = order(item_repo)
    repos = order(item_repo.values())
    index: dict[tuple[str, Any], int] = {}
    for kind, names in (("d", devs), ("i", items), ("r", repos)):
        for name in names:
            index[(kind, name)] = len(index)
    n = len(index)

    init = np.zeros(n)
    keep = np.zeros(n)
    for d in devs:
        init[index[("d", d)]], keep[index[("d", d)]] = p.developer_init, p.developer_retention
    for r in repos:
        init[index[("r", r)]], keep[index[("r", r)]] = p.repo_init, p.repo_retention
    for it in items:
        pr, merged = item_kind[it]
        value = p.merged_pr_init if merged else p.pr_init if pr else p.issue_init
        init[index[("i", it)]], keep[index[("i", it)]] = value, p.item_retention

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []

    def give(src: int, dst: int, share: float) -> None:
        if share > 0:
            rows.append(dst)
            cols.append(src)
            vals.append(share)

    by_dev: dict[Hashable, float] = defaultdict(float)
    by_item: dict[Hashable, float] = defaultdict(float)
    for (d, it), w in weight.items():
        by_dev[d] += w
        by_item[it] += w
    repo_items: dict[str, list[Hashable]] = defaultdict(list)
    for it in items:
        repo_items[item_repo[it]].append(it)
    for (d, it), w in sorted(weight.items(), key=lambda kv: (repr(kv[0][0]), repr(kv[0][1]))):
        di, ii = index[("d", d)], index[("i", it)]
        give(di, ii, w / by_dev[d])
        rest = 1.0 - p.item_to_repo
        author = authors.get(it, set())
        first = p.open_ratio * rest / len(author) if d in author else 0.0
        spread = (1.0 - p.open_ratio) * rest if author else rest
        give(ii, di, first + spread * w / by_item[it])
    for r, its in repo_items.items():
        ri = index[("r", r)]
        for it in its:
            give(index[("i", it)], ri, p.item_to_repo)
            give(ri, index[("i", it)], 1.0 / len(its))
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))

    base = keep * init
    flow = 1.0 - keep
    r = init.copy()
    converged = False
    iterations = 0
    for iterations in range(1, p.max_iterations + 1):  # noqa: B007 (read after the loop)
        nxt = base + flow * (matrix @ r)
        delta = float(np.max(np.abs(nxt - r)))
        r = nxt
        if delta < p.tolerance:
            converged = True
            break
    return OpenRankResult(
        {d: float(r[index[("d", d)]]) for d in devs},
        {it: float(r[index[("i", it)]]) for it in items},
        {rp: float(r[index[("r", rp)]]) for rp in repos},
        iterations,
        converged,
    )


def openrank_edges(metrics: Metrics) -> dict[date, list[ItemActivity]]:
    """Each period's graph edges from the snapshot: items are (source_id, channel, target); an
    item is a PR when any PR kind (opened, merged, closed, review, review comment) names it, and
    merged in a period when it was merged before the period's end. Bots and staff are left out
    as the parameters say (OpenDigger leaves bots out of OpenRank)."""
    b = metrics.base()
    a = b.filter(b.kind.isin(list(OPENRANK_KINDS)) & b.target.notnull())
    whole = a.group_by([a.source_id, a.channel, a.target]).aggregate(
        is_pr=a.kind.isin(list(PR_KINDS)).any(),
        merged_at=ibis.ifelse(a.kind.isin(list(PR_MERGED_KINDS)), a.occurred_at, ibis.null())
        .cast("timestamp")
        .min(),
    )
    t = metrics.in_range(a, "occurred_at")
    t = t.select(
        metrics.bucket(t, "occurred_at"), t.source_id, t.channel, t.target, t.kind, t.member_id
    )
    t = t.join(whole, ["source_id", "channel", "target"])
    out: dict[date, list[ItemActivity]] = defaultdict(list)
    for row in t.to_pyarrow().to_pylist():
        period: date = row["period"]
        end = datetime.combine(metrics._next(period), datetime.min.time())
        merged = row["merged_at"] is not None and row["merged_at"] < end
        out[period].append(
            ItemActivity(
                developer=row["member_id"],
                item=(row["source_id"], row["channel"], row["target"]),
                repo=str(row["channel"]),
                action=OPENRANK_KINDS[row["kind"]],
                is_pr=bool(row["is_pr"]),
                merged=merged,
            )
        )
    return dict(out)


def community_openrank_series(
    metrics: Metrics, params: OpenRankParams | None = None
) -> dict[date, dict[int, float]]:
    """Each period's developers' OpenRank (member id -> value), each period computed on its
    own graph from the initial values."""
    return {
        period: {
            int(cast(int, d)): v for d, v in community_openrank(edges, params).developers.items()
        }
        for period, edges in sorted(openrank_edges(metrics).items())
    }


# -- engagement levels (Orbit) ------------------------------------------------------------------

REVIEWS = ("month", "quarter", "year")

# Level: (minimum recency-weighted score, minimum active months in the window). Level 1 is the
# innermost orbit (Orbit's "ambassadors"), level 4 everyone else with an activity.
DEFAULT_LEVELS: tuple[tuple[int, float, int], ...] = ((1, 40.0, 6), (2, 15.0, 3), (3, 4.0, 1))

# Weight of an activity by its contribution type; activities without one (a star, a comment)
# weigh ``DEFAULT_UNTYPED_WEIGHT``, a type not listed ``DEFAULT_TYPED_WEIGHT``.
ENGAGEMENT_WEIGHTS: dict[str, float] = {
    "code": 3.0,
    "review": 2.0,
    "maintenance": 2.0,
    "doc": 2.0,
    "talk": 4.0,
    "eventOrganizing": 4.0,
    "mentoring": 3.0,
    "answer": 2.0,
    "question": 1.0,
    "bug": 1.0,
    "ideas": 1.0,
}
DEFAULT_TYPED_WEIGHT = 1.0
DEFAULT_UNTYPED_WEIGHT = 0.5


@dataclass(frozen=True)
class LevelChange:
    on: date
    level: int
    reason: Literal["joined", "promoted", "demoted"]


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _period_start(d: date, every: str) -> date:
    if every == "month":
        return d.replace(day=1)
    if every == "quarter":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return d.replace(month=1, day=1)


def _period_next(d: date, every: str) -> date:
    months = {"month": 1, "quarter": 3, "year": 12}[every]
    m = d.month - 1 + months
    return d.replace(year=d.year + m // 12, month=m % 12 + 1, day=1)


def engagement_score(
    activities: Sequence[tuple[date | datetime, float]],
    on: date,
    *,
    half_life_days: float = 90.0,
    window_days: int = 365,
) -> tuple[float, int]:
    """Recency and frequency on the day ``on``: the sum of the weights of the activities of the
    last ``window_days`` days (``on`` included), each halved every ``half_life_days`` days of
    age, and the number of distinct calendar months with an activity in that window."""
    score = 0.0
    months: set[tuple[int, int]] = set()
    for when, w in activities:
        d = _day(when)
        age = (on - d).days
        if 0 <= age < window_days:
            score += w * 0.5 ** (age / half_life_days)
            months.add((d.year, d.month))
    return score, len(months)


def raw_level(
    score: float, active_months: int, levels: Sequence[tuple[int, float, int]] = DEFAULT_LEVELS
) -> int:
    for level, min_score, min_months in levels:
        if score >= min_score and active_months >= min_months:
            return level
    return 4


def engagement_levels(
    activities: Sequence[tuple[date | datetime, float]],
    until: date,
    *,
    review_every: str = "quarter",
    half_life_days: float = 90.0,
    window_days: int = 365,
    levels: Sequence[tuple[int, float, int]] = DEFAULT_LEVELS,
) -> list[LevelChange]:
    """A member's level over time, as the list of changes up to ``until``.

    The member joins at level 4 (or better) on the day of the first activity. On the day of
    each activity the level is recomputed and kept if better (promote at once: level 1 is the
    best); at each review (the first day of every ``review_every`` period after joining) it is
    set to the level of that day, better or worse (demote only at a review). A review that
    changes nothing is not listed."""
    if review_every not in REVIEWS:
        raise UsageError(f"review_every {review_every!r}: use one of {', '.join(REVIEWS)}")
    if half_life_days <= 0 or window_days < 1:
        raise UsageError("half_life_days must be > 0 and window_days at least 1")
    for a in activities:
        if a[1] < 0:
            raise UsageError(f"activity weight {a[1]!r} on {_day(a[0])}: weights are 0 or more")
    acts = sorted(((_day(w), float(x)) for w, x in activities if _day(w) <= until))
    if not acts:
        return []

    def level_on(d: date) -> int:
        s, m = engagement_score(acts, d, half_life_days=half_life_days, window_days=window_days)
        return raw_level(s, m, levels)

    first = acts[0][0]
    changes = [LevelChange(first, level_on(first), "joined")]
    current = changes[0].level
    days = {d for d, _ in acts if d > first}
    review = _period_next(_period_start(first, review_every), review_every)
    reviews: set[date] = set()
    while review <= until:
        reviews.add(review)
        review = _period_next(review, review_every)
    for d in sorted(days | reviews):
        new = level_on(d)
        if d in reviews and new != current:
            changes.append(LevelChange(d, new, "promoted" if new < current else "demoted"))
            current = new
        elif new < current:
            changes.append(LevelChange(d, new, "promoted"))
            current = new
    return changes


def level_on(changes: Sequence[LevelChange], day: date) -> int | None:
    """The level on ``day`` (None before the member's first activity)."""
    level = None
    for c in changes:
        if c.on > day:
            break
        level = c.level
    return level


def engagement_weight(contribution_type: str | None) -> float:
    if contribution_type is None:
        return DEFAULT_UNTYPED_WEIGHT
    return ENGAGEMENT_WEIGHTS.get(contribution_type, DEFAULT_TYPED_WEIGHT)


def member_engagement(
    metrics: Metrics,
    until: date,
    *,
    review_every: str = "quarter",
    half_life_days: float = 90.0,
    window_days: int = 365,
    levels: Sequence[tuple[int, float, int]] = DEFAULT_LEVELS,
) -> dict[int, list[LevelChange]]:
    """Every member's level changes up to ``until``, from their activities of every kind in the
    selected sources (bots and staff left out as the parameters say), weighted by contribution
    type (``ENGAGEMENT_WEIGHTS``)."""
    b = metrics.base()
    end = datetime.combine(until + timedelta(days=1), datetime.min.time())
    b = b.filter(b.occurred_at < ibis.timestamp(end))
    g = b.group_by([b.member_id, b.occurred_at.cast("date").name("day"), b.contribution_type])
    rows = g.aggregate(n=b.count()).to_pyarrow().to_pylist()
    per: dict[int, list[tuple[date | datetime, float]]] = defaultdict(list)
    for r in rows:
        per[int(r["member_id"])].append(
            (r["day"], engagement_weight(r["contribution_type"]) * r["n"])
        )
    return {
        m: engagement_levels(
            acts,
            until,
            review_every=review_every,
            half_life_days=half_life_days,
            window_days=window_days,
            levels=levels,
        )
        for m, acts in sorted(per.items())
    }
