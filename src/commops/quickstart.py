"""``commops quickstart``: from a git repository to a summary and an offline HTML page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from commops import __version__
from commops.analytics.engine import Engine
from commops.analytics.metrics import Metrics, Params, Result
from commops.connectors.git import run_git
from commops.errors import SourceError, SyncError
from commops.reports import charts
from commops.sources import add_git_source, list_sources
from commops.sync import ProgressFn, SyncResult, sync_workspace
from commops.workspace import init_workspace


@dataclass
class Outcome:
    workspace: Path
    source: str
    location: str
    html: Path
    sync: SyncResult
    totals: Result
    monthly: Result
    yearly: Result
    top: Result

    def to_json(self) -> dict[str, Any]:
        return {
            "workspace": str(self.workspace),
            "source": self.source,
            "location": self.location,
            "html": str(self.html),
            "sync": {
                "added": self.sync.added,
                "removed": self.sync.removed,
                "warnings": self.sync.warnings,
            },
            "totals": self.totals.to_json(),
            "yearly": self.yearly.to_json(),
            "top": self.top.to_json(),
        }


def find_repository(path: Path | None) -> Path:
    start = (path or Path.cwd()).expanduser().resolve()
    if not start.exists():
        raise SourceError(
            f"{start} does not exist",
            hint="Run `commops quickstart PATH` with the path of a git repository.",
        )
    proc = run_git(
        start if start.is_dir() else start.parent,
        "rev-parse",
        "--show-toplevel",
        what="",
        check=False,
    )
    if proc.returncode == 0 and proc.stdout.strip():
        return Path(proc.stdout.decode().strip())
    bare = run_git(start, "rev-parse", "--is-bare-repository", what="", check=False)
    if bare.returncode == 0 and bare.stdout.strip() == b"true":
        return start
    where = "the current folder" if path is None else str(start)
    raise SourceError(
        f"{where} is not inside a git repository",
        hint="Run quickstart inside a clone, or name one: `commops quickstart PATH/TO/REPO` "
        "(a clone of any project works, e.g. `git clone https://github.com/kubesphere/kubesphere`).",
    )


def run_quickstart(path: Path | None, into: Path, progress: ProgressFn | None = None) -> Outcome:
    repo = find_repository(path)
    ws, _ = init_workspace(into)
    try:
        existing = {s.location: s.name for s in list_sources(ws.store) if s.kind == "git"}
        name = existing.get(str(repo))
        if name is None:
            taken = {s.name for s in list_sources(ws.store)}
            name = repo.name.removesuffix(".git") or "repo"
            base, n = name, 2
            while name in taken:
                name, n = f"{base}-{n}", n + 1
            add_git_source(ws.store, str(repo), name=name)
        (result,) = sync_workspace(ws, [name], progress=progress)
        if not result.ok:
            raise SyncError(result.error or f"source {name!r}: sync failed")
        engine = Engine(ws.snapshot_dir)
        monthly_m = Metrics(engine, Params(period="month", sources=(name,)))
        yearly_m = Metrics(engine, Params(period="year", sources=(name,), top=15))
        outcome = Outcome(
            workspace=ws.root,
            source=name,
            location=str(repo),
            html=ws.root / "report.html",
            sync=result,
            totals=monthly_m.totals(),
            monthly=monthly_m.series(),
            yearly=yearly_m.series(),
            top=yearly_m.top_contributors(),
        )
        branch = next(
            (s.options.get("branch") for s in list_sources(ws.store) if s.name == name), "HEAD"
        )
        write_page(outcome, str(branch))
        return outcome
    finally:
        ws.close()


def write_page(o: Outcome, branch: str) -> None:
    totals = o.totals.rows[0]
    monthly = o.monthly.rows
    specs = {
        "chart-commits": charts.bar_over_time("Commits per month", monthly, "commits", "commits"),
        "chart-contributors": charts.lines_over_time(
            "Contributors per month",
            monthly,
            {"active_contributors": "active", "new_contributors": "new"},
        ),
        "chart-prs": charts.bar_over_time(
            "Merged pull requests per month", monthly, "merged_prs", "merged PRs"
        ),
        "chart-top": charts.ranking(
            "Top contributors by commits", o.top.rows, "display_name", "commits"
        ),
    }
    # A chart with no data makes Vega draw an axis at infinity and fill the console with errors:
    # the page says there is nothing to draw instead (a history of bots' commits only).
    drawn = {k: spec for k, spec in specs.items() if spec["data"]["values"]}
    panels = [{"id": k, "title": spec["title"], "drawn": k in drawn} for k, spec in specs.items()]
    env = Environment(
        loader=PackageLoader("commops.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    first, last = totals["first_activity"], totals["last_activity"]
    html = env.get_template("quickstart.html.j2").render(
        version=__version__,
        source=o.source,
        location=o.location,
        branch=branch,
        first=first.strftime("%Y-%m-%d") if first else "—",
        last=last.strftime("%Y-%m-%d") if last else "—",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        workspace=o.workspace,
        cards=[
            {"label": "commits", "value": f"{totals['commits']:,}"},
            {"label": "contributors", "value": f"{totals['active_contributors']:,}"},
            {"label": "merged pull requests", "value": f"{totals['merged_prs']:,}"},
            {"label": "lines added", "value": f"{totals['insertions']:,}"},
            {"label": "lines removed", "value": f"{totals['deletions']:,}"},
        ],
        charts=panels,
        top=o.top.rows,
        yearly=o.yearly.rows,
        specs_json=charts.specs_json(drawn),
        chart_script=charts.chart_script(),
    )
    tmp = o.html.with_name(o.html.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(o.html)
