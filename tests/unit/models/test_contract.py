"""Every recommender passes the same contract checks on the tiny fixture."""

from __future__ import annotations

from movie_roulette.models.base import Recommender
from movie_roulette.models.collaborative import SVDRecommender
from movie_roulette.models.content import ContentRecommender
from movie_roulette.models.genre_taste import GenreTasteRecommender
from movie_roulette.models.hybrid import HybridRecommender, make_components
from movie_roulette.models.implicit import EASERecommender, ItemKNNRecommender
from movie_roulette.models.popularity import PopularityRecommender
from tests.unit.models.contract import RecommenderContract
from tests.unit.models.tiny import tiny_model_config


class TestPopularityContract(RecommenderContract):
    def make(self) -> Recommender:
        return PopularityRecommender()


class TestGenreTasteContract(RecommenderContract):
    def make(self) -> Recommender:
        return GenreTasteRecommender(smoothing=2.0)


class TestSVDContract(RecommenderContract):
    expected_rmse_range = (0.0, 1.2)

    def make(self) -> Recommender:
        return SVDRecommender(n_factors=4, n_epochs=60, lr_all=0.02, seed=7)


class TestContentContract(RecommenderContract):
    expected_rmse_range = (0.0, 0.8)

    def make(self) -> Recommender:
        return ContentRecommender(n_neighbours=5)


class TestEASEContract(RecommenderContract):
    def make(self) -> Recommender:
        return EASERecommender(l2=5.0, min_item_ratings=1)


class TestItemKNNContract(RecommenderContract):
    expected_rmse_range = (0.0, 1.0)

    def make(self) -> Recommender:
        return ItemKNNRecommender(n_neighbours=5, min_item_ratings=1)


class TestHybridContract(RecommenderContract):
    expected_rmse_range = (0.0, 1.0)

    def make(self) -> Recommender:
        return HybridRecommender(make_components(tiny_model_config(), seed=3))
