"""Run an online experiment on the stack: start (serve the challenger beside production), status,
stop, and the continuous pipeline's decision (promote + redeploy, or stop). docs/experiments.md.

Design: two model servers. The challenger is deployed with `deploy_version` under its own server
name (`<model>.challenger`) on its own port (serving.port + 1 unless given), so production's
server is never touched while the experiment runs, both are the same tested MLflow scoring
server, and a challenger that dies affects only its arm (the routers fall back to production).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from movie_roulette.config import PipelineConfig
from movie_roulette.experiments.card_gate import apply_card_gate
from movie_roulette.experiments.record import (
    Experiment,
    ExperimentError,
    ExperimentStore,
    StoppingRule,
)
from movie_roulette.experiments.status import experiment_status
from movie_roulette.monitoring.batches import event_log_path, state_dir
from movie_roulette.promotion import GateCheck
from movie_roulette.rollback import stamp


def store_for(cfg: PipelineConfig) -> ExperimentStore:
    return ExperimentStore(state_dir(cfg))


def registered_versions(model_name: str) -> list[str]:
    from mlflow import MlflowClient

    from serving.registry import configure_mlflow

    configure_mlflow()
    return [str(v.version) for v in MlflowClient().search_model_versions(f"name='{model_name}'")]


def start(
    cfg: PipelineConfig,
    challenger: str,
    traffic: float = 0.2,
    policy: str = "ab",
    challenger_port: int | None = None,
    rule: StoppingRule | None = None,
) -> Experiment:
    """Record the experiment, then serve the challenger; a failed deploy ends it (recorded)."""
    from serving.deployment import DeploymentError, challenger_server_name, deploy_version
    from serving.registry import production_version

    port = challenger_port or cfg.serving.port + 1
    if port == cfg.serving.port:
        raise ExperimentError(
            f"the challenger port {port} is production's (serving.port); pick another."
        )
    store = store_for(cfg)
    experiment = store.start(
        cfg.model_name,
        production_version(cfg.model_name),
        str(challenger),
        registered_versions(cfg.model_name),
        traffic=traffic,
        policy=policy,
        rule=rule,
    )
    try:
        server = deploy_version(
            cfg.model_name,
            experiment.challenger_version,
            cfg.serving.model_copy(update={"port": port}),
            event_log=event_log_path(cfg),
            server_name=challenger_server_name(cfg.model_name),
        )
    except DeploymentError as err:
        store.end("stopped", f"the challenger could not be served: {err}")
        raise ExperimentError(
            f"experiment {experiment.experiment_id} stopped: serving version "
            f"{experiment.challenger_version} failed: {err}"
        ) from err
    experiment = dataclasses.replace(experiment, challenger_url=server.url)
    store.update(experiment)
    return experiment


def status(cfg: PipelineConfig) -> dict[str, Any] | None:
    """The running experiment's status record (None when none runs)."""
    running = store_for(cfg).running()
    if running is None:
        return None
    return experiment_status(running, event_log_path(cfg))[1]


def _stop_challenger(cfg: PipelineConfig) -> list[str]:
    from serving.deployment import challenger_server_name, stop_servers

    return [s.uuid for s in stop_servers(challenger_server_name(cfg.model_name))]


def stop(cfg: PipelineConfig, reason: str = "stopped by hand (--experiment stop)") -> Experiment:
    """End the running experiment, keep production, stop the challenger's server."""
    store = store_for(cfg)
    running = store.require_running()
    _, record = experiment_status(running, event_log_path(cfg))
    store.record_decision({**record, "action": "stop", "reason": reason, "at": stamp()})
    _stop_challenger(cfg)
    return store.end("stopped", reason)


def verdict(cfg: PipelineConfig) -> dict[str, Any] | None:
    """The stopping rule's verdict on the running experiment with every number (None when none
    runs); nothing is recorded or changed yet (`conclude` does)."""
    running = store_for(cfg).running()
    if running is None:
        return None
    _, record = experiment_status(running, event_log_path(cfg))
    return {**record, "at": stamp(), "deployed": False}


def conclude(
    cfg: PipelineConfig,
    verdict: dict[str, Any],
    gate: Sequence[GateCheck] | None = None,
    **deploy_kwargs: Any,
) -> dict[str, Any]:
    """Act on a verdict: promote + redeploy the challenger, stop it, or continue; recorded with
    its numbers. `gate`: the audit gate's checks of the challenger's model card (a failed
    check turns a promotion into a stop)."""
    from serving.deploy_records import mark_replaced
    from serving.deployment import DeploymentError, deploy_version, list_servers
    from serving.registry import set_stage

    store = store_for(cfg)
    running = store.require_running()
    if running.experiment_id != verdict["experiment_id"]:
        raise ExperimentError(
            f"experiment {verdict['experiment_id']} is no longer running "
            f"({running.experiment_id} is); nothing was changed."
        )
    decision = apply_card_gate(verdict, gate) if gate is not None else dict(verdict)
    action = decision["action"]
    if action == "promote":
        set_stage(cfg.model_name, running.challenger_version, "production")
        if cfg.serving.deploy or list_servers(cfg.model_name):
            try:
                server = deploy_version(
                    cfg.model_name,
                    running.challenger_version,
                    cfg.serving,
                    event_log=event_log_path(cfg),
                    **deploy_kwargs,
                )
            except DeploymentError as err:  # the registry moved: record it, say how to serve
                decision["deployment"] = (
                    f"version {running.challenger_version} is production but redeploying failed "
                    f"({err}); serve it with `python run_pipeline.py --pipeline deploy`"
                )
            else:
                mark_replaced(cfg.model_name, running.challenger_version)
                decision.update(deployed=True, url=server.url)
    store.record_decision(decision)
    if action != "continue":
        _stop_challenger(cfg)
        store.end("promoted" if action == "promote" else "stopped", decision["reason"])
    return decision
