"""Guards of the web app's views, as decorators (like flaskr's `login_required`) and one context
manager for every call to the model server.

* `movie_required` / `form_movie_required`: the movie of the URL (404) or of the form's
  `movie_id` (400, the view finds it in `g.movie_id`) is in the catalogue.
* `feedback_user_required(kind, refuse)`: feedback is logged for the picked, known user only,
  with logging on; otherwise the view does not run, the refusal is counted for `kind` and
  `refuse(message, **view_args)` answers (by default a 400 naming what to do). The view finds
  the user in `g.feedback_user`.
* `newcomer_required`: a newcomer page without ratings in the session goes back to the rating
  page; the view finds them in `g.newcomer_ratings`.
* `ops_token_required`: operator pages exist only with MOVIE_ROULETTE_OPS_TOKEN set (404) and
  answer only with `?token=` equal to it (403).
* `ModelServerCall`: `with ModelServerCall() as call: ...` turns a model-server failure inside
  the block into the page's message (`call.error`), logged once; the rest of the page renders.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from flask import abort, g, redirect, request, url_for

from serving.client import ModelServerError
from webapp.pages import (
    LOGGING_OFF,
    NO_USER,
    feedback_user,
    newcomer_ratings,
    server_message,
)
from webapp.services import services

View = TypeVar("View", bound=Callable[..., Any])
Refusal = Callable[..., Any]


def _refuse_with_400(message: str, **_view_args: Any) -> Any:
    abort(400, description=message)


def movie_required(view: View) -> View:
    @functools.wraps(view)
    def guarded(**view_args: Any) -> Any:
        movie_id = view_args["movie_id"]
        if movie_id not in services().store:
            abort(404, description=f"There is no movie with id {movie_id} in the catalogue.")
        return view(**view_args)

    return guarded  # type: ignore[return-value]


def form_movie_required(view: View) -> View:
    @functools.wraps(view)
    def guarded(**view_args: Any) -> Any:
        raw = request.form.get("movie_id", "").strip()
        try:
            movie_id = int(raw)
        except ValueError:
            abort(400, description=f"movie_id: {raw[:20]!r} is not a movie id.")
        if movie_id not in services().store:
            abort(400, description=f"movie_id: movie {movie_id} is not in the catalogue.")
        g.movie_id = movie_id
        return view(**view_args)

    return guarded  # type: ignore[return-value]


def feedback_user_required(kind: str, refuse: Refusal = _refuse_with_400) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @functools.wraps(view)
        def guarded(**view_args: Any) -> Any:
            svc = services()
            if not svc.feedback.enabled:
                svc.feedback.count(kind, "disabled")
                return refuse(LOGGING_OFF, **view_args)
            user_id = feedback_user()
            if user_id is None:
                svc.feedback.count(kind, "invalid")
                return refuse(NO_USER, **view_args)
            g.feedback_user = user_id
            return view(**view_args)

        return guarded  # type: ignore[return-value]

    return decorator


def newcomer_required(view: View) -> View:
    @functools.wraps(view)
    def guarded(**view_args: Any) -> Any:
        ratings = newcomer_ratings()
        if not ratings:
            return redirect(url_for("newcomers.newcomer"))
        g.newcomer_ratings = ratings
        return view(**view_args)

    return guarded  # type: ignore[return-value]


def ops_token_required(view: View) -> View:
    @functools.wraps(view)
    def guarded(**view_args: Any) -> Any:
        token = services().config.ops_token
        if not token:
            abort(404)
        if not hmac.compare_digest(request.args.get("token", ""), token):
            abort(403, description="ops pages need ?token= with MOVIE_ROULETTE_OPS_TOKEN.")
        return view(**view_args)

    return guarded  # type: ignore[return-value]


class ModelServerCall:
    """`error`: the page's message when the model server could not answer, else None."""

    def __init__(self) -> None:
        self.error: str | None = None

    def __enter__(self) -> ModelServerCall:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if isinstance(err, ModelServerError):
            self.error = server_message(err)
            return True
        return False
