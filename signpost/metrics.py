"""The council's measures: NFA, agreement, timeliness and re-referrals, as SQL aggregates.

Everything here reads; nothing writes. Each report is one or two GROUP BY queries over the
items that reached the front door; Python only adds up the (small) grouped results.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy import (Float, Integer, and_, case, cast, exists, false, func, literal_column, null, select, text,
                        true, union_all)
from sqlalchemy.sql import ColumnElement

from . import workdays
from .extensions import db
from .models import Assessment, Decision, ExternalContact, Referral
from .statistics import Proportion, longest_run, newcombe, p_chart_limits
from .values import ITEM_KINDS, NFA_OUTCOMES, OUTCOMES, REFERRAL_SOURCES, ROUTES

# ---- definitions ------------------------------------------------------------------------------

ORIGINS = ("signpost", "front_door")
ORIGIN_NAMES = {"signpost": "Through Signpost", "front_door": "Recorded by the front door"}
FOLLOWED = ("followed", "overridden")

# The Children in Need census tables group referral sources (values.REFERRAL_SOURCES) into
# organisation types: individuals (1), schools and education (2), health services (3), police (6)...
ORGANISATION_TYPES = {
    "individual": ("Individuals", ("1A", "1B", "1C", "1D", "1E")),
    "education": ("Schools and education", ("2A", "2B")),
    "health": ("Health services", ("3A", "3B", "3C", "3D", "3E", "3F")),
    "housing": ("Housing", ("4",)),
    "local_authority": ("Local authority services", ("5A", "5B", "5C", "5D")),
    "police": ("Police", ("6",)),
    "legal": ("Other legal agency", ("7",)),
    "other": ("Other", ("8",)),
    "anonymous": ("Anonymous", ("9",)),
    "unknown": ("Unknown", ("10",)),
}
ORGANISATION_OF_SOURCE = {code: key for key, (_name, codes) in ORGANISATION_TYPES.items() for code in codes}

# How a decision ended, for the "how each ended" tables and the agreement table. The front
# door's decision read as the route it amounts to: NFA is the universal route.
ENDINGS = ("nfa", "early_help", "social_care", "elsewhere", "advice", "awaiting")
ENDING_NAMES = {
    "nfa": "No further action (including advice or signposting)",
    "early_help": "Passed to early help",
    "social_care": "Social care: assessment, section 47 or already open",
    "elsewhere": "Passed elsewhere (another council or the LADO)",
    "advice": "Advice given (consultation)",
    "awaiting": "Awaiting a decision",
}
ENDING_OF_OUTCOME = {
    **{outcome: "nfa" for outcome in NFA_OUTCOMES},
    "early_help": "early_help",
    "assessment_s17": "social_care", "strategy_s47": "social_care", "already_open": "social_care",
    "other_council": "elsewhere", "lado": "elsewhere",
    "advice_given": "advice",
}
assert set(ENDING_OF_OUTCOME) == set(OUTCOMES), "every outcome needs an ending for the reports"
assert {code for _name, codes in ORGANISATION_TYPES.values() for code in codes} == set(REFERRAL_SOURCES)
ROUTE_OF_ENDING = {"nfa": "universal", "early_help": "early_help", "social_care": "social_care"}

RE_REFERRAL_MONTHS = 12  # the census: a referral within 12 months of the child's previous referral
CONSULTATION_FOLLOW_UP_DAYS = 30


def latest_revision(table=Assessment.__table__) -> ColumnElement[bool]:
    """Only the latest revision of each journey's assessment counts.

    The one place that knows how revisions are linked: a revision that has been replaced
    points at its successor (superseded_by_id); referrals point at the revision they sent.
    """
    if "superseded_by_id" in table.c:
        return table.c.superseded_by_id.is_(None)
    return true()


# ---- filters ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Period:
    """From `start` to `end`, both dates inclusive."""

    start: dt.date
    end: dt.date

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time())

    @property
    def end_before(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())

    def months(self) -> list[str]:
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def describe(self) -> str:
        return f"{self.start.strftime('%-d %B %Y')} to {self.end.strftime('%-d %B %Y')}"


@dataclasses.dataclass(frozen=True)
class Filters:
    """Which items a report counts. None means "all"."""

    source: str | None = None          # census referral source code, e.g. "2A"
    organisation: str | None = None    # ORGANISATION_TYPES key
    threshold: str | None = None       # threshold version id
    age_band: str | None = None
    route: str | None = None           # Signpost's recommended route
    urgency: str | None = None
    followed: str | None = None        # "followed" or "overridden"
    origin: str | None = None          # "signpost" or "front_door"

    def items(self) -> dict[str, str]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v}


# ---- SQL pieces that differ between SQLite and PostgreSQL ---------------------------------------

def _sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def _month(at) -> ColumnElement:
    """"YYYY-MM" of a stored (naive UTC) time."""
    return func.strftime("%Y-%m", at) if _sqlite() else func.to_char(at, "YYYY-MM")


def _epoch(at) -> ColumnElement:
    """Seconds since 1970 of a stored naive UTC time, to the microsecond."""
    if _sqlite():  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds, then the microseconds
        return func.unixepoch(at) + cast(func.substr(at, 21, 6), Integer) / 1e6
    return cast(func.extract("epoch", at), Float)


def _whole(value) -> ColumnElement:
    """floor() of a non-negative number, as an integer, on either database."""
    return cast(value, Integer) if _sqlite() else cast(func.floor(value), Integer)


def _epoch_of(at: dt.datetime) -> float:
    return (at - dt.datetime(1970, 1, 1)).total_seconds()


# ---- decisions within one working day, in SQL: workdays.due_by as arithmetic ---------------------

DAY_S = 86400


@functools.lru_cache(maxsize=16)
def _summer_time(years: range) -> list[tuple[dt.datetime, dt.datetime]]:
    """UTC times [start, end) of British Summer Time: from 01:00 UTC on the last Sunday of March to
    01:00 UTC on the last Sunday of October (the Summer Time Order 2002), checked against the tz database."""
    def last_sunday(year: int, month: int) -> dt.datetime:
        day = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
        return dt.datetime.combine(day - dt.timedelta(days=(day.weekday() + 1) % 7), dt.time(1))

    out = []
    for year in years:
        start, end = last_sunday(year, 3), last_sunday(year, 10)
        for edge, before, after in ((start, 0, 3600), (end, 3600, 0)):
            for at, expected in ((edge - dt.timedelta(minutes=1), before), (edge, after)):
                offset = at.replace(tzinfo=dt.UTC).astimezone(workdays.LONDON).utcoffset().total_seconds()
                assert offset == expected, f"summer time in {year} is not as the law says"
        out.append((start, end))
    return out


def _london(at, summers: list[tuple[dt.datetime, dt.datetime]]) -> ColumnElement:
    """A stored UTC time as London wall-clock seconds since 1970 (an hour on in summer time).

    The summer-time test compares the stored column with constants, which costs next to nothing.
    """
    return _epoch(at) + case(*((and_(at >= start, at < end), 3600) for start, end in summers), else_=0)


def _due(local, day, span: Period) -> ColumnElement:
    """When an item received at `local` (London seconds; `day` its London day number) is due, in London
    seconds, exactly as workdays.due_by says.

    Received on a working day: the same time on the next working day (Monday to Thursday the next
    day, Friday the Monday). On a day off: the start of the day after the next working day. Bank
    holidays change that for a few days a year: those days are listed in the SQL as exceptions.
    """
    default = case({4: local + 3 * DAY_S, 5: (day + 3) * DAY_S, 6: (day + 2) * DAY_S},
                   value=(day + 3) % 7, else_=local + DAY_S)  # 1 January 1970 was a Thursday (3)
    exceptions = {}
    first = span.start - dt.timedelta(days=1)
    for n in range((span.end - first).days + 3):
        local_day = first + dt.timedelta(days=n)
        number = (local_day - dt.date(1970, 1, 1)).days
        after = (workdays.next_working_day(local_day) - local_day).days
        weekday = local_day.weekday()
        if workdays.is_working_day(local_day):
            if after != (3 if weekday == 4 else 1):
                exceptions[number] = local + after * DAY_S
        elif weekday < 5 or after + 1 != (3 if weekday == 5 else 2):
            exceptions[number] = literal_column(str((number + after + 1) * DAY_S))
    return case(exceptions, value=day, else_=default) if exceptions else default


# ---- the items: everything that reached the front door, one row each -----------------------------

SIGNPOST_ONLY = ("threshold", "route", "followed")  # filters that only Signpost's items can match


def _summers(span: Period) -> list[tuple[dt.datetime, dt.datetime]]:
    return _summer_time(range(span.start.year - 1, span.end.year + 2))


def _signpost_branch(filters: Filters, span: Period, *, lookups: bool = True):
    """Signpost's items; lookups=False leaves out the first decision, re-referrals and follow-ups.

    The referral carries its latest outcome (the front door's store keeps it with each decision).
    """
    if not lookups:
        columns = {"kind": Referral.kind, "outcome": Referral.latest_outcome, **_assessment_columns()}
        return (select(*(value.label(name) for name, value in columns.items()))
                .select_from(Referral).join(Assessment, Assessment.id == Referral.assessment_id)
                .where(Referral.created_at >= span.start_at, Referral.created_at < span.end_before,
                       *_conditions(columns, filters)))
    summers = _summers(span)
    first = Decision.__table__.alias("first_decision")
    re_referrals = _re_referrals(span)
    received = _london(Referral.created_at, summers)
    columns = {
        "origin": literal_column("'signpost'"), "kind": Referral.kind, "received_at": Referral.created_at,
        **_assessment_columns(), "outcome": Referral.latest_outcome, "decided_local": _london(first.c.decided_at, summers),
        "received_local": received, "received_day": _whole(received / DAY_S),
        "re_referral": case((re_referrals.c.id.is_not(None), 1), else_=0), "followed_up": _followed_up(),
    }
    # Joins, not a lookup per row, so PostgreSQL can hash them: the first decision (sequence 1,
    # for timeliness) and the re-referrals.
    return (select(*(value.label(name) for name, value in columns.items()))
            .select_from(Referral).join(Assessment, Assessment.id == Referral.assessment_id)
            .outerjoin(first, and_(first.c.referral_id == Referral.id, first.c.sequence == 1))
            .outerjoin(re_referrals, re_referrals.c.id == Referral.id)
            .where(Referral.created_at >= span.start_at, Referral.created_at < span.end_before,
                   *_conditions(columns, filters)))


def _assessment_columns() -> dict[str, ColumnElement]:
    return {"source_code": Assessment.source_code, "age_band": Assessment.age_band, "urgency": Assessment.urgency,
            "recommended_route": Assessment.recommended_route, "route_taken": Assessment.route_taken,
            "overridden": Assessment.overridden, "threshold_id": Assessment.threshold_id}


def _recorded_branch(filters: Filters, span: Period):
    contact = ExternalContact
    summers = _summers(span)
    received = _london(contact.received_at, summers)
    columns = {
        # A recorded contact answered with advice was a consultation; every other one a referral.
        "origin": literal_column("'front_door'"),
        "kind": case((contact.outcome == "advice_given", "consultation"), else_="referral"),
        "received_at": contact.received_at,
        "source_code": contact.source_code, "age_band": contact.age_band, "urgency": contact.urgency,
        "recommended_route": null(), "route_taken": null(), "overridden": null(), "threshold_id": null(),
        "outcome": contact.outcome, "decided_local": _london(contact.decided_at, summers),
        "received_local": received, "received_day": _whole(received / DAY_S),
        "re_referral": literal_column("0"), "followed_up": literal_column("0"),
    }
    return (select(*(value.label(name) for name, value in columns.items()))
            .where(contact.received_at >= span.start_at, contact.received_at < span.end_before,
                   *_conditions(columns, filters)))


def _conditions(columns: Mapping[str, ColumnElement], filters: Filters) -> list:
    out = []
    if filters.source:
        out.append(columns["source_code"] == filters.source)
    if filters.organisation:
        out.append(columns["source_code"].in_(ORGANISATION_TYPES[filters.organisation][1]))
    if filters.age_band:
        out.append(columns["age_band"] == filters.age_band)
    if filters.urgency:
        out.append(columns["urgency"] == filters.urgency)
    if filters.threshold:
        out.append(columns["threshold_id"] == filters.threshold)
    if filters.route:
        out.append(columns["recommended_route"] == filters.route)
    if filters.followed:
        out.append(columns["overridden"].is_(filters.followed == "overridden"))
    return out


def _items(filters: Filters, span: Period):
    """The items as a subquery. On SQLite, OFFSET 0 keeps the planner from pasting it into the query
    around it, which would repeat the consultation's follow-up lookup wherever its column is used;
    PostgreSQL needs no such fence and can then scan the branches in parallel."""
    branches = []
    recorded_can_match = not any(getattr(filters, f) for f in SIGNPOST_ONLY)
    if filters.origin in (None, "signpost") or not recorded_can_match:
        branch = _signpost_branch(filters, span)
        branches.append(branch if filters.origin in (None, "signpost") else branch.where(false()))
    if filters.origin in (None, "front_door") and recorded_can_match:
        branches.append(_recorded_branch(filters, span))
    items = union_all(*branches) if len(branches) > 1 else branches[0]
    return (items.offset(0) if _sqlite() else items).subquery("items")


def _months_earlier(at, months: int) -> ColumnElement:
    if _sqlite():
        return func.datetime(at, f"{-months:+d} months")
    return at - literal_column(f"interval '{months} months'")


def _days_later(at, days: int) -> ColumnElement:
    if _sqlite():
        return func.datetime(at, f"+{days} days")
    return at + literal_column(f"interval '{days} days'")


def _tune_for_reports() -> None:
    """PostgreSQL, for this transaction only: no JIT (compiling the long CASE costs seconds and saves
    nothing on one pass) and room to sort the grouped rows in memory."""
    if not _sqlite():
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))


def _re_referrals(span: Period):
    """Referrals (kind referral) received in the span whose child had a referral in the 12 months before.

    The census's re-referral. The same child is the same child_key (name and date of birth, as the
    front door matches them). One window over the child's referrals in date order (the
    (child_key, kind, created_at) index gives that order), not one lookup per referral.
    """
    previous = func.lag(Referral.created_at).over(partition_by=Referral.child_key, order_by=Referral.created_at)
    ordered = (select(Referral.id, Referral.created_at, previous.label("previous_at"))
               .where(Referral.kind == "referral", Referral.child_key.is_not(None),
                      Referral.created_at >= dt.datetime.combine(
                          months_before(span.start, RE_REFERRAL_MONTHS), dt.time()),
                      Referral.created_at < span.end_before)
               .subquery("ordered"))
    return (select(ordered.c.id)
            .where(ordered.c.created_at >= span.start_at,
                   ordered.c.previous_at >= _months_earlier(ordered.c.created_at, RE_REFERRAL_MONTHS))
            .subquery("re_referrals"))


def _followed_up() -> ColumnElement:
    """For a consultation: 1 when a referral for the same child followed within 30 days.

    A consultation with no child's name (child_key empty) is matched on the referral made from
    its advice (referrals.consultation_id, written by the store when that referral is made),
    never on the same professional referring another child.
    """
    later = Referral.__table__.alias("later")

    def referral_after(*same_child) -> ColumnElement:
        return exists().where(*same_child, later.c.kind == "referral", later.c.created_at > Referral.created_at,
                              later.c.created_at <= _days_later(Referral.created_at, CONSULTATION_FOLLOW_UP_DAYS))

    # Separate lookups (not one OR) so each can use its index: (child_key, created_at) or consultation_id.
    return case((Referral.kind != "consultation", 0),
                (Referral.child_key.is_not(None), case((referral_after(later.c.child_key == Referral.child_key), 1),
                                                       else_=0)),
                (referral_after(later.c.consultation_id == Referral.id), 1), else_=0)


# ---- the cube: one grouped query that every table on the overview page adds up from -------------

CUBE_KEYS = ("in_current", "in_baseline", "month", "kind", "origin", "source_code", "threshold_id",
             "recommended_route", "route_taken", "outcome", "timeliness", "re_referral", "followed_up")


@dataclasses.dataclass(frozen=True)
class Cell:
    in_current: bool
    in_baseline: bool
    month: str
    kind: str
    origin: str
    source_code: str | None
    threshold_id: str | None
    recommended_route: str | None
    route_taken: str | None
    outcome: str | None
    timeliness: str  # "on_time", "late" or "pending" (not decided and not yet due)
    re_referral: bool
    followed_up: bool
    count: int

    @property
    def ending(self) -> str:
        return ENDING_OF_OUTCOME.get(self.outcome, "awaiting") if self.outcome else "awaiting"

    @property
    def nfa(self) -> bool:
        return self.outcome in NFA_OUTCOMES


def _cube(filters: Filters, current: Period, baseline: Period, now: dt.datetime) -> list[Cell]:
    span = Period(min(current.start, baseline.start), max(current.end, baseline.end))
    items = _items(filters, span)
    due = _due(items.c.received_local, items.c.received_day, span)
    now_local = _epoch_of(now) + now.replace(tzinfo=dt.UTC).astimezone(workdays.LONDON).utcoffset().total_seconds()
    timeliness = case(
        (items.c.decided_local.is_(None), case((due < now_local, "late"), else_="pending")),
        # A millisecond's grace for floating point (epochs in seconds carry microseconds).
        (items.c.decided_local <= due + 0.001, "on_time"), else_="late")

    def within(period: Period):
        return case((and_(items.c.received_at >= period.start_at, items.c.received_at < period.end_before), 1),
                    else_=0)

    keys = [within(current).label("in_current"), within(baseline).label("in_baseline"),
            _month(items.c.received_at).label("month"), items.c.kind, items.c.origin, items.c.source_code,
            items.c.threshold_id, items.c.recommended_route, items.c.route_taken, items.c.outcome,
            timeliness.label("timeliness"), items.c.re_referral, items.c.followed_up]
    # Keys computed in a subquery and grouped by name: PostgreSQL would not see two copies of an
    # expression with bound parameters as the same expression.
    keyed = select(*keys).select_from(items).subquery("keyed")
    query = select(*keyed.c, func.count().label("count")).group_by(*keyed.c)
    _tune_for_reports()
    return [Cell(in_current=bool(row.in_current), in_baseline=bool(row.in_baseline), month=row.month,
                 kind=row.kind, origin=row.origin, source_code=row.source_code, threshold_id=row.threshold_id,
                 recommended_route=row.recommended_route, route_taken=row.route_taken, outcome=row.outcome,
                 timeliness=row.timeliness, re_referral=bool(row.re_referral), followed_up=bool(row.followed_up),
                 count=row.count)
            for row in db.session.execute(query)]


# ---- the overview: every table on the reports page, added up from the cube -----------------------

@dataclasses.dataclass(frozen=True)
class RateRow:
    """One line of a breakdown: what arrived, and of the referrals decided, how many ended in NFA."""

    key: str
    label: str
    received: int
    nfa: Proportion


@dataclasses.dataclass(frozen=True)
class Month:
    month: str
    in_baseline: bool
    in_current: bool
    nfa: Proportion
    limits: tuple[float, float] | None

    @property
    def signal(self) -> str | None:
        """"above" or "below" when the month is outside the control limits: more than noise."""
        if self.limits is None or self.nfa.rate is None:
            return None
        if self.nfa.rate > self.limits[1]:
            return "above"
        if self.nfa.rate < self.limits[0]:
            return "below"
        return None

    @property
    def label(self) -> str:
        return dt.date.fromisoformat(self.month + "-01").strftime("%b %Y")


@dataclasses.dataclass(frozen=True)
class Overview:
    current: Period
    baseline: Period
    filters: Filters
    endings: dict[str, dict[str, int]]       # kind (and "all") -> ending -> count, this period
    nfa_now: Proportion
    nfa_baseline: Proportion
    difference: tuple[float, tuple[float, float]] | None
    months: list[Month]
    run: int                                  # longest run of months on one side of the baseline rate
    by_source: list[RateRow]
    by_organisation: list[RateRow]
    by_threshold: list[RateRow]
    by_origin: list[RateRow]
    agreement: dict[str, dict[str, int]]      # recommended route -> ending -> referrals
    agreed: Proportion                        # decisions that matched the recommended route
    overrides: list[dict]                     # one per direction: from, to, endings, nfa
    on_time: Proportion                       # decided within one working day (of those due)
    re_referrals: Proportion                  # referrals that were re-referrals
    consultations_followed: Proportion        # consultations followed by a referral within 30 days

    @property
    def baseline_rate(self) -> float | None:
        return self.nfa_baseline.rate


def _is_decided_referral(cell: Cell) -> bool:
    return cell.kind == "referral" and cell.outcome is not None


def _proportion(cells: Iterable[Cell], hit) -> Proportion:
    cells = list(cells)
    return Proportion(sum(c.count for c in cells if hit(c)), sum(c.count for c in cells))


def _nfa(cells: Iterable[Cell]) -> Proportion:
    return _proportion((c for c in cells if _is_decided_referral(c)), lambda c: c.nfa)


def _rate_rows(cells: list[Cell], key, labels: Mapping[str, str], order: Iterable[str] = ()) -> list[RateRow]:
    groups: dict[str, list[Cell]] = defaultdict(list)
    for cell in cells:
        groups[key(cell) or "unknown"].append(cell)
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in set(order))
    return [RateRow(k, labels.get(k, k), sum(c.count for c in groups[k] if c.kind == "referral"),
                    _nfa(groups[k])) for k in keys]


def overview(current: Period, baseline: Period, filters: Filters = Filters(),
             now: dt.datetime | None = None) -> Overview:
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    cube = _cube(filters, current, baseline, now)
    this = [c for c in cube if c.in_current]
    before = [c for c in cube if c.in_baseline]

    endings: dict[str, dict[str, int]] = {kind: dict.fromkeys(ENDINGS, 0) for kind in (*ITEM_KINDS, "all")}
    for cell in this:
        endings[cell.kind][cell.ending] += cell.count
        endings["all"][cell.ending] += cell.count

    nfa_now, nfa_baseline = _nfa(this), _nfa(before)
    centre = nfa_baseline.rate
    by_month: dict[str, list[Cell]] = defaultdict(list)
    for cell in cube:
        by_month[cell.month].append(cell)
    in_baseline = set(baseline.months())
    in_current = set(current.months())
    months = []
    for month in sorted(in_baseline | in_current):
        nfa = _nfa(by_month.get(month, []))
        months.append(Month(month, month in in_baseline, month in in_current, nfa,
                            p_chart_limits(centre, nfa.n) if centre is not None else None))
    sides = [0 if m.nfa.rate is None or centre is None else (m.nfa.rate > centre) - (m.nfa.rate < centre)
             for m in months if m.in_current]

    referrals = [c for c in this if c.kind == "referral" and c.origin == "signpost"]
    agreement = {route: dict.fromkeys(ENDINGS, 0) for route in ROUTES}
    for cell in referrals:
        agreement[cell.recommended_route][cell.ending] += cell.count
    judged = [c for c in referrals if c.ending in ROUTE_OF_ENDING]
    agreed = _proportion(judged, lambda c: ROUTE_OF_ENDING[c.ending] == c.recommended_route)

    directions: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for cell in this:
        if cell.origin == "signpost" and cell.route_taken and cell.route_taken != cell.recommended_route:
            directions[(cell.recommended_route, cell.route_taken)].append(cell)
    rank = {route: n for n, route in enumerate(ROUTES)}
    overrides = []
    for (start, end), cells in sorted(directions.items(), key=lambda d: (rank[d[0][1]] - rank[d[0][0]], d[0])):
        ends = dict.fromkeys(ENDINGS, 0)
        for cell in cells:
            ends[cell.ending] += cell.count
        overrides.append({"from": start, "to": end, "up": rank[end] > rank[start], "endings": ends,
                          "total": sum(ends.values()), "nfa": _proportion(
                              [c for c in cells if c.outcome is not None], lambda c: c.nfa)})

    due = [c for c in this if c.timeliness != "pending"]
    return Overview(
        current=current, baseline=baseline, filters=filters, endings=endings,
        nfa_now=nfa_now, nfa_baseline=nfa_baseline, difference=newcombe(nfa_now, nfa_baseline),
        months=months, run=longest_run(sides),
        by_source=_rate_rows(this, lambda c: c.source_code, {k: f"{k}: {v}" for k, v in REFERRAL_SOURCES.items()},
                             REFERRAL_SOURCES),
        by_organisation=_rate_rows(this, lambda c: ORGANISATION_OF_SOURCE.get(c.source_code),
                                   {k: name for k, (name, _codes) in ORGANISATION_TYPES.items()},
                                   ORGANISATION_TYPES),
        by_threshold=_rate_rows(this, lambda c: c.threshold_id or "none", {
            "none": "Not through Signpost (recorded by the front door)"}),
        by_origin=_rate_rows(this, lambda c: c.origin, ORIGIN_NAMES, ORIGINS),
        agreement=agreement, agreed=agreed, overrides=overrides,
        on_time=_proportion(due, lambda c: c.timeliness == "on_time"),
        re_referrals=_proportion([c for c in referrals], lambda c: c.re_referral),
        consultations_followed=_proportion([c for c in this if c.kind == "consultation"], lambda c: c.followed_up),
    )


# ---- by deciding concern -----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ConcernRow:
    reason_id: str
    label: str
    kind: str          # "indicator", "rule" or "" when no threshold version names it
    referrals: int     # Signpost referrals whose recommendation this concern or rule decided
    nfa: Proportion    # of those decided, how many ended in NFA


def _reason_elements(reason_ids):
    """The ids in an assessment's reason_ids (a JSON list), one row each."""
    if _sqlite():
        return func.json_each(reason_ids).table_valued("value", name="reason")
    return func.json_array_elements_text(reason_ids).table_valued("value", name="reason")


