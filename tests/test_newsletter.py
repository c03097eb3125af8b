"""The weekly newsletter on a demo workspace: exactly the week's first-time contributors
(worked out here from the store, independently of the metrics), its figures equal the metrics
API's, articles and upcoming events from the ops records, both languages, a PDF, and a
template the workspace overrides."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from commops.analytics.metrics import RELEASE_KINDS
from commops.cli.app import app
from commops.demo import generate as generate_demo
from commops.errors import ConfigError
from commops.metrics import compute_all
from commops.ops.content import accept, add_item, publish, review, start_drafting, submit_for_review
from commops.ops.events import add_event
from commops.reports import generate, parse_period, read_figures, report_path
from commops.store.models import Activity, Identity, Member
from commops.workspace import Workspace, init_workspace

DATA = Path(__file__).resolve().parent / "data" / "reports"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "reports"
ACTOR = "test"
WEEK = "2026-W43"  # 19-25 October 2026


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws, _ = init_workspace(tmp_path_factory.mktemp("newsletter") / "ws")
    generate_demo(ws, members=300, months=14, seed=1)
    with ws.store.session() as s:
        a, b = s.execute(
            select(Member.id).where(Member.is_bot.is_(False)).order_by(Member.id).limit(2)
        ).scalars()
        at = datetime(2026, 10, 21, 8)
        item = add_item(
            s,
            title="Tuning the cache",
            kind="tutorial",
            authors=[a],
            language="en",
            channels=["blog"],
            approvals=1,
            actor=ACTOR,
            at=at,
        )
        accept(s, item.id, actor=ACTOR, at=at)
        start_drafting(s, item.id, actor=ACTOR, at=at)
        submit_for_review(s, item.id, [b], default_approvals=1, actor=ACTOR, at=at)
        review(s, item.id, b, "approve", default_approvals=1, actor=ACTOR, at=at)
        publish(s, item.id, url="https://example.org/cache", actor=ACTOR, at=at)
        add_event(
            s,
            title="Hangzhou Meetup",
            kind="meetup",
            starts_at=datetime(2026, 11, 7, 6),
            ends_at=datetime(2026, 11, 7, 9),
            city="Hangzhou",
            actor=ACTOR,
        )
        add_event(
            s,
            title="Far Future Summit",
            kind="conference",
            starts_at=datetime(2027, 6, 1, 6),
            ends_at=datetime(2027, 6, 2, 9),
            online=True,
            actor=ACTOR,
        )
    yield ws
    ws.close()


def first_timers(ws: Workspace, week: str) -> set[int]:
    """Members (not bots, not staff) whose first contribution of any kind falls in the week,
    read from the store's activities."""
    p = parse_period("weekly", week)
    lo = datetime.combine(p.start, datetime.min.time())
    hi = lo + timedelta(days=7)
    with ws.store.session() as s:
        firsts = s.execute(
            select(Member.id, func.min(Activity.occurred_at))
            .join(Identity, Identity.id == Activity.actor_identity_id)
            .join(Member, Member.id == Identity.member_id)
            .where(
                Activity.contribution_type.is_not(None),
                Member.is_bot.is_(False),
                Member.is_staff.is_(False),
            )
            .group_by(Member.id)
        ).all()
    return {member for member, first in firsts if lo <= first < hi}


def _listed(html: str) -> list[int]:
    block = html.split('<ul class="names" id="new-contributors">', 1)
    if len(block) == 1:
        return []
    return [int(m) for m in re.findall(r'<li data-member="(\d+)">', block[1].split("</ul>")[0])]


@pytest.mark.parametrize("week", [WEEK, "2026-W44", "2026-W05"])
def test_newsletter_lists_exactly_the_first_time_contributors(demo: Workspace, week: str) -> None:
    saved = generate(demo, "weekly", week, formats=("html", "md"), actor=ACTOR)
    html, md = (report_path(demo, r).read_text("utf-8") for r in saved)
    truth = first_timers(demo, week)
    assert truth, "the demo has new contributors every week"
    listed = _listed(html)
    assert sorted(listed) == sorted(truth)
    assert len(listed) == len(set(listed))
    section = md.split("## Welcome to our new contributors", 1)[1].split("##", 1)[0]
    assert len(re.findall(r"^- ", section, flags=re.M)) == len(truth)
    new = next(f for f in read_figures(md) if f["metric"] == "new-contributors")
    assert new["value"] == len(truth)


def test_newsletter_figures_equal_the_metrics_api(demo: Workspace) -> None:
    (saved,) = generate(demo, "weekly", WEEK, formats=("md",), actor=ACTOR)
    figures = read_figures(report_path(demo, saved).read_text("utf-8"))
    assert {f["metric"] for f in figures} >= {"new-contributors", "merged-prs", "releases"}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in figures:
        assert f["params"] == {"period": "week", "since": "2026-10-19", "until": "2026-10-25"}
        groups[f["metric"]].append(f)
    results = compute_all(sorted(groups), workspace=demo.root, **figures[0]["params"])
    for metric, group in groups.items():
        for f in group:
            rows = [
                r
                for r in results[metric].rows
                if all(
                    (v.isoformat() if isinstance(v := r.get(k), date) else v) == want
                    for k, want in f["key"].items()
                )
            ]
            assert f["value"] == (rows[0][f["column"]] if rows else None), f


