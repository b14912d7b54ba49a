"""Apache Spark through Ibis: the same metric expressions, distributed.

Spark reads the tables where they are: a Parquet dataset's folder (local or any URI the
session's Hadoop connectors read), or a :class:`~aovlab.storage.SparkTables` catalog's
tables in the session's own catalog; a workspace's tables are written to Parquet once per
engine. Every table is seen with the canonical columns (:mod:`.canonical`).
``SPARK_MASTER`` chooses the cluster (default ``local[2]``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import uuid
from pathlib import Path

import ibis

from .. import schema
from ..errors import EngineError, first_line, log_folder
from ..storage.catalog import Catalog
from .canonical import canonical

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
        self.session = spark_session()
        self.backend = ibis.pyspark.connect(self.session)
        self._dir = tempfile.TemporaryDirectory(prefix="aovlab-spark-")
        self._tables: dict[str, object] = {}
        self._lacks: dict[str, frozenset[str]] = {}

    def table(self, name: str):
        if name not in self._tables:
            if name not in schema.TABLES:
                raise KeyError(name)
            raw = self._read(name)
            self._lacks[name] = frozenset(c.name for c in schema.TABLES[name].columns
                                          if c.name not in raw.columns)
            self._tables[name] = canonical(raw, schema.TABLES[name])
        return self._tables[name]

    def lacks(self, name: str) -> frozenset[str]:
        """Columns of ``name`` the table read does not have (NULL or a default here), and
        its derived columns unless aovlab wrote them (never for a Spark catalog's table)."""
        self.table(name)
        if hasattr(self.catalog, "spark_tables"):
            trusted = frozenset()
        else:  # a workspace, or a Parquet dataset that says which it carries
            trusted = frozenset(c.name for c in schema.TABLES[name].columns if c.derived
                                and c.name not in self.catalog.lacks(name))
        return self._lacks[name] | frozenset(
            c.name for c in schema.TABLES[name].columns if c.derived and c.name not in trusted)

    def _view(self, df) -> object:
        """A Spark DataFrame as an Ibis table (a temporary view of this session)."""
        view = f"aovlab_{uuid.uuid4().hex[:12]}"
        df.createOrReplaceTempView(view)
        return self.backend.table(view)

    def _read(self, name: str):
        mapped = getattr(self.catalog, "spark_tables", None)
        if mapped is not None:  # tables of the session's catalog (or path tables)
            if name not in mapped:
                return self._view(self.session.createDataFrame([], _spark_schema(name)))
            try:
                df = self.session.sql(f"SELECT * FROM {mapped[name]}")
            except Exception as exc:  # AnalysisException: no such table, no access, ...
                raise EngineError(
                    f"Spark cannot read {mapped[name]} (the {name} table): "
                    f"{first_line(exc)}",
                    fix="name a table the session's catalog holds (db.table), or a path "
                        "table such as parquet.`/data/orders`") from exc
            missing = schema.TABLES[name].missing_required(df.columns)
            if missing:
                raise EngineError(f"{mapped[name]} (the {name} table) lacks the column(s) "
                                  f"{', '.join(missing)}",
                                  fix=f"add every required column of {name} "
                                      "(docs/data-model.md), e.g. in a view")
            return self._view(df)
        in_place = getattr(self.catalog, "parquet_dir", None)
        if in_place is not None and self.catalog.files(name) is not None:
            # A Parquet dataset is read where it is (a local folder, or any URI the
            # session's Hadoop connectors read): no copy, the partitions kept.
            return self.backend.read_parquet(str(Path(in_place) / name),
                                             table_name=f"aovlab_{name}_{id(self)}")
        path = Path(self._dir.name) / f"{name}.parquet"
        with self.catalog.cursor() as cur:
            cur.execute(f"COPY {name} TO '{path}' (FORMAT parquet)")
        return self.backend.read_parquet(str(path), table_name=f"aovlab_{name}_{id(self)}")

    def execute(self, expr):
        return self.backend.execute(expr)

    def execute_arrow(self, expr):
        """``expr``'s rows as an Arrow table (see the DuckDB engine)."""
        return self.backend.to_pyarrow(expr)

    @contextlib.contextmanager
    def sql_target(self):
        """Where ``aovlab check`` runs: Spark SQL, each table as its canonical query."""
        from .check import SqlTarget

        def first_row(query: str):
            row = self.session.sql(query).head()
            return None if row is None else tuple(row)

        mapped = getattr(self.catalog, "spark_tables", None)
        held = tuple(mapped) if mapped is not None else self.catalog.tables()
        yield SqlTarget("spark", lambda name: f"({self.backend.compile(self.table(name))})",
                        first_row, held)


#: Canonical column types as Spark SQL types (an absent table's empty frame).
_SPARK_TYPES = {"VARCHAR": "string", "DOUBLE": "double", "BIGINT": "bigint", "INTEGER": "int",
                "DATE": "date", "TIMESTAMPTZ": "timestamp"}


def _spark_schema(name: str) -> str:
    return ", ".join(f"{c.name} {_SPARK_TYPES[c.type]}" for c in schema.TABLES[name].columns)
