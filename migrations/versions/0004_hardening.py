"""Referrals record when their identifying details were erased (retention or an erasure request)

Revision ID: 0004_hardening
Revises: 0003_front_door
Create Date: 2026-12-01

The referral row, its assessment's coded fields and its decisions' outcomes stay, so the
reports' anonymous counts are unchanged; only names, addresses and free text go.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_hardening'
down_revision = '0003_front_door'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
