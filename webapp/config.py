"""Web app settings: from keyword arguments, else environment variables, else defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SERVER_URL = "http://127.0.0.1:8000"  # where `make serve` deploys
DEFAULT_TMDB_IMAGE_BASE = "https://image.tmdb.org/t/p/w342"


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}={value!r}: expected one of 1/0, true/false, yes/no, on/off.")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError as err:
        raise ValueError(f"{name}={value!r}: expected a number of seconds.") from err
    if number <= 0:
        raise ValueError(f"{name}={value!r}: must be a positive number of seconds.")
    return number


@dataclass(frozen=True)
class AppConfig:
    """Everything the web app needs to run.

    bundle_path: a model bundle folder (its catalogue, reviews and known users are shown).
    server_url: the MLflow scoring server that answers recommend/similar/spin requests.
    remote_posters: fetch TMDB posters (server side, cached) when a movie has a poster_path;
        otherwise, or when TMDB cannot be reached, a generated placeholder is shown.
    event_log: the durable event log the feedback of picked users (clicks, ratings, accepted
        spins) is appended to; `python -m webapp` uses the pipeline config's
        `monitoring.batches.event_log_path`. None, or log_feedback=False, logs nothing.
    """

    bundle_path: Path
    server_url: str = DEFAULT_SERVER_URL
    server_timeout: float = 5.0
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    remote_posters: bool = True
    tmdb_image_base: str = DEFAULT_TMDB_IMAGE_BASE
    poster_cache_dir: Path | None = None
    poster_timeout: float = 3.0
    suggestions: int = 8
    event_log: Path | None = None
    log_feedback: bool = True
    testing: bool = False
    # online experiments (docs/experiments.md): where experiment.json lives (None = the event
    # log's folder, i.e. the continuous state dir), and the token of the /ops/experiment page
    # (None = the page is off)
    experiment_dir: Path | None = None
    ops_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not str(self.server_url).startswith(("http://", "https://")):
            raise ValueError(
                f"server_url: {self.server_url!r} is not an http(s) URL; set "
                "MOVIE_ROULETTE_SERVER_URL to e.g. http://127.0.0.1:8000."
            )
        if self.server_timeout <= 0:
            raise ValueError(f"server_timeout: {self.server_timeout} must be > 0 seconds.")
        if not 1 <= self.suggestions <= 50:
            raise ValueError(f"suggestions: {self.suggestions} is outside 1..50.")
        if self.event_log is not None and Path(self.event_log).is_dir():
            raise ValueError(
                f"event_log: {self.event_log} is a folder; give the path of the log file "
                "(e.g. .../events.jsonl)."
            )

    @property
    def feedback_log(self) -> Path | None:
        """Where feedback is logged, or None when feedback logging is off."""
        if not self.log_feedback or self.event_log is None:
            return None
        return Path(self.event_log).expanduser()

    @property
    def experiment_state_dir(self) -> Path | None:
        """The folder of experiment.json; None when feedback is not logged (no experiment can
        be measured without its outcome events)."""
        if self.feedback_log is None:
            return None
        return Path(self.experiment_dir or self.feedback_log.parent).expanduser()

    @classmethod
    def from_env(cls, bundle_path: str | Path | None = None, **overrides: object) -> AppConfig:
        """Read MOVIE_ROULETTE_* variables; explicit arguments win.

        MOVIE_ROULETTE_EVENT_LOG: the feedback log file; MOVIE_ROULETTE_LOG_FEEDBACK=0 turns
        feedback logging off.
        """
        path = bundle_path or os.environ.get("MOVIE_ROULETTE_BUNDLE")
        if not path:
            raise ValueError(
                "bundle_path: no model bundle given; pass --bundle PATH or set "
                "MOVIE_ROULETTE_BUNDLE (or run `make app`, which uses the production model)."
            )
        values: dict[str, object] = {
            "server_url": os.environ.get("MOVIE_ROULETTE_SERVER_URL") or DEFAULT_SERVER_URL,
            "server_timeout": _env_float("MOVIE_ROULETTE_SERVER_TIMEOUT", 5.0),
            "remote_posters": _env_flag("MOVIE_ROULETTE_REMOTE_POSTERS", True),
            "tmdb_image_base": os.environ.get("MOVIE_ROULETTE_TMDB_IMAGE_BASE")
            or DEFAULT_TMDB_IMAGE_BASE,
            "log_feedback": _env_flag("MOVIE_ROULETTE_LOG_FEEDBACK", True),
        }
        if os.environ.get("MOVIE_ROULETTE_EVENT_LOG", "").strip():
            values["event_log"] = Path(os.environ["MOVIE_ROULETTE_EVENT_LOG"].strip())
        if os.environ.get("MOVIE_ROULETTE_EXPERIMENT_DIR", "").strip():
            values["experiment_dir"] = Path(os.environ["MOVIE_ROULETTE_EXPERIMENT_DIR"].strip())
        if os.environ.get("MOVIE_ROULETTE_OPS_TOKEN", "").strip():
            values["ops_token"] = os.environ["MOVIE_ROULETTE_OPS_TOKEN"].strip()
        if os.environ.get("MOVIE_ROULETTE_SECRET_KEY"):
            values["secret_key"] = os.environ["MOVIE_ROULETTE_SECRET_KEY"]
        if os.environ.get("MOVIE_ROULETTE_POSTER_CACHE"):
            values["poster_cache_dir"] = Path(os.environ["MOVIE_ROULETTE_POSTER_CACHE"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(bundle_path=Path(path), **values)  # type: ignore[arg-type]
