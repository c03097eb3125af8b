"""Organizations and affiliations: domains, dated enrollments from real git histories, manual
overrides, bad input, and the ``commops orgs`` commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from commops.cli.app import app
from commops.clock import utcnow
from commops.errors import ConfigError, UsageError
from commops.identity.orgs import (
    PUBLIC_BRANDS,
    SEED_DOMAINS,
    add_domain,
    affiliate,
    affiliations_at,
    derive_spans,
    enroll,
    ensure_organization,
    find_member,
    is_public_domain,
    list_organizations,
    organization_detail,
    organization_for_email,
    registrable_domain,
    unenroll,
)
from commops.sources import add_git_source
from commops.store.models import Enrollment, Identity, IdentityLog, Member, Organization
from commops.sync import sync_workspace
from commops.workspace import Workspace
from conftest import GitRepo

ALICE_QC = "Alice Chen <alice@qingcloud.com>"
ALICE_HW = "Alice Chen <alice@huawei.com>"
BOB = "Bob Li <bob@gmail.com>"
CAROL = "Carol Wang <carol@mails.tsinghua.edu.cn>"


# -- domains ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "someone@gmail.com",
        "Someone@GMAIL.com",
        "12345@qq.com",
        "x@vip.qq.com",
        "x@163.com",
        "x@126.com",
        "x@yahoo.co.jp",
        "x@mail.yahoo.co.jp",
        "x@hotmail.fr",
        "x@outlook.jp",
        "x@gmx.at",
        "x@yandex.kz",
        "x@proton.me",
        "49699333+dependabot[bot]@users.noreply.github.com",
        "12345+alice@users.noreply.github.com",
        "alice@noreply.gitee.com",
        "root@localhost",
        "alice@alices-macbook.local",
        "build@ci.lan",
        "root@buildhost",
        "x@10.1.2.3",
        "no-at-sign.huawei.com",
        "@huawei.com",
        "",
    ],
)
def test_public_local_and_malformed_addresses_never_map(email: str) -> None:
    assert organization_for_email(email, {"gmail.com": "Gmail Inc"}) is None


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("alice@qingcloud.com", ("QingCloud", "company")),
        ("alice@yunify.com", ("QingCloud", "company")),
        ("Alice@KubeSphere.io", ("KubeSphere", "community")),
        ("x@mails.tsinghua.edu.cn", ("Tsinghua University", "university")),
        ("x@mail.ustc.edu.cn", ("University of Science and Technology of China", "university")),
        ("x@cs.cmu.edu", ("Carnegie Mellon University", "university")),
        ("x@huawei.com", ("Huawei", "company")),
        ("x@github.com", ("GitHub", "company")),
        ("x@example.org", ("Example Inc", "company")),
        ("x@eu.example.org", ("Example Inc", "company")),
        ("x@cloud.huawei.com", ("Huawei Cloud", "company")),
        ("x@google.com", ("Alphabet", "company")),
        ("x@unknown-corp.com", None),
    ],
)
def test_seed_and_config_domains_map_with_subdomains(
    email: str, expected: tuple[str, str] | None
) -> None:
    config = {
        "example.org": "Example Inc",
        "cloud.huawei.com": "Huawei Cloud",  # the longest suffix wins
        "google.com": "Alphabet",  # config overrides the seed
    }
    assert organization_for_email(email, config) == expected


def test_extra_public_providers_cover_subdomains_and_brands() -> None:
    extra = ["example-mail.com", "mymail.*"]
    assert organization_for_email("x@example-mail.com", {"example-mail.com": "E"}, extra) is None
    assert organization_for_email("x@eu.example-mail.com", {"example-mail.com": "E"}, extra) is None
    assert is_public_domain("mymail.co.uk", extra)
    assert is_public_domain("mymail.de", extra)
    assert not is_public_domain("mymail.de")
    assert not is_public_domain("qingcloud.com", extra)


def test_registrable_domain() -> None:
    assert registrable_domain("mail.yahoo.co.jp") == "yahoo.co.jp"
    assert registrable_domain("mails.tsinghua.edu.cn") == "tsinghua.edu.cn"
    assert registrable_domain("a.b.example.com") == "example.com"
    assert registrable_domain("example.com") == "example.com"


def test_seed_list_has_no_public_or_malformed_domain() -> None:
    for domain in SEED_DOMAINS:
        assert organization_for_email(f"x@{domain}") == SEED_DOMAINS[domain], domain


def test_docs_list_the_seed_and_the_public_brands() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "organizations.md").read_text(
        encoding="utf-8"
    )
    seed = re.findall(r"^\| (.+?) \| (\w+) \| (`.+) \|$", text, flags=re.MULTILINE)
    documented = {d.strip("` "): (name, kind) for name, kind, cell in seed for d in cell.split(",")}
    assert documented == SEED_DOMAINS
    for brand in PUBLIC_BRANDS:
        assert f"`{brand}`" in text, brand


def test_derive_spans_person_moves_and_dual_affiliation() -> None:
    d = date
    moved = derive_spans(
        {"A": (d(2023, 1, 5), d(2023, 12, 1)), "B": (d(2024, 1, 2), d(2024, 6, 1)), "C": None}
    )
    assert moved == {
        "A": (d(2023, 1, 5), d(2023, 12, 1)),
        "B": (d(2024, 1, 2), None),
        "C": (None, None),
    }
    # A continues after B stops: A stays open, B ends at its last activity.
    both = derive_spans({"A": (d(2022, 1, 1), d(2024, 6, 1)), "B": (d(2023, 1, 1), d(2024, 3, 1))})
    assert both == {"A": (d(2022, 1, 1), None), "B": (d(2023, 1, 1), d(2024, 3, 1))}
    # Same last day: nobody moved.
    same = derive_spans({"A": (d(2022, 1, 1), d(2024, 6, 1)), "B": (d(2023, 1, 1), d(2024, 6, 1))})
    assert same == {"A": (d(2022, 1, 1), None), "B": (d(2023, 1, 1), None)}


# -- a real history ---------------------------------------------------------------------------


def build_history(repo: GitRepo, *, mailmap: bool) -> None:
    if mailmap:
        repo.write(".mailmap", "Alice Chen <alice@huawei.com> <alice@qingcloud.com>\n")
    repo.commit("a1", author=ALICE_QC, date="2023-03-01T12:00:00+00:00", files={"a": "1"})
    repo.commit("b1", author=BOB, date="2023-05-01T12:00:00+00:00", files={"b": "1"})
    repo.commit("a2", author=ALICE_QC, date="2023-11-20T12:00:00+00:00", files={"a": "2"})
    repo.commit("c1", author=CAROL, date="2023-12-01T12:00:00+00:00", files={"c": "1"})
    repo.commit("a3", author=ALICE_HW, date="2024-02-10T12:00:00+00:00", files={"a": "3"})
    repo.commit("a4", author=ALICE_HW, date="2024-06-01T12:00:00+00:00", files={"a": "4"})


def import_history(ws: Workspace, repo: GitRepo) -> None:
    add_git_source(ws.store, str(repo.path), name="repo")
    results = sync_workspace(ws)
    assert [r.error for r in results] == [None]


def member_of(session: Session, email: str) -> int:
    return session.execute(
        select(Identity.member_id).where(Identity.kind == "email", Identity.value == email)
    ).scalar_one()


def enrollments_of(session: Session, member_id: int) -> list[tuple[str, Any, Any, str | None]]:
    rows = session.execute(
        select(Organization.name, Enrollment.start_date, Enrollment.end_date, Enrollment.origin)
        .join(Organization, Organization.id == Enrollment.organization_id)
        .where(Enrollment.member_id == member_id)
        .order_by(Enrollment.start_date, Organization.name)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def all_enrollments(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(
            Enrollment.id,
            Enrollment.member_id,
            Enrollment.organization_id,
            Enrollment.start_date,
            Enrollment.end_date,
            Enrollment.origin,
        ).order_by(Enrollment.id)
    )
    return [tuple(r) for r in rows]


def state(ws: Workspace) -> tuple[Any, ...]:
    """Everything an organizations change may touch, to check that a failure changed nothing."""
    with ws.store.session() as s:
        orgs = [
            (o.id, o.name, o.kind, list(o.domains))
            for o in s.execute(select(Organization).order_by(Organization.id)).scalars()
        ]
        log = s.execute(select(func.count()).select_from(IdentityLog)).scalar_one()
        return (orgs, all_enrollments(s), log)


@pytest.fixture
def moved(workspace: Workspace, git_repo: GitRepo) -> Workspace:
    """Alice at QingCloud in 2023 and Huawei in 2024 (linked by the repo's .mailmap), Bob on
    Gmail, Carol at Tsinghua; enrollments derived."""
    build_history(git_repo, mailmap=True)
    import_history(workspace, git_repo)
    with workspace.store.session() as s:
        affiliate(s)
    return workspace


def test_mailmap_person_gets_two_dated_enrollments(moved: Workspace) -> None:
    with moved.store.session() as s:
        alice = member_of(s, "alice@qingcloud.com")
        assert member_of(s, "alice@huawei.com") == alice
        assert enrollments_of(s, alice) == [
            ("QingCloud", date(2023, 3, 1), date(2023, 11, 20), "domain"),
            ("Huawei", date(2024, 2, 10), None, "domain"),
        ]
        assert enrollments_of(s, member_of(s, "bob@gmail.com")) == []
        assert enrollments_of(s, member_of(s, "carol@mails.tsinghua.edu.cn")) == [
            ("Tsinghua University", date(2023, 12, 1), None, "domain")
        ]
        orgs = {o.name: o for o in list_organizations(s, today=date(2024, 7, 1))}
        assert sorted(orgs) == ["Huawei", "QingCloud", "Tsinghua University"]
        assert (orgs["Huawei"].members, orgs["QingCloud"].members) == (1, 0)
        assert orgs["QingCloud"].members_ever == 1
        assert orgs["QingCloud"].domains == ["qingcloud.com", "yunify.com"]
        assert orgs["Tsinghua University"].kind == "university"
        at = affiliations_at(s, [alice], date(2023, 6, 1))
        assert at == {alice: "QingCloud"}
        assert affiliations_at(s, [alice], date(2024, 3, 1)) == {alice: "Huawei"}
        assert affiliations_at(s, [alice], date(2023, 12, 15)) == {}
        assert affiliations_at(s, [alice], date(2022, 1, 1)) == {}


def test_affiliate_twice_changes_nothing(moved: Workspace) -> None:
    before = state(moved)
    with moved.store.session() as s:
        stats = affiliate(s)
    assert (stats.enrollments_added, stats.enrollments_removed) == (0, 0)
    assert stats.enrollments_unchanged == 3
    assert stats.organizations_created == []
    assert state(moved) == before


def test_merge_found_later_is_picked_up_by_rerun(workspace: Workspace, git_repo: GitRepo) -> None:
    build_history(git_repo, mailmap=False)
    workspace.config.resolve_after_sync = False  # the resolver would join Alice's addresses
    import_history(workspace, git_repo)
    with workspace.store.session() as s:
        affiliate(s)
        qc, hw = member_of(s, "alice@qingcloud.com"), member_of(s, "alice@huawei.com")
        assert qc != hw
        assert enrollments_of(s, qc) == [("QingCloud", date(2023, 3, 1), None, "domain")]
        # Merge Alice's two members the way the resolver does: move the identity.
        ident = s.execute(
            select(Identity).where(Identity.value == "alice@qingcloud.com")
        ).scalar_one()
        ident.member_id = hw
    with workspace.store.session() as s:
        stats = affiliate(s)
        assert enrollments_of(s, hw) == [
            ("QingCloud", date(2023, 3, 1), date(2023, 11, 20), "domain"),
            ("Huawei", date(2024, 2, 10), None, "domain"),
        ]
        assert enrollments_of(s, qc) == []  # the emptied member's enrollment went away
        # Removed: qc's open QingCloud; added: hw's dated QingCloud; hw's Huawei is unchanged.
        assert (stats.enrollments_removed, stats.enrollments_added) == (1, 1)
        assert stats.enrollments_unchanged == 2  # hw's Huawei and Carol's Tsinghua
    with workspace.store.session() as s:
        assert affiliate(s).enrollments_added == 0


def test_affiliate_only_named_members(moved: Workspace) -> None:
    with moved.store.session() as s:
        carol = member_of(s, "carol@mails.tsinghua.edu.cn")
        s.execute(Enrollment.__table__.delete())
    with moved.store.session() as s:
        stats = affiliate(s, member_ids=[carol])
        assert stats.members == 1
        assert [e[5] for e in all_enrollments(s)] == ["domain"]
        assert enrollments_of(s, carol) == [
            ("Tsinghua University", date(2023, 12, 1), None, "domain")
        ]


def test_affiliate_uses_a_fixed_number_of_queries(workspace: Workspace, git_repo: GitRepo) -> None:
    """One grouped query for every identity's dates, never one per member: twice the people
    costs no more statements."""
    counts = []
    for n in (2, 6):
        for i in range(len(counts) * 2, n):
            git_repo.commit(
                f"c{i}",
                author=f"P{i} <p{i}@corp{i}.example-co.com>",
                date=f"2023-0{1 + i % 9}-01T12:00:00+00:00",
                files={f"f{i}": "x"},
            )
        if not counts:
            add_git_source(workspace.store, str(git_repo.path), name="repo")
        assert [r.error for r in sync_workspace(workspace)] == [None]
        domains = {f"corp{i}.example-co.com": f"Corp {i}" for i in range(n)}
        statements: list[str] = []

        def count(*args: Any, statements: list[str] = statements) -> None:
            statements.append(str(args[2]))

        event.listen(workspace.store.engine, "before_cursor_execute", count)
        try:
            with workspace.store.session() as s:
                # Organizations made beforehand: creating them costs statements of its own.
                for name in domains.values():
                    ensure_organization(s, name)
                assert s.execute(select(func.count()).select_from(Member)).scalar_one() == n
            statements.clear()
            with workspace.store.session() as s:
                stats = affiliate(s, extra_domains=domains)
            assert stats.members_affiliated == n
        finally:
            event.remove(workspace.store.engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1]


# -- manual enrollments -----------------------------------------------------------------------


def test_manual_enrollment_wins_over_domains(moved: Workspace) -> None:
    with moved.store.session() as s:
        alice = member_of(s, "alice@huawei.com")
        ensure_organization(s, "KubeSphere", "community")
        e = enroll(s, alice, "kubesphere", start=date(2024, 7, 1), actor="tester", reason="TOC")
        added = e.id
    with moved.store.session() as s:
        assert enrollments_of(s, alice) == [("KubeSphere", date(2024, 7, 1), None, "manual")]
        entry = s.execute(select(IdentityLog).where(IdentityLog.action == "enroll")).scalar_one()
        assert (entry.actor, entry.reason) == ("tester", "TOC")
        assert entry.changes["enrollments_added"] == [added]
        assert [r["origin"] for r in entry.changes["enrollments_removed"]] == ["domain", "domain"]
        stats = affiliate(s)
        assert stats.members_manual == 1
        assert enrollments_of(s, alice) == [("KubeSphere", date(2024, 7, 1), None, "manual")]
        assert affiliations_at(s, [alice], date(2024, 8, 1)) == {alice: "KubeSphere"}
        # A second, non-overlapping manual enrollment in the same organization is fine.
        enroll(s, alice, "KubeSphere", start=date(2020, 1, 1), end=date(2020, 12, 31), actor="t")
    with moved.store.session() as s:
        removed = unenroll(s, added, actor="tester")
        assert removed["organization_id"] == organization_detail(s, "KubeSphere").id
        entry = s.execute(select(IdentityLog).where(IdentityLog.action == "unenroll")).scalar_one()
        assert entry.changes == {"enrollments_removed": [removed]}
        # Still one manual enrollment (2020): no domain ones yet.
        assert affiliate(s, member_ids=[alice]).enrollments_added == 0
        old = s.execute(select(Enrollment.id).where(Enrollment.member_id == alice)).scalar_one()
        unenroll(s, old, actor="tester")
        assert affiliate(s, member_ids=[alice]).enrollments_added == 2
        assert [e[0] for e in enrollments_of(s, alice)] == ["QingCloud", "Huawei"]


def test_affiliations_prefer_manual_then_import_then_latest_start(
    sqlite_workspace: Workspace,
) -> None:
    with sqlite_workspace.store.session() as s:
        m = Member(display_name="M", created_at=utcnow())
        s.add(m)
        for name in ("A", "B", "C", "D"):
            ensure_organization(s, name)
        s.flush()
        enroll(s, m.id, "A", actor="t", origin="import")
        enroll(s, m.id, "B", start=date(2020, 1, 1), actor="t")
        enroll(s, m.id, "C", start=date(2022, 1, 1), end=date(2022, 12, 31), actor="t")
        # A domain enrollment left over from before (affiliate would remove it).
        s.add(
            Enrollment(
                member_id=m.id, organization_id=organization_detail(s, "D").id, origin="domain"
            )
        )
        s.flush()
        assert affiliations_at(s, [m.id, 999], date(2019, 6, 1)) == {m.id: "A"}
        assert affiliations_at(s, [m.id], date(2021, 1, 1)) == {m.id: "B"}
        assert affiliations_at(s, [m.id], date(2022, 6, 1)) == {m.id: "C"}
        assert affiliations_at(s, [m.id], date(2023, 1, 1)) == {m.id: "B"}
        assert affiliations_at(s, [], date(2023, 1, 1)) == {}


# -- bad input --------------------------------------------------------------------------------


def test_bad_input_raises_and_changes_nothing(moved: Workspace) -> None:
    with moved.store.session() as s:
        alice = member_of(s, "alice@huawei.com")
        ensure_organization(s, "Example Inc", domains=["example.org"])
        enroll(s, alice, "Example Inc", start=date(2024, 1, 1), end=date(2024, 12, 31), actor="t")
        domain_enr = (
            s.execute(select(Enrollment.id).where(Enrollment.origin == "domain")).scalars().first()
        )
    before = state(moved)
    cases: list[tuple[Any, str]] = [
        (lambda s: enroll(s, alice, "Nope Corp", actor="t"), "no organization 'Nope Corp'"),
        (lambda s: enroll(s, 99999, "Huawei", actor="t"), "no member with id 99999"),
        (
            lambda s: enroll(
                s, alice, "Huawei", start=date(2024, 5, 1), end=date(2024, 1, 1), actor="t"
            ),
            f"enrollment of member {alice}: start 2024-05-01 is after end 2024-01-01",
        ),
        (
            lambda s: enroll(s, alice, "example inc", start=date(2024, 6, 1), actor="t"),
            "(enrollment ",
        ),
        (lambda s: add_domain(s, "Huawei", "not a domain"), "'not a domain' is not an e-mail"),
        (lambda s: add_domain(s, "Huawei", "localhost"), "'localhost' is not an e-mail domain"),
        (lambda s: add_domain(s, "Huawei", "laptop.local"), "is not an e-mail domain"),
        (
            lambda s: add_domain(s, "Huawei", "GMAIL.com"),
            "gmail.com is a public e-mail provider: it never implies an organization",
        ),
        (lambda s: add_domain(s, "Huawei", "yahoo.co.jp"), "yahoo.co.jp is a public e-mail"),
        (
            lambda s: add_domain(s, "Huawei", "example.org"),
            "example.org already belongs to organization 'Example Inc'",
        ),
        (
            lambda s: add_domain(s, "Huawei", "example.net", configured={"example.net": "Ex"}),
            "example.net is mapped to 'Ex' by [organizations.domains] in commops.toml",
        ),
        (lambda s: add_domain(s, "Nope Corp", "nope.com"), "no organization 'Nope Corp'"),
        (
            lambda s: ensure_organization(s, "New Org", domains=["new.org", "qq.com"]),
            "qq.com is a public e-mail provider",
        ),
        (lambda s: ensure_organization(s, "New Org", kind="shop"), "organization kind 'shop'"),
        (lambda s: ensure_organization(s, "   "), "an organization needs a name"),
        (lambda s: unenroll(s, 99999, actor="t"), "no enrollment with id 99999"),
        (lambda s: unenroll(s, domain_enr, actor="t"), "was derived from e-mail domains"),
        (lambda s: organization_detail(s, "Nope Corp"), "no organization 'Nope Corp'"),
        (lambda s: find_member(s, "nobody@nowhere.org"), "no identity 'nobody@nowhere.org'"),
    ]
    for call, message in cases:
        with pytest.raises(UsageError) as info, moved.store.session() as s:
            call(s)
        assert message in info.value.message
        assert state(moved) == before, message


def test_add_domain_creates_and_records_once(sqlite_workspace: Workspace) -> None:
    with sqlite_workspace.store.session() as s:
        org = add_domain(s, "Example Inc", "@Example.COM.", create=True)
        assert (org.name, org.kind, org.domains) == ("Example Inc", "company", ["example.com"])
        again = add_domain(s, "example inc", "example.com")
        assert (again.id, again.domains) == (org.id, ["example.com"])
        same = ensure_organization(s, "EXAMPLE INC", "university", ["eu.example.com"])
        assert (same.id, same.kind, same.domains) == (
            org.id,
            "company",
            ["eu.example.com", "example.com"],
        )
        assert add_domain(s, org.id, "example.net").domains[-1] == "example.net"
        assert [o.name for o in list_organizations(s)] == ["Example Inc"]


def test_config_domains_are_checked(moved: Workspace) -> None:
    before = state(moved)
    for config, message in (
        ({"gmail.com": "Google"}, "[organizations.domains] gmail.com is a public e-mail provider"),
        ({"nodot": "X"}, "[organizations.domains] 'nodot' is not an e-mail domain"),
    ):
        with pytest.raises(ConfigError) as info, moved.store.session() as s:
            affiliate(s, extra_domains=config)
        assert message in info.value.message
    assert state(moved) == before


def test_config_domain_moves_a_domain_and_its_members(moved: Workspace) -> None:
    with moved.store.session() as s:
        stats = affiliate(s, extra_domains={"huawei.com": "Huawei Technologies"})
        alice = member_of(s, "alice@huawei.com")
        assert enrollments_of(s, alice)[1] == (
            "Huawei Technologies",
            date(2024, 2, 10),
            None,
            "domain",
        )
        assert stats.organizations_created == ["Huawei Technologies"]
        assert "huawei.com" not in organization_detail(s, "Huawei").domains
        assert organization_detail(s, "Huawei Technologies").domains == ["huawei.com"]


def test_find_member_by_email_login_and_ambiguity(moved: Workspace) -> None:
    with moved.store.session() as s:
        alice = member_of(s, "alice@huawei.com")
        assert find_member(s, "ALICE@QingCloud.com") == alice
        assert find_member(s, str(alice)) == alice
        bob = member_of(s, "bob@gmail.com")
        for platform, member in (("github", alice), ("gitee", bob)):
            s.add(
                Identity(
                    platform=platform,
                    kind="username",
                    value="alice",
                    member_id=member,
                    created_at=utcnow(),
                )
            )
        s.flush()
        assert find_member(s, "github:alice") == alice
        assert find_member(s, "github:ALICE") == alice  # logins: any case
        with pytest.raises(UsageError) as info:
            find_member(s, "alice")
        assert info.value.message == (
            f"'alice' is ambiguous: gitee:alice -> member {bob}, github:alice -> member {alice}"
        )


# -- the command line -------------------------------------------------------------------------


def test_cli_round_trip(moved: Workspace, cli: CliRunner) -> None:
    def run(*args: str, ok: bool = True) -> Any:
        result = cli.invoke(app, ["--workspace", str(moved.root), "orgs", *args])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.exception)
        return result

    def js(*args: str) -> Any:
        return json.loads(run(*args, "--json").stdout)

    stats = js("affiliate")
    assert (stats["enrollments_added"], stats["enrollments_unchanged"]) == (0, 3)
    listed = {o["name"]: o for o in js("list")}
    assert listed["Huawei"]["domains"] == ["huawei.com"]
    shown = js("show", "qingcloud")
    assert [(e["display_name"], e["start_date"], e["end_date"]) for e in shown["enrollments"]] == [
        ("Alice Chen", "2023-03-01", "2023-11-20")
    ]
    added = js("add", "KubeSphere", "--kind", "community", "--domain", "kubesphere.com.cn")
    assert added["created"] is True
    assert added["domains"] == ["kubesphere.com.cn"]
    more = js("add-domain", "KubeSphere", "kubesphere.io", "KubeSphere.dev")
    assert more["domains"] == ["kubesphere.com.cn", "kubesphere.dev", "kubesphere.io"]
    enrolled = js("enroll", "alice@HUAWEI.com", "kubesphere", "--from", "2024-07-01")
    assert (enrolled["organization"], enrolled["start_date"], enrolled["end_date"]) == (
        "KubeSphere",
        "2024-07-01",
        None,
    )
    shown = js("show", "KubeSphere")
    assert [e["origin"] for e in shown["enrollments"]] == ["manual"]
    gone = js("unenroll", str(enrolled["enrollment_id"]))
    assert gone["domain_enrollments_added"] == 2
    assert js("show", "KubeSphere")["enrollments"] == []
    assert "Huawei" in run("list").stdout

    before = state(moved)
    for args, error, message in (
        (("add-domain", "Huawei", "gmail.com"), UsageError, "gmail.com is a public e-mail"),
        (
            ("add-domain", "Huawei", "huawei.de", "kubesphere.io"),
            UsageError,
            "kubesphere.io already belongs to organization 'KubeSphere'",
        ),
        (("enroll", "nobody@x.org", "Huawei"), UsageError, "no identity 'nobody@x.org'"),
        (("enroll", "bob@gmail.com", "Nope"), UsageError, "no organization 'Nope'"),
        (
            ("enroll", "bob@gmail.com", "Huawei", "--from", "2024-02-30"),
            UsageError,
            "--from '2024-02-30' is not a date",
        ),
        (
            ("enroll", "bob@gmail.com", "Huawei", "--from", "2024-03-01", "--until", "2024-02-01"),
            UsageError,
            "start 2024-03-01 is after end 2024-02-01",
        ),
        (("add", "X", "--kind", "shop"), UsageError, "organization kind 'shop'"),
    ):
        result = run(*args, ok=False)
        assert isinstance(result.exception, error), (args, result.exception)
        assert message in result.exception.message, args
        assert state(moved) == before, args
