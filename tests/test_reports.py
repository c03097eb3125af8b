"""The monthly and annual reports on a seeded demo workspace: every figure equals the metrics
API's value, the PDF's text holds the figures and the Chinese strings, its pages render to PNG
(saved under tests/artifacts/reports/), the index never duplicates, bad input is refused."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from commops.analytics.metrics import Result
from commops.cli.app import app
from commops.demo import generate as generate_demo
from commops.errors import NotFoundError, UsageError
from commops.metrics import compute_all
from commops.ops import core
from commops.ops.content import accept, add_item, publish, review, start_drafting, submit_for_review
from commops.ops.ecosystem import add_collaboration, add_partner, start_collaboration
from commops.ops.events import add_event, check_in, hold_event, register
from commops.ops.events.registrations import Person
from commops.ops.feedback.themes import create_theme, decline, plan, ship, start, triage
from commops.ops.governance.committee import add_seat, appoint
from commops.ops.governance.roles import add_grant
from commops.reports import (
    Report,
    due_reports,
    generate,
    generate_languages,
    get_report,
    list_reports,
    parse_period,
    read_figures,
    report_path,
    run_schedule,
)
from commops.reports.i18n import Formatter
from commops.store.models import Member
from commops.workspace import Workspace, init_workspace

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "reports"
ACTOR = "test"
OCT = datetime(2026, 10, 14, 9, 0)


def _seed_operations(ws: Workspace) -> dict[str, Any]:
    """Content, an event, a collaboration, governance changes and feedback themes in October
    2026, through the ops domain functions."""
    with ws.store.session() as s:
        people = [
            tuple(r)
            for r in s.execute(
                select(Member.id, Member.display_name)
                .where(Member.is_bot.is_(False))
                .order_by(Member.id)
                .limit(4)
            ).all()
        ]
        (a, a_name), (b, _), (c, c_name), (d, d_name) = people
        item = add_item(
            s,
            title="How we run meetups",
            kind="article",
            authors=[a],
            language="en",
            channels=["blog"],
            approvals=1,
            actor=ACTOR,
            at=OCT,
        )
        accept(s, item.id, actor=ACTOR, at=OCT)
        start_drafting(s, item.id, actor=ACTOR, at=OCT)
        submit_for_review(s, item.id, [b], default_approvals=1, actor=ACTOR, at=OCT)
        review(s, item.id, b, "approve", default_approvals=1, actor=ACTOR, at=OCT)
        publish(s, item.id, url="https://example.org/meetups", actor=ACTOR, at=OCT)
        event = add_event(
            s,
            title="Shanghai Meetup",
            kind="meetup",
            starts_at=datetime(2026, 10, 17, 6),
            ends_at=datetime(2026, 10, 17, 10),
            city="Shanghai",
            actor=ACTOR,
        )
        register(s, event.id, Person(name="Ada Visitor", email="ada@visitor.example"), actor=ACTOR)
        register(s, event.id, Person(name="Bo Visitor", email="bo@visitor.example"), actor=ACTOR)
        check_in(s, event.id, "ada@visitor.example", actor=ACTOR, at=datetime(2026, 10, 17, 6))
        hold_event(s, event.id, actor=ACTOR)
        add_partner(s, name="Open Source Club", kind="university", actor=ACTOR)
        collab = add_collaboration(
            s,
            "Open Source Club",
            kind="co-hosted-event",
            title="Campus tour",
            start=date(2026, 10, 3),
            actor=ACTOR,
        )
        start_collaboration(s, collab.id, actor=ACTOR, at=OCT)
        add_grant(s, "demo", c, "ambassador", actor=ACTOR, on=date(2026, 10, 9))
        seat = add_seat(s, "user-committee", "chair", actor=ACTOR)
        appoint(s, seat.id, d, date(2026, 10, 1), date(2027, 9, 30), actor=ACTOR)
        shipped = create_theme(s, "Dark mode for the dashboard", actor=ACTOR)
        for step in (triage, plan, start):
            step(s, shipped.id, actor=ACTOR, at=OCT)
        ship(s, shipped.id, actor=ACTOR, at=datetime(2026, 10, 20))
        declined = create_theme(s, "A Windows 98 client", actor=ACTOR)
        decline(s, declined.id, actor=ACTOR, reason="out of scope", at=datetime(2026, 10, 21))
    return {"ambassador": c_name, "committee": d_name, "author": a_name}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, dict[str, Any]]]:
    ws, _ = init_workspace(tmp_path_factory.mktemp("reports") / "ws")
    generate_demo(ws, members=300, months=14, seed=1)
    seeded = _seed_operations(ws)
    made = generate_languages(
        ws, "monthly", "2026-10", langs=("en", "zh-CN"), formats=("md", "html", "pdf"), actor=ACTOR
    )
    assert len(made) == 6
    yield ws, seeded
    ws.close()


def _file(ws: Workspace, kind: str, period: str, lang: str, fmt: str) -> Path:
    with ws.store.session() as s:
        (saved,) = [
            r
            for r in list_reports(s, kind=kind)
            if (r.period, r.lang, r.format) == (period, lang, fmt)
        ]
        return report_path(ws, saved)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _expected(results: dict[str, Result], figure: dict[str, Any]) -> Any:
    rows = [
        r
        for r in results[figure["metric"]].rows
        if all(_jsonable(r.get(k)) == v for k, v in figure["key"].items())
    ]
    assert len(rows) <= 1, figure
    return _jsonable(rows[0][figure["column"]]) if rows else None


def assert_figures_match_the_metrics(ws: Workspace, figures: list[dict[str, Any]]) -> None:
    """Each figure against ``commops.metrics.compute_all`` with the figure's own parameters."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in figures:
        groups[json.dumps(f["params"], sort_keys=True)].append(f)
    for params_json, group in groups.items():
        params = json.loads(params_json)
        results = compute_all(sorted({f["metric"] for f in group}), workspace=ws.root, **params)
        for f in group:
            assert f["value"] == _expected(results, f), f


