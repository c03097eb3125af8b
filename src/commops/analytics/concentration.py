"""Concentration: how few people (or organisations) do most of the work.

Three definitions, each a pure function over contribution counts plus an Ibis expression that
produces those counts per period from the snapshot (docs/metrics-concentration-influence.md):

- ``absence_factor``: CHAOSS Contributor Absence Factor (the "bus factor"): the smallest number
  of top contributors whose contributions are more than half of all contributions.
- ``elephant_factor``: CHAOSS Elephant Factor: the same over organisations.
- ``onion_tiers``: the onion model's core, regular and casual contributors (80% / 95%).

Organisations come from the members' dated enrollments: the snapshot's
``enrollments.parquet`` (``Engine.enrollments``), or ``enrollments_table`` straight from the
store. The Ibis expression joins them on the member and the activity's UTC day, choosing among
overlapping enrollments exactly as ``commops.identity.orgs.affiliations_at`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from fractions import Fraction
from typing import Any, Literal, cast, get_args

import ibis
import numpy as np
import pyarrow as pa
from ibis.expr.types import Table

from commops.analytics.metrics import Metrics
from commops.analytics.snapshot import read_enrollments
from commops.errors import UsageError
from commops.store.db import Store

Rule = Literal["strict", "at-least"]
Unaffiliated = Literal["exclude", "as-one", "each"]
Tier = Literal["core", "regular", "casual"]

RULES: tuple[str, ...] = get_args(Rule)
UNAFFILIATED: tuple[str, ...] = get_args(Unaffiliated)
UNAFFILIATED_NAME = "(unaffiliated)"

# Same order as commops.identity.orgs.affiliations_at: manual, imported, domain-derived, other.
ORIGIN_RANK = {"manual": 0, "import": 1, "domain": 2}


# -- pure functions ----------------------------------------------------------------------------


def _counts(contributions: Mapping[str, int] | Sequence[int], name: str) -> list[int]:
    values = list(contributions.values()) if isinstance(contributions, Mapping) else contributions
    out: list[int] = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise UsageError(f"{name}: {v!r} is not a whole number of contributions")
        if v < 0:
            raise UsageError(f"{name}: {v} is negative; contribution counts are 0 or more")
        out.append(v)
    return out


def _fraction(share: float) -> Fraction:
    return Fraction(str(share))


def _check(rule: str, threshold: float) -> None:
    if rule not in RULES:
        raise UsageError(f"rule {rule!r}: use one of {', '.join(RULES)}")
    if not 0 < threshold < 1:
        raise UsageError(f"threshold {threshold!r}: must be between 0 and 1 (exclusive)")


def _smallest_top_set(counts: Sequence[int], rule: str, threshold: float) -> int:
    total = sum(counts)
    if total == 0:
        return 0
    # Whole-number comparison, the threshold read as the decimal it was written as: 3 of 30 is
    # exactly 10%, whatever 0.1 * 30 gives in floating point.
    share = _fraction(threshold)
    running = 0
    for k, c in enumerate(sorted(counts, reverse=True), 1):
        running += c
        left, right = running * share.denominator, share.numerator * total
        if (left > right) if rule == "strict" else (left >= right):
            return k
    return len(counts)  # unreachable: the whole set holds 100% > threshold


def absence_factor(
    contributions: Mapping[str, int] | Sequence[int],
    *,
    rule: Rule = "strict",
    threshold: float = 0.5,
) -> int:
    """CHAOSS Contributor Absence Factor: the smallest number of top contributors whose
    contributions are strictly more than ``threshold`` of the total (``rule="strict"``) or at
    least ``threshold`` (``rule="at-least"``). Only the counts matter, so ties cannot change
    the answer. No contributions at all: 0."""
    _check(rule, threshold)
    return _smallest_top_set(_counts(contributions, "contributions"), rule, threshold)


def elephant_factor(
    organisations: Mapping[str, int],
    unaffiliated: Sequence[int] = (),
    *,
    mode: Unaffiliated = "exclude",
    rule: Rule = "strict",
    threshold: float = 0.5,
) -> int:
    """CHAOSS Elephant Factor: the smallest number of organisations whose members made more
    than ``threshold`` of the contributions. ``organisations`` maps an organisation to its
    members' contributions; ``unaffiliated`` holds each unaffiliated person's contributions.
    ``mode``: ``exclude`` (CHAOSS: only organisations count, and the unaffiliated are left out
    of the total too), ``as-one`` (all unaffiliated people form one organisation) or ``each``
    (each unaffiliated person is an organisation of one)."""
    _check(rule, threshold)
    if mode not in UNAFFILIATED:
        raise UsageError(f"unaffiliated {mode!r}: use one of {', '.join(UNAFFILIATED)}")
    counts = _counts(organisations, "organisations")
    loose = _counts(unaffiliated, "unaffiliated")
    if mode == "as-one" and sum(loose) > 0:
        counts.append(sum(loose))
    elif mode == "each":
        counts += loose
    return _smallest_top_set(counts, rule, threshold)


def onion_tiers(
    contributions: Mapping[str, int],
    core: float = 0.8,
    regular: float = 0.95,
) -> dict[str, Tier]:
    """The onion model. Contributors sorted by count, largest first: ``core`` is the smallest top
    set whose contributions reach at least ``core`` (80%) of the total, ``regular`` the next
    ones until the running total reaches at least ``regular`` (95%), ``casual`` the rest.
    Ties are never split: everyone with the same count as the last contributor a tier needs
    joins that tier, so the tiers do not depend on names or input order. Nobody contributed
    (total 0): everyone is casual."""
    if not 0 < core < 1 or not 0 < regular <= 1 or not core < regular:
        raise UsageError(
            f"core {core!r}, regular {regular!r}: need 0 < core < regular <= 1",
            hint="The defaults are core=0.8, regular=0.95.",
        )
    counts = _counts(contributions, "contributions")
    total = sum(counts)
    if total == 0:
        return dict.fromkeys(contributions, "casual")
    ranked = sorted(counts, reverse=True)

    def cutoff(share: float) -> int:
        exact = _fraction(share)
        running = 0
        for c in ranked:
            running += c
            if running * exact.denominator >= exact.numerator * total:
                return c
        return ranked[-1]

    core_min = cutoff(core)
    regular_min = cutoff(regular)
    tiers: dict[str, Tier] = {}
    for name, c in sorted(contributions.items(), key=lambda kv: (-kv[1], kv[0])):
        if c >= core_min and c > 0:
            tiers[name] = "core"
        elif c >= regular_min and c > 0:
            tiers[name] = "regular"
        else:
            tiers[name] = "casual"
    return tiers


# -- Ibis expressions over the snapshot ---------------------------------------------------------


def member_contributions(metrics: Metrics) -> Table:
    """One row per (period, member_id) with ``contributions``: the member's contributions
    (activities with a contribution type, bots and staff left out as the parameters say) whose
    ``occurred_at`` falls in the period."""
    t = metrics.in_range(metrics.daily_contributions(), "day")
    return t.group_by([metrics.bucket(t, "day"), t.member_id]).aggregate(contributions=t.n.sum())


def enrollments_table(store: Store) -> pa.Table:
    """Every enrollment as (member_id, organization, start_date, end_date, origin), read from
    the store (the snapshot writes the same table to ``enrollments.parquet``)."""
    return read_enrollments(store)


def affiliated_contributions(metrics: Metrics, enrollments: pa.Table | Table) -> Table:
    """One row per (period, organization, member_id) with ``contributions``; ``organization``
    is the member's organization on the activity's UTC day (null: none that day). Several
    enrollments covering the day: manual before imported before domain-derived, then the one
    that started last (an undated start counts as the earliest), then by name, case-folded
    (the rule of ``affiliations_at``; DuckDB's ``lower`` stands in for ``casefold``)."""
    c = metrics.in_range(metrics.daily_contributions(), "day")
    e = ibis.memtable(enrollments) if isinstance(enrollments, pa.Table) else enrollments
    c = c.group_by([c.member_id, c.day.cast("date").name("day")]).aggregate(n=c.n.sum())
    covers = (
        (c.member_id == e.member_id)
        & (e.start_date.isnull() | (e.start_date <= c.day))
        & (e.end_date.isnull() | (e.end_date >= c.day))
    )
    j = c.left_join(e, covers)
    j = j.mutate(
        _o=j.origin.substitute(ORIGIN_RANK, else_=len(ORIGIN_RANK)).fill_null(len(ORIGIN_RANK)),
        _s=j.start_date.fill_null(date(1, 1, 1)),
        _n=j.organization.lower(),
    )
    w = ibis.window(group_by=[j.member_id, j.day], order_by=[j._o, ibis.desc(j._s), j._n])
    j = j.mutate(_rank=ibis.row_number().over(w))
    j = j.filter(j._rank == 0)
    return j.group_by([metrics.bucket(j, "day"), j.organization, j.member_id]).aggregate(
        contributions=j.n.sum()
    )


def _member_periods(metrics: Metrics) -> dict[date, tuple[Any, Any]]:
    """``member_contributions`` by period as (member ids, counts) numpy arrays, read once per
    ``Metrics`` (the absence factor and the onion tiers share it)."""

    def read() -> dict[date, tuple[Any, Any]]:
        got = metrics.fetch(member_contributions(metrics))
        periods = got.column("period").to_numpy(zero_copy_only=False).astype("datetime64[D]")
        members = got.column("member_id").to_numpy(zero_copy_only=False)
        counts = got.column("contributions").to_numpy(zero_copy_only=False).astype(np.int64)
        order = np.lexsort((members, periods))
        periods, members, counts = periods[order], members[order], counts[order]
        cuts = np.flatnonzero(periods[1:] != periods[:-1]) + 1
        bounds = zip(
            np.concatenate(([0], cuts)), np.concatenate((cuts, [len(periods)])), strict=True
        )
        return {periods[a].astype(date): (members[a:b], counts[a:b]) for a, b in bounds if b > a}

    return cast(dict[date, tuple[Any, Any]], metrics.memo("member_contributions", read))


def _ranked_running(counts: Any) -> tuple[Any, Any, int]:
    """Counts largest first, their running totals, and the total."""
    ranked = np.sort(np.asarray(counts, dtype=np.int64))[::-1]
    running = np.cumsum(ranked)
    return ranked, running, int(running[-1]) if len(running) else 0


def _smallest_top_set_array(counts: Any, rule: str, threshold: float) -> int:
    """``_smallest_top_set`` over a numpy array (the same whole-number comparison)."""
    _ranked, running, total = _ranked_running(counts)
    if total == 0:
        return 0
    share = _fraction(threshold)
    left, right = running * share.denominator, share.numerator * total
    reached = (left > right) if rule == "strict" else (left >= right)
    return int(np.argmax(reached)) + 1


def _series(
    metrics: Metrics, values: dict[date, Any], fn: Callable[[Any], Any], empty: Any
) -> dict[date, Any]:
    return {p: fn(values[p]) if p in values else empty for p in metrics.periods(set(values))}


def absence_factor_series(
    metrics: Metrics, *, rule: Rule = "strict", threshold: float = 0.5
) -> dict[date, int]:
    """The Contributor Absence Factor of each period (periods without contributions: 0)."""
    _check(rule, threshold)
    return _series(
        metrics,
        _member_periods(metrics),
        lambda part: _smallest_top_set_array(part[1], rule, threshold),
        0,
    )


def organisation_contributions(
    metrics: Metrics, enrollments: pa.Table | Table
) -> dict[date, tuple[dict[str, int], dict[int, int]]]:
    """Per period: contributions per organisation, and per unaffiliated member."""
    out: dict[date, tuple[dict[str, int], dict[int, int]]] = {}
    a = affiliated_contributions(metrics, enrollments)
    loose_member = ibis.ifelse(a.organization.isnull(), a.member_id, ibis.null()).cast("int64")
    g = a.group_by([a.period, a.organization, loose_member.name("member_id")]).aggregate(
        contributions=a.contributions.sum()
    )
    for row in metrics.fetch(g).to_pylist():
        orgs, loose = out.setdefault(row["period"], ({}, {}))
        n = int(row["contributions"])
        if row["organization"] is None:
            loose[row["member_id"]] = n
        else:
            orgs[row["organization"]] = n
    return out


def elephant_factor_series(
    metrics: Metrics,
    enrollments: pa.Table | Table,
    *,
    unaffiliated: Unaffiliated = "exclude",
    rule: Rule = "strict",
    threshold: float = 0.5,
) -> dict[date, int]:
    """The Elephant Factor of each period, over the members' organisations on the day of each
    contribution (``enrollments``: ``enrollments_table(store)``)."""
    _check(rule, threshold)
    if unaffiliated not in UNAFFILIATED:
        raise UsageError(f"unaffiliated {unaffiliated!r}: use one of {', '.join(UNAFFILIATED)}")
    per = organisation_contributions(metrics, enrollments)
    return _series(
        metrics,
        per,
        lambda parts: elephant_factor(
            parts[0],
            [parts[1][m] for m in sorted(parts[1])],
            mode=unaffiliated,
            rule=rule,
            threshold=threshold,
        ),
        0,
    )


def onion_tiers_series(
    metrics: Metrics, *, core: float = 0.8, regular: float = 0.95
) -> dict[date, dict[int, Tier]]:
    """Each period's tiers, by member id (periods without contributions: empty)."""
    onion_tiers({}, core, regular)  # checks the shares before any query
    per = _member_periods(metrics)
    out: dict[date, dict[int, Tier]] = {}
    for p in metrics.periods(set(per)):
        members, counts = per.get(p, ((), ()))
        by_member = {str(m): int(c) for m, c in zip(members, counts, strict=True)}
        out[p] = {int(k): v for k, v in onion_tiers(by_member, core, regular).items()}
    return out


def onion_tier_counts_series(
    metrics: Metrics, *, core: float = 0.8, regular: float = 0.95
) -> dict[date, dict[Tier, int]]:
    """How many contributors each tier holds in each period: ``onion_tiers`` counted, computed
    on arrays (the same cut-offs: a tier takes everyone with the count of the last one it
    needs)."""
    onion_tiers({}, core, regular)
    per = _member_periods(metrics)
    return {
        p: onion_tier_counts_array(per[p][1] if p in per else (), core, regular)
        for p in metrics.periods(set(per))
    }


def onion_tier_counts_array(
    counts: Any, core: float = 0.8, regular: float = 0.95
) -> dict[Tier, int]:
    """``onion_tier_counts(onion_tiers(...))`` over a numpy array of counts, without names."""
    ranked, running, total = _ranked_running(counts)
    if total == 0:
        return {"core": 0, "regular": 0, "casual": len(ranked)}
    mins = []
    for share in (core, regular):
        exact = _fraction(share)
        reached = running * exact.denominator >= exact.numerator * total
        mins.append(int(ranked[int(np.argmax(reached))]))
    n_core = int(np.count_nonzero((ranked >= mins[0]) & (ranked > 0)))
    n_regular = int(np.count_nonzero((ranked >= mins[1]) & (ranked > 0))) - n_core
    return {"core": n_core, "regular": n_regular, "casual": len(ranked) - n_core - n_regular}


def onion_tier_counts(tiers: Mapping[Any, Tier]) -> dict[Tier, int]:
    """How many contributors each tier holds."""
    counts: dict[Tier, int] = {"core": 0, "regular": 0, "casual": 0}
    for tier in tiers.values():
        counts[tier] += 1
    return counts
