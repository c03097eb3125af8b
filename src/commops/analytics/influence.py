"""Activity and influence: OpenDigger's developer activity, community OpenRank, and engagement
levels in the spirit of the Orbit model (docs/metrics-concentration-influence.md).

Each definition is a pure function (the formula, testable by hand) plus an Ibis expression or a
small query that feeds it from the snapshot, so the same definition runs on any Ibis backend.
Over a snapshot, OpenRank and the engagement levels are computed for every period and member at
once with arrays (numpy, scipy): the same values as the pure functions give one at a time, to
the last bit (tests/test_influence.py holds them to it), in seconds on millions of activities.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from ibis.expr.types import Table
from numpy.typing import NDArray

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
EPOCH = date(1970, 1, 1)


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
    return _credited(metrics, list(ACTIVITY_KINDS)).drop("identity_id")


def _credited(metrics: Metrics, kinds: list[str]) -> Table:
    """``credited_events`` of these kinds, with the credited identity (``identity_id``)."""
    a = _with_sources(metrics, metrics.engine.raw_activities)
    a = a.filter(a.kind.isin(list(ACTIVITY_KINDS)))
    o = a.filter(a.kind.isin(list(PR_OPENED_KINDS)) & a.item.notnull())
    opened = o.group_by(o.item.name("o_item")).aggregate(
        opener=o.actor_identity_id.argmin(o.occurred_at)
    )
    a = a.filter(a.kind.isin(kinds))
    j = a.left_join(opened, a.item == opened.o_item)
    merged = j.kind.isin(list(PR_MERGED_KINDS))
    j = j.select(
        j.id,
        j.occurred_at,
        j.source_id,
        j.channel,
        j.target,
        j.item,
        event=j.kind.substitute(ACTIVITY_KINDS),
        credited=ibis.ifelse(merged, j.object_identity_id.coalesce(j.opener), j.actor_identity_id),
    ).view()  # a projection of a join cannot be joined on a computed column without a view
    i = metrics.engine.identities.select(
        "identity_id", "member_id", "display_name", "is_bot", "is_staff", "member_tags"
    )
    t = j.join(i, j.credited == i.identity_id).drop("credited")
    t = metrics.cut(metrics.drop_people(t))  # channels, organisations, tags of the credited
    return metrics.in_range(t, "occurred_at").drop("is_bot", "is_staff", "member_tags")


def _credited_merges(metrics: Metrics) -> Table:
    """``credited_events``'s merges, with the credited identity (``identity_id``). Without a
    tag or organisation cut they are read from ``Metrics.base`` (kept in the engine): it holds
    every activity of the selected sources then (the channel cut takes a PR's opening away with
    its merge), so the openings and merges are the same as in the snapshot's activities."""
    p = metrics.params
    if p.tags or p.organizations:
        return _credited(metrics, list(PR_MERGED_KINDS))
    a = metrics.base(drop_people=False)
    o = a.filter(a.kind.isin(list(PR_OPENED_KINDS)) & a.item.notnull())
    opened = o.group_by(o.item.name("o_item")).aggregate(
        opener=o.actor_identity_id.argmin(o.occurred_at)
    )
    m = metrics.in_range(a.filter(a.kind.isin(list(PR_MERGED_KINDS))), "occurred_at")
    j = m.left_join(opened, m.item == opened.o_item)
    j = j.select(
        j.occurred_at,
        j.source_id,
        j.channel,
        j.target,
        j.item,
        event=j.kind.substitute(ACTIVITY_KINDS),
        credited=j.object_identity_id.coalesce(j.opener),
    ).view()
    i = metrics.engine.identities.select("identity_id", "member_id", "is_bot", "is_staff")
    t = j.join(i, j.credited == i.identity_id).drop("credited")
    return metrics.drop_people(t).drop("is_bot", "is_staff")


DISTINCT_COUNTS = ("open_issue", "open_pull", "merged_pull")


def activity_counts(metrics: Metrics) -> Table:
    """One row per (period, channel, member_id): the five counts and ``activity``. Openings and
    merges count distinct items (source, number), comments count activities, as OpenDigger's
    ``uniqExact`` over issue ids and comment ids does. OpenDigger's periods are months (the
    default); a longer period applies the square root to the whole period's counts.

    The same rows as from ``credited_events``: an activity other than a merge is credited to
    its actor, so it is one of ``Metrics.base``'s rows; only the merges are credited anew."""
    b = metrics.in_range(metrics.base(), "occurred_at")
    direct = b.filter(b.kind.isin([k for k in ACTIVITY_KINDS if k not in PR_MERGED_KINDS]))
    direct = direct.select(
        "occurred_at",
        "source_id",
        "channel",
        "target",
        "item",
        event=direct.kind.substitute(ACTIVITY_KINDS),
        member_id=direct.member_id,
    )
    merges = _credited_merges(metrics).select(*direct.columns)
    t = direct.union(merges, distinct=False)
    distinct = t.event.isin(list(DISTINCT_COUNTS))
    t = t.select(
        metrics.bucket(t, "occurred_at"),
        t.channel,
        t.member_id,
        t.event,
        # The item (the snapshot's key of source, channel, number) for the counts of distinct
        # items; comments are counted.
        item=ibis.ifelse(distinct, t.item, ibis.null()),
    )
    # Distinct items without COUNT(DISTINCT ...): one row per item first, then rows counted.
    keys = ["period", "channel", "member_id", "event"]
    once = t.group_by([*keys, "item"]).aggregate(n=t.count())
    aggs: dict[str, Any] = {}
    for name in COUNTS:
        hit = once.event == name
        if name in DISTINCT_COUNTS:
            aggs[name] = hit.cast("int64").sum()
        else:
            aggs[name] = ibis.ifelse(hit, once.n, 0).sum()
    per = once.group_by(keys[:3]).aggregate(**aggs)
    # The member's name (every identity of a member carries the member's display name).
    i = metrics.engine.identities
    names = i.group_by(i.member_id.name("name_of")).aggregate(display_name=i.display_name.min())
    per = per.left_join(names, per.member_id == names.name_of).drop("name_of")
    g = per.select(
        "period",
        "channel",
        "member_id",
        "display_name",
        **{k: per[k].cast("int64") for k in COUNTS},
    )
    score = sum((ACTIVITY_WEIGHTS[k] * g[k].fill_null(0) for k in COUNTS), ibis.literal(0.0))
    return g.mutate(activity=score.sqrt())


