"""Metrics for the web app: the catalogue's results, kept until the snapshot changes.

Pages and the API ask for the same figures again and again while the data changes only after
a sync. Results are cached per (snapshot version, metric, parameters); a refresh of the
snapshot (after a sync started from the app, or at start-up) makes a new version. DuckDB work
runs one computation at a time: two requests for the same figures wait for one result.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from commops.analytics.engine import Engine
from commops.analytics.metrics import DEFINITIONS, Metrics, Result
from commops.analytics.snapshot import Snapshot
from commops.errors import NotFoundError
from commops.metrics import _params as metric_params
from commops.workspace import Workspace

MAX_ENTRIES = 512


def _key(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in params.items() if v not in (None, (), [])))


class Insights:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._lock = threading.Lock()
        self._results: OrderedDict[tuple[Any, ...], Result] = OrderedDict()
        self._version = 0

    @property
    def version(self) -> int:
        return self._version

    def refresh(self) -> None:
        """Bring the snapshot up to date with the store (after a sync) and drop cached results."""
        with self._lock:
            Snapshot(self.ws.snapshot_dir).refresh(self.ws.store)
            self._version += 1
            self._results.clear()

    def results(self, names: Iterable[str], **params: Any) -> dict[str, Result]:
        """Several metrics with the same parameters; those not cached share one computation."""
        wanted = list(names)
        for name in wanted:
            if name not in DEFINITIONS:
                raise NotFoundError(f"no metric named {name!r}")
        key = _key(params)
        with self._lock:
            out: dict[str, Result] = {}
            missing = []
            for name in wanted:
                hit = self._results.get((self._version, name, key))
                if hit is None:
                    missing.append(name)
                else:
                    self._results.move_to_end((self._version, name, key))
                    out[name] = hit
            if missing:
                parsed = metric_params(dict(params))
                engine = Engine(self.ws.snapshot_dir)
                with Metrics(engine, parsed, cache=len(missing) > 1) as m:
                    for name, result in m.run_all(missing).items():
                        out[name] = result
                        self._results[(self._version, name, key)] = result
                while len(self._results) > MAX_ENTRIES:
                    self._results.popitem(last=False)
        return {name: out[name] for name in wanted}

    def result(self, name: str, **params: Any) -> Result:
        return self.results([name], **params)[name]

    def explain(self, name: str, period: date, **params: Any) -> Result:
        """The activities behind one period's value (never cached: it is a drill-down)."""
        if name not in DEFINITIONS:
            raise NotFoundError(f"no metric named {name!r}")
        with self._lock:
            engine = Engine(self.ws.snapshot_dir)
            return Metrics(engine, metric_params(dict(params)), cache=False).explain(name, period)
