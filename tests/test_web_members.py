"""The Members pages and /api/v1/members: search and filters, the profile and its timeline,
merge suggestions, merge / unmerge / split / undo, privacy of e-mail addresses, and who may
do what."""

from __future__ import annotations

import os
import random
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from commops.ops.content.demo import seed as seed_content
from commops.ops.content.models import ContentAuthor
from commops.ops.events.demo import seed as seed_events
from commops.ops.events.models import EventRegistration
from commops.ops.feedback.demo import seed as seed_feedback
from commops.ops.feedback.models import FeedbackItem
from commops.ops.governance.demo import seed as seed_governance
from commops.ops.governance.models import RoleGrant
from commops.store.models import (
    Enrollment,
    Identity,
    IdentityDecision,
    IdentityLog,
    Member,
    MergeSuggestion,
    Organization,
)
from commops.web.app import PERIODIC
from commops.web.members_view import engagement_levels
from commops.workspace import Workspace
from webkit import WebClient, client_as, demo_workspace, token_client, web_app

Site = tuple[Workspace, Any]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The module's database: SQLite in the workspace, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    base = os.environ.get("COMMOPS_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL tests need COMMOPS_TEST_POSTGRES_URL")
    name = f"commops_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database: str | None) -> Iterator[Site]:
    ws = demo_workspace(
        tmp_path_factory.mktemp("members") / "ws", members=150, database_url=database
    )
    for seed in (seed_events, seed_content, seed_feedback, seed_governance):
        with ws.store.session() as session:
            seed(session, random.Random(7), actor="demo")
    with ws.store.session() as session:
        tagged = session.execute(
            select(Member).where(Member.is_bot.is_(False)).order_by(Member.id).limit(1)
        ).scalar_one()
        tagged.tags = ["ambassador"]
    yield ws, web_app(ws)
    ws.close()


@pytest.fixture(scope="module")
def viewer(site: Site) -> Iterator[WebClient]:
    client = client_as(site[1], "viewer")
    yield client
    client.close()


@pytest.fixture(scope="module")
def operator(site: Site) -> Iterator[WebClient]:
    client = client_as(site[1], "operator")
    yield client
    client.close()


def _email_member(ws: Workspace) -> tuple[int, str]:
    """A member with a git e-mail identity and another identity (to unmerge)."""
    with ws.store.session() as session:
        several = (
            select(Identity.member_id)
            .group_by(Identity.member_id)
            .having(func.count() > 1)
            .scalar_subquery()
        )
        ident = session.execute(
            select(Identity)
            .where(Identity.kind == "email", Identity.member_id.in_(several))
            .order_by(Identity.id)
            .limit(1)
        ).scalar_one()
        return ident.member_id, ident.value


def _plain_members(ws: Workspace, n: int) -> list[int]:
    """People with no decision on any identity (a merge of them cannot be refused)."""
    with ws.store.session() as session:
        decided = select(IdentityDecision.identity_a_id).union(
            select(IdentityDecision.identity_b_id)
        )
        busy = select(Identity.member_id).where(Identity.id.in_(decided))
        return list(
            session.execute(
                select(Member.id)
                .where(Member.is_bot.is_(False), Member.id.not_in(busy))
                .order_by(Member.id.desc())
                .limit(n)
            ).scalars()
        )


def _owner(ws: Workspace, identity_id: int) -> int:
    with ws.store.session() as session:
        return int(session.get(Identity, identity_id).member_id)  # type: ignore[union-attr]


def _identities(ws: Workspace, member_id: int) -> list[int]:
    with ws.store.session() as session:
        return list(
            session.execute(
                select(Identity.id).where(Identity.member_id == member_id).order_by(Identity.id)
            ).scalars()
        )


# -- the list ---------------------------------------------------------------------------------


def test_members_page_lists_a_page_of_members(site: Site, viewer: WebClient) -> None:
    response = viewer.get("/members")
    assert response.status_code == 200
    assert response.text.count('data-testid="member-row"') == 50
    assert 'href="/members/suggestions"' in response.text
    assert ">Next<" in response.text
    second = viewer.get("/members?offset=50")
    first_ids = set(re.findall(r'data-member-id="(\d+)"', response.text))
    assert first_ids.isdisjoint(re.findall(r'data-member-id="(\d+)"', second.text))


def test_members_api_pages_with_a_total(site: Site, viewer: WebClient) -> None:
    with site[0].store.session() as session:
        count = session.execute(select(func.count(Member.id))).scalar_one()
    page = viewer.get("/api/v1/members?limit=7&offset=7").json()
    assert page["total"] == count
    assert (page["limit"], page["offset"], len(page["items"])) == (7, 7, 7)
    names = [m["display_name"].lower() for m in page["items"]]
    assert names == sorted(names)


