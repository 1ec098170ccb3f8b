"""Flask routes against a real HTTP model server, with bundles with and without the optional
catalogue columns and reviews (the `bundle_path` fixture runs every test on both)."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from markupsafe import escape

from tests.webapp_support import EVIL_REVIEW, EVIL_TITLE
from webapp.catalogue import CatalogueStore


def csrf_of(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def known_user(bundle_path: Path) -> int:
    return CatalogueStore.from_bundle(bundle_path).user_ids[0]


def evil_id(bundle_path: Path) -> int:
    store = CatalogueStore.from_bundle(bundle_path)
    return next(m for m, t, _, _ in store.index_rows() if t == EVIL_TITLE)


# ---- home, search, autocomplete ---------------------------------------------------------------
def test_home_offers_search_user_picker_and_newcomer_path(
    client: FlaskClient, bundle_path: Path
) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'role="combobox"' in html and '<label for="q"' in html
    assert f'<option value="{known_user(bundle_path)}">' in html
    assert 'href="/newcomer"' in html


def test_suggest_is_case_and_typo_tolerant(client: FlaskClient, bundle_path: Path) -> None:
    store = CatalogueStore.from_bundle(bundle_path)
    title = store.title_of(7)
    assert title is not None
    for typed in (title.upper(), title[:6].lower(), title[:2] + title[3:]):
        got = client.get("/api/suggest", query_string={"q": typed}).get_json()
        assert 7 in [s["movie_id"] for s in got["suggestions"]], typed
    first = client.get("/api/suggest", query_string={"q": title}).get_json()["suggestions"][0]
    assert first["movie_id"] == 7 and first["url"] == "/movie/7"


def test_suggest_checks_its_limit_and_ignores_blank_queries(client: FlaskClient) -> None:
    assert client.get("/api/suggest?q=%20").get_json()["suggestions"] == []
    bad = client.get("/api/suggest?q=a&limit=500")
    assert bad.status_code == 400 and "limit" in bad.get_json()["error"]


def test_search_results_escape_titles(client: FlaskClient) -> None:
    html = client.get("/search", query_string={"q": "hack"}).get_data(as_text=True)
    assert "&lt;script&gt;alert(" in html
    assert "<script>alert(" not in html
    assert client.get("/search?q=").status_code == 302


# ---- movie page -------------------------------------------------------------------------------
def test_movie_page_shows_details_reviews_and_similar_movies(
    client: FlaskClient, bundle_path: Path
) -> None:
    store = CatalogueStore.from_bundle(bundle_path)
    movie_id = (
        next(int(m) for m in store.frame["movie_id"] if store.reviews(int(m)))
        if (bundle_path / "reviews.parquet").exists()
        else 7
    )
    html = client.get(f"/movie/{movie_id}").get_data(as_text=True)
    movie = store.movie(movie_id)
    assert movie is not None and str(escape(movie["title"])) in html
    assert 'data-testid="similar"' in html and html.count('class="card"') >= 3
    if (bundle_path / "reviews.parquet").exists():
        assert 'data-testid="sentiment-summary"' in html and "% positive" in html
        assert re.search(r"badge badge-(positive|negative)", html)
        assert f"{movie['runtime'] // 60} h" in html and "/10" in html
    else:
        assert "No reviews yet." in html
        assert "/10" not in html


def test_movie_page_escapes_titles_and_reviews(client: FlaskClient, bundle_path: Path) -> None:
    html = client.get(f"/movie/{evil_id(bundle_path)}?reviews=all").get_data(as_text=True)
    assert "<script>alert(" not in html and "&lt;script&gt;alert(" in html
    if (bundle_path / "reviews.parquet").exists():
        assert "document.title=" in html and "<script>document" not in html
        assert "<img src=x" not in html and "&lt;img src=x" in html
        assert EVIL_REVIEW not in html


def test_unknown_movie_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/movie/987654")
    assert response.status_code == 404
    assert "no movie with id 987654" in response.get_data(as_text=True)


def test_posters_are_always_images(client: FlaskClient) -> None:
    response = client.get("/poster/7")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg")
    assert client.get("/poster/987654").status_code == 404


# ---- recommendations and the spin -------------------------------------------------------------
def test_user_page_lists_picks_with_reasons(client: FlaskClient, bundle_path: Path) -> None:
    html = client.get(f"/user/{known_user(bundle_path)}").get_data(as_text=True)
    assert html.count('class="card"') == 12
    assert 'aria-label="Why this pick"' in html
    assert 'data-testid="spin-button"' in html


def test_genre_filter_keeps_only_that_genre(client: FlaskClient, bundle_path: Path) -> None:
    user = known_user(bundle_path)
    html = client.get(f"/user/{user}?genre=Comedy&k=5").get_data(as_text=True)
    genres = re.findall(r'<p class="genres">([^<]*)</p>', html)
    assert len(genres) == 5 and all("Comedy" in g for g in genres)
    assert client.get(f"/user/{user}?genre=Opera").status_code == 400
    assert client.get(f"/user/{user}?k=1000").status_code == 400


def test_an_unknown_user_gets_flagged_popular_picks(client: FlaskClient) -> None:
    html = client.get("/user/999999").get_data(as_text=True)
    assert 'data-testid="fallback-note"' in html and html.count('class="card"') == 12


def test_spin_draws_one_of_the_users_top_picks(client: FlaskClient, bundle_path: Path) -> None:
    user = known_user(bundle_path)
    top = client.get(f"/user/{user}?k=20").get_data(as_text=True)
    pool = {int(m) for m in re.findall(r'data-movie-id="(\d+)"', top)}
    for _ in range(3):
        got = client.get(f"/api/spin?user_id={user}").get_json()
        assert got["item"]["movie_id"] in pool
        assert got["item"]["url"] == f"/movie/{got['item']['movie_id']}"
    page = client.get(f"/user/{user}/spin").get_data(as_text=True)
    assert 'data-testid="spin-result"' in page and "Spin again" in page
    assert client.get("/api/spin").status_code == 400


def test_user_picker_redirects_and_checks_the_number(client: FlaskClient) -> None:
    assert client.get("/users/go?user_id=12").headers["Location"] == "/user/12"
    assert client.get("/users/go?user_id=abc").status_code == 400


# ---- newcomers and CSRF -----------------------------------------------------------------------
def test_newcomer_ratings_need_the_csrf_token(client: FlaskClient) -> None:
    client.get("/newcomer")
    refused = client.post("/newcomer", data={"rating-7": "5", "action": "done"})
    assert refused.status_code == 400 and "form expired" in refused.get_data(as_text=True)
    refused = client.post(
        "/newcomer", data={"rating-7": "5", "action": "done", "csrf_token": "forged"}
    )
    assert refused.status_code == 400


def test_newcomer_gets_picks_from_their_ratings_alone(client: FlaskClient) -> None:
    token = csrf_of(client, "/newcomer")
    form = client.get("/newcomer").get_data(as_text=True)
    rated = [int(m) for m in re.findall(r'name="rating-(\d+)"', form)][:3:]
    data = {f"rating-{m}": "5" for m in dict.fromkeys(rated)}
    response = client.post("/newcomer", data={**data, "action": "done", "csrf_token": token})
    assert (
        response.status_code == 302 and response.headers["Location"] == "/newcomer/recommendations"
    )
    html = client.get("/newcomer/recommendations").get_data(as_text=True)
    picks = [int(m) for m in re.findall(r'class="card" data-movie-id="(\d+)"', html)]
    assert len(picks) == 12 and not set(picks) & set(rated)
    assert "From your ratings" in html
    spun = client.get("/api/spin?newcomer=1").get_json()
    assert spun["item"]["movie_id"] not in rated


def test_newcomer_ratings_are_validated(client: FlaskClient) -> None:
    token = csrf_of(client, "/newcomer")
    for data in ({"rating-7": "9"}, {"rating-7": "x"}, {"rating-987654": "4"}):
        response = client.post("/newcomer", data={**data, "csrf_token": token})
        assert response.status_code == 400, data
    nothing = client.post("/newcomer", data={"rating-7": "0", "csrf_token": token})
    assert nothing.status_code == 400 and "at least one" in nothing.get_data(as_text=True)
    assert client.get("/newcomer/recommendations").status_code == 302


# ---- the model server is down ----------------------------------------------------------------
def test_server_down_keeps_search_and_movie_pages_working(
    down_client: FlaskClient, bundle_path: Path
) -> None:
    user_page = down_client.get(f"/user/{known_user(bundle_path)}")
    assert user_page.status_code == 200
    html = user_page.get_data(as_text=True)
    assert 'data-testid="server-down"' in html and "not reachable" in html
    movie = down_client.get("/movie/7").get_data(as_text=True)
    assert 'data-testid="server-down"' in movie and 'data-testid="movie-page"' in movie
    assert down_client.get("/api/suggest?q=the").get_json()["suggestions"]
    spin = down_client.get(f"/api/spin?user_id={known_user(bundle_path)}")
    assert spin.status_code == 503 and "not reachable" in spin.get_json()["error"]
    metrics = down_client.get("/metrics").get_data(as_text=True)
    assert 'movie_roulette_model_server_errors_total{kind="recommend",reason="connection"} 1.0' in (
        metrics
    )


# ---- operations and security -------------------------------------------------------------------
def test_healthz_reports_the_catalogue_and_optionally_the_server(
    client: FlaskClient, down_client: FlaskClient
) -> None:
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/healthz?deep=1").get_json()["model_server"] == "up"
    assert down_client.get("/healthz?deep=1").get_json()["model_server"] == "down"


def test_metrics_count_requests_per_route_with_latency(client: FlaskClient) -> None:
    client.get("/movie/7")
    client.get("/movie/8")
    client.get("/nope")
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'movie_roulette_http_requests_total{method="GET",route="/movie/<int:movie_id>",'
        'status="200"} 2.0' in text
    )
    assert 'route="<unmatched>",status="404"' in text
    assert (
        'movie_roulette_http_request_duration_seconds_bucket{le="0.5",method="GET",route="/movie/<int:movie_id>"}'
        in text
    )
    assert 'movie_roulette_model_server_request_duration_seconds_count{kind="similar"} 2.0' in text


def test_security_headers_are_set(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_reference_only_local_assets(client: FlaskClient, bundle_path: Path) -> None:
    for path in ("/", "/movie/7", f"/user/{known_user(bundle_path)}", "/newcomer"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//(?!www\.imdb\.com)', html), path


def test_metrics_series_do_not_grow_with_made_up_http_methods(client: FlaskClient) -> None:
    """Issue 15 #12: 200 random method names made 200 new series; labels are a closed set."""

    def series() -> set[str]:
        text = client.get("/metrics").get_data(as_text=True)
        return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line.startswith("movie_")}

    client.open("/", method="BREW")
    client.open("/nope/x", method="BREW")
    series()  # the /metrics route's own series
    before = series()
    assert 'method="other"' in "\n".join(before)
    for i in range(200):
        client.open("/", method=f"X{i}AB")
        client.open(f"/nope/{i}", method=f"Y{i}")
    assert series() == before  # 400 new method names, 0 new series (main: +400)


