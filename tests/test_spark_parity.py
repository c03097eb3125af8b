"""Every metric gives the same result on DuckDB and on Spark, over the same Parquet snapshot.

Two hand-counted datasets (the git history of test_metrics.py, the GitHub organisation of
test_github.py) and a few parameter sets; Spark runs locally (``local[2]``). Skipped, with the
reason, when PySpark is not installed (`pip install -e '.[spark]'`; CI installs it).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="PySpark is not installed: pip install -e '.[spark]'")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17 on PATH", allow_module_level=True)

from commops.analytics.engine import Engine, spark_backend
from commops.analytics.metrics import DEFINITIONS, Metrics, Params
from commops.workspace import Workspace

# The defaults, and one set that changes every choice a metric makes on its own (each Spark
# query takes about a second on two cores: the whole catalogue twice per dataset).
PARAMS: list[dict[str, Any]] = [
    {},
    {
        "period": "week",
        "include_bots": True,
        "since": date(2024, 1, 15),
        "until": date(2024, 3, 31),
        "new_by": "pr-merged",
        "bus_rule": "at-least",
        "inactive_months": 1,
        "top": 3,
    },
]

# PySpark leaves the local sockets it collects results through to the garbage collector
# (a known PySpark behaviour); nothing of ours is unclosed.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    backend = spark_backend("local[2]")
    yield backend
    backend._session.stop()


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def check(ws: Workspace, spark: Any) -> None:
    for values in PARAMS:
        params = Params(**values)
        duck = Metrics(Engine(ws.snapshot_dir), params)
        other = Metrics(Engine(ws.snapshot_dir, backend=spark), params)
        for name in DEFINITIONS:
            a, b = duck.run(name), other.run(name)
            assert a.columns == b.columns, name
            assert same(a.rows, b.rows), (name, values, a.rows[:3], b.rows[:3])
        # Without a cut, DuckDB read the refresh's table (activities.duckdb) as it is.
        assert (duck.base(drop_people=False) is duck.engine.table) is not params.cuts
        duck.close()
        # The activities a run materialises go when the metrics are closed, on both engines
        # (on DuckDB, those made from the Parquet parts: without the refresh's table).
        made = Metrics(Engine(ws.snapshot_dir, table=False), params)
        kept = made.base(drop_people=False).op().name
        names = "SELECT table_name FROM duckdb_tables()"
        assert (kept,) in made.engine.con.con.execute(names).fetchall()
        daily = made.daily().op().name
        assert (daily,) in made.engine.con.con.execute(names).fetchall()
        made.run("community-openrank")
        made.close()
        # Every kept table (the activities, their daily roll-up, OpenRank's items) and the
        # enum types of the kept activities are gone.
        left = made.engine.con.con.execute(names).fetchall()
        assert not [t for (t,) in left if t.startswith("_commops_kept_")], left
        types = "SELECT type_name FROM duckdb_types() WHERE starts_with(type_name, '_commops')"
        assert made.engine.con.con.execute(types).fetchall() == []
        kept = other.base(drop_people=False).op().name
        daily = other.daily().op().name
        assert spark._session.catalog.tableExists(kept)
        assert spark._session.catalog.tableExists(daily)
        other.close()
        assert not spark._session.catalog.tableExists(kept)
        assert not spark._session.catalog.tableExists(daily)


def test_spark_parity_on_git_history(history: Workspace, spark: Any) -> None:
    check(history, spark)


def test_spark_parity_on_github_organisation(org: Workspace, spark: Any) -> None:
    check(org, spark)
    # Not vacuous: the data gives these metrics something to count.
    m = Metrics(Engine(org.snapshot_dir, backend=spark), Params())
    assert m.run("time-to-first-response").rows
    assert m.run("community-openrank").rows


def test_spark_drill_down_matches(history: Workspace, spark: Any) -> None:
    duck = Metrics(Engine(history.snapshot_dir), Params())
    other = Metrics(Engine(history.snapshot_dir, backend=spark), Params())
    for name in ("active-contributors", "new-contributors", "commits", "merged-prs"):
        a = duck.explain(name, date(2024, 2, 1)).rows
        b = other.explain(name, date(2024, 2, 1)).rows
        assert same(a, b), name
