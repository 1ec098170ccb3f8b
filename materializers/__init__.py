"""ZenML materializers; they delegate to movie_roulette.bundle."""
