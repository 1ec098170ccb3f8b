"""Pages and JSON endpoints.

Pages that need the model server (recommendations, similar movies, the spin) show a clear
message when it is down; search and movie pages work from the catalogue alone.

Feedback of the picked user (the session's `user_id`, set by the user picker, when the model
knows that user) is logged durably before the page answers: clicks through tracked movie links,
ratings given on a movie page, and accepted roulette picks (see webapp/feedback.py).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from movie_roulette.results import Fallback
from serving.client import ModelServerError, ModelServerRejected, ModelServerUnavailable
from webapp.feedback import (
    CLICK_DEDUP_SECONDS,
    CLICK_MEMORY,
    CLICK_SOURCES,
    RATING_CHOICES,
    click_token,
    parse_rating,
)
from webapp.security import csrf_token
from webapp.services import Services, services

log = logging.getLogger(__name__)
bp = Blueprint("web", __name__)

SERVER_DOWN = (
    "The recommendation service is not reachable right now, so personal picks, similar movies "
    "and the roulette are paused. Search and movie pages still work — try again in a moment."
)
MAX_QUERY = 200
MAX_NEWCOMER_RATINGS = 50
NEWCOMER_RATING_CHOICES = (1, 2, 3, 4, 5)
DEFAULT_K = 12
MAX_K = 48
SIMILAR_K = 8
REVIEWS_SHOWN = 10


def _services() -> Services:
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


def _fallback_note(wire: object, user_id: int | None = None) -> str | None:
    """The note shown above a list for the answer's `fallback` field (None: no note)."""
    fallback = Fallback.from_json(wire)
    if fallback is Fallback.COLD_START:
        who = f"user {user_id}" if user_id is not None else "you"
        return (
            f"We don't know {who}'s taste yet, so these are well-loved movies across genres. "
            "Rate a few movies to get personal picks."
        )
    if fallback is Fallback.FOLD_IN:
        return "Picked from the movies you just rated."
    return None


# ---- feedback of the picked user --------------------------------------------------------------
NO_USER = (
    "Pick your user on the home page first: ratings are saved for one of the users the model "
    "knows. (As a newcomer, rate movies on the “I'm new here” page instead.)"
)
LOGGING_OFF = "Feedback logging is switched off on this server, so nothing was saved."


def _session_user() -> int | None:
    user_id = session.get("user_id")
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None


def _feedback_user() -> int | None:
    """The picked user whose feedback is logged: a known user, with feedback logging on."""
    svc = _services()
    user_id = _session_user()
    if user_id is None or not svc.feedback.enabled or not svc.store.knows_user(user_id):
        return None
    return user_id


EXPERIMENT_KEY = "arm"  # the session's latest experiment route (never shown to the user)


def _remember_route(route: Any, user_id: int | None) -> None:
    """Keep the arm that served this user's latest answer, for its outcome events."""
    if route is None:
        session.pop(EXPERIMENT_KEY, None)
    else:
        session[EXPERIMENT_KEY] = {**route.tag(), "user_id": user_id}


def _route_tag(user_id: int) -> dict[str, Any]:
    """experiment_id, arm and model_version of the answer this user acted on ({} if none)."""
    tag = session.get(EXPERIMENT_KEY)
    if not isinstance(tag, dict) or tag.get("user_id") != user_id:
        return {}
    return {k: tag[k] for k in ("experiment_id", "arm", "model_version") if k in tag}


def _track(items: list[dict[str, Any]], source: str, user_id: int | None) -> list[dict[str, Any]]:
    """Point movie links at a tracked URL (a click is logged when the movie page opens)."""
    if user_id is None:
        return items
    secret = csrf_token()
    for item in items:
        movie_id = int(item["movie_id"])
        item["url"] = url_for(
            "web.movie",
            movie_id=movie_id,
            src=source,
            t=click_token(secret, user_id, movie_id, source),
        )
    return items