def _dates(column: pa.ChunkedArray) -> list[date | None]:
    """A column of a few distinct dates as Python dates, each made once (Arrow makes one object
    per row, slowly)."""
    codes = pc.dictionary_encode(column.combine_chunks())
    values: list[date | None] = [*codes.dictionary.to_pylist(), None]
    missing = len(values) - 1
    return [values[k] for k in codes.indices.fill_null(missing).to_pylist()]


def _activity_table(metrics: Metrics) -> pa.Table:
    """``activity_counts`` computed once per ``Metrics`` (developer and repository activity
    both read it)."""
    table: pa.Table = metrics.memo(
        "influence.activity_counts", lambda: metrics.fetch(activity_counts(metrics))
    )
    return table


def developer_activity_rows(metrics: Metrics, *, digits: int | None = None) -> list[dict[str, Any]]:
    """``activity_counts`` as rows, sorted by period, channel, activity (highest first), then
    member id; each row's keys: period, channel, member_id, display_name, activity (rounded to
    ``digits`` when given) and the five counts."""
    t = _activity_table(metrics)
    channel = pc.fill_null(t["channel"], "")
    idx = pc.sort_indices(
        pa.table({"p": t["period"], "c": channel, "a": t["activity"], "m": t["member_id"]}),
        sort_keys=[("p", "ascending"), ("c", "ascending"), ("a", "descending"), ("m", "ascending")],
    )
    t = t.take(idx)
    activity = t["activity"].to_pylist()
    if digits is not None:
        activity = [round(a, digits) for a in activity]
    return [
        {
            "period": p,
            "channel": c,
            "member_id": m,
            "display_name": d,
            "activity": a,
            "issue_comment": n1,
            "open_issue": n2,
            "open_pull": n3,
            "review_comment": n4,
            "merged_pull": n5,
        }
        for p, c, m, d, a, n1, n2, n3, n4, n5 in zip(
            _dates(t["period"]),
            *(t[k].to_pylist() for k in ("channel", "member_id", "display_name")),
            activity,
            *(t[k].to_pylist() for k in COUNTS),
            strict=True,
        )
    ]


def repository_activity(metrics: Metrics) -> dict[tuple[date, str], float]:
    """OpenDigger repository activity: the sum of its developers' activity, per period."""
    t = _activity_table(metrics)
    g = t.group_by(["period", "channel"], use_threads=False).aggregate([("activity", "sum")])
    return {
        (p, c): v
        for p, c, v in zip(
            g["period"].to_pylist(),
            g["channel"].to_pylist(),
            g["activity_sum"].to_pylist(),
            strict=True,
        )
    }


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


def _openrank(
    dev: NDArray[np.intp],
    item: NDArray[np.intp],
    weight: NDArray[np.float64],
    author: NDArray[np.bool_],
    item_repo: NDArray[np.intp],
    item_init: NDArray[np.float64],
    n_dev: int,
    n_repo: int,
    p: OpenRankParams,
) -> tuple[NDArray[np.float64], int, bool]:
    """OpenRank on one graph given as arrays: one entry per (developer, item) pair (``dev`` and
    ``item`` are node indices in the nodes' order, ``weight`` the sum of the action weights,
    ``author`` whether the developer opened the item); per item its repository index and
    initial value. The values of the developers, then the items, then the repositories."""
    n_item = len(item_repo)
    n = n_dev + n_item + n_repo
    item_node = item + n_dev
    dev_node = dev
    by_dev = np.bincount(dev, weights=weight, minlength=n_dev)
    by_item = np.bincount(item, weights=weight, minlength=n_item)
    n_authors = np.bincount(item, weights=author, minlength=n_item)
    rest = 1.0 - p.item_to_repo
    has_author = n_authors[item] > 0
    first = np.zeros(len(item))
    first[author] = p.open_ratio * rest / n_authors[item[author]]
    spread = np.where(has_author, (1.0 - p.open_ratio) * rest, rest)
    to_item = weight / by_dev[dev]
    to_dev = first + spread * weight / by_item[item]
    items = np.arange(n_item)
    repo_node = item_repo + n_dev + n_item
    per_repo = np.bincount(item_repo, minlength=n_repo).astype(np.float64)
    to_repo = np.full(n_item, p.item_to_repo)
    from_repo = 1.0 / per_repo[item_repo]
    rows = np.concatenate([item_node, dev_node, repo_node, items + n_dev])
    cols = np.concatenate([dev_node, item_node, items + n_dev, repo_node])
    vals = np.concatenate([to_item, to_dev, to_repo, from_repo])
    given = vals > 0
    matrix = sp.csr_matrix((vals[given], (rows[given], cols[given])), shape=(n, n))

    init = np.concatenate(
        [np.full(n_dev, p.developer_init), item_init, np.full(n_repo, p.repo_init)]
    )
    keep = np.concatenate(
        [
            np.full(n_dev, p.developer_retention),
            np.full(n_item, p.item_retention),
            np.full(n_repo, p.repo_retention),
        ]
    )
    base = keep * init
    flow = 1.0 - keep
    r = init.copy()
    converged = False
    iterations = 0
    for iterations in range(1, p.max_iterations + 1):  # noqa: B007 (read after the loop)
        nxt = matrix @ r  # then base + flow * (P r), in place (the same operations)
        nxt *= flow
        nxt += base
        moved = nxt - r
        delta = float(np.abs(moved, out=moved).max())
        r = nxt
        if delta < p.tolerance:
            converged = True
            break
    return r, iterations, converged


