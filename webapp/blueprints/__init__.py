"""The web app by feature, one blueprint each (flaskr's layout):

* `browse`: home, title search and autocomplete, movie pages (with the click of a tracked
  link), posters;
* `picks`: a user's recommendations and why;
* `spin`: the roulette, as a page and as JSON;
* `feedback`: a picked user's ratings and accepted spins, logged before the answer;
* `newcomers`: rating a few movies, and the picks and spins from them;
* `ops`: health, metrics and the operators' experiment page.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from webapp.blueprints import browse, feedback, newcomers, ops, picks, spin

BLUEPRINTS = (browse.bp, picks.bp, spin.bp, feedback.bp, newcomers.bp, ops.bp)


def register(app: Flask) -> None:
    """Every feature's blueprint, and the error pages (JSON under /api/)."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return jsonify({"error": err.description}), err.code
        return render_template("error.html", error=err), err.code
