"""Typed pipeline configuration loaded from YAML.

Unknown keys, missing required keys and wrong types raise `ConfigError` naming the key and the fix.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from movie_roulette.exceptions import ConfigError

DATA_DIR_ENV = "MOVIE_ROULETTE_DATA_DIR"


@dataclass(frozen=True)
class DemoConfig:
    n_movies: int = 400
    n_users: int = 300
    mean_ratings_per_user: int = 90
    n_reviews: int = 3000
    # Share of the generated ratings held back (a seeded random sample, so drawn from the
    # training distribution) and replayed later by the continuous-training pipeline.
    holdout_fraction: float = 0.0


@dataclass(frozen=True)
class DataConfig:
    source: Literal["demo", "movielens"] = "demo"
    # Folder laid out like ../shared/data (ml-latest-small/, imdb-5000/, tmdb-top10k/).
    # Falls back to $MOVIE_ROULETTE_DATA_DIR, then to the download cache.
    data_dir: str | None = None
    download: bool = True  # download the MovieLens release from GroupLens when it is absent
    # which GroupLens archive "movielens" means (the folder name under data_dir / the cache)
    movielens_release: Literal["ml-latest-small", "ml-25m", "ml-32m"] = "ml-latest-small"
    use_imdb: bool = True
    use_tmdb: bool = True
    min_join_coverage: float = 0.5  # share of ratings whose movie has content metadata
    # ISO date/time (UTC): MovieLens ratings at or after it are held back from training and
    # replayed in time order by the continuous-training pipeline. None = use every rating.
    replay_from: str | None = None
    demo: DemoConfig = field(default_factory=DemoConfig)


@dataclass(frozen=True)
class SplitConfig:
    strategy: Literal["per_user", "per_user_time", "time"] = "per_user"
    test_fraction: float = 0.2
    valid_fraction: float = 0.2  # share of each user's remaining ratings used to tune the blend
    min_user_ratings: int = 5  # users with fewer ratings stay entirely in train


@dataclass(frozen=True)
class SVDConfig:
    n_factors: int = 100
    n_epochs: int = 30
    lr_all: float = 0.007
    reg_all: float = 0.05


@dataclass(frozen=True)
class ContentConfig:
    like_threshold: float = 4.0
    max_features: int = 20000
    n_neighbours: int = 30  # content kNN neighbours for the content rating predictor


@dataclass(frozen=True)
class ImplicitConfig:
    l2: float = 300.0
    min_item_ratings: int = 2  # EASE / item-kNN only model movies with at least this many ratings
    min_rating: float | None = None  # EASE positives: None = every rating counts as an interaction
    knn_neighbours: int = 100  # item-kNN neighbours per movie (ranking)
    # extra EASE components of the hybrid (same l2 / min_item_ratings):
    liked_min_rating: float | None = 4.0  # "ease_liked": EASE on ratings >= this; None = off
    centered_ease: bool = True  # "ease_centered": EASE on 1 + rating - user mean
    # EASE models only the N movies with the most interactions (its cost is N^2 memory and
    # N^3 time); the others are left to the other components. None = every movie.
    ease_max_items: int | None = None
    # sparse item-kNN: a user with more interactions adds a seeded sample of this many to the
    # similarities (keeps the cost linear in the ratings); None = all
    knn_max_user_items: int | None = 500


@dataclass(frozen=True)
class ALSConfig:
    """Implicit-feedback ALS (the `implicit` package), float32."""

    factors: int = 64
    regularization: float = 0.05
    alpha: float = 2.0  # confidence of an interaction = alpha * its value
    iterations: int = 15
    min_rating: float | None = None  # positives: None = every rating is an interaction


@dataclass(frozen=True)
class ModelConfig:
    svd: SVDConfig = field(default_factory=SVDConfig)
    content: ContentConfig = field(default_factory=ContentConfig)
    implicit: ImplicitConfig = field(default_factory=ImplicitConfig)
    als: ALSConfig = field(default_factory=ALSConfig)
    refit_on_train_and_valid: bool = True
    # memory a component may plan to use (GB); a fit estimated to need more stops before it
    # starts, naming the setting to change. None = the machine's physical memory.
    memory_budget_gb: float | None = None
    # the hybrid's components: "dense" (EASE x3, dense item-kNN, SVD, content, popularity: best on
    # small catalogues) or "scalable" (ALS, sparse item-kNN, EASE capped at
    # implicit.ease_max_items, SVD unless use_svd is false, content, popularity; docs/scale.md)
    component_set: Literal["dense", "scalable"] = "dense"
    use_svd: bool = True  # scalable set: surprise SVD holds ~400 bytes a rating while fitting
    # blend-weight search and rating stack: a seeded sample of this many validation users
    # (None = all); the search scores each user's candidate set (union of the components' top)
    tune_max_users: int | None = 2000


@dataclass(frozen=True)
class EvaluationConfig:
    k: int = 10
    relevance_threshold: float = 4.0


@dataclass(frozen=True)
class PromotionConfig:
    primary_metric: str = "ndcg@10"
    higher_is_better: bool = True
    min_improvement: float = 0.0
    # fewer test users (with a relevant movie) compared than this: no promotion, with the reason
    min_users: int = 20


# figures of a user group the audit reports and the promotion gate can guard
AUDIT_METRICS = ("ndcg", "recall", "coverage", "long_tail_share", "pop_lift", "miscalibration")


@dataclass(frozen=True)
class GateRule:
    """Block promotion when the candidate's `metric` on `group` is worse than production's by
    more than `max_drop` (absolute). group: "all", "worst" (the worst large-enough group, each
    model's own), or "<dimension>:<name>" such as "activity:light" or "mainstream:niche"."""

    metric: str = "ndcg"
    group: str = "worst"
    max_drop: float = 0.05


@dataclass(frozen=True)
class AuditConfig:
    """The model card (docs/model-card.md): bias audit, explainability, promotion gate."""

    enabled: bool = True
    min_group_users: int = 20  # smaller user groups are reported as too small
    long_tail_share: float = 0.8  # the least-rated share of movies that is the long tail
    explain_users: int = 20  # users whose top-k is decomposed and counterfactually checked
    counterfactual_candidates: int = 10  # liked movies removed besides the cited one
    max_users: int | None = None  # audit a seeded sample of test users (None = all)
    users_table: str | None = None  # optional CSV: user_id + age_group/age/gender/occupation
    # only a guard on the worst group's NDCG by default; [] switches the gate off
    gate: list[GateRule] = field(default_factory=lambda: [GateRule()])


LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class ServingConfig:
    """Where the deployed model server listens (ZenML's MLflow deployer binds loopback only)."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    start_timeout_seconds: int = 180
    # At start-up, each worker computes the most active known users' answers for this long
    # before it answers (0 = off); the start timeout must leave room for it.
    warm_seconds: float = 30.0
    # uvicorn's line per request in the server log (requests are in the event log already;
    # the access log grows without bound and costs the server CPU on every request)
    access_log: bool = False
    deploy: bool = True  # training: deploy the version that was just promoted
    log_requests: bool = True  # append every request to the event log (continuous.event_log)
    # request limits (docs/operations.md): bigger bodies and batches are refused with HTTP 413
    max_body_bytes: int = 1_048_576
    max_rows: int = 100  # request rows per POST /invocations


@dataclass(frozen=True)
class ContinuousConfig:
    """The continuous-training pipeline (drift check, retraining decision, batch sources)."""

    # Where consumed batches, source cursors and model->data records live;
    # None = <cache dir>/continuous/<model_name> (the cache dir: $MOVIE_ROULETTE_CACHE_DIR).
    state_dir: str | None = None
    # replay: ratings the data section holds back (data.replay_from, data.demo.holdout_fraction)
    # generated: demo ratings drawn with shifted tastes (taste_shift, new_user_share)
    # event_log: rating/click/spin feedback logged by the web app and the model server
    source: Literal["replay", "generated", "event_log"] = "replay"
    batch_size: int = 2000  # ratings per replayed/generated batch
    event_log: str | None = None  # None = <state_dir>/events.jsonl
    taste_shift: float = 0.0  # generated: move every taste this far towards rare genres
    new_user_share: float = 0.0  # generated: share of ratings from new users
    drift_share_threshold: float = 0.5  # retrain when this share of feature columns drifted
    min_drift_rows: int = 200  # smaller batches get a drift report but drift is no trigger
    min_new_interactions: int = 5000  # ... or when this many new interactions arrived
    max_reference_rows: int = 50000  # the drift reference is sampled down to this many rows
    fresh_test_fraction: float = 0.3  # share of each user's new ratings held out as fresh test
    force: bool = False  # retrain whatever the drift and counts say (CLI: --force)


@dataclass(frozen=True)
class HttpConfig:
    """Resilience settings shared by the live sources."""

    timeout_s: float = 10.0  # connect + read timeout of one request
    max_retries: int = 4  # retries of one request on 429, 5xx, timeouts and connection errors
    backoff_s: float = 0.5  # first retry wait; doubles on every retry (capped at max_backoff_s)
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0  # a longer Retry-After fails the request instead of waiting
    request_budget: int = 2000  # network requests per run (cache hits are free)
    rate_limit_per_s: float = 20.0  # at most this many requests per second (0 = unlimited)


@dataclass(frozen=True)
class TMDBApiConfig:
    enabled: bool = False
    base_url: str = "https://api.themoviedb.org/3"
    # The key is read from the environment variable named here, or from a file holding only
    # the key. Never put the key itself in a config: configs are logged as run parameters.
    api_key_env: str = "TMDB_API_KEY"
    api_key_file: str | None = None
    language: str = "en-US"
    limit: int | None = 200  # most popular catalogue movies to fetch (None = all with a TMDB id)
    tmdb_ids: list[int] = field(default_factory=list)  # a fixed subset instead (catalogue movies)
    parts: list[str] = field(default_factory=lambda: ["details", "credits", "keywords", "reviews"])
    max_failure_share: float = 0.2  # the step fails when more movies than this share fail
    cache_dir: str | None = None  # default: <cache dir>/tmdb-api
    http: HttpConfig = field(default_factory=HttpConfig)


@dataclass(frozen=True)
class IMDbReviewsConfig:
    enabled: bool = False
    base_url: str = "https://www.imdb.com"
    limit: int | None = 100  # most popular catalogue movies with an IMDb id to scrape
    imdb_ids: list[str] = field(default_factory=list)  # a fixed subset instead ("tt1213663")
    max_pages: int = 1  # review pages per movie
    delay_s: float = 2.0  # polite pause between two requests to the site
    user_agent: str = "movie-roulette/0.1 (open-source movie recommender research; polite scraper)"
    max_failure_share: float = 0.2
    cache_dir: str | None = None  # default: <cache dir>/imdb-reviews
    http: HttpConfig = field(default_factory=lambda: HttpConfig(rate_limit_per_s=0.5))


@dataclass(frozen=True)
class SourcesConfig:
    """Live sources, both off by default (they need the network; TMDB also needs a key)."""

    tmdb_api: TMDBApiConfig = field(default_factory=TMDBApiConfig)
    imdb_reviews: IMDbReviewsConfig = field(default_factory=IMDbReviewsConfig)


@dataclass(frozen=True)
class SentimentConfig:
    """Review sentiment: a TF-IDF + logistic-regression model trained on labelled sentences."""

    enabled: bool = False
    # Training sets: "rt-polarity", "si650", "imdb_labelled", "demo-reviews" (labels from the
    # generated reviews' ratings). Each is split into train/valid/held-out test parts.
    train_datasets: list[str] = field(default_factory=lambda: ["rt-polarity", "si650"])
    # Evaluated in full (never trained on).
    eval_datasets: list[str] = field(default_factory=lambda: ["imdb_labelled"])
    data_dir: str | None = None  # folder with rt-polaritydata/ ...; default: data.data_dir
    heldout_fraction: float = 0.2
    valid_fraction: float = 0.15
    c_grid: list[float] = field(default_factory=lambda: [1.0, 3.0, 10.0, 30.0])
    prior_strength: float = 5.0  # pseudo-reviews pulling a movie's share to the global share
    use_in_hybrid: bool = True  # add the per-movie signal to the hybrid (weight tuned on valid)


@dataclass(frozen=True)
class PipelineConfig:
    seed: int = 42
    model_name: str = "movie_roulette"
    experiment_name: str = "movie_roulette_training"
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    continuous: ContinuousConfig = field(default_factory=ContinuousConfig)
    serving: ServingConfig = field(default_factory=ServingConfig)
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    sentiment: SentimentConfig = field(default_factory=SentimentConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_type(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        allowed = typing.get_args(annotation)
        if value not in allowed:
            raise ConfigError(
                f"{where}: {value!r} is not one of {list(allowed)}; pick one of them."
            )
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check_type(value, arg, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}.")
        (item,) = typing.get_args(annotation) or (Any,)
        return [_check_type(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(annotation):
        return _build(annotation, value, where)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}.")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}.")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}.")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}.")
        return value
    return value


def _build(cls: type, raw: Any, where: str) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping of keys, got {raw!r}.")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(
            f"{where or 'config'}: unknown key(s) {unknown}; allowed keys are {sorted(names)}."
        )
    kwargs = {}
    for key, value in raw.items():
        kwargs[key] = _check_type(value, hints[key], f"{where}.{key}" if where else key)
    return cls(**kwargs)


def config_from_dict(raw: dict[str, Any] | None) -> PipelineConfig:
    cfg = _build(PipelineConfig, raw or {}, "")
    _check_ranges(cfg)
    return cfg


def _check_ranges(cfg: PipelineConfig) -> None:
    for name, value in (
        ("split.test_fraction", cfg.split.test_fraction),
        ("split.valid_fraction", cfg.split.valid_fraction),
        ("data.min_join_coverage", cfg.data.min_join_coverage),
        ("data.demo.holdout_fraction", cfg.data.demo.holdout_fraction),
        ("continuous.fresh_test_fraction", cfg.continuous.fresh_test_fraction),
    ):
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"{name}: {value} must be in [0, 1).")
    for name, value in (
        ("sources.tmdb_api.max_failure_share", cfg.sources.tmdb_api.max_failure_share),
        ("sources.imdb_reviews.max_failure_share", cfg.sources.imdb_reviews.max_failure_share),
    ):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{name}: {value} must be in [0, 1].")
    for name, value in (
        ("sentiment.heldout_fraction", cfg.sentiment.heldout_fraction),
        ("sentiment.valid_fraction", cfg.sentiment.valid_fraction),
    ):
        if not 0.0 < value < 1.0:
            raise ConfigError(f"{name}: {value} must be in (0, 1).")
    if cfg.sentiment.enabled and not cfg.sentiment.train_datasets:
        raise ConfigError("sentiment.train_datasets: name at least one labelled dataset.")
    if not cfg.sentiment.c_grid or any(c <= 0 for c in cfg.sentiment.c_grid):
        raise ConfigError("sentiment.c_grid: give one or more positive numbers.")
    if cfg.sources.imdb_reviews.max_pages < 1:
        raise ConfigError("sources.imdb_reviews.max_pages: must be at least 1.")
    for where, http in (
        ("sources.tmdb_api.http", cfg.sources.tmdb_api.http),
        ("sources.imdb_reviews.http", cfg.sources.imdb_reviews.http),
    ):
        if http.timeout_s <= 0 or http.max_retries < 0 or http.request_budget < 0:
            raise ConfigError(
                f"{where}: timeout_s must be > 0, max_retries and request_budget >= 0."
            )
    if cfg.promotion.min_users < 1:
        raise ConfigError(f"promotion.min_users: {cfg.promotion.min_users} must be at least 1.")
    check_audit(cfg.audit)
    if cfg.evaluation.k < 1:
        raise ConfigError(f"evaluation.k: {cfg.evaluation.k} must be at least 1.")
    imp, als = cfg.model.implicit, cfg.model.als
    for name, value in (
        ("model.implicit.ease_max_items", imp.ease_max_items),
        ("model.implicit.knn_max_user_items", imp.knn_max_user_items),
        ("model.als.factors", als.factors),
        ("model.als.iterations", als.iterations),
        ("model.tune_max_users", cfg.model.tune_max_users),
    ):
        if value is not None and value < 1:
            raise ConfigError(f"{name}: {value} must be at least 1 (or null where allowed).")
    budget = cfg.model.memory_budget_gb
    if budget is not None and budget <= 0:
        raise ConfigError(f"model.memory_budget_gb: {budget} must be > 0 (or null).")
    ct = cfg.continuous
    for name, value in (
        ("continuous.taste_shift", ct.taste_shift),
        ("continuous.new_user_share", ct.new_user_share),
    ):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{name}: {value} must be in [0, 1].")
    if not 0.0 < ct.drift_share_threshold <= 1.0:
        raise ConfigError(
            f"continuous.drift_share_threshold: {ct.drift_share_threshold} must be in (0, 1]."
        )
    for name, value in (
        ("continuous.batch_size", ct.batch_size),
        ("continuous.min_new_interactions", ct.min_new_interactions),
        ("continuous.max_reference_rows", ct.max_reference_rows),
    ):
        if value < 1:
            raise ConfigError(f"{name}: {value} must be at least 1.")
    if cfg.data.replay_from is not None:
        from datetime import datetime

        try:
            datetime.fromisoformat(cfg.data.replay_from)
        except ValueError as err:
            raise ConfigError(
                f"data.replay_from: {cfg.data.replay_from!r} is not an ISO date such as 2017-01-01."
            ) from err
    check_serving(cfg.serving)


def check_audit(audit: AuditConfig) -> None:
    if audit.min_group_users < 1:
        raise ConfigError(f"audit.min_group_users: {audit.min_group_users} must be at least 1.")
    if not 0.0 < audit.long_tail_share < 1.0:
        raise ConfigError(f"audit.long_tail_share: {audit.long_tail_share} must be in (0, 1).")
    for name in ("explain_users", "counterfactual_candidates"):
        if getattr(audit, name) < 0:
            raise ConfigError(f"audit.{name}: {getattr(audit, name)} must be at least 0.")
    if audit.max_users is not None and audit.max_users < 1:
        raise ConfigError(f"audit.max_users: {audit.max_users} must be at least 1, or null.")
    for i, rule in enumerate(audit.gate):
        where = f"audit.gate[{i}]"
        if rule.metric not in AUDIT_METRICS:
            raise ConfigError(
                f"{where}.metric: {rule.metric!r} is not an audit figure; use one of "
                f"{list(AUDIT_METRICS)}."
            )
        if rule.group not in ("all", "worst") and ":" not in rule.group:
            raise ConfigError(
                f"{where}.group: {rule.group!r} names no group; use 'all', 'worst' or "
                "'<dimension>:<name>' such as 'activity:light' or 'mainstream:niche'."
            )
        if rule.max_drop < 0:
            raise ConfigError(f"{where}.max_drop: {rule.max_drop} must be at least 0.")


def check_serving(serving: ServingConfig) -> None:
    """Port range, worker count and a loopback host (the only address the deployer binds)."""
    if not 1024 <= serving.port <= 65535:
        raise ConfigError(f"serving.port: {serving.port} must be in 1024..65535.")
    if not 1 <= serving.workers <= 16:
        raise ConfigError(f"serving.workers: {serving.workers} must be in 1..16.")
    if not 0 <= serving.warm_seconds <= serving.start_timeout_seconds / 2:
        raise ConfigError(
            f"serving.warm_seconds: {serving.warm_seconds:g} must be in 0..half of "
            f"serving.start_timeout_seconds ({serving.start_timeout_seconds}): the server warms "
            "its cache before it answers, and the deploy waits at most the start timeout."
        )
    if serving.start_timeout_seconds < 10:
        raise ConfigError(
            f"serving.start_timeout_seconds: {serving.start_timeout_seconds} must be at least 10."
        )
    if not 1024 <= serving.max_body_bytes <= 64 * 1_048_576:
        raise ConfigError(
            f"serving.max_body_bytes: {serving.max_body_bytes} must be in 1024..67108864 (64 MiB)."
        )
    if not 1 <= serving.max_rows <= 10_000:
        raise ConfigError(f"serving.max_rows: {serving.max_rows} must be in 1..10000.")
    if serving.host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"serving.host: {serving.host!r} is not a loopback address. ZenML's MLflow model "
            f"deployer always binds loopback; use one of {list(LOOPBACK_HOSTS)} and put a "
            "reverse proxy in front to expose the server."
        )


def check_for_pipeline(cfg: PipelineConfig, pipeline: str) -> None:
    """Settings one pipeline needs that the others do not (checked before anything runs)."""
    if pipeline != "continuous":
        return
    ct, data = cfg.continuous, cfg.data
    if ct.source == "replay":
        if data.source == "movielens" and data.replay_from is None:
            raise ConfigError(
                "continuous.source: 'replay' needs held-back ratings; set data.replay_from "
                "(an ISO date such as 2017-01-01) or pick another continuous.source."
            )
        if data.source == "demo" and data.replay_from is None and not data.demo.holdout_fraction:
            raise ConfigError(
                "continuous.source: 'replay' needs held-back ratings; set "
                "data.demo.holdout_fraction (e.g. 0.2) or pick another continuous.source."
            )
    if ct.source == "generated" and data.source != "demo":
        raise ConfigError(
            f"continuous.source: 'generated' needs data.source: demo (got {data.source!r}); "
            "use 'replay' or 'event_log' with MovieLens."
        )


def load_config(path: str | Path) -> PipelineConfig:
    """Read a YAML config file. Errors name the file and the offending key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"Config file {path} does not exist. Pass one of the files in configs/ "
            "(for example configs/quickstart.yaml)."
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"Config file {path} is not valid YAML: {err}") from err
    try:
        return config_from_dict(raw)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from err


def resolve_data_dir(configured: str | None) -> Path | None:
    """The data folder from the config, else from $MOVIE_ROULETTE_DATA_DIR, else None."""
    value = configured or os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None
