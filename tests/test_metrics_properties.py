"""Invariants of the metrics catalogue over small random activity sets (hypothesis).

Each example writes its activities as a JSONL file, imports it through the tabular connector
into a fresh SQLite workspace (the sync runner: identities, members, bot rules, the snapshot),
and checks relations that must hold whatever the data: new <= active, active = new + returning,
retention cohorts that add up, bus factors bounded by the contributors, a funnel that counts
each member once per level, a running star total that never goes down, and commit counts that
agree across period lengths. Expected totals are counted from the store with SQL, not from the
snapshot the metrics read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from commops.analytics.engine import Engine
from commops.analytics.metrics import (
    FUNNEL_D0,
    FUNNEL_D1,
    FUNNEL_D2_BY_ACTOR,
    STAR_KINDS,
    Metrics,
    Params,
)
from commops.analytics.snapshot import Snapshot
from commops.sources import ensure_source
from commops.store.models import Activity, Identity, Member
from commops.sync import sync_workspace
from commops.workspace import Workspace, init_workspace

START = datetime(2024, 1, 1, 0, 0, 0)
# Distinct enough that the resolver never joins two of them; the last is a bot by its name.
LOGINS = ("alvarez", "brennan", "chukwu", "dimitrov", "eriksson", "fujimoto", "ci-helper[bot]")
# (kind, contribution type): contributions, funnel levels D0/D1/D2, and plain activity.
KINDS = (
    ("git:commit", "code"),
    ("github:pr_opened", "code"),
    ("github:issue_opened", "bug"),
    ("github:issue_comment", None),
    ("discourse:post", "question"),
    ("github:star", None),
    ("github:fork", None),
)
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

Act = tuple[int, int, int, int]  # login index, kind index, day, hour
activity_sets = st.lists(
    st.tuples(
        st.integers(0, len(LOGINS) - 1),
        st.integers(0, len(KINDS) - 1),
        st.integers(0, 420),
        st.integers(0, 23),
    ),
    min_size=1,
    max_size=40,
)
periods = st.sampled_from(("week", "month", "quarter"))


def _row(n: int, act: Act) -> dict[str, Any]:
    who, what, day, hour = act
    kind, ctype = KINDS[what]
    at = START + timedelta(days=day, hours=hour, minutes=n % 60)
    out: dict[str, Any] = {
        "kind": kind,
        "occurred_at": at.isoformat() + "Z",
        "actor_platform": "github",
        "actor_username": LOGINS[who],
        "item_key": f"act/{n}",
        "channel": "demo/repo",
    }
    if ctype is not None:
        out["contribution_type"] = ctype
    return out


@contextmanager
def workspace_with(
    tmp_path_factory: pytest.TempPathFactory, acts: list[Act]
) -> Iterator[Workspace]:
    ws, _ = init_workspace(tmp_path_factory.mktemp("props") / "ws")
    try:
        path = ws.root / "acts.jsonl"
        rows = [_row(n, a) for n, a in enumerate(acts)]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        ensure_source(ws.store, "tabular", str(path), name="acts", options={})
        (result,) = sync_workspace(
            ws, ["acts"], params={"file": str(path), "format": None, "skip_invalid": False}
        )
        assert result.ok, result.error
        Snapshot(ws.snapshot_dir).refresh(ws.store)
        yield ws
    finally:
        ws.close()


def metrics(ws: Workspace, **params: Any) -> Metrics:
    return Metrics(Engine(ws.snapshot_dir), Params(**params))


def people(ws: Workspace, *where: Any, by_object: bool = False) -> set[int]:
    """Members (not bots, not staff) with an activity matching ``where``, from the store."""
    ident = aliased(Identity)
    col = Activity.object_identity_id if by_object else Activity.actor_identity_id
    stmt = (
        select(ident.member_id)
        .select_from(Activity)
        .join(ident, ident.id == col)
        .join(Member, Member.id == ident.member_id)
        .where(~Member.is_bot, ~Member.is_staff, *where)
        .distinct()
    )
    with ws.store.session() as session:
        return set(session.execute(stmt).scalars())


def count(ws: Workspace, *where: Any) -> int:
    stmt = (
        select(func.count())
        .select_from(Activity)
        .join(Identity, Identity.id == Activity.actor_identity_id)
        .join(Member, Member.id == Identity.member_id)
        .where(~Member.is_bot, ~Member.is_staff, *where)
    )
    with ws.store.session() as session:
        return int(session.execute(stmt).scalar_one())


@SETTINGS
@given(acts=activity_sets, period=periods, new_by=st.sampled_from(("any", "pr-opened")))
def test_new_returning_and_active_agree_per_period(
    tmp_path_factory: pytest.TempPathFactory, acts: list[Act], period: str, new_by: str
) -> None:
    with workspace_with(tmp_path_factory, acts) as ws:
        m = metrics(ws, period=period)
        active = m.active_contributors()
        new_any = m.new_contributors()
        returning = m.returning_contributors()
        new = metrics(ws, period=period, new_by=new_by).new_contributors()
        contributors = people(ws, Activity.contribution_type.is_not(None))
    for p, n in new.items():
        assert n <= active.get(p, 0), (p, new, active)
    for p in set(active) | set(new_any) | set(returning):
        assert active.get(p, 0) == new_any.get(p, 0) + returning.get(p, 0), p
    assert sum(new_any.values()) == len(contributors)


@SETTINGS
@given(acts=activity_sets, period=periods)
def test_retention_cohorts_add_up_to_the_contributors(
    tmp_path_factory: pytest.TempPathFactory, acts: list[Act], period: str
) -> None:
    with workspace_with(tmp_path_factory, acts) as ws:
        rows = metrics(ws, period=period).retention().rows
        contributors = people(ws, Activity.contribution_type.is_not(None))
    sizes = {r["cohort"]: r["cohort_size"] for r in rows}
    assert sum(sizes.values()) == len(contributors)
    firsts = [r for r in rows if r["periods_since"] == 0]
    assert sorted(r["cohort"] for r in firsts) == sorted(sizes)
    assert all(r["share"] == 1.0 and r["active"] == r["cohort_size"] for r in firsts)
    assert all(0 <= r["active"] <= r["cohort_size"] for r in rows)


@SETTINGS
@given(acts=activity_sets, period=periods)
def test_absence_factor_is_bounded_by_the_active_contributors(
    tmp_path_factory: pytest.TempPathFactory, acts: list[Act], period: str
) -> None:
    with workspace_with(tmp_path_factory, acts) as ws:
        active = metrics(ws, period=period).active_contributors()
        strict = metrics(ws, period=period).absence_factor()
        at_least = metrics(ws, period=period, bus_rule="at-least").absence_factor()
    assert set(at_least) == set(strict)
    for p, value in strict.items():
        assert 0 <= at_least[p] <= value <= active.get(p, 0), p
        assert (value > 0) == (active.get(p, 0) > 0), p


@SETTINGS
@given(acts=activity_sets, period=periods)
def test_funnel_counts_each_member_once_per_level(
    tmp_path_factory: pytest.TempPathFactory, acts: list[Act], period: str
) -> None:
    with workspace_with(tmp_path_factory, acts) as ws:
        rows = metrics(ws, period=period).funnel().rows
        expected = {
            "d0": people(ws, Activity.kind.in_(FUNNEL_D0)),
            "d1": people(ws, Activity.kind.in_(FUNNEL_D1)),
            "d2": people(ws, Activity.kind.in_(FUNNEL_D2_BY_ACTOR)),
        }
    for level, members in expected.items():
        assert sum(r[level] for r in rows) == len(members), level


@SETTINGS
@given(acts=activity_sets, period=periods)
def test_star_total_never_goes_down(
    tmp_path_factory: pytest.TempPathFactory, acts: list[Act], period: str
) -> None:
    with workspace_with(tmp_path_factory, acts) as ws:
        rows = metrics(ws, period=period).run("stars").rows
        stars = count(ws, Activity.kind.in_(STAR_KINDS))
    totals = [r["total"] for r in rows]
    assert totals == sorted(totals)
    assert sum(r["new"] for r in rows) == stars
    assert (totals[-1] if totals else 0) == stars
    running = 0
    for r in rows:
        running += r["new"]
        assert r["total"] == running, r["period"]


@SETTINGS
@given(acts=activity_sets, since_day=st.integers(0, 420), days=st.integers(0, 420))
def test_commit_totals_agree_across_period_lengths(
    tmp_path_factory: pytest.TempPathFactory, acts: list[Act], since_day: int, days: int
) -> None:
    since = (START + timedelta(days=since_day)).date()
    until = since + timedelta(days=days)
    with workspace_with(tmp_path_factory, acts) as ws:
        sums = {
            period: sum(metrics(ws, period=period).commits().values())
            for period in ("day", "week", "month", "quarter", "year")
        }
        ranged = {
            period: metrics(ws, period=period, since=since, until=until).commits()
            for period in ("day", "week", "month", "year")
        }
        commits = count(ws, Activity.kind == "git:commit")
    assert set(sums.values()) == {commits}
    # With a range, every period length counts the same commits: the range cuts by day.
    assert len({sum(v.values()) for v in ranged.values()}) == 1
    in_range = sum(
        1
        for who, what, day, _ in acts
        if KINDS[what][0] == "git:commit"
        and not LOGINS[who].endswith("[bot]")
        and since <= (START + timedelta(days=day)).date() <= until
    )
    assert sum(ranged["day"].values()) == in_range
    assert all(isinstance(p, date) for p in ranged["week"])
