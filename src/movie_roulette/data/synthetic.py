"""Generate a MovieLens-shaped data set of any size (the 25M/32M layout), streaming.

    python -m movie_roulette.data.synthetic --users 162000 --movies 62000 \
        --ratings 25000000 --seed 0 --out DIR

writes DIR/ratings.csv (userId,movieId,rating,timestamp; sorted by user then movie),
movies.csv (movieId,title,genres; "Title (YEAR)", MovieLens genre labels), links.csv
(movieId,imdbId,tmdbId), tags.csv (userId,movieId,tag,timestamp), and the ground truth the
ratings were drawn from: truth.npz (arrays) and truth.json (parameters, rating thresholds).

The model (see docs/scale.md):
* movies: 1-5 genres drawn with ml-latest-small's genre frequencies, a release year, a quality,
  and a Zipf-like popularity (weight ~ (rank + 0.08 % of the movies)^-1.2, random ranks);
* users: a latent taste per genre (standard normal), a rating bias, and a heavy-tailed number of
  ratings (20 + a lognormal share of the rest, as MovieLens keeps users with >= 20 ratings);
* which movies a user rates: sequential sampling without replacement with weight
  popularity * exp(CHOICE_TASTE * affinity), affinity = mean taste over the movie's genres;
* the rating: bias + quality + RATING_TASTE * affinity + noise, cut into half stars at thresholds
  that give ml-latest-small's rating shares (fitted on the first chunk of users, then fixed);
* timestamps: each user is active over a span inside 1996-2019, never before the release year.

Memory holds one chunk of users (about 1M ratings) plus per-movie and per-user arrays; the output
is written chunk by chunk. The same arguments and seed give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from movie_roulette.exceptions import ConfigError

GENRES = (
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "IMAX",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
# movies per genre in ml-latest-small (same order as GENRES)
_GENRE_COUNTS = np.array(
    [1828, 1263, 611, 664, 3756, 1199, 440, 4361, 779, 87, 978, 158, 334, 573, 1596, 980, 1894,
     382, 167],
    np.float64,
)  # fmt: skip
# share of movies with 1..5 genres (ml-latest-small, 6+ folded into 5)
_N_GENRE_SHARES = np.array([0.293, 0.330, 0.240, 0.101, 0.036])
NO_GENRES_SHARE = 0.003  # "(no genres listed)"
RATING_VALUES = np.arange(1, 11) / 2.0
# rating shares of ml-latest-small (0.5, 1.0, ..., 5.0)
RATING_SHARES = np.array(
    [0.01359, 0.02788, 0.01776, 0.07488, 0.05504, 0.19881, 0.13027, 0.26596, 0.0848, 0.13101]
)
MIN_RATINGS_PER_USER = 20
ZIPF_EXPONENT, ZIPF_OFFSET_SHARE = 1.2, 0.0008  # offset: 50 ranks at 62k movies
ACTIVITY_SIGMA = 1.4  # lognormal sigma of the ratings beyond the first 20 (mean/median ~ 2.7)
CHOICE_TASTE = 3.0  # how strongly tastes steer which movies a user rates (see docs/scale.md)
RATING_TASTE = 0.8  # ... and how they rate them
USER_BIAS_SD, QUALITY_SD, NOISE_SD = 0.35, 0.45, 0.6
TAG_SHARE = 0.04  # tags per rating (ml-25m: 1.09M tags for 25M ratings)
T_START, T_END = 820454400, 1574294400  # 1996-01-01 .. 2019-11-21 UTC
_YEAR = 365.25 * 86400
TARGET_CHUNK_RATINGS = 1_000_000
_DRAW_BATCH = 512  # users whose combo CDFs are held at once (512 x #combos floats)
_ROUNDS = 4  # rounds of drawing with replacement before the exact draw takes over
_HEAVY_SHARE = 1 / 8  # users rating more than this share of the movies are drawn exactly
_ADJ = "Silent Red Last Broken Golden Hidden Lost Dark Wild Secret Little Big Long Cold Final"
_NOUN = "River Night Road Garden Empire Heart Island City Shadow Winter Game House Star Dream War"
_TAG_WORDS = "classic|atmospheric|funny|twist ending|great soundtrack|slow|visually stunning"


@dataclass(frozen=True)
class SyntheticSpec:
    users: int
    movies: int
    ratings: int
    seed: int = 0

    def check(self) -> None:
        """Raise ConfigError naming the argument and the fix when the sizes cannot work."""
        if self.users < 1:
            raise ConfigError(f"--users: must be at least 1, got {self.users}.")
        if self.movies < MIN_RATINGS_PER_USER:
            raise ConfigError(
                f"--movies: {self.movies} movies cannot give every user the MovieLens minimum of "
                f"{MIN_RATINGS_PER_USER} distinct ratings; use --movies {MIN_RATINGS_PER_USER} "
                "or more."
            )
        lo, hi = self.users * MIN_RATINGS_PER_USER, self.users * self.movies
        if self.ratings < lo:
            raise ConfigError(
                f"--ratings: {self.ratings} ratings are fewer than {MIN_RATINGS_PER_USER} per "
                f"user for {self.users} users (need at least {lo}); raise --ratings or lower "
                "--users."
            )
        if self.ratings > hi:
            raise ConfigError(
                f"--ratings: {self.ratings} ratings are more than users x movies = {hi} "
                "(each user rates a movie at most once); lower --ratings or raise --users/--movies."
            )


def ml25m_shape(ratings: int, seed: int = 0) -> SyntheticSpec:
    """A spec with MovieLens 25M's users/movies per rating (162k users, 62k movies at 25M)."""
    share = ratings / 25_000_000
    return SyntheticSpec(
        users=max(1, round(162_000 * share)),
        movies=max(MIN_RATINGS_PER_USER, round(62_000 * share)),
        ratings=ratings,
        seed=seed,
    )


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


