"""Accounts: a password someone else set must be changed by its owner at their next sign-in

Revision ID: 0014_must_change_password
Revises: 0013_kept_decisions
Create Date: 2026-12-08

users.must_change_password: set when an administrator or an operator at the command line gives an
account its password (a new account, a reset); cleared when the owner changes it. Existing accounts
are not flagged: nobody can tell now who chose their passwords.

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_must_change_password'
down_revision = '0013_kept_decisions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('must_change_password')
