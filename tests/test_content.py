"""The content pipeline: every transition allowed and refused, the approval rule, credits in
the activity stream and the metrics, the calendar and its gaps, performance CSV, the blog
import, soft delete, and the ``commops content`` commands end to end on a demo community."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from commops.analytics.snapshot import Snapshot
from commops.cli.app import app
from commops.clock import utcnow
from commops.errors import UsageError
from commops.identity.audit import merge_members
from commops.ops import core
from commops.ops.content import (
    FLOW,
    TABLES,
    ContentItem,
    ContentReading,
    ContentRound,
    accept,
    add_item,
    approve,
    calendar,
    cross_post,
    delete_item,
    edit_item,
    get_item,
    import_blog,
    import_performance,
    list_items,
    publish,
    restore_item,
    review,
    schedule,
    start_drafting,
    submit_for_review,
    sync_credits,
    withdraw,
)
from commops.ops.content import performance as perf
from commops.ops.content.rules import author_ids
from commops.store.models import Activity, Base, Identity, Member, OpsLog
from commops.workspace import Workspace

DATA = Path(__file__).parent / "data" / "content"
ACTOR = "cli:editor"
APPROVALS = 2


# -- people and helpers -----------------------------------------------------------------------


def _member(
    session: Session, name: str, login: str, *, staff: bool = False, bot: bool = False
) -> int:
    member = Member(display_name=name, is_staff=staff, is_bot=bot, created_at=utcnow())
    session.add(member)
    session.flush()
    session.add(
        Identity(
            platform="github",
            kind="username",
            value=login,
            member_id=member.id,
            created_at=utcnow(),
        )
    )
    session.flush()
    return member.id


def people(ws: Workspace) -> dict[str, int]:
    """Two authors, two community reviewers, two staff reviewers and a bot."""
    with ws.store.session() as s:
        return {
            "ana": _member(s, "Ana Author", "ana"),
            "bo": _member(s, "Bo Writer", "bo"),
            "cy": _member(s, "Cy Community", "cy"),
            "fu": _member(s, "Fu Friend", "fu"),
            "di": _member(s, "Di Staff", "di", staff=True),
            "ed": _member(s, "Ed Staff", "ed", staff=True),
            "bot": _member(s, "ci-bot", "ci-bot", bot=True),
        }


def _pitch(
    s: Session, p: dict[str, int], *, kind: str = "article", title: str = "Hello", **kw: Any
) -> int:
    item = add_item(
        s,
        title=title,
        kind=kind,
        authors=kw.pop("authors", [p["ana"], p["bo"]]),
        language=kw.pop("language", "en"),
        channels=kw.pop("channels", ["blog"]),
        actor=ACTOR,
        **kw,
    )
    return item.id


def _in_review(s: Session, p: dict[str, int], reviewers: list[str], **kw: Any) -> int:
    item_id = _pitch(s, p, **kw)
    accept(s, item_id, actor=ACTOR)
    start_drafting(s, item_id, actor=ACTOR)
    submit_for_review(
        s, item_id, [p[r] for r in reviewers], default_approvals=APPROVALS, actor=ACTOR
    )
    return item_id


def _review(
    s: Session, p: dict[str, int], item_id: int, who: str, verdict: str = "approve", **kw: Any
) -> Any:
    return review(
        s,
        item_id,
        p[who],
        verdict,
        default_approvals=kw.pop("default_approvals", APPROVALS),
        actor=ACTOR,
        **kw,
    )


def _approved(
    s: Session, p: dict[str, int], reviewers: tuple[str, str] = ("cy", "fu"), **kw: Any
) -> int:
    item_id = _in_review(s, p, list(reviewers), **kw)
    for who in reviewers:
        _review(s, p, item_id, who)
    assert get_item(s, item_id).state == "approved"
    return item_id


def _state(ws: Workspace, item_id: int) -> str:
    with ws.store.session() as s:
        return get_item(s, item_id, include_deleted=True).state


def _log(ws: Workspace, item_id: int) -> list[tuple[str, str | None, str | None]]:
    with ws.store.session() as s:
        return [(e.action, e.from_state, e.to_state) for e in core.history(s, "content", item_id)]


def _credits(ws: Workspace) -> list[tuple[str, int, str | None, int | None]]:
    """(kind, acting member, contribution type, object member) of every content activity."""
    with ws.store.session() as s:
        rows = s.execute(
            select(Activity).where(Activity.kind.startswith("content:")).order_by(Activity.id)
        ).scalars()
        out = []
        for a in rows:
            actor = s.get(Identity, a.actor_identity_id)
            obj = s.get(Identity, a.object_identity_id) if a.object_identity_id else None
            assert actor is not None
            out.append(
                (a.kind, actor.member_id, a.contribution_type, obj.member_id if obj else None)
            )
        return out


# -- schema ------------------------------------------------------------------------------------


def test_content_migration_creates_the_models_tables(workspace: Workspace) -> None:
    with workspace.store.engine.connect() as conn:
        assert set(TABLES) <= set(inspect(conn).get_table_names())
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, Base.metadata) if "content_" in str(d)]
    assert diffs == []


# -- the flow ----------------------------------------------------------------------------------


def test_content_full_flow_is_dated_and_attributed(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        item_id = _pitch(s, p, kind="tutorial", tags=["k8s"], project="core", release="v1")
        accept(s, item_id, actor="cli:lead", reason="good topic")
        start_drafting(s, item_id, actor=ACTOR)
        rnd = submit_for_review(
            s, item_id, [p["cy"], p["di"]], default_approvals=APPROVALS, actor=ACTOR
        )
        assert rnd.number == 1
        first = _review(s, p, item_id, "di", at=datetime(2026, 3, 1, 9))
        assert (first.state, first.status.met) == ("in_review", False)
        second = _review(s, p, item_id, "cy", at=datetime(2026, 3, 1, 10))
        assert (second.state, second.status.met) == ("approved", True)
        schedule(s, item_id, on=date(2026, 3, 9), channel="blog", actor=ACTOR)
        schedule(s, item_id, on=date(2026, 3, 10), channel="Blog", actor=ACTOR)
        post = publish(
            s, item_id, url="https://example.org/blog/hello", actor=ACTOR, at=datetime(2026, 3, 10)
        )
        assert (post.channel, post.state, post.scheduled_on) == (
            "blog",
            "published",
            date(2026, 3, 10),
        )
        cross_post(s, item_id, channel="wechat", url="https://mp.weixin.qq.com/s/x", actor=ACTOR)
        item = get_item(s, item_id)
        assert (item.state, item.url, item.channels) == (
            "published",
            "https://example.org/blog/hello",
            ["blog", "wechat"],
        )
        log = core.history(s, "content", item_id)
        assert {e.actor for e in log} >= {"cli:lead", ACTOR}
        assert all(e.at is not None for e in log)
        assert log[1].reason == "good topic"
        reviewed = [e for e in log if e.action == "review:approve"]
        assert [e.at for e in reviewed] == [datetime(2026, 3, 1, 9), datetime(2026, 3, 1, 10)]
        assert [e.details["reviewer"] for e in reviewed] == [p["di"], p["cy"]]
    assert _log(workspace, item_id) == [
        ("pitched", None, "pitch"),
        ("accepted", "pitch", "accepted"),
        ("drafting", "accepted", "drafting"),
        ("submitted", "drafting", "in_review"),
        ("review:approve", None, None),
        ("review:approve", None, None),
        ("approved", "in_review", "approved"),
        ("scheduled", "approved", "scheduled"),
        ("rescheduled", "scheduled", "scheduled"),
        ("published", "scheduled", "published"),
        ("cross-posted", None, None),
    ]


OPS: dict[str, Callable[[Session, int, dict[str, int]], Any]] = {
    "accept": lambda s, i, p: accept(s, i, actor=ACTOR),
    "start": lambda s, i, p: start_drafting(s, i, actor=ACTOR),
    "submit": lambda s, i, p: submit_for_review(
        s, i, [p["cy"], p["fu"]], default_approvals=APPROVALS, actor=ACTOR
    ),
    "approve": lambda s, i, p: approve(s, i, default_approvals=APPROVALS, actor=ACTOR),
    "schedule": lambda s, i, p: schedule(s, i, on=date(2026, 4, 1), channel="blog", actor=ACTOR),
    "publish": lambda s, i, p: publish(s, i, url=f"https://example.org/p/{i}", actor=ACTOR),
    "withdraw": lambda s, i, p: withdraw(s, i, reason="off topic", actor=ACTOR),
}
ALLOWED = {
    "pitch": {"accept", "withdraw"},
    "accepted": {"start", "withdraw"},
    "drafting": {"submit", "withdraw"},
    "in_review": {"withdraw"},  # approve: allowed move, refused by the rule (no approvals yet)
    "approved": {"schedule", "publish", "withdraw"},
    "scheduled": {"schedule", "publish", "withdraw"},
    "published": set(),
    "withdrawn": set(),
}


def _drive(s: Session, p: dict[str, int], state: str) -> int:
    item_id = _pitch(s, p)
    steps = {
        "pitch": [],
        "accepted": ["accept"],
        "drafting": ["accept", "start"],
        "in_review": ["accept", "start", "submit"],
        "approved": ["accept", "start", "submit", "cy", "fu"],
        "scheduled": ["accept", "start", "submit", "cy", "fu", "schedule"],
        "published": ["accept", "start", "submit", "cy", "fu", "publish"],
        "withdrawn": ["withdraw"],
    }[state]
    for step in steps:
        if step in p:
            _review(s, p, item_id, step)
        else:
            OPS[step](s, item_id, p)
    assert get_item(s, item_id).state == state
    return item_id


@pytest.mark.parametrize("state", list(FLOW))
def test_content_every_move_from_every_state(sqlite_workspace: Workspace, state: str) -> None:
    ws = sqlite_workspace
    p = people(ws)
    for op, run in OPS.items():
        with ws.store.session() as s:
            item_id = _drive(s, p, state)
        if op in ALLOWED[state]:
            with ws.store.session() as s:
                run(s, item_id, p)
            continue
        with pytest.raises(UsageError) as err, ws.store.session() as s:
            run(s, item_id, p)
        message = err.value.message
        if state == "in_review" and op == "approve":
            assert "cannot be approved yet: it needs 2 more approvals" in message
        elif op in ("publish", "schedule") and state in (
            "pitch",
            "accepted",
            "drafting",
            "in_review",
        ):
            assert f"content {item_id} ('Hello') was never approved: it is {state}" in message
        else:
            assert message.startswith(f"content {item_id} is {state}"), message
        assert _state(ws, item_id) == state  # nothing half-written


def test_content_withdraw_needs_a_reason_and_cleans_up(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        in_review = _in_review(s, p, ["cy", "fu"])
        scheduled = _approved(s, p)
        schedule(s, scheduled, on=date(2026, 4, 1), channel="blog", actor=ACTOR)
    with pytest.raises(UsageError, match="reason: say why"), ws.store.session() as s:
        withdraw(s, in_review, reason="  ", actor=ACTOR)
    with ws.store.session() as s:
        withdraw(s, in_review, reason="the feature was dropped", actor=ACTOR)
        withdraw(s, scheduled, reason="duplicate of another post", actor=ACTOR)
        rnd = s.execute(select(ContentRound).where(ContentRound.item_id == in_review)).scalar_one()
        assert rnd.outcome == "withdrawn"
        assert get_item(s, in_review).withdrawn_reason == "the feature was dropped"
        cal = calendar(s, since=date(2026, 3, 30), until=date(2026, 4, 5), channels=["blog"])
        assert cal.cells[0].gap  # the cancelled post is not on the calendar
    with pytest.raises(UsageError, match="withdrawn is final"), ws.store.session() as s:
        accept(s, in_review, actor=ACTOR)


# -- the approval rule -------------------------------------------------------------------------


def test_content_staff_only_approvals_do_not_approve(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        item_id = _in_review(s, p, ["di", "ed", "cy"])
        _review(s, p, item_id, "di")
        outcome = _review(s, p, item_id, "ed")
        assert outcome.state == "in_review"
        assert outcome.status.approvers == [p["di"], p["ed"]]
        assert outcome.status.shortfall() == "an approval by a reviewer who is not staff"
    with pytest.raises(UsageError) as err, workspace.store.session() as s:
        approve(s, item_id, default_approvals=APPROVALS, actor=ACTOR)
    assert err.value.message == (
        f"content {item_id} cannot be approved yet: it needs an approval by a reviewer who is "
        "not staff (round 1: 2 of 2 approvals)"
    )
    assert (
        err.value.hint
        == f"Approvals so far: Di Staff (member {p['di']}), Ed Staff (member {p['ed']})."
    )
    with workspace.store.session() as s:
        assert _review(s, p, item_id, "cy").state == "approved"


def test_content_reviewer_rules(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        item_id = _in_review(s, p, ["cy", "di"])
    refusals = [
        (
            "ana",
            "approve",
            f"Ana Author (member {p['ana']}) is an author of content {item_id}: "
            "authors cannot review their own item",
        ),
        (
            "fu",
            "approve",
            f"Fu Friend (member {p['fu']}) was not asked to review content "
            f"{item_id} in round 1 (reviewers: Cy Community (member {p['cy']}), Di Staff (member "
            f"{p['di']}))",
        ),
        ("fu", "comment", "was not asked"),
    ]
    for who, verdict, message in refusals:
        with pytest.raises(UsageError) as err, workspace.store.session() as s:
            _review(s, p, item_id, who, verdict, body="x")
        assert message in err.value.message
    with workspace.store.session() as s:
        _review(s, p, item_id, "di")
    with pytest.raises(UsageError) as err, workspace.store.session() as s:
        _review(s, p, item_id, "di")
    assert err.value.message == (
        f"reviewer: Di Staff (member {p['di']}) already approved content {item_id} in round 1"
    )
    with (
        pytest.raises(UsageError, match="no member or identity 'nobody'"),
        workspace.store.session() as s,
    ):
        review(s, item_id, "nobody", "approve", default_approvals=2, actor=ACTOR)
    with pytest.raises(UsageError, match="not a review verdict"), workspace.store.session() as s:
        _review(s, p, item_id, "cy", "lgtm")
    with (
        pytest.raises(UsageError, match="message: a comment review"),
        workspace.store.session() as s,
    ):
        _review(s, p, item_id, "cy", "comment")
    with workspace.store.session() as s:
        assert _review(s, p, item_id, "cy", "comment", body="nice").state == "in_review"
        # one approval per reviewer per round: di's single approval is counted once
        assert _review(s, p, item_id, "cy").status.approvers == [p["di"], p["cy"]]
        assert get_item(s, item_id).state == "approved"
    with (
        pytest.raises(UsageError, match="only an item in review can be reviewed"),
        workspace.store.session() as s,
    ):
        _review(s, p, item_id, "cy")


def test_content_submit_checks_the_reviewers(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        item_id = _pitch(s, p)
        accept(s, item_id, actor=ACTOR)
        start_drafting(s, item_id, actor=ACTOR)
    cases = [
        ([], "reviewer: name the reviewers"),
        (["cy"], "needs 2 approvals and only 1 reviewer is asked"),
        (["di", "ed"], "every reviewer asked is staff"),
        (["ana", "cy"], "is an author of content"),
        (["bot", "cy"], r"reviewer: ci-bot \(member \d+\) is a bot"),
        (["cy", "ghost"], "reviewer: no member or identity 'ghost'"),
    ]
    for reviewers, message in cases:
        refs: list[int | str] = [p.get(r, r) for r in reviewers]
        with pytest.raises(UsageError, match=message), ws.store.session() as s:
            submit_for_review(s, item_id, refs, default_approvals=APPROVALS, actor=ACTOR)
        assert _state(ws, item_id) == "drafting"
    with ws.store.session() as s:
        assert s.scalar(select(func.count()).select_from(ContentRound)) == 0


def test_content_changes_requested_start_a_new_round(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        item_id = _in_review(s, p, ["cy", "fu"])
        _review(s, p, item_id, "cy")
        with pytest.raises(UsageError, match="message: a request changes review"):
            _review(s, p, item_id, "fu", "request-changes")
        outcome = _review(s, p, item_id, "fu", "request-changes", body="add a diagram")
        assert outcome.state == "drafting"
        assert outcome.round.outcome == "changes_requested"
        rnd = submit_for_review(s, item_id, [p["cy"], p["di"]], default_approvals=2, actor=ACTOR)
        assert rnd.number == 2
        # cy's approval in round 1 does not count in round 2
        assert _review(s, p, item_id, "cy").state == "in_review"
        assert _review(s, p, item_id, "di").state == "approved"
    actions = [a for a, _, _ in _log(workspace, item_id)]
    assert actions.count("submitted") == 2
    assert "changes-requested" in actions


def test_content_approvals_from_config_and_per_item(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        one = _in_review(s, p, ["cy"], approvals=1)
        assert _review(s, p, one, "cy").state == "approved"
        three = _pitch(s, p)
        accept(s, three, actor=ACTOR)
        start_drafting(s, three, actor=ACTOR)
        with pytest.raises(UsageError, match="needs 3 approvals and only 2 reviewers are asked"):
            submit_for_review(s, three, [p["cy"], p["fu"]], default_approvals=3, actor=ACTOR)
        submit_for_review(s, three, [p["cy"], p["fu"], p["di"]], default_approvals=3, actor=ACTOR)
        _review(s, p, three, "cy", default_approvals=3)
        assert _review(s, p, three, "fu", default_approvals=3).state == "in_review"
        # lower this item's own requirement, then approve explicitly
        edit_item(s, three, approvals=2, actor=ACTOR, reason="small fix")
        status = approve(s, three, default_approvals=3, actor=ACTOR)
        assert (status.required, status.approvers) == (2, [p["cy"], p["fu"]])
    with pytest.raises(UsageError, match="approvals: must be at least 1"), ws.store.session() as s:
        _pitch(s, p, approvals=0)


def test_content_edit_is_logged_and_checked(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        original = _pitch(s, p)
        zh = _pitch(s, p, kind="translation", language="zh", translation_of=original)
        changes = edit_item(
            s, zh, title="你好", tags=["intro", "intro"], authors=[p["bo"]], actor=ACTOR
        )
        assert changes == {
            "title": ["Hello", "你好"],
            "tags": [[], ["intro"]],
            "authors": [[p["ana"], p["bo"]], [p["bo"]]],
        }
        assert core.history(s, "content", zh)[-1].details == {"changes": changes}
        with pytest.raises(UsageError, match="language: content 1, which this item translates"):
            edit_item(s, zh, language="en", actor=ACTOR)
        with pytest.raises(UsageError, match=f"content {zh}: nothing to change"):
            edit_item(s, zh, title="你好", actor=ACTOR)
        in_review = _in_review(s, p, ["cy", "fu"])
        with pytest.raises(UsageError, match="authors change only before review"):
            edit_item(s, in_review, authors=[p["cy"]], actor=ACTOR)


# -- credits -----------------------------------------------------------------------------------


def test_content_credits_in_the_activity_stream(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        article = _approved(s, p)
        publish(s, article, url="https://example.org/a", actor=ACTOR, at=datetime(2026, 3, 2))
        video = _approved(s, p, kind="video", title="Demo video", authors=[p["bo"]])
        publish(
            s,
            video,
            url="https://youtube.com/v",
            channel="youtube",
            actor=ACTOR,
            at=datetime(2026, 3, 3),
        )
        translation = _approved(
            s,
            p,
            ("fu", "di"),
            kind="translation",
            title="你好",
            language="zh",
            authors=[p["cy"]],
            translation_of=article,
        )
    credits = _credits(workspace)
    assert credits.count(("content:authored", p["ana"], "blog", None)) == 1
    assert credits.count(("content:authored", p["bo"], "blog", None)) == 1
    assert ("content:authored", p["bo"], "video", None) in credits
    assert sorted(c for c in credits if c[0] == "content:reviewed") == sorted(
        [
            ("content:reviewed", p["cy"], "review", p["ana"]),
            ("content:reviewed", p["fu"], "review", p["ana"]),
            ("content:reviewed", p["cy"], "review", p["bo"]),
            ("content:reviewed", p["fu"], "review", p["bo"]),
            ("content:reviewed", p["fu"], "review", p["cy"]),
            ("content:reviewed", p["di"], "review", p["cy"]),
        ]
    )
    assert not any(c[0] == "content:translated" for c in credits)  # not published yet
    with workspace.store.session() as s:
        publish(s, translation, url="https://example.org/zh/a", actor=ACTOR)
        again = sync_credits(s, get_item(s, translation))
        assert (again.emitted, again.removed) == (0, 0)  # idempotent
    assert ("content:translated", p["cy"], "translation", None) in _credits(workspace)
    with workspace.store.session() as s:
        a = s.execute(
            select(Activity).where(Activity.item_key == f"content:{article}:authored:{p['ana']}")
        ).scalar_one()
        assert (a.occurred_at, a.channel, a.target, a.title) == (
            datetime(2026, 3, 2),
            "blog",
            f"content:{article}",
            "Hello",
        )
        assert a.attributes["item_kind"] == "article"


def test_content_translation_rules(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        original = _pitch(s, p)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "translation"}, "translation-of: a translation names the item it translates"),
        ({"kind": "translation", "translation_of": original}, "already in 'en'"),
        ({"kind": "article", "translation_of": original}, "only a translation translates"),
        ({"kind": "poem"}, "kind: 'poem' is not a content kind"),
        ({"language": "english!"}, "language: 'english!' is not a language code"),
        ({"channels": ["we chat"]}, "channel: 'we chat' is not a channel name"),
        ({"authors": []}, "author: an item has at least one author"),
        ({"authors": ["nobody"]}, "author: no member or identity 'nobody'"),
        ({"title": "  "}, "title: the title is empty"),
    ]
    for kw, message in cases:
        with pytest.raises(UsageError, match=message), ws.store.session() as s:
            _pitch(s, p, **kw)
    with ws.store.session() as s:
        zh = _pitch(s, p, kind="translation", language="zh-CN", translation_of=original)
        assert get_item(s, zh).language == "zh-cn"
        with pytest.raises(UsageError, match="is itself a translation"):
            _pitch(s, p, kind="translation", language="fr", translation_of=zh)


def test_content_delete_restore_and_merge_keep_credits_right(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        item_id = _approved(s, p)
        publish(s, item_id, url="https://example.org/a", actor=ACTOR)
    assert len(_credits(workspace)) == 4  # 2 authors, 2 reviews
    with workspace.store.session() as s:
        delete_item(s, item_id, actor=ACTOR, reason="duplicate")
    assert _credits(workspace) == []
    with workspace.store.session() as s:
        assert list_items(s) == []
        assert [i.id for i in list_items(s, include_deleted=True)] == [item_id]
        with pytest.raises(UsageError, match=f"content {item_id} \\('Hello'\\) is deleted"):
            get_item(s, item_id)
        with pytest.raises(UsageError, match="already deleted"):
            delete_item(s, item_id, actor=ACTOR)
        restore_item(s, item_id, actor=ACTOR, reason="not a duplicate")
    assert len(_credits(workspace)) == 4
    assert [a for a, _, _ in _log(workspace, item_id)][-2:] == ["deleted", "restored"]
    # authors are identities: merging an author into another member keeps the authorship
    with workspace.store.session() as s:
        merge_members(s, p["cy"], [p["ana"]], actor=ACTOR, reason="same person")
        assert author_ids(s, item_id) == [p["cy"], p["bo"]]
        assert s.get(Member, p["ana"]) is None


def test_content_credits_reach_the_metrics(workspace: Workspace, cli: CliRunner) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        item_id = _approved(s, p)
        publish(s, item_id, url="https://example.org/a", actor=ACTOR, at=datetime(2026, 3, 2))
    Snapshot(workspace.snapshot_dir).refresh(workspace.store)
    result = cli.invoke(
        app,
        [
            "--workspace",
            str(workspace.root),
            "metrics",
            "contribution-types",
            "--since",
            "2026-01-01",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stdout
    rows = json.loads(result.stdout)["rows"]
    counts = {r["contribution_type"]: (r["contributions"], r["members"]) for r in rows}
    assert counts["blog"] == (2, 2)
    assert counts["review"] == (2, 2)


# -- calendar ----------------------------------------------------------------------------------


def test_content_calendar_shows_weeks_channels_and_gaps(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        a = _approved(s, p, title="A")
        publish(s, a, url="https://example.org/a", actor=ACTOR, at=datetime(2026, 3, 3, 8))
        cross_post(s, a, channel="wechat", actor=ACTOR, at=datetime(2026, 3, 18))
        b = _approved(s, p, title="B")
        schedule(s, b, on=date(2026, 3, 24), channel="blog", actor=ACTOR)
        c = _approved(s, p, title="C")
        schedule(s, c, on=date(2026, 3, 10), channel="zhihu", actor=ACTOR)
        d = _approved(s, p, title="D")
        publish(s, d, url="https://example.org/d", actor=ACTOR, at=datetime(2026, 3, 4))
        delete_item(s, d, actor=ACTOR)
        cal = calendar(s, since=date(2026, 3, 4), until=date(2026, 3, 29), today=date(2026, 3, 20))
    assert cal.channels == ["blog", "wechat", "zhihu"]
    assert [w.isoformat() for w in cal.weeks] == [
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
    ]
    grid = {
        (c.label, c.channel): ([e.item_id for e in c.published], [e.item_id for e in c.scheduled])
        for c in cal.cells
    }
    assert grid[("2026-W10", "blog")] == ([a], [])  # d is deleted
    assert grid[("2026-W12", "wechat")] == ([a], [])
    assert grid[("2026-W13", "blog")] == ([], [b])
    assert grid[("2026-W11", "zhihu")] == ([], [c])
    assert cal.cell(date(2026, 3, 10), "zhihu").scheduled[0].overdue
    assert not cal.cell(date(2026, 3, 24), "blog").scheduled[0].overdue
    assert sorted((g.label, g.channel) for g in cal.gaps) == [
        ("2026-W10", "wechat"),
        ("2026-W10", "zhihu"),
        ("2026-W11", "blog"),
        ("2026-W11", "wechat"),
        ("2026-W12", "blog"),
        ("2026-W12", "zhihu"),
        ("2026-W13", "wechat"),
        ("2026-W13", "zhihu"),
    ]
    with ws.store.session() as s:
        only = calendar(s, since=date(2026, 3, 2), until=date(2026, 3, 15), channels=["WeChat"])
        assert [(c.label, c.gap) for c in only.cells] == [("2026-W10", True), ("2026-W11", True)]
        with pytest.raises(UsageError, match="--since 2026-03-15 is after --until 2026-03-02"):
            calendar(s, since=date(2026, 3, 15), until=date(2026, 3, 2))


# -- performance -------------------------------------------------------------------------------


def _published_pair(ws: Workspace, p: dict[str, int]) -> tuple[int, int]:
    with ws.store.session() as s:
        first = _approved(s, p, title="First")
        publish(s, first, url="https://example.org/first", actor=ACTOR, at=datetime(2026, 3, 2))
        cross_post(s, first, channel="wechat", url="https://mp.weixin.qq.com/s/hello", actor=ACTOR)
        second = _approved(s, p, title="Second", authors=[p["bo"]])
        publish(s, second, url="https://example.org/second", actor=ACTOR)
    return first, second


def test_content_performance_import_and_reimport(workspace: Workspace, tmp_path: Path) -> None:
    p = people(workspace)
    first, second = _published_pair(workspace, p)
    assert first == 1  # the fixture names item 1
    csv_path = DATA / "performance.csv"
    with workspace.store.session() as s:
        stats = import_performance(s, csv_path, actor=ACTOR)
        assert (stats.rows, stats.added, stats.updated, stats.unchanged) == (3, 3, 0, 0)
    with workspace.store.session() as s:
        again = import_performance(s, csv_path, actor=ACTOR)
        assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
        assert s.scalar(select(func.count()).select_from(ContentReading)) == 3
    changed = tmp_path / "more.csv"
    changed.write_text(
        "Channel,Date,Item,Views,Likes\n"
        "blog,2026-03-16,1,1600,61\n"
        'blog,2026-03-16,https://example.org/second,"1,234",7\n',
        encoding="utf-8",
    )
    with workspace.store.session() as s:
        stats = import_performance(s, changed, actor=ACTOR)
        assert (stats.added, stats.updated) == (1, 1)
        rows = perf.by_item(s)
        assert [(r["item_id"], r["views"], r["reads"], r["likes"]) for r in rows] == [
            (first, 1600 + 3400, 0, 61 + 120),
            (second, 1234, 0, 7),
        ]
        assert [(c["channel"], c["as_of"]) for c in rows[0]["channels"]] == [
            ("blog", date(2026, 3, 16)),
            ("wechat", date(2026, 3, 9)),
        ]
        authors = {r["display_name"]: (r["items"], r["views"]) for r in perf.by_author(s)}
        assert authors == {"Ana Author": (1, 5000), "Bo Writer": (2, 6234)}
        log = core.history(s, "content", first)
        assert log[-1].action == "performance-imported"
        assert log[-1].details == {"file": "more.csv", "added": 0, "updated": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "item,channel,date,views\n1,blog,2026-03-09,12x\n",
            "bad.csv line 2: column 'views': '12x' is not a whole number",
        ),
        (
            "item,channel,date,veiws\n1,blog,2026-03-09,1\n",
            "bad.csv line 1: column 'veiws': unknown column",
        ),
        ("channel,date,views\nblog,2026-03-09,1\n", "bad.csv line 1: no 'item' or 'url' column"),
        (
            "item,channel,date,views\n99,blog,2026-03-09,1\n",
            "bad.csv line 2: column 'item': no content item '99'",
        ),
        (
            "item,channel,date,views\n3,blog,2026-03-09,1\n",
            "bad.csv line 2: column 'item': content 3 is in_review: performance is recorded for "
            "published items",
        ),
        (
            "item,channel,date,views\n1,blog,09/03/2026,1\n",
            "bad.csv line 2: column 'date': '09/03/2026' is not a date",
        ),
        (
            "item,channel,date,views\n1,we chat,2026-03-09,1\n",
            "bad.csv line 2: column 'channel': 'we chat' is not a channel name",
        ),
        (
            "item,channel,date,views,likes\n1,blog,2026-03-09,,\n",
            "bad.csv line 2: no views, reads or likes",
        ),
        (
            "item,channel,date,views\n1,blog,2026-03-09,1\n\n1,Blog,2026-03-09,2\n",
            "bad.csv line 4: repeats line 2 (content 1, channel blog, date 2026-03-09)",
        ),
        (
            "item,channel,date,views\n1,blog,2026-03-09\n",
            "bad.csv line 2: 3 fields, the header has 4",
        ),
        (
            "item,url,channel,date,views\n1,https://example.org/second,blog,2026-03-09,1\n",
            "bad.csv line 2: column 'url': names content 2, the item column content 1",
        ),
        ("", "bad.csv: the file is empty"),
    ],
)
def test_content_performance_rejects_bad_rows(
    sqlite_workspace: Workspace, tmp_path: Path, text: str, message: str
) -> None:
    ws = sqlite_workspace
    p = people(ws)
    _published_pair(ws, p)
    with ws.store.session() as s:
        _in_review(s, p, ["cy", "fu"])  # content 3
    header = "item,channel,date,views\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as err, ws.store.session() as s:
        import_performance(s, bad, actor=ACTOR)
    assert message in err.value.message
    if text.startswith(header):  # a good row before the bad one is not written either
        bad.write_text(header + "1,blog,2026-03-01,5\n" + text[len(header) :], encoding="utf-8")
        with pytest.raises(UsageError), ws.store.session() as s:
            import_performance(s, bad, actor=ACTOR)
    with ws.store.session() as s:
        assert s.scalar(select(func.count()).select_from(ContentReading)) == 0


# -- blog import -------------------------------------------------------------------------------


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _blog(folder: Path) -> Path:
    _write(
        folder,
        "posts/hello.md",
        "---\ntitle: Hello KubeSphere\nauthor: Ana Author\ndate: 2026-03-02 10:00:00 +08:00\n"
        "tags: [intro]\ncategories: [news]\nslug: hello\n---\nBody\n",
    )
    _write(
        folder,
        "posts/toml/index.zh.md",
        '+++\ntitle = "你好"\nauthors = ["bo", "Carol New <carol@example.org>"]\n'
        'date = 2026-03-10\nkind = "story"\n+++\n正文\n',
    )
    _write(
        folder,
        "posts/draft.md",
        "---\ntitle: Work in progress\nauthor: {name: Ana Author}\ndraft: true\n---\n",
    )
    _write(folder, "posts/_index.md", "---\ntitle: Posts\n---\n")
    _write(folder, ".hidden/ignored.md", "not a post")
    return folder


def _counts(ws: Workspace) -> tuple[int, int, int]:
    with ws.store.session() as s:
        return (
            int(s.scalar(select(func.count()).select_from(ContentItem)) or 0),
            int(s.scalar(select(func.count()).select_from(Member)) or 0),
            int(s.scalar(select(func.count()).select_from(OpsLog)) or 0),
        )


def test_content_blog_import(workspace: Workspace, tmp_path: Path) -> None:
    p = people(workspace)
    folder = _blog(tmp_path / "blog")
    before = _counts(workspace)
    with pytest.raises(UsageError) as err, workspace.store.session() as s:
        import_blog(s, folder, actor=ACTOR)
    assert err.value.message == (
        "1 author matches no member: 'Carol New <carol@example.org>' "
        "(posts/toml/index.zh.md line 3)"
    )
    assert "--create-members" in (err.value.hint or "")
    assert _counts(workspace) == before
    with workspace.store.session() as s:
        stats = import_blog(
            s, folder, actor=ACTOR, create_members=True, base_url="https://example.org/blog"
        )
        assert (stats.posts, stats.created, stats.published, stats.drafts) == (3, 3, 2, 1)
        carol = stats.members_created[0]["member_id"]
        items = {i.import_key: i for i in list_items(s)}
        hello = items["blog:posts/hello.md"]
        assert (hello.state, hello.published_at, hello.url, hello.tags, hello.slug) == (
            "published",
            datetime(2026, 3, 2, 2),
            "https://example.org/blog/hello/",
            ["intro", "news"],
            "hello",
        )
        zh = items["blog:posts/toml/index.zh.md"]
        assert (zh.kind, zh.language, zh.state, zh.url) == (
            "story",
            "zh",
            "published",
            "https://example.org/blog/toml/",
        )
        assert author_ids(s, zh.id) == [p["bo"], carol]
        draft = items["blog:posts/draft.md"]
        assert (draft.state, draft.published_at) == ("drafting", None)
        assert s.get(Member, carol) is not None
    credits = _credits(workspace)
    assert sorted(c[:3] for c in credits) == sorted(
        [
            ("content:authored", p["ana"], "blog"),
            ("content:authored", p["bo"], "blog"),
            ("content:authored", carol, "blog"),
        ]
    )
    settled = _counts(workspace)
    # again: nothing new
    with workspace.store.session() as s:
        again = import_blog(s, folder, actor=ACTOR, base_url="https://example.org/blog")
        assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert _counts(workspace) == settled
    assert len(_credits(workspace)) == 3
    # the draft goes out, a title changes, the file moves (found by its slug)
    _write(
        folder,
        "posts/draft.md",
        "---\ntitle: Work done\nauthor: Ana Author\ndraft: false\ndate: 2026-03-20\n---\n",
    )
    (folder / "posts/hello.md").rename(folder / "posts/hello-moved.md")
    with workspace.store.session() as s:
        third = import_blog(s, folder, actor=ACTOR, base_url="https://example.org/blog")
        assert (third.created, third.updated, third.unchanged) == (0, 2, 1)
        done = get_item(s, draft.id)
        assert (done.title, done.state, done.published_at) == (
            "Work done",
            "published",
            datetime(2026, 3, 20),
        )
        assert get_item(s, hello.id).import_key == "blog:posts/hello-moved.md"
    assert [a for a, *_ in _log(workspace, draft.id)][-2:] == ["imported", "import-updated"]
    assert len(_credits(workspace)) == 4


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "bad.md",
            "---\ntitle: Bad\nauthor: [a, b\n---\n",
            "bad.md line 3: malformed YAML front matter",
        ),
        (
            "bad.md",
            "---\ntitle: Bad\n  author: x\n: y\n---\n",
            "bad.md line 3: malformed YAML front matter: mapping values are not allowed here",
        ),
        (
            "bad.md",
            '+++\ntitle = "Bad"\nauthor = x\n+++\n',
            "bad.md line 3: malformed TOML front matter: Invalid value",
        ),
        (
            "bad.md",
            "---\ntitle: Bad\nauthor: Ana Author\ndate: 2026-13-40\n---\n",
            "bad.md line 4: field 'date': '2026-13-40' is not a date",
        ),
        (
            "bad.md",
            "---\nauthor: Ana Author\ndate: 2026-03-01\n---\n",
            "bad.md line 1: field 'title': missing",
        ),
        (
            "bad.md",
            "---\ntitle: Bad\nauthor: Ana Author\n---\n",
            "bad.md line 1: field 'date': missing",
        ),
        (
            "bad.md",
            "---\ntitle: Bad\nauthor: Ana Author\ndraft: maybe\n---\n",
            "bad.md line 4: field 'draft': expected true or false",
        ),
        (
            "bad.md",
            "---\ntitle: Bad\nauthor: Ana Author\ndate: 2026-03-01\nlanguage: x!\n---\n",
            "bad.md line 5: field language: 'x!' is not a language code",
        ),
        ("bad.md", "title: no front matter\n", "bad.md line 1: no front matter"),
        (
            "bad.md",
            "---\ntitle: never closed\n",
            "bad.md line 1: the front matter opened here is never closed",
        ),
        ("bad.md", "---\n- a list\n---\n", "bad.md line 2: the front matter is a list"),
        (
            "bad.md",
            "---\ntitle: Dup\nauthor: Ana Author\ndate: 2026-03-01\nslug: hello\n---\n",
            "posts/hello.md line 7: slug 'hello' is also the slug of bad.md line 5",
        ),
        (
            "bad.md",
            "---\ntitle: Nobody\ndate: 2026-03-01\n---\n",
            "bad.md line 1: field 'author': missing",
        ),
    ],
)
def test_content_blog_import_refuses_malformed_posts(
    sqlite_workspace: Workspace, tmp_path: Path, name: str, text: str, message: str
) -> None:
    ws = sqlite_workspace
    people(ws)
    folder = _blog(tmp_path / "blog")
    _write(folder, name, text)
    before = _counts(ws)
    with pytest.raises(UsageError) as err, ws.store.session() as s:
        import_blog(s, folder, actor=ACTOR, create_members=True)
    assert message in err.value.message
    assert _counts(ws) == before  # nothing written


# -- the command line on a demo community ------------------------------------------------------


def test_content_cli_end_to_end_on_a_demo_workspace(
    sqlite_workspace: Workspace, cli: CliRunner, tmp_path: Path
) -> None:
    from commops.demo import generate

    ws = sqlite_workspace
    generate(ws, members=60, months=3, activities=3000, end=date(2026, 2, 28))
    with ws.store.session() as s:
        ids = list(
            s.execute(
                select(Member.id).where(Member.is_bot.is_(False)).order_by(Member.id).limit(5)
            ).scalars()
        )
    author, coauthor, community, staff, other = (str(i) for i in ids)

    def run(*args: str, ok: bool = True) -> Any:
        result = cli.invoke(app, ["--workspace", str(ws.root), *args])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.exception)
        return result

    def js(*args: str) -> Any:
        return json.loads(run("content", *args, "--json").stdout)

    def refused(*args: str) -> str:
        result = run("content", *args, ok=False)
        assert isinstance(result.exception, UsageError), result.exception
        return result.exception.message

    run("members", "staff", staff)
    item = js(
        "add",
        "Running the demo",
        "--author",
        author,
        "--author",
        coauthor,
        "--kind",
        "tutorial",
        "--channel",
        "blog",
        "--tag",
        "demo",
    )
    item_id = str(item["id"])
    assert item["state"] == "pitch"
    assert "was never approved: it is pitch" in refused(
        "publish", item_id, "--url", "https://example.org/x"
    )
    assert js("accept", item_id, "--reason", "wanted")["state"] == "accepted"
    assert js("start", item_id)["state"] == "drafting"
    submitted = js("submit", item_id, "--reviewer", staff, "--reviewer", community)
    assert submitted["round"] == 1
    assert "authors cannot review their own item" in refused(
        "review", item_id, "approve", "--as", author
    )
    assert "was not asked" in refused("review", item_id, "approve", "--as", other)
    first = js("review", item_id, "approve", "--as", staff)
    assert (first["state"], first["approvals"]) == ("in_review", 1)
    assert "already approved" in refused("review", item_id, "approve", "--as", staff)
    js("review", item_id, "comment", "--as", community, "-m", "one typo")
    assert js("review", item_id, "approve", "--as", community)["state"] == "approved"
    js("schedule", item_id, "--on", "2026-03-09", "--channel", "blog")
    published = js("publish", item_id, "--url", "https://example.org/demo", "--at", "2026-03-10")
    assert published["published_at"] == "2026-03-10T00:00:00Z"
    js(
        "cross-post",
        item_id,
        "--channel",
        "wechat",
        "--url",
        "https://mp.weixin.qq.com/s/d",
        "--at",
        "2026-03-12T08:00+08:00",
    )
    shown = js("show", item_id)
    assert [p["channel"] for p in shown["posts"]] == ["blog", "wechat"]
    assert shown["rounds"][0]["rule_met"] is True
    assert [r["verdict"] for r in shown["rounds"][0]["reviews"]] == [
        "approve",
        "comment",
        "approve",
    ]
    assert [e["action"] for e in js("log", item_id)][:3] == ["pitched", "accepted", "drafting"]

    cal = js("calendar", "--since", "2026-03-02", "--until", "2026-03-22")
    assert [(w["week"], w["channel"], w["gap"]) for w in cal["weeks"]] == [
        ("2026-W10", "blog", True),
        ("2026-W10", "wechat", True),
        ("2026-W11", "blog", False),
        ("2026-W11", "wechat", False),
        ("2026-W12", "blog", True),
        ("2026-W12", "wechat", True),
    ]
    assert (
        "gap" in run("content", "calendar", "--since", "2026-03-02", "--until", "2026-03-22").stdout
    )

    csv_path = tmp_path / "perf.csv"
    csv_path.write_text(
        "item,channel,date,views,reads,likes\n"
        f"{item_id},blog,2026-03-15,900,600,30\n"
        "https://mp.weixin.qq.com/s/d,wechat,2026-03-15,2100,1500,80\n",
        encoding="utf-8",
    )
    assert js("import-performance", str(csv_path))["added"] == 2
    assert js("import-performance", str(csv_path))["unchanged"] == 2
    by_author = {r["member_id"]: r["views"] for r in js("performance", "--by", "author")}
    assert by_author == {int(author): 3000, int(coauthor): 3000}

    blog = tmp_path / "blog"
    shutil.copytree(DATA / "blog", blog)
    message = refused("import-blog", str(blog))
    assert message == (
        "2 authors match no member: 'Lin Chen' (posts/2026/hello-bundle/index.zh.md line 3, "
        "posts/2026/release-notes.md line 3); 'Wei Zhang <wei.zhang@example.org>' "
        "(posts/2026/release-notes.md line 3, posts/2026/upgrade-guide.md line 3)"
    )
    imported = js("import-blog", str(blog), "--create-members")
    assert (imported["created"], imported["published"], imported["drafts"]) == (3, 2, 1)
    assert len(imported["members_created"]) == 2
    assert js("import-blog", str(blog))["unchanged"] == 3

    months = json.loads(
        run("metrics", "contribution-types", "--since", "2026-03-01", "--json").stdout
    )["rows"]
    types = {r["contribution_type"]: r["contributions"] for r in months}
    # staff are left out of metrics by default: the staff reviewer's approval is not counted
    assert types["tutorial"] == 2
    assert types["review"] == 2
    assert types["blog"] == 3  # the imported posts: Wei Zhang + Lin Chen, and Lin Chen's story

    deleted = js("delete", item_id, "--reason", "test")
    assert deleted["id"] == int(item_id)
    assert item_id not in [str(i["id"]) for i in js("list")]
    js("restore", item_id)
    assert js("list", "--state", "published", "--author", author)[0]["id"] == int(item_id)
