"""A user's recommendations (through the user's experiment arm, with tracked links) and why."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from webapp.guards import ModelServerCall
from webapp.pages import (
    DEFAULT_K,
    MAX_K,
    answer_error,
    decorate,
    fallback_note,
    feedback_user,
    genre_arg,
    int_arg,
    remember_route,
    track,
)
from webapp.services import services

bp = Blueprint("picks", __name__)


@bp.get("/users/go")
def pick_user() -> Any:
    raw = request.args.get("user_id", "").strip()
    try:
        user_id = int(raw)
    except ValueError:
        abort(400, description=f"user_id: {raw[:20]!r} is not a user number.")
    if user_id < 0:
        abort(400, description="user_id: must be zero or positive.")
    return redirect(url_for("picks.user", user_id=user_id))


@bp.get("/user/<int:user_id>")
def user(user_id: int) -> str:
    svc = services()
    session["user_id"] = user_id
    genre = genre_arg()
    k = int_arg("k", DEFAULT_K, 1, MAX_K)
    items: list[dict[str, Any]] = []
    note = error_entry = None
    user_for_feedback = feedback_user()
    with ModelServerCall() as call:
        answer, route = svc.router.serve(
            user_for_feedback,
            "recommend",
            lambda client: client.recommend(user_id, k=k, genre=genre),
            shown=lambda answer: len(answer.get("items") or []),
        )
        remember_route(route, user_for_feedback)
        items = track(decorate(answer.get("items") or []), "recommendations", user_for_feedback)
        note = fallback_note(answer.get("fallback"), user_id)
        error_entry = answer_error(answer)
    return render_template(
        "recommendations.html",
        heading=f"Picks for user {user_id}",
        user_id=user_id,
        newcomer=False,
        known_user=svc.store.knows_user(user_id),
        feedback_user=user_for_feedback,
        items=items,
        note=note,
        server_error=call.error or error_entry,
        genre=genre,
        genres=svc.store.genres,
        k=k,
        spin_url=url_for("spin.spin_page", user_id=user_id, genre=genre),
        api_spin_url=url_for("spin.api_spin", user_id=user_id, genre=genre),
        filter_url=url_for("picks.user", user_id=user_id),
    )


@bp.get("/user/<int:user_id>/why")
def why(user_id: int) -> str:
    """Why these picks: each pick's score split by blend component (docs/model-card.md)."""
    svc = services()
    k = int_arg("k", DEFAULT_K, 1, MAX_K)
    items: list[dict[str, Any]] = []
    weights: dict[str, float] = {}
    error_entry = None
    with ModelServerCall() as call:
        answer = svc.client.explain(user_id, k=k)
        error_entry = answer_error(answer)
        weights = {str(n): float(w) for n, w in (answer.get("weights") or {}).items()}
        for item in decorate(answer.get("items") or []):
            raw = item.get("contributions") or {}
            parts = {str(n): float(v) for n, v in raw.items()} if isinstance(raw, dict) else {}
            score = item.get("score")
            score = float(score) if isinstance(score, int | float) else sum(parts.values())
            items.append({**item, "score": score, "parts": parts})
    scale = max((abs(v) for it in items for v in it["parts"].values()), default=1.0) or 1.0
    return render_template(
        "why.html",
        user_id=user_id,
        items=items,
        weights=weights,
        components=sorted({n for it in items for n in it["parts"]}),
        scale=scale,
        server_error=call.error or error_entry,
    )
