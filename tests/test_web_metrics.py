"""The Metrics explorer and /api/v1/metrics: the catalogue, a metric with its period, cuts and
parameters (chart, table, CSV), the activities behind a value, errors, and who may look."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from commops.analytics.engine import Engine
from commops.analytics.metrics import DEFINITIONS, Metrics, Params, Result
from commops.web.views.metrics import visible_rows
from commops.workspace import Workspace
from webkit import WebClient, client_as, demo_workspace, token_client, web_app

Site = tuple[Workspace, Any]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    ws = demo_workspace(tmp_path_factory.mktemp("metrics") / "ws", members=120)
    return ws, web_app(ws)


@pytest.fixture(scope="module")
def viewer(site: Site) -> Iterator[WebClient]:
    client = client_as(site[1], "viewer")
    yield client
    client.close()


def _direct(ws: Workspace, name: str, **params: Any) -> Result:
    """The metric computed straight from the catalogue, as `commops metrics` does."""
    return Metrics(Engine(ws.snapshot_dir), Params(**params), cache=False).run(name)


def _json_rows(result: Result) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = result.to_json()["rows"]
    return rows


def _charts(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="commops-charts">(.*?)</script>', html, re.S
    )
    assert found is not None
    specs: dict[str, Any] = json.loads(found.group(1))
    return specs


def test_catalogue_lists_every_metric(viewer: WebClient) -> None:
    page = viewer.get("/metrics")
    assert page.status_code == 200
    assert page.text.count('data-testid="metric-row"') == len(DEFINITIONS)
    for name in DEFINITIONS:
        assert f'href="/metrics/{name}"' in page.text
    api = viewer.get("/api/v1/metrics").json()
    assert [d["metric"] for d in api] == list(DEFINITIONS)
    assert {d["kind"] for d in api} == {"series", "table", "totals"}


def test_series_page_has_chart_table_csv_and_drill_down(site: Site, viewer: WebClient) -> None:
    expected = _direct(site[0], "commits", period="quarter")
    page = viewer.get("/metrics/commits?period=quarter")
    assert page.status_code == 200
    assert page.text.count('data-testid="metric-value-row"') == len(expected.rows)
    spec = _charts(page.text)["chart-metric"]
    assert [v["commits"] for v in spec["data"]["values"]] == [r["commits"] for r in expected.rows]
    assert spec["encoding"]["x"]["timeUnit"] == "utcyearquarter"
    assert 'href="/metrics/commits/csv?period=quarter"' in page.text
    first = expected.rows[0]["period"].isoformat()
    assert f'href="/metrics/commits/explain?period=quarter&amp;at={first}"' in page.text


def test_api_result_equals_the_catalogue(site: Site, viewer: WebClient) -> None:
    ws = site[0]
    for name, params, query in (
        ("active-contributors", {"period": "month"}, ""),
        ("stars", {"period": "year"}, "?period=year"),
        (
            "new-contributors",
            {"since": date(2026, 1, 1), "until": date(2026, 6, 30), "new_by": "pr-merged"},
            "?since=2026-01-01&until=2026-06-30&new_by=pr-merged",
        ),
        ("top-contributors", {"top": 3}, "?top=3"),
        ("time-to-first-response", {"period": "quarter"}, "?period=quarter"),
    ):
        body = viewer.get(f"/api/v1/metrics/{name}{query}").json()
        expected = _direct(ws, name, **params)
        assert body["columns"] == expected.columns
        assert body["rows"] == _json_rows(expected), name
        assert body["formula"] == DEFINITIONS[name].formula


def test_cuts_and_parameters_change_the_figures(site: Site, viewer: WebClient) -> None:
    plain = viewer.get("/api/v1/metrics/commits?period=year").json()["rows"]
    with_bots = viewer.get("/api/v1/metrics/commits?period=year&include_bots=true").json()["rows"]
    assert sum(r["commits"] for r in with_bots) > sum(r["commits"] for r in plain)
    one_repo = viewer.get("/api/v1/metrics/commits?period=year&channel=demo-org/docs").json()
    assert one_repo["params"]["channels"] == ["demo-org/docs"]
    assert 0 < sum(r["commits"] for r in one_repo["rows"]) < sum(r["commits"] for r in plain)
    assert one_repo["rows"] == _json_rows(
        _direct(site[0], "commits", period="year", channels=("demo-org/docs",))
    )
    # The page takes the same cuts from its form (a channel list typed with commas).
    page = viewer.get("/metrics/commits?period=year&channel=demo-org/docs,+demo-org/cli")
    assert 'value="demo-org/docs, demo-org/cli"' in page.text
    by_org = viewer.get("/api/v1/metrics/active-contributors?organization=DemoCorp").json()
    assert by_org["params"]["organizations"] == ["DemoCorp"]
    top = viewer.get("/metrics/top-contributors?top=2&include_bots=yes")
    assert top.text.count('data-testid="metric-value-row"') == 2


def test_csv_download_matches_the_table(site: Site, viewer: WebClient) -> None:
    expected = _direct(site[0], "time-to-first-response", period="quarter")
    for url in (
        "/metrics/time-to-first-response/csv?period=quarter",
        "/api/v1/metrics/time-to-first-response/csv?period=quarter",
    ):
        response = viewer.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "time-to-first-response.csv" in response.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == expected.columns
        assert len(rows) == len(expected.rows) + 1
        assert rows[1][0] == expected.rows[0]["period"].isoformat()


def test_activities_behind_a_value(site: Site, viewer: WebClient) -> None:
    series = _direct(site[0], "commits")
    busiest = max(series.rows, key=lambda r: r["commits"])
    at = busiest["period"].strftime("%Y-%m")
    api = viewer.get(f"/api/v1/metrics/commits/explain?at={at}&limit=5").json()
    assert api["total"] == busiest["commits"]
    assert len(api["items"]) == 5
    assert {i["kind"] for i in api["items"]} == {"git:commit"}
    rest = viewer.get(f"/api/v1/metrics/commits/explain?at={at}&limit=500&offset=5").json()
    uids = [i["uid"] for i in api["items"] + rest["items"]]
    assert len(set(uids)) == busiest["commits"]
    page = viewer.get(f"/metrics/commits/explain?at={at}")
    assert page.status_code == 200
    assert page.text.count('data-testid="explain-row"') == min(100, busiest["commits"])
    assert 'href="/members/' in page.text


def test_charts_follow_the_kind_of_result(viewer: WebClient) -> None:
    by_type = _charts(viewer.get("/metrics/time-to-first-response").text)["chart-metric"]
    assert {v["series"] for v in by_type["data"]["values"]} <= {"issue", "pr"}
    assert by_type["title"].endswith(": p50_hours")
    ranking = _charts(viewer.get("/metrics/top-contributors").text)["chart-metric"]
    assert ranking["data"]["values"][0]["rank"] == 1
    totals = viewer.get("/metrics/totals")
    assert totals.status_code == 200
    assert 'id="commops-charts"' not in totals.text
    assert "Activities behind this value" not in totals.text  # only series drill down


def test_bad_parameters_are_clear_errors(viewer: WebClient) -> None:
    cases = [
        ("/api/v1/metrics/no-such-metric", 404, "no metric named 'no-such-metric'"),
        ("/api/v1/metrics/commits?since=2026-05-01&until=2026-01-01", 400, "is after"),
        ("/api/v1/metrics/commits?source=nowhere", 400, "no source named 'nowhere'"),
        ("/api/v1/metrics/commits?since=yesterday", 422, "since"),
        ("/api/v1/metrics/commits?period=decade", 422, "period"),
        ("/api/v1/metrics/commits?bus_threshold=2", 422, "bus_threshold"),
        ("/api/v1/metrics/totals/explain?at=2026-03", 400, "series metrics"),
        ("/api/v1/metrics/commits/explain?at=March", 422, "at"),
    ]
    for url, status, text in cases:
        response = viewer.get(url)
        assert response.status_code == status, url
        assert response.headers["content-type"] == "application/problem+json"
        assert text in response.json()["detail"], url
    page = viewer.get("/metrics/commits?since=someday")
    assert page.status_code == 400
    assert "since &#39;someday&#39; is not a date" in page.text
    assert viewer.get("/metrics/commits?top=0").status_code == 400
    assert viewer.get("/metrics/no-such-metric").status_code == 404


def test_viewers_see_names_not_email_addresses() -> None:
    definition = DEFINITIONS["top-contributors"]
    result = Result(
        definition,
        Params(),
        ["rank", "member_id", "display_name"],
        [{"rank": 1, "member_id": 3, "display_name": "ana@example.com"}],
    )
    assert visible_rows(result, False)[0]["display_name"] == "ana"
    assert visible_rows(result, True)[0]["display_name"] == "ana@example.com"


def test_who_may_see_metrics(site: Site) -> None:
    ws, app = site
    reviewer = client_as(app, "reviewer")
    try:
        assert reviewer.get("/metrics").status_code == 403
        assert reviewer.get("/api/v1/metrics/commits").status_code == 403
    finally:
        reviewer.close()
    nobody = client_as(app, None)
    try:
        assert nobody.get("/api/v1/metrics").status_code == 401
        assert nobody.get("/metrics/commits").status_code == 303
    finally:
        nobody.close()
    reader = token_client(ws, app, "viewer", ("read",))
    assert reader.get("/api/v1/metrics/stars").status_code == 200


def test_metrics_pages_in_chinese(viewer: WebClient) -> None:
    page = viewer.get("/metrics/stars", headers={"Accept-Language": "zh-CN"})
    assert "下载 CSV" in page.text
    assert "Star 数" in page.text
