"""`/healthz` for load balancers and operators: each dependency's state, 503 when one is down.

Checks the database, the rate-limit store (Redis when configured) and the threshold version
in force. Says nothing else about the service (no versions, no counts, no file names).
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..content import blocking_failures, current_library, current_version
from ..extensions import db, limiter

bp = Blueprint("health", __name__)


def database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass
        current_app.logger.error("health check: database unreachable (%s)", type(exc).__name__)
        return "unavailable"
    return "ok"


def rate_limit_state() -> str:
    """Redis (or memory) answering; when it does not, limits are counted in memory meanwhile."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return "disabled"
    try:
        ok = bool(limiter.storage.check())
    except Exception:  # any client error means the same thing here
        ok = False
    if not ok:
        current_app.logger.warning("health check: rate-limit store unreachable; counting in memory")
    return "ok" if ok else "unavailable"


def thresholds_state() -> dict:
    problems = len({p.file for p in current_library().problems})
    try:
        current_version()
        state = "ok"
    except LookupError:
        state = "unavailable"
    out = {"status": state, "files_not_loaded": problems}
    if blocking_failures():
        out["reason"] = "a newer threshold version failed to load"
    return out


@bp.get("/healthz")
def healthz():
    checks = {"database": database_state(), "rate_limit_store": rate_limit_state(),
              "thresholds": thresholds_state()}
    # ?only=database,thresholds: only these decide the status code (all are still reported), for a
    # load balancer that should keep hosts in service while Redis is down (limits then count in memory).
    only = {name.strip() for name in request.args.get("only", "").split(",") if name.strip()} or set(checks)
    if only - set(checks):  # a misspelt name must not turn every check off; say which it was
        unknown = ", ".join(sorted(only - set(checks)))
        return jsonify(error=f"only: unknown check {unknown}; use {', '.join(checks)}"), 400
    down = [name for name, state in checks.items() if name in only
            and (state if isinstance(state, str) else state["status"]) not in ("ok", "disabled")]
    return jsonify(status="unavailable" if down else "ok", checks=checks), 503 if down else 200
