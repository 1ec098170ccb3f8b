"""The web app by feature: one blueprint per feature, every URL of the one-blueprint app still
routed, and the guards (decorators and the model-server context manager) doing one job each."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, g

from serving.client import ModelServerRejected, ModelServerUnavailable
from tests.webapp_support import free_port, make_app
from webapp.guards import ModelServerCall, feedback_user_required
from webapp.pages import LOGGING_OFF, NO_USER, SERVER_DOWN

# every URL rule of the single `web` blueprint before the split, by its feature now
FEATURES = {
    "browse": {"/", "/search", "/api/suggest", "/movie/<int:movie_id>", "/poster/<int:movie_id>"},
    "picks": {"/users/go", "/user/<int:user_id>", "/user/<int:user_id>/why"},
    "spin": {"/user/<int:user_id>/spin", "/api/spin"},
    "feedback": {"/movie/<int:movie_id>/rate", "/spin/accept"},
    "newcomers": {
        "/newcomer",
        "/newcomer/reset",
        "/newcomer/recommendations",
        "/newcomer/spin",
    },
    "ops": {"/healthz", "/ops/experiment", "/metrics"},
}


@pytest.fixture(scope="module")
def app(enriched_bundle: Path) -> Flask:
    return make_app(enriched_bundle, f"http://127.0.0.1:{free_port()}", server_timeout=1.0)


def test_every_url_is_routed_by_its_features_blueprint(app: Flask) -> None:
    routed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            blueprint = rule.endpoint.partition(".")[0]
            routed.setdefault(blueprint, set()).add(rule.rule)
    assert routed == FEATURES
    assert set(app.blueprints) == set(FEATURES)


def test_the_feedback_guard_refuses_before_the_view_runs_and_counts_why(
    enriched_bundle: Path, tmp_path: Path
) -> None:
    ran: list[int] = []

    @feedback_user_required("rating", refuse=lambda message, **args: (message, 400))
    def view(movie_id: int) -> tuple[str, int]:
        ran.append(g.feedback_user)
        return "ran", 200

    url = f"http://127.0.0.1:{free_port()}"
    off = make_app(enriched_bundle, url, event_log=tmp_path / "events.jsonl", log_feedback=False)
    with off.test_request_context("/"):
        assert view(movie_id=1) == (LOGGING_OFF, 400)
    on = make_app(enriched_bundle, url, event_log=tmp_path / "events.jsonl")
    with on.test_request_context("/"):
        assert view(movie_id=1) == (NO_USER, 400)  # no user picked in this session
    assert not ran
    assert not (tmp_path / "events.jsonl").exists()


def test_the_model_server_call_turns_only_its_errors_into_the_pages_message(app: Flask) -> None:
    with app.test_request_context("/"):
        with ModelServerCall() as down:
            raise ModelServerUnavailable("gone", "connection")
        assert down.error == SERVER_DOWN
        with ModelServerCall() as refused:
            raise ModelServerRejected("k: 0 is outside 1..100", 400)
        assert refused.error == (
            "The recommendation service could not answer this request (k: 0 is outside 1..100)."
        )
        with ModelServerCall() as fine:
            pass
        assert fine.error is None
        with pytest.raises(KeyError), ModelServerCall():  # a bug is a 500, not "server down"
            raise KeyError("not the server's fault")
