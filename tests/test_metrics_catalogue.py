"""Worked examples for the contributor, adoption and drill-down metrics (docs/metrics.md).

Two hand-counted datasets: the git history of tests/test_metrics.py (its docstring lists every
commit) and the GitHub organisation of tests/test_github.py (``build_org``: 25 items on
2024-01-01..25, every third a PR by user{n % 4}, the even ones merged by ``maintainer``;
7 stars on 2024-03-01..07, one fork on 2024-03-05).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from commops.analytics.engine import Engine
from commops.analytics.metrics import DEFINITIONS, Metrics, Params
from commops.cli import app
from commops.errors import UsageError
from commops.workspace import Workspace


def metrics(ws: Workspace, **params: Any) -> Metrics:
    return Metrics(Engine(ws.snapshot_dir), Params(**params))


def series(result: Any) -> list[tuple[Any, ...]]:
    col = result.columns[1]
    return [(r["period"], r[col]) for r in result.rows if r[col]]


# -- contributors -------------------------------------------------------------------------------


def test_returning_contributors_are_active_minus_new(history: Workspace) -> None:
    # Jan: Ada, Bob both new. Feb: Ada, Bob return (Cy, Dee new). Mar: Ada. Apr: Bob, Cy, Ada.
    # 2025-01: Eve is new.
    got = series(metrics(history).run("returning-contributors"))
    assert got == [(date(2024, 2, 1), 2), (date(2024, 3, 1), 1), (date(2024, 4, 1), 3)]
    m = metrics(history)
    active, new = m.active_contributors(), m.new_contributors()
    returning = m.returning_contributors()
    assert all(active[p] - new.get(p, 0) == returning.get(p, 0) for p in active)


def test_inactive_contributors_after_six_months_of_silence(history: Workspace) -> None:
    # Last contributions: Dee 2024-02-06, Bob 2024-04-01 (C9), Ada and Cy 2024-04-03 (C11),
    # Eve 2025-01-01, the last day of data: her six months have not passed.
    got = series(metrics(history).run("inactive-contributors"))
    assert got == [(date(2024, 8, 1), 1), (date(2024, 10, 1), 3)]
    three = series(metrics(history, inactive_months=3).run("inactive-contributors"))
    assert three == [(date(2024, 5, 1), 1), (date(2024, 7, 1), 3)]


def test_retention_cohorts_by_year_and_month(history: Workspace) -> None:
    yearly = metrics(history, period="year").run("retention").rows
    assert [(r["cohort"], r["periods_since"], r["active"], r["cohort_size"]) for r in yearly] == [
        (date(2024, 1, 1), 0, 4, 4),  # Ada, Bob, Cy, Dee
        (date(2024, 1, 1), 1, 0, 4),  # none of them in 2025
        (date(2025, 1, 1), 0, 1, 1),  # Eve
    ]
    monthly = metrics(history).run("retention").rows
    jan = [(r["periods_since"], r["active"]) for r in monthly if r["cohort"] == date(2024, 1, 1)]
    # Ada and Bob: both in Feb, Ada in Mar, both in Apr (Ada as co-author), then nobody.
    assert jan[:5] == [(0, 2), (1, 2), (2, 1), (3, 2), (4, 0)]
    assert len(jan) == 13  # 2024-01 .. 2025-01
    for r in monthly:  # every cohort starts whole
        if r["periods_since"] == 0:
            assert r["share"] == 1.0


def test_contribution_types_count_contributions_and_members(history: Workspace) -> None:
    rows = metrics(history).run("contribution-types").rows
    feb = {
        r["contribution_type"]: (r["contributions"], r["members"])
        for r in rows
        if r["period"] == date(2024, 2, 1)
    }
    total = sum(c for c, _ in feb.values())
    # Feb without bots: C3 (Ada), C5 (Cy) and its co-author Dee, M6 (Bob).
    assert total == 4
    per_month: dict[date, int] = {}
    for r in rows:
        per_month[r["period"]] = per_month.get(r["period"], 0) + r["contributions"]
    assert per_month == {
        date(2024, 1, 1): 2,
        date(2024, 2, 1): 4,
        date(2024, 3, 1): 1,
        date(2024, 4, 1): 3,
        date(2025, 1, 1): 1,
    }


def test_new_contributors_by_first_pr_opened_or_merged(org: Workspace) -> None:
    # PRs 3, 6, 9, 12 (then 15, ...) by user3, user2, user1, user0; merged: 6 and 18 (user2),
    # 12 and 24 (user0).
    opened = series(metrics(org, new_by="pr-opened").run("new-contributors"))
    merged = series(metrics(org, new_by="pr-merged").run("new-contributors"))
    assert opened == [(date(2024, 1, 1), 4)]
    assert merged == [(date(2024, 1, 1), 2)]
    explained = metrics(org, new_by="pr-merged").explain("new-contributors", date(2024, 1, 1))
    assert sorted((r["kind"], r["display_name"]) for r in explained.rows) == [
        ("github:pr_merged", "user0"),
        ("github:pr_merged", "user2"),
    ]
    assert sorted(r["occurred_at"].day for r in explained.rows) == [6, 12]


def test_new_by_unknown_value_is_refused() -> None:
    with pytest.raises(UsageError, match="--new-by"):
        Params(new_by="first-commit")
    with pytest.raises(UsageError, match="--inactive-months"):
        Params(inactive_months=0)


# -- adoption ---------------------------------------------------------------------------------


def test_stars_and_forks_new_and_running_total(org: Workspace) -> None:
    stars = metrics(org, period="day", since=date(2024, 3, 5), until=date(2024, 3, 8)).run("stars")
    assert [(r["period"].day, r["new"], r["total"]) for r in stars.rows] == [
        (5, 1, 5),  # four stars before --since still count in the total
        (6, 1, 6),
        (7, 1, 7),
        (8, 0, 7),
    ]
    forks = metrics(org).run("forks")
    assert [(r["period"], r["new"], r["total"]) for r in forks.rows] == [(date(2024, 3, 1), 1, 1)]


# -- drill-down -------------------------------------------------------------------------------


def test_explain_lists_the_activities_behind_a_value(history: Workspace) -> None:
    m = metrics(history)
    commits = m.explain("commits", date(2024, 2, 14))  # any day of the month
    assert commits.rows[0]["period"] == date(2024, 2, 1)
    assert len(commits.rows) == m.commits()[date(2024, 2, 1)]
    assert [r["title"] for r in commits.rows] == [
        "Fix typo",
        "Add docs",
        "Merge pull request #3 from cy/docs",
    ]
    new = m.explain("new-contributors", date(2024, 2, 1))
    assert sorted(r["display_name"] for r in new.rows) == ["Cy Twombly", "Dee Dee"]
    inactive = metrics(history).explain("inactive-contributors", date(2024, 10, 1))
    assert sorted(r["display_name"] for r in inactive.rows) == [
        "Ada Lovelace",
        "Bob Marley",
        "Cy Twombly",
    ]
    prs = m.explain("merged-prs", date(2024, 4, 1))
    # PR 5 is named by its merge commit M10 (C9's subject names no PR), PR 6 by C11.
    assert sorted(r["title"] for r in prs.rows) == [
        "Improve docs (#6)",
        "Merge pull request #5 from bob/refactor",
    ]


def test_explain_refuses_tables(history: Workspace) -> None:
    with pytest.raises(UsageError, match="series"):
        metrics(history).explain("top-contributors", date(2024, 1, 1))


def test_cli_metrics_list_and_explain(history: Workspace, cli: CliRunner) -> None:
    base = ["--workspace", str(history.root)]
    listed = cli.invoke(app, [*base, "metrics", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    names = [m["metric"] for m in json.loads(listed.output)]
    assert names == list(DEFINITIONS)
    assert all(m["formula"] and m["reference"] for m in json.loads(listed.output))
    explained = cli.invoke(app, [*base, "metrics", "commits", "--explain", "2024-02", "--json"])
    assert explained.exit_code == 0, explained.output
    assert len(json.loads(explained.output)["rows"]) == 3
    bad = cli.invoke(app, [*base, "metrics", "commits", "--explain", "Feb"])
    assert isinstance(bad.exception, UsageError)
    assert "--explain 'Feb'" in str(bad.exception)
    daily = cli.invoke(
        app,
        [
            *base,
            "metrics",
            "commits",
            "--period",
            "day",
            "--since",
            "2024-02-05",
            "--until",
            "2024-02-07",
            "--csv",
        ],
    )
    assert daily.exit_code == 0, daily.output
    assert daily.output.splitlines() == [
        "period,commits",
        "2024-02-05,0",  # dependabot's (a bot) is left out
        "2024-02-06,1",
        "2024-02-07,1",
    ]


def test_empty_workspace_metrics_are_empty(tmp_path: Path, sqlite_workspace: Workspace) -> None:
    m = metrics(sqlite_workspace)
    assert m.run("retention").rows == []
    assert m.run("stars").rows == []
    assert m.run("inactive-contributors").rows == []


def test_python_api_compute_and_explain(history: Workspace) -> None:
    from commops import metrics as api

    result = api.compute("returning-contributors", workspace=history.root, since="2024-02-01")
    assert result.params.since == date(2024, 2, 1)
    assert [r["returning_contributors"] for r in result.rows][:3] == [2, 1, 3]
    rows = api.explain("commits", date(2024, 3, 1), workspace=history.root).rows
    assert [r["title"] for r in rows] == ["Merge pull request #4 from dependabot/bump-x"]
    assert [d.name for d in api.catalogue()] == list(DEFINITIONS)
    with pytest.raises(UsageError, match="unknown metric parameter"):
        api.compute("commits", workspace=history.root, perid="week")
    with pytest.raises(UsageError, match="no metric named"):
        api.compute("sparkles", workspace=history.root)


def test_python_api_compute_all_matches_compute_one_by_one(org: Workspace) -> None:
    """The whole catalogue over one shared read of the snapshot gives what each metric gives
    on its own (``Metrics`` without the materialised table, as the drill-down reads)."""
    from commops import metrics as api

    every = api.compute_all(workspace=org.root, period="quarter")
    assert list(every) == list(DEFINITIONS)
    for name in ("time-to-first-response", "funnel", "absence-factor", "top-contributors"):
        alone = api.compute(name, workspace=org.root, period="quarter")
        assert every[name].rows == alone.rows, name
    uncached = Metrics(Engine(org.snapshot_dir), Params(period="quarter"), cache=False)
    for name in DEFINITIONS:
        assert uncached.run(name).rows == every[name].rows, name
    with pytest.raises(UsageError, match="no metric named 'sparkles'"):
        api.compute_all(["stars", "sparkles"], workspace=org.root)


def test_run_all_at_once_gives_what_each_metric_gives_one_at_a_time(org: Workspace) -> None:
    """``run_all`` runs the metrics two at a time (threads, a DuckDB cursor each, sharing the
    materialised activities and the memo): the same rows as ``run`` one by one, in the order
    asked, each metric timed."""
    names = ["funnel", "conversion", "time-to-merge", "issue-age", "stars", "community-support"]
    one = metrics(org, period="quarter")
    alone = {name: one.run(name).rows for name in names}
    times: dict[str, float] = {}
    with metrics(org, period="quarter") as m:
        every = m.run_all(names, times=times)
    assert list(every) == names
    assert {name: r.rows for name, r in every.items()} == alone
    assert set(times) == set(names)
    assert all(t >= 0 for t in times.values())
    with pytest.raises(UsageError, match="no metric named 'sparkles'"):
        metrics(org).run_all(["stars", "sparkles"])


def test_engine_fetch_from_another_thread_sees_the_kept_tables(org: Workspace) -> None:
    """A thread other than the engine's own runs queries on a cursor of its own, which sees the
    snapshot's views and the tables ``materialize`` kept; ``release`` drops them for all."""
    from concurrent.futures import ThreadPoolExecutor

    engine = Engine(org.snapshot_dir)
    a = engine.raw_activities
    kept = engine.materialize(a.group_by("kind").aggregate(n=a.count()))
    here = engine.fetch(kept.order_by("kind")).to_pylist()
    with ThreadPoolExecutor(max_workers=1) as pool:
        there = pool.submit(lambda: engine.fetch(kept.order_by("kind")).to_pylist()).result()
        total = pool.submit(lambda: engine.fetch(a.count()).as_py()).result()
    assert there == here
    assert sum(r["n"] for r in here) == total > 0
    engine.release(kept)
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(Exception, match="kept"):
        pool.submit(lambda: engine.fetch(kept)).result()


