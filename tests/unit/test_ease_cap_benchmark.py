"""benchmarks/ease_cap.py: its cap parsing, the capped config and the interleaved CPU timing."""

from __future__ import annotations

from types import ModuleType

import pytest

from movie_roulette.models.hybrid import train_hybrid
from tests.benchmarks_support import load_benchmark
from tests.unit.models.tiny import split_tiny, tiny_catalogue, tiny_model_config, tiny_ratings


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("ease_cap")


def test_caps_parse_to_whole_numbers_or_none_and_bad_ones_are_named(bench: ModuleType) -> None:
    assert bench.parse_caps("none, 4000,2000,4000") == [None, 4000, 2000]
    for bad in ("0", "-5", "2k", "1.5"):
        with pytest.raises(ValueError, match="positive whole number"):
            bench.parse_caps(bad)
    with pytest.raises(SystemExit):
        bench.main(["--caps", "abc"])


def test_a_capped_config_trains_ease_on_the_most_rated_movies_only(bench: ModuleType) -> None:
    ratings = tiny_ratings()
    train, valid = split_tiny(ratings)
    cfg = tiny_model_config()
    assert bench.capped(cfg, 5).implicit.ease_max_items == 5
    assert cfg.implicit.ease_max_items is None  # the original is untouched
    catalogue = tiny_catalogue()
    models = {
        bench.label(cap): train_hybrid(train, valid, catalogue, bench.capped(cfg, cap), seed=0)
        for cap in (None, 5)
    }
    assert models["none"].components["ease"].n_movies == models["none"].n_movies == 20
    assert models["5"].components["ease"].n_movies == 5
    cpu = bench.recommend_cpu(models, n_users=20, passes=2, seed=0)
    assert set(cpu) == {"none", "5"}
    for row in cpu.values():
        assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"] + 0.1
