"""The council's measures: NFA, agreement, timeliness and re-referrals, as SQL aggregates.

Everything here reads; nothing writes. Each report is one or two GROUP BY queries over the
items that reached the front door; Python only adds up the (small) grouped results.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import and_, case, func, literal_column, null, or_, select, text, true, union_all
from sqlalchemy.sql import ColumnElement

from .extensions import db
from .models import Assessment, ExternalContact, Referral
from .statistics import Proportion, longest_run, newcombe, p_chart_limits
from .values import (ITEM_KINDS, KIND_ROUTES, NFA_OUTCOMES, OUTCOMES, REFERRAL_SOURCES, ROUTE_OF_OUTCOME, ROUTES,
                     kind_routes)
from .workdays import months_before, uk_day_start, uk_local

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
assert {outcome: ROUTE_OF_ENDING[ending] for outcome, ending in ENDING_OF_OUTCOME.items()
        if ending in ROUTE_OF_ENDING} == ROUTE_OF_OUTCOME, "agreement means the same here as in Preview a change"


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
    """From `start` to `end`, both dates inclusive: days of the UK's calendar (GMT or BST), as staff
    count them, however the times are stored."""

    start: dt.date
    end: dt.date

    @property
    def start_at(self) -> dt.datetime:
        """When the first day begins, as stored (naive UTC): 23:00 the day before in summer."""
        return uk_day_start(self.start)

    @property
    def end_before(self) -> dt.datetime:
        return uk_day_start(self.end + dt.timedelta(days=1))

    def months(self) -> list[str]:
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def by_month(self) -> list[tuple[str, Period]]:
        """Each month the period touches, with the days of that month it holds."""
        out = []
        for month in self.months():
            first = dt.date.fromisoformat(month + "-01")
            last = months_before(first, -1) - dt.timedelta(days=1)
            out.append((month, Period(max(first, self.start), min(last, self.end))))
        return out

    def describe(self) -> str:
        return f"{self.start.strftime('%-d %B %Y')} to {self.end.strftime('%-d %B %Y')}"

    def overlap(self, other: Period) -> Period | None:
        """The days both periods hold, if any."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start <= end else None


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


def _tune_for_reports(*, in_index_order: bool = False) -> None:
    """PostgreSQL, for this transaction only: no JIT (compiling the aggregates costs more than it saves
    on one pass), room to hash the groups in memory, and no parallel workers: the page already reads
    its queries at once, each on a connection of its own (read_together), and workers on top of that
    only take turns on the same cores (the concerns took as long with two workers as without).

    in_index_order: group the rows as they come off the covering index, in the order it holds them
    (models.REPORT_INDEXES), as SQLite does, rather than hash or sort them (see _index_order_pays).
    Hashing and sorting stay allowed elsewhere, and are allowed again explicitly, since a test may
    read both in one transaction."""
    if not _sqlite():
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        for setting in ("enable_hashagg", "enable_sort"):
            db.session.execute(text(f"SET LOCAL {setting} = {'off' if in_index_order else 'DEFAULT'}"))


# Below this share of the reports' tables' pages marked all-visible, the cube is hashed (see _index_order_pays).
ALL_VISIBLE_FOR_INDEX_ORDER = 0.8


def _index_order_pays(tables: Iterable[str]) -> bool:
    """PostgreSQL: whether the cube should be grouped in the covering index's order rather than hashed.

    The planner costs hashing as the cheaper, but hashing the cube's five keys for each of 300,000
    referrals took 1.8 times as long (378 against 209 ms, one core, benchmarks/reports.py's data): in
    the index's order each group's rows arrive together, and grouping only compares each row with
    the one before. That holds while the index alone can be read: for a page not yet marked
    all-visible (rows written or changed since autovacuum last passed), each row is also fetched from
    the table, and with no page marked the index's order took 1.5 times as long as hashing (a sort in
    its place, the planner's choice, longer still). So only when most of both tables' pages are
    marked, by the figures VACUUM keeps in pg_class (as autovacuum does on a running service), of the
    tables the query reads. A table never vacuumed or analysed (reltuples -1) is hashed; one found
    empty when last vacuumed or analysed does not count against the others."""
    if _sqlite() or not tables:
        return False
    visible = db.session.scalar(text(
        "SELECT min(CASE WHEN relpages > 0 THEN relallvisible::float8 / relpages WHEN reltuples >= 0 THEN 1 "
        "ELSE 0 END) FROM pg_class WHERE oid = ANY(ARRAY[" + ", ".join(
            f"to_regclass(:t{n})" for n in range(len(tables))) + "])"),
        {f"t{n}": name for n, name in enumerate(tables)})
    return visible is not None and visible >= ALL_VISIBLE_FOR_INDEX_ORDER


