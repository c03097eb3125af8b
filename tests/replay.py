"""A real HTTP server on 127.0.0.1 that replays recorded API responses, with faults injected.

Connectors talk to it over real sockets through the real client; nothing of ours is mocked.

    with Replay() as api:
        api.route("/repos/o/r/issues", json=[...], headers={"ETag": '"v1"'})
        api.paginate("/repos/o/r/stargazers", items, per_page=30)
        api.fault("/repos/o/r/issues", "retry_after", seconds=1)
        ... point the connector at api.url ...
        assert api.count("/repos/o/r/issues") == 2
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[[Request], Reply]

FAULTS = (
    "status",  # any status, headers and body: status=502
    "retry_after",  # 429 with Retry-After: seconds
    "secondary",  # GitHub's 403 secondary rate limit, with Retry-After
    "primary",  # 403 with X-RateLimit-Remaining: 0 and a reset `seconds` from now
    "timeout",  # answer only after `seconds` (longer than the client's timeout)
    "reset",  # close the connection with a TCP reset, no response
    "malformed",  # 200 with a body that is not JSON
    "truncated",  # Content-Length larger than the body sent, then close
    "expired_token",  # 401 Bad credentials
)


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(data).encode()
    )


class Replay:
    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._faults: dict[str, deque[tuple[str, dict[str, Any]]]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        replay = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Without this every response waits ~40 ms for the client's delayed ACK.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                replay._serve(self)

            def do_POST(self) -> None:
                replay._serve(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- setting up ---------------------------------------------------------------------------

    def route(
        self,
        path: str,
        json: Any = None,
        *,
        body: bytes | str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """A fixed answer for GET/POST ``path`` (any query string)."""
        if body is None:
            reply = json_reply(json, status, headers)
        else:
            raw = body.encode() if isinstance(body, str) else body
            reply = Reply(status, dict(headers or {}), raw)
        self._routes[path] = lambda _request: reply

    def handle(self, path: str, handler: Handler) -> None:
        """A computed answer: ``handler(request) -> Reply``."""
        self._routes[path] = handler

    def paginate(
        self, path: str, items: list[Any], per_page: int = 30, headers: dict[str, str] | None = None
    ) -> None:
        """``items`` split into pages linked by ``Link: <...>; rel="next"``, as GitHub does;
        the page is chosen by the ``page`` query parameter (1-based)."""

        def handler(request: Request) -> Reply:
            page = int(request.query.get("page", "1"))
            size = int(request.query.get("per_page", per_page))
            chunk = items[(page - 1) * size : page * size]
            last = max(1, -(-len(items) // size))
            links = []
            query = dict(request.query)
            if page < last:
                query["page"] = str(page + 1)
                links.append(f'<{self.url}{path}?{urlencode(query)}>; rel="next"')
                query["page"] = str(last)
                links.append(f'<{self.url}{path}?{urlencode(query)}>; rel="last"')
            extra = dict(headers or {})
            if links:
                extra["Link"] = ", ".join(links)
            return json_reply(chunk, 200, extra)

        self._routes[path] = handler

    def fault(self, path: str, kind: str, times: int = 1, **options: Any) -> None:
        """The next ``times`` requests to ``path`` get fault ``kind`` (see FAULTS) instead."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; use one of {FAULTS}")
        with self._lock:
            for _ in range(times):
                self._faults[path].append((kind, options))

    # -- looking at what happened -----------------------------------------------------------

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if path is None or r.path == path)

    def seen(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- serving ------------------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        request = Request(
            method=h.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in h.headers.items()},
            body=h.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(request)
            fault = self._faults[parts.path].popleft() if self._faults[parts.path] else None
        if fault is not None:
            self._fault(h, *fault)
            return
        handler = self._routes.get(parts.path)
        reply = handler(request) if handler else json_reply({"message": "Not Found"}, 404)
        self._send(h, reply)

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply, *, length: int | None = None) -> None:
        h.send_response(reply.status)
        headers = {"Content-Type": "application/json", **reply.headers}
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(reply.body) if length is None else length))
        h.end_headers()
        h.wfile.write(reply.body)
        h.wfile.flush()

    def _fault(self, h: BaseHTTPRequestHandler, kind: str, options: dict[str, Any]) -> None:
        seconds = options.get("seconds", 1)
        if kind == "status":
            self._send(
                h,
                Reply(
                    options.get("code", 502),
                    options.get("headers", {}),
                    options.get("body", b"bad gateway"),
                ),
            )
        elif kind == "retry_after":
            self._send(h, json_reply({"message": "slow down"}, 429, {"Retry-After": str(seconds)}))
        elif kind == "secondary":
            self._send(
                h,
                json_reply(
                    {
                        "message": "You have exceeded a secondary rate limit. Please wait a few "
                        "minutes before you try again."
                    },
                    403,
                    {"Retry-After": str(seconds)},
                ),
            )
        elif kind == "primary":
            reset = int(time.time() + seconds)
            self._send(
                h,
                json_reply(
                    {"message": "API rate limit exceeded"},
                    403,
                    {
                        "X-RateLimit-Limit": "5000",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": str(reset),
                    },
                ),
            )
        elif kind == "timeout":
            time.sleep(seconds)
            self._send(h, json_reply({"message": "late"}))
        elif kind == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            h.connection.close()
        elif kind == "malformed":
            self._send(h, Reply(200, {"Content-Type": "application/json"}, b'{"items": [1, 2'))
        elif kind == "truncated":
            body = json.dumps([{"id": i} for i in range(50)]).encode()
            self._send(h, Reply(200, {}, body[: len(body) // 2]), length=len(body))
            h.close_connection = True
        elif kind == "expired_token":
            self._send(h, json_reply({"message": "Bad credentials"}, 401))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Replay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pages(items: Iterable[Any], size: int) -> list[list[Any]]:
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]
