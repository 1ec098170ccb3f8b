"""Pages and JSON endpoints.

Pages that need the model server (recommendations, similar movies, the spin) show a clear
message when it is down; search and movie pages work from the catalogue alone.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from webapp.client import ModelServerError, ModelServerRejected, ModelServerUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("web", __name__)

SERVER_DOWN = (
    "The recommendation service is not reachable right now, so personal picks, similar movies "
    "and the roulette are paused. Search and movie pages still work — try again in a moment."
)
MAX_QUERY = 200
MAX_NEWCOMER_RATINGS = 50
RATING_CHOICES = (1, 2, 3, 4, 5)
DEFAULT_K = 12
MAX_K = 48
SIMILAR_K = 8
REVIEWS_SHOWN = 10


def _services() -> Any:
    from webapp.app import services

    return services()


def _server_message(err: ModelServerError) -> str:
    if isinstance(err, ModelServerUnavailable):
        log.warning("model server unavailable: %s", err)
        return SERVER_DOWN
    log.warning("model server rejected a request: %s", err)
    return f"The recommendation service could not answer this request ({err})."


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, description=f"{name}: {raw[:20]!r} is not a whole number.")
    if not low <= value <= high:
        abort(400, description=f"{name}: {value} is outside {low}..{high}.")
    return value


def _genre_arg() -> str | None:
    genre = request.args.get("genre", "").strip()
    if not genre:
        return None
    known = _services().store.genres
    if genre not in known:
        abort(400, description=f"genre: {genre[:40]!r} is not one of the catalogue's genres.")
    return genre


def _decorate(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Model-server movie dicts, completed from the catalogue (title/year/genres if missing)."""
    store = _services().store
    out = []
    for item in items:
        movie_id = item.get("movie_id")
        if not isinstance(movie_id, int):
            continue
        card = store.card(movie_id) or {}
        reasons = item.get("reasons") or []
        out.append(
            {
                **card,
                **{k: v for k, v in item.items() if v is not None},
                "reasons": [str(r) for r in reasons if r] if isinstance(reasons, list) else [],
            }
        )
    return out


def _answer_error(answer: dict[str, Any]) -> str | None:
    """An error entry of an answer (unknown genre or movie) as a sentence, or None."""
    error = answer.get("error")
    if not error:
        return None
    log.info("model server answered with an error entry: %s", error)
    return f"The recommendation service could not answer this request ({error})."


def _fallback_note(fallback: str | None, user_id: int | None = None) -> str | None:
    if not fallback:
        return None
    if fallback.startswith("cold_start"):
        who = f"user {user_id}" if user_id is not None else "you"
        return (
            f"We don't know {who}'s taste yet, so these are well-loved movies across genres. "
            "Rate a few movies to get personal picks."
        )
    if fallback.startswith("fold_in"):
        return "Picked from the movies you just rated."
    return None


# ---- home and search -----------------------------------------------------------------------
@bp.get("/")
def home() -> str:
    svc = _services()
    popular = svc.store.starter_movies(n=8)
    return render_template(
        "home.html", user_ids=svc.store.user_ids, popular=popular, n_movies=len(svc.store)
    )


@bp.get("/search")
def search() -> Any:
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    if not query:
        return redirect(url_for("web.home"))
    matches = _services().index.suggest(query, limit=30)
    store = _services().store
    results = [store.card(m.movie_id) for m in matches]
    return render_template("search.html", query=query, results=[r for r in results if r])


@bp.get("/api/suggest")
def api_suggest() -> Response:
    svc = _services()
    query = request.args.get("q", "")[:MAX_QUERY]
    limit = _int_arg("limit", svc.config.suggestions, 1, 20)
    matches = svc.index.suggest(query, limit=limit) if query.strip() else []
    suggestions = []
    for match in matches:
        card = svc.store.card(match.movie_id) or {}
        suggestions.append(
            {
                "movie_id": match.movie_id,
                "title": match.title,
                "year": match.year,
                "genres": card.get("genres", []),
                "url": url_for("web.movie", movie_id=match.movie_id),
            }
        )
    response = jsonify({"query": query, "suggestions": suggestions})
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


