"""The schema: every migration up and down on an empty database, head == models, on each backend.

Also the database-level rules: foreign keys and WAL on SQLite, unique referral per draft, append-only rows.
"""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import IntegrityError

from conftest import DATABASES, create_schema, drop_schema, make_app, pg_url_with_schema
from signpost import store
from signpost.database import MIGRATIONS
from signpost.extensions import db
from signpost.models import (AppendOnlyError, Assessment, AuditEvent, Decision, Draft, Referral, User,
                             new_draft_id, utcnow)
from signpost.values import uk_today

TABLES = {"users", "drafts", "assessments", "referrals", "decisions", "audit_events", "external_contacts", "outbox",
          "published_thresholds", "threshold_drafts", "kept_decisions"}


@pytest.fixture(params=DATABASES)
def empty_database(request, tmp_path):
    """A database with no tables at all (a fresh schema on PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    schema = f"signpost_mig_{uuid.uuid4().hex[:10]}"
    create_schema(schema)
    yield pg_url_with_schema(schema)
    drop_schema(schema)


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def differences(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_up_down_up_and_head_matches_models(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        assert tables(db.engine) == TABLES | {"alembic_version"}
        assert differences(db.engine) == []

        # With a row in it, then all the way down: nothing left but Alembic's own table.
        store.create_user("someone@example.org", "Someone", "referrer", "a long enough password", actor="test")
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="base")
        assert tables(db.engine) == {"alembic_version"}

        upgrade(directory=str(MIGRATIONS))
        assert differences(db.engine) == []
        db.session.remove()
        db.engine.dispose()


def _check_values(sqltext: str) -> set[str]:
    """The quoted values a CHECK constraint allows, however the backend spells the SQL."""
    import re
    return set(re.findall(r"'([^']*)'", str(sqltext)))


def test_migrated_check_constraints_match_the_models(empty_database):
    """compare_metadata ignores CHECK constraints, so a value set could drift from its migration."""
    from sqlalchemy import CheckConstraint
    app = make_app(empty_database)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        inspector = sa.inspect(db.engine)
        checked = 0
        for table in db.metadata.sorted_tables:
            expected = {c.name: _check_values(c.sqltext) for c in table.constraints
                        if isinstance(c, CheckConstraint) and c.name}
            actual = {c["name"]: _check_values(c["sqltext"]) for c in inspector.get_check_constraints(table.name)}
            assert actual == expected, table.name
            checked += len(expected)
        assert checked >= 6
        db.session.remove()
        db.engine.dispose()


def test_every_revision_has_a_downgrade():
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text()
        assert "def downgrade" in text and "pass\n" not in text.split("def downgrade", 1)[1][:40], path


def test_sqlite_has_foreign_keys_and_wal(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'p.db'}")
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        db.engine.dispose()


def make_user(email="u@example.org", role="referrer") -> User:
    return store.create_user(email, "U", role, "a long enough password", actor="test")


def make_draft(user) -> Draft:
    draft = Draft(user_id=user.id, answers={"age_months": 60}, threshold_id="v", threshold_hash="h" * 64)
    db.session.add(draft)
    db.session.commit()
    return draft


def make_assessment(user, draft=None) -> Assessment:
    assessment = Assessment(user_id=user.id, draft_id=draft.id if draft else None, started_at=utcnow(),
                            recommended_route="social_care", recommended_level=4, threshold_id="v",
                            threshold_hash="h" * 64, indicator_ids=["a"], reason_ids=["a"])
    db.session.add(assessment)
    db.session.commit()
    return assessment


def test_foreign_keys_are_enforced(app):
    db.session.add(Draft(user_id=999_999, answers={}, threshold_id="v", threshold_hash="h"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_draft_ids_are_random_url_safe_tokens(app):
    user = make_user()
    first, second = make_draft(user), make_draft(user)
    assert first.id != second.id and len(first.id) >= 32
    assert all(c.isalnum() or c in "-_" for c in first.id)
    assert len({new_draft_id() for _ in range(100)}) == 100


def test_one_referral_per_draft_is_enforced_by_the_database(app):
    user = make_user()
    draft = make_draft(user)
    first, second = make_assessment(user, draft), make_assessment(user)
    db.session.add(Referral(reference="NM-2026-00001", assessment_id=first.id, draft_id=draft.id, user_id=user.id))
    db.session.commit()
    db.session.add(Referral(reference="NM-2026-00002", assessment_id=second.id, draft_id=draft.id, user_id=user.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert draft.assessment_id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1


def test_emails_are_unique_and_lower_case(app):
    user = make_user("Mixed.Case@Example.ORG")
    assert user.email == "mixed.case@example.org"
    with pytest.raises(store.StoreError):
        make_user("MIXED.case@example.org")
    db.session.add(User(email="mixed.case@example.org", name="x", role="admin", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_roles_and_outcomes_are_checked_by_the_database(app):
    db.session.add(User(email="x@example.org", name="x", role="superuser", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_decisions_and_audit_events_are_append_only(app):
    user = make_user()
    assessment = make_assessment(user)
    referral = Referral(reference="NM-2026-00003", assessment_id=assessment.id, user_id=user.id)
    db.session.add(referral)
    db.session.commit()
    db.session.add(Decision(referral_id=referral.id, outcome="nfa", decided_on=uk_today(), decided_by=user.id))
    db.session.commit()
    db.session.add(Decision(referral_id=referral.id, outcome="early_help", decided_on=uk_today(),
                            decided_by=user.id, sequence=2))  # a later decision supersedes decision 1
    db.session.commit()
    assert [d.outcome for d in referral.decisions] == ["nfa", "early_help"]
    assert referral.latest_decision.outcome == "early_help"

    decision = referral.decisions[0]
    decision.outcome = "strategy_s47"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()

    event = db.session.scalars(sa.select(AuditEvent)).first()
    db.session.delete(event)
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id) is not None


def test_json_columns_round_trip(app):
    user = make_user()
    draft = make_draft(user)
    draft.answers = {"indicators": ["a", "b"], "age_months": 60, "voice": "Ça va – “fine”"}
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Draft, draft.id).answers["voice"] == "Ça va – “fine”"


def test_0014_adds_must_change_password_unset_for_existing_accounts(empty_database):
    # Nobody can tell now who chose an existing account's password: none is flagged.
    app = make_app(empty_database)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0012_uk_months")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (email, name, role, organisation, password_hash, active, "
                                 "session_version, created_at) VALUES ('old@example.org', 'Old', 'admin', '', "
                                 "'x', true, 1, '2026-01-01 00:00:00')"))
        upgrade(directory=str(MIGRATIONS), revision="0014_must_change_password")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT must_change_password FROM users")).scalar_one() in (False, 0)
        downgrade(directory=str(MIGRATIONS), revision="0012_uk_months")
        assert "must_change_password" not in {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT email FROM users")).scalar_one() == "old@example.org"
        db.engine.dispose()


def test_0015_dates_the_temporary_passwords_there_are_and_no_others(empty_database):
    # A temporary password already there gets the whole period from the upgrade, not refused at once; one
    # its owner chose keeps no date (nobody can tell when it was set) and never expires.
    app = make_app(empty_database)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0014_must_change_password")
        with db.engine.begin() as conn:
            for email, temporary in (("temporary@example.org", "true"), ("own@example.org", "false")):
                conn.execute(sa.text("INSERT INTO users (email, name, role, organisation, password_hash, active, "
                                     "session_version, created_at, must_change_password) VALUES "
                                     f"('{email}', 'Old', 'referrer', '', 'x', true, 1, '2026-01-01 00:00:00', "
                                     f"{temporary})"))
        before = utcnow()
        upgrade(directory=str(MIGRATIONS), revision="0015_password_set_at")
        dated = {user.email: user for user in db.session.scalars(sa.select(User))}
        assert before <= dated["temporary@example.org"].password_set_at <= utcnow()
        assert not dated["temporary@example.org"].temporary_password_expired(7)
        assert dated["own@example.org"].password_set_at is None
        assert not dated["own@example.org"].temporary_password_expired(7)
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0014_must_change_password")
        assert "password_set_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM users")).scalar_one() == 2
        db.engine.dispose()
