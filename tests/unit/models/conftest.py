from __future__ import annotations

import pandas as pd
import pytest

from tests.unit.models.tiny import tiny_catalogue, tiny_ratings


@pytest.fixture(scope="session")
def ratings() -> pd.DataFrame:
    return tiny_ratings()


@pytest.fixture(scope="session")
def catalogue() -> pd.DataFrame:
    return tiny_catalogue()
