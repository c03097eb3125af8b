"""GH Archive import against DuckDB's bare ``read_json`` count over the same hourly files.

    python bench/gharchive.py                      # 2,000,000 events in 20 hourly files
    python bench/gharchive.py --events 200000      # a quick run, same shape
    python bench/gharchive.py --runs 1 --no-all    # one run each, without the keep-all import
    python bench/gharchive.py --all-runs 1         # keep-all import once (slow: every row stored)

Generates GH-Archive-shaped hourly ``.json.gz`` files (2015+ Events API schema, a realistic mix
of event types and payload sizes: pull request events carry a full ``pull_request`` object of a
few kB, pushes one to a few commits, stars a few hundred bytes; about 100,000 events an hour),
cached under ``--dir`` and reused when the same size is asked again. Then, median of ``--runs``:

- **bare**: ``SELECT count(*) FROM read_json([files], format='newline_delimited')`` in-process;
- **filtered**: ``commops import gharchive FILES --org ...`` into a fresh workspace, keeping the
  events of 10 organisations (about 7% of the events, as tracking a project's orgs would);
- **all**: ``commops import gharchive FILES --all`` into a fresh workspace (every event stored).

Actors are skewed (``pool * random() ** 3``): the tracked organisations' events come from a
community of about 5,000 people, the rest from 2 million, as on GitHub, where bots and
maintainers act many times an hour.

Each import is a child process (``python -m commops``), timed end to end (module loading and the
snapshot refresh included), with its peak RSS from ``os.wait4``. Prints events/s and the ratio
import/bare; target: filtered >= 0.4 of the bare rate, peak memory < 2 GB. ``--check`` exits 1
when the filtered import misses either target.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PER_HOUR = 100_000
TRACKED = [f"tracked-org-{i}" for i in range(10)]
KEEP_FRACTION = 0.07
MIX = [  # (type, weight): roughly GH Archive's share of each type
    ("PushEvent", 44),
    ("CreateEvent", 12),
    ("WatchEvent", 8),
    ("PullRequestEvent", 9),
    ("IssueCommentEvent", 6),
    ("DeleteEvent", 4),
    ("PullRequestReviewEvent", 4),
    ("PullRequestReviewCommentEvent", 3),
    ("IssuesEvent", 3),
    ("ForkEvent", 2),
    ("ReleaseEvent", 1),
    ("GollumEvent", 1),
    ("MemberEvent", 1),
    ("CommitCommentEvent", 1),
    ("PublicEvent", 1),
]
WORDS = [
    "fix",
    "add",
    "update",
    "refactor",
    "docs",
    "test",
    "bump",
    "release",
    "merge",
    "support",
    "remove",
    "improve",
    "handle",
    "config",
    "build",
    "error",
    "cache",
    "api",
    "client",
    "server",
    "parser",
    "memory",
    "thread",
    "async",
    "module",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _user(rng: random.Random, login: str) -> dict[str, Any]:
    uid = rng.randrange(1, 200_000_000)
    return {
        "login": login,
        "id": uid,
        "node_id": f"MDQ6VXNlcj{uid}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
    }


def _repo_obj(rng: random.Random, name: str) -> dict[str, Any]:
    return {
        "id": rng.randrange(1, 900_000_000),
        "name": name.split("/")[1],
        "full_name": name,
        "private": False,
        "owner": _user(rng, name.split("/")[0]),
        "html_url": f"https://github.com/{name}",
        "description": _text(rng, 12),
        "fork": False,
        "url": f"https://api.github.com/repos/{name}",
        "created_at": "2019-03-01T10:00:00Z",
        "updated_at": "2024-05-01T10:00:00Z",
        "pushed_at": "2024-05-01T10:00:00Z",
        "size": rng.randrange(100, 100_000),
        "stargazers_count": rng.randrange(0, 5000),
        "language": rng.choice(["Go", "Python", "Rust", "TypeScript", "Java"]),
        "forks_count": rng.randrange(0, 500),
        "open_issues_count": rng.randrange(0, 300),
        "default_branch": "main",
    }


def _pull(rng: random.Random, repo: str, number: int, login: str, merged: bool) -> dict[str, Any]:
    return {
        "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
        "id": rng.randrange(1, 2_000_000_000),
        "number": number,
        "state": "closed" if merged else "open",
        "title": _text(rng, 8),
        "user": _user(rng, login),
        "body": _text(rng, rng.randrange(20, 400)),
        "created_at": "2024-05-01T09:00:00Z",
        "merged": merged,
        "merge_commit_sha": f"{rng.getrandbits(160):040x}",
        "labels": [{"name": rng.choice(WORDS), "color": "ededed"} for _ in range(2)],
        "head": {
            "ref": "feature",
            "sha": f"{rng.getrandbits(160):040x}",
            "repo": _repo_obj(rng, repo),
        },
        "base": {
            "ref": "main",
            "sha": f"{rng.getrandbits(160):040x}",
            "repo": _repo_obj(rng, repo),
        },
        "comments": rng.randrange(0, 20),
        "commits": rng.randrange(1, 10),
        "additions": rng.randrange(1, 2000),
        "deletions": rng.randrange(0, 500),
        "changed_files": rng.randrange(1, 40),
    }


def _issue(rng: random.Random, repo: str, number: int, login: str) -> dict[str, Any]:
    return {
        "url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "id": rng.randrange(1, 2_000_000_000),
        "number": number,
        "title": _text(rng, 8),
        "user": _user(rng, login),
        "state": "open",
        "comments": rng.randrange(0, 30),
        "created_at": "2024-05-01T08:00:00Z",
        "body": _text(rng, rng.randrange(10, 200)),
    }


def _payload(rng: random.Random, etype: str, repo: str, login: str) -> dict[str, Any]:
    number = rng.randrange(1, 30_000)
    other = f"user{rng.randrange(1_000_000)}"
    if etype == "PushEvent":
        n = rng.choice([1, 1, 1, 1, 2, 2, 3, 5])
        return {
            "repository_id": rng.randrange(1, 900_000_000),
            "push_id": rng.randrange(1, 20_000_000_000),
            "size": n,
            "distinct_size": n,
            "ref": "refs/heads/main",
            "head": f"{rng.getrandbits(160):040x}",
            "before": f"{rng.getrandbits(160):040x}",
            "commits": [
                {
                    "sha": f"{rng.getrandbits(160):040x}",
                    "author": {"email": f"{login}@example.com", "name": login},
                    "message": _text(rng, rng.randrange(4, 40)),
                    "distinct": True,
                    "url": f"https://api.github.com/repos/{repo}/commits/x",
                }
                for _ in range(n)
            ],
        }
    if etype == "PullRequestEvent":
        action = rng.choice(["opened", "closed", "closed", "reopened", "synchronize"])
        merged = action == "closed" and rng.random() < 0.7
        return {
            "action": action,
            "number": number,
            "pull_request": _pull(rng, repo, number, other if merged else login, merged),
        }
    if etype == "PullRequestReviewEvent":
        return {
            "action": "created",
            "review": {
                "id": rng.randrange(1 << 31),
                "user": _user(rng, login),
                "state": "approved",
                "body": _text(rng, rng.randrange(0, 40)),
            },
            "pull_request": _pull(rng, repo, number, other, False),
        }
    if etype == "PullRequestReviewCommentEvent":
        return {
            "action": "created",
            "comment": {
                "id": rng.randrange(1 << 31),
                "user": _user(rng, login),
                "path": "src/x.py",
                "diff_hunk": _text(rng, 30),
                "body": _text(rng, rng.randrange(5, 80)),
            },
            "pull_request": _pull(rng, repo, number, other, False),
        }
    if etype == "IssueCommentEvent":
        return {
            "action": "created",
            "issue": _issue(rng, repo, number, other),
            "comment": {
                "id": rng.randrange(1 << 31),
                "user": _user(rng, login),
                "body": _text(rng, rng.randrange(5, 150)),
            },
        }
    if etype == "IssuesEvent":
        return {
            "action": rng.choice(["opened", "closed"]),
            "issue": _issue(rng, repo, number, login),
        }
    if etype == "CreateEvent":
        return {
            "ref": "feature",
            "ref_type": rng.choice(["branch", "branch", "tag"]),
            "master_branch": "main",
            "description": _text(rng, 6),
            "pusher_type": "user",
        }
    if etype == "DeleteEvent":
        return {"ref": "feature", "ref_type": "branch", "pusher_type": "user"}
    if etype == "WatchEvent":
        return {"action": "started"}
    if etype == "ForkEvent":
        return {"forkee": _repo_obj(rng, f"{login}/{repo.split('/')[1]}")}
    if etype == "ReleaseEvent":
        return {
            "action": "published",
            "release": {
                "tag_name": f"v1.{number}",
                "name": f"v1.{number}",
                "author": _user(rng, login),
                "body": _text(rng, rng.randrange(20, 300)),
                "assets": [],
            },
        }
    if etype == "MemberEvent":
        return {"action": "added", "member": _user(rng, other)}
    if etype == "GollumEvent":
        return {
            "pages": [{"page_name": "Home", "title": "Home", "action": "edited", "sha": "0" * 40}]
        }
    if etype == "CommitCommentEvent":
        return {
            "comment": {
                "id": rng.randrange(1 << 31),
                "user": _user(rng, login),
                "body": _text(rng, rng.randrange(5, 60)),
            }
        }
    return {}


def generate(folder: Path, events: int, seed: int = 7) -> list[Path]:
    """Hourly files of ``events`` events in all; reused when already there."""
    folder.mkdir(parents=True, exist_ok=True)
    hours = max(1, round(events / PER_HOUR))
    stamp = folder / f"done-{events}-v2"
    files = [folder / f"2024-05-01-{h}.json.gz" for h in range(hours)]
    if stamp.exists():
        return files
    rng = random.Random(seed)
    types = [t for t, _ in MIX]
    weights = [w for _, w in MIX]
    # A pool of payload shapes per type, so that generating 2M events takes a minute, not ten:
    # events differ in id, actor, repository and time; payloads are drawn from the pool.
    pool = {t: [_payload(rng, t, "owner/repo", "someone") for _ in range(200)] for t in types}
    encoded = {t: [json.dumps(p, separators=(",", ":")) for p in ps] for t, ps in pool.items()}
    event_id = 30_000_000_000
    left = events
    for h, path in enumerate(files):
        n = left // (hours - h)
        left -= n
        chosen = rng.choices(types, weights, k=n)
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as fh:
            lines = []
            for i, etype in enumerate(chosen):
                if rng.random() < KEEP_FRACTION:
                    owner = rng.choice(TRACKED)
                    org = f',"org":{{"id":1,"login":"{owner}"}}'
                else:
                    owner = f"owner{rng.randrange(300_000)}"
                    org = ""
                repo = f"{owner}/repo{rng.randrange(20)}"
                # Actors are skewed as on GitHub: a few (bots, maintainers) act often. A tracked
                # organisation's events come from its community of ~5,000 people.
                pool = 5_000 if org else 2_000_000
                login = f"user{int(pool * rng.random() ** 3)}"
                event_id += 1
                minute, second = divmod(i * 3600 // max(n, 1), 60)
                lines.append(
                    f'{{"id":"{event_id}","type":"{etype}","actor":{{"id":{event_id % 99991},'
                    f'"login":"{login}","display_login":"{login}","gravatar_id":"",'
                    f'"url":"https://api.github.com/users/{login}",'
                    f'"avatar_url":"https://avatars.githubusercontent.com/u/1?"}},'
                    f'"repo":{{"id":{event_id % 77777},"name":"{repo}",'
                    f'"url":"https://api.github.com/repos/{repo}"}},'
                    f'"payload":{rng.choice(encoded[etype])},"public":true,'
                    f'"created_at":"2024-05-01T{h % 24:02d}:{minute:02d}:{second:02d}Z"{org}}}\n'
                )
                if len(lines) >= 5000:
                    fh.write("".join(lines))
                    lines = []
            fh.write("".join(lines))
    stamp.touch()
    return files


def bare_count(files: list[Path]) -> tuple[float, int]:
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    [(count,)] = con.execute(
        "SELECT count(*) FROM read_json(?, format = 'newline_delimited', compression = 'auto')",
        [[str(f) for f in files]],
    ).fetchall()
    seconds = time.perf_counter() - started
    con.close()
    return seconds, int(count)


def run_child(args: list[str], cwd: Path) -> tuple[float, int, str]:
    """Seconds, peak RSS (bytes) and stdout of ``python -m commops ARGS``."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "commops", *args], cwd=cwd, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"commops {' '.join(args[:3])} failed ({proc.returncode}): {out}")
    return seconds, usage.ru_maxrss * 1024, out


