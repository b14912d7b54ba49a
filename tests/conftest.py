"""Shared fixtures: real data from ../shared/data, and the engines to test on."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AOVLAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() == "true"

# Spark keeps the tables a test saves (test_spark_tables) in a temporary warehouse, not in
# a spark-warehouse/ folder of the checkout: spark-submit reads SPARK_CONF_DIR's defaults.
_SPARK_CONF = Path(tempfile.mkdtemp(prefix="aovlab-spark-conf-"))
(_SPARK_CONF / "spark-defaults.conf").write_text(
    f"spark.sql.warehouse.dir {_SPARK_CONF / 'warehouse'}\n")
os.environ.setdefault("SPARK_CONF_DIR", str(_SPARK_CONF))
atexit.register(shutil.rmtree, _SPARK_CONF, True)

# CI replays a fixed set of examples so that main stays green on code that has not changed;
# local runs draw new ones each time (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    settings.load_profile("ci")


def shared_file(*parts: str) -> Path:
    """A file from the shared real datasets; skip (or fail in CI) when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        msg = (f"real dataset {p} is absent; set AOVLAB_SHARED_DATA to the folder holding "
               "../shared/data")
        if IN_CI:
            pytest.fail(msg + " (CI must not skip real-data tests)")
        pytest.skip(msg)
    return p


#: One metric suite, four ways to run it: DuckDB on the workspace file, DuckDB on the
#: workspace exported as a Parquet dataset, Spark on that dataset (read in place), and a
#: real PostgreSQL server holding the workspace's tables (tests/pgserver.py).
ENGINES = ["duckdb", "duckdb-parquet", "spark", "postgres"]


@pytest.fixture(params=ENGINES)
def engine_name(request) -> str:
    """Run a test once per engine; the Spark session is shared by the whole test run."""
    if request.param == "spark" and not IN_CI:  # CI must run Spark: a missing one fails
        pytest.importorskip("pyspark")
    if request.param == "postgres":
        pg_server()
    return request.param


def pg_server():
    """The test run's PostgreSQL server; skip (fail in CI) where there is none."""
    from tests.pgserver import server

    try:
        return server()
    except RuntimeError as exc:
        if IN_CI:
            pytest.fail(f"{exc} (CI must run the PostgreSQL engine)")
        pytest.skip(str(exc))


_EXPORTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SCRATCH = Path(tempfile.mkdtemp(prefix="aovlab-engines-"))
atexit.register(shutil.rmtree, _SCRATCH, True)


def catalog_for(ws, kind: str):
    """``ws``'s tables as a Parquet dataset (``parquet``) or a PostgreSQL schema
    (``postgres``), written once per workspace content and reused."""
    from aovlab import schema
    from aovlab.storage import ParquetCatalog, export_parquet
    from aovlab.storage.postgres import PostgresCatalog, export_postgres

    signature = (len(ws.imports()), *(ws.count(t) for t in schema.TABLES))
    cached = _EXPORTS.setdefault(ws, {})
    if cached.get(kind, (None,))[0] != signature:
        name = f"w{uuid.uuid4().hex[:12]}"  # unique: conftest may be imported twice
        if kind == "parquet":
            export_parquet(ws, _SCRATCH / name)
            cat = ParquetCatalog(_SCRATCH / name)
        else:
            dsn = pg_server().dsn(schema=name)
            export_postgres(ws, dsn)
            cat = PostgresCatalog(dsn)
        cached[kind] = (signature, cat)
    return cached[kind][1]





def engine_for(ws, name: str):
    """An engine of kind ``name`` (one of ENGINES) over ``ws``'s tables."""
    from aovlab.engines import connect

    if name == "duckdb":
        return connect(ws, "duckdb")
    if name in ("duckdb-parquet", "spark"):
        return connect(catalog_for(ws, "parquet"), name.split("-")[0])
    return connect(catalog_for(ws, "postgres"), "postgres")