def _saved_or_not(outcome: Any, saved: str, what: str) -> None:
    if outcome.saved:
        flash(saved, "saved")
    else:
        flash(f"{what} was not saved: {outcome.reason}. Please try again later.", "unsaved")


def _log_click(movie_id: int) -> None:
    """Log the click of a tracked link, once per user and movie within CLICK_DEDUP_SECONDS."""
    svc = _services()
    source = request.args.get("src", "")
    if source not in CLICK_SOURCES:
        return
    if not svc.feedback.enabled:
        svc.feedback.count("click", "disabled")
        return
    user_id = _feedback_user()
    sent = request.args.get("t", "")
    if user_id is None or not hmac.compare_digest(
        sent, click_token(csrf_token(), user_id, movie_id, source)
    ):
        svc.feedback.count("click", "invalid")  # another session's link, a crawler, a copy
        return
    now = time.time()
    recent = [
        c
        for c in session.get("clicks") or []
        if isinstance(c, list) and len(c) == 3 and now - float(c[2]) < CLICK_DEDUP_SECONDS
    ]
    if any(c[0] == user_id and c[1] == movie_id for c in recent):
        svc.feedback.count("click", "duplicate")
        return
    outcome = svc.feedback.record("click", user_id, movie_id, source=source, **_route_tag(user_id))
    if outcome.saved:
        session["clicks"] = [*recent, [user_id, movie_id, now]][-CLICK_MEMORY:]
    else:
        flash(f"Opening this movie was not recorded: {outcome.reason}.", "unsaved")


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
def movie(movie_id: int) -> Any:
    if "src" in request.args:  # a tracked link: log the click, then show the plain URL
        if movie_id not in _services().store:
            abort(404, description=f"There is no movie with id {movie_id} in the catalogue.")
        _log_click(movie_id)  # a refresh of the plain URL logs nothing
        return redirect(url_for("web.movie", movie_id=movie_id), code=303)
    return _movie_page(movie_id)


def _movie_page(movie_id: int, rating_error: str | None = None, status: int = 200) -> Any:
    svc = _services()
    details = svc.store.movie(movie_id)
    if details is None:
        abort(404, description=f"There is no movie with id {movie_id} in the catalogue.")
    feedback_user = _feedback_user()
    reviews = svc.store.reviews(movie_id)
    show_all = request.args.get("reviews") == "all"
    similar: list[dict[str, Any]] = []
    server_error = None
    prediction = None
    try:
        answer = svc.client.similar(movie_id, k=SIMILAR_K)
        if answer.get("error"):
            log.info("similar for %s: %s", movie_id, answer["error"])
        similar = _track(_decorate(answer.get("items") or []), "similar", feedback_user)
        user_id = session.get("user_id")
        if isinstance(user_id, int):
            predicted = svc.client.predict(user_id, movie_id)
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
        feedback_enabled=svc.feedback.enabled,
        feedback_user=feedback_user,
        picked_user=_session_user(),
        rating_choices=RATING_CHOICES,
        rating_error=rating_error,
    ), status


@bp.post("/movie/<int:movie_id>/rate")
def rate_movie(movie_id: int) -> Any:
    """The picked user's rating (0.5..5 in half stars), logged before the answer."""
    svc = _services()
    if movie_id not in svc.store:
        abort(404, description=f"There is no movie with id {movie_id} in the catalogue.")
    if not svc.feedback.enabled:
        svc.feedback.count("rating", "disabled")
        return _movie_page(movie_id, rating_error=LOGGING_OFF, status=400)
    user_id = _feedback_user()
    if user_id is None:
        svc.feedback.count("rating", "invalid")
        return _movie_page(movie_id, rating_error=NO_USER, status=400)
    try:
        rating = parse_rating(request.form.get("rating"))
    except ValueError as err:
        svc.feedback.count("rating", "invalid")
        return _movie_page(movie_id, rating_error=str(err), status=400)
    outcome = svc.feedback.record("rating", user_id, movie_id, rating=rating, **_route_tag(user_id))
    title = svc.store.title_of(movie_id)
    _saved_or_not(outcome, f"Saved: user {user_id} rated {title} {rating:g} ★.", "Your rating")
    return redirect(url_for("web.movie", movie_id=movie_id), code=303)


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
    feedback_user = _feedback_user()
    try:
        answer, route = svc.router.serve(
            feedback_user,
            "recommend",
            lambda client: client.recommend(user_id, k=k, genre=genre),
            shown=lambda answer: len(answer.get("items") or []),
        )
        _remember_route(route, feedback_user)
        items = _track(_decorate(answer.get("items") or []), "recommendations", feedback_user)
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
        feedback_user=feedback_user,
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