# -- responsiveness and releases ----------------------------------------------------------------


def test_time_to_first_response_counts_unanswered_items_apart(org: Workspace) -> None:
    # Every item of `app` gets a comment by `helper` an hour after it is opened (09:00 -> 10:00;
    # the PRs' reviews at 11:00 come later); docs#1 by `writer` gets nothing.
    rows = metrics(org).run("time-to-first-response").rows
    assert [(r["item_type"], r["opened"], r["responded"], r["unresponded"]) for r in rows] == [
        ("issue", 18, 17, 1),  # 17 issues in app, docs#1
        ("pr", 8, 8, 0),  # 3, 6, ..., 24
    ]
    assert all((r["mean_hours"], r["p50_hours"], r["p90_hours"]) == (1.0, 1.0, 1.0) for r in rows)


def test_time_to_merge_and_change_request_ratios(org: Workspace) -> None:
    # Merged: 6, 12, 18, 24, 9 hours after opening (09:00 -> 18:00); 15 closed unmerged.
    (merge,) = metrics(org).run("time-to-merge").rows
    assert (merge["merged"], merge["p50_hours"], merge["p90_hours"]) == (4, 9.0, 9.0)
    (cr,) = metrics(org).run("change-requests").rows
    assert (cr["opened"], cr["merged"], cr["closed"]) == (8, 4, 1)
    assert cr["closure_ratio"] == 0.625  # (4 + 1) / 8
    assert cr["acceptance_ratio"] == 0.8  # 4 / (4 + 1)


