"""The validation report: one format for every suite (GX results and custom checks alike)."""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_EXAMPLES = 5
_MAX_LIST_IN_DETAILS = 20


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, tuples, NaN and NA into plain JSON types (NaN -> None)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Series):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def compact_details(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Expectation kwargs without GX bookkeeping, long lists shortened."""
    details: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in {"batch_id", "result_format", "column", "column_list", "catch_exceptions"}:
            continue
        if isinstance(value, list | tuple | set) and len(value) > _MAX_LIST_IN_DETAILS:
            head = sorted(value, key=str)[:5] if isinstance(value, set) else list(value)[:5]
            value = {"first": head, "count": len(value)}
        details[key] = value
    return to_jsonable(details)


def make_result(
    expectation: str,
    columns: list[str] | None,
    success: bool,
    *,
    observed: Any = None,
    unexpected_count: int | None = None,
    unexpected_percent: float | None = None,
    unexpected_examples: list[Any] | None = None,
    details: dict[str, Any] | None = None,
    error: str | None = None,
    custom: bool = False,
) -> dict[str, Any]:
    """One result row. `custom` marks checks computed in pandas because GX has no expectation."""
    columns = list(columns or [])
    return to_jsonable(
        {
            "expectation": expectation,
            "column": ", ".join(columns) if columns else None,
            "columns": columns,
            "success": bool(success),
            "observed": observed,
            "unexpected_count": unexpected_count,
            "unexpected_percent": unexpected_percent,
            "unexpected_examples": list(unexpected_examples or [])[:MAX_EXAMPLES],
            "details": details or {},
            "error": error,
            "custom": custom,
        }
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if value.is_integer() and abs(value) < 1e16 else f"{value:.6g}"
    return repr(value) if isinstance(value, str) else str(value)


def _describe(result: dict[str, Any]) -> str:
    parts = []
    if result.get("error"):
        parts.append(f"error: {result['error']}")
    if result.get("unexpected_count"):
        pct = result.get("unexpected_percent")
        pct_txt = f" ({pct:.3g}%)" if pct is not None else ""
        parts.append(f"{result['unexpected_count']} unexpected value(s){pct_txt}")
    if result.get("observed") is not None:
        parts.append(f"observed {_fmt(result['observed'])}")
    if result.get("unexpected_examples"):
        examples = ", ".join(_fmt(v) for v in result["unexpected_examples"])
        parts.append(f"e.g. [{examples}]")
    return "; ".join(parts)


def _details_text(details: dict[str, Any]) -> str:
    parts = []
    for key, value in details.items():
        if isinstance(value, list) and len(value) > 6:
            value = f"[{', '.join(_fmt(v) for v in value[:4])}, ... {len(value)} values]"
            parts.append(f"{key}={value}")
        else:
            parts.append(f"{key}={_fmt(value)}")
    return ", ".join(parts)


@dataclass
class ValidationReport:
    """Outcome of one suite. `results` holds one dict per expectation (see `make_result`)."""

    suite: str
    success: bool
    results: list[dict[str, Any]] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r["success"]]

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "suite": self.suite,
                "success": self.success,
                "statistics": self.statistics,
                "results": self.results,
            }
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ValidationReport:
        """Rebuild a report from `to_dict()` output (e.g. a stored pipeline artifact)."""
        return cls(
            suite=str(raw["suite"]),
            success=bool(raw["success"]),
            results=list(raw.get("results", [])),
            statistics=dict(raw.get("statistics", {})),
        )

    def to_text(self) -> str:
        total = len(self.results)
        failed = self.failures
        rows = self.statistics.get("rows")
        rows_txt = f", {rows} rows" if rows is not None else ""
        status = "PASSED" if self.success else "FAILED"
        lines = [
            f"Validation suite '{self.suite}' {status}: "
            f"{len(failed)} of {total} expectations failed{rows_txt}."
        ]
        for result in failed:
            column = f" on column '{result['column']}'" if result.get("column") else ""
            details = _details_text(result.get("details") or {})
            details_txt = f" ({details})" if details else ""
            lines.append(f"  FAILED {result['expectation']}{column}{details_txt}")
            described = _describe(result)
            if described:
                lines.append(f"         {described}")
        n_passed = total - len(failed)
        if n_passed:
            lines.append(f"  {n_passed} expectation(s) passed.")
        return "\n".join(lines)

    def to_html(self) -> str:
        esc = html.escape
        status = "PASSED" if self.success else "FAILED"
        head = (
            "<tr><th>status</th><th>expectation</th><th>column</th><th>observed</th>"
            "<th>unexpected</th><th>examples</th><th>details</th></tr>"
        )
        rows = []
        for r in sorted(self.results, key=lambda r: r["success"]):
            unexpected = ""
            if r.get("unexpected_count") is not None:
                pct = r.get("unexpected_percent")
                unexpected = f"{r['unexpected_count']}" + (f" ({pct:.3g}%)" if pct else "")
            observed = r.get("error") or ("" if r.get("observed") is None else r["observed"])
            cells = [
                "ok" if r["success"] else "FAILED",
                r["expectation"] + (" (custom)" if r.get("custom") else ""),
                r.get("column") or "",
                _fmt(observed) if observed != "" else "",
                unexpected,
                ", ".join(_fmt(v) for v in r.get("unexpected_examples") or []),
                _details_text(r.get("details") or {}),
            ]
            css = "ok" if r["success"] else "fail"
            rows.append(
                f'<tr class="{css}">' + "".join(f"<td>{esc(str(c))}</td>" for c in cells) + "</tr>"
            )
        stats = esc(_details_text(self.statistics))
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{esc(self.suite)} validation</title><style>"
            "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
            "tr.fail{background:#fde2e2}tr.ok{background:#e6f4ea}"
            "</style></head><body>"
            f"<h2>Suite '{esc(self.suite)}': {status}</h2><p>{stats}</p>"
            f"<table>{head}{''.join(rows)}</table></body></html>"
        )
