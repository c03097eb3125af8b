"""The web app in a real browser: Debian's Chromium driven by Playwright, against a real
uvicorn server on 127.0.0.1. Screenshots of the main pages go to tests/artifacts/web/."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from commops.demo_ops import seed_operations
from commops.store.models import Member
from commops.web import accounts, create_app
from commops.workspace import Workspace
from test_quickstart import CHROMIUM, CHROMIUM_ARGS
from webkit import PASSWORD, demo_workspace

ARTIFACTS = Path(__file__).parent / "artifacts" / "web"


class Server:
    """uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, ws: Workspace) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        app = create_app(ws, background=False)
        app.state.insights.refresh()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: the browser tests need Debian's chromium package")
    ws = demo_workspace(tmp_path_factory.mktemp("browser") / "ws", members=150, months=8)
    seed_operations(ws, seed=3)
    with ws.store.session() as session:
        people = list(
            session.scalars(
                select(Member.id)
                .where(Member.is_bot.is_(False), Member.is_staff.is_(False))
                .order_by(Member.id)
                .limit(3)
            )
        )
        accounts.add_user(
            session, "rita", PASSWORD, role="reviewer", member=people[0], actor="test"
        )
    with Server(ws) as running:
        running.people = people  # type: ignore[attr-defined]
        running.ws = ws  # type: ignore[attr-defined]
        yield running
    ws.close()


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


class Session:
    """A browser context signed in as one user, recording console errors, CSP violations and
    any request that leaves 127.0.0.1."""

    def __init__(self, browser: Any, server: Server, *, locale: str = "en-US") -> None:
        self.server = server
        self.context = browser.new_context(
            locale=locale, viewport={"width": 1280, "height": 900}, service_workers="block"
        )
        self.problems: list[str] = []
        self.outside: list[str] = []

        def route(r: Any) -> None:
            if r.request.url.startswith(server.url) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on(
            "console",
            lambda m: self.problems.append(f"{m.type}: {m.text}") if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))

    def goto(self, path: str) -> Any:
        return self.page.goto(self.server.url + path)

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state()

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session_for(browser: Any, server: Server) -> Iterator[Any]:
    made: list[Session] = []

    def make(username: str | None = None, **kwargs: Any) -> Session:
        s = Session(browser, server, **kwargs)
        made.append(s)
        if username:
            s.login(username)
        return s

    yield make
    for s in made:
        assert s.outside == [], f"requests left 127.0.0.1: {s.outside}"
        s.close()


def test_login_then_the_overview_draws_its_charts(session_for: Any) -> None:
    s = session_for()
    s.goto("/")
    assert "/login" in s.page.url
    s.shot("login")
    s.login("viewer")
    assert s.page.url.endswith("/")
    s.page.wait_for_selector("#chart-contributors[data-rendered=true] svg", timeout=20000)
    s.page.wait_for_selector("#chart-stars[data-rendered=true] svg", timeout=20000)
    assert s.page.locator(".headline").count() == 8
    s.shot("overview")
    assert s.problems == []


def test_wrong_password_shows_an_error(session_for: Any) -> None:
    s = session_for()
    s.login("viewer", "not the password")
    assert s.page.get_by_role("alert").inner_text() == "wrong username or password"


def test_switch_to_chinese(session_for: Any) -> None:
    s = session_for("operator")
    s.page.get_by_label("Language").select_option("zh-CN")
    s.page.wait_for_selector("html[lang=zh-CN]")
    assert s.page.get_by_role("heading", name="概览").is_visible()
    s.page.wait_for_selector("#chart-contributors[data-rendered=true] svg", timeout=20000)
    s.shot("overview-zh-CN")
    s.page.get_by_label("语言").select_option("en")
    s.page.wait_for_selector("html[lang=en]")
    assert s.problems == []


def test_a_viewer_is_refused_an_admin_form(session_for: Any) -> None:
    s = session_for("viewer")
    response = s.goto("/settings")
    assert response.status == 200
    assert s.page.locator("[data-testid=users]").count() == 0
    s.shot("settings-viewer")


