"""Typed pipeline configuration loaded from YAML: one pydantic model per section.

Every section is a `Section`: unknown keys, wrong types and values out of range are refused
(strict types: no "100" for 100, no 1 for true), and the model is immutable once built. A bad
config is one `ConfigError` naming the key path and the fix (`load_config`, `config_from_dict`).

Adding a key (docs/pipeline.md): add a typed field with its default to the section class,
with `Field(ge=..., le=...)` for a range or a `Literal[...]` for a choice, and a comment; a rule
that spans several keys goes into the section's `model_validator`. Nothing else parses configs.
"""

from __future__ import annotations

import os
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from movie_roulette.exceptions import ConfigError

DATA_DIR_ENV = "MOVIE_ROULETTE_DATA_DIR"
Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]  # [0, 1)
Share = Annotated[float, Field(ge=0.0, le=1.0)]  # [0, 1]
OpenShare = Annotated[float, Field(gt=0.0, lt=1.0)]  # (0, 1)
Count = Annotated[int, Field(ge=1)]


class Section(BaseModel):
    """A config section: strict types, unknown keys refused, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (what ZenML and MLflow record)."""
        return self.model_dump(mode="json")


class DemoConfig(Section):
    n_movies: Count = 400
    n_users: Count = 300
    mean_ratings_per_user: Count = 90
    n_reviews: Annotated[int, Field(ge=0)] = 3000
    # Share of the generated ratings held back (a seeded random sample, so drawn from the
    # training distribution) and replayed later by the continuous-training pipeline.
    holdout_fraction: Fraction = 0.0


class DataConfig(Section):
    source: Literal["demo", "movielens"] = "demo"
    # Folder laid out like ../shared/data (ml-latest-small/, imdb-5000/, tmdb-top10k/).
    # Falls back to $MOVIE_ROULETTE_DATA_DIR, then to the download cache.
    data_dir: str | None = None
    download: bool = True  # download the MovieLens release from GroupLens when it is absent
    # which GroupLens archive "movielens" means (the folder name under data_dir / the cache)
    movielens_release: Literal["ml-latest-small", "ml-25m", "ml-32m"] = "ml-latest-small"
    use_imdb: bool = True
    use_tmdb: bool = True
    min_join_coverage: Fraction = 0.5  # share of ratings whose movie has content metadata
    # ISO date/time (UTC): MovieLens ratings at or after it are held back from training and
    # replayed in time order by the continuous-training pipeline. None = use every rating.
    replay_from: str | None = None
    demo: DemoConfig = DemoConfig()

    @field_validator("replay_from")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not an ISO date such as 2017-01-01 (quote it in YAML)."
                ) from None
        return value


class SplitConfig(Section):
    strategy: Literal["per_user", "per_user_time", "time"] = "per_user"
    test_fraction: Fraction = 0.2
    valid_fraction: Fraction = 0.2  # share of each user's remaining ratings used to tune the blend
    min_user_ratings: Count = 5  # users with fewer ratings stay entirely in train


class SVDConfig(Section):
    n_factors: Count = 100
    n_epochs: Count = 30
    lr_all: Annotated[float, Field(gt=0.0)] = 0.007
    reg_all: Annotated[float, Field(ge=0.0)] = 0.05


class ContentConfig(Section):
    like_threshold: float = 4.0
    max_features: Count = 20000
    n_neighbours: Count = 30  # content kNN neighbours for the content rating predictor


class GenreTasteConfig(Section):
    """The "genre_taste" component (models/genre_taste.py): log popularity plus the person's
    genre log-lifts, shrunk by `smoothing` pseudo-ratings of the average genre mix. Off by
    default and in every shipped config: on ml-latest-small the hybrid did not gain from it,
    and on the synthetic 25M data it is the generator's own form, so its gain there says
    little about real catalogues (docs/scale.md 6t)."""

    enabled: bool = False
    smoothing: Annotated[float, Field(gt=0.0)] = 5.0


