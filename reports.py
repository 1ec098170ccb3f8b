"""Where a run's reports are, and the summary a training run ends with.

    python run_pipeline.py --reports [--config FILE]     # reports_view(): the latest runs
    make dashboards                                       # starts the dashboards, then the same

The HTML reports are ZenML artifacts (`HTMLString`, stored as `<artifact uri>/output.html`):
the Great Expectations validation reports and the model card of a training run, the Evidently
drift report and the whylogs profile comparison of a continuous run. The model version's pages:
MLflow's registered-model version page, and the ZenML run page (the open-source dashboard shows
runs with their DAG, step logs and artifact visualisations; its model and artifact views are
ZenML Pro).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HTML_FILE = "output.html"  # zenml.materializers.structured_string_materializer.HTML_FILENAME
REPORT_LABELS = {  # HTML artifact name -> what it is
    "ratings_validation_report": "Great Expectations, ratings",
    "catalogue_validation_report": "Great Expectations, catalogue and joins",
    "batch_validation_report": "Great Expectations, new batch",
    "model_card": "Model card",
    "drift_report": "Evidently drift report",
    "profile_comparison": "whylogs profiles, reference vs current",
}
TRAINING = "training_pipeline"
CONTINUOUS = "continuous_training_pipeline"
DEFAULT_ZENML_URL = "http://127.0.0.1:8237"  # dashboards.py --zenml-port
DEFAULT_MLFLOW_URL = "http://127.0.0.1:5000"  # dashboards.py --mlflow-port


@dataclass(frozen=True)
class Report:
    label: str
    location: str  # a file path or a URL

    def line(self, width: int = 40) -> str:
        return f"  {self.label + ':':<{width}} {self.location}"


def html_reports(run: Any) -> list[Report]:
    """Every HTML report a run produced, known ones first (in REPORT_LABELS' order)."""
    found: dict[str, str] = {}
    for step_run in getattr(run, "steps", {}).values():
        for name, artifacts in step_run.outputs.items():
            path = Path(str(artifacts[0].uri)) / HTML_FILE if artifacts else None
            if path is not None and path.is_file():
                found[name] = str(path)
    order = [n for n in REPORT_LABELS if n in found] + sorted(set(found) - set(REPORT_LABELS))
    return [Report(REPORT_LABELS.get(n, n.replace("_", " ")), found[n]) for n in order]


def mlflow_version_url(mlflow_url: str, model_name: str, version: str) -> str:
    return f"{mlflow_url.rstrip('/')}/#/models/{model_name}/versions/{version}"


def zenml_run_url(zenml_url: str, run: Any) -> str:
    """The run's page on the (open-source) ZenML dashboard."""
    project = getattr(getattr(run, "project", None), "name", None) or "default"
    return f"{zenml_url.rstrip('/')}/projects/{project}/runs/{run.id}"


def _latest_runs(**filters: Any) -> Any | None:
    from zenml.client import Client

    runs = Client().list_pipeline_runs(sort_by="desc:created", size=1, hydrate=True, **filters)
    return runs.items[0] if runs.items else None


def _model_version(model_name: str) -> Any | None:
    from zenml.client import Client

    try:
        return Client().get_model_version(model_name)  # the latest version
    except (KeyError, RuntimeError):
        return None


def _output(run: Any, name: str) -> Any:
    for step_run in getattr(run, "steps", {}).values():
        if name in step_run.outputs:
            return step_run.outputs[name][0].load()
    return None


def _run_block(title: str, run: Any, zenml_url: str) -> list[str]:
    created = getattr(run, "created", None)
    when = f", {created:%Y-%m-%d %H:%M}" if created is not None else ""
    lines = [f"{title}: {run.name} ({run.status}{when})"]
    reports = html_reports(run)
    lines += [r.line() for r in reports] or ["  (no HTML report in this run)"]
    lines.append(Report("ZenML run page", zenml_run_url(zenml_url, run)).line())
    return lines


def reports_view(
    model_name: str, zenml_url: str = DEFAULT_ZENML_URL, mlflow_url: str = DEFAULT_MLFLOW_URL
) -> str:
    """The reports of the model's latest version's run and of the latest continuous run."""
    lines = [f"Reports of {model_name}'s latest runs"]
    version = _model_version(model_name)
    run = _latest_runs(linked_to_model_version_id=version.id) if version is not None else None
    if run is None:
        lines.append(
            f"  No run has registered {model_name} yet: train first "
            "(python run_pipeline.py --config FILE)."
        )
    else:
        lines += _run_block("Latest model version's run", run, zenml_url)
        registered = _output(run, "mlflow_model_version")
        if registered:
            lines.append(
                Report(
                    f"MLflow model version {registered}",
                    mlflow_version_url(mlflow_url, model_name, str(registered)),
                ).line()
            )
    continuous = _latest_runs(pipeline_name=CONTINUOUS)
    if continuous is not None and (run is None or continuous.id != run.id):
        lines += _run_block("Latest continuous run", continuous, zenml_url)
    elif continuous is None:
        lines.append("No continuous run yet (its Evidently and whylogs reports): make continuous")
    lines.append(
        f"Dashboards: make dashboards (ZenML {zenml_url}, MLflow {mlflow_url}; "
        "python dashboards.py --zenml-port N --mlflow-port M for other ports)."
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------- the run summary
SUMMARY_METRICS = ("ndcg@", "precision@", "recall@", "rmse")  # name prefixes, this order


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else str(value)


def metrics_line(metrics: Mapping[str, Any], prefixes: Iterable[str] = SUMMARY_METRICS) -> str:
    shown = []
    for prefix in prefixes:
        name = next((n for n in metrics if n.startswith(prefix)), None)
        if name is not None:
            shown.append(f"{name} {_fmt(metrics[name])}")
    return ", ".join(shown) if shown else "no metrics recorded"


def promotion_lines(promotion: Mapping[str, Any]) -> list[str]:
    """The decision in two lines: new vs production on the promotion metric, and the verdict."""
    metric = promotion.get("metric", "metric")
    candidate = promotion.get("candidate_version", "?")
    production = promotion.get("production_version")
    if production is None:
        versus = f"New version {candidate}: {metric} {_fmt(promotion.get('candidate'))}; "
        versus += "no production version to compare with."
    else:
        versus = (
            f"New version {candidate} vs production version {production} (like for like, "
            f"{promotion.get('compared_users', '?')} users): {metric} "
            f"{_fmt(promotion.get('candidate'))} vs {_fmt(promotion.get('production'))}."
        )
    verdict = "promoted to production" if promotion.get("promote") else "kept in staging"
    blockers = promotion.get("blocked_by") or []
    why = ""
    if blockers:
        why = f" ({'; '.join(blockers)})"
    elif isinstance(promotion.get("candidate"), int | float) and isinstance(
        promotion.get("production"), int | float
    ):
        why = f" ({metric} difference {promotion['candidate'] - promotion['production']:+.4f})"
    gate = [c for c in promotion.get("audit_gate", []) or [] if not c.get("passed", True)]
    if gate:
        why += f"; audit gate: {'; '.join(str(c.get('reason')) for c in gate)}"
    return [versus, f"Decision: {verdict}{why}."]


def run_summary(run: Any) -> list[str]:
    """The summary lines of a finished training run: holdout metrics, the promotion decision
    against production, where the reports are. (The CLI adds the server and next steps.)"""
    lines = ["Summary"]
    metrics = _output(run, "metrics")
    if metrics and "hybrid" in metrics:
        lines.append(f"Hybrid on the test split: {metrics_line(metrics['hybrid'])}.")
    promotion = _output(run, "promotion")
    if promotion:
        lines += promotion_lines(promotion)
    reports = html_reports(run)
    if reports:
        lines.append("Reports (all of them, with the dashboard pages: run_pipeline.py --reports):")
        lines += [r.line() for r in reports]
    return lines if len(lines) > 1 else []
