"""The metrics catalogue at scale: snapshot refresh and every metric over 24 months, on DuckDB,
against the same first three families written as plain SQL on the SQLite store.

    python bench/metrics.py --activities 10000000 [--months 24] [--members N] [--runs 3]
                            [--keep DIR] [--profile] [--json FILE] [--check]

A workspace is seeded with the demo generator (``commops.demo.generate``; not timed). With
``--keep DIR`` the workspace is kept in DIR and reused by a later run with the same options, so
repeated runs skip the seeding (minutes at 10 million activities).

Each measure runs in its own fresh child process (``--child MEASURE``), which prints JSON: that
gives each one a clean peak memory, and keeps one from warming the next up beyond the page cache.
Every module is imported, and DuckDB and SQLite have run one trivial query, before the clock
starts. Per run, interleaved (the order of baseline and catalogue alternates from run to run):

- snapshot: ``Snapshot.rebuild(store)`` (every activity from the store to Parquet, the identity
  and enrollment files, ``activities.duckdb``), then a batch of ``--batch`` (1,000) new
  activities is written into the store (copies of the largest source's latest rows; not timed)
  and ``Snapshot.refresh(store)`` takes them in (the incremental refresh). The batch is
  deleted again before the next rebuild; the last one stays, so a kept workspace's snapshot is
  current;
- catalogue: ``Engine`` over the snapshot (it attaches the refresh's ``activities.duckdb``),
  then every metric of ``DEFINITIONS`` with
  ``Params(period="month", since, until)`` over the last ``--months`` months, as
  ``compute_all`` runs them (``Metrics.run_all``: two at a time); the total is the wall time,
  and each metric is timed too (times that overlap). With ``--profile`` they run one at a time;
- baseline: the first three families (adoption: stars and forks per month, new and running
  total; contributors: active, new, returning per month; the funnel's D0/D1/D2 per month) as
  plain SQL on the store's ``activities``, ``identities`` and ``members`` tables, bots and staff
  left out as the catalogue does. Its results are compared with the catalogue's: a difference is
  printed (and makes ``--check`` fail).

The figures are medians of the runs; the ratio is the median of each run's catalogue-subset
time (stars, forks, active, new and returning contributors, funnel) over its baseline time.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

TARGET_SECONDS = 10.0  # the whole catalogue at 10 million activities
TARGET_RSS_MB = 4096.0
SUBSET = (
    "stars",
    "forks",
    "active-contributors",
    "new-contributors",
    "returning-contributors",
    "funnel",
)
MARKER = "bench-metrics.json"
BATCH_UID = "bench:"  # uid prefix of the incremental batch


def _mb(kib: int) -> float:
    return kib / 1024  # ru_maxrss is in KiB on Linux


def _peak_mb() -> float:
    return _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# -- seeding ----------------------------------------------------------------------------------


def _members(activities: int, members: int | None) -> int:
    return members if members is not None else max(500, min(200_000, activities // 100))


def seed(folder: Path, activities: int, months: int, members: int, seed_: int) -> Path:
    """A seeded workspace in ``folder`` (reused when its marker says it was seeded the same)."""
    from commops.demo import generate
    from commops.workspace import init_workspace, open_workspace

    wanted = {"activities": activities, "months": months, "members": members, "seed": seed_}
    marker = folder / MARKER
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
        print(f"reusing the seeded workspace {folder}", flush=True)
        return folder
    if (folder / "commops.toml").exists():
        ws = open_workspace(folder)
        replace = True
    else:
        ws, _ = init_workspace(folder)
        replace = False
    print(
        f"seeding {activities:,} activities, {members:,} members, {months} months "
        f"into {folder} (not timed) ...",
        flush=True,
    )
    started = time.perf_counter()
    try:
        generate(
            ws, members=members, months=months, seed=seed_, activities=activities, replace=replace
        )
    finally:
        ws.close()
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    return folder


def _db_path(folder: Path) -> Path:
    from commops.workspace import open_workspace

    ws = open_workspace(folder)
    try:
        url = ws.store.url
    finally:
        ws.close()
    if not url.startswith("sqlite:///"):
        raise SystemExit(
            f"the baseline needs a SQLite workspace; {folder} uses {url.split(':')[0]}"
        )
    return Path(url.removeprefix("sqlite:///"))


# -- the SQL baseline -------------------------------------------------------------------------


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def baseline_queries() -> dict[str, str]:
    """The first three families as SQLite SQL: one query per metric, rows (month, values...)."""
    from commops.analytics import metrics as M

    people = (
        "JOIN identities i ON i.id = a.{col} JOIN members m ON m.id = i.member_id "
        "WHERE NOT m.is_bot AND NOT m.is_staff"
    )
    actor = people.format(col="actor_identity_id")
    contrib = (
        "SELECT i.member_id AS member_id, a.occurred_at AS occurred_at FROM activities a "
        f"{actor} AND a.contribution_type IS NOT NULL"
    )
    first = f"SELECT member_id, min(occurred_at) AS first_at FROM ({contrib}) GROUP BY member_id"

    def adoption(kinds: tuple[str, ...]) -> str:
        return (
            "SELECT month, n, sum(n) OVER (ORDER BY month) FROM (SELECT substr(a.occurred_at, 1, "
            f"7) AS month, count(*) AS n FROM activities a {actor} AND a.kind IN {_in(kinds)} "
            "GROUP BY month) ORDER BY month"
        )

    def levels(level: str, kinds: tuple[str, ...], col: str = "actor_identity_id") -> str:
        return (
            f"SELECT i.member_id AS member_id, '{level}' AS level, a.occurred_at AS occurred_at "
            f"FROM activities a {people.format(col=col)} AND a.kind IN {_in(kinds)}"
        )

    funnel = " UNION ALL ".join(
        [
            levels("D0", M.FUNNEL_D0),
            levels("D1", M.FUNNEL_D1),
            levels("D2", M.FUNNEL_D2_BY_ACTOR),
            levels("D2", M.FUNNEL_D2_BY_OBJECT, "object_identity_id"),
        ]
    )
    return {
        "stars": adoption(M.STAR_KINDS),
        "forks": adoption(M.FORK_KINDS),
        "active-contributors": (
            "SELECT substr(occurred_at, 1, 7) AS month, count(DISTINCT member_id) "
            f"FROM ({contrib}) GROUP BY month ORDER BY month"
        ),
        "new-contributors": (
            f"SELECT substr(first_at, 1, 7) AS month, count(*) FROM ({first}) GROUP BY month "
            "ORDER BY month"
        ),
        "returning-contributors": (
            f"SELECT substr(c.occurred_at, 1, 7) AS month, count(DISTINCT c.member_id) FROM "
            f"({contrib}) c JOIN ({first}) f ON f.member_id = c.member_id "
            "WHERE substr(c.occurred_at, 1, 7) > substr(f.first_at, 1, 7) GROUP BY month "
            "ORDER BY month"
        ),
        "funnel": (
            "SELECT substr(first_at, 1, 7) AS month, sum(level = 'D0'), sum(level = 'D1'), "
            "sum(level = 'D2') FROM (SELECT member_id, level, min(occurred_at) AS first_at "
            f"FROM ({funnel}) GROUP BY member_id, level) GROUP BY month ORDER BY month"
        ),
    }


def _catalogue_values(name: str, rows: list[dict[str, Any]]) -> list[list[Any]]:
    """A catalogue result in the baseline's shape (months without any value left out)."""
    out = []
    for r in rows:
        month = r["period"].isoformat()[:7]
        if name in ("stars", "forks"):
            values = [r["new"], r["total"]]
        elif name == "funnel":
            values = [r["d0"], r["d1"], r["d2"]]
        else:
            values = [r[name.replace("-", "_")]]
        if any(values[:1]) or (name == "funnel" and any(values)):
            out.append([month, *values])
    return out


