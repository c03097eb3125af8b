"""Governance: ladder rule files, their evaluation over hand-built histories and the demo
community, nominations and role grants, the inactivity review, the committee, exports."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from commops import demo
from commops.cli.app import app
from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops import core
from commops.ops.governance import committee, exports, roles
from commops.ops.governance.evaluate import Context, candidates, evaluate, standings
from commops.ops.governance.models import Nomination, RoleGrant
from commops.ops.governance.rules import Ladder, load_ladder, parse_ladder, shipped_ladders
from commops.store.models import (
    Activity,
    Base,
    Enrollment,
    Identity,
    Member,
    Organization,
    Source,
)
from commops.workspace import Workspace

DATA = Path(__file__).parent / "data" / "governance"
TABLES = {
    "governance_nominations",
    "governance_sponsors",
    "governance_roles",
    "committee_seats",
    "committee_terms",
    "committee_meetings",
}
AS_OF = date(2026, 10, 31)
ACTOR = "test:governance"


class History:
    """Members with GitHub logins and activities written straight into the store."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.n = 0
        with ws.store.session() as session:
            source = Source(
                name="gh", kind="github", location="github://x/y", options={}, created_at=utcnow()
            )
            session.add(source)
            session.flush()
            self.source_id = source.id

    def member(self, login: str, *, bot: bool = False, org: str | None = None) -> int:
        with self.ws.store.session() as session:
            m = Member(display_name=login.title(), is_bot=bot, created_at=utcnow())
            session.add(m)
            session.flush()
            session.add(
                Identity(
                    platform="github",
                    kind="username",
                    value=login,
                    member_id=m.id,
                    created_at=utcnow(),
                )
            )
            if org is not None:
                o = session.execute(
                    select(Organization).where(Organization.name == org)
                ).scalar_one_or_none()
                if o is None:
                    o = Organization(name=org, domains=[], created_at=utcnow())
                    session.add(o)
                    session.flush()
                session.add(Enrollment(member_id=m.id, organization_id=o.id))
            return m.id

    def _identity(self, session: object, member_id: int) -> int:
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        return session.execute(
            select(Identity.id).where(
                Identity.member_id == member_id, Identity.platform == "github"
            )
        ).scalar_one()

    def act(
        self,
        member_id: int,
        kind: str,
        at: datetime,
        *,
        obj: int | None = None,
        ctype: str | None = None,
        target: str | None = None,
    ) -> str:
        self.n += 1
        uid = f"uid{self.n:05d}"
        with self.ws.store.session() as session:
            session.add(
                Activity(
                    uid=uid,
                    source_id=self.source_id,
                    item_key=f"k{self.n}",
                    kind=kind,
                    occurred_at=at,
                    actor_identity_id=self._identity(session, member_id),
                    object_identity_id=self._identity(session, obj) if obj else None,
                    channel="x/y",
                    target=target or str(self.n),
                    contribution_type=ctype,
                    attributes={},
                )
            )
        return uid


def ladder(body: str) -> Ladder:
    return parse_ladder(body, "test.yaml")


def check(ws: Workspace, lad: Ladder, member_id: int, as_of: date = AS_OF) -> bool:
    with ws.store.session() as session:
        ctx = Context(session, lad, as_of)
        role = lad.roles[0]
        return evaluate(role.criteria, member_id, ctx, role.name).met


# -- rule files --------------------------------------------------------------------------------


