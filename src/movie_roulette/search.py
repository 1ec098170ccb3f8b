"""Title search (the web autocomplete, the server's title lookup, `movie-roulette search`):
case-, accent- and typo-tolerant, fast on 10k titles.

Tiers, best first (ties broken by popularity, then the shorter title):
1. the title (or the title without its leading article) starts with the query;
2. every query word starts a word of the title, in any order ("matrix reload");
3. the query occurs inside the title;
4. fuzzy match (rapidfuzz WRatio >= 70) for typos ("godfahter", "shawshank redemtion").
The fuzzy tier only runs when the first three found fewer than `limit` titles, and only on the
titles sharing a third of the query's character trigrams (see benchmarks/autocomplete.py).
A trailing year ("heat 1995") ranks the movie of that year first.

`resolve` turns a typed title into one movie or a list of candidates: a title whose core (the
title without a trailing ", The" or a parenthesised alternative title: "Matrix, The" -> "matrix",
"Spirited Away (Sen to Chihiro...)" -> "spirited away") equals the query wins; several such titles
(remakes) or only partial matches ("star wars") are ambiguous and answer with the candidates.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

_ARTICLES = ("the ", "a ", "an ", "le ", "la ", "les ", "el ", "il ", "der ", "die ", "das ")
_NON_WORD = re.compile(r"[^\w]+")
_YEAR = re.compile(r"^(18|19|20)\d\d$")
_PARENS = re.compile(r"\([^)]*\)")
_TRAILING_ARTICLE = re.compile(r",\s*(the|a|an|le|la|les|el|il|der|die|das|l')\s*$", re.I)
TYPO_RATIO = 85.0  # a query this close (rapidfuzz ratio) to one core title only names that title
FUZZY_CUTOFF = 70.0
_MAX = "\U0010ffff"


def normalise(text: str) -> str:
    """Lower case, accents removed, '&' as 'and', punctuation as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.casefold().replace("&", " and ").replace("'", "")
    return _NON_WORD.sub(" ", plain).replace("_", " ").strip()


def core_title(title: str) -> str:
    """The normalised title without a year, parenthesised alternative titles and a leading or
    trailing article: "Matrix, The (1999)" and "The Matrix" -> "matrix"."""
    text = _PARENS.sub(" ", str(title)).strip()
    text = _TRAILING_ARTICLE.sub("", text)
    return _without_article(normalise(text))


def _trigrams(key: str) -> set[str]:
    padded = f" {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _without_article(key: str) -> str:
    for article in _ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            return key[len(article) :]
    return key


@dataclass(frozen=True)
class Match:
    movie_id: int
    title: str
    year: int | None
    score: float  # higher is better; tier * 100 + within-tier score
    tier: str  # "prefix" | "words" | "substring" | "fuzzy"


@dataclass(frozen=True)
class Resolution:
    """What a typed title names: `movie_id` when exactly one movie, else `candidates` (best
    first; empty when nothing matches)."""

    movie_id: int | None
    candidates: list[Match]

    @property
    def ambiguous(self) -> bool:
        return self.movie_id is None and len(self.candidates) > 1