def test_issue_age_at_the_end_of_each_period(org: Workspace) -> None:
    # Open on 2024-02-01 00:00: app issues 1 2 4 7 8 11 13 14 16 17 19 22 23 (5 10 20 25 were
    # closed; 15 is a PR), opened on day n at 09:00, so 31 - n + 0.625 days old; docs#1 of
    # 2024-01-03 09:00 is 28.625 days old. Mean (13 * 31.625 - 157 + 28.625) / 14.
    (jan,) = metrics(org, until=date(2024, 1, 31)).run("issue-age").rows
    assert jan["open_issues"] == 14
    assert jan["mean_days"] == round((13 * 31.625 - 157 + 28.625) / 14, 2)
    ages = sorted(
        [31 - n + 0.625 for n in (1, 2, 4, 7, 8, 11, 13, 14, 16, 17, 19, 22, 23)] + [28.625]
    )
    assert jan["p50_days"] == round((ages[6] + ages[7]) / 2, 2)


def test_releases_per_period(org: Workspace) -> None:
    assert [(r["period"], r["releases"]) for r in metrics(org).run("releases").rows] == [
        (date(2024, 2, 1), 1)
    ]


def test_quantiles_are_exact_and_empty_when_nothing_to_measure() -> None:
    from commops.analytics.metrics import _stats

    assert _stats([], "hours") == {"mean_hours": None, "p50_hours": None, "p90_hours": None}
    assert _stats([1.0, 2.0, 3.0, 4.0], "hours") == {
        "mean_hours": 2.5,
        "p50_hours": 2.5,
        "p90_hours": 3.7,  # numpy's linear: 1 + 0.9 * 3 positions -> 3.7
    }


