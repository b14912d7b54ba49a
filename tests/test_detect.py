"""`aovlab import FILE` without --format: the format recognised from the file's header."""

from __future__ import annotations

import pytest
from tests.conftest import shared_file
from tests.test_cli import aovlab

from aovlab import Workspace, import_files
from aovlab.errors import InputError
from aovlab.importers import choose_format, detect_format


@pytest.mark.parametrize(("parts", "fmt"), [
    (("shopify", "devstore_orders_export.csv"), "shopify"),
    (("shopify", "au_store_orders_export.csv"), "shopify"),
    (("online_retail", "online_retail.parquet"), "online_retail"),
    (("online_retail", "online_retail.csv.gz"), "online_retail"),
    (("online_retail_ii", "online_retail_ii_2009_2010.parquet"), "online_retail"),
    (("ga4_sample", "events_20201118.parquet"), "ga4"),
    (("ga4_sample",), "ga4"),
    (("cdnow", "CDNOW_master.txt"), "cdnow"),
    (("olist",), "olist"),
])
def test_real_exports_are_recognised(parts, fmt):
    assert detect_format([shared_file(*parts)])[0] == fmt


def test_unknown_files_list_the_formats(tmp_path):
    (tmp_path / "baskets.csv").write_text("milk,bread\nbeer,chips\n")
    with pytest.raises(InputError, match="not one aovlab recognises") as info:
        detect_format([tmp_path / "baskets.csv"])
    for name in ("shopify", "online_retail", "ga4", "olist", "cdnow", "--format generic"):
        assert name in info.value.fix
    (tmp_path / "x.bin").write_bytes(b"\x00\x01\x02PK")
    (tmp_path / "broken.csv.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 40)
    for name in ("x.bin", "broken.csv.gz"):
        with pytest.raises(InputError):
            detect_format([tmp_path / name])


def test_a_mapping_means_generic_and_canonical_names_are_recognised(tmp_path):
    p = tmp_path / "orders.csv"
    p.write_text("order_id,created_at,total,currency\nA1,2024-01-01 10:00,10.5,EUR\n")
    assert choose_format([p], "auto", {"mapping": {"kind": "orders"}}) == ("generic", None)
    assert choose_format([p], "shopify", {}) == ("shopify", None)
    ws = Workspace(":memory:")
    s = import_files(ws, p)
    assert s.format == "generic" and s.orders_added == 1
    assert s.notes[0].startswith("format generic, recognised from the file")


def test_the_cli_says_which_format_it_chose(tmp_path):
    path = shared_file("shopify", "devstore_orders_export.csv")
    res = aovlab("import", str(path), "-w", "ws.duckdb", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "format shopify: recognised from the file" in res.stderr
    (tmp_path / "b.csv").write_text("milk,bread\n")
    res = aovlab("import", "b.csv", "-w", "ws.duckdb", cwd=tmp_path)
    assert res.returncode == 2 and "--format" in res.stderr and "olist" in res.stderr


def test_an_empty_or_missing_file_is_said_as_such(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        detect_format([tmp_path / "empty.csv"])
    with pytest.raises(InputError, match="does not exist"):
        detect_format([tmp_path / "missing.csv"])
