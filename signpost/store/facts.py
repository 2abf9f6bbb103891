"""The reports' stored facts, written with the rows they describe, in the writer's own transaction.

Each referral carries what the reports count it by, so signpost.metrics adds up one table's
columns and works nothing out when it reads:

- the recommendation it was sent from, copied from its assessment (source, age band, urgency,
  recommended route, route taken, overridden, threshold version, deciding reasons);
- when a decision was due (one working day after receipt, workdays.due_by) and when the first
  decision was made (the decision with sequence 1): decided within one working day or not;
- re_referral: a referral whose child (child_key) had another referral in the 12 months before it;
- followed_up: a consultation followed within 30 days by a referral for the same child (or, with
  no child's name, by the referral made from its advice: referrals.consultation_id).

A contact recorded by the front door carries its due time. fill() writes every fact of the rows
it is given, and of the rows they change (a backdated referral can make a later one a
re-referral): the app's listeners below call it for each new row, and the bulk writers (migration
0009, the demo history, the reports benchmark) for many rows at once, so every path writes the
facts the same way.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Text, bindparam, cast, event, or_, select
from sqlalchemy.engine import Connection

from .. import workdays
from ..models import Assessment, Decision, ExternalContact, Referral

RE_REFERRAL_MONTHS = 12  # the census: a referral within 12 months of the child's previous referral
FOLLOW_UP = dt.timedelta(days=30)  # a consultation followed by a referral within 30 days
CHUNK = 5000  # ids per statement (well under SQLite's and PostgreSQL's limits on parameters)

# Copied from the referral's assessment: referral column -> assessment column.
FROM_ASSESSMENT = {name: Assessment.__table__.c[name] for name in (
    "source_code", "age_band", "urgency", "recommended_route", "route_taken", "overridden", "threshold_id")}

referrals = Referral.__table__
contacts = ExternalContact.__table__


# ---- the definitions (pure) ---------------------------------------------------------------------

def due_at(received: dt.datetime) -> dt.datetime:
    """When the first decision is due: one working day after receipt (naive UTC)."""
    return workdays.due_by(received)


def month_of(received: dt.datetime) -> str:
    """The month a row is counted in: "YYYY-MM" of when it was received (stored as UTC), in the UK's
    calendar: 23:30 UTC on 30 June is 00:30 on 1 July in the UK, and staff count it in July."""
    local = workdays.uk_local(received)
    return f"{local.year:04d}-{local.month:02d}"


def re_referrals(rows: Iterable[tuple[int, str, dt.datetime]]) -> set[int]:
    """The ids of re-referrals among (id, child_key, created_at) of referrals (kind referral).

    Each child's referrals in order of receipt (then id): one is a re-referral when the one
    before it was received no more than 12 months earlier.
    """
    by_child: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for referral_id, key, at in rows:
        if key:
            by_child[key].append((at, referral_id))
    out = set()
    for items in by_child.values():
        items.sort()
        for (before, _), (at, referral_id) in zip(items, items[1:]):
            if before >= workdays.months_before(at, RE_REFERRAL_MONTHS):
                out.add(referral_id)
    return out


def followed_up(consultations: Iterable[tuple[int, str | None, dt.datetime]],
                referral_rows: Iterable[tuple[str | None, int | None, dt.datetime]]) -> set[int]:
    """The ids of consultations (id, child_key, created_at) that a referral (kind referral: child_key,
    consultation_id, created_at) followed within 30 days: one for the same child or, when the
    consultation named no child, one made from its advice (the referral's consultation_id)."""
    by_child: dict[str, list[dt.datetime]] = defaultdict(list)
    by_consultation: dict[int, list[dt.datetime]] = defaultdict(list)
    for key, consultation_id, at in referral_rows:
        if key:
            by_child[key].append(at)
        if consultation_id:
            by_consultation[consultation_id].append(at)
    for times in (*by_child.values(), *by_consultation.values()):
        times.sort()
    out = set()
    for consultation_id, key, at in consultations:
        times = by_child.get(key, []) if key else by_consultation.get(consultation_id, [])
        later = bisect_right(times, at)
        if later < len(times) and times[later] <= at + FOLLOW_UP:
            out.add(consultation_id)
    return out


# ---- writing them ---------------------------------------------------------------------------------

def fill(connection: Connection, *, referral_ids: Sequence[int] | None = None,
         contact_ids: Sequence[int] | None = None) -> None:
    """Write the facts of these referrals and contacts (None: every row), and of the rows they change.

    Call it inside the transaction that wrote the rows (the listeners below do, for the app's writes).
    """
    if referral_ids is None or referral_ids:
        for ids in _chunks(referral_ids):
            connection.execute(referrals.update().where(
                referrals.c.assessment_id == Assessment.id, *_among(referrals, ids)).values(
                reasons_key=cast(Assessment.reason_ids, Text), **FROM_ASSESSMENT))
            first_decisions(connection, ids)
        _received_facts(connection, referrals, referrals.c.created_at, referral_ids)
        _links(connection, referral_ids)
    if contact_ids is None or contact_ids:
        _received_facts(connection, contacts, contacts.c.received_at, contact_ids)


def first_decisions(connection: Connection, referral_ids: Sequence[int] | None) -> None:
    """Each referral's first decision time: the decision with sequence 1 (null while awaiting one)."""
    first = (select(Decision.decided_at).where(Decision.referral_id == referrals.c.id, Decision.sequence == 1)
             .scalar_subquery())
    connection.execute(referrals.update().where(*_among(referrals, referral_ids)).values(first_decided_at=first))


def _chunks(ids: Sequence[int] | None) -> Iterable[Sequence[int] | None]:
    if ids is None:
        yield None
        return
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _among(table, ids: Sequence[int] | None) -> list:
    return [] if ids is None else [table.c.id.in_(ids)]


def _received_facts(connection: Connection, table, received, ids: Sequence[int] | None) -> None:
    """Each row's due time and month, from when it was received."""
    rows = [{"b_id": row.id, "b_due": due_at(row.at), "b_month": month_of(row.at)}
            for chunk in _chunks(ids)
            for row in connection.execute(select(table.c.id, received.label("at")).where(*_among(table, chunk)))]
    if rows:
        connection.execute(table.update().where(table.c.id == bindparam("b_id"))
                           .values(due_at=bindparam("b_due"), month=bindparam("b_month")), rows)


def _links(connection: Connection, referral_ids: Sequence[int] | None) -> None:
    """re_referral and followed_up for these referrals (None: all), and for the rows a new one changes.

    Given some rows, it reads every row of the same children, the consultations the given
    referrals were made from, and the referrals made from the given consultations' advice: all
    that the flags of those rows depend on.
    """
    r = referrals
    columns = (r.c.id, r.c.kind, r.c.child_key, r.c.consultation_id, r.c.created_at, r.c.re_referral,
               r.c.followed_up, r.c.erased_at)
    if referral_ids is None:
        rows = connection.execute(select(*columns)).all()
        referral_rows = [row for row in rows if row.kind == "referral"]
        checked_referrals = [row for row in referral_rows if row.erased_at is None]
        checked_consultations = [row for row in rows if row.kind == "consultation" and row.erased_at is None]
    else:
        given = [row for chunk in _chunks(referral_ids)
                 for row in connection.execute(select(*columns).where(r.c.id.in_(chunk)))]
        if not given:
            return
        given_ids = {row.id for row in given}
        keys = {row.child_key for row in given if row.child_key}
        linked = {row.consultation_id for row in given if row.consultation_id} | {
            row.id for row in given if row.kind == "consultation"}
        found = {row.id: row for row in given}
        for chunk in _chunks(sorted(keys)):
            found.update((row.id, row) for row in connection.execute(select(*columns).where(r.c.child_key.in_(chunk))))
        for chunk in _chunks(sorted(linked)):
            found.update((row.id, row) for row in connection.execute(select(*columns).where(
                or_(r.c.id.in_(chunk), r.c.consultation_id.in_(chunk)))))
        rows = list(found.values())
        referral_rows = [row for row in rows if row.kind == "referral"]
        # Only the flags the given rows can change: their own, the re_referral of the same child's
        # next referral, and the followed_up of consultations linked to them or of the same child in
        # the 30 days before a given referral. The others keep what they were worked out from, which
        # an erasure may have removed since (an erased referral no longer names its child).
        by_child: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
        for row in referral_rows:
            if row.child_key:
                by_child[row.child_key].append((row.created_at, row.id))
        for items in by_child.values():
            items.sort()
        given_at: dict[str, list[dt.datetime]] = defaultdict(list)
        following = set()
        for row in given:
            if row.kind == "referral" and row.child_key:
                given_at[row.child_key].append(row.created_at)
                items = by_child[row.child_key]
                later = bisect_right(items, (row.created_at, row.id))
                if later < len(items):
                    following.add(items[later][1])
        for times in given_at.values():
            times.sort()

        def before_a_given_referral(row) -> bool:
            times = given_at.get(row.child_key, [])
            first = bisect_left(times, row.created_at)
            return first < len(times) and times[first] - FOLLOW_UP <= row.created_at

        checked_referrals = [row for row in referral_rows if row.id in given_ids or row.id in following]
        checked_consultations = [row for row in rows if row.kind == "consultation" and (
            row.id in given_ids or row.id in linked or (row.child_key and before_a_given_referral(row)))]
        # An erased row's facts stay as they were: what they were worked out from is gone.
        checked_referrals = [row for row in checked_referrals if row.erased_at is None]
        checked_consultations = [row for row in checked_consultations if row.erased_at is None]
    re = re_referrals((row.id, row.child_key, row.created_at) for row in referral_rows)
    followed = followed_up(((row.id, row.child_key, row.created_at) for row in checked_consultations),
                           ((row.child_key, row.consultation_id, row.created_at) for row in referral_rows))
    _flags(connection, r.c.re_referral, checked_referrals, re)
    _flags(connection, r.c.followed_up, checked_consultations, followed)


def _flags(connection: Connection, column, rows, true_ids: set[int]) -> None:
    """Write the flags that change: true for the rows in true_ids, false for the others."""
    for value in (True, False):
        ids = sorted(row.id for row in rows
                     if (row.id in true_ids) == value and bool(getattr(row, column.name)) != value)
        for chunk in _chunks(ids):
            connection.execute(column.table.update().where(column.table.c.id.in_(chunk)).values({column.name: value}))


# ---- the app's writes: a listener for each new row --------------------------------------------------

@event.listens_for(Referral, "after_insert")
def _new_referral(mapper, connection: Connection, target: Referral) -> None:
    fill(connection, referral_ids=[target.id])


@event.listens_for(Decision, "after_insert")
def _new_decision(mapper, connection: Connection, target: Decision) -> None:
    if target.sequence == 1:
        first_decisions(connection, [target.referral_id])


@event.listens_for(ExternalContact, "before_insert")
def _new_contact(mapper, connection: Connection, target: ExternalContact) -> None:
    target.due_at = due_at(target.received_at)
    target.month = month_of(target.received_at)

