"""Movie Roulette pipelines CLI.

python run_pipeline.py --config configs/quickstart.yaml
python run_pipeline.py --config configs/movielens.yaml
python run_pipeline.py --pipeline deploy      # (re)serve the production version
python run_pipeline.py --list-servers | --stop-servers
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
PIPELINES = ("training", "deploy")


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
@click.option("--list-servers", is_flag=True, help="List the model servers and exit.")
@click.option("--stop-servers", is_flag=True, help="Stop this config's model's servers and exit.")
def main(
    config_path: Path,
    pipeline_name: str,
    data_dir: Path | None,
    no_cache: bool,
    list_servers: bool,
    stop_servers: bool,
) -> None:
    """Run a Movie Roulette pipeline on the local ZenML stack."""
    from movie_roulette.config import load_config
    from movie_roulette.exceptions import MovieRouletteError

    if pipeline_name not in PIPELINES:
        raise click.UsageError(
            f"Unknown pipeline {pipeline_name!r}. Choose one of: {', '.join(PIPELINES)}."
        )
    try:
        cfg = load_config(config_path)
    except MovieRouletteError as err:
        raise click.ClickException(str(err)) from err
    raw = cfg.to_dict()
    if data_dir is not None:
        raw["data"]["data_dir"] = str(data_dir)

    from zenml import Model

    from stack_setup import ensure_stack, mlflow_tracking_uri

    ensure_stack()
    if list_servers or stop_servers:
        manage_servers(cfg.model_name, stop=stop_servers)
        return
    if pipeline_name == "deploy":
        from pipelines.deployment import deployment_pipeline as chosen
    else:
        from pipelines.training import training_pipeline as chosen
    run_pipe = chosen.with_options(
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
        raise click.ClickException(f"{err}\n{failed_step_messages(chosen.name)}") from err
    click.echo(f"Pipeline run {run.name} finished with status {run.status}.")
    click.echo(f"MLflow tracking URI: {mlflow_tracking_uri()}")
    deployment = step_output(run, "deployment")
    if deployment:
        if deployment.get("deployed"):
            click.echo(f"Model server: {deployment['url']} (version {deployment['model_version']})")
        else:
            click.echo(f"Model server unchanged: {deployment['reason']}")


def manage_servers(model_name: str, stop: bool) -> None:
    from serving.deployment import list_servers, stop_servers

    servers = stop_servers(model_name) if stop else list_servers()
    if not servers:
        click.echo("No model servers." if not stop else f"No servers of {model_name} to stop.")
    for s in servers:
        state = "stopped" if stop else ("running" if s.running else "not running")
        click.echo(f"{s.model_name} v{s.model_version}  {s.url or '-'}  {state}  (uuid {s.uuid})")


def step_output(run: object, name: str) -> dict | None:
    """The value of a step output artifact called `name` in a finished run, if any."""
    for step_run in getattr(run, "steps", {}).values():
        if name in step_run.outputs:
            return step_run.outputs[name][0].load()
    return None


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
