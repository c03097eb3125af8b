"""`commops quickstart` end to end: the command as a user runs it, the page in a real browser,
and a real KubeSphere history checked against facts computed by plain git."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from commops.reports import charts
from conftest import GitRepo, shared_data

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHART_IDS = {"chart-commits", "chart-contributors", "chart-prs", "chart-top"}
_SPECS = re.compile(r'<script type="application/json" id="commops-charts">(.*?)</script>', re.S)


def _commops(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # Wide and colourless, so Rich neither wraps nor decorates the lines the tests read.
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", **(env or {})}
    env.pop("COMMOPS_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "commops", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=300,
    )


def _small_history(repo: GitRepo) -> GitRepo:
    """Two people over three months (January, nothing in February, March) and one bot."""
    repo.commit("Initial import", files={"a.txt": "1\n2\n3\n"}, date="2024-01-15T10:00:00+00:00")
    repo.commit(
        "Add the parser (#12)",
        author="Grace Hopper <grace@example.org>",
        files={"b.txt": "x\ny\n"},
        date="2024-01-20T09:00:00+00:00",
    )
    repo.commit("Fix the parser (#13)", files={"b.txt": "x\nz\n"}, date="2024-03-10T12:00:00+00:00")
    repo.commit(
        "Bump a dependency",
        author="dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>",
        files={"c.txt": "1\n"},
        date="2024-03-12T12:00:00+00:00",
    )
    return repo


def _specs(html: str) -> dict[str, Any]:
    m = _SPECS.search(html)
    assert m is not None, "the page embeds no chart specs"
    specs: dict[str, Any] = json.loads(m.group(1).replace("<\\/", "</"))
    return specs


def _totals(out: dict[str, Any]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = out["totals"]["rows"]
    return rows[0]


# -- the command ---------------------------------------------------------------------------------


def test_quickstart_small_repo_prints_summary_and_writes_offline_page(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    repo = _small_history(git_repo)
    ws = tmp_path / "ws"

    proc = _commops("quickstart", str(repo.path), "--into", str(ws))

    assert proc.returncode == 0, proc.stderr
    assert (
        "repo: 3 commits by 2 contributors (2024-01-15 to 2024-03-10), 2 merged pull requests "
        "(bots and staff excluded)." in proc.stdout
    )
    assert f"Report:    {ws / 'report.html'}" in proc.stdout
    assert "Grace Hopper" in proc.stdout
    assert "dependabot" not in proc.stdout
    html = (ws / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", html, re.I), "a script is loaded, not inlined"
    assert not re.search(r"<link\b[^>]*\bhref\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"url\(\s*[\"']?(https?:)?//", html, re.I)
    specs = _specs(html)
    assert set(specs) == CHART_IDS
    for chart_id in CHART_IDS:
        assert f'id="{chart_id}"' in html
    assert specs["chart-commits"]["data"]["values"] == [
        {"period": "2024-01-01", "commits": 2},
        {"period": "2024-02-01", "commits": 0},
        {"period": "2024-03-01", "commits": 1},
    ]
    assert [v["who"] for v in specs["chart-top"]["data"]["values"]] == [
        "1. Ada Lovelace",
        "2. Grace Hopper",
    ]
    # Vega, Vega-Lite and Vega-Embed themselves are inlined: some hundreds of KB of script.
    module = re.search(r'<script type="module">(.*?)</script>', html, re.S)
    assert module is not None
    assert len(module.group(1)) > 200_000


def test_quickstart_rerun_is_incremental(git_repo: GitRepo, tmp_path: Path) -> None:
    repo = _small_history(git_repo)
    ws = tmp_path / "ws"
    first = _commops("quickstart", str(repo.path), "--into", str(ws), "--json")
    assert first.returncode == 0, first.stderr

    second = _commops("quickstart", str(repo.path), "--into", str(ws), "--json")
    repo.commit("Document it (#14)", files={"README": "hi\n"}, date="2024-04-01T08:00:00+00:00")
    third = _commops("quickstart", str(repo.path), "--into", str(ws), "--json")

    assert second.returncode == 0, second.stderr
    assert third.returncode == 0, third.stderr
    one, two, three = (json.loads(p.stdout) for p in (first, second, third))
    assert one["sync"]["added"] == 4  # 3 commits and the bot's
    assert two["sync"] == {"added": 0, "removed": 0, "warnings": []}
    assert three["sync"]["added"] == 1
    assert _totals(two) == _totals(one)
    assert _totals(one)["commits"] == 3
    assert _totals(three)["commits"] == 4
    assert _totals(three)["merged_prs"] == 3
    assert one["source"] == two["source"] == three["source"] == "repo"


def test_quickstart_outside_git_repository_fails_with_hint(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-repo"
    empty.mkdir()
    # Stop git from finding a repository in a folder above the test's (if /tmp were in one).
    ceiling = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}

    proc = _commops("quickstart", "--into", str(tmp_path / "ws"), cwd=empty, env=ceiling)

    assert proc.returncode != 0
    assert "the current folder is not inside a git repository" in proc.stderr
    assert "commops quickstart PATH/TO/REPO" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "ws").exists()


def test_quickstart_missing_path_fails_with_hint(tmp_path: Path) -> None:
    proc = _commops("quickstart", str(tmp_path / "nowhere"), "--into", str(tmp_path / "ws"))

    assert proc.returncode != 0
    assert "does not exist" in proc.stderr
    assert "commops quickstart PATH" in proc.stderr
    assert not (tmp_path / "ws").exists()


def test_quickstart_bots_only_history_page_says_nothing_to_draw(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.commit(
        "Bump a dependency",
        author="dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>",
        files={"c.txt": "1\n"},
    )
    ws = tmp_path / "ws"

    proc = _commops("quickstart", str(git_repo.path), "--into", str(ws))

    assert proc.returncode == 0, proc.stderr
    assert "repo: 0 commits by 0 contributors" in proc.stdout
    html = (ws / "report.html").read_text(encoding="utf-8")
    # Vega would draw empty charts with axes at infinity: the page says so in words instead.
    assert _specs(html) == {}
    assert html.count("Nothing to draw: no activity by people") == len(CHART_IDS)


def test_quickstart_ranking_keeps_namesakes_apart() -> None:
    rows = [{"display_name": "Rick", "commits": 9}, {"display_name": "Rick", "commits": 4}]

    spec = charts.ranking("Top", rows, "display_name", "commits")

    assert [v["who"] for v in spec["data"]["values"]] == ["1. Rick", "2. Rick"]
    assert spec["encoding"]["y"]["sort"] == {"field": "rank", "order": "ascending"}


# -- the page in Chromium ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: the browser tests need Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open_offline(browser: Any, html: Path, timezone: str) -> tuple[Any, Any, list[str], list[str]]:
    """The page from a file:// URL with every http(s) request refused and recorded."""
    context = browser.new_context(
        timezone_id=timezone, viewport={"width": 1280, "height": 900}, service_workers="block"
    )
    attempted: list[str] = []
    problems: list[str] = []

    def refuse(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http:", "https:", "ws:", "wss:")):
            attempted.append(url)
            route.abort()
        else:
            route.continue_()

    def console(msg: Any) -> None:
        if msg.type in ("error", "warning"):
            problems.append(f"console {msg.type}: {msg.text}")

    context.route("**/*", refuse)
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", console)
    page.goto(html.as_uri())
    page.wait_for_function(
        "ids => ids.every(id => {"
        "  const el = document.getElementById(id);"
        "  return el && el.getAttribute('data-rendered') === 'true' && el.querySelector('svg');"
        "})",
        arg=sorted(CHART_IDS),
        timeout=30_000,
    )
    return context, page, attempted, problems


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page quickstart writes for the small history, made once for the browser tests."""
    root = tmp_path_factory.mktemp("small-report")
    repo = _small_history(GitRepo(root / "repo"))
    made = _commops("quickstart", str(repo.path), "--into", str(root / "ws"))
    assert made.returncode == 0, made.stderr
    return root / "ws" / "report.html"


@pytest.mark.parametrize("timezone", ["UTC", "America/New_York", "Asia/Shanghai"])
def test_quickstart_page_draws_every_chart_offline_in_chromium(
    browser: Any, small_report: Path, tmp_path: Path, timezone: str
) -> None:
    context, page, attempted, problems = _open_offline(browser, small_report, timezone)
    try:
        for chart_id in sorted(CHART_IDS):
            el = page.locator(f"#{chart_id}")
            assert el.get_attribute("data-rendered") == "true"
            assert el.locator("svg").count() == 1
        bars = page.eval_on_selector_all(
            "#chart-commits [aria-roledescription='bar']",
            "els => els.map(e => e.getAttribute('aria-label'))",
        )
        shot = tmp_path / f"report-{timezone.replace('/', '-')}.png"
        page.screenshot(path=str(shot), full_page=True)
        cards = page.locator(".card .value").all_inner_texts()
    finally:
        context.close()

    assert attempted == [], "the page tried to reach the network"
    assert problems == []
    # The months the commits were made in, whatever the reader's time zone.
    months = [re.search(r"(\w{3} \d{4}); commits: (\d+)", b or "") for b in bars]
    assert [m.groups() if m else b for m, b in zip(months, bars, strict=True)] == [
        ("Jan 2024", "2"),
        ("Feb 2024", "0"),
        ("Mar 2024", "1"),
    ]
    assert cards[:3] == ["3", "2", "2"]
    assert shot.stat().st_size > 10_000


# -- a real history ------------------------------------------------------------------------------


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


@pytest.mark.shared_data
def test_quickstart_ks_devops_replica_matches_git_truth(tmp_path: Path) -> None:
    bundle = shared_data("git-replicas", "kubesphere__ks-devops.bundle")
    truth = json.loads(bundle.with_name("kubesphere__ks-devops.truth.json").read_text())["facts"]
    repo = tmp_path / "ks-devops"
    clone = subprocess.run(
        ["git", "clone", "--quiet", str(bundle), str(repo)], capture_output=True, check=False
    )
    assert clone.returncode == 0, clone.stderr.decode()
    ws = tmp_path / "ws"

    proc = _commops("quickstart", str(repo), "--into", str(ws), "--json")
    assert proc.returncode == 0, proc.stderr
    quick = _totals(json.loads(proc.stdout))
    everyone = _commops("--workspace", str(ws), "metrics", "totals", "--include-bots", "--json")
    by_month = _commops("--workspace", str(ws), "metrics", "commits", "--include-bots", "--json")
    identities = _commops("--workspace", str(ws), "export", "identities")

    for p in (everyone, by_month, identities):
        assert p.returncode == 0, p.stderr
    total = json.loads(everyone.stdout)["rows"][0]
    assert total["commits"] == truth["total_commits"]
    assert total["merge_commits"] == truth["merge_commits"]
    assert total["insertions"] == truth["numstat_totals_non_merge"]["insertions"]
    assert total["deletions"] == truth["numstat_totals_non_merge"]["deletions"]
    assert _when(total["first_activity"]) == _when(truth["earliest_author_date"])
    assert _when(total["last_activity"]) == _when(truth["latest_author_date"])
    monthly = {
        r["period"][:7]: r["commits"] for r in json.loads(by_month.stdout)["rows"] if r["commits"]
    }
    assert monthly == truth["commits_per_month_utc_by_author_date"]
    # Quickstart leaves bots out: git's count less the commits of the authors flagged as bots,
    # KubeSphere CI Bot's 51 among them.
    bots = {
        row["value"].lower()
        for row in map(json.loads, identities.stdout.splitlines())
        if row["kind"] == "email" and row["member_is_bot"]
    }
    per_email = {e.lower(): n for e, n in truth["commits_per_author_email_all"].items()}
    bot_commits = sum(n for e, n in per_email.items() if e in bots)
    assert "47586280+ks-ci-bot@users.noreply.github.com" in bots
    assert quick["commits"] == truth["total_commits"] - bot_commits
    assert quick["commits"] < total["commits"]
