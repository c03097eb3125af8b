"""Identity resolution: quality against a real truth, and speed at 200,000 identities.

Quality: ``../shared/data/identity/<repo>.identities.jsonl`` holds every raw (name, e-mail)
author identity of a repository, labelled with the person its own ``.mailmap`` assigns. The
identities are imported as git identities with mailmap use off, the resolver runs, and the
grouping it makes is scored against the truth: pairwise precision, recall and F1, and B-cubed
F1, next to two baselines computed in the same run (exact e-mail only; exact e-mail or exact
normalised name).

Speed: 200,000 synthetic identities (people with git e-mails, GitHub and Gitee logins, forum
names, Chinese names, shared names, noise) are imported, then resolved in full; then 1,000 new
identities are added and resolved incrementally. The baseline is the time the same import
takes. Median of ``--runs`` runs; the ratio is what to compare across machines.

    python bench/identity.py [--truth FILE] [--scale 200000] [--runs 3] [--skip-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

from sqlalchemy import select

from commops.connectors.base import IdentityRef
from commops.identity.bots import BotRules
from commops.identity.registry import IdentityRegistry
from commops.identity.resolve import resolve
from commops.sources import add_git_source
from commops.store.models import Identity
from commops.sync import sync_workspace
from commops.workspace import init_workspace

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "identity"


def _pairs(labels: list[str]) -> set[tuple[int, int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        groups[label].append(i)
    return {p for ids in groups.values() for p in combinations(ids, 2)}


def scores(truth: list[str], pred: list[str]) -> dict[str, float]:
    t, p = _pairs(truth), _pairs(pred)
    tp = len(t & p)
    precision = tp / len(p) if p else 1.0
    recall = tp / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # B-cubed: per item, the overlap of its true and predicted clusters.
    tc: dict[str, set[int]] = defaultdict(set)
    pc: dict[str, set[int]] = defaultdict(set)
    for i, (a, b) in enumerate(zip(truth, pred, strict=True)):
        tc[a].add(i)
        pc[b].add(i)
    bp = br = 0.0
    for i in range(len(truth)):
        both = len(tc[truth[i]] & pc[pred[i]])
        bp += both / len(pc[pred[i]])
        br += both / len(tc[truth[i]])
    bp, br = bp / len(truth), br / len(truth)
    b3 = 2 * bp * br / (bp + br)
    return {"precision": precision, "recall": recall, "f1": f1, "bcubed_f1": b3}


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, keys: Iterable[str | None]) -> list[str]:
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key is None:
                continue
            if key in first:
                self.parent[self.find(i)] = self.find(first[key])
            else:
                first[key] = i
        return [str(self.find(i)) for i in range(len(self.parent))]


def _norm_name(name: str) -> str | None:
    folded = unicodedata.normalize("NFKD", name).casefold()
    words = "".join(c if c.isalnum() else " " for c in folded if not unicodedata.combining(c))
    key = " ".join(words.split())
    return key or None


def baselines(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    emails = [r["email"].lower() for r in rows]
    exact = _Union(len(rows)).join(emails)
    both = _Union(len(rows))
    both.join(emails)
    with_names = both.join(_norm_name(r["name"]) for r in rows)
    return {"exact e-mail": exact, "e-mail or name": with_names}


def _git_history(rows: list[dict[str, str]], path: Path) -> None:
    """A repository with one commit per identity (at its first date), through git fast-import."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    lines: list[bytes] = []
    for i, r in enumerate(sorted(rows, key=lambda r: r["first"])):
        when = datetime.fromisoformat(r["first"])
        offset = when.utcoffset() or timedelta()
        minutes = int(offset.total_seconds()) // 60
        tz = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
        person = f"{r['name']} <{r['email']}> {int(when.timestamp())} {tz}".encode()
        message = f"identity {i}\n".encode()
        lines += [b"commit refs/heads/main", b"author " + person, b"committer " + person]
        lines += [b"data %d" % len(message), message, b""]
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"], input=b"\n".join(lines), check=True
    )


def run_resolver(rows: list[dict[str, str]]) -> tuple[list[str], float, int]:
    """Import the identities as the git authors of one repository (mailmap off), resolve."""
    with tempfile.TemporaryDirectory() as tmp:
        _git_history(rows, Path(tmp) / "repo")
        ws, _ = init_workspace(Path(tmp) / "ws")
        ws.config.resolve_after_sync = False
        if os.environ.get("COMMOPS_BENCH_AUTO_MERGE_SCORE"):  # to explore the trade-off
            ws.config.auto_merge_score = float(os.environ["COMMOPS_BENCH_AUTO_MERGE_SCORE"])
        try:
            add_git_source(ws.store, str(Path(tmp) / "repo"), name="truth", mailmap=False)
            (result,) = sync_workspace(ws)
            if not result.ok:
                raise SystemExit(f"import failed: {result.error}")
            started = time.perf_counter()
            with ws.store.session() as session:
                stats = resolve(
                    session,
                    full=True,
                    auto_merge_score=ws.config.auto_merge_score,
                    suggest_score=ws.config.suggest_score,
                )
            seconds = time.perf_counter() - started
            with ws.store.session() as session:
                member = dict(session.execute(select(Identity.value, Identity.member_id)).all())
        finally:
            ws.close()
    return [str(member[r["email"]]) for r in rows], seconds, stats.suggestions


