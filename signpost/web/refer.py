"""The start page for every signed-in user, and the threshold document in force, readable.

Referrers start (or carry on) a referral journey from here; the journey is in journey.py.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, render_template, session
from flask_login import current_user

from ..content import current_version_or_none

bp = Blueprint("refer", __name__)


@bp.get("/")
def start():
    version = current_version_or_none()
    if version is None:
        abort(503)
    drafts, current = [], None
    if current_user.role == "referrer":
        from .journey import current_draft, saved_drafts
        drafts = saved_drafts()
        current = current_draft() or (drafts[0] if drafts else None)
        if current is None and session.get("draft_id"):
            session.pop("draft_id", None)
    from .journey import describe_draft as describe
    return render_template("refer/start.html", version=version, doc=version.document, drafts=drafts,
                           current=current, describe=describe)


@bp.get("/thresholds")
def thresholds():
    version = current_version_or_none()
    if version is None:
        abort(503)
    doc = version.document
    domains = []
    for domain in doc.domains:
        areas = []
        for area in domain.areas:
            indicators = sorted((i for i in doc.indicators if i.area == area.id),
                                key=lambda i: (-i.level, i.text))
            areas.append({"area": area, "indicators": indicators})
        domains.append({"domain": domain, "areas": areas})
    return render_template("refer/thresholds.html", version=version, doc=doc, domains=domains,
                           overdue=version.overdue_for_review(dt.date.today()))
