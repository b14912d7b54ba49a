"""Apache Spark through Ibis: the same metric expressions, distributed.

The catalog's canonical tables are written to Parquet once per engine and read by Spark, so
the expressions see exactly the tables DuckDB sees. ``SPARK_MASTER`` chooses the
cluster (default ``local[2]``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import ibis

from .. import schema
from ..errors import EngineError
from ..storage.catalog import Catalog

_SESSION = None


def spark_session():
    """One shared SparkSession per process (starting one takes seconds)."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError("the Spark engine needs pyspark",
                          fix="pip install 'aovlab[spark]' (pyspark>=3.5,<4.1)") from exc
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        _SESSION = (
            SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
            .appName("aovlab")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
            .getOrCreate()
        )
    except Exception as exc:  # Java missing, port blocked, ...
        raise EngineError(f"cannot start Spark: {exc}",
                          fix="install a Java 17+ runtime (scripts/ensure-java.sh)") from exc
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


class SparkEngine:
    name = "spark"

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.backend = ibis.pyspark.connect(spark_session())
        self._dir = tempfile.TemporaryDirectory(prefix="aovlab-spark-")
        self._tables: dict[str, object] = {}

    def table(self, name: str):
        if name not in self._tables:
            if name not in schema.TABLES:
                raise KeyError(name)
            path = Path(self._dir.name) / f"{name}.parquet"
            with self.catalog.cursor() as cur:
                cur.execute(f"COPY {name} TO '{path}' (FORMAT parquet)")
            self._tables[name] = self.backend.read_parquet(
                str(path), table_name=f"aovlab_{name}_{id(self)}")
        return self._tables[name]

    def execute(self, expr):
        return self.backend.execute(expr)