def test_members_filter_by_platform_organization_tag_and_level(
    site: Site, viewer: WebClient
) -> None:
    ws, app = site
    gitee = viewer.get("/api/v1/members?platform=gitee&limit=500").json()
    with ws.store.session() as session:
        on_gitee = set(
            session.execute(
                select(Identity.member_id).where(Identity.platform == "gitee")
            ).scalars()
        )
        democorp = set(
            session.execute(
                select(Enrollment.member_id)
                .join(Organization, Organization.id == Enrollment.organization_id)
                .where(Organization.name == "DemoCorp")
            ).scalars()
        )
    assert {m["id"] for m in gitee["items"]} == on_gitee
    orgs = viewer.get("/api/v1/members?organization=DemoCorp&limit=500").json()
    assert {m["id"] for m in orgs["items"]} == democorp
    tagged = viewer.get("/api/v1/members?tag=AMBASSADOR").json()
    assert [m["tags"] for m in tagged["items"]] == [["ambassador"]]
    levels = engagement_levels(app.state.insights)
    first = viewer.get("/api/v1/members?level=1&limit=500").json()
    assert {m["id"] for m in first["items"]} == {m for m, lv in levels.items() if lv == 1}
    assert all(m["level"] == 1 for m in first["items"])
    ranked = viewer.get("/api/v1/members?sort=level&limit=500").json()["items"]
    order = [m["level"] if m["level"] is not None else 5 for m in ranked]
    assert order == sorted(order)
    page = viewer.get("/members?platform=gitee&level=&bots=no")
    assert page.status_code == 200
    assert page.text.count('data-testid="member-row"') == min(50, len(on_gitee))


def test_members_search_finds_a_login_and_a_member_id(site: Site, viewer: WebClient) -> None:
    with site[0].store.session() as session:
        ident = session.execute(
            select(Identity).where(Identity.platform == "github").order_by(Identity.id).limit(1)
        ).scalar_one()
    found = viewer.get("/api/v1/members", params={"q": ident.value.upper()}).json()
    assert ident.member_id in {m["id"] for m in found["items"]}
    by_id = viewer.get("/api/v1/members", params={"q": str(ident.member_id)}).json()
    assert ident.member_id in {m["id"] for m in by_id["items"]}
    nothing = viewer.get("/members?q=no-such-person-anywhere")
    assert "No member matches these filters." in nothing.text


def test_email_addresses_are_shown_to_operators_only(
    site: Site, viewer: WebClient, operator: WebClient
) -> None:
    member_id, email = _email_member(site[0])
    as_viewer = viewer.get(f"/api/v1/members/{member_id}").json()
    as_operator = operator.get(f"/api/v1/members/{member_id}").json()
    assert None in [i["value"] for i in as_viewer["identities"]]
    assert email in [i["value"] for i in as_operator["identities"]]
    assert email not in viewer.get(f"/members/{member_id}").text
    assert email in operator.get(f"/members/{member_id}").text
    # Nor can a viewer find someone by their address.
    assert viewer.get("/api/v1/members", params={"q": email}).json()["total"] == 0
    assert member_id in {
        m["id"] for m in operator.get("/api/v1/members", params={"q": email}).json()["items"]
    }
    listed = viewer.get("/api/v1/members?limit=500").json()["items"]
    assert not any("@" in h for m in listed for h in m["handles"])


# -- the profile ------------------------------------------------------------------------------


def test_profile_shows_identities_contributions_and_a_paged_timeline(
    site: Site, viewer: WebClient
) -> None:
    member_id, _ = _email_member(site[0])
    profile = viewer.get(f"/api/v1/members/{member_id}").json()
    assert profile["id"] == member_id
    assert profile["activities"] == sum(i["activities"] for i in profile["identities"])
    assert 0 < sum(profile["contributions"].values()) <= profile["activities"]
    first = viewer.get(f"/api/v1/members/{member_id}/timeline?limit=5").json()
    second = viewer.get(f"/api/v1/members/{member_id}/timeline?limit=5&offset=5").json()
    assert first["total"] == profile["activities"]
    times = [a["occurred_at"] for a in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)
    assert {a["id"] for a in first["items"]}.isdisjoint(a["id"] for a in second["items"])
    page = viewer.get(f"/members/{member_id}")
    assert page.status_code == 200
    assert 'data-testid="timeline"' in page.text
    assert 'data-testid="merge-form"' not in page.text  # viewers merge nothing
    assert 'name="identity"' not in page.text