# ---- reading several reports at once, in one snapshot ---------------------------------------------

SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")


def read_together(*calls: Callable[[], Any], threads: bool | None = None) -> list[Any]:
    """Each call's result, the calls reading the database at the same time, in one snapshot.

    PostgreSQL runs each query on the backend of its connection, so with the calls on connections
    of their own the page waits for the longest query rather than the sum of them. Each call gets an
    app context, so a session and a connection, of its own; all their transactions are REPEATABLE
    READ, read only, and share the snapshot the first one exports, so every table counts the same
    rows as if read in one transaction. threads=None: at once on PostgreSQL; on SQLite one after the
    other in the request's own session, as before: there the threads only contend for one file and
    the GIL (the benchmark's page 331 ms at once against 282 ms in turn). threads=True works on
    SQLite too, for the tests.
    """
    if threads is None:
        threads = not _sqlite()
    if not threads or len(calls) < 2:
        return [call() for call in calls]
    app = current_app._get_current_object()
    # The first call's transaction exports the snapshot and stays open (its app context) until
    # every other call has finished, so they can import the snapshot whenever their thread starts.
    with app.app_context():
        snapshot = _begin_reading()
        with ThreadPoolExecutor(len(calls) - 1, thread_name_prefix="reports") as pool:
            others = [pool.submit(_read_in_snapshot, app, snapshot, call) for call in calls[1:]]
            first = calls[0]()
            return [first, *(future.result() for future in others)]


def _read_in_snapshot(app, snapshot: str | None, call: Callable[[], Any]) -> Any:
    with app.app_context():
        _begin_reading(snapshot)
        return call()


def _begin_reading(snapshot: str | None = None) -> str | None:
    """Begin this context's session's transaction to read in a shared snapshot (PostgreSQL).

    Without `snapshot`, export this transaction's and return its id; with one, import it."""
    if _sqlite():
        return None
    db.session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
    if snapshot is None:
        return db.session.scalar(text("SELECT pg_export_snapshot()"))
    if not SNAPSHOT_ID.match(snapshot):  # SET takes no bound parameters; the id is the server's own
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    db.session.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
    return snapshot


# ---- the items: everything that reached the front door ----------------------------------------------
#
# Every fact is stored on the row it describes (signpost.store.facts writes them with the row and
# with each decision): the recommendation copied from the assessment, the month it counts in, when
# a decision was due and when the first was made, re-referral and follow-up. So each table is read
# on its own, through the covering index that holds those columns (models.REPORT_INDEXES), and
# nothing is joined or worked out per row but a few comparisons.

SIGNPOST_ONLY = ("threshold", "route", "followed")  # filters that only Signpost's items can match


def _signpost_columns() -> dict[str, ColumnElement]:
    r = Referral
    return {"kind": r.kind, "kind_routes": r.kind_routes, "source_code": r.source_code, "threshold_id": r.threshold_id,
            "recommended_route": r.recommended_route, "route_taken": r.route_taken, "outcome": r.latest_outcome,
            "month": r.month, "age_band": r.age_band, "urgency": r.urgency, "overridden": r.overridden}


