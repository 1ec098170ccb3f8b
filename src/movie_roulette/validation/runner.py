"""Run a list of Great Expectations 1.x expectations on a pandas frame.

One fresh ephemeral GX context per call, a pandas data source with a whole-dataframe batch
definition, an ExpectationSuite and a ValidationDefinition, all with unique names, removed after
the run. Great Expectations is imported lazily: importing this package stays cheap.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd

from movie_roulette.validation.report import (
    MAX_EXAMPLES,
    ValidationReport,
    compact_details,
    make_result,
)

_LOCK = threading.Lock()


@dataclass(frozen=True)
class Expect:
    """An expectation by GX class name (e.g. "ExpectColumnValuesToNotBeNull") and its kwargs."""

    name: str
    kwargs: dict[str, Any]


def expect(name: str, **kwargs: Any) -> Expect:
    return Expect(name, kwargs)


def _gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx


def _new_context(gx: Any) -> Any:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _convert(gx_result: Any) -> dict[str, Any]:
    config = gx_result.expectation_config
    kwargs = dict(config.kwargs)
    if "column_list" in kwargs:
        columns = list(kwargs["column_list"])
    elif "column" in kwargs:
        columns = [kwargs["column"]]
    else:
        columns = []
    res = dict(gx_result.result or {})
    error = None
    info = gx_result.exception_info or {}
    if isinstance(info, dict):
        infos = [info] if "raised_exception" in info else list(info.values())
        for item in infos:
            if isinstance(item, dict) and item.get("raised_exception"):
                error = item.get("exception_message") or "expectation raised an exception"
                break
    return make_result(
        config.type,
        columns,
        bool(gx_result.success) and error is None,
        observed=res.get("observed_value"),
        unexpected_count=res.get("unexpected_count"),
        unexpected_percent=res.get("unexpected_percent"),
        unexpected_examples=res.get("partial_unexpected_list"),
        details=compact_details(kwargs),
        error=error,
    )


def run_suite(
    frame: pd.DataFrame,
    suite: str,
    expectations: list[Expect],
    extra_results: list[dict[str, Any]] | None = None,
    statistics: dict[str, Any] | None = None,
    *,
    rows: int | None = None,
) -> ValidationReport:
    """Validate `frame` (one whole-dataframe batch) against `expectations`.

    `extra_results` are rows produced by custom pandas checks (see `report.make_result`); they are
    merged into the same report. Results keep the order of `expectations`, then the extras.
    `frame` may also be a Spark DataFrame (GX's Spark data source validates it where it is;
    `rows`: its row count, known to the caller).
    """
    spark = not isinstance(frame, pd.DataFrame)
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    if expectations:
        gx = _gx()
        import great_expectations.expectations as gxe

        tag = f"{suite}_{uuid.uuid4().hex[:12]}"
        objects = [getattr(gxe, e.name)(**e.kwargs) for e in expectations]
        with _LOCK:
            context = _new_context(gx)
            source = (
                context.data_sources.add_spark(name=f"src_{tag}", persist=False)
                if spark
                else context.data_sources.add_pandas(name=f"src_{tag}")
            )
            batch_def = source.add_dataframe_asset(
                name=f"asset_{tag}"
            ).add_batch_definition_whole_dataframe(f"batch_{tag}")
            gx_suite = context.suites.add(gx.ExpectationSuite(name=f"suite_{tag}"))
            for obj in objects:
                gx_suite.add_expectation(obj)
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"validation_{tag}", data=batch_def, suite=gx_suite)
            )
            try:
                outcome = definition.run(
                    batch_parameters={"dataframe": frame},
                    result_format={
                        "result_format": "SUMMARY",
                        "partial_unexpected_count": MAX_EXAMPLES,
                    },
                )
            finally:
                context.validation_definitions.delete(f"validation_{tag}")
                context.suites.delete(f"suite_{tag}")
                context.data_sources.delete(f"src_{tag}")
        order = {str(obj.id): i for i, obj in enumerate(gx_suite.expectations)}
        ranked = sorted(
            outcome.results, key=lambda r: order.get(str(r.expectation_config.id), len(order))
        )
        results = [_convert(r) for r in ranked]
        for result in results:  # GX reports no dtype for object columns; name it
            column = result["column"]
            if spark:
                continue
            if result["expectation"].endswith("_in_type_list") and column in frame.columns:
                if result["observed"] is None:
                    result["observed"] = f"dtype {frame[column].dtype}"
    results.extend(extra_results or [])
    n_failed = sum(not r["success"] for r in results)
    stats = {
        "rows": rows if rows is not None else len(frame),
        "evaluated_expectations": len(results),
        "successful_expectations": len(results) - n_failed,
        "unsuccessful_expectations": n_failed,
        "seconds": round(time.perf_counter() - started, 3),
    }
    stats.update(statistics or {})
    return ValidationReport(suite=suite, success=n_failed == 0, results=results, statistics=stats)
