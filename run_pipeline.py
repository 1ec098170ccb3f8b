"""Movie Roulette pipelines CLI.

python run_pipeline.py --config configs/quickstart.yaml
python run_pipeline.py --config configs/movielens.yaml
python run_pipeline.py --pipeline deploy      # (re)serve the production version
python run_pipeline.py --list-servers | --stop-servers
python run_pipeline.py --pipeline continuous --config configs/continuous_demo.yaml [--force]
python run_pipeline.py --pipeline continuous --schedule "0 3 * * *"   # cron / ZenML Schedule
python run_pipeline.py --rollback     # previous production version back in the registry + server
python run_pipeline.py --experiment start --challenger 3 [--traffic 0.2] [--policy ab|thompson]
python run_pipeline.py --experiment status | --experiment stop     # docs/experiments.md
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from console import setup_console

os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parent
DEFAULT_CONFIG = ROOT / "configs" / "quickstart.yaml"
PIPELINES = ("training", "deploy", "continuous")
CRONTAB_ENV = "MOVIE_ROULETTE_CRONTAB"  # crontab-compatible command to use (tests: a fake one)


class ConfigProblem(click.ClickException):
    """A config error: one line naming the key and the fix, exit status 2, no traceback."""

    exit_code = 2

    def format_message(self) -> str:
        return " ".join(self.message.split())


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
@click.option(
    "--force", is_flag=True, help="continuous: retrain whatever the drift check and counts say."
)
@click.option(
    "--schedule",
    "cron",
    default=None,
    metavar="CRON",
    help='Schedule the pipeline (e.g. "0 3 * * *"): a ZenML Schedule on orchestrators that '
    "support schedules, a crontab entry on the local one. Re-scheduling replaces the entry.",
)
@click.option(
    "--rollback",
    is_flag=True,
    help="Restore the previous production version (registry + model server) and exit.",
)
@click.option(
    "--experiment",
    "experiment_action",
    type=click.Choice(["start", "status", "stop"]),
    default=None,
    help="Online experiment (docs/experiments.md): start one, show its status, or stop it.",
)
@click.option("--challenger", default=None, help="--experiment start: the challenger version.")
@click.option(
    "--traffic",
    type=float,
    default=0.2,
    show_default=True,
    help="--experiment start: the challenger's share of users, strictly between 0 and 1.",
)
@click.option(
    "--policy",
    type=click.Choice(["ab", "thompson"]),
    default="ab",
    show_default=True,
    help="--experiment start: sticky A/B split or Thompson-sampling bandit.",
)
@click.option(
    "--challenger-port",
    type=int,
    default=None,
    help="--experiment start: the challenger server's port (default serving.port + 1).",
)
@click.option(
    "--rule",
    "rule_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="--experiment start: a stopping-rule setting (min_impressions, min_users, alpha, "
    "max_impressions, max_days); repeatable. Defaults: docs/experiments.md.",
)
@click.option("--reports", "show_reports", is_flag=True, help="Where the latest run's reports are.")
@click.option("-v", "--verbose", is_flag=True, help="Every log line (libraries' INFO included).")
def main(
    config_path: Path,
    pipeline_name: str,
    data_dir: Path | None,
    no_cache: bool,
    list_servers: bool,
    stop_servers: bool,
    force: bool,
    cron: str | None,
    rollback: bool,
    experiment_action: str | None,
    challenger: str | None,
    traffic: float,
    policy: str,
    challenger_port: int | None,
    rule_options: tuple[str, ...],
    show_reports: bool = False,
    verbose: bool = False,
) -> None:
    """Run a Movie Roulette pipeline on the local ZenML stack."""
    setup_console(verbose)
    from movie_roulette.config import check_for_pipeline, load_config
    from movie_roulette.exceptions import ConfigError, MovieRouletteError

    if pipeline_name not in PIPELINES:
        raise click.UsageError(
            f"Unknown pipeline {pipeline_name!r}. Choose one of: {', '.join(PIPELINES)}."
        )
    try:
        cfg = load_config(config_path)  # its errors name the file
    except ConfigError as err:
        raise ConfigProblem(str(err)) from err
    if show_reports:  # reads the ZenML store only: no key check, no stack change
        from reports import reports_view

        click.echo(reports_view(cfg.model_name))
        return
    try:
        if not (list_servers or stop_servers or rollback or experiment_action):
            check_for_pipeline(cfg, pipeline_name)
    except ConfigError as err:
        raise ConfigProblem(f"{config_path}: {err}") from err
    try:
        server_action = list_servers or stop_servers or rollback or bool(experiment_action)
        if fetches_from_tmdb(pipeline_name, server_action):
            from movie_roulette.data.tmdb_api import preflight

            preflight(cfg.sources.tmdb_api)  # a missing/invalid key stops here, before any work
    except MovieRouletteError as err:
        raise click.ClickException(str(err)) from err
    if data_dir is not None:
        cfg = cfg.model_copy(
            update={"data": cfg.data.model_copy(update={"data_dir": str(data_dir)})}
        )
    if pipeline_name != "deploy" and not (list_servers or stop_servers or rollback or cron):
        from movie_roulette.data.sources import missing_metadata_note

        note = missing_metadata_note(cfg.data)
        if note:  # once, before the run (the step records it on the run too)
            click.echo(note)
    if challenger is not None and experiment_action != "start":
        raise click.UsageError("--challenger only applies to --experiment start.")
    if experiment_action == "start" and not challenger:
        raise click.UsageError("--experiment start needs --challenger VERSION.")
    rule = parse_rule(rule_options) if rule_options else None
    if rule is not None and experiment_action != "start":
        raise click.UsageError("--rule only applies to --experiment start.")
    if force:
        if pipeline_name != "continuous":
            raise click.UsageError("--force only applies to --pipeline continuous.")
        cfg = cfg.model_copy(
            update={"continuous": cfg.continuous.model_copy(update={"force": True})}
        )
    if cron is not None:
        from movie_roulette.monitoring.schedule import ScheduleError, validate_cron

        try:
            cron = validate_cron(cron)
        except ScheduleError as err:
            raise click.UsageError(str(err)) from err

    from stack_setup import ensure_stack, failure_hint, mlflow_tracking_uri, run_settings

    try:
        ensure_stack()
    except RuntimeError as err:  # e.g. the team stack's servers do not answer: nothing runs
        raise click.ClickException(str(err)) from err
    if list_servers or stop_servers:
        manage_servers(cfg.model_name, stop=stop_servers)
        return
    if rollback:
        roll_back(cfg)
        return
    if experiment_action:
        run_experiment_action(
            cfg,
            experiment_action,
            challenger,
            traffic,
            policy,
            challenger_port,
            rule,
        )
        return
    if pipeline_name == "deploy":
        from serving.registry import no_production_message, production_version

        if production_version(cfg.model_name) is None:  # say so before a run is recorded
            raise click.ClickException(
                no_production_message(
                    cfg.model_name, config_path, ROOT / "configs", command="make serve"
                )
            )
        from pipelines.deployment import deployment_pipeline as chosen
    elif pipeline_name == "continuous":
        from pipelines.continuous import continuous_training_pipeline as chosen
    else:
        from pipelines.training import training_pipeline as chosen
    options: dict = {
        # the steps' own choices (docs/pipeline.md) unless --no-cache turns caching off for all
        "enable_cache": False if no_cache else None,
        "settings": {
            "experiment_tracker": {"experiment_name": cfg.experiment_name},
            **run_settings(),  # the team's docker stack: the project image
        },
    }
    if cron is not None:
        if not schedule_pipeline(chosen, options, cfg, pipeline_name, cron, config_path):
            return
    try:
        run = chosen.with_options(**options)(config=cfg)
    except MovieRouletteError as err:
        raise click.ClickException(f"{type(err).__name__}: {err}") from err
    except RuntimeError as err:
        # ZenML reports only which steps failed; show the steps' own error messages.
        raise click.ClickException(
            f"{err}\n{failed_step_messages(chosen.name)}{failure_hint()}"
        ) from err
    click.echo(f"Pipeline run {run.name} finished with status {run.status}.")
    click.echo(f"MLflow tracking URI: {mlflow_tracking_uri()}")
    if cron is not None:
        click.echo(f"Scheduled {pipeline_name} with ZenML: {cron} (run {run.name}).")
        return
    experiment = step_output(run, "experiment_decision")
    if experiment and experiment.get("action") != "none":
        click.echo(f"Experiment {experiment['experiment_id']}: {experiment['reason']}")
    decision = step_output(run, "retrain_decision")
    if decision:
        click.echo(decision["reason"])
    comparison = step_output(run, "comparison")
    if comparison:
        click.echo(comparison["reason"])
    if pipeline_name == "training":
        from reports import run_summary

        click.echo("\n".join(run_summary(run)))
    deployment = step_output(run, "deployment")
    if deployment:
        if deployment.get("deployed"):
            click.echo(f"Model server: {deployment['url']} (version {deployment['model_version']})")
        else:
            click.echo(f"Model server unchanged: {deployment['reason']}")
    if deployment or pipeline_name == "training":
        click.echo(next_steps(config_path, served=bool(deployment and deployment.get("deployed"))))


def next_steps(config_path: Path, served: bool) -> str:
    """The one way to reach this config's model: `make app/serve CONFIG=<this config>`."""
    try:
        shown = config_path.resolve().relative_to(ROOT)
    except ValueError:
        shown = config_path
    app = f"make app CONFIG={shown}"
    if served:
        return f"Web app on this model: {app}"
    return f"Serve this model: make serve CONFIG={shown}; then the web app: {app}"