class ImplicitConfig(Section):
    l2: Annotated[float, Field(gt=0.0)] = 300.0
    min_item_ratings: Count = 2  # EASE / item-kNN only model movies with at least this many
    min_rating: float | None = None  # EASE positives: None = every rating is an interaction
    knn_neighbours: Count = 100  # item-kNN neighbours per movie (ranking)
    # extra EASE components of the hybrid (same l2 / min_item_ratings):
    liked_min_rating: float | None = 4.0  # "ease_liked": EASE on ratings >= this; None = off
    centered_ease: bool = True  # "ease_centered": EASE on 1 + rating - user mean
    # EASE models only the N movies with the most interactions (its cost is N^2 memory and
    # N^3 time); the others are left to the other components. None = every movie.
    ease_max_items: Count | None = None
    # sparse item-kNN: a user with more interactions adds a seeded sample of this many to the
    # similarities (keeps the cost linear in the ratings); None = all
    knn_max_user_items: Count | None = 500


class ALSConfig(Section):
    """Implicit-feedback ALS (the `implicit` package), float32."""

    factors: Count = 64
    regularization: Annotated[float, Field(ge=0.0)] = 0.05
    alpha: Annotated[float, Field(gt=0.0)] = 2.0  # confidence of an interaction = alpha * value
    iterations: Count = 15
    min_rating: float | None = None  # positives: None = every rating is an interaction


class ModelConfig(Section):
    svd: SVDConfig = SVDConfig()
    content: ContentConfig = ContentConfig()
    genre_taste: GenreTasteConfig = GenreTasteConfig()
    implicit: ImplicitConfig = ImplicitConfig()
    als: ALSConfig = ALSConfig()
    refit_on_train_and_valid: bool = True
    # memory a component may plan to use (GB); a fit estimated to need more stops before it
    # starts, naming the setting to change. None = the machine's physical memory.
    memory_budget_gb: Annotated[float, Field(gt=0.0)] | None = None
    # the hybrid's components: "dense" (EASE x3, dense item-kNN, SVD, content, popularity: best on
    # small catalogues) or "scalable" (ALS, sparse item-kNN, EASE capped at
    # implicit.ease_max_items, SVD unless use_svd is false, content, popularity; docs/scale.md)
    component_set: Literal["dense", "scalable"] = "dense"
    use_svd: bool = True  # scalable set: surprise SVD holds ~400 bytes a rating while fitting
    # blend-weight search and rating stack: a seeded sample of this many validation users
    # (None = all); the search scores each user's candidate set (union of the components' top)
    tune_max_users: Count | None = 2000
    # a known user's served recommendations scored over this many most-rated movies, with the
    # blend's statistics still the whole catalogue's (models/hybrid/pool.py); None = every movie.
    # Used only when it leaves out at least 20,000 movies (below, it costs more than it saves)
    serve_pool: Count | None = None


class EvaluationConfig(Section):
    k: Count = 10
    relevance_threshold: float = 4.0
    # evaluate (metrics, model card, promotion) on the test rows of a seeded sample of this many
    # test users; None = every test user. The model is still trained on every rating.
    max_users: Count | None = None


class PromotionConfig(Section):
    primary_metric: str = "ndcg@10"
    higher_is_better: bool = True
    min_improvement: float = 0.0
    # fewer test users (with a relevant movie) compared than this: no promotion, with the reason
    min_users: Count = 20


# figures of a user group the audit reports and the promotion gate can guard
AuditMetric = Literal["ndcg", "recall", "coverage", "long_tail_share", "pop_lift", "miscalibration"]
AUDIT_METRICS: tuple[str, ...] = typing.get_args(AuditMetric)


class GateRule(Section):
    """Block promotion when the candidate's `metric` on `group` is worse than production's by
    more than `max_drop` (absolute). group: "all", "worst" (the worst large-enough group, each
    model's own), or "<dimension>:<name>" such as "activity:light" or "mainstream:niche"."""

    metric: AuditMetric = "ndcg"
    group: str = "worst"
    max_drop: Annotated[float, Field(ge=0.0)] = 0.05

    @field_validator("group")
    @classmethod
    def _names_a_group(cls, value: str) -> str:
        if value not in ("all", "worst") and ":" not in value:
            raise ValueError(
                f"{value!r} names no group; use 'all', 'worst' or '<dimension>:<name>' such as "
                "'activity:light' or 'mainstream:niche'."
            )
        return value


