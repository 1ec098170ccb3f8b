"""Generated demo data with real, recoverable signal for every model.

Users have latent genre tastes (Dirichlet on 1-3 genres) and a rating bias; movies have
genres, a latent quality and an exposure (popularity). Which movies a user rates depends on
taste and exposure; the rating on taste match, quality, bias and noise. Reviews follow the
rating. Everything comes from one seeded `numpy.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.data import _demo_vocab as V
from movie_roulette.data.catalogue import coerce_catalogue

GENRES: list[str] = list(V.VOCAB)
START_TS = 1_420_070_400  # 2015-01-01
SPAN_S = 4 * 365 * 86_400
MIN_RATINGS = 20


@dataclass(frozen=True)
class DemoWorld:
    """The latent state the ratings were drawn from (used to draw later batches)."""

    tastes: np.ndarray  # users x genres, rows sum to 1 (user i has id i + 1)
    multi_hot: np.ndarray  # movies x genres (movie j has id j + 1)
    quality: np.ndarray  # per movie
    log_exposure: np.ndarray  # per movie
    bias: np.ndarray  # per user
    counts: np.ndarray  # ratings per user in the generated data


@dataclass(frozen=True)
class DemoData:
    ratings: pd.DataFrame
    catalogue: pd.DataFrame
    reviews: pd.DataFrame
    user_tastes: pd.DataFrame  # user_id, genre, weight (sums to 1 per user)
    genres: list[str]
    world: DemoWorld | None = None


def _names(rng: np.random.Generator, n: int) -> list[str]:
    base = [f"{f} {last}" for f in V.FIRST_NAMES for last in V.LAST_NAMES]
    if n > len(base):
        initials = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
        base += [
            f"{f} {i}. {last}" for i in initials for f in V.FIRST_NAMES for last in V.LAST_NAMES
        ]
    picked = rng.choice(len(base), size=n, replace=False)
    return [base[i] for i in picked]


def _movie_genres(rng: np.random.Generator, n_movies: int) -> list[list[int]]:
    weights = np.array([V.GENRE_POPULARITY[g] for g in GENRES])
    weights = weights / weights.sum()
    counts = rng.choice([1, 2, 3], size=n_movies, p=[0.4, 0.42, 0.18])
    return [list(rng.choice(len(GENRES), size=k, replace=False, p=weights)) for k in counts]


def _title(rng: np.random.Generator, genres: list[int], taken: set[str]) -> str:
    for attempt in range(30):
        v1 = V.VOCAB[GENRES[genres[0]]]
        v2 = V.VOCAB[GENRES[genres[int(rng.integers(len(genres)))]]]
        adj, noun = v1.adjectives[rng.integers(6)], v2.nouns[rng.integers(8)]
        noun2 = v1.nouns[rng.integers(8)]
        pattern = int(rng.integers(5))
        title = (
            f"The {adj} {noun}",
            f"{noun2} of the {adj} {noun}",
            f"{adj} {noun}",
            f"The {noun2}'s {noun}",
            f"{noun2}: {adj} {noun}",
        )[pattern]
        if attempt >= 10:
            title = f"{title} {('II', 'III', 'IV', 'Returns', 'Reborn')[attempt % 5]}"
        if title not in taken and noun2 != noun:
            return title
    return f"{title} ({len(taken)})"


def _overview(rng: np.random.Generator, genres: list[int], keywords: list[str]) -> str:
    main = V.VOCAB[GENRES[genres[0]]]
    hero = main.heroes[rng.integers(len(main.heroes))]
    plot = main.plots[rng.integers(len(main.plots))]
    setting = main.settings[rng.integers(len(main.settings))]
    sentences = [f"{hero[0].upper()}{hero[1:]} {plot} {setting}."]
    kws = keywords[:3]
    listed = kws[0] if len(kws) == 1 else ", ".join(kws[:-1]) + f" and {kws[-1]}"
    adjective = main.adjectives[rng.integers(6)].lower()
    article = "An" if adjective[0] in "aeiou" else "A"
    sentences.append(f"{article} {adjective} story of {listed}.")
    if len(genres) > 1:
        other = V.VOCAB[GENRES[genres[1]]]
        sentences.append(
            f"Along the way, {other.heroes[rng.integers(len(other.heroes))]} "
            f"{other.plots[rng.integers(len(other.plots))]}."
        )
    return " ".join(sentences)


def _catalogue(rng: np.random.Generator, n_movies: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The catalogue frame and the movie x genre multi-hot matrix."""
    n_genres = len(GENRES)
    movie_genres = _movie_genres(rng, n_movies)
    n_directors = max(n_genres, n_movies // 5)
    n_actors = max(3 * n_genres, n_movies)
    names = _names(rng, n_directors + n_actors)
    director_genre = rng.permutation(np.arange(n_directors) % n_genres)
    actor_genre = rng.permutation(np.arange(n_actors) % n_genres)
    directors_by = [np.flatnonzero(director_genre == g) for g in range(n_genres)]
    actors_by = [np.flatnonzero(actor_genre == g) for g in range(n_genres)]
    taken: set[str] = set()
    rows = []
    for i, genres in enumerate(movie_genres):
        title = _title(rng, genres, taken)
        taken.add(title)
        pool = directors_by[genres[0]] if rng.random() < 0.85 else np.arange(n_directors)
        director = names[int(rng.choice(pool))]
        cast: list[int] = []
        while len(cast) < int(rng.integers(3, 6)):
            u = rng.random()
            g = genres[0] if u < 0.6 or len(genres) == 1 else genres[1]
            pick = int(rng.choice(actors_by[g] if u < 0.85 else np.arange(n_actors)))
            if pick not in cast:
                cast.append(pick)
        vocab = V.VOCAB[GENRES[genres[0]]].keywords
        keywords = [str(k) for k in rng.choice(vocab, size=int(rng.integers(3, 6)), replace=False)]
        for g in genres[1:]:
            keywords += [str(rng.choice(V.VOCAB[GENRES[g]].keywords))]
        keywords = list(dict.fromkeys(keywords))
        rows.append(
            {
                C.MOVIE_ID: i + 1,
                C.TITLE: title,
                C.GENRES: "|".join(GENRES[g] for g in genres),
                C.DIRECTOR: director,
                C.CAST: "|".join(names[n_directors + a] for a in cast),
                C.KEYWORDS: "|".join(keywords),
                C.OVERVIEW: _overview(rng, genres, keywords),
            }
        )
    frame = pd.DataFrame(rows)
    frame[C.YEAR] = np.clip(2023 - np.floor(rng.exponential(12.0, n_movies)), 1950, 2023)
    frame[C.IMDB_ID] = [f"tt{9_000_001 + i}" for i in range(n_movies)]
    tmdb = pd.array(900_001 + np.arange(n_movies), dtype="Int64")
    tmdb[rng.random(n_movies) < 0.02] = pd.NA
    frame[C.TMDB_ID] = tmdb
    multi_hot = np.zeros((n_movies, n_genres))
    for i, genres in enumerate(movie_genres):
        multi_hot[i, genres] = 1.0
    return frame, multi_hot


def _tastes(rng: np.random.Generator, n_users: int) -> np.ndarray:
    weights = np.array([V.GENRE_POPULARITY[g] for g in GENRES])
    weights = weights / weights.sum()
    tastes = np.empty((n_users, len(GENRES)))
    for u in range(n_users):
        alpha = np.full(len(GENRES), 0.05)
        liked = rng.choice(len(GENRES), size=rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]), p=weights)
        alpha[liked] = 4.0
        tastes[u] = rng.dirichlet(alpha)
    return tastes


