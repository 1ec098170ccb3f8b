"""Genre label normalisation across MovieLens, IMDb and TMDB."""

from __future__ import annotations

from collections.abc import Iterable

# lower-cased alias -> canonical (MovieLens spelling where MovieLens has the genre)
GENRE_ALIASES: dict[str, str] = {
    "science fiction": "Sci-Fi",
    "science-fiction": "Sci-Fi",
    "sci fi": "Sci-Fi",
    "scifi": "Sci-Fi",
    "sci-fi": "Sci-Fi",
    "family": "Children",
    "children's": "Children",
    "kids": "Children",
    "film noir": "Film-Noir",
    "film-noir": "Film-Noir",
    "tv movie": "TV Movie",
    "biography": "Biography",
    "musical": "Musical",
    "music": "Music",
}
DROPPED_GENRES = frozenset({"", "(no genres listed)"})


def normalise_genre(label: str) -> str:
    """'Science Fiction' -> 'Sci-Fi'; other labels are stripped and title-cased per word."""
    text = " ".join(label.split())
    if text.lower() in DROPPED_GENRES:
        return ""
    return GENRE_ALIASES.get(text.lower(), text if not text.islower() else text.title())


def merge_genres(*pipe_joined: str) -> str:
    """Union of pipe-separated genre strings, normalised, first-seen order, pipe-joined."""
    seen: dict[str, None] = {}
    for value in pipe_joined:
        for label in split_pipes(value):
            genre = normalise_genre(label)
            if genre:
                seen.setdefault(genre, None)
    return "|".join(seen)


def split_pipes(value: object) -> list[str]:
    """'a|b||c' -> ['a', 'b', 'c']; non-strings (NA) -> []."""
    if not isinstance(value, str) or not value:
        return []
    return [part.strip() for part in value.split("|") if part.strip()]


def merge_pipes(values: Iterable[object], *, lower: bool = False) -> str:
    """Union of pipe-separated strings, de-duplicated case-insensitively, first-seen order."""
    seen: dict[str, str] = {}
    for value in values:
        for item in split_pipes(value):
            item = " ".join(item.split())
            item = item.lower() if lower else item
            seen.setdefault(item.lower(), item)
    return "|".join(seen.values())
