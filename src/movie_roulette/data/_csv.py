"""Checked CSV reading shared by the source loaders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from movie_roulette.exceptions import DataSourceError


def read_checked_csv(
    path: Path,
    *,
    what: str,
    fix: str,
    dtype: Mapping[str, str],
    na_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Read the columns in `dtype` from `path`; `na_columns` treat "" as missing.

    Text columns keep "" (never NaN). Errors are `DataSourceError`s naming the file and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"{what} file {path} is missing. {fix}")
    required = list(dtype)
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as err:
        raise DataSourceError(f"{what} file {path} is unreadable ({err}). {fix}") from err
    columns = [str(c).strip() for c in header.columns]
    missing = [c for c in required if c not in columns]
    if missing:
        raise DataSourceError(
            f"{what} file {path} lacks required column(s) {missing} (found {columns}). {fix}"
        )
    try:
        frame = pd.read_csv(
            path,
            usecols=required,
            dtype=dict(dtype),
            keep_default_na=False,
            na_values={c: [""] for c in na_columns},
            encoding="utf-8-sig",
        )
    except (OSError, UnicodeDecodeError, ValueError, TypeError, pd.errors.ParserError) as err:
        raise DataSourceError(f"{what} file {path} is malformed ({err}). {fix}") from err
    return frame[required]
