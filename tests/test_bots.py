"""Bots and staff: rules, the configured lists, behaviour, manual flags, the log, the CLI."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from commops.analytics.engine import Engine
from commops.analytics.metrics import Metrics, Params
from commops.analytics.snapshot import Snapshot
from commops.cli.app import app
from commops.config import CONFIG_NAME, ConfigError, write_config
from commops.errors import UsageError
from commops.identity.audit import undo
from commops.identity.bots import BotRules, apply_bot_flags, detect_bot_behaviour
from commops.identity.staff import apply_staff_flags, clear_flag, set_flag
from commops.sources import add_git_source, ensure_source
from commops.store.models import Enrollment, Identity, IdentityLog, Member, Organization
from commops.sync import sync_workspace
from commops.workspace import Workspace
from conftest import GitRepo

START = datetime(2024, 3, 1, 9, 0, 0)


# -- helpers ----------------------------------------------------------------------------------


def row(
    kind: str,
    login: str,
    at: datetime,
    key: str,
    *,
    platform: str = "github",
    email: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": kind,
        "occurred_at": at.isoformat() + "Z",
        "actor_platform": platform,
        "actor_username": login,
        "item_key": key,
    }
    if email is not None:
        out["actor_email"] = email
    return out


def merges(login: str, n: int, *, start: datetime = START) -> list[dict[str, Any]]:
    return [
        row("github:pr_merged", login, start + timedelta(hours=i), f"{login}/merge/{i}")
        for i in range(n)
    ]


def burst(
    login: str, kind: str, *, minutes: int, per_minute: int, start: datetime = START
) -> list[dict[str, Any]]:
    """``per_minute`` activities within each of ``minutes`` clock minutes, a day apart."""
    return [
        row(kind, login, start + timedelta(days=m, seconds=s * 5), f"{login}/{kind}/{m}/{s}")
        for m in range(minutes)
        for s in range(per_minute)
    ]


def import_rows(ws: Workspace, rows: list[dict[str, Any]], name: str = "acts") -> None:
    path = ws.root / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ensure_source(ws.store, "tabular", str(path), name=name, options={})
    (result,) = sync_workspace(
        ws, [name], params={"file": str(path), "format": None, "skip_invalid": False}
    )
    assert result.ok, result.error


def member_of(ws: Workspace, value: str, platform: str = "github") -> int:
    with ws.store.session() as session:
        return session.execute(
            select(Identity.member_id).where(Identity.platform == platform, Identity.value == value)
        ).scalar_one()


def flags(ws: Workspace, member_id: int) -> tuple[bool, bool, dict[str, Any]]:
    with ws.store.session() as session:
        m = session.get(Member, member_id)
        assert m is not None
        return bool(m.is_bot), bool(m.is_staff), dict(m.flag_origins or {})


def identity_is_bot(ws: Workspace, value: str, platform: str = "github") -> bool:
    with ws.store.session() as session:
        return bool(
            session.execute(
                select(Identity.is_bot).where(
                    Identity.platform == platform, Identity.value == value
                )
            ).scalar_one()
        )


def detect_bots(ws: Workspace) -> Any:
    with ws.store.session() as session:
        return apply_bot_flags(session, ws.config)


def detect_staff(ws: Workspace, today: date | None = None) -> Any:
    with ws.store.session() as session:
        return apply_staff_flags(session, ws.config, today=today)


def save_config(ws: Workspace) -> None:
    write_config(ws.root / CONFIG_NAME, ws.config)


def invoke(cli: CliRunner, ws: Workspace, *args: str) -> Result:
    return cli.invoke(app, ["--workspace", str(ws.root), "members", *args])


# -- rules and the configured list ------------------------------------------------------------


def test_bot_rules_positional_patterns_still_work() -> None:
    rules = BotRules([r"^jenkins"])
    assert rules.is_bot(username="jenkins-prod")
    assert rules.origin(username="jenkins-prod") == "rule"
    assert not rules.is_bot(username="jenny")


def test_bot_rules_accounts_match_login_email_and_exact_name_in_any_case() -> None:
    rules = BotRules(accounts=["Deploy-User", "builder@Example.com", "Release Pete"])
    assert rules.origin(username="deploy-user") == "list"
    assert rules.origin(email="123+DEPLOY-USER@users.noreply.github.com") == "list"
    assert rules.origin(email="BUILDER@example.COM") == "list"
    assert rules.origin(name="release pete") == "list"
    assert rules.account(name="  Release Pete ") == "Release Pete"
    assert rules.origin(username="deploy-user2") is None
    assert rules.origin(name="Release Pete Jr") is None
    assert rules.origin(email="deploy-user@example.com") is None  # a login is not a local part
    assert rules.origin(username="dependabot") == "rule"


def test_configured_account_flags_identity_and_member(workspace: Workspace) -> None:
    import_rows(
        workspace,
        [
            row("github:issue_comment", "Deploy-User", START, "c1"),
            row("github:issue_comment", "ada", START, "c2"),
        ],
    )
    workspace.config.bot_accounts = ["deploy-user", "ghost-account"]
    deploy, ada = member_of(workspace, "Deploy-User"), member_of(workspace, "ada")
    assert flags(workspace, deploy)[0] is False
    stats = detect_bots(workspace)
    assert flags(workspace, deploy) == (True, False, {"bot": "list"})
    assert flags(workspace, ada) == (False, False, {})
    assert identity_is_bot(workspace, "Deploy-User")
    assert (stats.members_flagged, stats.identities_flagged) == (1, 1)
    assert stats.unmatched == ["[bots] accounts: 'ghost-account'"]
    (change,) = stats.changes
    assert (change.member_id, change.before, change.after, change.origin_after) == (
        deploy,
        False,
        True,
        "list",
    )
    with workspace.store.session() as session:
        entry = session.get(IdentityLog, stats.log_id)
        assert entry is not None
        assert entry.action == "bot-detect"
        assert entry.changes["members_updated"] == [
            {
                "id": deploy,
                "before": {"is_bot": False, "flag_origins": {}},
                "after": {"is_bot": True, "flag_origins": {"bot": "list"}},
            }
        ]
    # A second run finds nothing new and writes no log entry.
    again = detect_bots(workspace)
    assert (again.changes, again.log_id, again.identities_flagged) == ([], None, 0)


def test_removed_account_is_cleared_but_rule_origin_recorded(workspace: Workspace) -> None:
    import_rows(
        workspace,
        [
            row("github:issue_comment", "deploy-user", START, "c1"),
            row("github:issue_comment", "renovate-bot", START, "c2"),
        ],
    )
    renovate = member_of(workspace, "renovate-bot")
    # The registry flagged renovate-bot on sync by the built-in rule and recorded why, so
    # detection agrees and changes nothing about it.
    assert flags(workspace, renovate) == (True, False, {"bot": "rule"})
    workspace.config.bot_accounts = ["deploy-user"]
    first = detect_bots(workspace)
    assert flags(workspace, renovate) == (True, False, {"bot": "rule"})
    assert first.origins_changed == 0
    workspace.config.bot_accounts = []
    second = detect_bots(workspace)
    deploy = member_of(workspace, "deploy-user")
    assert flags(workspace, deploy) == (False, False, {})
    assert not identity_is_bot(workspace, "deploy-user")
    assert (second.members_cleared, second.identities_cleared) == (1, 1)


# -- behaviour --------------------------------------------------------------------------------


def test_ci_merger_detected_and_busy_maintainer_is_not(workspace: Workspace) -> None:
    import_rows(
        workspace,
        [
            *merges("merge-machine", 6),
            *merges("maintainer", 6),
            row("github:review", "maintainer", START, "review-1"),
            *merges("occasional", 5),
        ],
    )
    workspace.config.bot_merge_threshold = 6
    with workspace.store.session() as session:
        hits = detect_bot_behaviour(session, merge_threshold=6)
    machine = member_of(workspace, "merge-machine")
    assert [(h.member_id, h.rule) for h in hits] == [(machine, "ci-merger")]
    assert hits[0].detail == "merged 6 pull requests, authored 0 activities"
    stats = detect_bots(workspace)
    assert flags(workspace, machine) == (True, False, {"bot": "behaviour"})
    assert identity_is_bot(workspace, "merge-machine")
    for human in ("maintainer", "occasional"):
        assert flags(workspace, member_of(workspace, human))[0] is False
    assert stats.members_flagged == 1


def test_ci_merger_share_counts_the_whole_member(workspace: Workspace) -> None:
    # 100 merges by the login "lead", 1 comment under it; the same member's e-mail identity
    # (given with the login) wrote 2 more: 3 authored * 50 > 100 merges, a person.
    import_rows(
        workspace,
        [
            # first, so that the login is stored with its e-mail on one member
            row("github:issue_comment", "lead", START, "c1", email="lead@example.org"),
            *merges("lead", 100),
            *(
                {
                    "kind": "github:issue_comment",
                    "occurred_at": START.isoformat() + "Z",
                    "actor_platform": "github",
                    "actor_email": "lead@example.org",
                    "item_key": key,
                }
                for key in ("c2", "c2b")
            ),
            *merges("robot-ish", 100),
            row("github:issue_comment", "robot-ish", START, "c3"),
            row("github:issue_comment", "robot-ish", START, "c4"),
        ],
    )
    with workspace.store.session() as session:
        hits = detect_bot_behaviour(session, merge_threshold=100)
    assert member_of(workspace, "lead") == member_of(workspace, "lead@example.org")
    # 2 authored per 100 merges is within 1 per 50: a CI account.
    assert [h.member_id for h in hits] == [member_of(workspace, "robot-ish")]


def test_bursts_detected_in_enough_minutes_only(workspace: Workspace) -> None:
    import_rows(
        workspace,
        [
            *burst("stale-runner", "github:issue_comment", minutes=5, per_minute=10),
            *burst("fast-typist", "github:issue_comment", minutes=4, per_minute=10),
            *burst("few-each", "github:issue_comment", minutes=6, per_minute=9),
            *burst("reviewer", "github:review_comment", minutes=8, per_minute=12),
        ],
    )
    with workspace.store.session() as session:
        hits = detect_bot_behaviour(session, merge_threshold=200)
    stale = member_of(workspace, "stale-runner")
    assert [(h.member_id, h.rule) for h in hits] == [(stale, "bursts")]
    assert "in 5 different minutes" in hits[0].detail
    detect_bots(workspace)
    assert flags(workspace, stale) == (True, False, {"bot": "behaviour"})
    assert flags(workspace, member_of(workspace, "reviewer"))[0] is False


def test_member_with_a_person_and_a_bot_identity_stays_a_person(workspace: Workspace) -> None:
    # "deploy-user" was given Ada's e-mail: both identities are one member and both active.
    import_rows(
        workspace,
        [
            row("github:issue_comment", "deploy-user", START, "c1", email="ada@example.org"),
            {
                "kind": "github:issue_comment",
                "occurred_at": START.isoformat() + "Z",
                "actor_platform": "github",
                "actor_email": "ada@example.org",
                "item_key": "c2",
            },
            # A bot whose e-mail identity never acted: its only active identity is a bot.
            row("github:issue_comment", "ops-runner", START, "c3", email="ops@example.org"),
        ],
    )
    workspace.config.bot_accounts = ["deploy-user", "ops-runner"]
    ada = member_of(workspace, "deploy-user")
    assert ada == member_of(workspace, "ada@example.org")
    ops = member_of(workspace, "ops-runner")
    assert ops == member_of(workspace, "ops@example.org")
    detect_bots(workspace)
    assert flags(workspace, ada)[0] is False
    assert identity_is_bot(workspace, "deploy-user")
    assert not identity_is_bot(workspace, "ada@example.org")
    assert flags(workspace, ops) == (True, False, {"bot": "list"})


# -- manual flags -----------------------------------------------------------------------------


def test_manual_flags_survive_detection_and_auto_returns_them(workspace: Workspace) -> None:
    import_rows(
        workspace,
        [
            row("github:issue_comment", "deploy-user", START, "c1"),
            row("github:issue_comment", "ada", START, "c2"),
        ],
    )
    workspace.config.bot_accounts = ["deploy-user"]
    detect_bots(workspace)
    deploy, ada = member_of(workspace, "deploy-user"), member_of(workspace, "ada")
    with workspace.store.session() as session:
        off = set_flag(session, deploy, "bot", False, actor="tester", reason="a person after all")
        on = set_flag(session, ada, "bot", True, actor="tester")
        assert (off.action, off.actor, off.reason) == ("bot-manual", "tester", "a person after all")
        assert on.changes["members_updated"][0]["after"] == {
            "is_bot": True,
            "flag_origins": {"bot": "manual"},
        }
    stats = detect_bots(workspace)
    assert flags(workspace, deploy) == (False, False, {"bot": "manual"})
    assert flags(workspace, ada) == (True, False, {"bot": "manual"})
    assert (stats.manual_kept, stats.changes) == (2, [])
    with workspace.store.session() as session:
        back = clear_flag(session, deploy, "bot", config=workspace.config, actor="tester")
        clear_flag(session, ada, "bot", config=workspace.config, actor="tester")
        assert back.action == "bot-auto"
    assert flags(workspace, deploy) == (True, False, {"bot": "list"})
    assert flags(workspace, ada) == (False, False, {})


def test_manual_flag_errors_change_nothing(workspace: Workspace) -> None:
    import_rows(workspace, [row("github:issue_comment", "ada", START, "c1")])
    ada = member_of(workspace, "ada")
    with workspace.store.session() as session:
        with pytest.raises(UsageError, match="no member 999999"):
            set_flag(session, 999999, "bot", True, actor="tester")
        with pytest.raises(UsageError, match="no flag 'admin'"):
            set_flag(session, ada, "admin", True, actor="tester")
        with pytest.raises(UsageError, match="is not set by hand"):
            clear_flag(session, ada, "staff", config=workspace.config, actor="tester")
        set_flag(session, ada, "staff", True, actor="tester")
    with (
        workspace.store.session() as session,
        pytest.raises(UsageError, match=r"already marked staff by hand"),
    ):
        set_flag(session, ada, "staff", True, actor="tester")
    with workspace.store.session() as session:
        actions = session.execute(select(IdentityLog.action)).scalars().all()
    assert actions == ["staff-manual"]
    assert flags(workspace, ada) == (False, True, {"staff": "manual"})


# -- staff ------------------------------------------------------------------------------------


def enroll(ws: Workspace, member_id: int, org: str, start: date | None, end: date | None) -> None:
    with ws.store.session() as session:
        found = session.execute(
            select(Organization).where(Organization.name == org)
        ).scalar_one_or_none()
        if found is None:
            found = Organization(name=org, domains=[], created_at=START)
            session.add(found)
            session.flush()
        session.add(
            Enrollment(
                member_id=member_id,
                organization_id=found.id,
                start_date=start,
                end_date=end,
                origin="manual",
            )
        )


def test_staff_by_current_enrollment(workspace: Workspace) -> None:
    import_rows(
        workspace,
        [row("github:issue_comment", who, START, who) for who in ("ana", "ben", "cat", "dan")],
    )
    ana, ben, cat, dan = (member_of(workspace, w) for w in ("ana", "ben", "cat", "dan"))
    enroll(workspace, ana, "Acme Corp", date(2023, 1, 1), None)
    enroll(workspace, ben, "Acme Corp", date(2020, 1, 1), date(2023, 12, 31))  # left
    enroll(workspace, cat, "Acme Corp", date(2025, 1, 1), None)  # not yet
    enroll(workspace, dan, "Other Inc", None, None)
    workspace.config.staff_organizations = ["ACME corp", "Nowhere Ltd"]
    stats = detect_staff(workspace, today=date(2024, 6, 1))
    assert flags(workspace, ana) == (False, True, {"staff": "organization"})
    for other in (ben, cat, dan):
        assert flags(workspace, other)[1] is False
    assert stats.unmatched == ["[staff] organizations: 'Nowhere Ltd' (no such organization)"]
    assert [c.why for c in stats.changes] == ["enrolled in Acme Corp"]
    # A year later Cat has joined; Ana is still there.
    later = detect_staff(workspace, today=date(2025, 6, 1))
    assert flags(workspace, cat) == (False, True, {"staff": "organization"})
    assert later.members_flagged == 1
    # The organization is no longer staff: both flags go.
    workspace.config.staff_organizations = []
    cleared = detect_staff(workspace, today=date(2025, 6, 1))
    assert cleared.members_cleared == 2
    assert flags(workspace, ana) == (False, False, {})


def test_staff_by_list_of_identities(workspace: Workspace) -> None:
    import_rows(
        workspace,
        [
            row("github:issue_comment", "bob", START, "1", email="Bob@Example.org"),
            row("github:issue_comment", "carol", START, "2"),
            row("gitee:issue_comment", "carol", START, "3", platform="gitee"),
            row("github:issue_comment", "Dave", START, "4"),
            row("gitee:issue_comment", "eve", START, "5", platform="gitee"),
        ],
    )
    workspace.config.staff_identities = ["bob@example.ORG", "github:CAROL", "dave", "zed"]
    stats = detect_staff(workspace)
    assert flags(workspace, member_of(workspace, "bob")) == (False, True, {"staff": "list"})
    assert flags(workspace, member_of(workspace, "carol")) == (False, True, {"staff": "list"})
    assert flags(workspace, member_of(workspace, "carol", "gitee"))[1] is False
    assert flags(workspace, member_of(workspace, "Dave"))[1] is True
    assert flags(workspace, member_of(workspace, "eve", "gitee"))[1] is False
    assert stats.unmatched == ["[staff] identities: 'zed' (no such identity)"]
    assert stats.members_flagged == 3


def test_staff_list_wins_over_organization_and_manual_wins_over_both(
    workspace: Workspace,
) -> None:
    import_rows(workspace, [row("github:issue_comment", w, START, w) for w in ("ana", "ben")])
    ana, ben = member_of(workspace, "ana"), member_of(workspace, "ben")
    enroll(workspace, ana, "Acme", None, None)
    enroll(workspace, ben, "Acme", None, None)
    workspace.config.staff_organizations = ["Acme"]
    workspace.config.staff_identities = ["github:ana"]
    with workspace.store.session() as session:
        set_flag(session, ben, "staff", False, actor="tester", reason="a volunteer at Acme")
    stats = detect_staff(workspace)
    assert flags(workspace, ana) == (False, True, {"staff": "list"})
    assert flags(workspace, ben) == (False, False, {"staff": "manual"})
    assert stats.manual_kept == 1


def test_bad_staff_entry_is_a_config_error_and_changes_nothing(workspace: Workspace) -> None:
    import_rows(workspace, [row("github:issue_comment", "ana", START, "1")])
    workspace.config.staff_identities = ["ana", "github:"]
    with pytest.raises(ConfigError, match=r"\[staff\] identities\[1\] 'github:': no login"):
        detect_staff(workspace)
    workspace.config.staff_identities = ["Ana Smith"]
    with pytest.raises(ConfigError, match="a login has no spaces"):
        detect_staff(workspace)
    assert flags(workspace, member_of(workspace, "ana")) == (False, False, {})


# -- undo -------------------------------------------------------------------------------------


def test_undo_of_a_detect_run_restores_flags(workspace: Workspace) -> None:
    import_rows(
        workspace,
        [
            row("github:issue_comment", "deploy-user", START, "c1"),
            row("github:issue_comment", "ana", START, "c2"),
        ],
    )
    workspace.config.bot_accounts = ["deploy-user"]
    workspace.config.staff_identities = ["ana"]
    bots, staff = detect_bots(workspace), detect_staff(workspace)
    deploy, ana = member_of(workspace, "deploy-user"), member_of(workspace, "ana")
    assert bots.log_id is not None
    assert staff.log_id is not None
    with workspace.store.session() as session:
        undo(session, staff.log_id, actor="tester")
        undo(session, bots.log_id, actor="tester")
    assert flags(workspace, deploy) == (False, False, {})
    assert flags(workspace, ana) == (False, False, {})
    with workspace.store.session() as session:
        entry = session.get(IdentityLog, bots.log_id)
        assert entry is not None
        assert entry.undone_by_id is not None
        assert entry.changes["identities_updated"] == [
            [
                session.execute(
                    select(Identity.id).where(Identity.value == "deploy-user")
                ).scalar_one(),
                False,
                True,
            ]
        ]


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_detect_and_manual_flags(cli: CliRunner, workspace: Workspace) -> None:
    import_rows(
        workspace,
        [
            row("github:issue_comment", "deploy-user", START, "c1"),
            row("github:issue_comment", "ana", START, "c2"),
        ],
    )
    workspace.config.bot_accounts = ["deploy-user", "nobody-at-all"]
    workspace.config.staff_identities = ["ana"]
    save_config(workspace)
    result = invoke(cli, workspace, "detect")
    assert result.exit_code == 0, result.output
    assert "bots: 1 flagged, 0 cleared" in result.stdout
    assert "[bots]" in result.stdout  # the why column, not eaten as Rich markup
    assert "staff: 1 flagged, 0 cleared" in result.stdout
    assert "warning: [bots] accounts: 'nobody-at-all' names nobody" in result.stderr
    out = json.loads(invoke(cli, workspace, "detect", "--json").stdout)
    assert out["bot"]["changes"] == []
    assert out["staff"]["changes"] == []

    result = invoke(cli, workspace, "bot", "deploy-user", "--off", "--json", "--reason", "human")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert (got["value"], got["origin"], got["member_id"]) == (
        False,
        "manual",
        member_of(workspace, "deploy-user"),
    )
    result = invoke(cli, workspace, "staff", "github:ana", "--off")
    assert result.exit_code == 0, result.output
    assert "is not staff, by hand" in result.stdout
    result = invoke(cli, workspace, "staff", "ana", "--auto")
    assert result.exit_code == 0, result.output
    assert "is staff, by detection (list)" in result.stdout


def test_cli_flag_errors(cli: CliRunner, workspace: Workspace) -> None:
    import_rows(workspace, [row("github:issue_comment", "ana", START, "c1")])
    result = invoke(cli, workspace, "bot", "no-such-person")
    assert isinstance(result.exception, UsageError)
    assert "no member or identity 'no-such-person'" in str(result.exception)
    result = invoke(cli, workspace, "bot", "ana", "--off", "--auto")
    assert isinstance(result.exception, UsageError)
    assert "choose one of --off and --auto" in str(result.exception)
    assert flags(workspace, member_of(workspace, "ana")) == (False, False, {})


# -- metrics ----------------------------------------------------------------------------------


def test_metrics_leave_out_detected_bots_and_staff(
    cli: CliRunner, workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.commit("One", author="Ada <ada@example.org>", files={"a": "1"})
    git_repo.commit("Two", author="Deploy <deploy@example.org>", files={"a": "2"})
    git_repo.commit("Three", author="Sam Staff <sam@acme.example>", files={"a": "3"})
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    (result,) = sync_workspace(workspace, ["repo"])
    assert result.ok, result.error

    def commits(**params: Any) -> int:
        m = Metrics(Engine(workspace.snapshot_dir), Params(**params))
        return int(m.totals().rows[0]["commits"])

    assert commits() == 3
    workspace.config.bot_accounts = ["deploy@example.org"]
    workspace.config.staff_identities = ["sam@acme.example"]
    save_config(workspace)
    assert invoke(cli, workspace, "detect").exit_code == 0  # refreshes the snapshot
    assert commits() == 1
    assert commits(include_bots=True) == 2
    assert commits(include_staff=True) == 2
    assert commits(include_bots=True, include_staff=True) == 3
    assert Snapshot(workspace.snapshot_dir).exists()


def test_staff_entry_forms() -> None:
    from commops.identity.staff import parse_staff_identity

    assert parse_staff_identity("GitHub:Alice").platform == "github"
    assert parse_staff_identity("alice@example.com").kind == "email"
    assert parse_staff_identity("alice").kind == "username"
    with pytest.raises(ConfigError, match="not a platform name"):
        parse_staff_identity("git hub:alice", 3)
