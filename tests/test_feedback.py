"""The product feedback workflow: capture from every channel, duplicates, themes and their
states, weight and service level, closing the loop, the digest, credits in the metrics, and an
end-to-end run on the demo community."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from commops.analytics.snapshot import Snapshot
from commops.cli.app import app
from commops.clock import utcnow
from commops.connectors.base import activity_uid
from commops.demo import generate
from commops.errors import UsageError
from commops.ops import core
from commops.ops.feedback import digest as fdigest
from commops.ops.feedback import items as fitems
from commops.ops.feedback import loop, suggestions, themes
from commops.ops.feedback.models import (
    FeedbackItem,
    FeedbackNotification,
    FeedbackSuggestion,
    FeedbackTheme,
)
from commops.ops.feedback.similarity import THRESHOLD, Text, similar_pairs, tokens
from commops.store.models import (
    Activity,
    Enrollment,
    Identity,
    Member,
    OpsLog,
    Organization,
    Source,
)
from commops.workspace import Workspace, init_workspace

DATA = Path(__file__).parent / "data" / "feedback"
REQUESTS = DATA / "requests.csv"
ACTOR = "cli:tester"

# The duplicates written into requests.csv: the same request in other words.
TRUE_PAIRS = {
    ("r01", "r02"),  # dark mode / dark theme in the console
    ("r01", "r03"),
    ("r02", "r03"),
    ("r04", "r05"),  # OIDC single sign-on (Keycloak)
    ("r07", "r08"),  # private Helm repositories with credentials
    ("r09", "r10"),  # DingTalk alert notifications
    ("r12", "r13"),  # GPU monitoring
    ("r14", "r15"),  # namespace backup and restore
    ("r16", "r17"),  # Japanese documentation
    ("r19", "r20"),  # audit log retention / export
    ("r21", "r22"),  # arm64 images
}
# Different requests that share words: never suggested.
NEAR_MISSES = {
    ("r04", "r06"),  # SSO vs LDAP sync
    ("r09", "r11"),  # DingTalk alerts vs Slack on pipeline failure
    ("r10", "r11"),
    ("r16", "r18"),  # Japanese docs vs Spanish console
    ("r17", "r18"),
    ("r01", "r31"),  # dark mode vs brand colours in the console
    ("r24", "r27"),  # cost per project vs quota warnings per project
    ("r11", "r26"),  # Slack on pipeline failure vs Gitee pipeline trigger
    ("r22", "r29"),  # arm64 installation vs offline installation
}
PEOPLE = (
    # login, display name, organisation
    ("alice", "Alice Chen", "Acme Cloud"),
    ("bob", "Bob Li", "Acme Cloud"),
    ("carol", "Carol Wang", "Globex"),
    ("dmitri", "Dmitri Ivanov", None),
    ("erin", "Erin Walsh", "Initech"),
    ("farid", "Farid Haddad", None),
    ("gao", "Gao Yuan", "Qingyun Tech"),
    ("hana", "Hana Sato", "Qingyun Tech"),
    ("ivan", "Ivan Petrov", None),
    ("jun", "Jun Zhou", "Qingyun Tech"),
    ("kemal", "Kemal Aydin", None),
    ("lena", "Lena Braun", "Globex"),
    ("mika", "Mika Tanaka", None),
    ("nora", "Nora Diaz", None),
    ("omar", "Omar Farouk", "Initech"),
    ("pablo", "Pablo Ruiz", None),
)


def _rows() -> list[dict[str, str]]:
    with REQUESTS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _people(ws: Workspace) -> dict[str, int]:
    """The members of requests.csv, each with a GitHub login and an e-mail, enrolled in their
    organisation since 2025."""
    ids: dict[str, int] = {}
    with ws.store.session() as session:
        orgs: dict[str, int] = {}
        for login, name, org in PEOPLE:
            m = Member(display_name=name, created_at=utcnow())
            session.add(m)
            session.flush()
            for platform, kind, value in (
                ("github", "username", login),
                ("git", "email", f"{login}@example.org"),
            ):
                session.add(
                    Identity(
                        platform=platform,
                        kind=kind,
                        value=value,
                        member_id=m.id,
                        created_at=utcnow(),
                    )
                )
            if org is not None:
                if org not in orgs:
                    o = Organization(name=org, created_at=utcnow())
                    session.add(o)
                    session.flush()
                    orgs[org] = o.id
                session.add(
                    Enrollment(
                        member_id=m.id,
                        organization_id=orgs[org],
                        start_date=date(2025, 1, 1),
                        origin="manual",
                    )
                )
            ids[login] = m.id
    return ids


def _imported(ws: Workspace) -> dict[str, int]:
    """Import requests.csv; row id -> item id."""
    with ws.store.session() as session:
        result = fitems.import_csv(session, REQUESTS, actor=ACTOR)
        assert len(result.added) == 32
        lines = {
            i.id: i.attributes["line"] for i in session.execute(select(FeedbackItem)).scalars()
        }
    by_line = {line: row["id"] for line, row in enumerate(_rows(), start=2)}
    return {by_line[line]: item for item, line in lines.items()}


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# -- similarity ---------------------------------------------------------------------------------


def test_tokens_normalise_case_stems_stop_words_and_chinese() -> None:
    assert tokens("Please support Private Helm Repositories!") == ["private", "helm", "repository"]
    assert tokens("arm64 images, GPU's") == ["arm64", "image", "gpu"]
    assert tokens("告警通知 DingTalk") == ["告警", "警通", "通知", "dingtalk"]


def test_similarity_finds_the_true_duplicates_and_only_them() -> None:
    rows = _rows()
    texts = [Text(n, r["title"], r["body"]) for n, r in enumerate(rows)]
    found = {(rows[p.a]["id"], rows[p.b]["id"]): p.score for p in similar_pairs(texts, THRESHOLD)}
    assert set(found) == TRUE_PAIRS  # every true pair, and nothing else
    assert not NEAR_MISSES & set(found)
    assert found[("r04", "r05")] > found[("r21", "r22")] >= THRESHOLD
    # Below the threshold, the near misses are the next best: the threshold is what separates.
    looser = {(rows[p.a]["id"], rows[p.b]["id"]) for p in similar_pairs(texts, 0.30)}
    assert ("r24", "r27") in looser
    assert ("r16", "r18") in looser


def test_similarity_pairs_each_item_with_its_best_partners_only() -> None:
    texts = [Text(n, "Add metrics endpoint", "") for n in range(6)]
    assert len(list(similar_pairs(texts, neighbours=None))) == 15
    star = {(p.a, p.b) for p in similar_pairs(texts, neighbours=2)}
    # ties go to the earliest items: everyone is paired with 0 or 1
    assert star == {(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (0, 4), (1, 4), (0, 5), (1, 5)}


# -- capture: CSV -------------------------------------------------------------------------------


def test_import_is_idempotent_and_credits_known_members(workspace: Workspace) -> None:
    people = _people(workspace)
    with workspace.store.session() as session:
        first = fitems.import_csv(session, REQUESTS, actor=ACTOR)
    assert (len(first.added), first.already, first.rows) == (32, [], 32)
    with workspace.store.session() as session:
        again = fitems.import_csv(session, REQUESTS, actor=ACTOR)
        assert (again.added, len(again.already)) == ([], 32)
        assert _count(session, FeedbackItem) == 32
        item = session.execute(
            select(FeedbackItem).where(
                FeedbackItem.title == "Add private Helm repositories with authentication"
            )
        ).scalar_one()
        assert (item.origin, item.channel, item.raised_at) == (
            "manual",
            "customer-call",
            datetime(2026, 1, 30),
        )
        ident = session.get(Identity, item.identity_id)
        assert ident is not None
        assert (ident.platform, ident.member_id) == ("commops", people["alice"])
        # r17 has no member: not credited; the 31 others are, once each.
        raised = list(
            session.execute(select(Activity).where(Activity.kind == "feedback:raised")).scalars()
        )
        assert len(raised) == 31
        assert {a.contribution_type for a in raised} == {"ideas"}
        log = _count(session, OpsLog, OpsLog.record_type == "feedback_item")
        assert log == 32


def test_import_without_id_column_keys_on_content(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    _people(sqlite_workspace)
    notes = tmp_path / "wechat.csv"
    notes.write_text(
        "title,member,raised_at\n"
        "Dark mode please,alice,2026-02-01\n"
        "DingTalk alerts,gao,2026-02-02\n",
        encoding="utf-8",
    )
    with sqlite_workspace.store.session() as session:
        assert len(fitems.import_csv(session, notes, actor=ACTOR, origin="wechat").added) == 2
    notes.write_text(
        notes.read_text(encoding="utf-8") + "GPU metrics,jun,2026-02-03\n", encoding="utf-8"
    )
    with sqlite_workspace.store.session() as session:
        result = fitems.import_csv(session, notes, actor=ACTOR, origin="wechat")
        assert (len(result.added), result.already) == (1, [2, 3])
        assert {i.origin for i in session.execute(select(FeedbackItem)).scalars()} == {"wechat"}


def test_import_errors_name_file_line_and_column_and_write_nothing(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    _people(sqlite_workspace)
    bad = tmp_path / "survey.csv"
    bad.write_text(
        "id,title,body,member,origin,raised_at,url\n"
        'a1,Dark mode,"a body\nover two lines",alice,survey,2026-01-05,\n'
        "a2,SSO,,zoe,survey,2026-01-06,\n"
        "a3,GPU,,bob,survey,last tuesday,\n"
        "a4,,,carol,survey,2026-01-07,\n"
        "a5,Backups,,dmitri,fax,2026-01-08,javascript:alert(1)\n"
        "a1,Again,,alice,survey,2026-01-09,\n"
        "a7,Too,many,fields,survey,2026-01-09,,extra\n",
        encoding="utf-8",
    )
    with pytest.raises(UsageError) as err, sqlite_workspace.store.session() as session:
        fitems.import_csv(session, bad, actor=ACTOR)
    assert err.value.message.splitlines() == [
        "survey.csv line 4: column 'member': no member or identity 'zoe'",
        "survey.csv line 5: column 'raised_at': 'last tuesday' is not a date (YYYY-MM-DD) or "
        "an ISO 8601 time",
        "survey.csv line 6: column 'title': empty",
        "survey.csv line 7: column 'origin': unknown origin 'fax' (use survey, wechat, event, "
        "email, manual)",
        "survey.csv line 7: column 'url': 'javascript:alert(1)' is not an http(s) URL",
        "survey.csv line 8: row id 'a1' is also on line 2",
        "survey.csv line 9: 8 fields, the header has 7 (a comma inside a value needs quotes)",
    ]
    assert err.value.hint is not None
    assert "Nothing was imported" in err.value.hint
    with sqlite_workspace.store.session() as session:
        assert _count(session, FeedbackItem) == 0
        assert _count(session, Activity) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("titel,body\nx,y\n", "bad.csv line 1: unknown column 'titel'"),
        ("id,body\n1,y\n", "bad.csv line 1: no 'title' column"),
        ("title,title\nx,y\n", "bad.csv line 1: column 'title' appears twice"),
        ("", "bad.csv: the file is empty"),
        ('title\n"never closed\n', "bad.csv line 2: malformed CSV"),
    ],
)
def test_import_refuses_bad_files(
    sqlite_workspace: Workspace, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message), sqlite_workspace.store.session() as session:
        fitems.import_csv(session, bad, actor=ACTOR)


def test_import_refuses_text_that_is_not_utf8(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "gbk.csv"
    bad.write_bytes("title\nok\n暗色模式\n".encode("gbk"))
    with (
        pytest.raises(UsageError, match=r"gbk.csv line 3: not UTF-8") as err,
        sqlite_workspace.store.session() as session,
    ):
        fitems.import_csv(session, bad, actor=ACTOR)
    assert err.value.hint is not None
    assert "CSV UTF-8" in err.value.hint


def test_add_item_checks_its_fields(sqlite_workspace: Workspace) -> None:
    people = _people(sqlite_workspace)
    with sqlite_workspace.store.session() as session:
        with pytest.raises(UsageError, match="member: no member or identity 'zoe'"):
            fitems.add_item(session, title="Dark mode", member="zoe", actor=ACTOR)
        with pytest.raises(UsageError, match="origin: unknown origin 'github'"):
            fitems.add_item(session, title="Dark mode", origin="github", actor=ACTOR)
        with pytest.raises(UsageError, match="title: the title is empty"):
            fitems.add_item(session, title="  ", actor=ACTOR)
        with pytest.raises(UsageError, match="url: 'ftp://x' is not an http"):
            fitems.add_item(session, title="Dark mode", url="ftp://x", actor=ACTOR)
        item = fitems.add_item(
            session,
            title="Dark   mode",
            body="From the booth",
            member="github:carol",
            origin="event",
            channel="KubeCon China",
            raised_at=datetime(2026, 3, 20, 15, 0),
            actor=ACTOR,
        )
        assert item.title == "Dark mode"
        raised = session.execute(
            select(Activity).where(Activity.kind == "feedback:raised")
        ).scalar_one()
        actor = session.get(Identity, raised.actor_identity_id)
        assert actor is not None
        assert actor.member_id == people["carol"]
        assert (raised.occurred_at, raised.channel, raised.target) == (
            datetime(2026, 3, 20, 15, 0),
            "KubeCon China",
            f"feedback:{item.id}",
        )
        assert _count(session, FeedbackItem) == 1


# -- capture: the activity stream ---------------------------------------------------------------


@pytest.fixture
def stream(workspace: Workspace) -> Workspace:
    """Issues and topics as the GitHub, Gitee and Discourse connectors store them."""
    with workspace.store.session() as session:
        srcs = {}
        for name, kind, location in (
            ("gh", "github", "kubesphere"),
            ("gitee", "gitee", "kubesphere"),
            ("forum", "discourse", "https://ask.example.org"),
        ):
            s = Source(name=name, kind=kind, location=location, options={}, created_at=utcnow())
            session.add(s)
            session.flush()
            srcs[name] = s.id
        idents = {}
        for platform, login in (("github", "alice"), ("gitee", "gao"), ("discourse", "bob")):
            m = Member(display_name=login.title(), created_at=utcnow())
            session.add(m)
            session.flush()
            i = Identity(
                platform=platform,
                kind="username",
                value=login,
                member_id=m.id,
                created_at=utcnow(),
            )
            session.add(i)
            session.flush()
            idents[login] = i.id

        def activity(src: str, kind: str, key: str, who: str, **kw: Any) -> None:
            session.add(
                Activity(
                    uid=activity_uid(src, kind, key),
                    source_id=srcs[src],
                    item_key=key,
                    kind=kind,
                    occurred_at=kw.pop("at"),
                    actor_identity_id=idents[who],
                    **kw,
                )
            )

        activity(
            "gh",
            "github:issue_opened",
            "kubesphere/console#12",
            "alice",
            at=datetime(2026, 1, 3),
            channel="kubesphere/console",
            target="12",
            title="Dark mode",
            contribution_type="ideas",
            attributes={"labels": ["Kind/Feature", "area/console"]},
        )
        activity(
            "gh",
            "github:issue_opened",
            "kubesphere/console#13",
            "alice",
            at=datetime(2026, 1, 4),
            channel="kubesphere/console",
            target="13",
            title="Crash on login",
            contribution_type="bug",
            attributes={"labels": ["kind/bug"]},
        )
        activity(
            "gitee",
            "gitee:issue_opened",
            "kubesphere/ks#I7X2",
            "gao",
            at=datetime(2026, 1, 5),
            channel="kubesphere/ks",
            target="I7X2",
            title="钉钉告警通知",
            contribution_type="ideas",
            attributes={"labels": ["feature"]},
        )
        activity(
            "forum",
            "discourse:topic_created",
            "77/301",
            "bob",
            at=datetime(2026, 1, 6),
            channel="feature-requests",
            target="77",
            title="Velero backups in the console",
            contribution_type="forum",
            attributes={"topic_id": 77},
        )
        activity(
            "forum",
            "discourse:topic_created",
            "78/305",
            "bob",
            at=datetime(2026, 1, 7),
            channel="questions",
            target="78",
            title="How do I install?",
            contribution_type="question",
            attributes={"topic_id": 78},
        )
    return workspace


def _capture(ws: Workspace, **kw: Any) -> fitems.CaptureResult:
    with ws.store.session() as session:
        return fitems.capture(
            session,
            labels=kw.get("labels", ws.config.feedback_labels),
            categories=kw.get("categories", ws.config.feedback_categories),
            since=kw.get("since"),
            actor=ACTOR,
        )


def test_capture_takes_labelled_issues_and_feedback_topics_once(stream: Workspace) -> None:
    first = _capture(stream)
    assert (len(first.added), first.already) == (3, 0)
    with stream.store.session() as session:
        got = {
            i.title: (i.origin, i.channel, i.url, i.raised_at.day)
            for i in session.execute(select(FeedbackItem)).scalars()
        }
        assert got == {
            "Dark mode": (
                "github",
                "kubesphere/console",
                "https://github.com/kubesphere/console/issues/12",
                3,
            ),
            "钉钉告警通知": (
                "gitee",
                "kubesphere/ks",
                "https://gitee.com/kubesphere/ks/issues/I7X2",
                5,
            ),
            "Velero backups in the console": (
                "discourse",
                "feature-requests",
                "https://ask.example.org/t/77",
                6,
            ),
        }
        # Their activities are already in the stream: no feedback:raised on top.
        assert _count(session, Activity, Activity.kind == "feedback:raised") == 0
        dark = session.execute(
            select(FeedbackItem).where(FeedbackItem.title == "Dark mode")
        ).scalar_one()
        ident = session.get(Identity, dark.identity_id)
        assert ident is not None
        assert (ident.platform, ident.value) == ("github", "alice")
    again = _capture(stream)
    assert (again.added, again.already) == ([], 3)
    with stream.store.session() as session:
        fitems.delete_item(session, dark.id, actor=ACTOR, reason="spam")
    assert _capture(stream).added == []  # a deleted item is not captured again
    questions = _capture(stream, labels=[], categories=["Questions"])
    assert len(questions.added) == 1
    later = _capture(stream, since=date(2026, 1, 8), labels=["kind/bug"], categories=[])
    assert (later.added, later.already) == ([], 0)  # the bug report is from before
    bugs = _capture(stream, since=date(2026, 1, 4), labels=["KIND/BUG"], categories=[])
    assert (len(bugs.added), bugs.already) == (1, 0)


# -- themes -------------------------------------------------------------------------------------

PATHS = {
    "new": [],
    "triaged": ["triaged"],
    "planned": ["triaged", "planned"],
    "in_progress": ["triaged", "planned", "in_progress"],
    "shipped": ["triaged", "planned", "in_progress", "shipped"],
    "declined": ["declined"],
}
ALLOWED = {
    ("new", "triaged"),
    ("new", "declined"),
    ("triaged", "planned"),
    ("triaged", "declined"),
    ("planned", "in_progress"),
    ("planned", "declined"),
    ("in_progress", "shipped"),
    ("in_progress", "planned"),
    ("in_progress", "declined"),
}


def test_every_theme_transition_allowed_or_refused(sqlite_workspace: Workspace) -> None:
    for start_state, path in PATHS.items():
        for target in PATHS:
            with sqlite_workspace.store.session() as session:
                theme = themes.create_theme(session, f"{start_state} -> {target}", actor=ACTOR)
                for step in path:
                    themes.set_status(session, theme.id, step, actor=ACTOR, reason="because")
                theme_id = theme.id
            if (start_state, target) in ALLOWED:
                with sqlite_workspace.store.session() as session:
                    themes.set_status(session, theme_id, target, actor=ACTOR, reason="because")
            else:
                with (
                    pytest.raises(UsageError) as err,
                    sqlite_workspace.store.session() as session,
                ):
                    themes.set_status(session, theme_id, target, actor=ACTOR, reason="because")
                assert err.value.message == (
                    f"feedback theme {theme_id} is {start_state}: it cannot become {target}"
                )
            with sqlite_workspace.store.session() as session:
                stored = session.get(FeedbackTheme, theme_id)
                assert stored is not None
                expected = target if (start_state, target) in ALLOWED else start_state
                assert (start_state, target, stored.status) == (start_state, target, expected)


def test_theme_states_need_their_reason_and_are_logged(sqlite_workspace: Workspace) -> None:
    with sqlite_workspace.store.session() as session:
        theme = themes.create_theme(session, "Dark mode", actor=ACTOR)
        with pytest.raises(UsageError, match="declining needs a reason"):
            themes.decline(session, theme.id, actor=ACTOR, reason="  ")
        with pytest.raises(UsageError, match="unknown state 'closed'"):
            themes.set_status(session, theme.id, "closed", actor=ACTOR)
        with pytest.raises(UsageError, match="link: 'javascript:x' is not an http"):
            themes.set_status(session, theme.id, "triaged", actor=ACTOR, link="javascript:x")
        themes.triage(session, theme.id, actor=ACTOR, at=datetime(2026, 2, 1))
        themes.plan(
            session,
            theme.id,
            actor=ACTOR,
            link="https://github.com/org/roadmap/issues/4",
            at=datetime(2026, 2, 2),
        )
        themes.set_status(session, theme.id, "in-progress", actor=ACTOR, at=datetime(2026, 2, 3))
        themes.decline(
            session, theme.id, actor=ACTOR, reason="Out of scope for 4.x", at=datetime(2026, 2, 4)
        )
        assert (theme.status, theme.reason, theme.closed_at) == (
            "declined",
            "Out of scope for 4.x",
            datetime(2026, 2, 4),
        )
        assert theme.link == "https://github.com/org/roadmap/issues/4"
        log = [
            (e.action, e.from_state, e.to_state, e.reason)
            for e in core.history(session, "feedback_theme", theme.id)
        ]
        assert log == [
            ("created", None, "new", None),
            ("triaged", "new", "triaged", None),
            ("planned", "triaged", "planned", None),
            ("in_progress", "planned", "in_progress", None),
            ("declined", "in_progress", "declined", "Out of scope for 4.x"),
        ]
        with pytest.raises(UsageError, match="is declined: it cannot become triaged") as err:
            themes.set_status(session, theme.id, "triaged", actor=ACTOR)
        assert err.value.hint == "declined is final."


def test_creating_a_theme_with_a_missing_item_writes_nothing(sqlite_workspace: Workspace) -> None:
    with sqlite_workspace.store.session() as session:
        item = fitems.add_item(session, title="Dark mode", actor=ACTOR)
    with (
        pytest.raises(UsageError, match="no feedback item 999"),
        sqlite_workspace.store.session() as session,
    ):
        themes.create_theme(session, "Dark mode", items=[item.id, 999], actor=ACTOR)
    with sqlite_workspace.store.session() as session:
        assert _count(session, FeedbackTheme) == 0
        assert _count(session, OpsLog, OpsLog.record_type == "feedback_theme") == 0


def test_route_theme_sets_area_owner_link_and_refuses_no_change(
    sqlite_workspace: Workspace,
) -> None:
    people = _people(sqlite_workspace)
    with sqlite_workspace.store.session() as session:
        theme = themes.create_theme(session, "GPU monitoring", actor=ACTOR)
        changes = themes.route_theme(
            session,
            theme.id,
            actor=ACTOR,
            product_area="observability",
            owner="lena",
            link="https://github.com/org/repo/issues/9",
        )
        assert changes == {
            "product_area": [None, "observability"],
            "owner": [None, f"Lena Braun (member {people['lena']})"],
            "link": [None, "https://github.com/org/repo/issues/9"],
        }
        with pytest.raises(UsageError, match="nothing to change"):
            themes.route_theme(session, theme.id, actor=ACTOR, product_area="observability")
        with pytest.raises(UsageError, match="owner: no member or identity 'zoe'"):
            themes.route_theme(session, theme.id, actor=ACTOR, owner="zoe")
        (summary,) = themes.summarize(session, [theme], sla_days=30)
        assert (summary.owner, summary.owner_member_id, summary.product_area) == (
            "Lena Braun",
            people["lena"],
            "observability",
        )
        themes.route_theme(session, theme.id, actor=ACTOR, link=None)
        assert theme.link is None


def test_weight_counts_people_and_organisations_not_items(sqlite_workspace: Workspace) -> None:
    _people(sqlite_workspace)
    with sqlite_workspace.store.session() as session:

        def add(member: str | None, day: int) -> int:
            return fitems.add_item(
                session,
                title="Dark mode",
                member=member,
                actor=ACTOR,
                raised_at=datetime(2026, 1, day),
            ).id

        loud = [add("dmitri", d) for d in range(1, 6)]  # one person, five times
        many = [add("alice", 2), add("alice", 3), add("bob", 4), add("carol", 5), add(None, 6)]
        bot = session.execute(
            select(Member).where(Member.display_name == "Ivan Petrov")
        ).scalar_one()
        bot.is_bot = True
        many.append(add("ivan", 7))
        a = themes.create_theme(session, "Loud", items=loud, actor=ACTOR)
        b = themes.create_theme(session, "Many", items=many, actor=ACTOR)
        listed = themes.list_themes(session, sla_days=30, now=datetime(2026, 1, 10))
        assert [(t.id, t.members, t.organizations, t.items) for t in listed] == [
            (b.id, 3, ["Acme Cloud", "Globex"], 6),
            (a.id, 1, [], 5),
        ]
        detail = themes.theme_detail(session, b.id, sla_days=30)
        assert [(p.name, p.organization, len(p.items)) for p in detail.people] == [
            ("Alice Chen", "Acme Cloud", 2),
            ("Bob Li", "Acme Cloud", 1),
            ("Carol Wang", "Globex", 1),
            ("Ivan Petrov", None, 1),
        ]


def test_service_level_from_the_first_request(sqlite_workspace: Workspace) -> None:
    with sqlite_workspace.store.session() as session:
        first = fitems.add_item(
            session, title="Backups", actor=ACTOR, raised_at=datetime(2026, 1, 1, 9)
        )
        later = fitems.add_item(
            session, title="Backups", actor=ACTOR, raised_at=datetime(2026, 1, 15)
        )
        theme = themes.create_theme(session, "Backups", items=[first.id, later.id], actor=ACTOR)

        def at(now: datetime) -> themes.ThemeSummary:
            (s,) = themes.summarize(session, [theme], sla_days=30, now=now)
            return s

        s = at(datetime(2026, 1, 20))
        assert (s.start, s.due, s.age_days, s.overdue, s.within_sla) == (
            datetime(2026, 1, 1, 9),
            datetime(2026, 1, 31, 9),
            18,
            False,
            None,
        )
        assert at(datetime(2026, 2, 5)).overdue is True
        assert [
            t.id
            for t in themes.list_themes(
                session, sla_days=30, overdue=True, now=datetime(2026, 2, 5)
            )
        ] == [theme.id]
        for step in ("triaged", "planned", "in_progress", "shipped"):
            themes.set_status(session, theme.id, step, actor=ACTOR, at=datetime(2026, 2, 10))
        s = at(datetime(2026, 6, 1))
        assert (s.age_days, s.overdue, s.within_sla) == (39, False, False)


def test_delete_and_restore_are_soft_audited_and_move_the_credit(
    sqlite_workspace: Workspace,
) -> None:
    _people(sqlite_workspace)
    with sqlite_workspace.store.session() as session:
        item = fitems.add_item(session, title="Dark mode", member="alice", actor=ACTOR)
        theme = themes.create_theme(session, "Dark mode", items=[item.id], actor=ACTOR)
        uid = session.execute(select(Activity.uid)).scalar_one()
    with sqlite_workspace.store.session() as session:
        fitems.delete_item(session, item.id, actor=ACTOR, reason="test entry")
        assert _count(session, Activity) == 0
        assert fitems.list_items(session) == []
        assert [i.id for i in fitems.list_items(session, deleted=True)] == [item.id]
        with pytest.raises(UsageError, match=f"feedback item {item.id} is deleted"):
            themes.assign_item(session, item.id, theme.id, actor=ACTOR)
        fitems.restore_item(session, item.id, actor=ACTOR, reason="it was real")
        assert session.execute(select(Activity.uid)).scalar_one() == uid  # the same activity
        themes.delete_theme(session, theme.id, actor=ACTOR, reason="duplicate theme")
        assert [i.id for i in fitems.list_items(session, unthemed=True)] == [item.id]
        assert themes.list_themes(session, sla_days=30) == []
        themes.restore_theme(session, theme.id, actor=ACTOR, reason=None)
        assert fitems.list_items(session, unthemed=True) == []
        actions = [e.action for e in core.history(session, "feedback_item", item.id)]
        assert actions == ["raised", "assigned", "deleted", "restored"]


# -- suggestions --------------------------------------------------------------------------------


def test_suggestions_accept_reject_and_never_again(workspace: Workspace) -> None:
    _people(workspace)
    ids = _imported(workspace)
    row = {v: k for k, v in ids.items()}
    with workspace.store.session() as session:
        made = suggestions.suggest(session)
        pairs = {(row[s.item_a_id], row[s.item_b_id]): s.id for s in made}
        assert set(pairs) == TRUE_PAIRS
        # Accept dark mode twice: one theme; the third pair then lies inside it.
        theme_id = suggestions.accept(session, pairs[("r01", "r02")], actor=ACTOR)
        assert suggestions.accept(session, pairs[("r01", "r03")], actor=ACTOR) == theme_id
        theme = session.get(FeedbackTheme, theme_id)
        assert theme is not None
        assert theme.title == "Dark mode for the web console"  # the older item's title
        open_pairs = {
            (row[s.item_a_id], row[s.item_b_id]) for s in suggestions.list_suggestions(session)
        }
        assert open_pairs == TRUE_PAIRS - {("r01", "r02"), ("r01", "r03"), ("r02", "r03")}
        suggestions.reject(session, pairs[("r21", "r22")], actor=ACTOR, reason="not the same")
        with pytest.raises(UsageError, match="is rejected: it cannot become accepted"):
            suggestions.accept(session, pairs[("r21", "r22")], actor=ACTOR)
        # Two items in two different themes are not merged by accepting.
        t1 = themes.create_theme(session, "SSO", items=[ids["r04"]], actor=ACTOR)
        themes.create_theme(session, "Keycloak", items=[ids["r05"]], actor=ACTOR)
        with pytest.raises(UsageError, match=f"item {ids['r04']} is in theme {t1.id}"):
            suggestions.accept(session, pairs[("r04", "r05")], actor=ACTOR)
    with workspace.store.session() as session:
        assert suggestions.suggest(session) == []  # nothing new, nothing again
        status = {
            (row[s.item_a_id], row[s.item_b_id]): s.status
            for s in session.execute(select(FeedbackSuggestion)).scalars()
        }
        assert status[("r21", "r22")] == "rejected"
        assert status[("r01", "r02")] == "accepted"
        assert len(status) == len(TRUE_PAIRS)
        rejected = suggestions.list_suggestions(session, status="rejected")
        assert [(s.item_a_id, s.decided_by) for s in rejected] == [(ids["r21"], ACTOR)]


def test_suggest_again_adds_only_what_a_decision_made_room_for(
    sqlite_workspace: Workspace,
) -> None:
    with sqlite_workspace.store.session() as session:
        ids = [
            fitems.add_item(session, title="Add metrics endpoint", actor=ACTOR).id for _ in range(5)
        ]
        first = {(s.item_a_id, s.item_b_id): s.id for s in suggestions.suggest(session)}
        # Each item's three best partners (ties: the earliest): every pair but (3, 4).
        assert set(first) == {(ids[x], ids[y]) for x in range(5) for y in range(x + 1, 5)} - {
            (ids[3], ids[4])
        }
        assert suggestions.suggest(session) == []  # again: nothing new
        suggestions.reject(session, first[(ids[0], ids[3])], actor=ACTOR)
        # The rejection makes room among item 3's best partners: item 4 takes it.
        assert [(s.item_a_id, s.item_b_id) for s in suggestions.suggest(session)] == [
            (ids[3], ids[4])
        ]


# -- closing the loop ---------------------------------------------------------------------------


def _shipped_theme(ws: Workspace, *, decline: bool = False) -> tuple[int, dict[str, int]]:
    people = _people(ws)
    with ws.store.session() as session:
        items = [
            fitems.add_item(
                session,
                title="Dark mode",
                member="alice",
                origin="survey",
                actor=ACTOR,
                raised_at=datetime(2026, 1, 2),
            ).id,
            fitems.add_item(
                session,
                title="Dark theme",
                member="alice",
                origin="wechat",
                channel="users group",
                actor=ACTOR,
                raised_at=datetime(2026, 1, 9),
            ).id,
            fitems.add_item(
                session,
                title="Night mode",
                member="carol",
                origin="event",
                actor=ACTOR,
                raised_at=datetime(2026, 1, 5),
            ).id,
            fitems.add_item(
                session,
                title="Dark UI",
                origin="survey",
                actor=ACTOR,
                raised_at=datetime(2026, 1, 6),
            ).id,
        ]
        theme = themes.create_theme(session, "Dark mode in the console", items=items, actor=ACTOR)
        with pytest.raises(UsageError, match="is new: the loop is closed once it is shipped"):
            loop.notify_list(session, theme.id)
        if decline:
            themes.decline(
                session,
                theme.id,
                actor=ACTOR,
                reason="The console is being replaced next year",
                link="https://github.com/org/console/issues/1",
            )
        else:
            for step in ("triaged", "planned", "in_progress"):
                themes.set_status(session, theme.id, step, actor=ACTOR)
            themes.ship(
                session, theme.id, actor=ACTOR, link="https://github.com/org/console/releases/v4.2"
            )
        return theme.id, people


def test_notify_list_names_everyone_once_with_drafts(sqlite_workspace: Workspace) -> None:
    theme_id, _ = _shipped_theme(sqlite_workspace)
    with sqlite_workspace.store.session() as session:
        listing = loop.notify_list(session, theme_id)
    assert [(r.name, r.channel, r.address, len(r.items)) for r in listing.recipients] == [
        ("Alice Chen", "wechat", "users group", 2),  # her latest item came from WeChat
        ("Carol Wang", "email", "carol@example.org", 1),
    ]
    assert set(listing.drafts) == {"wechat", "email"}
    link = "https://github.com/org/console/releases/v4.2"
    for text in listing.drafts.values():
        assert "Dark mode in the console has shipped" in text
        assert link in text
        assert "2 people from 2 organisations" in text
    assert listing.drafts["email"].startswith("Subject: Shipped: Dark mode in the console\n")
    assert listing.warnings == ["1 items have no known member: nobody to tell for them"]
    assert all(r.notified_at is None for r in listing.recipients)


def test_declined_drafts_give_the_reason(sqlite_workspace: Workspace) -> None:
    theme_id, _ = _shipped_theme(sqlite_workspace, decline=True)
    with sqlite_workspace.store.session() as session:
        listing = loop.notify_list(session, theme_id)
    drafts = loop.drafts(
        title="Dark mode", status="declined", reason="Out of scope.", link=None, members=1, orgs=0
    )
    assert "The reason: Out of scope." in drafts["github"]
    assert "**We have decided not to build Dark mode for now.**" in drafts["forum"]
    text = listing.drafts["email"]
    assert "We have decided not to build Dark mode in the console for now." in text
    assert "The reason: The console is being replaced next year." in text
    assert "https://github.com/org/console/issues/1" in text


def test_recording_a_notification_is_idempotent_and_emits_once(workspace: Workspace) -> None:
    theme_id, people = _shipped_theme(workspace)
    when = datetime(2026, 3, 1, 12)
    with workspace.store.session() as session:
        note, new = loop.record_notified(session, theme_id, "alice", actor=ACTOR, at=when)
        assert new is True
        again, new_again = loop.record_notified(
            session, theme_id, people["alice"], actor=ACTOR, channel="email"
        )
        assert (again.id, new_again, again.channel) == (note.id, False, "wechat")
        with pytest.raises(UsageError, match=r"member \d+ raised none of its items"):
            loop.record_notified(session, theme_id, "bob", actor=ACTOR)
        with pytest.raises(UsageError, match="member: no member or identity 'zoe'"):
            loop.record_notified(session, theme_id, "zoe", actor=ACTOR)
        with pytest.raises(UsageError, match="channel: unknown channel 'fax'"):
            loop.record_notified(session, theme_id, "carol", actor=ACTOR, channel="fax")
    with workspace.store.session() as session:
        closed = list(
            session.execute(
                select(Activity).where(Activity.kind == "feedback:closed_loop")
            ).scalars()
        )
        assert len(closed) == 1
        (a,) = closed
        actor = session.get(Identity, a.actor_identity_id)
        assert actor is not None
        assert actor.member_id == people["alice"]
        assert (a.object_identity_id, a.contribution_type, a.occurred_at, a.channel) == (
            None,
            None,
            when,
            "wechat",
        )
        assert a.attributes["notified_by"] == ACTOR
        assert _count(session, FeedbackNotification) == 1
        listing = loop.notify_list(session, theme_id)
        assert [(r.name, r.notified_at) for r in listing.recipients] == [
            ("Alice Chen", when),
            ("Carol Wang", None),
        ]


# -- digest -------------------------------------------------------------------------------------


def _digest_data(ws: Workspace) -> None:
    _people(ws)
    with ws.store.session() as session:

        def add(title: str, member: str | None, day: date, body: str = "") -> int:
            return fitems.add_item(
                session,
                title=title,
                body=body,
                member=member,
                actor=ACTOR,
                origin="survey",
                raised_at=datetime.combine(day, datetime.min.time()),
                url="https://survey.example.org/r/" + title.replace(" ", "-"),
            ).id

        growing = [
            add("Dark mode", "alice", date(2026, 1, 10), "The console is too bright."),
            add("Dark theme", "bob", date(2026, 2, 3), "Night shifts hurt with a white UI."),
            add("Night mode", "carol", date(2026, 2, 5), "Our NOC needs a dark console."),
            add("Dark mode again", "alice", date(2026, 2, 6)),
        ]
        fresh = [
            add("GPU metrics", "jun", date(2026, 2, 10), "No GPU utilisation per node."),
            add("GPU per pod", "hana", date(2026, 2, 11), "We need GPU memory per pod."),
            add("GPU later", "kemal", date(2026, 3, 2), "Outside the window."),
        ]
        quiet = [add("Backups", "lena", date(2026, 1, 2))]
        add(
            "Keyboard <script>alert(1)</script>",
            None,
            date(2026, 2, 12),
            "Use *stars* and [a](javascript:alert(1)) & <b>tags</b>",
        )
        themes.create_theme(session, "Dark mode", items=growing, actor=ACTOR)
        themes.create_theme(
            session,
            "GPU monitoring",
            items=fresh,
            actor=ACTOR,
            link="https://github.com/org/repo/issues/5",
        )
        themes.create_theme(session, "Backups", items=quiet, actor=ACTOR)


def test_digest_ranks_new_and_growing_themes_by_people(sqlite_workspace: Workspace) -> None:
    _digest_data(sqlite_workspace)
    with sqlite_workspace.store.session() as session:
        d = fdigest.build_digest(
            session,
            since=date(2026, 2, 1),
            until=date(2026, 2, 28),
            sla_days=30,
            now=datetime(2026, 3, 15),
        )
    assert (d.items, d.members, d.organizations) == (6, 5, ["Acme Cloud", "Globex", "Qingyun Tech"])
    (grow,) = d.growing_themes
    assert (grow.title, grow.items_new, grow.members_new, grow.members_before, grow.growth) == (
        "Dark mode",
        3,
        2,
        1,
        2.0,
    )
    assert (grow.organizations, grow.organizations_new) == (["Acme Cloud", "Globex"], ["Globex"])
    assert [q.text for q in grow.quotes] == [
        "Dark mode again",  # alice's newest item in the window (no body: its title)
        "Our NOC needs a dark console.",
        "Night shifts hurt with a white UI.",
    ]
    (new,) = d.new_themes
    assert (new.title, new.items, new.items_new, new.members_new, new.growth) == (
        "GPU monitoring",
        2,
        2,
        2,
        None,
    )
    assert [u.title for u in d.unthemed] == ["Keyboard <script>alert(1)</script>"]
    # Overdue at the end of the window: 30 days after each theme's first request.
    assert [(o.title, o.age_days) for o in d.overdue] == [("Dark mode", 50), ("Backups", 58)]
    with sqlite_workspace.store.session() as session, pytest.raises(UsageError, match="after"):
        fdigest.build_digest(session, since=date(2026, 3, 1), until=date(2026, 2, 1))


def test_digest_markdown_and_html_escape_what_users_wrote(sqlite_workspace: Workspace) -> None:
    _digest_data(sqlite_workspace)
    with sqlite_workspace.store.session() as session:
        d = fdigest.build_digest(
            session, since=date(2026, 2, 1), until=date(2026, 2, 28), now=datetime(2026, 3, 15)
        )
    md = fdigest.render(d, "markdown")
    assert md.startswith("# Product feedback digest, 2026-02-01 to 2026-02-28\n")
    assert "## New themes\n\n### [GPU monitoring](https://github.com/org/repo/issues/5)" in md
    assert "### Dark mode (theme 1, new)" in md
    assert "2 new members (3 in all, 1 before: growth 200%), 3 new items (4 in all)." in md
    assert "Organisations: Acme Cloud, Globex — new: Globex." in md
    assert "> Our NOC needs a dark console.\n> — Carol Wang (Globex), survey, 2026-02-05, " in md
    assert "[source](https://survey.example.org/r/Night-mode)" in md
    assert "**Keyboard &lt;script&gt;alert\\(1\\)&lt;/script&gt;**" in md
    assert "<script>" not in md
    assert "- Dark mode (theme 1, new): 3 members, 50 days, due 2026-02-09" in md

    html = fdigest.render(d, "html")
    assert html.startswith("<!DOCTYPE html>")
    assert '<h3><a href="https://github.com/org/repo/issues/5">GPU monitoring</a>' in html
    assert "<strong>Keyboard &lt;script&gt;alert(1)&lt;/script&gt;</strong>" in html
    assert "<script>" not in html
    assert "<p>Our NOC needs a dark console.</p>" in html
    assert '<a href="https://survey.example.org/r/Night-mode">source</a>' in html
    with pytest.raises(UsageError, match="use markdown or html"):
        fdigest.render(d, "pdf")


def test_digest_escapes_bodies_in_quotes(sqlite_workspace: Workspace) -> None:
    _people(sqlite_workspace)
    with sqlite_workspace.store.session() as session:
        bad = fitems.add_item(
            session,
            title="x",
            body='<img src=x onerror="alert(1)"> *b* [a](javascript:1)',
            member="alice",
            actor=ACTOR,
            raised_at=datetime(2026, 2, 2),
        )
        themes.create_theme(session, 'T "quoted" <i>', items=[bad.id], actor=ACTOR)
        d = fdigest.build_digest(session, since=date(2026, 2, 1), until=date(2026, 2, 28))
    html = fdigest.render(d, "html")
    assert "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "T &#34;quoted&#34; &lt;i&gt;" in html
    md = fdigest.render(d, "markdown")
    assert '&lt;img src=x onerror="alert\\(1\\)"&gt; \\*b\\* \\[a\\]\\(javascript:1\\)' in md


# -- the command line, credits in the metrics ---------------------------------------------------


@pytest.fixture
def run(sqlite_workspace: Workspace) -> Any:
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(app, ["--workspace", str(sqlite_workspace.root), *args])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.exception)
        return result

    return invoke


def test_cli_credits_reach_the_metrics(sqlite_workspace: Workspace, run: Any) -> None:
    _people(sqlite_workspace)
    out = json.loads(run("feedback", "import", str(REQUESTS), "--json").stdout)
    assert len(out["added"]) == 32
    again = json.loads(run("feedback", "import", str(REQUESTS), "--json").stdout)
    assert (again["added"], len(again["already"])) == ([], 32)
    added = json.loads(
        run(
            "feedback",
            "add",
            "Dark mode",
            "--member",
            "alice",
            "--origin",
            "event",
            "--date",
            "2026-03-20",
            "--json",
        ).stdout
    )
    assert added["title"] == "Dark mode"
    metrics = json.loads(
        run("metrics", "contribution-types", "--source", "commops", "--json").stdout
    )
    ideas = [r for r in metrics["rows"] if r["contribution_type"] == "ideas"]
    assert sum(r["contributions"] for r in ideas) == 32  # 31 imported + 1 added
    by_month = {r["period"][:7]: r["contributions"] for r in ideas}
    assert by_month["2026-03"] == 11
    bad = run("feedback", "add", "x", "--member", "zoe", ok=False)
    assert isinstance(bad.exception, UsageError)
    assert bad.exception.message == "member: no member or identity 'zoe'"


def test_cli_themes_loop_digest_and_log(
    sqlite_workspace: Workspace, run: Any, tmp_path: Path
) -> None:
    _people(sqlite_workspace)
    run("feedback", "import", str(REQUESTS))
    open_ = json.loads(run("feedback", "suggest", "--json").stdout)
    assert len(open_) == len(TRUE_PAIRS)
    best = open_[0]
    accepted = json.loads(
        run("feedback", "accept", str(best["id"]), "--title", "SSO", "--json").stdout
    )
    theme = str(accepted["theme_id"])
    run("feedback", "reject", str(open_[-1]["id"]), "--reason", "different")
    assert (
        json.loads(run("feedback", "suggest", "--status", "rejected", "--json").stdout)[0]["id"]
        == open_[-1]["id"]
    )
    run(
        "feedback",
        "theme",
        "route",
        theme,
        "--area",
        "auth",
        "--owner",
        "erin",
        "--link",
        "https://github.com/org/console/issues/77",
    )
    refused = run("feedback", "theme", "status", theme, "shipped", ok=False)
    assert refused.exception.message == f"feedback theme {theme} is new: it cannot become shipped"
    for state in ("triaged", "planned", "in_progress", "shipped"):
        run("feedback", "theme", "status", theme, state)
    listed = json.loads(run("feedback", "theme", "list", "--json").stdout)
    assert [(t["title"], t["status"], t["members"], t["product_area"]) for t in listed] == [
        ("SSO", "shipped", 2, "auth")
    ]
    shown = json.loads(run("feedback", "theme", "show", theme, "--json").stdout)
    assert [p["name"] for p in shown["people"]] == ["Dmitri Ivanov", "Erin Walsh"]
    notify = json.loads(run("feedback", "notify-list", theme, "--json").stdout)
    assert [r["name"] for r in notify["recipients"]] == ["Dmitri Ivanov", "Erin Walsh"]
    assert "https://github.com/org/console/issues/77" in notify["drafts"]["email"]
    text = run("feedback", "notify-list", theme).stdout
    assert "Draft (email)" in text
    told = json.loads(run("feedback", "notified", theme, "--all", "--json").stdout)
    assert [r["new"] for r in told] == [True, True]
    told = json.loads(run("feedback", "notified", theme, "dmitri", "--json").stdout)
    assert [r["new"] for r in told] == [False]
    out = tmp_path / "digest.html"
    run(
        "feedback",
        "digest",
        "--since",
        "2026-01-01",
        "--until",
        "2026-03-31",
        "--format",
        "html",
        "--output",
        str(out),
    )
    page = out.read_text(encoding="utf-8")
    assert "<h2>New themes</h2>" in page
    assert '<a href="https://github.com/org/console/issues/77">SSO</a>' in page
    md = run("feedback", "digest", "--since", "2026-01-01", "--until", "2026-03-31").stdout
    assert "### [SSO](https://github.com/org/console/issues/77) (theme 1, shipped)" in md
    items = json.loads(run("feedback", "list", "--theme", theme, "--json").stdout)
    item = str(items[0]["id"])
    run("feedback", "delete", item, "--reason", "typo")
    assert json.loads(run("feedback", "list", "--deleted", "--json").stdout)[0]["id"] == int(item)
    run("feedback", "restore", item)
    shown_item = json.loads(run("feedback", "show", item, "--json").stdout)
    assert [h["action"] for h in shown_item["history"]] == [
        "imported",
        "assigned",
        "deleted",
        "restored",
    ]
    log = json.loads(run("feedback", "log", "--theme", theme, "--json").stdout)
    assert [e["action"] for e in log] == [
        "notified",
        "notified",
        "shipped",
        "in_progress",
        "planned",
        "triaged",
        "routed",
        "created",
    ]
    assert "Feedback log" in run("feedback", "log").stdout
    mixed = run("feedback", "log", "--item", "1", "--theme", "1", ok=False)
    assert mixed.exception.message == "give one of --item, --theme, --suggestion"


# -- end to end on the demo community -----------------------------------------------------------


def test_end_to_end_on_the_demo_workspace(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "demo")
    try:
        generate(ws, members=300, months=12)
        runner = CliRunner()

        def run(*args: str) -> Any:
            result = runner.invoke(app, ["--workspace", str(ws.root), *args])
            assert result.exit_code == 0, (result.stdout, result.exception)
            return result

        # The demo labels ideas "enhancement" and has no feedback category: its forum uses
        # questions, general, announcements and show. Capture general too.
        with ws.store.session() as session:
            issues = [
                a
                for a in session.execute(
                    select(Activity).where(Activity.kind == "github:issue_opened")
                ).scalars()
                if "enhancement" in a.attributes.get("labels", [])
            ]
            general = _count(
                session,
                Activity,
                Activity.kind == "discourse:topic_created",
                Activity.channel == "general",
            )
        assert issues
        assert general > 0
        got = json.loads(
            run(
                "feedback", "capture", "--label", "enhancement", "--category", "general", "--json"
            ).stdout
        )
        assert len(got["added"]) == len(issues) + general
        again = json.loads(
            run(
                "feedback", "capture", "--label", "enhancement", "--category", "general", "--json"
            ).stdout
        )
        assert (again["added"], again["already"]) == ([], len(issues) + general)

        open_ = json.loads(run("feedback", "suggest", "--json").stdout)
        assert open_
        top = open_[0]
        assert top["score"] >= THRESHOLD
        theme = str(
            json.loads(run("feedback", "accept", str(top["id"]), "--json").stdout)["theme_id"]
        )
        # Every other open suggestion that involves one of the two joins the same theme.
        related = [
            s
            for s in open_[1:]
            if {s["item_a_id"], s["item_b_id"]} & {top["item_a_id"], top["item_b_id"]}
        ]
        for s in related[:4]:
            run("feedback", "accept", str(s["id"]))
        run(
            "feedback",
            "theme",
            "route",
            theme,
            "--area",
            "api",
            "--link",
            "https://github.com/demo-org/core/issues/1",
        )
        for state in ("triaged", "planned", "in_progress", "shipped"):
            run("feedback", "theme", "status", theme, state)
        shown = json.loads(run("feedback", "theme", "show", theme, "--json").stdout)
        assert shown["theme"]["items"] >= 2
        notify = json.loads(run("feedback", "notify-list", theme, "--json").stdout)
        members = {r["member_id"] for r in notify["recipients"]}
        assert len(members) == len(notify["recipients"]) == shown["theme"]["members"] > 0
        assert all(r["address"].startswith("activity:") for r in notify["recipients"])
        run("feedback", "notified", theme, "--all")
        with ws.store.session() as session:
            assert _count(session, Activity, Activity.kind == "feedback:closed_loop") == len(
                members
            )
            # Captured items are credited by their own issues and topics, never twice.
            assert _count(session, Activity, Activity.kind == "feedback:raised") == 0
        out = tmp_path / "digest.html"
        run(
            "feedback",
            "digest",
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-31",
            "--format",
            "html",
            "-o",
            str(out),
        )
        page = out.read_text(encoding="utf-8")
        assert "<h2>Items without a theme</h2>" in page
        listed = json.loads(
            run("feedback", "list", "--since", "2026-10-01", "--limit", "500", "--json").stdout
        )
        assert f"{len(listed)} items of feedback" in page
        # A note from a meetup, by a demo member: credited, and counted by the metrics.
        who = notify["recipients"][0]["member_id"]
        run(
            "feedback",
            "add",
            "Export the metrics as CSV",
            "--member",
            str(who),
            "--origin",
            "event",
            "--channel",
            "Shanghai meetup",
            "--date",
            "2026-10-20",
        )
        metrics = json.loads(
            run(
                "metrics", "contribution-types", "--source", "commops", "--include-staff", "--json"
            ).stdout
        )
        assert [
            (r["period"][:7], r["contribution_type"], r["contributions"]) for r in metrics["rows"]
        ] == [("2026-10", "ideas", 1)]
        assert Snapshot(ws.snapshot_dir).exists()
    finally:
        ws.close()
