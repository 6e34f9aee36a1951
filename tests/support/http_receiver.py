"""A real HTTP receiver on loopback for the REST sink tests: stores records by key, deduping.

It runs ``http.server`` in a thread (aiohttp is not a dependency), so a client in the test's event
loop or in another process talks to it over a real socket. Tests can make it answer 503, hang
(no answer until released), or refuse given keys with 422; it counts requests and the records it
saw again (duplicates) so a test can tell "delivered once" from "delivered and deduped".

Requests use HTTP/1.0 (one connection per request), so stopping it never waits for a client's
idle keep-alive connection.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["HttpReceiver", "ReceivedRecord"]


@dataclass(frozen=True)
class ReceivedRecord:
    """One stored record and when it first arrived (``time.time()``)."""

    key: str
    kind: str
    created: str
    payload: dict[str, Any]
    received: float


@dataclass
class _Behaviour:
    status: int | None = None  # answer this instead of storing (e.g. 503)
    hang: bool = False
    reject_keys: set[str] = field(default_factory=set)
    per_record: bool = False  # answer 207 with per-record results instead of 422 for the batch


class HttpReceiver:
    """``with HttpReceiver() as rx:`` serves ``rx.url`` until the block ends."""

    def __init__(self, path: str = "/records") -> None:
        """A receiver listening on 127.0.0.1 at a free port, posted to at ``path``."""
        self.path = path
        self.records: dict[str, ReceivedRecord] = {}
        self.requests = 0
        self.duplicates = 0  # records received again after they were stored
        self.headers: list[dict[str, str]] = []  # the headers of every request
        self.batch_sizes: list[int] = []  # records per well-formed request
        self._lock = threading.Lock()
        self._behaviour = _Behaviour()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = False  # server_close() joins the handler threads
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="http-receiver", kwargs={"poll_interval": 0.05}
        )

    @property
    def url(self) -> str:
        """Where to POST."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def __enter__(self) -> HttpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release hanging requests, stop serving and wait for the threads."""
        self._release.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    # -- what the test controls ----------------------------------------------------------------

    def fail_with(self, status: int | None) -> None:
        """Answer every request with ``status`` (e.g. 503) instead of storing; None to stop."""
        with self._lock:
            self._behaviour.status = status

    def hang(self, on: bool = True) -> None:
        """Hold every request without an answer (until ``hang(False)`` or ``close``)."""
        with self._lock:
            self._behaviour.hang = on
        if on:
            self._release.clear()
        else:
            self._release.set()

    def reject(self, *keys: str) -> None:
        """Answer 422 to any request that contains one of ``keys``."""
        with self._lock:
            self._behaviour.reject_keys.update(keys)

    def per_record_results(self, on: bool = True) -> None:
        """Answer 207 with ``{"results": [{"key", "status", "error"}]}``, storing the others."""
        with self._lock:
            self._behaviour.per_record = on

    def stored_keys(self) -> set[str]:
        """The keys stored so far."""
        with self._lock:
            return set(self.records)

    def stats(self) -> tuple[int, int, int]:
        """``(stored records, requests, duplicates)`` at one moment."""
        with self._lock:
            return len(self.records), self.requests, self.duplicates

    # -- serving -------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: a drain makes thousands of requests

        return Handler

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length)
        with self._lock:
            self.requests += 1
            self.headers.append({k: v for k, v in req.headers.items()})
            now_b = self._behaviour
            behaviour = _Behaviour(
                now_b.status, now_b.hang, set(now_b.reject_keys), now_b.per_record
            )
        if behaviour.hang:
            self._release.wait(60.0)
            return  # the client has given up; close without an answer
        if req.path != self.path:
            self._answer(req, 404, {"error": f"no such path {req.path}"})
            return
        if behaviour.status is not None:
            self._answer(req, behaviour.status, {"error": "receiver told to fail"})
            return
        try:
            records = json.loads(body)["records"]
            keys = [str(r["key"]) for r in records]
        except (ValueError, KeyError, TypeError) as exc:
            self._answer(req, 400, {"error": f"bad body: {exc}"})
            return
        with self._lock:
            self.batch_sizes.append(len(keys))
        refused = [k for k in keys if k in behaviour.reject_keys]
        if refused and not behaviour.per_record:
            self._answer(req, 422, {"error": f"refused keys {refused}"})
            return
        now = time.time()
        with self._lock:
            for record in records:
                key = str(record["key"])
                if key in refused:
                    continue
                if key in self.records:
                    self.duplicates += 1
                    continue
                self.records[key] = ReceivedRecord(
                    key, str(record["kind"]), str(record["created"]), record["payload"], now
                )
        if behaviour.per_record:
            results = [
                {"key": k, "status": 422, "error": "refused"}
                if k in refused
                else {"key": k, "status": 201}
                for k in keys
            ]
            self._answer(req, 207, {"results": results})
            return
        self._answer(req, 200, {"stored": len(records)})

    @staticmethod
    def _answer(req: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            req.send_response(status)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(data)))
            req.end_headers()
            req.wfile.write(data)
        except OSError:  # the client went away (killed, or timed out)
            pass
