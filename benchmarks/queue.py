"""How fast the front door's queue and item pages answer with hundreds of thousands of items.

Seeds ITEMS items (default 200,000: referrals, early-help requests and consultations over three
years, 99% decided, about 60,000 distinct children so re-referrals are common), then renders,
through the whole Flask stack (test client, signed in as a front door worker), the queue's first
page, a filtered page and an item page, and prints each one's median time; last, the slowest of
the three medians as `queue_page_ms: N` (goal: under 150).
Run: .venv/bin/python benchmarks/queue.py [--items N] [--database-url postgresql://...]
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

# This file is named queue.py, like the standard library's queue (which psycopg imports): run as a
# script, its folder comes first on sys.path, so put the project's root there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import sqlalchemy as sa  # noqa: E402

from signpost import create_app, store  # noqa: E402
from signpost.content import current_version  # noqa: E402
from signpost.extensions import db  # noqa: E402
from signpost.models import Assessment, Decision, Referral, child_key, urgency_priority, utcnow  # noqa: E402
from signpost.values import ITEM_KINDS, OUTCOMES, URGENCIES  # noqa: E402

FIRST = ["Alfie", "Bea", "Callum", "Daisy", "Ellis", "Freya", "Idris", "Jade", "Kai", "Lola", "Milo", "Nia",
         "Oscar", "Poppy", "Reuben", "Sana", "Theo", "Una", "Wren", "Zac"]
LAST = ["Ashdown", "Brackley", "Cobbold", "Dunmere", "Elstow", "Fenwick", "Garside", "Holloway", "Ingham",
        "Jessop", "Kershaw", "Lomax", "Maddox", "Nuttall", "Ormerod", "Pickles"]
SOURCES = ["2A", "2A", "2A", "6", "6", "6", "3A", "3B", "3C", "3E", "8"]
BATCH = 5000


def seed(items: int, users: dict, version) -> str:
    """Bulk rows through SQLAlchemy Core (the ORM's per-row work would take minutes); returns an item to open."""
    rng = random.Random(9)
    now = utcnow()
    children = [(rng.choice(FIRST), rng.choice(LAST), dt.date(2008, 1, 1) + dt.timedelta(days=rng.randint(0, 6000)))
                for _ in range(max(items * 3 // 10, 1))]
    indicators = sorted(version.indicators)
    referrer, worker = users["referrer"].id, users["front_door"].id
    target = None
    for start in range(0, items, BATCH):
        assessments, referrals, decisions = [], [], []
        for n in range(start, min(start + BATCH, items)):
            item_id = n + 1
            received = now - dt.timedelta(minutes=rng.randint(1, 3 * 365 * 24 * 60))
            awaiting = rng.random() < 0.01
            if awaiting:
                received = now - dt.timedelta(minutes=rng.randint(1, 5 * 24 * 60))
            kind = rng.choices(ITEM_KINDS, weights=[80, 12, 8])[0]
            urgency = rng.choices(URGENCIES, weights=[85, 12, 3])[0]
            route = rng.choices(("universal", "early_help", "social_care"), weights=[15, 35, 50])[0]
            first, last, born = rng.choice(children)
            details = ({"question": "(bench) advice?", "referrer_phone": "01632 960 000"} if kind == "consultation"
                       else {"first_name": first, "last_name": last, "date_of_birth": born.isoformat(),
                             "address": "1 Bench Street", "postcode": "NM1 1AA", "parents": "(bench)",
                             "referrer_phone": "01632 960 000",
                             "answers": {"what_happened": "(bench) something happened",
                                         "voice": {"seen": "yes", "says": "(bench)", "wants": "(bench)"}}})
            chosen = rng.sample(indicators, 3)
            assessments.append(dict(
                id=item_id, user_id=referrer, started_at=received, completed_at=received, source_code=rng.choice(SOURCES),
                referrer_role="dsl", age_band="5 to 9", unborn=False, indicator_ids=chosen, consent="given",
                in_danger=False, immediate=urgency == "emergency", recommended_route=route, recommended_level=3,
                reason_ids=chosen[:1], urgency=urgency, lado=False, route_taken="social_care",
                overridden=route != "social_care", threshold_id=version.id, threshold_hash=version.content_hash))
            outcome = decided = None
            if not awaiting:
                outcome = rng.choice([o for o in OUTCOMES if (o == "advice_given") == (kind == "consultation")])
                decided = received + dt.timedelta(hours=rng.randint(1, 40))
                decisions.append(dict(referral_id=item_id, sequence=1, outcome=outcome, decided_on=decided.date(),
                                      decided_at=decided, decided_by=worker, note="(bench) decided",
                                      created_at=decided, referral_advised=(kind == "consultation") or None))
            referrals.append(dict(
                id=item_id, reference=f"NM-B-{item_id:07d}", kind=kind, assessment_id=item_id, user_id=referrer,
                created_at=received, details=details, consent="given",
                allocated_to_id=worker if awaiting and rng.random() < 0.4 else None,
                latest_outcome=outcome, latest_decided_at=decided, child_key=child_key(details),
                urgency_priority=urgency_priority(urgency)))
            if awaiting and kind == "referral" and target is None:
                target = f"NM-B-{item_id:07d}"
        with db.engine.begin() as conn:
            conn.execute(sa.insert(Assessment.__table__), assessments)
            conn.execute(sa.insert(Referral.__table__), referrals)
            if decisions:
                conn.execute(sa.insert(Decision.__table__), decisions)
        print(f"  seeded {min(start + BATCH, items):,} items", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    with db.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))  # the planner's statistics, as a live database keeps them
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL (a fresh schema is made and dropped)")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    schema = None
    if args.database_url:
        raw = args.database_url
        if raw.startswith(("postgresql://", "postgres://")):
            raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
        url = sa.engine.make_url(raw)
        schema = f"signpost_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        database = url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    else:
        database = f"sqlite:///{tempfile.mkdtemp()}/queue.db"
    app = create_app({"SECRET_KEY": "bench-" + "x" * 40, "SQLALCHEMY_DATABASE_URI": database,
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
                      "SQLALCHEMY_ENGINE_OPTIONS": {}})
    try:
        with app.app_context():
            db.create_all()
            users = {role: store.create_user(f"{role}@bench.example", role, role, "x" * 16, actor="bench")
                     for role in ("referrer", "front_door")}
            started = time.perf_counter()
            target = seed(args.items, users, current_version())
            print(f"seeded {args.items:,} items in {time.perf_counter() - started:.0f} s on {db.engine.dialect.name}")
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = users["front_door"].get_id()
                session["last_seen"] = session["signed_in_at"] = int(time.time())
            pages = {"queue first page": "/front-door/",
                     "filtered page": "/front-door/?status=decided&urgency=same_day&source=6&route=social_care",
                     "item page": f"/front-door/items/{target}"}
            medians = {}
            for name, path in pages.items():
                for _ in range(3):  # warm-up: templates compiled, caches filled
                    assert client.get(path).status_code == 200, path
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                medians[name] = statistics.median(times)
                print(f"{name}: median {medians[name]:.1f} ms, p95 "
                      f"{statistics.quantiles(times, n=20)[-1]:.1f} ms ({path})")
            print(f"queue_page_ms: {max(medians.values()):.0f}")
            db.session.remove()
            db.engine.dispose()
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
