"""Simulating a draft over 1,000,000 stored assessments, against only reading the same rows.

Seeds fictional assessments (a fifth of them referred and decided) in a fresh database,
then times signpost.simulate (SQL groups by answers; the engine runs once per distinct
answer set) and, as the floor, fetching the same columns of the same rows. Prints both
rates, then last `simulate_vs_read: R` (goal: R <= 3).

    python benchmarks/simulate.py [--rows N] [--database-url postgresql://root@127.0.0.1/test]
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on sys.path, where benchmarks/queue.py would hide the
# standard library's queue (psycopg needs it): put the project's root there instead.
sys.path[0] = str(ROOT)

import sqlalchemy as sa  # noqa: E402

from signpost import create_app  # noqa: E402
from signpost.engine import AnswerError, Answers, applies_to_age, assess  # noqa: E402
from signpost.extensions import db  # noqa: E402
from signpost.models import Assessment, Decision, Referral, User  # noqa: E402

CHUNK = 20_000
BANDS = ((0, 11, "under 1"), (12, 59, "1 to 4"), (60, 119, "5 to 9"), (120, 191, "10 to 15"), (192, 215, "16 to 17"))
OUTCOMES = ("nfa", "nfa_advice", "early_help", "assessment_s17", "strategy_s47", "already_open")


def band_of(months: int) -> str:
    return next(name for low, high, name in BANDS if low <= months <= high)


def database(url: str | None, folder: Path) -> tuple[str, callable]:
    """(SQLAlchemy URL, cleanup): a new SQLite file, or a new schema on the PostgreSQL given."""
    if not url:
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    schema = f"bench_simulate_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(parsed)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False), drop


def answer_pool(version, rng: random.Random, size: int) -> list[tuple]:
    """Distinct-ish answer sets as referrers give them: one to three concerns, mostly low levels."""
    indicators = [i for i in version.document.indicators if not i.asks_for or rng.random() < 0.5]
    pool = []
    while len(pool) < size:
        months = rng.randrange(0, 216)
        fits = [i for i in indicators if applies_to_age(i, months, False)]
        chosen = {i.id: i for i in rng.sample(fits, rng.choice((1, 1, 2, 2, 3)))}
        questions = {}
        for ind in chosen.values():
            if ind.asks_for:
                questions.setdefault(ind.asks_for, ind.id)
        ids = sorted(i for i, ind in chosen.items() if not ind.asks_for or questions[ind.asks_for] == i)
        consent = rng.choice(("given", "given", "given", "refused", "not_asked"))
        try:
            rec = assess(Answers.of(ids, age_months=months, consent=consent), version, dt.date.today())
        except AnswerError:
            continue
        pool.append((ids, months, consent, rec))
    return pool


def seed(rows: int, version, rng: random.Random) -> None:
    user = User(email="bench@example.org", name="Bench", role="referrer", password_hash="x")
    decider = User(email="bench-fd@example.org", name="Bench FD", role="front_door", password_hash="x")
    db.session.add_all([user, decider])
    db.session.commit()
    pool = answer_pool(version, rng, 4000)
    weights = [1 / (rank + 1) for rank in range(len(pool))]  # a few common answer sets, a long tail
    now = dt.datetime.now().replace(microsecond=0)
    assessments, referrals, decisions = Assessment.__table__, Referral.__table__, Decision.__table__
    conn = db.session.connection()
    next_id = 1
    for start in range(0, rows, CHUNK):
        batch, refs, decs = [], [], []
        for ids, months, consent, rec in rng.choices(pool, weights, k=min(CHUNK, rows - start)):
            at = now - dt.timedelta(minutes=rng.randrange(0, 360 * 24 * 60))
            batch.append({"id": next_id, "user_id": user.id, "started_at": at, "completed_at": at,
                          "source_code": "2A", "age_band": band_of(months), "age_months": months,
                          "unborn": False, "indicator_ids": ids, "consent": consent, "in_danger": False,
                          "immediate": rec.immediate, "recommended_route": rec.route,
                          "recommended_level": rec.level, "reason_ids": rec.reason_ids,
                          "route_taken": rec.route, "overridden": False, "threshold_id": rec.version_id,
                          "threshold_hash": rec.version_hash})
            if rng.random() < 0.2:
                outcome = rng.choice(OUTCOMES)  # the referral keeps its latest outcome, as the store does
                refs.append({"id": next_id, "reference": f"B-{next_id}", "assessment_id": next_id,
                             "user_id": user.id, "created_at": at, "details": {}, "urgency_priority": 2,
                             "latest_outcome": outcome, "latest_decided_at": at})
                decs.append({"referral_id": next_id, "outcome": outcome, "decided_on": at.date(),
                             "decided_by": decider.id, "note": "", "created_at": at, "decided_at": at,
                             "sequence": 1})
            next_id += 1
        conn.execute(assessments.insert(), batch)
        if refs:
            conn.execute(referrals.insert(), refs)
            conn.execute(decisions.insert(), decs)
        db.session.commit()
        conn = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def read_floor(start: dt.date, end: dt.date) -> int:
    """Fetch the same columns of the same rows the simulation reads, doing nothing with them."""
    from signpost.simulate import _period
    conn = db.session.connection()
    count = 0
    cols = (Assessment.indicator_ids, Assessment.age_months, Assessment.age_band, Assessment.unborn,
            Assessment.consent, Assessment.in_danger, Assessment.recommended_route)
    for _row in conn.execute(sa.select(*cols).where(_period(Assessment.completed_at, start, end))):
        count += 1
    query = (sa.select(*cols, Referral.latest_outcome).select_from(Assessment)
             .join(Referral, Referral.assessment_id == Assessment.id)
             .where(_period(Referral.created_at, start, end), Referral.latest_outcome.is_not(None),
                    Referral.kind == "referral"))  # the rows simulate reads
    for _row in conn.execute(query):
        count += 1
    db.session.rollback()
    return count


def draft_of(version):
    """The version in force with one common concern moved down a level: a realistic draft."""
    from signpost import policy
    data = policy.load_data(Path(version.path).read_text(encoding="utf-8"))
    data["id"] = "bench-draft"
    movable = next(i for i in version.document.indicators if i.level == 3 and not i.asks_for)
    policy.edit_indicator(data, movable.id, {"level": 2})
    draft, problems = policy.check(policy.dump(data))
    assert draft is not None and not problems, problems
    return draft


def best_of(runs: int, work) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(runs):
        began = time.perf_counter()
        value = work()
        best = min(best, time.perf_counter() - began)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL to use (a new schema); default SQLite")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="signpost-bench-"))
    url, cleanup = database(args.database_url, folder)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "b" * 48, "RATELIMIT_ENABLED": False})
    try:
        with app.app_context():
            from signpost.content import current_version
            from signpost.simulate import simulate
            db.create_all()
            version = current_version()
            began = time.perf_counter()
            seed(args.rows, version, random.Random(11))
            print(f"seeded {args.rows} assessments on {db.engine.dialect.name} in {time.perf_counter() - began:.1f} s")
            draft = draft_of(version)
            end = dt.date.today()
            start = end - dt.timedelta(days=365)
            read_s, read_rows = best_of(args.runs, lambda: read_floor(start, end))

            def run():
                result = simulate(db.session.connection(), draft, start, end, on_date=end)
                db.session.rollback()
                return result
            sim_s, result = best_of(args.runs, run)
            print(f"read: {read_rows} rows in {read_s:.3f} s ({read_rows / read_s:,.0f} rows/s)")
            print(f"simulate: {result.total} assessments ({result.decided} decided, {result.changed} changed, "
                  f"{result.distinct} distinct answer sets) in {sim_s:.3f} s "
                  f"({result.total / sim_s:,.0f} assessments/s)")
            print(f"simulate_vs_read: {sim_s / read_s:.2f}")
            db.session.remove()
            db.engine.dispose()
    finally:
        cleanup()


if __name__ == "__main__":
    main()
