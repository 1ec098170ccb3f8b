"""Feedback of a picked user (clicks, ratings, accepted spins) lands in the durable event log
before the page answers; bad input, missing CSRF tokens, unknown users and an unwritable log
never log anything and never break a page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from movie_roulette.config import load_config
from movie_roulette.monitoring.batches import event_log_path
from movie_roulette.monitoring.eventlog import Event, EventLog, ratings_from_events
from tests.webapp_support import make_app
from webapp.catalogue import CatalogueStore
from webapp.feedback import RATING_CHOICES, click_token, parse_rating

REPO_ROOT = Path(__file__).resolve().parents[3]
MOVIE = 7


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def events(path: Path) -> list[Event]:
    result = EventLog(path).read()
    assert result.clean
    return result.events


def metric(client: FlaskClient, event_type: str, outcome: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    match = re.search(
        rf'movie_roulette_feedback_events_total\{{outcome="{outcome}",type="{event_type}"\}} (\S+)',
        text,
    )
    assert match, f"no feedback counter for {event_type}/{outcome}"
    return float(match.group(1))


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "events.jsonl"


@pytest.fixture
def feedback_app(bundle_path: Path, server_url: str, log_path: Path) -> Flask:
    return make_app(bundle_path, server_url, event_log=log_path)


@pytest.fixture
def user(bundle_path: Path) -> int:
    return CatalogueStore.from_bundle(bundle_path).user_ids[0]


@pytest.fixture
def picked(feedback_app: Flask, user: int) -> FlaskClient:
    """A browser session that picked a known user."""
    client = feedback_app.test_client()
    assert client.get(f"/user/{user}").status_code == 200
    return client


def rate(client: FlaskClient, rating: str | None, movie_id: int = MOVIE) -> object:
    token = csrf_of(client.get(f"/movie/{movie_id}").get_data(as_text=True))
    data = {"csrf_token": token} if rating is None else {"csrf_token": token, "rating": rating}
    return client.post(f"/movie/{movie_id}/rate", data=data)


# ---- ratings ----------------------------------------------------------------------------------
def test_a_rating_is_logged_durably_with_its_fields_and_confirmed(
    picked: FlaskClient, user: int, log_path: Path
) -> None:
    page = picked.get(f"/movie/{MOVIE}").get_data(as_text=True)
    assert 'data-testid="rate-form"' in page and f"as user {user}" in page
    assert [f'value="{v:g}"' in page for v in RATING_CHOICES] == [True] * 10
    response = rate(picked, "4.5")
    assert response.status_code == 303 and response.headers["Location"] == f"/movie/{MOVIE}"
    (event,) = events(log_path)  # on disk before the answer
    assert event.type == "rating"
    assert event.data == {"user_id": user, "movie_id": MOVIE, "rating": 4.5, "origin": "webapp"}
    shown = picked.get(f"/movie/{MOVIE}").get_data(as_text=True)
    assert 'data-testid="feedback-saved"' in shown and f"user {user} rated" in shown
    assert "4.5" in shown
    assert "feedback-saved" not in picked.get(f"/movie/{MOVIE}").get_data(as_text=True)  # once
    rate(picked, "1")
    frame = ratings_from_events(events(log_path))  # a re-rating replaces the earlier one
    assert frame[["user_id", "movie_id", "rating"]].values.tolist() == [[user, MOVIE, 1.0]]
    assert metric(picked, "rating", "logged") == 2.0


@pytest.mark.parametrize(
    ("rating", "message"),
    [
        (None, "Choose a rating between 0.5 and 5 stars"),
        ("", "Choose a rating between 0.5 and 5 stars"),
        ("6", "6 is not a rating: choose 0.5 to 5 stars, in half stars"),
        ("0", "0 is not a rating"),
        ("4.3", "4.3 is not a rating"),
        ("nan", "nan is not a rating"),
        ("four", "four is not a rating"),
    ],
)
def test_a_bad_rating_gets_a_clear_message_and_nothing_is_logged(
    picked: FlaskClient, log_path: Path, rating: str | None, message: str
) -> None:
    response = rate(picked, rating)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-testid="rating-error"' in html and message in html
    assert 'data-testid="movie-page"' in html  # the page itself, with the form to try again
    assert not log_path.exists()
    assert metric(picked, "rating", "invalid") == 1.0


def test_feedback_posts_without_the_csrf_token_are_refused(
    picked: FlaskClient, user: int, log_path: Path
) -> None:
    for data in ({"rating": "4"}, {"rating": "4", "csrf_token": "forged"}):
        refused = picked.post(f"/movie/{MOVIE}/rate", data=data)
        assert refused.status_code == 400 and "form expired" in refused.get_data(as_text=True)
    spun = picked.get(f"/api/spin?user_id={user}").get_json()
    refused = picked.post("/spin/accept", data={"movie_id": spun["item"]["movie_id"]})
    assert refused.status_code == 400
    assert not log_path.exists()


def test_ratings_are_only_logged_for_a_picked_known_user(
    feedback_app: Flask, log_path: Path
) -> None:
    fresh = feedback_app.test_client()  # nobody picked
    page = fresh.get(f"/movie/{MOVIE}").get_data(as_text=True)
    assert 'data-testid="rate-form"' not in page and 'data-testid="rate-hint"' in page
    token = csrf_of(fresh.get("/newcomer").get_data(as_text=True))
    refused = fresh.post(f"/movie/{MOVIE}/rate", data={"rating": "4", "csrf_token": token})
    assert refused.status_code == 400 and "Pick your user" in refused.get_data(as_text=True)
    fresh.get("/user/999999")  # a number the model does not know: never a training user
    page = fresh.get(f"/movie/{MOVIE}").get_data(as_text=True)
    assert "User 999999 is not one of the model's users" in page
    refused = fresh.post(f"/movie/{MOVIE}/rate", data={"rating": "4", "csrf_token": token})
    assert refused.status_code == 400
    assert fresh.post("/movie/987654/rate", data={"csrf_token": token}).status_code == 404
    assert not log_path.exists()


def test_an_unwritable_log_keeps_pages_working_and_says_nothing_was_saved(
    bundle_path: Path, server_url: str, tmp_path: Path, user: int
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    client = make_app(bundle_path, server_url, event_log=blocker / "events.jsonl").test_client()
    html = client.get(f"/user/{user}").get_data(as_text=True)
    link = re.search(r'href="(/movie/\d+\?src=recommendations[^"]*)"', html)
    assert link
    opened = client.get(link.group(1).replace("&amp;", "&"), follow_redirects=True)
    assert opened.status_code == 200
    assert "Opening this movie was not recorded" in opened.get_data(as_text=True)
    response = rate(client, "3.5")
    assert response.status_code == 303
    page = client.get(f"/movie/{MOVIE}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="feedback-unsaved"' in html
    assert "Your rating was not saved: the feedback log could not be written" in html
    spun = client.get(f"/api/spin?user_id={user}").get_json()
    token = csrf_of(client.get(f"/movie/{MOVIE}").get_data(as_text=True))
    accepted = client.post(
        "/spin/accept",
        data={"movie_id": spun["item"]["movie_id"], "csrf_token": token},
        follow_redirects=True,
    )
    assert accepted.status_code == 200
    assert "Your choice was not saved" in accepted.get_data(as_text=True)
    assert blocker.read_text() == "a file where the log's folder should be"
    for event_type in ("click", "rating", "spin_accepted"):
        assert metric(client, event_type, "failed") == 1.0
        assert metric(client, event_type, "logged") == 0.0


def test_feedback_logging_can_be_switched_off(
    bundle_path: Path, server_url: str, tmp_path: Path, user: int
) -> None:
    log_path = tmp_path / "events.jsonl"
    client = make_app(bundle_path, server_url, event_log=log_path, log_feedback=False).test_client()
    html = client.get(f"/user/{user}").get_data(as_text=True)
    assert "?src=" not in html and 'data-testid="accept-spin"' not in html
    page = client.get(f"/movie/{MOVIE}").get_data(as_text=True)
    assert 'data-testid="rate-form"' not in page and 'data-testid="rate-hint"' not in page
    token = csrf_of(client.get("/newcomer").get_data(as_text=True))
    refused = client.post(f"/movie/{MOVIE}/rate", data={"rating": "4", "csrf_token": token})
    assert refused.status_code == 400 and "switched off" in refused.get_data(as_text=True)
    assert not log_path.exists()
    assert metric(client, "rating", "disabled") == 1.0


# ---- clicks -----------------------------------------------------------------------------------
def tracked_links(html: str, source: str) -> list[str]:
    return [
        link.replace("&amp;", "&")
        for link in re.findall(rf'href="(/movie/\d+\?src={source}&amp;t=[0-9a-f]+)"', html)
    ]


def test_opening_a_recommended_movie_logs_one_click(
    picked: FlaskClient, user: int, log_path: Path
) -> None:
    links = tracked_links(picked.get(f"/user/{user}").get_data(as_text=True), "recommendations")
    assert len(links) == 12
    movie_id = int(re.search(r"/movie/(\d+)", links[0]).group(1))  # type: ignore[union-attr]
    opened = picked.get(links[0])
    assert opened.status_code == 303 and opened.headers["Location"] == f"/movie/{movie_id}"
    (event,) = events(log_path)
    assert event.type == "click"
    assert event.data == {
        "user_id": user,
        "movie_id": movie_id,
        "source": "recommendations",
        "origin": "webapp",
    }
    picked.get(links[0])  # the same link again (back + click) within the window
    picked.get(f"/movie/{movie_id}")  # a refresh of the page it redirected to
    assert len(events(log_path)) == 1
    assert metric(picked, "click", "duplicate") == 1.0
    picked.get(links[1])
    assert [e.data["movie_id"] for e in events(log_path)][1:] == [
        int(re.search(r"/movie/(\d+)", links[1]).group(1))  # type: ignore[union-attr]
    ]
    similar = tracked_links(picked.get(f"/movie/{movie_id}").get_data(as_text=True), "similar")
    assert similar
    picked.get(similar[0])
    assert events(log_path)[-1].data["source"] == "similar"


def test_tracked_links_only_count_for_the_session_they_were_made_for(
    picked: FlaskClient, feedback_app: Flask, user: int, log_path: Path
) -> None:
    links = tracked_links(picked.get(f"/user/{user}").get_data(as_text=True), "recommendations")
    stranger = feedback_app.test_client()  # a crawler or a copied URL: no session
    assert stranger.get(links[0]).status_code == 303
    other = feedback_app.test_client()
    other.get(f"/user/{user}")  # even the same user in another session
    other.get(links[0])
    forged = re.sub(r"t=[0-9a-f]+", "t=" + "0" * 20, links[0])
    picked.get(forged)
    picked.get(links[0].replace("src=recommendations", "src=elsewhere"))
    assert not log_path.exists()
    assert metric(picked, "click", "invalid") == 3.0
    assert click_token("k", 1, 2, "roulette") != click_token("k", 1, 2, "recommendations")


# ---- the roulette -----------------------------------------------------------------------------
def test_accepting_the_roulettes_pick_is_logged_once(
    picked: FlaskClient, user: int, log_path: Path
) -> None:
    page = picked.get(f"/user/{user}/spin?genre=Comedy").get_data(as_text=True)
    assert 'data-testid="accept-spin"' in page
    movie_id = int(re.search(r'name="movie_id" value="(\d+)"', page).group(1))  # type: ignore[union-attr]
    token = csrf_of(page)
    other = next(m for m in (7, 8, 9) if m != movie_id)
    wrong = picked.post("/spin/accept", data={"movie_id": other, "csrf_token": token})
    assert wrong.status_code == 400
    assert "is not the roulette&#39;s latest pick" in wrong.get_data(as_text=True)
    accepted = picked.post("/spin/accept", data={"movie_id": movie_id, "csrf_token": token})
    assert accepted.status_code == 303 and accepted.headers["Location"] == f"/movie/{movie_id}"
    (event,) = events(log_path)
    assert event.type == "spin_accepted"
    assert event.data["user_id"] == user and event.data["movie_id"] == movie_id
    assert event.data["genre"] == "Comedy" and isinstance(event.data["seed"], int)
    assert event.data["origin"] == "webapp" and event.data["pool_size"] >= 1
    assert "Enjoy" in picked.get(f"/movie/{movie_id}").get_data(as_text=True)
    again = picked.post("/spin/accept", data={"movie_id": movie_id, "csrf_token": token})
    assert again.status_code == 400 and len(events(log_path)) == 1  # one acceptance per spin
    for bad in ("x", "987654"):
        response = picked.post("/spin/accept", data={"movie_id": bad, "csrf_token": token})
        assert response.status_code == 400


def test_the_javascript_roulette_gets_an_acceptable_pick_and_a_tracked_link(
    picked: FlaskClient, user: int, log_path: Path
) -> None:
    html = picked.get(f"/user/{user}").get_data(as_text=True)
    assert "data-accept" in html and 'data-testid="accept-spin"' in html
    spun = picked.get(f"/api/spin?user_id={user}").get_json()
    assert spun["acceptable"] is True
    movie_id = spun["item"]["movie_id"]
    assert spun["item"]["url"].startswith(f"/movie/{movie_id}?src=roulette&t=")
    picked.get(spun["item"]["url"])
    accepted = picked.post("/spin/accept", data={"movie_id": movie_id, "csrf_token": csrf_of(html)})
    assert accepted.status_code == 303
    assert [(e.type, e.data["movie_id"]) for e in events(log_path)] == [
        ("click", movie_id),
        ("spin_accepted", movie_id),
    ]
    assert events(log_path)[0].data["source"] == "roulette"


def test_newcomers_and_other_users_spins_cannot_be_accepted(
    picked: FlaskClient, feedback_app: Flask, bundle_path: Path, user: int, log_path: Path
) -> None:
    someone_else = CatalogueStore.from_bundle(bundle_path).user_ids[1]
    spun = picked.get(f"/api/spin?user_id={someone_else}").get_json()  # not the picked user
    assert spun["acceptable"] is False and "src=" not in spun["item"]["url"]
    newcomer = feedback_app.test_client()
    token = csrf_of(newcomer.get("/newcomer").get_data(as_text=True))
    newcomer.post("/newcomer", data={"rating-7": "5", "rating-8": "4", "csrf_token": token})
    html = newcomer.get("/newcomer/recommendations").get_data(as_text=True)
    assert "?src=" not in html and 'data-testid="accept-spin"' not in html
    spun = newcomer.get("/api/spin?newcomer=1").get_json()
    assert spun["acceptable"] is False
    refused = newcomer.post(
        "/spin/accept", data={"movie_id": spun["item"]["movie_id"], "csrf_token": token}
    )
    assert refused.status_code == 400 and "Pick your user" in refused.get_data(as_text=True)
    assert not log_path.exists()


# ---- settings ---------------------------------------------------------------------------------
def test_parse_rating_accepts_half_stars_only() -> None:
    assert [parse_rating(f"{v:g}") for v in RATING_CHOICES] == list(RATING_CHOICES)
    assert parse_rating(" 4.50 ") == 4.5
    for bad in ("5.5", "0.25", "-1", "inf", "1e1"):
        with pytest.raises(ValueError, match="half stars"):
            parse_rating(bad)


def test_the_launcher_logs_to_the_pipeline_configs_event_log_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bundle_path: Path
) -> None:
    from webapp import launch
    from webapp.services import EXTENSION

    monkeypatch.setenv("MOVIE_ROULETTE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MOVIE_ROULETTE_EVENT_LOG", raising=False)
    monkeypatch.delenv("MOVIE_ROULETTE_LOG_FEEDBACK", raising=False)
    served: list[Flask] = []
    monkeypatch.setattr(launch, "serve", lambda app, *args: served.append(app))
    config = REPO_ROOT / "configs" / "continuous_demo.yaml"
    expected = event_log_path(load_config(config))
    assert expected == tmp_path / "cache" / "continuous" / "movie_roulette_ct_demo" / "events.jsonl"

    def launched(*args: str) -> Path | None:
        result = CliRunner().invoke(
            launch.main,
            ["--bundle", str(bundle_path), "--config", str(config), *args],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        return served.pop().extensions[EXTENSION].feedback.path

    assert launched() == expected
    assert launched("--event-log", str(tmp_path / "cli.jsonl")) == tmp_path / "cli.jsonl"
    monkeypatch.setenv("MOVIE_ROULETTE_EVENT_LOG", str(tmp_path / "env.jsonl"))
    assert launched() == tmp_path / "env.jsonl"
    assert launched("--no-feedback-log") is None
    monkeypatch.setenv("MOVIE_ROULETTE_LOG_FEEDBACK", "0")
    assert launched() is None
    result = CliRunner().invoke(
        launch.main,
        ["--bundle", str(bundle_path), "--config", str(config), "--event-log", str(tmp_path)],
    )
    assert result.exit_code != 0 and "is a directory" in result.output.lower()
