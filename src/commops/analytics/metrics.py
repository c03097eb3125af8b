"""The first metrics: contributors, commits and merged pull requests over time.

Every definition choice is a parameter with a documented default (docs/metrics.md). Each metric
is one Ibis expression over the snapshot, so the same definition runs on any Ibis backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import ibis
from ibis.expr.types import Table

from commops.analytics.engine import Engine
from commops.errors import UsageError

PERIODS = {"week": "W", "month": "M", "quarter": "Q", "year": "Y"}


@dataclass(frozen=True)
class Params:
    since: date | None = None
    until: date | None = None  # inclusive
    period: str = "month"
    sources: tuple[str, ...] = ()
    include_bots: bool = False
    include_staff: bool = False
    top: int = 10

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise UsageError(f"--period {self.period!r}: use one of {', '.join(PERIODS)}")
        if self.since and self.until and self.since > self.until:
            raise UsageError(f"--since {self.since} is after --until {self.until}")


@dataclass(frozen=True)
class Definition:
    name: str
    title: str
    kind: str  # series | table | totals
    formula: str
    reference: str


@dataclass
class Result:
    definition: Definition
    params: Params
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        params = asdict(self.params)
        for k in ("since", "until"):
            params[k] = params[k].isoformat() if params[k] else None
        params["sources"] = list(self.params.sources)
        return {
            "metric": self.definition.name,
            "title": self.definition.title,
            "formula": self.definition.formula,
            "reference": self.definition.reference,
            "params": params,
            "columns": self.columns,
            "rows": [{k: _jsonable(v) for k, v in r.items()} for r in self.rows],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


DEFINITIONS = {
    d.name: d
    for d in (
        Definition(
            "active-contributors",
            "Active contributors",
            "series",
            "count of distinct members with at least one contribution (an activity with a "
            "contribution type: commit, co-authored commit, ...) whose occurred_at falls in the "
            "period",
            "CHAOSS Contributors; OpenDigger active developers",
        ),
        Definition(
            "new-contributors",
            "New contributors",
            "series",
            "count of members whose first contribution of any kind (over all time, in the "
            "selected sources) falls in the period",
            "CHAOSS New Contributors (first contribution of any kind)",
        ),
        Definition(
            "commits",
            "Commits",
            "series",
            "count of git:commit activities by author date (UTC) in the period, merge commits "
            "included",
            "CHAOSS Code Changes Commits",
        ),
        Definition(
            "merged-prs",
            "Merged pull requests",
            "series",
            "count of distinct (source, PR number) taken from commit subjects 'Merge pull request "
            "#N from ...' and a trailing '(#N)', dated by the earliest committer date; merge "
            "commits count whoever made them (a bot or staff member merging a community PR), "
            "PRs squash-merged with a bot or staff member as author do not unless bots or staff "
            "are included",
            "CHAOSS Change Requests Accepted",
        ),
        Definition(
            "top-contributors",
            "Top contributors",
            "table",
            "members ranked by commits authored, then by all contributions, in the range",
            "CHAOSS Contributors",
        ),
        Definition(
            "totals",
            "Totals",
            "totals",
            "the range's distinct active contributors, new contributors, commits, merged PRs, "
            "and insertions and deletions of non-merge commits",
            "commops",
        ),
    )
}


class Metrics:
    def __init__(self, engine: Engine, params: Params) -> None:
        self.engine = engine
        self.params = params
        self.unit = PERIODS[params.period]

    # -- building blocks --------------------------------------------------------------------

    def base(self, *, drop_people: bool = True) -> Table:
        """The activities of the selected sources, without bots' and staff members' (member
        flags) unless the parameters include them; ``drop_people=False`` keeps everyone."""
        t = self.engine.activities()
        if self.params.sources:
            t = t.filter(t.source.isin(list(self.params.sources)))
        if drop_people:
            t = self.drop_people(t)
        return t

    def drop_people(self, t: Table, *, unless: Any = None) -> Table:
        """Rows of bots and staff left out as the parameters say; rows where ``unless`` holds
        are kept whoever made them."""
        for flag, include in (
            (t.is_bot, self.params.include_bots),
            (t.is_staff, self.params.include_staff),
        ):
            if include:
                continue
            keep = ~flag.fill_null(False)
            t = t.filter(keep if unless is None else unless | keep)
        return t

    def contributions(self) -> Table:
        t = self.base()
        return t.filter(t.contribution_type.notnull())

    def in_range(self, t: Table, column: str) -> Table:
        col = t[column]
        if self.params.since:
            t = t.filter(
                col >= ibis.timestamp(datetime.combine(self.params.since, datetime.min.time()))
            )
        if self.params.until:
            end = datetime.combine(self.params.until + timedelta(days=1), datetime.min.time())
            t = t.filter(col < ibis.timestamp(end))
        return t

    def bucket(self, t: Table, column: str) -> Any:
        return t[column].truncate(self.unit).cast("date").name("period")

    def _series(self, t: Table, column: str, value: Callable[[Table], Any]) -> dict[date, int]:
        t = self.in_range(t, column)
        expr = t.group_by(self.bucket(t, column)).aggregate(value=value(t))
        return {r["period"]: int(r["value"]) for r in expr.to_pyarrow().to_pylist()}

    # -- metrics ----------------------------------------------------------------------------

    def active_contributors(self) -> dict[date, int]:
        return self._series(self.contributions(), "occurred_at", lambda t: t.member_id.nunique())

    def first_contributions(self) -> Table:
        c = self.contributions()
        return c.group_by(c.member_id).aggregate(first_at=c.occurred_at.min())

    def new_contributors(self) -> dict[date, int]:
        return self._series(self.first_contributions(), "first_at", lambda t: t.count())

    def commit_rows(self) -> Table:
        t = self.base()
        return t.filter(t.kind == "git:commit")

    def commits(self) -> dict[date, int]:
        return self._series(self.commit_rows(), "occurred_at", lambda t: t.count())

    def merged_pr_rows(self) -> Table:
        # The PR's author is who counts: a squash commit's author is the PR's author, but a merge
        # commit's author is whoever pressed the button (a maintainer, a staff member, a bot),
        # so merge commits are kept whoever made them.
        t = self.base(drop_people=False)
        t = t.filter((t.kind == "git:commit") & t.pr_number.notnull())
        t = self.drop_people(t, unless=t.is_merge.fill_null(False))
        return t.group_by(t.source_id, t.pr_number).aggregate(merged_at=t.committed_at.min())

    def merged_prs(self) -> dict[date, int]:
        return self._series(self.merged_pr_rows(), "merged_at", lambda t: t.count())

    def series(self) -> Result:
        """All series side by side, one row per period, gaps filled with zeros."""
        parts = {
            "active_contributors": self.active_contributors(),
            "new_contributors": self.new_contributors(),
            "commits": self.commits(),
            "merged_prs": self.merged_prs(),
        }
        periods = self.periods(set().union(*parts.values()))
        rows = [{"period": p, **{k: v.get(p, 0) for k, v in parts.items()}} for p in periods]
        d = Definition(
            "summary",
            "Activity by " + self.params.period,
            "series",
            "see each column's metric",
            "commops",
        )
        return Result(d, self.params, ["period", *parts], rows)

    def one_series(self, name: str) -> Result:
        fn = {
            "active-contributors": self.active_contributors,
            "new-contributors": self.new_contributors,
            "commits": self.commits,
            "merged-prs": self.merged_prs,
        }[name]
        values = fn()
        column = name.replace("-", "_")
        rows = [{"period": p, column: values.get(p, 0)} for p in self.periods(set(values))]
        return Result(DEFINITIONS[name], self.params, ["period", column], rows)

    def top_contributors(self) -> Result:
        t = self.in_range(self.contributions(), "occurred_at")
        is_commit = t.kind == "git:commit"
        lines = ibis.ifelse(
            is_commit & ~t.is_merge.fill_null(False),
            t.insertions.fill_null(0) + t.deletions.fill_null(0),
            0,
        )
        expr = (
            t.group_by([t.member_id, t.display_name])
            .aggregate(
                commits=is_commit.sum(),
                co_authored=(t.kind == "git:co_authored").sum(),
                contributions=t.count(),
                lines_changed=lines.sum(),
                first_at=t.occurred_at.min(),
                last_at=t.occurred_at.max(),
            )
            .order_by([ibis.desc("commits"), ibis.desc("contributions"), "member_id"])
            .limit(self.params.top)
        )
        rows = expr.to_pyarrow().to_pylist()
        for rank, row in enumerate(rows, 1):
            row["rank"] = rank
            for k in ("commits", "co_authored", "contributions", "lines_changed"):
                row[k] = int(row[k] or 0)
        cols = [
            "rank",
            "member_id",
            "display_name",
            "commits",
            "co_authored",
            "contributions",
            "lines_changed",
            "first_at",
            "last_at",
        ]
        return Result(
            DEFINITIONS["top-contributors"],
            self.params,
            cols,
            [{c: r[c] for c in cols} for r in rows],
        )

    def totals(self) -> Result:
        c = self.in_range(self.contributions(), "occurred_at")
        commits = self.in_range(self.commit_rows(), "occurred_at")
        nonmerge = commits.filter(~commits.is_merge.fill_null(False))
        first = self.in_range(self.first_contributions(), "first_at")
        prs = self.in_range(self.merged_pr_rows(), "merged_at")
        row = {
            "active_contributors": int(c.member_id.nunique().to_pyarrow().as_py() or 0),
            "new_contributors": int(first.count().to_pyarrow().as_py() or 0),
            "commits": int(commits.count().to_pyarrow().as_py() or 0),
            "merge_commits": int(commits.is_merge.fill_null(False).sum().to_pyarrow().as_py() or 0),
            "merged_prs": int(prs.count().to_pyarrow().as_py() or 0),
            "insertions": int(nonmerge.insertions.sum().to_pyarrow().as_py() or 0),
            "deletions": int(nonmerge.deletions.sum().to_pyarrow().as_py() or 0),
            "first_activity": c.occurred_at.min().to_pyarrow().as_py(),
            "last_activity": c.occurred_at.max().to_pyarrow().as_py(),
        }
        return Result(DEFINITIONS["totals"], self.params, list(row), [row])

    def run(self, name: str) -> Result:
        if name == "top-contributors":
            return self.top_contributors()
        if name == "totals":
            return self.totals()
        if name in DEFINITIONS:
            return self.one_series(name)
        raise UsageError(f"no metric named {name!r}", hint=f"Metrics: {', '.join(DEFINITIONS)}")

    # -- periods ----------------------------------------------------------------------------

    def periods(self, seen: set[date]) -> list[date]:
        start = self._floor(self.params.since) if self.params.since else min(seen, default=None)
        end = self._floor(self.params.until) if self.params.until else max(seen, default=None)
        if start is None or end is None:
            return sorted(seen)
        out, p = [], start
        while p <= end:
            out.append(p)
            p = self._next(p)
        return out

    def _floor(self, d: date) -> date:
        if self.unit == "W":
            return d - timedelta(days=d.weekday())
        if self.unit == "M":
            return d.replace(day=1)
        if self.unit == "Q":
            return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
        return d.replace(month=1, day=1)

    def _next(self, d: date) -> date:
        if self.unit == "W":
            return d + timedelta(days=7)
        months = {"M": 1, "Q": 3, "Y": 12}[self.unit]
        m = d.month - 1 + months
        return d.replace(year=d.year + m // 12, month=m % 12 + 1, day=1)
