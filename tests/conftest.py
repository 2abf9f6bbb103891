"""Shared fixtures. Database fixtures run every test on SQLite and, when
SIGNPOST_TEST_DATABASE_URL is set (CI sets it), on PostgreSQL too.

Role fixtures (SecureDrop style): `referrer`, `front_door`, `policy_lead`, `admin` are test
clients already signed in as a user of that role; `users` maps role -> User.
"""
from __future__ import annotations

import os
import re
import secrets
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from jinja2.bccache import BytecodeCache, Bucket

ROOT = Path(__file__).resolve().parent.parent

# ---- web and database fixtures --------------------------------------------------------------

PG_URL = os.environ.get("SIGNPOST_TEST_DATABASE_URL", "").strip()
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
ROLES = ("referrer", "front_door", "policy_lead", "admin")
PASSWORD = "correct horse battery staple"

# Cheap argon2id and an isolated rate-limit store: the real costs are tested in test_auth.
TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-" + "x" * 40,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 8,
    "ARGON2_PARALLELISM": 1,
    "RATELIMIT_STORAGE_URI": "memory://",
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "MAX_OPEN_DRAFTS": 1000,  # tests walk hundreds of journeys as one referrer; test_hardening sets it low
}


def pg_url_with_schema(schema: str) -> str:
    """PG_URL pointed at one schema (search_path), so parallel runs never share tables."""
    url = sa.engine.make_url(PG_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def create_schema(schema: str) -> None:
    engine = sa.create_engine(pg_url_with_schema("public"))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def drop_schema(schema: str) -> None:
    engine = sa.create_engine(pg_url_with_schema("public"))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


class Client(FlaskClient):
    """A test client whose every request starts with an empty `g`, as in production.

    The `app` fixture keeps an app context open (so tests can use db.session), and Flask
    reuses it for requests: without this, `g` (Flask-Login's user, Flask-WTF's CSRF token)
    would leak from one request into the next and hide real bugs.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, shared by every app this test process makes.

    Each test makes a new app, so a new Jinja environment, which would parse and compile every
    template it renders again: about half of a test's time. Jinja checks each template's source
    against the checksum it was compiled from, so a changed template is compiled afresh. The
    service itself compiles its templates once, before gunicorn forks (templating.warm).
    """

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def _build_url_rules_once() -> None:
    """Werkzeug writes and compiles a Python function for every URL rule of every app, to build its
    addresses: for two thousand test apps of seventy rules each, half of making an app. The function
    depends only on the rule's text, its parts, converters and defaults, and is bound to each rule
    afterwards, so the test process compiles each one once. Left as it is if Werkzeug changes how
    it does this (the service itself makes one app per process)."""
    from werkzeug.routing.rules import Rule
    original = getattr(Rule, "_compile_builder", None)
    if original is None or not hasattr(Rule("/"), "rule"):
        return
    built: dict[tuple, object] = {}

    def compile_builder_once(self, append_unknown=True):
        try:
            key = (self.rule, self.host, self.subdomain, tuple(self._trace), append_unknown,
                   repr(sorted((self.defaults or {}).items())),
                   tuple((name, type(converter), repr({k: v for k, v in vars(converter).items() if k != "map"}))
                         for name, converter in sorted(self._converters.items())))
        except (AttributeError, TypeError):
            return original(self, append_unknown)
        builder = built.get(key)
        if builder is None:
            builder = built[key] = original(self, append_unknown)
        return builder
    Rule._compile_builder = compile_builder_once


_build_url_rules_once()


def make_app(database_url: str, **settings):
    from signpost import create_app
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url,
                      "RATELIMIT_KEY_PREFIX": "t" + secrets.token_hex(6), **settings})
    app.test_client_class = Client
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


@pytest.fixture(scope="session")
def pg_schema():
    """One PostgreSQL schema with every table, for this test process; emptied after each test."""
    if not PG_URL:
        pytest.skip("SIGNPOST_TEST_DATABASE_URL is not set")
    schema = f"signpost_test_{uuid.uuid4().hex[:10]}"
    create_schema(schema)
    app = make_app(pg_url_with_schema(schema))
    with app.app_context():
        from signpost.extensions import db
        db.create_all()
        db.engine.dispose()
    yield schema
    drop_schema(schema)


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'signpost.db'}"
    return pg_url_with_schema(request.getfixturevalue("pg_schema"))


@pytest.fixture
def app_settings():
    """Override in a test module to change settings for its `app`."""
    return {}


@pytest.fixture
def app(database_url, app_settings):
    """The app with an empty database (every table), inside an app context."""
    from signpost.extensions import db
    app = make_app(database_url, **app_settings)
    with app.app_context():
        if database_url.startswith("sqlite"):
            db.create_all()
        yield app
        db.session.remove()
        if not database_url.startswith("sqlite"):
            empty_every_table(db)
        db.engine.dispose()


def empty_every_table(db) -> None:
    """Every row deleted and every id counted from 1 again, as after TRUNCATE ... RESTART IDENTITY,
    which takes twenty times as long on tables this small (it makes each table's files anew)."""
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        sequences = conn.scalars(sa.text("SELECT sequence_name FROM information_schema.sequences "
                                         "WHERE sequence_schema = current_schema()")).all()
        for sequence in sequences:
            conn.execute(sa.text("SELECT setval(:sequence, 1, false)"), {"sequence": f'"{sequence}"'})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def users(app):
    """One active user per role (role -> User), password PASSWORD."""
    from signpost import store
    return {role: store.create_user(f"{role.replace('_', '.')}@example.org", f"Test {role}", role, PASSWORD,
                                    "Test organisation", actor="test") for role in ROLES}


def sign_in_as(client, user) -> None:
    """Put a signed-in session straight into the client's cookie (the sign-in form is tested elsewhere)."""
    now = int(time.time())
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["last_seen"] = now
        session["signed_in_at"] = now


def _client_for(app, users, role):
    client = app.test_client()
    sign_in_as(client, users[role])
    client.user = users[role]
    return client


@pytest.fixture
def referrer(app, users):
    return _client_for(app, users, "referrer")


@pytest.fixture
def front_door(app, users):
    return _client_for(app, users, "front_door")


@pytest.fixture
def policy_lead(app, users):
    return _client_for(app, users, "policy_lead")


@pytest.fixture
def admin(app, users):
    return _client_for(app, users, "admin")


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client, path: str) -> str:
    """The CSRF token from a page's form (GET the page the way a browser would)."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no csrf_token on {path}"
    return match.group(1) or match.group(2)


def submit(client, path: str, data: dict, *, form_page: str | None = None, **kwargs):
    """POST a form with a real CSRF token taken from the form's page (default: the same path)."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)