def _item_init(
    is_pr: NDArray[np.bool_], merged: NDArray[np.bool_], p: OpenRankParams
) -> NDArray[np.float64]:
    return np.where(merged, p.merged_pr_init, np.where(is_pr, p.pr_init, p.issue_init))


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
    authors: set[tuple[Hashable, Hashable]] = set()
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
            authors.add((e.developer, e.item))
    if not weight:
        return OpenRankResult({}, {}, {}, 0, True)

    def order(xs: Iterable[Any]) -> list[Any]:
        return sorted(set(xs), key=lambda x: (type(x).__name__, repr(x)))

    devs = order(d for d, _ in weight)
    items = order(item_repo)
    repos = order(item_repo.values())
    dev_index = {d: k for k, d in enumerate(devs)}
    item_index = {it: k for k, it in enumerate(items)}
    repo_index = {rp: k for k, rp in enumerate(repos)}
    pairs = list(weight)
    kinds = [item_kind[it] for it in items]
    values, iterations, converged = _openrank(
        np.array([dev_index[d] for d, _ in pairs], dtype=np.intp),
        np.array([item_index[it] for _, it in pairs], dtype=np.intp),
        np.array([weight[pair] for pair in pairs], dtype=np.float64),
        np.array([pair in authors for pair in pairs], dtype=np.bool_),
        np.array([repo_index[item_repo[it]] for it in items], dtype=np.intp),
        _item_init(
            np.array([k[0] for k in kinds], dtype=np.bool_),
            np.array([k[1] for k in kinds], dtype=np.bool_),
            p,
        ),
        len(devs),
        len(repos),
        p,
    )
    at = len(devs) + len(items)
    return OpenRankResult(
        {d: float(values[k]) for k, d in enumerate(devs)},
        {it: float(values[len(devs) + k]) for k, it in enumerate(items)},
        {rp: float(values[at + k]) for k, rp in enumerate(repos)},
        iterations,
        converged,
    )


def _openrank_activities(metrics: Metrics) -> Table:
    """The activities on the graph: bots and staff left out as the parameters say, on an issue
    or PR (a target) of a channel. (Items without a channel are left out, as the join of edges
    and items on source, channel and target always did: equality never holds between nulls.)"""
    b = metrics.base()
    return b.filter(b.kind.isin(list(OPENRANK_KINDS)) & b.target.notnull() & b.channel.notnull())


def _openrank_items(metrics: Metrics) -> Table:
    """One row per issue or PR (the snapshot's ``item`` key) with its source_id, channel and
    target, whether it is a PR (a PR kind names it) and the period it was first merged in."""
    a = _openrank_activities(metrics)
    whole = a.group_by(a.item).aggregate(
        source_id=a.source_id.arbitrary(),  # (one item: one source, channel and target)
        channel=a.channel.arbitrary(),
        target=a.target.arbitrary(),
        is_pr=a.kind.isin(list(PR_KINDS)).any(),
        merged_at=ibis.ifelse(a.kind.isin(list(PR_MERGED_KINDS)), a.occurred_at, ibis.null())
        .cast("timestamp")
        .min(),
    )
    return whole.select(
        "item",
        "source_id",
        "channel",
        "target",
        "is_pr",
        metrics.bucket(whole, "merged_at").name("merged"),
    )


def _openrank_edges(metrics: Metrics, weights: Mapping[str, float]) -> Table:
    """One row per (period, item, member): the weight of the member's actions on the item in
    the period (each open, comment, review and close weighs its ``weights``) and whether the
    member opened it."""
    a = metrics.in_range(_openrank_activities(metrics), "occurred_at")
    weight = a.kind.substitute(
        {kind: float(weights[action]) for kind, action in OPENRANK_KINDS.items()}, else_=0.0
    )
    opens = [kind for kind, action in OPENRANK_KINDS.items() if action == "open"]
    return a.group_by([metrics.bucket(a, "occurred_at"), a.item, a.member_id]).aggregate(
        weight=weight.sum(), author=a.kind.isin(opens).any()
    )


