"""Migrations fill in what existing rows need, on SQLite and PostgreSQL: 0003 decision sequences, each
referral's newest decision, decided_at and the re-referral key; 0009 the reports' stored facts."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from conftest import make_app
from test_models_migrations import empty_database  # noqa: F401  (the fixture: a database with no tables)
from signpost.database import MIGRATIONS
from signpost.extensions import db
from signpost.models import child_key


def insert_user(conn, role: str) -> None:
    """User 1, in the users table as it stands from 0003 on (which added `manager`)."""
    conn.execute(sa.text(
        "INSERT INTO users (id, email, name, role, organisation, password_hash, active, session_version, "
        "created_at, manager) VALUES (1, :email, 'A', :role, '', 'x', :t, 1, '2026-01-01', :f)"),
        {"email": f"{role}@example.org", "role": role, "t": True, "f": False})


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


def test_migration_0009_fills_in_the_reports_facts_of_existing_rows(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0008_consultation_link")
        ada = {"first_name": "Ada", "last_name": "Fenwick", "date_of_birth": "2016-05-04"}
        with db.engine.begin() as conn:
            insert_user(conn, "front_door")
            for n, (at, kind) in enumerate([("2026-02-06 15:00:00", "referral"), ("2026-02-09 10:00:00", "referral"),
                                            ("2026-02-01 10:00:00", "consultation")], start=1):
                conn.execute(sa.text(
                    "INSERT INTO assessments (id, user_id, started_at, completed_at, unborn, indicator_ids, in_danger, "
                    "immediate, recommended_route, reason_ids, overridden, route_taken, threshold_id, threshold_hash, "
                    "lado, source_code, age_band, urgency, shown) VALUES (:id, 1, :at, :at, :f, '[]', :f, :f, "
                    "'early_help', :reasons, :t, 'social_care', 'v1', 'h', :f, '3B', '5 to 9', 'standard', '{}')"),
                    {"id": n, "at": at, "f": False, "t": True, "reasons": json.dumps(["ind_a", f"ind_{n}"])})
                conn.execute(sa.text(
                    "INSERT INTO referrals (id, reference, kind, assessment_id, user_id, created_at, details, "
                    "child_key, urgency_priority) VALUES (:id, :ref, :kind, :id, 1, :at, :d, :key, 2)"),
                    {"id": n, "ref": f"NM-{n}", "kind": kind, "at": at, "d": json.dumps(ada), "key": child_key(ada)})
            conn.execute(sa.text(
                "INSERT INTO decisions (id, referral_id, outcome, decided_on, decided_by, note, created_at, sequence, "
                "decided_at) VALUES (1, 1, 'nfa', '2026-02-09', 1, '', '2026-02-09 15:00:00', 1, "
                "'2026-02-09 15:00:00')"))
            conn.execute(sa.text(
                "INSERT INTO external_contacts (id, reference, received_at, source_code, channel, age_band, urgency, "
                "outcome, decided_at, recorded_by, recorded_at) VALUES (1, 'X1', '2026-02-07 11:00:00', '6', 'phone', "
                "'5 to 9', 'standard', 'nfa', '2026-02-09 10:00:00', 1, '2026-02-09 10:00:00')"))
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(sa.text(
                "SELECT id, source_code, recommended_route, overridden, reasons_key, month, due_at, first_decided_at, "
                "re_referral, followed_up FROM referrals"))}
            contact = conn.execute(sa.text("SELECT month, due_at FROM external_contacts")).one()
        first, second, consultation = rows[1], rows[2], rows[3]
        assert (first.source_code, first.recommended_route, bool(first.overridden)) == ("3B", "early_help", True)
        assert json.loads(first.reasons_key) == ["ind_a", "ind_1"] and first.month == "2026-02"
        assert str(first.due_at).startswith("2026-02-09 15:00")
        assert str(first.first_decided_at).startswith("2026-02-09 15:00")
        assert second.first_decided_at is None and bool(second.re_referral) and not bool(first.re_referral)
        assert bool(consultation.followed_up)
        # Received on a Saturday: due by the end of Monday.
        assert contact.month == "2026-02" and str(contact.due_at).startswith("2026-02-10 00:00")
        downgrade(directory=str(MIGRATIONS), revision="0008_consultation_link")
        db.engine.dispose()


def test_migration_0010_stores_kind_and_routes_as_one_number_and_goes_back(empty_database):
    from signpost.values import KIND_ROUTES
    app = make_app(empty_database)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0009_report_facts")
        items = {1: ("referral", "universal", "social_care"), 2: ("consultation", "early_help", "early_help"),
                 3: ("early_help_request", None, None)}
        with db.engine.begin() as conn:
            insert_user(conn, "referrer")
            for n, (kind, recommended, taken) in items.items():
                conn.execute(sa.text(
                    "INSERT INTO assessments (id, user_id, started_at, completed_at, unborn, indicator_ids, in_danger, "
                    "immediate, recommended_route, reason_ids, overridden, threshold_id, threshold_hash, lado, shown) "
                    "VALUES (:id, 1, '2026-03-02', '2026-03-02', :f, '[]', :f, :f, 'universal', '[]', :f, 'v1', 'h', "
                    ":f, '{}')"), {"id": n, "f": False})
                conn.execute(sa.text(
                    "INSERT INTO referrals (id, reference, kind, assessment_id, user_id, created_at, details, "
                    "urgency_priority, recommended_route, route_taken) VALUES (:id, :ref, :kind, :id, 1, "
                    "'2026-03-02 10:00:00', '{}', 2, :recommended, :taken)"),
                    {"id": n, "ref": f"K-{n}", "kind": kind, "recommended": recommended, "taken": taken})
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            numbers = dict(conn.execute(sa.text("SELECT id, kind_routes FROM referrals")).all())
        assert {n: KIND_ROUTES[number] for n, number in numbers.items()} == items
        downgrade(directory=str(MIGRATIONS), revision="0009_report_facts")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM referrals WHERE route_taken IS NULL")).scalar() == 1
            assert "kind_routes" not in {c["name"] for c in sa.inspect(conn).get_columns("referrals")}
        db.engine.dispose()


def test_migration_0012_counts_existing_rows_in_their_uk_month_and_goes_back(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0011_withdraw_version")
        with db.engine.begin() as conn:
            insert_user(conn, "front_door")
            # 00:30 on 1 July in the UK (BST), and 23:30 on 31 January (GMT, the same as UTC).
            for n, at in enumerate(["2026-06-30 23:30:00", "2026-01-31 23:30:00"], start=1):
                conn.execute(sa.text(
                    "INSERT INTO external_contacts (id, reference, received_at, source_code, channel, age_band, "
                    "urgency, outcome, decided_at, recorded_by, recorded_at, month) VALUES (:id, :ref, :at, '6', "
                    "'phone', '5 to 9', 'standard', 'nfa', :at, 1, :at, :month)"),
                    {"id": n, "ref": f"X{n}", "at": at, "month": at[:7]})
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            assert dict(conn.execute(sa.text("SELECT id, month FROM external_contacts")).all()) == {
                1: "2026-07", 2: "2026-01"}
        downgrade(directory=str(MIGRATIONS), revision="0011_withdraw_version")
        with db.engine.connect() as conn:
            assert dict(conn.execute(sa.text("SELECT id, month FROM external_contacts")).all()) == {
                1: "2026-06", 2: "2026-01"}
        db.engine.dispose()