def fetches_from_tmdb(pipeline_name: str, server_action: bool) -> bool:
    """Only the training pipeline fetches from TMDB (steps/ingest/fetch_tmdb_api.py): a
    missing key or a TMDB outage must not block deploy, continuous, rollback or the servers."""
    return pipeline_name == "training" and not server_action


def schedule_pipeline(
    chosen: object,
    options: dict,
    cfg: object,
    pipeline_name: str,
    cron: str,
    config_path: Path,
) -> bool:
    """Attach a ZenML Schedule when the orchestrator supports it (True: run to register it);
    otherwise install/print a crontab entry for the local orchestrator (False: nothing to run)."""
    from zenml.client import Client

    name = f"{cfg.model_name}.{pipeline_name}"  # type: ignore[attr-defined]
    orchestrator = Client().active_stack.orchestrator
    if orchestrator.config.is_schedulable:
        from zenml.config.schedule import Schedule

        client = Client()
        for existing in client.list_schedules(name=name, size=100).items:
            client.delete_schedule(existing.id)  # re-scheduling replaces, never duplicates
        options["schedule"] = Schedule(name=name, cron_expression=cron)
        return True
    click.echo(install_cron_entry(name, pipeline_name, cron, config_path))
    return False


def install_cron_entry(name: str, pipeline_name: str, cron: str, config_path: Path) -> str:
    """Install (or print, without crontab) the entry that runs this pipeline on `cron`."""
    import shlex

    from movie_roulette.data.download import default_cache_dir
    from movie_roulette.monitoring import schedule

    command = [
        sys.executable,
        str(ROOT / "run_pipeline.py"),
        "--pipeline",
        pipeline_name,
        "--config",
        str(config_path.resolve()),
    ]
    env = {k: os.environ[k] for k in schedule.PASSED_ENV if os.environ.get(k)}
    env["PATH"] = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"
    log_dir = default_cache_dir() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    line = schedule.crontab_line(
        cron, command, ROOT, name, env=env, log_file=log_dir / f"{name}.log"
    )
    crontab_cmd = tuple(shlex.split(os.environ.get(CRONTAB_ENV, "crontab")))
    try:
        result = schedule.install(line, name, crontab_cmd)
    except schedule.ScheduleError as err:
        raise click.ClickException(str(err)) from err
    note = (
        "The local orchestrator has no scheduler of its own (ZenML schedules need a remote "
        "orchestrator), so cron runs the pipeline."
    )
    return f"{note}\n{result.message}"


