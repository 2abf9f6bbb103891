"""Reports: each referral and contact counts in its month of the UK's calendar, not of UTC

Revision ID: 0012_uk_months
Revises: 0011_withdraw_version
Create Date: 2026-12-07

Times are stored as UTC, and the month a row counts in was the UTC month: an item received at 00:30
on 1 July (BST) was counted in June. The reports now count UK days and months (GMT or BST); here the
month of the rows already there is worked out again. Only the last hour of a month in summer differs,
so few rows change.

"""
import datetime as dt
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = '0012_uk_months'
down_revision = '0011_withdraw_version'
branch_labels = None
depends_on = None

LONDON = ZoneInfo("Europe/London")
TABLES = (("referrals", "created_at"), ("external_contacts", "received_at"))


def _uk(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.timezone.utc).astimezone(LONDON)


def _utc(at: dt.datetime) -> dt.datetime:
    return at


def _months(month_of) -> None:
    connection = op.get_bind()
    for name, received in TABLES:
        table = sa.table(name, sa.column("id", sa.Integer), sa.column(received, sa.DateTime),
                         sa.column("month", sa.String(7)))
        changed = []
        for row_id, at, month in connection.execute(sa.select(table.c.id, table.c[received], table.c.month)):
            if at is None:
                continue
            local = month_of(at)
            right = f"{local.year:04d}-{local.month:02d}"
            if right != month:
                changed.append({"b_id": row_id, "b_month": right})
        if changed:
            connection.execute(table.update().where(table.c.id == sa.bindparam("b_id"))
                               .values(month=sa.bindparam("b_month")), changed)


def upgrade():
    _months(_uk)


def downgrade():
    _months(_utc)
