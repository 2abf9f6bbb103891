"""The front door's queue as queries: what awaits a decision, most urgent first, and re-referrals.

Reads only (store writes). Built to stay fast at hundreds of thousands of items: each filter
is an indexed comparison, the page is fetched with LIMIT, and only awaiting items are counted.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select

from . import workdays
from .extensions import db
from .models import Assessment, Decision, Referral, User, urgency_priority, utcnow
from .values import ITEM_KINDS, MAX_ID, REFERRAL_SOURCES, ROUTES, URGENCIES

PAGE_SIZE = 25
STATUSES = ("awaiting", "decided", "all")
RE_REFERRAL_WINDOW = dt.timedelta(days=365)


def urgency_of(assessment: Assessment) -> str:
    """The stored urgency; older assessments only said whether the child was in immediate danger."""
    if assessment.urgency:
        return assessment.urgency
    return "emergency" if assessment.immediate else "standard"


MAX_PAGE = 100_000


def page_number(value) -> int:
    """A page number from the address: 1 to MAX_PAGE; anything else is the first page."""
    try:
        return max(1, min(int(value or 1), MAX_PAGE))
    except (TypeError, ValueError):
        return 1


# Why a filter from the address was left out (Filters.from_args), for the words the queue shows.
NOT_A_CHOICE, NOT_A_DATE, OUTSIDE_YEARS, BEFORE_FROM = "choice", "date", "years", "order"


@dataclasses.dataclass
class Filters:
    """The queue's filters and page. None of them can hold anything about a child (choices from fixed
    lists, days received, a colleague's account number, a page number), so they can travel in a
    URL: from the queue to an item and back, through a decision's redirect."""
    status: str = "awaiting"
    kind: str = ""
    route: str = ""
    urgency: str = ""
    source: str = ""
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    allocated: str = ""  # "", "me", "nobody", or a user id
    page: int = 1

    @classmethod
    def from_args(cls, args) -> tuple[Filters, dict[str, str]]:
        """Filters from a query string, and for each one left out, why (NOT_A_CHOICE and the rest).

        Only these names are read, and each only as its own list or form allows: a value that is
        not one is dropped and reported, never an error page, never passed on."""
        problems: dict[str, str] = {}

        def pick(name, allowed, default=""):
            value = (args.get(name) or "").strip()
            if value and value not in allowed:
                problems[name] = NOT_A_CHOICE
                return default
            return value or default

        def day(name):
            value = (args.get(name) or "").strip()
            if not value:
                return None
            try:
                read = dt.date.fromisoformat(value)
            except ValueError:
                problems[name] = NOT_A_DATE
                return None
            if not workdays.in_range(read):
                problems[name] = OUTSIDE_YEARS
                return None
            return read

        allocated = (args.get("allocated") or "").strip()
        if allocated not in ("", "me", "nobody") and not (allocated.isascii() and allocated.isdigit()
                                                          and int(allocated) <= MAX_ID):
            problems["allocated"] = NOT_A_CHOICE
            allocated = ""
        received_from, received_to = day("from"), day("to")
        if received_from and received_to and received_to < received_from:
            problems["to"] = BEFORE_FROM
            received_to = None
        return cls(status=pick("status", STATUSES, "awaiting"), kind=pick("kind", ITEM_KINDS),
                   route=pick("route", ROUTES), urgency=pick("urgency", URGENCIES),
                   source=_source(args.get("source"), problems),
                   received_from=received_from, received_to=received_to, allocated=allocated,
                   page=page_number(args.get("page"))), problems

    def query_args(self, **changes) -> dict:
        """The filters as query-string arguments (empty ones left out), for links and paging."""
        values = dataclasses.replace(self, **changes)
        out = {"status": values.status, "kind": values.kind, "route": values.route,
               "urgency": values.urgency, "source": values.source,
               "from": values.received_from.isoformat() if values.received_from else "",
               "to": values.received_to.isoformat() if values.received_to else "",
               "allocated": values.allocated, "page": values.page if values.page > 1 else ""}
        return {k: v for k, v in out.items() if v not in ("", None)}

    def carried(self) -> dict:
        """The query_args an item's links and forms carry, so that its way back (the back link, and
        the redirect after taking, allocating or deciding) is this page of the queue: only what
        differs from the unfiltered first page, so an item opened from it keeps its plain address."""
        return {k: v for k, v in self.query_args().items() if (k, v) != ("status", "awaiting")}


def _source(value, problems: dict[str, str]) -> str:
    """A referral source code as typed (any case): one of the census's codes, else left out."""
    code = (value or "").strip().upper()
    if code and code not in REFERRAL_SOURCES:
        problems["source"] = NOT_A_CHOICE
        return ""
    return code


@dataclasses.dataclass
class QueueRow:
    referral: Referral
    assessment: Assessment
    allocated_to: User | None
    urgency: str
    due_by: dt.datetime
    hours_left: float | None  # None once decided
    earlier: list[Referral]   # the same child, referred in the 12 months before


@dataclasses.dataclass
class QueuePage:
    rows: list[QueueRow]
    filters: Filters
    has_next: bool
    awaiting_total: int | None  # for the awaiting status: how many match the filters
    overdue: int                # awaiting, past the one-working-day target (whatever the filters)


