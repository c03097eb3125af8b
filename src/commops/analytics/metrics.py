"""The first metrics: contributors, commits and merged pull requests over time.

Every definition choice is a parameter with a documented default (docs/metrics.md). Each metric
is one Ibis expression over the snapshot, so the same definition runs on any Ibis backend.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from time import perf_counter
from typing import Any, cast

import ibis
import numpy as np
import pyarrow as pa
from ibis.expr.types import Table

from commops.analytics import table
from commops.analytics.engine import Engine
from commops.errors import UsageError

PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
NEW_BY = ("any", "pr-opened", "pr-merged")
# Kinds that are a star or a fork, wherever they were read.
STAR_KINDS = ("github:star", "gitee:star")
FORK_KINDS = ("github:fork", "gitee:fork")
PR_OPENED_KINDS = ("github:pr_opened", "gitee:pr_opened")
PR_MERGED_KINDS = ("github:pr_merged", "gitee:pr_merged")
ISSUE_OPENED_KINDS = ("github:issue_opened", "gitee:issue_opened")
CLOSED_KINDS = ("github:issue_closed", "github:pr_closed", "gitee:issue_closed", "gitee:pr_closed")
# What counts as a response to an issue or a pull request: a comment or a review on it.
RESPONSE_KINDS = (
    "github:issue_comment",
    "github:review_comment",
    "github:review",
    "gitee:issue_comment",
    "gitee:pr_comment",
)
RELEASE_KINDS = ("github:release_published", "gitee:release_published")
# The contributor funnel (CHAOSS conversion rate): D0 shows interest, D1 takes part, D2
# contributes something that was accepted.
FUNNEL_D0 = (*STAR_KINDS, *FORK_KINDS, "gitee:watch")
FUNNEL_D1 = (
    *ISSUE_OPENED_KINDS,
    *PR_OPENED_KINDS,
    *RESPONSE_KINDS,
    "github:discussion_opened",
    "github:discussion_comment",
    "github:question",
    "github:answer",
    "discourse:topic_created",
    "discourse:post",
)
FUNNEL_D2_BY_ACTOR = ("git:commit", "git:co_authored", "discourse:solution")
FUNNEL_D2_BY_OBJECT = (*PR_MERGED_KINDS, "github:answer_accepted")
TRANSITIONS = (("D0", "D1"), ("D1", "D2"), ("D0", "D2"))
# Questions and answers: GitHub Discussions in answerable categories and Discourse topics in
# question categories (connectors/github.py, connectors/discourse.py). Issues labelled as
# questions are not among them: labels are not in the snapshot.
QUESTION_KINDS = ("github:question", "discourse:topic_created")
ANSWER_KINDS = ("github:answer", "discourse:post")


@dataclass(frozen=True)
class Params:
    since: date | None = None
    until: date | None = None  # inclusive
    period: str = "month"
    sources: tuple[str, ...] = ()
    # Cuts: only activities in these channels (repositories, forum categories), by members
    # enrolled in these organisations on the activity's day, by members with these tags.
    channels: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    include_bots: bool = False
    include_staff: bool = False
    top: int = 10
    # new-contributors: what makes someone new: their first contribution of any kind, their
    # first pull request opened, or their first pull request merged (credited to its author).
    new_by: str = "any"
    # inactive-contributors: months without a contribution after which someone is inactive.
    inactive_months: int = 6
    # absence-factor, elephant-factor: the smallest top set whose share is strictly more than
    # (rule "strict") or at least ("at-least") the threshold.
    bus_rule: str = "strict"
    bus_threshold: float = 0.5
    # elephant-factor: contributions of members with no organisation that day.
    unaffiliated: str = "exclude"
    # onion-tiers: the shares that make the core and the regular contributors.
    core_share: float = 0.8
    regular_share: float = 0.95
    # engagement-levels: how often levels may go down (they go up at once).
    review_every: str = "quarter"

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise UsageError(f"--period {self.period!r}: use one of {', '.join(PERIODS)}")
        if self.new_by not in NEW_BY:
            raise UsageError(f"--new-by {self.new_by!r}: use one of {', '.join(NEW_BY)}")
        if self.inactive_months < 1:
            raise UsageError(f"--inactive-months {self.inactive_months}: use 1 or more")
        if self.bus_rule not in ("strict", "at-least"):
            raise UsageError(f"--bus-rule {self.bus_rule!r}: use strict or at-least")
        if not 0 < self.bus_threshold < 1:
            raise UsageError(f"--bus-threshold {self.bus_threshold}: use a share between 0 and 1")
        if self.unaffiliated not in ("exclude", "as-one", "each"):
            raise UsageError(f"--unaffiliated {self.unaffiliated!r}: use exclude, as-one or each")
        if not 0 < self.core_share < self.regular_share <= 1:
            raise UsageError(
                f"core {self.core_share} and regular {self.regular_share} shares: need "
                "0 < core < regular <= 1"
            )
        if self.review_every not in ("month", "quarter", "year"):
            raise UsageError(f"--review-every {self.review_every!r}: use month, quarter or year")
        if self.since and self.until and self.since > self.until:
            raise UsageError(f"--since {self.since} is after --until {self.until}")

    @property
    def cuts(self) -> bool:
        """Whether some activities are left out by source, channel, organisation or tag."""
        return bool(self.sources or self.channels or self.organizations or self.tags)


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
        for key, value in params.items():
            if isinstance(value, tuple):
                params[key] = list(value)
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
            "count of members whose first contribution (over all time, in the selected sources) "
            "falls in the period; new_by chooses what counts as the first: any contribution "
            "(default), the first pull request opened, or the first pull request merged "
            "(credited to its author)",
            "CHAOSS New Contributors",
        ),
        Definition(
            "returning-contributors",
            "Returning contributors",
            "series",
            "count of members with a contribution in the period whose first contribution (over "
            "all time) came before the period",
            "CHAOSS Contributors (new vs returning)",
        ),
        Definition(
            "inactive-contributors",
            "Contributors who became inactive",
            "series",
            "count of members whose last contribution (over all time) falls in the period that "
            "ends inactive_months (default 6) before the given period: they have been silent "
            "for inactive_months since; members whose silence has not lasted that long by the "
            "last day of data are not counted yet",
            "CHAOSS Inactive Contributors",
        ),
        Definition(
            "contribution-types",
            "Contributions by type",
            "table",
            "count of contributions and of distinct members per period and contribution type "
            "(the all-contributors vocabulary: code, review, doc, question, bug, ...)",
            "CHAOSS Types of Contributions",
        ),
        Definition(
            "retention",
            "Retention by cohort",
            "table",
            "members grouped by the period of their first contribution (cohort); for each cohort "
            "and each number of periods since, the count and share of its members with a "
            "contribution in that period (period 0 is 100%)",
            "CHAOSS Contributor retention; cohort analysis",
        ),
        Definition(
            "stars",
            "Stars",
            "series",
            "new stars (github:star, gitee:star) per period by starred_at, and the running total "
            "from the first star read (stars removed later are not subtracted: GitHub does not "
            "report unstars)",
            "CHAOSS Technical Fork / Stars; OpenDigger stars",
        ),
        Definition(
            "forks",
            "Forks",
            "series",
            "new forks (github:fork, gitee:fork) per period by creation time, and the running "
            "total",
            "CHAOSS Technical Forks",
        ),
        Definition(
            "time-to-first-response",
            "Time to first response",
            "table",
            "per period of opening and item type (issue, pr): items opened; items with a response "
            "and the hours from opening to the first response (mean, p50, p90, exact "
            "quantiles); items without a response so far, counted apart and never given an "
            "invented time. A response is a comment or a review on the item by a member other "
            "than its author, not a bot (staff count: they are who usually answers)",
            "CHAOSS Time to First Response",
        ),
        Definition(
            "time-to-merge",
            "Time to merge",
            "table",
            "per period of merge: pull requests merged and the hours from opening to merge "
            "(mean, p50, p90), for pull requests whose opening was read",
            "CHAOSS Time to Close; Change Request Duration",
        ),
        Definition(
            "change-requests",
            "Change requests: closure and acceptance",
            "table",
            "per period: pull requests opened, merged, and closed without merge; closure ratio "
            "= (merged + closed) / opened; acceptance ratio = merged / (merged + closed), empty "
            "when nothing was closed",
            "CHAOSS Change Request Closure Ratio; Change Requests Acceptance Ratio",
        ),
        Definition(
            "issue-age",
            "Open issues and their age",
            "table",
            "at the last day of each period: issues opened and not closed by then, and their age "
            "in days (mean, p50, p90)",
            "CHAOSS Issue Age",
        ),
        Definition(
            "releases",
            "Releases",
            "table",
            "per period: releases published, and the days between consecutive releases of the "
            "same repository that fall in the period (mean)",
            "CHAOSS Release Frequency",
        ),
        Definition(
            "funnel",
            "Contributor funnel",
            "table",
            "per period: members reaching each level for the first time. D0 shows interest "
            "(star, fork, watch), D1 takes part (opens an issue or PR, comments, reviews, asks "
            "or answers on the forum or in Discussions), D2 contributes something accepted (a "
            "commit in the history, a merged PR credited to its author, an accepted answer "
            "credited to its author)",
            "CHAOSS Conversion Rate (D0/D1/D2 funnel)",
        ),
        Definition(
            "conversion",
            "Funnel conversion",
            "table",
            "per cohort period and step (D0→D1, D1→D2, D0→D2): members who first reached the "
            "first level in the period, how many reached the second level at or after that "
            "(by the end of the data), the rate, and the days between (p50, p90)",
            "CHAOSS Conversion Rate",
        ),
        Definition(
            "absence-factor",
            "Contributor Absence Factor (bus factor)",
            "series",
            "per period: the smallest number of top contributors whose contributions are "
            "strictly more than bus_threshold (default 50%) of all contributions in the period "
            "(bus_rule 'at-least': at least that share)",
            "CHAOSS Contributor Absence Factor",
        ),
        Definition(
            "elephant-factor",
            "Elephant Factor",
            "series",
            "per period: the same over organisations, each contribution credited to the "
            "member's organisation on its day (dated enrollments); contributions with no "
            "organisation are left out (unaffiliated 'exclude', CHAOSS's choice), counted as "
            "one organisation ('as-one') or one per member ('each')",
            "CHAOSS Elephant Factor",
        ),
        Definition(
            "onion-tiers",
            "Core, regular and casual contributors",
            "table",
            "per period: core = the smallest top set making at least core_share (80%) of the "
            "contributions, regular = the next ones up to regular_share (95%), casual = the "
            "rest; members with the count of the last member a tier needs join that tier",
            "Onion model (Crowston and Howison; CHAOSS)",
        ),
        Definition(
            "developer-activity",
            "Developer activity",
            "table",
            "per period, repository and member: sqrt(0.5252*issue_comment + 2.2235*open_issue "
            "+ 4.0679*open_pull + 0.7427*review_comment + 2.0339*merged_pull), a merged PR "
            "credited to its author",
            "OpenDigger developer activity",
        ),
        Definition(
            "repository-activity",
            "Repository activity",
            "table",
            "per period and repository: the sum of its developers' activity",
            "OpenDigger repository activity",
        ),
        Definition(
            "community-openrank",
            "Community OpenRank",
            "table",
            "per period: members' OpenRank on the graph of developers, issues/PRs and "
            "repositories (OpenDigger's initial values, retention and action weights; each "
            "period computed on its own graph), the top ones",
            "OpenDigger community OpenRank",
        ),
        Definition(
            "engagement-levels",
            "Engagement levels",
            "table",
            "each member's level (1 most engaged .. 4) on the last day of the range: "
            "recency-weighted contributions (90-day half-life, 365-day window) and active "
            "months; a level goes up at once and down only at a review (review_every)",
            "Orbit model",
        ),
        Definition(
            "community-support",
            "Community support",
            "table",
            "per period of asking: questions (GitHub Discussions in answerable categories, "
            "Discourse topics in question categories), answered (a reply by someone other than "
            "the asker, not a bot), answered first by the community (not staff) and its share, "
            "with an accepted answer and its rate, unanswered, and the hours to the first "
            "answer (p50, p90)",
            "CHAOSS Community Support; Orbit",
        ),
        Definition(
            "unanswered-questions",
            "Unanswered questions",
            "table",
            "questions asked in the range with no answer by anyone but the asker (not a bot) "
            "by the end of the data, oldest first, with their age in days",
            "CHAOSS Community Support",
        ),
        Definition(
            "top-answerers",
            "Top answerers",
            "table",
            "members ranked by answers given to others' questions in the range, then by "
            "accepted answers",
            "Orbit; CHAOSS Community Support",
        ),
        Definition(
            "downloads",
            "Downloads",
            "table",
            "per period and channel (pypi:NAME, npm:NAME, docker:NS/REPO, "
            "github-releases:OWNER/REPO): daily counts summed; running counters (Docker pulls, "
            "release asset downloads) as the sum of their increases between consecutive readings "
            "(a first reading, or a counter that went down, adds nothing)",
            "CHAOSS Downloads; OpenDigger",
        ),
        Definition(
            "watchers",
            "Watchers",
            "series",
            "at the end of each period: the last reading of every repository's watchers counter "
            "(the latest one read up to then), summed over repositories",
            "CHAOSS; GitHub subscribers_count",
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


# The columns of the activities the metrics read (``Metrics.base``), and those kept as enums;
# the drill-down reads every column of the snapshot instead.
BASE_COLUMNS = table.COLUMNS
BASE_ENUMS = table.ENUMS


# ``Metrics.run_all``: how many metrics run at once, and in what order they start (at millions
# of activities). community-openrank first: it takes longest and needs the most memory, so the
# light metrics run beside it; the other slow ones last, with the metrics that share what they
# read (``Metrics.memo``), so that their memory comes mostly once it is done.
RUN_ALL_THREADS = 2
RUN_FIRST = ("community-openrank",)
RUN_LAST = (
    "developer-activity",
    "repository-activity",
    "time-to-first-response",
    "time-to-merge",
    "change-requests",
    "issue-age",
    "engagement-levels",
    "community-support",
    "unanswered-questions",
    "elephant-factor",
)


class Metrics:
    """The catalogue over one engine with one set of parameters.

    The metrics read one table of activities (``base``). Without a cut, on DuckDB, that is the
    refresh's ``activities.duckdb`` (``Engine.table``). Otherwise, with ``cache`` (the
    default) the activities of the selected sources, cuts applied and only the columns the
    metrics use, are computed once and kept in the engine (DuckDB: a table of its in-memory
    database; Spark: a cached DataFrame), so the metrics of one ``Metrics`` scan and join the
    Parquet snapshot once, not once each; without, each query reads the Parquet snapshot.
    ``wide``: every column of the snapshot's activities, read from the Parquet snapshot (the
    drill-down shows them)."""

    def __init__(
        self, engine: Engine, params: Params, *, cache: bool = True, wide: bool = False
    ) -> None:
        self.engine = engine
        self.params = params
        self.unit = PERIODS[params.period]
        self.cache = cache and not wide
        self.wide = wide
        self._base: Table | None = None
        self._kept: list[Table] = []  # what ``materialize`` made for these metrics, in order
        self._memo: dict[str, Any] = {}
        # Metrics may run at once (``run_all``): the base is made once, and each memo entry
        # computed once, whoever asks first.
        self._lock = threading.Lock()
        self._memo_locks: dict[str, threading.Lock] = {}

    # -- building blocks --------------------------------------------------------------------

    def base(self, *, drop_people: bool = True) -> Table:
        """The activities of the selected sources, without bots' and staff members' (member
        flags) unless the parameters include them; ``drop_people=False`` keeps everyone.

        Without a cut (source, channel, organisation, tag) these are the rows the refresh kept
        in ``activities.duckdb`` (``Engine.table``), read as they are; otherwise, when that
        file does not match the snapshot, or ``wide``, they are made from the Parquet parts
        (with ``cache``, once, kept in the engine)."""
        with self._lock:
            p = self.params
            kept = self.engine.table
            if self._base is None and kept is not None and not (p.cuts or self.wide):
                self._base = kept  # kept by the refresh: the same rows
            if self._base is None:
                t = self.engine.activities()
                if self.params.sources:
                    t = t.filter(t.source.isin(list(self.params.sources)))
                t = self.cut(t)
                self._base = (
                    self._keep(
                        t.select(*BASE_COLUMNS),
                        enums=BASE_ENUMS,
                        values=self.engine.raw_activities,
                    )
                    if self.cache
                    else t
                )
            t = self._base
        if drop_people:
            t = self.drop_people(t)
        return t

    def _refreshed(self, made: Table | None) -> Table | None:
        """``made`` (a table the refresh keeps beside ``Engine.table``: ``daily`` or ``items``)
        when ``base`` is the refresh's table, else None: the metrics make it from ``base``."""
        if made is None or self.base(drop_people=False) is not self.engine.table:
            return None
        return made

    def daily(self) -> Table:
        """``base``'s rows (bots and staff left out as the parameters say) rolled up per member,
        UTC day (``day``, a date), kind and contribution type: ``n``
        activities, the ``first_at`` and ``last_at`` of them, and ``lines``, the insertions
        plus deletions of non-merge commits. A quarter of the rows, kept in the engine like
        ``base`` (when ``base`` is the refresh's table, the refresh's roll-up of it is read):
        the metrics that count contributions per member and day or period, and each member's
        first and last ones, read it instead (the same values: a period and the
        ``since``/``until`` range are whole days)."""

        def make() -> Table:
            kept = self._refreshed(self.engine.daily)
            if kept is not None:
                # The refresh keeps the roll-up of every activity, per member and the member's
                # flags: leaving bots and staff out of it leaves out the same rows.
                return self.drop_people(kept).drop("is_bot", "is_staff")
            rolled = table.daily(self.base())
            return self._keep(rolled) if self.cache else rolled

        return cast(Table, self.memo("daily", make))

    def daily_contributions(self) -> Table:
        """``daily``'s rows of contributions (a contribution type)."""
        t = self.daily()
        return t.filter(t.contribution_type.notnull())

    def _keep(self, expr: Table, **how: Any) -> Table:
        """``expr`` materialised in the engine (``Engine.materialize``) until ``close``."""
        kept = self.engine.materialize(expr, **how)
        self._kept.append(kept)
        return kept

    def close(self) -> None:
        """Drop what the metrics kept in the engine (otherwise it goes with the engine), the
        tables made from others first."""
        while self._kept:
            self.engine.release(self._kept.pop())
        self._base = None
        self._memo.clear()

    def __enter__(self) -> Metrics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``'s value, computed once per ``Metrics`` (results several metrics share,
        such as the issues and pull requests, or the questions). A metric that asks while another
        computes it waits for that value."""
        with self._lock:
            lock = self._memo_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]

    def fetch(self, expr: Any) -> Any:
        """``expr`` computed on the engine, as Arrow (``Engine.fetch``)."""
        return self.engine.fetch(expr)

    def cut(self, t: Table) -> Table:
        """Keep the rows of the chosen channels, organisations and member tags."""
        p = self.params
        if p.channels:
            t = t.filter(t.channel.isin(list(p.channels)))
        if p.tags:
            tagged = [t.member_tags.fill_null("").contains(f"|{tag}|") for tag in p.tags]
            any_tag = tagged[0]
            for more in tagged[1:]:
                any_tag = any_tag | more
            t = t.filter(any_tag)
        if p.organizations:
            e = self.engine.enrollments
            e = e.filter(e.organization.isin(list(p.organizations)))
            day = t.occurred_at.cast("date")
            t = t.semi_join(
                e,
                [
                    t.member_id == e.member_id,
                    e.start_date.isnull() | (e.start_date <= day),
                    e.end_date.isnull() | (e.end_date >= day),
                ],
            )
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
        return {r["period"]: int(r["value"]) for r in self.fetch(expr).to_pylist()}

    # -- metrics ----------------------------------------------------------------------------

    def active_contributors(self) -> dict[date, int]:
        return self._series(self.daily_contributions(), "day", lambda t: t.member_id.nunique())

    def first_basis(self, new_by: str | None = None) -> Table:
        """What counts towards being new: any contribution, or (``new_by``) pull requests
        opened, or pull requests merged (their authors)."""
        new_by = new_by or self.params.new_by
        if new_by == "pr-opened":
            t = self.base()
            return t.filter(t.kind.isin(PR_OPENED_KINDS))
        if new_by == "pr-merged":
            return self.merged_pr_authors()
        return self.contributions()

    def first_contributions(self, new_by: str | None = None) -> Table:
        """Each member's first contribution (see ``first_basis``)."""
        if (new_by or self.params.new_by) == "any":
            d = self.daily_contributions()
            return d.group_by(d.member_id).aggregate(first_at=d.first_at.min())
        c = self.first_basis(new_by)
        return c.group_by(c.member_id).aggregate(first_at=c.occurred_at.min())

    def merged_pr_authors(self) -> Table:
        """Merged pull requests read from GitHub or Gitee, one row each, with the member who
        authored the PR (the activity's object; its actor is whoever merged it)."""
        return self.object_rows(PR_MERGED_KINDS)

    def object_rows(self, kinds: tuple[str, ...]) -> Table:
        """Activities of these kinds credited to their object (the PR's author for a merge, the
        answerer for an accepted answer), with that member and its flags."""
        a = self.engine.raw_activities
        i = self.engine.identities
        src = self.engine.sources
        t = a.filter(a.kind.isin(list(kinds)) & a.object_identity_id.notnull())
        j = t.join(i, t.object_identity_id == i.identity_id).join(src, t.source_id == src.source_id)
        j = j.select(
            "uid",
            "kind",
            "occurred_at",
            "source",
            "channel",
            "target",
            "title",
            "member_id",
            "display_name",
            "is_bot",
            "is_staff",
            "member_tags",
        )
        if self.params.sources:
            j = j.filter(j.source.isin(list(self.params.sources)))
        return self.drop_people(self.cut(j))

    def returning_contributors(self) -> dict[date, int]:
        c = self.daily_contributions().select("member_id", "day")
        first = self.first_contributions("any")
        j = c.join(first, "member_id")
        j = j.filter(self.bucket(j, "day") > self.bucket(j, "first_at"))
        return self._series(j, "day", lambda t: t.member_id.nunique())

    def inactive_rows(self) -> Table:
        """Each member's last contribution, and when the silence after it reached
        ``inactive_months``, for those whose silence has lasted that long by the end of data."""
        c = self.daily_contributions()
        last = c.group_by(c.member_id).aggregate(last_at=c.last_at.max())
        end = self.daily().last_at.max().as_scalar()
        last = last.mutate(
            inactive_at=last.last_at + ibis.interval(months=self.params.inactive_months)
        )
        return last.filter(last.inactive_at <= end)

    def inactive_contributors(self) -> dict[date, int]:
        return self._series(self.inactive_rows(), "inactive_at", lambda t: t.count())

    def contribution_types(self) -> Result:
        t = self.in_range(self.daily_contributions(), "day")
        expr = (
            t.group_by([self.bucket(t, "day"), t.contribution_type])
            .aggregate(contributions=t.n.sum(), members=t.member_id.nunique())
            .order_by(["period", ibis.desc("contributions"), "contribution_type"])
        )
        rows = [
            {**r, "contributions": int(r["contributions"]), "members": int(r["members"])}
            for r in self.fetch(expr).to_pylist()
        ]
        cols = ["period", "contribution_type", "contributions", "members"]
        return Result(DEFINITIONS["contribution-types"], self.params, cols, rows)

    def retention(self) -> Result:
        c = self.daily_contributions().select("member_id", "day")
        first = self.first_contributions("any")
        j = c.join(first, "member_id")
        j = j.select(
            j.member_id,
            self.bucket(j, "first_at").name("cohort"),
            self.bucket(j, "day").name("period"),
        ).distinct()
        got = self.fetch(j.group_by(["cohort", "period"]).aggregate(n=j.count())).to_pylist()
        active = {(r["cohort"], r["period"]): int(r["n"]) for r in got}
        # Everyone is active in their cohort's own period: that count is the cohort's size.
        cohorts = {cohort: n for (cohort, period), n in active.items() if cohort == period}
        since, until = self.params.since, self.params.until
        periods = self.periods({r["period"] for r in got})
        index = {p: n for n, p in enumerate(periods)}
        rows = []
        for cohort in sorted(cohorts):
            if (since and cohort < self._floor(since)) or (until and cohort > until):
                continue
            size = cohorts[cohort]
            for period in periods:
                if period < cohort:
                    continue
                n = active.get((cohort, period), 0)
                rows.append(
                    {
                        "cohort": cohort,
                        "periods_since": index[period] - index[cohort],
                        "period": period,
                        "cohort_size": size,
                        "active": n,
                        "share": round(n / size, 4),
                    }
                )
        cols = ["cohort", "periods_since", "period", "cohort_size", "active", "share"]
        return Result(DEFINITIONS["retention"], self.params, cols, rows)

    def kind_rows(self, kinds: tuple[str, ...]) -> Table:
        t = self.base()
        return t.filter(t.kind.isin(list(kinds)))

    def new_and_total(self, name: str, kinds: tuple[str, ...]) -> Result:
        """New per period and the running total since the first one read (before --since too)."""
        t = self.kind_rows(kinds)
        everything = t.group_by(self.bucket(t, "occurred_at")).aggregate(value=t.count())
        counts = {r["period"]: int(r["value"]) for r in self.fetch(everything).to_pylist()}
        in_range = self._series(t, "occurred_at", lambda x: x.count())
        rows = [
            {
                "period": p,
                "new": in_range.get(p, 0),
                "total": sum(v for k, v in counts.items() if k <= p),
            }
            for p in self.periods(set(in_range))
        ]
        return Result(DEFINITIONS[name], self.params, ["period", "new", "total"], rows)

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
            "returning-contributors": self.returning_contributors,
            "inactive-contributors": self.inactive_contributors,
            "absence-factor": self.absence_factor,
            "elephant-factor": self.elephant_factor,
            "watchers": self.watchers,
            "commits": self.commits,
            "merged-prs": self.merged_prs,
        }[name]
        values = fn()
        column = name.replace("-", "_")
        rows = [{"period": p, column: values.get(p, 0)} for p in self.periods(set(values))]
        return Result(DEFINITIONS[name], self.params, ["period", column], rows)

    def top_contributors(self) -> Result:
        t = self.in_range(self.daily_contributions(), "day")
        expr = (
            t.group_by(t.member_id)
            .aggregate(
                commits=t.n.sum(where=t.kind == "git:commit"),
                co_authored=t.n.sum(where=t.kind == "git:co_authored"),
                contributions=t.n.sum(),
                lines_changed=t.lines.sum(),
                first_at=t.first_at.min(),
                last_at=t.last_at.max(),
            )
            .order_by([ibis.desc("commits"), ibis.desc("contributions"), "member_id"])
            .limit(self.params.top)
        )
        rows = self.fetch(expr).to_pylist()
        names = self._names()
        for rank, row in enumerate(rows, 1):
            row["rank"] = rank
            row["display_name"] = names.get(row["member_id"])
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
        c = self.in_range(self.daily_contributions(), "day")
        commits = self.in_range(self.commit_rows(), "occurred_at")
        first = self.in_range(self.first_contributions(), "first_at")
        prs = self.in_range(self.merged_pr_rows(), "merged_at")
        merge = commits.is_merge.fill_null(False)
        people = c.aggregate(
            active=c.member_id.nunique(), first=c.first_at.min(), last=c.last_at.max()
        )
        work = commits.aggregate(
            commits=commits.count(),
            merges=merge.sum(),
            insertions=commits.insertions.sum(where=~merge),
            deletions=commits.deletions.sum(where=~merge),
        )
        p, w = self.fetch(people).to_pylist()[0], self.fetch(work).to_pylist()[0]
        row = {
            "active_contributors": int(p["active"] or 0),
            "new_contributors": int(self.fetch(first.count()).as_py() or 0),
            "commits": int(w["commits"] or 0),
            "merge_commits": int(w["merges"] or 0),
            "merged_prs": int(self.fetch(prs.count()).as_py() or 0),
            "insertions": int(w["insertions"] or 0),
            "deletions": int(w["deletions"] or 0),
            "first_activity": p["first"],
            "last_activity": p["last"],
        }
        return Result(DEFINITIONS["totals"], self.params, list(row), [row])

    def run_all(
        self, names: Iterable[str], *, times: dict[str, float] | None = None
    ) -> dict[str, Result]:
        """Several metrics by name, in that order. On DuckDB they run at once, two at a time
        (``RUN_FIRST`` first, ``RUN_LAST`` last), each thread on its own cursor
        (``Engine.fetch``): while one metric waits for a query or works on arrays (DuckDB and
        numpy let go of the GIL), another goes on. ``times``, when given, gets each metric's
        seconds (which overlap)."""
        chosen = list(names)
        for name in chosen:
            if name not in DEFINITIONS:
                raise UsageError(
                    f"no metric named {name!r}", hint=f"Metrics: {', '.join(DEFINITIONS)}"
                )

        def timed(name: str) -> Result:
            started = perf_counter()
            result = self.run(name)
            if times is not None:
                times[name] = perf_counter() - started
            return result

        if self.engine.name != "duckdb" or len(chosen) < 2:
            return {name: timed(name) for name in chosen}
        self.base()  # made once, before the threads read it
        first = [name for name in RUN_FIRST if name in chosen]
        last = [name for name in RUN_LAST if name in chosen]
        order = first + [n for n in dict.fromkeys(chosen) if n not in first + last] + last
        # Python's cyclic garbage collector is paused meanwhile (its few cycles are collected
        # after): the metrics make millions of short-lived objects (result rows), and its passes
        # over them took about 0.35 CPU-seconds of a run at 10M activities.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with ThreadPoolExecutor(max_workers=RUN_ALL_THREADS) as pool:
                futures = {name: pool.submit(timed, name) for name in order}
        finally:
            if collecting:
                gc.enable()
        return {name: futures[name].result() for name in chosen}

    def run(self, name: str) -> Result:
        if name == "top-contributors":
            return self.top_contributors()
        if name == "totals":
            return self.totals()
        if name == "contribution-types":
            return self.contribution_types()
        if name == "retention":
            return self.retention()
        if name == "stars":
            return self.new_and_total(name, STAR_KINDS)
        if name == "forks":
            return self.new_and_total(name, FORK_KINDS)
        tables = {
            "time-to-first-response": self.time_to_first_response,
            "time-to-merge": self.time_to_merge,
            "change-requests": self.change_requests,
            "issue-age": self.issue_age,
            "releases": self.releases,
            "funnel": self.funnel,
            "conversion": self.conversion,
            "onion-tiers": self.onion_tiers,
            "developer-activity": self.developer_activity,
            "repository-activity": self.repository_activity,
            "community-openrank": self.community_openrank,
            "engagement-levels": self.engagement_levels,
            "community-support": self.community_support,
            "unanswered-questions": self.unanswered_questions,
            "top-answerers": self.top_answerers,
            "downloads": self.downloads,
        }
        if name in tables:
            return tables[name]()
        if name in DEFINITIONS:
            return self.one_series(name)
        raise UsageError(f"no metric named {name!r}", hint=f"Metrics: {', '.join(DEFINITIONS)}")

    # -- adoption read from observations --------------------------------------------------------

    def readings(self) -> list[dict[str, Any]]:
        o = self.engine.observations
        src = self.engine.sources
        j = o.join(src, o.source_id == src.source_id).select(
            "source", "series", "observed_at", "kind", "value"
        )
        if self.params.sources:
            j = j.filter(j.source.isin(list(self.params.sources)))
        rows: list[dict[str, Any]] = self.fetch(j.order_by(["series", "observed_at"])).to_pylist()
        return rows

    def downloads(self) -> Result:
        per: dict[tuple[date, str], float] = {}
        previous: dict[str, float] = {}
        for r in self.readings():
            series = r["series"]
            is_download = series.startswith(("pypi:", "npm:", "github-releases:")) or (
                series.startswith("docker:") and series.endswith(":pulls")
            )
            if not is_download:
                continue
            if r["kind"] == "count":
                amount: float | None = r["value"]
            else:
                before = previous.get(series)
                amount = None if before is None else max(r["value"] - before, 0.0)
                previous[series] = r["value"]
            if amount is None or not self._in(r["observed_at"]):
                continue
            channel = ":".join(series.split(":")[:2])
            key = (self._floor(r["observed_at"].date()), channel)
            per[key] = per.get(key, 0.0) + amount
        rows = [
            {"period": period, "channel": channel, "downloads": round(value)}
            for (period, channel), value in sorted(per.items())
        ]
        return Result(
            DEFINITIONS["downloads"], self.params, ["period", "channel", "downloads"], rows
        )

    def watchers(self) -> dict[date, int]:
        last: dict[str, list[tuple[datetime, float]]] = {}
        for r in self.readings():
            if r["series"].endswith(":watchers") and r["kind"] == "counter":
                last.setdefault(r["series"], []).append((r["observed_at"], r["value"]))
        seen = {self._floor(t.date()) for values in last.values() for t, _ in values}
        out: dict[date, int] = {}
        for period in self.periods(seen) if seen else []:
            end = datetime.combine(self._next(period), datetime.min.time())
            total = 0.0
            for values in last.values():
                known = [v for t, v in values if t < end]
                if known:
                    total += known[-1]
            out[period] = int(total)
        return out

    # -- funnel -------------------------------------------------------------------------------

    def funnel_firsts(self) -> dict[str, Any]:
        """When each member first reached each level (over all time): ``D0``, ``D1`` and
        ``D2`` are ``datetime64[us]`` arrays aligned with ``member`` (NaT: not reached). Read
        once per ``Metrics`` (the funnel and the conversion share it)."""
        return cast(dict[str, Any], self.memo("funnel", self._funnel_firsts))

    def _funnel_firsts(self) -> dict[str, Any]:
        t = self.daily()
        parts = [
            t.filter(t.kind.isin(list(kinds))).select(
                "member_id", occurred_at=t.first_at, level=ibis.literal(level)
            )
            for level, kinds in (("D0", FUNNEL_D0), ("D1", FUNNEL_D1), ("D2", FUNNEL_D2_BY_ACTOR))
        ]
        o = self.object_rows(FUNNEL_D2_BY_OBJECT)
        parts.append(o.select("member_id", "occurred_at", level=ibis.literal("D2")))
        u = ibis.union(*parts)
        firsts = u.group_by(["member_id", "level"]).aggregate(first_at=u.occurred_at.min())
        got = self.fetch(firsts)
        members, where = np.unique(got.column("member_id").to_numpy(), return_inverse=True)
        levels = got.column("level").to_numpy(zero_copy_only=False)
        first_at = _times(got.column("first_at"))
        out: dict[str, Any] = {"member": members}
        for level in ("D0", "D1", "D2"):
            column = np.full(len(members), np.datetime64("NaT"), dtype="datetime64[us]")
            mask = levels == level
            column[where[mask]] = first_at[mask]
            out[level] = column
        return out

    def funnel(self) -> Result:
        firsts = self.funnel_firsts()
        counts: dict[date, dict[str, int]] = {}
        for level in ("D0", "D1", "D2"):
            when = firsts[level]
            for period, idx in _groups(self._floor_array(when[self._in_array(when)])):
                counts.setdefault(period, {"D0": 0, "D1": 0, "D2": 0})[level] = len(idx)
        zero = {"D0": 0, "D1": 0, "D2": 0}
        rows = [
            {"period": p, **{k.lower(): v for k, v in counts.get(p, zero).items()}}
            for p in (self.periods(set(counts)) if counts else [])
        ]
        return Result(DEFINITIONS["funnel"], self.params, ["period", "d0", "d1", "d2"], rows)

    def conversion(self) -> Result:
        firsts = self.funnel_firsts()
        rows = []
        for a, b in TRANSITIONS:
            start, end = firsts[a], firsts[b]
            keep = self._in_array(start)
            days = (end[keep] - start[keep]) / np.timedelta64(86400, "s")
            days[days < 0] = np.nan  # reached b before a: not a conversion from a
            for period, idx in _groups(self._floor_array(start[keep])):
                values = days[idx]
                done = values[~np.isnan(values)]
                stats = _stats(done, "days")
                rows.append(
                    {
                        "period": period,
                        "step": f"{a}→{b}",
                        "members": len(values),
                        "converted": len(done),
                        "rate": round(len(done) / len(values), 4),
                        "p50_days": stats["p50_days"],
                        "p90_days": stats["p90_days"],
                    }
                )
        rows.sort(key=lambda r: (r["period"], r["step"]))
        cols = ["period", "step", "members", "converted", "rate", "p50_days", "p90_days"]
        return Result(DEFINITIONS["conversion"], self.params, cols, rows)

    # -- community support ----------------------------------------------------------------------

    def questions(self) -> pa.Table:
        """Each question with its asker, first answer (who, when, staff or not) and whether an
        answer was accepted; read once per ``Metrics``."""
        return cast(pa.Table, self.memo("questions", lambda: self.fetch(self.question_rows())))

    def question_rows(self) -> Table:
        keys = ["source_id", "channel", "target"]  # the item's, shown; joined on ``item``
        # The questions read from the snapshot (their uid, title and asker's name), each kind on
        # its own: a column equal to a value is a filter the engine applies as it reads, so it
        # reads the other columns of those rows only.
        raw = self.engine.raw_activities
        asked = raw.filter(raw.kind == "github:question").union(
            raw.filter(
                (raw.kind == "discourse:topic_created") & (raw.contribution_type == "question")
            )
        )
        full = self.engine.activities(asked)
        if self.params.sources:
            full = full.filter(full.source.isin(list(self.params.sources)))
        q = self.cut(full)
        q = q.filter(q.item.notnull()).select(
            *keys,
            "item",
            "uid",
            "title",
            "is_bot",
            "is_staff",
            asker=q.member_id,
            asked_at=q.occurred_at,
            asker_name=q.display_name,
        )
        t = self.base(drop_people=False)
        a = t.filter(
            (t.kind == "github:answer")
            | ((t.kind == "discourse:post") & (t.contribution_type == "answer"))
        )
        a = a.filter(~a.is_bot.fill_null(False))
        a = a.select(
            "item",
            answerer=a.member_id,
            answered_at=a.occurred_at,
            answerer_staff=a.is_staff.fill_null(False),
        )
        j = q.join(a, "item").filter(
            lambda x: (x.answerer != x.asker) & (x.answered_at >= x.asked_at)
        )
        w = ibis.window(group_by="item", order_by=[j.answered_at, j.answerer])
        j = j.mutate(_n=ibis.row_number().over(w)).filter(lambda x: x._n == 0)
        first = j.select("item", "answered_at", "answerer", "answerer_staff")
        acc = t.filter(t.kind.isin(["github:answer_accepted", "discourse:solution"]))
        acc = acc.group_by("item").aggregate(accepted_at=acc.occurred_at.min())
        out = q.left_join(first, "item").select(q, "answered_at", "answerer", "answerer_staff")
        out = out.left_join(acc, "item").select(out, "accepted_at")
        return self.drop_people(out)  # questions asked by bots (or staff) as the flags say

    def community_support(self) -> Result:
        qs = self.questions()
        asked = _times(qs.column("asked_at"))
        answered_at = _times(qs.column("answered_at"))
        staff = qs.column("answerer_staff").fill_null(False).to_numpy(zero_copy_only=False)
        accepted = ~np.isnat(_times(qs.column("accepted_at")))
        keep = self._in_array(asked)
        wait = ((answered_at - asked) / np.timedelta64(3600, "s"))[keep]
        staff, accepted = staff[keep], accepted[keep]
        groups = dict(_groups(self._floor_array(asked[keep])))
        empty = np.array([], dtype=np.int64)
        rows = []
        for period in self.periods(set(groups)) if groups else []:
            idx = groups.get(period, empty)
            waits = wait[idx]
            answered = ~np.isnan(waits)
            n_answered = int(answered.sum())
            community = int((answered & ~staff[idx]).sum())
            n_accepted = int(accepted[idx].sum())
            stats = _stats(waits[answered], "hours")
            rows.append(
                {
                    "period": period,
                    "questions": len(idx),
                    "answered": n_answered,
                    "by_community": community,
                    "community_share": round(community / n_answered, 4) if n_answered else None,
                    "accepted": n_accepted,
                    "accepted_rate": round(n_accepted / len(idx), 4) if len(idx) else None,
                    "unanswered": len(idx) - n_answered,
                    "p50_hours": stats["p50_hours"],
                    "p90_hours": stats["p90_hours"],
                }
            )
        cols = [
            "period",
            "questions",
            "answered",
            "by_community",
            "community_share",
            "accepted",
            "accepted_rate",
            "unanswered",
            "p50_hours",
            "p90_hours",
        ]
        return Result(DEFINITIONS["community-support"], self.params, cols, rows)

    def unanswered_questions(self) -> Result:
        end = self.fetch(self.base().occurred_at.max()).as_py()
        qs = self.questions()
        asked = _times(qs.column("asked_at"))
        keep = self._in_array(asked) & np.isnat(_times(qs.column("answered_at")))
        waiting = qs.filter(pa.array(keep)).sort_by(
            [("asked_at", "ascending"), ("uid", "ascending")]
        )
        ages: list[float | None] = [None] * waiting.num_rows
        if end is not None:
            days = (np.datetime64(end, "us") - _times(waiting.column("asked_at"))) / np.timedelta64(
                86400, "s"
            )
            ages = [round(float(d), 2) for d in days]
        rows = [
            {
                "asked_at": asked_at,
                "channel": channel,
                "target": target,
                "title": title,
                "asker": asker,
                "age_days": age,
            }
            for asked_at, channel, target, title, asker, age in zip(
                waiting.column("asked_at").to_pylist(),
                waiting.column("channel").to_pylist(),
                waiting.column("target").to_pylist(),
                waiting.column("title").to_pylist(),
                waiting.column("asker_name").to_pylist(),
                ages,
                strict=True,
            )
        ]
        cols = ["asked_at", "channel", "target", "title", "asker", "age_days"]
        return Result(DEFINITIONS["unanswered-questions"], self.params, cols, rows)

    def top_answerers(self) -> Result:
        t = self.in_range(self.base(), "occurred_at")
        a = t.filter(
            (t.kind == "github:answer")
            | ((t.kind == "discourse:post") & (t.contribution_type == "answer"))
        )
        acc = self.in_range(self.object_rows(("github:answer_accepted",)), "occurred_at")
        sol = t.filter(t.kind == "discourse:solution")
        names = self._names()
        counts: dict[int, dict[str, Any]] = {}
        for part, what in ((a, "answers"), (acc, "accepted"), (sol, "accepted")):
            got = self.fetch(part.group_by("member_id").aggregate(n=part.count())).to_pylist()
            for r in got:
                row = counts.setdefault(
                    r["member_id"],
                    {
                        "member_id": r["member_id"],
                        "display_name": names.get(r["member_id"]),
                        "answers": 0,
                        "accepted": 0,
                    },
                )
                row[what] += int(r["n"])
        ranked = sorted(
            counts.values(), key=lambda r: (-r["answers"], -r["accepted"], r["member_id"])
        )
        rows = [{"rank": n, **r} for n, r in enumerate(ranked[: self.params.top], 1)]
        cols = ["rank", "member_id", "display_name", "answers", "accepted"]
        return Result(DEFINITIONS["top-answerers"], self.params, cols, rows)

    # -- concentration and influence (analytics/concentration.py, analytics/influence.py) ------

    def absence_factor(self) -> dict[date, int]:
        from commops.analytics.concentration import absence_factor_series

        p = self.params
        return absence_factor_series(self, rule=p.bus_rule, threshold=p.bus_threshold)  # type: ignore[arg-type]

    def elephant_factor(self) -> dict[date, int]:
        from commops.analytics.concentration import elephant_factor_series

        p = self.params
        return elephant_factor_series(
            self,
            self.engine.enrollments,
            unaffiliated=p.unaffiliated,  # type: ignore[arg-type]
            rule=p.bus_rule,  # type: ignore[arg-type]
            threshold=p.bus_threshold,
        )

    def onion_tiers(self) -> Result:
        from commops.analytics.concentration import onion_tier_counts_series

        per = onion_tier_counts_series(
            self, core=self.params.core_share, regular=self.params.regular_share
        )
        rows = [{"period": period, **counts} for period, counts in per.items()]
        return Result(
            DEFINITIONS["onion-tiers"], self.params, ["period", "core", "regular", "casual"], rows
        )

    def developer_activity(self) -> Result:
        from commops.analytics.influence import COUNTS, developer_activity_rows

        cols = ["period", "channel", "member_id", "display_name", "activity", *COUNTS]
        rows = developer_activity_rows(self, digits=4)  # these keys, activity rounded
        return Result(DEFINITIONS["developer-activity"], self.params, cols, rows)

    def repository_activity(self) -> Result:
        from commops.analytics.influence import repository_activity

        got = repository_activity(self)
        rows = [
            {"period": period, "channel": channel, "activity": round(value, 4)}
            for (period, channel), value in sorted(got.items())
        ]
        return Result(
            DEFINITIONS["repository-activity"], self.params, ["period", "channel", "activity"], rows
        )

    def community_openrank(self) -> Result:
        from commops.analytics.influence import community_openrank_top

        names = self._names()
        rows = [
            {
                "period": period,
                "rank": rank,
                "member_id": member,
                "display_name": names.get(member),
                "openrank": round(value, 4),
            }
            for period, rank, member, value in community_openrank_top(self, self.params.top)
        ]
        cols = ["period", "rank", "member_id", "display_name", "openrank"]
        return Result(DEFINITIONS["community-openrank"], self.params, cols, rows)

    def engagement_levels(self) -> Result:
        from commops.analytics.influence import engagement_summary

        end = self.fetch(self.base().occurred_at.max()).as_py()
        until = self.params.until or (end.date() if end else date.today())
        names = self._names()
        rows = [
            {
                "member_id": member,
                "display_name": names.get(member),
                "level": level,
                "since": since,
                "changes": changes,
            }
            for member, level, since, changes in engagement_summary(
                self, until, review_every=self.params.review_every
            )
        ]
        cols = ["member_id", "display_name", "level", "since", "changes"]
        return Result(DEFINITIONS["engagement-levels"], self.params, cols, rows)

    def _names(self) -> dict[int, str]:
        """Each member's display name (the greatest of its identities'), read once."""

        def read() -> dict[int, str]:
            i = self.engine.identities
            got = self.fetch(i.group_by(i.member_id).aggregate(name=i.display_name.max()))
            ids, names = got.column("member_id").to_pylist(), got.column("name").to_pylist()
            return dict(zip(ids, names, strict=True))

        return cast(dict[int, str], self.memo("names", read))

    # -- responsiveness and releases ------------------------------------------------------------

    def items(self) -> Table:
        """Issues and pull requests whose opening was read (``item_facts``), without those
        opened by bots or staff unless the parameters include them. When ``base`` is the
        refresh's table, the refresh's ``item_facts`` of it are read."""
        kept = self._refreshed(self.engine.items)
        facts = kept if kept is not None else item_facts(self.base(drop_people=False))
        return self.drop_people(facts)

    def _item_arrays(self) -> dict[str, Any]:
        """The items as numpy columns (times as ``datetime64[us]``, NaT when unknown), read
        once per ``Metrics``: four metrics share them."""

        def read() -> dict[str, Any]:
            cols = ("opened_at", "first_response_at", "merged_at", "closed_at")
            got = self.fetch(self.items().select(*cols, "item_type"))
            out = {c: _times(got.column(c)) for c in cols}
            out["is_pr"] = got.column("item_type").to_numpy(zero_copy_only=False) == "pr"
            return out

        return cast(dict[str, Any], self.memo("items", read))

    def _in(self, when: datetime | None) -> bool:
        if when is None:
            return False
        day = when.date()
        return not (
            (self.params.since and day < self.params.since)
            or (self.params.until and day > self.params.until)
        )

    def _in_array(self, when: Any) -> Any:
        """``_in`` over a ``datetime64[us]`` array (NaT is never in the range)."""
        keep = ~np.isnat(when)
        if self.params.since:
            keep &= when >= np.datetime64(self.params.since, "us")
        if self.params.until:
            keep &= when < np.datetime64(self.params.until + timedelta(days=1), "us")
        return keep

    def _floor_array(self, when: Any) -> Any:
        """``_floor`` over a ``datetime64`` array: each time's period start, ``datetime64[D]``
        (NaT stays NaT)."""
        days = when.astype("datetime64[D]")  # (a division: fast)
        if self.unit == "D":
            return days
        if self.unit == "W":
            weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
            return days - weekday.astype("timedelta64[D]")
        # Months, quarters and years follow the calendar, which numpy computes slowly, element
        # by element: it is computed once for each day of the span, then looked up.
        known = ~np.isnat(days)
        n = days.view(np.int64)
        if not known.any():
            return days
        lo, hi = int(n[known].min()), int(n[known].max())
        span = np.arange(lo, hi + 1).astype("datetime64[D]")
        if self.unit == "M":
            starts = span.astype("datetime64[M]").astype("datetime64[D]")
        elif self.unit == "Q":
            months = span.astype("datetime64[M]").astype(np.int64)
            starts = (months - months % 3).astype("datetime64[M]").astype("datetime64[D]")
        else:
            starts = span.astype("datetime64[Y]").astype("datetime64[D]")
        if known.all():
            return starts[n - lo]
        out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[D]")
        out[known] = starts[n[known] - lo]
        return out

    def time_to_first_response(self) -> Result:
        it = self._item_arrays()
        opened, first = it["opened_at"], it["first_response_at"]
        keep = self._in_array(opened)
        hours = (first - opened) / np.timedelta64(3600, "s")
        rows = []
        for pr, kind in ((False, "issue"), (True, "pr")):
            mask = keep & (it["is_pr"] == pr)
            chosen = hours[mask]
            for period, idx in _groups(self._floor_array(opened[mask])):
                values = chosen[idx]
                answered = values[~np.isnan(values)]
                rows.append(
                    {
                        "period": period,
                        "item_type": kind,
                        "opened": len(values),
                        "responded": len(answered),
                        "unresponded": len(values) - len(answered),
                        **_stats(answered, "hours"),
                    }
                )
        rows.sort(key=lambda r: (r["period"], r["item_type"]))
        cols = ["period", "item_type", "opened", "responded", "unresponded", *STAT_COLUMNS["hours"]]
        return Result(DEFINITIONS["time-to-first-response"], self.params, cols, rows)

    def time_to_merge(self) -> Result:
        it = self._item_arrays()
        merged = it["merged_at"]
        mask = it["is_pr"] & self._in_array(merged)
        hours = ((merged - it["opened_at"]) / np.timedelta64(3600, "s"))[mask]
        rows = [
            {"period": p, "merged": len(idx), **_stats(hours[idx], "hours")}
            for p, idx in _groups(self._floor_array(merged[mask]))
        ]
        cols = ["period", "merged", *STAT_COLUMNS["hours"]]
        return Result(DEFINITIONS["time-to-merge"], self.params, cols, rows)

    def change_requests(self) -> Result:
        it = self._item_arrays()
        pr = it["is_pr"]
        merged, closed = it["merged_at"], it["closed_at"]
        counts: dict[date, dict[str, int]] = {}
        for what, when, mask in (
            ("opened", it["opened_at"], pr),
            ("merged", merged, pr),
            ("closed", closed, pr & np.isnat(merged)),
        ):
            mask = mask & self._in_array(when)
            for period, idx in _groups(self._floor_array(when[mask])):
                row = counts.setdefault(period, {"opened": 0, "merged": 0, "closed": 0})
                row[what] += len(idx)
        rows = []
        for period in self.periods(set(counts)) if counts else []:
            c = counts.get(period, {"opened": 0, "merged": 0, "closed": 0})
            done = c["merged"] + c["closed"]
            rows.append(
                {
                    "period": period,
                    **c,
                    "closure_ratio": round(done / c["opened"], 4) if c["opened"] else None,
                    "acceptance_ratio": round(c["merged"] / done, 4) if done else None,
                }
            )
        cols = ["period", "opened", "merged", "closed", "closure_ratio", "acceptance_ratio"]
        return Result(DEFINITIONS["change-requests"], self.params, cols, rows)

    def issue_age(self) -> Result:
        it = self._item_arrays()
        issue = ~it["is_pr"]
        opened, closed = it["opened_at"][issue], it["closed_at"][issue]
        order = np.argsort(opened, kind="stable")
        opened, closed = opened[order], closed[order]
        seen = {p for p, _ in _groups(self._floor_array(opened))}
        rows = []
        for period in self.periods(seen) if seen else []:
            end = np.datetime64(self._next(period), "us")
            before = opened[: np.searchsorted(opened, end, side="left")]
            still = closed[: len(before)]
            open_then = np.isnat(still) | (still >= end)
            ages = (end - before[open_then]) / np.timedelta64(86400, "s")
            rows.append({"period": period, "open_issues": len(ages), **_stats(ages, "days")})
        cols = ["period", "open_issues", *STAT_COLUMNS["days"]]
        return Result(DEFINITIONS["issue-age"], self.params, cols, rows)

    def releases(self) -> Result:
        t = self.base(drop_people=False)
        t = t.filter(t.kind.isin(list(RELEASE_KINDS)))
        got = t.select("source_id", "channel", "target", "occurred_at").order_by("occurred_at")
        by_repo: dict[tuple[int, str], list[datetime]] = {}
        for r in self.fetch(got).to_pylist():
            by_repo.setdefault((r["source_id"], r["channel"]), []).append(r["occurred_at"])
        counts: dict[date, int] = {}
        gaps: dict[date, list[float]] = {}
        for times in by_repo.values():
            for n, when in enumerate(times):
                if not self._in(when):
                    continue
                period = self._floor(when.date())
                counts[period] = counts.get(period, 0) + 1
                if n:
                    gap = (when - times[n - 1]).total_seconds() / 86400
                    gaps.setdefault(period, []).append(gap)
        rows = []
        for period in self.periods(set(counts)) if counts else []:
            g = gaps.get(period, [])
            rows.append(
                {
                    "period": period,
                    "releases": counts.get(period, 0),
                    "mean_days_between": round(sum(g) / len(g), 2) if g else None,
                }
            )
        return Result(
            DEFINITIONS["releases"], self.params, ["period", "releases", "mean_days_between"], rows
        )

    # -- drill-down ---------------------------------------------------------------------------

    EXPLAIN_COLUMNS = (
        "period",
        "uid",
        "kind",
        "occurred_at",
        "source",
        "channel",
        "target",
        "member_id",
        "display_name",
        "title",
    )

    def explain(self, name: str, period: date) -> Result:
        """The activities behind one period's value of a series metric: for contributor
        counts, the contributions (the first one for new contributors, the last one for those
        who became inactive); for commits, stars and forks, those activities; for merged PRs,
        the commits that name them."""
        if not self.wide:  # the drill-down shows every column: read them from the snapshot
            return Metrics(self.engine, self.params, wide=True).explain(name, period)
        start = self._floor(period)
        end = self._next(start)
        when = "occurred_at"
        if name in (
            "active-contributors",
            "returning-contributors",
            "absence-factor",
            "elephant-factor",
        ):
            t = self.contributions()
            if name == "returning-contributors":
                first = self.first_contributions("any")
                t = t.join(first, "member_id")
                t = t.filter(self.bucket(t, "occurred_at") > self.bucket(t, "first_at"))
        elif name == "new-contributors":
            first = self.first_contributions()
            t = self.first_basis().join(first, "member_id")
            t = t.filter(t.occurred_at == t.first_at)
        elif name == "inactive-contributors":
            c = self.contributions()
            gone = self.inactive_rows()
            t = c.join(gone, "member_id")
            t = t.filter(t.occurred_at == t.last_at)
            when = "inactive_at"
        elif name == "commits":
            t = self.commit_rows()
        elif name == "merged-prs":
            prs = self.merged_pr_rows()
            c = self.base(drop_people=False)
            c = c.filter((c.kind == "git:commit") & c.pr_number.notnull())
            t = c.join(prs, ["source_id", "pr_number"])
            when = "merged_at"
        elif name in ("stars", "forks"):
            t = self.kind_rows(STAR_KINDS if name == "stars" else FORK_KINDS)
        else:
            raise UsageError(
                f"--explain works on series metrics; {name!r} is a {DEFINITIONS[name].kind}",
                hint="Series: "
                + ", ".join(n for n, d in DEFINITIONS.items() if d.kind == "series"),
            )
        lo = ibis.timestamp(datetime.combine(start, datetime.min.time()))
        hi = ibis.timestamp(datetime.combine(end, datetime.min.time()))
        t = t.filter((t[when] >= lo) & (t[when] < hi))
        cols = [c for c in self.EXPLAIN_COLUMNS if c != "period"]
        expr = t.select(*cols).order_by(["occurred_at", "uid"])
        rows = [{"period": start, **r} for r in self.fetch(expr).to_pylist()]
        d = DEFINITIONS[name]
        explained = Definition(
            d.name, f"{d.title}: {start} explained", "table", d.formula, d.reference
        )
        return Result(explained, self.params, list(self.EXPLAIN_COLUMNS), rows)

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
        if self.unit == "D":
            return d
        if self.unit == "W":
            return d - timedelta(days=d.weekday())
        if self.unit == "M":
            return d.replace(day=1)
        if self.unit == "Q":
            return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
        return d.replace(month=1, day=1)

    def _next(self, d: date) -> date:
        if self.unit == "D":
            return d + timedelta(days=1)
        if self.unit == "W":
            return d + timedelta(days=7)
        months = {"M": 1, "Q": 3, "Y": 12}[self.unit]
        m = d.month - 1 + months
        return d.replace(year=d.year + m // 12, month=m % 12 + 1, day=1)


STAT_COLUMNS = {unit: [f"mean_{unit}", f"p50_{unit}", f"p90_{unit}"] for unit in ("hours", "days")}


def _stats(values: Any, unit: str) -> dict[str, float | None]:
    """Mean and exact quantiles (linear interpolation, as numpy's default), or None when
    there is nothing to measure: never an invented value."""
    cols = STAT_COLUMNS[unit]
    v = np.sort(np.asarray(values, dtype=np.float64))
    if not len(v):
        return dict.fromkeys(cols)

    def q(p: float) -> float:
        pos = (len(v) - 1) * p
        lo = int(pos)
        hi = min(lo + 1, len(v) - 1)
        return float(v[lo] + (v[hi] - v[lo]) * (pos - lo))

    return {
        cols[0]: round(float(v.sum()) / len(v), 2),
        cols[1]: round(q(0.5), 2),
        cols[2]: round(q(0.9), 2),
    }


def _times(column: Any) -> Any:
    """An Arrow timestamp column as ``datetime64[us]`` (NaT where null)."""
    return column.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)


