"""The Flask extensions, created once here and bound to an app in create_app().

Import these (never create new ones) in blueprints: `from signpost.extensions import db, limiter`.
"""
from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints, so that Alembic can alter and drop them on every backend.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


def client_address() -> str:
    """The caller's address (ProxyFix has already applied any trusted X-Forwarded-For)."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: each limited view says its own (see signpost/web/auth.py).
# Storage comes from RATELIMIT_STORAGE_URI (memory:// by default, redis://... to share).
limiter = Limiter(key_func=client_address)
# The only places with limits: sign-in and changing one's password (both try a password), and the JSON API.
LIMITED_ENDPOINTS, LIMITED_BLUEPRINT = frozenset({"auth.sign_in", "auth.change_password"}), "api"


@limiter.request_filter
def _has_no_limits() -> bool:
    """Every other request skips the limiter's per-request bookkeeping (it would find no limit).
    A limit added anywhere else must be named above too: tests/test_auth.py checks it."""
    return not (request.endpoint in LIMITED_ENDPOINTS or request.blueprint == LIMITED_BLUEPRINT)