# ---- movie page -------------------------------------------------------------------------------
@bp.get("/movie/<int:movie_id>")
def movie(movie_id: int) -> str:
    svc = _services()
    details = svc.store.movie(movie_id)
    if details is None:
        abort(404, description=f"There is no movie with id {movie_id} in the catalogue.")
    reviews = svc.store.reviews(movie_id)
    show_all = request.args.get("reviews") == "all"
    similar: list[dict[str, Any]] = []
    server_error = None
    prediction = None
    try:
        answer = svc.client.similar(movie_id, k=SIMILAR_K)
        if answer.get("error"):
            log.info("similar for %s: %s", movie_id, answer["error"])
        similar = _decorate(answer.get("items") or [])
        user_id = session.get("user_id")
        if isinstance(user_id, int):
            predicted = svc.client.invoke(
                {"kind": "predict", "user_id": user_id, "movie_id": movie_id}
            )
            if isinstance(predicted.get("prediction"), int | float):
                prediction = {"user_id": user_id, "value": float(predicted["prediction"])}
    except ModelServerError as err:
        server_error = _server_message(err)
    return render_template(
        "movie.html",
        movie=details,
        reviews=reviews if show_all else reviews[:REVIEWS_SHOWN],
        n_reviews=len(reviews),
        show_all=show_all,
        sentiment=svc.store.sentiment(movie_id),
        similar=similar,
        server_error=server_error,
        prediction=prediction,
    )


@bp.get("/poster/<int:movie_id>")
def poster(movie_id: int) -> Response:
    from webapp.posters import placeholder_svg

    svc = _services()
    card = svc.store.card(movie_id)
    if card is None:
        abort(404)
    fetched = svc.posters.get(svc.store.poster_path(movie_id))
    if fetched is not None:
        data, mime = fetched
        response = Response(data, mimetype=mime)
    else:
        svg = placeholder_svg(card["title"], card["year"], card["genres"])
        response = Response(svg, mimetype="image/svg+xml")
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# ---- a user's recommendations and the spin ---------------------------------------------------
@bp.get("/users/go")
def pick_user() -> Any:
    raw = request.args.get("user_id", "").strip()
    try:
        user_id = int(raw)
    except ValueError:
        abort(400, description=f"user_id: {raw[:20]!r} is not a user number.")
    if user_id < 0:
        abort(400, description="user_id: must be zero or positive.")
    return redirect(url_for("web.user", user_id=user_id))


@bp.get("/user/<int:user_id>")
def user(user_id: int) -> str:
    svc = _services()
    session["user_id"] = user_id
    genre = _genre_arg()
    k = _int_arg("k", DEFAULT_K, 1, MAX_K)
    items: list[dict[str, Any]] = []
    note = server_error = None
    try:
        answer = svc.client.recommend(user_id, k=k, genre=genre)
        items = _decorate(answer.get("items") or [])
        note = _fallback_note(answer.get("fallback"), user_id)
        server_error = _answer_error(answer)
    except ModelServerError as err:
        server_error = _server_message(err)
    return render_template(
        "recommendations.html",
        heading=f"Picks for user {user_id}",
        user_id=user_id,
        newcomer=False,
        known_user=svc.store.knows_user(user_id),
        items=items,
        note=note,
        server_error=server_error,
        genre=genre,
        genres=svc.store.genres,
        k=k,
        spin_url=url_for("web.spin_page", user_id=user_id, genre=genre),
        api_spin_url=url_for("web.api_spin", user_id=user_id, genre=genre),
        filter_url=url_for("web.user", user_id=user_id),
    )


def _spin(user_id: int | None, ratings: dict[int, float] | None, genre: str | None) -> dict:
    svc = _services()
    seed = secrets.randbelow(2**31)
    answer = svc.client.spin(user_id=user_id, seed=seed, ratings=ratings, genre=genre)
    item = answer.get("item")
    if not isinstance(item, dict) or answer.get("error"):
        raise ModelServerRejected(str(answer.get("error") or "no movie was drawn"), 200)
    decorated = _decorate([item])
    if not decorated:
        raise ModelServerRejected("the drawn movie has no id", 200)
    movie = decorated[0]
    movie["url"] = url_for("web.movie", movie_id=movie["movie_id"])
    movie["poster"] = url_for("web.poster", movie_id=movie["movie_id"])
    return {
        "item": movie,
        "pool_size": answer.get("pool_size"),
        "seed": seed,
        "note": _fallback_note(answer.get("fallback"), user_id),
    }


@bp.get("/user/<int:user_id>/spin")
def spin_page(user_id: int) -> str:
    genre = _genre_arg()
    result = server_error = None
    try:
        result = _spin(user_id, None, genre)
    except ModelServerError as err:
        server_error = _server_message(err)
    return render_template(
        "spin.html",
        result=result,
        server_error=server_error,
        again_url=url_for("web.spin_page", user_id=user_id, genre=genre),
        back_url=url_for("web.user", user_id=user_id, genre=genre),
    )


@bp.get("/api/spin")
def api_spin() -> Any:
    genre = _genre_arg()
    newcomer = request.args.get("newcomer") == "1"
    ratings = _newcomer_ratings() if newcomer else None
    if newcomer and not ratings:
        return jsonify({"error": "Rate a few movies first."}), 400
    user_id = None if newcomer else _int_arg("user_id", -1, 0, 2**62)
    if user_id == -1:
        return jsonify({"error": "user_id: is required (or newcomer=1)."}), 400
    try:
        return jsonify(_spin(user_id, ratings, genre))
    except ModelServerUnavailable as err:
        return jsonify({"error": _server_message(err)}), 503
    except ModelServerRejected as err:
        return jsonify({"error": _server_message(err)}), 502