# -- funnel -------------------------------------------------------------------------------------


def test_funnel_levels_first_reached(org: Workspace) -> None:
    # D1 in January: user0..user3 (issues and PRs), helper (comments), reviewer (reviews),
    # writer (docs#1). D2 in January: the authors of merged PRs 6 (user2) and 12 (user0).
    # February: asker opens a discussion (D1); its accepted answer is credited to its author
    # (D2). March: 7 stars and a fork by 8 people (D0).
    rows = metrics(org).run("funnel").rows
    assert [(r["period"], r["d0"], r["d1"], r["d2"]) for r in rows] == [
        (date(2024, 1, 1), 0, 7, 2),
        (date(2024, 2, 1), 0, 1, 1),
        (date(2024, 3, 1), 8, 0, 0),
    ]


def test_conversion_between_levels(org: Workspace) -> None:
    rows = metrics(org).run("conversion").rows
    steps = {(r["period"], r["step"]): (r["members"], r["converted"], r["rate"]) for r in rows}
    # Of January's 7 new D1 members, user2, user0 and the accepted answerer reached D2.
    assert steps[(date(2024, 1, 1), "D1→D2")] == (7, 3, round(3 / 7, 4))
    assert steps[(date(2024, 2, 1), "D1→D2")] == (1, 0, 0.0)  # asker
    assert steps[(date(2024, 3, 1), "D0→D1")] == (8, 0, 0.0)  # the fans did nothing else
    jan = next(r for r in rows if r["step"] == "D1→D2" and r["period"] == date(2024, 1, 1))
    # From first taking part to first accepted work: user2 from issue 2 (Jan 2 09:00) to PR 6
    # merged (Jan 6 18:00), 4.375 days; user0 from issue 4 (Jan 4 09:00) to PR 12 merged
    # (Jan 12 18:00), 8.375 days; the answerer from January to the answer accepted on Feb 3,
    # longer. The median is 8.375.
    assert jan["p50_days"] == round(8.375, 2)


