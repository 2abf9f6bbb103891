"""The referral journey: draft versions (no lost writes), assessment revisions, what the record holds

Revision ID: 0004_journey
Revises: 0002_urgency_lado_kinds
Create Date: 2026-12-01

drafts.version guards concurrent saves of one draft.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_journey'
down_revision = '0002_urgency_lado_kinds'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('drafts') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('drafts') as batch:
        batch.drop_column('version')
