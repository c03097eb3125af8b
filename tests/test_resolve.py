"""The identity resolver: normalisation, evidence, automatic merges, suggestions, decisions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from commops.cli import app
from commops.connectors.base import IdentityRef
from commops.identity.bots import BotRules
from commops.identity.names import (
    full_name,
    is_generic,
    name_tokens,
    parse_email,
)
from commops.identity.registry import IdentityRegistry
from commops.identity.resolve import make_profile, resolve, score_pair
from commops.sources import add_git_source
from commops.store.models import (
    Activity,
    Identity,
    IdentityDecision,
    IdentityLog,
    Member,
    MergeSuggestion,
)
from commops.sync import sync_workspace
from commops.workspace import Workspace
from conftest import GitRepo

# -- normalisation ------------------------------------------------------------------------------


def test_resolve_names_fold_accents_case_camel_and_comma_order() -> None:
    assert name_tokens("Dieter Werthmüller") == ("dieter", "werthmuller")
    assert name_tokens("MikhailRyazanov") == ("mikhail", "ryazanov")
    assert name_tokens("Flamm, Matthew H") == ("matthew", "h", "flamm")
    assert name_tokens("ＪＯＨＮ  ＳＭＩＴＨ") == ("john", "smith")  # full-width
    assert name_tokens("!!! ...") == ()


def test_resolve_chinese_names_transliterate_with_surname_readings() -> None:
    assert name_tokens("赵发威") == ("zhao", "fawei")
    assert sorted(name_tokens("赵发威")) == sorted(name_tokens("Fawei Zhao"))
    assert name_tokens("单雄信")[0] == "shan"  # the surname reading, not the default "dan"
    assert name_tokens("曾国藩")[0] == "zeng"
    assert name_tokens("欧阳修") == ("ouyang", "xiu")  # a compound surname is one word


def test_resolve_generic_and_one_word_names_are_not_full_names() -> None:
    for name in ("root", "Unknown", "Your Name", "--", "", "Daniel"):
        assert full_name(name) is None, name
    assert is_generic("root")
    assert is_generic("...")
    assert not is_generic("Ada Lovelace")
    assert full_name("J. Smith") is None  # one real word
    assert full_name("Ada Lovelace") == ("ada", "lovelace")


def test_resolve_emails_normalised_and_noreply_logins_read() -> None:
    a = parse_email("Jane.Doe+github@GMail.com")
    assert a is not None
    assert a.normalized == "janedoe@gmail.com"
    assert parse_email("jane.doe@googlemail.com").normalized == "janedoe@gmail.com"  # type: ignore[union-attr]
    assert parse_email("Jane@Example.ORG").normalized == "jane@example.org"  # type: ignore[union-attr]
    nr = parse_email("1234+FaweiZhao26@users.noreply.github.com")
    assert nr is not None
    assert (nr.login, nr.login_platform) == ("faweizhao26", "github")
    for bad in ("", "nobody", "a@b@c", "<>", "two words@example.org"):
        assert parse_email(bad) is None, bad


# -- evidence ----------------------------------------------------------------------------------


def _p(i: int, platform: str, kind: str, value: str, name: str | None = None) -> object:
    return make_profile(i, i, platform, kind, value, name, [], False)


def test_resolve_same_email_any_case_is_certain() -> None:
    score, ev = score_pair(
        _p(1, "git", "email", "Ada@Example.org", "Ada"),  # type: ignore[arg-type]
        _p(2, "git", "email", "ada@example.org", "A. L."),  # type: ignore[arg-type]
    )
    assert score == 1.0
    assert ev[0].signal == "email"


def test_resolve_noreply_address_is_the_github_account() -> None:
    score, ev = score_pair(
        _p(1, "git", "email", "99+faweizhao26@users.noreply.github.com", "fz"),  # type: ignore[arg-type]
        _p(2, "github", "username", "FaweiZhao26", None),  # type: ignore[arg-type]
    )
    assert score == 1.0
    assert [e.signal for e in ev] == ["account"]


def test_resolve_a_name_alone_or_a_one_word_name_never_merges() -> None:
    one_word, _ = score_pair(
        _p(1, "git", "email", "daniel@a.example", "Daniel"),  # type: ignore[arg-type]
        _p(2, "git", "email", "daniel@b.example", "Daniel"),  # type: ignore[arg-type]
    )
    assert one_word < 0.5  # not even suggested
    name_only, ev = score_pair(
        _p(1, "discourse", "username", "fzhao", "Fawei Zhao"),  # type: ignore[arg-type]
        _p(2, "csv", "name", "赵发威", "赵发威"),  # type: ignore[arg-type]
    )
    assert 0.5 <= name_only < 0.8
    assert not any(e.to_json()["strong"] for e in ev)
    generic, _ = score_pair(
        _p(1, "git", "email", "root@host1", "root"),  # type: ignore[arg-type]
        _p(2, "git", "email", "root@host2", "root"),  # type: ignore[arg-type]
    )
    assert generic == 0.0


def test_resolve_email_local_part_spelling_the_name_is_strong() -> None:
    score, ev = score_pair(
        _p(1, "git", "email", "fawei.zhao@company.com", "fawei"),  # type: ignore[arg-type]
        _p(2, "github", "username", "fz26", "Fawei Zhao"),  # type: ignore[arg-type]
    )
    assert [e.signal for e in ev] == ["full-name-email"]
    assert score >= 0.8
    # When both carry the name already, a handle spelling it adds nothing.
    score, ev = score_pair(
        _p(1, "git", "email", "fawei@company.com", "Fawei Zhao"),  # type: ignore[arg-type]
        _p(2, "github", "username", "faweizhao26", "Fawei Zhao"),  # type: ignore[arg-type]
    )
    assert [e.signal for e in ev] == ["name"]
    assert score < 0.8


# -- runs against a store ------------------------------------------------------------------------

FAWEI = [
    IdentityRef("git", "email", "fawei@company.com", "Fawei Zhao"),
    IdentityRef("github", "username", "faweizhao26", "Fawei Zhao"),
    IdentityRef("gitee", "username", "faweizhao26", "Fawei Zhao"),
    IdentityRef("discourse", "username", "fawei_zhao", "Fawei Zhao"),
    IdentityRef("csv", "name", "赵发威", "赵发威"),
    IdentityRef("discourse", "username", "fz2000", "Fawei Zhao"),
]


def _store(ws: Workspace, refs: list[IdentityRef]) -> dict[str, int]:
    with ws.store.session() as session:
        reg = IdentityRegistry(session, BotRules())
        reg.ensure(refs)
        reg.flush_names()
        return {f"{r.platform}:{r.value}": reg.id_of(r) for r in refs}


def _members(ws: Workspace) -> dict[int, int]:
    with ws.store.session() as session:
        return dict(session.execute(select(Identity.id, Identity.member_id)).all())


def test_resolve_one_person_across_platforms(workspace: Workspace) -> None:
    ids = _store(workspace, FAWEI)
    with workspace.store.session() as session:
        stats = resolve(session)
    member = _members(workspace)
    # The same login on GitHub and Gitee (and the name); the forum handle fawei_zhao is
    # faweizhao26 less its digits (and the name): merged.
    core = {member[ids[k]] for k in ("github:faweizhao26", "gitee:faweizhao26")}
    core.add(member[ids["discourse:fawei_zhao"]])
    assert len(core) == 1
    # Identities that share only the name with them are suggested, never merged: the git
    # address (fawei@ is a first name), the Chinese sign-up name, another forum account.
    for k in ("git:fawei@company.com", "csv:赵发威", "discourse:fz2000"):
        assert member[ids[k]] not in core, k
    assert stats.merges == 1
    assert stats.suggestions >= 3
    with workspace.store.session() as session:
        log = session.execute(select(IdentityLog)).scalars().one()
        assert log.action == "auto-merge"
        assert log.actor == "resolver"
        assert {m[0] for m in log.changes["moves"]} <= set(ids.values())
        assert "faweizhao26" in (log.reason or "")
        sugg = session.execute(select(MergeSuggestion)).scalars().all()
        assert all(s.status == "open" and s.evidence for s in sugg)
        assert all(s.identity_a_id < s.identity_b_id for s in sugg)


def test_resolve_rejected_pair_is_never_merged_or_suggested_again(workspace: Workspace) -> None:
    ids = _store(
        workspace,
        [
            IdentityRef("github", "username", "ac2024", "Alex Chen"),
            IdentityRef("gitee", "username", "ac2024", None),
        ],
    )
    a, b = sorted(ids.values())
    with workspace.store.session() as session:
        resolve(session)
        (sugg,) = session.execute(select(MergeSuggestion)).scalars().all()
        assert (sugg.identity_a_id, sugg.identity_b_id) == (a, b)  # same login: suggested
        sugg.status = "rejected"
        session.add(
            IdentityDecision(
                identity_a_id=a,
                identity_b_id=b,
                decision="different",
                origin="suggestion",
                actor="test",
                created_at=datetime(2026, 1, 1),
            )
        )
    for _ in range(2):
        with workspace.store.session() as session:
            stats = resolve(session, full=True)
        assert stats.suggestions == 0
        assert stats.merges == 0
    members = _members(workspace)
    assert members[a] != members[b]
    with workspace.store.session() as session:
        assert session.execute(select(func.count()).select_from(MergeSuggestion)).scalar() == 1


def test_resolve_different_decision_blocks_even_certain_evidence(workspace: Workspace) -> None:
    ids = _store(
        workspace,
        [
            IdentityRef("git", "email", "shared@example.org", "Pat One"),
            IdentityRef("git", "email", "Shared@Example.org", "Pat Two"),
        ],
    )
    a, b = sorted(ids.values())
    with workspace.store.session() as session:
        session.add(
            IdentityDecision(
                identity_a_id=a,
                identity_b_id=b,
                decision="different",
                origin="manual",
                actor="test",
                created_at=datetime(2026, 1, 1),
            )
        )
    with workspace.store.session() as session:
        stats = resolve(session)
    assert stats.blocked == 1
    assert stats.merges == 0
    members = _members(workspace)
    assert members[a] != members[b]


def test_resolve_incremental_run_looks_only_at_new_identities(workspace: Workspace) -> None:
    _store(
        workspace,
        [
            IdentityRef("git", "email", f"jane{i}.roe@example.org", f"Jane{i} Roe")
            for i in range(30)
        ],
    )
    with workspace.store.session() as session:
        first = resolve(session)
    assert first.identities == 30
    with workspace.store.session() as session:
        assert resolve(session).identities == 0  # nothing new
    ids = _store(workspace, [IdentityRef("github", "username", "jane7roe", None)])
    with workspace.store.session() as session:
        again = resolve(session)
    assert again.identities == 1
    assert again.candidates < 30
    member = _members(workspace)
    with workspace.store.session() as session:
        p7_git = session.execute(
            select(Identity.id).where(Identity.value == "jane7.roe@example.org")
        ).scalar_one()
    # The login is the address's local part, which spells the name: one person.
    assert member[ids["github:jane7roe"]] == member[p7_git]


def test_resolve_bots_join_people_only_on_certain_evidence() -> None:
    bot = make_profile(1, 1, "git", "email", "ci@example.org", "Jane Roe", [], True)
    person = make_profile(2, 2, "git", "email", "jane.roe@example.org", "Jane Roe", [], False)
    assert score_pair(bot, person) == (0.0, [])


def test_resolve_after_sync_merges_authors_of_one_repository(
    workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.commit("one", author="Jane Roe <jane@home.example>", files={"a": "1"})
    git_repo.commit("two", author="Jane Roe <jroe@work.example>", files={"a": "2"})
    git_repo.commit("three", author="Daniel <daniel@a.example>", files={"a": "3"})
    git_repo.commit("four", author="Daniel <daniel@b.example>", files={"a": "4"})
    add_git_source(workspace.store, str(git_repo.path), name="repo", mailmap=False)
    with workspace.store.session() as session:
        before = session.execute(select(Activity.uid, Activity.actor_identity_id)).all()
    sync_workspace(workspace)
    with workspace.store.session() as session:
        by_value = dict(session.execute(select(Identity.value, Identity.member_id)).all())
        after = session.execute(select(Activity.uid, Activity.actor_identity_id)).all()
        assert session.execute(select(func.count()).select_from(Member)).scalar() == 3
    assert by_value["jane@home.example"] == by_value["jroe@work.example"]
    assert by_value["daniel@a.example"] != by_value["daniel@b.example"]  # one word: never
    assert before == []
    assert len(after) == 4


def test_resolve_after_sync_can_be_turned_off(workspace: Workspace, git_repo: GitRepo) -> None:
    git_repo.commit("one", author="Jane Roe <jane@home.example>", files={"a": "1"})
    git_repo.commit("two", author="Jane Roe <jroe@work.example>", files={"a": "2"})
    workspace.config.resolve_after_sync = False
    add_git_source(workspace.store, str(git_repo.path), name="repo", mailmap=False)
    sync_workspace(workspace)
    members = set(_members(workspace).values())
    assert len(members) == 2


def test_resolve_cli_reports_and_json(tmp_path: Path, cli: CliRunner, git_repo: GitRepo) -> None:
    git_repo.commit("one", author="Jane Roe <jane@home.example>", files={"a": "1"})
    git_repo.commit("two", author="Jane Roe <jroe@work.example>", files={"a": "2"})
    root = tmp_path / "ws"
    assert cli.invoke(app, ["init", str(root)]).exit_code == 0
    (root / "commops.toml").write_text(
        (root / "commops.toml")
        .read_text()
        .replace("resolve_after_sync = true", "resolve_after_sync = false")
    )
    base = ["--workspace", str(root)]
    assert cli.invoke(app, [*base, "add", "git", str(git_repo.path), "--no-mailmap"]).exit_code == 0
    assert cli.invoke(app, [*base, "sync"]).exit_code == 0
    result = cli.invoke(app, [*base, "members", "resolve", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["identities"] == 2
    assert data["members_merged"] == 1
    again = cli.invoke(app, [*base, "members", "resolve", "--all"])
    assert again.exit_code == 0
    assert "Looked at 2 identities (full)" in again.output


@pytest.mark.parametrize("threshold", [0.95])
def test_resolve_threshold_is_respected(workspace: Workspace, threshold: float) -> None:
    ids = _store(
        workspace,
        [
            IdentityRef("git", "email", "fawei@company.com", "Fawei Zhao"),
            IdentityRef("github", "username", "faweizhao26", "Fawei Zhao"),
        ],
    )
    with workspace.store.session() as session:
        stats = resolve(session, auto_merge_score=threshold)
    assert stats.merges == 0
    assert stats.suggestions == 1
    member = _members(workspace)
    assert member[ids["git:fawei@company.com"]] != member[ids["github:faweizhao26"]]


def test_resolve_undone_automatic_merge_is_not_made_again(
    workspace: Workspace, git_repo: GitRepo
) -> None:
    from commops.identity.audit import undo

    git_repo.commit("one", author="Jane Roe <jane@home.example>", files={"a": "1"})
    git_repo.commit("two", author="Jane Roe <jroe@work.example>", files={"a": "2"})
    add_git_source(workspace.store, str(git_repo.path), name="repo", mailmap=False)
    sync_workspace(workspace)
    with workspace.store.session() as session:
        entry = session.execute(
            select(IdentityLog).where(IdentityLog.action == "auto-merge")
        ).scalar_one()
        undo(session, entry.id, actor="test")
    assert len(set(_members(workspace).values())) == 2
    with workspace.store.session() as session:
        stats = resolve(session, full=True)
        decision = session.execute(select(IdentityDecision)).scalar_one()
    assert stats.merges == 0
    assert stats.blocked == 1
    assert decision.decision == "different"
    assert len(set(_members(workspace).values())) == 2
