"""Requests and wall time of a GitHub sync of a synthetic organisation, full then incremental.

    python bench/github_sync.py               # 20 repos, 50,000 issues/PRs, 200,000 comments
    python bench/github_sync.py --scale 0.02  # the same shape, 2% of the size (a quick run)

The organisation is served by the replay server of the tests (tests/replay.py, a real HTTP server
on 127.0.0.1) through tests/data/github/fakehub.py, which answers like the REST API (``since``,
``sort=updated``, ``Link`` pagination, ETags). One item in three is a pull request, half of them
merged, each with one review; one issue in five is closed. Measured, on a fresh SQLite workspace:

- full: the first ``sync_workspace``: requests, requests per issue/PR, wall time;
- incremental: after 1% of the issues/PRs changed (half of them closed or merged, each with one
  new comment), the second sync: requests and wall time, against the requests those changes
  need: per repository one conditional repository GET and one page of each list stream (more
  when more than 100 items changed), plus ``/pulls/{n}`` and ``/pulls/{n}/reviews`` per changed
  pull request and ``/issues/{n}`` per issue or pull request closed without a merge. The script
  exits 1 when the incremental sync makes any request beyond those.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "data" / "github")]

from fakehub import FakeHub  # noqa: E402

from commops.connectors.github import format_time  # noqa: E402
from commops.sources import add_source  # noqa: E402
from commops.sync import sync_workspace  # noqa: E402
from commops.workspace import init_workspace  # noqa: E402
from replay import Replay  # noqa: E402

START = datetime(2020, 1, 1)
DEBUG = False
LIST_STREAMS = 7  # issues, comments, review_comments, stars, forks, releases, discussions


def build(hub: FakeHub, repos: int, items: int, comments: int, rng: random.Random) -> list[Any]:
    """Returns [(repo, number, is_pr)] for every issue/PR."""
    every: list[Any] = []
    per_repo = items // repos
    comments_per_item = comments // items
    for r in range(repos):
        name = f"repo{r:02d}"
        for n in range(1, per_repo + 1):
            created = START + timedelta(minutes=10 * (r * per_repo + n))
            pr = n % 3 == 0
            merged = pr and n % 2 == 0
            closed = merged or n % 5 == 0
            when = format_time(created + timedelta(hours=5))
            hub.issue(
                name,
                n,
                author=f"user{rng.randrange(2000)}",
                created=format_time(created),
                updated=when,
                closed=when if closed else None,
                closed_by="maintainer" if closed and not merged else None,
                pr=pr,
                merged=when if merged else None,
                merged_by="maintainer" if merged else None,
            )
            for c in range(comments_per_item):
                at = format_time(created + timedelta(minutes=c + 1))
                hub.comment(name, n, author=f"user{rng.randrange(2000)}", created=at)
            if pr:
                at = format_time(created + timedelta(hours=1))
                hub.review(name, n, author="reviewer", submitted=at, state="APPROVED")
                hub.review_comment(name, n, author="reviewer", created=at)
            every.append((name, n, pr))
        for s in range(50):
            hub.star(name, f"fan{s}", format_time(START + timedelta(days=s)))
        hub.fork(name, "forker", format_time(START + timedelta(days=3)))
        hub.release(
            name, "v1.0", author="maintainer", published="2020-06-01T00:00:00Z", downloads=7
        )
    return every


def change(hub: FakeHub, every: list[Any], share: float, rng: random.Random) -> dict[str, Any]:
    """Touch ``share`` of the items; returns the requests the changes need beyond the fixed
    per-repository ones."""
    chosen = rng.sample(every, max(1, round(len(every) * share)))
    now = START + timedelta(days=3650)
    per_repo: Counter[str] = Counter()
    needed = 0
    for i, (repo, n, pr) in enumerate(chosen):
        at = format_time(now + timedelta(seconds=i))
        item = hub.repos[f"{hub.org}/{repo}"].issues[n]
        was_closed = item["closed_at"] is not None
        if i % 2 == 0 and not was_closed:
            if pr:
                hub.touch(repo, n, at, merged=at)
            else:
                hub.touch(repo, n, at, closed=at)
                needed += 1  # /issues/{n} for closed_by
        else:
            hub.touch(repo, n, at)
        hub.comment(repo, n, author="newcomer", created=at)
        if pr:
            needed += 2  # /pulls/{n}, /pulls/{n}/reviews
        per_repo[repo] += 1
    extra_pages = sum(2 * (math.ceil(c / 100) - 1) for c in per_repo.values())  # issues, comments
    return {"changed": len(chosen), "needed": needed + extra_pages}


def timed_sync(ws: Any, replay: Replay) -> tuple[float, int, Any]:
    before = replay.count()
    started = time.perf_counter()
    [result] = sync_workspace(ws, ["bench"])
    seconds = time.perf_counter() - started
    if DEBUG:
        print(Counter(r.path.rsplit("/", 1)[-1] for r in replay.requests[before:]))
    if result.error:
        raise SystemExit(f"sync failed: {result.error}")
    return seconds, replay.count() - before, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply items and comments")
    parser.add_argument("--changed", type=float, default=0.01, help="share of items changed")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    items = max(args.repos, round(args.items * args.scale))
    comments = round(args.comments * args.scale)
    rng = random.Random(7)
    with Replay() as replay, tempfile.TemporaryDirectory() as tmp:
        hub = FakeHub(replay, org="bench-org")
        built = time.perf_counter()
        every = build(hub, args.repos, items, comments, rng)
        built = time.perf_counter() - built
        ws, _ = init_workspace(Path(tmp) / "ws")
        try:
            add_source(ws.store, "github", hub.org, name="bench", options={"api_url": hub.api_url})
            full_s, full_req, full = timed_sync(ws, replay)
            plan = change(hub, every, args.changed, rng)
            inc_s, inc_req, inc = timed_sync(ws, replay)
        finally:
            ws.close()
    fixed = 1 + args.repos * (1 + LIST_STREAMS)
    expected = fixed + plan["needed"]
    figures = {
        "repositories": args.repos,
        "issues_prs": len(every),
        "comments": comments,
        "build_seconds": round(built, 2),
        "full": {
            "seconds": round(full_s, 2),
            "requests": full_req,
            "requests_per_item": round(full_req / len(every), 3),
            "activities": full.added,
        },
        "incremental": {
            "changed_items": plan["changed"],
            "seconds": round(inc_s, 2),
            "requests": inc_req,
            "requests_needed": expected,
            "requests_per_changed_item": round(inc_req / plan["changed"], 3),
            "activities": inc.added,
        },
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if inc_req > expected:
        print(f"incremental sync made {inc_req} requests, more than the {expected} needed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
