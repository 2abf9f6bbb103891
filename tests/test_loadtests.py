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

sys.path.insert(0, str(ROOT / "loadtests"))


def run(*args: str) -> int:
    import run as loadtest_run
    return loadtest_run.main(list(args))


@pytest.mark.load
def test_short_load_with_killed_workers_on_sqlite(capsys):
    assert run("--database", "sqlite", "--journeys", "40", "--users", "10", "--kills", "2",
               "--workers", "2", "--fault-interval", "0.5") == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "load_test: passed" in out and "requests_per_second" in out


@pytest.mark.load
@pytest.mark.skipif(shutil.which("pg_ctl") is None and not list(__import__("glob").glob(
    "/usr/lib/postgresql/*/bin/pg_ctl")), reason="PostgreSQL's pg_ctl is not installed")
def test_short_load_with_a_killed_worker_and_a_database_restart_on_postgresql(capsys):
    assert run("--database", "postgresql", "--journeys", "40", "--users", "10", "--kills", "1",
               "--workers", "2", "--fault-interval", "0.5") == 0, capsys.readouterr().out
    assert "PostgreSQL restarted" in capsys.readouterr().out


def test_the_service_settings_in_an_operators_shell_are_left_out(monkeypatch):
    """An operator runs it with the production environment loaded for the `flask` commands: the load
    test's own service must not inherit it (SIGNPOST_ENV=production makes cookies Secure, and Locust
    over plain HTTP then never signs in)."""
    import run as loadtest_run
    shell = {"PATH": "/usr/bin", "HOME": "/root", "SIGNPOST_ENV": "production", "SECRET_KEY": "k" * 48,
             "DATABASE_URL": "postgresql://signpost@db.internal/signpost", "GUNICORN_BIND": "0.0.0.0:80",
             "RATELIMIT_STORAGE_URI": "redis://cache.internal:6379/0", "SIGNPOST_TRUSTED_PROXIES": "1"}
    for name, value in shell.items():
        monkeypatch.setenv(name, value)
    clean, left_out = loadtest_run.clean_environment()
    assert clean["PATH"] == "/usr/bin" and not set(clean) & set(shell) - {"PATH", "HOME"}
    assert set(shell) - {"PATH", "HOME"} <= set(left_out)
    app = loadtest_run.make_app("sqlite://", clean)  # the seeding app in run.py's own process too
    assert app.config["ENVIRONMENT"] == "development" and not app.config["SESSION_COOKIE_SECURE"]
