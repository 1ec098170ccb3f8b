"""Config loading: clear errors naming the key and the fix."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from movie_roulette.config import PipelineConfig, config_from_dict, load_config
from movie_roulette.exceptions import ConfigError
from movie_roulette.fingerprint import library_fingerprint
from movie_roulette.models.hybrid import pool

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_config_loads(path: Path) -> None:
    cfg = load_config(path)
    assert isinstance(cfg, PipelineConfig)


def test_empty_config_gives_the_defaults() -> None:
    assert config_from_dict({}) == PipelineConfig()


def test_unknown_key_is_named_with_the_allowed_keys() -> None:
    with pytest.raises(ConfigError, match=r"split: unknown key\(s\) \['test_frac'\]"):
        config_from_dict({"split": {"test_frac": 0.2}})


def test_wrong_type_names_the_key() -> None:
    with pytest.raises(ConfigError, match="model.svd.n_factors: expected an integer"):
        config_from_dict({"model": {"svd": {"n_factors": "many"}}})


def test_bad_choice_lists_the_choices() -> None:
    with pytest.raises(
        ConfigError, match=r"data.source: 'netflix' is not one of \['demo', 'movielens'\]"
    ):
        config_from_dict({"data": {"source": "netflix"}})


def test_out_of_range_fraction_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"split.test_fraction: 1.5 must be in \[0, 1\)"):
        config_from_dict({"split": {"test_fraction": 1.5}})


def test_missing_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist.*configs/quickstart.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("seed: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml is not valid YAML"):
        load_config(path)


@pytest.mark.parametrize(
    ("serving", "message"),
    [
        ({"port": 80}, r"serving.port: 80 must be in 1024..65535"),
        ({"host": "0.0.0.0"}, r"serving.host: '0.0.0.0' is not a loopback address"),
        ({"workers": 0}, r"serving.workers: 0 must be in 1..16"),
        ({"warm_seconds": -1}, r"serving.warm_seconds: -1 must be in 0..half"),
        ({"max_body_bytes": 10}, r"serving.max_body_bytes: 10 must be in 1024..67108864"),
        ({"max_rows": 0}, r"serving.max_rows: 0 must be in 1..10000"),
        ({"warm_seconds": 100, "start_timeout_seconds": 120}, r"warm_seconds: 100 must be"),
    ],
)
def test_serving_section_is_checked(serving: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"serving": serving})


def test_serving_defaults_listen_on_loopback_port_8000() -> None:
    cfg = config_from_dict({})
    assert (cfg.serving.host, cfg.serving.port) == ("127.0.0.1", 8000)


@pytest.mark.parametrize("name", ["ml-25m", "ml-32m"])
def test_large_movielens_configs_load(name: str) -> None:
    cfg = load_config(Path(__file__).parents[2] / "configs" / f"{name}.yaml")
    assert cfg.data.source == "movielens" and cfg.data.movielens_release == name
    assert cfg.model.implicit.ease_max_items and cfg.model.memory_budget_gb
    # both serve known users from a head pool that leaves out enough of the real catalogue to
    # be used (62,423 and 87,585 movies; docs/scale.md 6k, 6q)
    movies = {"ml-25m": 62_423, "ml-32m": 87_585}[name]
    assert pool.pays(cfg.model.serve_pool, movies)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("implicit", "ease_max_items", 0), ("als", "factors", 0), (None, "memory_budget_gb", -1)],
)
def test_scale_settings_are_range_checked(section, key, value) -> None:
    model = {section: {key: value}} if section else {key: value}
    with pytest.raises(ConfigError, match=key):
        config_from_dict({"model": model})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # strict types: YAML's "100", true or 1.5 are not silently turned into an integer
        (
            {"split": {"min_user_ratings": "5"}},
            "split.min_user_ratings: expected an integer, got '5'.",
        ),
        ({"seed": True}, "seed: expected an integer, got True."),
        ({"data": {"demo": {"n_users": 1.5}}}, "data.demo.n_users: expected an integer, got 1.5."),
        ({"serving": {"deploy": "yes"}}, "serving.deploy: expected true or false, got 'yes'."),
        ({"serving": 3}, "serving: expected a mapping of keys, got 3."),
        (
            {"model": {"implicit": {"min_rating": "x"}}},
            "model.implicit.min_rating: expected a number (or null), got 'x'.",
        ),
        (
            {"audit": {"gate": [{"metric": "ndcg", "foo": 1}]}},
            "audit.gate[0]: unknown key(s) ['foo']; allowed keys are ['group', 'max_drop',",
        ),
        ({"nonsense": 1}, "config: unknown key(s) ['nonsense']; allowed keys are"),
        (
            {"sources": {"imdb_reviews": {"http": {"timeout_s": 0}}}},
            "sources.imdb_reviews.http.timeout_s: 0 must be > 0.",
        ),
        (
            {"data": {"replay_from": "last year"}},
            "data.replay_from: 'last year' is not an ISO date",
        ),
        (
            {"sentiment": {"c_grid": [1, -1]}},
            "sentiment.c_grid: give one or more positive numbers.",
        ),
        (
            {"sentiment": {"enabled": True, "train_datasets": []}},
            "sentiment.train_datasets: name at least one labelled dataset.",
        ),
        (
            {"serving": {"max_body_bytes": 10}},
            "serving.max_body_bytes: 10 must be in 1024..67108864.",
        ),
    ],
)
def test_bad_values_are_one_line_naming_the_key_path(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_a_config_is_immutable() -> None:
    cfg = config_from_dict({})
    with pytest.raises(ValidationError):
        cfg.serving.port = 9000  # type: ignore[misc]


def test_a_section_can_be_rebuilt_from_its_dump() -> None:
    """ZenML stores a step's section parameter as its dump and rebuilds the model from it."""
    cfg = load_config(REPO / "configs" / "movielens.yaml")
    for section in (cfg.data, cfg.model, cfg.serving, cfg.audit, cfg.sources):
        assert type(section).model_validate(section.to_dict()) == section