@bp.get("/user/<int:user_id>/why")
def why(user_id: int) -> str:
    """Why these picks: each pick's score split by blend component (docs/model-card.md)."""
    svc = _services()
    k = _int_arg("k", DEFAULT_K, 1, MAX_K)
    items: list[dict[str, Any]] = []
    weights: dict[str, float] = {}
    server_error = None
    try:
        answer = svc.client.explain(user_id, k=k)
        server_error = _answer_error(answer)
        weights = {str(n): float(w) for n, w in (answer.get("weights") or {}).items()}
        for item in _decorate(answer.get("items") or []):
            raw = item.get("contributions") or {}
            parts = {str(n): float(v) for n, v in raw.items()} if isinstance(raw, dict) else {}
            score = item.get("score")
            score = float(score) if isinstance(score, int | float) else sum(parts.values())
            items.append({**item, "score": score, "parts": parts})
    except ModelServerError as err:
        server_error = _server_message(err)
    scale = max((abs(v) for it in items for v in it["parts"].values()), default=1.0) or 1.0
    return render_template(
        "why.html",
        user_id=user_id,
        items=items,
        weights=weights,
        components=sorted({n for it in items for n in it["parts"]}),
        scale=scale,
        server_error=server_error,
    )


def _spin(user_id: int | None, ratings: dict[int, float] | None, genre: str | None) -> dict:
    svc = _services()
    seed = secrets.randbelow(2**31)
    routed = user_id if user_id is not None and user_id == _feedback_user() else None
    answer, route = svc.router.serve(
        routed,
        "spin",
        lambda client: client.spin(user_id=user_id, seed=seed, ratings=ratings, genre=genre),
    )
    _remember_route(route, routed)
    item = answer.get("item")
    if not isinstance(item, dict) or answer.get("error"):
        raise ModelServerRejected(str(answer.get("error") or "no movie was drawn"), 200)
    decorated = _decorate([item])
    if not decorated:
        raise ModelServerRejected("the drawn movie has no id", 200)
    movie = decorated[0]
    movie["url"] = url_for("web.movie", movie_id=movie["movie_id"])
    movie["poster"] = url_for("web.poster", movie_id=movie["movie_id"])
    acceptable = user_id is not None and user_id == _feedback_user()
    if acceptable:
        # The pick the picked user may accept ("I'll watch this"), and a tracked link to it.
        _track([movie], "roulette", user_id)
        session["spin"] = {
            "user_id": user_id,
            "movie_id": int(movie["movie_id"]),
            "seed": seed,
            "genre": genre,
            "pool_size": answer.get("pool_size"),
        }
    return {
        "item": movie,
        "pool_size": answer.get("pool_size"),
        "seed": seed,
        "note": _fallback_note(answer.get("fallback"), user_id),
        "acceptable": acceptable,
    }


