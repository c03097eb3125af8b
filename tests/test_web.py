"""The web app's frame: accounts, sessions, CSRF, tokens, security headers, languages, errors
as problem+json, and one walk of every route with every role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select

from commops.web import accounts
from commops.web.app import api_routes
from commops.web.deps import SESSION_COOKIE, route_rule
from commops.web.models import ApiToken, WebSession, WebUser
from commops.web.permissions import allowed_roles
from commops.workspace import Workspace
from webkit import (
    PASSWORD,
    ROLES,
    WebClient,
    add_role_users,
    client_as,
    demo_workspace,
    token_client,
    web_app,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, FastAPI]]:
    ws = demo_workspace(tmp_path_factory.mktemp("web") / "ws", members=120, months=8)
    yield ws, web_app(ws)
    ws.close()


@pytest.fixture
def app(demo: tuple[Workspace, FastAPI]) -> FastAPI:
    return demo[1]


# --- accounts on both databases ---------------------------------------------------------


def test_accounts_store_only_hashes(workspace: Workspace) -> None:
    add_role_users(workspace)
    with workspace.store.session() as session:
        issued = accounts.create_token(session, "viewer", "ci", actor="test")
        secret = accounts.start_session(session, accounts.get_user(session, "admin"), hours=1)
    with workspace.store.session() as session:
        user = accounts.get_user(session, "admin")
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        digests = set(session.scalars(select(ApiToken.digest))) | set(
            session.scalars(select(WebSession.digest))
        )
        assert issued.secret not in digests
        assert secret not in digests
        assert accounts.digest(issued.secret) in digests
        found = accounts.token_user(session, issued.secret)
        assert found is not None
        assert found[0].username == "viewer"
        assert accounts.session_user(session, secret) is not None
        assert accounts.session_user(session, "forged") is None


def test_add_user_rejects_bad_input(workspace: Workspace) -> None:
    add_role_users(workspace)
    with workspace.store.session() as session:
        with pytest.raises(accounts.UsageError, match="already exists"):
            accounts.add_user(session, "admin", PASSWORD, actor="t")
        with pytest.raises(accounts.UsageError, match="too short"):
            accounts.add_user(session, "eve", "short", actor="t")
        with pytest.raises(accounts.UsageError, match="role 'root'"):
            accounts.add_user(session, "eve", PASSWORD, role="root", actor="t")
        with pytest.raises(accounts.UsageError, match="no spaces"):
            accounts.add_user(session, "e ve", PASSWORD, actor="t")


# --- sessions, CSRF, rate limit -----------------------------------------------------------


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(app: FastAPI) -> None:
    client = WebClient(app)
    response = client.login("operator")
    cookie = next(h for h in response.headers.get_list("set-cookie") if SESSION_COOKIE in h)
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie
    assert client.get("/").status_code == 200
    secret = client._client.cookies.get(SESSION_COOKIE)
    assert client.form("/logout").status_code == 303
    again = WebClient(app)
    again._client.cookies.set(SESSION_COOKIE, secret)
    response = again.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_wrong_password_is_refused_without_saying_which_part(app: FastAPI) -> None:
    client = WebClient(app)
    for username in ("viewer", "nobody-here"):
        response = client.form("/login", {"username": username, "password": "not it at all"})
        assert response.status_code == 401
        assert "wrong username or password" in response.text


def test_login_rate_limit_refuses_even_the_right_password(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path / "ws", members=20, months=2)
    app = web_app(ws)
    client = WebClient(app)
    for _ in range(ws.config.web_login_attempts):
        assert client.form("/login", {"username": "admin", "password": "x" * 12}).status_code == 401
    response = client.form("/login", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 429
    assert "too many failed logins" in response.text
    ws.close()


def test_forms_without_the_csrf_token_are_refused(app: FastAPI) -> None:
    client = client_as(app, "admin")
    response = client.post("/settings/tokens", data={"name": "no token"})
    assert response.status_code == 403
    assert "security token" in response.text
    response = client.post("/settings/tokens", data={"name": "x", "csrf_token": "forged" * 8})
    assert response.status_code == 403
    assert client.form("/settings/tokens", {"name": "with token"}).status_code == 201


def test_login_form_needs_csrf_too(app: FastAPI) -> None:
    response = WebClient(app).post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403


def test_next_parameter_cannot_redirect_off_site(app: FastAPI) -> None:
    client = WebClient(app)
    response = client.form(
        "/login", {"username": "viewer", "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert response.headers["location"] == "/"


# --- API tokens and problem+json ----------------------------------------------------------


def test_api_needs_a_token_and_answers_problems(demo: tuple[Workspace, FastAPI]) -> None:
    ws, app = demo
    response = WebClient(app).get("/api/v1/overview")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Not signed in"
    assert response.headers["www-authenticate"] == "Bearer"
    reader = token_client(ws, app, "viewer", ("read",))
    assert reader.get("/api/v1/overview").status_code == 200
    bad = reader.get("/api/v1/overview?month=2024-13")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "query.month"
    missing = reader.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404


def test_read_only_token_cannot_write_and_needs_no_csrf(demo: tuple[Workspace, FastAPI]) -> None:
    ws, app = demo
    reader = token_client(ws, app, "admin", ("read",))
    response = reader.post("/api/v1/tokens", json={"name": "more"})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    writer = token_client(ws, app, "admin", ("read", "write"))
    created = writer.post("/api/v1/tokens", json={"name": "more", "scopes": ["read"]})
    assert created.status_code == 201
    token = created.json()
    assert token["token"].startswith("cmo_")
    assert token["scopes"] == ["read"]
    assert writer.delete(f"/api/v1/tokens/{token['id']}").status_code == 204
    revoked = WebClient(app, headers={"Authorization": f"Bearer {token['token']}"})
    assert revoked.get("/api/v1/me").status_code == 401


def test_disabled_users_tokens_stop_working(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path / "ws", members=20, months=2)
    app = web_app(ws)
    client = token_client(ws, app, "operator", ("read",))
    assert client.get("/api/v1/me").json()["username"] == "operator"
    admin = token_client(ws, app, "admin", ("read", "write"))
    with ws.store.session() as session:
        operator_id = accounts.get_user(session, "operator").id
    assert admin.patch(f"/api/v1/users/{operator_id}", json={"active": False}).status_code == 200
    assert client.get("/api/v1/me").status_code == 401
    ws.close()


def test_admin_manages_users_over_the_api(demo: tuple[Workspace, FastAPI]) -> None:
    ws, app = demo
    admin = token_client(ws, app, "admin", ("read", "write"))
    created = admin.post(
        "/api/v1/users", json={"username": "newbie", "password": PASSWORD, "role": "reviewer"}
    )
    assert created.status_code == 201
    assert created.json()["role"] == "reviewer"
    duplicate = admin.post("/api/v1/users", json={"username": "newbie", "password": PASSWORD})
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.json()["detail"]
    page = admin.get("/api/v1/users?role=reviewer&limit=1").json()
    assert page["total"] == 2
    assert len(page["items"]) == 1
    assert page["limit"] == 1
    viewer = token_client(ws, app, "viewer", ("read", "write"))
    assert viewer.get("/api/v1/users").status_code == 403


# --- headers, pages, languages ------------------------------------------------------------


def test_security_headers_on_pages_and_api(app: FastAPI) -> None:
    client = client_as(app, "viewer")
    for url in ("/", "/login", "/api/v1/overview", "/static/commops.css"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]*)", csp)
        assert script_src is not None
        assert script_src.group(1) == "'self'"
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_overview_shows_headlines_linked_to_their_metrics(demo: tuple[Workspace, FastAPI]) -> None:
    ws, app = demo
    page = client_as(app, "viewer").get("/?month=2026-09")
    assert page.status_code == 200
    assert 'href="/metrics/active-contributors"' in page.text
    api = token_client(ws, app, "viewer", ("read",)).get("/api/v1/overview?month=2026-09").json()
    active = next(h for h in api["headlines"] if h["key"] == "active")
    expected = app.state.insights.result("active-contributors", period="month")
    by_month = {r["period"].strftime("%Y-%m"): r["active_contributors"] for r in expected.rows}
    assert active["value"] == by_month["2026-09"]
    assert active["previous"] == by_month["2026-08"]
    assert f'data-value="{float(by_month["2026-09"])}"' in page.text
    assert api["month"] == "2026-09"
    assert '<script type="application/json" id="commops-charts">' in page.text


def test_chart_bundle_is_served_by_the_app(app: FastAPI) -> None:
    response = client_as(app, "viewer").get("/static/charts.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "vegaEmbed" in response.text or "vega" in response.text
    assert "ast:true" in response.text.replace(" ", "")


def test_language_follows_accept_language_then_the_users_choice(app: FastAPI) -> None:
    anonymous = WebClient(app, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "登录" in anonymous.get("/login").text
    client = client_as(app, "viewer")
    assert "Overview" in client.get("/").text
    assert client.form("/language", {"lang": "zh-CN", "next": "/"}).status_code == 303
    page = client.get("/")
    assert '<html lang="zh-CN">' in page.text
    assert "概览" in page.text
    # the choice was saved to the account: another browser signs in and gets Chinese
    other = client_as(app, "viewer")
    assert "概览" in other.get("/").text
    other.form("/language", {"lang": "en", "next": "/"})


def test_no_inline_scripts_on_any_page(demo: tuple[Workspace, FastAPI]) -> None:
    _, app = demo
    client = client_as(app, "admin")
    for route in _routes(app):
        if "GET" not in route.methods or "{" in route.path or route.path.startswith("/api/"):
            continue
        response = client.get(route.path)
        if response.headers.get("content-type", "").startswith("text/html"):
            for attrs, _body in re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S):
                assert "src=" in attrs or 'type="application/json"' in attrs, route.path
            assert not re.search(r"\son[a-z]+=\"", response.text), route.path


# --- every route, every role --------------------------------------------------------------


def _routes(app: FastAPI) -> list[APIRoute]:
    routes = api_routes(app)
    assert len(routes) > 20
    return routes


def test_every_route_declares_one_permission_rule(app: FastAPI) -> None:
    unguarded = [
        f"{sorted(r.methods)} {r.path}"
        for r in _routes(app)
        if r.path != "/static/charts.js" and route_rule(r.dependant.dependencies) is None
    ]
    assert unguarded == []


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_allows_and_denies_each_role_as_its_rule_says(
    demo: tuple[Workspace, FastAPI],
) -> None:
    ws, app = demo
    secrets: dict[str, str] = {}
    mismatches = []
    checked = 0
    for route in _routes(app):
        rule = route_rule(route.dependant.dependencies)
        if rule is None:
            continue
        allowed = allowed_roles(rule)
        for method in sorted(route.methods - {"HEAD"}):
            for role in (*ROLES, None):
                client = WebClient(app)
                if role is not None:
                    with ws.store.session() as session:
                        user = accounts.get_user(session, role)
                        secrets[role] = accounts.start_session(session, user, hours=1)
                    client._client.cookies.set(SESSION_COOKIE, secrets[role])
                url = _fill(route.path)
                if method == "GET":
                    response = client.get(url)
                elif route.path.startswith("/api/"):
                    response = client.request(
                        method, url, json={}, headers={"X-CSRF-Token": client.csrf}
                    )
                else:
                    response = client.request(method, url, data={"csrf_token": client.csrf})
                checked += 1
                # The route's rule refused ("your role ... may not"), or nobody is signed in.
                # A 403 for another reason is an object rule inside an allowed route.
                refused = (
                    response.status_code == 401
                    or (response.status_code == 403 and "may not do this" in response.text)
                    or (
                        response.status_code == 303
                        and response.headers["location"].startswith("/login")
                    )
                )
                should_refuse = role not in allowed and not (role is None and rule.name == "anyone")
                if route.path in ("/login", "/logout") and role is not None:
                    refused = "may not do this" in response.text  # both redirect when allowed
                if refused != should_refuse or response.status_code >= 500:
                    mismatches.append((method, route.path, role, response.status_code))
    assert mismatches == []
    assert checked > 40


def test_reviewer_and_viewer_are_refused_admin_pages(app: FastAPI) -> None:
    for role in ("reviewer", "viewer", "operator"):
        client = client_as(app, role)
        assert (
            client.form("/settings/users", {"username": "x", "password": PASSWORD}).status_code
            == 403
        )
    page = client_as(app, "viewer").get("/settings")
    assert page.status_code == 200
    assert 'data-testid="users"' not in page.text


def test_users_table_lists_accounts(demo: tuple[Workspace, FastAPI]) -> None:
    ws, _app = demo
    with ws.store.session() as session:
        names = {u.username for u in session.scalars(select(WebUser))}
    assert set(ROLES) <= names


def test_huge_or_odd_path_values_never_crash_a_page(demo: tuple[Workspace, FastAPI]) -> None:
    _, app = demo
    client = client_as(app, "admin")
    crashed = []
    for route in _routes(app):
        if "{" not in route.path:
            continue
        for value in ("99999999999999999999", "-1", "x%20y"):
            url = re.sub(r"\{[^}]+\}", value, route.path)
            for method in sorted(route.methods - {"HEAD"}):
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.request(
                        method,
                        url,
                        data={"csrf_token": client.csrf},
                        headers={"X-CSRF-Token": client.csrf},
                    )
                if response.status_code >= 500:
                    crashed.append((method, url, response.status_code))
    assert crashed == []
