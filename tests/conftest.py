"""Shared fixtures: real data from ../shared/data, and the engines to test on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AOVLAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() == "true"

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


ENGINES = ["duckdb", "spark"]


@pytest.fixture(params=ENGINES)
def engine_name(request) -> str:
    """Run a test once per engine; the Spark session is shared by the whole test run."""
    if request.param == "spark" and not IN_CI:  # CI must run Spark: a missing one fails
        pytest.importorskip("pyspark")
    return request.param


def engine_for(ws, name: str):
    from aovlab.engines import connect

    return connect(ws, name)
