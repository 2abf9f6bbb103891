"""`/healthz` for load balancers: 200 when the database answers, 503 when it does not.

Says nothing else about the service (no versions, no counts).
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        db.session.rollback()
        current_app.logger.error("health check: database unreachable (%s)", type(exc).__name__)
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")
