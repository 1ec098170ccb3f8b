"""The tail both training pipelines share: judge the trained bundle, register the recipe refitted
on every rating, build its model card beside production, promote, deploy.

Production is loaded and made comparable on the run's split once (`load_comparable_production`)
for both the card and the promotion.
"""

from collections.abc import Callable
from typing import Any

from movie_roulette.config import PipelineConfig
from movie_roulette.monitoring.batches import event_log_path
from pipelines.model import registered_model
from steps.deploy.deploy_model import deploy_model
from steps.evaluate.build_model_card import build_model_card
from steps.evaluate.evaluate_models import evaluate_models
from steps.evaluate.run_behavioural_checks import run_behavioural_checks
from steps.evaluate.sample_test_users import sample_test_users
from steps.register.load_comparable_production import load_comparable_production
from steps.register.promote_model import promote_model
from steps.register.register_model import register_model
from steps.train.refit_for_serving import refit_on_all_ratings

REFIT = "refit_on_all_ratings"


def judge_and_release(
    config: PipelineConfig,
    bundle: Any,
    train: Any,
    valid: Any,
    test: Any,
    ratings: Any,
    after_register: Callable[[Any], None] | None = None,
    parts_on_spark: bool = False,
) -> tuple[Any, Any]:
    """Step outputs (ZenML artifacts) in, `(promotion, deployment)` out. `after_register(version)`
    runs right after registration (the continuous pipeline records the version's data).
    `parts_on_spark`: train / valid / test are the Spark prepare step's files (engine: spark in
    the training pipeline), so the served model's Spark ALS refits read them on Spark."""
    refit_all = config.model.refit_on_train_and_valid
    # judged on a seeded sample of test users when evaluation.max_users says so (trained on all)
    judged = (
        sample_test_users(test, config.evaluation, config.seed)
        if config.evaluation.max_users is not None
        else test
    )
    metrics = evaluate_models(bundle, train, valid, judged, config.evaluation, refit_all)
    behaviour = run_behavioural_checks(
        bundle, train, valid, config.evaluation.k, config.seed, refit_all
    )
    refit = refit_on_all_ratings
    if parts_on_spark:
        from steps.spark.refit_on_all_ratings_spark import refit_on_all_ratings_spark

        refit = refit_on_all_ratings_spark  # (in the run under the same name)
    served, fits = refit(bundle, train, valid, test, refit_all, config.spark, id=REFIT)
    model = registered_model(config.model_name)
    version = register_model.with_options(model=model)(
        served, metrics, behaviour, ratings, fits, config
    )
    if after_register is not None:
        after_register(version)
    production = load_comparable_production(train, valid, judged, config)
    audit = None
    if config.audit.enabled:
        _, audit = build_model_card.with_options(model=model)(
            version, bundle, train, valid, judged, config, production
        )
    promotion = promote_model.with_options(model=model)(
        version, bundle, metrics, train, valid, judged, config, production, audit
    )
    deployment = deploy_model.with_options(model=model)(
        promotion, config.model_name, config.serving, str(event_log_path(config))
    )
    return promotion, deployment
