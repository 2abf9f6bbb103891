"""An operator's `flask` commands against a database they cannot use: one plain sentence, exit status 1.

A cron job without the service's environment, a database not yet upgraded to this release, or a server
that is down: the message says which and what to do, never a traceback, and never the password.
"""
from __future__ import annotations

import pytest

from signpost import create_app

# Each group's commands that read or write the database as their first act.
COMMANDS = [["users", "list"], ["retention", "purge", "--dry-run"], ["drafts", "purge"],
            ["retention", "erase", "NM-2026-00001", "--reason", "SAR-1", "--as", "admin@example.org"],
            ["users", "set-role", "admin@example.org", "referrer"]]


def run(database_url: str, args: list[str]):
    app = create_app({"TESTING": True, "SECRET_KEY": "t" * 40, "SQLALCHEMY_DATABASE_URI": database_url})
    return app.test_cli_runner().invoke(args=args)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_database_not_yet_upgraded_says_to_run_db_upgrade(tmp_path, args):
    result = run(f"sqlite:///{tmp_path / 'new.db'}", args)
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit, result.output
    assert "is not set up for this release of Signpost (no such table:" in result.output
    assert "Run `flask --app wsgi db upgrade` first." in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args", [*COMMANDS[:2], ["db", "upgrade"], ["db", "current"]], ids=" ".join)
def test_a_postgresql_server_that_does_not_answer_is_named_without_its_password(args):
    # Port 1 on this machine: nothing listens there, so the connection is refused at once.
    result = run("postgresql+psycopg://signpost:secret-pw@127.0.0.1:1/signpost", args)
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit, result.output
    assert "Cannot use the database at postgresql+psycopg://signpost:***@127.0.0.1:1/signpost:" in result.output
    assert "Check DATABASE_URL" in result.output and "secret-pw" not in result.output


def test_a_sqlite_file_that_cannot_be_opened_is_named(tmp_path):
    result = run(f"sqlite:///{tmp_path}", ["users", "list"])  # a folder, not a database file
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit, result.output
    assert f"Cannot use the database at sqlite:///{tmp_path}: unable to open database file." in result.output


def test_other_database_errors_are_not_dressed_up(tmp_path, monkeypatch):
    """Only the operator's two cases get a sentence: anything else keeps its traceback for a developer."""
    from sqlalchemy.exc import OperationalError

    from signpost import cli_accounts

    def locked(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))
    monkeypatch.setattr(cli_accounts.db.session, "scalars", locked)
    result = run(f"sqlite:///{tmp_path / 'new.db'}", ["users", "list"])
    assert isinstance(result.exception, OperationalError)


def test_db_upgrade_and_current_still_work_under_the_plain_messages(tmp_path):
    """Flask-Migrate's `db` group is wrapped for those messages, keeping its own options and commands."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert run(url, ["db", "upgrade"]).exit_code == 0
    assert run(url, ["db", "current"]).exit_code == 0  # alembic prints the revision past the runner's capture
    assert run(url, ["users", "list"]).exit_code == 0  # the tables are there
