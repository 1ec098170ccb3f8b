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

# catalogue details (always present in a merged catalogue; NA / "" when unknown)
RUNTIME = "runtime"  # Int64 minutes
VOTE_AVERAGE = "vote_average"  # float64 0-10 (TMDB), NaN when unknown
VOTE_COUNT = "vote_count"  # Int64 (TMDB)
POSTER_PATH = "poster_path"  # TMDB image path such as "/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg", or ""
RELEASE_DATE = "release_date"  # "YYYY-MM-DD", or ""

# per-movie review sentiment (added to the catalogue when the sentiment model ran)
SENTIMENT_SHARE = "sentiment_positive_share"  # float64 share of positive reviews, NaN = none
SENTIMENT_COUNT = "sentiment_count"  # int64 number of scored reviews
SENTIMENT_CONFIDENCE = "sentiment_confidence"  # float64 in [0, 1], 0 = no reviews

# reviews
REVIEW_TEXT = "review"
REVIEW_ID = "review_id"
AUTHOR = "author"  # reviewer name ("" when unknown)
REVIEW_TITLE = "title"  # review headline ("" when unknown)
REVIEW_DATE = "date"  # "YYYY-MM-DD" or ""
REVIEW_SOURCE = "source"  # "demo", "tmdb" or "imdb"
SENTIMENT = "sentiment"  # probability that the review is positive
SENTIMENT_LABEL = "sentiment_label"  # "positive" / "negative"

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
DETAIL_COLUMNS = [RUNTIME, VOTE_AVERAGE, VOTE_COUNT, POSTER_PATH, RELEASE_DATE]
SENTIMENT_COLUMNS = [SENTIMENT_SHARE, SENTIMENT_COUNT, SENTIMENT_CONFIDENCE]
RATINGS_COLUMNS = [USER_ID, MOVIE_ID, RATING, TIMESTAMP]
REVIEW_COLUMNS = [
    REVIEW_ID,
    MOVIE_ID,
    USER_ID,
    RATING,
    REVIEW_TEXT,
    AUTHOR,
    REVIEW_TITLE,
    REVIEW_DATE,
    REVIEW_SOURCE,
]
SCORED_REVIEW_COLUMNS = [*REVIEW_COLUMNS, SENTIMENT, SENTIMENT_LABEL]