# ---- newcomers --------------------------------------------------------------------------------
def _newcomer_ratings() -> dict[int, float]:
    raw = session.get("newcomer_ratings")
    if not isinstance(raw, dict):
        return {}
    out = {}
    for key, value in raw.items():
        try:
            out[int(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


@bp.route("/newcomer", methods=["GET", "POST"])
def newcomer() -> Any:
    svc = _services()
    page = _int_arg("page", 0, 0, 50)
    ratings = _newcomer_ratings()
    if request.method == "POST":
        for key, value in request.form.items():
            if not key.startswith("rating-") or not value:
                continue
            try:
                movie_id, rating = int(key.removeprefix("rating-")), int(value)
            except ValueError:
                abort(400, description=f"{key[:30]}: {value[:10]!r} is not a rating.")
            if movie_id not in svc.store:
                abort(400, description=f"{key[:30]}: movie {movie_id} is not in the catalogue.")
            if value == "0":
                ratings.pop(movie_id, None)
                continue
            if rating not in RATING_CHOICES:
                abort(400, description=f"{key[:30]}: {rating} is not between 1 and 5 stars.")
            ratings[movie_id] = float(rating)
        ratings = dict(list(ratings.items())[-MAX_NEWCOMER_RATINGS:])
        session["newcomer_ratings"] = {str(m): r for m, r in ratings.items()}
        if request.form.get("action") == "more":
            return redirect(url_for("web.newcomer", page=page + 1))
        if not ratings:
            return render_template(
                "newcomer.html",
                movies=svc.store.starter_movies(n=12, page=page),
                ratings=ratings,
                rated=[],
                page=page,
                error="Rate at least one movie (three or more gives better picks).",
            ), 400
        return redirect(url_for("web.newcomer_recommendations"))
    rated = [c for m in ratings if (c := svc.store.card(m)) is not None]
    return render_template(
        "newcomer.html",
        movies=svc.store.starter_movies(n=12, page=page),
        ratings=ratings,
        rated=rated,
        page=page,
        error=None,
    )


@bp.post("/newcomer/reset")
def newcomer_reset() -> Any:
    session.pop("newcomer_ratings", None)
    return redirect(url_for("web.newcomer"))


@bp.get("/newcomer/recommendations")
def newcomer_recommendations() -> Any:
    svc = _services()
    ratings = _newcomer_ratings()
    if not ratings:
        return redirect(url_for("web.newcomer"))
    genre = _genre_arg()
    k = _int_arg("k", DEFAULT_K, 1, MAX_K)
    items: list[dict[str, Any]] = []
    note = server_error = None
    try:
        answer = svc.client.recommend_from_ratings(ratings, k=k, genre=genre)
        items = _decorate(answer.get("items") or [])
        note = _fallback_note(answer.get("fallback"))
        server_error = _answer_error(answer)
    except ModelServerError as err:
        server_error = _server_message(err)
    return render_template(
        "recommendations.html",
        heading="Your picks",
        user_id=None,
        newcomer=True,
        known_user=False,
        rated=[(c, ratings[c["movie_id"]]) for m in ratings if (c := svc.store.card(m))],
        items=items,
        note=note,
        server_error=server_error,
        genre=genre,
        genres=svc.store.genres,
        k=k,
        spin_url=url_for("web.newcomer_spin_page", genre=genre),
        api_spin_url=url_for("web.api_spin", newcomer=1, genre=genre),
        filter_url=url_for("web.newcomer_recommendations"),
    )


@bp.get("/newcomer/spin")
def newcomer_spin_page() -> Any:
    ratings = _newcomer_ratings()
    if not ratings:
        return redirect(url_for("web.newcomer"))
    genre = _genre_arg()
    result = server_error = None
    try:
        result = _spin(None, ratings, genre)
    except ModelServerError as err:
        server_error = _server_message(err)
    return render_template(
        "spin.html",
        result=result,
        server_error=server_error,
        again_url=url_for("web.newcomer_spin_page", genre=genre),
        back_url=url_for("web.newcomer_recommendations", genre=genre),
    )


# ---- operations ---------------------------------------------------------------------------------
@bp.get("/healthz")
def healthz() -> Response:
    svc = _services()
    server_up = svc.client.ping() if request.args.get("deep") == "1" else None
    return jsonify(
        {
            "status": "ok",
            "movies": len(svc.store),
            "known_users": len(svc.store.user_ids),
            "model_server": None if server_up is None else ("up" if server_up else "down"),
        }
    )


@bp.get("/metrics")
def metrics() -> Response:
    return _services().metrics.exposition()


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return jsonify({"error": err.description}), err.code
        return render_template("error.html", error=err), err.code