class AuditConfig(Section):
    """The model card (docs/model-card.md): bias audit, explainability, promotion gate."""

    enabled: bool = True
    min_group_users: Count = 20  # smaller user groups are reported as too small
    long_tail_share: OpenShare = 0.8  # the least-rated share of movies that is the long tail
    explain_users: Annotated[int, Field(ge=0)] = 20  # users whose top-k is explained and checked
    counterfactual_candidates: Annotated[int, Field(ge=0)] = 10  # liked movies removed besides
    max_users: Count | None = None  # audit a seeded sample of test users (None = all)
    users_table: str | None = None  # optional CSV: user_id + age_group/age/gender/occupation
    # only a guard on the worst group's NDCG by default; [] switches the gate off
    gate: list[GateRule] = [GateRule()]


LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
MAX_BODY_BYTES_LIMIT = 64 * 1_048_576


class ServingConfig(Section):
    """Where the deployed model server listens (ZenML's MLflow deployer binds loopback only)."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1024, le=65535)] = 8000
    workers: Annotated[int, Field(ge=1, le=16)] = 1
    start_timeout_seconds: Annotated[int, Field(ge=10)] = 180
    # At start-up, each worker computes the most active known users' answers for this long
    # before it answers (0 = off); the start timeout must leave room for it.
    warm_seconds: float = 30.0
    # uvicorn's line per request in the server log (requests are in the event log already;
    # the access log grows without bound and costs the server CPU on every request)
    access_log: bool = False
    deploy: bool = True  # training: deploy the version that was just promoted
    log_requests: bool = True  # append every request to the event log (continuous.event_log)
    # request limits (docs/operations.md): bigger bodies and batches are refused with HTTP 413
    max_body_bytes: Annotated[int, Field(ge=1024, le=MAX_BODY_BYTES_LIMIT)] = 1_048_576
    max_rows: Annotated[int, Field(ge=1, le=10_000)] = 100  # request rows per POST /invocations

    @field_validator("host")
    @classmethod
    def _loopback(cls, value: str) -> str:
        if value not in LOOPBACK_HOSTS:
            raise ValueError(
                f"{value!r} is not a loopback address. ZenML's MLflow model deployer always "
                f"binds loopback; use one of {list(LOOPBACK_HOSTS)} and put a reverse proxy in "
                "front to expose the server."
            )
        return value

    @model_validator(mode="after")
    def _warm_within_timeout(self) -> ServingConfig:
        if not 0 <= self.warm_seconds <= self.start_timeout_seconds / 2:
            raise _KeyError(
                "warm_seconds",
                f"{self.warm_seconds:g} must be in 0..half of serving.start_timeout_seconds "
                f"({self.start_timeout_seconds}): the server warms its cache before it answers, "
                "and the deploy waits at most the start timeout.",
            )
        return self


class ContinuousConfig(Section):
    """The continuous-training pipeline (drift check, retraining decision, batch sources)."""

    # Where consumed batches, source cursors and model->data records live;
    # None = <cache dir>/continuous/<model_name> (the cache dir: $MOVIE_ROULETTE_CACHE_DIR).
    state_dir: str | None = None
    # replay: ratings the data section holds back (data.replay_from, data.demo.holdout_fraction)
    # generated: demo ratings drawn with shifted tastes (taste_shift, new_user_share)
    # event_log: rating/click/spin feedback logged by the web app and the model server
    source: Literal["replay", "generated", "event_log"] = "replay"
    batch_size: Count = 2000  # ratings per replayed/generated batch
    event_log: str | None = None  # None = <state_dir>/events.jsonl
    taste_shift: Share = 0.0  # generated: move every taste this far towards rare genres
    new_user_share: Share = 0.0  # generated: share of ratings from new users
    # retrain when this share of feature columns drifted
    drift_share_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5
    min_drift_rows: Annotated[int, Field(ge=0)] = 200  # smaller batches: drift is no trigger
    min_new_interactions: Count = 5000  # ... or when this many new interactions arrived
    max_reference_rows: Count = 50000  # the drift reference is sampled down to this many rows
    fresh_test_fraction: Fraction = 0.3  # share of each user's new ratings held out as fresh test
    force: bool = False  # retrain whatever the drift and counts say (CLI: --force)


class HttpConfig(Section):
    """Resilience settings shared by the live sources."""

    timeout_s: Annotated[float, Field(gt=0.0)] = 10.0  # connect + read timeout of one request
    # retries of one request on 429, 5xx, timeouts and connection errors
    max_retries: Annotated[int, Field(ge=0)] = 4
    backoff_s: Annotated[float, Field(ge=0.0)] = 0.5  # first retry wait; doubles every retry
    max_backoff_s: Annotated[float, Field(ge=0.0)] = 30.0
    # a longer Retry-After fails the request instead of waiting
    max_retry_after_s: Annotated[float, Field(ge=0.0)] = 120.0
    request_budget: Annotated[int, Field(ge=0)] = 2000  # network requests per run (cache: free)
    # at most this many requests per second (0 = unlimited)
    rate_limit_per_s: Annotated[float, Field(ge=0.0)] = 20.0


class TMDBApiConfig(Section):
    enabled: bool = False
    base_url: str = "https://api.themoviedb.org/3"
    # The key is read from the environment variable named here, or from a file holding only
    # the key. Never put the key itself in a config: configs are logged as run parameters.
    api_key_env: str = "TMDB_API_KEY"
    api_key_file: str | None = None
    language: str = "en-US"
    limit: Count | None = 200  # most popular catalogue movies to fetch (None = all with an id)
    tmdb_ids: list[int] = []  # a fixed subset instead (catalogue movies)
    parts: list[str] = ["details", "credits", "keywords", "reviews"]
    max_failure_share: Share = 0.2  # the step fails when more movies than this share fail
    cache_dir: str | None = None  # default: <cache dir>/tmdb-api
    http: HttpConfig = HttpConfig()


class IMDbReviewsConfig(Section):
    enabled: bool = False
    base_url: str = "https://www.imdb.com"
    limit: Count | None = 100  # most popular catalogue movies with an IMDb id to scrape
    imdb_ids: list[str] = []  # a fixed subset instead ("tt1213663")
    max_pages: Count = 1  # review pages per movie
    delay_s: Annotated[float, Field(ge=0.0)] = 2.0  # polite pause between two requests
    user_agent: str = "movie-roulette/0.1 (open-source movie recommender research; polite scraper)"
    max_failure_share: Share = 0.2
    cache_dir: str | None = None  # default: <cache dir>/imdb-reviews
    http: HttpConfig = HttpConfig(rate_limit_per_s=0.5)


class SourcesConfig(Section):
    """Live sources, both off by default (they need the network; TMDB also needs a key)."""

    tmdb_api: TMDBApiConfig = TMDBApiConfig()
    imdb_reviews: IMDbReviewsConfig = IMDbReviewsConfig()


class SentimentConfig(Section):
    """Review sentiment: a TF-IDF + logistic-regression model trained on labelled sentences."""

    enabled: bool = False
    # Training sets: "rt-polarity", "si650", "imdb_labelled", "demo-reviews" (labels from the
    # generated reviews' ratings). Each is split into train/valid/held-out test parts.
    train_datasets: list[str] = ["rt-polarity", "si650"]
    # Evaluated in full (never trained on).
    eval_datasets: list[str] = ["imdb_labelled"]
    data_dir: str | None = None  # folder with rt-polaritydata/ ...; default: data.data_dir
    heldout_fraction: OpenShare = 0.2
    valid_fraction: OpenShare = 0.15
    c_grid: list[float] = [1.0, 3.0, 10.0, 30.0]
    prior_strength: Annotated[float, Field(ge=0.0)] = 5.0  # pseudo-reviews towards the global
    use_in_hybrid: bool = True  # add the per-movie signal to the hybrid (weight tuned on valid)

    @field_validator("c_grid")
    @classmethod
    def _positive_grid(cls, value: list[float]) -> list[float]:
        if not value or any(c <= 0 for c in value):
            raise ValueError("give one or more positive numbers.")
        return value

    @model_validator(mode="after")
    def _datasets_when_enabled(self) -> SentimentConfig:
        if self.enabled and not self.train_datasets:
            raise _KeyError("train_datasets", "name at least one labelled dataset.")
        return self


class SparkExplicitALSConfig(Section):
    """pyspark.ml ALS on the ratings (rating prediction / RMSE)."""

    rank: Count = 32
    max_iter: Count = 15
    # Spark scales it by each user's / movie's number of ratings
    reg_param: Annotated[float, Field(ge=0.0)] = 0.08
    enabled: bool = True  # false: the hybrid gets no explicit ALS component


class SparkImplicitALSConfig(Section):
    """pyspark.ml ALS with implicitPrefs (ranking): each rating is an interaction."""

    rank: Count = 64
    max_iter: Count = 15
    reg_param: Annotated[float, Field(ge=0.0)] = 0.01
    alpha: Annotated[float, Field(gt=0.0)] = 10.0  # confidence of an interaction = 1 + alpha
    min_rating: float | None = None  # interactions: None = every rating
    enabled: bool = True  # false: the hybrid gets no implicit ALS component


class SparkConfig(Section):
    """The Spark engine (engine: spark; docs/spark.md)."""

    # local[*] / local[N]: in-process; spark://HOST:7077: a standalone cluster
    master: str = "local[*]"
    app_name: str = "movie-roulette"
    driver_memory: str = "2g"
    executor_memory: str = "1g"
    executor_cores: Count | None = None  # cluster: cores per executor (None = Spark's default)
    log_level: Literal["ERROR", "WARN", "INFO", "DEBUG"] = "WARN"
    ui: bool = False
    shuffle_partitions: Count = 8
    # a cluster that does not accept the application (master unreachable, no executor)
    # within this many seconds is an error naming spark.master
    connect_timeout_s: Annotated[float, Field(gt=0.0)] = 60.0
    # the driver's address as the workers see it (cluster in network namespaces); None = auto
    driver_host: str | None = None
    # ratings file or folder (CSV with a header, or Parquet) read by Spark instead of the
    # configured data source's ratings; None = data.source's ratings
    ratings_path: str | None = None
    als: SparkExplicitALSConfig = SparkExplicitALSConfig()
    als_implicit: SparkImplicitALSConfig = SparkImplicitALSConfig()


class PipelineConfig(Section):
    seed: int = 42
    model_name: str = "movie_roulette"
    experiment_name: str = "movie_roulette_training"
    data: DataConfig = DataConfig()
    split: SplitConfig = SplitConfig()
    model: ModelConfig = ModelConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    promotion: PromotionConfig = PromotionConfig()
    audit: AuditConfig = AuditConfig()
    continuous: ContinuousConfig = ContinuousConfig()
    serving: ServingConfig = ServingConfig()
    sources: SourcesConfig = SourcesConfig()
    sentiment: SentimentConfig = SentimentConfig()
    # local: pandas/numpy on this machine; spark: data prep, validation, split and ALS on
    # Apache Spark (the spark section; docs/spark.md)
    engine: Literal["local", "spark"] = "local"
    spark: SparkConfig = SparkConfig()


class _KeyError(ValueError):
    """A section-level rule that names one of the section's keys (`<section>.<key>: ...`)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")