def deciding_concerns(current: Period, filters: Filters = Filters(), labels: Mapping[str, tuple[str, str]] = {}
                      ) -> list[ConcernRow]:
    """For each indicator and rule that decided recommendations: referrals it produced, and NFA share.

    Only referrals made through Signpost carry reasons. `labels` maps id -> (kind, text).
    """
    if filters.origin == "front_door":
        return []
    items = (_signpost_branch(filters, current, lookups=False)
             .add_columns(Assessment.reason_ids.label("reason_ids")).subquery())
    reason = _reason_elements(items.c.reason_ids)
    nfa = case((items.c.outcome.in_(NFA_OUTCOMES), 1), else_=0)
    decided = case((items.c.outcome.is_not(None), 1), else_=0)
    query = (select(reason.c.value.label("reason_id"), func.count().label("referrals"),
                    func.sum(decided).label("decided"), func.sum(nfa).label("nfa"))
             .select_from(items).join(reason, true())
             .where(items.c.kind == "referral")
             .group_by(reason.c.value))
    rows = [ConcernRow(row.reason_id, labels.get(row.reason_id, ("", row.reason_id))[1],
                       labels.get(row.reason_id, ("", ""))[0], row.referrals,
                       Proportion(int(row.nfa or 0), int(row.decided or 0)))
            for row in db.session.execute(query)]
    return sorted(rows, key=lambda r: (-r.referrals, r.reason_id))


def reason_labels(library) -> dict[str, tuple[str, str]]:
    """id -> (kind, text) for every indicator and rule in every threshold version (newest wording wins)."""
    labels: dict[str, tuple[str, str]] = {}
    for version in library.versions:
        for indicator in version.document.indicators:
            labels[indicator.id] = ("Concern", indicator.text)
        for rule in version.document.rules:
            labels[rule.id] = ("Rule", rule.reason)
    return labels


# ---- periods ---------------------------------------------------------------------------------

def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (clamped to the month's end)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def first_signpost_referral() -> dt.date | None:
    first = db.session.scalar(select(func.min(Referral.created_at)).where(Referral.kind == "referral"))
    return first.date() if first else None


def default_current(today: dt.date) -> Period:
    """The last 12 whole months (a month still under way would show as a half-empty point)."""
    first_of_this_month = today.replace(day=1)
    return Period(months_before(first_of_this_month, 12), first_of_this_month - dt.timedelta(days=1))


def default_baseline(current: Period) -> Period:
    """The 12 months before the first referral made through Signpost (before `current` if none)."""
    first = first_signpost_referral() or current.start
    return Period(months_before(first, 12), first - dt.timedelta(days=1))
