"""How long a full commops git import takes, against `git log --numstat` over the same history.

    python bench/git_import.py REPO [--runs 3]      REPO: a git repository or a .bundle file
    python bench/git_import.py --all-replicas       every bundle in ../shared/data/git-replicas

Per run, interleaved (the order alternates from run to run, so drift in machine load falls on
both measures alike):

- baseline: `git log --numstat BRANCH`, its output read through a pipe and thrown away;
- import: in a fresh child process, a fresh workspace (`init_workspace`) and the source
  (`add_git_source`), not timed; then `sync_workspace(ws)`, timed: git log streaming, parsing,
  identities, the store and the Parquet snapshot refresh. Every module is imported before the
  clock starts (pandas too, which pyarrow loads on first use), and a module imported while
  timed is reported. The child reports its peak RSS (RUSAGE_SELF) and RUSAGE_CHILDREN; git's own
  peak is read from /proc (VmHWM), because Linux charges a child spawned by vfork+exec with the
  parent's resident set up to the exec, which makes RUSAGE_CHILDREN about the Python process's
  size rather than git's;
- cli: `commops init`, `commops add git`, `commops sync` as three processes, end to end
  (Python start-up and imports included), timed together.

The figures are medians of the runs; the ratio is the median of each run's import/baseline.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from commops.connectors.git import git_env

TARGET = 1.5  # import time / baseline time
REPLICAS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "git-replicas"
SOURCE_NAME = "bench"


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, env=git_env(), check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} in {repo} failed: {proc.stderr.decode().strip()}")
    return proc.stdout.decode().strip()


def _mb(kib: int) -> float:
    return kib / 1024  # ru_maxrss is in KiB on Linux


class GitPeak:
    """Peak resident set (VmHWM) of the git processes among ``root`` and its children, read from
    /proc every few milliseconds by a thread. VmHWM is a high-water mark, so a sample taken at
    any time before git exits is the peak so far."""

    def __init__(self, root: int, interval: float = 0.02) -> None:
        self.root = root
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> GitPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mb(self) -> float:
        return _mb(self.peak_kib)

    def _run(self) -> None:
        known: set[int] = set()
        last_scan = 0.0
        while True:
            now = time.monotonic()
            if now - last_scan >= 0.1:  # new processes: scan /proc ten times a second
                known |= self._children()
                last_scan = now
            for pid in list(known):
                kib = self._hwm(pid)
                if kib is None:
                    known.discard(pid)
                else:
                    self.peak_kib = max(self.peak_kib, kib)
            if self._stop.wait(self.interval):
                return

    def _children(self) -> set[int]:
        found = {self.root}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces and parentheses
            fields = stat[stat.rfind(b")") + 2 :].split()
            if int(fields[1]) == self.root:
                found.add(int(entry))
        return found

    @staticmethod
    def _hwm(pid: int) -> int | None:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        lines = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if lines.get("Name", "").strip() != "git" or "VmHWM" not in lines:
            return 0 if "VmHWM" in lines else None
        return int(lines["VmHWM"].split()[0])


# -- the child: one import, timed --------------------------------------------------------------


def child(repo: Path, ws_dir: Path, branch: str) -> dict[str, Any]:
    import pyarrow
    from sqlalchemy import func, select

    from commops.sources import add_git_source
    from commops.store.models import Activity
    from commops.sync import sync_workspace
    from commops.workspace import init_workspace

    # pyarrow imports pandas (when installed) and its pandas bridge the first time it converts
    # a Python sequence, which the snapshot refresh does: about 0.6 s of module loading. One
    # conversion here loads whatever it needs.
    pyarrow.array([datetime.now(UTC)], type=pyarrow.timestamp("us", tz="UTC"))

    ws, _ = init_workspace(ws_dir)
    try:
        add_git_source(ws.store, str(repo), name=SOURCE_NAME, branch=branch)
        loaded = set(sys.modules)
        started = time.perf_counter()
        (result,) = sync_workspace(ws)
        seconds = time.perf_counter() - started
        late = sorted(set(sys.modules) - loaded)
        with ws.store.session() as session:
            commits = session.execute(
                select(func.count()).select_from(Activity).where(Activity.kind == "git:commit")
            ).scalar_one()
    finally:
        ws.close()
    return {
        "seconds": seconds,
        "ok": result.ok,
        "error": result.error,
        "activities": result.added,
        "commits": int(commits),
        "late_imports": late,
        "python_rss_mb": _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
        "children_rusage_mb": _mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
    }


# -- the parent: measures, interleaved ---------------------------------------------------------


@dataclass
class Report:
    name: str
    branch: str
    commits: int
    runs: int
    baseline: list[float] = field(default_factory=list)
    imports: list[float] = field(default_factory=list)
    cli: list[float] = field(default_factory=list)
    python_rss_mb: float = 0.0
    git_rss_mb: float = 0.0
    children_rusage_mb: float = 0.0
    baseline_git_rss_mb: float = 0.0
    activities: int = 0

    @property
    def ratio(self) -> float:
        return statistics.median(i / b for i, b in zip(self.imports, self.baseline, strict=True))

    @property
    def commits_per_second(self) -> float:
        return self.commits / statistics.median(self.imports)

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "baseline_median": statistics.median(self.baseline),
            "import_median": statistics.median(self.imports),
            "cli_median": statistics.median(self.cli) if self.cli else None,
            "ratio": self.ratio,
            "target": TARGET,
            "commits_per_second": self.commits_per_second,
        }


def baseline(repo: Path, branch: str) -> tuple[float, float]:
    """Seconds for `git log --numstat BRANCH` read to the end through a pipe, and git's peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["git", "-C", str(repo), "log", "--numstat", branch, "--"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=git_env(),
    )
    assert proc.stdout is not None
    with GitPeak(proc.pid) as peak:
        while proc.stdout.read(1 << 18):
            pass
        code = proc.wait()
    seconds = time.perf_counter() - started
    proc.stdout.close()
    if code != 0:
        raise SystemExit(f"git log --numstat {branch} in {repo} failed ({code})")
    return seconds, peak.mb