def _recorded_columns() -> dict[str, ColumnElement]:
    contact = ExternalContact
    return {"outcome": contact.outcome, "source_code": contact.source_code, "month": contact.month,
            "age_band": contact.age_band, "urgency": contact.urgency,
            # A recorded contact answered with advice was a consultation; every other one a referral.
            "kind": case((contact.outcome == "advice_given", "consultation"), else_="referral"),
            "kind_routes": case((contact.outcome == "advice_given", kind_routes("consultation", None, None)),
                                else_=kind_routes("referral", None, None)),
            "threshold_id": null(), "recommended_route": null(), "route_taken": null(), "overridden": null()}


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


def _received(column) -> ColumnElement:
    """The time an item was received, for comparisons. On SQLite, as `+column`: the planner then reads
    the reports' index in its own order (what the query groups by) and needs no sort, rather than
    choosing the index on the time and sorting every row."""
    if _sqlite():
        return literal_column(f"+{column.table.name}.{column.name}", type_=column.type)
    return column


def _within(at, period: Period) -> ColumnElement[bool]:
    return and_(at >= period.start_at, at < period.end_before)


# ---- the cube: one grouped query that every table on the overview page adds up from -------------

# What the cube reads for each cell: kind, recommended route and route taken as their one stored
# number (values.KIND_ROUTES gives them back), which PostgreSQL groups by far faster than three strings.
CUBE_KEYS = ("month", "kind_routes", "origin", "source_code", "threshold_id", "outcome")
# The kind_routes numbers of referrals (whatever their routes): the only items the NFA rates count.
DECIDABLE_REFERRALS = frozenset(number for number, (kind, _r, _t) in KIND_ROUTES.items() if kind == "referral")
# What each table is grouped by, in the order of its index in models.REPORT_INDEXES (the other keys
# are constant or follow from these: a recorded contact's kind from its outcome).
SIGNPOST_GROUPS = ("kind_routes", "source_code", "threshold_id", "outcome", "month")
RECORDED_GROUPS = ("outcome", "source_code", "month")


class Cell(NamedTuple):  # a named tuple: hundreds are made for each report, and a tuple is quick to make
    """The items that share every key, and how many of them were on time, late, re-referrals...

    count and the other counts are of the items received in the current period, in all its months
    together: the month matters only to the NFA rates, which the cube adds up on their own.
    """

    kind: str
    origin: str
    source_code: str | None
    threshold_id: str | None
    recommended_route: str | None
    route_taken: str | None
    outcome: str | None
    count: int
    on_time: int = 0        # first decided within one working day
    late: int = 0           # decided later, or not decided and already due
    re_referrals: int = 0
    followed_up: int = 0    # consultations followed by a referral within 30 days

    @property
    def ending(self) -> str:
        return ENDING_OF_OUTCOME.get(self.outcome, "awaiting") if self.outcome else "awaiting"

    @property
    def nfa(self) -> bool:
        return self.outcome in NFA_OUTCOMES


@dataclasses.dataclass(frozen=True)
class Cube:
    current: list[Cell]                      # the cells of the items received in the current period (months merged)
    # Of the decided referrals (kind referral, with an outcome), [NFA, decided]: received in each month
    # within the current period (current_months) and within the baseline (baseline_months), and in the
    # whole baseline. A month that a period cuts counts only its days within the period, so each
    # period's months add up to its headline. All the NFA rates need, added up as the rows are read
    # rather than kept as cells.
    current_months: dict[str, list[int]]
    baseline_months: dict[str, list[int]]
    baseline: list[int]


def _branch(table, columns: Mapping[str, ColumnElement], origin: str, received, decided, group_by: list,
            filters: Filters, current: Period, baseline: Period, now: dt.datetime, *, links: bool):
    """One table's cells: grouped by its columns among the cube's keys (in its index's order), with
    how many items each period has and, of those in the current period, how many were on time..."""
    at = _received(received)
    span = Period(min(current.start, baseline.start), max(current.end, baseline.end))
    now_in = _within(at, current)
    due = table.c.due_at

    def of_current(*conditions):
        return func.count().filter(and_(now_in, *conditions))

    counts = {
        "in_current": of_current(), "in_baseline": func.count().filter(_within(at, baseline)),
        "on_time": of_current(decided <= due),
        "late": of_current(or_(decided > due, and_(decided.is_(None), due < now))),
        "re_referrals": of_current(table.c.re_referral) if links else literal_column("0"),
        "followed_up": of_current(table.c.followed_up) if links else literal_column("0"),
    }
    keys = {**columns, "origin": literal_column(f"'{origin}'")}
    return (select(*(keys[name].label(name) for name in CUBE_KEYS), *(v.label(k) for k, v in counts.items()))
            .where(_within(at, span), *_conditions(columns, filters))
            .group_by(*group_by))


