"""Browsing the catalogue: home, title search and autocomplete, movie pages and posters. Search
and movie pages work from the catalogue alone; a movie page's similar movies and predicted
rating come from the model server (a clear message when it is down)."""

from __future__ import annotations

import hmac
import time
from typing import Any

from flask import (
    Blueprint,
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

from webapp.feedback import (
    CLICK_DEDUP_SECONDS,
    CLICK_MEMORY,
    CLICK_SOURCES,
    RATING_CHOICES,
    click_token,
)
from webapp.guards import ModelServerCall
from webapp.pages import (
    MAX_QUERY,
    decorate,
    feedback_user,
    int_arg,
    log,
    route_tag,
    session_user,
    track,
)
from webapp.posters import placeholder_svg
from webapp.security import csrf_token
from webapp.services import services

bp = Blueprint("browse", __name__)

SIMILAR_K = 8
REVIEWS_SHOWN = 10


@bp.get("/")
def home() -> str:
    svc = services()
    popular = svc.store.starter_movies(n=8)
    return render_template(
        "home.html", user_ids=svc.store.user_ids, popular=popular, n_movies=len(svc.store)
    )


@bp.get("/search")
def search() -> Any:
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    if not query:
        return redirect(url_for("browse.home"))
    matches = services().index.suggest(query, limit=30)
    store = services().store
    results = [store.card(m.movie_id) for m in matches]
    return render_template("search.html", query=query, results=[r for r in results if r])


@bp.get("/api/suggest")
def api_suggest() -> Response:
    svc = services()
    query = request.args.get("q", "")[:MAX_QUERY]
    limit = int_arg("limit", svc.config.suggestions, 1, 20)
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
                "url": url_for("browse.movie", movie_id=match.movie_id),
            }
        )
    response = jsonify({"query": query, "suggestions": suggestions})
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.get("/movie/<int:movie_id>")
def movie(movie_id: int) -> Any:
    if "src" in request.args:  # a tracked link: log the click, then show the plain URL
        if movie_id not in services().store:
            abort(404, description=f"There is no movie with id {movie_id} in the catalogue.")
        _log_click(movie_id)  # a refresh of the plain URL logs nothing
        return redirect(url_for("browse.movie", movie_id=movie_id), code=303)
    return movie_page(movie_id)


def _log_click(movie_id: int) -> None:
    """Log the click of a tracked link, once per user and movie within CLICK_DEDUP_SECONDS."""
    svc = services()
    source = request.args.get("src", "")
    if source not in CLICK_SOURCES:
        return
    if not svc.feedback.enabled:
        svc.feedback.count("click", "disabled")
        return
    user_id = feedback_user()
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
    outcome = svc.feedback.record("click", user_id, movie_id, source=source, **route_tag(user_id))
    if outcome.saved:
        session["clicks"] = [*recent, [user_id, movie_id, now]][-CLICK_MEMORY:]
    else:
        flash(f"Opening this movie was not recorded: {outcome.reason}.", "unsaved")


def movie_page(movie_id: int, rating_error: str | None = None, status: int = 200) -> Any:
    """The movie page (also the answer to a refused rating: `rating_error`, `status` 400)."""
    svc = services()
    details = svc.store.movie(movie_id)
    if details is None:
        abort(404, description=f"There is no movie with id {movie_id} in the catalogue.")
    user_for_feedback = feedback_user()
    reviews = svc.store.reviews(movie_id)
    show_all = request.args.get("reviews") == "all"
    similar: list[dict[str, Any]] = []
    prediction = None
    with ModelServerCall() as call:
        answer = svc.client.similar(movie_id, k=SIMILAR_K)
        if answer.get("error"):
            log.info("similar for %s: %s", movie_id, answer["error"])
        similar = track(decorate(answer.get("items") or []), "similar", user_for_feedback)
        user_id = session.get("user_id")
        if isinstance(user_id, int):
            predicted = svc.client.predict(user_id, movie_id)
            if isinstance(predicted.get("prediction"), int | float):
                prediction = {"user_id": user_id, "value": float(predicted["prediction"])}
    return render_template(
        "movie.html",
        movie=details,
        reviews=reviews if show_all else reviews[:REVIEWS_SHOWN],
        n_reviews=len(reviews),
        show_all=show_all,
        sentiment=svc.store.sentiment(movie_id),
        similar=similar,
        server_error=call.error,
        prediction=prediction,
        feedback_enabled=svc.feedback.enabled,
        feedback_user=user_for_feedback,
        picked_user=session_user(),
        rating_choices=RATING_CHOICES,
        rating_error=rating_error,
    ), status


@bp.get("/poster/<int:movie_id>")
def poster(movie_id: int) -> Response:
    svc = services()
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
