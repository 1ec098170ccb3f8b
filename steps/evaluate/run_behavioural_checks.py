"""Behavioural tests: fail the run when the model breaks them."""

from typing import Annotated, Any

from zenml import log_metadata, step

from movie_roulette.bundle import ModelBundle
from movie_roulette.evaluation import behaviour
from movie_roulette.evaluation.seen import seen_ratings
from movie_roulette.ratings_source import RatingsSource


@step
def run_behavioural_checks(
    model_bundle: ModelBundle,
    train: RatingsSource,
    valid: RatingsSource,
    k: int,
    seed: int,
    refit_on_train_and_valid: bool,
) -> Annotated[dict[str, Any], "behaviour_report"]:
    seen = seen_ratings(train, valid, refit_on_train_and_valid)
    report = behaviour.run_behavioural_checks(
        model_bundle.model, seen, model_bundle.catalogue, k=k, seed=seed
    )
    log_metadata(metadata={c["name"]: bool(c["passed"]) for c in report.checks})
    behaviour.raise_for_failure(report)
    return report.to_dict()