# ---------------------------------------------------------------------------------------------
# pydantic's errors as one line naming the key path and the fix


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X; Annotated[X, ...] -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _lookup(loc: tuple[int | str, ...]) -> tuple[Any, Any]:
    """(the section class holding the last key, the FieldInfo of that key) for an error loc."""
    node: Any = PipelineConfig
    owner: Any = PipelineConfig
    info = None
    for part in loc:
        node = _unwrap(node)
        if isinstance(part, int):
            if typing.get_origin(node) is list:
                node = typing.get_args(node)[0]
            continue
        if isinstance(node, type) and issubclass(node, BaseModel) and part in node.model_fields:
            owner, info = node, node.model_fields[part]
            node = info.annotation
        else:
            return owner, None
    return owner, info


def _bounds(info: Any, ctx: dict[str, Any]) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    metadata = list(getattr(info, "metadata", []) or [])
    annotation = getattr(info, "annotation", None)
    for arg in typing.get_args(annotation):  # Annotated[...] | None keeps them in the arg
        if typing.get_origin(arg) is Annotated:
            for extra in typing.get_args(arg)[1:]:
                metadata.extend(getattr(extra, "metadata", []) or [extra])
    for item in metadata:
        for name in ("ge", "gt", "le", "lt"):
            if isinstance(item, getattr(annotated_types, name.capitalize())):
                bounds[name] = getattr(item, name)
    return bounds or dict(ctx)


