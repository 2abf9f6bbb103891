"""Fictional demo data for `flask demo seed`: one account per role, and some history.

Idempotent. Other parts of the service add their own seeders with @seeder.
"""
from __future__ import annotations

from collections.abc import Callable

from . import store
from .models import User

DEMO_PASSWORD = "northmere-demo-2026"
DEMO_ACCOUNTS = [
    # (email, name, role, organisation): all fictional
    ("referrer@northmere.example", "Riya Patel", "referrer", "Northmere Primary School (designated safeguarding lead)"),
    ("frontdoor@northmere.example", "Sam Okafor", "front_door", "Northmere Children's Front Door"),
    ("policy@northmere.example", "Jo Whitfield", "policy_lead", "Northmere Safeguarding Children Partnership"),
    ("admin@northmere.example", "Alex Morgan", "admin", "Northmere Council digital team"),
    # A second referrer from health, and a disabled account, so lists have some history.
    ("healthvisitor@northmere.example", "Chris Lee", "referrer", "Northmere Health Visiting Service"),
    ("former.teacher@northmere.example", "Pat Green", "referrer", "Northmere High School"),
    # A second front door worker, so the queue shows work allocated to someone else.
    ("kit.ellison@northmere.example", "Kit Ellison", "front_door", "Northmere Children's Front Door"),
]
DISABLED = {"former.teacher@northmere.example"}

SEEDERS: list[Callable[[Callable[[str], None]], None]] = []


def seeder(function: Callable[[Callable[[str], None]], None]):
    """Register a seeder: called with an `echo` function, after the accounts exist; must be idempotent."""
    SEEDERS.append(function)
    return function


def demo_user(role: str) -> User:
    """The demo account for a role (after seeding)."""
    email = next(e for e, _n, r, _o in DEMO_ACCOUNTS if r == role)
    user = store.find_user(email)
    if user is None:
        raise LookupError(f"no demo {role}: run `flask demo seed`")
    return user


@seeder
def seed_accounts(echo: Callable[[str], None]) -> None:
    admin = None
    for email, name, role, organisation in DEMO_ACCOUNTS:
        user = store.find_user(email)
        if user is None:
            user = store.create_user(email, name, role, DEMO_PASSWORD, organisation, actor=admin or "demo seed")
            echo(f"  added {email} ({role})")
            if email in DISABLED:
                store.update_user(user, active=False, actor=admin or "demo seed")
        if role == "admin" and admin is None:
            admin = user


def seed(echo: Callable[[str], None] = print) -> None:
    for function in SEEDERS:
        function(echo)


FIRST_NAMES = ["Alfie", "Bea", "Callum", "Daisy", "Ellis", "Freya", "Idris", "Jade", "Kai", "Lola",
               "Milo", "Nia", "Oscar", "Poppy", "Reuben", "Sana", "Theo", "Una", "Wren", "Zac"]
LAST_NAMES = ["Ashdown", "Brackley", "Cobbold", "Dunmere", "Elstow", "Fenwick", "Garside", "Holloway"]
OUTCOMES_BY_ROUTE = {
    # What the fictional front door decided, weighted like a council with too many NFAs.
    "social_care": [("assessment_s17", "Child and family assessment started."),
                    ("strategy_s47", "Strategy discussion held the same day."),
                    ("early_help", "Passed to the Family Help Hub."),
                    ("nfa_advice", "No further action; advice given to the referrer.")],
    "lower": [("nfa", "No further action: needs can be met by universal services."),
              ("nfa_advice", "No further action; signposted to the family hub."),
              ("early_help", "Passed to early help with the family's consent.")],
}