def test_newsletter_sections(demo: Workspace) -> None:
    (saved,) = generate(demo, "weekly", WEEK, formats=("md",), actor=ACTOR)
    md = report_path(demo, saved).read_text("utf-8")
    assert md.startswith("# Community weekly: Week 43, 2026\n\nOct 19, 2026 – Oct 25, 2026\n")
    merged = md.split("## Merged changes", 1)[1].split("## Releases", 1)[0]
    areas = re.findall(r"^### (.+)$", merged, flags=re.M)
    assert areas == sorted(areas)
    assert set(areas) <= {
        "demo-org/core",
        "demo-org/cli",
        "demo-org/docs",
        "demo-org/helm-charts",
    }
    assert "[Tuning the cache](https://example.org/cache) (tutorial, Oct 21, 2026)" in md
    upcoming = md.split("## Upcoming events", 1)[1].split("##", 1)[0]
    assert "Nov 7, 2026: Hangzhou Meetup (Hangzhou)" in upcoming
    assert "Far Future Summit" not in upcoming  # beyond the next weeks
    assert "Top answerers: " in md
    assert "Top reviewers: " in md


def test_newsletter_lists_the_releases_of_the_week(demo: Workspace) -> None:
    with demo.store.session() as s:
        first = s.execute(
            select(Activity.occurred_at)
            .where(Activity.kind.in_(RELEASE_KINDS), Activity.occurred_at >= datetime(2026, 9, 1))
            .order_by(Activity.occurred_at)
            .limit(1)
        ).scalar_one()
    year, week, _ = first.isocalendar()
    (saved,) = generate(demo, "weekly", f"{year}-W{week:02d}", formats=("md",), actor=ACTOR)
    md = report_path(demo, saved).read_text("utf-8")
    releases = md.split("## Releases", 1)[1].split("##", 1)[0]
    listed = re.findall(r"^- ", releases, flags=re.M)
    figure = next(f for f in read_figures(md) if f["metric"] == "releases")
    assert len(listed) == figure["value"] >= 1


def test_newsletter_in_chinese_with_a_pdf(demo: Workspace) -> None:
    saved = generate(demo, "weekly", WEEK, lang="zh-CN", formats=("md", "pdf"), actor=ACTOR)
    md, pdf = (report_path(demo, r) for r in saved)
    text = md.read_text("utf-8")
    assert text.startswith("# 社区周报: 2026 年第 43 周\n\n2026年10月19日 – 2026年10月25日\n")
    assert "## 欢迎新贡献者" in text
    assert "## 合并的变更" in text
    if shutil.which("pdftotext") is None:
        pytest.skip("needs poppler-utils")
    out = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True)
    pdf_text = out.stdout.decode("utf-8")
    assert "社区周报" in pdf_text
    assert "欢迎新贡献者" in pdf_text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"weekly-{WEEK}.zh-CN-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / f"weekly-{WEEK}.zh-CN")],
        check=True,
    )
    assert list(ARTIFACTS.glob(f"weekly-{WEEK}.zh-CN-*.png"))


def test_a_workspace_template_overrides_the_built_in_one(demo: Workspace) -> None:
    folder = demo.root / demo.config.reports_template_dir
    folder.mkdir(exist_ok=True)
    override = folder / "newsletter.md.j2"
    shutil.copy(DATA / "newsletter.md.j2", override)
    try:
        md, html = (
            report_path(demo, r).read_text("utf-8")
            for r in generate(demo, "weekly", WEEK, formats=("md", "html"), actor=ACTOR)
        )
        assert md.startswith("# Our custom weekly for Week 43, 2026\n")
        assert len(re.findall(r"^\* hello ", md, flags=re.M)) == len(first_timers(demo, WEEK))
        assert read_figures(md)  # the figures still travel with it
        assert "<h1>Community weekly: Week 43, 2026</h1>" in html  # only the one overridden
    finally:
        override.unlink()
    (again,) = generate(demo, "weekly", WEEK, formats=("md",), actor=ACTOR)
    assert report_path(demo, again).read_text("utf-8").startswith("# Community weekly")


def test_newsletter_cli(demo: Workspace) -> None:
    cli = CliRunner()
    root = ["--workspace", str(demo.root)]
    made = cli.invoke(app, [*root, "newsletter", "weekly", "--week", WEEK, "-f", "md", "--json"])
    assert made.exit_code == 0, made.output
    (row,) = json.loads(made.stdout)
    assert (row["kind"], row["period"], row["format"]) == ("weekly", WEEK, "md")
    assert Path(row["file"]).read_text("utf-8").startswith("# Community weekly: Week 43, 2026")
    bad = cli.invoke(app, [*root, "newsletter", "weekly", "--week", "2026-43"])
    assert bad.exception is not None
    assert "weekly period '2026-43': not a valid YYYY-Www" in str(bad.exception)


def test_a_broken_template_names_its_file_and_line(demo: Workspace) -> None:
    folder = demo.root / demo.config.reports_template_dir
    folder.mkdir(exist_ok=True)
    override = folder / "newsletter.html.j2"
    override.write_text("<h1>{{ title }}</h1>\n<p>{{ n.no_such_section.first }}</p>\n", "utf-8")
    try:
        with pytest.raises(ConfigError, match=rf"template {override} line 2: .*no_such_section"):
            generate(demo, "weekly", "2026-W30", formats=("md", "html"), actor=ACTOR)
        override.write_text("<h1>{{ title }</h1>\n", "utf-8")
        with pytest.raises(ConfigError, match=rf"template {override} line 1: unexpected '}}'"):
            generate(demo, "weekly", "2026-W30", formats=("html",), actor=ACTOR)
    finally:
        override.unlink()
    # nothing was saved: not even the Markdown, which rendered
    assert not (demo.root / "reports" / "weekly" / "2026-W30").exists()
