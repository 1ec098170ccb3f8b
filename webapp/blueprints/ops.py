"""Operations: health (deep: the model server too), Prometheus metrics and, for operators with
the token, the running experiment and a user's arm."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from webapp.guards import ops_token_required
from webapp.pages import int_arg
from webapp.services import services

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    svc = services()
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
@ops_token_required
def ops_experiment() -> Any:
    """Operators only (MOVIE_ROULETTE_OPS_TOKEN): the running experiment and a user's arm."""
    svc = services()
    experiment = svc.router.experiment()
    if experiment is None:
        return jsonify({"experiment": None})
    out: dict[str, Any] = {"experiment": experiment.to_dict()}
    raw = request.args.get("user_id")
    if raw is not None:
        user_id = int_arg("user_id", -1, 0, 2**62)
        if user_id == -1:
            abort(400, description="user_id: must be a user id.")
        arm = svc.router.arm_of(user_id)
        out["user"] = {"user_id": user_id, "arm": arm["arm"] if arm else None}
    return jsonify(out)


@bp.get("/metrics")
def metrics() -> Response:
    return services().metrics.exposition()
