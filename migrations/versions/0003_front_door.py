"""Front door: allocation, decision sequence, outside contacts, outbox, managers

Revision ID: 0003_front_door
Revises: 0002_urgency_lado_kinds
Create Date: 2026-12-01

Issue 9. Referrals gain allocation, a copy of their newest decision (latest_outcome, null while
awaiting: the queue's indexed filter), the urgency the queue sorts on (urgency_priority) and child_key (hashed name and date of birth, for
re-referrals). Decisions gain a sequence, unique per referral (optimistic locking: a new decision
names the one it supersedes), decided_at and, for consultations, referral_advised. New tables:
external_contacts (contacts outside Signpost) and outbox (email sent after commit). Users gain
`manager`. Existing rows are filled in: sequences in the order decisions were made, decided_at
from created_at, each referral's newest decision, and child keys computed as the models do.
Value sets are copied as they were at this revision.

"""
import hashlib
import json
import unicodedata

from alembic import op
import sqlalchemy as sa

CHANNELS = ('phone', 'email', 'referral_form', 'police_notification', 'in_person', 'other')
URGENCIES = ('standard', 'same_day', 'emergency')
OUTCOMES = ('nfa', 'nfa_advice', 'early_help', 'assessment_s17', 'strategy_s47', 'already_open',
            'other_council', 'lado', 'advice_given')


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _child_key(details):
    """As signpost.models.child_key was at this revision."""
    def norm(value):
        text = unicodedata.normalize("NFKD", str(value or "")).casefold()
        return "".join(ch for ch in text if ch.isalnum())
    details = details or {}
    first, last, dob = norm(details.get("first_name")), norm(details.get("last_name")), details.get("date_of_birth")
    if not (first and last and dob):
        return None
    return hashlib.sha256(f"child-v1|{last}|{first}|{dob}".encode()).hexdigest()


def _backfill():
    bind = op.get_bind()
    decisions = bind.execute(sa.text(
        "SELECT id, referral_id, outcome, created_at FROM decisions ORDER BY referral_id, created_at, id")).fetchall()
    counts, latest = {}, {}
    for row in decisions:
        counts[row.referral_id] = counts.get(row.referral_id, 0) + 1
        bind.execute(sa.text("UPDATE decisions SET sequence = :s, decided_at = :at WHERE id = :id"),
                     {"s": counts[row.referral_id], "at": row.created_at, "id": row.id})
        latest[row.referral_id] = (row.outcome, row.created_at)
    for referral_id, (outcome, at) in latest.items():
        bind.execute(sa.text("UPDATE referrals SET latest_outcome = :o, latest_decided_at = :at WHERE id = :id"),
                     {"o": outcome, "at": at, "id": referral_id})
    # The queue's sort order: 0 emergency, 1 same day, 2 standard (0002 filled assessments.urgency).
    bind.execute(sa.text(
        "UPDATE referrals SET urgency_priority = (SELECT CASE a.urgency WHEN 'emergency' THEN 0 "
        "WHEN 'same_day' THEN 1 ELSE 2 END FROM assessments a WHERE a.id = referrals.assessment_id)"))
    for row in bind.execute(sa.text("SELECT id, details FROM referrals")).fetchall():
        details = row.details if isinstance(row.details, dict) else json.loads(row.details or "{}")
        key = _child_key(details)
        if key:
            bind.execute(sa.text("UPDATE referrals SET child_key = :k WHERE id = :id"), {"k": key, "id": row.id})


# revision identifiers, used by Alembic.
revision = '0003_front_door'
down_revision = '0002_urgency_lado_kinds'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('gave_up_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['sent_at', 'next_attempt_at'], unique=False)

    op.create_table('external_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('source_code', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('age_band', sa.String(length=20), nullable=False),
    sa.Column('urgency', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('import_batch', sa.String(length=64), nullable=True),
    sa.CheckConstraint(_in('channel', CHANNELS), name=op.f('ck_external_contacts_channel')),
    sa.CheckConstraint(_in('outcome', OUTCOMES), name=op.f('ck_external_contacts_outcome')),
    sa.CheckConstraint(_in('urgency', URGENCIES), name=op.f('ck_external_contacts_urgency')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_external_contacts_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_contacts')),
    sa.UniqueConstraint('reference', name=op.f('uq_external_contacts_reference'))
    )
    with op.batch_alter_table('external_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_contacts_import_batch'), ['import_batch'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_contacts_received_at'), ['received_at'], unique=False)

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor'), ['actor'], unique=False)
        batch_op.create_index('ix_audit_events_record', ['record_id'], unique=False)

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('referral_advised', sa.Boolean(), nullable=True))

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allocated_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('allocated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('latest_outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('latest_decided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('child_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('urgency_priority', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_referrals_allocated_to_id'), ['allocated_to_id'], unique=False)
        batch_op.create_index('ix_referrals_child', ['child_key', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_referrals_allocated_to_id_users'), 'users', ['allocated_to_id'], ['id'])
        batch_op.create_check_constraint('latest_outcome', f"latest_outcome IS NULL OR {_in('latest_outcome', OUTCOMES)}")

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manager', sa.Boolean(), server_default=sa.false(), nullable=False))

    _backfill()
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.alter_column('urgency_priority', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_referrals_queue', ['latest_outcome', 'urgency_priority', 'created_at', 'id'],
                              unique=False)
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.alter_column('sequence', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('decided_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index(batch_op.f('ix_decisions_decided_at'), ['decided_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_decisions_referral_id'), ['referral_id', 'sequence'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('manager')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_referrals_latest_outcome'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_referrals_allocated_to_id_users'), type_='foreignkey')
        batch_op.drop_index('ix_referrals_queue')
        batch_op.drop_index('ix_referrals_child')
        batch_op.drop_index(batch_op.f('ix_referrals_allocated_to_id'))
        batch_op.drop_column('urgency_priority')
        batch_op.drop_column('child_key')
        batch_op.drop_column('latest_decided_at')
        batch_op.drop_column('latest_outcome')
        batch_op.drop_column('allocated_at')
        batch_op.drop_column('allocated_to_id')

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_decisions_referral_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_decisions_decided_at'))
        batch_op.drop_column('referral_advised')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('sequence')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_record')
        batch_op.drop_index(batch_op.f('ix_audit_events_actor'))

    with op.batch_alter_table('external_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_contacts_received_at'))
        batch_op.drop_index(batch_op.f('ix_external_contacts_import_batch'))

    op.drop_table('external_contacts')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
