"""Serving: the MLflow pyfunc model (from code), registry helpers, the HTTP client."""
