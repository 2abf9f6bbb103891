"""A short run of loadtests/run.py on each database: load, killed workers, a database restart.

The full run (10,000 journeys, 50 referrers) is `python loadtests/run.py`; this one is small
enough for CI and still fails if a reply was acknowledged and lost, a referral duplicated, a
decision misplaced, or the service slow to answer after a fault.
"""
from __future__ import annotations

import shutil
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.load

sys.path.insert(0, str(ROOT / "loadtests"))


def run(*args: str) -> int:
    import run as loadtest_run
    return loadtest_run.main(list(args))


def test_short_load_with_killed_workers_on_sqlite(capsys):
    assert run("--database", "sqlite", "--journeys", "40", "--users", "10", "--kills", "2",
               "--workers", "2", "--fault-interval", "0.5") == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "load_test: passed" in out and "requests_per_second" in out


@pytest.mark.skipif(shutil.which("pg_ctl") is None and not list(__import__("glob").glob(
    "/usr/lib/postgresql/*/bin/pg_ctl")), reason="PostgreSQL's pg_ctl is not installed")
def test_short_load_with_a_killed_worker_and_a_database_restart_on_postgresql(capsys):
    assert run("--database", "postgresql", "--journeys", "40", "--users", "10", "--kills", "1",
               "--workers", "2", "--fault-interval", "0.5") == 0, capsys.readouterr().out
    assert "PostgreSQL restarted" in capsys.readouterr().out
