"""Real commit histories (../shared/data/git-replicas): importing each must reproduce, exactly,
the facts plain git computes on it (`<repo>.truth.json`).

The commops side is read from the activity export (what `commops export activities` gives a
user), kind ``git:commit``; the truth side is the truth file's ``facts``, whose ``commands``
section says how git computed each one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from commops.exports import iter_activities
from commops.sources import add_git_source
from commops.sync import sync_workspace
from commops.workspace import Workspace, init_workspace
from conftest import POSTGRES_ENV, shared_data

pytestmark = pytest.mark.shared_data

BUNDLES = [
    "kubesphere__kubesphere",
    "kubesphere__kubekey",
    "kubesphere__console",
    "kubesphere__ks-devops",
    "OpenFunction__OpenFunction",
]
SMALLEST = "kubesphere__ks-devops"


@dataclass
class Imported:
    name: str
    truth: dict[str, Any]
    commits: list[dict[str, Any]]  # exported git:commit activities
    co_authored: int  # exported git:co_authored activities
    added: tuple[int, ...]  # activities added by each sync run


def clone(name: str, into: Path) -> Path:
    bundle = shared_data("git-replicas", name + ".bundle")
    repo = into / (name + ".git")
    subprocess.run(["git", "clone", "-q", "--bare", str(bundle), str(repo)], check=True)
    return repo


def truth_of(name: str) -> dict[str, Any]:
    path = shared_data("git-replicas", name + ".truth.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def import_into(ws: Workspace, name: str, repo: Path, syncs: int = 1) -> Imported:
    add_git_source(ws.store, str(repo), name=name)
    added = []
    for _ in range(syncs):
        [result] = sync_workspace(ws)
        assert result.error is None
        added.append(result.added)
    acts = list(iter_activities(ws.store))
    return Imported(
        name=name,
        truth=truth_of(name),
        commits=[a for a in acts if a["kind"] == "git:commit"],
        co_authored=sum(a["kind"] == "git:co_authored" for a in acts),
        added=tuple(added),
    )


@pytest.fixture(scope="module", params=BUNDLES)
def imported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Imported:
    name: str = request.param
    tmp = tmp_path_factory.mktemp(name)
    repo = clone(name, tmp)
    ws, _ = init_workspace(tmp / "ws")
    try:
        return import_into(ws, name, repo)
    finally:
        ws.close()


@pytest.fixture(scope="module")
def imported_postgresql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (set by .ci/run and `make services`)")
    tmp = tmp_path_factory.mktemp("postgresql")
    repo = clone(SMALLEST, tmp)
    db = f"commops_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    try:
        url = make_url(base).set(database=db).render_as_string(hide_password=False)
        ws, _ = init_workspace(tmp / "ws", url)
        try:
            yield import_into(ws, SMALLEST, repo, syncs=2)
        finally:
            ws.close()
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": db},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
        admin.dispose()


def _grep_regex(command: str) -> re.Pattern[str]:
    """The regex of a truth command `git log ... | grep -c[i]E '<regex>'`, for Python."""
    m = re.search(r"grep -c(i?)E '([^']*)'", command)
    assert m is not None, command
    pattern = m.group(2).replace("[[:space:]]", r"\s")
    return re.compile(pattern, re.IGNORECASE if m.group(1) else 0)


def facts_from_export(imp: Imported) -> dict[str, Any]:
    """The truth file's facts, computed from the exported commit activities."""
    commits = imp.commits
    attrs = [c["attributes"] for c in commits]
    emails = [c["actor"]["email"] or "" for c in commits]
    non_merge = [a for a in attrs if not a["merge"]]
    by_epoch = sorted((c["occurred_at"], c["attributes"]["author_date"]) for c in commits)
    head = imp.truth["facts"]["head_sha"]
    [tip] = [a for a in attrs if a["sha"] == head]
    roots = {a["author_date"] for a in attrs if not a["parents"]}
    merge_pr = _grep_regex(imp.truth["commands"]["merge_pull_request_subjects"])
    return {
        "head_sha": tip["sha"],
        "total_commits": len(commits),
        "merge_commits": sum(a["merge"] for a in attrs),
        "non_merge_commits": len(non_merge),
        "root_commits": sum(not a["parents"] for a in attrs),
        "distinct_author_emails": len(set(emails)),
        "distinct_author_names": len({c["actor"]["name"] for c in commits}),
        "distinct_committer_emails": len({a["committer_email"] for a in attrs}),
        "commits_per_author_email_all": dict(Counter(emails)),
        "commits_per_month_utc_by_author_date": dict(
            Counter(c["occurred_at"][:7] for c in commits)
        ),
        "commits_per_month_utc_by_committer_date": dict(
            Counter(a["committed_at"][:7] for a in attrs)
        ),
        "numstat_totals_non_merge": {
            "files_changed": sum(a["files_changed"] for a in non_merge),
            "insertions": sum(a["insertions"] for a in non_merge),
            "deletions": sum(a["deletions"] for a in non_merge),
        },
        "merge_pull_request_subjects": sum(bool(merge_pr.search(c["title"])) for c in commits),
        # The truth greps `git log --format=%B` lines, case-insensitively, with any leading
        # whitespace; the connector's trailer lists hold one entry per such line. They can
        # differ only on lines none of these histories has: blanks before the colon (git's
        # trailer parser and the connector take them, the grep does not) and a line starting
        # with \r, \v or \f (the grep's [[:space:]] takes them, the connector does not).
        "co_authored_by_lines": sum(len(a["co_authors"]) for a in attrs),
        "signed_off_by_lines": sum(len(a["signed_off_by"]) for a in attrs),
        "earliest_author_date": by_epoch[0][1],
        "latest_author_date": by_epoch[-1][1],
        "last_commit_author_date": tip["author_date"],
        "last_commit_committer_date": tip["committer_date"],
        # `git log --reverse | head -1` is a root commit: the only one, or one of them.
        "first_commit_author_date": (
            imp.truth["facts"]["first_commit_author_date"]
            if imp.truth["facts"]["first_commit_author_date"] in roots
            else sorted(roots)
        ),
        # No replica has a .mailmap, so `git shortlog -sne` groups by the raw name and e-mail.
        "shortlog_sne_full": Counter(
            (c["actor"]["name"], e) for c, e in zip(commits, emails, strict=True)
        ),
    }


