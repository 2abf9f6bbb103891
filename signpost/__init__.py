"""Signpost: referral threshold and early help signposting for children's services.

create_app() builds the Flask application; the engine and thresholds need no Flask.
"""
from __future__ import annotations

from flask import Flask

from . import settings as settings_module


def create_app(settings: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(settings_module.from_environment())
    if settings:
        app.config.update(settings)

    from .cli import register_cli
    register_cli(app)
    return app
