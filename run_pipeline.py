"""Movie Roulette pipelines CLI.

python run_pipeline.py --config configs/quickstart.yaml
python run_pipeline.py --config configs/movielens.yaml
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parent
DEFAULT_CONFIG = ROOT / "configs" / "quickstart.yaml"
PIPELINES = ("training",)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_CONFIG,
    show_default=True,
    help="Pipeline configuration YAML (see configs/).",
)
@click.option(
    "--pipeline",
    "pipeline_name",
    default="training",
    show_default=True,
    help=f"Which pipeline to run: one of {', '.join(PIPELINES)}.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder laid out like shared/data (overrides config and MOVIE_ROULETTE_DATA_DIR).",
)
@click.option("--no-cache", is_flag=True, help="Disable ZenML step caching for this run.")
def main(config_path: Path, pipeline_name: str, data_dir: Path | None, no_cache: bool) -> None:
    """Run a Movie Roulette pipeline on the local ZenML stack."""
    from movie_roulette.config import load_config
    from movie_roulette.exceptions import MovieRouletteError

    if pipeline_name not in PIPELINES:
        raise click.UsageError(
            f"Unknown pipeline {pipeline_name!r}. Choose one of: {', '.join(PIPELINES)}."
        )
    try:
        cfg = load_config(config_path)
        from movie_roulette.data.tmdb_api import preflight

        preflight(cfg.sources.tmdb_api)  # a missing/invalid TMDB key stops here, before any work
    except MovieRouletteError as err:
        raise click.ClickException(str(err)) from err
    raw = cfg.to_dict()
    if data_dir is not None:
        raw["data"]["data_dir"] = str(data_dir)

    from zenml import Model

    from pipelines.training import training_pipeline
    from stack_setup import ensure_stack, mlflow_tracking_uri

    ensure_stack()
    run_pipe = training_pipeline.with_options(
        model=Model(name=cfg.model_name, description="Movie Roulette hybrid recommender"),
        enable_cache=False if no_cache else None,
        settings={"experiment_tracker": {"experiment_name": cfg.experiment_name}},
    )
    try:
        run = run_pipe(config=raw)
    except MovieRouletteError as err:
        raise click.ClickException(f"{type(err).__name__}: {err}") from err
    except RuntimeError as err:
        # ZenML reports only which steps failed; show the steps' own error messages.
        raise click.ClickException(f"{err}\n{failed_step_messages('training_pipeline')}") from err
    click.echo(f"Pipeline run {run.name} finished with status {run.status}.")
    click.echo(f"MLflow tracking URI: {mlflow_tracking_uri()}")


def failed_step_messages(pipeline_name: str) -> str:
    """The error message of every failed step of the pipeline's latest run."""
    from zenml.client import Client
    from zenml.enums import ExecutionStatus

    runs = Client().list_pipeline_runs(
        pipeline_name=pipeline_name, sort_by="desc:created", size=1, hydrate=True
    )
    if not runs.items:
        return ""
    lines = []
    for name, step_run in runs.items[0].steps.items():
        if step_run.status == ExecutionStatus.FAILED:
            info = step_run.exception_info
            message = (info.message if info else None) or "(no message recorded)"
            lines.append(f"Step {name} failed:\n{message}")
    return "\n\n".join(lines)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
