"""The ASGI guard in front of MLflow's scoring server (serving/guard.py), on a stand-in app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from serving.guard import MAX_DEPTH, RequestGuard


class Recorder:
    """A stand-in for MLflow's app: records what reached it, answers 200 (or raises)."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[dict, bytes]] = []
        self.fail = fail

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.calls.append((dict(scope["headers"]), body))
        if self.fail:
            raise AttributeError("'NoneType' object has no attribute 'split'")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    """`asyncio.run` in a thread of its own: the browser tests' session-wide Playwright keeps an
    event loop running in the main thread, where `asyncio.run` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def call(
    app: Any, body: bytes, headers: list[tuple[bytes, bytes]] | None = None, chunk: int = 65536
) -> tuple[int, dict]:
    headers = [(b"content-type", b"application/json")] if headers is None else headers
    scope = {"type": "http", "method": "POST", "path": "/invocations", "headers": headers}
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    queue = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
        for i, p in enumerate(parts)
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    run(app(scope, receive, send))
    status = sent[0]["status"]
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    return status, json.loads(payload) if payload else {}


def rows(n: int) -> bytes:
    return json.dumps({"inputs": [{"kind": "recommend", "user_id": 1}] * n}).encode()


def test_a_request_without_content_type_is_json() -> None:
    """MLflow answered 500 (content_type.split on None) and dropped the connection (item 8)."""
    inner = Recorder()
    status, _ = call(RequestGuard(inner), rows(1), headers=[])
    assert status == 200
    assert inner.calls[0][0][b"content-type"] == b"application/json"
    assert inner.calls[0][1] == rows(1)  # the body read by the guard reaches the app whole


def test_another_content_type_is_415_naming_it() -> None:
    status, body = call(RequestGuard(Recorder()), b"a,b", headers=[(b"content-type", b"text/csv")])
    assert status == 415 and "Content-Type: 'text/csv' is not supported" in body["message"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"[" * 100_000, 400, f"nested too deeply (at most {MAX_DEPTH} levels)"),
        (b'{"inputs": [{"kind": ' + b"[" * 20 + b"]" * 20 + b"}]}", 400, "nested too deeply"),
        (b"\xff\xfe", 400, "body: not UTF-8"),
        (b"not json", 400, "body: not valid JSON (Expecting value at line 1 column 1)"),
        (b'{"inputs": 1' + b"9" * 5000 + b"}", 400, "body: not valid JSON"),
        (b'{"rows": []}', 400, 'expected {"inputs": [request, ...]}'),
        (b'{"inputs": {"kind": "spin"}}', 400, "inputs: expected a list"),
        (b'{"inputs": [1]}', 400, "inputs[0]: expected a request object, got int"),
        (rows(101), 413, "inputs: 101 rows; at most 100 per request (serving.max_rows)"),
        (rows(10_000), 413, "inputs: 10000 rows; at most 100"),
        (b" " * 1_048_577, 413, "body: larger than 1048576 bytes (serving.max_body_bytes)"),
    ],
)
def test_refused_bodies_name_the_limit_or_field_and_never_reach_the_app(
    body: bytes, status: int, message: str
) -> None:
    inner = Recorder()
    got, payload = call(RequestGuard(inner), body)
    assert (got, inner.calls) == (status, [])
    assert message in payload["message"], payload
    assert len(json.dumps(payload)) < 500  # the body is never echoed back


def test_a_large_body_is_refused_without_keeping_it() -> None:
    inner = Recorder()
    title = json.dumps({"inputs": [{"kind": "similar", "title": "x" * 10_000_000}]}).encode()
    status, payload = call(RequestGuard(inner), title, chunk=1 << 20)
    assert status == 413 and "larger than 1048576 bytes" in payload["message"]


def test_limits_are_configurable() -> None:
    guard = RequestGuard(Recorder(), max_body_bytes=2048, max_rows=3)
    assert call(guard, rows(3))[0] == 200
    assert call(guard, rows(4))[1]["message"].startswith("inputs: 4 rows; at most 3")
    assert call(guard, rows(100))[1]["message"].startswith("body: larger than 2048 bytes")


def test_an_app_failure_before_answering_is_a_json_500() -> None:
    status, payload = call(RequestGuard(Recorder(fail=True)), rows(1))
    assert status == 500 and payload["message"] == "the model server failed: AttributeError"


def test_other_paths_pass_through() -> None:
    inner = Recorder()
    sent: list[dict] = []
    scope = {"type": "http", "method": "GET", "path": "/ping", "headers": []}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    run(RequestGuard(inner)(scope, receive, send))
    assert sent[0]["status"] == 200 and len(inner.calls) == 1