def test_profile_shows_roles_events_content_and_feedback(site: Site, viewer: WebClient) -> None:
    ws = site[0]
    with ws.store.session() as session:
        role_member = session.execute(select(RoleGrant.member_id).limit(1)).scalar_one()
        attendee = session.execute(
            select(Identity.member_id)
            .join(EventRegistration, EventRegistration.identity_id == Identity.id)
            .limit(1)
        ).scalar_one()
        author = session.execute(
            select(Identity.member_id)
            .join(ContentAuthor, ContentAuthor.identity_id == Identity.id)
            .limit(1)
        ).scalar_one()
        raiser = session.execute(
            select(Identity.member_id)
            .join(FeedbackItem, FeedbackItem.identity_id == Identity.id)
            .where(FeedbackItem.deleted_at.is_(None))
            .limit(1)
        ).scalar_one()
    assert viewer.get(f"/api/v1/members/{role_member}").json()["roles"]
    events = viewer.get(f"/api/v1/members/{attendee}").json()["events"]
    assert {e["role"] for e in events} & {"registered", "attended"}
    content = viewer.get(f"/api/v1/members/{author}").json()["content"]
    assert "author" in {c["role"] for c in content}
    assert viewer.get(f"/api/v1/members/{raiser}").json()["feedback"]
    page = viewer.get(f"/members/{attendee}")
    assert "No event." not in page.text
    assert f'href="/events/{events[0]["event_id"]}"' in page.text
    assert f'href="/content/{content[0]["item_id"]}"' in viewer.get(f"/members/{author}").text


def test_profile_shows_the_level_the_server_computed_in_the_background(
    site: Site, viewer: WebClient
) -> None:
    app = site[1]
    app.state.insights.refresh()  # a new snapshot: no level computed for it yet
    member_id, _ = _email_member(site[0])
    assert viewer.get(f"/api/v1/members/{member_id}").json()["level"] is None
    run = next(p.run for p in PERIODIC if p.name == "member-levels")
    run(app)
    expected = engagement_levels(app.state.insights)[member_id]
    assert viewer.get(f"/api/v1/members/{member_id}").json()["level"] == expected
    assert (
        f'<span class="badge good">Level {expected}</span>'
        in viewer.get(f"/members/{member_id}").text
    )


