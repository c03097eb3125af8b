"""Activity and influence (docs/metrics-concentration-influence.md), computed by hand.

The GH Archive history (``EVENTS``) imported through the sync runner, all in UTC:

    acme/app  2024-03-01  alice  opens issue #1
              2024-03-02  bob    comments on #1
              2024-03-03  bob    comments on #1
              2024-03-05  carol  opens PR #2
              2024-03-06  alice  review comment on PR #2
              2024-03-07  alice  merges PR #2 (author carol)
              2024-03-08  dependabot[bot] opens PR #3 (a bot: left out by default)
              2024-03-31  carol  opens PR #4
              2024-04-01  dan    comments on #1
              2024-04-02  alice  merges PR #4 (author carol)
    acme/lib  2024-03-10  bob    opens issue #1

Developer activity, March, acme/app:
    alice  open_issue 1, review_comment 1   sqrt(2.2235 + 0.7427)          = 1.7223
    bob    issue_comment 2                  sqrt(2 * 0.5252)               = 1.0249
    carol  open_pull 2, merged_pull 1       sqrt(2 * 4.0679 + 2.0339)      = 3.1890
April, acme/app: dan sqrt(0.5252) = 0.7247 (the check value); carol sqrt(2.0339) = 1.4262.
March, acme/lib: bob sqrt(2.2235) = 1.4911.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Hashable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from commops.analytics.engine import Engine
from commops.analytics.influence import (
    ACTIVITY_KINDS,
    ACTIVITY_WEIGHTS,
    COUNTS,
    DEFAULT_LEVELS,
    OPENRANK_KINDS,
    PR_KINDS,
    PR_MERGED_KINDS,
    PR_OPENED_KINDS,
    ItemActivity,
    LevelChange,
    OpenRankParams,
    OpenRankResult,
    _target_keys,
    community_openrank,
    community_openrank_series,
    community_openrank_top,
    developer_activity,
    developer_activity_rows,
    engagement_levels,
    engagement_levels_many,
    engagement_score,
    engagement_summary,
    engagement_weight,
    level_on,
    member_engagement,
    openrank_edges,
    repository_activity,
)
from commops.analytics.metrics import Metrics, Params
from commops.cli.app import app
from commops.errors import UsageError
from commops.sources import ensure_source
from commops.sync import sync_workspace
from commops.workspace import Workspace

# -- developer activity: the formula --------------------------------------------------------------


def test_developer_activity_one_issue_comment_is_opendigger_check_value() -> None:
    assert round(developer_activity(issue_comment=1), 4) == 0.7247
    assert developer_activity(issue_comment=1) == math.sqrt(0.5252)


def test_developer_activity_opened_and_merged_pr_is_opendigger_check_value() -> None:
    assert round(developer_activity(open_pull=1, merged_pull=1), 4) == 2.4702
    assert developer_activity(open_pull=1, merged_pull=1) == math.sqrt(4.0679 + 2.0339)


def test_developer_activity_weights_every_count() -> None:
    value = developer_activity(
        issue_comment=3, open_issue=2, open_pull=1, review_comment=4, merged_pull=5
    )
    assert value == pytest.approx(
        math.sqrt(3 * 0.5252 + 2 * 2.2235 + 4.0679 + 4 * 0.7427 + 5 * 2.0339)
    )
    assert developer_activity() == 0.0


def test_developer_activity_negative_count_is_refused() -> None:
    with pytest.raises(UsageError, match="open_issue: -1 is negative"):
        developer_activity(open_issue=-1)


# -- developer activity over a real workspace ---------------------------------------------------


def _event(
    n: int, kind: str, actor: str, repo: str, when: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": str(1000 + n),
        "type": kind,
        "actor": {"id": n, "login": actor},
        "repo": {"id": 7, "name": repo},
        "org": {"id": 1, "login": repo.split("/")[0]},
        "payload": payload,
        "public": True,
        "created_at": when,
    }


def _issue(number: int, author: str) -> dict[str, Any]:
    return {"number": number, "title": f"Issue {number}", "user": {"login": author}}


def _pull(number: int, author: str, merged: bool = False) -> dict[str, Any]:
    return {
        "number": number,
        "title": f"PR {number}",
        "user": {"login": author},
        "merged": merged,
    }


APP, LIB = "acme/app", "acme/lib"


def opened_issue(who: str, repo: str, when: str, n: int) -> tuple[Any, ...]:
    return ("IssuesEvent", who, repo, when, {"action": "opened", "issue": _issue(n, who)})


def commented(who: str, when: str, n: int, author: str, comment: int) -> tuple[Any, ...]:
    payload = {"action": "created", "issue": _issue(n, author), "comment": {"id": comment}}
    return ("IssueCommentEvent", who, APP, when, payload)


def opened_pr(who: str, when: str, n: int) -> tuple[Any, ...]:
    payload = {"action": "opened", "number": n, "pull_request": _pull(n, who)}
    return ("PullRequestEvent", who, APP, when, payload)


def merged_pr(who: str, when: str, n: int, author: str) -> tuple[Any, ...]:
    payload = {"action": "closed", "number": n, "pull_request": _pull(n, author, merged=True)}
    return ("PullRequestEvent", who, APP, when, payload)


def review_comment(who: str, when: str, n: int, author: str, comment: int) -> tuple[Any, ...]:
    payload = {"action": "created", "pull_request": _pull(n, author), "comment": {"id": comment}}
    return ("PullRequestReviewCommentEvent", who, APP, when, payload)


EVENTS = [
    opened_issue("alice", APP, "2024-03-01T10:00:00Z", 1),
    commented("bob", "2024-03-02T10:00:00Z", 1, "alice", 501),
    commented("bob", "2024-03-03T10:00:00Z", 1, "alice", 502),
    opened_pr("carol", "2024-03-05T10:00:00Z", 2),
    review_comment("alice", "2024-03-06T10:00:00Z", 2, "carol", 601),
    merged_pr("alice", "2024-03-07T10:00:00Z", 2, "carol"),
    opened_pr("dependabot[bot]", "2024-03-08T10:00:00Z", 3),
    opened_issue("bob", LIB, "2024-03-10T10:00:00Z", 1),
    opened_pr("carol", "2024-03-31T23:00:00Z", 4),
    commented("dan", "2024-04-01T10:00:00Z", 1, "alice", 503),
    merged_pr("alice", "2024-04-02T10:00:00Z", 4, "carol"),
]


def _import_events(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    lines = [_event(n, *e) for n, e in enumerate(EVENTS)]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    ensure_source(ws.store, "gharchive", "test", name="gha", options={"orgs": ["acme"]})
    [result] = sync_workspace(ws, ["gha"], params={"files": [str(path)]})
    assert result.ok, result.error


@pytest.fixture
def forge(sqlite_workspace: Workspace, tmp_path: Path) -> Workspace:
    _import_events(sqlite_workspace, tmp_path)
    return sqlite_workspace


def metrics(ws: Workspace, **params: Any) -> Metrics:
    return Metrics(Engine(ws.snapshot_dir), Params(**params))


def _table(rows: list[dict[str, Any]]) -> dict[tuple[date, str, str], tuple[Any, ...]]:
    return {
        (r["period"], r["channel"], r["display_name"]): (
            r["issue_comment"],
            r["open_issue"],
            r["open_pull"],
            r["review_comment"],
            r["merged_pull"],
            round(r["activity"], 4),
        )
        for r in rows
    }


MARCH, APRIL = date(2024, 3, 1), date(2024, 4, 1)
BY_HAND = {
    (MARCH, APP, "alice"): (0, 1, 0, 1, 0, round(math.sqrt(2.2235 + 0.7427), 4)),
    (MARCH, APP, "bob"): (2, 0, 0, 0, 0, round(math.sqrt(2 * 0.5252), 4)),
    (MARCH, APP, "carol"): (0, 0, 2, 0, 1, round(math.sqrt(2 * 4.0679 + 2.0339), 4)),
    (MARCH, LIB, "bob"): (0, 1, 0, 0, 0, round(math.sqrt(2.2235), 4)),
    (APRIL, APP, "dan"): (1, 0, 0, 0, 0, 0.7247),
    (APRIL, APP, "carol"): (0, 0, 0, 0, 1, round(math.sqrt(2.0339), 4)),
}


def test_activity_per_developer_repo_month_matches_hand_count(
    workspace: Workspace, tmp_path: Path
) -> None:
    _import_events(workspace, tmp_path)
    rows = developer_activity_rows(metrics(workspace))
    assert _table(rows) == BY_HAND
    assert [round(v, 4) for v in (1.7223, 1.0249, 3.1890)] == [
        BY_HAND[(MARCH, APP, who)][5] for who in ("alice", "bob", "carol")
    ]


def test_activity_ibis_value_equals_the_python_formula(forge: Workspace) -> None:
    for r in developer_activity_rows(metrics(forge)):
        counts = {k: r[k] for k in ("issue_comment", "open_issue", "open_pull")}
        counts |= {k: r[k] for k in ("review_comment", "merged_pull")}
        assert r["activity"] == pytest.approx(developer_activity(**counts))


def test_merged_pr_credited_to_author_not_merger(forge: Workspace) -> None:
    rows = _table(developer_activity_rows(metrics(forge)))
    assert rows[(APRIL, APP, "carol")][4] == 1
    assert (APRIL, APP, "alice") not in rows  # alice merged #4 but did nothing else in April


def test_repository_activity_is_sum_of_developers(forge: Workspace) -> None:
    repo = repository_activity(metrics(forge))
    march = math.sqrt(2.2235 + 0.7427) + math.sqrt(2 * 0.5252) + math.sqrt(2 * 4.0679 + 2.0339)
    assert repo[(MARCH, APP)] == pytest.approx(march)
    assert repo[(APRIL, APP)] == pytest.approx(math.sqrt(0.5252) + math.sqrt(2.0339))
    assert repo[(MARCH, LIB)] == pytest.approx(math.sqrt(2.2235))
    assert len(repo) == 3


def test_activity_with_bots_counts_the_bot_pr(forge: Workspace) -> None:
    rows = _table(developer_activity_rows(metrics(forge, include_bots=True)))
    assert rows[(MARCH, APP, "dependabot[bot]")] == (0, 0, 1, 0, 0, round(math.sqrt(4.0679), 4))


def test_activity_quarterly_takes_the_root_of_the_quarter(forge: Workspace) -> None:
    rows = _table(developer_activity_rows(metrics(forge, period="quarter")))
    q2 = date(2024, 4, 1)
    assert rows[(q2, APP, "carol")] == (0, 0, 0, 0, 1, round(math.sqrt(2.0339), 4))
    assert rows[(date(2024, 1, 1), APP, "carol")][5] == round(math.sqrt(2 * 4.0679 + 2.0339), 4)


def test_activity_since_until_keeps_only_the_range(forge: Workspace) -> None:
    rows = _table(developer_activity_rows(metrics(forge, since=APRIL)))
    assert set(rows) == {(APRIL, APP, "dan"), (APRIL, APP, "carol")}


def test_merged_pr_without_object_credited_to_opener(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    """A CSV has no object column: the merge goes to whoever opened the same PR."""
    path = tmp_path / "prs.csv"
    path.write_text(
        "kind,occurred_at,actor_platform,actor_username,channel,target,item_key\n"
        "github:pr_opened,2024-05-02T10:00:00Z,github,erin,acme/web,9,o9\n"
        "github:pr_merged,2024-05-03T10:00:00Z,github,frank,acme/web,9,m9\n"
        "github:pr_merged,2024-05-04T10:00:00Z,github,frank,acme/web,10,m10\n",
        encoding="utf-8",
    )
    ws = sqlite_workspace
    result = cli.invoke(
        app, ["--workspace", str(ws.root), "import", "csv", str(path), "--kind", "activities"]
    )
    assert result.exit_code == 0, result.output
    rows = _table(developer_activity_rows(metrics(ws)))
    may = date(2024, 5, 1)
    # PR 10 has no opening in the data: its merge is credited to nobody.
    assert rows == {(may, "acme/web", "erin"): (0, 0, 1, 0, 1, 2.4702)}


# -- community OpenRank -------------------------------------------------------------------------


def test_openrank_single_author_fixed_point_by_hand() -> None:
    """ann opens i1 in r. ann -> i1: 1; i1 -> ann: 0.9; i1 -> r: 0.1; r -> i1: 1.
    A = .15 + .85*.9 I;  R = .15 + .85*.1 I;  I = .8*2 + .2 (A + R)
    =>  I = 2, A = 1.68, R = .32."""
    r = community_openrank([ItemActivity("ann", "i1", "r", "open")])
    assert r.converged
    assert r.developers["ann"] == pytest.approx(1.68)
    assert r.items["i1"] == pytest.approx(2.0)
    assert r.repos["r"] == pytest.approx(0.32)


def test_openrank_author_and_commenter_by_hand() -> None:
    """ann opens i1 (weight 2), bob comments (weight 1). i1 gives ann .45 + .45*2/3 = .75,
    bob .45/3 = .15, r .1. I = 1.6 + .2 (.45 + .85 I) => I = 1.69/.83; A = .15 + .6375 I,
    B = .15 + .1275 I, R = .15 + .085 I."""
    r = community_openrank(
        [ItemActivity("ann", "i1", "r", "open"), ItemActivity("bob", "i1", "r", "comment")]
    )
    i = 1.69 / 0.83
    assert r.items["i1"] == pytest.approx(i)
    assert r.developers == pytest.approx({"ann": 0.15 + 0.6375 * i, "bob": 0.15 + 0.1275 * i})
    assert r.repos["r"] == pytest.approx(0.15 + 0.085 * i)


def test_openrank_merged_pr_starts_higher_than_issue() -> None:
    issue = community_openrank([ItemActivity("a", 1, "r", "open")])
    merged = community_openrank([ItemActivity("a", 1, "r", "open", is_pr=True, merged=True)])
    assert merged.developers["a"] > issue.developers["a"]
    # I = .8*5 + .2 (A + R), A = .15 + .765 I, R = .15 + .085 I  =>  I = 4.06 / .83
    assert merged.items[1] == pytest.approx(4.06 / 0.83)
    assert merged.developers["a"] == pytest.approx(0.15 + 0.765 * 4.06 / 0.83)


def test_openrank_empty_graph() -> None:
    r = community_openrank([])
    assert (r.developers, r.items, r.repos, r.converged) == ({}, {}, {}, True)


def test_openrank_bad_parameters_are_refused() -> None:
    with pytest.raises(UsageError, match="item_retention 0"):
        OpenRankParams(item_retention=0)
    with pytest.raises(UsageError, match=r"open_ratio 1\.5"):
        OpenRankParams(open_ratio=1.5)
    with pytest.raises(UsageError, match="weights"):
        OpenRankParams(weights={"open": 1.0})


def test_openrank_item_in_two_repos_is_refused() -> None:
    with pytest.raises(UsageError, match="two repositories"):
        community_openrank([ItemActivity("a", 1, "r", "open"), ItemActivity("b", 1, "s", "open")])


edges = st.lists(
    st.builds(
        ItemActivity,
        developer=st.sampled_from(["a", "b", "c", "d"]),
        item=st.integers(0, 5),
        repo=st.just("r"),
        action=st.sampled_from(["open", "comment", "review", "close"]),
        is_pr=st.booleans(),
        merged=st.booleans(),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(edges, st.floats(0.05, 1.0))
def test_openrank_with_one_retention_keeps_the_total(
    graph: list[ItemActivity], keep: float
) -> None:
    p = OpenRankParams(developer_retention=keep, repo_retention=keep, item_retention=keep)
    r = community_openrank(graph, p)
    assert r.converged
    init = community_openrank(graph, OpenRankParams(
        developer_retention=1.0, repo_retention=1.0, item_retention=1.0
    ))  # fmt: skip
    assert r.total == pytest.approx(init.total, rel=1e-6)
    assert all(v >= 0 for v in [*r.developers.values(), *r.items.values(), *r.repos.values()])


@settings(max_examples=40, deadline=None)
@given(edges)
def test_openrank_is_deterministic_and_order_free(graph: list[ItemActivity]) -> None:
    a = community_openrank(graph)
    b = community_openrank(list(reversed(graph)))
    assert a.converged
    assert a.developers == pytest.approx(b.developers)
    assert list(a.developers) == list(b.developers)


def test_openrank_series_over_workspace(forge: Workspace) -> None:
    series = community_openrank_series(metrics(forge))
    assert sorted(series) == [MARCH, APRIL]
    engine = Engine(forge.snapshot_dir)
    names = {r["member_id"]: r["display_name"] for r in engine.identities.to_pyarrow().to_pylist()}
    april = {names[m]: v for m, v in series[APRIL].items()}
    # April: dan comments on issue #1 (acme/app); alice merges PR #4 (opened in March: no author
    # in April's graph). Two items in one repo, one developer each.
    assert set(april) == {"dan", "alice"}
    assert set({names[m] for m in series[MARCH]}) == {"alice", "bob", "carol"}
    # By hand: A -> P4 1, P4 -> A .9 (no author in April's graph), P4 -> R .1, D -> I1 1,
    # I1 -> D .9, I1 -> R .1, R -> P4 .5, R -> I1 .5. With S = P + I: R = .15 + .085 S,
    # S = 5.66 + .153 S + .2 R  =>  S = 5.69 / .83; P = (4.03 + .1 R) / .847,
    # I = (1.63 + .1 R) / .847; A = .15 + .765 P, D = .15 + .765 I.
    s = 5.69 / 0.83
    r = 0.15 + 0.085 * s
    p, i = (4.03 + 0.1 * r) / 0.847, (1.63 + 0.1 * r) / 0.847
    assert april == pytest.approx({"alice": 0.15 + 0.765 * p, "dan": 0.15 + 0.765 * i})
    assert round(april["alice"], 4) == 3.856


# -- engagement levels --------------------------------------------------------------------------


def test_engagement_score_decays_by_half_life() -> None:
    acts = [(date(2024, 1, 1), 8.0), (date(2024, 3, 31), 2.0)]
    score, months = engagement_score(acts, date(2024, 3, 31), half_life_days=90)
    assert score == pytest.approx(8.0 * 0.5 ** (90 / 90) + 2.0)
    assert months == 2
    assert engagement_score(acts, date(2025, 3, 30)) == (2.0 * 0.5 ** (364 / 90), 1)
    assert engagement_score(acts, date(2025, 3, 31)) == (0.0, 0)  # 365 days old: outside


def test_engagement_promotes_at_once_and_demotes_at_review() -> None:
    """Levels: 3 needs score >= 4 in 1 month, 2 needs >= 15 in 3 months. One weight-5 activity
    on 2024-01-10: level 3. Weekly 5-point activities from 2024-02-05 to 2024-03-25 (8 of
    them): on 2024-03-04 the score is 25.8 over 3 months (Jan, Feb, Mar): level 2 at once.
    Silence afterwards; at each quarterly review the score is 5 * sum(0.5 ** (age / 90)):
    2024-04-01 34.3 and 2024-07-01 17.0 (still 2), 2024-10-01 8.4 (demoted to 3),
    2025-01-01 4.1 (still 3), 2025-04-01 nothing in the last 365 days (4)."""
    acts = [(date(2024, 1, 10), 5.0)] + [
        (date(2024, 2, 5 + 7 * k) if k < 4 else date(2024, 3, 4 + 7 * (k - 4)), 5.0)
        for k in range(8)
    ]
    changes = engagement_levels(acts, date(2025, 6, 30), half_life_days=90)
    assert changes == [
        LevelChange(date(2024, 1, 10), 3, "joined"),
        LevelChange(date(2024, 3, 4), 2, "promoted"),
        LevelChange(date(2024, 10, 1), 3, "demoted"),
        LevelChange(date(2025, 4, 1), 4, "demoted"),
    ]
    day = date(2024, 7, 1)
    ages = [(day - d).days for d, _ in acts]
    assert engagement_score(acts, day)[0] == pytest.approx(sum(5 * 0.5 ** (a / 90) for a in ages))
    assert round(engagement_score(acts, day)[0], 1) == 17.0
    assert round(engagement_score(acts, date(2024, 10, 1))[0], 1) == 8.4
    assert level_on(changes, date(2024, 9, 30)) == 2  # no demotion between reviews
    assert level_on(changes, date(2024, 1, 9)) is None


def test_engagement_score_on_promotion_day_by_hand() -> None:
    acts = [(date(2024, 1, 10), 5.0), (date(2024, 2, 5), 5.0), (date(2024, 2, 12), 5.0)]
    acts += [(date(2024, 2, 19), 5.0), (date(2024, 2, 26), 5.0), (date(2024, 3, 4), 5.0)]
    score, months = engagement_score(acts, date(2024, 3, 4))
    ages = [54, 28, 21, 14, 7, 0]
    assert score == pytest.approx(sum(5.0 * 0.5 ** (a / 90) for a in ages))
    assert score >= 15
    assert months == 3
    # the day before the March activity: a high score but only two active months
    assert engagement_score(acts[:-1], date(2024, 2, 26))[1] == 2


def test_engagement_yearly_review_keeps_level_longer() -> None:
    acts = [(date(2024, 1, 10), 5.0)]
    quarterly = engagement_levels(acts, date(2024, 12, 31))
    yearly = engagement_levels(acts, date(2024, 12, 31), review_every="year")
    # 5 * 0.5**(82/90) = 2.65 < 4 on 2024-04-01: the quarterly review demotes to 4.
    assert quarterly == [
        LevelChange(date(2024, 1, 10), 3, "joined"),
        LevelChange(date(2024, 4, 1), 4, "demoted"),
    ]
    assert yearly == [LevelChange(date(2024, 1, 10), 3, "joined")]


def test_engagement_bad_review_period_is_refused() -> None:
    with pytest.raises(UsageError, match="review_every 'fortnight'"):
        engagement_levels([(date(2024, 1, 1), 1.0)], date(2024, 2, 1), review_every="fortnight")


def test_engagement_no_activity_is_no_level() -> None:
    assert engagement_levels([], date(2024, 1, 1)) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.dates(date(2023, 1, 1), date(2024, 12, 31)), st.floats(0, 10)),
        min_size=1,
        max_size=30,
    )
)
def test_engagement_never_demotes_between_reviews(acts: list[tuple[date, float]]) -> None:
    changes = engagement_levels(acts, date(2025, 6, 30))
    assert changes[0].reason == "joined"
    for c in changes[1:]:
        assert 1 <= c.level <= 4
        if c.reason == "demoted":
            assert (c.on.day, c.on.month % 3) == (1, 1)


def test_member_engagement_over_workspace(forge: Workspace) -> None:
    levels = member_engagement(metrics(forge), date(2024, 4, 30))
    engine = Engine(forge.snapshot_dir)
    names = {r["member_id"]: r["display_name"] for r in engine.identities.to_pyarrow().to_pylist()}
    by_name = {names[m]: c for m, c in levels.items()}
    assert "dependabot[bot]" not in by_name
    # dan: one untyped comment (0.5) on 2024-04-01: level 4.
    assert by_name["dan"] == [LevelChange(date(2024, 4, 1), 4, "joined")]
    # carol: PR opened 03-05 (code, weight 3): score 3 < 4, level 4. The merges are alice's
    # activities (she is their actor). Second PR 03-31: 3 * 0.5 ** (26 / 90) + 3 = 5.46: level 3.
    assert by_name["carol"] == [
        LevelChange(date(2024, 3, 5), 4, "joined"),
        LevelChange(date(2024, 3, 31), 3, "promoted"),
    ]


# -- the fast implementations against straightforward references ---------------------------------
#
# OpenRank and the engagement levels are computed with arrays for every period and member at
# once; these tests hold them to plain implementations of the definitions: the same values, to
# the last bit, on random data.


def reference_openrank(
    edges: Iterable[ItemActivity], p: OpenRankParams | None = None
) -> OpenRankResult:
    """OpenRank with dictionaries, one edge and one node at a time (the definition)."""
    p = p or OpenRankParams()
    weight: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    item_repo: dict[Hashable, str] = {}
    kind: dict[Hashable, tuple[bool, bool]] = {}
    authors: dict[Hashable, set[Hashable]] = defaultdict(set)
    for e in edges:
        item_repo[e.item] = e.repo
        pr, merged = kind.get(e.item, (False, False))
        kind[e.item] = (pr or e.is_pr or e.merged, merged or e.merged)
        weight[(e.developer, e.item)] += p.weights[e.action]
        if e.action == "open":
            authors[e.item].add(e.developer)
    if not weight:
        return OpenRankResult({}, {}, {}, 0, True)

    def order(xs: Iterable[Any]) -> list[Any]:
        return sorted(set(xs), key=lambda x: (type(x).__name__, repr(x)))

    devs, items, repos = order(d for d, _ in weight), order(item_repo), order(item_repo.values())
    index = {("d", d): k for k, d in enumerate(devs)}
    index |= {("i", it): len(devs) + k for k, it in enumerate(items)}
    index |= {("r", r): len(devs) + len(items) + k for k, r in enumerate(repos)}
    n = len(index)
    init, keep = np.zeros(n), np.zeros(n)
    for d in devs:
        init[index["d", d]], keep[index["d", d]] = p.developer_init, p.developer_retention
    for r in repos:
        init[index["r", r]], keep[index["r", r]] = p.repo_init, p.repo_retention
    for it in items:
        pr, merged = kind[it]
        value = p.merged_pr_init if merged else p.pr_init if pr else p.issue_init
        init[index["i", it]], keep[index["i", it]] = value, p.item_retention
    by_dev: dict[Hashable, float] = defaultdict(float)
    by_item: dict[Hashable, float] = defaultdict(float)
    for (d, it), w in weight.items():
        by_dev[d] += w
        by_item[it] += w
    cells: list[tuple[int, int, float]] = []  # (to, from, share)
    rest = 1.0 - p.item_to_repo
    for (d, it), w in weight.items():
        cells.append((index["i", it], index["d", d], w / by_dev[d]))
        first = p.open_ratio * rest / len(authors[it]) if d in authors[it] else 0.0
        spread = (1.0 - p.open_ratio) * rest if authors[it] else rest
        cells.append((index["d", d], index["i", it], first + spread * w / by_item[it]))
    for it in items:
        same_repo = [x for x in items if item_repo[x] == item_repo[it]]
        cells.append((index["r", item_repo[it]], index["i", it], p.item_to_repo))
        cells.append((index["i", it], index["r", item_repo[it]], 1.0 / len(same_repo)))
    cells = [c for c in cells if c[2] > 0]
    matrix = sp.csr_matrix(
        ([c[2] for c in cells], ([c[0] for c in cells], [c[1] for c in cells])), shape=(n, n)
    )
    r, iterations, converged = init.copy(), 0, False
    while iterations < p.max_iterations and not converged:
        iterations += 1
        nxt = keep * init + (1.0 - keep) * (matrix @ r)
        converged = float(np.max(np.abs(nxt - r))) < p.tolerance
        r = nxt
    return OpenRankResult(
        {d: float(r[index["d", d]]) for d in devs},
        {it: float(r[index["i", it]]) for it in items},
        {rp: float(r[index["r", rp]]) for rp in repos},
        iterations,
        converged,
    )


# Items of three repositories, developers and items of mixed types (ordered by repr).
ITEMS = {1: "r", 2: "r", 10: "s", "x": "s", "y'z": "t'q", (1, "r", "2"): "r", (1, "r", "10"): "t'q"}
any_edges = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", 7, 12, 100, ("t", 1)]),
        st.sampled_from(list(ITEMS)),
        st.sampled_from(["open", "comment", "review", "close"]),
        st.booleans(),
        st.booleans(),
    ).map(lambda e: ItemActivity(e[0], e[1], ITEMS[e[1]], e[2], e[3], e[4])),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(
    any_edges,
    st.sampled_from([2.0, 0.3]),
    st.sampled_from([0.5, 0.0, 1.0, 0.3]),
    st.sampled_from([0.1, 0.0, 0.25]),
)
def test_openrank_matches_the_reference_to_the_bit(
    graph: list[ItemActivity], open_weight: float, open_ratio: float, to_repo: float
) -> None:
    weights = {"open": open_weight, "comment": 1.0, "review": 0.7, "close": 2.0}
    p = OpenRankParams(weights=weights, open_ratio=open_ratio, item_to_repo=to_repo)
    got, want = community_openrank(graph, p), reference_openrank(graph, p)
    assert (got.iterations, got.converged) == (want.iterations, want.converged)
    assert list(got.developers.items()) == list(want.developers.items())
    assert got.items == want.items
    assert got.repos == want.repos


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
            st.from_regex(r"[0-9A-Za-z#/-]{0,10}", fullmatch=True),
        ),
        unique=True,
    )
)
def test_openrank_targets_sort_in_repr_order(targets: list[str]) -> None:
    keys = _target_keys(pa.chunked_array([pa.array(targets, pa.string())]))
    order = np.argsort(keys, kind="stable").tolist()
    assert [targets[k] for k in order] == sorted(targets, key=repr)


def _weights() -> st.SearchStrategy[float]:
    # Weights whose sums land on the thresholds exactly (8 comments of 0.5 make 4.0), and others.
    return st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 0.1, 0.3, 1.5, 12.0])


day_offsets = st.sampled_from([0, 0, 1, 2, 7, 30, 89, 90, 91, 120, 364, 365, 366, 400, 700])
member_activities = st.lists(
    st.tuples(st.integers(0, 3), day_offsets, _weights()), max_size=40
).map(lambda xs: [(date(2023, 1, 10) + timedelta(days=a * b), w) for a, b, w in xs])


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.integers(1, 60), member_activities, max_size=8),
    st.dates(date(2023, 2, 1), date(2026, 3, 1)),
    st.sampled_from(["month", "quarter", "year"]),
    st.sampled_from([90.0, 30.0, 7.3, 1.0, 0.5]),
    st.sampled_from([365, 90, 30, 1]),
    st.sampled_from([((1, 40.0, 6), (2, 15.0, 3), (3, 4.0, 1)), ((1, 12.0, 2), (2, 1.0, 1))]),
)
@example(  # 4.0 on 2023-04-09 after a 0 (the running sums' difference is not exactly 4)
    activities={1: [(date(2023, 1, 10), 0.0), (date(2023, 4, 9), 4.0)]},
    until=date(2024, 1, 1),
    review_every="month",
    half_life_days=30.0,
    window_days=365,
    levels=DEFAULT_LEVELS,
)
def test_engagement_levels_at_once_match_one_by_one(
    activities: dict[int, list[tuple[date, float]]],
    until: date,
    review_every: str,
    half_life_days: float,
    window_days: int,
    levels: tuple[tuple[int, float, int], ...],
) -> None:
    """The vectorised levels (running sums of scaled weights, windows by binary search, promotions
    as running minimums between reviews) against ``engagement_levels``, which scores each day by
    a loop over the member's activities. The weights land on the thresholds exactly often: the
    running sums must not put such a score on the other side. A half-life of half a day over
    years of activity takes the one-by-one path of members active over 900 half-lives."""
    args: dict[str, Any] = {
        "review_every": review_every,
        "half_life_days": half_life_days,
        "window_days": window_days,
        "levels": levels,
    }
    want = {m: engagement_levels(acts, until, **args) for m, acts in sorted(activities.items())}
    assert engagement_levels_many(activities, until, **args) == want


def test_engagement_levels_at_once_on_a_day_of_threshold_weights() -> None:
    """8 untyped activities (0.5 each, grouped: 4.0) a year after older ones: the window's sum
    is a difference of running sums, yet exactly 4.0 (level 3), as the loop finds."""
    acts = [(date(2023, 1, 2), 3.0), (date(2023, 6, 1), 5.0), (date(2024, 6, 1), 8 * 0.5)]
    want = engagement_levels(acts, date(2024, 6, 1))
    assert want[-1] == LevelChange(date(2024, 6, 1), 3, "promoted")
    assert engagement_levels_many({1: acts}, date(2024, 6, 1)) == {1: want}
    assert engagement_levels_many({}, date(2024, 6, 1)) == {}
    assert engagement_levels_many({5: []}, date(2024, 6, 1)) == {5: []}
    with pytest.raises(UsageError, match="weights are 0 or more"):
        engagement_levels_many({1: [(date(2024, 1, 1), -1.0)]}, date(2024, 6, 1))


# A random community imported from a CSV file: issues and PRs (opened, commented, reviewed,
# closed, merged) in three repositories, a bot, typed and untyped activities, targets that
# sort differently from their repr and activities without a target or a channel.
PEOPLE = ["ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "renovate[bot]"]
REPOS = ["acme/app", "acme/lib", "acme/it's"]
TARGETS = ["1", "2", "9", "10", "11", "100", "I7", "I70", "a b", "long-issue-name-12"]
KINDS = [
    "github:issue_opened",
    "github:pr_opened",
    "github:issue_comment",
    "github:review_comment",
    "github:review",
    "github:issue_closed",
    "github:pr_closed",
    "github:pr_merged",
    "gitee:pr_comment",
    "github:push",
    "github:star",
]
TYPES = ["", "", "", "code", "review", "doc", "bug", "talk", "question", "a11y"]


def _random_csv(path: Path, seed: int, rows: int) -> None:
    rng = random.Random(seed)
    start = datetime(2023, 9, 1)
    lines = ["kind,occurred_at,actor_platform,actor_username,channel,target,contribution_type"]
    seconds = sorted(rng.sample(range(480 * 86400), rows))  # distinct times: one opener a PR
    for t in seconds:
        kind = rng.choice(KINDS)
        when = (start + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")
        repo = rng.choice(REPOS) if rng.random() > 0.04 else ""
        target = rng.choice(TARGETS) if rng.random() > 0.05 and kind != "github:star" else ""
        ctype = rng.choice(TYPES)
        who = rng.choices(PEOPLE, weights=[40, 25, 12, 8, 5, 3, 2, 1, 1, 8])[0]
        lines.append(f'{kind},{when},github,{who},"{repo}",{target},{ctype}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def random_community(cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path) -> Workspace:
    path = tmp_path / "community.csv"
    _random_csv(path, seed=20240601, rows=900)
    ws = sqlite_workspace
    result = cli.invoke(
        app, ["--workspace", str(ws.root), "import", "csv", str(path), "--kind", "activities"]
    )
    assert result.exit_code == 0, result.output
    return ws


def _month(d: date) -> date:
    return d.replace(day=1)


def _quarter(d: date) -> date:
    return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)


def _after(period: date, months: int) -> date:
    m = period.month - 1 + months
    return period.replace(year=period.year + m // 12, month=m % 12 + 1)


CASES: list[dict[str, Any]] = [
    {},
    {"since": date(2024, 2, 1), "until": date(2024, 9, 30)},
    {"period": "quarter", "include_bots": True},
    {"channels": ("acme/app", "acme/it's"), "until": date(2024, 11, 15)},
]


def _in_range(when: datetime, params: dict[str, Any]) -> bool:
    day = when.date()
    return params.get("since", date.min) <= day <= params.get("until", date.max)


def _people(row: dict[str, Any], params: dict[str, Any]) -> bool:
    return (params.get("include_bots", False) or not row["is_bot"]) and (
        params.get("include_staff", False) or not row["is_staff"]
    )


def _channel(row: dict[str, Any], params: dict[str, Any]) -> bool:
    return "channels" not in params or row["channel"] in params["channels"]


def reference_openrank_series(
    rows: list[dict[str, Any]], params: dict[str, Any]
) -> dict[date, dict[Hashable, float]]:
    """The definition from the activities: an edge per activity on an issue or PR of a channel
    (by a member the parameters keep) in the range; an item is a PR when any PR kind names it,
    merged in a period when merged before the period's end (over the whole history)."""
    bucket, months = (_quarter, 3) if params.get("period") == "quarter" else (_month, 1)
    acts = [
        r
        for r in rows
        if r["kind"] in OPENRANK_KINDS
        and r["target"] is not None
        and r["channel"] is not None
        and _people(r, params)
        and _channel(r, params)
    ]
    is_pr: dict[Any, bool] = defaultdict(bool)
    merged_at: dict[Any, datetime] = {}
    for r in acts:
        it = (r["source_id"], r["channel"], r["target"])
        is_pr[it] |= r["kind"] in PR_KINDS
        if r["kind"] in PR_MERGED_KINDS:
            merged_at[it] = min(r["occurred_at"], merged_at.get(it, r["occurred_at"]))
    edges: dict[date, list[ItemActivity]] = defaultdict(list)
    for r in acts:
        if not _in_range(r["occurred_at"], params):
            continue
        it = (r["source_id"], r["channel"], r["target"])
        period = bucket(r["occurred_at"].date())
        end = datetime.combine(_after(period, months), datetime.min.time())
        merged = it in merged_at and merged_at[it] < end
        action = OPENRANK_KINDS[r["kind"]]
        edges[period].append(
            ItemActivity(r["member_id"], it, r["channel"], action, is_pr[it], merged)
        )
    return {period: reference_openrank(e).developers for period, e in sorted(edges.items())}