# -- children ---------------------------------------------------------------------------------


def _warm_up() -> None:
    """Load every module and run one trivial query on each engine before the clock starts."""
    import ibis
    import pandas  # type: ignore[import-untyped]  # noqa: F401  (pyarrow loads it)
    import pyarrow as pa

    import commops.analytics.concentration
    import commops.analytics.influence  # noqa: F401

    con = ibis.duckdb.connect()
    con.to_pyarrow(ibis.memtable(pa.table({"x": [1, 2]})).x.sum())
    pa.table({"x": [1]}).to_pylist()


def child_snapshot(folder: Path, batch: int) -> dict[str, Any]:
    from sqlalchemy import text

    from commops.analytics.snapshot import MAX_PARTS, Snapshot
    from commops.workspace import open_workspace

    _warm_up()
    ws = open_workspace(folder)
    try:
        with ws.store.session() as session:
            session.execute(
                text("DELETE FROM activities WHERE uid >= :lo AND uid < :hi"),
                {"lo": BATCH_UID, "hi": BATCH_UID[:-1] + chr(ord(BATCH_UID[-1]) + 1)},
            )
            session.commit()
        snap = Snapshot(ws.snapshot_dir)
        before = _peak_mb()
        started = time.perf_counter()
        stats = snap.rebuild(ws.store)
        rebuild_s = time.perf_counter() - started
        rebuild_rss = _peak_mb()
        sizes = {sid: s["count"] for sid, s in snap.state()["sources"].items()}
        big = max(sizes, key=lambda k: sizes[k])
        with ws.store.session() as session:
            session.execute(
                text(
                    "INSERT INTO activities (uid, source_id, item_key, kind, occurred_at, "
                    "actor_identity_id, object_identity_id, channel, target, parent, title, "
                    "contribution_type, attributes) SELECT :prefix || id, source_id, "
                    ":prefix || item_key, kind, occurred_at, actor_identity_id, "
                    "object_identity_id, channel, target, parent, title, contribution_type, "
                    "attributes FROM activities WHERE source_id = :sid ORDER BY id DESC "
                    "LIMIT :n"
                ),
                {"prefix": BATCH_UID, "sid": int(big), "n": batch},
            )
            session.commit()
        started = time.perf_counter()
        inc = snap.refresh(ws.store)
        refresh_s = time.perf_counter() - started
        compacted = sum(
            1
            for s in snap.state()["sources"].values()
            for f in s["files"]
            if f.endswith("-c.parquet")
        )
    finally:
        ws.close()
    return {
        "rebuild_s": rebuild_s,
        "refresh_s": refresh_s,
        "appended": stats.appended,
        "refresh_appended": inc.appended,
        "files": inc.files,
        "compacted_sources": compacted,
        "sources": sizes,
        "max_parts": MAX_PARTS,
        "rss_start_mb": before,
        "rss_rebuild_mb": rebuild_rss,
        "rss_mb": _peak_mb(),
    }


