"""Apache Spark through Ibis: the same metric expressions, distributed.

The catalog's canonical tables are written to Parquet once per engine and read by Spark, so
the expressions see exactly the tables DuckDB sees. ``SPARK_MASTER`` chooses the
cluster (default ``local[2]``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import ibis

from .. import schema
from ..errors import EngineError, log_folder
from ..storage.catalog import Catalog

_SESSION = None
#: Spark's own log4j 2 settings: errors only, on standard error.
_LOG4J = Path(__file__).with_name("log4j2.properties")


@contextlib.contextmanager
def _jvm_output_to_log():
    """While the JVM starts, point standard error at a log file: the JVM inherits it, so
    its start-up chatter (JDK warnings, Hadoop's native-library notice) and any later
    Spark error go to ``<log folder>/spark.log`` instead of the user's terminal."""
    folder = log_folder()
    if folder is None:
        yield
        return
    fd = os.open(folder / "spark.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    saved = os.dup(2)
    try:
        sys.stderr.flush()
        os.dup2(fd, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)


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
    quiet = f"-Dlog4j.configurationFile={_LOG4J.as_uri()}"  # a URI: no spaces to split on
    try:
        with _jvm_output_to_log():
            _SESSION = (
                SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
                .appName("aovlab")
                .config("spark.driver.extraJavaOptions", quiet)
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
            in_place = getattr(self.catalog, "parquet_dir", None)
            if in_place is not None and self.catalog.files(name) is not None:
                # A Parquet dataset is read where it is (a local folder, or any URI the
                # session's Hadoop connectors read): no copy, the partitions kept.
                t = self.backend.read_parquet(str(Path(in_place) / name),
                                              table_name=f"aovlab_{name}_{id(self)}")
                self._tables[name] = t.select(*schema.TABLES[name].column_names)
                return self._tables[name]
            path = Path(self._dir.name) / f"{name}.parquet"
            with self.catalog.cursor() as cur:
                cur.execute(f"COPY {name} TO '{path}' (FORMAT parquet)")
            self._tables[name] = self.backend.read_parquet(
                str(path), table_name=f"aovlab_{name}_{id(self)}")
        return self._tables[name]

    def execute(self, expr):
        return self.backend.execute(expr)

    def execute_arrow(self, expr):
        """``expr``'s rows as an Arrow table (see the DuckDB engine)."""
        return self.backend.to_pyarrow(expr)