def _affinity(tastes: np.ndarray, multi_hot: np.ndarray) -> np.ndarray:
    match = tastes @ (multi_hot / multi_hot.sum(axis=1, keepdims=True)).T  # mean taste weight
    return np.clip(np.log(len(GENRES) * match + 0.05) / np.log(8.0), -1.0, 1.0)


def _rate(
    rng: np.random.Generator, affinity: np.ndarray, quality: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    """Half-star ratings from taste match, movie quality, user bias and noise."""
    latent = 3.3 + 1.0 * affinity + 0.45 * quality + bias
    noisy = latent + rng.normal(0.0, 0.55, len(latent))
    return np.clip(np.round(noisy * 2.0) / 2.0, 0.5, 5.0)


def _ratings(
    rng: np.random.Generator,
    tastes: np.ndarray,
    multi_hot: np.ndarray,
    mean_ratings: int,
) -> tuple[pd.DataFrame, DemoWorld]:
    n_users, n_movies = tastes.shape[0], multi_hot.shape[0]
    quality = rng.normal(0.0, 1.0, n_movies)
    log_exposure = 0.4 * quality + rng.normal(0.0, 1.0, n_movies)
    affinity = _affinity(tastes, multi_hot)
    low = min(MIN_RATINGS, n_movies)
    extra = rng.gamma(1.2, max(mean_ratings - MIN_RATINGS, 0) / 1.2, n_users)
    high = max(low, int(0.7 * n_movies))
    counts = np.clip(np.rint(MIN_RATINGS + extra), low, high).astype(int)
    keys = 0.8 * log_exposure + 2.0 * affinity + rng.gumbel(size=(n_users, n_movies))
    order = np.argsort(-keys, axis=1, kind="stable")
    chosen = np.arange(n_movies)[None, :] < counts[:, None]
    users, ranks = np.nonzero(chosen)
    movies = order[users, ranks]
    bias = rng.normal(0.0, 0.35, n_users)
    rating = _rate(rng, affinity[users, movies], quality[movies], bias[users])
    start = START_TS + rng.uniform(0.0, 0.85, n_users) * SPAN_S
    active = np.minimum(rng.exponential(200 * 86_400, n_users), START_TS + SPAN_S - start)
    when = start[users] + rng.uniform(0.0, 1.0, len(users)) * active[users]
    frame = pd.DataFrame(
        {
            C.USER_ID: (users + 1).astype("int64"),
            C.MOVIE_ID: (movies + 1).astype("int64"),
            C.RATING: rating.astype("float64"),
            C.TIMESTAMP: when.astype("int64"),
        }
    )
    frame = frame.sort_values([C.USER_ID, C.TIMESTAMP, C.MOVIE_ID], kind="stable")
    world = DemoWorld(tastes, multi_hot, quality, log_exposure, bias, counts)
    return frame.reset_index(drop=True), world


def _review_text(rng: np.random.Generator, rating: float, movie: pd.Series) -> str:
    genre = movie[C.GENRES].split("|")[0]
    fill = {
        "title": movie[C.TITLE],
        "noun": V.VOCAB[genre].review_noun,
        "actor": movie[C.CAST].split("|")[0],
        "director": movie[C.DIRECTOR],
    }
    p_mixed = 0.75 * np.exp(-((rating - 3.0) ** 2) / 0.6)
    p_positive = 1.0 / (1.0 + np.exp(-3.0 * (rating - 3.0)))
    sentences: list[str] = []
    for _ in range(int(rng.integers(2, 5))):
        if rng.random() < p_mixed:
            bank = V.MIXED
        else:
            bank = V.POSITIVE if rng.random() < p_positive else V.NEGATIVE
        sentence = bank[int(rng.integers(len(bank)))].format(**fill)
        if sentence not in sentences:
            sentences.append(sentence)
    return " ".join(sentences)


def _reviews(
    rng: np.random.Generator, ratings: pd.DataFrame, catalogue: pd.DataFrame, n: int
) -> pd.DataFrame:
    n = min(n, len(ratings))
    picked = ratings.iloc[np.sort(rng.choice(len(ratings), size=n, replace=False))]
    movies = catalogue.set_index(C.MOVIE_ID)
    texts = [
        _review_text(rng, float(r), movies.loc[m])
        for r, m in zip(picked[C.RATING], picked[C.MOVIE_ID], strict=True)
    ]
    when = pd.to_datetime(picked[C.TIMESTAMP].to_numpy(), unit="s", utc=True)
    return pd.DataFrame(
        {
            C.REVIEW_ID: [f"demo-{i + 1:06d}" for i in range(n)],
            C.MOVIE_ID: picked[C.MOVIE_ID].to_numpy(dtype="int64"),
            C.USER_ID: pd.array(picked[C.USER_ID].to_numpy(), dtype="Int64"),
            C.RATING: picked[C.RATING].to_numpy(dtype="float64"),
            C.REVIEW_TEXT: texts,
            C.AUTHOR: [f"demo user {u}" for u in picked[C.USER_ID].to_numpy()],
            C.REVIEW_TITLE: [_headline(t) for t in texts],
            C.REVIEW_DATE: when.strftime("%Y-%m-%d").tolist(),
            C.REVIEW_SOURCE: "demo",
        }
    )


def _headline(text: str, width: int = 60) -> str:
    first = text.split(". ")[0].rstrip(".")
    return first if len(first) <= width else first[: width - 3].rsplit(" ", 1)[0] + "..."


def _details(seed: int, catalogue: pd.DataFrame, ratings: pd.DataFrame) -> pd.DataFrame:
    """runtime, vote_average, vote_count and release_date for the demo catalogue (from a
    separate generator, so the ratings and reviews of a seed are unchanged). The vote average
    is the movie's shrunk mean rating on a 0-10 scale; there are no posters ("")."""
    rng = np.random.default_rng([seed, 7])
    n = len(catalogue)
    out = catalogue.copy()
    out[C.RUNTIME] = np.clip(np.rint(rng.normal(108, 20, n)), 72, 210).astype("int64")
    stats = ratings.groupby(C.MOVIE_ID)[C.RATING].agg(["sum", "count"])
    mu = float(ratings[C.RATING].mean()) if len(ratings) else 3.5
    count = out[C.MOVIE_ID].map(stats["count"]).fillna(0).to_numpy()
    total = out[C.MOVIE_ID].map(stats["sum"]).fillna(0).to_numpy()
    out[C.VOTE_AVERAGE] = np.round(2.0 * (total + 10 * mu) / (count + 10), 1)
    out[C.VOTE_COUNT] = np.rint(count * rng.uniform(20, 60, n)).astype("int64")
    out[C.POSTER_PATH] = ""
    day = rng.integers(0, 365, n)
    years = out[C.YEAR].astype("int64").to_numpy()
    out[C.RELEASE_DATE] = [
        (pd.Timestamp(year=int(y), month=1, day=1) + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d")
        for y, d in zip(years, day, strict=True)
    ]
    return coerce_catalogue(out)


def generate_demo(
    seed: int = 42,
    n_movies: int = 400,
    n_users: int = 300,
    mean_ratings_per_user: int = 90,
    n_reviews: int = 3000,
) -> DemoData:
    """Generate ratings, a catalogue, reviews and the latent tastes; deterministic for a seed."""
    for name, value in (("n_movies", n_movies), ("n_users", n_users)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}.")
    if n_reviews < 0:
        raise ValueError(f"n_reviews must be >= 0, got {n_reviews}.")
    rng = np.random.default_rng(seed)
    catalogue, multi_hot = _catalogue(rng, n_movies)
    tastes = _tastes(rng, n_users)
    ratings, world = _ratings(rng, tastes, multi_hot, mean_ratings_per_user)
    catalogue[C.POPULARITY] = np.round(10.0 * np.exp(world.log_exposure), 3)
    catalogue = coerce_catalogue(catalogue)
    reviews = _reviews(rng, ratings, catalogue, n_reviews)
    catalogue = _details(seed, catalogue, ratings)
    user_tastes = pd.DataFrame(
        {
            C.USER_ID: np.repeat(np.arange(1, n_users + 1, dtype="int64"), len(GENRES)),
            "genre": np.tile(GENRES, n_users),
            "weight": tastes.ravel(),
        }
    )
    return DemoData(ratings, catalogue, reviews, user_tastes, list(GENRES), world)


def _shift_target(demo: DemoData, shift_genres: Sequence[str] | None) -> np.ndarray:
    """Taste vector the shift moves towards: the given genres, else the 3 least-rated ones."""
    if shift_genres:
        unknown = sorted(set(shift_genres) - set(GENRES))
        if unknown:
            raise ValueError(f"shift_genres: unknown genre(s) {unknown}; use some of {GENRES}.")
        picked = [GENRES.index(g) for g in shift_genres]
    else:
        assert demo.world is not None
        movie_share = demo.world.multi_hot[demo.ratings[C.MOVIE_ID].to_numpy() - 1].sum(axis=0)
        picked = list(np.argsort(movie_share, kind="stable")[:3])
    target = np.zeros(len(GENRES))
    target[picked] = 1.0 / len(picked)
    return target


def generate_batch(
    demo: DemoData,
    n_ratings: int,
    seed: int,
    start_ts: int,
    span_s: int = 30 * 86_400,
    exclude: pd.DataFrame | None = None,
    taste_shift: float = 0.0,
    shift_genres: Sequence[str] | None = None,
    new_user_share: float = 0.0,
) -> pd.DataFrame:
    """New ratings drawn from the same latent world as `demo`, after `start_ts`.

    With the defaults the batch follows the training distribution: users are drawn in proportion
    to their activity and pick unseen movies by the same taste/exposure rule. `taste_shift` in
    [0, 1] moves every user's taste towards `shift_genres` (default: the three least-rated
    genres); `new_user_share` of the ratings come from new users (ids above every existing id)
    whose tastes are the shifted target. (user, movie) pairs in `demo.ratings` or `exclude` are
    never drawn again.
    """
    world = demo.world
    if world is None:
        raise ValueError("demo has no latent world; generate it with generate_demo().")
    if n_ratings < 1:
        raise ValueError(f"n_ratings must be at least 1, got {n_ratings}.")
    for name, value in (("taste_shift", taste_shift), ("new_user_share", new_user_share)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value}.")
    if span_s < 1:
        raise ValueError(f"span_s must be at least 1 second, got {span_s}.")
    rng = np.random.default_rng(seed)
    n_users, n_movies = world.tastes.shape[0], world.multi_hot.shape[0]
    seen = pd.concat([demo.ratings, exclude] if exclude is not None else [demo.ratings])
    target = _shift_target(demo, shift_genres)

    n_new = int(round(n_ratings * new_user_share))
    n_old = n_ratings - n_new
    known_max = int(seen[C.USER_ID].max())
    per_new_user = 20
    new_users = int(np.ceil(n_new / per_new_user)) if n_new else 0
    tastes = (1.0 - taste_shift) * world.tastes + taste_shift * target
    if new_users:
        alpha = 0.05 + 4.0 * target * (target > 0)
        new_tastes = np.vstack([rng.dirichlet(alpha) for _ in range(new_users)])
        tastes = np.vstack([tastes, new_tastes])
    bias = np.concatenate([world.bias, rng.normal(0.0, 0.35, new_users)])
    affinity = _affinity(tastes, world.multi_hot)

    counts = np.zeros(n_users + new_users, dtype=int)
    if n_old:
        counts[:n_users] = rng.multinomial(n_old, world.counts / world.counts.sum())
    if new_users:
        counts[n_users:] = n_new // new_users
        counts[n_users : n_users + n_new % new_users] += 1
    seen_by_user: dict[int, np.ndarray] = {
        int(u): g[C.MOVIE_ID].to_numpy() - 1 for u, g in seen.groupby(C.USER_ID)
    }
    users, movies = [], []
    for index in np.flatnonzero(counts):
        user_id = index + 1 if index < n_users else known_max + 1 + (index - n_users)
        keys = 0.8 * world.log_exposure + 2.0 * affinity[index] + rng.gumbel(size=n_movies)
        taken = seen_by_user.get(int(user_id))
        if taken is not None:
            keys[taken[(taken >= 0) & (taken < n_movies)]] = -np.inf
        available = int(np.isfinite(keys).sum())
        chosen = np.argsort(-keys, kind="stable")[: min(counts[index], available)]
        users.extend([index] * len(chosen))
        movies.extend(chosen.tolist())
    users_a, movies_a = np.array(users, dtype=int), np.array(movies, dtype=int)
    rating = _rate(rng, affinity[users_a, movies_a], world.quality[movies_a], bias[users_a])
    user_ids = np.where(users_a < n_users, users_a + 1, known_max + 1 + (users_a - n_users))
    frame = pd.DataFrame(
        {
            C.USER_ID: user_ids.astype("int64"),
            C.MOVIE_ID: (movies_a + 1).astype("int64"),
            C.RATING: rating.astype("float64"),
            C.TIMESTAMP: (start_ts + rng.integers(0, span_s, len(users_a))).astype("int64"),
        }
    )
    return frame.sort_values([C.TIMESTAMP, C.USER_ID, C.MOVIE_ID], kind="stable").reset_index(
        drop=True
    )