def _cube_query(filters: Filters, current: Period, baseline: Period, now: dt.datetime):
    """The cube's one query, a branch for each table the filters can match (None: neither can), and
    the names of the tables it reads."""
    branches = []
    recorded_can_match = not any(getattr(filters, f) for f in SIGNPOST_ONLY)
    if filters.origin in (None, "signpost"):
        columns = _signpost_columns()
        branches.append(_branch(Referral.__table__, columns, "signpost", Referral.created_at, Referral.first_decided_at,
                                [columns[name] for name in SIGNPOST_GROUPS], filters, current, baseline, now,
                                links=True))
    if filters.origin in (None, "front_door") and recorded_can_match:
        columns = _recorded_columns()
        branches.append(_branch(ExternalContact.__table__, columns, "front_door", ExternalContact.received_at,
                                ExternalContact.decided_at, [columns[name] for name in RECORDED_GROUPS], filters,
                                current, baseline, now, links=False))
    if not branches:
        return None, ()
    tables = tuple(branch.get_final_froms()[0].name for branch in branches)
    return (union_all(*branches) if len(branches) > 1 else branches[0]), tables


def _cube(filters: Filters, current: Period, baseline: Period, now: dt.datetime) -> Cube:
    query, tables = _cube_query(filters, current, baseline, now)
    cube = Cube([], defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0]), [0, 0])
    if query is None:
        return cube
    _tune_for_reports(in_index_order=_index_order_pays(tables))
    # Read by position, in the select's order (CUBE_KEYS, then in_current, in_baseline, on_time, late,
    # re_referrals, followed_up): thousands of rows, one for each month of each cell. The current
    # period's are added up across its months as they are read, so every table after this adds up
    # one cell where there were a dozen rows.
    current: dict[tuple, list[int]] = {}
    now_months, then_months, before = cube.current_months, cube.baseline_months, cube.baseline
    keys = len(CUBE_KEYS)
    for row in db.session.execute(query).all():
        month, number, origin, source_code, threshold_id, outcome = row[:keys]
        in_current, in_baseline = row[keys:keys + 2]
        if in_current:
            cell = (number, origin, source_code, threshold_id, outcome)
            on_time, late, re_referrals, followed_up = row[keys + 2:]
            tally = current.get(cell)
            if tally is None:
                current[cell] = [in_current, on_time, late, re_referrals, followed_up]
            else:
                tally[0] += in_current
                tally[1] += on_time
                tally[2] += late
                tally[3] += re_referrals
                tally[4] += followed_up
        if outcome is not None and number in DECIDABLE_REFERRALS:  # decided referral (_is_decided_referral)
            nfa = outcome in NFA_OUTCOMES
            for tally, count in ((now_months[month], in_current), (then_months[month], in_baseline),
                                 (before, in_baseline)):
                tally[0] += count if nfa else 0
                tally[1] += count
    for (number, origin, source_code, threshold_id, outcome), counts in current.items():
        kind, recommended_route, route_taken = KIND_ROUTES[number]
        cube.current.append(Cell(kind, origin, source_code, threshold_id, recommended_route, route_taken, outcome,
                                 *counts))
    return cube


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
    """A month's referrals within one period: the baseline's or this period's. A month a period cuts
    counts only its days within that period (`days`); one cut by both has a row for each."""

    month: str                 # "YYYY-MM"
    in_baseline: bool          # the baseline's days of the month, else this period's
    days: Period               # the days of the month counted
    nfa: Proportion
    limits: tuple[float, float] | None

    @property
    def in_current(self) -> bool:
        return not self.in_baseline

    @property
    def whole(self) -> bool:
        """Whether the row counts every day of its month."""
        return self.days.start.day == 1 and (self.days.end + dt.timedelta(days=1)).day == 1

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
        """Short, for the chart: "Dec 2025", or "1 to 18 Dec 2025" for part of it."""
        return self._name("%b %Y")

    def describe(self) -> str:
        """"December 2025", or "1 to 18 December 2025" for part of it."""
        return self._name("%B %Y")

    def _name(self, month_format: str) -> str:
        month = self.days.start.strftime(month_format)
        if self.whole:
            return month
        if self.days.start == self.days.end:
            return f"{self.days.start.day} {month}"
        return f"{self.days.start.day} to {self.days.end.day} {month}"


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
    consultations_followed: Proportion        # Signpost's consultations followed by a referral within 30 days

    @property
    def baseline_rate(self) -> float | None:
        return self.nfa_baseline.rate