def test_server_call_labels_come_from_a_closed_set() -> None:
    from webapp.metrics import AppMetrics

    metrics = AppMetrics()
    for i in range(50):
        metrics.observe_server_call(f"kind{i}", 0.01, f"weird{i}")
    metrics.observe_server_call("spin", 0.01, "http_503")
    text = metrics.exposition().get_data(as_text=True)
    assert "kind1" not in text and "weird" not in text
    assert 'kind="other",reason="other"} 50.0' in text
    assert 'kind="spin",reason="http_503"} 1.0' in text


def test_a_spin_with_nothing_left_to_draw_shows_the_reason_not_a_502(
    client: FlaskClient, bundle_path: Path
) -> None:
    """A newcomer who rated every movie of a genre: /api/spin answered 502 with MLflow's
    "unexpected error" text (issue 15, item 9); now the reason, as the answer."""
    from movie_roulette import bundle

    catalogue = bundle.load(bundle_path).catalogue
    genres = catalogue["genres"].str.split("|")
    genre = genres.explode().value_counts().index[-1]
    members = catalogue[genres.apply(lambda gs: genre in gs)]["movie_id"]
    with client.session_transaction() as session:
        session["newcomer_ratings"] = {str(int(m)): 4.0 for m in members}
    answer = client.get(f"/api/spin?newcomer=1&genre={genre}")
    assert answer.status_code == 409
    assert f"no unseen movies in {genre}" in answer.get_json()["error"]
    page = client.get(f"/newcomer/spin?genre={genre}").get_data(as_text=True)
    assert f"no unseen movies in {genre}" in page


def test_oversized_form_bodies_are_refused_before_parsing(client: FlaskClient) -> None:
    """Flask parses an urlencoded body of any size; 5 MB or 100,000 fields reached the views."""
    import time

    started = time.perf_counter()
    huge = client.post(
        "/newcomer",
        data="rating-1=" + "5" * 5_000_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert huge.status_code == 413
    many = client.post(
        "/newcomer",
        data="&".join(f"rating-{i}=1" for i in range(20_000)),
        content_type="application/x-www-form-urlencoded",
    )
    assert many.status_code == 413
    assert time.perf_counter() - started < 1.0