# -- concentration and influence in the catalogue -------------------------------------------------


def test_catalogue_runs_concentration_and_influence(org: Workspace) -> None:
    from commops.analytics.concentration import absence_factor_series, onion_tiers_series
    from commops.analytics.influence import developer_activity

    m = metrics(org)
    assert {(r["period"], r["absence_factor"]) for r in m.run("absence-factor").rows} == set(
        absence_factor_series(m).items()
    )
    at_least = metrics(org, bus_rule="at-least").run("absence-factor").rows
    strict = m.run("absence-factor").rows
    assert all(
        a["absence_factor"] <= s["absence_factor"] for a, s in zip(at_least, strict, strict=True)
    )
    tiers = m.run("onion-tiers").rows
    expected = onion_tiers_series(m)
    assert [r["core"] + r["regular"] + r["casual"] for r in tiers] == [
        len(expected[r["period"]]) for r in tiers
    ]
    # user2 in January: issues 2, 10, 14, 22 opened; PRs 6 and 18 opened and merged.
    dev = {r["display_name"]: r for r in m.run("developer-activity").rows}
    assert (dev["user2"]["open_issue"], dev["user2"]["open_pull"]) == (4, 2)
    assert dev["user2"]["merged_pull"] == 2
    assert dev["user2"]["activity"] == round(
        developer_activity(open_issue=4, open_pull=2, merged_pull=2), 4
    )
    repo = {r["channel"]: r["activity"] for r in m.run("repository-activity").rows}
    app_devs = [
        r["activity"] for r in m.run("developer-activity").rows if r["channel"] == "octo-org/app"
    ]
    assert abs(repo["octo-org/app"] - sum(app_devs)) < 1e-3  # the sum of its developers'
    ranks = m.run("community-openrank").rows
    assert [r["rank"] for r in ranks if r["period"] == date(2024, 1, 1)][:3] == [1, 2, 3]
    assert all(r["openrank"] >= 0 for r in ranks)
    levels = m.run("engagement-levels").rows
    assert {r["level"] for r in levels} <= {1, 2, 3, 4}
    # No organisation is known in this workspace: nothing to count.
    assert {r["elephant_factor"] for r in m.run("elephant-factor").rows} == {0}
    with pytest.raises(UsageError, match="--bus-rule"):
        Params(bus_rule="half")


# -- community support ----------------------------------------------------------------------------


def test_community_support_questions_answers_and_staff(org: Workspace) -> None:
    # One answerable discussion (asker, 2024-02-02 09:00): helper answers at 10:00, user1 at
    # 11:00; user1's answer is accepted. The other discussion is not a question.
    (feb,) = metrics(org).run("community-support").rows
    assert (feb["questions"], feb["answered"], feb["by_community"], feb["accepted"]) == (1, 1, 1, 1)
    assert (feb["community_share"], feb["accepted_rate"], feb["p50_hours"]) == (1.0, 1.0, 1.0)
    top = metrics(org).run("top-answerers").rows
    assert [(r["display_name"], r["answers"], r["accepted"]) for r in top] == [
        ("user1", 1, 1),  # accepted answer first among equals
        ("helper", 1, 0),
    ]
    assert metrics(org).run("unanswered-questions").rows == []
    # When helper is staff, the first answer came from staff, not the community.
    from commops.identity.audit import find_member
    from commops.identity.staff import set_flag

    with org.store.session() as session:
        set_flag(session, find_member(session, "helper"), "staff", True, actor="test")
    from commops.analytics.snapshot import Snapshot

    Snapshot(org.snapshot_dir).refresh(org.store)
    (staffed,) = metrics(org).run("community-support").rows
    assert (staffed["answered"], staffed["by_community"], staffed["community_share"]) == (1, 0, 0.0)