def _filtered(filters: Filters, user_id: int, counting: bool = False):
    if counting:  # join the assessments only when a filter needs them
        query = select(func.count()).select_from(Referral)
        if filters.route or filters.source:
            query = query.join(Assessment, Referral.assessment_id == Assessment.id)
    else:
        query = select(Referral, Assessment).join(Assessment, Referral.assessment_id == Assessment.id)
    if filters.status == "awaiting":
        query = query.where(Referral.latest_outcome.is_(None))
    elif filters.status == "decided":
        query = query.where(Referral.latest_outcome.is_not(None))
    if filters.kind:
        query = query.where(Referral.kind == filters.kind)
    if filters.route:
        query = query.where(Assessment.recommended_route == filters.route)
    if filters.urgency:
        query = query.where(Referral.urgency_priority == urgency_priority(filters.urgency))
    if filters.source:
        query = query.where(Assessment.source_code == filters.source)
    # UK days, as the queue shows when each item was received (stored in UTC).
    if filters.received_from:
        query = query.where(Referral.created_at >= workdays.uk_day_start(filters.received_from))
    if filters.received_to:
        query = query.where(Referral.created_at < workdays.uk_day_start(filters.received_to + dt.timedelta(days=1)))
    if filters.allocated == "me":
        query = query.where(Referral.allocated_to_id == user_id)
    elif filters.allocated == "nobody":
        query = query.where(Referral.allocated_to_id.is_(None))
    elif filters.allocated:
        query = query.where(Referral.allocated_to_id == int(filters.allocated))
    return query


def overdue_count(now: dt.datetime | None = None) -> int:
    cutoff = workdays.overdue_if_received_before(now or utcnow())
    return db.session.scalar(select(func.count()).select_from(Referral).where(
        Referral.latest_outcome.is_(None), Referral.created_at < cutoff)) or 0


def queue_page(filters: Filters, user_id: int, now: dt.datetime | None = None) -> QueuePage:
    now = now or utcnow()
    query = _filtered(filters, user_id)
    if filters.status == "awaiting":
        # Most urgent first, then oldest: the one-working-day clock runs out first for the oldest.
        query = query.order_by(Referral.urgency_priority, Referral.created_at, Referral.id)
    else:
        query = query.order_by(Referral.created_at.desc(), Referral.id.desc())
    offset = (filters.page - 1) * PAGE_SIZE
    found = list(db.session.execute(query.offset(offset).limit(PAGE_SIZE + 1)))
    has_next = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    total = None
    if filters.status == "awaiting":
        total = db.session.scalar(_filtered(filters, user_id, counting=True))
    people = _users({r.allocated_to_id for r, _a in found if r.allocated_to_id})
    earlier = earlier_referrals([r for r, _a in found])
    rows = []
    for referral, assessment in found:
        due = workdays.due_by(referral.created_at)
        rows.append(QueueRow(
            referral=referral, assessment=assessment, allocated_to=people.get(referral.allocated_to_id),
            urgency=urgency_of(assessment), due_by=due,
            hours_left=None if referral.latest_outcome else workdays.working_hours_left(referral.created_at, now),
            earlier=earlier.get(referral.id, [])))
    return QueuePage(rows=rows, filters=filters, has_next=has_next, awaiting_total=total,
                     overdue=overdue_count(now))


def _users(ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def earlier_referrals(referrals: list[Referral]) -> dict[int, list[Referral]]:
    """For each item, the same child's items in the 12 months before it (name and date of birth).

    One indexed query for the whole page: (child_key, created_at).
    """
    keyed = [r for r in referrals if r.child_key]
    if not keyed:
        return {}
    earliest = min(r.created_at for r in keyed) - RE_REFERRAL_WINDOW
    candidates = list(db.session.scalars(
        select(Referral).where(Referral.child_key.in_({r.child_key for r in keyed}),
                               Referral.created_at >= earliest)
        .order_by(Referral.created_at.desc())))
    out: dict[int, list[Referral]] = {}
    for referral in keyed:
        out[referral.id] = [c for c in candidates if c.child_key == referral.child_key and c.id != referral.id
                            and referral.created_at - RE_REFERRAL_WINDOW <= c.created_at <= referral.created_at]
    return out


def advice_links(referral: Referral) -> tuple[Referral | None, list[Referral]]:
    """The request for advice this item was made from (if any), and the items made from this one's
    advice (a request for advice's follow-up referral): so both ends show the link."""
    followed = db.session.get(Referral, referral.consultation_id) if referral.consultation_id else None
    made = [] if referral.kind != "consultation" else list(db.session.scalars(
        select(Referral).where(Referral.consultation_id == referral.id).order_by(Referral.created_at, Referral.id)))
    return followed, made


def decision_history(referral_id: int) -> list[Decision]:
    return list(db.session.scalars(select(Decision).where(Decision.referral_id == referral_id)
                                   .order_by(Decision.sequence)))


def front_door_team() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "front_door", User.active.is_(True))
                                   .order_by(User.name)))
