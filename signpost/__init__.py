"""Signpost: referral threshold and early help signposting for children's services.

create_app() builds the Flask application; the engine and thresholds need no Flask.
"""
from __future__ import annotations

import logging
import secrets
from pathlib import Path

from typing import TYPE_CHECKING

from . import settings as settings_module

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app", "current_directory", "current_library", "current_version"]


def __getattr__(name: str):
    # Imported lazily so that `import signpost.engine` (or .thresholds) never loads Flask.
    if name in ("current_directory", "current_library", "current_version"):
        from . import content
        return getattr(content, name)
    raise AttributeError(name)


def create_app(settings: dict | None = None) -> "Flask":
    from flask import Flask

    app = Flask(__name__, instance_path=str(settings_module.INSTANCE),
                static_folder="static", template_folder=str(settings_module.ROOT / "templates"))
    app.config.update(settings_module.from_environment())
    if settings:
        app.config.update(settings)
    _secret_key(app)
    settings_module.check(app.config)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("signpost").setLevel(app.config.get("LOG_LEVEL", "INFO"))

    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from .content import load_content
    load_content(app)

    from . import database
    database.init_app(app)

    from .web import init_web
    init_web(app)

    from .cli import register_cli
    register_cli(app)
    return app


def _secret_key(app: "Flask") -> None:
    """In development, a random key kept in instance/ so sessions survive restarts and workers."""
    if app.config.get("SECRET_KEY") or app.config["ENVIRONMENT"] == "production":
        return
    path = Path(app.instance_path) / "secret_key"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        app.config["SECRET_KEY"] = path.read_text().strip()
    except OSError:
        app.config["SECRET_KEY"] = secrets.token_urlsafe(48)
