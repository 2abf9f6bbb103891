"""The referrer's start page. Until the journey exists it shows the threshold document in force.

The referral journey (issue 4) grows from here.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, render_template

from ..content import current_version_or_none

bp = Blueprint("refer", __name__)


@bp.get("/")
def start():
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
    return render_template("refer/start.html", version=version, doc=doc, domains=domains,
                           overdue=version.overdue_for_review(dt.date.today()))
