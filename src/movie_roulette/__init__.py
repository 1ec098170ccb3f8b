"""Movie Roulette domain library: data, validation, features, models, evaluation.

This package must never import zenml or mlflow, so it can be tested and served on its own.
"""

__version__ = "0.1.0"