def _groups(periods: Any) -> list[tuple[date, Any]]:
    """The positions of each distinct period in a ``datetime64[D]`` array, periods in order."""
    if not len(periods):
        return []
    days = periods.view(np.int64)
    low = int(days.min())
    if int(days.max()) - low < 2**15:  # (a stable sort of 16-bit numbers is a radix sort)
        order = np.argsort((days - low).astype(np.int16), kind="stable")
    else:
        order = np.argsort(periods, kind="stable")
    ordered = periods[order]
    cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(order)]))
    return [(ordered[a].astype(date), order[a:b]) for a, b in zip(starts, ends, strict=True)]


def item_facts(t: Table) -> Table:
    """The issues and pull requests of the activities ``t`` whose opening was read: one row
    per item (source, channel, number: the snapshot's ``item`` key) with the author (the
    member who opened it) and the author's flags, when it was opened, its first response (the
    earliest comment or review at or after the opening by someone other than the author, not
    a bot), first merge and first close. An item's row depends on its own activities only."""
    opening = [*ISSUE_OPENED_KINDS, *PR_OPENED_KINDS]
    o = t.filter(t.kind.isin([*opening, *PR_MERGED_KINDS, *CLOSED_KINDS]) & t.item.notnull())
    is_open = o.kind.isin(opening)
    items = o.group_by("item").aggregate(
        opened_at=o.occurred_at.min(where=is_open),
        author=o.member_id.min(where=is_open),
        item_type=ibis.ifelse(o.kind.isin(list(PR_OPENED_KINDS)), "pr", "issue").max(where=is_open),
        is_bot=o.is_bot.fill_null(False).max(where=is_open),
        is_staff=o.is_staff.fill_null(False).max(where=is_open),
        merged_at=o.occurred_at.min(where=o.kind.isin(list(PR_MERGED_KINDS))),
        closed_at=o.occurred_at.min(where=o.kind.isin(list(CLOSED_KINDS))),
    )
    items = items.filter(items.opened_at.notnull())
    r = t.filter(t.kind.isin(list(RESPONSE_KINDS)) & ~t.is_bot.fill_null(False))
    r = r.select("item", responder=r.member_id, response_at=r.occurred_at)
    j = items.select("item", "author", "opened_at").join(r, "item")
    j = j.filter((j.responder != j.author) & (j.response_at >= j.opened_at))
    first = j.group_by("item").aggregate(first_response_at=j.response_at.min())
    return items.left_join(first, "item").select(items, "first_response_at")