def _profile_split(profile: cProfile.Profile) -> dict[str, Any]:
    """Seconds spent executing queries (ibis ``to_pyarrow``) and the commops functions that
    spend the most of the rest themselves."""
    stats = pstats.Stats(profile)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    query = 0.0
    own: list[tuple[float, str]] = []
    for (file, line, fn), (_cc, _nc, tt, ct, _callers) in raw.items():
        if fn == "to_pyarrow" and file.endswith("ibis/expr/types/core.py"):
            query = max(query, ct)
        if "/commops/" in file:
            own.append((tt, f"{Path(file).name}:{line} {fn}"))
    own.sort(reverse=True)
    return {"query_s": query, "top_own": [(round(t, 3), n) for t, n in own[:3]]}


def child_catalogue(folder: Path, months: int, profile: bool, skip: list[str]) -> dict[str, Any]:
    from commops.analytics.engine import Engine
    from commops.analytics.metrics import DEFINITIONS, Metrics, Params
    from commops.workspace import open_workspace

    _warm_up()
    ws = open_workspace(folder)
    snapshot_dir = ws.snapshot_dir
    ws.close()
    started = time.perf_counter()
    engine = Engine(snapshot_dir)
    last = engine.raw_activities.occurred_at.max().to_pyarrow().as_py()
    until = last.date()
    m0 = until.year * 12 + until.month - 1 - (months - 1)
    since = date(m0 // 12, m0 % 12 + 1, 1)
    metrics = Metrics(engine, Params(period="month", since=since, until=until))
    setup = time.perf_counter() - started
    times: dict[str, float] = {}
    rows: dict[str, int] = {}
    splits: dict[str, Any] = {}
    values: dict[str, list[list[Any]]] = {}
    names = [name for name in DEFINITIONS if name not in skip]
    started = time.perf_counter()
    if profile:  # one at a time: the profile of each metric on its own
        results = {}
        for name in names:
            prof = cProfile.Profile()
            begun = time.perf_counter()
            prof.enable()
            results[name] = metrics.run(name)
            prof.disable()
            times[name] = time.perf_counter() - begun
            splits[name] = _profile_split(prof)
    else:  # as compute_all runs them: at once
        results = metrics.run_all(names, times=times)
    wall = time.perf_counter() - started
    for name, result in results.items():
        rows[name] = len(result.rows)
        if name in SUBSET:
            values[name] = _catalogue_values(name, result.rows)
    return {
        "setup_s": setup,
        "wall_s": wall,
        "concurrent": not profile,
        "times": times,
        "rows": rows,
        "splits": splits,
        "values": values,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "rss_mb": _peak_mb(),
    }


def child_baseline(folder: Path) -> dict[str, Any]:
    _warm_up()
    db = sqlite3.connect(_db_path(folder))
    db.execute("SELECT 1").fetchall()
    times: dict[str, float] = {}
    values: dict[str, list[list[Any]]] = {}
    for name, sql in baseline_queries().items():
        started = time.perf_counter()
        got = db.execute(sql).fetchall()
        times[name] = time.perf_counter() - started
        values[name] = [list(r) for r in got if any(r[1:2]) or (name == "funnel" and any(r[1:]))]
    db.close()
    return {"times": times, "values": values, "rss_mb": _peak_mb()}


def _spawn(measure: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", measure, "--keep", str(folder)]
    cmd += ["--months", str(args.months), "--batch", str(args.batch)]
    if args.profile:
        cmd.append("--profile")
    for name in args.skip:
        cmd += ["--skip", name]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the {measure} child failed:\n{proc.stderr[-4000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


# -- the report -------------------------------------------------------------------------------


def _med(values: list[float]) -> float:
    return statistics.median(values)


def _runs(values: list[float]) -> str:
    return " ".join(f"{v:.3f}" for v in values)


def _load() -> str:
    try:
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return "unknown"
    return f"{one} {five} {fifteen}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--members", type=int, default=None, help="default: activities/100")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000, help="incremental batch size")
    parser.add_argument("--keep", type=Path, default=None, help="seed into DIR and reuse it")
    parser.add_argument("--profile", action="store_true", help="query vs Python time per metric")
    parser.add_argument(
        "--skip", action="append", default=[], help="leave a metric out (repeat); it is listed"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every figure here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child", choices=("snapshot", "catalogue", "baseline"), default=None)
    args = parser.parse_args()

    if args.child is not None:
        folder = args.keep
        if args.child == "snapshot":
            out = child_snapshot(folder, args.batch)
        elif args.child == "catalogue":
            out = child_catalogue(folder, args.months, args.profile, args.skip)
        else:
            out = child_baseline(folder)
        print(json.dumps(out, default=str))
        return 0

    members = _members(args.activities, args.members)
    tmp = None
    if args.keep is None:
        tmp = tempfile.mkdtemp(prefix="commops-bench-metrics-")
        folder = Path(tmp) / "ws"
    else:
        folder = args.keep.resolve()
    try:
        seed(folder, args.activities, args.months, members, args.seed)
        return report(args, folder, members)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def report(args: argparse.Namespace, folder: Path, members: int) -> int:
    load_before = _load()
    snaps: list[dict[str, Any]] = []
    cats: list[dict[str, Any]] = []
    bases: list[dict[str, Any]] = []
    for run in range(args.runs):
        snaps.append(_spawn("snapshot", args, folder))
        order = ("baseline", "catalogue") if run % 2 == 0 else ("catalogue", "baseline")
        for measure in order:
            got = _spawn(measure, args, folder)
            (bases if measure == "baseline" else cats).append(got)
    load_after = _load()

    names = list(cats[0]["times"])
    per = {n: [c["times"][n] for c in cats] for n in names}
    # The metrics run at once (Metrics.run_all, as compute_all runs them): the total is the wall
    # time, and each metric's time overlaps the others'.
    totals = [c["setup_s"] + c["wall_s"] for c in cats]
    subset = [sum(c["times"][n] for n in SUBSET) for c in cats]
    base = [sum(b["times"].values()) for b in bases]
    ratios = [s / b for s, b in zip(subset, base, strict=True)]

    print(
        f"\n{args.activities:,} activities, {members:,} members, {args.months} months "
        f"({cats[0]['since']} to {cats[0]['until']}), median of {args.runs} runs; "
        f"load average {load_before} before, {load_after} after"
    )
    print(f"  {'measure':<34} {'median s':>9}   runs (s)")
    if cats[0]["concurrent"]:
        print("  (the metrics run two at a time, as compute_all runs them: their times overlap)")
    rb = [s["rebuild_s"] for s in snaps]
    rf = [s["refresh_s"] for s in snaps]
    print(f"  {'snapshot rebuild (full)':<34} {_med(rb):9.3f}   {_runs(rb)}")
    label = f"snapshot refresh (+{snaps[0]['refresh_appended']:,} rows)"
    print(f"  {label:<34} {_med(rf):9.3f}   {_runs(rf)}")
    setup = [c["setup_s"] for c in cats]
    print(f"  {'engine (open snapshot, date range)':<34} {_med(setup):9.3f}   {_runs(setup)}")
    for n in sorted(names, key=lambda n: -_med(per[n])):
        mark = " *" if n in SUBSET else ""
        line = f"  {('metric ' + n + mark):<34} {_med(per[n]):9.3f}   {_runs(per[n])}"
        if args.profile:
            split = cats[-1]["splits"][n]
            py = cats[-1]["times"][n] - split["query_s"]
            top = ", ".join(f"{name} {t:.2f}" for t, name in split["top_own"][:2])
            line += f"   [query {split['query_s']:.2f}, Python {py:.2f}: {top}]"
        print(line)
    print(
        f"  {'catalogue total (' + str(len(names)) + ' metrics)':<34} {_med(totals):9.3f}   "
        f"{_runs(totals)}"
    )
    print(f"  {'catalogue subset (* above)':<34} {_med(subset):9.3f}   {_runs(subset)}")
    print(f"  {'baseline: subset as SQLite SQL':<34} {_med(base):9.3f}   {_runs(base)}")
    for n in SUBSET:
        b = [x["times"][n] for x in bases]
        print(f"  {'  sql ' + n:<34} {_med(b):9.3f}   {_runs(b)}")
    ratio = _med(ratios)
    total = _med(totals)
    rss = {
        "snapshot": max(s["rss_mb"] for s in snaps),
        "catalogue": max(c["rss_mb"] for c in cats),
        "baseline": max(b["rss_mb"] for b in bases),
    }
    print(f"  ratio catalogue-subset/baseline: {ratio:.3f} (lower is better)")
    ok_time = total <= TARGET_SECONDS
    ok_rss = max(rss.values()) < TARGET_RSS_MB
    print(
        f"  catalogue total {total:.2f} s (target <= {TARGET_SECONDS:.0f} s at 10M activities: "
        f"{'met' if ok_time else 'NOT met'})"
    )
    print(
        "  peak RSS (RUSAGE_SELF of each child: interpreter, libraries, DuckDB's buffers): "
        + ", ".join(f"{k} {v:,.0f} MB" for k, v in rss.items())
        + f"; rebuild alone {max(s['rss_rebuild_mb'] for s in snaps):,.0f} MB "
        + f"(target < {TARGET_RSS_MB:,.0f} MB: {'met' if ok_rss else 'NOT met'})"
    )
    s0 = snaps[0]
    print(
        f"  snapshot: {len(s0['sources'])} sources, {s0['appended']:,} rows, {s0['files']} files; "
        f"{s0['compacted_sources']} sources compacted (more than {s0['max_parts']} parts)"
    )
    same = True
    first, last = cats[0]["since"][:7], cats[0]["until"][:7]
    for n in SUBSET:
        # The SQL is not cut to the range (a commit's author date can fall before it): compare
        # the months of the range.
        sql = [r for r in bases[0]["values"][n] if first <= r[0] <= last]
        if cats[0]["values"][n] != sql:
            same = False
            print(f"  DIFFERENCE: {n}: catalogue and SQL baseline disagree")
            print(f"    catalogue {cats[0]['values'][n][:4]} ...")
            print(f"    sql       {sql[:4]} ...")
    if same:
        print("  the catalogue and the SQL baseline agree on every month of the subset")
    if args.json is not None:
        figures = {
            "activities": args.activities,
            "members": members,
            "months": args.months,
            "load": [load_before, load_after],
            "snapshot": snaps,
            "catalogue": [{k: v for k, v in c.items() if k != "values"} for c in cats],
            "baseline": [{k: v for k, v in b.items() if k != "values"} for b in bases],
            "ratio": ratio,
            "total_s": total,
            "rss_mb": rss,
            "agree": same,
        }
        args.json.write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
    if args.check and not (ok_rss and same and (ok_time or args.activities < 10_000_000)):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
