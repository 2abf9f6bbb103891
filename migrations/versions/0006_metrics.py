"""Reports: covering indexes for the measures (NFA, timeliness, re-referrals, follow-ups)

Revision ID: 0006_metrics
Revises: 0005_policy
Create Date: 2026-12-01

Issue 10. Indexes only: each holds every column one of signpost.metrics' queries reads, so the
reports page reads indexes rather than wide rows (see models.REPORT_INDEXES).

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006_metrics'
down_revision = '0005_policy'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_referrals_reports": ("referrals", ["created_at", "kind", "latest_outcome", "assessment_id", "child_key",
                                           "user_id"]),
    "ix_assessments_reports": ("assessments", ["id", "source_code", "age_band", "urgency", "recommended_route",
                                               "route_taken", "overridden", "threshold_id"]),
    "ix_decisions_first": ("decisions", ["referral_id", "sequence", "decided_at"]),
    "ix_referrals_child_kind": ("referrals", ["child_key", "kind", "created_at"]),
    "ix_referrals_user_kind": ("referrals", ["user_id", "kind", "created_at"]),
}


def upgrade():
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, (table, _columns) in reversed(INDEXES.items()):
        op.drop_index(name, table_name=table)