def _openrank_query(metrics: Metrics, weights: Mapping[str, float]) -> tuple[pa.Table, pa.Table]:
    """``_openrank_items`` and ``_openrank_edges``."""
    return metrics.fetch(_openrank_items(metrics)), metrics.fetch(_openrank_edges(metrics, weights))


def _repr_ranks(values: Sequence[Any]) -> NDArray[np.int64]:
    """Each value's rank in the order of ``repr``, equal values equal ranks (few values:
    sorted in Python)."""
    keys = [repr(v) for v in values]
    rank = {k: n for n, k in enumerate(sorted(set(keys)))}
    return np.array([rank[k] for k in keys], dtype=np.int64)


PLAIN = r"[^\x28-\x5b\x5d-\x7e]"  # a character that makes a string not plain (below)


def _string_repr_ranks(values: pa.Array) -> NDArray[np.int64]:
    """Each distinct string's rank in the order of its ``repr``. Strings of printable ASCII
    above ``'`` other than ``\\`` are their own repr between quotes, and a quote sorts before
    them: their repr order is their order. Other strings are sorted in Python."""
    plain = not pc.any(pc.match_substring_regex(values, PLAIN)).as_py()
    if not plain:
        return _repr_ranks(values.to_pylist())
    order = pc.sort_indices(values).to_numpy()
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def _target_keys(targets: pa.ChunkedArray) -> NDArray[Any]:
    """A number per target (no nulls) that orders the targets as their ``repr`` does. Strings
    of printable ASCII above ``'`` other than ``\\`` are their own repr between quotes, and a
    quote sorts before them: their repr order is their order, and up to 8 characters that is
    the order of their bytes read as a number (issue and PR numbers and the like). Other
    strings are ranked."""
    values = targets.combine_chunks()
    binary = pc.cast(values, pa.large_binary())
    _, offsets_buffer, data_buffer = binary.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        binary.offset : binary.offset + len(binary) + 1
    ]
    start, length = offsets[:-1], np.diff(offsets)
    plain = not pc.any(pc.match_substring_regex(values, PLAIN)).as_py()
    if not plain or int(length.max(initial=0)) > 8:
        distinct, at = _strings(targets)
        return _string_repr_ranks(distinct)[at]
    key = np.zeros(len(binary), dtype=np.uint64)
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else key[:0]
    if not len(data):
        return key  # (only empty strings)
    last = len(data) - 1
    for k in range(8):
        byte = data[np.minimum(start + k, last)].astype(np.uint64)
        byte[length <= k] = 0
        key = (key << np.uint64(8)) | byte
    return key


def _codes(values: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct values, sorted, and each value's index among them (by a table of the
    values when they are small non-negative numbers, else by sorting)."""
    if len(values) == 0:
        return values, values
    low, high = int(values.min()), int(values.max())
    if low >= 0 and high < max(4 * len(values), 1 << 22):
        present = np.zeros(high + 1, dtype=bool)
        present[values] = True
        index = np.cumsum(present, dtype=np.int64) - 1
        return np.flatnonzero(present), index[values]
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.reshape(-1)


def _strings(column: pa.ChunkedArray) -> tuple[pa.Array, NDArray[np.int64]]:
    """The distinct strings of a column (no nulls) and each row's index among them."""
    codes = pc.dictionary_encode(column.combine_chunks())
    return codes.dictionary, codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)


@dataclass
class _OpenRankGraphs:
    """Every period's graph as arrays: one row per (period, developer, item), developers and
    items numbered in the order ``community_openrank`` gives them (``repr``) over all the
    periods; per item its repository (numbered the same way), whether it is a PR and the
    period it was first merged in."""

    period: NDArray[np.int64]  # days since 1970-01-01
    dev: NDArray[np.int64]
    item: NDArray[np.int64]
    weight: NDArray[np.float64]
    author: NDArray[np.bool_]
    members: NDArray[np.int64]  # member id of each developer number
    item_repo: NDArray[np.int64]
    item_pr: NDArray[np.bool_]
    item_merged: NDArray[np.int64]  # the period it was first merged in, days since 1970-01-01


def _numbers(column: pa.ChunkedArray, dtype: type[np.generic]) -> NDArray[Any]:
    """A column without nulls as a numpy array (no copy when it is one chunk of that type)."""
    return np.asarray(column.combine_chunks().to_numpy(zero_copy_only=False), dtype=dtype)