class TitleIndex:
    """Built once from (movie_id, title, year, popularity) rows; `suggest` is read-only and
    safe to call from several threads."""

    def __init__(self, rows: Iterable[tuple[int, str, int | None, float]]) -> None:
        self.ids: list[int] = []
        self.titles: list[str] = []
        self.years: list[int | None] = []
        self.keys: list[str] = []
        self._pop: list[float] = []
        self._tokens: list[tuple[str, ...]] = []
        self._core_keys: list[str] = []
        self._cores: dict[str, list[int]] = {}  # core title -> positions
        for movie_id, title, year, popularity in rows:
            self.ids.append(int(movie_id))
            self.titles.append(str(title))
            self.years.append(None if year is None else int(year))
            key = normalise(title)
            self.keys.append(key)
            pop = float(popularity) if popularity is not None else 0.0
            self._pop.append(math.log1p(max(pop, 0.0)) if math.isfinite(pop) else 0.0)
            self._tokens.append(tuple(key.split()))
            self._core_keys.append(core_title(title))
            self._cores.setdefault(self._core_keys[-1], []).append(len(self.ids) - 1)
        top = max(self._pop, default=0.0) or 1.0
        self._pop = [p / top for p in self._pop]  # 0..1
        # whole-title prefix lookup: sorted (key, position) over keys and article-less keys
        prefixed = {(k, i) for i, k in enumerate(self.keys)}
        prefixed |= {(_without_article(k), i) for i, k in enumerate(self.keys)}
        self._sorted = sorted(prefixed)
        self._sorted_keys = [k for k, _ in self._sorted]
        # word lookup: sorted vocabulary -> positions of the titles holding the word
        postings: dict[str, set[int]] = {}
        for i, tokens in enumerate(self._tokens):
            for token in tokens:
                postings.setdefault(token, set()).add(i)
        self._vocab = sorted(postings)
        self._postings = [postings[t] for t in self._vocab]
        # fuzzy prefilter: character trigram -> positions of the titles holding it
        grams: dict[str, list[int]] = {}
        for i, key in enumerate(self.keys):
            for gram in _trigrams(key):
                grams.setdefault(gram, []).append(i)
        self._grams = {g: np.asarray(p, np.int32) for g, p in grams.items()}

    def __len__(self) -> int:
        return len(self.ids)

    # ---- tiers ------------------------------------------------------------------------------
    def _prefix(self, query: str) -> set[int]:
        lo = bisect.bisect_left(self._sorted_keys, query)
        hi = bisect.bisect_left(self._sorted_keys, query + _MAX)
        return {i for _, i in self._sorted[lo:hi]}

    def _word_prefix_positions(self, word: str) -> set[int]:
        lo = bisect.bisect_left(self._vocab, word)
        hi = bisect.bisect_left(self._vocab, word + _MAX)
        found: set[int] = set()
        for posting in self._postings[lo:hi]:
            found |= posting
        return found

    def _words(self, words: list[str]) -> set[int]:
        if not words:
            return set()
        ordered = sorted(words, key=len, reverse=True)  # most selective first
        candidates = self._word_prefix_positions(ordered[0])
        for word in ordered[1:]:
            candidates = {i for i in candidates if any(t.startswith(word) for t in self._tokens[i])}
        return candidates

    def _substring(self, query: str, skip: set[int]) -> set[int]:
        return {i for i, key in enumerate(self.keys) if i not in skip and query in key}

    def _fuzzy_candidates(self, query: str) -> dict[int, str]:
        """Titles sharing at least a third of the query's trigrams (a typo breaks at most
        three of them), so that the fuzzy scorer runs on tens of titles, not ten thousand."""
        grams = [self._grams[g] for g in _trigrams(query) if g in self._grams]
        if not grams:
            return {}
        counts = np.bincount(np.concatenate(grams), minlength=len(self.keys))
        need = max(1, len(_trigrams(query)) // 3)
        return {int(i): self.keys[i] for i in np.flatnonzero(counts >= need)}

    def _fuzzy(self, query: str, limit: int, skip: set[int]) -> dict[int, float]:
        found = process.extract(
            query,
            self._fuzzy_candidates(query),
            scorer=fuzz.WRatio,
            processor=None,
            limit=limit + len(skip),
            score_cutoff=FUZZY_CUTOFF,
        )
        return {i: score for _, score, i in found if i not in skip}

    # ---- public -----------------------------------------------------------------------------
    def suggest(self, query: str, limit: int = 8) -> list[Match]:
        """Up to `limit` titles for what someone has typed so far, best first."""
        if limit < 1:
            raise ValueError(f"limit: {limit} must be >= 1")
        key = normalise(query)
        if not key:
            return []
        words = key.split()
        year: int | None = None
        if len(words) > 1 and _YEAR.match(words[-1]):
            year = int(words[-1])
            words = words[:-1]
            key = " ".join(words)
        scored: dict[int, tuple[float, str]] = {}

        def add(positions: Iterable[int], tier_score: float, tier: str) -> None:
            for i in positions:
                if i not in scored:
                    bonus = 0.5 if year is not None and self.years[i] == year else 0.0
                    exact = (
                        0.3 if self.keys[i] == key or _without_article(self.keys[i]) == key else 0
                    )
                    scored[i] = (tier_score + bonus + exact + 0.2 * self._pop[i], tier)

        add(self._prefix(key), 4.0, "prefix")
        add(self._words(words), 3.0, "words")
        if len(scored) < limit and len(key) >= 2:
            add(self._substring(key, set(scored)), 2.0, "substring")
        if len(scored) < limit and len(key) >= 3:
            fuzzy = self._fuzzy(key, limit, set(scored))
            for i, similarity in fuzzy.items():
                bonus = 0.5 if year is not None and self.years[i] == year else 0.0
                scored[i] = (similarity / 100.0 + bonus + 0.2 * self._pop[i], "fuzzy")
        ranked = sorted(scored.items(), key=lambda kv: (-kv[1][0], len(self.keys[kv[0]]), kv[0]))
        return [
            Match(self.ids[i], self.titles[i], self.years[i], round(score * 100, 3), tier)
            for i, (score, tier) in ranked[:limit]
        ]

    def _match(self, i: int, tier: str) -> Match:
        return Match(self.ids[i], self.titles[i], self.years[i], round(100 * self._pop[i], 3), tier)

    def resolve(self, query: str, limit: int = 8) -> Resolution:
        """One movie for a typed title, or the candidates when it is ambiguous (see module)."""
        key = normalise(query)
        words = key.split()
        year: int | None = None
        if len(words) > 1 and _YEAR.match(words[-1]):  # "heat 1995", "Heat (1995)"
            year = int(words[-1])
        wanted = core_title(" ".join(words[:-1]) if year is not None else query)
        exact = self._cores.get(wanted, [])
        if year is not None and len(exact) > 1:
            exact = [i for i in exact if self.years[i] == year] or exact
        if len(exact) == 1:
            return Resolution(self.ids[exact[0]], [self._match(exact[0], "exact")])
        if exact:
            ranked = sorted(exact, key=lambda i: (-self._pop[i], self.ids[i]))[:limit]
            return Resolution(None, [self._match(i, "exact") for i in ranked])
        found = self.suggest(query, limit=limit)
        if len(found) == 1:
            return Resolution(found[0].movie_id, found)
        typo = self._typo_of_one_title(wanted)
        if typo is not None:  # "godfahter" -> "Godfather, The", not "Godfather: Part II"
            return Resolution(self.ids[typo], [self._match(typo, "fuzzy")])
        return Resolution(None, found)

    def _typo_of_one_title(self, wanted: str) -> int | None:
        """The position of the only core title within TYPO_RATIO of `wanted`, else None."""
        if len(wanted) < 4:
            return None
        cores = {i: self._core_keys[i] for i in self._fuzzy_candidates(wanted)}
        close = process.extract(
            wanted, cores, scorer=fuzz.ratio, processor=None, limit=2, score_cutoff=TYPO_RATIO
        )
        return int(close[0][2]) if len(close) == 1 else None
