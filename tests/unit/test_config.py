"""Config loading: clear errors naming the key and the fix."""

from pathlib import Path

import pytest

from movie_roulette.config import PipelineConfig, config_from_dict, load_config
from movie_roulette.exceptions import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["quickstart", "movielens"])
def test_shipped_configs_load(name: str) -> None:
    cfg = load_config(REPO / "configs" / f"{name}.yaml")
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


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("implicit", "ease_max_items", 0), ("als", "factors", 0), (None, "memory_budget_gb", -1)],
)
def test_scale_settings_are_range_checked(section, key, value) -> None:
    model = {section: {key: value}} if section else {key: value}
    with pytest.raises(ConfigError, match=key):
        config_from_dict({"model": model})
