"""The metrics catalogue for Python: ``commops.metrics.compute("stars", period="week")``.

The same definitions as ``commops metrics`` (docs/metrics.md), over the workspace's analytics
snapshot, which is brought up to date first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from commops.analytics.engine import Engine, spark_backend
from commops.analytics.metrics import DEFINITIONS, Definition, Metrics, Params, Result
from commops.analytics.snapshot import Snapshot
from commops.errors import UsageError
from commops.workspace import open_workspace

__all__ = [
    "DEFINITIONS",
    "Definition",
    "Params",
    "Result",
    "catalogue",
    "compute",
    "compute_all",
    "explain",
]

PARAMS = tuple(f.name for f in dataclasses.fields(Params))


def catalogue() -> list[Definition]:
    """Every metric: name, kind, title, formula and source."""
    return list(DEFINITIONS.values())


def _params(values: dict[str, Any]) -> Params:
    unknown = sorted(set(values) - set(PARAMS))
    if unknown:
        raise UsageError(
            f"unknown metric parameter(s): {', '.join(unknown)}",
            hint=f"Parameters: {', '.join(PARAMS)}",
        )
    for key in ("since", "until"):
        if isinstance(values.get(key), str):
            try:
                values[key] = date.fromisoformat(values[key])
            except ValueError:
                raise UsageError(f"{key}={values[key]!r} is not a date (YYYY-MM-DD)") from None
    if "sources" in values:
        values["sources"] = tuple(values["sources"])
    return Params(**values)


def _metrics(
    workspace: str | Path | None, params: Params, engine: str, *, cache: bool = False
) -> tuple[Any, Metrics]:
    if engine not in ("duckdb", "spark"):
        raise UsageError(f"engine {engine!r}: use duckdb or spark")
    ws = open_workspace(Path(workspace) if workspace is not None else None)
    Snapshot(ws.snapshot_dir).refresh(ws.store)
    backend = spark_backend() if engine == "spark" else None
    return ws, Metrics(Engine(ws.snapshot_dir, backend=backend), params, cache=cache)


def compute(
    name: str, *, workspace: str | Path | None = None, engine: str = "duckdb", **params: Any
) -> Result:
    """One metric's result (its definition, the parameters used, columns and rows).
    ``workspace``: a folder with commops.toml (default: as the CLI finds it); ``engine``:
    ``duckdb`` (in process) or ``spark`` (the same definitions on PySpark)."""
    if name not in DEFINITIONS:
        raise UsageError(f"no metric named {name!r}", hint=f"Metrics: {', '.join(DEFINITIONS)}")
    ws, m = _metrics(workspace, _params(params), engine)
    try:
        return m.run(name)
    finally:
        ws.close()


def compute_all(
    names: Iterable[str] | None = None,
    *,
    workspace: str | Path | None = None,
    engine: str = "duckdb",
    **params: Any,
) -> dict[str, Result]:
    """Several metrics (default: the whole catalogue) with the same parameters, by name. They
    share one read of the snapshot, and on DuckDB run two at a time (``Metrics.run_all``), so
    this is much faster than one ``compute`` each."""
    chosen = list(DEFINITIONS) if names is None else list(names)
    unknown = [n for n in chosen if n not in DEFINITIONS]
    if unknown:
        raise UsageError(
            f"no metric named {', '.join(map(repr, unknown))}",
            hint=f"Metrics: {', '.join(DEFINITIONS)}",
        )
    ws, m = _metrics(workspace, _params(params), engine, cache=True)
    try:
        return m.run_all(chosen)
    finally:
        m.close()
        ws.close()


def explain(
    name: str,
    period: date,
    *,
    workspace: str | Path | None = None,
    engine: str = "duckdb",
    **params: Any,
) -> Result:
    """The activities behind one period's value of a series metric."""
    if name not in DEFINITIONS:
        raise UsageError(f"no metric named {name!r}", hint=f"Metrics: {', '.join(DEFINITIONS)}")
    ws, m = _metrics(workspace, _params(params), engine)
    try:
        return m.explain(name, period)
    finally:
        ws.close()
