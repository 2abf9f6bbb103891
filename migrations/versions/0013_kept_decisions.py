"""Front door: a decision form posted after the worker's session went idle is kept, to show again

Revision ID: 0013_kept_decisions
Revises: 0012_uk_months
Create Date: 2026-12-08

A front door worker who took long enough over a decision's note to be signed out lost the decision
and the note when they sent it. What they posted (the form's own fields only) is now kept for that
worker and that item, and shown again once, filled in, when they sign in again. Going back drops the
table and any form still kept in it.

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_kept_decisions'
down_revision = '0012_uk_months'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kept_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('form', sa.JSON(), nullable=False),
    sa.Column('kept_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_kept_decisions_referral_id_referrals'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kept_decisions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kept_decisions'))
    )
    with op.batch_alter_table('kept_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_kept_decisions_referral_user', ['referral_id', 'user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kept_decisions_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kept_decisions_kept_at'), ['kept_at'], unique=False)


def downgrade():
    with op.batch_alter_table('kept_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kept_decisions_kept_at'))
        batch_op.drop_index(batch_op.f('ix_kept_decisions_user_id'))
        batch_op.drop_index('ix_kept_decisions_referral_user')
    op.drop_table('kept_decisions')
