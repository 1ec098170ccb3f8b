"""What the feature blueprints share: query-argument parsing, the picked user, movie cards from
model-server answers, tracked links and the experiment arm a user's latest answer came from."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, request, session, url_for

from movie_roulette.results import Fallback
from serving.client import ModelServerError, ModelServerUnavailable
from webapp.feedback import click_token
from webapp.security import csrf_token
from webapp.services import services

log = logging.getLogger(__name__)

SERVER_DOWN = (
    "The recommendation service is not reachable right now, so personal picks, similar movies "
    "and the roulette are paused. Search and movie pages still work — try again in a moment."
)
NO_USER = (
    "Pick your user on the home page first: ratings are saved for one of the users the model "
    "knows. (As a newcomer, rate movies on the “I'm new here” page instead.)"
)
LOGGING_OFF = "Feedback logging is switched off on this server, so nothing was saved."
MAX_QUERY = 200
DEFAULT_K = 12
MAX_K = 48
EXPERIMENT_KEY = "arm"  # the session's latest experiment route (never shown to the user)


def server_message(err: ModelServerError) -> str:
    """What a page says when the model server could not answer (the cause is logged)."""
    if isinstance(err, ModelServerUnavailable):
        log.warning("model server unavailable: %s", err)
        return SERVER_DOWN
    log.warning("model server rejected a request: %s", err)
    return f"The recommendation service could not answer this request ({err})."


def int_arg(name: str, default: int, low: int, high: int) -> int:
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


def genre_arg() -> str | None:
    genre = request.args.get("genre", "").strip()
    if not genre:
        return None
    known = services().store.genres
    if genre not in known:
        abort(400, description=f"genre: {genre[:40]!r} is not one of the catalogue's genres.")
    return genre


def decorate(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Model-server movie dicts, completed from the catalogue (title/year/genres if missing)."""
    store = services().store
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


def answer_error(answer: dict[str, Any]) -> str | None:
    """An error entry of an answer (unknown genre or movie) as a sentence, or None."""
    error = answer.get("error")
    if not error:
        return None
    log.info("model server answered with an error entry: %s", error)
    return f"The recommendation service could not answer this request ({error})."


def fallback_note(wire: object, user_id: int | None = None) -> str | None:
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


def session_user() -> int | None:
    user_id = session.get("user_id")
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None


def feedback_user() -> int | None:
    """The picked user whose feedback is logged: a known user, with feedback logging on."""
    svc = services()
    user_id = session_user()
    if user_id is None or not svc.feedback.enabled or not svc.store.knows_user(user_id):
        return None
    return user_id


def remember_route(route: Any, user_id: int | None) -> None:
    """Keep the arm that served this user's latest answer, for its outcome events."""
    if route is None:
        session.pop(EXPERIMENT_KEY, None)
    else:
        session[EXPERIMENT_KEY] = {**route.tag(), "user_id": user_id}


def route_tag(user_id: int) -> dict[str, Any]:
    """experiment_id, arm and model_version of the answer this user acted on ({} if none)."""
    tag = session.get(EXPERIMENT_KEY)
    if not isinstance(tag, dict) or tag.get("user_id") != user_id:
        return {}
    return {k: tag[k] for k in ("experiment_id", "arm", "model_version") if k in tag}


def track(items: list[dict[str, Any]], source: str, user_id: int | None) -> list[dict[str, Any]]:
    """Point movie links at a tracked URL (a click is logged when the movie page opens)."""
    if user_id is None:
        return items
    secret = csrf_token()
    for item in items:
        movie_id = int(item["movie_id"])
        item["url"] = url_for(
            "browse.movie",
            movie_id=movie_id,
            src=source,
            t=click_token(secret, user_id, movie_id, source),
        )
    return items


def saved_or_not(outcome: Any, saved: str, what: str) -> None:
    if outcome.saved:
        flash(saved, "saved")
    else:
        flash(f"{what} was not saved: {outcome.reason}. Please try again later.", "unsaved")


def newcomer_ratings() -> dict[int, float]:
    """The newcomer's ratings kept in the session {movie_id: stars}."""
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
