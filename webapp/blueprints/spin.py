"""The roulette: one movie drawn from a user's (or a newcomer's) top picks, as a page and as
JSON for the page's script. The picked user's draw can be accepted (blueprints/feedback.py)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, jsonify, render_template, request, session, url_for

from serving.client import ModelServerRejected, ModelServerUnavailable
from webapp.guards import ModelServerCall
from webapp.pages import (
    decorate,
    fallback_note,
    feedback_user,
    genre_arg,
    int_arg,
    log,
    newcomer_ratings,
    remember_route,
    server_message,
    track,
)
from webapp.services import services

bp = Blueprint("spin", __name__)


class NothingDrawn(Exception):
    """The model server answered the spin with an error entry ("no unseen movies in
    Documentary"): the answer to this request, not a failure of the server."""

    def page_message(self) -> str:
        log.info("model server answered a spin with an error entry: %s", self)
        return f"The recommendation service could not answer this request ({self})."


def draw(user_id: int | None, ratings: dict[int, float] | None, genre: str | None) -> dict:
    """One spin for a user or a newcomer's `ratings`: the drawn movie, its pool and seed, and
    whether the picked user may accept it. `NothingDrawn` for an error entry."""
    svc = services()
    seed = secrets.randbelow(2**31)
    routed = user_id if user_id is not None and user_id == feedback_user() else None
    answer, route = svc.router.serve(
        routed,
        "spin",
        lambda client: client.spin(user_id=user_id, seed=seed, ratings=ratings, genre=genre),
    )
    remember_route(route, routed)
    item = answer.get("item")
    if not isinstance(item, dict) or answer.get("error"):
        raise NothingDrawn(str(answer.get("error") or "no movie was drawn"))
    decorated = decorate([item])
    if not decorated:
        raise NothingDrawn("the drawn movie has no id")
    movie = decorated[0]
    movie["url"] = url_for("browse.movie", movie_id=movie["movie_id"])
    movie["poster"] = url_for("browse.poster", movie_id=movie["movie_id"])
    acceptable = user_id is not None and user_id == feedback_user()
    if acceptable:
        # The pick the picked user may accept ("I'll watch this"), and a tracked link to it.
        track([movie], "roulette", user_id)
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
        "note": fallback_note(answer.get("fallback"), user_id),
        "acceptable": acceptable,
    }


def render_spin(
    person: int | None, ratings: dict[int, float] | None, again: str, back: str, **ids: Any
) -> str:
    """The roulette page for a user (`person`) or a newcomer (`ratings`); `again`/`back` are
    endpoint names, `ids` their URL arguments."""
    genre = genre_arg()
    result = nothing = None
    with ModelServerCall() as call:
        try:
            result = draw(person, ratings, genre)
        except NothingDrawn as err:
            nothing = err.page_message()
    return render_template(
        "spin.html",
        result=result,
        server_error=call.error or nothing,
        again_url=url_for(again, genre=genre, **ids),
        back_url=url_for(back, genre=genre, **ids),
    )


@bp.get("/user/<int:user_id>/spin")
def spin_page(user_id: int) -> str:
    return render_spin(user_id, None, "spin.spin_page", "picks.user", user_id=user_id)


@bp.get("/api/spin")
def api_spin() -> Any:
    genre = genre_arg()
    newcomer = request.args.get("newcomer") == "1"
    ratings = newcomer_ratings() if newcomer else None
    if newcomer and not ratings:
        return jsonify({"error": "Rate a few movies first."}), 400
    user_id = None if newcomer else int_arg("user_id", -1, 0, 2**62)
    if user_id == -1:
        return jsonify({"error": "user_id: is required (or newcomer=1)."}), 400
    try:
        return jsonify(draw(user_id, ratings, genre))
    except NothingDrawn as err:  # the answer to this request, shown as it is
        return jsonify({"error": err.page_message()}), 409
    except ModelServerUnavailable as err:
        return jsonify({"error": server_message(err)}), 503
    except ModelServerRejected as err:  # a request the model server refused
        return jsonify({"error": server_message(err)}), 502
