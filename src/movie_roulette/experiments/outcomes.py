"""Per-arm outcomes of an experiment, read from the durable event log.

Every impression (a recommendation list or a spin shown through an arm) and every outcome
(click, accepted spin, rating) carries `experiment_id`, `arm` and `model_version`. An arm's
success count is, per user, min(clicks + accepted spins, impressions), so it never exceeds its
impressions; the statistics take the per-user pairs (assignment is sticky per user).
An outcome event naming an arm this experiment does not have,
or a version that is not that arm's, is counted in `unknown_arm`, never crashed on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from movie_roulette.experiments.record import ARMS, Experiment
from movie_roulette.monitoring.eventlog import Event, EventLog

OUTCOME_TYPES = ("click", "spin_accepted", "rating")


@dataclass
class ArmOutcomes:
    users: set[Any] = field(default_factory=set)
    impressions: int = 0
    recommendation_impressions: int = 0
    spin_impressions: int = 0
    clicks: int = 0
    spins_accepted: int = 0
    ratings: list[float] = field(default_factory=list)
    _per_user: dict[Any, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def successes(self) -> int:
        return sum(min(outcomes, shown) for shown, outcomes in self._per_user.values())

    def per_user(self) -> list[tuple[int, int]]:
        """(impressions, successes) of each user shown something by this arm: the unit of the
        statistics (assignment is sticky per user). Outcomes without an impression of the
        arm (e.g. logged before the log rolled) count for nothing."""
        pairs = self._per_user.values()
        return [(shown, min(outcomes, shown)) for shown, outcomes in pairs if shown]

    def summary(self) -> dict[str, Any]:
        return {
            "users": len(self.users),
            "impressions": self.impressions,
            "recommendation_impressions": self.recommendation_impressions,
            "spin_impressions": self.spin_impressions,
            "clicks": self.clicks,
            "spins_accepted": self.spins_accepted,
            "successes": self.successes,
            "click_through": self.clicks / self.recommendation_impressions
            if self.recommendation_impressions
            else None,
            "spin_acceptance": self.spins_accepted / self.spin_impressions
            if self.spin_impressions
            else None,
            "ratings": len(self.ratings),
            "mean_rating": sum(self.ratings) / len(self.ratings) if self.ratings else None,
        }


@dataclass
class ExperimentOutcomes:
    arms: dict[str, ArmOutcomes]
    unknown_arm: int = 0  # events of this experiment naming an unknown arm or wrong version
    fallbacks: int = 0  # challenger requests served by production (challenger down)
    damaged_lines: int = 0

    def counts(self) -> dict[str, tuple[int, int]]:
        """{arm: (successes, impressions)}: the Thompson router's Beta posteriors."""
        return {arm: (o.successes, o.impressions) for arm, o in self.arms.items()}

    def per_user(self) -> dict[str, list[tuple[int, int]]]:
        """{arm: [(impressions, successes) per user]}: the stopping rule's input."""
        return {arm: o.per_user() for arm, o in self.arms.items()}


def collect(experiment: Experiment, events: Iterable[Event]) -> ExperimentOutcomes:
    result = ExperimentOutcomes(arms={arm: ArmOutcomes() for arm in ARMS})
    for event in events:
        data = event.data
        if data.get("experiment_id") != experiment.experiment_id:
            continue
        if event.type == "experiment":
            result.fallbacks += data.get("action") == "fallback"
            continue
        if event.type != "impression" and event.type not in OUTCOME_TYPES:
            continue
        arm = data.get("arm")
        if arm not in ARMS or str(data.get("model_version")) != experiment.version_of(arm):
            result.unknown_arm += 1
            continue
        outcome = result.arms[arm]
        user = data.get("user_id")
        if user is not None:
            outcome.users.add(user)
        if event.type == "impression":
            outcome.impressions += 1
            if data.get("kind") == "spin":
                outcome.spin_impressions += 1
            else:
                outcome.recommendation_impressions += 1
            outcome._per_user[user][0] += 1
        elif event.type == "rating":
            outcome.ratings.append(float(data["rating"]))
        else:
            if event.type == "click":
                outcome.clicks += 1
            else:
                outcome.spins_accepted += 1
            outcome._per_user[user][1] += 1
    return result


def read_outcomes(experiment: Experiment, event_log: str | Path) -> ExperimentOutcomes:
    """The experiment's outcomes from the whole log, read in bounded chunks."""
    log = EventLog(event_log)
    events: list[Event] = []
    damaged = 0
    offset, line, more = 0, 1, True
    while more:
        chunk = log.read(offset, max_bytes=16 * 1024 * 1024, first_line=line)
        events.extend(
            e for e in chunk.events if e.data.get("experiment_id") == experiment.experiment_id
        )
        damaged += len(chunk.damaged)
        offset, line, more = chunk.end_offset, chunk.end_line, chunk.more
    result = collect(experiment, events)
    result.damaged_lines = damaged
    return result