def run_import(repo: Path, branch: str, scratch: Path) -> dict[str, Any]:
    ws_dir = Path(tempfile.mkdtemp(prefix="import-", dir=scratch))
    try:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(repo), str(ws_dir), branch],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        with GitPeak(proc.pid) as peak:
            stdout, stderr = proc.communicate()
    finally:
        shutil.rmtree(ws_dir, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"the import child failed ({proc.returncode}):\n{stderr}")
    out: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if not out["ok"]:
        raise SystemExit(f"the import failed: {out['error']}")
    out["git_rss_mb"] = peak.mb
    return out


def _commops() -> list[str]:
    script = Path(sys.executable).with_name("commops")
    if script.is_file():
        return [str(script)]
    found = shutil.which("commops")
    return [found] if found else [sys.executable, "-m", "commops"]


def run_cli(repo: Path, branch: str, scratch: Path) -> float:
    ws_dir = Path(tempfile.mkdtemp(prefix="cli-", dir=scratch)) / "ws"
    cmd = _commops()
    steps = [
        [*cmd, "init", str(ws_dir)],
        [*cmd, "--workspace", str(ws_dir), "add", "git", str(repo), "--name", SOURCE_NAME,
         "--branch", branch],
        [*cmd, "--workspace", str(ws_dir), "sync"],
    ]  # fmt: skip
    try:
        started = time.perf_counter()
        for step in steps:
            proc = subprocess.run(
                step, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
            )
            if proc.returncode != 0:
                raise SystemExit(f"{' '.join(step)} failed ({proc.returncode}):\n{proc.stderr}")
        return time.perf_counter() - started
    finally:
        shutil.rmtree(ws_dir.parent, ignore_errors=True)


def prepare(target: Path, scratch: Path) -> Path:
    """A repository to read: the folder itself, or a bare clone of a bundle (not timed)."""
    if target.is_file():
        clone = scratch / (target.stem + ".git")
        proc = subprocess.run(
            ["git", "clone", "--bare", "--quiet", str(target), str(clone)],
            capture_output=True,
            env=git_env(),
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"cloning {target} failed: {proc.stderr.decode().strip()}")
        return clone
    if not target.is_dir():
        raise SystemExit(f"{target} is neither a git repository nor a bundle file")
    _git(target, "rev-parse", "--git-dir")
    return target


def measure(target: Path, runs: int, *, cli: bool) -> Report:
    with tempfile.TemporaryDirectory(prefix="commops-bench-") as tmp:
        scratch = Path(tmp)
        repo = prepare(target.resolve(), scratch)
        ref = subprocess.run(
            ["git", "-C", str(repo), "symbolic-ref", "--quiet", "--short", "HEAD"],
            capture_output=True, env=git_env(), check=False,
        )  # fmt: skip
        branch = ref.stdout.decode().strip() if ref.returncode == 0 else "HEAD"
        commits = int(_git(repo, "rev-list", "--count", branch))
        name = target.name.removesuffix(".bundle")
        report = Report(name=name, branch=branch, commits=commits, runs=runs)
        print(f"{name}: {commits} commits on {branch}; {runs} runs, interleaved", flush=True)
        baseline(repo, branch)  # warm-up, not counted: both measures start with a warm cache
        for run in range(runs):
            order = ("baseline", "import") if run % 2 == 0 else ("import", "baseline")
            for what in order:
                if what == "baseline":
                    seconds, git_rss = baseline(repo, branch)
                    report.baseline.append(seconds)
                    report.baseline_git_rss_mb = max(report.baseline_git_rss_mb, git_rss)
                else:
                    out = run_import(repo, branch, scratch)
                    if out["commits"] != commits:
                        raise SystemExit(
                            f"the import stored {out['commits']} commits, git counts {commits}"
                        )
                    if out["late_imports"]:
                        print(f"  warning: modules imported while timed: {out['late_imports']}")
                    report.imports.append(out["seconds"])
                    report.activities = out["activities"]
                    report.python_rss_mb = max(report.python_rss_mb, out["python_rss_mb"])
                    report.git_rss_mb = max(report.git_rss_mb, out["git_rss_mb"])
                    report.children_rusage_mb = max(
                        report.children_rusage_mb, out["children_rusage_mb"]
                    )
            if cli:
                report.cli.append(run_cli(repo, branch, scratch))
            line = f"  run {run + 1}: baseline {report.baseline[-1]:.3f}s, import "
            line += f"{report.imports[-1]:.3f}s"
            line += f", cli {report.cli[-1]:.3f}s" if cli else ""
            print(line, flush=True)
        return report