def _openrank_graphs(items: pa.Table, edges: pa.Table) -> _OpenRankGraphs:
    """``_openrank_query``'s tables as arrays."""
    # Items: (source_id, channel, target) in their tuples' repr order, that is by the source
    # ids' digits, then the channels' repr, then the targets' repr.
    sources, source_at = _codes(_numbers(items["source_id"], np.int64))
    source_rank = _repr_ranks([str(int(s)) for s in sources])[source_at]
    channels, channel_at = _strings(items["channel"])
    channel_rank = _repr_ranks(channels.to_pylist())[channel_at]
    pair = source_rank * len(channels) + channel_rank
    # The items are distinct: their order sorts them by pair, then by target.
    order = np.argsort(_target_keys(items["target"]), kind="stable")
    small = np.int16 if len(channels) * len(sources) < 2**15 else np.int64
    order = order[np.argsort(pair[order].astype(small), kind="stable")]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    # Each edge's item: its row among the items (a hash table of the items' keys), by rank.
    at = pc.index_in(edges["item"], value_set=items["item"].combine_chunks())
    # Per item (by rank): its repository (the channel: the same repr order), PR, first merge.
    item_repo = np.zeros(len(rank), dtype=np.int64)
    item_repo[rank] = channel_rank
    item_pr = np.zeros(len(rank), dtype=np.bool_)
    item_pr[rank] = _numbers(items["is_pr"], np.bool_)
    merged = pc.fill_null(items["merged"].cast(pa.int32()), np.iinfo(np.int32).max)
    item_merged = np.zeros(len(rank), dtype=np.int64)
    item_merged[rank] = _numbers(merged, np.int64)
    # Developers: member ids in repr order (their digits').
    ids, member_at = _codes(_numbers(edges["member_id"], np.int64))
    dev_rank = np.empty(len(ids), dtype=np.int64)
    dev_rank[np.argsort(ids.astype(str), kind="stable")] = np.arange(len(ids))
    members = np.empty(len(ids), dtype=np.int64)
    members[dev_rank] = ids
    return _OpenRankGraphs(
        period=_numbers(edges["period"].cast(pa.int32()), np.int64),
        dev=dev_rank[member_at],
        item=rank[_numbers(at, np.int64)],
        weight=_numbers(edges["weight"], np.float64),
        author=_numbers(edges["author"], np.bool_),
        members=members,
        item_repo=item_repo,
        item_pr=item_pr,
        item_merged=item_merged,
    )


def _openrank_periods(
    g: _OpenRankGraphs, params: OpenRankParams | None = None
) -> Iterator[tuple[date, NDArray[np.int64], NDArray[np.float64]]]:
    """Each period's developers (member ids, in ``community_openrank``'s order) and their
    OpenRank, period by period (the periods' graphs computed on a few threads: the matrix
    products let go of the interpreter)."""
    p = params or OpenRankParams()
    periods, period_at = _codes(g.period - int(g.period.min(initial=0)))
    small = period_at.astype(np.int32 if len(periods) >= 2**15 else np.int16)
    order = np.argsort(small, kind="stable")  # a radix sort
    bounds = np.searchsorted(small[order], np.arange(1, len(periods)))

    def graph(rows: NDArray[np.intp]) -> tuple[date, NDArray[np.int64], NDArray[np.float64]]:
        devs, dev = _codes(g.dev[rows])
        items, item = _codes(g.item[rows])
        repos, item_repo = _codes(g.item_repo[items])
        period = int(g.period[rows[0]])
        merged = g.item_merged[items] <= period  # merged before the period's end
        values, _, _ = _openrank(
            dev.astype(np.intp),
            item.astype(np.intp),
            g.weight[rows],
            g.author[rows],
            item_repo.astype(np.intp),
            _item_init(g.item_pr[items] | merged, merged, p),
            len(devs),
            len(repos),
            p,
        )
        return EPOCH + timedelta(days=period), g.members[devs], values[: len(devs)]

    parts = np.split(order, bounds) if len(order) else []
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        yield from pool.map(graph, parts)


def openrank_edges(metrics: Metrics) -> dict[date, list[ItemActivity]]:
    """Each period's graph edges from the snapshot: items are (source_id, channel, target); an
    item is a PR when any PR kind (opened, merged, closed, review, review comment) names it, and
    merged in a period when it was merged before the period's end. Bots and staff are left out
    as the parameters say (OpenDigger leaves bots out of OpenRank). One edge per activity."""
    items = _openrank_items(metrics)
    a = metrics.in_range(_openrank_activities(metrics), "occurred_at")
    a = a.select(metrics.bucket(a, "occurred_at"), "item", "member_id", "kind")
    t = a.join(items, "item").drop("item")
    t = t.group_by(t.columns).aggregate(n=t.count())
    out: dict[date, list[ItemActivity]] = defaultdict(list)
    for row in metrics.fetch(t).to_pylist():
        edge = ItemActivity(
            developer=row["member_id"],
            item=(row["source_id"], row["channel"], row["target"]),
            repo=str(row["channel"]),
            action=OPENRANK_KINDS[row["kind"]],
            is_pr=bool(row["is_pr"]),
            merged=row["merged"] is not None and row["merged"] <= row["period"],
        )
        out[row["period"]].extend([edge] * row["n"])
    return dict(sorted(out.items()))


def community_openrank_series(
    metrics: Metrics, params: OpenRankParams | None = None
) -> dict[date, dict[int, float]]:
    """Each period's developers' OpenRank (member id -> value), each period computed on its
    own graph from the initial values."""
    p = params or OpenRankParams()
    return {
        period: dict(zip(members.tolist(), values.tolist(), strict=True))
        for period, members, values in _openrank_periods(
            _openrank_graphs(*_openrank_query(metrics, p.weights)), p
        )
    }