def reference_engagement(
    rows: list[dict[str, Any]], until: date, params: dict[str, Any]
) -> dict[int, list[LevelChange]]:
    """``engagement_levels`` of each member, from their activities up to ``until`` grouped by
    day and contribution type (each group weighs the type's weight times its activities)."""
    n: dict[tuple[int, date, str | None], int] = defaultdict(int)
    for r in rows:
        if _people(r, params) and _channel(r, params) and r["occurred_at"].date() <= until:
            n[r["member_id"], r["occurred_at"].date(), r["contribution_type"]] += 1
    per: dict[int, list[tuple[date | datetime, float]]] = defaultdict(list)
    for (m, day, ctype), count in n.items():
        per[m].append((day, engagement_weight(ctype) * count))
    return {m: engagement_levels(acts, until) for m, acts in sorted(per.items())}


def reference_developer_activity(
    raw: list[dict[str, Any]], identities: list[dict[str, Any]], params: dict[str, Any]
) -> dict[tuple[date, str | None, int], dict[str, Any]]:
    """The counts and activity of each (period, channel, member) from the raw activities: a
    merge is credited to the PR's author (its object, else who opened it first), anything else
    to its actor; bots and staff by the credited member's flags."""
    bucket = _quarter if params.get("period") == "quarter" else _month
    who = {i["identity_id"]: i for i in identities}
    opened: dict[Any, tuple[datetime, int]] = {}
    for r in raw:
        # (The SQL join never pairs a null channel or target: null = null is not true.)
        if r["kind"] in PR_OPENED_KINDS and None not in (r["channel"], r["target"]):
            key = (r["source_id"], r["channel"], r["target"])
            opened[key] = min(
                opened.get(key, (r["occurred_at"], r["actor_identity_id"])),
                (r["occurred_at"], r["actor_identity_id"]),
            )
    counts: dict[tuple[date, str | None, int], dict[str, Any]] = {}
    for r in raw:
        if r["kind"] not in ACTIVITY_KINDS or not _in_range(r["occurred_at"], params):
            continue
        if not _channel(r, params):
            continue
        credited = r["actor_identity_id"]
        if r["kind"] in PR_MERGED_KINDS:
            first = opened.get((r["source_id"], r["channel"], r["target"]))
            credited = r["object_identity_id"] or (first[1] if first else None)
        if credited is None or credited not in who or not _people(who[credited], params):
            continue
        person = who[credited]
        key = (bucket(r["occurred_at"].date()), r["channel"], person["member_id"])
        c = counts.setdefault(key, dict.fromkeys(COUNTS, 0) | {"items": set(), "names": []})
        event = ACTIVITY_KINDS[r["kind"]]
        if event in ("open_issue", "open_pull", "merged_pull"):
            c["items"].add((event, r["source_id"], r["target"] or ""))
        else:
            c[event] += 1
        c["names"].append(person["display_name"])
    for c in counts.values():
        for event, *_ in c.pop("items"):
            c[event] += 1
        names = [x for x in c.pop("names") if x is not None]
        c["display_name"] = min(names) if names else None
        c["activity"] = math.sqrt(sum((ACTIVITY_WEIGHTS[k] * c[k] for k in COUNTS), 0.0))
    return counts


