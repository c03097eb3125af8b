"""The one HTTP client every API connector uses: timeouts, retries with backoff and jitter
(stamina), ``Retry-After`` and rate-limit headers, conditional requests, a User-Agent, tokens
that never leak into messages.

What is retried: connection failures, timeouts, resets, truncated bodies, 5xx, 429, GitHub's
secondary rate limit (403 with ``Retry-After`` or the "secondary rate limit" message), and a
body that is not valid JSON. An exhausted primary rate limit is waited out when its reset is
within ``max_wait``; otherwise the run stops with ``RateLimited``, saying when to try again.
401 (an expired or revoked token), 404 and other client errors stop at once with ``HttpError``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import stamina

from commops import __version__
from commops.errors import SourceError

USER_AGENT = f"commops/{__version__} (+https://github.com/commops/commops)"
_SECRET_PARAMS = re.compile(
    r"(?i)((?:access_)?token|api_key|api_username|key|secret|password)=[^&]*"
)
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class HttpError(SourceError):
    """A request failed for good. The message names the (redacted) URL and the status."""

    def __init__(
        self, message: str, *, url: str, status: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.status = status


class RateLimited(HttpError):
    """The API's rate limit is used up for longer than commops is willing to wait."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None,
        reset_at: datetime | None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, hint=hint)
        self.reset_at = reset_at


