"""The referral journey: draft versions (no lost writes) and append-only assessment revisions

Revision ID: 0007_journey
Revises: 0006_metrics
Create Date: 2026-12-01

drafts.version guards concurrent saves of one draft; drafts.kept_forms holds a form posted
as the session went idle (it used to sit in the answers under "_unsent"). An assessment is never changed in
place: a changed answer adds a revision (assessments.revision, linked by replaces_id), so
a draft has many assessments; each stores what its pages show (`shown`: level name,
reasons, next steps, services shown, LADO steps) and the directory's content hash.
Existing assessments become revision 1.

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_journey'
down_revision = '0006_metrics'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('drafts') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch.add_column(sa.Column('kept_forms', sa.JSON(), nullable=True))
    with op.batch_alter_table('assessments') as batch:
        batch.drop_constraint(op.f('uq_assessments_draft_id'), type_='unique')
        batch.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))
        batch.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('answers_key', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('shown', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('directory_hash', sa.String(length=64), nullable=True))
        batch.create_foreign_key(op.f('fk_assessments_replaces_id_assessments'), 'assessments',
                                 ['replaces_id'], ['id'])
        batch.create_unique_constraint('uq_assessments_draft_revision', ['draft_id', 'revision'])
        batch.create_index(op.f('ix_assessments_draft_id'), ['draft_id'])
    op.execute("UPDATE assessments SET shown = '{}' WHERE shown IS NULL")
    with op.batch_alter_table('assessments') as batch:
        batch.alter_column('shown', existing_type=sa.JSON(), nullable=False)


def downgrade():
    # Keep the latest revision of each draft; the older ones lose their draft link.
    op.execute("UPDATE assessments SET draft_id = NULL WHERE revision < "
               "(SELECT MAX(a.revision) FROM assessments a WHERE a.draft_id = assessments.draft_id)")
    with op.batch_alter_table('assessments') as batch:
        batch.drop_index(op.f('ix_assessments_draft_id'))
        batch.drop_constraint('uq_assessments_draft_revision', type_='unique')
        batch.drop_constraint(op.f('fk_assessments_replaces_id_assessments'), type_='foreignkey')
        batch.drop_column('directory_hash')
        batch.drop_column('shown')
        batch.drop_column('answers_key')
        batch.drop_column('replaces_id')
        batch.drop_column('revision')
        batch.create_unique_constraint(op.f('uq_assessments_draft_id'), ['draft_id'])
    with op.batch_alter_table('drafts') as batch:
        batch.drop_column('kept_forms')
        batch.drop_column('version')
