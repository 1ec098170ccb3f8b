"""The namespace Spark cluster (make spark-cluster): executors really run in the worker
namespaces, the model quality matches local mode, and losing the workers is one clear line.

Runs when this process can create network namespaces (root + iproute2) and Java is there;
skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from movie_roulette.config import (
    DataConfig,
    DemoConfig,
    SparkConfig,
    SplitConfig,
    config_from_dict,
)
from movie_roulette.data import sources
from movie_roulette.data.split import train_valid_test
from movie_roulette.evaluation.metrics import ndcg_at_k
from movie_roulette.spark import cluster
from movie_roulette.spark.als import make_spark_als_components
from movie_roulette.spark.session import SparkEngineError, get_session, spark_errors, stop_session

pytestmark = [pytest.mark.cluster, pytest.mark.spark, pytest.mark.slow]

# enough users that the NDCG of two equally good models is not decided by a few swaps
DATA = DataConfig(demo=DemoConfig(n_movies=300, n_users=800, mean_ratings_per_user=50))
ALS = {"als": {"rank": 8, "max_iter": 8}, "als_implicit": {"rank": 16, "max_iter": 8}}


@pytest.fixture(scope="module")
def running():
    ok, why = cluster.can_create_namespaces()
    if not ok:
        pytest.skip(f"the namespace cluster cannot run here: {why}")
    if cluster.load_state() is not None:
        pytest.skip("a namespace cluster is already running (make spark-cluster-stop first)")
    state = cluster.start(n_workers=2, worker_cores=1, worker_memory="1g")
    try:
        yield state
    finally:
        stop_session()
        cluster.stop()


def _cluster_config(state, **extra) -> SparkConfig:
    raw = {
        "master": state.master_url,
        "driver_host": state.driver_ip,
        "executor_memory": "512m",
        "shuffle_partitions": 4,
        "connect_timeout_s": 120,
        **ALS,
        **extra,
    }
    return config_from_dict({"spark": raw}).spark


def _quality(cfg: SparkConfig) -> tuple[float, float]:
    ratings = sources.load_ratings(DATA, seed=5)
    train, _, test = train_valid_test(ratings, SplitConfig(valid_fraction=0.0), seed=5)
    comps = make_spark_als_components(cfg, seed=1)
    for comp in comps.values():
        comp.fit(train)
    exp, imp = comps["als_explicit"], comps["als_implicit"]
    errs, ndcgs = [], []
    for user, group in test.groupby("user_id"):
        known = group[group["movie_id"].isin(exp.movie_ids)]
        errs.append(exp.predict_rating(user, known["movie_id"]) - known["rating"].to_numpy())
        liked = set(group.loc[group["rating"] >= 4.0, "movie_id"])
        if liked:
            ndcgs.append(ndcg_at_k([m for m, _ in imp.recommend(user, k=10)], liked, 10))
    return float(np.mean(ndcgs)), float(np.sqrt(np.mean(np.concatenate(errs) ** 2)))


def test_executors_run_in_the_worker_namespaces_and_match_local_quality(running) -> None:
    on = _cluster_config(running)
    local = _quality(
        SparkConfig(
            master="local[2]", shuffle_partitions=4, als=on.als, als_implicit=on.als_implicit
        )
    )
    spark = get_session(_cluster_config(running))
    seen = set(
        spark.sparkContext.parallelize(range(8), 8).mapPartitions(cluster.task_location).collect()
    )
    expected = {(n.ip, os.stat(f"/run/netns/{n.name}").st_ino) for n in running.workers()}
    assert seen == expected  # each worker namespace ran tasks, with its own address
    on_cluster = _quality(_cluster_config(running))
    # the cluster sums partial results in another order (floating point): not bit-equal.
    # The 1 % is measured at 5M ratings (benchmarks/spark.py, docs/spark.md); here,
    # on 40k ratings, NDCG@10 within 2 % and RMSE within 1 %
    assert on_cluster[0] == pytest.approx(local[0], rel=0.02)  # NDCG@10
    assert on_cluster[1] == pytest.approx(local[1], rel=0.01)  # RMSE
    # the executors' own logs (in the workers' folders) name the driver on the bridge
    logs = [
        p.read_text() for n in running.workers() for p in Path(n.work_dir).glob("app-*/*/stderr")
    ]
    assert logs and all(f"{cluster.DRIVER_IP}" in text for text in logs)


def test_losing_every_worker_mid_job_is_one_clear_line(running) -> None:
    # after the test above, this reuses its session (the timeout needs no new one): the
    # watchdog must follow the 10 s asked for here, not the 120 s the session started with
    spark = get_session(_cluster_config(running, connect_timeout_s=10))
    errors: list[BaseException] = []

    def job() -> None:
        try:
            with spark_errors("running a slow job"):
                spark.sparkContext.parallelize(range(4), 4).map(
                    lambda x: time.sleep(120) or x
                ).collect()
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    worker = threading.Thread(target=job)
    worker.start()
    time.sleep(15)
    for node in running.workers():
        cluster.kill_worker(node.name)
    worker.join(timeout=120)
    assert not worker.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], SparkEngineError)
    text = str(errors[0])
    assert "lost every worker while running a slow job" in text and "\n" not in text