class _Retry(Exception):
    """A response worth another try; ``wait`` is what the server asked for, if it said."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def redact(url: str) -> str:
    return _SECRET_PARAMS.sub(lambda m: m.group(1) + "=***", url)


@dataclass
class Response:
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    links: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise HttpError(
                f"{redact(self.url)}: the response is not valid JSON ({exc})",
                url=redact(self.url),
                status=self.status,
            ) from None


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: link["url"] for rel, link in response.links.items() if rel and "url" in link}


def _seconds_until(value: str | None) -> float | None:
    """A ``Retry-After`` value (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HttpClient:
    """Requests against one API. ``token`` goes into ``auth_header`` as ``auth_scheme + token``,
    or into the query parameter ``token_param``, and nowhere else: every message the client
    makes shows it as ``***``."""

    def __init__(
        self,
        base_url: str,
        *,
        source: str,
        token: str | None = None,
        auth_header: str = "Authorization",
        auth_scheme: str = "token ",
        token_param: str | None = None,
        timeout: float = 30.0,
        attempts: int = 6,
        max_wait: float = 120.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.source = source
        self.attempts = attempts
        self.max_wait = max_wait
        self.requests = 0  # how many HTTP requests were sent, retries included
        default_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        default_headers.update(headers or {})
        default_params: dict[str, str] = {}
        if token and token_param:  # an API that wants the token in the query (Gitee)
            default_params[token_param] = token
        elif token:
            default_headers[auth_header] = f"{auth_scheme}{token}"
        self._token = token
        self._client = httpx.Client(
            base_url=base_url,
            headers=default_headers,
            params=default_params,
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _hide(self, text: str) -> str:
        text = redact(text)
        return text.replace(self._token, "***") if self._token else text

    def _backoff(self, exc: Exception) -> bool | float:
        if isinstance(exc, _Retry):
            return exc.wait if exc.wait is not None else True
        return isinstance(exc, httpx.TransportError)

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
        expect_json: bool = True,
    ) -> Response:
        """One GET, retried as the module docstring says. ``etag``/``last_modified`` make it
        conditional: an unchanged resource answers 304 (``Response.not_modified``)."""
        extra = dict(headers or {})
        if etag:
            extra["If-None-Match"] = etag
        if last_modified:
            extra["If-Modified-Since"] = last_modified
        return self._request("GET", url, params, None, extra, expect_json)

    def post_json(
        self, url: str, payload: Any, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        """One POST of a JSON body (a GraphQL query), retried like a GET: an API's query
        endpoints are safe to repeat."""
        return self._request("POST", url, None, payload, dict(headers or {}), True)

    def _request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        payload: Any,
        headers: dict[str, str],
        expect_json: bool,
    ) -> Response:
        shown = self._hide(str(self._client.build_request(method, url, params=params).url))
        try:
            for attempt in stamina.retry_context(
                on=self._backoff,
                attempts=self.attempts,
                timeout=None,
                wait_initial=0.2,
                wait_max=min(30.0, self.max_wait),
                wait_jitter=0.5,
            ):
                with attempt:
                    return self._once(method, url, params, payload, headers, shown, expect_json)
        except _Retry as exc:
            raise HttpError(
                f"source {self.source!r}: {shown}: gave up after {self.attempts} attempts "
                f"({exc.reason})",
                url=shown,
            ) from None
        except httpx.TransportError as exc:
            raise HttpError(
                f"source {self.source!r}: {shown}: gave up after {self.attempts} attempts "
                f"({type(exc).__name__}: {self._hide(str(exc)) or 'no detail'})",
                url=shown,
            ) from None
        raise AssertionError("unreachable: stamina either returns or raises")

    def _once(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        payload: Any,
        headers: dict[str, str],
        shown: str,
        expect_json: bool,
    ) -> Response:
        self.requests += 1
        response = self._client.request(method, url, params=params, json=payload, headers=headers)
        status = response.status_code
        if status == 304:
            return Response(shown, status, response.headers, b"", _links(response))
        if status in (403, 429):
            self._rate_limited(response, shown)
        if status in RETRY_STATUS:
            raise _Retry(f"HTTP {status}", _seconds_until(response.headers.get("retry-after")))
        if status == 401:
            raise HttpError(
                f"source {self.source!r}: {shown}: HTTP 401, the token was refused (expired, "
                "revoked or without the needed scope)",
                url=shown,
                status=status,
                hint="Set a valid token (see docs/connectors) and sync again.",
            )
        if status >= 400:
            detail = self._hide(response.text[:200].strip())
            raise HttpError(
                f"source {self.source!r}: {shown}: HTTP {status} {detail}", url=shown, status=status
            )
        content = response.content
        if expect_json:
            try:
                json.loads(content)
            except ValueError:
                raise _Retry("the response is not valid JSON") from None
        return Response(shown, status, response.headers, content, _links(response))

    def _rate_limited(self, response: httpx.Response, shown: str) -> None:
        h = response.headers
        retry_after = _seconds_until(h.get("retry-after"))
        body = response.text[:500].lower()
        secondary = "secondary rate limit" in body or "abuse" in body
        if retry_after is not None or secondary:
            wait = retry_after if retry_after is not None else 60.0
            if wait > self.max_wait:
                raise RateLimited(
                    f"source {self.source!r}: {shown}: rate limited; the server asks to wait "
                    f"{wait:.0f}s, more than [http] max_wait = {self.max_wait:.0f}s",
                    url=shown,
                    status=response.status_code,
                    reset_at=None,
                    hint="Sync again later; nothing past the last stored page was lost.",
                )
            raise _Retry(f"HTTP {response.status_code} rate limited", wait)
        if h.get("x-ratelimit-remaining") == "0" and h.get("x-ratelimit-reset", "").isdigit():
            reset_at = datetime.fromtimestamp(int(h["x-ratelimit-reset"]), UTC)
            wait = max(0.0, reset_at.timestamp() - time.time()) + 1.0
            if wait > self.max_wait:
                raise RateLimited(
                    f"source {self.source!r}: {shown}: the API rate limit is used up until "
                    f"{reset_at:%Y-%m-%d %H:%M:%S} UTC",
                    url=shown,
                    status=response.status_code,
                    reset_at=reset_at,
                    hint="Sync again after that time (or use a token with a higher limit); "
                    "what was stored so far is kept and the next sync resumes there.",
                )
            raise _Retry("rate limit used up", wait)
        if response.status_code == 429:
            raise _Retry("HTTP 429", None)

    def get_json(self, url: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self.get(url, params, **kw).json()

    def paginate(
        self, url: str, params: Mapping[str, Any] | None = None, **kw: Any
    ) -> Iterator[Response]:
        """Follow ``Link: <...>; rel="next"`` from ``url`` to the last page."""
        next_url: str | None = url
        next_params = params
        while next_url:
            page = self.get(next_url, next_params, **kw)
            yield page
            next_url = page.links.get("next")
            next_params = None  # the next link carries its own query