def test_monthly_report_figures_equal_the_metrics_api(
    demo: tuple[Workspace, dict[str, Any]],
) -> None:
    ws, _ = demo
    md = _file(ws, "monthly", "2026-10", "en", "md").read_text(encoding="utf-8")
    html = _file(ws, "monthly", "2026-10", "en", "html").read_text(encoding="utf-8")
    figures = read_figures(md)
    assert figures == read_figures(html)
    metrics = {f["metric"] for f in figures}
    assert {
        "active-contributors",
        "new-contributors",
        "stars",
        "downloads",
        "top-contributors",
        "community-support",
        "time-to-first-response",
    } <= metrics
    assert len(figures) > 100
    assert_figures_match_the_metrics(ws, figures)
    # ... and they are the numbers the reader sees, in the row they belong to
    en = Formatter("en")
    active = next(
        f
        for f in figures
        if f["metric"] == "active-contributors" and f["key"] == {"period": "2026-10-01"}
    )
    before = next(
        f
        for f in figures
        if f["metric"] == "active-contributors" and f["key"] == {"period": "2026-09-01"}
    )
    assert (
        f"| Active contributors | {en.number(active['value'])} | "
        f"{en.number(before['value'])} |" in md
    )
    assert html.count('data-metric="active-contributors"') >= 3


def test_monthly_report_welcomes_the_new_contributors_by_name(
    demo: tuple[Workspace, dict[str, Any]],
) -> None:
    ws, _ = demo
    md = _file(ws, "monthly", "2026-10", "en", "md").read_text(encoding="utf-8")
    section = md.split("### Welcome to our new contributors", 1)[1].split("###", 1)[0]
    names = [n.strip().replace("\\_", "_") for n in section.strip().split(", ")]
    new = next(
        f["value"]
        for f in read_figures(md)
        if f["metric"] == "new-contributors" and f["key"] == {"period": "2026-10-01"}
    )
    assert len(names) == new


def test_monthly_report_operations_sections(demo: tuple[Workspace, dict[str, Any]]) -> None:
    ws, seeded = demo
    md = _file(ws, "monthly", "2026-10", "en", "md").read_text(encoding="utf-8")
    content = md.split("## Content published", 1)[1].split("## Events", 1)[0]
    assert "How we run meetups" in content
    assert "article" in content
    events = md.split("## Events", 1)[1].split("## Ecosystem", 1)[0]
    assert "| Oct 17, 2026 | Shanghai Meetup (Shanghai) | meetup | 2 | 1 |" in events
    assert "**Open Source Club**: Campus tour (co-hosted-event), started Oct 3, 2026" in md
    governance = md.split("## Governance", 1)[1].split("## Feedback", 1)[0]
    assert f"New ambassador: **{seeded['ambassador']}** (ambassador)" in governance
    assert f"Committee seat: **{seeded['committee']}** (user-committee: chair)" in governance
    feedback = md.split("## Feedback themes", 1)[1]
    assert "shipped: **Dark mode for the dashboard**" in feedback
    assert "declined: **A Windows 98 client** (0 items): out of scope" in feedback


