"""Data sources, catalogue merge and splits.

sources (dispatch on DataConfig.source) -> movielens / imdb_csv / tmdb_csv loaders or demo;
download (GroupLens ml-latest-small, verified); catalogue (merge + join coverage); split.
"""