@dataclass
class _World:
    genre_matrix: np.ndarray  # movies x genres, bool
    genre_norm: np.ndarray  # movies x genres, float32 rows summing to 1 (0 for no genres)
    year: np.ndarray
    quality: np.ndarray
    popularity: np.ndarray  # sums to 1
    combo: np.ndarray  # movie -> combo index
    combo_norm: np.ndarray  # combos x genres float32
    combo_logmass: np.ndarray  # log of the popularity mass of each combo
    movies_by_combo: np.ndarray  # movie indices grouped by combo
    combo_cdf: np.ndarray  # combo index + popularity CDF within the combo (per movie, grouped)
    taste: np.ndarray  # users x genres float32
    bias: np.ndarray
    n_ratings: np.ndarray
    start: np.ndarray
    span: np.ndarray


def _movies(spec: SyntheticSpec) -> dict[str, np.ndarray]:
    rng = _rng(spec.seed, 1)
    m, g = spec.movies, len(GENRES)
    n_genres = rng.choice(np.arange(1, 6), size=m, p=_N_GENRE_SHARES / _N_GENRE_SHARES.sum())
    n_genres[rng.random(m) < NO_GENRES_SHARE] = 0
    keys = np.log(_GENRE_COUNTS / _GENRE_COUNTS.sum())[None, :] + rng.gumbel(size=(m, g))
    ranks = np.argsort(np.argsort(-keys, axis=1), axis=1)
    genre_matrix = ranks < n_genres[:, None]
    year = np.clip(2019 - np.floor(rng.exponential(16.0, m)), 1902, 2019).astype(np.int64)
    popularity = (rng.permutation(m) + max(1.0, ZIPF_OFFSET_SHARE * m)) ** -ZIPF_EXPONENT
    popularity /= popularity.sum()
    log_pop = np.log(popularity)
    quality = rng.normal(0.0, QUALITY_SD, m) + 0.15 * (log_pop - log_pop.mean()) / log_pop.std()
    return {
        "genre_matrix": genre_matrix,
        "year": year,
        "quality": quality,
        "popularity": popularity,
    }


