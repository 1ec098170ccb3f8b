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
