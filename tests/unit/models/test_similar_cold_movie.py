"""`similar` for a movie nobody has rated yet: content neighbours, not a crash."""

from __future__ import annotations

from movie_roulette.config import ModelConfig, SplitConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.data.split import train_valid_test
from movie_roulette.models.hybrid import train_hybrid


def test_similar_movies_of_an_unrated_catalogue_movie_uses_content() -> None:
    demo = generate_demo(seed=3, n_movies=120, n_users=60, mean_ratings_per_user=30, n_reviews=10)
    unrated = int(demo.catalogue["movie_id"].iloc[7])
    ratings = demo.ratings[demo.ratings["movie_id"] != unrated]
    train, valid, _ = train_valid_test(ratings, SplitConfig(), seed=3)
    model = train_hybrid(train, valid, demo.catalogue, ModelConfig(), seed=3)
    pairs = model.similar_movies(unrated, k=5)
    ids = [m for m, _ in pairs]
    assert len(ids) == len(set(ids)) == 5 and unrated not in ids
    genres = set(demo.catalogue.set_index("movie_id").loc[unrated, "genres"].split("|"))
    neighbour_genres = demo.catalogue.set_index("movie_id").loc[ids, "genres"].str.split("|")
    assert all(genres & set(g) for g in neighbour_genres)  # content neighbours share a genre
