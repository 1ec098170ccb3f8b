"""The experiment record: durable JSON state beside the continuous store, one experiment at a time.

The file holds the running experiment (or none) and the finished ones, each with every decision
taken on it. It is replaced atomically (write to a temporary file, fsync, rename), so a crash
leaves either the old or the new state, never a half-written one.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from movie_roulette.exceptions import MovieRouletteError

PRODUCTION = "production"
CHALLENGER = "challenger"
ARMS = (PRODUCTION, CHALLENGER)
POLICIES = ("ab", "thompson")
STATE_FILE = "experiment.json"

Status = Literal["running", "promoted", "stopped"]


class ExperimentError(MovieRouletteError):
    """An experiment cannot be started/changed as asked; the message names the problem and fix."""


@dataclass(frozen=True)
class StoppingRule:
    """The group-sequential rule on the user-level z statistic (experiments/stats.py).

    At a look where the smaller arm has n impressions, its information fraction is
    t = min(1, n / max_impressions). Promote when z >= c / sqrt(t), stop (challenger worse) when
    z <= -c / sqrt(t), with c chosen so that a Brownian motion crosses c before t = 1 with
    probability `alpha` (c = Phi^-1(1 - alpha / 2)): the false promotion rate stays below
    `alpha` however often the rule is checked. No decision before both arms have
    min_impressions and min_users; stop undecided when the smaller arm reaches max_impressions
    or after max_days. The default max_impressions gives power >= 0.8 for the margin of
    docs/experiments.md at traffic 0.2 (`stats.required_impressions`, benchmarks/experiments.py).
    """

    min_impressions: int = 1000
    min_users: int = 200
    alpha: float = 0.025
    max_impressions: int = 15000
    max_days: float = 14.0

    def __post_init__(self) -> None:
        if self.min_impressions < 1:
            raise ExperimentError(f"min_impressions must be >= 1, got {self.min_impressions}.")
        if self.min_users < 2:
            raise ExperimentError(
                f"min_users must be >= 2 (the variance needs two users per arm), got "
                f"{self.min_users}."
            )
        if not 0.0 < self.alpha < 0.5:
            raise ExperimentError(
                f"alpha (the false promotion bound) must be in (0, 0.5), got {self.alpha}."
            )
        if self.max_impressions < self.min_impressions:
            raise ExperimentError(
                f"max_impressions {self.max_impressions} is below min_impressions "
                f"{self.min_impressions}; raise it."
            )
        if not self.max_days > 0:
            raise ExperimentError(f"max_days must be > 0, got {self.max_days}.")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoppingRule:
        """A stored rule. Rules recorded before the user-level statistics had p_promote /
        p_stop (posterior thresholds); they are read with today's alpha instead."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    model_name: str
    production_version: str
    challenger_version: str
    traffic: float  # the challenger's share of users (A/B) / its prior share (thompson)
    policy: str
    started_at: float
    rule: StoppingRule = field(default_factory=StoppingRule)
    status: Status = "running"
    ended_at: float | None = None
    end_reason: str | None = None
    decisions: tuple[dict[str, Any], ...] = ()
    challenger_url: str | None = None  # the challenger's model server, once deployed

    def version_of(self, arm: str) -> str:
        return self.production_version if arm == PRODUCTION else self.challenger_version

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["decisions"] = list(self.decisions)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Experiment:
        data = dict(data)
        data["rule"] = StoppingRule.from_dict(data.get("rule", {}))
        data["decisions"] = tuple(data.get("decisions", ()))
        return cls(**data)


