"""Concentration (docs/metrics-concentration-influence.md): CHAOSS's worked examples and a
hand-counted workspace.

The workspace (``CONTRIBUTIONS``, imported from a CSV through the sync runner), all 'code':

    March 2024   p1 14 (7 on 03-05, 7 on 03-20), p2 3, p3 2, p4 1        total 20
    April 2024   p1, p2, p3, p4 one each                                   total 4

Enrollments: p1 in Acme from 2024-03-15 (manual); p2 in Beta (manual, no dates) and in Gamma
(imported, from 2024-01-01: the manual one wins); p3 in Beta (manual); p4 in none.

March by organisation: Acme 7 (p1 after 03-15), Beta 3 + 2 = 5; unaffiliated p1 7, p4 1.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from commops.analytics.concentration import (
    _smallest_top_set_array,
    absence_factor,
    absence_factor_series,
    affiliated_contributions,
    elephant_factor,
    elephant_factor_series,
    enrollments_table,
    onion_tier_counts,
    onion_tier_counts_array,
    onion_tiers,
    onion_tiers_series,
    organisation_contributions,
)
from commops.analytics.engine import Engine
from commops.analytics.metrics import Metrics, Params
from commops.cli.app import app
from commops.errors import UsageError
from commops.identity.audit import find_member
from commops.identity.orgs import affiliations_at, enroll, ensure_organization
from commops.workspace import Workspace

CHAOSS = [1000, 202, 90, 33, 332, 343, 42, 433]

# -- absence factor ---------------------------------------------------------------------------


def test_absence_factor_chaoss_worked_example_is_2() -> None:
    # sorted: 1000, 433, 343, ... of 2475: 1000 is 40.4%, 1433 is 57.9% > 50%
    assert absence_factor(CHAOSS) == 2
    assert absence_factor(dict(zip("abcdefgh", CHAOSS, strict=True))) == 2


def test_absence_factor_four_equal_contributors_strict_3_at_least_2() -> None:
    assert absence_factor([10, 10, 10, 10]) == 3
    assert absence_factor([10, 10, 10, 10], rule="at-least") == 2


def test_absence_factor_threshold_is_exact_decimal() -> None:
    # 3 of 30 is exactly 10% (0.1 * 30 is 3.0000000000000004 in floating point): at least 10%
    # takes one contributor, more than 10% takes two
    assert absence_factor([3] * 10, threshold=0.1, rule="at-least") == 1
    assert absence_factor([3] * 10, threshold=0.1) == 2


def test_absence_factor_empty_and_zero() -> None:
    assert absence_factor([]) == 0
    assert absence_factor({}) == 0
    assert absence_factor([0, 0]) == 0


def test_absence_factor_bad_input_is_refused() -> None:
    with pytest.raises(UsageError, match="contributions: -1 is negative"):
        absence_factor([3, -1])
    with pytest.raises(UsageError, match="rule 'most'"):
        absence_factor([1], rule="most")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"threshold 1\.5"):
        absence_factor([1], threshold=1.5)


counts = st.lists(st.integers(0, 1000), max_size=30)


@given(counts, st.sampled_from([0.25, 0.5, 0.8]))
def test_absence_factor_properties(values: list[int], threshold: float) -> None:
    strict = absence_factor(values, threshold=threshold)
    at_least = absence_factor(values, threshold=threshold, rule="at-least")
    assert 0 <= at_least <= strict <= sum(1 for v in values if v > 0)
    assert absence_factor(list(reversed(values)), threshold=threshold) == strict
    if sum(values):
        top = sorted(values, reverse=True)
        assert sum(top[:strict]) > threshold * sum(values)
        assert sum(top[: strict - 1]) <= threshold * sum(values)


# -- elephant factor --------------------------------------------------------------------------


def test_elephant_factor_chaoss_worked_example_is_2() -> None:
    assert elephant_factor(dict(zip("ABCDEFGH", CHAOSS, strict=True))) == 2


def test_elephant_factor_unaffiliated_modes() -> None:
    orgs = {"A": 5, "B": 4}
    loose = [3, 3, 3]
    assert elephant_factor(orgs, loose) == 1  # 5 of 9
    assert elephant_factor(orgs, loose, mode="as-one") == 2  # 9 of 18 is not more than half
    assert elephant_factor(orgs, loose, mode="each") == 3  # 5 + 4 + 3 = 12 of 18
    assert elephant_factor(orgs, loose, mode="each", rule="at-least") == 2


def test_elephant_factor_bad_mode_is_refused() -> None:
    with pytest.raises(UsageError, match="unaffiliated 'drop'"):
        elephant_factor({"A": 1}, mode="drop")  # type: ignore[arg-type]


# -- onion tiers --------------------------------------------------------------------------------


def test_onion_tiers_by_hand() -> None:
    # total 20: core needs 16 (14 + 3 = 17), regular needs 19 (17 + 2), p4's 1 is casual
    tiers = onion_tiers({"p1": 14, "p2": 3, "p3": 2, "p4": 1})
    assert tiers == {"p1": "core", "p2": "core", "p3": "regular", "p4": "casual"}
    assert onion_tier_counts(tiers) == {"core": 2, "regular": 1, "casual": 1}


def test_onion_tiers_never_split_ties() -> None:
    # 80% of 40 is reached by the third 10: every 10 is core, whatever the names
    assert set(onion_tiers({"a": 10, "b": 10, "c": 10, "d": 10}).values()) == {"core"}
    tiers = onion_tiers({"z": 12, "y": 4, "x": 2, "w": 1, "v": 1})
    # 16 of 20 at y: core; 19 needs a 1: both 1s are regular
    assert tiers == {"z": "core", "y": "core", "x": "regular", "w": "regular", "v": "regular"}


def test_onion_tiers_parameters() -> None:
    c = {"p1": 14, "p2": 3, "p3": 2, "p4": 1}
    # 50% of 20 is reached by p1; 85% (17) by p2; p3 and p4 are casual
    assert onion_tiers(c, core=0.5, regular=0.85) == {
        "p1": "core",
        "p2": "regular",
        "p3": "casual",
        "p4": "casual",
    }
    assert onion_tiers({"a": 0, "b": 0}) == {"a": "casual", "b": "casual"}
    with pytest.raises(UsageError, match=r"core 0\.95, regular 0\.8"):
        onion_tiers(c, core=0.95, regular=0.8)


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 50), max_size=20))
def test_onion_tiers_partition_and_order(c: dict[str, int]) -> None:
    tiers = onion_tiers(c)
    assert set(tiers) == set(c)
    rank = {"core": 0, "regular": 1, "casual": 2}
    for a in c:
        for b in c:
            if c[a] > c[b]:
                assert rank[tiers[a]] <= rank[tiers[b]]
            if c[a] == c[b]:
                assert tiers[a] == tiers[b]
    total = sum(c.values())
    core = sum(v for k, v in c.items() if tiers[k] == "core")
    assert core >= 0.8 * total


# -- over a workspace ---------------------------------------------------------------------------

CONTRIBUTIONS = (
    [("p1", "2024-03-05T10:00:00Z")] * 7
    + [("p1", "2024-03-20T10:00:00Z")] * 7
    + [("p2", "2024-03-06T10:00:00Z")] * 3
    + [("p3", "2024-03-07T10:00:00Z")] * 2
    + [("p4", "2024-03-08T10:00:00Z")]
    + [(p, "2024-04-02T10:00:00Z") for p in ("p1", "p2", "p3", "p4")]
)
MARCH, APRIL = date(2024, 3, 1), date(2024, 4, 1)


def _import(cli: CliRunner, ws: Workspace, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "contributions.csv"
    lines = ["kind,occurred_at,actor_platform,actor_username,contribution_type,item_key"]
    lines += [f"github:commit,{at},github,{p},code,c{n}" for n, (p, at) in enumerate(CONTRIBUTIONS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli.invoke(
        app, ["--workspace", str(ws.root), "import", "csv", str(path), "--kind", "activities"]
    )
    assert result.exit_code == 0, result.output
    with ws.store.session() as s:
        ids = {p: find_member(s, p) for p in ("p1", "p2", "p3", "p4")}
        for name in ("Acme", "Beta", "Gamma"):
            ensure_organization(s, name)
        enroll(s, ids["p1"], "Acme", start=date(2024, 3, 15), actor="test")
        enroll(s, ids["p2"], "Beta", actor="test")
        enroll(s, ids["p2"], "Gamma", start=date(2024, 1, 1), actor="test", origin="import")
        enroll(s, ids["p3"], "Beta", actor="test")
        s.commit()
    return ids


def metrics(ws: Workspace, **params: Any) -> Metrics:
    return Metrics(Engine(ws.snapshot_dir), Params(**params))


def test_absence_factor_series_by_hand(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    _import(cli, sqlite_workspace, tmp_path)
    m = metrics(sqlite_workspace)
    assert absence_factor_series(m) == {MARCH: 1, APRIL: 3}  # 14 of 20; four equal
    assert absence_factor_series(m, rule="at-least") == {MARCH: 1, APRIL: 2}
    assert absence_factor_series(m, threshold=0.75) == {MARCH: 2, APRIL: 4}  # 17 of 20 > 15
    q = metrics(sqlite_workspace, period="quarter", since=date(2024, 1, 1))
    assert absence_factor_series(q) == {date(2024, 1, 1): 1, APRIL: 3}


def test_onion_tiers_series_by_hand(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    ids = _import(cli, sqlite_workspace, tmp_path)
    series = onion_tiers_series(metrics(sqlite_workspace))
    name = {v: k for k, v in ids.items()}
    assert {name[m]: t for m, t in series[MARCH].items()} == {
        "p1": "core",
        "p2": "core",
        "p3": "regular",
        "p4": "casual",
    }
    assert set(series[APRIL].values()) == {"core"}


def test_elephant_factor_series_by_hand(
    cli: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    ids = _import(cli, workspace, tmp_path)
    m = metrics(workspace)
    enrollments = enrollments_table(workspace.store)
    per = organisation_contributions(m, enrollments)
    assert per[MARCH] == ({"Acme": 7, "Beta": 5}, {ids["p1"]: 7, ids["p4"]: 1})
    assert per[APRIL] == ({"Acme": 1, "Beta": 2}, {ids["p4"]: 1})
    # March: exclude 7 of 12 -> 1; as-one 8, 7, 5 of 20 -> 2; each 7, 7, 5, 1 of 20 -> 2.
    # April: exclude Beta 2 of 3 -> 1; as-one and each: Beta 2, Acme 1, p4 1 of 4: 2 is not
    # more than half -> 2; at least half -> 1.
    assert elephant_factor_series(m, enrollments) == {MARCH: 1, APRIL: 1}
    assert elephant_factor_series(m, enrollments, unaffiliated="as-one") == {MARCH: 2, APRIL: 2}
    assert elephant_factor_series(m, enrollments, unaffiliated="each") == {MARCH: 2, APRIL: 2}
    assert elephant_factor_series(m, enrollments, unaffiliated="as-one", rule="at-least") == {
        MARCH: 2,
        APRIL: 1,
    }


def test_affiliation_at_activity_date_agrees_with_affiliations_at(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    ids = _import(cli, sqlite_workspace, tmp_path)
    rows = affiliated_contributions(
        metrics(sqlite_workspace), enrollments_table(sqlite_workspace.store)
    )
    got = {(r["period"], r["member_id"], r["organization"]) for r in rows.to_pyarrow().to_pylist()}
    with sqlite_workspace.store.session() as s:
        for day in (date(2024, 3, 5), date(2024, 3, 20), date(2024, 4, 2)):
            orgs = affiliations_at(s, ids.values(), day)
            for p, member in ids.items():
                if p == "p1" and day.month == 3:
                    continue  # p1 is in both March rows, checked below
                assert (day.replace(day=1), member, orgs.get(member)) in got
    assert (MARCH, ids["p1"], None) in got
    assert (MARCH, ids["p1"], "Acme") in got
    assert (MARCH, ids["p2"], "Beta") in got  # manual Beta over imported Gamma


def test_elephant_factor_series_bad_mode_is_refused(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    _import(cli, sqlite_workspace, tmp_path)
    with pytest.raises(UsageError, match="unaffiliated 'none'"):
        elephant_factor_series(
            metrics(sqlite_workspace),
            enrollments_table(sqlite_workspace.store),
            unaffiliated="none",  # type: ignore[arg-type]
        )


@given(
    st.lists(st.integers(min_value=0, max_value=500), max_size=40),
    st.sampled_from(["strict", "at-least"]),
    st.sampled_from([0.1, 0.25, 0.5, 0.8, 0.95]),
)
def test_array_forms_match_the_pure_functions(counts: list[int], rule: Any, share: float) -> None:
    """The catalogue computes the absence factor and the onion tiers on numpy arrays; they
    give what the pure functions give."""
    assert _smallest_top_set_array(np.array(counts, dtype=np.int64), rule, share) == (
        absence_factor(counts, rule=rule, threshold=share)
    )
    named = {f"m{n}": c for n, c in enumerate(counts) if c > 0}
    positive = np.array(list(named.values()), dtype=np.int64)
    assert onion_tier_counts_array(positive) == onion_tier_counts(onion_tiers(named))
    if share < 0.95:
        assert onion_tier_counts_array(positive, share, 0.95) == onion_tier_counts(
            onion_tiers(named, share, 0.95)
        )