def _pdf_pages(pdf: Path, name: str) -> list[Path]:
    """The PDF's pages as PNG, kept under tests/artifacts/reports/ for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / name)], check=True)
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


def _pdf_text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True)
    return done.stdout.decode("utf-8")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_monthly_pdf_holds_the_figures_and_renders(demo: tuple[Workspace, dict[str, Any]]) -> None:
    ws, _ = demo
    pdf = _file(ws, "monthly", "2026-10", "en", "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert "Community report: October 2026" in text
    figures = read_figures(_file(ws, "monthly", "2026-10", "en", "md").read_text("utf-8"))
    en = Formatter("en")
    for metric, column in (
        ("active-contributors", "active_contributors"),
        ("new-contributors", "new_contributors"),
        ("stars", "total"),
        ("merged-prs", "merged_prs"),
    ):
        f = next(
            f
            for f in figures
            if (f["metric"], f["column"], f["key"]) == (metric, column, {"period": "2026-10-01"})
        )
        assert en.number(f["value"]) in text, (metric, f["value"])
    pages = _pdf_pages(pdf, "monthly-2026-10.en")
    assert len(pages) >= 2
    assert all(p.stat().st_size > 5000 for p in pages)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_monthly_pdf_in_chinese(demo: tuple[Workspace, dict[str, Any]]) -> None:
    ws, _ = demo
    pdf = _file(ws, "monthly", "2026-10", "zh-CN", "pdf")
    text = _pdf_text(pdf)
    for expected in ("社区报告", "2026年10月", "概览", "活跃贡献者", "欢迎新贡献者", "社区支持"):
        assert expected in text, expected
    md = _file(ws, "monthly", "2026-10", "zh-CN", "md").read_text("utf-8")
    assert "| 活跃贡献者 |" in md
    # the same figures in either language
    en_md = _file(ws, "monthly", "2026-10", "en", "md").read_text("utf-8")
    assert read_figures(md) == read_figures(en_md)
    pages = _pdf_pages(pdf, "monthly-2026-10.zh-CN")
    assert len(pages) >= 2


def test_annual_report_figures_equal_the_metrics_api(
    demo: tuple[Workspace, dict[str, Any]],
) -> None:
    ws, _ = demo
    en_md, zh_html, zh_pdf = (
        report_path(ws, r)
        for r in generate_languages(
            ws,
            "annual",
            "2026",
            langs=("en", "zh-CN"),
            formats=("md", "html", "pdf"),
            actor=ACTOR,
        )
        if (r.lang, r.format) in {("en", "md"), ("zh-CN", "html"), ("zh-CN", "pdf")}
    )
    md = en_md.read_text("utf-8")
    assert md.startswith("# Community report: Year 2026\n")
    assert "| Figure | Year 2026 | Year 2025 | Change |\n" in md  # no duplicate year-ago column
    figures = read_figures(md)
    assert {f["params"]["period"] for f in figures} == {"year"}
    assert_figures_match_the_metrics(ws, figures)
    assert read_figures(zh_html.read_text("utf-8")) == figures
    if shutil.which("pdftotext") is not None:
        text = _pdf_text(zh_pdf)
        assert "社区报告: 2026 年" in text
        assert "每月贡献者" in text  # a chart's title, drawn in the PDF
        assert _pdf_pages(zh_pdf, "annual-2026.zh-CN")


def test_regenerating_replaces_the_report_and_its_row(
    demo: tuple[Workspace, dict[str, Any]],
) -> None:
    ws, _ = demo
    (first,) = generate(ws, "weekly", "2026-W39", formats=("md",), actor="alice")
    (second,) = generate(ws, "weekly", "2026-W39", formats=("md",), actor="bob")
    assert second.id == first.id
    assert second.generated_by == "bob"
    assert second.generated_at >= first.generated_at
    with ws.store.session() as s:
        count = s.execute(
            select(func.count(Report.id)).where(
                Report.kind == "weekly", Report.period == "2026-W39"
            )
        ).scalar_one()
        assert count == 1
        assert [e.action for e in core.history(s, "report", first.id)] == [
            "generated",
            "regenerated",
        ]
        row = s.get(Report, first.id)
        assert row is not None
        assert row.path == "reports/weekly/2026-W39/weekly-2026-W39.en.md"
    assert report_path(ws, second).stat().st_size == second.size


def test_list_and_get_reports(demo: tuple[Workspace, dict[str, Any]]) -> None:
    ws, _ = demo
    with ws.store.session() as s:
        everything = list_reports(s)
        assert [r.generated_at for r in everything] == sorted(
            (r.generated_at for r in everything), reverse=True
        )
        monthly = list_reports(s, kind="monthly")
        assert monthly
        assert {r.kind for r in monthly} == {"monthly"}
        assert get_report(s, monthly[0].id) == monthly[0]
        with pytest.raises(NotFoundError, match="report 999999: no such report"):
            get_report(s, 999999)
        with pytest.raises(UsageError, match="report kind 'daily'"):
            list_reports(s, kind="daily")
    gone = dataclasses.replace(monthly[0], path="reports/monthly/1999-01/gone.en.md")
    with pytest.raises(
        NotFoundError, match=r"its file reports/monthly/1999-01/gone\.en\.md is missing"
    ):
        report_path(ws, gone)


def test_bad_input_is_refused_before_anything_is_written(
    demo: tuple[Workspace, dict[str, Any]],
) -> None:
    ws, _ = demo
    with ws.store.session() as s:
        before = len(list_reports(s))
    with pytest.raises(UsageError, match="monthly period '2024-13': not a valid YYYY-MM"):
        generate(ws, "monthly", "2024-13", actor=ACTOR)
    with pytest.raises(UsageError, match="weekly period '2026-W54'"):
        generate(ws, "weekly", "2026-W54", actor=ACTOR)
    with pytest.raises(UsageError, match="annual period '26'"):
        generate(ws, "annual", "26", actor=ACTOR)
    with pytest.raises(UsageError, match="language 'fr' is not supported"):
        generate(ws, "monthly", "2026-08", lang="fr", actor=ACTOR)
    with pytest.raises(UsageError, match="format 'docx' is not a report format"):
        generate(ws, "monthly", "2026-08", formats=("md", "docx"), actor=ACTOR)
    with pytest.raises(UsageError, match="report kind 'quarterly'"):
        generate(ws, "quarterly", "2026-08", actor=ACTOR)
    with ws.store.session() as s:
        assert len(list_reports(s)) == before
    assert not (ws.root / "reports" / "monthly" / "2026-08").exists()


def test_periods() -> None:
    oct_ = parse_period("monthly", "2026-10")
    assert (oct_.start, oct_.end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert oct_.previous().label == "2026-09"
    assert oct_.year_before().label == "2025-10"
    assert parse_period("monthly", "2026-01").previous().label == "2025-12"
    week = parse_period("weekly", "2026-W01")
    assert (week.start, week.end) == (date(2025, 12, 29), date(2026, 1, 4))
    assert week.previous().label == "2025-W52"
    assert parse_period("weekly", "2020-W53").year_before().label == "2019-W52"
    assert parse_period("weekly", "2026-W53").year_before().label == "2025-W52"
    assert parse_period("weekly", "2026-W52").year_before().label == "2025-W52"
    assert parse_period("annual", "2026").previous().label == "2025"


def test_due_reports_follow_the_schedule(demo: tuple[Workspace, dict[str, Any]]) -> None:
    ws, _ = demo
    config = dataclasses.replace(ws.config, reports_schedule=["monthly", "annual", "weekly"])
    now = datetime(2026, 11, 3, 8, 0)  # a Tuesday
    assert due_reports(config, set(), now) == [
        ("monthly", "2026-10"),
        ("annual", "2025"),
        ("weekly", "2026-W44"),
    ]
    assert due_reports(config, {("monthly", "2026-10"), ("annual", "2025")}, now) == [
        ("weekly", "2026-W44")
    ]
    off = dataclasses.replace(ws.config, reports_schedule=[])
    assert due_reports(off, set(), now) == []


def test_run_schedule_is_idempotent(demo: tuple[Workspace, dict[str, Any]]) -> None:
    ws, _ = demo
    scheduled = Workspace(
        root=ws.root,
        config=dataclasses.replace(
            ws.config,
            reports_schedule=["weekly"],
            reports_languages=["en", "zh-CN"],
            reports_formats=["md"],
        ),
    )
    try:
        now = datetime(2026, 10, 13, 6, 0)
        saved = run_schedule(scheduled, now)
        assert sorted((r.kind, r.period, r.lang, r.format, r.generated_by) for r in saved) == [
            ("weekly", "2026-W41", "en", "md", "schedule"),
            ("weekly", "2026-W41", "zh-CN", "md", "schedule"),
        ]
        assert run_schedule(scheduled, now) == []
        # a format added to the configuration later is generated on the next run, alone
        scheduled.config = dataclasses.replace(scheduled.config, reports_formats=["md", "html"])
        again = run_schedule(scheduled, now)
        assert sorted((r.lang, r.format) for r in again) == [("en", "html"), ("zh-CN", "html")]
    finally:
        scheduled.close()


def test_report_cli(demo: tuple[Workspace, dict[str, Any]]) -> None:
    ws, _ = demo
    cli = CliRunner()
    root = ["--workspace", str(ws.root)]
    made = cli.invoke(
        app,
        [*root, "report", "monthly", "--month", "2026-08", "-f", "md", "--lang", "zh-CN", "--json"],
    )
    assert made.exit_code == 0, made.output
    (row,) = json.loads(made.stdout)
    assert (row["kind"], row["period"], row["lang"], row["format"]) == (
        "monthly",
        "2026-08",
        "zh-CN",
        "md",
    )
    assert row["generated_by"].startswith("cli:")
    listed = cli.invoke(app, [*root, "report", "list", "--kind", "monthly", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)[0]["id"] == row["id"]
    shown = cli.invoke(app, [*root, "report", "show", str(row["id"])])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("# 社区报告: 2026年8月\n")
    bad = cli.invoke(app, [*root, "report", "monthly", "--month", "2024-13"])
    assert isinstance(bad.exception, UsageError)
    assert "monthly period '2024-13': not a valid YYYY-MM" in str(bad.exception)
    unscheduled = cli.invoke(app, [*root, "report", "run-schedule"])
    assert isinstance(unscheduled.exception, UsageError)
    assert "[reports] schedule is empty" in str(unscheduled.exception)


def test_reports_table_on_both_databases(workspace: Workspace) -> None:
    """The index on SQLite and PostgreSQL, with an empty workspace (every figure is absent or
    zero, and the report still renders)."""
    (saved,) = generate(workspace, "weekly", "2026-W10", formats=("md",), actor=ACTOR)
    (again,) = generate(workspace, "weekly", "2026-W10", formats=("md",), actor=ACTOR)
    assert again.id == saved.id
    with workspace.store.session() as s:
        assert [r.id for r in list_reports(s)] == [saved.id]
    text = report_path(workspace, saved).read_text("utf-8")
    assert "No new contributors this week." in text


def test_every_message_has_a_chinese_translation() -> None:
    """Each string the templates translate, and each label the data carries, is in the
    Simplified Chinese catalog."""
    import re

    from babel.messages.pofile import read_po
    from jinja2.ext import babel_extract

    package = Path(__file__).resolve().parents[1] / "src" / "commops" / "reports"
    with (package / "i18n" / "zh_CN.po").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    wanted: set[str] = set()
    for template in (package / "templates").glob("*.j2"):
        with template.open("rb") as f:
            for _, _, message, _ in babel_extract(f, ("_",), [], {}):
                if isinstance(message, str):
                    wanted.add(message)
    data = (package / "data.py").read_text("utf-8")
    wanted |= set(re.findall(r'\bc\(\s*"([^"]+)"', data))
    for module in ("render.py", "i18n.py"):
        code = (package / module).read_text("utf-8")
        wanted |= set(re.findall(r'(?:gettext|self\._)\(\s*"([^"]+)"', code))
    assert {"Year %(year)s", "Contributors per month"} <= wanted
    wanted |= {"New ambassador", "Promotion", "Committee seat", "shipped", "declined"}
    assert len(wanted) > 60
    assert sorted(wanted - translated) == []
