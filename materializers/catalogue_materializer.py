"""The catalogue's materializer: `FrameMaterializer` (zstd Parquet, statistics that skip the
all-missing columns) under the name the catalogue's artifacts were stored with."""

from __future__ import annotations

from typing import ClassVar

from materializers.frame_materializer import FrameMaterializer


class CatalogueMaterializer(FrameMaterializer):
    SKIP_REGISTRATION: ClassVar[bool] = True  # only where a step names it, not every DataFrame
