"""A thin ASGI layer in front of MLflow's scoring server: limits and client errors as 4xx.

MLflow 3's scoring server (`mlflow.pyfunc.scoring_server.init`) has a request timeout and no
other setting; on its own it
* answers 500 and drops the keep-alive connection for a request with no Content-Type
  (`content_type.split` on None) and for deeply nested JSON (RecursionError),
* reads a body of any size and hands every row to the model (a 10 MB title, 10,000 rows),
* echoes the whole body back in its "not valid JSON" message.

`RequestGuard` answers POST /invocations itself when the request is refused, else passes it on
with the body it read: a missing Content-Type means JSON; a body over `max_body_bytes` is 413;
a body that is not UTF-8 JSON, is nested deeper than `MAX_DEPTH`, or is not {"inputs": [rows]}
is 400; more than `max_rows` rows is 413. Every message names the limit or the field, in
MLflow's error shape ({"error_code": ..., "message": ...}) so clients read it as before. An
exception escaping the app before it answered becomes a 500 JSON answer on a connection that
stays open. Given an `answer` function (serving/direct.py: MLflow's own `invocations`), the
guard answers a checked body with it in the event loop instead of passing it to the app; given
a `balancer` (serving/balance.py), such an answer may close its keep-alive connection, so that
the clients spread evenly over the server's workers. Pure ASGI: no MLflow import
(serving/asgi.py wires it to MLflow's app).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from serving.balance import ConnectionBalancer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Answerer = Callable[[bytes], tuple[int, str, bytes]]  # checked body -> status, media type, body

# set by serving/deployment.py from serving.max_body_bytes / serving.max_rows
MAX_BODY_BYTES_ENV = "MOVIE_ROULETTE_MAX_BODY_BYTES"
MAX_ROWS_ENV = "MOVIE_ROULETTE_MAX_ROWS"
DEFAULT_MAX_BODY_BYTES = 1_048_576
DEFAULT_MAX_ROWS = 100
MAX_DEPTH = 8  # {"inputs": [{...}]} is 3 deep; a request row holds no nested values
DRAIN_LIMIT = 64 * 1_048_576  # read (and drop) an oversized body up to this, to keep the connection
JSON_TYPE = "application/json"


class Refusal(Exception):
    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _depth_over(value: Any, limit: int) -> bool:
    """True when `value` nests containers deeper than `limit` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def check_body(body: bytes, max_rows: int) -> None:
    """Raise `Refusal` for a body the model cannot answer (see the module doc)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise Refusal(400, f"body: not UTF-8 (byte {err.start})") from None
    try:
        payload = json.loads(text)
    except RecursionError:
        raise Refusal(400, f"body: JSON nested too deeply (at most {MAX_DEPTH} levels)") from None
    except json.JSONDecodeError as err:
        raise Refusal(
            400, f"body: not valid JSON ({err.msg} at line {err.lineno} column {err.colno})"
        ) from None
    except ValueError as err:  # an integer of more than 4300 digits
        raise Refusal(400, f"body: not valid JSON ({str(err)[:200]})") from None
    if _depth_over(payload, MAX_DEPTH):
        raise Refusal(400, f"body: JSON nested too deeply (at most {MAX_DEPTH} levels)")
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise Refusal(400, 'body: expected {"inputs": [request, ...]}')
    rows = payload["inputs"]
    if not isinstance(rows, list):
        raise Refusal(400, 'inputs: expected a list of request objects, e.g. [{"kind": ...}]')
    if len(rows) > max_rows:
        raise Refusal(
            413,
            f"inputs: {len(rows)} rows; at most {max_rows} per request (serving.max_rows)",
            "REQUEST_LIMIT_EXCEEDED",
        )
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise Refusal(400, f"inputs[{i}]: expected a request object, got {type(row).__name__}")


class RequestGuard:
    """ASGI middleware around the scoring server's app (see the module doc)."""

    def __init__(
        self,
        app: App,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_rows: int = DEFAULT_MAX_ROWS,
        path: str = "/invocations",
        answer: Answerer | None = None,
        balancer: ConnectionBalancer | None = None,
    ) -> None:
        self.app, self.path, self.answer, self.balancer = app, path, answer, balancer
        self.max_body_bytes, self.max_rows = max_body_bytes, max_rows

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path or scope["method"] != "POST":
            await self._forward(scope, receive, send)
            return
        try:
            scope = self._json_scope(scope)
            body = await self._read(scope, receive)
            check_body(body, self.max_rows)
        except Refusal as refusal:
            await _answer(send, refusal.status, refusal.code, refusal.message)
            return
        if self.answer is None:
            await self._forward(scope, _replay(body, receive), send)
            return
        try:
            status, media_type, content = self.answer(body)
        except Exception as err:  # as `_forward` answers an app failing before its answer
            await _failed(send, err)
            return
        port = (scope.get("server") or (None, None))[1]  # ASGI: (host, port), (path, None), None
        close = self.balancer is not None and self.balancer.close_after(port)
        await _send(send, status, media_type, content, close)

    def _json_scope(self, scope: Scope) -> Scope:
        """The scope with Content-Type application/json when it had none; 415 for another."""
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-type"]
        given = [v for k, v in scope.get("headers", []) if k.lower() == b"content-type"]
        value = given[0].decode("latin-1").strip() if given else ""
        if not value:
            return {**scope, "headers": [*headers, (b"content-type", JSON_TYPE.encode())]}
        mime, *params = [part.strip().lower() for part in value.split(";")]
        if mime != JSON_TYPE or any(p not in ("", "charset=utf-8") for p in params):
            raise Refusal(
                415, f"Content-Type: {value[:60]!r} is not supported; send {JSON_TYPE} (UTF-8)"
            )
        return scope

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.max_body_bytes
        too_big = Refusal(
            413,
            f"body: larger than {limit} bytes (serving.max_body_bytes)",
            "REQUEST_LIMIT_EXCEEDED",
        )
        declared = dict(scope.get("headers", [])).get(b"content-length", b"").decode("latin-1")
        if declared.strip().isdigit() and int(declared) > DRAIN_LIMIT:
            raise too_big  # not worth reading: the server closes this connection after answering
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refusal(400, "body: the client disconnected before sending it all")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > DRAIN_LIMIT:
                raise too_big
            more = message.get("more_body", False)
        if size > limit:
            raise too_big  # read to the end: the connection stays usable
        return b"".join(chunks)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Call the app; an exception before it answered becomes a 500 JSON answer."""
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as err:
            if started or scope["type"] != "http":
                raise
            await _failed(send, err)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the real channel (which reports a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error_code": code, "message": message}).encode()
    await _send(send, status, JSON_TYPE, body)


async def _failed(send: Send, err: Exception) -> None:
    await _answer(send, 500, "INTERNAL_ERROR", f"the model server failed: {type(err).__name__}")


async def _send(send: Send, status: int, media_type: str, body: bytes, close: bool = False) -> None:
    """The answer; `close`: the server closes the connection after it (`Connection: close`)."""
    if media_type.startswith("text/"):  # as Starlette's `Response` labels text
        media_type += "; charset=utf-8"
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
