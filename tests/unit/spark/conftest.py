from __future__ import annotations

import pytest

from movie_roulette.spark.session import get_session
from tests.spark_support import require_java, spark_test_config


@pytest.fixture(scope="session")
def spark():
    require_java()
    return get_session(spark_test_config())
