"""The partner ecosystem: partners linked to organizations, contacts, every collaboration
transition allowed and refused, links to content items and events, outcomes, touches, the
credit a completed collaboration gives its owner, soft delete, partner health on a hand-built
history with exact numbers, and the ``commops partners`` commands on a demo community."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from commops.cli.app import app
from commops.clock import utcnow
from commops.errors import UsageError
from commops.identity.audit import merge_members
from commops.ops import core
from commops.ops.content import add_item
from commops.ops.ecosystem import (
    COLLABORATED,
    FLOW,
    STATES,
    TABLES,
    Collaboration,
    Partner,
    PartnerContact,
    Touch,
    add_collaboration,
    add_contact,
    add_link,
    add_outcome,
    add_partner,
    cancel_collaboration,
    complete_collaboration,
    contacts,
    delete_collaboration,
    delete_partner,
    edit_partner,
    get_partner,
    health,
    list_partners,
    owner_id,
    partner_log,
    pause_collaboration,
    remove_contact,
    restore_collaboration,
    restore_partner,
    resume_collaboration,
    set_status,
    start_collaboration,
    touch,
)
from commops.store.models import Activity, Base, Enrollment, Identity, Member, OpsLog, Organization
from commops.workspace import Workspace

ACTOR = "cli:partners"


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
    with ws.store.session() as s:
        return {
            "ana": _member(s, "Ana Liaison", "ana"),
            "bo": _member(s, "Bo Builder", "bo"),
            "cy": _member(s, "Cy Staff", "cy", staff=True),
            "di": _member(s, "Di Dormant", "di"),
            "bot": _member(s, "acme-bot", "acme-bot", bot=True),
        }


def _partner(s: Session, name: str = "Acme Cloud", **kw: Any) -> int:
    return add_partner(s, name=name, kind=kw.pop("kind", "company"), actor=ACTOR, **kw).id


def _collab(s: Session, partner_id: int, owner: int | None = None, **kw: Any) -> int:
    return add_collaboration(
        s,
        partner_id,
        kind=kw.pop("kind", "product-integration"),
        title=kw.pop("title", "Acme operator"),
        owner=owner,
        actor=ACTOR,
        **kw,
    ).id


def _counts(ws: Workspace) -> tuple[int, ...]:
    with ws.store.session() as s:
        return tuple(
            s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Partner, PartnerContact, Collaboration, Touch, OpsLog, Activity)
        )


def test_ecosystem_migration_creates_the_models_tables(workspace: Workspace) -> None:
    with workspace.store.engine.connect() as conn:
        assert set(TABLES) <= set(inspect(conn).get_table_names())
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, Base.metadata) if _table_of(d) in TABLES]
    assert diffs == []


def _table_of(diff: Any) -> str | None:
    """The table an autogenerate diff is about (a diff is a tuple, or a list of them)."""
    first = diff[0] if isinstance(diff, list) else diff
    for part in first[1:]:
        name = getattr(part, "name", None) if hasattr(part, "columns") else None
        table = getattr(part, "table", None)
        if name is not None and hasattr(part, "c"):
            return str(name)
        if table is not None and hasattr(table, "name"):
            return str(table.name)
        if isinstance(part, str) and part in TABLES:
            return part
    return None


# -- partners ---------------------------------------------------------------------------------


def test_ecosystem_partner_links_an_organization_created_when_missing(
    workspace: Workspace,
) -> None:
    with workspace.store.session() as s:
        s.add(Organization(name="Globex", kind="company", domains=[], created_at=utcnow()))
        s.flush()
        acme = add_partner(s, name="Acme Cloud", kind="vendor", actor=ACTOR)
        uni = add_partner(
            s,
            name="Open Training Lab",
            kind="training institution",
            actor=ACTOR,
            organization="Lab Org",
            website="https://lab.example.org",
        )
        globex = add_partner(
            s, name="Globex Partner", kind="Company", organization="globex", actor=ACTOR
        )
        orgs = {o.id: (o.name, o.kind) for o in s.execute(select(Organization)).scalars()}
        assert orgs[acme.organization_id] == ("Acme Cloud", "company")
        assert orgs[uni.organization_id] == ("Lab Org", "other")
        assert (uni.kind, uni.website) == ("training-institution", "https://lab.example.org")
        assert orgs[globex.organization_id] == ("Globex", "company")
        assert [p.name for p in list_partners(s, kind="company")] == ["Globex Partner"]
        assert [e.action for e in core.history(s, "partner", acme.id)] == ["added"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"name": "acme cloud", "kind": "company"}, "name: partner 1 is already called"),
        ({"name": "  ", "kind": "company"}, "name: the name is empty"),
        ({"name": "X", "kind": "startup"}, "kind: 'startup' is not one of"),
        ({"name": "X", "kind": "vendor", "website": "acme"}, "website: 'acme' is not an http"),
    ],
)
def test_ecosystem_bad_partner_refused_and_nothing_written(
    sqlite_workspace: Workspace, kw: dict[str, str], message: str
) -> None:
    ws = sqlite_workspace
    with ws.store.session() as s:
        _partner(s)
    before = _counts(ws)
    with pytest.raises(UsageError) as err, ws.store.session() as s:
        add_partner(s, actor=ACTOR, **kw)
    assert message in err.value.message
    assert _counts(ws) == before


def test_ecosystem_edit_delete_restore_are_audited(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    with ws.store.session() as s:
        pid = _partner(s)
        s.add(Organization(name="Acme Holding", kind="company", domains=[], created_at=utcnow()))
        s.flush()
        edit_partner(s, pid, actor=ACTOR, kind="foundation", organization="acme holding")
        with pytest.raises(UsageError, match="nothing to change"):
            edit_partner(s, pid, actor=ACTOR, kind="foundation")
        with pytest.raises(UsageError, match="no organization 'Nowhere'"):
            edit_partner(s, pid, actor=ACTOR, organization="Nowhere")
        delete_partner(s, pid, actor=ACTOR, reason="ended")
        with pytest.raises(UsageError, match="is deleted"):
            get_partner(s, "Acme Cloud")
        assert list_partners(s) == []
        with pytest.raises(UsageError, match="already deleted"):
            delete_partner(s, pid, actor=ACTOR)
        restore_partner(s, pid, actor=ACTOR)
        partner = get_partner(s, "acme cloud")
        org = s.get(Organization, partner.organization_id)
        assert (partner.kind, org.name if org else None) == ("foundation", "Acme Holding")
        log = core.history(s, "partner", pid)
        assert [e.action for e in log] == ["added", "edited", "deleted", "restored"]
        assert log[1].details["before"]["kind"] == "company"
        assert log[2].reason == "ended"


# -- contacts ---------------------------------------------------------------------------------


def test_ecosystem_contacts_with_roles_follow_merges(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        pid = _partner(s)
        add_contact(s, pid, p["ana"], role="maintainer liaison", actor=ACTOR)
        add_contact(s, pid, "bo", actor=ACTOR)
        with pytest.raises(UsageError, match="already a contact"):
            add_contact(s, pid, "bo", actor=ACTOR)
        add_contact(s, pid, "bo", role="marketing", actor=ACTOR)  # a new role
        with pytest.raises(UsageError, match="member: "):
            add_contact(s, pid, "nobody-at-all", actor=ACTOR)
        assert contacts(s, pid) == [(p["ana"], "maintainer liaison"), (p["bo"], "marketing")]
        merge_members(s, p["di"], [p["ana"]], actor=ACTOR)
        assert contacts(s, pid) == [(p["di"], "maintainer liaison"), (p["bo"], "marketing")]
        remove_contact(s, pid, p["bo"], actor=ACTOR, reason="left")
        with pytest.raises(UsageError, match="is not a contact"):
            remove_contact(s, pid, p["bo"], actor=ACTOR)
        assert contacts(s, pid) == [(p["di"], "maintainer liaison")]
        actions = [e.action for e in core.history(s, "partner", pid)]
        assert actions == [
            "added",
            "contact_added",
            "contact_added",
            "contact_role",
            "contact_removed",
        ]


# -- collaborations: the state machine --------------------------------------------------------

PATHS: dict[str, list[str]] = {
    "proposed": [],
    "active": ["active"],
    "paused": ["active", "paused"],
    "completed": ["active", "completed"],
    "cancelled": ["cancelled"],
}


@pytest.mark.parametrize("start", STATES)
@pytest.mark.parametrize("target", STATES)
def test_ecosystem_every_transition_allowed_or_refused(
    sqlite_workspace: Workspace, start: str, target: str
) -> None:
    ws = sqlite_workspace
    with ws.store.session() as s:
        cid = _collab(s, _partner(s))
        for step in PATHS[start]:
            set_status(s, cid, step, actor=ACTOR)
    if target in FLOW[start]:
        with ws.store.session() as s:
            assert set_status(s, cid, target, actor=ACTOR).status == target
            last = core.history(s, "collaboration", cid)[-1]
            assert (last.from_state, last.to_state) == (start, target)
    else:
        before = _counts(ws)
        with pytest.raises(UsageError) as err, ws.store.session() as s:
            set_status(s, cid, target, actor=ACTOR)
        assert f"collaboration {cid} is {start}: it cannot become {target}" in err.value.message
        assert _counts(ws) == before


def test_ecosystem_start_and_resume_leave_only_their_own_state(
    sqlite_workspace: Workspace,
) -> None:
    ws = sqlite_workspace
    with ws.store.session() as s:
        pid = _partner(s)
        proposed = _collab(s, pid)
        with pytest.raises(UsageError, match="resumed is a move from paused"):
            resume_collaboration(s, proposed, actor=ACTOR)
        start_collaboration(s, proposed, actor=ACTOR, at=datetime(2026, 3, 1))
        pause_collaboration(s, proposed, actor=ACTOR)
        with pytest.raises(UsageError, match="started is a move from proposed"):
            start_collaboration(s, proposed, actor=ACTOR)
        collab = resume_collaboration(s, proposed, actor=ACTOR, reason="budget back")
        assert (collab.status, collab.start_date) == ("active", date(2026, 3, 1))
        with pytest.raises(UsageError, match="unknown state 'done'"):
            set_status(s, proposed, "done", actor=ACTOR)
        actions = [e.action for e in core.history(s, "collaboration", proposed)]
        assert actions == ["proposed", "started", "paused", "resumed"]


def test_ecosystem_completion_credits_the_owner_once(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        pid = _partner(s)
        cid = _collab(s, pid, owner="bo", kind="case-study", title="Acme runs us in prod")
        orphan = _collab(s, pid)
        start_collaboration(s, cid, actor=ACTOR, at=datetime(2026, 2, 1))
        done = complete_collaboration(s, cid, actor=ACTOR, at=datetime(2026, 4, 2, 10))
        assert (done.start_date, done.end_date) == (date(2026, 2, 1), date(2026, 4, 2))
        start_collaboration(s, orphan, actor=ACTOR)
        complete_collaboration(s, orphan, actor=ACTOR)
        acts = list(s.execute(select(Activity).where(Activity.kind == COLLABORATED)).scalars())
        assert len(acts) == 1  # the collaboration without an owner credits nobody
        act = acts[0]
        ident = s.get(Identity, act.actor_identity_id)
        assert ident is not None
        assert ident.member_id == p["bo"]
        assert (act.contribution_type, act.channel, act.title, act.occurred_at) == (
            "business",
            "Acme Cloud",
            "Acme runs us in prod",
            datetime(2026, 4, 2, 10),
        )
        assert owner_id(s, done) == p["bo"]


def test_ecosystem_cancel_sets_the_end_date_from_any_open_state(
    sqlite_workspace: Workspace,
) -> None:
    ws = sqlite_workspace
    with ws.store.session() as s:
        pid = _partner(s)
        a = _collab(s, pid, start=date(2026, 1, 5))
        cancelled = cancel_collaboration(s, a, actor=ACTOR, at=datetime(2026, 1, 9), reason="no")
        assert (cancelled.status, cancelled.end_date) == ("cancelled", date(2026, 1, 9))
        with pytest.raises(UsageError, match="end: 2026-01-01 is before the start 2026-01-05"):
            _collab(s, pid, start=date(2026, 1, 5), end=date(2026, 1, 1))


# -- outcomes and links -----------------------------------------------------------------------


def test_ecosystem_links_to_content_urls_and_events(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    with ws.store.session() as s:
        item = add_item(
            s, title="Acme case", kind="case", authors=[p["ana"]], language="en", actor=ACTOR
        )
        cid = _collab(s, _partner(s), kind="content-collaboration")
        add_link(s, cid, content=item.id, actor=ACTOR)
        add_link(s, cid, url="https://acme.example.com/blog/us", actor=ACTOR)
        add_link(s, cid, event="KubeCon China 2026 booth", actor=ACTOR)
        add_outcome(
            s, cid, "  case study published,  2 webinars ", on=date(2026, 5, 1), actor=ACTOR
        )
        with pytest.raises(UsageError, match="already links content"):
            add_link(s, cid, content=str(item.id), actor=ACTOR)
        with pytest.raises(UsageError, match="exactly one"):
            add_link(s, cid, url="https://a.example.com", event="x", actor=ACTOR)
        with pytest.raises(UsageError, match="url: 'ftp://x' is not an http"):
            add_link(s, cid, url="ftp://x", actor=ACTOR)
    before = _counts(ws)
    with pytest.raises(UsageError) as err, ws.store.session() as s:
        add_link(s, cid, content=999, actor=ACTOR)
    assert err.value.message == "content: no content item '999'"
    assert _counts(ws) == before
    with ws.store.session() as s:
        collab = s.get(Collaboration, cid)
        assert collab is not None
        assert collab.links == [
            {"type": "content", "value": item.id},
            {"type": "url", "value": "https://acme.example.com/blog/us"},
            {"type": "event", "value": "KubeCon China 2026 booth"},
        ]
        assert collab.outcomes == [
            {"on": "2026-05-01", "text": "case study published, 2 webinars", "by": ACTOR}
        ]


def test_ecosystem_collaboration_soft_delete_and_partner_log(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    with ws.store.session() as s:
        pid = _partner(s)
        cid = _collab(s, pid)
        touch(s, pid, kind="e-mail", on=date(2026, 1, 3), note="intro", actor=ACTOR)
        delete_collaboration(s, cid, actor=ACTOR, reason="duplicate")
        with pytest.raises(UsageError, match="is deleted"):
            start_collaboration(s, cid, actor=ACTOR)
        restore_collaboration(s, cid, actor=ACTOR)
        log = [(e.record_type, e.action) for e in partner_log(s, pid)]
        assert log == [
            ("partner", "added"),
            ("collaboration", "proposed"),
            ("partner", "touched"),
            ("collaboration", "deleted"),
            ("collaboration", "restored"),
        ]
        with pytest.raises(UsageError, match="kind: 'fax' is not one of"):
            touch(s, pid, kind="fax", actor=ACTOR)
        with pytest.raises(UsageError, match="on: 2999-01-01 is in the future"):
            touch(s, pid, kind="call", on=date(2999, 1, 1), actor=ACTOR)


# -- health -----------------------------------------------------------------------------------


def _contribution(s: Session, member_id: int, at: datetime, key: str, ctype: str | None) -> None:
    core.emit(
        s, kind="test:did", member_id=member_id, key=key, occurred_at=at, contribution_type=ctype
    )


def test_ecosystem_health_on_a_hand_built_history(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    p = people(ws)
    today = date(2026, 6, 30)  # 90-day window: 2026-04-02 .. 2026-06-30
    with ws.store.session() as s:
        acme = add_partner(
            s, name="Acme Cloud", kind="company", actor=ACTOR, at=datetime(2026, 1, 1)
        )
        quiet = add_partner(
            s, name="Quiet Uni", kind="university", actor=ACTOR, at=datetime(2026, 1, 1)
        )
        org = acme.organization_id

        def enroll(member: int, start: date | None, end: date | None) -> None:
            s.add(
                Enrollment(
                    member_id=member,
                    organization_id=org,
                    start_date=start,
                    end_date=end,
                    origin="manual",
                )
            )

        enroll(p["ana"], date(2025, 1, 1), None)  # enrolled throughout
        enroll(p["bo"], date(2026, 5, 1), None)  # joined within the window
        enroll(p["cy"], None, date(2026, 4, 15))  # staff, left within the window
        enroll(p["di"], date(2024, 1, 1), date(2026, 3, 1))  # left before the window
        enroll(p["bot"], None, None)  # a bot: never counted
        s.flush()
        _contribution(s, p["ana"], datetime(2026, 4, 2, 0, 0), "a1", "code")  # first day
        _contribution(s, p["ana"], datetime(2026, 6, 30, 23, 59), "a2", "doc")  # last day
        _contribution(s, p["ana"], datetime(2026, 4, 1, 23, 59), "a3", "code")  # before
        _contribution(s, p["ana"], datetime(2026, 7, 1, 0, 0), "a4", "code")  # after
        _contribution(s, p["ana"], datetime(2026, 5, 5), "a5", None)  # not a contribution
        _contribution(s, p["bo"], datetime(2026, 4, 20), "b1", "code")  # before he joined
        _contribution(s, p["bo"], datetime(2026, 5, 2), "b2", "review")
        _contribution(s, p["cy"], datetime(2026, 4, 10), "c1", "code")
        _contribution(s, p["cy"], datetime(2026, 5, 10), "c2", "code")  # after she left
        _contribution(s, p["di"], datetime(2026, 5, 10), "d1", "code")  # not enrolled then
        _contribution(s, p["bot"], datetime(2026, 5, 10), "x1", "code")
        cid = _collab(s, acme.id, at=datetime(2026, 2, 1))
        start_collaboration(s, cid, actor=ACTOR, at=datetime(2026, 2, 3))
        touch(s, acme.id, kind="call", on=date(2026, 6, 10), actor=ACTOR)
        touch(s, quiet.id, kind="meeting", on=date(2026, 4, 2), actor=ACTOR)

        rows = {h.name: h for h in health(s, days=90, today=today)}
        a = rows["Acme Cloud"]
        assert (a.last_touch, a.days_since_touch, a.active_collaborations) == (
            date(2026, 6, 10),
            20,
            1,
        )
        assert (a.affiliated, a.contributing, a.staff_contributing, a.contributions) == (3, 3, 1, 4)
        assert [(c.member_id, c.contributions, c.is_staff) for c in a.contributors] == [
            (p["ana"], 2, False),
            (p["bo"], 1, False),
            (p["cy"], 1, True),
        ]
        assert a.flags == []
        q = rows["Quiet Uni"]
        assert (q.last_touch, q.days_since_touch, q.affiliated, q.contributions) == (
            date(2026, 4, 2),
            89,
            0,
            0,
        )
        assert q.flags == ["no active collaboration"]  # 2026-04-02 is the window's first day
        later = {h.name: h for h in health(s, days=30, today=today)}
        assert later["Quiet Uni"].flags == ["no touch in 30 days", "no active collaboration"]
        assert (later["Acme Cloud"].affiliated, later["Acme Cloud"].contributions) == (2, 1)
        pause_collaboration(s, cid, actor=ACTOR, at=datetime(2026, 6, 20))
        again = health(s, days=90, today=today, partner="acme cloud")[0]
        assert (again.last_touch, again.active_collaborations) == (date(2026, 6, 20), 0)
        assert again.flags == ["no active collaboration"]
        with pytest.raises(UsageError, match="days: must be at least 1"):
            health(s, days=0)


# -- the command line on a demo community -----------------------------------------------------


def test_ecosystem_cli_end_to_end_on_a_demo_workspace(
    sqlite_workspace: Workspace, cli: CliRunner
) -> None:
    from commops.demo import generate

    ws = sqlite_workspace
    generate(ws, members=300, months=12, end=utcnow().date())  # the window sees the demo
    with ws.store.session() as s:
        org = s.execute(select(Organization).where(Organization.name == "Acme Cloud")).scalar_one()
        enrolled = (
            s.execute(select(Enrollment.member_id).where(Enrollment.organization_id == org.id))
            .scalars()
            .all()
        )
        assert enrolled
        liaison = str(enrolled[0])

    def run(*args: str, ok: bool = True) -> Any:
        result = cli.invoke(app, ["--workspace", str(ws.root), "partners", *args])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.exception)
        return result

    def js(*args: str) -> Any:
        return json.loads(run(*args, "--json").stdout)

    partner = js("add", "Acme Cloud", "--kind", "company", "--website", "https://acme.example.com")
    assert partner["organization"] == "Acme Cloud"
    js("add", "Globex", "--kind", "vendor")
    js("contact", "add", "acme cloud", liaison, "--role", "maintainer liaison")
    collab = js(
        "collab",
        "add",
        "Acme Cloud",
        "Acme operator",
        "--kind",
        "product-integration",
        "--owner",
        liaison,
    )
    cid = str(collab["id"])
    assert js("collab", "status", cid, "active")["status"] == "active"
    refused = run("collab", "status", cid, "proposed", ok=False)
    assert isinstance(refused.exception, UsageError)
    assert "is active: it cannot become proposed" in refused.exception.message
    js("collab", "outcome", cid, "operator listed in the hub")
    js("collab", "link", cid, "--url", "https://acme.example.com/operator")
    bad = run("collab", "link", cid, "--content", "4242", ok=False)
    assert isinstance(bad.exception, UsageError)
    assert "no content item '4242'" in bad.exception.message
    js("touch", "Acme Cloud", "--kind", "meeting", "--note", "quarterly sync")
    shown = js("show", "Acme Cloud")
    assert shown["contacts"][0]["role"] == "maintainer liaison"
    assert shown["collaborations"][0]["links"] == [
        {"type": "url", "value": "https://acme.example.com/operator"}
    ]
    rows = {r["name"]: r for r in js("health", "--days", "365")}
    acme = rows["Acme Cloud"]
    assert acme["days_since_touch"] == 0
    assert acme["active_collaborations"] == 1
    assert acme["affiliated"] == len(set(enrolled))
    assert 0 < acme["contributing"] <= acme["affiliated"]
    assert rows["Globex"]["flags"] == ["no touch in 365 days", "no active collaboration"]
    assert "Globex" in run("health").stdout
    assert [r["name"] for r in js("list")] == ["Acme Cloud", "Globex"]
    js("edit", "Globex", "--kind", "company", "--notes", "reseller")
    js("delete", "Globex", "--reason", "test")
    assert [r["name"] for r in js("list")] == ["Acme Cloud"]
    js("restore", "Globex")
    js("collab", "status", cid, "completed")
    log = js("log", "Acme Cloud")
    assert [e["action"] for e in log][-1] == "completed"
    js("contact", "remove", "Acme Cloud", liaison)
    assert "Acme operator" in run("show", "Acme Cloud").stdout
