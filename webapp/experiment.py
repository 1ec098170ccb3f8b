"""Route each user to an experiment arm (production or challenger model server).

The running experiment is read from `<state dir>/experiment.json` (re-read when the file
changes). A/B: a user's arm is fixed by hashing; Thompson: each request draws from the arms'
posteriors (from the event log, refreshed every few seconds). Only users whose feedback is
logged (picked, known users) take part; everyone else is served by production.

Every request served under an experiment appends an `impression` event naming its arm and
model version. A challenger that cannot be reached: the request is served by production, and an
`experiment` event with action "fallback" is logged (counted in the status). The arm is never
shown to the user (only on /ops/experiment, behind the ops token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from movie_roulette.exceptions import MovieRouletteError
from movie_roulette.experiments.assignment import assign
from movie_roulette.experiments.outcomes import read_outcomes
from movie_roulette.experiments.record import (
    CHALLENGER,
    PRODUCTION,
    Experiment,
    ExperimentStore,
)
from movie_roulette.experiments.stats import posterior
from movie_roulette.monitoring.eventlog import EventLog, EventLogError
from serving.client import ModelServerClient, ModelServerUnavailable

log = logging.getLogger(__name__)
POSTERIOR_REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class Route:
    """The arm that served a request: attached to its outcome events."""

    experiment_id: str
    arm: str
    model_version: str

    def tag(self) -> dict[str, str]:
        return {
            "experiment_id": self.experiment_id,
            "arm": self.arm,
            "model_version": self.model_version,
        }


class ArmRouter:
    def __init__(
        self,
        state_dir: Path | None,
        event_log: Path | None,
        production: ModelServerClient,
        make_client: Callable[[str], ModelServerClient],
    ) -> None:
        self._store = ExperimentStore(state_dir) if state_dir is not None else None
        self._log = EventLog(event_log) if event_log is not None else None
        self.production = production
        self._make_client = make_client
        self._clients: dict[str, ModelServerClient] = {}
        self._cached: tuple[float, Experiment | None] = (-1.0, None)
        self._posteriors: tuple[float, str, dict[str, tuple[float, float]]] = (0.0, "", {})
        self._rng = np.random.default_rng()
        self._lock = threading.Lock()

    def experiment(self) -> Experiment | None:
        """The running experiment with a deployed challenger, or None (also for an unreadable
        state file: logged, and production serves everyone)."""
        if self._store is None or self._log is None:
            return None
        try:
            mtime = self._store.path.stat().st_mtime
        except OSError:
            return None
        if mtime != self._cached[0]:
            try:
                running = self._store.running()
            except MovieRouletteError as err:
                log.error("experiment state unreadable, production serves everyone: %s", err)
                running = None
            self._cached = (mtime, running)
        running = self._cached[1]
        return running if running is not None and running.challenger_url else None

    def _thompson_posteriors(self, experiment: Experiment) -> dict[str, tuple[float, float]]:
        stamp, exp_id, cached = self._posteriors
        if (
            exp_id == experiment.experiment_id
            and time.monotonic() - stamp < POSTERIOR_REFRESH_SECONDS
        ):
            return cached
        assert self._log is not None
        counts = read_outcomes(experiment, self._log.path).counts()
        fresh = {arm: (posterior(*c).alpha, posterior(*c).beta) for arm, c in counts.items()}
        self._posteriors = (time.monotonic(), experiment.experiment_id, fresh)
        return fresh

    def route_for(self, experiment: Experiment, user_id: int) -> str:
        if experiment.policy == "thompson":
            with self._lock:
                return assign(experiment, user_id, self._thompson_posteriors(experiment), self._rng)
        return assign(experiment, user_id)

    def _client(self, url: str) -> ModelServerClient:
        if url not in self._clients:
            self._clients[url] = self._make_client(url)
        return self._clients[url]

    def _append(self, event_type: str, data: dict[str, Any]) -> None:
        assert self._log is not None
        try:
            self._log.append(event_type, data)
        except (OSError, EventLogError) as err:  # never fail a page for the log
            log.error("could not log %s event to %s: %s", event_type, self._log.path, err)

    def serve(
        self,
        user_id: int | None,
        kind: str,
        call: Callable[[ModelServerClient], dict[str, Any]],
        shown: Callable[[dict[str, Any]], int] = lambda answer: 1,
    ) -> tuple[dict[str, Any], Route | None]:
        """Answer one request through the user's arm; (answer, the arm that served it)."""
        experiment = self.experiment() if user_id is not None else None
        if experiment is None or user_id is None:
            return call(self.production), None
        arm = self.route_for(experiment, user_id)
        if arm == CHALLENGER:
            assert experiment.challenger_url is not None
            try:
                answer = call(self._client(experiment.challenger_url))
            except ModelServerUnavailable as err:
                self._append(
                    "experiment",
                    {
                        "experiment_id": experiment.experiment_id,
                        "action": "fallback",
                        "user_id": user_id,
                        "kind": kind,
                        "model_version": experiment.challenger_version,
                        "error": str(err),
                    },
                )
                arm, answer = PRODUCTION, call(self.production)
        else:
            answer = call(self.production)
        route = Route(experiment.experiment_id, arm, experiment.version_of(arm))
        if not answer.get("error"):
            self._append(
                "impression",
                {**route.tag(), "user_id": user_id, "kind": kind, "shown": shown(answer)},
            )
        return answer, route

    def arm_of(self, user_id: int) -> dict[str, Any] | None:
        """For the ops page: the user's arm (A/B) or the policy (Thompson draws per request)."""
        experiment = self.experiment()
        if experiment is None:
            return None
        if experiment.policy == "thompson":
            arm = "drawn per request (Thompson)"
        else:
            arm = assign(experiment, user_id)
        return {"experiment": experiment, "arm": arm}