def test_shipped_ladders_load() -> None:
    assert shipped_ladders() == [
        "kubernetes-membership",
        "kubesphere-ambassadors",
        "kubesphere-ladder",
    ]
    names = {n: [r.name for r in load_ladder(n).roles] for n in shipped_ladders()}
    assert names == {
        "kubernetes-membership": ["member", "reviewer", "approver"],
        "kubesphere-ambassadors": ["ambassador"],
        "kubesphere-ladder": ["contributor", "member", "lead"],
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "unknown-kind.yaml",
            "unknown-kind.yaml line 6: unknown activity kind 'github:pull_merged'",
        ),
        ("unknown-role.yaml", "unknown-role.yaml line 9: unknown role 'maintainer'"),
        ("bad-threshold.yaml", "bad-threshold.yaml line 7: min: '-3' is not a whole number"),
    ],
)
def test_rule_file_errors_name_file_and_line(name: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        load_ladder(DATA / name)
    assert message in err.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("roles: [", "test.yaml line 1: not valid YAML"),
        (
            "roles:\n  - name: a\n    criteria:\n      - activities: {kinds: [git:commit]}\n",
            "line 4: role 'a' criteria: an activities criterion needs a threshold",
        ),
        (
            "roles:\n  - name: a\n    criteria:\n      - member_for: soon\n",
            "line 4: member_for: 'soon' is not a duration",
        ),
        (
            "roles:\n  - name: a\n    criteria:\n      - at_least: {n: 3, of: [{has_role: a}]}\n",
            "line 4: unknown role 'a'",
        ),
        (
            "roles:\n  - name: a\n    criteria:\n"
            "      - at_least:\n          n: 3\n          of:\n            - member_for: 1d\n",
            "line 4: at_least: n is 3 but there are only 1 criteria",
        ),
        (
            "roles:\n  - name: a\n    criteria:\n      - activities: {contribution_types: [cod]}\n"
            "        min: 1\n",
            "line 4: unknown contribution type 'cod'",
        ),
        (
            "roles:\n  - name: a\n    criteria: []\n  - name: a\n    criteria: []\n",
            "line 4: role 'a' appears twice",
        ),
    ],
)
def test_rule_language_refusals(body: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        ladder(body)
    assert message in err.value.message


def test_kind_patterns_allowed_only_for_known_namespaces() -> None:
    ok = ladder(
        "roles:\n- name: a\n  criteria:\n  - activities: {kinds: ['github:*']}\n    min: 1\n"
    )
    assert ok.roles[0].name == "a"
    with pytest.raises(UsageError, match="line 4: unknown activity kind 'gitlab:\\*'"):
        ladder(
            "roles:\n- name: a\n  criteria:\n  - activities: {kinds: ['gitlab:*']}\n    min: 1\n"
        )


# -- evaluation on hand-built histories --------------------------------------------------------


WINDOWED = """
roles:
  - name: r
    criteria:
      - activities: {kinds: [git:commit]}
        within: 365d
        min: 2
"""


def test_window_ends_on_as_of_inclusive(sqlite_workspace: Workspace) -> None:
    h = History(sqlite_workspace)
    ana = h.member("ana")
    lad = ladder(WINDOWED)
    # The 365d window ending 2026-10-31 starts 2025-11-01 00:00.
    h.act(ana, "git:commit", datetime(2025, 10, 31, 23, 59))  # one day too early
    h.act(ana, "git:commit", datetime(2026, 11, 1, 0, 0))  # after as_of
    h.act(ana, "git:commit", datetime(2025, 11, 1, 0, 0))  # first instant of the window
    assert not check(sqlite_workspace, lad, ana)
    h.act(ana, "git:commit", datetime(2026, 10, 31, 23, 59, 59))  # last instant of as_of
    assert check(sqlite_workspace, lad, ana)  # exactly at the threshold: 2 >= 2
    with sqlite_workspace.store.session() as session:
        [standing] = standings(session, lad, AS_OF, member_ids=[ana])
    assert standing.result.parts[0].evidence == ["uid00003", "uid00004"]
    # A day earlier the window starts 2025-10-31: the early commit comes in, the last goes out.
    assert check(sqlite_workspace, lad, ana, date(2026, 10, 30))


def test_merged_prs_credited_to_the_author_even_when_a_bot_merges(
    workspace: Workspace,
) -> None:
    h = History(workspace)
    ana, bot, bo = h.member("ana"), h.member("ci-bot", bot=True), h.member("bo")
    lad = ladder(
        "roles:\n- name: r\n  criteria:\n"
        "  - activities: {kinds: [github:pr_merged], credit: object}\n    min: 2\n"
    )
    h.act(bot, "github:pr_merged", datetime(2026, 1, 1), obj=ana)
    h.act(bo, "github:pr_merged", datetime(2026, 2, 1), obj=ana)
    h.act(ana, "github:pr_merged", datetime(2026, 2, 1), obj=bo)  # ana merged bo's: not hers
    assert check(workspace, lad, ana)
    assert not check(workspace, lad, bo)
    with workspace.store.session() as session:
        found = candidates(session, lad, AS_OF)
    assert [(c.member_id, c.result.parts[0].value) for c in found] == [(ana, 2)]
    assert bot not in {s.member_id for s in found}


def test_distinct_items_contribution_types_and_patterns(sqlite_workspace: Workspace) -> None:
    h = History(sqlite_workspace)
    ana = h.member("ana")
    distinct = ladder(
        "roles:\n- name: r\n  criteria:\n"
        "  - activities: {kinds: ['github:*'], distinct: item}\n    min: 2\n"
    )
    typed = ladder(
        "roles:\n- name: r\n  criteria:\n"
        "  - activities: {contribution_types: [review]}\n    min: 2\n"
    )
    h.act(ana, "github:review", datetime(2026, 1, 1), target="7", ctype="review")
    h.act(ana, "github:review_comment", datetime(2026, 1, 2), target="7", ctype="review")
    h.act(ana, "git:commit", datetime(2026, 1, 3), ctype="code")
    assert not check(sqlite_workspace, distinct, ana)  # two activities, one pull request
    assert check(sqlite_workspace, typed, ana)
    h.act(ana, "github:issue_opened", datetime(2026, 1, 4), target="8")
    assert check(sqlite_workspace, distinct, ana)


def test_combinators(sqlite_workspace: Workspace) -> None:
    h = History(sqlite_workspace)
    ana = h.member("ana")
    parts = (
        "      - activities: {kinds: [git:commit]}\n        min: 1\n"
        "      - activities: {kinds: [github:review]}\n        min: 1\n"
        "      - activities: {kinds: [github:issue_opened]}\n        min: 1\n"
    )
    two_of = ladder(
        f"roles:\n- name: r\n  criteria:\n  - at_least:\n      n: 2\n      of:\n{parts}"
    )
    any_of = ladder(f"roles:\n- name: r\n  criteria:\n  - any:\n{parts}")
    all_of = ladder(f"roles:\n- name: r\n  criteria:\n  - all:\n{parts}")
    h.act(ana, "git:commit", datetime(2026, 1, 1))
    assert [check(sqlite_workspace, x, ana) for x in (two_of, any_of, all_of)] == [
        False,
        True,
        False,
    ]
    h.act(ana, "github:review", datetime(2026, 1, 1))
    assert [check(sqlite_workspace, x, ana) for x in (two_of, any_of, all_of)] == [
        True,
        True,
        False,
    ]
    h.act(ana, "github:issue_opened", datetime(2026, 1, 1))
    assert [check(sqlite_workspace, x, ana) for x in (two_of, any_of, all_of)] == [
        True,
        True,
        True,
    ]


def test_member_for_is_tenure_since_the_first_activity(sqlite_workspace: Workspace) -> None:
    h = History(sqlite_workspace)
    ana, bo = h.member("ana"), h.member("bo")
    lad = ladder("roles:\n- name: r\n  criteria:\n  - member_for: 6 months\n")
    h.act(ana, "git:commit", datetime(2026, 4, 30, 23, 0))  # exactly 6 months before as_of
    h.act(bo, "git:commit", datetime(2026, 5, 1, 0, 0))
    assert check(sqlite_workspace, lad, ana)
    assert not check(sqlite_workspace, lad, bo)
    assert check(sqlite_workspace, lad, bo, date(2026, 11, 1))
    assert not check(sqlite_workspace, lad, ana, date(2026, 10, 29))


KUBE = load_ladder("kubernetes-membership")


def _nominate_with_history(ws: Workspace) -> tuple[History, int, int, int, int]:
    h = History(ws)
    ana = h.member("ana", org="Acme")
    bo = h.member("bo", org="Acme")
    chen = h.member("chen", org="Beta")
    dai = h.member("dai")
    for i in range(2):
        h.act(bo, "github:pr_merged", datetime(2026, 3, 1 + i), obj=ana)
        h.act(ana, "github:review", datetime(2026, 3, 1 + i))
    return h, ana, bo, chen, dai


def test_sponsors_from_different_organisations(workspace: Workspace) -> None:
    _, ana, bo, chen, dai = _nominate_with_history(workspace)
    with workspace.store.session() as session:
        nom = roles.nominate(session, KUBE, ana, "member", actor=ACTOR, on=AS_OF)
        roles.sponsor(session, nom.id, bo, actor=ACTOR, on=AS_OF)
        roles.sponsor(session, nom.id, dai, actor=ACTOR, on=AS_OF)  # no organisation
        nom_id = nom.id
    refused = r"does not meet member .*2 sponsors .* \(1 vs 2\)"
    with workspace.store.session() as session, pytest.raises(UsageError, match=refused):
        roles.approve(session, KUBE, nom_id, actor=ACTOR, on=AS_OF)
    with workspace.store.session() as session:
        roles.sponsor(session, nom_id, chen, actor=ACTOR, on=AS_OF)
        found = candidates(session, KUBE, AS_OF, role="member")
        assert [c.member_id for c in found] == [ana]
        sponsors = found[0].result.parts[1]
        assert (sponsors.value, sponsors.threshold) == (2, 2)
        assert sponsors.evidence == [
            f"member {bo} (Acme)",
            f"member {dai} (no organisation)",
            f"member {chen} (Beta)",
        ]


def test_nomination_approval_grant_and_forbidden_moves(workspace: Workspace) -> None:
    _, ana, bo, chen, _ = _nominate_with_history(workspace)
    with workspace.store.session() as session:
        nom = roles.nominate(session, KUBE, ana, "member", actor=ACTOR, on=AS_OF, reason="great")
        nom_id = nom.id
        assert nom.evidence["eligible"] is False
        with pytest.raises(UsageError, match="cannot sponsor themselves"):
            roles.sponsor(session, nom_id, ana, actor=ACTOR, on=AS_OF)
        roles.sponsor(session, nom_id, bo, actor=ACTOR, on=AS_OF)
        with pytest.raises(UsageError, match="already sponsors"):
            roles.sponsor(session, nom_id, bo, actor=ACTOR, on=AS_OF)
        roles.sponsor(session, nom_id, chen, actor=ACTOR, on=AS_OF)
        with pytest.raises(UsageError, match="already has nomination"):
            roles.nominate(session, KUBE, ana, "member", actor=ACTOR, on=AS_OF)
    with workspace.store.session() as session:
        with pytest.raises(UsageError, match="is open: it cannot become granted"):
            roles.grant(session, nom_id, actor=ACTOR, on=AS_OF)
        roles.approve(session, KUBE, nom_id, actor="toc", on=AS_OF)
        with pytest.raises(UsageError, match="only open nominations take sponsors"):
            roles.sponsor(session, nom_id, bo, actor=ACTOR, on=AS_OF)
        with pytest.raises(UsageError, match="grant on or after"):
            roles.grant(session, nom_id, actor=ACTOR, on=date(2026, 10, 1))
        grant = roles.grant(session, nom_id, actor=ACTOR, on=date(2026, 11, 2))
        assert (grant.role, grant.state, grant.granted_on) == (
            "member",
            "active",
            date(2026, 11, 2),
        )
        with pytest.raises(UsageError, match="granted is final"):
            roles.withdraw(session, nom_id, actor=ACTOR)
        with pytest.raises(UsageError, match="already holds member"):
            roles.nominate(session, KUBE, ana, "member", actor=ACTOR, on=AS_OF)
        log = [
            (e.action, e.from_state, e.to_state)
            for e in core.history(session, "nomination", nom_id)
        ]
        assert log == [
            ("nominated", None, "open"),
            ("sponsored", None, None),
            ("sponsored", None, None),
            ("approved", "open", "approved"),
            ("granted", "approved", "granted"),
        ]
        # Held from 2026-11-02: the next role's tenure criterion counts from then.
        ctx = Context(session, KUBE, date(2027, 2, 1))
        tenure = evaluate(KUBE.role("reviewer").criteria.parts[0], ana, ctx, "reviewer")
        assert not tenure.met
        ctx = Context(session, KUBE, date(2027, 2, 2))
        assert evaluate(KUBE.role("reviewer").criteria.parts[0], ana, ctx, "reviewer").met
        # The current role is member, so the next role is reviewer.
        [standing] = standings(session, KUBE, date(2027, 2, 2), member_ids=[ana])
        assert (standing.current_role, standing.role) == ("member", "reviewer")
        with pytest.raises(UsageError, match="say why"):
            roles.revoke(session, grant.id, actor=ACTOR, on=AS_OF, reason=" ")
        with pytest.raises(UsageError, match="cannot end before"):
            roles.revoke(session, grant.id, actor=ACTOR, on=AS_OF, reason="conduct")
        roles.revoke(session, grant.id, actor=ACTOR, on=date(2026, 12, 1), reason="conduct")
        with pytest.raises(UsageError, match="revoked is final"):
            roles.retire(session, grant.id, actor=ACTOR, on=date(2026, 12, 2))


def test_rejected_nomination_is_final(sqlite_workspace: Workspace) -> None:
    _, ana, *_ = _nominate_with_history(sqlite_workspace)
    with sqlite_workspace.store.session() as session:
        nom = roles.nominate(session, KUBE, ana, "member", actor=ACTOR, on=AS_OF)
        with pytest.raises(UsageError, match="say why"):
            roles.reject(session, nom.id, actor=ACTOR, on=AS_OF, reason="")
        roles.reject(session, nom.id, actor=ACTOR, on=AS_OF, reason="too early")
        with pytest.raises(UsageError, match="rejected is final"):
            roles.approve(session, KUBE, nom.id, actor=ACTOR, on=AS_OF)


def test_inactivity_review_proposes_emeritus(sqlite_workspace: Workspace) -> None:
    h = History(sqlite_workspace)
    ana, bo = h.member("ana"), h.member("bo")
    lad = load_ladder("kubesphere-ladder")  # inactivity after 18 months
    h.act(ana, "git:commit", datetime(2025, 5, 1), ctype="code")  # 18 months before: still in
    h.act(bo, "git:commit", datetime(2025, 4, 30, 23, 59), ctype="code")
    h.act(bo, "github:star", datetime(2026, 10, 1))  # not a contribution
    with sqlite_workspace.store.session() as session:
        ga = roles.add_grant(session, lad.name, ana, "member", actor=ACTOR, on=date(2024, 1, 1))
        gb = roles.add_grant(session, lad.name, bo, "member", actor=ACTOR, on=date(2024, 1, 1))
        found = roles.review(session, lad, AS_OF)
        assert [(i.grant_id, i.member_id) for i in found] == [(gb.id, bo)]
        assert [i.grant_id for i in roles.review(session, lad, date(2026, 11, 1))] == [
            ga.id,
            gb.id,
        ]
        roles.retire(session, gb.id, actor=ACTOR, on=AS_OF, reason="inactive 18 months")
        assert roles.review(session, lad, AS_OF) == []
        assert session.get(RoleGrant, gb.id).state == "emeritus"  # type: ignore[union-attr]


# -- the demo community ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from commops.workspace import init_workspace

    ws, _ = init_workspace(tmp_path_factory.mktemp("demo") / "ws")
    demo.generate(ws, members=300, months=12)
    return ws


def test_kubesphere_ladder_on_the_demo_gives_candidates_with_evidence(demo_ws: Workspace) -> None:
    lad = load_ladder("kubesphere-ladder")
    with demo_ws.store.session() as session:
        found = candidates(session, lad, demo.DEFAULT_END)
        assert len(found) > 20
        assert {c.role for c in found} == {"contributor"}
        first = found[0].as_dict()["criteria"][0]
        assert first["met"]
        assert first["value"] >= first["threshold"] == 1
        uids = set(first["evidence"])
        kinds = set(session.execute(select(Activity.kind).where(Activity.uid.in_(uids))).scalars())
        assert kinds <= {"github:pr_merged", "gitee:pr_merged"}
        bots = set(session.execute(select(Member.id).where(Member.is_bot.is_(True))).scalars())
        assert bots
        assert not bots & {c.member_id for c in found}
        # Nobody is a member yet: the member role needs two sponsors.
        assert candidates(session, lad, demo.DEFAULT_END, role="member") == []


def test_ksap_on_the_demo_with_content_and_events(demo_ws: Workspace) -> None:
    lad = load_ladder("kubesphere-ambassadors")
    with demo_ws.store.session() as session:
        assert candidates(session, lad, demo.DEFAULT_END) == []
        ranked = sorted(
            standings(session, lad, demo.DEFAULT_END),
            key=lambda s: -int(s.result.parts[1].value or 0),
        )
        top, second = ranked[0].member_id, ranked[1].member_id
    with demo_ws.store.session() as session:
        for i in range(4):
            core.emit(
                session,
                kind="content:authored",
                member_id=top,
                key=f"t:{i}",
                occurred_at=datetime(2026, 6, 1 + i),
                contribution_type="blog",
            )
            core.emit(
                session,
                kind="content:authored",
                member_id=second,
                key=f"s:{i}",
                occurred_at=datetime(2026, 6, 1 + i),
                contribution_type="blog",
            )
        core.emit(
            session,
            kind="event:spoke",
            member_id=top,
            key="talk",
            occurred_at=datetime(2026, 9, 1),
            contribution_type="talk",
        )
        # second spoke too, but more than a year before as_of
        core.emit(
            session,
            kind="event:spoke",
            member_id=second,
            key="old-talk",
            occurred_at=datetime(2025, 10, 31),
            contribution_type="talk",
        )
        session.flush()
        found = candidates(session, lad, demo.DEFAULT_END)
        assert [c.member_id for c in found] == [top]
        crit = found[0].as_dict()["criteria"]
        assert next((c["value"], c["threshold"]) for c in crit[:2]) == (4, 4)
        assert crit[1]["value"] >= 20
        assert crit[2]["parts"][1]["value"] == 1
        session.rollback()


# -- committee ---------------------------------------------------------------------------------


def test_committee_terms_on_a_seat_never_overlap(workspace: Workspace) -> None:
    h = History(workspace)
    ana, bo = h.member("ana"), h.member("bo")
    with workspace.store.session() as session:
        seat = committee.add_seat(session, "user-committee", "end users 1", actor=ACTOR)
        committee.elect(
            session, seat.id, ana, date(2026, 1, 1), date(2026, 12, 31), actor=ACTOR, votes=41
        )
        with pytest.raises(UsageError) as err:
            committee.appoint(
                session, seat.id, bo, date(2026, 12, 31), date(2027, 12, 31), actor=ACTOR
            )
        assert "seat 'end users 1' of 'user-committee'" in err.value.message
        assert "overlaps term" in err.value.message
        assert "Ana" in err.value.message
        assert err.value.hint == "Start it on 2027-01-01 or later, or end it before 2026-01-01."
        committee.appoint(session, seat.id, bo, date(2027, 1, 1), date(2027, 12, 31), actor=ACTOR)
        with pytest.raises(UsageError, match="before it starts"):
            committee.appoint(session, seat.id, bo, date(2029, 1, 2), date(2029, 1, 1), actor=ACTOR)
        with pytest.raises(UsageError, match="already has a seat"):
            committee.add_seat(session, "user-committee", "end  users 1", actor=ACTOR)
        meeting = committee.add_meeting(
            session,
            "user-committee",
            date(2026, 3, 1),
            "Kick-off",
            actor=ACTOR,
            attendees=[ana, bo],
        )
        committee.set_minutes(session, meeting.id, "Agreed the charter.", actor=ACTOR)
        assert [
            (s.name, t.member_id)
            for s, t in committee.members_on(session, "user-committee", date(2027, 6, 1))
        ] == [("end users 1", bo)]


# -- exports and imports -----------------------------------------------------------------------


def test_all_contributorsrc_export_and_round_trip(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    h = History(sqlite_workspace)
    ana, bot = h.member("ana"), h.member("dependabot[bot]", bot=True)
    h.act(ana, "git:commit", datetime(2026, 1, 1), ctype="code")
    h.act(ana, "github:review", datetime(2026, 1, 2), ctype="review")
    h.act(ana, "github:issue_opened", datetime(2026, 1, 3))  # no contribution type
    h.act(bot, "github:pr_opened", datetime(2026, 1, 3), ctype="code")
    with sqlite_workspace.store.session() as session:
        doc = exports.all_contributors(session, project="demo", owner="acme").data
    assert doc["contributors"] == [
        {
            "login": "ana",
            "name": "Ana",
            "avatar_url": "https://github.com/ana.png",
            "profile": "https://github.com/ana",
            "contributions": ["code", "review"],
        }
    ]
    rc = tmp_path / ".all-contributorsrc"
    existing = {
        "projectName": "kept",
        "contributors": [
            {"login": "zed", "name": "Zed", "contributions": ["design"]},
            {"login": "ANA", "name": "Ana L.", "contributions": ["doc"]},
        ],
    }
    rc.write_text(json.dumps(existing))
    with sqlite_workspace.store.session() as session:
        merged = exports.all_contributors(
            session, project="demo", owner="acme", existing=exports.read_all_contributors(rc)
        ).data
        assert merged["projectName"] == "kept"
        assert [(c["login"], c["contributions"]) for c in merged["contributors"]] == [
            ("ANA", ["code", "doc", "review"]),
            ("zed", ["design"]),
        ]
        rc.write_text(json.dumps(merged))
        again = exports.all_contributors(
            session, project="demo", owner="acme", existing=exports.read_all_contributors(rc)
        ).data
    assert again == merged
    rc.write_text('{"contributors": [{"login": "x", "contributions": ["cod"]}]}')
    with pytest.raises(UsageError, match="contributor x: unknown contribution type 'cod'"):
        exports.read_all_contributors(rc)


def test_owners_import_export_round_trip(workspace: Workspace, tmp_path: Path) -> None:
    h = History(workspace)
    for login in ("ana", "bo", "chen", "dai"):
        h.member(login)
    lad = load_ladder("kubernetes-membership")
    entries = exports.read_owners(DATA / "OWNERS", approvers="approver", reviewers="reviewer")
    with workspace.store.session() as session:
        assert exports.import_roles(
            session, lad, entries, actor=ACTOR, source="OWNERS", on=date(2026, 1, 1)
        ) == (6, 0)
        assert exports.import_roles(session, lad, entries, actor=ACTOR, source="OWNERS") == (0, 6)
        doc, skipped = exports.owners(session, lad, approvers="approver", reviewers="reviewer")
    assert skipped == []
    assert doc == {
        "approvers": ["ana", "bo"],
        "reviewers": ["ana", "bo", "chen"],
        "emeritus_approvers": ["dai"],
    }
    out = tmp_path / "OWNERS"
    out.write_text(exports.dump_owners(doc))
    again = exports.read_owners(out, approvers="approver", reviewers="reviewer")
    assert sorted((e.login.lower(), e.role, e.state) for e in again) == sorted(
        (e.login.lower(), e.role, e.state) for e in entries
    )


def test_role_list_import_checks_everything_first(sqlite_workspace: Workspace) -> None:
    h = History(sqlite_workspace)
    for login in ("ana", "chen", "dai"):
        h.member(login)
    lad = load_ladder("kubernetes-membership")
    with sqlite_workspace.store.session() as session:
        with pytest.raises(
            UsageError, match=r"roles-bad\.csv line 3: no member has the GitHub login 'nobody-here'"
        ):
            exports.import_roles(
                session,
                lad,
                exports.read_role_list(DATA / "roles-bad.csv"),
                actor=ACTOR,
                source="roles-bad.csv",
            )
        assert session.scalar(select(func.count()).select_from(RoleGrant)) == 0
        granted = exports.import_roles(
            session,
            lad,
            exports.read_role_list(DATA / "roles.csv"),
            actor=ACTOR,
            source="roles.csv",
        )
        assert granted == (3, 0)
        rows = session.execute(
            select(RoleGrant.role, RoleGrant.state, RoleGrant.granted_on).order_by(RoleGrant.id)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("member", "active", date(2025, 1, 10)),
            ("member", "active", date(2025, 3, 1)),
            ("reviewer", "emeritus", date(2024, 5, 1)),
        ]
    wrong = load_ladder("kubesphere-ambassadors")
    with (
        sqlite_workspace.store.session() as session,
        pytest.raises(
            UsageError, match=r"roles\.csv line 2: role 'member' is not in the ladder 'ksap'"
        ),
    ):
        exports.import_roles(
            session,
            wrong,
            exports.read_role_list(DATA / "roles.csv"),
            actor=ACTOR,
            source="roles.csv",
        )


def test_nomination_model_is_registered() -> None:
    assert Nomination.__tablename__ in Base.metadata.tables


def test_governance_migration_creates_the_models_tables(workspace: Workspace) -> None:
    with workspace.store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= TABLES
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [
            d for d in compare_metadata(ctx, Base.metadata) if any(t in str(d) for t in TABLES)
        ]
    assert diffs == []


# -- the command line --------------------------------------------------------------------------


def test_cli_ladder_and_committee_flow(
    sqlite_workspace: Workspace, cli: CliRunner, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    _, ana, bo, _, _ = _nominate_with_history(ws)

    def run(*args: str, code: int = 0) -> str:
        result = cli.invoke(app, ["--workspace", str(ws.root), *args])
        if code:
            assert isinstance(result.exception, UsageError), result.exception
            return result.exception.message
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    assert "unknown-kind.yaml line 6: unknown activity kind" in run(
        "ladder", "check-rules", str(DATA / "unknown-kind.yaml"), code=1
    )
    assert "Ladder kubernetes" in run("ladder", "check-rules", "kubernetes-membership")
    rules = ("--rules", "kubernetes-membership")
    assert "Nomination 1: member" in run(
        "ladder", "nominate", "ana", *rules, "--role", "member", "--on", "2026-10-31"
    )
    run("ladder", "sponsor", "1", "bo", "--on", "2026-10-31")
    assert "(1 vs 2)" in run("ladder", "approve", "1", *rules, "--on", "2026-10-31", code=1)
    run("ladder", "sponsor", "1", "chen", "--on", "2026-10-31")
    run("ladder", "nominate", "bo", *rules, "--role", "member", "--on", "2026-10-31")
    run("ladder", "withdraw", "2", "--reason", "not now")
    assert run("ladder", "sponsor", "2", "chen", code=1) == (
        "nomination 2 is withdrawn: only open nominations take sponsors"
    )
    assert run("ladder", "approve", "2", *rules, code=1) == (
        "nomination 2 is withdrawn: it cannot become approved"
    )
    found = json.loads(
        run("ladder", "candidates", *rules, "--role", "member", "--as-of", "2026-10-31", "--json")
    )
    assert [c["member_id"] for c in found["candidates"]] == [ana]
    run("ladder", "approve", "1", *rules, "--on", "2026-10-31")
    assert "is member from 2026-11-01" in run("ladder", "grant", "1", "--on", "2026-11-01")
    listed = json.loads(run("ladder", "roles", "--json"))
    assert [(g["member_id"], g["role"], g["state"]) for g in listed["grants"]] == [
        (ana, "member", "active")
    ]
    review = json.loads(run("ladder", "review", *rules, "--as-of", "2027-06-01", "--json"))
    assert [r["member_id"] for r in review] == [ana]
    run("ladder", "review", *rules, "--as-of", "2027-06-01", "--apply")
    assert json.loads(run("ladder", "roles", "--json"))["grants"][0]["state"] == "emeritus"
    owners_file = tmp_path / "OWNERS"
    run("ladder", "export-owners", *rules, "--approvers", "member", "-o", str(owners_file))
    assert yaml.safe_load(owners_file.read_text()) == {
        "approvers": [],
        "emeritus_approvers": ["ana"],
    }
    rc = tmp_path / ".all-contributorsrc"
    run("ladder", "export-allcontributors", "--project", "p", "--owner", "o", "-o", str(rc))
    assert json.loads(rc.read_text())["projectName"] == "p"

    run("committee", "seat", "add", "end users 1")
    run("committee", "elect", "end users 1", "ana", "--start", "2026-01-01", "--end", "2026-12-31")
    out = run(
        "committee",
        "appoint",
        "end users 1",
        "bo",
        "--start",
        "2026-06-01",
        "--end",
        "2027-05-31",
        code=1,
    )
    assert "overlaps term 1 (Ana, 2026-01-01 .. 2026-12-31)" in " ".join(out.split())
    run(
        "committee",
        "term",
        "add",
        "end users 1",
        "bo",
        "--start",
        "2027-01-01",
        "--end",
        "2027-12-31",
        "--method",
        "appointment",
    )
    (tmp_path / "min.md").write_text("Agreed the charter.")
    run("committee", "meeting", "add", "Kick-off", "--on", "2026-03-01", "--attendee", "ana")
    run("committee", "minutes", "1", str(tmp_path / "min.md"))
    listed = json.loads(run("committee", "list", "--json"))
    assert [(t["member_id"], t["method"]) for t in listed["terms"]] == [
        (ana, "election"),
        (bo, "appointment"),
    ]
    assert listed["meetings"][0]["minutes"] is True
