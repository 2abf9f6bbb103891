"""A referral made from a request for advice records it: the consultation-to-referral link

Revision ID: 0008_consultation_link
Revises: 0007_journey
Create Date: 2026-12-01

referrals.follow_up_draft_id (on a consultation): the draft its referrer started from the
front door's advice. referrals.consultation_id (on the item sent from that draft): the
consultation it followed, written when the item is made. The reports count a consultation as
followed by a referral through this link, no longer by the same professional referring anyone.
Existing rows have no link (nothing is deployed yet).

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_consultation_link'
down_revision = '0007_journey'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals') as batch:
        batch.add_column(sa.Column('follow_up_draft_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('consultation_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_referrals_follow_up_draft_id_drafts'), 'drafts',
                                 ['follow_up_draft_id'], ['id'], ondelete='SET NULL')
        batch.create_foreign_key(op.f('fk_referrals_consultation_id_referrals'), 'referrals',
                                 ['consultation_id'], ['id'], ondelete='SET NULL')
        batch.create_unique_constraint(op.f('uq_referrals_follow_up_draft_id'), ['follow_up_draft_id'])
        batch.create_index(op.f('ix_referrals_consultation_id'), ['consultation_id'])


def downgrade():
    with op.batch_alter_table('referrals') as batch:
        batch.drop_index(op.f('ix_referrals_consultation_id'))
        batch.drop_constraint(op.f('uq_referrals_follow_up_draft_id'), type_='unique')
        batch.drop_constraint(op.f('fk_referrals_consultation_id_referrals'), type_='foreignkey')
        batch.drop_constraint(op.f('fk_referrals_follow_up_draft_id_drafts'), type_='foreignkey')
        batch.drop_column('consultation_id')
        batch.drop_column('follow_up_draft_id')
