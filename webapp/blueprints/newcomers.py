"""Newcomers: rate a few movies (kept in the session, never logged), then picks and spins
folded in from those ratings by the model server."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from webapp.blueprints.spin import render_spin
from webapp.guards import ModelServerCall, newcomer_required
from webapp.pages import (
    DEFAULT_K,
    MAX_K,
    answer_error,
    decorate,
    fallback_note,
    genre_arg,
    int_arg,
    newcomer_ratings,
)
from webapp.services import services

bp = Blueprint("newcomers", __name__)

MAX_NEWCOMER_RATINGS = 50
NEWCOMER_RATING_CHOICES = (1, 2, 3, 4, 5)


@bp.route("/newcomer", methods=["GET", "POST"])
def newcomer() -> Any:
    svc = services()
    page = int_arg("page", 0, 0, 50)
    ratings = newcomer_ratings()
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
            return redirect(url_for("newcomers.newcomer", page=page + 1))
        if not ratings:
            return render_template(
                "newcomer.html",
                movies=svc.store.starter_movies(n=12, page=page),
                ratings=ratings,
                rated=[],
                page=page,
                error="Rate at least one movie (three or more gives better picks).",
            ), 400
        return redirect(url_for("newcomers.newcomer_recommendations"))
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
    return redirect(url_for("newcomers.newcomer"))


@bp.get("/newcomer/recommendations")
@newcomer_required
def newcomer_recommendations() -> Any:
    svc = services()
    ratings: dict[int, float] = g.newcomer_ratings
    genre = genre_arg()
    k = int_arg("k", DEFAULT_K, 1, MAX_K)
    items: list[dict[str, Any]] = []
    note = error_entry = None
    with ModelServerCall() as call:
        answer = svc.client.recommend_from_ratings(ratings, k=k, genre=genre)
        items = decorate(answer.get("items") or [])
        note = fallback_note(answer.get("fallback"))
        error_entry = answer_error(answer)
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
        server_error=call.error or error_entry,
        genre=genre,
        genres=svc.store.genres,
        k=k,
        spin_url=url_for("newcomers.newcomer_spin_page", genre=genre),
        api_spin_url=url_for("spin.api_spin", newcomer=1, genre=genre),
        filter_url=url_for("newcomers.newcomer_recommendations"),
    )


@bp.get("/newcomer/spin")
@newcomer_required
def newcomer_spin_page() -> Any:
    return render_spin(
        None,
        g.newcomer_ratings,
        "newcomers.newcomer_spin_page",
        "newcomers.newcomer_recommendations",
    )