def test_fast_metrics_match_the_references_on_a_random_community(
    random_community: Workspace,
) -> None:
    engine = Engine(random_community.snapshot_dir)
    rows = engine.activities().to_pyarrow().to_pylist()
    raw = engine.raw_activities.to_pyarrow().to_pylist()
    identities = engine.identities.to_pyarrow().to_pylist()
    assert len(rows) == 900
    for case in CASES:
        m = Metrics(engine, Params(**case))
        # OpenRank: every developer's value, to the last bit; the top ten of each period.
        series = community_openrank_series(m)
        want = reference_openrank_series(rows, case)
        assert len(want) >= 3
        assert series == want, case
        assert [list(v) for v in series.values()] == [list(v) for v in want.values()]
        top = [
            (period, rank, member, value)
            for period, values in want.items()
            for rank, (member, value) in enumerate(
                sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:10], 1
            )
        ]
        assert community_openrank_top(m, 10) == top
        from_edges = {
            period: reference_openrank(edges).developers
            for period, edges in openrank_edges(m).items()
        }
        assert from_edges == want
        # Engagement levels: every member's changes, and the summary the metric shows.
        until = case.get("until", date(2024, 12, 31))
        levels = member_engagement(m, until)
        assert levels == reference_engagement(rows, until, case)
        summary = sorted(
            (member, h[-1].level, max(c.on for c in h if c.level == h[-1].level), len(h))
            for member, h in levels.items()
        )
        assert sorted(engagement_summary(m, until)) == summary
        assert len({lv for _, lv, _, _ in summary}) >= 3
        # Developer activity: the counts, names and values of every (period, channel, member).
        got = {(r["period"], r["channel"], r["member_id"]): r for r in developer_activity_rows(m)}
        ref = reference_developer_activity(raw, identities, case)
        assert set(got) == set(ref)
        for key, r in ref.items():
            assert {k: got[key][k] for k in (*COUNTS, "display_name")} == {
                k: r[k] for k in (*COUNTS, "display_name")
            }, key
            assert got[key]["activity"] == pytest.approx(r["activity"], rel=1e-12)
        rounded = developer_activity_rows(m, digits=4)
        assert [r["activity"] for r in rounded] == [
            round(r["activity"], 4) for r in developer_activity_rows(m)
        ]
