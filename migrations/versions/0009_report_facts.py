"""Reports: facts stored with each referral and contact, written with the row, not worked out when read

Revision ID: 0009_report_facts
Revises: 0008_consultation_link
Create Date: 2026-12-01

Issue 10 (the reports' speed). Each referral gains the recommendation it was sent from (copied
from its assessment), when its first decision was due and when it was made, and whether it is a
re-referral or a consultation followed by a referral; each recorded contact gains its due time.
signpost.store.facts writes them with every new row and decision; here they are filled in for
the rows already there, by the same code (facts.fill). The reports' covering indexes change to
hold the new columns; the indexes only the old read-time joins used go.

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_report_facts'
down_revision = '0008_consultation_link'
branch_labels = None
depends_on = None


def _referral_columns():
    return (
        sa.Column('source_code', sa.String(length=8), nullable=True),
        sa.Column('age_band', sa.String(length=20), nullable=True),
        sa.Column('urgency', sa.String(length=20), nullable=True),
        sa.Column('recommended_route', sa.String(length=20), nullable=True),
        sa.Column('route_taken', sa.String(length=20), nullable=True),
        sa.Column('overridden', sa.Boolean(), nullable=True),
        sa.Column('threshold_id', sa.String(length=64), nullable=True),
        sa.Column('reasons_key', sa.Text(), nullable=True),
        sa.Column('month', sa.String(length=7), nullable=True),
        sa.Column('due_at', sa.DateTime(), nullable=True),
        sa.Column('first_decided_at', sa.DateTime(), nullable=True),
        sa.Column('re_referral', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('followed_up', sa.Boolean(), server_default=sa.false(), nullable=False),
    )


OLD_INDEXES = {  # as 0006_metrics made them
    "ix_referrals_reports": ("referrals", ["created_at", "kind", "latest_outcome", "assessment_id", "child_key",
                                           "user_id"]),
    "ix_assessments_reports": ("assessments", ["id", "source_code", "age_band", "urgency", "recommended_route",
                                               "route_taken", "overridden", "threshold_id"]),
    "ix_decisions_first": ("decisions", ["referral_id", "sequence", "decided_at"]),
}
NEW_INDEXES = {  # as models.REPORT_INDEXES has them
    "ix_referrals_reports": ("referrals", ["kind", "source_code", "threshold_id", "recommended_route", "route_taken",
                                           "latest_outcome", "month", "created_at", "first_decided_at", "due_at",
                                           "re_referral", "followed_up", "age_band", "urgency", "overridden"]),
    "ix_external_contacts_reports": ("external_contacts", ["outcome", "source_code", "month", "received_at",
                                                           "decided_at", "due_at", "age_band", "urgency"]),
    "ix_referrals_received": ("referrals", ["created_at", "kind", "latest_outcome", "month"]),
    "ix_external_contacts_received": ("external_contacts", ["received_at", "outcome", "month"]),
    # Empty on PostgreSQL (see models.REPORT_INDEXES).
    "ix_referrals_concerns": ("referrals", ["kind", "reasons_key", "created_at", "latest_outcome", "source_code",
                                            "age_band", "urgency", "threshold_id", "recommended_route", "overridden"]),
}


# PostgreSQL's estimate of the reports' groups (see models.REPORT_STATISTICS).
STATISTICS = {
    "st_referrals_reports": ("referrals", ("kind", "source_code", "threshold_id", "recommended_route", "route_taken",
                                           "latest_outcome", "month")),
    "st_external_contacts_reports": ("external_contacts", ("outcome", "source_code", "month")),
}


def upgrade():
    for name, (table, _columns) in OLD_INDEXES.items():
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('referrals') as batch:
        for column in _referral_columns():
            batch.add_column(column)
    with op.batch_alter_table('external_contacts') as batch:
        batch.add_column(sa.Column('month', sa.String(length=7), nullable=True))
        batch.add_column(sa.Column('due_at', sa.DateTime(), nullable=True))

    from signpost.store import facts
    facts.fill(op.get_bind())

    for name, (table, columns) in NEW_INDEXES.items():
        op.create_index(name, table, columns, unique=False,
                        postgresql_where=sa.text("false") if name == "ix_referrals_concerns" else None)
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, columns) in STATISTICS.items():
            op.execute(f"CREATE STATISTICS {name} (ndistinct) ON {', '.join(columns)} FROM {table}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in STATISTICS:
            op.execute(f"DROP STATISTICS {name}")
    for name, (table, _columns) in NEW_INDEXES.items():
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('external_contacts') as batch:
        batch.drop_column('due_at')
        batch.drop_column('month')
    with op.batch_alter_table('referrals') as batch:
        for column in reversed(_referral_columns()):
            batch.drop_column(column.name)
    for name, (table, columns) in OLD_INDEXES.items():
        op.create_index(name, table, columns, unique=False)