def quality(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    truth = [r["person"] for r in rows]
    print(f"{path.name}: {len(rows)} identities, {len(set(truth))} people")
    print(f"{'method':<16} {'precision':>9} {'recall':>7} {'F1':>6} {'B3 F1':>6}")
    for name, pred in baselines(rows).items():
        s = scores(truth, pred)
        print(
            f"{name:<16} {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:6.3f} "
            f"{s['bcubed_f1']:6.3f}"
        )
    pred, seconds, suggestions = run_resolver(rows)
    s = scores(truth, pred)
    print(
        f"{'commops':<16} {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:6.3f} "
        f"{s['bcubed_f1']:6.3f}   ({seconds:.2f} s, {suggestions} suggestions to review)"
    )


# -- scale ------------------------------------------------------------------------------------

_FIRST = (
    "james mary wei li fang jing hiroshi yuki anna maria pedro luca olga ivan sara omar priya "
    "arjun chen min jun hao lei yan ana juan ali fatima noah emma liam mia"
)
_LAST = (
    "smith garcia wang zhang liu chen yang huang zhao wu zhou xu sun ma hu guo lin he kumar "
    "singh tanaka suzuki sato mueller schmidt rossi silva santos ivanov kim lee"
)
FIRST, LAST = _FIRST.split(" "), _LAST.split(" ")
HAN_LAST = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
HAN_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
DOMAINS = ["gmail.com", "qq.com", "163.com", "outlook.com", "company.com", "corp.example"]


def synthetic(n: int, seed: int = 7) -> list[IdentityRef]:
    """About n identities of n/2.5 people across git, GitHub, Gitee and a forum."""
    rng = random.Random(seed)
    refs: list[IdentityRef] = []
    person = 0
    while len(refs) < n:
        person += 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first.title()} {last.title()}"
        if rng.random() < 0.15:
            name = rng.choice(HAN_LAST) + "".join(rng.choices(HAN_GIVEN, k=rng.choice((1, 2))))
        login = f"{first}{last}{person}"
        refs.append(
            IdentityRef("git", "email", f"{first}.{last}{person}@{rng.choice(DOMAINS)}", name)
        )
        if rng.random() < 0.6:
            refs.append(IdentityRef("github", "username", login, name))
        if rng.random() < 0.4:
            refs.append(
                IdentityRef("git", "email", f"{person}+{login}@users.noreply.github.com", login)
            )
        if rng.random() < 0.3:
            refs.append(IdentityRef("gitee", "username", login, name))
        if rng.random() < 0.3:
            refs.append(IdentityRef("discourse", "username", f"{first}_{person}", name))
    return refs[:n]


def _import(url_dir: Path, refs: list[IdentityRef]) -> tuple[float, object]:
    ws, _ = init_workspace(url_dir)
    started = time.perf_counter()
    with ws.store.session() as session:
        reg = IdentityRegistry(session, BotRules())
        for i in range(0, len(refs), 10_000):
            reg.ensure(refs[i : i + 10_000])
    return time.perf_counter() - started, ws


def scale(n: int, runs: int) -> None:
    refs = synthetic(n + 1000)
    base, new = refs[:n], refs[n:]
    imports, fulls, incs = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, ws = _import(Path(tmp) / "ws", base)
            imports.append(seconds)
            store = ws.store  # type: ignore[attr-defined]
            started = time.perf_counter()
            with store.session() as session:
                stats = resolve(session, full=True)
            fulls.append(time.perf_counter() - started)
            with store.session() as session:
                IdentityRegistry(session, BotRules()).ensure(new)
            started = time.perf_counter()
            with store.session() as session:
                inc = resolve(session)
            incs.append(time.perf_counter() - started)
            ws.close()  # type: ignore[attr-defined]
    imp, full, inc_s = (statistics.median(x) for x in (imports, fulls, incs))
    print(
        f"scale: {n} identities; import (baseline) {imp:.1f} s; full resolve {full:.1f} s "
        f"(ratio {full / imp:.2f}; {stats.merges} merges, {stats.suggestions} suggestions, "
        f"{stats.pairs} pairs compared); incremental, 1,000 new: {inc_s:.2f} s "
        f"({inc.candidates} stored identities compared; ratio to full {inc_s / full:.3f}); "
        f"median of {runs}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truth", type=Path, action="append", help="a truth file (repeat)")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--scale", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    truths = sorted(SHARED.glob("*.identities.jsonl")) if args.truth is None else args.truth
    truths = [t for t in truths if t.name]
    if not truths:
        print(f"no truth files in {SHARED} (../shared/data/identity): skipping quality")
    for path in [] if args.skip_quality else truths:
        quality(path)
    if not args.skip_scale:
        scale(args.scale, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
