"""POST /invocations answered in the event loop (serving/direct.py) answers exactly as MLflow's
scoring server app does: the packaged demo model behind both, the same bodies, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from serving.client import clean_message
from serving.guard import RequestGuard
from tests.unit.test_request_guard import run

BODIES = [
    {"inputs": [{"kind": "recommend", "user_id": 1, "k": 3}]},
    {
        "inputs": [
            {"kind": "recommend", "user_id": 10**9, "k": 2},
            {"kind": "similar", "movie_id": 10**9},
            {"kind": "spin", "user_id": 1, "seed": 7},
            {"kind": "predict", "user_id": 1, "movie_id": 1},
        ]
    },
    {"inputs": [{"kind": "recommend", "user_id": 1, "k": 0}]},  # out of range: 400
    {"inputs": [{"kind": "recommend", "usr": 1}]},  # unknown field: 400
    {"inputs": [{"kind": "recommend", "user_id": "x", "k": True}, {"user_id": 1}]},
    {"inputs": []},
    {"inputs": [{"kind": "recommend", "user_id": 1}], "params": {"k": 3}},
]


def call(app: Any, body: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    """One POST /invocations through an ASGI app, with the scope a server gives."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/invocations", "raw_path": b"/invocations", "root_path": "",
        "query_string": b"", "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 5000),
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    run(app(scope, receive, send))
    headers = dict(sent[0]["headers"])
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture(scope="module")
def apps(packaged: Path) -> tuple[Any, Any, Any]:
    """(MLflow's app behind the guard, the guard answering directly, the loaded model)."""
    from mlflow.pyfunc import scoring_server

    from serving.direct import invocations_answerer

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOVIE_ROULETTE_WARM_SECONDS", "0")
        model = scoring_server.load_model_with_mlflow_config(str(packaged))
    mlflow_app = scoring_server.init(model)
    return (
        RequestGuard(mlflow_app),
        RequestGuard(mlflow_app, answer=invocations_answerer(model)),
        model,
    )


@pytest.mark.parametrize("payload", BODIES, ids=range(len(BODIES)))
def test_the_direct_answer_is_mlflows_to_the_byte(apps: tuple[Any, Any, Any], payload: Any) -> None:
    forwarded, direct, _ = apps
    body = json.dumps(payload).encode()
    want = call(forwarded, body)
    got = call(direct, body)
    assert got[0] == want[0]
    assert got[1][b"content-type"] == want[1][b"content-type"]
    assert got[2] == want[2]
    assert got[1][b"content-length"] == str(len(got[2])).encode()


def test_answers_and_refusals_are_what_a_client_expects(apps: tuple[Any, Any, Any]) -> None:
    _, direct, _ = apps
    status, _, body = call(direct, json.dumps(BODIES[0]).encode())
    assert status == 200 and len(json.loads(body)["predictions"][0]["items"]) == 3
    status, _, body = call(direct, json.dumps(BODIES[2]).encode())
    assert status == 400
    assert clean_message(json.loads(body)["message"]) == "k: 0 is outside 1..100 (got 0)"


def test_a_fault_of_the_model_is_the_same_500(
    apps: tuple[Any, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    forwarded, direct, model = apps

    def broken(request: Any) -> Any:
        raise ValueError("zero-size array to reduction operation maximum")

    monkeypatch.setattr(model.unwrap_python_model()._service, "handle", broken)
    body = json.dumps({"inputs": [{"kind": "spin", "user_id": 1}]}).encode()
    got, want = call(direct, body), call(forwarded, body)
    assert got[0] == want[0] == 500
    assert json.loads(got[2]) == json.loads(want[2])
    assert "spin: the model failed (ValueError" in json.loads(got[2])["message"]


def test_an_answerer_that_raises_is_a_json_500_and_the_app_is_not_called() -> None:
    from tests.unit.test_request_guard import Recorder, rows
    from tests.unit.test_request_guard import call as guard_call

    inner = Recorder()

    def failing(body: bytes) -> tuple[int, str, bytes]:
        raise RuntimeError("boom")

    status, payload = guard_call(RequestGuard(inner, answer=failing), rows(1))
    assert (status, payload["message"], inner.calls) == (
        500,
        "the model server failed: RuntimeError",
        [],
    )
    seen: list[bytes] = []

    def echo(body: bytes) -> tuple[int, str, bytes]:
        seen.append(body)
        return 200, "application/json", b'{"predictions": []}'

    assert guard_call(RequestGuard(inner, answer=echo), rows(2)) == (200, {"predictions": []})
    assert seen == [rows(2)] and inner.calls == []
    # refused bodies never reach the answerer
    assert guard_call(RequestGuard(inner, answer=echo), rows(101))[0] == 413
    assert seen == [rows(2)]


def test_a_missing_event_loop_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from serving import command

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvloop" else real(name, *a)
    )
    with pytest.raises(RuntimeError, match=r"needs uvloop \(.*pip install -e \.`"):
        command.guarded_command("/models/m", 8123, "127.0.0.1", workers=2)


def test_the_server_command_is_mlflows_serving_the_guarded_app() -> None:
    from serving.command import GUARDED_APP, guarded_command

    argv, env = guarded_command("/models/m", 8123, "127.0.0.1", workers=3)
    assert argv[1:3] == ["-m", "uvicorn"] and argv[-1] == GUARDED_APP == "serving.asgi:app"
    options = " ".join(argv[3:-1])
    assert "--host 127.0.0.1" in options and "--port 8123" in options
    assert "--workers 3" in options
    assert "--loop uvloop --http httptools" in options  # not asyncio's 44 ms (serving/command.py)
    assert env["MOVIE_ROULETTE_SERVER_WORKERS"] == "3"
    assert env["__pyfunc_model_path__"].endswith("/models/m")  # what serving/asgi.py loads