def _activity(spec: SyntheticSpec, rng: np.random.Generator) -> np.ndarray:
    """Ratings per user: 20 + a lognormal share of the rest, capped at the catalogue, summing to
    exactly spec.ratings."""
    n, extra_total, cap = spec.users, spec.ratings - spec.users * MIN_RATINGS_PER_USER, spec.movies
    weights = rng.lognormal(0.0, ACTIVITY_SIGMA, n)
    extra = np.zeros(n, np.int64)
    free = np.ones(n, bool)
    room = cap - MIN_RATINGS_PER_USER
    left = extra_total
    while left > 0:  # water-filling: users at the cap pass their share on
        share = left * weights * free / (weights * free).sum()
        add = np.floor(share).astype(np.int64)
        remainder = int(left - add.sum())
        if remainder:
            frac = np.where(free, share - add, -1.0)
            add[np.argsort(-frac, kind="stable")[:remainder]] += 1
        extra += add
        over = np.clip(extra - room, 0, None)
        extra -= over
        free &= extra < room
        left = int(over.sum())
    return extra + MIN_RATINGS_PER_USER


def build_world(spec: SyntheticSpec) -> _World:
    spec.check()
    mv = _movies(spec)
    gm = mv["genre_matrix"]
    counts = gm.sum(axis=1, keepdims=True)
    genre_norm = (gm / np.maximum(counts, 1)).astype(np.float32)
    code = gm.astype(np.int64) @ (1 << np.arange(len(GENRES), dtype=np.int64))
    combos, combo = np.unique(code, return_inverse=True)
    order = np.lexsort((np.arange(spec.movies), combo))
    pop_sorted = mv["popularity"][order]
    mass = np.bincount(combo, mv["popularity"], minlength=len(combos))
    cum = np.cumsum(pop_sorted)
    start = np.concatenate([[0.0], np.cumsum(mass)])[combo[order]]
    combo_cdf = combo[order] + np.minimum((cum - start) / mass[combo[order]], 1.0)
    combo_gm = ((combos[:, None] >> np.arange(len(GENRES))) & 1).astype(np.float32)
    combo_norm = combo_gm / np.maximum(combo_gm.sum(axis=1, keepdims=True), 1)
    rng = _rng(spec.seed, 2)
    taste = rng.standard_normal((spec.users, len(GENRES))).astype(np.float32)
    bias = rng.normal(0.0, USER_BIAS_SD, spec.users)
    n_ratings = _activity(spec, rng)
    first = T_START + rng.random(spec.users) * (T_END - T_START)
    span = np.minimum(rng.exponential(1.0, spec.users) * _YEAR, T_END - first)
    return _World(
        genre_matrix=gm,
        genre_norm=genre_norm,
        year=mv["year"],
        quality=mv["quality"],
        popularity=mv["popularity"],
        combo=combo,
        combo_norm=combo_norm.astype(np.float32),
        combo_logmass=np.log(mass),
        movies_by_combo=order,
        combo_cdf=combo_cdf,
        taste=taste,
        bias=bias,
        n_ratings=n_ratings,
        start=first,
        span=span,
    )


