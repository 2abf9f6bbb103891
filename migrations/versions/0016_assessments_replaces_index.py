"""Assessments: an index on replaces_id, so "the newest revision of each answer" is not a whole-table scan per row

Revision ID: 0016_assessments_replaces_index
Revises: 0015_password_set_at
Create Date: 2026-12-08

Preview a change (signpost/simulate.py) and the reports keep only assessments that no later revision
replaces (NOT EXISTS ... WHERE later.replaces_id = assessments.id). Without an index SQLite answers that
by reading the whole table for every row: 53 seconds for 20,000 assessments, and a council's years of
them would not finish. PostgreSQL does not index a foreign key's column by itself either.

"""
from alembic import op


revision = '0016_assessments_replaces_index'
down_revision = '0015_password_set_at'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_assessments_replaces_id'), 'assessments', ['replaces_id'])


def downgrade():
    op.drop_index(op.f('ix_assessments_replaces_id'), table_name='assessments')
