"""Worked examples for the metrics catalogue (docs/metrics.md), computed by hand.

The main history (``build_history``), in UTC author dates, bots marked with *:

    C1  2024-01-02 10:00  Ada     Initial commit                      +3 -0
    C2  2024-01-10 09:00  Bob     Add parser (#1)                     +2 -0   squash PR 1
    C3  2024-02-01 04:30  Ada     Fix typo (local 2024-01-31 -05:00)  +1 -1
    C4  2024-02-05 12:00  *dependabot  Bump lib ... (#2)              +1 -0   bot squash PR 2
    C5  2024-02-06 08:00  Cy      Add docs, Co-authored-by: Dee       +1 -0   (branch cy/docs)
    M6  2024-02-07 10:00  Bob     Merge pull request #3 from cy/docs          PR 3
    C7  2024-03-14 10:00  *dependabot  Bump x from 2 to 3             +1 -0   (branch)
    M8  2024-03-15 10:00  Ada     Merge pull request #4 from dependabot/bump-x  PR 4
    C9  2024-04-01 10:00  Bob     Refactor parser                     +1 -0   (branch bob/refactor)
    M10 2024-04-02 10:00  *k8s-ci-robot  Merge pull request #5 from bob/refactor  PR 5
    C11 2024-04-03 10:00  Cy      Improve docs (#6), Co-authored-by: Ada  +1 -0  squash PR 6
    C12 2025-01-01 01:00  Eve     Release 1.0 (local 2024-12-31 -03:00)   +1 -0

Merge commits carry no line counts (git log shows no diff for merges).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from commops.analytics.engine import Engine
from commops.analytics.metrics import Metrics, Params
from commops.analytics.snapshot import Snapshot
from commops.errors import UsageError
from commops.identity.audit import find_member
from commops.identity.staff import set_flag
from commops.sources import add_git_source
from commops.sync import sync_workspace
from commops.workspace import Workspace
from conftest import GitRepo

ADA = "Ada Lovelace <ada@example.org>"
BOB = "Bob Marley <bob@example.org>"
CY = "Cy Twombly <cy@example.org>"
EVE = "Eve Arden <eve@example.org>"
DEPENDABOT = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"
PROW = "Kubernetes Prow Robot <k8s-ci-robot@users.noreply.github.com>"


def merge(repo: GitRepo, branch: str, message: str, *, author: str, date: str) -> str:
    return repo.merge(branch, message, author=author, date=date)


def build_history(repo: GitRepo) -> None:
    repo.commit(
        "Initial commit", author=ADA, date="2024-01-02T10:00:00+00:00", files={"a.txt": "1\n2\n3\n"}
    )
    repo.commit(
        "Add parser (#1)", author=BOB, date="2024-01-10T09:00:00+00:00", files={"b.txt": "x\ny\n"}
    )
    repo.commit(
        "Fix typo", author=ADA, date="2024-01-31T23:30:00-05:00", files={"a.txt": "1\n2\nthree\n"}
    )
    repo.commit(
        "Bump lib from 1.0 to 1.1 (#2)",
        author=DEPENDABOT,
        date="2024-02-05T12:00:00+00:00",
        files={"c.txt": "v1.1\n"},
    )
    repo.git("checkout", "-q", "-b", "cy/docs")
    repo.commit(
        "Add docs\n\nCo-authored-by: Dee Dee <dee@example.org>",
        author=CY,
        date="2024-02-06T08:00:00+00:00",
        files={"docs.md": "hello\n"},
    )
    repo.git("checkout", "-q", "main")
    merge(
        repo,
        "cy/docs",
        "Merge pull request #3 from cy/docs",
        author=BOB,
        date="2024-02-07T10:00:00+00:00",
    )
    repo.git("checkout", "-q", "-b", "bump-x")
    repo.commit(
        "Bump x from 2 to 3",
        author=DEPENDABOT,
        date="2024-03-14T10:00:00+00:00",
        files={"d.txt": "3\n"},
    )
    repo.git("checkout", "-q", "main")
    merge(
        repo,
        "bump-x",
        "Merge pull request #4 from dependabot/bump-x",
        author=ADA,
        date="2024-03-15T10:00:00+00:00",
    )
    repo.git("checkout", "-q", "-b", "bob/refactor")
    repo.commit(
        "Refactor parser",
        author=BOB,
        date="2024-04-01T10:00:00+00:00",
        files={"b.txt": "x\ny\nz\n"},
    )
    repo.git("checkout", "-q", "main")
    merge(
        repo,
        "bob/refactor",
        "Merge pull request #5 from bob/refactor",
        author=PROW,
        date="2024-04-02T10:00:00+00:00",
    )
    repo.commit(
        "Improve docs (#6)\n\nCo-authored-by: Ada Lovelace <ada@example.org>",
        author=CY,
        date="2024-04-03T10:00:00+00:00",
        files={"docs.md": "hello\nworld\n"},
    )
    repo.commit(
        "Release 1.0", author=EVE, date="2024-12-31T22:00:00-03:00", files={"e.txt": "1.0\n"}
    )


def add_and_sync(ws: Workspace, repo: GitRepo, name: str) -> None:
    add_git_source(ws.store, str(repo.path), name=name)
    (result,) = sync_workspace(ws, [name])
    assert result.ok, result.error


def metrics(ws: Workspace, **params: Any) -> Metrics:
    return Metrics(Engine(ws.snapshot_dir), Params(**params))


def rows(m: Metrics) -> list[tuple[Any, ...]]:
    """The summary series as (period, active, new, commits, merged PRs) tuples."""
    return [
        (
            r["period"],
            r["active_contributors"],
            r["new_contributors"],
            r["commits"],
            r["merged_prs"],
        )
        for r in m.series().rows
    ]


def month(year: int, m: int) -> date:
    return date(year, m, 1)


EMPTY_2024 = [(month(2024, m), 0, 0, 0, 0) for m in range(5, 13)]


# -- series -----------------------------------------------------------------------------------


def test_series_monthly_matches_hand_count(workspace: Workspace, git_repo: GitRepo) -> None:
    # On both databases: the snapshot is written from SQLite and from PostgreSQL alike.
    build_history(git_repo)
    add_and_sync(workspace, git_repo, "repo")
    assert rows(metrics(workspace)) == [
        (month(2024, 1), 2, 2, 2, 1),  # Ada, Bob; C1, C2; PR 1
        (month(2024, 2), 4, 2, 3, 1),  # Ada, Cy, Dee, Bob; new Cy, Dee; C3, C5, M6; PR 3
        (month(2024, 3), 1, 0, 1, 1),  # Ada; M8; PR 4
        (month(2024, 4), 3, 0, 2, 2),  # Bob, Cy, Ada (co-author); C9, C11; PRs 5 (bot merge), 6
        *EMPTY_2024,
        (month(2025, 1), 1, 1, 1, 0),  # Eve
    ]


def test_totals_match_hand_count(workspace: Workspace, git_repo: GitRepo) -> None:
    build_history(git_repo)
    add_and_sync(workspace, git_repo, "repo")
    assert metrics(workspace).totals().rows == [
        {
            "active_contributors": 5,
            "new_contributors": 5,
            "commits": 9,
            "merge_commits": 2,
            "merged_prs": 5,
            "insertions": 10,
            "deletions": 1,
            "first_activity": datetime(2024, 1, 2, 10, 0),
            "last_activity": datetime(2025, 1, 1, 1, 0),
        }
    ]


def test_series_monthly_with_bots_counts_them(history: Workspace) -> None:
    assert rows(metrics(history, include_bots=True)) == [
        (month(2024, 1), 2, 2, 2, 1),
        (month(2024, 2), 5, 3, 4, 2),  # + dependabot: C4, bot squash PR 2
        (month(2024, 3), 2, 0, 2, 1),  # + dependabot's C7
        (month(2024, 4), 4, 1, 3, 2),  # + k8s-ci-robot, new, and its merge M10
        *EMPTY_2024,
        (month(2025, 1), 1, 1, 1, 0),
    ]


def test_totals_with_bots_counts_them(history: Workspace) -> None:
    assert metrics(history, include_bots=True).totals().rows[0] == {
        "active_contributors": 7,
        "new_contributors": 7,
        "commits": 12,
        "merge_commits": 3,
        "merged_prs": 6,
        "insertions": 12,
        "deletions": 1,
        "first_activity": datetime(2024, 1, 2, 10, 0),
        "last_activity": datetime(2025, 1, 1, 1, 0),
    }


def test_series_quarterly_matches_hand_count(history: Workspace) -> None:
    assert rows(metrics(history, period="quarter")) == [
        (month(2024, 1), 4, 4, 6, 3),
        (month(2024, 4), 3, 0, 2, 2),
        (month(2024, 7), 0, 0, 0, 0),
        (month(2024, 10), 0, 0, 0, 0),
        (month(2025, 1), 1, 1, 1, 0),
    ]


def test_series_yearly_matches_hand_count(history: Workspace) -> None:
    # Eve's commit is 2024-12-31 in her time zone but 2025-01-01 in UTC: buckets are UTC.
    assert rows(metrics(history, period="year")) == [
        (date(2024, 1, 1), 4, 4, 8, 5),
        (date(2025, 1, 1), 1, 1, 1, 0),
    ]


def test_series_weekly_starts_on_monday_and_fills_gaps(history: Workspace) -> None:
    m = metrics(history, period="week", since=date(2024, 1, 3), until=date(2024, 1, 21))
    # 2024-01-01 is a Monday; the first bucket is the week --since falls in, but C1 (Jan 2)
    # is before --since and does not count.
    assert rows(m) == [
        (date(2024, 1, 1), 0, 0, 0, 0),
        (date(2024, 1, 8), 1, 1, 1, 1),
        (date(2024, 1, 15), 0, 0, 0, 0),
    ]


def test_new_contributors_counts_first_contribution_only(history: Workspace) -> None:
    result = metrics(history, since=date(2024, 2, 1), until=date(2024, 4, 30)).run(
        "new-contributors"
    )
    # Ada contributes in Feb, Mar and Apr but is new in January only; Dee's first
    # contribution is a co-authorship.
    assert result.columns == ["period", "new_contributors"]
    assert result.rows == [
        {"period": month(2024, 2), "new_contributors": 2},
        {"period": month(2024, 3), "new_contributors": 0},
        {"period": month(2024, 4), "new_contributors": 0},
    ]


def test_active_contributors_counts_coauthors(history: Workspace) -> None:
    result = metrics(history, since=date(2024, 4, 1), until=date(2024, 4, 30)).run(
        "active-contributors"
    )
    # Bob (C9), Cy (C11), Ada (co-author of C11); k8s-ci-robot is a bot.
    assert result.rows == [{"period": month(2024, 4), "active_contributors": 3}]


# -- since / until ----------------------------------------------------------------------------


def test_until_is_inclusive_of_the_whole_day(history: Workspace) -> None:
    totals = metrics(history, since=date(2024, 1, 10), until=date(2024, 1, 10)).totals()
    row = totals.rows[0]
    assert (
        row["commits"],
        row["active_contributors"],
        row["new_contributors"],
        row["merged_prs"],
    ) == (1, 1, 1, 1)


def test_since_until_are_utc_days(history: Workspace) -> None:
    # Ada's "Fix typo" was written on 2024-01-31 at -05:00, which is 2024-02-01 04:30 UTC.
    on_31 = metrics(history, since=date(2024, 1, 31), until=date(2024, 1, 31)).totals()
    on_1 = metrics(history, since=date(2024, 2, 1), until=date(2024, 2, 1)).totals()
    assert on_31.rows[0]["commits"] == 0
    assert on_1.rows[0]["commits"] == 1


def test_since_until_range_counts_bot_merge_as_merged_pr(history: Workspace) -> None:
    row = metrics(history, since=date(2024, 4, 2), until=date(2024, 4, 3)).totals().rows[0]
    assert (
        row["active_contributors"],
        row["new_contributors"],
        row["commits"],
        row["merged_prs"],
    ) == (2, 0, 1, 2)


def test_since_after_until_is_refused() -> None:
    with pytest.raises(UsageError, match="after --until"):
        Params(since=date(2024, 2, 1), until=date(2024, 1, 1))


def test_unknown_period_is_refused() -> None:
    with pytest.raises(UsageError, match="--period 'fortnight'"):
        Params(period="fortnight")


def test_unknown_metric_is_refused(history: Workspace) -> None:
    with pytest.raises(UsageError, match="no metric named 'sparkles'"):
        metrics(history).run("sparkles")


# -- merged pull requests ---------------------------------------------------------------------


def test_merged_prs_are_dated_by_earliest_committer_date(
    git_repo: GitRepo, sqlite_workspace: Workspace
) -> None:
    git_repo.commit(
        "Feature (#9)",
        author=ADA,
        date="2024-05-30T10:00:00+00:00",
        commit_date="2024-06-02T10:00:00+00:00",
        files={"f.txt": "1\n"},
    )
    # The same PR again (a cherry-pick to a release line): one PR, dated by the first.
    git_repo.commit(
        "Feature (#9)",
        author=ADA,
        date="2024-05-30T10:00:00+00:00",
        commit_date="2024-07-10T10:00:00+00:00",
        files={"g.txt": "1\n"},
    )
    add_and_sync(sqlite_workspace, git_repo, "repo")
    m = metrics(sqlite_workspace)
    assert m.run("commits").rows == [{"period": month(2024, 5), "commits": 2}]
    assert m.run("merged-prs").rows == [{"period": month(2024, 6), "merged_prs": 1}]


# -- sources ----------------------------------------------------------------------------------


@pytest.fixture
def two_sources(history: Workspace, tmp_path: Path) -> Workspace:
    other = GitRepo(tmp_path / "other")
    other.commit(
        "Early work (#1)", author=BOB, date="2023-12-20T10:00:00+00:00", files={"o.txt": "1\n"}
    )
    other.commit(
        "Start other",
        author="Fay Wray <fay@example.org>",
        date="2024-01-05T10:00:00+00:00",
        files={"o.txt": "1\n2\n"},
    )
    add_and_sync(history, other, "other")
    return history


def test_source_filter_keeps_only_that_source(two_sources: Workspace) -> None:
    row = metrics(two_sources, sources=("other",)).totals().rows[0]
    assert (
        row["active_contributors"],
        row["new_contributors"],
        row["commits"],
        row["merged_prs"],
        row["insertions"],
    ) == (2, 2, 2, 1, 2)


def test_source_filter_new_contributors_are_new_to_the_selected_sources(
    two_sources: Workspace,
) -> None:
    # Bob's first contribution anywhere is in "other" (Dec 2023); in "repo" he is new in Jan.
    repo_only = rows(metrics(two_sources, sources=("repo",), until=date(2024, 1, 31)))
    everything = rows(metrics(two_sources, until=date(2024, 1, 31)))
    assert repo_only == [(month(2024, 1), 2, 2, 2, 1)]
    assert everything == [
        (month(2023, 12), 1, 1, 1, 1),  # Bob, PR 1 of "other"
        (month(2024, 1), 3, 2, 3, 1),  # Ada, Bob, Fay; new Ada, Fay; PR 1 of "repo"
    ]


def test_merged_prs_with_same_number_in_two_sources_count_twice(two_sources: Workspace) -> None:
    assert metrics(two_sources).totals().rows[0]["merged_prs"] == 6


# -- staff ----------------------------------------------------------------------------------


def mark_staff(ws: Workspace, email: str) -> None:
    with ws.store.session() as session:
        member_id = find_member(session, email)
        set_flag(session, member_id, "staff", True, actor="test")
    Snapshot(ws.snapshot_dir).refresh(ws.store)


def test_staff_commits_excluded_by_default_and_included_on_request(history: Workspace) -> None:
    mark_staff(history, "bob@example.org")
    # Bob authored C2 (squash PR 1), M6 (merge of Cy's PR 3) and C9 (merged by the bot as PR 5).
    assert rows(metrics(history)) == [
        (month(2024, 1), 1, 1, 1, 0),  # Ada; C1; PR 1 was Bob's: not a community PR
        (month(2024, 2), 3, 2, 2, 1),  # Ada, Cy, Dee; C3, C5; PR 3 (Cy's, merged by Bob) counts
        (month(2024, 3), 1, 0, 1, 1),
        (month(2024, 4), 2, 0, 1, 2),  # Cy, Ada; C11; PRs 5 (a merge commit) and 6
        *EMPTY_2024,
        (month(2025, 1), 1, 1, 1, 0),
    ]
    assert metrics(history).totals().rows[0]["commits"] == 6
    assert "Bob Marley" not in [r[1] for r in top(metrics(history))]
    everyone = metrics(history, include_staff=True)
    assert everyone.totals().rows[0]["commits"] == 9
    assert rows(everyone)[:4] == [
        (month(2024, 1), 2, 2, 2, 1),
        (month(2024, 2), 4, 2, 3, 1),
        (month(2024, 3), 1, 0, 1, 1),
        (month(2024, 4), 3, 0, 2, 2),
    ]
    assert [r[1] for r in top(everyone)][:2] == ["Ada Lovelace", "Bob Marley"]


def test_staff_and_bots_both_included(history: Workspace) -> None:
    mark_staff(history, "bob@example.org")
    row = metrics(history, include_bots=True, include_staff=True).totals().rows[0]
    assert (row["commits"], row["merged_prs"], row["active_contributors"]) == (12, 6, 7)
    row = metrics(history, include_bots=True).totals().rows[0]
    assert (row["commits"], row["merged_prs"], row["active_contributors"]) == (9, 5, 6)


# -- top contributors -------------------------------------------------------------------------


def top(m: Metrics) -> list[tuple[Any, ...]]:
    return [
        (
            r["rank"],
            r["display_name"],
            r["commits"],
            r["co_authored"],
            r["contributions"],
            r["lines_changed"],
        )
        for r in m.top_contributors().rows
    ]


def test_top_contributors_rank_by_commits_then_contributions(history: Workspace) -> None:
    assert top(metrics(history)) == [
        (1, "Ada Lovelace", 3, 1, 4, 5),  # C1, C3, M8 (merges have no lines) + co-authored C11
        (2, "Bob Marley", 3, 0, 3, 3),  # C2, M6, C9
        (3, "Cy Twombly", 2, 0, 2, 2),
        (4, "Eve Arden", 1, 0, 1, 1),
        (5, "Dee Dee", 0, 1, 1, 0),
    ]


def test_top_contributors_limit_and_dates(history: Workspace) -> None:
    result = metrics(history, top=2).top_contributors()
    assert [r["display_name"] for r in result.rows] == ["Ada Lovelace", "Bob Marley"]
    assert (result.rows[0]["first_at"], result.rows[0]["last_at"]) == (
        datetime(2024, 1, 2, 10, 0),
        datetime(2024, 4, 3, 10, 0),
    )


def test_top_contributors_in_range_break_ties_by_member_id(history: Workspace) -> None:
    result = metrics(history, since=date(2024, 4, 1), until=date(2024, 4, 30)).top_contributors()
    ranked = [
        (r["display_name"], r["commits"], r["contributions"], r["lines_changed"])
        for r in result.rows
    ]
    # Bob (C9) and Cy (C11) tie on commits and contributions: the lower member id goes first.
    assert sorted(ranked[:2]) == [("Bob Marley", 1, 1, 1), ("Cy Twombly", 1, 1, 1)]
    assert result.rows[0]["member_id"] < result.rows[1]["member_id"]
    assert ranked[2] == ("Ada Lovelace", 0, 1, 0)


def test_top_contributors_with_bots(history: Workspace) -> None:
    ranked = top(metrics(history, include_bots=True))
    by_name = {name: (commits, contributions) for _, name, commits, _, contributions, _ in ranked}
    assert by_name["dependabot[bot]"] == (2, 2)
    assert by_name["Kubernetes Prow Robot"] == (1, 1)
    assert [name for _, name, *_ in ranked[:2]] == ["Ada Lovelace", "Bob Marley"]
    assert len(ranked) == 7


def test_result_json_states_definition_and_params(history: Workspace) -> None:
    out = (
        metrics(history, period="year", since=date(2024, 1, 1), sources=("repo",))
        .run("commits")
        .to_json()
    )
    assert out["metric"] == "commits"
    assert out["params"] == {
        "since": "2024-01-01",
        "until": None,
        "period": "year",
        "sources": ["repo"],
        "include_bots": False,
        "include_staff": False,
        "new_by": "any",
        "inactive_months": 6,
        "bus_rule": "strict",
        "bus_threshold": 0.5,
        "unaffiliated": "exclude",
        "core_share": 0.8,
        "regular_share": 0.95,
        "review_every": "quarter",
        "channels": [],
        "organizations": [],
        "tags": [],
        "top": 10,
    }
    assert out["rows"] == [
        {"period": "2024-01-01", "commits": 8},
        {"period": "2025-01-01", "commits": 1},
    ]