def _draw_light(w: _World, users: np.ndarray, need: np.ndarray, rng) -> np.ndarray:
    """Movie indices per user (grouped by user, in draw order) by drawing with replacement and
    skipping repeats: sequential sampling without replacement, done in rounds. Users still short
    after `_ROUNDS` rounds (tastes concentrated on few movies) get the rest exactly."""
    logits = w.combo_logmass[None, :] + CHOICE_TASTE * (w.taste[users] @ w.combo_norm.T)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    cdf = (cdf + np.arange(len(users))[:, None]).ravel()
    n_combos = len(w.combo_logmass)
    kept_u = np.empty(0, np.int64)
    kept_m = np.empty(0, np.int64)
    missing = need.copy()
    for _ in range(_ROUNDS):
        if not missing.any():
            break
        draws = np.ceil(missing * 1.25).astype(np.int64) + 4 * (missing > 0)
        row = np.repeat(np.arange(len(users)), draws)
        pos = np.searchsorted(cdf, row + rng.random(len(row)), side="right")
        combo = np.minimum(pos - row * n_combos, n_combos - 1)
        within = np.searchsorted(w.combo_cdf, combo + rng.random(len(row)), side="right")
        within = np.clip(within, 0, len(w.combo_cdf) - 1)
        movie = w.movies_by_combo[within]
        all_u = np.concatenate([kept_u, row])
        all_m = np.concatenate([kept_m, movie])
        key = all_u * len(w.popularity) + all_m
        _, first = np.unique(key, return_index=True)
        first.sort()
        first = first[np.lexsort((first, all_u[first]))]  # by user, then draw order
        u_sorted = all_u[first]
        rank = np.arange(len(first)) - np.searchsorted(u_sorted, u_sorted)
        keep = first[rank < need[u_sorted]]
        kept_u, kept_m = all_u[keep], all_m[keep]
        missing = need - np.bincount(kept_u, minlength=len(users))
    if missing.any():  # the rest of the sequence: Gumbel top-k over the movies not drawn yet
        order = np.argsort(kept_u, kind="stable")
        kept_u, kept_m = kept_u[order], kept_m[order]
        starts = np.searchsorted(kept_u, np.arange(len(users) + 1))
        extra_u, extra_m = [], []
        for row in np.flatnonzero(missing):
            chosen = kept_m[starts[row] : starts[row + 1]]
            extra_u.append(np.full(missing[row], row))
            extra_m.append(_draw_heavy(w, int(users[row]), int(missing[row]), rng, chosen))
        kept_u = np.concatenate([kept_u, *extra_u])
        kept_m = np.concatenate([kept_m, *extra_m])
        order = np.argsort(kept_u, kind="stable")
        kept_m = kept_m[order]
    return kept_m