def import_once(files: list[Path], filters: list[str], tmp: Path) -> tuple[float, int, int]:
    ws = Path(tempfile.mkdtemp(prefix="ws-", dir=tmp))
    run_child(["init", str(ws)], tmp)
    seconds, rss, out = run_child(
        ["-w", str(ws), "import", "gharchive", *map(str, files), *filters, "--json"], tmp
    )
    [report] = json.loads(out)
    return seconds, rss, int(report["added"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "commops-gha")
    parser.add_argument("--no-all", action="store_true", help="Skip the keep-all import.")
    parser.add_argument(
        "--all-runs", type=int, default=None, help="Runs of the keep-all import (default --runs)."
    )
    parser.add_argument("--check", action="store_true", help="Exit 1 when a target is missed.")
    opts = parser.parse_args()

    started = time.perf_counter()
    files = generate(opts.dir / f"events-{opts.events}", opts.events)
    size = sum(f.stat().st_size for f in files)
    print(
        f"{len(files)} hourly files, {opts.events:,} events, {size / 1e6:,.0f} MB gzip "
        f"(ready in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    bare = []
    for _ in range(opts.runs):
        seconds, count = bare_count(files)
        assert count == opts.events, (count, opts.events)
        bare.append(seconds)
    bare_s = statistics.median(bare)
    bare_rate = opts.events / bare_s
    print(f"bare read_json count: {bare_s:8.2f} s  {bare_rate:12,.0f} events/s", flush=True)

    filters = {"filtered": [a for o in TRACKED for a in ("--org", o)]}
    if not opts.no_all:
        filters["all"] = ["--all"]
    failed = False
    with tempfile.TemporaryDirectory(prefix="commops-gha-bench-") as tmp:
        for label, args in filters.items():
            n = opts.runs if label == "filtered" else (opts.all_runs or opts.runs)
            runs = [import_once(files, args, Path(tmp)) for _ in range(n)]
            seconds = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            added = runs[0][2]
            rate = opts.events / seconds
            ratio = rate / bare_rate
            print(
                f"import {label:9s}: {seconds:8.2f} s  {rate:12,.0f} events/s  "
                f"ratio {ratio:4.2f}  kept {added:,} ({added / opts.events:.1%})  "
                f"peak RSS {rss / 2**20:,.0f} MiB  (median of {n})",
                flush=True,
            )
            if label == "filtered" and (ratio < 0.4 or rss >= 2 * 2**30):
                failed = True
    print("target: filtered import >= 0.40 of the bare rate, peak RSS < 2048 MiB")
    if opts.check and failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