def test_check_in_a_registrant(session_for: Any) -> None:
    s = session_for("operator")
    s.goto("/events")
    s.shot("events")
    links = s.page.locator("[data-testid=events] a[href^='/events/']")
    checked = False
    for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
        s.goto(href)
        buttons = s.page.locator("[data-testid^=checkin-] button, button[data-testid^=checkin-]")
        if buttons.count() == 0:
            continue
        row = s.page.locator("tr[data-checked-in=false]").first
        row_id = row.get_attribute("data-testid")
        row.get_by_role("button", name="Check in").click()
        s.page.wait_for_load_state()
        assert s.page.locator(f"tr[data-testid='{row_id}']").get_attribute("data-checked-in") == (
            "true"
        )
        assert "Attended" in s.page.locator(f"tr[data-testid='{row_id}']").inner_text()
        s.shot("event-checked-in")
        checked = True
        break
    assert checked, "no event with a registrant left to check in"
    assert s.problems == []


def test_merge_two_members_and_undo(session_for: Any) -> None:
    s = session_for("operator")
    s.goto("/members")
    s.shot("members")
    rows = s.page.locator("[data-testid=member-row]")
    assert rows.count() >= 2
    first, second = (rows.nth(i).get_attribute("data-member-id") for i in (0, 1))
    s.goto(f"/members/{first}")
    identities_before = s.page.locator("[data-testid=identity-row]").count()
    s.shot("member-profile")
    form = s.page.locator("[data-testid=merge-form]")
    form.locator("[data-testid=merge-others]").fill(str(second))
    form.get_by_role("button", name="Merge", exact=True).click()
    s.page.wait_for_load_state()
    merged = s.page.locator("[data-testid=identity-row]").count()
    assert merged > identities_before
    s.page.locator("[data-testid=undo-form]").get_by_role(
        "button", name="Undo merge", exact=True
    ).click()
    s.page.wait_for_load_state()
    s.goto(f"/members/{first}")
    assert s.page.locator("[data-testid=identity-row]").count() == identities_before
    assert s.goto(f"/members/{second}").status == 200
    assert s.problems == []


def test_an_article_through_community_review_as_a_reviewer(
    session_for: Any, server: Server
) -> None:
    reviewer, second, author = server.people  # type: ignore[attr-defined]
    op = session_for("operator")
    op.goto("/content/new")
    form = op.page.locator("[data-testid=content-new-form]")
    form.get_by_label("Title").fill("Running commops in the browser")
    form.locator("input[name=authors]").fill(str(author))
    form.get_by_role("button", name="Add pitch").click()
    op.page.wait_for_load_state()
    op.page.locator("[data-testid=content-accept]").click()
    op.page.locator("[data-testid=content-drafting]").click()
    op.page.locator("[data-testid=content-reviewers]").fill(f"{reviewer}, {second}")
    op.page.locator("[data-testid=content-submit]").click()
    op.page.wait_for_load_state()
    assert op.page.locator("[data-testid=content-state]").first.get_attribute("data-state") == (
        "in_review"
    )
    op.shot("content-item")

    rita = session_for("rita")
    rita.goto("/content/review")
    items = rita.page.locator("[data-testid=review-item]")
    titles = [items.nth(i).inner_text() for i in range(items.count())]
    assert any("Running commops in the browser" in t for t in titles)
    rita.shot("review-list")
    items.filter(has_text="Running commops in the browser").get_by_role("link").first.click()
    rita.page.wait_for_load_state()
    assert rita.page.locator("[data-testid=review-title]").inner_text() == (
        "Running commops in the browser"
    )
    rita.page.locator("[data-testid=review-message]").fill("Clear and useful. Ship it.")
    rita.page.locator("[data-testid=review-approve]").click()
    rita.page.wait_for_load_state()
    rita.shot("review-done")
    assert rita.problems == []
    assert rita.goto("/content").status == 403
    assert rita.goto("/members").status == 403

    op.page.reload()
    assert "Clear and useful. Ship it." in op.page.content()