def roll_back(cfg: object) -> None:
    """Previous production version back in the registry, then on the model server."""
    from movie_roulette.monitoring.batches import event_log_path
    from serving.deployment import DeploymentError, deploy_version, list_servers
    from serving.rollback import RollbackError, rollback

    model_name = cfg.model_name  # type: ignore[attr-defined]
    try:
        result = rollback(model_name)
    except RollbackError as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"Rolled back {model_name}: version {result['live_version']} is production again "
        f"(version {result['rolled_back_from']} archived)."
    )
    serving = cfg.serving  # type: ignore[attr-defined]
    if serving.deploy or list_servers(model_name):
        try:
            server = deploy_version(
                model_name,
                result["live_version"],
                serving,
                event_log=event_log_path(cfg),  # type: ignore[arg-type]
            )
        except DeploymentError as err:
            raise click.ClickException(
                f"The registry now points at version {result['live_version']}, but redeploying "
                f"failed: {err}"
            ) from err
        from serving.deploy_records import mark_replaced

        record = {"deployed": True, "reason": "rollback", **server.to_dict()}
        mark_replaced(model_name, str(result["live_version"]), live_record=record)
        click.echo(f"Live: version {server.model_version} at {server.url}")
    else:
        click.echo(
            f"Live: version {result['live_version']} (no model server running; serve it with "
            "`make serve` or `python run_pipeline.py --pipeline deploy`)."
        )


