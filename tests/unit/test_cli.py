"""CLI bad input: clear messages and a non-zero exit, before any ZenML work starts."""

from pathlib import Path

from click.testing import CliRunner

from run_pipeline import main


def test_unknown_pipeline_is_named_with_the_choices() -> None:
    result = CliRunner().invoke(main, ["--pipeline", "nope"])
    assert result.exit_code != 0
    assert "Unknown pipeline 'nope'" in result.output
    assert "training" in result.output


def test_missing_config_file_names_the_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "missing.yaml")])
    assert result.exit_code != 0
    assert "missing.yaml does not exist" in result.output


def test_config_with_unknown_key_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("sede: 1\n")
    result = CliRunner().invoke(main, ["--config", str(path)])
    assert result.exit_code != 0
    assert "unknown key(s) ['sede']" in result.output


def test_force_only_applies_to_the_continuous_pipeline() -> None:
    result = CliRunner().invoke(main, ["--force"])
    assert result.exit_code != 0
    assert "--force only applies to --pipeline continuous" in result.output


def test_a_bad_schedule_is_refused_before_anything_runs() -> None:
    config = "configs/continuous_demo.yaml"
    args = ["--pipeline", "continuous", "--config", config, "--schedule", "daily at 3"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "is not a cron expression" in result.output


def _no_stack(monkeypatch) -> None:  # noqa: ANN001
    import stack_setup

    def fail() -> None:
        raise AssertionError("the ZenML stack was touched: a run could be recorded")

    monkeypatch.setattr(stack_setup, "ensure_stack", fail)


def test_replay_without_replay_from_is_one_line_exit_2_before_any_run(
    tmp_path: Path, monkeypatch
) -> None:
    _no_stack(monkeypatch)
    path = tmp_path / "ct.yaml"
    path.write_text("data: {source: movielens, download: false}\ncontinuous: {source: replay}\n")
    result = CliRunner().invoke(main, ["--pipeline", "continuous", "--config", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "continuous.source: 'replay'" in lines[0] and "set data.replay_from" in lines[0]
    assert "Traceback" not in result.output and not isinstance(result.exception, AssertionError)
    assert str(path) in lines[0]


def test_every_config_error_exits_2_on_one_line(tmp_path: Path, monkeypatch) -> None:
    _no_stack(monkeypatch)
    path = tmp_path / "c.yaml"
    path.write_text("serving: {port: 80}\n")
    result = CliRunner().invoke(main, ["--config", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {path}: serving.port: 80 must be in 1024..65535."
    ]
    demo = tmp_path / "demo.yaml"
    demo.write_text("continuous: {source: replay}\n")  # demo data, nothing held back
    result = CliRunner().invoke(main, ["--pipeline", "continuous", "--config", str(demo)])
    assert result.exit_code == 2 and "data.demo.holdout_fraction" in result.output


def test_the_training_pipeline_does_not_need_replay_settings(tmp_path: Path) -> None:
    from movie_roulette.config import check_for_pipeline, config_from_dict

    cfg = config_from_dict({"data": {"source": "movielens"}, "continuous": {"source": "replay"}})
    check_for_pipeline(cfg, "training")  # no error: only the continuous pipeline replays


def test_next_steps_name_the_config_to_pass_to_make_app_and_serve() -> None:
    from run_pipeline import ROOT, next_steps

    config = ROOT / "configs" / "movielens.yaml"
    assert next_steps(config, served=True) == (
        "Web app on this model: make app CONFIG=configs/movielens.yaml"
    )
    assert next_steps(config, served=False) == (
        "Serve this model: make serve CONFIG=configs/movielens.yaml; "
        "then the web app: make app CONFIG=configs/movielens.yaml"
    )


def test_make_app_without_a_trained_model_names_the_configs_that_have_one(monkeypatch) -> None:
    """After training on real data, `make app` (quickstart config) pointed at the demo model
    and said "run `make run`"; it now names the config whose model is trained."""
    import click
    import pytest

    from run_pipeline import ROOT
    from serving import deployment, registry
    from webapp.launch import _registry_bundle

    trained = {"movie_roulette_movielens": "3"}
    monkeypatch.setattr(deployment, "list_servers", lambda name=None: [])
    monkeypatch.setattr(registry, "production_version", lambda name: trained.get(name))
    with pytest.raises(click.ClickException) as err:
        _registry_bundle(ROOT / "configs" / "quickstart.yaml")
    message = err.value.message
    assert "Model 'movie_roulette' " in message and "has no production version yet" in message
    assert "`make app CONFIG=configs/movielens.yaml`" in message


def test_make_serve_without_a_production_model_says_which_config_has_one(monkeypatch) -> None:
    import stack_setup
    from serving import registry

    monkeypatch.setattr(stack_setup, "ensure_stack", lambda: "stack")
    trained = {"movie_roulette_movielens": "2"}
    monkeypatch.setattr(registry, "production_version", lambda name: trained.get(name))
    result = CliRunner().invoke(main, ["--pipeline", "deploy"])
    assert result.exit_code == 1, result.output
    assert "Model 'movie_roulette' (" in result.output
    assert "`make serve CONFIG=configs/movielens.yaml`" in result.output
