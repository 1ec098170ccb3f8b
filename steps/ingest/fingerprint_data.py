"""Checksum of the data files the loading steps read (its value, not its run, keys their cache).

Never cached itself: it reads the files on every run, so a changed file changes the fingerprint
and ZenML reruns `load_ratings` and `load_catalogue_sources` (and everything downstream); an
unchanged one lets them and the steps after them be reused. The library's own source is mixed
in (`library_fingerprint`), so changed library code reruns them too.
"""

from typing import Annotated

from zenml import log_metadata, step

from movie_roulette.config import DataConfig
from movie_roulette.data import sources
from movie_roulette.fingerprint import files_fingerprint, library_fingerprint


@step(enable_cache=False)
def fingerprint_data(data: DataConfig) -> Annotated[str, "data_fingerprint"]:
    files = sources.source_files(data)
    # the library code too: ZenML keys the cache by the step source only
    fingerprint = files_fingerprint(files, salt=data.source + library_fingerprint())
    log_metadata(metadata={"files": [str(f) for f in files], "sha256": fingerprint})
    return fingerprint
