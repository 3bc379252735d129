"""A local JSON API on 127.0.0.1 for connector tests: routes, auth, injectable faults, a log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """Served instead of the real answer: a status (with headers), or a delay before it."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Route = Callable[[Request], Response]


class MockApi:
    """An HTTP server in a thread; `route` answers, `faults[path]` are served first, in order."""

    def __init__(self, route: Route, authorized: Callable[[Request], bool], denied: Any) -> None:
        self.route = route
        self.authorized = authorized
        self.denied = denied
        self.faults: dict[str, list[Fault]] = {}
        #: Faults served on every request to a path (a server that stays broken).
        self.broken: dict[str, Fault] = {}
        self.log: list[Request] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    body=json.loads(raw) if raw else None,
                    headers={k.lower(): v for k, v in self.headers.items()},
                )
                response = api.answer(request)
                payload = json.dumps(response.body).encode()
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in response.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> MockApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> MockApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, request: Request) -> Response:
        with self._lock:
            self.log.append(request)
            fault = self.broken.get(request.path)
            queue = self.faults.get(request.path)
            if fault is None and queue:
                fault = queue.pop(0)
        if not self.authorized(request):
            return Response(401, self.denied)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status:
                return Response(fault.status, {"error": f"injected {fault.status}"}, fault.headers)
        return self.route(request)

    def requests_to(self, path_prefix: str) -> list[Request]:
        return [r for r in self.log if r.path.startswith(path_prefix)]
