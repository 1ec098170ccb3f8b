"""One SparkSession for the whole test session (unit and integration tests share its settings,
so the pipeline run reuses it instead of starting a second JVM)."""

from __future__ import annotations

import shutil

import pytest

from movie_roulette.config import SparkConfig

# local[1]: one core, two shuffle partitions, no UI: quick and light on a shared machine
SPARK_TEST_SETTINGS = {
    "master": "local[1]",
    "shuffle_partitions": 2,
    "driver_memory": "1g",
    "ui": False,
    "log_level": "ERROR",
}


def spark_test_config() -> SparkConfig:
    return SparkConfig(**SPARK_TEST_SETTINGS)


def require_java() -> None:
    if shutil.which("java") is None:
        pytest.skip("Java 17 is missing (apt-get install -y openjdk-17-jre-headless; .ci/run does)")
