"""The "why these picks" view: each pick's score split by blend component, from the server."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from movie_roulette.request import RequestError
from tests.webapp_support import service_for
from webapp.catalogue import CatalogueStore


def known_user(bundle_path: Path) -> int:
    return CatalogueStore.from_bundle(bundle_path).user_ids[0]


def test_explain_answer_splits_each_served_score_exactly(bundle_path: Path) -> None:
    service = service_for(bundle_path)
    user = known_user(bundle_path)
    answer = service.handle({"kind": "explain", "user_id": user, "k": 10})
    served = service.handle({"kind": "recommend", "user_id": user, "k": 10})
    assert [i["movie_id"] for i in answer["items"]] == [i["movie_id"] for i in served["items"]]
    assert answer["weights"] and all(w != 0 for w in answer["weights"].values())
    for item, truth in zip(answer["items"], served["items"], strict=True):
        assert set(item["contributions"]) == set(answer["weights"])
        assert sum(item["contributions"].values()) == pytest.approx(truth["score"], abs=1e-5)
        assert item["reasons"] == truth["reasons"]


def test_explain_needs_a_known_user(bundle_path: Path) -> None:
    service = service_for(bundle_path)
    with pytest.raises(RequestError, match="user_id"):
        service.handle({"kind": "explain"})
    assert (
        service.handle({"kind": "explain", "user_id": 10**9})["error"] == "unknown user 1000000000"
    )


def test_picks_page_links_the_why_view_and_it_shows_the_split(
    client: FlaskClient, bundle_path: Path
) -> None:
    user = known_user(bundle_path)
    picks = client.get(f"/user/{user}").get_data(as_text=True)
    assert f'href="/user/{user}/why" data-testid="why-link"' in picks
    page = client.get(f"/user/{user}/why")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="why-table"' in html and html.count("<meter") >= 10
    assert "Blend weights:" in html


def test_why_view_for_an_unknown_user_says_so(client: FlaskClient) -> None:
    html = client.get("/user/999999999/why").get_data(as_text=True)
    assert 'data-testid="why-error"' in html and "unknown user" in html


def test_why_view_when_the_server_is_down_is_a_message_not_a_crash(
    down_client: FlaskClient,
) -> None:
    page = down_client.get("/user/1/why")
    assert page.status_code == 200 and 'data-testid="why-error"' in page.get_data(as_text=True)


def test_movie_page_links_the_why_view_of_the_signed_in_user(
    client: FlaskClient, bundle_path: Path
) -> None:
    user = known_user(bundle_path)
    client.get(f"/user/{user}")  # picks a user for the session
    movie = CatalogueStore.from_bundle(bundle_path).index_rows()[0][0]
    html = client.get(f"/movie/{movie}").get_data(as_text=True)
    assert f'href="/user/{user}/why" data-testid="why-link"' in html
