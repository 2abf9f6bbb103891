"""Reports for policy leads and the front door: NFA against the baseline, agreement, concerns.

Filters live in the query string, so a report can be bookmarked and shared. Every table on the
page is built once (report_tables) and both rendered and downloaded as CSV from that one build.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

from flask import Blueprint, abort, render_template, request
from wtforms import Form, SelectField, StringField

from .. import metrics, values, workdays
from ..content import current_library
from ..values import AGE_BANDS, REFERRAL_SOURCES, ROUTES, URGENCIES
from .charts import bar_chart, month_chart
from .downloads import csv_download
from .security import role_required

bp = Blueprint("reports", __name__, url_prefix="/reports")
ROLES = ("policy_lead", "front_door", "admin")

ROUTE_NAMES = {"universal": "Universal services", "early_help": "Early help", "social_care": "Children's social care"}
KIND_NAMES = {"referral": "Referrals", "early_help_request": "Early help requests", "consultation": "Consultations",
              "all": "All contacts"}
URGENCY_NAMES = {"emergency": "Emergency (999)", "same_day": "Same day", "standard": "Standard"}
DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


# ---- the filters form (GET, so no CSRF: it changes nothing) -----------------------------------------

def _choices(values, names=None, everything="All"):
    return [("", everything)] + [(v, (names or {}).get(v, v)) for v in values]


class ReportForm(Form):
    start = StringField("From", description="A month (2026-04) or a day (2026-04-15)")
    end = StringField("To", description="A month or a day; the whole month when you give a month. Leave empty "
                      "for the end of last month, or today when 'From' is in this month")
    baseline_start = StringField("Baseline from", description="Leave empty for the 12 months before the "
                                 "first referral made through Signpost")
    baseline_end = StringField("Baseline to")
    origin = SelectField("How it reached the front door", choices=_choices(
        metrics.ORIGINS, metrics.ORIGIN_NAMES))
    organisation = SelectField("Organisation type", choices=_choices(
        metrics.ORGANISATION_TYPES, {k: v[0] for k, v in metrics.ORGANISATION_TYPES.items()}))
    source = SelectField("Referral source (census code)", choices=_choices(
        REFERRAL_SOURCES, {k: f"{k}: {v}" for k, v in REFERRAL_SOURCES.items()}))
    threshold = SelectField("Threshold version", choices=[("", "All")])
    age_band = SelectField("Child's age", choices=_choices(AGE_BANDS))
    route = SelectField("Signpost's recommendation", choices=_choices(ROUTES, ROUTE_NAMES))
    urgency = SelectField("Urgency", choices=_choices(URGENCIES, URGENCY_NAMES))
    followed = SelectField("Recommendation followed", choices=_choices(
        metrics.FOLLOWED, {"followed": "Followed", "overridden": "Overridden by the referrer"}))

    def validate_dates(self) -> bool:
        ok = True
        for field in (self.start, self.end, self.baseline_start, self.baseline_end):
            if field.data and not _parse(field.data, end=False):
                field.errors = [f"Enter '{field.label.text.lower()}' as a month like 2026-04 or a day like "
                                f"2026-04-15, in a year {workdays.YEARS_ALLOWED}"]
                ok = False
        return ok


def _parse(text: str, *, end: bool) -> dt.date | None:
    """A day, or a month (its first day, or its last with end=True), in the accepted years."""
    text = (text or "").strip()
    if not DATE.match(text):
        return None
    if len(text) == 10:
        return workdays.parse_day(text)
    first = workdays.parse_day(text + "-01")
    return workdays.months_before(first, -1) - dt.timedelta(days=1) if first and end else first


@dataclasses.dataclass
class Query:
    form: ReportForm
    current: metrics.Period
    baseline: metrics.Period
    filters: metrics.Filters
    errors: list[dict]
    # Days in both the period and the baseline: their referrals count in both rates, which are then
    # not independent, so the page says so and makes no claim about chance.
    overlap: metrics.Period | None = None
    ignored: list[str] = dataclasses.field(default_factory=list)  # filters in the address not applied
    baseline_chosen: bool = False  # a baseline other than the default one

    def applied(self) -> dict[str, str]:
        """The filters applied (field name -> choice): never one the page ignored."""
        return {field.name: field.data for field in self.form if isinstance(field, SelectField) and field.data}


def _query() -> Query:
    form = ReportForm(request.args)
    versions = [v.id for v in current_library().versions]
    form.threshold.choices = _choices(versions)
    ignored = []
    for field in form:  # an unknown choice (an edited URL) is not applied, and the page says so
        if isinstance(field, SelectField) and field.data not in {c[0] for c in field.choices}:
            if request.args.get(field.name):
                ignored.append(f"{field.label.text}: '{request.args[field.name][:40]}' is not one of its choices")
            field.data = ""
    form.validate_dates()
    today = values.uk_today()
    first = metrics.first_signpost_referral()  # read once: the default period and baseline both start from it
    current = metrics.default_current(today, since=first)
    start = _parse(form.start.data, end=False)
    end = _parse(form.end.data, end=True)
    if end is None:  # "To" left empty: the end of last month, or today for "From" this month (so far)
        end = current.end if start is None or start <= current.end else today
    if start is None:  # "To" alone: the 12 whole months up to it, from the default period's start if later
        start = workdays.months_before(end.replace(day=1), 11)
        if current.start <= end:
            start = max(start, current.start)
    errors = [{"text": f.errors[0], "href": f"#{f.id}"} for f in form if f.errors]
    if end < start:
        field = form.end if form.end.data else form.start  # the date the lead gave: never one left empty
        field.errors = ["'To' must be the same as or after 'From'" if form.end.data
                        else "'From' must be today or earlier"]
        errors.append({"text": field.errors[0], "href": f"#{field.id}"})
        start, end = current.start, current.end
    current = metrics.Period(start, end)
    default_baseline = baseline = metrics.default_baseline(current, first)
    b_start = _parse(form.baseline_start.data, end=False)
    b_end = _parse(form.baseline_end.data, end=True)
    if b_start or b_end:
        baseline = metrics.Period(b_start or baseline.start, b_end or baseline.end)
        if baseline.end < baseline.start:
            form.baseline_end.errors = ["'Baseline to' must be the same as or after 'Baseline from'"]
            errors.append({"text": form.baseline_end.errors[0], "href": "#baseline_end"})
            baseline = default_baseline
    filters = metrics.Filters(**{name: getattr(form, name).data or None for name in (
        "source", "organisation", "threshold", "age_band", "route", "urgency", "followed", "origin")})
    return Query(form, current, baseline, filters, errors, current.overlap(baseline), ignored,
                 baseline_chosen=baseline != default_baseline)


# ---- the tables: one build for the page and the CSV ---------------------------------------------

@dataclasses.dataclass(frozen=True)
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: tuple[int, ...] = ()  # columns aligned right


def pct(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.1f}%"


def interval(p: metrics.Proportion) -> str:
    if p.interval is None:
        return "no data"
    return f"{p.interval[0] * 100:.1f}% to {p.interval[1] * 100:.1f}%"


def points(value: float) -> str:
    """A difference in percentage points, in words (no leading sign for a spreadsheet to misread)."""
    if round(value * 100, 1) == 0:
        return "no change"
    return f"{abs(value) * 100:.1f} points {'higher' if value > 0 else 'lower'}"


def report_tables(o: metrics.Overview, concerns: list[metrics.ConcernRow]) -> dict[str, Table]:
    t: dict[str, Table] = {}
    endings = metrics.ENDINGS
    t["headline"] = Table("headline", "Referrals ending in No Further Action: now and the baseline",
                          ["Period", "From", "To", "Referrals decided", "Ended in NFA", "NFA rate",
                           "95% interval"],
                          [[name, p.start.isoformat(), p.end.isoformat(), str(n.n), str(n.k), pct(n.rate),
                            interval(n)] for name, p, n in (("This period", o.current, o.nfa_now),
                                                            ("Baseline", o.baseline, o.nfa_baseline))],
                          (3, 4, 5))
    if o.difference is not None:
        diff, (low, high) = o.difference
        t["headline"].rows.append(["Difference", "", "", "", "", points(diff),
                                   f"{points(low)} to {points(high)}"])
    t["endings"] = Table("endings", "What reached the front door, and how each ended",
                         ["Kind", "Received", *(metrics.ENDING_NAMES[e] for e in endings)],
                         [[KIND_NAMES[kind], str(sum(counts.values())), *(str(counts[e]) for e in endings)]
                          for kind, counts in o.endings.items()], tuple(range(1, 2 + len(endings))))
    t["monthly"] = Table("monthly", "NFA rate by month, with control limits from the baseline",
                         ["Month", "Days counted", "Period", "Referrals decided", "Ended in NFA", "NFA rate",
                          "Lower control limit", "Upper control limit", "Outside the limits"],
                         [[m.month, "whole month" if m.whole else m.describe(),
                           "baseline" if m.in_baseline else "this period", str(m.nfa.n), str(m.nfa.k),
                           pct(m.nfa.rate), pct(m.limits[0]) if m.limits else "no data",
                           pct(m.limits[1]) if m.limits else "no data", m.signal or "no"]
                          for m in o.months], (3, 4, 5, 6, 7))
    for name, title, rows in (("organisations", "By organisation type", o.by_organisation),
                              ("sources", "By referral source (Children in Need census code)", o.by_source),
                              ("thresholds", "By threshold version", o.by_threshold),
                              ("origins", "Through Signpost or recorded by the front door", o.by_origin)):
        t[name] = Table(name, title, ["Group", "Referrals received", "Referrals decided", "Ended in NFA",
                                      "NFA rate", "95% interval"],
                        [[r.label, str(r.received), str(r.nfa.n), str(r.nfa.k), pct(r.nfa.rate), interval(r.nfa)]
                         for r in rows], (1, 2, 3, 4))
    t["agreement"] = Table("agreement", "Signpost's recommendation against the front door's decision (referrals)",
                           ["Signpost recommended", *(metrics.ENDING_NAMES[e] for e in endings if e != "advice"),
                            "Total"],
                           [[ROUTE_NAMES[route], *(str(counts[e]) for e in endings if e != "advice"),
                             str(sum(counts.values()))] for route, counts in o.agreement.items()],
                           tuple(range(1, len(endings) + 1)))
    t["overrides"] = Table("overrides", "Overridden recommendations: what happened to them",
                           ["Recommended", "Referrer chose", "Direction", "Items",
                            *(metrics.ENDING_NAMES[e] for e in endings), "NFA rate of those decided"],
                           [[ROUTE_NAMES[d["from"]], ROUTE_NAMES[d["to"]], "up" if d["up"] else "down",
                             str(d["total"]), *(str(d["endings"][e]) for e in endings), pct(d["nfa"].rate)]
                            for d in o.overrides], tuple(range(3, len(endings) + 5)))
    t["concerns"] = Table("concerns", "By deciding concern: referrals each produced, and how many ended in NFA",
                          ["Concern or rule", "Id", "Kind", "Referrals", "Decided", "Ended in NFA", "NFA rate",
                           "95% interval"],
                          [[c.label, c.reason_id, c.kind, str(c.referrals), str(c.nfa.n), str(c.nfa.k),
                            pct(c.nfa.rate), interval(c.nfa)] for c in concerns], (3, 4, 5, 6))
    t["measures"] = Table("measures", "Other measures", ["Measure", "Count", "Out of", "Rate", "95% interval"], [
        [label, str(p.k), str(p.n), pct(p.rate), interval(p)] for label, p in (
            ("Decisions that agreed with Signpost's recommendation", o.agreed),
            ("Decided within one working day", o.on_time),
            ("Re-referrals within 12 months", o.re_referrals),
            ("Consultations made through Signpost followed by a referral within 30 days", o.consultations_followed))], (1, 2, 3))
    return t


def _build(query: Query):
    overview, concerns = metrics.report(query.current, query.baseline, query.filters,
                                        metrics.reason_labels(current_library()))
    return overview, concerns, report_tables(overview, concerns)


# ---- pages ------------------------------------------------------------------------------------------

@bp.get("/")
@role_required(*ROLES)
def index():
    query = _query()
    overview, concerns, tables = _build(query)
    charts = {
        "monthly": month_chart(overview),
        "organisations": bar_chart("NFA rate by organisation type", overview.by_organisation),
        "thresholds": bar_chart("NFA rate by threshold version", overview.by_threshold),
    }
    return render_template("reports/index.html", q=query, o=overview, tables=tables, charts=charts,
                           args=_args(query), filter_labels=_filter_labels(query.form),
                           select_items=select_items, pct=pct, interval=interval, points=points)


def select_items(field) -> list[dict]:
    """govukSelect items from a SelectField, with the current choice selected."""
    return [{"value": value, "text": text, "selected": value == (field.data or "")}
            for value, text in field.choices]


def _filter_labels(form: ReportForm) -> list[tuple[str, str]]:
    return [(field.label.text, dict(field.choices)[field.data]) for field in form
            if isinstance(field, SelectField) and field.data]


def _args(query: Query) -> dict[str, str]:
    """The query string to carry into the CSV links: the period and baseline the page used, as days, and the
    filters it applied. Never the dates as typed: after an error in one, the page falls back to a default
    period, and a link keeping the other date would download a different period from the one shown."""
    used = {"start": query.current.start, "end": query.current.end,
            "baseline_start": query.baseline.start, "baseline_end": query.baseline.end}
    return {**{name: day.isoformat() for name, day in used.items()}, **query.applied()}


@bp.get("/<name>.csv")
@role_required(*ROLES)
def download(name: str):
    query = _query()
    _overview, _concerns, tables = _build(query)
    table = tables.get(name)
    if table is None:
        abort(404)
    return csv_download(table.headers, table.rows, *download_name(name, query))


def download_name(table: str, query: Query) -> list:
    """The parts of a table's CSV's file name: the table, the period, the baseline when it is not the default,
    and each filter applied as its name and choice (signpost-monthly-2026-02-01-to-2026-02-28-source-6.csv),
    so downloads with different filters never share a name."""
    parts = ["signpost", table, query.current.start, "to", query.current.end]
    if query.baseline_chosen:
        parts += ["baseline", query.baseline.start, "to", query.baseline.end]
    for name, choice in query.applied().items():
        parts += [name, choice]
    return parts
