"""The web app under load: a real server process, a load generator on 127.0.0.1.

    python bench/web.py [--activities 1000000] [--seconds 60] [--runs 3] [--clients 8]
                        [--keep DIR] [--copy-from DIR] [--mixed] [--json FILE] [--check]

A workspace is seeded with the demo generator (``commops.demo.generate``; not timed), or copied
from ``--copy-from DIR`` (a workspace seeded the same way, e.g. by ``bench/metrics.py --keep``;
it is copied, never changed). With ``--keep DIR`` it stays in DIR and a later run reuses it. A
web user ``bench`` (viewer) is added if absent, with a fresh read-only API token each run.

The server is ``commops serve`` (``uvicorn`` with the app's background thread), one process,
started once; the load generator waits until it answers, then requests each route once
(warm-up, not timed: the first overview computes its metrics, later ones read the cache, as in
production between two syncs). Each run has one phase of ``--seconds`` per route, in which
``--clients`` async httpx clients each send their next request as soon as the last one
answered; each run starts one phase later than the run before, so a change in the machine's
load falls on every phase:

- baseline: ``/static/commops.css``, a small static file served by the same server to the same
  clients with the same token: what the server, the network stack and the client cost on this
  machine with no application work;
- overview: the overview page (``/``);
- member: a member profile page (``/members/{id}``), over the 20 members with the most
  activities;
- metrics API: ``/api/v1/metrics/{name}?period=month`` over three metrics;
- with ``--mixed``, one more phase where each client requests overview, member and metrics in
  turn (the three compete for the server, as they do when people use it).

A route the build does not have yet is skipped, and said so. Requests time out after 30 s.

Printed per route: requests, throughput, p50/p95/p99 latency and errors (any status but 200, or
no answer), as medians over the runs; the ratio is the median of each run's overview p95 over
that run's baseline p95. Target: overview p95 under 200 ms, zero errors. Finally, for scale,
the overview computed once without the cache (a fresh ``Insights``), in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MARKERS = ("bench-web.json", "bench-metrics.json")
USER = "bench"
PASSWORD = "bench password, not a secret"
TARGET_P95_MS = 200.0
BASELINE_PATH = "/static/commops.css"
METRICS = ("active-contributors", "new-contributors", "stars")


# -- the workspace ----------------------------------------------------------------------------


def _wanted(args: argparse.Namespace) -> dict[str, Any]:
    members = args.members or max(500, min(200_000, args.activities // 100))
    return {"activities": args.activities, "months": args.months, "members": members, "seed": 1}


def _seeded(folder: Path, wanted: dict[str, Any]) -> bool:
    for name in MARKERS:
        marker = folder / name
        if marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
            return True
    return False


def prepare(folder: Path, args: argparse.Namespace) -> None:
    """A workspace seeded as ``--activities`` says in ``folder``: reused, copied or seeded."""
    wanted = _wanted(args)
    if _seeded(folder, wanted):
        print(f"reusing the seeded workspace {folder}", flush=True)
        return
    if args.copy_from is not None:
        source = args.copy_from.resolve()
        if not _seeded(source, wanted):
            raise SystemExit(f"{source} was not seeded with {wanted} (its marker file differs)")
        print(f"copying {source} to {folder} (not timed) ...", flush=True)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("commops.toml", "commops.db", ".commops"):
            if (source / name).is_dir():
                shutil.copytree(source / name, folder / name, dirs_exist_ok=True)
            elif (source / name).exists():
                shutil.copy2(source / name, folder / name)
        (folder / MARKERS[0]).write_text(json.dumps(wanted), encoding="utf-8")
        return
    from commops.demo import generate
    from commops.workspace import init_workspace, open_workspace

    if (folder / "commops.toml").exists():
        ws = open_workspace(folder)
        replace = True
    else:
        ws, _ = init_workspace(folder)
        replace = False
    print(f"seeding {wanted} into {folder} (not timed) ...", flush=True)
    started = time.perf_counter()
    try:
        generate(
            ws,
            members=wanted["members"],
            months=wanted["months"],
            seed=wanted["seed"],
            activities=wanted["activities"],
            replace=replace,
        )
    finally:
        ws.close()
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    (folder / MARKERS[0]).write_text(json.dumps(wanted), encoding="utf-8")


@dataclass
class Plan:
    token: str
    members: list[int]
    member_route: str | None
    metrics_route: str | None


def plan(folder: Path) -> Plan:
    """The bench user and a fresh token; the members to profile; which routes this build has."""
    from sqlalchemy import func, select

    from commops.store.models import Activity, Identity, Member
    from commops.web import accounts, create_app
    from commops.web.app import api_routes
    from commops.web.models import WebUser
    from commops.workspace import open_workspace

    ws = open_workspace(folder)  # migrates the schema if the copy is older than this build
    try:
        with ws.store.session() as session:
            if session.execute(select(WebUser).where(WebUser.username == USER)).first() is None:
                accounts.add_user(session, USER, PASSWORD, role="viewer", actor="bench")
            token = accounts.create_token(session, USER, "bench/web.py", actor="bench").secret
            top = session.execute(
                select(Identity.member_id)
                .join(Activity, Activity.actor_identity_id == Identity.id)
                .join(Member, Member.id == Identity.member_id)
                .where(Member.is_bot.is_(False))
                .group_by(Identity.member_id)
                .order_by(func.count().desc())
                .limit(20)
            ).scalars()
            members = [int(m) for m in top]
        paths = [r.path for r in api_routes(create_app(ws, background=False)) if "GET" in r.methods]
    finally:
        ws.close()
    member_route = next((p for p in paths if re.fullmatch(r"/members/\{\w+\}", p)), None)
    metrics_route = next((p for p in paths if re.fullmatch(r"/api/v1/metrics/\{\w+\}", p)), None)
    return Plan(token, members, member_route, metrics_route)


# -- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(folder: Path, port: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "COMMOPS_WORKSPACE": str(folder)}
    has_serve = (
        subprocess.run(
            [sys.executable, "-m", "commops", "serve", "--help"],
            capture_output=True,
            env=env,
            check=False,
        ).returncode
        == 0
    )
    if has_serve:
        cmd = [sys.executable, "-m", "commops", "serve", "--port", str(port)]
        cmd += ["--log-level", "warning"]
        how = "commops serve"
    else:
        bench = str(Path(__file__).resolve().parent)
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "web_server:make"]
        cmd += ["--app-dir", bench, "--port", str(port), "--log-level", "warning"]
        how = "uvicorn --factory web_server:make"
    out = log.open("wb")
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT), how


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(base + BASELINE_PATH, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- the load generator -----------------------------------------------------------------------


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    first_error: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


async def _drive(
    base: str, token: str, targets: list[tuple[str, str]], clients: int, seconds: float
) -> Samples:
    samples = Samples()
    for label, _ in targets:
        samples.latencies.setdefault(label, [])
        samples.errors.setdefault(label, 0)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=30.0,
    ) as client:
        end = time.perf_counter() + seconds

        async def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < end:
                label, url = targets[i % len(targets)]
                i += 1
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    await response.aread()
                    ok = response.status_code == 200
                    why = f"HTTP {response.status_code} for {url}"
                except httpx.HTTPError as exc:
                    ok, why = False, f"{type(exc).__name__} for {url}"
                took = time.perf_counter() - started
                if ok:
                    samples.latencies[label].append(took)
                else:
                    samples.errors[label] += 1
                    samples.first_error.setdefault(label, why)

        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(clients)))
        samples.seconds = time.perf_counter() - started
    return samples


def drive(
    base: str, token: str, targets: list[tuple[str, str]], clients: int, seconds: float
) -> Samples:
    return asyncio.run(_drive(base, token, targets, clients, seconds))


def _pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[k] * 1000


def figures(samples: Samples) -> dict[str, dict[str, float]]:
    out = {}
    for label, lat in samples.latencies.items():
        n = len(lat) + samples.errors[label]
        out[label] = {
            "requests": n,
            "per_second": n / samples.seconds if samples.seconds else 0.0,
            "p50_ms": _pct(lat, 0.50),
            "p95_ms": _pct(lat, 0.95),
            "p99_ms": _pct(lat, 0.99),
            "errors": samples.errors[label],
        }
    return out


def uncached_overview(folder: Path) -> float:
    """Seconds to compute the overview with an empty metrics cache (for scale)."""
    from commops.web import dashboard
    from commops.web.insights import Insights
    from commops.workspace import open_workspace

    ws = open_workspace(folder)
    try:
        started = time.perf_counter()
        with ws.store.session() as session:
            dashboard.overview(Insights(ws), session)
        return time.perf_counter() - started
    finally:
        ws.close()


# -- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--members", type=int, default=None, help="default: activities/100")
    parser.add_argument("--seconds", type=float, default=60.0, help="per phase (default 60)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--keep", type=Path, default=None, help="seed into DIR and reuse it")
    parser.add_argument(
        "--copy-from", type=Path, default=None, help="copy this seeded workspace (never changed)"
    )
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="add a phase where each client requests the three routes in turn",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every figure here")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()

    scratch: Path | None = None
    if args.keep is None:
        import tempfile

        scratch = Path(tempfile.mkdtemp(prefix="commops-bench-web-"))
        folder = scratch / "ws"
    else:
        folder = args.keep.resolve()
    try:
        return run(folder, args)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def run(folder: Path, args: argparse.Namespace) -> int:
    prepare(folder, args)
    p = plan(folder)
    app_targets = [("overview", "/")]
    by_route = ("overview", "member", "metrics API")
    skipped = []
    if p.member_route is None:
        skipped.append("member profile: this build has no /members/{id} page yet")
    else:
        name = p.member_route.split("{", 1)[1].split("}", 1)[0]
        for m in p.members:
            app_targets.append(("member", p.member_route.replace("{" + name + "}", str(m))))
    if p.metrics_route is None:
        skipped.append("metrics API: this build has no /api/v1/metrics/{name} route yet")
    else:
        name = p.metrics_route.split("{", 1)[1].split("}", 1)[0]
        for metric in METRICS:
            route = p.metrics_route.replace("{" + name + "}", metric)
            app_targets.append(("metrics API", f"{route}?period=month"))
    phases: dict[str, list[tuple[str, str]]] = {"baseline": [("baseline", BASELINE_PATH)]}
    for label, url in app_targets:
        phases.setdefault(label, []).append((label, url))
    if args.mixed:
        # Every client takes the routes in turn: one request of each kind per round.
        by_label = {k: v for k, v in phases.items() if k != "baseline"}
        longest = max(len(v) for v in by_label.values())
        phases["mixed"] = [
            (f"mixed: {label}", urls[i % len(urls)][1])
            for i in range(longest)
            for label, urls in by_label.items()
        ]

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "bench-web-server.log"
    proc, how = start_server(folder, port, log)
    runs: list[dict[str, dict[str, float]]] = []
    try:
        started = time.perf_counter()
        wait_ready(base, proc, log)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {p.token}"}) as c:
            for url in dict(reversed(app_targets)).values():
                response = c.get(url, timeout=600)
                if response.status_code != 200:
                    raise SystemExit(f"warm-up: {url} answered {response.status_code}")
        warm = time.perf_counter() - started
        load = os.getloadavg()[0]
        print(
            f"server: {how}, pid {proc.pid}, ready and warm in {warm:.1f} s; "
            f"load average {load:.2f} on {os.cpu_count()} cores",
            flush=True,
        )
        names = list(phases)
        for run_no in range(args.runs):
            k = run_no % len(names)
            merged: dict[str, dict[str, float]] = {}
            for phase in names[k:] + names[:k]:  # each run starts one phase later
                samples = drive(base, p.token, phases[phase], args.clients, args.seconds)
                for label, why in samples.first_error.items():
                    print(f"  run {run_no + 1}, {label}: first error: {why}", flush=True)
                merged.update(figures(samples))
            runs.append(merged)
            o, b = merged["overview"], merged["baseline"]
            print(
                f"  run {run_no + 1}: overview p95 {o['p95_ms']:.1f} ms, baseline p95 "
                f"{b['p95_ms']:.1f} ms, load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
    finally:
        stop_server(proc)

    labels = [label for label in ("baseline", *by_route) if label in runs[0]]
    labels += [label for label in runs[0] if label not in labels]
    median = {
        label: {k: statistics.median(r[label][k] for r in runs) for k in runs[0][label]}
        for label in labels
    }
    ratio = statistics.median(r["overview"]["p95_ms"] / r["baseline"]["p95_ms"] for r in runs)
    errors = sum(int(r[label]["errors"]) for r in runs for label in labels)
    uncached = uncached_overview(folder)
    print(
        f"\nweb: {args.activities:,} activities, {args.clients} clients, {args.seconds:.0f} s "
        f"per phase ({', '.join(phases)}), median of {args.runs} runs"
    )
    print(
        f"  {'route':<19} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7}"
    )
    for label in labels:
        f = median[label]
        print(
            f"  {label:<19} {f['requests']:>9,.0f} {f['per_second']:>8.1f} {f['p50_ms']:>8.1f} "
            f"{f['p95_ms']:>8.1f} {f['p99_ms']:>8.1f} {f['errors']:>7.0f}"
        )
    for note in skipped:
        print(f"  skipped {note}")
    met = median["overview"]["p95_ms"] < TARGET_P95_MS and errors == 0
    print(f"  ratio overview p95 / baseline p95: {ratio:.2f} (baseline: {BASELINE_PATH})")
    print(
        f"  target: overview p95 < {TARGET_P95_MS:.0f} ms and zero errors: "
        f"{'met' if met else 'NOT met'} (p95 {median['overview']['p95_ms']:.1f} ms, "
        f"{errors} errors in all runs)"
    )
    print(f"  overview computed once without the metrics cache: {uncached:.2f} s")
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "activities": args.activities,
                    "clients": args.clients,
                    "seconds": args.seconds,
                    "server": how,
                    "runs": runs,
                    "median": median,
                    "ratio_overview_p95_to_baseline_p95": ratio,
                    "errors": errors,
                    "skipped": skipped,
                    "uncached_overview_s": uncached,
                    "target_met": met,
                },
                indent=1,
            ),
            encoding="utf-8",
        )
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
