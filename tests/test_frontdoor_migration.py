"""Migration 0003 fills in what existing rows need: decision sequences, each referral's newest
decision, decided_at and the re-referral key, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from conftest import make_app
from test_models_migrations import empty_database  # noqa: F401  (the fixture: a database with no tables)
from signpost.database import MIGRATIONS
from signpost.extensions import db
from signpost.models import child_key


def test_existing_decisions_and_referrals_are_filled_in(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0002_urgency_lado_kinds")
        details = {"first_name": "Ada", "last_name": "Fenwick", "date_of_birth": "2016-05-04"}
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO users (id, email, name, role, organisation, password_hash, active, session_version, "
                "created_at) VALUES (1, 'a@example.org', 'A', 'front_door', '', 'x', :t, 1, '2026-01-01')"),
                {"t": True})
            conn.execute(sa.text(
                "INSERT INTO assessments (id, user_id, started_at, completed_at, unborn, indicator_ids, in_danger, "
                "immediate, recommended_route, reason_ids, overridden, threshold_id, threshold_hash, lado) "
                "VALUES (1, 1, '2026-01-01', '2026-01-01', :f, '[]', :f, :f, 'social_care', '[]', :f, 't', 'h', :f)"),
                {"f": False})
            conn.execute(sa.text(
                "INSERT INTO referrals (id, reference, kind, assessment_id, user_id, created_at, details) "
                "VALUES (1, 'NM-2026-00001', 'referral', 1, 1, '2026-01-02 09:00', :d)"), {"d": json.dumps(details)})
            for n, (outcome, at) in enumerate([("nfa", "2026-01-02 10:00"), ("early_help", "2026-01-03 11:00")]):
                conn.execute(sa.text(
                    "INSERT INTO decisions (id, referral_id, outcome, decided_on, decided_by, note, created_at) "
                    "VALUES (:id, 1, :o, '2026-01-02', 1, '', :at)"), {"id": 10 - n, "o": outcome, "at": at})
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT outcome, sequence, decided_at FROM decisions ORDER BY sequence")).all()
            referral = conn.execute(sa.text("SELECT latest_outcome, child_key, urgency_priority FROM referrals")).one()
        assert [(r.outcome, r.sequence) for r in rows] == [("nfa", 1), ("early_help", 2)]
        assert str(rows[1].decided_at).startswith("2026-01-03 11:00")
        assert referral.latest_outcome == "early_help"
        assert referral.child_key == child_key(details)
        assert referral.urgency_priority == 2  # a standard referral (0002 made urgency 'standard')
        downgrade(directory=str(MIGRATIONS), revision="0002_urgency_lado_kinds")
        db.engine.dispose()
