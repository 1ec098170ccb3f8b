"""Item content features (TF-IDF over catalogue text fields)."""
