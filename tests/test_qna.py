"""The Q&A desk: the unanswered queue, suggested answerers, who answered whom, the community's
share, thank-you signals, and assignments with answers detected on their own.

The hand-made community (tests/data/qna/, imported through `commops import csv` like any file),
as of 2026-03-10 12:00 UTC; Cy is staff, helper-bot a bot:

- kubesphere/ks-installer#discussion/1 (Discussion, category Q&A), Ana, 03-01 08:00: helper-bot
  08:05, Bo 10:00 (accepted), Ana 11:00 "Thanks, that worked!"
- installation#20 (forum, tags upgrade and ks-installer), dee, 03-02 00:00: Cy 06:00 (the
  solution, 3 likes), Bo 07:00 (1 like), dee 08:00 "谢谢！" in reply to Cy's post
- kubesphere/ks-installer#7 (issue, kind/question and area/installer), fay, 03-03 00:00: fay
  01:00 "Thanks in advance", helper-bot 02:00
- kubesphere/ks-installer#8 (issue, question), Cy (staff), 03-04 00:00: no reply
- installation#22 (forum), dee, 03-05 00:00: no reply
- installation#21 (forum), Ana, 03-09 00:00: no reply
- kubesphere/console#3 (issue, Question and area/installer, closed), Ana, 02-01 00:00: eve
  02-02 00:00

Not questions: kubesphere/kubesphere#9 (label bug), general#30 (a forum topic outside the question
categories).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from typer.testing import CliRunner, Result

from commops.cli.app import app
from commops.config import CONFIG_NAME, load_config, write_config
from commops.connectors.base import activity_uid
from commops.errors import UsageError
from commops.ops import core, qna
from commops.ops.qna.models import QnaAssignment
from commops.store.models import Activity, Base, Identity, Member, OpsLog, Source
from commops.workspace import Workspace, open_workspace

DATA = Path(__file__).parent / "data" / "qna"
NOW = datetime(2026, 3, 10, 12, 0)


def run(cli: CliRunner, ws: Workspace, *args: str) -> Result:
    return cli.invoke(app, ["--workspace", str(ws.root), *args])


def refused(result: Result, message: str) -> None:
    """The command stopped with a UsageError (printed by the app as "error: ...", exit 2)."""
    assert isinstance(result.exception, UsageError), result.output
    assert message in result.exception.message


def load(cli: CliRunner, ws: Workspace, name: str, kind: str = "activities") -> None:
    args = ["import", "csv", str(DATA / name), "--kind", kind]
    if kind == "activities":
        args += ["--source", "community"]
    result = run(cli, ws, *args)
    assert result.exit_code == 0, result.output


@pytest.fixture
def community(cli: CliRunner, workspace: Workspace) -> Workspace:
    load(cli, workspace, "identities.jsonl", "identities")
    load(cli, workspace, "members.jsonl", "members")
    load(cli, workspace, "activities.jsonl")
    return workspace


def member(ws: Workspace, name: str) -> int:
    with ws.store.session() as session:
        return core.require_member(session, name)


def test_qna_questions_follow_the_definition(community: Workspace) -> None:
    with community.store.session() as session:
        found = {q.ref: q for q in qna.load_questions(session)}
    assert sorted(found) == [
        "installation#20",
        "installation#21",
        "installation#22",
        "kubesphere/console#3",
        "kubesphere/ks-installer#7",
        "kubesphere/ks-installer#8",
        "kubesphere/ks-installer#discussion/1",
    ]
    d1 = found["kubesphere/ks-installer#discussion/1"]
    assert (d1.kind, d1.asker.name, d1.tags) == ("discussion", "Ana", ("q&a",))
    # the bot's reply and the asker's own are not answers
    assert [(a.person.name, a.at) for a in d1.answers] == [("Bo", datetime(2026, 3, 1, 10))]
    assert d1.has_accepted
    issue = found["kubesphere/ks-installer#7"]
    assert (issue.kind, issue.tags, issue.closed, issue.answers) == (
        "issue",
        ("area/installer",),
        False,
        [],
    )
    assert found["kubesphere/console#3"].closed
    assert found["installation#20"].tags == ("ks-installer", "upgrade")


def test_qna_question_labels_are_a_parameter(community: Workspace) -> None:
    with community.store.session() as session:
        only = {q.ref for q in qna.load_questions(session, labels=["kind/question"])}
        bugs = {q.ref for q in qna.load_questions(session, labels=["BUG"])}
        with pytest.raises(UsageError, match="empty label"):
            qna.load_questions(session, labels=[" "])
    assert "kubesphere/ks-installer#7" in only
    assert "kubesphere/ks-installer#8" not in only  # labelled "question"
    assert "kubesphere/console#3" not in only  # labelled "Question"
    assert "kubesphere/kubesphere#9" in bugs


def test_qna_question_label_outside_ascii(
    cli: CliRunner, community: Workspace, tmp_path: Path
) -> None:
    # SQLite keeps JSON with non-ASCII escaped, PostgreSQL as is: the label is found on both
    row = {
        "kind": "gitee:issue_opened",
        "occurred_at": "2026-03-06T00:00:00Z",
        "actor_platform": "gitee",
        "actor_username": "xiaoming",
        "item_key": "kubesphere/ks-installer#I5",
        "channel": "kubesphere/ks-installer",
        "target": "I5",
        "title": "离线安装需要哪些端口？",
        "attributes": {"labels": ["问题", "安装"], "state": "open"},
    }
    path = tmp_path / "gitee.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    result = run(cli, community, "import", "csv", str(path), "--kind", "activities")
    assert result.exit_code == 0, result.output
    with community.store.session() as session:
        found = [q for q in qna.load_questions(session, labels=["问题"]) if q.kind == "issue"]
        other = [q for q in qna.load_questions(session, labels=["安装x"]) if q.kind == "issue"]
    assert [(q.ref, q.tags, q.asker.name) for q in found] == [
        ("kubesphere/ks-installer#I5", ("安装",), "xiaoming")
    ]
    assert other == []


def test_qna_queue_lists_unanswered_questions_oldest_first(community: Workspace) -> None:
    with community.store.session() as session:
        items = qna.queue(session, older_than_hours=48, now=NOW)
        assert [(i.ref, i.age_hours, i.asker, i.state) for i in items] == [
            ("kubesphere/ks-installer#7", 180.0, "fay", "open"),
            ("kubesphere/ks-installer#8", 156.0, "Cy", "open"),
            ("installation#22", 132.0, "dee", "open"),
        ]
        assert items[1].asker_staff  # staff questions wait too
        assert items[0].asker_replies == 1
        assert items[0].title == "Which ports are needed?"
        assert items[0].link is None  # an imported file has no web address
        younger = qna.queue(session, older_than_hours=24, now=NOW)
        assert [i.ref for i in younger][-1] == "installation#21"  # asked 36 hours before
        forum = qna.queue(session, now=NOW, channels=["Installation"])
        assert [i.ref for i in forum] == ["installation#22"]
        with pytest.raises(UsageError, match="0 or more"):
            qna.queue(session, older_than_hours=-1, now=NOW)


def test_qna_suggested_answerers_with_score_and_reason(community: Workspace) -> None:
    with community.store.session() as session:
        issue, _staff_q, forum = qna.queue(session, now=NOW)
    # Bo: the accepted answer in the repository, 9 days 2 hours ago: 1 x 2 x 0.5^(9.083/180);
    # eve: an answer elsewhere sharing the label area/installer, 36.5 days ago: 0.5 x 0.5^(36.5/180)
    assert [(s.name, s.score, s.reason) for s in issue.suggested] == [
        ("Bo", 1.93, "1 answer in kubesphere/ks-installer, 1 accepted; last 2026-03-01"),
        ("eve", 0.43, "1 answer on area/installer; last 2026-02-02"),
    ]
    assert issue.suggested[1].shared_tags == ("area/installer",)
    # Cy's staff answer was the solution; Bo answered there too, an hour later
    assert [(s.name, s.is_staff, s.score) for s in forum.suggested] == [
        ("Cy", True, 1.94),
        ("Bo", False, 0.97),
    ]
    assert forum.suggested[0].reason == "1 answer in installation, 1 accepted; last 2026-03-02"


def test_qna_suggestions_leave_out_the_asker_and_old_answers(community: Workspace) -> None:
    with community.store.session() as session:
        q = qna.find_question(session, "installation#21")  # asked by Ana, channel installation
        assert [s.name for s in qna.suggest_answerers(session, q, now=NOW)] == ["Cy", "Bo"]
        d1 = qna.find_question(session, "kubesphere/ks-installer#discussion/1")
        # Bo's own answer there is not evidence for the question itself
        assert qna.suggest_answerers(session, d1, now=NOW) == []
        later = datetime(2027, 6, 1)  # more than 12 months after every answer
        assert qna.suggest_answerers(session, q, now=later) == []


def test_qna_stats_community_share_time_to_answer_and_thanks(community: Workspace) -> None:
    with community.store.session() as session:
        result = qna.stats(session)
        with_staff = qna.stats(session, include_staff_askers=True)
        march = qna.stats(session, since=date(2026, 3, 1), until=date(2026, 3, 31))
    by_scope = {r.scope: r for r in result.support}
    total = by_scope["all"]
    # the staff member's question (#8) is left out, as community-support does
    assert (total.questions, total.answered, total.unanswered) == (6, 3, 3)
    assert (total.by_community, total.by_staff) == (2, 1)
    assert (total.community_share, total.staff_share) == (0.6667, 0.3333)
    assert (total.accepted, total.accepted_rate, total.thanked) == (2, 0.3333, 2)
    # first answers after 2, 6 and 24 hours: p90 = 6 + (24 - 6) x 0.8
    assert (total.p50_hours, total.p90_hours) == (6.0, 20.4)
    assert [(r.scope, r.questions, r.answered) for r in result.support[1:]] == [
        ("discussion", 1, 1),
        ("forum", 3, 1),
        ("issue", 2, 1),
    ]
    assert {r.scope: r.questions for r in with_staff.support}["all"] == 7
    assert {r.scope: r.questions for r in march.support}["all"] == 5  # not console#3 (Feb)
    assert [
        (a.name, a.is_staff, a.answered, a.first_answers, a.accepted, a.thanks, a.likes)
        for a in result.answerers
    ] == [
        ("Bo", False, 2, 1, 1, 1, 1),
        ("Cy", True, 1, 1, 1, 1, 3),
        ("eve", False, 1, 1, 0, 0, 0),
    ]


def test_qna_thanks_need_an_earlier_answer_and_credit_the_reply_target(
    community: Workspace,
) -> None:
    with community.store.session() as session:
        found = {q.ref: q for q in qna.load_questions(session)}
    thanks = {
        ref: [(r.person.name, a.person.name) for r, a in q.thanks()] for ref, q in found.items()
    }
    assert thanks["kubesphere/ks-installer#discussion/1"] == [("Ana", "Bo")]
    # dee replied to Cy's post (post 2), although Bo's answer came later
    assert thanks["installation#20"] == [("dee", "Cy")]
    # "Thanks in advance" before any answer thanks nobody
    assert thanks["kubesphere/ks-installer#7"] == []
    for text in ("thank you!", "THX", "多谢", "感谢大家", "Thanks."):
        assert qna.THANKS.search(text), text
    for text in ("thanksgiving plans", "no thanksx", "thankful"):
        assert not qna.THANKS.search(text), text


def test_qna_pairs_who_answered_whom(community: Workspace) -> None:
    with community.store.session() as session:
        every = qna.pairs(session)
        march = qna.pairs(session, since=date(2026, 3, 1))
        with pytest.raises(UsageError, match="before --since"):
            qna.pairs(session, since=date(2026, 3, 2), until=date(2026, 3, 1))
    assert {
        (p.answerer, p.asker, p.questions, p.accepted, p.thanked, p.answerer_staff) for p in every
    } == {
        ("Bo", "Ana", 1, 1, 1, False),
        ("Bo", "dee", 1, 0, 0, False),
        ("Cy", "dee", 1, 1, 1, True),
        ("eve", "Ana", 1, 0, 0, False),
    }
    assert ("eve", "Ana") not in {(p.answerer, p.asker) for p in march}


def test_qna_assignment_transitions(community: Workspace) -> None:
    ws = community
    bo, eve = member(ws, "Bo"), member(ws, "eve")
    issue = "kubesphere/ks-installer#7"
    with ws.store.session() as session:
        row = qna.assign(session, issue, "Bo", actor="cli:lead", reason="knows it", now=NOW)
        assert (row.state, row.assigned_at) == ("assigned", NOW)
        with pytest.raises(UsageError, match="already assigned to Bo"):
            qna.assign(session, issue, bo, actor="cli:lead")
        qna.assign(session, issue, "github:eve", actor="cli:lead", now=NOW)
        with pytest.raises(UsageError, match="assignee: fay asked"):
            qna.assign(session, issue, "github:fay", actor="cli:lead")
        with pytest.raises(UsageError, match="helper-bot is a bot"):
            qna.assign(session, issue, "helper-bot", actor="cli:lead")
        with pytest.raises(UsageError, match=r"assignee: .*nobody"):
            qna.assign(session, issue, "nobody", actor="cli:lead")
        qna.unassign(session, issue, actor="cli:lead", reason="eve is away")
        with pytest.raises(UsageError, match="is open: it is not assigned"):
            qna.unassign(session, issue, actor="cli:lead")
        log = qna.desk_log(session, issue)
    assert [(e.action, e.from_state, e.to_state, e.actor) for e in reversed(log)] == [
        ("assigned", "open", "assigned", "cli:lead"),
        ("reassigned", "assigned", "assigned", "cli:lead"),
        ("unassigned", "assigned", "open", "cli:lead"),
    ]
    second = log[1].details
    assert (second["assignee_id"], second["previous_assignee_id"]) == (eve, bo)
    assert log[0].reason == "eve is away"


def test_qna_drop_and_reopen(community: Workspace) -> None:
    ws = community
    with ws.store.session() as session:
        qna.drop(session, "installation#22", actor="cli:lead", reason="duplicate of #20")
        assert [i.ref for i in qna.queue(session, now=NOW)] == [
            "kubesphere/ks-installer#7",
            "kubesphere/ks-installer#8",
        ]
        with pytest.raises(UsageError, match="is dropped: it cannot become assigned") as err:
            qna.assign(session, "installation#22", "Bo", actor="cli:lead")
        assert err.value.hint == "From dropped: open."
        with pytest.raises(UsageError, match="cannot become dropped"):
            qna.drop(session, "installation#22", actor="cli:lead")
        qna.reopen(session, "installation#22", actor="cli:lead")
        with pytest.raises(UsageError, match="only a dropped question is reopened"):
            qna.reopen(session, "installation#22", actor="cli:lead")
        assert "installation#22" in [i.ref for i in qna.queue(session, now=NOW)]


def test_qna_refused_change_writes_nothing(community: Workspace) -> None:
    ws = community
    with (
        pytest.raises(UsageError, match="was answered by Bo on 2026-03-01 10:00"),
        ws.store.session() as session,
    ):
        qna.assign(session, "kubesphere/ks-installer#discussion/1", "Cy", actor="cli:lead")
    with ws.store.session() as session:
        assert session.scalars(select(QnaAssignment)).all() == []
        assert session.scalars(select(OpsLog)).all() == []


def test_qna_answer_detected_after_an_import(cli: CliRunner, community: Workspace) -> None:
    ws = community
    with ws.store.session() as session:
        qna.assign(session, "kubesphere/ks-installer#7", "eve", actor="cli:lead", now=NOW)
        qna.assign(session, "installation#22", "Bo", actor="cli:lead", now=NOW)
        assert qna.detect_answers(session, actor="cli:lead") == []
    load(cli, ws, "answer.jsonl")  # eve answers the issue on 03-11
    with ws.store.session() as session:
        changed = qna.detect_answers(session, actor="cli:lead", now=datetime(2026, 3, 12))
        assert [(r.channel, r.target, r.state) for r in changed] == [
            ("kubesphere/ks-installer", "7", "answered")
        ]
        assert changed[0].answered_at == datetime(2026, 3, 11, 9)
        entry = qna.desk_log(session, "kubesphere/ks-installer#7")[0]
        assert (entry.action, entry.from_state, entry.to_state) == (
            "answered",
            "assigned",
            "answered",
        )
        assert entry.details["by_assignee"] is True
        assert entry.details["answerer"] == "eve"
        assert entry.details["detected"] is True
        assert qna.detect_answers(session, actor="cli:lead") == []  # once
        with pytest.raises(UsageError, match=r"answered is final|was answered"):
            qna.assign(session, "kubesphere/ks-installer#7", "Bo", actor="cli:lead")
        with pytest.raises(UsageError, match="is answered: it cannot become dropped"):
            qna.drop(session, "kubesphere/ks-installer#7", actor="cli:lead")
        queue = [i.ref for i in qna.queue(session, now=datetime(2026, 3, 12))]
        assert queue == ["kubesphere/ks-installer#8", "installation#22", "installation#21"]
        row = session.scalars(select(QnaAssignment).where(QnaAssignment.target == "22")).one()
        assert row.state == "assigned"


def test_qna_assignee_survives_a_merge(cli: CliRunner, community: Workspace) -> None:
    ws = community
    with ws.store.session() as session:
        qna.assign(session, "installation#22", "eve", actor="cli:lead", now=NOW)
    eve = member(ws, "eve")
    result = run(cli, ws, "members", "merge", "Bo", "github:eve", "--reason", "same person")
    assert result.exit_code == 0, result.output
    with ws.store.session() as session:
        assert session.get(Member, eve) is None  # merged away
        (item,) = [i for i in qna.queue(session, now=NOW) if i.ref == "installation#22"]
    assert (item.state, item.assignee) == ("assigned", "Bo")


def test_qna_find_question_by_ref_source_and_uid(community: Workspace) -> None:
    with community.store.session() as session:
        q = qna.find_question(session, "installation#20")
        assert qna.find_question(session, q.uid[:10]).uid == q.uid
        assert qna.find_question(session, "community:installation#20").uid == q.uid
        with pytest.raises(UsageError, match="no question 'general#30'"):
            qna.find_question(session, "general#30")
        with pytest.raises(UsageError, match="not CHANNEL#TARGET"):
            qna.find_question(session, "installation 20")


def test_qna_links_for_forge_and_forum_sources() -> None:
    gh = Source(name="gh", kind="github", location="kubesphere", options={})
    ghe = Source(
        name="ghe", kind="github", location="x", options={"api_url": "https://git.corp/api/v3"}
    )
    gitee = Source(name="ge", kind="gitee", location="kubesphere", options={})
    forum = Source(name="f", kind="discourse", location="https://ask.kubesphere.io/", options={})
    link = qna.questions.link
    assert link(gh, "issue", "kubesphere/ks", "7") == "https://github.com/kubesphere/ks/issues/7"
    assert (
        link(gh, "discussion", "kubesphere/ks", "discussion/3")
        == "https://github.com/kubesphere/ks/discussions/3"
    )
    assert link(ghe, "issue", "a/b", "1") == "https://git.corp/a/b/issues/1"
    assert link(gitee, "issue", "a/b", "I7X") == "https://gitee.com/a/b/issues/I7X"
    assert link(forum, "forum", "questions", "12") == "https://ask.kubesphere.io/t/12"


def test_qna_cli_commands(cli: CliRunner, community: Workspace) -> None:
    ws = community
    at = ("--at", "2026-03-10T12:00")
    queue = run(cli, ws, "qna", "queue", "--older-than", "100", *at, "--json")
    assert queue.exit_code == 0, queue.output
    rows = json.loads(queue.stdout)
    assert [r["ref"] for r in rows] == [
        "kubesphere/ks-installer#7",
        "kubesphere/ks-installer#8",
        "installation#22",
    ]
    assert rows[0]["suggested"][0]["name"] == "Bo"
    human = run(cli, ws, "qna", "queue", "--channel", "installation", *at)
    assert human.exit_code == 0, human.output
    assert "installation#22" in human.stdout
    answerers = run(cli, ws, "qna", "answerers", "installation#22", *at, "--json")
    assert answerers.exit_code == 0, answerers.output
    info = json.loads(answerers.stdout)
    assert (info["state"], info["first_answer"]) == ("open", None)
    assert [(a["name"], a["reason"]) for a in info["suggested"]] == [
        ("Cy", "1 answer in installation, 1 accepted; last 2026-03-02"),
        ("Bo", "1 answer in installation; last 2026-03-02"),
    ]
    refused(run(cli, ws, "qna", "queue", "--at", "yesterday"), "--at 'yesterday' is not a date")
    assigned = run(cli, ws, "qna", "assign", "installation#22", "--to", "bo", "--json")
    assert assigned.exit_code == 0, assigned.output
    assert json.loads(assigned.stdout)["assignee"] == "Bo"
    refused(
        run(cli, ws, "qna", "assign", "installation#22", "--to", "bo"), "already assigned to Bo"
    )
    assert run(cli, ws, "qna", "unassign", "installation#22").exit_code == 0
    dropped = run(cli, ws, "qna", "drop", "installation#22", "--reason", "spam")
    assert dropped.exit_code == 0, dropped.output
    assert run(cli, ws, "qna", "reopen", "installation#22").exit_code == 0
    log = run(cli, ws, "qna", "log", "--json")
    assert [e["action"] for e in json.loads(log.stdout)] == [
        "reopened",
        "dropped",
        "unassigned",
        "assigned",
    ]
    pairs = run(cli, ws, "qna", "pairs", "--since", "2026-03-01", "--json")
    assert {(p["answerer"], p["asker"]) for p in json.loads(pairs.stdout)} == {
        ("Bo", "Ana"),
        ("Bo", "dee"),
        ("Cy", "dee"),
    }
    stats = run(cli, ws, "qna", "stats", "--json")
    assert json.loads(stats.stdout)["support"][0]["community_share"] == 0.6667
    assert run(cli, ws, "qna", "stats").exit_code == 0
    assert run(cli, ws, "qna", "pairs").exit_code == 0
    assert run(cli, ws, "qna", "log").exit_code == 0
    refused(run(cli, ws, "qna", "assign", "nowhere#1", "--to", "bo"), "no question 'nowhere#1'")
    refused(run(cli, ws, "qna", "stats", "--since", "March"), "--since 'March' is not a date")
    refused(run(cli, ws, "qna", "drop", "installation#22", "--reason", " "), "--reason: empty")


def test_qna_table_matches_its_migration(workspace: Workspace) -> None:
    with workspace.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "qna_assignments" in repr(d)] == []


def _set_staff(root: Path) -> None:
    path = root / CONFIG_NAME
    config = load_config(path)
    config.staff_organizations = ["DemoCorp"]
    write_config(path, config)


def test_qna_on_the_demo_community(cli: CliRunner, tmp_path: Path) -> None:
    from commops import metrics
    from commops.demo import generate
    from commops.workspace import init_workspace

    ws, _ = init_workspace(tmp_path / "demo")
    ws.close()
    _set_staff(tmp_path / "demo")
    ws = open_workspace(tmp_path / "demo")
    try:
        generate(ws, members=300, months=12)
        with ws.store.session() as session:
            result = qna.stats(session, since=date(2026, 1, 1), until=date(2026, 10, 31))
            items = qna.queue(session, now=datetime(2026, 11, 1))
            questions = qna.load_questions(session)
        # the same definition as the community-support metric, over the same questions
        (expected,) = metrics.compute(
            "community-support",
            workspace=ws.root,
            period="year",
            since="2026-01-01",
            until="2026-10-31",
        ).rows
        total = result.support[0]
        assert total.by_staff > 0
        assert total.by_community > 0
        got: dict[str, Any] = {
            "questions": total.questions,
            "answered": total.answered,
            "by_community": total.by_community,
            "community_share": total.community_share,
            "accepted": total.accepted,
            "unanswered": total.unanswered,
            "p50_hours": total.p50_hours,
            "p90_hours": total.p90_hours,
        }
        assert got == {k: expected[k] for k in got}
        assert items
        assert all(i.asked_at <= datetime(2026, 10, 30) for i in items)
        assert [i.asked_at for i in items] == sorted(i.asked_at for i in items)
        assert all(
            i.suggested and i.asker_id not in {s.member_id for s in i.suggested} for i in items
        )
        unanswered = {q.uid for q in questions if q.first_answer is None}
        assert {i.uid for i in items} <= unanswered

        # the desk at work: assign the oldest question to its best answerer, who answers
        oldest = items[0]
        helper = oldest.suggested[0]
        result_cli = run(cli, ws, "qna", "assign", oldest.ref, "--to", str(helper.member_id))
        assert result_cli.exit_code == 0, result_cli.output
        with ws.store.session() as session:
            forum = session.scalars(select(Source).where(Source.name == oldest.source)).one()
            ident = session.scalars(
                select(Identity).where(
                    Identity.member_id == helper.member_id, Identity.platform == "discourse"
                )
            ).first()
            assert ident is not None
            key = f"{oldest.target}/999999"
            session.add(
                Activity(
                    uid=activity_uid(forum.name, "discourse:post", key),
                    source_id=forum.id,
                    item_key=key,
                    kind="discourse:post",
                    occurred_at=datetime(2026, 11, 2),
                    actor_identity_id=ident.id,
                    channel=oldest.channel,
                    target=oldest.target,
                    parent=oldest.target,
                    title=oldest.title,
                    contribution_type="answer",
                    attributes={"post_number": 99},
                )
            )
        shown = run(cli, ws, "qna", "log", oldest.ref, "--json")
        assert shown.exit_code == 0, shown.output
        entries = json.loads(shown.stdout)
        assert [e["action"] for e in entries] == ["answered", "assigned"]
        assert entries[0]["details"]["by_assignee"] is True
        queue_now = run(cli, ws, "qna", "queue", "--json")
        assert oldest.ref not in {r["ref"] for r in json.loads(queue_now.stdout)}
    finally:
        ws.close()


def test_question_labels_come_from_the_config(tmp_path: Path) -> None:
    """`[qna] question_labels` sets the default of --label."""
    from commops.config import load_config

    path = tmp_path / "commops.toml"
    path.write_text('[qna]\nquestion_labels = ["support"]\n', encoding="utf-8")
    assert load_config(path).qna_question_labels == ["support"]
    path.write_text("", encoding="utf-8")
    assert load_config(path).qna_question_labels == ["question", "kind/question", "type/question"]
