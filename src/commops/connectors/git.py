"""Git: commits, their authors, co-authors and numstat, read by one streaming ``git log``.

The whole history is read by a single ``git log -z --numstat`` process whose output is parsed
as it arrives, so git computes diffs on one core while Python parses on the other. Incremental
runs read ``old..new``; a rewritten history (a force-push) is reconciled against the commits the
store holds: commits no longer reachable are removed, missing ones are read by one more
``git log --no-walk --stdin``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from commops.connectors.base import (
    ActivityRecord,
    Change,
    Connector,
    Cursor,
    IdentityRef,
    Remove,
    SyncContext,
    Upsert,
)
from commops.errors import SourceError, SyncError

PLATFORM = "git"
STREAM = "commits"
BATCH = 200  # small, so that storing overlaps with git even for short histories
_EPOCH = datetime(1970, 1, 1)

# One field per `%` format code, NUL-separated; \x01 marks the start of a commit.
_FIELDS = ("%H", "%P", "%an", "%ae", "%at", "%aI", "%cn", "%ce", "%ct", "%cI", "%s", "%B")
_MAILMAP_FIELDS = ("%aN", "%aE", "%cN", "%cE")

_URL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|[^/\\:@\s]+@[^/\\:\s]+:)")
_MERGE_PR = re.compile(r"^Merge (?:pull request|PR) [#!](\d+) from (\S+)")
_SQUASH_PR = re.compile(r"\((?:#|!)(\d+)\)\s*$")
_TRAILER = re.compile(
    # Case-insensitive by hand: re.IGNORECASE makes this scan several times slower.
    r"^[ \t]*([cC][oO]-[aA][uU][tT][hH][oO][rR][eE][dD]-[bB][yY]"
    r"|[sS][iI][gG][nN][eE][dD]-[oO][fF][fF]-[bB][yY])"
    r"[ \t]*:[ \t]*(.*?)[ \t]*$",
    re.MULTILINE,
)
_PERSON = re.compile(r"^(.*?)\s*<([^<>]*)>\s*$")
_RAW_PERSON = re.compile(rb"^(author|committer) (.*) <(.*)> (-?\d+) ([+-]\d{4})$", re.MULTILINE)


def is_url(location: str) -> bool:
    return bool(_URL.match(location)) and not Path(location).exists()


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(LC_ALL="C", LANG="C", GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat")
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def run_git(
    repo: Path | None, *args: str, what: str, check: bool = True, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    cmd = ["git"]
    if repo is not None:
        cmd += ["-C", str(repo)]
    try:
        proc = subprocess.run(
            [*cmd, *args], capture_output=True, env=git_env(), input=input, check=False
        )
    except FileNotFoundError:
        raise SourceError(
            "git is not installed (no `git` on PATH)",
            hint="Install git, e.g. `apt-get install git`.",
        ) from None
    if check and proc.returncode != 0:
        raise SourceError(f"{what}: {_stderr(proc.stderr)}")
    return proc


def _stderr(raw: bytes) -> str:
    lines = [ln for ln in raw.decode("utf-8", "replace").strip().splitlines() if ln.strip()]
    return "; ".join(lines[-3:]) if lines else "git failed without a message"


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Not UTF-8 and no encoding header: Latin-1 keeps every byte, so nothing is lost.
        return raw.decode("latin-1")


def _offset_minutes(iso: str) -> int:
    # %aI ends in ±HH:MM; git allows offsets beyond ±24h, which datetime cannot hold.
    sign = -1 if iso[-6] == "-" else 1
    return sign * (int(iso[-5:-3]) * 60 + int(iso[-2:]))


def _format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _local_iso(utc: datetime, minutes: int) -> str:
    local = utc + timedelta(minutes=minutes)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + _format_offset(minutes)


def parse_person(text: str) -> tuple[str, str]:
    """``Name <email>`` into (name, email); a bare name gives an empty e-mail."""
    m = _PERSON.match(text)
    if m:
        return m.group(1).strip().strip('"'), m.group(2).strip()
    return text.strip(), ""


def trailers(message: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The ``Co-authored-by`` and ``Signed-off-by`` lines of a message, in order."""
    co: list[dict[str, str]] = []
    signed: list[dict[str, str]] = []
    for m in _TRAILER.finditer(message):
        name, email = parse_person(m.group(2))
        (co if m.group(1).lower() == "co-authored-by" else signed).append(
            {"name": name, "email": email}
        )
    return co, signed


