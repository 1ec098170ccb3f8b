"""Web-app feedback feeds continuous training: ratings, clicks and accepted spins that picked
users give in the web app (launched with the CT config) are the "current" batch of the next
continuous-training run with `continuous.source: event_log`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import run_cli, write_config

pytestmark = pytest.mark.integration

DEMO = {"n_movies": 150, "n_users": 120, "mean_ratings_per_user": 40, "n_reviews": 400}
N_RATINGS = 30


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def _latest_run(pipeline: str) -> Any:
    from zenml.client import Client

    return (
        Client()
        .list_pipeline_runs(pipeline_name=pipeline, sort_by="desc:created", size=1, hydrate=True)
        .items[0]
    )


def _output(run: Any, step: str, name: str) -> Any:
    return run.steps[step].outputs[name][0].load()


def test_ratings_given_in_the_web_app_are_the_next_ct_batch(
    tmp_path: Path, stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movie_roulette.config import load_config
    from movie_roulette.data.sources import held_back_ratings
    from movie_roulette.monitoring.batches import event_log_path, next_batch, state_dir
    from movie_roulette.monitoring.eventlog import EventLog
    from movie_roulette.monitoring.store import InteractionStore
    from serving.registry import download_bundle, production_version
    from tests.webapp_support import contract_server, make_app
    from webapp.catalogue import CatalogueStore
    from webapp.launch import feedback_log_path

    monkeypatch.delenv("MOVIE_ROULETTE_EVENT_LOG", raising=False)
    name = "mr_feedback_it"
    config_path = write_config(
        tmp_path,
        "continuous_demo",
        model_name=name,
        experiment_name=name,
        data={"demo": {**DEMO, "holdout_fraction": 0.2}},
        continuous={
            "state_dir": str(tmp_path / "state"),
            "source": "event_log",
            "min_new_interactions": 5000,
            # A few dozen events: with a reference of at most 1,000 rows Evidently uses
            # statistical tests (K-S, chi-squared) that suit small samples; with a larger one
            # it uses distances (Wasserstein, Jensen-Shannon) that flag any tiny batch.
            "max_reference_rows": 1000,
        },
    )
    cfg = load_config(config_path)

    # 1. The production model the web app shows (training pipeline, promoted as version 1).
    trained = run_cli("--config", str(config_path))
    assert trained.exit_code == 0, trained.output
    version = production_version(name)
    assert version == "1"
    bundle = download_bundle(name, version, tmp_path / "download")
    store = CatalogueStore.from_bundle(bundle)

    # 2. The web app as `python -m webapp --config <the CT config>` sets it up: same log.
    log_path = feedback_log_path(config_path, None)
    assert log_path == event_log_path(cfg) == tmp_path / "state" / "events.jsonl"

    # Real demo ratings the model has not trained on (its held-back 20%), given by the users
    # and for the movies the served model knows, through the movie page's rating form.
    held = held_back_ratings(cfg.data, cfg.seed)
    held = held[
        held["user_id"].map(store.knows_user) & held["movie_id"].isin(store.frame["movie_id"])
    ]
    given = held.drop_duplicates(["user_id", "movie_id"]).head(N_RATINGS)
    assert len(given) == N_RATINGS
    expected = {
        (int(u), int(m), float(r)) for u, m, r in given[["user_id", "movie_id", "rating"]].values
    }
    with contract_server(bundle) as server_url:
        client = make_app(bundle, server_url, event_log=log_path).test_client()
        for i, (user_id, movie_id, rating) in enumerate(sorted(expected)):
            client.get(f"/user/{user_id}")  # the user picker
            token = _csrf(client.get(f"/movie/{movie_id}").get_data(as_text=True))
            # The first user first gives another rating, then corrects it: the latest counts.
            for value in ([1.0 if rating == 0.5 else 0.5] if i == 0 else []) + [rating]:
                response = client.post(
                    f"/movie/{movie_id}/rate", data={"rating": f"{value:g}", "csrf_token": token}
                )
                assert response.status_code == 303, response.get_data(as_text=True)[:500]
        # ... plus a click on a recommended movie and an accepted spin (implicit feedback).
        user_id = int(given["user_id"].iloc[0])
        html = client.get(f"/user/{user_id}").get_data(as_text=True)
        link = re.search(r'href="(/movie/\d+\?src=recommendations[^"]*)"', html)
        assert link
        assert client.get(link.group(1).replace("&amp;", "&")).status_code == 303
        spin = client.get(f"/user/{user_id}/spin").get_data(as_text=True)
        picked = re.search(r'name="movie_id" value="(\d+)"', spin)
        assert picked
        accepted = client.post(
            "/spin/accept", data={"movie_id": picked.group(1), "csrf_token": _csrf(spin)}
        )
        assert accepted.status_code == 303
    logged = EventLog(log_path).read()
    assert logged.clean and len(logged.events) == N_RATINGS + 3  # one rating was corrected

    # 3. Continuous training reads the log as its current batch.
    ct = run_cli("--pipeline", "continuous", "--config", str(config_path))
    assert ct.exit_code == 0, ct.output
    assert f"Batch from event_log: {N_RATINGS + 2} interactions ({N_RATINGS} ratings)" in ct.output
    run = _latest_run("continuous_training_pipeline")
    info = _output(run, "ingest_batch", "batch_info")
    assert info["source"] == "event_log" and info["damaged_lines"] == []
    assert info["events"] == N_RATINGS + 3 and info["superseded_ratings"] == 1
    assert info["cursor_after"] == {
        "path": str(log_path),
        "offset": log_path.stat().st_size,
        "line": N_RATINGS + 4,  # the next line's number: damage is reported by file line
    }
    new = _output(run, "load_continuous_data", "new_interactions")
    rated = new[new["rating"].notna()]
    assert {
        (int(u), int(m), float(r)) for u, m, r in rated[["user_id", "movie_id", "rating"]].values
    } == expected
    assert sorted(new.loc[new["rating"].isna(), "event"]) == ["click", "spin_accepted"]
    current = _output(run, "build_drift_features", "current_features")
    assert len(current) == N_RATINGS + 2  # the drift check's "current" data is the feedback
    drift = _output(run, "detect_drift", "drift_summary")
    assert drift["current_rows"] == N_RATINGS + 2
    decision = _output(run, "decide_retraining", "retrain_decision")
    assert decision["new_interactions"] == N_RATINGS + 2
    # Held-back ratings are from the training distribution; only the hour of day (all logged
    # just now) may differ from the reference.
    assert set(drift["drifted_columns"]) <= {"hour_of_day"}, drift["drifted_columns"]
    assert decision["retrain"] is False, decision["reason"]

    # The cursor moved past everything: the next run would start after these events.
    pending = next_batch(cfg, InteractionStore(state_dir(cfg)))
    assert pending.source == "event_log" and pending.frame.empty

    # A quiet night: nothing new in the log -> the run stops cleanly and says why.
    quiet = run_cli("--pipeline", "continuous", "--config", str(config_path))
    assert quiet.exit_code == 0, quiet.output
    assert "No new ratings from event_log" in quiet.output
    quiet_decision = _output(
        _latest_run("continuous_training_pipeline"), "record_empty_batch", "retrain_decision"
    )
    assert quiet_decision["retrain"] is False
