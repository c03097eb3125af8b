"""The shared HTTP client against a real local server with injected faults."""

from __future__ import annotations

import time

import pytest

from commops.connectors.http import HttpClient, HttpError, RateLimited, redact
from replay import Replay

TOKEN = "ghp_secret_token_value"


def client(replay: Replay, **kw: object) -> HttpClient:
    options: dict[str, object] = {"timeout": 2.0, "attempts": 4, "max_wait": 5.0}
    options.update(kw)
    return HttpClient(replay.url, source="gh", token=TOKEN, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("status", {"code": 502}),
        ("status", {"code": 503}),
        ("retry_after", {"seconds": 1}),
        ("secondary", {"seconds": 1}),
        ("primary", {"seconds": 1}),
        ("reset", {}),
        ("malformed", {}),
        ("truncated", {}),
        ("timeout", {"seconds": 3}),
    ],
)
def test_http_fault_is_retried_then_succeeds(replay: Replay, kind: str, options: dict) -> None:
    replay.route("/items", json=[{"id": 1}])
    replay.fault("/items", kind, **options)
    with client(replay) as http:
        assert http.get_json("/items") == [{"id": 1}]
        assert http.requests == 2
    assert replay.count("/items") == 2


def test_http_retry_after_is_honoured(replay: Replay) -> None:
    replay.route("/items", json=[])
    replay.fault("/items", "retry_after", seconds=1)
    started = time.monotonic()
    with client(replay) as http:
        http.get_json("/items")
    assert time.monotonic() - started >= 1.0


def test_http_gives_up_after_attempts_with_clear_error(replay: Replay) -> None:
    replay.route("/items", json=[])
    replay.fault("/items", "status", times=10, code=503)
    with client(replay, attempts=3) as http, pytest.raises(HttpError) as err:
        http.get("/items")
    assert replay.count("/items") == 3
    assert "gave up after 3 attempts (HTTP 503)" in str(err.value)
    assert "/items" in str(err.value)


def test_http_primary_limit_beyond_max_wait_stops_with_reset_time(replay: Replay) -> None:
    replay.route("/items", json=[])
    replay.fault("/items", "primary", seconds=3600)
    with client(replay) as http, pytest.raises(RateLimited) as err:
        http.get("/items")
    assert replay.count("/items") == 1
    assert "rate limit is used up until" in str(err.value)
    assert err.value.reset_at is not None


def test_http_expired_token_stops_at_once_and_never_shows_it(replay: Replay) -> None:
    replay.route("/items", json=[])
    replay.fault("/items", "expired_token")
    with client(replay) as http, pytest.raises(HttpError) as err:
        http.get("/items", {"access_token": TOKEN})
    assert replay.count("/items") == 1
    assert "HTTP 401" in str(err.value)
    assert TOKEN not in str(err.value)
    assert "access_token=***" in str(err.value)


def test_http_not_found_is_not_retried(replay: Replay) -> None:
    with client(replay) as http, pytest.raises(HttpError) as err:
        http.get("/missing")
    assert replay.count("/missing") == 1
    assert err.value.status == 404


def test_http_sends_token_user_agent_and_conditional_headers(replay: Replay) -> None:
    replay.route("/items", json=[1], headers={"ETag": '"abc"'})
    with client(replay) as http:
        first = http.get("/items")
        assert first.etag == '"abc"'
        http.get("/items", etag='"abc"', last_modified="Wed, 21 Oct 2015 07:28:00 GMT")
    seen = replay.seen("/items")
    assert seen[0].headers["authorization"] == f"token {TOKEN}"
    assert seen[0].headers["user-agent"].startswith("commops/")
    assert seen[1].headers["if-none-match"] == '"abc"'
    assert seen[1].headers["if-modified-since"] == "Wed, 21 Oct 2015 07:28:00 GMT"


def test_http_not_modified_is_reported(replay: Replay) -> None:
    replay.route("/items", body=b"", status=304)
    with client(replay) as http:
        assert http.get("/items", etag='"abc"').not_modified


def test_http_paginate_follows_link_headers(replay: Replay) -> None:
    replay.paginate("/items", [{"id": i} for i in range(7)], per_page=3)
    with client(replay) as http:
        pages = [p.json() for p in http.paginate("/items", {"per_page": 3})]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i["id"] for p in pages for i in p] == list(range(7))


def test_http_fault_in_the_middle_of_pagination_loses_nothing(replay: Replay) -> None:
    replay.paginate("/items", [{"id": i} for i in range(7)], per_page=3)
    with client(replay) as http:
        pages = http.paginate("/items", {"per_page": 3})
        first = next(pages).json()
        replay.fault("/items", "reset")
        replay.fault("/items", "status", code=502)
        rest = [p.json() for p in pages]
    assert [i["id"] for p in [first, *rest] for i in p] == list(range(7))


def test_redact_hides_secret_query_parameters() -> None:
    assert redact("https://x/y?api_key=k&page=2&access_token=t") == (
        "https://x/y?api_key=***&page=2&access_token=***"
    )