def pr_number(subject: str) -> tuple[int | None, str | None]:
    m = _MERGE_PR.match(subject)
    if m:
        return int(m.group(1)), m.group(2)
    m = _SQUASH_PR.search(subject)
    if m:
        return int(m.group(1)), None
    return None, None


def person_ref(name: str, email: str, canonical: tuple[str, str] | None = None) -> IdentityRef:
    if email:
        return IdentityRef(PLATFORM, "email", email, name or None, canonical)
    return IdentityRef(PLATFORM, "name", name or "(unknown)", name or None, canonical)


class GitRepo:
    """Where a source's history lives on disk: the folder itself, or a bare clone in the cache."""

    def __init__(self, source_name: str, location: str, cache_dir: Path) -> None:
        self.source_name = source_name
        self.location = location
        self.remote = is_url(location)
        self.path = (
            cache_dir / "git" / f"{_safe(source_name)}.git" if self.remote else Path(location)
        )

    def prepare(self) -> None:
        if self.remote:
            if (self.path / "HEAD").exists():
                run_git(
                    self.path,
                    "fetch",
                    "--quiet",
                    "--prune",
                    "--force",
                    self.location,
                    "+refs/heads/*:refs/heads/*",
                    what=f"source {self.source_name!r}: fetching {self.location} failed",
                )
            else:
                self._clone()
        else:
            check_repository(self.path, self.source_name)

    def _clone(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=self.path.parent))
        try:
            run_git(
                None,
                "clone",
                "--bare",
                "--quiet",
                self.location,
                str(tmp / "repo.git"),
                what=f"source {self.source_name!r}: cloning {self.location} failed",
            )
            (tmp / "repo.git").rename(self.path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _safe(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    if safe == name:
        return name
    # "org/app" and "org_app" are two sources: they must not share a clone.
    return f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def check_repository(path: Path, source_name: str) -> None:
    if not path.exists():
        raise SourceError(f"source {source_name!r}: {path} does not exist")
    proc = run_git(path, "rev-parse", "--git-dir", what="", check=False)
    if proc.returncode != 0:
        raise SourceError(
            f"source {source_name!r}: {path} is not a git repository",
            hint="Point commops at a folder inside a git checkout, or a clone URL.",
        )


def default_branch(location: str, source_name: str) -> str:
    """The branch a new source follows when none is named: the repository's HEAD."""
    if is_url(location):
        proc = run_git(
            None,
            "ls-remote",
            "--symref",
            location,
            "HEAD",
            what=f"source {source_name!r}: {location} cannot be reached",
        )
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("ref: ") and line.endswith("\tHEAD"):
                return line[5:-5].removeprefix("refs/heads/")
        if not proc.stdout.strip():
            raise SourceError(f"source {source_name!r}: {location} is an empty repository")
        return "HEAD"
    path = Path(location)
    check_repository(path, source_name)
    proc = run_git(path, "symbolic-ref", "--quiet", "HEAD", what="", check=False)
    if proc.returncode == 0:
        return proc.stdout.decode().strip().removeprefix("refs/heads/")
    return "HEAD"


def check_branch(location: str, branch: str, source_name: str) -> None:
    """Fail early when the branch a new source names is not there; an empty repository has
    no branches yet and is let through (its sync says it is empty)."""
    if is_url(location):
        proc = run_git(
            None,
            "ls-remote",
            "--heads",
            location,
            what=f"source {source_name!r}: {location} cannot be reached",
        )
        lines = proc.stdout.decode("utf-8", "replace").splitlines()
        heads = [ln.split("\t", 1)[1].removeprefix("refs/heads/") for ln in lines if "\t" in ln]
        if not heads or branch in heads or branch == "HEAD":
            return
    else:
        path = Path(location)
        check_repository(path, source_name)
        rev = f"{branch}^{{commit}}"
        if (
            run_git(path, "rev-parse", "--verify", "--quiet", rev, what="", check=False).returncode
            == 0
        ):
            return
        heads = (
            run_git(path, "for-each-ref", "--format=%(refname:short)", "refs/heads", what="")
            .stdout.decode("utf-8", "replace")
            .split()
        )
        if not heads:
            return
    raise SourceError(
        f"source {source_name!r}: branch {branch!r} not found in {location}",
        hint=f"Branches there: {', '.join(heads[:10])}.",
    )


class GitConnector(Connector):
    kind = "git"
    streams = (STREAM,)

    @property
    def branch(self) -> str:
        return str(self.source.options.get("branch") or "HEAD")

    @property
    def mailmap(self) -> bool:
        return bool(self.source.options.get("mailmap", True))

    @property
    def channel(self) -> str:
        return str(self.source.options.get("channel") or self.source.name)

    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        repo = GitRepo(self.source.name, self.source.location, ctx.cache_dir)
        repo.prepare()
        head = self._head(repo.path)
        old = cursor.get("head")
        base = {"branch": self.branch}
        if old == head:
            yield Cursor(STREAM, {**base, "head": head, "commits": cursor.get("commits", 0)})
            return
        if old and self._is_ancestor(repo.path, old, head):
            total = self._count(repo.path, f"{old}..{head}")
            ctx.progress(total=total, note=f"{total} new commits")
            yield from self._log(repo.path, [f"{old}..{head}"], None, ctx)
            count = int(cursor.get("commits", 0)) + total
        else:
            reachable = self._rev_list(repo.path, head)
            known = ctx.known_item_keys()
            gone = sorted(known - reachable)
            if gone:
                ctx.warn(
                    f"history of {self.branch} was rewritten: {len(gone)} commits are no "
                    "longer on it and were removed"
                )
                yield Remove(gone, reason="no longer reachable from " + self.branch)
            missing = reachable - known
            ctx.progress(total=len(missing), note=f"{len(missing)} commits to read")
            if missing == reachable:
                yield from self._log(repo.path, [head], None, ctx)
            elif missing:
                yield from self._log(
                    repo.path,
                    ["--no-walk=unsorted", "--stdin"],
                    "\n".join(sorted(missing)).encode() + b"\n",
                    ctx,
                )
            count = len(reachable)
        yield Cursor(STREAM, {**base, "head": head, "commits": count})

    # -- git plumbing -----------------------------------------------------------------------

    def _head(self, repo: Path) -> str:
        ref = self.branch
        # The branch first: a tag of the same name would win over it in plain `rev-parse`.
        for rev in ([] if ref == "HEAD" else [f"refs/heads/{ref}"]) + [ref]:
            proc = run_git(
                repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", what="", check=False
            )
            if proc.returncode == 0:
                break
        if proc.returncode != 0:
            has_any = (
                run_git(
                    repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", what="", check=False
                ).returncode
                == 0
            )
            branches = (
                run_git(
                    repo,
                    "for-each-ref",
                    "--format=%(refname:short)",
                    "refs/heads",
                    what="",
                    check=False,
                )
                .stdout.decode("utf-8", "replace")
                .split()
            )
            if not has_any and not branches:
                raise SourceError(
                    f"source {self.source.name!r}: {self.source.location} is an empty repository "
                    "(no commits yet)",
                    hint="Sync again once it has commits.",
                )
            raise SourceError(
                f"source {self.source.name!r}: branch {ref!r} not found in {self.source.location}",
                hint=f"Branches there: {', '.join(branches[:10]) or '(none)'}. "
                f"Follow another: `commops remove {self.source.name}`, then `commops add git "
                f"{self.source.location} --name {self.source.name} --branch NAME`.",
            )
        return proc.stdout.decode().strip()

    def _is_ancestor(self, repo: Path, old: str, new: str) -> bool:
        proc = run_git(repo, "merge-base", "--is-ancestor", old, new, what="", check=False)
        return proc.returncode == 0

    def _count(self, repo: Path, rng: str) -> int:
        proc = run_git(
            repo,
            "rev-list",
            "--count",
            rng,
            what=f"source {self.source.name!r}: counting commits failed",
        )
        return int(proc.stdout.strip() or 0)

    def _rev_list(self, repo: Path, head: str) -> set[str]:
        proc = run_git(
            repo,
            "rev-list",
            head,
            what=f"source {self.source.name!r}: listing commits of {head} failed",
        )
        return set(proc.stdout.decode().split())

    def _failed_commit(
        self, repo: Path, revs: list[str], stdin: bytes | None, last: str | None
    ) -> str | None:
        """The commit ``git log`` was reading when it died (only run after a failure). git
        prints a commit before its diff, unless the diff cannot even start (a missing tree):
        then the culprit is the next commit in the walk, not the last one printed."""
        if last is not None:
            # The same diff as the failed run, for that one commit (diff-tree is laxer).
            check = run_git(repo, *self._log_args(["-1", last]), what="", check=False)
            if check.returncode != 0:
                return last
        if stdin is not None:
            order = stdin.decode("ascii").split()
        else:
            listed = run_git(repo, "rev-list", *revs, what="", check=False)
            if listed.returncode != 0:
                return None
            order = listed.stdout.decode("ascii").split()
        at = order.index(last) + 1 if last in order else 0 if last is None else len(order)
        return order[at] if at < len(order) else None

    def _log_args(self, revs: list[str]) -> list[str]:
        fields = _FIELDS[:-2] + (_MAILMAP_FIELDS if self.mailmap else ()) + _FIELDS[-2:]
        fmt = "%x01" + "%x00".join(fields) + "%x00"
        return [
            "-c",
            "log.showSignature=false",
            "-c",
            "core.quotePath=false",
            "-c",
            "i18n.logOutputEncoding=UTF-8",
            "-c",
            "log.mailmap=true",
            # A user's or repository's config must not change the numbers: the root commit's
            # files count, and paths are never made relative to a subfolder.
            "-c",
            "log.showRoot=true",
            "-c",
            "diff.relative=false",
            "log",
            "-z",
            "--numstat",
            "--find-renames",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            f"--format={fmt}",
            *revs,
            "--",
        ]

    def _log(
        self, repo: Path, revs: list[str], stdin: bytes | None, ctx: SyncContext
    ) -> Iterator[Change]:
        proc = subprocess.Popen(
            ["git", "-C", str(repo), *self._log_args(revs)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git_env(),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            bufsize=0,
        )
        assert proc.stdout is not None
        assert proc.stderr is not None
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin)
            proc.stdin.close()
        # Drain git's output on a thread so git never waits on a full pipe while we parse and
        # write: git computes diffs on one core, we parse and store on the other.
        reader = _Drain(proc.stdout)
        errors = _Drain(proc.stderr)
        parser = _LogParser(self, repo, ctx)
        failed = True
        try:
            batch: list[ActivityRecord] = []
            for records in parser.commits(reader.chunks()):
                batch.extend(records)
                if len(batch) >= BATCH:
                    yield Upsert(batch)
                    batch = []
            code = proc.wait()
            if code != 0:
                bad = self._failed_commit(repo, revs, stdin, parser.current)
                where = (
                    f" while reading commit {bad}"
                    if bad
                    else f" after commit {parser.current}"
                    if parser.current
                    else ""
                )
                raise SyncError(
                    f"source {self.source.name!r}: git log failed{where}: {_stderr(errors.text())}",
                    hint="Nothing from this run was recorded; the next sync starts again.",
                )
            if batch:
                yield Upsert(batch)
            failed = False
        finally:
            if failed and proc.poll() is None:
                proc.kill()
            proc.wait()
            reader.close()
            errors.close()
            if parser.mailmap is not None:
                parser.mailmap.close()


class _Drain:
    """Reads a pipe to the end on a thread; the consumer takes the chunks in order."""

    _END = b""

    def __init__(self, stream: IO[bytes], size: int = 1 << 18) -> None:
        self.stream = stream
        self.size = size
        # Bounded, so a slow consumer holds at most ~64 MiB of git's output in memory.
        self.queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=256)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while chunk := self.stream.read(self.size):
                self.queue.put(chunk)
        except (OSError, ValueError) as exc:
            self.queue.put(exc)
        self.queue.put(self._END)

    def chunks(self) -> Iterator[bytes]:
        while True:
            item = self.queue.get()
            if isinstance(item, BaseException):
                raise SyncError(f"reading git's output failed: {item}")
            if item == self._END:
                return
            yield item

    def text(self) -> bytes:
        self.thread.join()
        return b"".join(c for c in iter(self.queue.get_nowait, self._END) if isinstance(c, bytes))

    def close(self) -> None:
        # git has exited: the thread reaches the end of the pipe, unless it waits on a full
        # queue because the consumer stopped early. Empty the queue until it is done.
        while self.thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self.queue.get(timeout=0.05)
        self.stream.close()


class _Mailmap:
    """The repository's .mailmap for co-author trailers, which ``git log`` does not map: one
    ``git check-mailmap --stdin`` process for the whole run, started at the first co-author."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.proc: subprocess.Popen[bytes] | None = None
        self.broken = False
        self.cache: dict[tuple[str, str], tuple[str, str] | None] = {}

    def canonical(self, name: str, email: str) -> tuple[str, str] | None:
        key = (name, email)
        if key not in self.cache:
            self.cache[key] = self._ask(name, email)
        return self.cache[key]

    def _ask(self, name: str, email: str) -> tuple[str, str] | None:
        if self.broken or not email or any(c in name + email for c in "<>\n"):
            return None
        try:
            if self.proc is None:
                self.proc = subprocess.Popen(
                    ["git", "-C", str(self.repo), "check-mailmap", "--stdin"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=git_env(),
                )
            assert self.proc.stdin is not None
            assert self.proc.stdout is not None
            self.proc.stdin.write(f"{name} <{email}>\n".encode())
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except OSError:
            line = b""
        if not line.endswith(b"\n"):  # git without --stdin, or it died: map nothing more
            self.broken = True
            return None
        mapped = parse_person(_text(line[:-1]))
        return None if mapped == (name, email) else mapped

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc.wait()


class _LogParser:
    def __init__(self, conn: GitConnector, repo: Path, ctx: SyncContext) -> None:
        self.conn = conn
        self.repo = repo
        self.ctx = ctx
        self.mailmap = _Mailmap(repo) if conn.mailmap else None
        self.nfields = len(_FIELDS) + (len(_MAILMAP_FIELDS) if conn.mailmap else 0)
        self.current: str | None = None

    def tokens(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        rest = b""
        for chunk in chunks:
            parts = (rest + chunk).split(b"\0")
            rest = parts.pop()
            yield from parts
        if rest:
            yield rest

    def commits(self, chunks: Iterable[bytes]) -> Iterator[list[ActivityRecord]]:
        tokens = self.tokens(chunks)
        header: list[bytes] | None = None
        files: list[list[Any]] = []
        pending_rename: list[bytes] | None = None
        done = 0
        for tok in tokens:
            if header is not None and len(header) < self.nfields:
                header.append(tok)
                continue
            if pending_rename is not None:
                pending_rename.append(tok)
                if len(pending_rename) == 3:
                    stat, _old, new = pending_rename
                    files.append(_stat(stat, new))
                    pending_rename = None
                continue
            if tok.startswith(b"\x01"):
                if header is not None:
                    yield self.build(header, files)
                    done += 1
                    if done % 200 == 0:
                        self.ctx.progress(advance=200)
                header = [tok[1:]]
                self.current = header[0].decode("ascii", "replace")
                files = []
                continue
            if not tok or tok == b"\n":
                continue
            stat = tok.lstrip(b"\n")
            if stat.endswith(b"\t") and stat.count(b"\t") == 2:
                pending_rename = [stat]
            else:
                ins, dele, path = stat.split(b"\t", 2)
                files.append(_stat(ins + b"\t" + dele + b"\t", path))
        if header is not None:
            if len(header) < self.nfields:
                raise SyncError(
                    f"source {self.conn.source.name!r}: git log output ended inside commit "
                    f"{self.current}"
                )
            yield self.build(header, files)
            done += 1
        self.ctx.progress(advance=done % 200)

    def build(self, h: list[bytes], files: list[list[Any]]) -> list[ActivityRecord]:
        sha = h[0].decode("ascii")
        parents = h[1].decode("ascii").split()
        an, ae = _text(h[2]), _text(h[3])
        cn, ce = _text(h[6]), _text(h[7])
        i = 10
        a_canon: tuple[str, str] | None = None
        c_canon: tuple[str, str] | None = None
        if self.conn.mailmap:
            amn, ame, cmn, cme = (_text(x) for x in h[10:14])
            if (amn, ame) != (an, ae):
                a_canon = (amn, ame)
            if (cmn, cme) != (cn, ce):
                c_canon = (cmn, cme)
            i = 14
        subject = _text(h[i])
        message = _text(h[i + 1])
        a_utc, a_iso, a_off = self._when(h[4], h[5], sha, "author")
        c_utc, c_iso, c_off = self._when(h[8], h[9], sha, "committer")
        insertions = sum(f[1] or 0 for f in files)
        deletions = sum(f[2] or 0 for f in files)
        pr, merged_branch = pr_number(subject)
        co_authors: list[dict[str, str]] = []
        signed_off: list[dict[str, str]] = []
        if "-b" in message or "-B" in message:  # "-by", any case: skip the scan when absent
            co_authors, signed_off = trailers(message)
        author = person_ref(an, ae, a_canon)
        committer = person_ref(cn, ce, c_canon)
        attrs: dict[str, Any] = {
            "sha": sha,
            "parents": parents,
            "merge": len(parents) > 1,
            "author_name": an,
            "author_email": ae,
            "author_date": a_iso,
            "author_tz_offset": a_off,
            "committer_name": cn,
            "committer_email": ce,
            "committer_date": c_iso,
            "committer_tz_offset": c_off,
            "committed_at": c_utc.isoformat() + "Z",
            "files_changed": len(files),
            "insertions": insertions,
            "deletions": deletions,
            "files": files,
            "pr_number": pr,
            "co_authors": co_authors,
            "signed_off_by": signed_off,
            "message": message,
        }
        if merged_branch:
            attrs["merged_branch"] = merged_branch
        target = str(pr) if pr is not None else None
        channel = self.conn.channel
        records = [
            ActivityRecord(
                item_key=sha,
                kind="git:commit",
                occurred_at=a_utc,
                actor=author,
                channel=channel,
                target=target,
                title=subject,
                contribution_type="code",
                attributes=attrs,
                mentions=(committer,) if committer != author else (),
            )
        ]
        # The author is not their own co-author, whether a trailer names them by e-mail or,
        # without one, by name.
        seen = {ae.lower(), an.lower()}
        for co in co_authors:
            key = (co["email"] or co["name"]).lower()
            if not key or key in seen:
                continue
            seen.add(key)
            records.append(
                ActivityRecord(
                    item_key=sha,
                    kind="git:co_authored",
                    discriminator=key,
                    occurred_at=a_utc,
                    actor=person_ref(
                        co["name"],
                        co["email"],
                        self.mailmap.canonical(co["name"], co["email"]) if self.mailmap else None,
                    ),
                    object=author,
                    channel=channel,
                    target=target,
                    title=subject,
                    contribution_type="code",
                    attributes={"sha": sha, "author_email": ae, "pr_number": pr},
                )
            )
        return records

    def _when(self, ts: bytes, iso: bytes, sha: str, who: str) -> tuple[datetime, str, int]:
        if ts and iso:
            iso_s = iso.decode("ascii")
            return (_EPOCH + timedelta(seconds=int(ts)), iso_s, _offset_minutes(iso_s))
        # git cannot format dates before 1970; read the raw header and do it ourselves.
        raw = run_git(
            self.repo,
            "cat-file",
            "commit",
            sha,
            what=f"source {self.conn.source.name!r}: reading commit {sha}",
        ).stdout
        for m in _RAW_PERSON.finditer(raw.split(b"\n\n", 1)[0]):
            if m.group(1).decode() == who:
                seconds, zone = int(m.group(4)), m.group(5).decode()
                minutes = (-1 if zone[0] == "-" else 1) * (int(zone[1:3]) * 60 + int(zone[3:]))
                utc = _EPOCH + timedelta(seconds=seconds)
                return utc, _local_iso(utc, minutes), minutes
        self.ctx.warn(f"commit {sha}: the {who} date cannot be read; 1970-01-01 used instead")
        return _EPOCH, "1970-01-01T00:00:00+00:00", 0


def _stat(stat: bytes, path: bytes) -> list[Any]:
    ins, dele, _ = stat.split(b"\t", 2)
    if ins == b"-":  # binary file
        return [_text(path), None, None]
    return [_text(path), int(ins), int(dele)]
