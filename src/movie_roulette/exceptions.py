"""Domain exceptions. Each carries a message that names the problem and the fix."""


class MovieRouletteError(Exception):
    """Base class for all project errors."""


class ConfigError(MovieRouletteError, ValueError):
    """A configuration value is missing or invalid."""


class DataSourceError(MovieRouletteError):
    """A data file is missing, unreadable or malformed, or a download failed."""


class ValidationFailed(MovieRouletteError):
    """A Great Expectations suite failed; `report` holds the readable summary."""

    def __init__(self, message: str, report: dict | None = None) -> None:
        super().__init__(message)
        self.report = report or {}


class UnknownUserError(MovieRouletteError, KeyError):
    """The user id was not seen when the model was fitted."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "unknown user"


class UnknownMovieError(MovieRouletteError, KeyError):
    """The movie id was not seen when the model was fitted."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown movie"


class UnknownGenreError(MovieRouletteError, ValueError):
    """A genre filter matches no movie of the model; the message lists the known genres."""


class BundleError(MovieRouletteError):
    """A model bundle is missing, incomplete or of an unsupported schema version."""


class BehaviouralCheckFailed(MovieRouletteError):
    """The model broke one of the behavioural tests."""


class SourceError(DataSourceError):
    """A live source (TMDB API, IMDb pages) cannot be used for this run."""


class SourceAuthError(SourceError):
    """The source rejected the credentials (TMDB status 7 / HTTP 401), or none were given."""


class RequestBudgetExceeded(SourceError):
    """The per-run request budget of a live source is used up."""


class TooManyFailures(SourceError):
    """More items failed than the configured failure-share ceiling allows."""

    def __init__(self, message: str, report: dict | None = None) -> None:
        super().__init__(message)
        self.report = report or {}


class MemoryBudgetError(MovieRouletteError, MemoryError):
    """A fit would need more memory than the configured budget (raised before it starts)."""
