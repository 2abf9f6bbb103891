"""Reports: each referral's kind and routes as one small number, worked out by the database

Revision ID: 0010_kind_routes
Revises: 0009_report_facts
Create Date: 2026-12-01

Issue 10 (the reports' speed on PostgreSQL). referrals.kind_routes holds kind, recommended route
and route taken as one number (signpost.values.kind_routes), a stored column the database works
out from those three whenever a row is written, so no writer can leave it behind. The overview
groups by it instead of three strings: its index and PostgreSQL's statistics on its groups change
to start with it.

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_kind_routes'
down_revision = '0009_report_facts'
branch_labels = None
depends_on = None

OLD_INDEX = ["kind", "source_code", "threshold_id", "recommended_route", "route_taken", "latest_outcome", "month",
             "created_at", "first_decided_at", "due_at", "re_referral", "followed_up", "age_band", "urgency",
             "overridden"]
NEW_INDEX = ["kind_routes", "source_code", "threshold_id", "latest_outcome", "month", "created_at", "first_decided_at",
             "due_at", "re_referral", "followed_up", "age_band", "urgency", "recommended_route", "overridden"]
OLD_STATISTICS = ["kind", "source_code", "threshold_id", "recommended_route", "route_taken", "latest_outcome", "month"]
NEW_STATISTICS = ["kind_routes", "source_code", "threshold_id", "latest_outcome", "month"]


def _reindex(columns, statistics, change_columns):
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP STATISTICS IF EXISTS st_referrals_reports")
    op.drop_index("ix_referrals_reports", table_name="referrals")
    change_columns()
    op.create_index("ix_referrals_reports", "referrals", columns, unique=False)
    if postgresql:
        op.execute(f"CREATE STATISTICS st_referrals_reports (ndistinct) ON {', '.join(statistics)} FROM referrals")


def upgrade():
    from signpost.values import kind_routes_sql

    def add():
        # SQLite cannot add a stored generated column in place: the batch makes the table again.
        with op.batch_alter_table("referrals", recreate="always" if op.get_bind().dialect.name == "sqlite"
                                  else "auto") as batch:
            batch.add_column(sa.Column("kind_routes", sa.SmallInteger(), sa.Computed(kind_routes_sql(),
                                                                                      persisted=True)))
    _reindex(NEW_INDEX, NEW_STATISTICS, add)


def downgrade():
    def drop():
        with op.batch_alter_table("referrals") as batch:
            batch.drop_column("kind_routes")
    _reindex(OLD_INDEX, OLD_STATISTICS, drop)