def community_openrank_top(
    metrics: Metrics, top: int, params: OpenRankParams | None = None
) -> list[tuple[date, int, int, float]]:
    """Each period's ``top`` developers by OpenRank (highest first, then by member id), as
    (period, rank, member_id, value): ``community_openrank_series`` ranked, without a Python
    object per developer."""
    p = params or OpenRankParams()
    out: list[tuple[date, int, int, float]] = []
    for period, members, values in _openrank_periods(
        _openrank_graphs(*_openrank_query(metrics, p.weights)), p
    ):
        order = np.lexsort((members, -values))[:top]
        for rank, k in enumerate(order.tolist(), 1):
            out.append((period, rank, int(members[k]), float(values[k])))
    return out


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


def _segment_cumsum(
    values: NDArray[np.float64], starts: NDArray[np.int64], lengths: NDArray[np.int64]
) -> NDArray[np.float64]:
    """The running sums of each segment ``values[start:start+length]`` on its own (a running
    sum over everything would lose the small segments' precision to the large sums before
    them), added in order: one vectorised step per position, over the segments that long."""
    out = values.copy()
    if not len(lengths):
        return out
    order = np.argsort(-lengths, kind="stable")
    first = starts[order]
    longer = np.searchsorted(-lengths[order], -np.arange(1, int(lengths[order[0]])), "left")
    for k, count in enumerate(longer.tolist(), 1):
        at = first[:count] + k
        out[at] += out[at - 1]
    return out


def _months_since_1970(ordinals: NDArray[np.int64]) -> NDArray[np.int64]:
    """The month of each day (0 for January 1970), looked up in a table of the days' range."""
    if len(ordinals) == 0:
        return ordinals
    low = int(ordinals.min())
    days = np.arange(low - EPOCH.toordinal(), int(ordinals.max()) + 1 - EPOCH.toordinal())
    table = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return table[ordinals - low]


_REASONS: tuple[Literal["joined", "promoted", "demoted"], ...] = ("joined", "promoted", "demoted")


