"""The git connector on repositories built inside the tests, read back through the export."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from commops.config import CONFIG_NAME, load_config, write_config
from commops.connectors.git import parse_person, pr_number, trailers
from commops.exports import export, iter_activities, iter_identities
from commops.sources import add_git_source
from commops.sync import SyncResult, sync_workspace
from commops.workspace import Workspace, open_workspace
from conftest import GitRepo

ADA = "Ada Lovelace <ada@example.org>"
BOB = "Bob Marley <bob@example.org>"


def sync_ok(ws: Workspace, *names: str) -> SyncResult:
    results = sync_workspace(ws, list(names) or None)
    assert [r.error for r in results] == [None] * len(results)
    return results[0]


def import_repo(ws: Workspace, repo: GitRepo, **options: Any) -> SyncResult:
    add_git_source(ws.store, str(repo.path), name="repo", **options)
    return sync_ok(ws)


def activities(ws: Workspace, kind: str | None = None) -> list[dict[str, Any]]:
    return [a for a in iter_activities(ws.store) if kind is None or a["kind"] == kind]


def commits(ws: Workspace) -> dict[str, dict[str, Any]]:
    """git:commit activities by sha."""
    return {a["attributes"]["sha"]: a for a in activities(ws, "git:commit")}


def identities(ws: Workspace) -> dict[str, dict[str, Any]]:
    return {i["value"]: i for i in iter_identities(ws.store)}


def raw_commit(repo: GitRepo, header: str, message: bytes) -> str:
    """Write a commit object byte for byte (git refuses some of these through `git commit`)."""
    tree = repo.git("rev-parse", "HEAD^{tree}")
    parent = repo.head()
    body = f"tree {tree}\nparent {parent}\n{header}\n\n".encode() + message
    sha = repo.git("hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=body)
    repo.git("update-ref", "refs/heads/main", sha)
    return sha


# -- history shapes ----------------------------------------------------------------------------


def test_git_linear_history_imports_every_commit(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    first = git_repo.commit("Add readme", files={"README.md": "one\ntwo\n"})
    second = git_repo.commit(
        "Edit readme",
        author=BOB,
        committer=ADA,
        date="2024-02-01T09:30:00+01:00",
        commit_date="2024-02-02T10:00:00+02:00",
        files={"README.md": "one\nthree\nfour\n", "src/x.py": "x = 1\n"},
    )

    result = import_repo(sqlite_workspace, git_repo)

    assert result.added == 2
    got = commits(sqlite_workspace)
    assert sorted(got) == sorted([first, second])
    a = got[second]
    assert a["source"] == "repo"
    assert a["channel"] == "repo"
    assert a["title"] == "Edit readme"
    assert a["contribution_type"] == "code"
    assert a["occurred_at"] == "2024-02-01T08:30:00Z"
    assert a["actor"]["email"] == "bob@example.org"
    assert a["actor"]["name"] == "Bob Marley"
    attrs = a["attributes"]
    assert attrs["parents"] == [first]
    assert attrs["merge"] is False
    assert attrs["author_date"] == "2024-02-01T09:30:00+01:00"
    assert attrs["author_tz_offset"] == 60
    assert attrs["committer_email"] == "ada@example.org"
    assert attrs["committer_date"] == "2024-02-02T10:00:00+02:00"
    assert attrs["committer_tz_offset"] == 120
    assert attrs["committed_at"] == "2024-02-02T08:00:00Z"
    assert (attrs["files_changed"], attrs["insertions"], attrs["deletions"]) == (2, 3, 1)
    assert sorted(attrs["files"]) == [["README.md", 2, 1], ["src/x.py", 1, 0]]
    assert attrs["pr_number"] is None
    assert attrs["message"] == "Edit readme\n"
    assert got[first]["attributes"]["parents"] == []
    assert (got[first]["attributes"]["insertions"], got[first]["attributes"]["deletions"]) == (2, 0)


def test_git_merge_pull_request_sets_pr_number_and_parents(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    base = git_repo.commit("Base", files={"a.txt": "a\n"})
    git_repo.git("checkout", "-q", "-b", "feature")
    side = git_repo.commit("Feature work", author=BOB, files={"b.txt": "b\n"})
    git_repo.git("checkout", "-q", "main")
    main_tip = git_repo.commit("Main work", files={"a.txt": "a\nb\n"})
    git_repo.git(
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge pull request #12 from alice/feature\n\nFeature work",
        "feature",
        env={"GIT_AUTHOR_DATE": "2024-03-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-03-01T00:00Z"},
    )
    merge = git_repo.head()

    import_repo(sqlite_workspace, git_repo)

    got = commits(sqlite_workspace)
    assert sorted(got) == sorted([base, side, main_tip, merge])
    m = got[merge]
    assert m["attributes"]["merge"] is True
    assert m["attributes"]["parents"] == [main_tip, side]
    assert m["attributes"]["pr_number"] == 12
    assert m["attributes"]["merged_branch"] == "alice/feature"
    assert m["target"] == "12"
    # Merges show no diff, as in `git log --numstat`.
    assert (m["attributes"]["files_changed"], m["attributes"]["insertions"]) == (0, 0)
    assert got[side]["attributes"]["merge"] is False
    assert got[side]["attributes"]["pr_number"] is None


def test_git_squash_subject_sets_pr_number(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    sha = git_repo.commit("Fix thing (#34)\n\nLonger text (#99) in the body", files={"a": "1\n"})

    import_repo(sqlite_workspace, git_repo)

    a = commits(sqlite_workspace)[sha]
    assert a["attributes"]["pr_number"] == 34
    assert a["target"] == "34"
    assert "merged_branch" not in a["attributes"]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Merge pull request #12 from alice/feature", (12, "alice/feature")),
        ("Merge pull request #7 from org/repo/branch-x", (7, "org/repo/branch-x")),
        ("Fix thing (#34)", (34, None)),
        ("Fix thing (#34)  ", (34, None)),
        ("Fix (#3) and more", (None, None)),
        ("Merge branch 'main' into dev", (None, None)),
        ("Bump x from 1 to 2 (#1024)", (1024, None)),
    ],
)
def test_git_pr_number_from_subject(subject: str, expected: tuple[int | None, str | None]) -> None:
    assert pr_number(subject) == expected


def test_git_co_authors_credited_once_each(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    message = (
        "Pair on the parser\n\n"
        "Body text.\n\n"
        "Co-authored-by: Bob Marley <bob@example.org>\n"
        "co-authored-by: bob <BOB@Example.org>\n"
        "Co-authored-by: Ada Lovelace <ada@example.org>\n"
        "Co-Authored-By: Carol Danvers\n"
        "  CO-AUTHORED-BY:  Dan Brown <dan@example.org>  \n"
        "Co-authored-by: Ada Lovelace\n"
        "Signed-Off-bY: Ada Lovelace <ada@example.org>\n"
    )
    sha = git_repo.commit(message, files={"a.txt": "a\n"})

    import_repo(sqlite_workspace, git_repo)

    attrs = commits(sqlite_workspace)[sha]["attributes"]
    assert attrs["co_authors"] == [
        {"name": "Bob Marley", "email": "bob@example.org"},
        {"name": "bob", "email": "BOB@Example.org"},
        {"name": "Ada Lovelace", "email": "ada@example.org"},
        {"name": "Carol Danvers", "email": ""},
        {"name": "Dan Brown", "email": "dan@example.org"},
        {"name": "Ada Lovelace", "email": ""},
    ]
    assert attrs["signed_off_by"] == [{"name": "Ada Lovelace", "email": "ada@example.org"}]
    co = activities(sqlite_workspace, "git:co_authored")
    # The author is not her own co-author; Bob is credited once whatever the case of his e-mail.
    assert [(a["actor"]["email"], a["actor"]["name"]) for a in co] == [
        ("bob@example.org", "Bob Marley"),
        (None, "Carol Danvers"),
        ("dan@example.org", "Dan Brown"),
    ]
    for a in co:
        assert a["object"]["email"] == "ada@example.org"
        assert a["occurred_at"] == "2024-01-15T02:00:00Z"
        assert a["title"] == "Pair on the parser"
        assert a["attributes"]["sha"] == sha
    assert len({a["uid"] for a in co}) == 3


def test_git_trailers_parse_names_and_emails() -> None:
    co, signed = trailers(
        'Subject\n\nSigned-off-by: A <a@x>\nCo-authored-by: "B, Jr" <b@x>\r\nnot-a-trailer: x\n'
    )
    assert co == [{"name": "B, Jr", "email": "b@x"}]
    assert signed == [{"name": "A", "email": "a@x"}]
    assert parse_person("Just A Name") == ("Just A Name", "")
    assert parse_person("<only@mail>") == ("", "only@mail")


def test_git_signed_off_by_does_not_credit_a_co_author(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    sha = git_repo.commit("Fix\n\nSigned-off-by: Bob Marley <bob@example.org>", files={"a": "1"})

    import_repo(sqlite_workspace, git_repo)

    attrs = commits(sqlite_workspace)[sha]["attributes"]
    assert attrs["signed_off_by"] == [{"name": "Bob Marley", "email": "bob@example.org"}]
    assert attrs["co_authors"] == []
    assert activities(sqlite_workspace, "git:co_authored") == []


def test_git_rename_counts_one_file_without_lines(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.commit("Add", files={"old name.txt": "".join(f"line {i}\n" for i in range(20))})
    git_repo.git("mv", "old name.txt", "new name.txt")
    sha = git_repo.commit("Rename")

    import_repo(sqlite_workspace, git_repo)

    attrs = commits(sqlite_workspace)[sha]["attributes"]
    assert (attrs["files_changed"], attrs["insertions"], attrs["deletions"]) == (1, 0, 0)
    assert attrs["files"] == [["new name.txt", 0, 0]]


def test_git_binary_file_counts_without_lines(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    sha = git_repo.commit(
        "Add image and text", files={"logo.png": b"\x89PNG\x00\x01\x02", "t.txt": "a\nb\n"}
    )

    import_repo(sqlite_workspace, git_repo)

    attrs = commits(sqlite_workspace)[sha]["attributes"]
    assert sorted(attrs["files"], key=lambda f: f[0]) == [["logo.png", None, None], ["t.txt", 2, 0]]
    assert (attrs["files_changed"], attrs["insertions"], attrs["deletions"]) == (2, 2, 0)


def test_git_odd_file_names_kept(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    sha = git_repo.commit(
        "Odd names", files={"tab\there.txt": "a\n", "ünï cödé.txt": "b\n", "new\nline": "c\n"}
    )

    import_repo(sqlite_workspace, git_repo)

    attrs = commits(sqlite_workspace)[sha]["attributes"]
    assert sorted(f[0] for f in attrs["files"]) == ["new\nline", "tab\there.txt", "ünï cödé.txt"]
    assert attrs["insertions"] == 3


def test_git_root_commit_counted_whatever_the_config(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.git("config", "log.showRoot", "false")
    git_repo.git("config", "diff.renames", "copies")
    root = git_repo.commit("Root", files={"a.txt": "1\n2\n"})

    import_repo(sqlite_workspace, git_repo)

    assert commits(sqlite_workspace)[root]["attributes"]["files"] == [["a.txt", 2, 0]]


def test_git_empty_commit_has_no_files(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    git_repo.commit("Start", files={"a": "1\n"})
    empty = git_repo.commit("Nothing changed", allow_empty=True)
    last = git_repo.commit("After", files={"a": "2\n"})

    import_repo(sqlite_workspace, git_repo)

    got = commits(sqlite_workspace)
    assert len(got) == 3
    assert got[empty]["attributes"]["files"] == []
    assert got[empty]["attributes"]["files_changed"] == 0
    assert got[last]["attributes"]["files"] == [["a", 1, 1]]


def test_git_empty_message_commit_imported(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    git_repo.commit("Start", files={"a": "1\n"})
    git_repo.write("a", "2\n")
    git_repo.git("add", "a")
    git_repo.git("commit", "-q", "--allow-empty-message", "-m", "")
    sha = git_repo.head()

    import_repo(sqlite_workspace, git_repo)

    a = commits(sqlite_workspace)[sha]
    assert a["title"] == ""
    assert a["attributes"]["message"] == ""
    assert a["attributes"]["files"] == [["a", 1, 1]]


# -- bytes and encodings -----------------------------------------------------------------------


def test_git_non_utf8_name_and_message_decoded_as_latin1(
    sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.commit("Start", files={"a": "1\n"})
    message = tmp_path / "msg"
    message.write_bytes(b"caf\xe9 au lait\n\nna\xefve body\n")
    git_repo.write("b", "2\n")
    git_repo.git("add", "b")
    latin = os.fsdecode(b"Jos\xe9 Mar\xeda")  # raw bytes in the environment, not UTF-8
    git_repo.git(
        "commit",
        "-q",
        "-F",
        str(message),
        env={
            "GIT_AUTHOR_NAME": latin,
            "GIT_AUTHOR_EMAIL": "jose@example.org",
            "GIT_COMMITTER_NAME": latin,
            "GIT_COMMITTER_EMAIL": "jose@example.org",
        },
    )
    sha = git_repo.head()
    assert "\nencoding " not in git_repo.git("cat-file", "commit", sha)  # no header written

    import_repo(sqlite_workspace, git_repo)

    a = commits(sqlite_workspace)[sha]
    assert a["title"] == "café au lait"
    assert a["attributes"]["message"] == "café au lait\n\nnaïve body\n"
    assert a["actor"]["name"] == "José María"
    assert identities(sqlite_workspace)["jose@example.org"]["name"] == "José María"


def test_git_encoding_header_is_honoured(
    sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.commit("Start", files={"a": "1\n"})
    message = tmp_path / "msg"
    message.write_bytes(b"Stra\xdfe \xfcber alles\n\nGr\xfc\xdfe\n")
    git_repo.write("b", "2\n")
    git_repo.git("add", "b")
    git_repo.git(
        "-c",
        "i18n.commitEncoding=ISO-8859-1",
        "commit",
        "-q",
        "-F",
        str(message),
        env={
            "GIT_AUTHOR_NAME": os.fsdecode(b"J\xfcrgen"),
            "GIT_AUTHOR_EMAIL": "jurgen@example.org",
        },
    )
    sha = git_repo.head()
    assert "encoding ISO-8859-1" in git_repo.git("cat-file", "commit", sha)

    import_repo(sqlite_workspace, git_repo)

    a = commits(sqlite_workspace)[sha]
    assert a["title"] == "Straße über alles"
    assert a["attributes"]["message"] == "Straße über alles\n\nGrüße\n"
    assert a["actor"]["name"] == "Jürgen"


def test_git_utf8_names_and_messages_kept(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    sha = git_repo.commit(
        "修复：中文提交 🎉\n\nCo-authored-by: 甘秉坤 <gan@example.org>",
        author="永胜 <seanly@example.org>",
        files={"a": "1\n"},
    )

    import_repo(sqlite_workspace, git_repo)

    a = commits(sqlite_workspace)[sha]
    assert a["title"] == "修复：中文提交 🎉"
    assert a["actor"]["name"] == "永胜"
    [co] = activities(sqlite_workspace, "git:co_authored")
    assert co["actor"] == {
        "platform": "git",
        "username": None,
        "email": "gan@example.org",
        "name": "甘秉坤",
        "member_id": co["actor"]["member_id"],
    }


def test_git_message_with_control_bytes_kept(
    sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.commit("Start", files={"a": "1\n"})
    message = tmp_path / "msg"
    raw = b"Odd \x01bytes\n\n\x01at line start\n\x02\x1f\x7f and tab\tend\n"
    message.write_bytes(raw)
    git_repo.write("b", "2\n")
    git_repo.git("add", "b")
    git_repo.git("commit", "-q", "--cleanup=verbatim", "-F", str(message))
    sha = git_repo.head()
    after = git_repo.commit("After", files={"a": "2\n"})

    import_repo(sqlite_workspace, git_repo)

    got = commits(sqlite_workspace)
    assert len(got) == 3
    assert got[sha]["title"] == "Odd \x01bytes"
    assert got[sha]["attributes"]["message"] == raw.decode()
    assert got[sha]["attributes"]["files"] == [["b", 1, 0]]
    assert got[after]["attributes"]["files"] == [["a", 1, 1]]


# -- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_date", "utc", "offset"),
    [
        ("1700000000 +1445", "2023-11-14T22:13:20Z", 885),
        ("1700000000 -1200", "2023-11-14T22:13:20Z", -720),
        ("1700000000 +0530", "2023-11-14T22:13:20Z", 330),
        ("1700000000 -0000", "2023-11-14T22:13:20Z", 0),
        ("1700000000 +0000", "2023-11-14T22:13:20Z", 0),
    ],
)
def test_git_unusual_offsets_kept_and_utc_stored(
    sqlite_workspace: Workspace, git_repo: GitRepo, raw_date: str, utc: str, offset: int
) -> None:
    git_repo.commit("Start", files={"a": "1\n"})
    sha = git_repo.commit(
        "Dated", date=raw_date, commit_date="1700003600 +0000", files={"a": "2\n"}
    )

    import_repo(sqlite_workspace, git_repo)

    a = commits(sqlite_workspace)[sha]
    assert a["occurred_at"] == utc
    assert a["attributes"]["author_tz_offset"] == offset
    sign = "-" if offset < 0 else "+"
    hhmm = f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    assert a["attributes"]["author_date"].endswith(hhmm)
    assert a["attributes"]["committed_at"] == "2023-11-14T23:13:20Z"


def test_git_iso_dates_with_offsets_match_git(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    shas = [
        git_repo.commit("east", date="2024-01-01T00:30:00+14:45", files={"a": "1\n"}),
        git_repo.commit("west", date="2023-12-31T12:00:00-12:00", files={"a": "2\n"}),
        git_repo.commit("india", date="2024-06-30T23:59:59+05:30", files={"a": "3\n"}),
    ]

    import_repo(sqlite_workspace, git_repo)

    got = commits(sqlite_workspace)
    for sha in shas:
        iso = git_repo.git("log", "-1", "--format=%aI", sha)
        utc = git_repo.git(
            "log",
            "-1",
            "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
            "--format=%ad",
            sha,
            env={"TZ": "UTC"},
        )
        assert got[sha]["attributes"]["author_date"] == iso
        assert got[sha]["occurred_at"] == utc
    assert got[shas[0]]["occurred_at"] == "2023-12-31T09:45:00Z"
    assert got[shas[1]]["occurred_at"] == "2024-01-01T00:00:00Z"


def test_git_dates_before_1970_read_from_raw_header(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.commit("Start", files={"a": "1\n"})
    old = raw_commit(
        git_repo,
        "author Old Timer <old@example.org> -157000000 +1445\n"
        "committer Old Timer <old@example.org> -1 -1200",
        b"From the sixties\n",
    )
    epoch = raw_commit(
        git_repo,
        "author Zero <zero@example.org> 0 +0000\ncommitter Zero <zero@example.org> 0 +0000",
        b"At the epoch\n",
    )

    import_repo(sqlite_workspace, git_repo)

    got = commits(sqlite_workspace)
    assert len(got) == 3
    o = got[old]
    assert o["occurred_at"] == "1965-01-09T20:53:20Z"
    assert o["attributes"]["author_date"] == "1965-01-10T11:38:20+14:45"
    assert o["attributes"]["author_tz_offset"] == 885
    assert o["attributes"]["committer_date"] == "1969-12-31T11:59:59-12:00"
    assert o["attributes"]["committer_tz_offset"] == -720
    assert o["attributes"]["committed_at"] == "1969-12-31T23:59:59Z"
    assert o["actor"]["email"] == "old@example.org"
    assert o["title"] == "From the sixties"
    assert got[epoch]["occurred_at"] == "1970-01-01T00:00:00Z"
    assert got[epoch]["attributes"]["author_date"] == "1970-01-01T00:00:00+00:00"


# -- identities --------------------------------------------------------------------------------


def test_git_committer_stored_as_identity_without_activity(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.commit("Patch", author=BOB, committer="GitHub <noreply@github.com>", files={"a": "1"})

    import_repo(sqlite_workspace, git_repo)

    idents = identities(sqlite_workspace)
    assert sorted(idents) == ["bob@example.org", "noreply@github.com"]
    acts = activities(sqlite_workspace)
    assert [(a["kind"], a["actor"]["email"]) for a in acts] == [("git:commit", "bob@example.org")]


def _mailmap_repo(repo: GitRepo) -> dict[str, str]:
    shas = {
        "work": repo.commit("Work", author="ada <ada@work.example>", files={"a": "1\n"}),
        "home": repo.commit("Home", author="Ada L <ada@home.example>", files={"a": "2\n"}),
        "bob": repo.commit("Bob", author=BOB, files={"a": "3\n"}),
    }
    repo.commit(
        "Mailmap",
        author=BOB,
        files={
            ".mailmap": "Ada Lovelace <ada@example.org> <ada@work.example>\n"
            "Ada Lovelace <ada@example.org> Ada L <ada@home.example>\n"
        },
    )
    return shas


def test_git_mailmap_joins_identities_into_one_member(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    shas = _mailmap_repo(git_repo)

    import_repo(sqlite_workspace, git_repo)

    got = commits(sqlite_workspace)
    # Activities keep the identity as written in the commit.
    assert got[shas["work"]]["actor"]["email"] == "ada@work.example"
    assert got[shas["home"]]["actor"]["email"] == "ada@home.example"
    idents = identities(sqlite_workspace)
    assert sorted(idents) == [
        "ada@example.org",
        "ada@home.example",
        "ada@work.example",
        "bob@example.org",
    ]
    ada = {
        idents[e]["member_id"] for e in ("ada@example.org", "ada@home.example", "ada@work.example")
    }
    assert len(ada) == 1
    assert idents["ada@work.example"]["member_name"] == "Ada Lovelace"
    assert idents["bob@example.org"]["member_id"] not in ada
    assert got[shas["work"]]["actor"]["member_id"] == got[shas["home"]]["actor"]["member_id"]


def test_git_no_mailmap_keeps_members_apart(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    _mailmap_repo(git_repo)

    import_repo(sqlite_workspace, git_repo, mailmap=False)

    idents = identities(sqlite_workspace)
    assert sorted(idents) == ["ada@home.example", "ada@work.example", "bob@example.org"]
    assert idents["ada@work.example"]["member_id"] != idents["ada@home.example"]["member_id"]
    assert idents["ada@work.example"]["member_name"] == "ada"
    assert idents["ada@home.example"]["member_name"] == "Ada L"


def test_git_mailmap_applies_to_co_authors(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    git_repo.commit("Canonical", author=ADA, files={"a": "1\n"})
    git_repo.commit(
        "Mailmap",
        author=BOB,
        files={".mailmap": "Ada Lovelace <ada@example.org> <al@old.example>\n"},
    )
    sha = git_repo.commit(
        "Paired\n\n"
        "Co-authored-by: A. L. <al@old.example>\n"
        "Co-authored-by: Carol <carol@example.org>",
        author=BOB,
        files={"a": "2\n"},
    )

    import_repo(sqlite_workspace, git_repo)

    co = {a["actor"]["email"]: a for a in activities(sqlite_workspace, "git:co_authored")}
    assert sorted(co) == ["al@old.example", "carol@example.org"]
    assert co["al@old.example"]["attributes"]["sha"] == sha
    idents = identities(sqlite_workspace)
    assert idents["al@old.example"]["member_id"] == idents["ada@example.org"]["member_id"]
    assert idents["carol@example.org"]["member_id"] != idents["ada@example.org"]["member_id"]


def test_git_no_mailmap_leaves_co_authors_unmapped(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.commit("Canonical", author=ADA, files={"a": "1\n"})
    git_repo.commit(
        "Paired\n\nCo-authored-by: A. L. <al@old.example>",
        author=BOB,
        files={"a": "2\n", ".mailmap": "Ada Lovelace <ada@example.org> <al@old.example>\n"},
    )

    import_repo(sqlite_workspace, git_repo, mailmap=False)

    idents = identities(sqlite_workspace)
    assert idents["al@old.example"]["member_id"] != idents["ada@example.org"]["member_id"]


def test_git_mailmap_added_later_joins_new_identities(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.commit("Canonical", author=ADA, files={"a": "1\n"})
    import_repo(sqlite_workspace, git_repo)
    git_repo.commit("Other address", author="Ada <ada@laptop.example>", files={"a": "2\n"})
    git_repo.commit(
        "Mailmap", files={".mailmap": "Ada Lovelace <ada@example.org> <ada@laptop.example>\n"}
    )

    sync_ok(sqlite_workspace)

    idents = identities(sqlite_workspace)
    assert idents["ada@laptop.example"]["member_id"] == idents["ada@example.org"]["member_id"]


BOTS = [
    "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>",
    "KubeSphere CI Bot <47586280+ks-ci-bot@users.noreply.github.com>",
    "github-actions <41898282+github-actions@users.noreply.github.com>",
    "renovate <renovate@whitesourcesoftware.com>",
]


def test_git_bots_flagged(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    for i, bot in enumerate(BOTS):
        git_repo.commit(f"Bump {i}", author=bot, files={"a": f"{i}\n"})
    git_repo.commit("Human", author=ADA, files={"a": "h\n"})
    git_repo.commit("Human too", author="Talbot Robotham <talbot@example.org>", files={"a": "t\n"})

    import_repo(sqlite_workspace, git_repo)

    idents = identities(sqlite_workspace)
    flags = {v: (i["is_bot"], i["member_is_bot"]) for v, i in idents.items()}
    assert flags == {
        "49699333+dependabot[bot]@users.noreply.github.com": (True, True),
        "47586280+ks-ci-bot@users.noreply.github.com": (True, True),
        "41898282+github-actions@users.noreply.github.com": (True, True),
        "renovate@whitesourcesoftware.com": (True, True),
        "ada@example.org": (False, False),
        "talbot@example.org": (False, False),
    }


def test_git_bot_pattern_from_config(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    path = sqlite_workspace.root / CONFIG_NAME
    config = load_config(path)
    config.bot_patterns = [r"^release-automation@", r"^Nightly Builder$"]
    write_config(path, config)
    git_repo.commit("Release", author="Releaser <release-automation@example.org>", files={"a": "1"})
    git_repo.commit("Nightly", author="Nightly Builder <nb@example.org>", files={"a": "2"})
    git_repo.commit("Human", author=ADA, files={"a": "3"})
    ws = open_workspace(sqlite_workspace.root)
    try:
        import_repo(ws, git_repo)
        idents = identities(ws)
    finally:
        ws.close()

    assert {v: i["is_bot"] for v, i in idents.items()} == {
        "release-automation@example.org": True,
        "nb@example.org": True,
        "ada@example.org": False,
    }


def test_git_same_email_different_names_is_one_identity(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.commit("One", author="rick <rick@example.org>", files={"a": "1"})
    git_repo.commit("Two", author="Rick <rick@example.org>", files={"a": "2"})

    import_repo(sqlite_workspace, git_repo)

    idents = identities(sqlite_workspace)
    assert list(idents) == ["rick@example.org"]
    # The export names the author as the commit wrote it.
    assert sorted(a["actor"]["name"] for a in commits(sqlite_workspace).values()) == [
        "Rick",
        "rick",
    ]


def test_git_commit_without_email_uses_name_identity(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.commit("Start", files={"a": "1\n"})
    sha = raw_commit(
        git_repo,
        "author Nobody Known <> 1700000000 +0000\ncommitter Nobody Known <> 1700000000 +0000",
        b"No e-mail\n",
    )

    import_repo(sqlite_workspace, git_repo)

    a = commits(sqlite_workspace)[sha]
    assert a["actor"]["email"] is None
    assert a["actor"]["name"] == "Nobody Known"
    assert identities(sqlite_workspace)["Nobody Known"]["kind"] == "name"


def test_git_overlong_names_and_emails_fit_the_store(
    workspace: Workspace, git_repo: GitRepo
) -> None:
    long_name, long_email = "N" * 600, "e" * 600 + "@example.org"
    sha = git_repo.commit(
        f"Long\n\nCo-authored-by: {long_name} <{long_email}>",
        author=f"{'A' * 700} <a@example.org>",
        files={"a": "1\n"},
    )
    git_repo.commit(f"Again\n\nCo-authored-by: {long_name} <{long_email}>", files={"a": "2"})

    result = import_repo(workspace, git_repo)

    assert result.added == 4
    got = commits(workspace)
    # The activity keeps the full text; the identity holds what its columns can.
    assert got[sha]["attributes"]["author_name"] == "A" * 700
    assert got[sha]["actor"]["name"] == "A" * 700
    co = activities(workspace, "git:co_authored")
    assert [a["actor"]["email"] for a in co] == [long_email[:500]] * 2
    assert identities(workspace)["a@example.org"]["member_name"] == "A" * 500


def test_git_export_jsonl_and_csv_round_trip(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    sha = git_repo.commit(
        'Quote " and, comma\n\nCo-authored-by: Bob Marley <bob@example.org>',
        author="Zoë <zoe@example.org>",
        files={"a": "1\n"},
    )
    import_repo(sqlite_workspace, git_repo)

    out = io.StringIO()
    assert export(sqlite_workspace.store, "activities", "jsonl", out) == 2
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows == activities(sqlite_workspace)

    out = io.StringIO()
    assert export(sqlite_workspace.store, "activities", "csv", out) == 2
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["kind"], r["actor_email"], r["actor_name"]) for r in table] == [
        ("git:commit", "zoe@example.org", "Zoë"),
        ("git:co_authored", "bob@example.org", "Bob Marley"),
    ]
    assert table[0]["title"] == 'Quote " and, comma'
    assert json.loads(table[0]["attributes"])["sha"] == sha
    assert table[1]["object_email"] == "zoe@example.org"

    out = io.StringIO()
    assert export(sqlite_workspace.store, "identities", "jsonl", out) == 2