def _runs(values: list[float]) -> str:
    return " ".join(f"{v:.3f}" for v in values)


def show(r: Report) -> None:
    met = "met" if r.ratio <= TARGET else "NOT met"
    rows = [
        ("baseline", f"git log --numstat {r.branch}", r.baseline),
        ("import", "sync_workspace (fresh workspace)", r.imports),
    ]
    if r.cli:
        rows.append(("cli", "commops init + add git + sync", r.cli))
    print(f"\n{r.name}: {r.commits} commits, {r.activities} activities, median of {r.runs} runs")
    print(f"  {'measure':<9}{'what':<34}{'median s':>9}   runs (s)")
    for label, what, values in rows:
        print(f"  {label:<9}{what:<34}{statistics.median(values):>9.3f}   {_runs(values)}")
    print(f"  ratio import/baseline: {r.ratio:.2f} (target <= {TARGET}: {met})")
    print(f"  import rate: {r.commits_per_second:,.0f} commits/s")
    print(
        f"  peak RSS: python import process {r.python_rss_mb:.1f} MB; git (VmHWM) during the "
        f"import {r.git_rss_mb:.1f} MB, in the baseline {r.baseline_git_rss_mb:.1f} MB"
    )
    print(
        f"  (the import's RUSAGE_CHILDREN says {r.children_rusage_mb:.1f} MB: on Linux a child "
        "made by vfork+exec is charged with its parent's pages until the exec)"
    )


def summary(reports: list[Report]) -> None:
    print("\nsummary (medians)")
    print(
        f"  {'repository':<28}{'commits':>8}{'baseline s':>11}{'import s':>10}{'cli s':>8}"
        f"{'ratio':>7}{'commits/s':>11}{'py MB':>8}{'git MB':>8}"
    )
    for r in reports:
        cli = f"{statistics.median(r.cli):>8.2f}" if r.cli else f"{'-':>8}"
        print(
            f"  {r.name:<28}{r.commits:>8}{statistics.median(r.baseline):>11.3f}"
            f"{statistics.median(r.imports):>10.3f}{cli}{r.ratio:>7.2f}"
            f"{r.commits_per_second:>11,.0f}{r.python_rss_mb:>8.1f}{r.git_rss_mb:>8.1f}"
        )
    worst = max(r.ratio for r in reports)
    met = "met" if worst <= TARGET else "NOT met"
    print(f"  worst ratio {worst:.2f}; target <= {TARGET}: {met}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        repo, ws_dir, branch = args[1:4]
        print(json.dumps(child(Path(repo), Path(ws_dir), branch)))
        return 0
    parser = argparse.ArgumentParser(
        description="Time a commops git import against `git log --numstat` of the same history."
    )
    parser.add_argument("repo", nargs="?", type=Path, help="a git repository or a .bundle file")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measure (default 3)")
    parser.add_argument("--all-replicas", action="store_true", help=f"every bundle in {REPLICAS}")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI runs")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 when a ratio is above {TARGET}"
    )
    opts = parser.parse_args(args)
    if opts.runs < 1:
        parser.error("--runs must be at least 1")
    if opts.all_replicas == (opts.repo is not None):
        parser.error("name one REPO, or give --all-replicas")
    if opts.all_replicas:
        targets = sorted(REPLICAS.glob("*.bundle"))
        if not targets:
            parser.error(f"no .bundle files in {REPLICAS}")
    else:
        targets = [opts.repo]
    print(f"python {sys.version.split()[0]}, {_git(Path.cwd(), 'version')}, {os.cpu_count()} cores")
    reports = []
    for target in targets:
        report = measure(target, opts.runs, cli=not opts.no_cli)
        show(report)
        reports.append(report)
    if len(reports) > 1:
        summary(reports)
    if opts.json:
        opts.json.write_text(json.dumps([r.to_json() for r in reports], indent=2) + "\n")
    if opts.check and any(r.ratio > TARGET for r in reports):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