def _level_changes(
    member: NDArray[np.int64],
    day: NDArray[np.int64],
    weight: NDArray[np.float64],
    until: date,
    *,
    review_every: str,
    half_life_days: float,
    window_days: int,
    levels: Sequence[tuple[int, float, int]],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """``engagement_levels`` for many members at once. The activities are one row each
    (member, day ordinal, weight), sorted by member and day, none after ``until``. The changes
    as arrays sorted by member and day: member, day ordinal, level, reason (index in
    ``_REASONS``).

    The score on day ``d`` is ``2**(-(d-f)/h) * sum(w * 2**((day-f)/h))`` over the window,
    with ``f`` the member's first day, the sum a difference of running sums of the member's
    activities; the months are counted by running counts of month changes. Where the score is
    so close to a level's threshold that rounding could put it on the other side than
    ``engagement_score``'s sum does, that sum is done as it does it."""
    n = len(day)
    empty = np.zeros(0, dtype=np.int64)
    if n == 0:
        return empty, empty, empty, empty
    new_member = np.ones(n, dtype=bool)
    new_member[1:] = member[1:] != member[:-1]
    starts = np.flatnonzero(new_member)
    lengths = np.diff(np.append(starts, n))
    row_member = np.cumsum(new_member) - 1
    first_day = day[starts]
    # Activities' weights scaled up from the member's first day; their running sums.
    scaled = weight * np.exp2((day - first_day[row_member]) / half_life_days)
    running = _segment_cumsum(scaled, starts, lengths)
    month = _months_since_1970(day)
    month_change = np.ones(n, dtype=np.int64)
    month_change[1:] = month[1:] != month[:-1]
    month_count = np.cumsum(month_change)

    # The days a level is computed: each day with activities, and each review.
    new_day = new_member.copy()
    new_day[1:] |= day[1:] != day[:-1]
    act_pos = np.flatnonzero(new_day)
    act_member = row_member[act_pos]
    act_day = day[act_pos]
    ends = np.append(act_pos[1:], n)  # where each day's activities end
    step = {"month": 1, "quarter": 3, "year": 12}[review_every]
    first_review = _months_since_1970(first_day) // step * step + step
    last_month = int(_months_since_1970(np.array([until.toordinal()]))[0])
    reviews = np.maximum(0, (last_month - first_review) // step + 1)
    rev_member = np.repeat(np.arange(len(starts)), reviews)
    rev_k = np.arange(len(rev_member)) - np.repeat(np.cumsum(reviews) - reviews, reviews)
    rev_month = first_review[rev_member] + rev_k * step
    rev_day = rev_month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    rev_day += EPOCH.toordinal()

    # Merge both (each sorted by member and day); a review on a day with activities is one day.
    lowest = int(first_day.min()) - window_days
    span = until.toordinal() - lowest + 2
    act_key = act_member * span + (act_day - lowest)
    rev_key = rev_member * span + (rev_day - lowest)
    at = np.searchsorted(act_key, rev_key, "left")
    same = at < len(act_key)
    same[same] = act_key[at[same]] == rev_key[same]
    kept = np.flatnonzero(~same)
    total = len(act_pos) + len(kept)
    pos_rev = at[kept] + np.arange(len(kept))
    is_rev = np.zeros(total, dtype=bool)
    is_rev[pos_rev] = True
    pos_act = np.flatnonzero(~is_rev)
    ev_member = np.empty(total, dtype=np.int64)
    ev_member[pos_act], ev_member[pos_rev] = act_member, rev_member[kept]
    ev_day = np.empty(total, dtype=np.int64)
    ev_day[pos_act], ev_day[pos_rev] = act_day, rev_day[kept]
    ev_hi = np.empty(total, dtype=np.int64)
    ev_hi[pos_act] = ends
    ev_hi[pos_rev] = np.append(act_pos, n)[at[kept]]
    is_rev[pos_act[at[same]]] = True
    # The window's first activity: the first day with activities not before d - window + 1.
    lo_key = ev_member * span + (ev_day - window_days + 1 - lowest)
    ev_lo = np.append(act_pos, n)[np.searchsorted(act_key, lo_key, "left")]

    has = ev_hi > ev_lo
    last = np.maximum(ev_hi - 1, 0)
    start = starts[ev_member]
    before = np.where(ev_lo > start, running[np.maximum(ev_lo - 1, 0)], 0.0)
    decay = np.exp2(-(ev_day - first_day[ev_member]) / half_life_days)
    score = np.where(has, decay * (running[last] - before), 0.0)
    months = np.where(has, month_count[last] - month_count[np.minimum(ev_lo, n - 1)] + 1, 0)
    # How far the score may be from engagement_score's sum (both round each term and sum).
    slack = 32.0 * (ev_hi - start + 4) * np.finfo(np.float64).eps * decay * running[last]
    near = np.zeros(total, dtype=bool)
    for _, min_score, _ in levels:
        near |= has & (np.abs(score - min_score) <= slack)
    for k in np.flatnonzero(near).tolist():
        lo, hi, on = int(ev_lo[k]), int(ev_hi[k]), int(ev_day[k])
        exact = 0.0
        for d, w in sorted(zip(day[lo:hi].tolist(), weight[lo:hi].tolist(), strict=True)):
            exact += w * 0.5 ** ((on - d) / half_life_days)
        score[k] = exact
    level = np.full(total, 4, dtype=np.int64)
    done = np.zeros(total, dtype=bool)
    for lv, min_score, min_months in levels:
        hit = ~done & (score >= min_score) & (months >= min_months)
        level[hit] = lv
        done |= hit

    # Promote at once, set at reviews: within each stretch from a join or review to the next
    # review the level is the running minimum.
    joined = np.ones(total, dtype=bool)
    joined[1:] = ev_member[1:] != ev_member[:-1]
    segment = np.cumsum(joined | is_rev)
    low = int(level.min())
    width = int(level.max()) - low + 1
    key = segment * width + (width - 1 - (level - low))
    current = width - 1 - (np.maximum.accumulate(key) - segment * width) + low
    previous = np.empty(total, dtype=np.int64)
    previous[0] = 0
    previous[1:] = current[:-1]
    changed = joined | (is_rev & (level != previous)) | (~is_rev & (current < previous))
    reason = np.where(joined, 0, np.where(level < previous, 1, 2))
    at_change = np.flatnonzero(changed)
    return (
        member[starts][ev_member[at_change]],
        ev_day[at_change],
        level[at_change],
        reason[at_change],
    )


def _engagement_rows(
    metrics: Metrics, until: date
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Every member's activities up to ``until`` (bots and staff left out as the parameters
    say), one row per member, day and contribution type, weighted by contribution type
    (``ENGAGEMENT_WEIGHTS``) times their number: member ids, day ordinals and weights, sorted
    by member and day."""
    b = metrics.daily()
    end = datetime.combine(until + timedelta(days=1), datetime.min.time())
    b = b.filter(b.day < ibis.timestamp(end))
    g = b.group_by([b.member_id, b.day.cast("date").name("day"), b.contribution_type]).aggregate(
        n=b.n.sum()
    )
    typed = g.contribution_type.substitute(ENGAGEMENT_WEIGHTS, else_=DEFAULT_TYPED_WEIGHT)
    weight = ibis.ifelse(g.contribution_type.isnull(), DEFAULT_UNTYPED_WEIGHT, typed)
    t = g.select(g.member_id, g.day, weight=weight.cast("float64") * g.n)
    t = metrics.fetch(t.order_by([t.member_id, t.day]))
    member = t["member_id"].to_numpy().astype(np.int64)
    day = t["day"].cast(pa.int32()).to_numpy().astype(np.int64) + EPOCH.toordinal()
    weight_ = t["weight"].to_numpy().astype(np.float64)
    if np.any((member[1:] < member[:-1]) | ((member[1:] == member[:-1]) & (day[1:] < day[:-1]))):
        order = np.lexsort((day, member))  # (an engine that did not keep the order)
        return member[order], day[order], weight_[order]
    return member, day, weight_


def _check_engagement(review_every: str, half_life_days: float, window_days: int) -> None:
    if review_every not in REVIEWS:
        raise UsageError(f"review_every {review_every!r}: use one of {', '.join(REVIEWS)}")
    if half_life_days <= 0 or window_days < 1:
        raise UsageError("half_life_days must be > 0 and window_days at least 1")


Changes = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


def _all_level_changes(
    member: NDArray[np.int64],
    day: NDArray[np.int64],
    weight: NDArray[np.float64],
    until: date,
    *,
    review_every: str,
    half_life_days: float,
    window_days: int,
    levels: Sequence[tuple[int, float, int]],
) -> Changes:
    """``_level_changes``, except for the members active over more than 900 half-lives
    (centuries at the default 90 days: ``2 ** (days / half-life)`` would overflow), computed
    one by one by ``engagement_levels``."""
    _check_engagement(review_every, half_life_days, window_days)
    args: dict[str, Any] = {
        "review_every": review_every,
        "half_life_days": half_life_days,
        "window_days": window_days,
        "levels": levels,
    }
    starts = np.flatnonzero(np.append(True, member[1:] != member[:-1])) if len(day) else day
    span = np.maximum.reduceat(day, starts) - day[starts] if len(day) else day
    long_ = np.repeat(span / half_life_days > 900, np.diff(np.append(starts, len(day))))
    out = _level_changes(member[~long_], day[~long_], weight[~long_], until, **args)
    if not long_.any():
        return out
    parts = [list(out)]
    for m in np.unique(member[long_]).tolist():
        rows = member == m
        acts = [
            (date.fromordinal(d), w)
            for d, w in zip(day[rows].tolist(), weight[rows].tolist(), strict=True)
        ]
        changes = engagement_levels(acts, until, **args)
        parts.append(
            [
                np.full(len(changes), m, dtype=np.int64),
                np.array([c.on.toordinal() for c in changes], dtype=np.int64),
                np.array([c.level for c in changes], dtype=np.int64),
                np.array([_REASONS.index(c.reason) for c in changes], dtype=np.int64),
            ]
        )
    cols = [np.concatenate([part[c] for part in parts]) for c in range(4)]
    order = np.lexsort((cols[1], cols[0]))
    return cols[0][order], cols[1][order], cols[2][order], cols[3][order]


def _by_member(changes: Changes) -> dict[int, list[LevelChange]]:
    member, day, level, reason = changes
    out: dict[int, list[LevelChange]] = defaultdict(list)
    for m, d, lv, why in zip(
        member.tolist(), day.tolist(), level.tolist(), reason.tolist(), strict=True
    ):
        out[m].append(LevelChange(date.fromordinal(d), lv, _REASONS[why]))
    return dict(out)


def engagement_levels_many(
    activities: Mapping[int, Sequence[tuple[date | datetime, float]]],
    until: date,
    *,
    review_every: str = "quarter",
    half_life_days: float = 90.0,
    window_days: int = 365,
    levels: Sequence[tuple[int, float, int]] = DEFAULT_LEVELS,
) -> dict[int, list[LevelChange]]:
    """``engagement_levels`` of many members (member id -> their dated weights) at once:
    every member's changes, in member id order, the same as one by one."""
    _check_engagement(review_every, half_life_days, window_days)
    member: list[int] = []
    day: list[int] = []
    weight: list[float] = []
    for m, acts in activities.items():
        for when, w in acts:
            if w < 0:
                raise UsageError(f"activity weight {w!r} on {_day(when)}: weights are 0 or more")
            d = _day(when)
            if d <= until:
                member.append(m)
                day.append(d.toordinal())
                weight.append(float(w))
    m_, d_, w_ = np.array(member, np.int64), np.array(day, np.int64), np.array(weight)
    order = np.lexsort((d_, m_))
    got = _by_member(
        _all_level_changes(
            m_[order],
            d_[order],
            w_[order],
            until,
            review_every=review_every,
            half_life_days=half_life_days,
            window_days=window_days,
            levels=levels,
        )
    )
    return {m: got.get(m, []) for m in sorted(activities)}


def _member_level_changes(
    metrics: Metrics,
    until: date,
    *,
    review_every: str,
    half_life_days: float,
    window_days: int,
    levels: Sequence[tuple[int, float, int]],
) -> Changes:
    _check_engagement(review_every, half_life_days, window_days)
    member, day, weight = _engagement_rows(metrics, until)
    return _all_level_changes(
        member,
        day,
        weight,
        until,
        review_every=review_every,
        half_life_days=half_life_days,
        window_days=window_days,
        levels=levels,
    )


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
    type (``ENGAGEMENT_WEIGHTS``): ``engagement_levels`` of each member, computed for all the
    members at once."""
    return _by_member(
        _member_level_changes(
            metrics,
            until,
            review_every=review_every,
            half_life_days=half_life_days,
            window_days=window_days,
            levels=levels,
        )
    )


def engagement_summary(
    metrics: Metrics,
    until: date,
    *,
    review_every: str = "quarter",
    half_life_days: float = 90.0,
    window_days: int = 365,
    levels: Sequence[tuple[int, float, int]] = DEFAULT_LEVELS,
) -> list[tuple[int, int, date, int]]:
    """Each member's level on ``until``, the day of the change that set it and the number of
    changes, as (member_id, level, since, changes) sorted by level then member id:
    ``member_engagement`` summed up without an object per change."""
    member, day, level, _ = _member_level_changes(
        metrics,
        until,
        review_every=review_every,
        half_life_days=half_life_days,
        window_days=window_days,
        levels=levels,
    )
    if not len(member):
        return []
    last = np.flatnonzero(np.append(member[1:] != member[:-1], True))
    counts = np.diff(np.append(-1, last))
    order = np.lexsort((member[last], level[last]))
    return [
        (m, lv, date.fromordinal(d), c)
        for m, lv, d, c in zip(
            member[last][order].tolist(),
            level[last][order].tolist(),
            day[last][order].tolist(),
            counts[order].tolist(),
            strict=True,
        )
    ]
