"""ZenML steps: thin wrappers over movie_roulette."""
