"""The picked user's feedback, logged durably before the page answers (webapp/feedback.py):
ratings given on a movie page and accepted roulette picks. Clicks through tracked links are
logged when the movie page opens (blueprints/browse.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, request, session, url_for

from webapp.blueprints.browse import movie_page
from webapp.feedback import parse_rating
from webapp.guards import feedback_user_required, form_movie_required, movie_required
from webapp.pages import route_tag, saved_or_not
from webapp.services import services

bp = Blueprint("feedback", __name__)


def _refuse_rating(message: str, movie_id: int) -> Any:
    """A refused rating: the movie page again, saying why (400)."""
    return movie_page(movie_id, rating_error=message, status=400)


@bp.post("/movie/<int:movie_id>/rate")
@movie_required
@feedback_user_required("rating", refuse=_refuse_rating)
def rate_movie(movie_id: int) -> Any:
    """The picked user's rating (0.5..5 in half stars), logged before the answer."""
    svc = services()
    user_id: int = g.feedback_user
    try:
        rating = parse_rating(request.form.get("rating"))
    except ValueError as err:
        svc.feedback.count("rating", "invalid")
        return movie_page(movie_id, rating_error=str(err), status=400)
    outcome = svc.feedback.record("rating", user_id, movie_id, rating=rating, **route_tag(user_id))
    title = svc.store.title_of(movie_id)
    saved_or_not(outcome, f"Saved: user {user_id} rated {title} {rating:g} ★.", "Your rating")
    return redirect(url_for("browse.movie", movie_id=movie_id), code=303)


@bp.post("/spin/accept")
@form_movie_required
@feedback_user_required("spin_accepted")
def accept_spin() -> Any:
    """The picked user accepts the roulette's latest pick ("I'll watch this")."""
    svc = services()
    movie_id: int = g.movie_id
    user_id: int = g.feedback_user
    spin = session.get("spin")
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
        **route_tag(user_id),
    )
    if outcome.saved:
        session.pop("spin", None)  # one acceptance per spin
    title = svc.store.title_of(movie_id)
    saved_or_not(outcome, f"Enjoy {title}! Saved: user {user_id} will watch it.", "Your choice")
    return redirect(url_for("browse.movie", movie_id=movie_id), code=303)
