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


@dataclass(frozen=True)
class DataConfig:
    source: Literal["demo", "movielens"] = "demo"
    # Folder laid out like ../shared/data (ml-latest-small/, imdb-5000/, tmdb-top10k/).
    # Falls back to $MOVIE_ROULETTE_DATA_DIR, then to the download cache.
    data_dir: str | None = None
    download: bool = True  # download ml-latest-small from GroupLens when it is absent
    use_imdb: bool = True
    use_tmdb: bool = True
    min_join_coverage: float = 0.5  # share of ratings whose movie has content metadata
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


@dataclass(frozen=True)
class ModelConfig:
    svd: SVDConfig = field(default_factory=SVDConfig)
    content: ContentConfig = field(default_factory=ContentConfig)
    implicit: ImplicitConfig = field(default_factory=ImplicitConfig)
    refit_on_train_and_valid: bool = True


@dataclass(frozen=True)
class EvaluationConfig:
    k: int = 10
    relevance_threshold: float = 4.0


@dataclass(frozen=True)
class PromotionConfig:
    primary_metric: str = "ndcg@10"
    higher_is_better: bool = True
    min_improvement: float = 0.0


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
    ):
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"{name}: {value} must be in [0, 1).")
    if cfg.evaluation.k < 1:
        raise ConfigError(f"evaluation.k: {cfg.evaluation.k} must be at least 1.")


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
