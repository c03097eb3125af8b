"""The opt-in public pages: absent (404) unless ``[web] public_pages`` is on; then open to
anyone, with figures and display names only — never an e-mail address or a private note."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from commops.store.models import Member
from commops.web.views.public import public_name
from commops.workspace import Workspace
from webkit import client_as, demo_workspace, web_app

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PAGES = ["/public", "/public/leaderboard", "/public/leaderboard?months=3"]
APIS = ["/api/v1/public/overview", "/api/v1/public/leaderboard?months=0"]
NOTE = "PRIVATE-NOTE-do-not-publish"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, FastAPI]]:
    ws = demo_workspace(tmp_path_factory.mktemp("web_public") / "ws", members=80, months=12)
    app = web_app(ws)
    top = app.state.insights.result("top-contributors", top=3).rows
    with ws.store.session() as session:
        # The leading contributor is known only by an e-mail address, the second has one in
        # their name, and everyone carries a private note.
        first = session.get(Member, top[0]["member_id"])
        second = session.get(Member, top[1]["member_id"])
        assert first is not None
        assert second is not None
        first.display_name = "lead.dev@example.org"
        second.display_name = f"{second.display_name} <second@example.com>"
        for member in session.execute(select(Member)).scalars():
            member.notes = f"{NOTE} {member.id}"
    app.state.insights.refresh()
    yield ws, app
    ws.close()


@pytest.fixture
def public_on(env: tuple[Workspace, FastAPI]) -> Iterator[FastAPI]:
    ws, app = env
    before = ws.config
    ws.config = replace(before, web_public_pages=True)
    yield app
    ws.config = before


def test_public_pages_are_absent_when_off(env: tuple[Workspace, FastAPI]) -> None:
    ws, app = env
    assert ws.config.web_public_pages is False
    for role in (None, "admin"):
        client = client_as(app, role)
        try:
            for url in PAGES:
                assert client.get(url).status_code == 404, url
            for url in APIS:
                response = client.get(url)
                assert response.status_code == 404, url
                assert response.headers["content-type"] == "application/problem+json"
        finally:
            client.close()


def test_public_pages_are_open_to_anyone_when_on(public_on: FastAPI) -> None:
    client = client_as(public_on, None)
    try:
        for url in PAGES + APIS:
            response = client.get(url)
            assert response.status_code == 200, (url, response.text[:500])
        dashboard = client.get("/public").text
        assert 'data-key="active"' in dashboard
        assert "Community dashboard" in dashboard
        assert 'href="/metrics/' not in dashboard  # no links into the signed-in app
        assert "Sign out" not in dashboard
    finally:
        client.close()


def test_public_pages_never_show_emails_or_notes(
    env: tuple[Workspace, FastAPI], public_on: FastAPI
) -> None:
    client = client_as(public_on, None)
    try:
        for url in PAGES + APIS + ["/public/leaderboard?months=0", "/public?month=2026-01"]:
            text = client.get(url).text
            assert EMAIL.search(text) is None, (url, EMAIL.search(text))
            assert NOTE not in text, url
    finally:
        client.close()


def test_leaderboard_ranks_the_top_contributors_with_public_names(
    env: tuple[Workspace, FastAPI], public_on: FastAPI
) -> None:
    _, app = env
    client = client_as(public_on, None)
    try:
        board = client.get("/api/v1/public/leaderboard", params={"months": 0}).json()
    finally:
        client.close()
    expected = app.state.insights.result("top-contributors", top=25).rows
    assert [e["rank"] for e in board["items"]] == [r["rank"] for r in expected]
    assert [e["commits"] for e in board["items"]] == [r["commits"] for r in expected]
    assert board["items"][0]["name"] is None  # only an e-mail: no name to show
    assert board["items"][1]["name"] == expected[1]["display_name"].split(" <")[0]
    assert board["months"] == 0
    assert board["since"] is None
    assert set(board["items"][0]) == {"rank", "name", "contributions", "commits"}


def test_public_api_validates_its_parameters(public_on: FastAPI) -> None:
    client = client_as(public_on, None)
    try:
        for url in (
            "/api/v1/public/leaderboard?months=-1",
            "/api/v1/public/leaderboard?months=many",
            "/api/v1/public/overview?month=2026-13",
        ):
            response = client.get(url)
            assert response.status_code == 422, url
            assert response.headers["content-type"] == "application/problem+json"
        assert client.get("/public?month=2026-13").status_code == 422
    finally:
        client.close()


def test_public_pages_in_chinese(public_on: FastAPI) -> None:
    client = client_as(public_on, None)
    try:
        page = client.get("/public/leaderboard", headers={"Accept-Language": "zh-CN"}).text
        assert "贡献者排行榜" in page
        assert "最近 12 个月" in page
    finally:
        client.close()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Ada Lovelace", "Ada Lovelace"),
        ("ada@example.org", None),
        ("Ada Lovelace <ada@example.org>", "Ada Lovelace"),
        ("Ada (ada.l+x@mail.example.co.uk)", "Ada"),
        ("陈霞", "陈霞"),
        ("", None),
        (None, None),
    ],
)
def test_public_name_takes_out_email_addresses(name: str | None, shown: str | None) -> None:
    assert public_name(name) == shown
