"""The file operations the project's materializers use, on the local disk: what ZenML's local
artifact store does under its own API, for using a materializer outside a ZenML stack
(benchmarks/artifact_io.py, the materializer tests)."""

from __future__ import annotations

import os
from typing import IO, Any


class LocalFiles:
    @staticmethod
    def exists(path: str) -> bool:
        return os.path.exists(path)

    @staticmethod
    def open(path: str, mode: str = "r") -> IO[Any]:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, mode)

    @staticmethod
    def listdir(path: str) -> list[str]:
        return os.listdir(path)
