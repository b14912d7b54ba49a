"""The CLI as a user meets it: real commands, clean errors, docs that match --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.fixtures import tiny_orders

from aovlab.report import safe_cell, spreadsheet_safe

ROOT = Path(__file__).resolve().parents[1]


def aovlab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aovlab.cli", *args], cwd=cwd,
                          capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""},
                          timeout=300)


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("shop")
    tiny_orders().to_csv(d / "orders.csv", index=False)
    (d / "map.toml").write_text('kind = "orders"\ncurrency = "EUR"\n[columns]\n'
                                'order_id = "order_id"\n')
    res = aovlab("import", "orders.csv", "--mapping", "map.toml", "-w", "ws.duckdb", cwd=d)
    assert res.returncode == 0, res.stderr
    assert "orders" in res.stdout and "9" in res.stdout
    return d


def test_import_twice_adds_nothing(shop):
    res = aovlab("import", "orders.csv", "--mapping", "map.toml", "-w", "ws.duckdb", "--json",
                 cwd=shop)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["orders_added"] == 0
    assert summary["tables"]["orders"]["already_present"] == 9


def test_kpis_outputs(shop):
    res = aovlab("kpis", "-w", "ws.duckdb", "--by", "channel", "-f", "json", cwd=shop)
    assert res.returncode == 0, res.stderr
    rows = {r["channel"]: r for r in json.loads(res.stdout)}
    assert rows["web"]["orders"] == 4 and rows["web"]["definition"] == "net"
    assert rows["web"]["revenue"] == pytest.approx(90 + 50 + 80 + 60)
    res = aovlab("kpis", "-w", "ws.duckdb", "-p", "month", "-f", "csv", "-o", "k.csv", cwd=shop)
    assert res.returncode == 0, res.stderr
    k = pd.read_csv(shop / "k.csv")
    assert list(k.orders) == [4, 3]
    res = aovlab("kpis", "-w", "ws.duckdb", "-f", "parquet", "-o", "k.parquet",
                 "--definition", "total", cwd=shop)
    assert pd.read_parquet(shop / "k.parquet").revenue.iloc[0] == pytest.approx(785.0)
    res = aovlab("kpis", "-w", "ws.duckdb", cwd=shop)
    assert "net" in res.stdout and "aov" in res.stdout


def test_explain_histogram_status(shop):
    res = aovlab("explain", "-w", "ws.duckdb", "--base", "2024-01-01:2024-01-31",
                 "--compare", "2024-02-01:2024-02-29", "--by", "channel", cwd=shop)
    assert res.returncode == 0, res.stderr
    assert "mix (channel shares moved)" in res.stdout and "rate" in res.stdout
    res = aovlab("explain", "-w", "ws.duckdb", "--base", "2024-01-01:2024-01-31",
                 "--compare", "2024-02-01:2024-02-29", "--by", "customer_type", cwd=shop)
    assert res.returncode == 0, res.stderr
    assert "mix (customer_type shares moved)" in res.stdout
    assert "Top customer_type contributors" in res.stdout
    res = aovlab("explain", "-w", "ws.duckdb", "--base", "2024-01-01:2024-01-31",
                 "--compare", "2024-02-01:2024-02-29", "-f", "json", cwd=shop)
    assert res.returncode == 0, res.stderr
    whole = json.loads(res.stdout)  # the whole explanation, not only the segment rows
    h = whole["headline"]
    assert set(whole["tables"]) == {"segments", "factors", "periods"}
    assert h["mix_effect"] + h["rate_effect"] == pytest.approx(
        h["aov_compare"] - h["aov_base"], abs=1e-9 * abs(h["change"]))
    assert h["change"] == pytest.approx(h["aov_compare"] - h["aov_base"])
    res = aovlab("histogram", "-w", "ws.duckdb", "--bins", "5", cwd=shop)
    assert res.returncode == 0 and "outlier" in res.stdout
    res = aovlab("status", "-w", "ws.duckdb", cwd=shop)
    assert res.returncode == 0 and "placed" in res.stdout


@pytest.mark.parametrize("args,needle", [
    (["kpis", "-w", "missing.duckdb"], "does not exist"),
    (["kpis", "-w", "ws.duckdb", "--by", "colour"], "unknown dimension"),
    (["kpis", "-w", "ws.duckdb", "--definition", "gmv"], "unknown AOV definition"),
    (["kpis", "-w", "ws.duckdb", "--start", "yesterday"], "not a date"),
    (["import", "nope.csv", "-w", "ws.duckdb"], "does not exist"),
    (["import", "orders.csv", "-w", "ws.duckdb", "--format", "woo"], "unknown import format"),
    (["explain", "-w", "ws.duckdb", "--base", "x", "--compare", "y"], "START:END"),
])
def test_errors_are_clean(shop, args, needle):
    res = aovlab(*args, cwd=shop)
    assert res.returncode == 2
    assert needle in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_bad_file_changes_nothing(shop):
    bad = tiny_orders()
    bad["order_id"] = bad.order_id + "-new"
    bad["gross_sales"] = bad.gross_sales.astype(object)
    bad.loc[4, "gross_sales"] = "12,5O"
    bad.to_csv(shop / "bad.csv", index=False)
    res = aovlab("import", "bad.csv", "--mapping", "map.toml", "-w", "ws.duckdb", cwd=shop)
    assert res.returncode == 2
    assert "row 5" in res.stderr and "gross_sales" in res.stderr and "12,5O" in res.stderr
    res = aovlab("status", "-w", "ws.duckdb", cwd=shop)
    assert "-new" not in res.stdout
    res = aovlab("kpis", "-w", "ws.duckdb", "-f", "json", "--status", "placed", "--status",
                 "refunded", "--status", "cancelled", "--status", "test", cwd=shop)
    assert json.loads(res.stdout)[0]["orders"] == 9


def test_csv_export_is_spreadsheet_safe():
    assert safe_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert safe_cell("+1") == "'+1" and safe_cell("web") == "web"
    df = spreadsheet_safe(pd.DataFrame({"channel": ["@SUM(A1)", "app"], "aov": [-1.5, 2.0]}))
    assert list(df.channel) == ["'@SUM(A1)", "app"] and list(df.aov) == [-1.5, 2.0]


def test_cli_reference_is_current():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, "docs/cli.md is stale: run python scripts/gen_cli_docs.py"


@pytest.mark.parametrize("args,needle", [
    (["kpis", "--bogus"], "No such option: --bogus"),
    (["kpis", "-w", "ws.duckdb", "--trim", "abc"], "Invalid value for '--trim'"),
    (["import"], "Missing argument"),
    (["nosuchcommand"], "No such command"),
])
def test_usage_errors_print_usage_not_a_traceback(shop, args, needle):
    res = aovlab(*args, cwd=shop)
    assert res.returncode == 2, res.stderr
    assert needle in res.stderr and "Usage:" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_partial_periods_read_partial_in_the_terminal_and_keep_numbers_in_files(shop):
    """The shop's orders run 2024-01-05..2024-02-10: both months are partial, so February's
    change against January reads 'partial' (it compares 10 days with 27)."""
    res = aovlab("kpis", "-w", "ws.duckdb", "-p", "month", "--columns", "orders,aov_pop_pct",
                 cwd=shop)
    assert res.returncode == 0, res.stderr
    feb = next(line for line in res.stdout.splitlines() if "2024-02-01" in line)
    assert "partial" in feb and "%" not in feb
    assert "orders 2024-01-05..2024-02-10" in res.stdout
    assert "2 partial period(s)" in res.stdout
    res = aovlab("kpis", "-w", "ws.duckdb", "-p", "month", "-f", "csv", cwd=shop)
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert rows[1]["pop_partial"] == "True" and float(rows[1]["aov_pop_pct"]) != 0


def test_histogram_draws_bars_and_shares_the_librarys_bin_count(shop):
    import inspect

    from aovlab.analyses import histogram

    res = aovlab("histogram", "-w", "ws.duckdb", "--bins", "4", cwd=shop)
    assert res.returncode == 0, res.stderr
    rows = [line for line in res.stdout.splitlines() if "█" in line]
    assert len(rows) >= 2 and max(line.count("█") for line in rows) == 30
    assert "orders 2024-01-05..2024-02-10" in res.stdout
    res = aovlab("histogram", "-w", "ws.duckdb", "-f", "csv", cwd=shop)
    assert "█" not in res.stdout and "bar" not in res.stdout.splitlines()[0]
    default = inspect.signature(histogram).parameters["bins"].default
    assert f"[default: {default}]" in aovlab("histogram", "--help", cwd=shop).stdout


def test_spark_keeps_its_log_out_of_the_terminal(shop, tmp_path):
    """Spark's JVM start-up chatter (log4j, JDK and Hadoop warnings) goes to a log file."""
    pytest.importorskip("pyspark")
    env = {"COLUMNS": "200", "PATH": os.environ.get("PATH", ""),
           "AOVLAB_LOG_DIR": str(tmp_path), "HOME": str(tmp_path)}
    for var in ("JAVA_HOME", "SPARK_HOME"):
        if var in os.environ:
            env[var] = os.environ[var]
    res = subprocess.run([sys.executable, "-m", "aovlab.cli", "kpis", "-w", "ws.duckdb",
                          "--engine", "spark"], cwd=shop, capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    for noise in ("WARN", "log4j", "WARNING", "setLogLevel"):
        assert noise not in res.stderr, res.stderr
    assert (tmp_path / "spark.log").exists()


def test_explain_needs_its_periods_or_last(shop):
    res = aovlab("explain", "-w", "ws.duckdb", cwd=shop)
    assert res.returncode == 2 and "explain needs two periods" in res.stderr
    assert "--last month" in res.stderr and "Traceback" not in res.stderr
    res = aovlab("explain", "-w", "ws.duckdb", "--last", "month", "--vs", "week", cwd=shop)
    assert res.returncode == 2 and "--vs 'week' is not a comparison" in res.stderr
    res = aovlab("kpis", "-w", "ws.duckdb", "--vs", "year", cwd=shop)
    assert res.returncode == 2 and "needs --last or --period" in res.stderr


def test_output_never_overwrites_the_workspace(shop):
    before = (shop / "ws.duckdb").read_bytes()
    for target in ("ws.duckdb", "ws.duckdb.wal"):
        res = aovlab("kpis", "-w", "ws.duckdb", "-f", "csv", "-o", target, cwd=shop)
        assert res.returncode == 2 and "is the workspace itself" in res.stderr
    assert (shop / "ws.duckdb").read_bytes() == before
    assert not (shop / "ws.duckdb.wal").exists()
    (shop / "old.csv").write_text("keep me")
    res = aovlab("kpis", "-w", "ws.duckdb", "-f", "csv", "-o", "old.csv", cwd=shop)
    assert res.returncode == 2 and "--force" in res.stderr
    assert (shop / "old.csv").read_text() == "keep me"
    res = aovlab("kpis", "-w", "ws.duckdb", "-f", "csv", "-o", "old.csv", "--force", cwd=shop)
    assert res.returncode == 0 and (shop / "old.csv").read_text().startswith("definition")
    for target, needle in (("missing/k.csv", "does not exist"), (".", "is a folder")):
        res = aovlab("histogram", "-w", "ws.duckdb", "-f", "csv", "-o", target, cwd=shop)
        assert res.returncode == 2 and needle in res.stderr


def test_data_and_messages_are_never_rich_markup(tmp_path):
    df = tiny_orders()
    df["channel"] = df["channel"].map({"web": "[/red]", "app": "[bold red]web"})
    df.to_csv(tmp_path / "o.csv", index=False)
    (tmp_path / "m.toml").write_text('kind = "orders"\ncurrency = "EUR"\n')
    res = aovlab("import", "o.csv", "--mapping", "m.toml", "-w", "ws.duckdb", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = aovlab("kpis", "-w", "ws.duckdb", "--by", "channel", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "[/red]" in res.stdout and "[bold red]web" in res.stdout
    (tmp_path / "nocol.toml").write_text('kind = "orders"\ncurrency = "EUR"\n')
    (tmp_path / "nocol.csv").write_text("id,when\n1,2024-01-01\n")
    res = aovlab("import", "nocol.csv", "--mapping", "nocol.toml", "-w", "ws.duckdb",
                 cwd=tmp_path)
    assert res.returncode == 2 and "under [columns]" in res.stderr, res.stderr


def test_workspace_must_be_an_aovlab_file(shop, tmp_path):
    import duckdb

    (tmp_path / "orders.csv").write_bytes((shop / "orders.csv").read_bytes())
    (tmp_path / "map.toml").write_bytes((shop / "map.toml").read_bytes())
    data = (tmp_path / "orders.csv").read_bytes()
    # an input file given as the workspace is refused and left as it was
    res = aovlab("import", "orders.csv", "--mapping", "map.toml", "-w", "orders.csv",
                 cwd=tmp_path)
    assert res.returncode == 2 and "not a DuckDB database" in res.stderr
    assert (tmp_path / "orders.csv").read_bytes() == data
    # an unrelated DuckDB database gets no aovlab tables
    con = duckdb.connect(str(tmp_path / "other.duckdb"))
    con.execute("CREATE TABLE mine (x INTEGER)")
    con.close()
    for cmd in (["status"], ["import", "orders.csv", "--mapping", "map.toml"]):
        res = aovlab(*cmd, "-w", "other.duckdb", cwd=tmp_path)
        assert res.returncode == 2 and "not an aovlab workspace" in res.stderr
    con = duckdb.connect(str(tmp_path / "other.duckdb"), read_only=True)
    assert con.execute("SELECT table_name FROM duckdb_tables()").fetchall() == [("mine",)]
    con.close()
    for ws, needle in (("missing/ws.duckdb", "does not exist"), (".", "is a folder")):
        res = aovlab("import", "orders.csv", "--mapping", "map.toml", "-w", ws, cwd=tmp_path)
        assert res.returncode == 2 and needle in res.stderr


def test_failed_first_import_leaves_no_file(tmp_path):
    (tmp_path / "bad.csv").write_text("order_id,created_at,gross_sales\na1,2024-01-01,abc\n")
    (tmp_path / "m.toml").write_text('kind = "orders"\ncurrency = "EUR"\n')
    res = aovlab("import", "bad.csv", "--mapping", "m.toml", "-w", "new.duckdb", cwd=tmp_path)
    assert res.returncode == 2 and "cannot be read as a number" in res.stderr
    assert not (tmp_path / "new.duckdb").exists()
    assert not (tmp_path / "new.duckdb.wal").exists()


def test_reading_commands_open_the_workspace_read_only(shop):
    import duckdb

    # a second reader in this process holds the file read-only: the CLI can still read it
    held = duckdb.connect(str(shop / "ws.duckdb"), read_only=True)
    try:
        for cmd in (["kpis"], ["status"], ["histogram", "--bins", "3"]):
            res = aovlab(*cmd, "-w", "ws.duckdb", cwd=shop)
            assert res.returncode == 0, res.stderr
    finally:
        held.close()


def test_threshold_command(shop):
    res = aovlab("threshold", "-w", "ws.duckdb", "--candidates", "50,100", "--fee", "5",
                 "-f", "json", cwd=shop)
    assert res.returncode == 0, res.stderr
    r = json.loads(res.stdout)
    assert r["kind"] == "threshold" and r["meta"]["fee"] == 5
    assert [c["threshold"] for c in r["tables"]["candidates"]][1:] == sorted(
        {50.0, 100.0, r["meta"]["rule_of_thumb"]})
    assert "no costs" not in res.stderr  # tiny_orders carries costs
    res = aovlab("threshold", "-w", "ws.duckdb", "--chart", "t.html", "-o", "t.txt", cwd=shop)
    assert res.returncode == 0, res.stderr
    assert "plotly" in (shop / "t.html").read_text() and "Candidate thresholds" in (
        shop / "t.txt").read_text()
    res = aovlab("threshold", "-w", "ws.duckdb", "--table", "bins", "-f", "csv", cwd=shop)
    assert res.returncode == 0 and res.stdout.startswith("bin_low,bin_high,orders")
    for args, says in ((["--offer", "discount"], "needs an amount or a rate"),
                       (["--candidates", "40:abc"], "not a list of thresholds"),
                       (["--current", "5000"], "outside the order values"),
                       (["--table", "nope"], "not one of the threshold's tables")):
        res = aovlab("threshold", "-w", "ws.duckdb", *args, cwd=shop)
        assert res.returncode == 2 and says in res.stderr and "Traceback" not in res.stderr


def test_threshold_change_command(shop):
    res = aovlab("threshold-change", "-w", "ws.duckdb", "--change", "2024-02-01", "--days",
                 "28", "-f", "json", cwd=shop)
    assert res.returncode == 0, res.stderr
    r = json.loads(res.stdout)
    eff = {e["metric"]: e for e in r["tables"]["effects"]}
    # tiny_orders, net value of placed and refunded: January 90, 50, 180, 30; February 80,
    # 270, 60 (o5 is cancelled, o9 a test); the data ends on 10 February
    assert r["meta"]["days"] == 28
    assert eff["aov"]["treated_change"] == pytest.approx((80 + 270 + 60) / 3
                                                         - (90 + 50 + 180 + 30) / 4)
    assert eff["orders_per_day"]["treated_change"] == pytest.approx((3 - 4) / 28)
    assert "no comparison group" in res.stderr and "runs past it" in res.stderr
    res = aovlab("threshold-change", "-w", "ws.duckdb", "--change", "2024-02-01", "--by",
                 "channel", "--treated", "web", "--days", "28", "--table", "periods", "-f", "csv",
                 cwd=shop)
    assert res.returncode == 0 and res.stdout.startswith("period,start,end,group")
    res = aovlab("threshold-change", "-w", "ws.duckdb", "--change", "2023-01-01", cwd=shop)
    assert res.returncode == 2 and "not inside the data" in res.stderr


def test_price_test_command(tmp_path):
    f = tmp_path / "arms.csv"
    f.write_text("price,visitors,orders,units,revenue\n20,10000,400,480,16000\n"
                 "24,10000,330,380,14520\n")
    res = aovlab("price-test", str(f), "--unit-cost", "8", "-f", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    r = json.loads(res.stdout)
    assert [a["aov"] for a in r["tables"]["arms"]] == [40.0, 44.0]
    assert "not always better" in res.stderr
    res = aovlab("price-test", str(f), "--table", "elasticity", "-f", "csv", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.startswith("elasticity,ci_low")
    res = aovlab("price-test", str(f), cwd=tmp_path)
    assert res.returncode == 0 and "Price test, against 20" in res.stdout
    f.write_text("price,visitors\n20,10\n")
    res = aovlab("price-test", str(f), cwd=tmp_path)
    assert res.returncode == 2 and "missing" in res.stderr and "Traceback" not in res.stderr


def test_power_command(shop):
    res = aovlab("power", "-w", "ws.duckdb", "--metric", "aov", "--lift", "0.2", "-f", "json",
                 cwd=shop)
    assert res.returncode == 0, res.stderr
    row = json.loads(res.stdout)["tables"]["power"][0]
    assert row["metric"] == "aov" and row["control_units"] > 0 and row["lift_pct"] == 0.2
    res = aovlab("power", "-w", "ws.duckdb", "--lift", "0", cwd=shop)
    assert res.returncode == 2 and "lift 0" in res.stderr
