"""The record is the truth: revisions, one draft per form, no lost writes, double clicks.

Every test runs on SQLite and, with SIGNPOST_TEST_DATABASE_URL set, on PostgreSQL.
"""
from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import func, select

from signpost import journey
from signpost.content import current_directory
from signpost.engine import assess
from signpost.extensions import db
from signpost.models import Assessment, AuditEvent, Draft, Referral
from signpost.store import drafts as drafts_store

from conftest import sign_in_as
from test_journey_web import ROUTE_RE, Walker, level_items, referral_details, version, walker  # noqa: F401


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_page_never_disagrees_with_the_record(walker):
    """The issue's path: a recommendation recorded, an answer changed, the page opened directly."""
    walker.concerns([], location=walker.to_concerns())
    walker.finish_questions()
    first = db.session.scalar(select(Assessment))
    assert (first.recommended_route, first.recommended_level, first.revision) == ("universal", 1, 1)
    serious = level_items(4)[0]
    walker.answer("/refer/serious?change=1", {"concerns": [serious]}, "/refer/check")
    # Not recorded for these answers: the page, the summary and every action go back to check.
    assert walker.client.get("/refer/recommendation").location == "/refer/check"
    assert walker.client.get("/refer/summary").location == "/refer/check"
    assert walker.post("/refer/finish").location == "/refer/check"
    assert walker.client.get("/refer/disagree").location == "/refer/check"
    db.session.expire_all()
    assert first.route_taken is None and db.session.get(Draft, walker.draft_id).submitted_at is None
    walker.answer("/refer/check", {}, "/refer/recommendation")
    route, level = ROUTE_RE.search(walker.client.get("/refer/recommendation").text).groups()
    assert (route, level) == ("social_care", "4")
    db.session.expire_all()
    old, new = db.session.scalars(select(Assessment).order_by(Assessment.revision)).all()
    assert (old.recommended_route, old.recommended_level) == ("universal", 1)  # never changed in place
    assert (new.revision, new.replaces_id, new.recommended_route) == (2, old.id, "social_care")
    assert new.shown["reasons"][0]["id"] == serious and new.directory_hash == current_directory().content_hash
    assert [s["id"] for s in old.shown["services"]], "the services shown are stored with the revision"


def test_the_page_renders_the_stored_revision_not_a_fresh_assessment(walker):
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.finish_questions()
    revision = db.session.scalar(select(Assessment))
    revision.shown = {**revision.shown, "next_steps": ["A step only the record holds"]}
    db.session.commit()
    assert "A step only the record holds" in walker.client.get("/refer/recommendation").text
    assert "A step only the record holds" in walker.client.get("/refer/summary").text


