"""Urgency and LADO on assessments; the kind of item sent to the front door; more outcomes

Revision ID: 0002_urgency_lado_kinds
Revises: 0001_initial
Create Date: 2026-12-01

Issue 7: a recommendation carries its urgency (emergency, same_day, standard) and whether
it found a concern about an adult who works with children (LADO). Referrals gain a kind
(referral, early-help request, consultation) and decisions the outcomes other_council,
lado and advice_given. The value sets come from signpost/values.py, copied here as they
were at this revision (a migration never changes with the code).

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_urgency_lado_kinds'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

URGENCIES = ('standard', 'same_day', 'emergency')
KINDS = ('referral', 'early_help_request', 'consultation')
OLD_OUTCOMES = ('nfa', 'nfa_advice', 'early_help', 'assessment_s17', 'strategy_s47', 'already_open')
NEW_OUTCOMES = OLD_OUTCOMES + ('other_council', 'lado', 'advice_given')


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table('assessments') as batch:
        batch.add_column(sa.Column('urgency', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('lado', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_check_constraint('urgency', f"urgency IS NULL OR {_in('urgency', URGENCIES)}")
    # Assessments made before urgency was recorded: an immediate one was an emergency.
    op.execute("UPDATE assessments SET urgency = CASE WHEN immediate THEN 'emergency' ELSE 'standard' END")
    with op.batch_alter_table('assessments') as batch:
        batch.alter_column('lado', server_default=None)
    with op.batch_alter_table('referrals') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=30), nullable=False, server_default='referral'))
        batch.create_check_constraint('kind', _in('kind', KINDS))
    with op.batch_alter_table('decisions') as batch:
        batch.drop_constraint(op.f('ck_decisions_outcome'), type_='check')
        batch.create_check_constraint('outcome', _in('outcome', NEW_OUTCOMES))


def downgrade():
    with op.batch_alter_table('decisions') as batch:
        batch.drop_constraint(op.f('ck_decisions_outcome'), type_='check')
        batch.create_check_constraint('outcome', _in('outcome', OLD_OUTCOMES))
    with op.batch_alter_table('referrals') as batch:
        batch.drop_constraint(op.f('ck_referrals_kind'), type_='check')
        batch.drop_column('kind')
    with op.batch_alter_table('assessments') as batch:
        batch.drop_constraint(op.f('ck_assessments_urgency'), type_='check')
        batch.drop_column('lado')
        batch.drop_column('urgency')
