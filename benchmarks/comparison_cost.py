"""What `promote_model`'s like-for-like comparison costs, on one pipeline run's own artifacts.

    ZENML_CONFIG_PATH=DIR python benchmarks/comparison_cost.py [--run RUN] [--repeats N] --json

Loads the inputs of the run's `promote_model` step (default: the latest `training_pipeline` run
whose promotion compared with production): the evaluated candidate, the train / valid / judged
test frames and production as `load_comparable_production` made it comparable. Then it times
`compare_like_with_like` two ways, alternating, in one process:

* `all_metrics`: each group's metric taken from `evaluate()` (every metric: rankings and the
  rating predictions of every test row, for both models), as before 2026-12-02;
* `primary_family`: only the primary metric's family (`like_for_like._metric` now).

Both must give the same groups (checked; the script fails otherwise). Prints one JSON object:
seconds per way and repeat, their ratio, the groups, the data's size.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's `serving` package, not benchmarks/serving.py

from movie_roulette.config import config_from_dict  # noqa: E402
from movie_roulette.evaluation import like_for_like  # noqa: E402
from movie_roulette.evaluation.offline import evaluate  # noqa: E402


def _all_metrics(model: Any, seen: Any, test: Any, metric: str, **kw: Any) -> float:
    """The comparison's metric before 2026-12-02: every metric computed, one kept."""
    if test.empty:
        return float("nan")
    return float(evaluate(model, seen, test, **kw)[metric])


def _run(run_name: str | None) -> Any:
    from zenml.client import Client
    from zenml.utils import source_utils

    # the project's modules (materializers, the deployer flavor) from the checkout, wherever
    # the script is run from (ZenML would take the script's folder, where serving.py lives)
    source_utils.set_custom_source_root(str(ROOT))
    client = Client()
    if run_name:
        return client.get_pipeline_run(run_name)
    runs = client.list_pipeline_runs(sort_by="desc:created", size=20, hydrate=True)
    for run in runs.items:
        step = run.steps.get("promote_model")
        if step is not None and step.outputs and "production" in step.inputs:
            promotion = step.outputs["promotion"][0].load()
            if promotion.get("production_version"):
                return run
    raise SystemExit("no training run compared with production: run the pipeline twice first")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--run", default=None, help="pipeline run name or id (default: latest)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    run = _run(args.run)
    inputs = run.steps["promote_model"].inputs
    load = {name: inputs[name][0].load() for name in ("model_bundle", "train", "valid", "test")}
    cfg = config_from_dict(run.steps["promote_model"].config.parameters["config"])
    production = inputs["production"][0].load()
    candidate = load["model_bundle"].model
    kw: dict[str, Any] = {
        "k": cfg.evaluation.k,
        "threshold": cfg.evaluation.relevance_threshold,
        "refit_on_train_and_valid": cfg.model.refit_on_train_and_valid,
        "production_catalogue": production.catalogue,
        "prepared_notes": production.notes,
    }
    metric = cfg.promotion.primary_metric
    ways = {"all_metrics": _all_metrics, "primary_family": like_for_like._metric}
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    groups: dict[str, list[dict[str, Any]]] = {}
    now = like_for_like._metric
    try:
        for _ in range(args.repeats):
            for way, fn in ways.items():
                like_for_like._metric = fn
                start = time.perf_counter()
                comparison = like_for_like.compare_like_with_like(
                    candidate,
                    production.model,
                    load["train"],
                    load["valid"],
                    load["test"],
                    metric,
                    **kw,
                )
                seconds[way].append(round(time.perf_counter() - start, 2))
                groups[way] = [g.to_dict() for g in comparison.groups]
    finally:
        like_for_like._metric = now
    # (as JSON: an empty group's NaN equals NaN there)
    if json.dumps(groups["all_metrics"]) != json.dumps(groups["primary_family"]):
        raise SystemExit(f"the two ways disagree: {json.dumps(groups, indent=1)}")
    best = {way: min(s) for way, s in seconds.items()}
    out = {
        "run": run.name,
        "metric": metric,
        "train_rows": len(load["train"]),
        "test_rows": len(load["test"]),
        "test_users": int(load["test"]["user_id"].nunique()),
        "seconds": seconds,
        "all_metrics_over_primary_family": round(best["all_metrics"] / best["primary_family"], 2),
        "groups": groups["primary_family"],
    }
    print(json.dumps(out, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
