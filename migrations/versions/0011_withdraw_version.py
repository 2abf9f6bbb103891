"""Policy leads: a version published to take effect later can be withdrawn before it does

Revision ID: 0011_withdraw_version
Revises: 0010_kind_routes
Create Date: 2026-12-07

A mistake found in a scheduled version could not be taken back: it came into force on its date,
and nothing could be published for that day instead. published_thresholds keeps every version's
text as published; withdrawn_at (with who and why) marks one no host uses. The one-version-a-day
rule now holds among versions not withdrawn, so the withdrawn version's day is free for its
replacement.

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_withdraw_version'
down_revision = '0010_kind_routes'
branch_labels = None
depends_on = None

LIVE = sa.text("withdrawn_at IS NULL")


def upgrade():
    with op.batch_alter_table('published_thresholds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_published_thresholds_withdrawn_by_users'), 'users',
                                    ['withdrawn_by'], ['id'])
        batch_op.drop_constraint('uq_published_thresholds_effective_from', type_='unique')
    op.create_index('uq_published_thresholds_effective_from_live', 'published_thresholds', ['effective_from'],
                    unique=True, sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade():
    # Going back cannot keep a withdrawn version beside its replacement on the same day: the withdrawn
    # rows go (their text is in the audit log's threshold_withdrawn event only as its id and hash).
    op.execute("DELETE FROM published_thresholds WHERE withdrawn_at IS NOT NULL")
    op.drop_index('uq_published_thresholds_effective_from_live', table_name='published_thresholds')
    with op.batch_alter_table('published_thresholds', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_published_thresholds_effective_from', ['effective_from'])
        batch_op.drop_constraint(batch_op.f('fk_published_thresholds_withdrawn_by_users'), type_='foreignkey')
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_by')
        batch_op.drop_column('withdrawn_at')