def _is_decided_referral(cell: Cell) -> bool:
    return cell.kind == "referral" and cell.outcome is not None


def _proportion(cells: Iterable[Cell], hit) -> Proportion:
    cells = list(cells)
    return Proportion(sum(c.count for c in cells if hit(c)), sum(c.count for c in cells))


def _counted(cells: Iterable[Cell], hits, out_of=lambda c: c.count) -> Proportion:
    """Hits out of the cells' items, from the counts each cell carries."""
    cells = list(cells)
    return Proportion(sum(hits(c) for c in cells), sum(out_of(c) for c in cells))


def _nfa(cells: Iterable[Cell]) -> Proportion:
    return _proportion((c for c in cells if _is_decided_referral(c)), lambda c: c.nfa)


def _rate_rows(cells: list[Cell], key, labels: Mapping[str, str], order: Iterable[str] = ()) -> list[RateRow]:
    """Referrals received, decided and ended in NFA for each key, added up in one pass over the cells."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for cell in cells:
        counts = totals[key(cell) or "unknown"]
        if cell.kind == "referral":
            counts[0] += cell.count
            if cell.outcome is not None:  # decided (as _is_decided_referral)
                counts[1] += cell.count
                counts[2] += cell.count if cell.outcome in NFA_OUTCOMES else 0
    keys = [k for k in order if k in totals] + sorted(k for k in totals if k not in set(order))
    return [RateRow(k, labels.get(k, k), totals[k][0], Proportion(totals[k][2], totals[k][1])) for k in keys]


def overview(current: Period, baseline: Period, filters: Filters = Filters(),
             now: dt.datetime | None = None) -> Overview:
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    cube = _cube(filters, current, baseline, now)
    this = cube.current

    endings: dict[str, dict[str, int]] = {kind: dict.fromkeys(ENDINGS, 0) for kind in (*ITEM_KINDS, "all")}
    for cell in this:
        endings[cell.kind][cell.ending] += cell.count
        endings["all"][cell.ending] += cell.count

    nfa_now, nfa_baseline = _nfa(this), Proportion(*cube.baseline)
    centre = nfa_baseline.rate
    months = []
    for period, in_baseline, counts in ((baseline, True, cube.baseline_months),
                                        (current, False, cube.current_months)):
        for month, days in period.by_month():
            nfa = Proportion(*counts.get(month, (0, 0)))
            months.append(Month(month, in_baseline, days, nfa,
                                p_chart_limits(centre, nfa.n) if centre is not None else None))
    months.sort(key=lambda m: (m.days.start, m.days.end))
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

    return Overview(
        current=current, baseline=baseline, filters=filters, endings=endings,
        nfa_now=nfa_now, nfa_baseline=nfa_baseline,
        # Overlapping periods share referrals: the two rates are not independent, so no difference.
        difference=None if current.overlap(baseline) else newcombe(nfa_now, nfa_baseline),
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
        on_time=_counted(this, lambda c: c.on_time, lambda c: c.on_time + c.late),
        re_referrals=_counted(referrals, lambda c: c.re_referrals),
        # Only a consultation made through Signpost can be linked to the referral made from its advice;
        # one the front door recorded itself never can, so counting it would only dilute the rate.
        consultations_followed=_counted([c for c in this if c.kind == "consultation" and c.origin == "signpost"],
                                        lambda c: c.followed_up),
    )


# ---- by deciding concern -----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ConcernRow:
    reason_id: str
    label: str
    kind: str          # "indicator", "rule" or "" when no threshold version names it
    referrals: int     # Signpost referrals whose recommendation this concern or rule decided
    nfa: Proportion    # of those decided, how many ended in NFA


def deciding_concerns(current: Period, filters: Filters = Filters(), labels: Mapping[str, tuple[str, str]] = {}
                      ) -> list[ConcernRow]:
    """For each indicator and rule that decided recommendations: referrals it produced, and NFA share.

    Only referrals made through Signpost carry reasons. `labels` maps id -> (kind, text). The
    referrals are grouped by their list of reasons (the stored reasons_key, one group per distinct
    list, far fewer than referrals), and each group is then counted once for each reason in it.
    """
    if filters.origin == "front_door":
        return []
    r = Referral
    columns = {"source_code": r.source_code, "age_band": r.age_band, "urgency": r.urgency,
               "threshold_id": r.threshold_id, "recommended_route": r.recommended_route, "overridden": r.overridden}
    query = (select(r.reasons_key, func.count().label("referrals"), func.count(r.latest_outcome).label("decided"),
                    func.sum(case((r.latest_outcome.in_(NFA_OUTCOMES), 1), else_=0)).label("nfa"))
             .where(r.kind == "referral", _within(_received(r.created_at), current), *_conditions(columns, filters))
             .group_by(r.reasons_key))
    _tune_for_reports()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for reasons_key, referrals, decided, nfa in db.session.execute(query).all():
        for reason_id in json.loads(reasons_key or "[]"):
            counts = totals[reason_id]
            counts[0] += referrals
            counts[1] += decided
            counts[2] += int(nfa or 0)
    rows = [ConcernRow(reason_id, labels.get(reason_id, ("", reason_id))[1], labels.get(reason_id, ("", ""))[0],
                       referrals, Proportion(nfa, decided))
            for reason_id, (referrals, decided, nfa) in totals.items()]
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


# ---- the page: overview and concerns together ---------------------------------------------------

def report(current: Period, baseline: Period, filters: Filters = Filters(),
           labels: Mapping[str, tuple[str, str]] = {}, now: dt.datetime | None = None, *,
           threads: bool | None = None) -> tuple[Overview, list[ConcernRow]]:
    """The reports page's numbers: the overview and the deciding concerns, read at the same time
    (read_together) from one snapshot."""
    return tuple(read_together(lambda: overview(current, baseline, filters, now=now),
                               lambda: deciding_concerns(current, filters, labels), threads=threads))


# ---- periods ---------------------------------------------------------------------------------

def first_signpost_referral() -> dt.date | None:
    first = db.session.scalar(select(func.min(Referral.created_at)).where(Referral.kind == "referral"))
    return uk_local(first).date() if first else None


def default_current(today: dt.date, since: dt.date | None = None) -> Period:
    """The last 12 whole months (a month still under way would show as a half-empty point), or from
    `since`, the first referral made through Signpost, when that is later: the default period is
    Signpost's time only, never days of the default baseline (the 12 months before that referral)."""
    first_of_this_month = today.replace(day=1)
    period = Period(months_before(first_of_this_month, 12), first_of_this_month - dt.timedelta(days=1))
    if since is not None and period.start < since <= period.end:
        return Period(since, period.end)
    return period


LOOK_UP = object()  # default_baseline's `first` when the caller has not read it already


def default_baseline(current: Period, first: dt.date | None | object = LOOK_UP) -> Period:
    """The 12 months before the first referral made through Signpost (before `current` if none, or if
    that referral came after `current` began: a baseline never overlaps the period by default).
    `first`: that referral's date (None: there is none) when the caller has read it already."""
    if first is LOOK_UP:
        first = first_signpost_referral()
    first = min(first or current.start, current.start)
    return Period(months_before(first, 12), first - dt.timedelta(days=1))
