"""Initial tables: users, drafts, assessments, referrals, decisions, audit events

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27

The record from design.md "The record". Decisions and audit events are append-only
(enforced by the models); drafts.id is a random url-safe token.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("role IN ('referrer', 'front_door', 'policy_lead', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('record_type', sa.String(length=40), nullable=True),
    sa.Column('record_id', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_user_id'), ['user_id'], unique=False)

    op.create_table('drafts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('threshold_id', sa.String(length=64), nullable=False),
    sa.Column('threshold_hash', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_drafts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drafts'))
    )
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drafts_updated_at'), ['updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_drafts_user_id'), ['user_id'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=False),
    sa.Column('source_code', sa.String(length=8), nullable=True),
    sa.Column('referrer_role', sa.String(length=64), nullable=True),
    sa.Column('age_band', sa.String(length=20), nullable=True),
    sa.Column('unborn', sa.Boolean(), nullable=False),
    sa.Column('indicator_ids', sa.JSON(), nullable=False),
    sa.Column('consent', sa.String(length=20), nullable=True),
    sa.Column('in_danger', sa.Boolean(), nullable=False),
    sa.Column('immediate', sa.Boolean(), nullable=False),
    sa.Column('recommended_route', sa.String(length=20), nullable=False),
    sa.Column('recommended_level', sa.Integer(), nullable=True),
    sa.Column('reason_ids', sa.JSON(), nullable=False),
    sa.Column('route_taken', sa.String(length=20), nullable=True),
    sa.Column('overridden', sa.Boolean(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('threshold_id', sa.String(length=64), nullable=False),
    sa.Column('threshold_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("recommended_route IN ('universal', 'early_help', 'social_care')", name=op.f('ck_assessments_recommended_route')),
    sa.CheckConstraint("route_taken IS NULL OR route_taken IN ('universal', 'early_help', 'social_care')", name=op.f('ck_assessments_route_taken')),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], name=op.f('fk_assessments_draft_id_drafts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assessments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('draft_id', name=op.f('uq_assessments_draft_id'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_threshold_id'), ['threshold_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_user_id'), ['user_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('family_aware', sa.String(length=20), nullable=True),
    sa.Column('consent', sa.String(length=20), nullable=True),
    sa.Column('consent_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_referrals_assessment_id_assessments')),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], name=op.f('fk_referrals_draft_id_drafts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_referrals_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('assessment_id', name=op.f('uq_referrals_assessment_id')),
    sa.UniqueConstraint('draft_id', name=op.f('uq_referrals_draft_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_referrals_reference'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_user_id'), ['user_id'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("outcome IN ('nfa', 'nfa_advice', 'early_help', 'assessment_s17', 'strategy_s47', 'already_open')", name=op.f('ck_decisions_outcome')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_decisions_decided_by_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_decisions_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_referral_id'), ['referral_id'], unique=False)



def downgrade():
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_referral_id'))

    op.drop_table('decisions')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_user_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_created_at'))

    op.drop_table('referrals')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_user_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_threshold_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_completed_at'))

    op.drop_table('assessments')
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drafts_user_id'))
        batch_op.drop_index(batch_op.f('ix_drafts_updated_at'))

    op.drop_table('drafts')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('users')
