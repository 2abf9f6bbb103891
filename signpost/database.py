"""Binds SQLAlchemy and Alembic to the app; SQLite gets WAL mode and foreign keys on.

PostgreSQL is reached through psycopg 3 (postgresql+psycopg://); see settings.database_url.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import and_, bindparam, event, inspect, select
from sqlalchemy.engine import Engine

from .extensions import db, migrate

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def init_app(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    if uri.startswith("sqlite"):
        # A file on this machine: no server that can drop a pooled connection, so no ping before each use.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
                                                   "pool_pre_ping": False}
    from . import models  # noqa: F401  (register the tables on the metadata)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    module = type(dbapi_connection).__module__
    if not module.startswith(("sqlite3", "pysqlite")):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


_BY_KEY: dict[type, object] = {}


def by_key(model, key):
    """The row of `model` with this primary key, or None: what db.session.get gives, through a
    statement built once per model rather than on every call (about a third cheaper, and every
    signed-in page loads its user this way)."""
    statement = _BY_KEY.get(model)
    if statement is None:
        (column,) = inspect(model).primary_key
        statement = _BY_KEY[model] = select(model).where(column == bindparam("key"))
    return db.session.execute(statement, {"key": key}).scalar_one_or_none()


_WITH_DRAFT = None


def user_with_draft(user_id: int, draft_id: str | None):
    """(the user with this id or None, their draft with this id or None): one query where the
    user and the draft would be two, on every journey page. The draft is in the session's identity
    map, so db.session.get finds it without a query for as long as the caller holds it (the map
    keeps no object that nothing refers to)."""
    from .models import Draft, User
    if not draft_id:
        return by_key(User, user_id), None
    global _WITH_DRAFT
    if _WITH_DRAFT is None:
        _WITH_DRAFT = (select(User, Draft)
                       .outerjoin(Draft, and_(Draft.id == bindparam("draft"), Draft.user_id == User.id))
                       .where(User.id == bindparam("key")))
    row = db.session.execute(_WITH_DRAFT, {"key": user_id, "draft": draft_id[:64]}).first()
    return (row[0], row[1]) if row is not None else (None, None)
