"""Column names used everywhere. Every function takes these as defaults."""

# interactions
USER_ID = "user_id"
MOVIE_ID = "movie_id"
RATING = "rating"
TIMESTAMP = "timestamp"  # int64 unix seconds

# catalogue (one row per movie)
TITLE = "title"
YEAR = "year"  # Int64, nullable
GENRES = "genres"  # pipe-separated string, e.g. "Action|Comedy" ("" when unknown)
DIRECTOR = "director"  # string ("" when unknown)
CAST = "cast"  # pipe-separated top-billed actors
KEYWORDS = "keywords"  # pipe-separated plot keywords / tags
OVERVIEW = "overview"  # plot text
POPULARITY = "popularity"  # float, number of ratings in the training data or source popularity
IMDB_ID = "imdb_id"  # "tt0114709" or <NA>
TMDB_ID = "tmdb_id"  # Int64 or <NA>

# reviews
REVIEW_TEXT = "review"
REVIEW_ID = "review_id"

# predictions
SCORE = "score"
PREDICTION = "prediction"

CATALOGUE_COLUMNS = [
    MOVIE_ID,
    TITLE,
    YEAR,
    GENRES,
    DIRECTOR,
    CAST,
    KEYWORDS,
    OVERVIEW,
    POPULARITY,
    IMDB_ID,
    TMDB_ID,
]
RATINGS_COLUMNS = [USER_ID, MOVIE_ID, RATING, TIMESTAMP]