def _num(value: Any) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _range_text(bounds: dict[str, Any], integer: bool) -> str:
    low = next(((k, bounds[k]) for k in ("ge", "gt") if k in bounds), None)
    high = next(((k, bounds[k]) for k in ("le", "lt") if k in bounds), None)
    if low and high:
        if integer and low[0] == "ge" and high[0] == "le":
            return f"in {_num(low[1])}..{_num(high[1])}"
        left = "[" if low[0] == "ge" else "("
        right = "]" if high[0] == "le" else ")"
        return f"in {left}{_num(low[1])}, {_num(high[1])}{right}"
    if low:
        return f"at least {_num(low[1])}" if low[0] == "ge" else f"> {_num(low[1])}"
    if high:
        return f"at most {_num(high[1])}" if high[0] == "le" else f"< {_num(high[1])}"
    return "in range"


_TYPE_NAMES = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "model_type": "a mapping of keys",
    "dict_type": "a mapping of keys",
}


def _message(err: ValidationError) -> str:
    errors = err.errors(include_url=False)
    first = errors[0]
    loc, kind, value = tuple(first["loc"]), first["type"], first.get("input")
    where = _path(loc)
    if kind == "extra_forbidden":
        parent = loc[:-1]
        unknown = sorted(
            str(e["loc"][-1])
            for e in errors
            if e["type"] == "extra_forbidden" and tuple(e["loc"][:-1]) == parent
        )
        owner, info = _lookup(parent) if parent else (PipelineConfig, None)
        section = _unwrap(info.annotation) if info is not None else owner
        if typing.get_origin(section) is list:
            section = typing.get_args(section)[0]
        allowed = sorted(section.model_fields) if isinstance(section, type) else []
        return f"{_path(parent) or 'config'}: unknown key(s) {unknown}; allowed keys are {allowed}."
    if kind == "literal_error":
        _, info = _lookup(loc)
        choices = list(typing.get_args(_unwrap(info.annotation))) if info is not None else []
        return f"{where}: {value!r} is not one of {choices}; pick one of them."
    if kind in _TYPE_NAMES:
        null = " (or null)" if _nullable(loc) else ""
        return f"{where or 'config'}: expected {_TYPE_NAMES[kind]}{null}, got {value!r}."
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        _, info = _lookup(loc)
        integer = isinstance(value, int) and not isinstance(value, bool)
        null = " (or null)" if _nullable(loc) else ""
        bounds = _bounds(info, first.get("ctx") or {})
        return f"{where}: {value} must be {_range_text(bounds, integer)}{null}."
    if kind == "value_error":
        text = str(first.get("ctx", {}).get("error") or first["msg"])
        if isinstance(first.get("ctx", {}).get("error"), _KeyError):
            return f"{where + '.' if where else ''}{text}"
        return f"{where}: {text}"
    return f"{where or 'config'}: {first['msg']} (got {value!r})."


def _nullable(loc: tuple[int | str, ...]) -> bool:
    _, info = _lookup(loc)
    return info is not None and type(None) in typing.get_args(info.annotation)


def config_from_dict(raw: dict[str, Any] | None) -> PipelineConfig:
    """Validate a parsed YAML mapping; a problem is one `ConfigError` naming the key path."""
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError(f"config: expected a mapping of keys, got {raw!r}.")
    try:
        return PipelineConfig.model_validate(raw or {})
    except ValidationError as err:
        raise ConfigError(_message(err)) from None


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