def test_profile_of_an_unknown_member_is_404(viewer: WebClient) -> None:
    response = viewer.get("/api/v1/members/99999999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no member 99999999"
    assert viewer.get("/members/99999999").status_code == 404


# -- merge, unmerge, split and undo ------------------------------------------------------------


def test_merge_two_members_and_undo_from_the_pages(site: Site, operator: WebClient) -> None:
    ws = site[0]
    target, other = _plain_members(ws, 2)
    moved = _identities(ws, other)
    response = operator.form(
        f"/members/{target}/merge", {"others": f"{other}", "reason": "same person"}
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"/members/{target}?undo=")
    assert all(_owner(ws, i) == target for i in moved)
    with ws.store.session() as session:
        assert session.get(Member, other) is None
    page = operator.get(location)
    assert 'data-testid="undo-form"' in page.text
    assert ">Undo merge</button>" in page.text
    assert "Members merged into this one." in page.text  # the flash message
    log_id = int(location.rsplit("=", 1)[1])
    undone = operator.form(f"/members/log/{log_id}/undo", {"next": f"/members/{target}"})
    assert undone.status_code == 303
    assert undone.headers["location"] == f"/members/{target}"
    assert all(_owner(ws, i) == other for i in moved)
    with ws.store.session() as session:
        entry = session.get(IdentityLog, log_id)
        assert entry is not None
        assert entry.undone_by_id is not None
        assert entry.actor == "web:operator"
    # Undone already: the box is gone.
    assert 'data-testid="undo-form"' not in operator.get(location).text
    log = operator.get(f"/members/log?member={target}")
    assert "undone by" in log.text


def test_merge_form_refuses_bad_input(site: Site, operator: WebClient) -> None:
    target, _ = _plain_members(site[0], 2)
    bad = operator.form(f"/members/{target}/merge", {"others": "abc"})
    assert bad.status_code == 400
    assert "is not a member id" in bad.text
    itself = operator.form(f"/members/{target}/merge", {"others": str(target)})
    assert itself.status_code == 400
    assert "with itself" in itself.text


def test_unmerge_split_and_undo_through_the_api(site: Site) -> None:
    ws, app = site
    client = token_client(ws, app, "operator", ("read", "write"))
    member_id, _ = _email_member(ws)
    idents = _identities(ws, member_id)
    out = client.post(
        f"/api/v1/members/{member_id}/unmerge", json={"identities": [idents[-1]], "reason": "t"}
    )
    assert out.status_code == 201, out.text
    entry = out.json()
    new_member = entry["changes"]["members_created"][0]
    assert _owner(ws, idents[-1]) == new_member
    assert entry["action"] == "unmerge"
    back = client.post(f"/api/v1/members/log/{entry['id']}/undo", json={})
    assert back.status_code == 200
    assert _owner(ws, idents[-1]) == member_id
    again = client.post(f"/api/v1/members/log/{entry['id']}/undo", json={})
    assert again.status_code == 409
    assert "already undone" in again.json()["detail"]
    split = client.post(f"/api/v1/members/{member_id}/split", json={"reason": "test"})
    assert split.status_code == 201
    assert len({_owner(ws, i) for i in idents}) == len(idents)
    assert client.post(f"/api/v1/members/log/{split.json()['id']}/undo").status_code == 200
    assert {_owner(ws, i) for i in idents} == {member_id}


def test_unmerge_refuses_identities_of_another_member(site: Site, operator: WebClient) -> None:
    ws = site[0]
    a, b = _plain_members(ws, 2)
    response = operator.form(f"/members/{a}/unmerge", {"identity": _identities(ws, b)[0]})
    assert response.status_code == 400
    assert f"not of member {a}" in response.text
    client = token_client(ws, site[1], "operator", ("read", "write"))
    api = client.post(f"/api/v1/members/{a}/unmerge", json={"identities": []})
    assert api.status_code == 422
    assert api.headers["content-type"] == "application/problem+json"


def test_merge_through_the_api_and_undo(site: Site) -> None:
    ws, app = site
    client = token_client(ws, app, "admin", ("read", "write"))
    target, other = _plain_members(ws, 2)
    before = [client.get(f"/api/v1/members/{m}").json() for m in (target, other)]
    merged = client.post(f"/api/v1/members/{target}/merge", json={"others": [other]})
    assert merged.status_code == 200, merged.text
    assert client.get(f"/api/v1/members/{other}").status_code == 404
    # The profile's totals follow the merge (they are not served from before it).
    after = client.get(f"/api/v1/members/{target}").json()
    assert after["activities"] == before[0]["activities"] + before[1]["activities"]
    assert sum(after["contributions"].values()) == sum(
        sum(b["contributions"].values()) for b in before
    )
    log = client.get(f"/api/v1/members/log?member={target}").json()
    assert log["items"][0]["id"] == merged.json()["id"]
    assert client.post(f"/api/v1/members/log/{merged.json()['id']}/undo").status_code == 200
    assert client.get(f"/api/v1/members/{other}").status_code == 200
    missing = client.post(f"/api/v1/members/{target}/merge", json={"others": [99999999]})
    assert missing.status_code == 400
    assert missing.json()["detail"] == "no member 99999999: nothing was merged"


# -- suggestions ------------------------------------------------------------------------------


def test_suggestions_accept_reject_and_undo(site: Site, operator: WebClient) -> None:
    ws = site[0]
    listed = operator.get("/api/v1/members/suggestions?limit=500").json()
    with ws.store.session() as session:
        open_count = session.execute(
            select(func.count()).where(MergeSuggestion.status == "open")
        ).scalar_one()
    assert listed["total"] == open_count >= 2
    scores = [s["score"] for s in listed["items"]]
    assert scores == sorted(scores, reverse=True)
    page = operator.get("/members/suggestions")
    assert page.text.count('data-testid="suggestion-row"') == open_count
    first, second = listed["items"][0], listed["items"][1]
    accepted = operator.form(f"/members/suggestions/{first['id']}/accept", {"reason": ""})
    assert accepted.status_code == 303
    assert "?undo=" in accepted.headers["location"]
    a, b = first["identity_a"]["id"], first["identity_b"]["id"]
    if _owner(ws, a) == _owner(ws, b):  # merged (not stale): undo puts them back apart
        log_id = int(accepted.headers["location"].rsplit("=", 1)[1])
        assert ">Undo merge</button>" in operator.get(accepted.headers["location"]).text
        assert operator.form(f"/members/log/{log_id}/undo").status_code == 303
        assert _owner(ws, a) != _owner(ws, b)
        with ws.store.session() as session:
            assert session.get(MergeSuggestion, first["id"]).status == "open"  # type: ignore[union-attr]
    rejected = operator.post(
        f"/api/v1/members/suggestions/{second['id']}/reject",
        json={"reason": "two people"},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["action"] in ("reject", "stale")
    twice = operator.post(
        f"/api/v1/members/suggestions/{second['id']}/reject",
        json={},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert twice.status_code == 409
    assert "already" in twice.json()["detail"]
    assert (
        operator.post(
            "/api/v1/members/suggestions/99999999/accept",
            json={},
            headers={"X-CSRF-Token": operator.csrf},
        ).status_code
        == 404
    )


def test_viewers_see_suggestions_without_emails_or_buttons(site: Site, viewer: WebClient) -> None:
    page = viewer.get("/members/suggestions?status=all")
    assert page.status_code == 200
    assert ">Accept</button>" not in page.text
    listed = viewer.get("/api/v1/members/suggestions?status=all&limit=500").json()["items"]
    for s in listed:
        for side in ("identity_a", "identity_b"):
            if s[side]["kind"] == "email":
                assert s[side]["value"] is None
        assert not any("@" in str(e.get("detail", "")) for e in s["evidence"])


# -- who may do what --------------------------------------------------------------------------


def test_only_operators_and_admins_change_members(site: Site, viewer: WebClient) -> None:
    ws, app = site
    a, b = _plain_members(ws, 2)
    assert viewer.form(f"/members/{a}/merge", {"others": str(b)}).status_code == 403
    assert viewer.form(f"/members/{a}/split").status_code == 403
    assert viewer.form("/members/log/1/undo").status_code == 403
    assert viewer.form("/members/suggestions/1/reject").status_code == 403
    reader = token_client(ws, app, "operator", ("read",))
    refused = reader.post(f"/api/v1/members/{a}/merge", json={"others": [b]})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert _owner(ws, _identities(ws, b)[0]) == b


def test_reviewers_and_strangers_see_no_member(site: Site) -> None:
    reviewer = client_as(site[1], "reviewer")
    try:
        assert reviewer.get("/members").status_code == 403
        assert reviewer.get("/api/v1/members").status_code == 403
        assert reviewer.get("/members/1").status_code == 403
    finally:
        reviewer.close()
    nobody = client_as(site[1], None)
    try:
        assert nobody.get("/api/v1/members").status_code == 401
        assert nobody.get("/members").status_code == 303
    finally:
        nobody.close()


def test_members_pages_in_chinese(site: Site, viewer: WebClient) -> None:
    page = viewer.get("/members", headers={"Accept-Language": "zh-CN"})
    assert "成员" in page.text
    assert "合并建议" in page.text


# -- tags and notes ---------------------------------------------------------------------------


def test_operator_tags_and_notes_a_member_and_undoes_it(site: Site, operator: WebClient) -> None:
    ws, _app = site
    (member_id,) = _plain_members(ws, 1)
    response = operator.form(
        f"/members/{member_id}/profile",
        {"tags": "Speaker, ambassador", "notes": "Met at the Shanghai meetup."},
    )
    assert response.status_code == 303
    undo_at = response.headers["location"]
    page = operator.get(undo_at)
    assert 'data-testid="member-notes">Met at the Shanghai meetup.<' in page.text
    with ws.store.session() as session:
        member = session.get(Member, member_id)
        assert member is not None
        assert member.tags == ["speaker", "ambassador"]
    tagged = operator.get("/api/v1/members?tag=speaker").json()
    assert member_id in [m["id"] for m in tagged["items"]]
    log_id = int(undo_at.split("undo=")[1])
    assert operator.form(f"/members/log/{log_id}/undo", {"next": undo_at}).status_code == 303
    with ws.store.session() as session:
        member = session.get(Member, member_id)
        assert member is not None
        assert member.tags == []
        assert member.notes is None


def test_profile_api_changes_tags_and_refuses_bad_ones(site: Site) -> None:
    ws, app = site
    (member_id,) = _plain_members(ws, 2)[1:]
    api = token_client(ws, app, "operator", ("read", "write"))
    done = api.patch(f"/api/v1/members/{member_id}", json={"add_tags": ["user-committee"]})
    assert done.status_code == 200
    assert done.json()["changed"] is True
    assert done.json()["log"]["action"] == "profile"
    again = api.patch(f"/api/v1/members/{member_id}", json={"add_tags": ["user-committee"]})
    assert again.json() == {"changed": False, "log": None}
    bad = api.patch(f"/api/v1/members/{member_id}", json={"add_tags": ["two words"]})
    assert bad.status_code == 400
    assert "no spaces" in bad.json()["detail"]
    assert api.patch("/api/v1/members/999999", json={"notes": "x"}).status_code == 404
    viewer = token_client(ws, app, "viewer", ("read", "write"))
    refused = viewer.patch(f"/api/v1/members/{member_id}", json={"notes": "x"})
    assert refused.status_code == 403