def expected_facts(imp: Imported) -> dict[str, Any]:
    facts = imp.truth["facts"]
    expected = {k: facts[k] for k in facts if k != "shortlog_sne_full"}
    expected["shortlog_sne_full"] = Counter(
        {(row["name"], row["email"]): row["commits"] for row in facts["shortlog_sne_full"]}
    )
    return expected


def assert_matches_truth(imp: Imported) -> None:
    mine = facts_from_export(imp)
    truth = expected_facts(imp)
    assert set(mine) <= set(truth)
    # Every fact the truth has and the export can give; the other truth keys are git-only
    # (head_ref, numstat_totals_no_merges_flag and shortstat_totals equal the numstat totals).
    assert set(truth) - set(mine) == {
        "head_ref",
        "numstat_totals_no_merges_flag",
        "shortstat_totals",
    }
    assert truth["numstat_totals_no_merges_flag"] == truth["numstat_totals_non_merge"]
    mismatches = {k: (mine[k], truth[k]) for k in mine if mine[k] != truth[k]}
    assert mismatches == {}


def test_real_history_matches_truth(imported: Imported) -> None:
    assert_matches_truth(imported)
    # Co-authors are credited once per commit, never more often than their trailer lines.
    assert imported.co_authored <= imported.truth["facts"]["co_authored_by_lines"]


def test_real_history_postgresql_matches_truth(imported_postgresql: Imported) -> None:
    assert_matches_truth(imported_postgresql)
    # The second sync finds nothing new.
    facts = imported_postgresql.truth["facts"]
    assert imported_postgresql.added == (
        facts["total_commits"] + imported_postgresql.co_authored,
        0,
    )