@seeder
def seed_history(echo: Callable[[str], None]) -> None:
    """About 60 finished journeys over the last year, some referred, most with a decision."""
    import datetime as dt
    import random

    from flask import current_app
    from sqlalchemy import func, select

    from . import journey
    from .content import current_directory, current_library
    from .engine import assess
    from .extensions import db
    from .models import Assessment, utcnow
    from .workdays import uk_local

    if db.session.scalar(select(func.count()).select_from(Assessment)):
        return
    library = current_library()
    if not library.versions:
        echo("  no valid threshold version: demo history skipped")
        return
    rng = random.Random(2026)
    referrers = [demo_user("referrer"), store.find_user("healthvisitor@northmere.example")]
    front_door = demo_user("front_door")
    now = utcnow()
    made = referred = 0
    for n in range(60):
        at = now - dt.timedelta(days=rng.randint(1, 360), hours=rng.randint(0, 8))
        day = uk_local(at).date()
        version = library.in_force(day)
        months = rng.randint(0, 215)
        about = rng.choice([("dsl", "school"), ("health_visitor", "health_visiting"),
                            ("school_nurse", "school_nursing"), ("gp", "gp")])
        consent = rng.choices(["given", "refused", "not_asked"], weights=[7, 1, 2])[0]
        answers = journey.JourneyAnswers(
            in_danger="no", about_you=journey.AboutYou(role=about[0], organisation=about[1]),
            child=journey.Child(unborn=False, years=months // 12, months=months % 12),
            what_happened="(demo) What the referrer saw and was told.",
            voice=journey.Voice(seen="yes", says="(demo) The child talked about home.", wants="(demo) To feel safe."),
            family=journey.Family(working_well="(demo) Attends regularly."),
            consent=journey.Consent(aware="yes", consent=consent))
        answers = journey.with_concerns(version, answers, journey.random_concerns(version, months, False, rng, 0.02))
        answers = answers.but(consent=answers.consent.model_copy(update={"asked_of": journey.asks_consent_of(version, answers)}))
        engine_answers = journey.engine_answers(version, answers)
        rec = assess(engine_answers, version, day, current_directory())
        # Some referrers refer anyway: the overrides the partnership wants to see.
        refer = rec.route == "social_care" or rng.random() < 0.25
        details = decision = None
        if refer:
            details = {"first_name": rng.choice(FIRST_NAMES), "last_name": rng.choice(LAST_NAMES),
                       "address": f"{rng.randint(1, 90)} Demo Street, Northmere", "postcode": "NM1 4AB",
                       "parents": "(demo) Parent's name and 01632 960 5xx", "interpreter": "no",
                       "referrer_phone": "01632 960 700", "answers": answers.dump()}
            if rng.random() < 0.85:
                pool = OUTCOMES_BY_ROUTE["social_care" if rec.route == "social_care" else "lower"]
                decision = rng.choice(pool)
        store.record_demo_journey(
            rng.choice(referrers), answers.dump(), rec, at=at, referral_details=details, decision=decision,
            decided_by=front_door, reference_prefix=current_app.config.get("REFERENCE_PREFIX", "NM"),
            assessment_fields={"source_code": journey.source_code(answers),
                               "referrer_role": answers.about_you.role,
                               "age_band": journey.age_band(answers), "unborn": False,
                               "shown": journey.shown(rec), "answers_key": journey.answers_key(version, answers),
                               "indicator_ids": sorted(engine_answers.indicators), "consent": consent,
                               "in_danger": False})
        made += 1
        referred += bool(refer)
    echo(f"  added {made} demo assessments ({referred} referred to the front door)")


# (kind, urgency, hours ago, allocated to: None / "me" / "colleague", level of the concerns)
DEMO_QUEUE = [
    ("referral", "emergency", 2, "me", 4),
    ("referral", "same_day", 0.5, None, 4),
    ("referral", "same_day", 5, "colleague", 4),
    ("referral", "standard", 1, None, 3),
    ("referral", "standard", 20, None, 3),
    ("referral", "standard", 30, "colleague", 2),   # the referrer overrode an early-help recommendation
    ("referral", "standard", 80, None, 3),          # overdue
    ("referral", "standard", 150, "me", 4),         # overdue
    ("early_help_request", "standard", 3, None, 2),
    ("early_help_request", "standard", 100, None, 2),  # overdue
    ("consultation", "standard", 4, None, 2),
    ("consultation", "same_day", 1.5, "me", 3),
]


@seeder
def seed_front_door_queue(echo: Callable[[str], None]) -> None:
    """A realistic queue for the front door: every urgency and kind, some overdue, some allocated,
    and one re-referral of a child whose first referral ended in no further action."""
    import datetime as dt
    import random

    from flask import current_app
    from sqlalchemy import select

    from .content import current_directory, current_library
    from .engine import Answers, assess
    from .extensions import db
    from .models import AuditEvent, utcnow
    from .journey import shown
    from .store import frontdoor as fd_store
    from .values import age_band_for
    from .workdays import uk_local

    if db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "demo_item_seeded").limit(1)):
        return
    library = current_library()
    if not library.versions:
        return
    rng = random.Random(909)
    me, colleague = demo_user("front_door"), store.find_user("kit.ellison@northmere.example")
    if not me.manager:
        fd_store.set_manager(me, True, actor=demo_user("admin"))
    referrers = [demo_user("referrer"), store.find_user("healthvisitor@northmere.example")]
    prefix = current_app.config.get("REFERENCE_PREFIX", "NM")
    now = utcnow()

    def fits(ind, months):
        return (ind.min_age_months or 0) <= months <= (ind.max_age_months if ind.max_age_months is not None else 215)

    def concerns_of(version):
        return [i for i in version.document.indicators if not i.lado and i.applies_to != "unborn"
                and not i.asks_for and any(fits(i, m) for m in range(14, 191))]

    def item(kind, urgency, at, level, who=None, person=None, decision=None):
        # Assessed with the version in force on the item's own day, as a real referral made then was:
        # an item from months ago under today's version would be counted under it in the reports.
        # The deciding concern has this urgency and level (or this urgency, if the file has none at
        # that level); the child's age fits it; up to two milder, standard concerns go with it.
        day = uk_local(at).date()
        version = library.in_force(day)
        born_concerns = concerns_of(version)
        lead = rng.choice([i for i in born_concerns if i.urgency == urgency and i.level == level]
                          or [i for i in born_concerns if i.urgency == urgency])
        months = rng.choice([m for m in range(14, 191) if fits(lead, m)])
        milder = [i for i in born_concerns if i.urgency == "standard" and i.level < lead.level and fits(i, months)]
        chosen = {lead.id} | {i.id for i in rng.sample(milder, min(2, len(milder)))}
        consent = "refused" if kind == "consultation" and urgency == "standard" else rng.choice(["given", "given", "not_asked"])
        rec = assess(Answers.of(chosen, age_months=months, consent=consent), version, day, current_directory())
        referrer = rng.choice(referrers)
        answers = {"what_happened": rng.choice(DEMO_ACCOUNTS_OF_WHAT_HAPPENED),
                   "voice": {"seen": "yes", "says": "(demo) I don't want to go home tonight.",
                             "wants": "(demo) For mum to stop shouting."},
                   "family": {"working_well": "(demo) Attends school every day.", "tried": "(demo) Pastoral support.",
                              "tried_by": "(demo) School"},
                   "consent": {"aware": "yes", "consent": consent,
                               "reason": "(demo) Mum says the family can manage." if consent == "refused" else ""},
                   "child": {"unborn": False, "years": months // 12, "months": months % 12}}
        first, last = person or (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        born = (at - dt.timedelta(days=months * 30 + 10)).date().isoformat()
        details = ({"question": "(demo) Consent is refused: should I still refer? The child is not at risk today.",
                    "referrer_phone": "01632 960 711", "answers": answers} if kind == "consultation" else
                   {"first_name": first, "last_name": last, "date_of_birth": born if not person else "2015-03-14",
                    "address": f"{rng.randint(1, 90)} Demo Street, Northmere", "postcode": "NM1 4AB",
                    "parents": "(demo) A parent, 01632 960 5xx", "interpreter": "no",
                    "referrer_phone": "01632 960 700", "answers": answers})
        return fd_store.seed_demo_item(
            referrer, rec, kind=kind, at=at, reference_prefix=prefix, details=details,
            allocated_to={"me": me, "colleague": colleague}.get(who), decision=decision,
            assessment_fields={"source_code": "2A" if referrer.email.startswith("referrer") else "3B",
                               "referrer_role": "dsl", "age_band": age_band_for(months), "unborn": False,
                               "indicator_ids": sorted(chosen), "consent": consent, "in_danger": False,
                               "shown": shown(rec)})

    for kind, urgency, hours, who, level in DEMO_QUEUE:
        item(kind, urgency, now - dt.timedelta(hours=hours), level, who)
    # The same child twice: first ended in NFA four months ago, now referred again.
    twice = ("Jade", "Holloway")
    item("referral", "standard", now - dt.timedelta(days=120), 2, person=twice,
         decision=("nfa", "No further action: school to keep monitoring.", me))
    item("referral", "standard", now - dt.timedelta(hours=6), 3, None, person=twice)
    echo(f"  added {len(DEMO_QUEUE) + 2} front door queue items (some overdue, some allocated, one re-referral)")


DEMO_ACCOUNTS_OF_WHAT_HAPPENED = [
    "(demo) Came to school with a bruise on the arm and said dad grabbed them.",
    "(demo) Has been hungry most mornings this term and their uniform is not washed.",
    "(demo) Told a teaching assistant that an older boy gives them money to carry parcels.",
    "(demo) Mum disclosed that her partner hit her last weekend; the children were at home.",
    "(demo) Missed 30% of sessions this term; no one answers the phone at home.",
]


@seeder
def seed_report_history(echo: Callable[[str], None]) -> None:
    """Two years of fictional front-door history, so the reports have something to show (once)."""
    from .demo_history import seed_history
    seed_history(24, echo)