def _render_spin(
    person: int | None, ratings: dict[int, float] | None, again: str, back: str, **ids: Any
) -> str:
    """The roulette page for a user (`person`) or a newcomer (`ratings`); `again`/`back` are
    endpoint names, `ids` their URL arguments."""
    genre = _genre_arg()
    result = server_error = None
    try:
        result = _spin(person, ratings, genre)
    except ModelServerError as err:
        server_error = _server_message(err)
    return render_template(
        "spin.html",
        result=result,
        server_error=server_error,
        again_url=url_for(again, genre=genre, **ids),
        back_url=url_for(back, genre=genre, **ids),
    )


@bp.get("/user/<int:user_id>/spin")
def spin_page(user_id: int) -> str:
    return _render_spin(user_id, None, "web.spin_page", "web.user", user_id=user_id)


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
        # an error entry (status 200: "no unseen movies in Documentary") is the answer to
        # this request, shown as it is; a request the model server refused is a 502
        return jsonify({"error": _server_message(err)}), 409 if err.status == 200 else 502


@bp.post("/spin/accept")
def accept_spin() -> Any:
    """The picked user accepts the roulette's latest pick ("I'll watch this")."""
    svc = _services()
    raw = request.form.get("movie_id", "").strip()
    try:
        movie_id = int(raw)
    except ValueError:
        abort(400, description=f"movie_id: {raw[:20]!r} is not a movie id.")
    if movie_id not in svc.store:
        abort(400, description=f"movie_id: movie {movie_id} is not in the catalogue.")
    if not svc.feedback.enabled:
        svc.feedback.count("spin_accepted", "disabled")
        abort(400, description=LOGGING_OFF)
    user_id = _feedback_user()
    spin = session.get("spin")
    if user_id is None:
        svc.feedback.count("spin_accepted", "invalid")
        abort(400, description=NO_USER)
    if (
        not isinstance(spin, dict)
        or spin.get("user_id") != user_id
        or spin.get("movie_id") != movie_id
    ):
        svc.feedback.count("spin_accepted", "invalid")
        abort(
            400,
            description=f"Movie {movie_id} is not the roulette's latest pick for user {user_id}; "
            "spin again and accept the movie it lands on.",
        )
    outcome = svc.feedback.record(
        "spin_accepted",
        user_id,
        movie_id,
        seed=spin.get("seed"),
        genre=spin.get("genre"),
        pool_size=spin.get("pool_size"),
        **_route_tag(user_id),
    )
    if outcome.saved:
        session.pop("spin", None)  # one acceptance per spin
    title = svc.store.title_of(movie_id)
    _saved_or_not(outcome, f"Enjoy {title}! Saved: user {user_id} will watch it.", "Your choice")
    return redirect(url_for("web.movie", movie_id=movie_id), code=303)


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
            if rating not in NEWCOMER_RATING_CHOICES:
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
        feedback_user=None,
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
    return _render_spin(None, ratings, "web.newcomer_spin_page", "web.newcomer_recommendations")


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


@bp.get("/ops/experiment")
def ops_experiment() -> Any:
    """Operators only (MOVIE_ROULETTE_OPS_TOKEN): the running experiment and a user's arm."""
    svc = _services()
    token = svc.config.ops_token
    if not token:
        abort(404)
    if not hmac.compare_digest(request.args.get("token", ""), token):
        abort(403, description="ops pages need ?token= with MOVIE_ROULETTE_OPS_TOKEN.")
    experiment = svc.router.experiment()
    if experiment is None:
        return jsonify({"experiment": None})
    out: dict[str, Any] = {"experiment": experiment.to_dict()}
    raw = request.args.get("user_id")
    if raw is not None:
        user_id = _int_arg("user_id", -1, 0, 2**62)
        if user_id == -1:
            abort(400, description="user_id: must be a user id.")
        arm = svc.router.arm_of(user_id)
        out["user"] = {"user_id": user_id, "arm": arm["arm"] if arm else None}
    return jsonify(out)


@bp.get("/metrics")
def metrics() -> Response:
    return _services().metrics.exposition()


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return jsonify({"error": err.description}), err.code
        return render_template("error.html", error=err), err.code