def _draw_heavy(
    w: _World, user: int, need: int, rng, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Exact sampling without replacement (Gumbel top-k) over the catalogue minus `exclude`."""
    keys = np.log(w.popularity) + CHOICE_TASTE * (w.genre_norm @ w.taste[user])
    keys = keys + rng.gumbel(size=len(keys))
    if exclude is not None and len(exclude):
        keys[exclude] = -np.inf
    return np.argpartition(-keys, need - 1)[:need]


def _chunk_pairs(w: _World, users: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    need = w.n_ratings[users]
    heavy = need > max(MIN_RATINGS_PER_USER, int(_HEAVY_SHARE * len(w.popularity)))
    light, light_need = users[~heavy], need[~heavy]
    parts_u = [np.repeat(light, light_need)]
    parts_m = [
        _draw_light(w, light[a : a + _DRAW_BATCH], light_need[a : a + _DRAW_BATCH], rng)
        for a in range(0, len(light), _DRAW_BATCH)
    ]
    for user in users[heavy]:
        parts_u.append(np.full(w.n_ratings[user], user))
        parts_m.append(_draw_heavy(w, int(user), int(w.n_ratings[user]), rng))
    u, m = np.concatenate(parts_u), np.concatenate(parts_m)
    order = np.lexsort((m, u))
    return u[order], m[order]


def _scores(w: _World, u: np.ndarray, m: np.ndarray, rng) -> np.ndarray:
    affinity = np.einsum("ij,ij->i", w.taste[u], w.genre_norm[m])
    noise = rng.normal(0.0, NOISE_SD, len(u))
    return w.bias[u] + w.quality[m] + RATING_TASTE * affinity + noise


def rating_thresholds(scores: np.ndarray) -> np.ndarray:
    """The 9 cut points that give RATING_SHARES on these scores."""
    return np.quantile(scores, np.cumsum(RATING_SHARES)[:-1])


def _titles(w: _World, rng) -> list[str]:
    adj, noun = _ADJ.split(), _NOUN.split()
    a = rng.integers(0, len(adj), len(w.year))
    n = rng.integers(0, len(noun), len(w.year))
    article = rng.random(len(w.year)) < 0.1
    return [
        f"{adj[a[i]]} {noun[n[i]]} {i + 1}{', The' if article[i] else ''} ({w.year[i]})"
        for i in range(len(w.year))
    ]


def _write_movies(w: _World, out: Path, seed: int) -> None:
    rng = _rng(seed, 3)
    names = np.array(GENRES)
    genres = ["|".join(names[row]) or "(no genres listed)" for row in w.genre_matrix]
    ids = np.arange(1, len(w.year) + 1)
    pd.DataFrame({"movieId": ids, "title": _titles(w, rng), "genres": genres}).to_csv(
        out / "movies.csv", index=False
    )
    tmdb = pd.array(900_000 + ids, dtype="Int64")
    tmdb[rng.random(len(ids)) < 0.002] = pd.NA
    imdb = [f"{9_000_000 + i:07d}" for i in ids]
    pd.DataFrame({"movieId": ids, "imdbId": imdb, "tmdbId": tmdb}).to_csv(
        out / "links.csv", index=False
    )


def _timestamps(w: _World, u: np.ndarray, m: np.ndarray, rng) -> np.ndarray:
    ts = w.start[u] + rng.random(len(u)) * w.span[u]
    released = (w.year[m] - 1970) * _YEAR + rng.random(len(u)) * _YEAR
    return np.minimum(np.maximum(ts, released), T_END).astype(np.int64)


def generate(spec: SyntheticSpec, out: str | Path, *, progress: bool = False) -> dict:
    """Write the data set into `out` (created; existing CSVs are replaced) and return the
    summary also written to truth.json."""
    spec.check()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    w = build_world(spec)
    _write_movies(w, out, spec.seed)
    mean = spec.ratings / spec.users
    chunk = max(1, int(TARGET_CHUNK_RATINGS / mean))
    thresholds = None
    tag_words = np.array(_TAG_WORDS.split("|") + [g.lower() for g in GENRES])
    counts = np.zeros(len(RATING_VALUES), np.int64)
    with (
        open(out / "ratings.csv", "w", newline="") as ratings_f,
        open(out / "tags.csv", "w", newline="") as tags_f,
    ):
        ratings_f.write("userId,movieId,rating,timestamp\n")
        tags_f.write("userId,movieId,tag,timestamp\n")
        for index, first in enumerate(range(0, spec.users, chunk)):
            rng = _rng(spec.seed, 100, index)
            users = np.arange(first, min(first + chunk, spec.users))
            u, m = _chunk_pairs(w, users, rng)
            scores = _scores(w, u, m, rng)
            if thresholds is None:
                thresholds = rating_thresholds(scores)
            level = np.searchsorted(thresholds, scores)
            counts += np.bincount(level, minlength=len(RATING_VALUES))
            ts = _timestamps(w, u, m, rng)
            pd.DataFrame({"u": u + 1, "m": m + 1, "r": RATING_VALUES[level], "t": ts}).to_csv(
                ratings_f, header=False, index=False, float_format="%.1f"
            )
            tagged = rng.random(len(u)) < TAG_SHARE
            pd.DataFrame(
                {
                    "u": u[tagged] + 1,
                    "m": m[tagged] + 1,
                    "tag": tag_words[rng.integers(0, len(tag_words), int(tagged.sum()))],
                    "t": ts[tagged] + 60,
                }
            ).to_csv(tags_f, header=False, index=False)
            if progress:
                print(f"users {users[-1] + 1}/{spec.users}", file=sys.stderr, flush=True)
    np.savez(
        out / "truth.npz",
        genres=np.array(GENRES),
        user_ids=np.arange(1, spec.users + 1),
        user_taste=w.taste,
        user_bias=w.bias,
        user_n_ratings=w.n_ratings,
        movie_ids=np.arange(1, spec.movies + 1),
        movie_genres=w.genre_matrix,
        movie_quality=w.quality,
        movie_popularity=w.popularity,
        movie_year=w.year,
    )
    summary = {
        "spec": asdict(spec),
        "model": {
            "choice_taste": CHOICE_TASTE,
            "rating_taste": RATING_TASTE,
            "user_bias_sd": USER_BIAS_SD,
            "quality_sd": QUALITY_SD,
            "noise_sd": NOISE_SD,
            "zipf_exponent": ZIPF_EXPONENT,
            "zipf_offset_share": ZIPF_OFFSET_SHARE,
            "activity_sigma": ACTIVITY_SIGMA,
        },
        "rating_thresholds": [float(t) for t in thresholds],
        "rating_counts": {f"{v:.1f}": int(c) for v, c in zip(RATING_VALUES, counts, strict=True)},
    }
    (out / "truth.json").write_text(json.dumps(summary, indent=2), "utf-8")
    return summary


class TruthOracle:
    """The generator's own ranking of a data set it wrote: score(user, movie) = log P(the user
    rates the movie) + log P(its rating >= `relevant` | rated), from truth.npz and truth.json.

    It knows what no model can learn (the true tastes, qualities and popularities), so its
    NDCG is the ceiling a learned model approaches on this data; benchmarks/scale.py reports it
    next to the models'. `recommend` has the `Recommender` signature the offline evaluation
    calls (`seen`: the ratings the user is known to have made, excluded as a model excludes
    them)."""

    def __init__(self, folder: str | Path, seen: pd.DataFrame, relevant: float = 4.0) -> None:
        from scipy.stats import norm

        folder = Path(folder)
        truth = np.load(folder / "truth.npz", allow_pickle=False)
        summary = json.loads((folder / "truth.json").read_text("utf-8"))
        level = int(np.searchsorted(RATING_VALUES, relevant))
        if not 1 <= level < len(RATING_VALUES):
            raise ValueError(f"relevant must be a rating above {RATING_VALUES[0]}, got {relevant}")
        self._cut = float(summary["rating_thresholds"][level - 1])
        model = summary["model"]
        self._choice, self._taste_r = model["choice_taste"], model["rating_taste"]
        self._noise = model["noise_sd"]
        genres = truth["movie_genres"].astype(np.float32)
        self._genre_norm = genres / np.maximum(genres.sum(axis=1, keepdims=True), 1)
        self._taste, self._bias = truth["user_taste"], truth["user_bias"]
        self._log_pop = np.log(truth["movie_popularity"])
        self._quality = truth["movie_quality"]
        self.movie_ids = truth["movie_ids"].astype(np.int64)
        self._user_pos = {int(u): i for i, u in enumerate(truth["user_ids"])}
        self._logsf = norm.logsf
        order = np.argsort(self.movie_ids)
        pos = order[np.searchsorted(self.movie_ids[order], seen["movie_id"].to_numpy(np.int64))]
        users = seen["user_id"].to_numpy(np.int64)
        by_user = np.argsort(users, kind="stable")
        keys, starts = np.unique(users[by_user], return_index=True)
        parts = np.split(pos[by_user], starts[1:]) if len(keys) else []
        self._seen = dict(zip(keys.tolist(), parts, strict=True))

    def scores(self, user_id: int) -> np.ndarray:
        """Scores over `movie_ids` (higher: more likely rated and rated >= relevant)."""
        i = self._user_pos[int(user_id)]
        affinity = self._genre_norm @ self._taste[i]
        mean = self._bias[i] + self._quality + self._taste_r * affinity
        return (
            self._log_pop + self._choice * affinity + self._logsf((self._cut - mean) / self._noise)
        )

    def recommend(
        self, user_id: int, k: int = 10, exclude_seen: bool = True
    ) -> list[tuple[int, float]]:
        scores = self.scores(user_id)
        if exclude_seen and int(user_id) in self._seen:
            scores[self._seen[int(user_id)]] = -np.inf
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(self.movie_ids[j]), float(scores[j])) for j in top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m movie_roulette.data.synthetic",
        description="Write a MovieLens-25M-shaped synthetic data set (ratings, movies, links, "
        "tags + ground truth).",
    )
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--movies", type=int, required=True)
    parser.add_argument("--ratings", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    spec = SyntheticSpec(args.users, args.movies, args.ratings, args.seed)
    try:
        spec.check()
    except ConfigError as err:
        parser.error(str(err))  # exits 2
    summary = generate(spec, args.out, progress=not args.quiet)
    total = sum(summary["rating_counts"].values())
    print(f"wrote {total} ratings of {spec.users} users on {spec.movies} movies to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
