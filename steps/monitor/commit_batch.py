"""Gate on the batch's Great Expectations result, then store it and move the cursor atomically."""

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.monitoring.store import InteractionStore
from movie_roulette.validation import ValidationReport, raise_for_failure


@step(enable_cache=False)
def commit_batch(
    batch: pd.DataFrame,
    batch_validation: dict[str, Any],
    batch_info: dict[str, Any],
    state_dir: str,
) -> Annotated[dict[str, Any], "batch_commit"]:
    raise_for_failure(ValidationReport.from_dict(batch_validation))  # bad batch: nothing stored
    store = InteractionStore(Path(state_dir))
    record = store.commit(
        batch,
        batch_info["source"],
        batch_info["cursor_before"],
        batch_info["cursor_after"],
        info={k: v for k, v in batch_info.items() if k not in ("cursor_before", "cursor_after")},
    )
    result = {
        "stored": record is not None,
        "batch_index": record.index if record else None,
        "rows": record.rows if record else 0,
        "state_dir": str(store.root),
    }
    log_metadata(metadata={"batch_commit": result})
    return result
