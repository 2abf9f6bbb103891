"""How long the whole reports page takes on a big council's data, against one hand-written SQL query.

Seeds 1,000,000 assessments and 300,000 front-door items (referrals, early-help requests and
consultations) with decisions, plus 100,000 contacts recorded by the front door, over 24 months;
renders /reports/ (every table, both charts, default period and baseline) through the Flask stack;
and times one hand-written SQL query computing the same headline and monthly NFA numbers.
The query and the page are timed in turn, run after run (benchmarks/turns.py).
Prints each run, both medians, then last `reports_vs_raw_sql: R`, the median run's ratio (goal: at
most 2.0; the page under 2 s).
On PostgreSQL the seeded tables are compacted with VACUUM (FULL, ANALYZE) after the bulk load and the
facts' fill, as a DBA would after a bulk load, then vacuumed as autovacuum would soon after (see seed()).

Run: .venv/bin/python benchmarks/reports.py [--database-url postgresql+psycopg://root@127.0.0.1/test]
(PostgreSQL: a schema of its own is made and dropped, so any database will do.)
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# Not this folder on the path: benchmarks/queue.py would stand in for the standard library's queue.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import sqlalchemy as sa  # noqa: E402

from benchmarks.turns import in_turn  # noqa: E402
from signpost import create_app, metrics, store  # noqa: E402
from signpost.store import facts  # noqa: E402
from signpost.extensions import db  # noqa: E402
from signpost.models import Assessment, Decision, ExternalContact, Referral, urgency_priority  # noqa: E402
from signpost.values import NFA_OUTCOMES  # noqa: E402

SOURCES = ("2A", "2A", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F")
OUTCOMES = ("nfa", "nfa", "nfa_advice", "early_help", "assessment_s17", "assessment_s17", "strategy_s47",
            "already_open")
CHUNK = 20_000


def schema_url(url: str, schema: str) -> str:
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def seed(n_assessments: int, n_items: int, n_contacts: int, now: dt.datetime, users: dict) -> None:
    rng = random.Random(10)
    # Contacts recorded by the front door over two years; Signpost in the second year only, so
    # the default baseline (the 12 months before the first Signpost referral) has data.
    span = 730 * 24 * 3600
    start = now - dt.timedelta(seconds=span)
    signpost_span = span // 2
    signpost_start = now - dt.timedelta(seconds=signpost_span)
    library_ids = [("northmere-2024-09", "a" * 64), ("northmere-2026-04", "b" * 64)]
    conn = db.session.connection()
    reasons = [f"indicator_{n}" for n in range(60)] + ["cumulative_rule"]
    item_of = set(rng.sample(range(n_assessments), n_items))
    times = sorted(signpost_start + dt.timedelta(seconds=rng.randrange(signpost_span)) for _ in range(n_assessments))
    rows, items = [], []
    for n, at in enumerate(times):
        route = rng.choice(("universal", "early_help", "social_care"))
        kind = rng.choices(("referral", "early_help_request", "consultation"), weights=(80, 12, 8))[0] \
            if n in item_of else None
        taken = {"referral": "social_care", "early_help_request": "early_help"}.get(kind, route)
        version = library_ids[at >= dt.datetime(2026, 4, 1)]
        rows.append({"id": n + 1, "user_id": users["referrer"], "started_at": at - dt.timedelta(minutes=9),
                     "completed_at": at, "source_code": rng.choice(SOURCES), "referrer_role": "dsl",
                     "age_band": rng.choice(("under 1", "1 to 4", "5 to 9", "10 to 15", "16 to 17")),
                     "unborn": False, "indicator_ids": [], "consent": "given", "in_danger": False,
                     "immediate": False, "recommended_route": route, "recommended_level": 3,
                     "reason_ids": rng.sample(reasons, rng.choice((1, 1, 2))), "route_taken": taken,
                     "overridden": taken != route, "threshold_id": version[0], "threshold_hash": version[1],
                     "urgency": rng.choice(("standard",) * 8 + ("same_day", "emergency")), "lado": False})
        if kind:
            items.append((n + 1, at, kind, rows[-1]["urgency"]))
        if len(rows) == CHUNK:
            conn.execute(Assessment.__table__.insert(), rows)
            rows = []
    if rows:
        conn.execute(Assessment.__table__.insert(), rows)
    children = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(n_items * 4 // 5)]
    referrals, decisions = [], []
    for n, (assessment_id, at, kind, urgency) in enumerate(items, start=1):
        decided = [] if at > now - dt.timedelta(days=2) and rng.random() < 0.5 else [
            at + dt.timedelta(hours=rng.uniform(1, 40))]
        if decided and rng.random() < 0.05:
            decided.append(decided[0] + dt.timedelta(days=1))
        outcomes = [("advice_given" if kind == "consultation" else rng.choice(OUTCOMES)) for _ in decided]
        referrals.append({"id": n, "reference": f"B-{n}", "kind": kind, "assessment_id": assessment_id,
                          "user_id": users["referrer"], "created_at": at, "details": {}, "consent": "given",
                          "child_key": rng.choice(children) if kind != "consultation" else None,
                          "urgency_priority": urgency_priority(urgency),
                          "latest_outcome": outcomes[-1] if outcomes else None,
                          "latest_decided_at": decided[-1] if decided else None})
        decisions += [{"referral_id": n, "sequence": s, "outcome": o, "decided_on": d.date(), "decided_at": d,
                       "decided_by": users["front_door"], "note": "", "created_at": d,
                       "referral_advised": (rng.random() < 0.3) if kind == "consultation" else None}
                      for s, (o, d) in enumerate(zip(outcomes, decided, strict=True), start=1)]
        if len(referrals) == CHUNK:  # decisions after their referrals (foreign keys)
            conn.execute(Referral.__table__.insert(), referrals)
            conn.execute(Decision.__table__.insert(), decisions)
            referrals, decisions = [], []
    for table, rest in ((Referral, referrals), (Decision, decisions)):
        if rest:
            conn.execute(table.__table__.insert(), rest)
    contacts = []
    for n in range(n_contacts):
        at = start + dt.timedelta(seconds=rng.randrange(span))
        contacts.append({"reference": f"FD-{n}", "received_at": at, "source_code": rng.choice(("6", "6", "5A", "8")),
                         "channel": "phone", "age_band": "5 to 9", "urgency": "standard",
                         "outcome": rng.choice(OUTCOMES), "decided_at": at + dt.timedelta(hours=5),
                         "recorded_by": users["front_door"], "recorded_at": now})
        if len(contacts) == CHUNK:
            conn.execute(ExternalContact.__table__.insert(), contacts)
            contacts = []
    if contacts:
        conn.execute(ExternalContact.__table__.insert(), contacts)
    # The reports' facts, as the app writes them for bulk inserts (and migration 0009 for old rows).
    started = time.perf_counter()
    facts.fill(conn)
    print(f"report facts filled in {time.perf_counter() - started:.0f} s")
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for table in ("assessments", "referrals", "decisions", "external_contacts"):
                c.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
                # As a DBA would after a bulk load: facts.fill above updated every referral and contact
                # once more, which leaves PostgreSQL's tables and indexes holding a dead copy of each row
                # (the referrals nearly four times their size). The app writes the facts with each row and
                # autovacuum lets later updates reuse the space, so a real table carries far less; VACUUM
                # FULL gives back that size, and ANALYZE the statistics the planner needs.
                c.execute(sa.text(f"VACUUM (FULL, ANALYZE) {table}"))
                # VACUUM FULL writes a new table with an empty visibility map, so every read through an
                # index would also visit the table for each row, as in no running service: autovacuum
                # sets the map again within minutes of a bulk load (PostgreSQL 13 and later vacuum
                # after inserts too). A plain VACUUM sets it now, as autovacuum would.
                c.execute(sa.text(f"VACUUM {table}"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def raw_sql() -> str:
    """The headline and monthly numbers, written by hand: decided referrals and NFA, by month and period.

    Over the same schema as the page: each row's stored month (signpost.store.facts), and the indexes on
    when items were received."""
    nfa = ", ".join(f"'{o}'" for o in NFA_OUTCOMES)
    return f"""
        SELECT month,
               CASE WHEN received_at >= :current_start AND received_at < :current_end THEN 1 ELSE 0 END AS now,
               CASE WHEN received_at >= :baseline_start AND received_at < :baseline_end THEN 1 ELSE 0 END AS base,
               COUNT(*) AS decided, SUM(CASE WHEN outcome IN ({nfa}) THEN 1 ELSE 0 END) AS nfa
        FROM (SELECT created_at AS received_at, month, latest_outcome AS outcome FROM referrals
              WHERE kind = 'referral' AND latest_outcome IS NOT NULL
                AND created_at >= :span_start AND created_at < :span_end
              UNION ALL
              SELECT received_at, month, outcome FROM external_contacts
              WHERE outcome <> 'advice_given' AND received_at >= :span_start AND received_at < :span_end) AS items
        GROUP BY 1, 2, 3 ORDER BY 1"""


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--assessments", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=300_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--sqlite-path", default="", help="keep the SQLite database here (seeded if empty)")
    parser.add_argument("--schema", default="", help="PostgreSQL: use and keep this schema (seeded if empty)")
    args = parser.parse_args()

    schema = None
    if args.database_url:
        schema = args.schema or f"bench_reports_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(schema_url(args.database_url, "public"))
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        url = schema_url(args.database_url, schema)
    else:
        url = f"sqlite:///{args.sqlite_path or tempfile.mkdtemp() + '/reports.db'}"
    app = create_app({"SECRET_KEY": "bench-" + "x" * 40, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1})
    try:
        with app.app_context():
            db.create_all()
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            policy = store.find_user("policy@example.org")
            if policy is None:
                policy = store.create_user("policy@example.org", "Policy", "policy_lead", "x" * 16, actor="bench")
                referrer = store.create_user("referrer@example.org", "Referrer", "referrer", "x" * 16, actor="bench")
                door = store.create_user("door@example.org", "Door", "front_door", "x" * 16, actor="bench")
                started = time.perf_counter()
                seed(args.assessments, args.items, args.contacts, now,
                     {"referrer": referrer.id, "front_door": door.id})
                print(f"seeded {args.assessments:,} assessments, {args.items:,} items and {args.contacts:,} "
                      f"recorded contacts on {db.engine.dialect.name} in {time.perf_counter() - started:.0f} s")

            current = metrics.default_current(now.date(), since=metrics.first_signpost_referral())
            baseline = metrics.default_baseline(current)
            span = metrics.Period(min(current.start, baseline.start), max(current.end, baseline.end))
            params = {"current_start": current.start_at, "current_end": current.end_before,
                      "baseline_start": baseline.start_at, "baseline_end": baseline.end_before,
                      "span_start": span.start_at, "span_end": span.end_before}
            query = sa.text(raw_sql())

            def raw():
                rows = db.session.execute(query, params).all()
                db.session.rollback()
                return rows

            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = policy.get_id()
                session["last_seen"] = session["signed_in_at"] = int(time.time())

            def page():
                response = client.get("/reports/")
                assert response.status_code == 200, response.status_code
                return response.get_data(as_text=True)

            page(), raw()  # warm-up: templates compiled, caches filled, for both alike
            runs = in_turn(lambda: timed(raw), lambda: timed(page), args.runs)
            raw_times, page_times = [r for (r, _rows), _ in runs], [p for _, (p, _html) in runs]
            (_r, rows), (_p, html) = runs[-1]
            raw_s, page_s = statistics.median(raw_times), statistics.median(page_times)
            ratio = statistics.median(p / r for p, r in zip(page_times, raw_times, strict=True))

            decided = sum(r.decided for r in rows if r.now)
            nfa = sum(r.nfa for r in rows if r.now)
            o = metrics.overview(current, baseline, now=now)
            assert (o.nfa_now.k, o.nfa_now.n) == (nfa, decided), "the page and the raw SQL disagree"
            assert f"{decided:,}" in html
            print(f"baseline {baseline.describe()}; this period {current.describe()}: "
                  f"{nfa:,} of {decided:,} decided referrals ended in NFA")
            for number, (r, p) in enumerate(zip(raw_times, page_times), start=1):
                print(f"  run {number}: query {r * 1000:.0f} ms, page {p * 1000:.0f} ms, ratio {p / r:.2f}")
            print(f"raw_sql_ms: {raw_s * 1000:.0f} (median of {args.runs})")
            print(f"reports_page_ms: {page_s * 1000:.0f} (median of {args.runs})")
            print(f"reports_vs_raw_sql: {ratio:.2f}")
    finally:
        if schema and not args.schema:
            with app.app_context():
                db.engine.dispose()
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
