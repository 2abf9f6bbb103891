"""Accounts: when a password was set, so that a temporary one stops working after a while

Revision ID: 0015_password_set_at
Revises: 0014_must_change_password
Create Date: 2026-12-07

users.password_set_at: written whenever a password is set. A temporary password (must_change_password)
older than SIGNPOST_TEMPORARY_PASSWORD_DAYS is refused at sign-in. Temporary passwords already there
are dated now, at the upgrade, so each gets the whole period from this release rather than being
refused at once; a password its owner chose keeps no date (nobody can tell when it was set).

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0015_password_set_at'
down_revision = '0014_must_change_password'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('password_set_at', sa.DateTime(), nullable=True))
    users = sa.table('users', sa.column('must_change_password', sa.Boolean()),
                     sa.column('password_set_at', sa.DateTime()))
    # Naive UTC, as every time the models write (models.utcnow).
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    op.execute(users.update().where(users.c.must_change_password.is_(True)).values(password_set_at=now))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('password_set_at')