def parse_rule(options: tuple[str, ...]) -> object:
    """--rule KEY=VALUE options as a StoppingRule (a clear usage error otherwise)."""
    import dataclasses

    from movie_roulette.experiments.record import ExperimentError, StoppingRule

    fields = {f.name: f.type for f in dataclasses.fields(StoppingRule)}
    values: dict[str, float] = {}
    for option in options:
        key, sep, raw = option.partition("=")
        if not sep or key not in fields:
            raise click.UsageError(
                f"--rule {option!r}: use KEY=VALUE with KEY one of {', '.join(fields)}."
            )
        try:
            values[key] = int(raw) if str(fields[key]) in ("int", str(int)) else float(raw)
        except ValueError:
            raise click.UsageError(f"--rule {option!r}: {raw!r} is not a number.") from None
    try:
        return StoppingRule(**values)  # type: ignore[arg-type]
    except ExperimentError as err:
        raise click.UsageError(f"--rule: {err}") from err


def run_experiment_action(
    cfg: object,
    action: str,
    challenger: str | None,
    traffic: float,
    policy: str,
    challenger_port: int | None,
    rule: object = None,
) -> None:
    """--experiment start | status | stop (serving/experiments.py)."""
    from movie_roulette.exceptions import MovieRouletteError
    from movie_roulette.experiments.status import format_status
    from serving import experiments

    try:
        if action == "start":
            started = experiments.start(
                cfg,  # type: ignore[arg-type]
                str(challenger),
                traffic=traffic,
                policy=policy,
                challenger_port=challenger_port,
                rule=rule,  # type: ignore[arg-type]
            )
            click.echo(
                f"Experiment {started.experiment_id} started ({started.policy}): challenger "
                f"version {started.challenger_version} at {started.challenger_url} for "
                f"{started.traffic:g} of users, production version "
                f"{started.production_version}. Decided by the continuous pipeline "
                "(or --experiment stop)."
            )
        elif action == "status":
            record = experiments.status(cfg)  # type: ignore[arg-type]
            if record is None:
                finished = experiments.store_for(cfg).finished()  # type: ignore[arg-type]
                last = finished[-1] if finished else None
                click.echo(
                    "No experiment is running."
                    + (
                        f" Last: {last.experiment_id} {last.status} ({last.end_reason})"
                        if last
                        else ""
                    )
                )
            else:
                click.echo(format_status(record))
        else:
            ended = experiments.stop(cfg)  # type: ignore[arg-type]
            click.echo(
                f"Experiment {ended.experiment_id} stopped; production version "
                f"{ended.production_version} keeps serving everyone."
            )
    except MovieRouletteError as err:
        raise click.ClickException(str(err)) from err


def manage_servers(model_name: str, stop: bool) -> None:
    from serving.deployment import challenger_server_name, list_servers, stop_servers

    if stop:  # the model's server and an online experiment's challenger server, if any
        servers = stop_servers(model_name) + stop_servers(challenger_server_name(model_name))
    else:
        servers = list_servers()
    if not servers:
        click.echo("No model servers." if not stop else f"No servers of {model_name} to stop.")
    for s in servers:
        state = "stopped" if stop else ("running" if s.running else "not running")
        pids = f"  pids {','.join(map(str, s.pids))}" if s.pids else ""
        click.echo(
            f"{s.model_name} v{s.model_version}  {s.url or '-'}  {state}  (uuid {s.uuid}){pids}"
        )


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
    sys.exit(main())