def test_random_answers_and_changes_page_equals_the_stored_revision(app, users):
    rng = random.Random(8)
    v = version()
    for n in range(12):
        client = app.test_client()
        sign_in_as(client, users["referrer"])
        walker = Walker(client)
        months = rng.randint(0, 215)
        location = walker.to_concerns(years=months // 12, months=months % 12)

        def pick():
            return journey.random_concerns(v, months, False, rng, 0.04)

        walker.concerns(pick(), location=location)
        consent = rng.choice(["given", "refused", "not_asked"])
        walker.finish_questions(consent=consent)
        for change in range(2):
            target = journey.with_concerns(v, walker.answers(), pick())
            walker.answer("/refer/serious?change=1", {"concerns": list(target.serious.ticked) or ["none"]})
            walker.client.get("/refer/check")
            location = walker.answer("/refer/areas?change=1", {"concerns": list(target.areas.ticked) or ["none"]})
            if location.startswith("/refer/concerns"):
                data = {"concerns": list(target.concerns.ticked) or ["none"],
                        **{f"severity_{q}": i for q, i in target.severity.items()}}
                walker.answer(location, data)
            if walker.client.get("/refer/check").location == "/refer/family":
                walker.family(consent)  # a concern the family must not hear of: its warning, then the answer
            walker.answer("/refer/check", {}, "/refer/recommendation")
            page = walker.client.get("/refer/recommendation").text
            db.session.expire_all()
            draft = db.session.get(Draft, walker.draft_id)
            stored = draft.assessment
            route, level = ROUTE_RE.search(page).groups()
            assert (route, int(level)) == (stored.recommended_route, stored.recommended_level), n
            fresh = assess(journey.engine_answers(v, walker.answers()), v, stored.completed_at.date(),
                           current_directory())
            assert (fresh.route, fresh.level, fresh.reason_ids) == (
                stored.recommended_route, stored.recommended_level, stored.reason_ids), n
            revisions = draft.revisions
            assert [r.revision for r in revisions] == list(range(1, len(revisions) + 1))
            assert all(later.replaces_id == earlier.id for earlier, later in zip(revisions, revisions[1:]))


def test_two_tabs_keep_each_childs_answers_with_that_child(walker):
    walker.to_concerns(years=9)
    first = walker.draft_id
    second_tab = Walker(walker.client)
    second_tab.to_concerns(years=15)  # the session now opens the second draft
    second = second_tab.draft_id
    assert first != second
    concern = level_items(4)[0]
    walker.answer("/refer/serious", {"concerns": [concern]})  # the first tab's form, sent last
    second_tab.answer("/refer/serious", {"concerns": ["none"]})
    db.session.expire_all()
    answers = {d.id: journey.JourneyAnswers.load(d.answers) for d in db.session.scalars(select(Draft))}
    assert answers[first].serious.ticked == (concern,) and answers[first].child.years == 9
    assert answers[second].serious.ticked == () and answers[second].child.years == 15


def test_a_referral_sent_from_an_older_tab_goes_with_its_own_child(walker):
    walker.concerns([level_items(4)[0]], location=walker.to_concerns(years=9, months=3))
    walker.finish_questions()
    assert walker.client.get("/refer/referral").status_code == 200
    first = walker.draft_id
    other_tab = Walker(walker.client)
    other_tab.concerns([], location=other_tab.to_concerns(years=4))  # a second child, started later
    assert walker.send(referral_details()) == "/refer/confirmation"
    made = db.session.scalar(select(Referral))
    assert made.draft_id == first and made.details["first_name"] == "Ada"
    assert made.assessment.draft_id == first and made.assessment.age_band == "5 to 9"
    other = db.session.get(Draft, other_tab.draft_id)
    assert other.submitted_at is None and other.assessment is None


def test_a_post_for_another_users_draft_changes_nothing(app, users, walker):
    walker.to_concerns()
    from signpost import store
    intruder = store.create_user("nosy@example.org", "Nosy", "referrer", "x" * 16, actor="test")
    client = app.test_client()
    sign_in_as(client, intruder)
    other = Walker(client)
    other.draft_id = walker.draft_id
    assert other.post("/refer/serious", {"concerns": ["none"]}).status_code == 404
    db.session.expire_all()
    assert "serious" not in db.session.get(Draft, walker.draft_id).answers


def second_client(app, users, walker) -> Walker:
    """Another browser of the same referrer, on the same draft."""
    client = app.test_client()
    sign_in_as(client, users["referrer"])
    tab = Walker(client)
    tab.draft_id = walker.draft_id
    return tab


def run_together(*calls):
    """Start the calls at the same moment, each in its own thread; their results (or the
    exception a call raised, so that a failure shows in the assertion), in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001  (the test asserts on it)
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def wrap(monkeypatch, module, name, before=None, after=None):
    """Replace module.name with a call to it between before(*args, **kwargs) and after(...):
    where a test holds a request so that a race happens in one order, every time."""
    original = getattr(module, name)

    def wrapped(*args, **kwargs):
        if before is not None:
            before(*args, **kwargs)
        try:
            return original(*args, **kwargs)
        finally:
            if after is not None:
                after(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)


class InTurn:
    """Two requests held once both have read what they act on, then let write one after the
    other, `first` first: the race forced in one order, every time (use with wrap)."""

    def __init__(self, first: str):
        self.first, self.both_read, self.first_done = first, threading.Barrier(2, timeout=30), threading.Event()

    def before(self, name: str) -> None:
        self.both_read.wait()
        if name != self.first:
            assert self.first_done.wait(30), f"{self.first} never wrote"

    def after(self, name: str) -> None:
        if name == self.first:
            self.first_done.set()


def test_two_pages_saved_at_the_same_moment_keep_both_answers(app, users, walker):
    walker.concerns([], location=walker.to_concerns())
    walker.finish_questions()
    tab = second_client(app, users, walker)
    for attempt in range(10):
        words, working = f"Said on attempt {attempt}", f"Working on attempt {attempt}"
        responses = run_together(
            lambda: walker.post("/refer/what-happened?change=1",
                                {"what_happened": words, "seen": "no", "not_seen_reason": "Off sick"}),
            lambda: tab.post("/refer/family?change=1",
                             {"working_well": working, "aware": "yes", "consent": "given",
                              "warned": ""}))  # no concern to warn about
        assert [r.status_code for r in responses] == [302, 302]
        db.session.expire_all()
        saved = journey.JourneyAnswers.load(db.session.get(Draft, walker.draft_id).answers)
        assert (saved.what_happened, saved.family.working_well) == (words, working), attempt


def test_a_double_click_on_check_your_answers_records_one_revision(app, users, walker):
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.finish_questions()
    first = db.session.scalar(select(Assessment))
    walker.answer("/refer/family?change=1", {"working_well": "More now", "aware": "yes", "consent": "refused",
                                             "reason": "They said no"}, "/refer/check")
    tab = second_client(app, users, walker)
    for _ in range(3):
        responses = run_together(lambda: walker.post("/refer/check"), lambda: tab.post("/refer/check"))
        assert [r.status_code for r in responses] == [302, 302]
        assert {r.location for r in responses} == {"/refer/recommendation"}
    db.session.expire_all()
    assert count(Assessment) == 2
    second = db.session.scalar(select(Assessment).where(Assessment.id != first.id))
    assert second.replaces_id == first.id and second.consent == "refused"
    recorded = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("assessment_%"))).all()
    assert sorted(recorded) == ["assessment_recorded", "assessment_revised"]


def test_a_double_click_on_finish_is_one_click(walker):
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.finish_questions()
    first, second = walker.post("/refer/finish"), walker.post("/refer/finish")
    assert first.location == second.location == "/refer/summary"
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "route_chosen")).all()
    assert len(events) == 1


@pytest.mark.parametrize("first", ["check", "danger"])
def test_two_tabs_recording_different_answers_at_once_record_both_in_order(app, users, walker, monkeypatch, first):
    """Tab A continues from Check your answers while tab B says the child is in danger now
    (recorded at once). Both read revision 1 before either writes; both must be recorded,
    as revisions 2 and 3, each for the answers it was made from: never a server error."""
    walker.concerns([level_items(2)[0]], location=walker.to_concerns())
    walker.finish_questions()  # revision 1
    walker.answer("/refer/family?change=1", {"working_well": "More now", "aware": "yes", "consent": "refused",
                                             "reason": "They said no"}, "/refer/check")
    tab = second_client(app, users, walker)
    turn = InTurn(first)

    def read_then_wait(draft, *args, page=None, **kwargs):
        assert draft.assessment.revision == 1  # each tab has read the latest revision
        turn.before(page or "check")

    wrap(monkeypatch, drafts_store, "record_revision", before=read_then_wait,
         after=lambda *a, page=None, **k: turn.after(page or "check"))
    responses = run_together(lambda: walker.post("/refer/check"),
                             lambda: tab.post("/refer/danger?change=1", {"in_danger": "yes"}))
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
    assert [r.location for r in responses] == ["/refer/recommendation", "/refer/phone-now"]
    db.session.expire_all()
    draft = db.session.get(Draft, walker.draft_id)
    revisions = draft.revisions
    assert [r.revision for r in revisions] == [1, 2, 3]
    assert [r.replaces_id for r in revisions] == [None, revisions[0].id, revisions[1].id]
    made = {"danger" if r.in_danger else "check": r for r in revisions[1:]}
    assert made["check"].revision == (2 if first == "check" else 3)
    assert (made["check"].consent, made["check"].immediate) == ("refused", False)  # what tab A read
    assert made["danger"].immediate  # what tab B saved, which is now the draft's answers
    assert made["danger"].answers_key == journey.answers_key(version(), journey.JourneyAnswers.load(draft.answers))
    recorded = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("assessment_%"))).all()
    assert sorted(recorded) == ["assessment_recorded", "assessment_revised", "assessment_revised"]


@pytest.mark.parametrize("first", ["what_happened", "serious"])
def test_an_emergency_tick_recorded_at_once_never_loses_another_tabs_save(app, users, walker, monkeypatch, first):
    """Tab A saves What happened while tab B ticks an emergency on the first concerns page,
    which is saved and recorded at once. Both read the answers before either writes; in
    either order both answers are kept, and the revision is for the answers saved."""
    walker.concerns([level_items(2, 3)[0]], location=walker.to_concerns(years=0, months=3))
    assert walker.client.get("/refer/what-happened").status_code == 200
    plan = journey.layout(version(), walker.answers())
    emergency = next(i.id for i in plan.serious_items if journey.is_emergency(version().indicators[i.id]))
    tab = second_client(app, users, walker)
    turn = InTurn(first)  # each view has read the answers by the time it calls the store
    wrap(monkeypatch, drafts_store, "save_page",  # tab A's page only (recording may save through it too)
         before=lambda draft, page, *a, **k: page == "what_happened" and turn.before(page),
         after=lambda draft, page, *a, **k: page == "what_happened" and turn.after(page))
    wrap(monkeypatch, drafts_store, "record_revision",
         before=lambda *a, page=None, **k: turn.before(page), after=lambda *a, page=None, **k: turn.after(page))
    words = "She said her stepfather hit her"
    responses = run_together(
        lambda: walker.post("/refer/what-happened", {"what_happened": words, "seen": "no",
                                                     "not_seen_reason": "A baby"}),
        lambda: tab.post("/refer/serious", {"concerns": [emergency]}))
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
    assert responses[1].location == "/refer/phone-now"
    db.session.expire_all()
    draft = db.session.get(Draft, walker.draft_id)
    saved = journey.JourneyAnswers.load(draft.answers)
    assert saved.what_happened == words, "tab A's words were lost"
    assert emergency in saved.serious.ticked
    assert draft.assessment.immediate and draft.assessment.answers_key == journey.answers_key(version(), saved)