def validate_start(
    production_version: str | None,
    challenger_version: str,
    traffic: float,
    policy: str,
    known_versions: Collection[str],
) -> None:
    """Raise ExperimentError naming the problem for an experiment that cannot start."""
    challenger = str(challenger_version)
    if production_version is None:
        raise ExperimentError(
            "there is no production model to test against; train and promote one first "
            "(python run_pipeline.py)."
        )
    if challenger not in {str(v) for v in known_versions}:
        shown = ", ".join(sorted({str(v) for v in known_versions}, key=_version_key)) or "none"
        raise ExperimentError(
            f"version {challenger!r} is not a registered version of this model (registered: "
            f"{shown}); pass --challenger with one of them."
        )
    if challenger == str(production_version):
        raise ExperimentError(
            f"version {challenger} is already production; the challenger must be another "
            "version (e.g. the staging one a non-promoted run leaves)."
        )
    if isinstance(traffic, bool) or not isinstance(traffic, int | float) or not 0 < traffic < 1:
        raise ExperimentError(
            f"traffic must be a share strictly between 0 and 1 (e.g. 0.2), got {traffic!r}."
        )
    if policy not in POLICIES:
        raise ExperimentError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}.")


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)


class ExperimentStore:
    """The experiment state file (`<state_dir>/experiment.json`)."""

    def __init__(self, state_dir: str | Path) -> None:
        self.path = Path(state_dir) / STATE_FILE

    # ---- reading ---------------------------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"running": None, "finished": []}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ExperimentError(
                f"{self.path} cannot be read ({err}); it is left untouched: fix or move it."
            ) from err
        if not isinstance(data, dict) or "finished" not in data:
            raise ExperimentError(f"{self.path} is not an experiment state file; move it away.")
        return data

    def running(self) -> Experiment | None:
        data = self._load()["running"]
        return Experiment.from_dict(data) if data else None

    def finished(self) -> list[Experiment]:
        return [Experiment.from_dict(d) for d in self._load()["finished"]]

    def find(self, experiment_id: str) -> Experiment | None:
        current = self.running()
        if current is not None and current.experiment_id == experiment_id:
            return current
        return next((e for e in self.finished() if e.experiment_id == experiment_id), None)

    # ---- writing ---------------------------------------------------------------------------
    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp-{os.getpid()}")
        with open(tmp, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def start(
        self,
        model_name: str,
        production_version: str | None,
        challenger_version: str,
        known_versions: Collection[str],
        traffic: float = 0.2,
        policy: str = "ab",
        rule: StoppingRule | None = None,
        now: float | None = None,
    ) -> Experiment:
        data = self._load()
        if data["running"]:
            current = Experiment.from_dict(data["running"])
            raise ExperimentError(
                f"experiment {current.experiment_id} (version {current.challenger_version} vs "
                f"{current.production_version}) is still running; one experiment at a time: "
                "stop it first (--experiment stop)."
            )
        validate_start(production_version, challenger_version, traffic, policy, known_versions)
        experiment = Experiment(
            experiment_id=secrets.token_hex(4),
            model_name=model_name,
            production_version=str(production_version),
            challenger_version=str(challenger_version),
            traffic=float(traffic),
            policy=policy,
            started_at=time.time() if now is None else now,
            rule=rule or StoppingRule(),
        )
        data["running"] = experiment.to_dict()
        self._save(data)
        return experiment

    def update(self, experiment: Experiment) -> None:
        """Save changes to the running experiment (its url, a recorded decision)."""
        data = self._load()
        if not data["running"] or data["running"]["experiment_id"] != experiment.experiment_id:
            raise ExperimentError(f"experiment {experiment.experiment_id} is not running.")
        data["running"] = experiment.to_dict()
        self._save(data)

    def record_decision(self, decision: dict[str, Any]) -> Experiment:
        current = self.require_running()
        updated = replace(current, decisions=(*current.decisions, decision))
        self.update(updated)
        return updated

    def require_running(self) -> Experiment:
        current = self.running()
        if current is None:
            raise ExperimentError(
                "no experiment is running; start one with --experiment start --challenger VERSION."
            )
        return current

    def end(self, status: Status, reason: str, now: float | None = None) -> Experiment:
        """Finish the running experiment (promoted or stopped) and keep it in the history."""
        if status not in ("promoted", "stopped"):
            raise ExperimentError(f"an experiment ends promoted or stopped, not {status!r}.")
        current = self.require_running()
        ended = replace(
            current,
            status=status,
            ended_at=time.time() if now is None else now,
            end_reason=reason,
        )
        data = self._load()
        data["running"] = None
        data["finished"].append(ended.to_dict())
        self._save(data)
        return ended