# -- adoption from observations -------------------------------------------------------------------


def test_downloads_and_watchers_from_readings(sqlite_workspace: Workspace) -> None:
    from datetime import datetime

    from commops.analytics.snapshot import Snapshot
    from commops.store.models import Observation, Source

    ws = sqlite_workspace
    with ws.store.session() as session:
        src = Source(
            name="dl",
            kind="downloads",
            location="pypi:demo",
            options={},
            created_at=datetime(2024, 1, 1),
            status={},
        )
        session.add(src)
        session.flush()
        readings = [
            # pypi: daily counts
            ("pypi:demo:downloads", datetime(2024, 1, 30), "count", 10),
            ("pypi:demo:downloads", datetime(2024, 1, 31), "count", 5),
            ("pypi:demo:downloads", datetime(2024, 2, 1), "count", 7),
            # Docker pulls: a running counter; the first reading adds nothing, a drop nothing
            ("docker:demo/app:pulls", datetime(2024, 1, 10), "counter", 1000),
            ("docker:demo/app:pulls", datetime(2024, 1, 20), "counter", 1100),
            ("docker:demo/app:pulls", datetime(2024, 2, 5), "counter", 1090),
            ("docker:demo/app:pulls", datetime(2024, 2, 25), "counter", 1200),
            # watchers of two repositories
            ("github:o/a:watchers", datetime(2024, 1, 15), "counter", 3),
            ("github:o/b:watchers", datetime(2024, 1, 16), "counter", 4),
            ("github:o/a:watchers", datetime(2024, 3, 2), "counter", 5),
        ]
        for series, at, kind, value in readings:
            session.add(
                Observation(
                    source_id=src.id,
                    series=series,
                    observed_at=at,
                    kind=kind,
                    value=value,
                    decreased=False,
                    attributes={},
                )
            )
    Snapshot(ws.snapshot_dir).refresh(ws.store)
    got = [(r["period"], r["channel"], r["downloads"]) for r in metrics(ws).run("downloads").rows]
    assert got == [
        (date(2024, 1, 1), "docker:demo/app", 100),
        (date(2024, 1, 1), "pypi:demo", 15),
        (date(2024, 2, 1), "docker:demo/app", 110),  # 1090 after 1100 adds 0, then +110
        (date(2024, 2, 1), "pypi:demo", 7),
    ]
    watchers = [(r["period"], r["watchers"]) for r in metrics(ws).run("watchers").rows]
    # Jan: 3 + 4; Feb: nothing new, the last readings hold; Mar: 5 + 4.
    assert watchers == [(date(2024, 1, 1), 7), (date(2024, 2, 1), 7), (date(2024, 3, 1), 9)]


# -- cuts -----------------------------------------------------------------------------------------


def test_cut_by_channel_tag_and_organisation(org: Workspace) -> None:
    from commops.analytics.snapshot import Snapshot
    from commops.identity.audit import find_member
    from commops.identity.orgs import enroll, ensure_organization
    from commops.store.models import Member

    # docs#1 by writer is the only item in octo-org/docs.
    docs = metrics(org, channels=("octo-org/docs",)).run("time-to-first-response").rows
    assert [(r["item_type"], r["opened"]) for r in docs] == [("issue", 1)]
    with org.store.session() as session:
        user2 = find_member(session, "user2")
        member = session.get(Member, user2)
        assert member is not None
        member.tags = ["ambassador"]
        ensure_organization(session, "Acme")
        # user0 is with Acme from 2024-01-10: PR 12 (Jan 12) counts for Acme, issue 4 (Jan 4)
        # does not.
        enroll(session, find_member(session, "user0"), "Acme", start=date(2024, 1, 10), actor="t")
    Snapshot(org.snapshot_dir).refresh(org.store)
    tagged = metrics(org, tags=("ambassador",), new_by="pr-opened").run("new-contributors")
    assert series(tagged) == [(date(2024, 1, 1), 1)]  # user2 alone
    dev = metrics(org, organizations=("Acme",)).run("developer-activity").rows
    assert [(r["display_name"], r["open_issue"], r["open_pull"]) for r in dev] == [
        ("user0", 2, 2)  # issues 16, 20 (after Jan 10; 8 is before); PRs 12, 24
    ]
    none = metrics(org, organizations=("Nobody Inc",)).run("active-contributors")
    assert none.rows == []
