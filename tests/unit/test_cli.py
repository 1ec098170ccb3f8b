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
    result = CliRunner().invoke(main, ["--pipeline", "continuous", "--schedule", "daily at 3"])
    assert result.exit_code != 0
    assert "is not a cron expression" in result.output
