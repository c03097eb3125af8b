"""Events and volunteers: proposals and reviews, registrations (CSV and direct) matched to
members, check-in, the consent gate, volunteer shifts, the activities credited, attribution
of first contributions, and iCalendar output."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from commops.analytics.snapshot import Snapshot
from commops.cli.app import app
from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops import core
from commops.ops.events import (
    PROPOSAL_FLOW,
    TABLES,
    EventRegistration,
    Person,
    accept_proposal,
    add_event,
    add_organizer,
    add_session,
    add_shift,
    attendee_export,
    calendar_text,
    cancel_event,
    check_in,
    confirm_proposal,
    delete_event,
    event_impact,
    follow_up,
    get_event,
    hold_event,
    import_registrations,
    list_events,
    mark_attended,
    mark_no_show,
    organizer_ids,
    parse_calendar,
    parse_windows,
    register,
    reject_proposal,
    restore_event,
    review_proposal,
    set_consent,
    set_needed,
    sign_up,
    speaker_profile,
    submit_proposal,
    withdraw_proposal,
)
from commops.ops.events.ical import MAX_OCTETS, escape_text, fold
from commops.store.models import Activity, Base, Identity, Member, Source
from commops.workspace import Workspace

DATA = Path(__file__).parent / "data" / "events"
ACTOR = "test:lead"
START = datetime(2026, 3, 14, 9, 0)
END = datetime(2026, 3, 14, 17, 0)


def _member(
    s: Session,
    name: str,
    *,
    login: str | None = None,
    email: str | None = None,
    bot: bool = False,
) -> int:
    m = Member(display_name=name, is_bot=bot, created_at=utcnow())
    s.add(m)
    s.flush()
    if login:
        s.add(
            Identity(
                platform="github",
                kind="username",
                value=login,
                member_id=m.id,
                created_at=utcnow(),
            )
        )
    if email:
        s.add(
            Identity(platform="git", kind="email", value=email, member_id=m.id, created_at=utcnow())
        )
    s.flush()
    return m.id


def people(ws: Workspace) -> dict[str, int]:
    with ws.store.session() as s:
        return {
            "ana": _member(s, "Ana", login="ana-gh", email="ana@example.org"),
            "bo": _member(s, "Bo", login="bo-gh"),
            "cy": _member(s, "Cy", login="cy-gh"),
            "dee": _member(s, "Dee", login="dee-gh"),
        }


def _event(s: Session, organizers: list[int], **kw: Any) -> int:
    options: dict[str, Any] = {"city": "Berlin"}
    options.update(kw)
    event = add_event(
        s,
        title=options.pop("title", "Rust Meetup"),
        kind=options.pop("kind", "meetup"),
        starts_at=options.pop("starts_at", START),
        ends_at=options.pop("ends_at", END),
        actor=ACTOR,
        organizers=organizers,
        **options,
    )
    return event.id


def _kinds(ws: Workspace) -> list[tuple[str, str | None, int]]:
    with ws.store.session() as s:
        rows = s.execute(
            select(Activity.kind, Activity.contribution_type, Identity.member_id)
            .join(Identity, Identity.id == Activity.actor_identity_id)
            .join(Source, Source.id == Activity.source_id)
            .where(Source.name == core.OPS_SOURCE)
            .order_by(Activity.kind, Identity.member_id)
        ).all()
        return [(k, c, int(m)) for k, c, m in rows]


# -- schema ------------------------------------------------------------------------------------


def test_events_migration_creates_the_models_tables(workspace: Workspace) -> None:
    with workspace.store.engine.connect() as conn:
        assert set(TABLES) <= set(inspect(conn).get_table_names())
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, Base.metadata) if _mentions_ours(d)]
    assert diffs == []


def _mentions_ours(diff: Any) -> bool:
    """Whether an autogenerate diff (a tuple, or a list of them) names one of our tables."""
    text = str(diff)
    return any(f"'{t}'" in text or f"{t}." in text or f"({t}" in text for t in TABLES) or any(
        getattr(getattr(part, "table", None), "name", None) in TABLES
        or getattr(part, "name", None) in TABLES
        for part in (diff[0] if isinstance(diff, list) else diff)[1:]
    )


# -- events ------------------------------------------------------------------------------------


def test_event_is_planned_with_organisers_partners_and_agenda(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        eid = _event(s, [p["ana"]], partners=["Acme Corp", " Acme  Corp ", "Widgets"])
        event = get_event(s, eid)
        assert event.slug == "2026-03-14-rust-meetup"
        assert get_event(s, event.slug).id == eid
        assert event.partners == ["Acme Corp", "Widgets"]
        add_session(s, eid, title="Opening", starts_at=START, actor=ACTOR, speakers=["bo-gh"])
        with pytest.raises(UsageError, match="outside the event"):
            add_session(s, eid, title="Late", starts_at=END + timedelta(hours=1), actor=ACTOR)
        with pytest.raises(UsageError, match="exists already"):
            _event(s, [p["ana"]])
        with pytest.raises(UsageError, match="city: an event in person"):
            _event(s, [], title="Nowhere", city=None)
        with pytest.raises(UsageError, match="kind: 'party'"):
            _event(s, [], title="Party", kind="party")
        with pytest.raises(UsageError, match="organizer: no member or identity 'nobody'"):
            _event(s, ["nobody"], title="Other")  # type: ignore[list-item]
        online = _event(s, [], title="Webinar", kind="webinar", online=True, city=None)
        assert get_event(s, online).online
        cancel_event(s, online, actor=ACTOR, reason="speaker ill")
        with pytest.raises(UsageError, match="is cancelled: it cannot become held"):
            hold_event(s, online, actor=ACTOR)
        assert [e.action for e in core.history(s, "event", online)] == ["planned", "cancelled"]
        with pytest.raises(UsageError, match="is cancelled: it takes no registrations"):
            register(s, online, Person(name="A", email="a@example.org"), actor=ACTOR)
        with pytest.raises(UsageError, match="is cancelled"):
            add_organizer(s, online, p["bo"], actor=ACTOR)
        add_organizer(s, eid, "bo-gh", actor=ACTOR)
        with pytest.raises(UsageError, match="already organises"):
            add_organizer(s, eid, p["bo"], actor=ACTOR)
        assert organizer_ids(s, eid) == sorted([p["ana"], p["bo"]])
        delete_event(s, eid, actor=ACTOR, reason="duplicate")
        with pytest.raises(UsageError, match="is deleted"):
            get_event(s, eid)
        assert [e.id for e in list_events(s)] == [online]
        restore_event(s, eid, actor=ACTOR, reason="not a duplicate")
        assert [e.id for e in list_events(s)] == [eid, online]
        assert [e.id for e in list_events(s, state="cancelled")] == [online]


# -- proposals ---------------------------------------------------------------------------------


MOVES = {
    "accepted": accept_proposal,
    "rejected": reject_proposal,
    "confirmed": confirm_proposal,
    "withdrawn": withdraw_proposal,
}
PATHS = {
    "submitted": [],
    "accepted": ["accepted"],
    "rejected": ["rejected"],
    "confirmed": ["accepted", "confirmed"],
    "withdrawn": ["withdrawn"],
}


def test_every_proposal_transition_allowed_and_forbidden(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        eid = _event(s, [p["ana"]])
        for state, path in PATHS.items():
            for target, move in MOVES.items():
                proposal = submit_proposal(
                    s, eid, title=f"{state} to {target}", speakers=[p["bo"]], actor=ACTOR
                )
                for step in path:
                    MOVES[step](s, proposal.id, actor=ACTOR)
                assert proposal.state == state
                if target in PROPOSAL_FLOW[state]:
                    move(s, proposal.id, actor=ACTOR)
                    assert proposal.state == target
                    log = core.history(s, "event_proposal", proposal.id)
                    assert (log[-1].from_state, log[-1].to_state) == (state, target)
                else:
                    with pytest.raises(UsageError, match=f"is {state}: it cannot become {target}"):
                        move(s, proposal.id, actor=ACTOR)
                    assert proposal.state == state
    # the allowed moves are exactly pretalx's
    allowed = {(a, b) for a, bs in PROPOSAL_FLOW.items() for b in bs}
    assert allowed == {
        ("submitted", "accepted"),
        ("submitted", "rejected"),
        ("submitted", "withdrawn"),
        ("accepted", "confirmed"),
        ("accepted", "withdrawn"),
    }


def test_reviewer_rules_and_speaker_profile(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        first = _event(
            s,
            [p["ana"]],
            title="Spring",
            starts_at=datetime(2025, 3, 1, 9),
            ends_at=datetime(2025, 3, 1, 17),
        )
        second = _event(s, [p["ana"]])
        old = submit_proposal(s, first, title="Old talk", speakers=[p["bo"]], actor=ACTOR)
        review_proposal(s, old.id, reviewer=p["ana"], score=4, comment="clear", actor=ACTOR)
        accept_proposal(s, old.id, actor=ACTOR)
        confirm_proposal(s, old.id, actor=ACTOR)
        talk = submit_proposal(
            s, second, title="Async Rust", speakers=[p["bo"], p["cy"]], actor=ACTOR
        )
        with pytest.raises(UsageError, match="is a speaker of proposal"):
            review_proposal(s, talk.id, reviewer="cy-gh", score=5, actor=ACTOR)
        review_proposal(s, talk.id, reviewer=p["ana"], score=3, comment="too long", actor=ACTOR)
        review_proposal(s, talk.id, reviewer=p["dee"], score=5, actor=ACTOR)
        with pytest.raises(UsageError, match="has already reviewed proposal"):
            review_proposal(s, talk.id, reviewer="ana-gh", score=1, actor=ACTOR)
        for bad in (-1, 6):
            with pytest.raises(UsageError, match=f"score: {bad} is not between 0 and 5"):
                review_proposal(s, talk.id, reviewer=p["dee"], score=bad, actor=ACTOR)
        reject_proposal(s, talk.id, actor=ACTOR)
        with pytest.raises(UsageError, match="only a submitted proposal is reviewed"):
            review_proposal(s, old.id, reviewer=p["dee"], score=2, actor=ACTOR)
        profile = speaker_profile(s, "bo-gh")
        assert [t.title for t in profile.past_talks] == ["Old talk"]
        assert [(t.title, t.state, t.mean_score) for t in profile.proposals] == [
            ("Async Rust", "rejected", 4.0),
            ("Old talk", "confirmed", 4.0),
        ]
        assert [(r["score"], r["comment"]) for r in profile.proposals[0].reviews] == [
            (3, "too long"),
            (5, None),
        ]
        cancel_event(s, second, actor=ACTOR, reason=None)
        with pytest.raises(UsageError, match="call for proposals is closed"):
            submit_proposal(s, second, title="Late", speakers=[p["bo"]], actor=ACTOR)


# -- registrations -----------------------------------------------------------------------------


def _registrations(ws: Workspace) -> int:
    with ws.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(EventRegistration)) or 0)


def test_csv_import_matches_creates_and_is_idempotent(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        eid = _event(s, [p["ana"]])
        members_before = s.scalar(select(func.count()).select_from(Member))
        result = import_registrations(s, eid, DATA / "registrations.csv", actor=ACTOR)
        assert (result.rows, result.created, result.updated, result.unchanged) == (4, 4, 0, 0)
        assert len(result.new_members) == 2  # Cy New and Dee New
        assert s.scalar(select(func.count()).select_from(Member)) == (members_before or 0) + 2
        regs = {r.email: r for r in s.execute(select(EventRegistration)).scalars()}
        assert core.require_member(s, "ana@example.org") == p["ana"]  # matched by e-mail
        assert s.get(Identity, regs["ana@example.org"].identity_id).member_id == p["ana"]  # type: ignore[union-attr]
        # matched by login: bo.new@ is unknown, bo-gh is Bo
        assert s.get(Identity, regs["bo.new@example.org"].identity_id).member_id == p["bo"]  # type: ignore[union-attr]
        # new people are members with an e-mail identity
        cy = core.require_member(s, "cy@example.org")
        assert cy in result.new_members
        ident = s.execute(select(Identity).where(Identity.value == "cy@example.org")).scalar_one()
        assert (ident.platform, ident.kind) == ("email", "email")
        assert regs["ana@example.org"].consent
        assert not regs["dee@example.org"].consent
        assert regs["cy@example.org"].organisation == "Widgets Ltd"
        again = import_registrations(s, eid, DATA / "registrations.csv", actor=ACTOR)
        assert (again.created, again.updated, again.unchanged, again.new_members) == (0, 0, 4, [])
    assert _registrations(workspace) == 4


INVITE = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Example//Invite//EN\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:day-1@example.org\r\n"
    "SUMMARY:Community Day\r\n"
    'ATTENDEE;CN="Ana, the organiser";PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:ana@example.org\r\n'
    "ATTENDEE;CN=Cy New;PARTSTAT=NEEDS-ACTION:mailto:CY@Example.org\r\n"
    "ATTENDEE;CN=Zed Declined;PARTSTAT=DECLINED:mailto:zed@example.org\r\n"
    "ATTENDEE;CN=Dee Long-Name-That-Is-Folded-Across-Two-Physical-Lines-Of-The-Fi\r\n"
    " le;PARTSTAT=TENTATIVE:mailto:dee@example.org\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:day-2@example.org\r\n"
    "ATTENDEE;CN=Cy New:mailto:cy@example.org\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def test_ical_import_registers_the_attendees(workspace: Workspace, tmp_path: Path) -> None:
    """An .ics file's ATTENDEEs are registrations: CN as the name (quoted, folded), the
    mailto: address matched to members, declined ones left out, one registration per person,
    no consent; importing again changes nothing."""
    p = people(workspace)
    invite = tmp_path / "invite.ics"
    invite.write_text(INVITE, encoding="utf-8")
    with workspace.store.session() as s:
        eid = _event(s, [p["ana"]])
        result = import_registrations(s, eid, invite, actor=ACTOR)
        assert (result.rows, result.created) == (3, 3)
        regs = {r.email: r for r in s.execute(select(EventRegistration)).scalars()}
        assert sorted(regs) == ["ana@example.org", "cy@example.org", "dee@example.org"]
        assert s.get(Identity, regs["ana@example.org"].identity_id).member_id == p["ana"]  # type: ignore[union-attr]
        assert not any(r.consent for r in regs.values())
        assert len(result.new_members) == 2
        again = import_registrations(s, eid, invite, actor=ACTOR)
        assert (again.created, again.unchanged) == (0, 3)
    bad = tmp_path / "bad.ics"
    bad.write_text(INVITE.replace("mailto:dee@example.org", "tel:+861234"), encoding="utf-8")
    with (
        pytest.raises(
            UsageError, match=r"bad.ics line 10: ATTENDEE: 'tel:\+861234' is not a mailto"
        ),
        workspace.store.session() as s,
    ):
        import_registrations(s, eid, bad, actor=ACTOR)
    not_ical = tmp_path / "notes.ics"
    not_ical.write_text("hello\n", encoding="utf-8")
    with (
        pytest.raises(UsageError, match=r"notes\.ics line 1: not an iCalendar file"),
        workspace.store.session() as s,
    ):
        import_registrations(s, eid, not_ical, actor=ACTOR)
    assert _registrations(workspace) == 3


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_email.csv", "bad_email.csv line 3: column 'email': 'not-an-email' is not an e-mail"),
        ("bad_consent.csv", "bad_consent.csv line 3: column 'consent': consent 'perhaps'"),
        ("bad_header.csv", "bad_header.csv line 1: unknown column 'phone'"),
        (
            "duplicate.csv",
            "duplicate.csv line 4: column 'email': a@example.org is already on line 2",
        ),
    ],
)
def test_csv_import_errors_name_line_and_column(
    sqlite_workspace: Workspace, name: str, message: str
) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        eid = _event(s, [p["ana"]])
    with pytest.raises(UsageError) as err, ws.store.session() as s:
        import_registrations(s, eid, DATA / name, actor=ACTOR)
    assert message in err.value.message
    assert _registrations(ws) == 0  # nothing written
    with ws.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 4


def test_check_in_consent_gate_and_follow_up(workspace: Workspace) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        eid = _event(s, [p["ana"]])
        import_registrations(s, eid, DATA / "registrations.csv", actor=ACTOR)
        register(s, eid, Person(name="Eve", email="eve@example.org", consent=False), actor=ACTOR)
        with pytest.raises(UsageError, match=r"no registration 'zed@example\.org' for event"):
            check_in(s, eid, "zed@example.org", actor=ACTOR)
        with pytest.raises(UsageError, match="no registration 'dee-gh'"):
            check_in(s, eid, "dee-gh", actor=ACTOR)  # a member, but not registered
        check_in(s, eid, "ana-gh", actor=ACTOR)  # by login of a member
        check_in(s, eid, "CY@example.org", actor=ACTOR)
        check_in(s, eid, "dee@example.org", actor=ACTOR)
        with pytest.raises(UsageError, match="checked in already"):
            check_in(s, eid, "dee@example.org", actor=ACTOR)
        internal = attendee_export(s, eid, for_partner=False)
        assert [r["email"] for r in internal.rows] == [
            "ana@example.org",
            "cy@example.org",
            "dee@example.org",
        ]
        assert "consent" in internal.columns
        with pytest.raises(
            UsageError, match=r"1 person has not consented .*Dee New <dee@example.org>"
        ):
            attendee_export(s, eid, for_partner=True)
        skipped = attendee_export(s, eid, for_partner=True, skip_without_consent=True)
        assert [r["email"] for r in skipped.rows] == ["ana@example.org", "cy@example.org"]
        assert skipped.left_out == ["Dee New <dee@example.org>"]
        assert "consent" not in skipped.columns
        everyone = attendee_export(
            s, eid, for_partner=True, skip_without_consent=True, registrants=True
        )
        assert len(everyone.left_out) == 3  # Bo, Dee and Eve
        set_consent(s, eid, "dee@example.org", True, actor=ACTOR)
        assert len(attendee_export(s, eid, for_partner=True).rows) == 3
        fu = {f.email: f for f in follow_up(s, eid)}
        assert set(fu) == {"ana@example.org", "cy@example.org", "dee@example.org"}
        assert fu["cy@example.org"].first_timer
        assert fu["ana@example.org"].first_timer
        core.emit(
            s,
            kind="test:did",
            member_id=p["ana"],
            key="before",
            occurred_at=START - timedelta(days=3),
        )
        assert not {f.email: f for f in follow_up(s, eid)}["ana@example.org"].first_timer


# -- volunteers and credits --------------------------------------------------------------------


def test_volunteer_shifts_and_credits_reach_the_metrics(
    workspace: Workspace, cli: CliRunner
) -> None:
    p = people(workspace)
    with workspace.store.session() as s:
        eid = _event(s, [p["ana"]])
        shift = add_shift(
            s,
            eid,
            role="Registration desk",
            starts_at=START,
            ends_at=START + timedelta(hours=2),
            needed=1,
            actor=ACTOR,
        )
        sign_up(s, shift.id, "bo-gh", actor=ACTOR)
        with pytest.raises(UsageError, match="already signed up"):
            sign_up(s, shift.id, p["bo"], actor=ACTOR)
        with pytest.raises(UsageError, match=r"is full: 1 of 1 signed up"):
            sign_up(s, shift.id, p["cy"], actor=ACTOR)
        with pytest.raises(UsageError, match="cannot need fewer"):
            set_needed(s, shift.id, 0, actor=ACTOR)
        set_needed(s, shift.id, 2, actor=ACTOR)
        sign_up(s, shift.id, p["cy"], actor=ACTOR)
        with pytest.raises(UsageError, match="not signed up for shift"):
            mark_attended(s, shift.id, p["dee"], actor=ACTOR)
        mark_attended(s, shift.id, p["bo"], actor=ACTOR)
        mark_no_show(s, shift.id, p["cy"], actor=ACTOR)
        with pytest.raises(UsageError, match="is no_show: it cannot become attended"):
            mark_attended(s, shift.id, p["cy"], actor=ACTOR)
        talk = submit_proposal(s, eid, title="Talk", speakers=[p["dee"]], actor=ACTOR)
        accept_proposal(s, talk.id, actor=ACTOR)
        confirm_proposal(s, talk.id, actor=ACTOR)
        late = submit_proposal(s, eid, title="Late talk", speakers=[p["cy"]], actor=ACTOR)
        accept_proposal(s, late.id, actor=ACTOR)
        register(s, eid, Person(name="Cy", email="cy@x.org", login="cy-gh"), actor=ACTOR)
        register(s, eid, Person(name="Bo", email="bo@x.org", login="bo-gh"), actor=ACTOR)
        check_in(s, eid, "cy@x.org", actor=ACTOR)
    # only the volunteer is credited before the event is held
    assert _kinds(workspace) == [("event:volunteered", "eventOrganizing", p["bo"])]
    with workspace.store.session() as s:
        hold_event(s, eid, actor=ACTOR)
        check_in(s, eid, "bo@x.org", actor=ACTOR)  # after the event is held: credited at once
        confirm_proposal(s, late.id, actor=ACTOR)  # ditto
        from commops.ops.events import credit_event

        assert credit_event(s, get_event(s, eid)) == 5  # idempotent: nothing new
        with pytest.raises(UsageError, match="sign-ups are closed"):
            sign_up(s, shift.id, p["ana"], actor=ACTOR)
    assert _kinds(workspace) == [
        ("event:attended", None, p["bo"]),
        ("event:attended", None, p["cy"]),
        ("event:organized", "eventOrganizing", p["ana"]),
        ("event:spoke", "talk", p["cy"]),
        ("event:spoke", "talk", p["dee"]),
        ("event:volunteered", "eventOrganizing", p["bo"]),
    ]
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
    assert counts["eventOrganizing"] == (2, 2)
    assert counts["talk"] == (2, 2)


# -- attribution -------------------------------------------------------------------------------


def _act(s: Session, member: int, when: datetime, kind: str, ctype: str | None) -> None:
    core.emit(
        s,
        kind=kind,
        member_id=member,
        key=f"{member}:{when.isoformat()}:{kind}",
        occurred_at=when,
        contribution_type=ctype,
    )


def test_attribution_on_a_hand_built_history(workspace: Workspace) -> None:
    d = START  # event day 2026-03-14
    with workspace.store.session() as s:
        org = _member(s, "Organiser")
        eid = _event(s, [org])
        m: dict[str, int] = {}
        # registrants (all checked in except r_noshow)
        for name in ("a1", "a2", "a3", "a4", "a5", "r_noshow", "r_bot"):
            m[name] = _member(s, name, email=f"{name}@ex.org", bot=name == "r_bot")
            register(s, eid, Person(name=name, email=f"{name}@ex.org"), actor=ACTOR)
            if name != "r_noshow":
                check_in(s, eid, f"{name}@ex.org", actor=ACTOR)
        # a1: first contribution (code) 10 days after -> in 30, 90, 180 (any and code)
        _act(s, m["a1"], d + timedelta(days=10), "git:commit", "code")
        # a2: first contribution (doc) 60 days after, first code 150 days after
        _act(s, m["a2"], d + timedelta(days=60), "test:doc", "doc")
        _act(s, m["a2"], d + timedelta(days=150), "github:pr_merged", None)
        # a3: contributed before the event: already a contributor, never counted
        _act(s, m["a3"], d - timedelta(days=5), "git:commit", "code")
        _act(s, m["a3"], d + timedelta(days=5), "git:commit", "code")
        # a4: only on the event day itself: not after the event, so already a contributor
        _act(s, m["a4"], d + timedelta(hours=3), "test:doc", "doc")
        # a5: an activity without a contribution type only
        _act(s, m["a5"], d + timedelta(days=3), "test:viewed", None)
        # r_noshow: first contribution exactly 30 days after (window end is inclusive)
        _act(s, m["r_noshow"], datetime(2026, 4, 13, 23, 0), "test:doc", "doc")
        _act(s, m["r_bot"], d + timedelta(days=2), "git:commit", "code")
        # baseline: active in [D-90, D) and not registered
        for name in ("b1", "b2", "b3", "b4"):
            m[name] = _member(s, name)
        _act(s, m["b1"], d - timedelta(days=10), "test:viewed", None)
        _act(s, m["b1"], d + timedelta(days=100), "git:commit", "code")  # in 180 only
        _act(s, m["b2"], d - timedelta(days=89), "test:viewed", None)  # baseline, never contributes
        _act(s, m["b3"], d - timedelta(days=91), "test:viewed", None)  # too early: not baseline
        _act(s, m["b3"], d + timedelta(days=1), "git:commit", "code")
        _act(s, m["b4"], d - timedelta(days=1), "test:doc", "doc")  # already a contributor
        impact = event_impact(s, eid, [30, 90, 180])
    got = {
        c.name: (c.size, c.already_contributors, [(w.days, w.any, w.code) for w in c.windows])
        for c in impact.cohorts
    }
    assert got == {
        "registrants": (6, 2, [(30, 2, 1), (90, 3, 1), (180, 3, 2)]),
        "attendees": (5, 2, [(30, 1, 1), (90, 2, 1), (180, 2, 2)]),
        "baseline": (3, 1, [(30, 0, 0), (90, 0, 0), (180, 1, 1)]),
    }
    registrants = impact.cohorts[0]
    assert registrants.windows[0].any_members == sorted([m["a1"], m["r_noshow"]])
    assert registrants.windows[0].any_rate == round(2 / 6, 4)
    assert impact.event_day == "2026-03-14"
    assert parse_windows("90, 30,30") == [30, 90]
    with pytest.raises(UsageError, match="windows: 'x'"):
        parse_windows("30,x")


# -- iCalendar ---------------------------------------------------------------------------------


def test_ical_escapes_folds_and_parses_back(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    tricky = "Rust, Go; and C\\C++\nSecond line — 日本語のイベント説明" + " é" * 60
    with ws.store.session() as s:
        eid = _event(
            s,
            [],
            title="Meetup; with, commas " + "x" * 80,
            venue="Hall 3, Floor 2",
            description=tricky,
            url="https://example.org/events/" + "a" * 90,
        )
        online = _event(
            s,
            [],
            title="Webinar",
            kind="webinar",
            online=True,
            city=None,
            starts_at=datetime(2026, 4, 1, 8),
            ends_at=datetime(2026, 4, 1, 9),
        )
        text = calendar_text(
            [get_event(s, eid), get_event(s, online)],
            name="Community events",
            stamp=datetime(2026, 3, 1, 12),
        )
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= MAX_OCTETS
        line.encode("utf-8").decode("utf-8")  # never split inside a character
    events = parse_calendar(text)
    assert len(events) == 2
    first = events[0]
    assert first["SUMMARY"] == "Meetup; with, commas " + "x" * 80
    assert first["DESCRIPTION"] == tricky
    assert first["LOCATION"] == "Hall 3, Floor 2, Berlin"
    assert first["URL"] == "https://example.org/events/" + "a" * 90
    assert (first["DTSTART"], first["DTEND"]) == ("20260314T090000Z", "20260314T170000Z")
    assert first["UID"] == f"event-{eid}@commops"
    assert first["DTSTAMP"] == "20260301T120000Z"
    assert events[1]["LOCATION"] == "Online"
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    folded = fold("X" * 200)
    assert [len(p) for p in folded.split("\r\n")] == [75, 75, 52]  # 75 + (1 + 74) + (1 + 51)


# -- the command line on a demo community ------------------------------------------------------


def test_events_cli_end_to_end_on_a_demo_workspace(
    sqlite_workspace: Workspace, cli: CliRunner, tmp_path: Path
) -> None:
    from commops.demo import generate

    ws = sqlite_workspace
    generate(ws, members=300, months=12)
    with ws.store.session() as s:
        known = list(
            s.execute(
                select(Identity.value, Identity.member_id)
                .join(Member, Member.id == Identity.member_id)
                .where(Identity.kind == "email", Member.is_bot.is_(False))
                .order_by(Identity.member_id, Identity.id)
            ).all()
        )
    by_member: dict[int, str] = {}
    for value, mid in known:
        by_member.setdefault(int(mid), value)
    members = sorted(by_member)[:30]
    org, speaker, reviewer, volunteer = (str(m) for m in members[:4])

    def run(*args: str, ok: bool = True) -> Any:
        result = cli.invoke(app, ["--workspace", str(ws.root), *args])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.exception)
        return result

    def js(*args: str) -> Any:
        return json.loads(run("events", *args, "--json").stdout)

    def refused(*args: str) -> str:
        result = run("events", *args, ok=False)
        assert isinstance(result.exception, UsageError), result.exception
        return result.exception.message

    event = js(
        "add",
        "Community Day",
        "--start",
        "2026-05-16T09:00",
        "--end",
        "2026-05-16T17:00",
        "--city",
        "Shanghai",
        "--venue",
        "Hall A",
        "--organizer",
        org,
        "--partner",
        "Acme Cloud",
        "--kind",
        "conference",
    )
    slug = event["slug"]
    assert slug == "2026-05-16-community-day"
    proposal = js("propose", slug, "Our first year", "--speaker", speaker)
    assert "speakers cannot review" in refused(
        "review", str(proposal["id"]), "--score", "5", "--as", speaker
    )
    js("review", str(proposal["id"]), "--score", "4", "--as", reviewer, "-m", "great")
    assert "is submitted: it cannot become confirmed" in refused("confirm", str(proposal["id"]))
    js("accept", str(proposal["id"]))
    assert js("confirm", str(proposal["id"]))["state"] == "confirmed"
    # registrations: 20 known people and 2 new ones
    lines = ["name,email,organisation,consent"]
    for i, mid in enumerate(members[4:24]):
        lines.append(f"Person {i},{by_member[mid].upper()},Org {i % 3},{'yes' if i % 2 else 'no'}")
    lines += ["New One,new.one@example.net,,yes", "New Two,new.two@example.net,,no"]
    csv_file = tmp_path / "regs.csv"
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = js("import-registrations", slug, str(csv_file))
    assert (result["created"], len(result["new_members"])) == (22, 2)
    assert js("import-registrations", slug, str(csv_file))["unchanged"] == 22
    assert "no registration 'nobody@example.net'" in refused("check-in", slug, "nobody@example.net")
    for i in range(0, 10):
        js("check-in", slug, by_member[members[4 + i]])
    assert (
        js("check-in", slug, "new.one@example.net", "--at", "2026-05-16T09:30+08:00")[
            "checked_in_at"
        ]
        == "2026-05-16 01:30:00"
    )
    shift = js(
        "shift",
        slug,
        "Registration desk",
        "--start",
        "2026-05-16T08:00",
        "--end",
        "2026-05-16T10:00",
        "--needed",
        "1",
    )
    js("sign-up", str(shift["id"]), volunteer)
    assert "is full" in refused("sign-up", str(shift["id"]), reviewer)
    js("attended", str(shift["id"]), volunteer)
    js("hold", slug)
    out = tmp_path / "partner.csv"
    assert "not consented" in refused("export-attendees", slug, "-o", str(out), "--for-partner")
    exported = js(
        "export-attendees", slug, "-o", str(out), "--for-partner", "--skip-without-consent"
    )
    assert exported["rows"] == 6  # i = 1, 3, 5, 7, 9 and New One
    assert len(exported["left_out"]) == 5
    follow = js("follow-up", slug)
    assert len(follow) == 11
    assert [f["email"] for f in follow if f["first_timer"]] == ["new.one@example.net"]
    impact = js("impact", slug, "--windows", "30,90")
    sizes = {c["name"]: c["size"] for c in impact["cohorts"]}
    assert (sizes["registrants"], sizes["attendees"]) == (22, 11)
    assert sizes["baseline"] > 0
    run("events", "impact", slug)
    talks = js("speaker", speaker)
    assert [t["title"] for t in talks["past_talks"]] == ["Our first year"]
    assert talks["past_talks"][0]["reviews"][0]["comment"] == "great"
    result = run(
        "metrics", "contribution-types", "--since", "2026-05-01", "--until", "2026-05-31", "--json"
    )
    counts = {r["contribution_type"]: r["contributions"] for r in json.loads(result.stdout)["rows"]}
    assert counts["talk"] == 1
    assert counts["eventOrganizing"] == 2  # the organiser and the volunteer
    ics = tmp_path / "day.ics"
    run("events", "ical", slug, "-o", str(ics))
    parsed = parse_calendar(ics.read_text(encoding="utf-8"))
    assert parsed[0]["LOCATION"] == "Hall A, Shanghai"
    js(
        "add",
        "Winter Meetup",
        "--start",
        "2099-01-10T18:00",
        "--end",
        "2099-01-10T20:00",
        "--online",
        "--kind",
        "meetup",
    )
    feed = tmp_path / "feed.ics"
    run("events", "feed", "-o", str(feed))
    assert [e["SUMMARY"] for e in parse_calendar(feed.read_text(encoding="utf-8"))] == [
        "Winter Meetup"
    ]
    run("events", "show", slug)
    run("events", "list")
    run("events", "proposals", slug)
    run("events", "shifts", slug)
    run("events", "registrations", slug)