def test_the_data_fingerprint_follows_the_bytes_not_the_folder(tmp_path: Path) -> None:
    from movie_roulette.data import sources
    from movie_roulette.data.movielens import ML_FILES
    from movie_roulette.fingerprint import files_fingerprint

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for name in ML_FILES:
            (tmp_path / folder / name).write_text(f"{name}\n1,2\n")
    cfg = {"source": "movielens", "download": False, "use_imdb": False, "use_tmdb": False}
    data_a = config_from_dict({"data": {**cfg, "data_dir": str(tmp_path / "a")}}).data
    data_b = config_from_dict({"data": {**cfg, "data_dir": str(tmp_path / "b")}}).data
    files = sources.source_files(data_a)
    assert sorted(p.name for p in files) == sorted(ML_FILES)
    before = files_fingerprint(files)
    assert files_fingerprint(sources.source_files(data_b)) == before  # same bytes elsewhere
    (tmp_path / "a" / "ratings.csv").write_text("ratings.csv\n1,3\n")
    assert files_fingerprint(sources.source_files(data_a)) != before
    assert sources.source_files(config_from_dict({}).data) == []  # demo: generated, no files


def test_library_fingerprint_follows_the_library_source(tmp_path) -> None:
    """ZenML keys a step's cache by the step's own source: the fingerprint steps mix in the
    library's source so changed library code is never served from a stale cache."""
    package = tmp_path / "pkg"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models" / "hybrid.py").write_text("WEIGHT = 1\n")
    before = library_fingerprint(package)
    assert library_fingerprint(package) == before
    (package / "models" / "hybrid.py").write_text("WEIGHT = 2\n")
    assert library_fingerprint(package) != before
    assert len(library_fingerprint()) == 64
