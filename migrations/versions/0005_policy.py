"""Policy leads: published threshold versions, their drafts, and the child's age in months

Revision ID: 0005_policy
Revises: 0004_hardening
Create Date: 2026-12-01

published_thresholds holds each version published from Signpost (append-only, the exact
YAML); threshold_drafts the drafts; assessments.age_months lets a simulation use the real age.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_policy'
down_revision = '0004_hardening'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('published_thresholds',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=False),
    sa.Column('summary_of_changes', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('effective_from')
    )
    op.create_table('threshold_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('base_id', sa.String(length=80), nullable=False),
    sa.Column('base_hash', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('published_id', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('threshold_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_threshold_drafts_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('age_months', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_column('age_months')
    with op.batch_alter_table('threshold_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_threshold_drafts_user_id'))
    op.drop_table('threshold_drafts')
    op.drop_table('published_thresholds')
