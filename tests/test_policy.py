"""Policy leads: the guide, drafts changed through forms and uploads, simulation and publishing.

Every app here reads and publishes into its own copy of thresholds/, never the repository's.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil

import pytest
from sqlalchemy import func, select

from conftest import CSRF_RE, ROOT, make_app, sign_in_as
from signpost import policy, values
from signpost.content import current_library, current_version
from signpost.engine import Answers, assess
from signpost.extensions import db
from signpost.models import Assessment, AuditEvent, PublishedThreshold, ThresholdDraft
from signpost.simulate import simulate
from signpost.thresholds.cases import load_cases
from signpost.thresholds.schema import TELLING_FLAGS
from test_journey_web import Walker
from signpost.values import uk_today

TODAY = uk_today()


@pytest.fixture(autouse=True)
def _today():
    """TODAY is each test's own date, not the date this module was imported: a run that crosses
    midnight would otherwise publish "today" on what the service already takes as yesterday."""
    global TODAY
    TODAY = uk_today()


def copy_thresholds(target):
    shutil.copytree(ROOT / "thresholds", target)
    return target


PUBLISHES_TODAY = ("test_publishing_today_", "test_two_app_instances_")


def without_version_effective_today(folder):
    """Publishing today needs a free day: drop a shipped version that takes effect today itself."""
    for path in folder.glob("*.yaml"):
        if f"effective_from: {TODAY.isoformat()}" in path.read_text():
            path.unlink()
    return folder


def without_scheduled_versions(folder):
    """The shipped versions up to the one in force: a shipped version scheduled for a later day would
    make every draft from the version in force unpublishable after its date (it would undo it), which
    is the service's rule, tested on versions these tests publish themselves."""
    for path in folder.glob("*.yaml"):
        found = re.search(r"^effective_from: (\d{4}-\d{2}-\d{2})", path.read_text(), re.M)
        if found and dt.date.fromisoformat(found.group(1)) > TODAY:
            path.unlink()
    return folder


@pytest.fixture
def thresholds_dir(tmp_path, request):
    folder = without_scheduled_versions(copy_thresholds(tmp_path / "thresholds"))
    publishes_today = request.node.name.startswith(PUBLISHES_TODAY)
    return without_version_effective_today(folder) if publishes_today else folder


@pytest.fixture
def app_settings(thresholds_dir):
    return {"THRESHOLDS_DIR": str(thresholds_dir), "RATELIMIT_ENABLED": False}


DRAFT_HASH_RE = re.compile(r'<input[^>]*name="([\w-]*draft_hash)"[^>]*value="([0-9a-f]*)"')


def post(client, path, data=None, form_page=None, **kwargs):
    """POST as a browser would from the form's page: its CSRF token and the draft's hash as it showed it."""
    page = client.get(form_page or "/policy/").get_data(as_text=True)
    token = CSRF_RE.search(page)
    assert token, f"no csrf_token on {form_page}"
    shown = dict(DRAFT_HASH_RE.findall(page))
    return client.post(path, data={"csrf_token": token.group(1) or token.group(2), **shown, **(data or {})},
                       **kwargs)


def start_draft(client) -> int:
    response = post(client, "/policy/drafts")
    assert response.status_code == 302
    return int(response.location.rsplit("/", 1)[1])


def a_concern(level: int, age: int = 111):
    """A plain concern (no severity question, not immediate) at this level for a child of this age;
    one no test case ticks, so that moving it leaves every case passing and the draft publishable."""
    version = current_version()
    tested = {i for case in load_cases(ROOT / "thresholds" / "tests") for i in case.case.answers.indicators}
    return next(i for i in version.document.indicators if i.level == level and not i.asks_for
                and i.urgency == "standard" and not i.lado and i.applies_to != "unborn" and i.id not in tested
                and (i.min_age_months or 0) <= age <= (i.max_age_months if i.max_age_months is not None else 999))


def describe_draft(client, draft_id: int, summary: str = "(test) Moved a concern, for the tests.") -> None:
    """Fill in the summary of changes on the details page, as publishing needs."""
    data = policy.load_data(db.session.get(ThresholdDraft, draft_id).content)
    page = f"/policy/drafts/{draft_id}/details"
    response = post(client, page, {"id": data["id"], "title": data["title"], "approved_by": data["approved_by"],
                                   "summary_of_changes": summary, "review_by": str(data["review_by"])}, form_page=page)
    assert response.status_code == 302, response.text


def publish_draft(client, draft_id: int, on: dt.date, describe: bool = True):
    if describe and policy.SUMMARY_PLACEHOLDER in db.session.get(ThresholdDraft, draft_id).content:
        describe_draft(client, draft_id)
    return post(client, f"/policy/drafts/{draft_id}/publish",
                {"effective-day": on.day, "effective-month": on.month, "effective-year": on.year, "effective-confirm": "y"},
                form_page=f"/policy/drafts/{draft_id}/publish")


def give_details(client, draft_id: int, version_id: str, summary: str):
    """Give the draft a new version id and a summary of changes on its details page (its title kept)."""
    page = f"/policy/drafts/{draft_id}/details"
    title = policy.load_data(db.session.get(ThresholdDraft, draft_id).content)["title"]
    return post(client, page, {"id": version_id, "title": title, "approved_by": "(test) Board",
                               "summary_of_changes": summary, "review_by": "2099-12-01"}, form_page=page)


def move_concern(client, draft_id: int, indicator, level: int):
    return post(client, f"/policy/drafts/{draft_id}/concerns/{indicator.id}",
                {"text": indicator.text, "hint": indicator.hint or "", "level": level},
                form_page=f"/policy/drafts/{draft_id}/concerns/{indicator.id}")


# ---- the guide ------------------------------------------------------------------------------

def test_guide_shows_every_concern_with_its_hint_apart_and_a_described_diagram(referrer):
    version = current_version()
    html = referrer.get("/guide/").text
    assert 'role="img"' in html and 'aria-labelledby="windscreen-title windscreen-desc"' in html
    from signpost.web.guide import level_title
    for level in version.document.levels:
        assert f'<h3 class="govuk-heading-s">{level_title(level)}</h3>'.replace("'", "&#39;") in html
    assert html.count('class="signpost-guide__concern"') == len(version.document.indicators)
    hinted = next(i for i in version.document.indicators if i.hint)
    # The hint is its own paragraph, labelled for screen readers, never run into the text.
    text_end = html.index(hinted.text.replace("'", "&#39;").replace('"', "&#34;"))
    hint_at = html.index('signpost-guide__hint', text_end)
    assert "</p>" in html[text_end:hint_at]
    assert "Hint: </span>" in html[hint_at:hint_at + 200]
    assert referrer.get("/thresholds").text.count('class="signpost-guide__concern"') == len(version.document.indicators)


def test_guide_filters_by_age_and_word_without_javascript(referrer):
    version = current_version()
    baby_only = [i for i in version.document.indicators if i.max_age_months is not None and i.max_age_months < 60]
    assert baby_only, "the version has concerns only for young children"
    html = referrer.get("/guide/?age=15").text
    for ind in baby_only:
        assert f'id="concern-{ind.id}"' not in html
    assert 'id="concern-' in html and "Showing" in html
    word = baby_only[0].text.split()[-1].strip(".,").lower()
    html = referrer.get(f"/guide/?q={word}").text
    shown = re.findall(r'id="concern-([a-z0-9_]+)"', html)
    assert baby_only[0].id in shown
    def words_of(ind):
        return " ".join(filter(None, (ind.text, ind.hint, ind.note, version.areas[ind.area][1].name))).lower()
    assert all(word in words_of(version.indicators[i]) for i in shown)


def _rules_section(page: str) -> str:
    return page[page.index('id="rules"'):page.index('id="contacts"')]


def test_guide_says_exactly_what_each_rule_counts(referrer):
    """A rule that counts only some concerns lists them; one that needs several parts of the framework
    names those parts (the guide's own headings), not "areas", which the guide uses for the smaller
    headings; an age rule says what it does. Read as the engine applies them."""
    version = current_version()
    rules = re.sub(r"<[^>]+>", "", _rules_section(html.unescape(referrer.get("/guide/").text)))
    assert "areas of the framework" not in rules
    listed = [r for r in version.document.rules if r.type == "cumulative" and r.when.any_indicator]
    spread = [r for r in version.document.rules if r.type == "cumulative" and r.when.min_domains > 1]
    aged = [r for r in version.document.rules if r.type == "age"]
    assert listed and spread and aged, "the version in force has each kind of rule"
    for rule in listed:
        for indicator_id in rule.when.any_indicator:
            assert version.indicators[indicator_id].text in rules
    for domain in version.document.domains:
        assert domain.name in rules
    for rule in aged:
        after = rules[rules.index(rule.reason) + len(rule.reason):]
        assert after.lstrip().startswith("(A child under ") and "with a concern at level" in after[:200]
        assert f"makes level {rule.raise_to}." in after[:300]


def test_guide_gives_each_local_service_its_ages_in_words(referrer):
    """A service for babies in their first weeks (inclusive bounds 0 to 0 months) is "under 1 month",
    never "Ages 0 to 0 years"; one for expectant parents says so."""
    page = html.unescape(referrer.get("/guide/").text)
    assert "0 to 0 years" not in page and "Ages " not in page
    midwives = page[page.index("Northmere Community Midwives"):]
    assert "Children under 1 month, and expectant parents." in midwives[:600]
    assert "Children under 18" in page


def test_guide_word_filter_asks_for_no_child_details(referrer):
    """The filter is a GET form, so what is typed goes in the address (and the browser's history)."""
    page = referrer.get("/guide/").text
    assert 'aria-describedby="q-hint"' in page
    hint = html.unescape(page[page.index('id="q-hint"'):page.index("</div>", page.index('id="q-hint"'))])
    assert "Do not type a child's name" in hint


def test_guide_age_filter_keeps_a_concern_that_applies_for_part_of_that_year(referrer):
    """"Under 1" is a whole year of age: a concern for babies under 6 months must stay in the list
    (it was read at 6 months, just past it, and hidden). A 1 year old does not see it."""
    library = current_library()
    version, baby = next((v, i) for v in library.versions for i in v.document.indicators
                         if i.max_age_months is not None and i.max_age_months % 12 != 11 and i.max_age_months < 12)
    assert f'id="concern-{baby.id}"' in referrer.get(f"/guide/{version.id}?age=0").text
    assert f'id="concern-{baby.id}"' not in referrer.get(f"/guide/{version.id}?age=1").text


def test_an_earlier_version_is_readable_and_marked_not_in_force(referrer):
    library = current_library()
    older = library.versions[0]
    assert older.id != current_version().id
    html = referrer.get(f"/guide/{older.id}").text
    assert "This version is not in force" in html and older.document.title in html
    assert "This version is not in force" not in referrer.get("/guide/").text
    assert referrer.get("/guide/no-such-version").status_code == 404


def test_policy_leads_are_warned_when_the_version_is_past_its_review_date(policy_lead, referrer, monkeypatch):
    version = current_version()
    monkeypatch.setattr(values, "uk_today", lambda: version.document.review_by + dt.timedelta(days=1))
    assert "was due for review" in policy_lead.get("/guide/").text
    assert "was due for review" not in referrer.get("/guide/").text


# ---- versions and differences -----------------------------------------------------------------

def test_versions_list_and_side_by_side_difference_in_words(policy_lead):
    library = current_library()
    html = policy_lead.get("/policy/versions").text
    for v in library.versions:
        assert v.id in html
    assert "In force" in html
    old, new = library.versions[0], library.versions[-1]
    html = policy_lead.get(f"/policy/versions/compare?old={old.id}&new={new.id}").text
    assert "signpost-diff__before" in html and "signpost-diff__after" in html
    assert policy_lead.get("/policy/versions/compare?old=nope&new=nope").status_code == 404


# ---- drafts -------------------------------------------------------------------------------------

def test_a_draft_changed_through_the_forms_changes_nothing_a_referrer_sees(policy_lead, referrer):
    before = current_version()
    concern = a_concern(2)
    draft_id = start_draft(policy_lead)
    response = move_concern(policy_lead, draft_id, concern, 3)
    assert response.status_code == 302
    response = post(policy_lead, f"/policy/drafts/{draft_id}/concerns/{concern.id}",
                    {"text": "Reworded for the draft", "hint": "A separate hint", "level": 3},
                    form_page=f"/policy/drafts/{draft_id}/concerns/{concern.id}")
    assert response.status_code == 302
    draft = db.session.get(ThresholdDraft, draft_id)
    version, problems = policy.check(draft.content)
    assert not problems and version.indicators[concern.id].level == 3
    assert version.indicators[concern.id].text == "Reworded for the draft"
    page = policy_lead.get(f"/policy/drafts/{draft_id}").text
    assert "Reworded for the draft" in page and "Concerns moved level: 1" in page
    assert current_version().content_hash == before.content_hash
    assert "Reworded for the draft" not in referrer.get("/guide/").text
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.record_type == "threshold_drafts")).all()
    assert actions.count("threshold_draft_changed") == 2 and "threshold_draft_started" in actions


def test_a_change_that_would_break_the_draft_is_refused_with_the_line_and_key(policy_lead):
    draft_id = start_draft(policy_lead)
    rule = next(r for r in current_version().document.rules if r.type == "cumulative")
    saved = db.session.get(ThresholdDraft, draft_id).content
    top = current_version().top_level.number
    response = post(policy_lead, f"/policy/drafts/{draft_id}/rules/{rule.id}",
                    {"reason": rule.reason, "min_level": rule.when.min_level, "min_count": rule.when.min_count,
                     "min_domains": rule.when.min_domains, "raise_to": top},
                    form_page=f"/policy/drafts/{draft_id}/rules/{rule.id}")
    assert_refused(response, draft_id, saved,
                   rf"Line \d+, rules\[\d+\] \({rule.id}\)\.raise_to: a rule cannot raise to the top level")


def test_an_invalid_upload_shows_its_errors_and_changes_nothing(policy_lead):
    draft_id = start_draft(policy_lead)
    saved = db.session.get(ThresholdDraft, draft_id).content
    broken = saved.replace("title:", "title: x\ntitle:", 1) + "bogus_key: 1\n"
    response = upload(policy_lead, draft_id, broken.encode())
    assert_refused(response, draft_id, saved, "The uploaded file, draft.yaml, was not used",
                   r"Line \d+, title: duplicate key", r"Line \d+, bogus_key: is not a recognised key")
    # The rest of the draft's page is as it was: its changes from the version it was started from too.
    base_id = db.session.get(ThresholdDraft, draft_id).base_id
    assert f"Changes from {base_id}" in response.text
    assert f"Changes from {base_id}" in policy_lead.get(f"/policy/drafts/{draft_id}").text
    # A concern's problem names the concern by its id as well as its place in the list.
    first = policy.load_data(saved)["indicators"][0]["id"]
    indent = re.search(rf"^\s*- id: {first}\n(\s*)", saved, re.M)[1]  # the item's keys' indentation
    misspelt = saved.replace(f"- id: {first}\n", f"- id: {first}\n{indent}urgancy_note: x\n", 1)
    response = upload(policy_lead, draft_id, misspelt.encode())
    assert_refused(response, draft_id, saved, rf"Line \d+, indicators\[0\] \({first}\)\.urgancy_note: is not a recognised key")
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "threshold_draft_upload_refused")) == 2
    # A good upload (an edited download) replaces the draft.
    download = policy_lead.get(f"/policy/drafts/{draft_id}/draft.yaml")
    edited = "# a comment that is kept\n" + download.text
    response = upload(policy_lead, draft_id, edited.encode())
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ThresholdDraft, draft_id).content.startswith("# a comment that is kept")


def upload(client, draft_id: int, content: bytes):
    import io
    return post(client, f"/policy/drafts/{draft_id}/upload", {"file": (io.BytesIO(content), "draft.yaml")},
                content_type="multipart/form-data", form_page=f"/policy/drafts/{draft_id}")


def assert_refused(response, draft_id: int, saved: str, *patterns: str) -> None:
    """A 400 page saying why (each pattern found in it), and the draft read afresh is as it was."""
    assert response.status_code == 400
    for pattern in patterns:
        assert re.search(pattern, response.text), (pattern, response.text)
    db.session.expire_all()
    assert db.session.get(ThresholdDraft, draft_id).content == saved


@pytest.mark.parametrize("content, message", [
    (b"id: x\ntitle: a\x00b\n", r"Line 2: contains a hidden or control character \(U\+0000"),
    (b"id: x\ntitle: a\x1bb\n", r"Line 2: contains a hidden or control character \(U\+001B"),
    (b"[" * 1000 + b"]" * 1000, r"Line 1: is nested more than 30 levels deep"),
    (b"id: x\ncontacts:\n  2024-13-01: x\n", r"Line 3, contacts.2024-13-01: is not a recognised key"),
    (b"a0: &a0 [lol, lol]\na1: &a1 [*a0, *a0]\n", r"Line 1: uses a YAML anchor or alias \(&amp; or \*\)"),
])
def test_a_hostile_upload_is_refused_with_a_message_not_a_crash(policy_lead, content, message):
    draft_id = start_draft(policy_lead)
    saved = db.session.get(ThresholdDraft, draft_id).content
    response = upload(policy_lead, draft_id, content)
    assert_refused(response, draft_id, saved, "The uploaded file, draft.yaml, was not used", message)


@pytest.mark.parametrize("escaped, char", [("Ann\\0Lead", "U+0000"), ("Ann\\u202eLead", "U+202E")])
def test_an_upload_with_a_hidden_character_written_as_an_escape_is_refused(policy_lead, escaped, char):
    # Stored, a NUL is a DataError on PostgreSQL (a 500 at publishing) and invisible elsewhere.
    draft_id = start_draft(policy_lead)
    saved = db.session.get(ThresholdDraft, draft_id).content
    text = policy_lead.get(f"/policy/drafts/{draft_id}/draft.yaml").text
    text = re.sub(r"^approved_by:.*$", lambda _: f'approved_by: "{escaped}"', text, count=1, flags=re.M)
    assert policy.check(text)[1]  # the draft check refuses it too
    response = upload(policy_lead, draft_id, text.encode())
    assert_refused(response, draft_id, saved,
                   rf"Line \d+, approved_by: contains a hidden or control character \({re.escape(char)}")


def test_an_upload_over_the_size_limit_is_a_styled_page_giving_the_limit(policy_lead):
    # The limit is MAX_CONTENT_LENGTH (1 MB); the upload once promised 2 MB, and between the
    # two a policy lead met Werkzeug's bare 413 page.
    draft_id = start_draft(policy_lead)
    response = upload(policy_lead, draft_id, b"#" * (1024 * 1024 + 100))
    assert response.status_code == 413
    assert "<title>The file or form is too large" in response.text
    assert "larger than 1 MB, the most this service accepts" in response.text
    assert "If a child is in immediate danger, call 999" in response.text
    assert response.headers["Content-Security-Policy"] and response.headers["Cache-Control"] == "no-store"


def test_drafts_are_listed_and_can_be_discarded(policy_lead):
    draft_id = start_draft(policy_lead)
    assert f"/policy/drafts/{draft_id}" in policy_lead.get("/policy/drafts").text
    assert post(policy_lead, f"/policy/drafts/{draft_id}/discard").status_code == 302
    assert db.session.get(ThresholdDraft, draft_id) is None
    assert policy_lead.get(f"/policy/drafts/{draft_id}").status_code == 404


# ---- simulation -------------------------------------------------------------------------------------

def seed(users, answers_list, *, decision=None, at=None):
    """Stored assessments as the journey makes them (through the demo writer)."""
    from signpost import store
    version = current_version()
    made = []
    for ids, age in answers_list:
        rec = assess(Answers.of(ids, age_months=age, consent="given"), version, TODAY)
        made.append(store.record_demo_journey(
            users["referrer"], {}, rec, at=at or dt.datetime.now() - dt.timedelta(days=3),
            assessment_fields={"age_band": "10 to 15", "age_months": age, "unborn": False,
                               "indicator_ids": sorted(ids), "consent": "given", "in_danger": False},
            referral_details={"child": "fictional"} if decision else None,
            decision=(decision, "") if decision else None, decided_by=users["front_door"]))
    return made


def test_every_cell_of_the_policy_and_reports_tables_says_its_column_on_a_phone(policy_lead, users):
    """On a phone tables become lists with their headings hidden: "Early help, Social care, 5" on the
    preview, or a report's bare numbers, said nothing of what each was."""
    from test_frontdoor import unlabelled_cells
    level3 = a_concern(3)
    seed(users, [([level3.id], 130)] * 2, decision="nfa")
    draft_id = start_draft(policy_lead)
    assert move_concern(policy_lead, draft_id, level3, 2).status_code == 302
    for path in ("/policy/versions", "/policy/drafts", f"/policy/drafts/{draft_id}",
                 f"/policy/drafts/{draft_id}/simulate", "/reports/"):
        html = policy_lead.get(path).text
        assert 'class="govuk-table' in html, path
        assert unlabelled_cells(html) == [], path


def test_simulation_counts_changes_by_route_and_shows_sent_away_referrals_first(policy_lead, users):
    level3 = a_concern(3)
    level2 = a_concern(2)
    assert current_version().level(3).route == "social_care"
    seed(users, [([level3.id], 130)] * 3, decision="strategy_s47")
    seed(users, [([level3.id], 130)] * 2, decision="nfa")
    seed(users, [([level2.id], 130)] * 4)
    draft_id = start_draft(policy_lead)
    assert move_concern(policy_lead, draft_id, level3, 2).status_code == 302
    version, _ = policy.check(db.session.get(ThresholdDraft, draft_id).content)
    result = simulate(db.session.connection(), version, TODAY - dt.timedelta(days=365), TODAY, on_date=TODAY)
    assert result.total == 9 and result.changed == 5
    assert result.routes[("social_care", version.level(2).route)] == 5
    assert result.decided == 5 and result.sent_away == 3 and result.nfa_kept_away == 2
    assert result.agree_before == 3 and result.agree_after == 0
    assert result.by_reason[level3.id] == 5
    html = policy_lead.get(f"/policy/drafts/{draft_id}/simulate").text
    warning = html.index("signpost-danger-panel")
    assert "Warning:" in html[warning:warning + 300]
    assert warning < html.index("Changed recommendations, from which route to which")
    assert "3 referrals the front door took to assessment" in html
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "threshold_simulated")) == 1


def test_an_unchanged_draft_changes_nothing_against_its_base_whatever_was_recommended_then(policy_lead, users):
    """Assessments recorded under older versions (here: recorded as universal services for a concern the
    version in force refers) differ from today's answers. Against the base, a draft that changes
    nothing changes nothing, and raises no warning; against what was recorded then, it would."""
    level3 = a_concern(3)
    made = seed(users, [([level3.id], 130)] * 3, decision="strategy_s47")
    for item in made:  # as an older version recommended it at the time
        assessment = item.assessment if hasattr(item, "assessment") else item
        assessment.recommended_route = "universal"
    db.session.commit()
    draft_id = start_draft(policy_lead)
    version, _ = policy.check(db.session.get(ThresholdDraft, draft_id).content)
    span = (TODAY - dt.timedelta(days=365), TODAY)
    then = simulate(db.session.connection(), version, *span, on_date=TODAY)
    assert then.changed == 3 and then.baseline_id is None
    base = simulate(db.session.connection(), version, *span, on_date=TODAY, baseline=current_version())
    assert base.changed == 0 and base.sent_away == 0 and base.baseline_id == current_version().id
    html = policy_lead.get(f"/policy/drafts/{draft_id}/simulate").text
    assert "No recommendation would change." in html and "signpost-danger-panel" not in html
    assert f"what {current_version().id}, the version this draft was started from, recommends" in html


def test_against_its_base_one_set_of_answers_is_one_example_whatever_was_recorded_then(policy_lead, users):
    level3 = a_concern(3)
    made = seed(users, [([level3.id], 130)] * 4, decision="strategy_s47")
    for item in made[:2]:
        (item.assessment if hasattr(item, "assessment") else item).recommended_route = "universal"
    db.session.commit()
    draft_id = start_draft(policy_lead)
    assert move_concern(policy_lead, draft_id, level3, 2).status_code == 302
    version, _ = policy.check(db.session.get(ThresholdDraft, draft_id).content)
    result = simulate(db.session.connection(), version, TODAY - dt.timedelta(days=365), TODAY, on_date=TODAY,
                      baseline=current_version())
    change = ("social_care", version.level(2).route)
    assert result.changed == 4 and result.routes == {change: 4}
    assert [e.count for e in result.examples[change]] == [4]
    assert result.sent_away == 4 and [e.count for e, _route in result.sent_away_examples] == [4]


def simulate_change(change, *, baseline=True):
    """The simulation of the version in force changed by `change(data)`, against the version in force."""
    current = current_version()
    data = policy.load_data((ROOT / "thresholds" / f"{current.id}.yaml").read_text())
    data.update(id="northmere-2099-01", supersedes=current.id)
    change(data)
    version, problems = policy.check(policy.dump(data))
    assert version is not None and not problems, problems
    return simulate(db.session.connection(), version, TODAY - dt.timedelta(days=365), TODAY, on_date=TODAY,
                    baseline=current if baseline else None)


@pytest.mark.parametrize("baseline", [True, False], ids=["against its base", "against what was recorded"])
def test_a_lower_urgency_alone_is_a_change_shown_first(policy_lead, users, baseline):
    bruise = current_version().indicators["injury_non_mobile_child"]
    assert (bruise.level, bruise.urgency) == (4, "same_day")
    seed(users, [([bruise.id], 3)] * 2)
    result = simulate_change(lambda data: policy.edit_indicator(data, bruise.id, {"urgency": "standard"}),
                             baseline=baseline)
    assert result.total == 2 and result.changed == 2
    assert result.routes == {} and result.levels == {}
    assert result.urgencies == {("same_day", "standard"): 2} and result.less_urgent == 2
    [(example, old, new)] = result.less_urgent_examples
    assert (example.count, old, new) == (2, "same_day", "standard") and bruise.text in example.concerns


def test_the_simulation_page_puts_a_fall_in_urgency_first(policy_lead, users):
    bruise = current_version().indicators["injury_non_mobile_child"]
    seed(users, [([bruise.id], 3)])
    draft_id = start_draft(policy_lead)
    page = f"/policy/drafts/{draft_id}/concerns/{bruise.id}"
    assert post(policy_lead, page, {"text": bruise.text, "hint": bruise.hint, "level": 4, "urgency": "standard",
                                    "urgency_reason": bruise.urgency_reason}, form_page=page).status_code == 302
    html = policy_lead.get(f"/policy/drafts/{draft_id}/simulate").text
    warning = html.index("1 assessment would be told to act less urgently")
    assert warning < html.index("<h2 class=\"govuk-heading-m\">Recommendations</h2>")
    assert re.search(r"Would change urgency</dt><dd[^>]*>1 \(1 less urgent\)", html)
    assert re.search(r"Would change route</dt><dd[^>]*>0<", html)


def test_a_level_change_within_the_same_route_is_counted_apart(users):
    level3 = a_concern(3)
    seed(users, [([level3.id], 130)] * 3)
    result = simulate_change(lambda data: policy.edit_indicator(
        data, level3.id, {"level": 4, "urgency_reason": "(test) Top level now."}))
    assert result.changed == 3 and result.routes == {} and result.urgencies == {}
    assert result.levels == {(3, 4): 3}


def test_a_changed_answer_is_one_assessment_in_the_simulation_not_two(users):
    """Each changed answer records a new revision replacing the last: only the latest counts."""
    level3 = a_concern(3)
    [first] = seed(users, [([level3.id], 130)])
    first = first.assessment if hasattr(first, "assessment") else first
    columns = {c.key: getattr(first, c.key) for c in Assessment.__table__.columns if c.key != "id"}
    db.session.add(Assessment(**{**columns, "revision": first.revision + 1, "replaces_id": first.id}))
    db.session.commit()
    result = simulate_change(lambda data: policy.edit_indicator(data, level3.id, {"level": 2}))
    assert result.total == 1 and result.changed == 1


def test_simulation_uses_a_representative_age_when_only_the_band_was_kept(app, users):
    from signpost import store
    version = current_version()
    concern = a_concern(2)
    rec = assess(Answers.of([concern.id], age_months=130), version, TODAY)
    store.record_demo_journey(users["referrer"], {}, rec, at=dt.datetime.now() - dt.timedelta(days=1),
                              assessment_fields={"age_band": "10 to 15", "unborn": False,
                                                 "indicator_ids": [concern.id], "consent": "given",
                                                 "in_danger": False})
    result = simulate(db.session.connection(), version, TODAY - dt.timedelta(days=30), TODAY, on_date=TODAY)
    assert result.total == 1 and result.band_ages == 1 and result.changed == 0


# ---- publishing ---------------------------------------------------------------------------------------

def test_a_published_version_is_used_from_its_effective_date_and_not_before(policy_lead, thresholds_dir, app):
    before = current_version()
    draft_id = start_draft(policy_lead)
    concern = a_concern(2)
    assert move_concern(policy_lead, draft_id, concern, 1).status_code == 302
    tomorrow = TODAY + dt.timedelta(days=1)
    response = publish_draft(policy_lead, draft_id, tomorrow)
    assert response.status_code == 302, response.text
    new_id = db.session.get(ThresholdDraft, draft_id).published_id
    row = db.session.get(PublishedThreshold, new_id)
    assert row.effective_from == tomorrow
    # Not before its date ...
    assert current_version().id == before.id
    assert current_library().in_force(tomorrow).id == new_id
    rec = assess(Answers.of([concern.id], age_months=111), current_library().in_force(tomorrow), tomorrow)
    assert rec.level == 1 and rec.version_hash == row.content_hash
    # ... and the file written is one `thresholds validate` accepts, with the same hash.
    from signpost.thresholds import load_file
    assert load_file(thresholds_dir / f"{new_id}.yaml").content_hash == row.content_hash
    runner = app.test_cli_runner()
    assert runner.invoke(args=["thresholds", "validate"]).exit_code == 0
    assert "Scheduled" in policy_lead.get("/policy/versions").text
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "threshold_published")) == 1
    # A published version is never edited.
    assert policy_lead.get(f"/policy/drafts/{draft_id}/concerns/{concern.id}").status_code == 302


def test_a_simulation_counts_the_uk_days_it_names(app, users):
    """An assessment completed at 00:30 on 1 July (BST), stored as 23:30 UTC on 30 June, is one of 1 July's."""
    from signpost.simulate import grouped_assessments, grouped_decisions
    from signpost.store.history import record_demo_history
    from test_metrics import journey
    record_demo_history([], [journey(users["referrer"].id, dt.datetime(2026, 6, 30, 23, 31),
                                     outcomes=[("nfa", dt.datetime(2026, 7, 1, 9))])],
                        months=0, recorded_by=users["front_door"].id)
    connection = db.session.connection()
    july, june = dt.date(2026, 7, 1), dt.date(2026, 6, 30)
    assert [row[-1] for row in grouped_assessments(connection, july, july, [0])] == [1]
    assert [row[-1] for row in grouped_decisions(connection, july, july, [0])] == [1]
    assert grouped_assessments(connection, june, june, [0]) == []


def test_a_simulations_agreement_then_is_the_reports_agreement(app, users):
    """Preview a change and the reports count agreement alike: referrals only (not requests for early
    help or advice), and not those passed to another council or the LADO, which agree with no route.
    The two pages once gave 60% and 63% for the same demo history."""
    from signpost import metrics
    from signpost.store.history import record_demo_history
    from test_metrics import journey
    who, at = users["referrer"].id, dt.datetime(2026, 3, 10, 10)
    items = [journey(who, at + dt.timedelta(hours=n), route=route, kind=kind, outcomes=[(outcome, at + dt.timedelta(days=1))])
             for n, (kind, route, outcome) in enumerate([
                 ("referral", "social_care", "strategy_s47"),     # agrees
                 ("referral", "social_care", "assessment_s17"),   # agrees
                 ("referral", "social_care", "nfa"),              # does not
                 ("referral", "early_help", "early_help"),        # agrees
                 ("referral", "social_care", "lado"),             # neither
                 ("referral", "social_care", "other_council"),    # neither
                 ("early_help_request", "early_help", "nfa"),     # not a referral
                 ("consultation", "social_care", "advice_given"),  # not a referral
             ])]
    record_demo_history([], items, months=0, recorded_by=users["front_door"].id)
    march = metrics.Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    agreed = metrics.overview(march, metrics.Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
                              now=dt.datetime(2026, 4, 1)).agreed
    assert (agreed.k, agreed.n) == (3, 4)
    result = simulate(db.session.connection(), current_version(), march.start, march.end, on_date=TODAY)
    assert (result.agree_before, result.judged, result.decided) == (3, 4, 6)


def test_a_referral_counts_in_the_period_it_was_received_on_both_pages(policy_lead, users):
    """Assessed at 23:30 on 31 March (BST), sent at 00:30 on 1 April: the reports count the referral in
    April, the day it was received, and Preview a change once counted its decision in March, by when the
    assessment was completed, so the two pages disagreed at the edge. Both now count it in April; the
    assessment itself is still one of March's (it was completed then)."""
    from signpost import metrics
    from signpost.store.history import record_demo_history
    from test_metrics import journey, table_cells
    received = dt.datetime(2026, 3, 31, 23, 30)  # UTC: 00:30 on 1 April in the UK
    item = journey(users["referrer"].id, received, outcomes=[("strategy_s47", received + dt.timedelta(days=1))])
    item["assessment"]["completed_at"] = received - dt.timedelta(hours=1)  # 23:30 on 31 March in the UK
    record_demo_history([], [item], months=0, recorded_by=users["front_door"].id)
    draft_id = start_draft(policy_lead)
    january = metrics.Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    for start, end, referrals, assessments in ((dt.date(2026, 3, 1), dt.date(2026, 3, 31), 0, 1),
                                               (dt.date(2026, 4, 1), dt.date(2026, 4, 30), 1, 0)):
        agreed = metrics.overview(metrics.Period(start, end), january, now=dt.datetime(2026, 6, 1)).agreed
        result = simulate(db.session.connection(), current_version(), start, end, on_date=TODAY)
        assert (agreed.k, agreed.n) == (result.agree_recorded, result.judged) == (referrals, referrals), start
        assert (result.decided, result.total) == (referrals, assessments), start
        # ... and so do the pages themselves.
        report = policy_lead.get(f"/reports/?start={start}&end={end}&baseline_start=2026-01&baseline_end=2026-01")
        measures = {row[0]: row[1:3] for row in table_cells(report.text, "measures")}
        assert measures["Decisions that agreed with Signpost's recommendation"] == [str(referrals)] * 2, start
        preview = " ".join(policy_lead.get(f"/policy/drafts/{draft_id}/simulate?from={start}&to={end}").text.split())
        assert f"Referrals received from {start:%-d %B %Y} to {end:%-d %B %Y}, picked by the day they were " \
               "received, as the reports pick them" in preview
        assert (f"Decided referrals</dt><dd class=\"govuk-summary-list__value\">{referrals}</dd>" in preview) \
            == bool(referrals), start
        assert ("1 of 1 (100%)" in preview) == bool(referrals), start
        assert f"Assessments in the period</dt><dd class=\"govuk-summary-list__value\">{assessments}</dd>" in preview


def test_on_the_demo_history_both_pages_count_the_same_agreement_for_any_period(app):
    """The demo history, over the default period and over single months and days whose edges fall anywhere:
    the agreement Preview a change gives for the time (its referrals picked by the day received) is the
    reports' count, referral for referral."""
    from signpost import metrics
    result = app.test_cli_runner().invoke(args=["demo", "history", "--months", "24", "--per-month", "120"])
    assert result.exit_code == 0, result.output
    current = metrics.default_current(TODAY)
    baseline = metrics.default_baseline(current)
    last_month = current.end.replace(day=1)
    periods = [current, metrics.Period(last_month, current.end),
               metrics.Period(current.start + dt.timedelta(days=17), current.end - dt.timedelta(days=40)),
               *(metrics.Period(day, day) for day in (current.end, current.end - dt.timedelta(days=9)))]
    judged = 0
    for period in periods:
        agreed = metrics.overview(period, baseline).agreed
        run = simulate(db.session.connection(), current_version(), period.start, period.end, on_date=TODAY)
        assert (run.agree_recorded, run.judged) == (agreed.k, agreed.n), period
        judged += run.judged
    assert judged > 100  # the periods hold referrals to compare


def test_a_simulations_page_gives_the_reports_agreement_beside_the_base_versions(policy_lead, users):
    """Simulated from a draft, "before" is what the draft's base recommends for the same answers, which may
    not be what was recommended at the time: the page once called that "Agreement then", so a policy lead
    saw 60% where the reports said 63% for the same referrals. It gives the reports' figure by name."""
    from signpost import metrics
    from signpost.store.history import record_demo_history
    from test_metrics import journey
    who, at = users["referrer"].id, dt.datetime.combine(TODAY, dt.time(10)) - dt.timedelta(days=40)
    items = [journey(who, at + dt.timedelta(hours=n), route=route, outcomes=[(outcome, at + dt.timedelta(days=1))])
             for n, (route, outcome) in enumerate([("social_care", "strategy_s47"), ("social_care", "nfa"),
                                                   ("early_help", "early_help"), ("universal", "nfa")])]
    record_demo_history([], items, months=0, recorded_by=users["front_door"].id)
    period = metrics.Period(TODAY - dt.timedelta(days=365), TODAY)
    agreed = metrics.overview(period, metrics.Period(dt.date(2020, 1, 1), dt.date(2020, 1, 31))).agreed
    assert (agreed.k, agreed.n) == (3, 4)
    base = current_version()  # the recorded concern is in no version: the base recommends universal services
    result = simulate(db.session.connection(), base, period.start, period.end, on_date=TODAY, baseline=base)
    assert (result.agree_recorded, result.agree_before, result.agree_after, result.judged) == (3, 2, 2, 4)
    draft_id = start_draft(policy_lead)
    html = policy_lead.get(f"/policy/drafts/{draft_id}/simulate").text
    assert "Agreement then" not in html
    assert "Agreement with what Signpost recommended at the time (as in the reports)</dt>" in html
    assert f"Agreement under {base.id}, the version this draft was started from</dt>" in html
    page = " ".join(html.split())
    assert "3 of 4 (75%)" in page and "2 of 4 (50%)" in page


def test_the_versions_list_gives_the_uk_day_a_version_was_published(policy_lead, monkeypatch):
    """Published at 00:30 on 7 July (BST), stored as 23:30 UTC on 6 July: the list says 7 July, as the
    policy lead's own clock does."""
    from signpost.store import policy as policy_store
    draft_id = start_draft(policy_lead)
    assert move_concern(policy_lead, draft_id, a_concern(2), 1).status_code == 302
    monkeypatch.setattr(policy_store, "utcnow", lambda: dt.datetime(2026, 7, 6, 23, 30))
    assert publish_draft(policy_lead, draft_id, TODAY + dt.timedelta(days=1)).status_code == 302
    page = policy_lead.get("/policy/versions").text
    assert "Published in Signpost 7 Jul 2026" in page and "6 Jul 2026" not in page


def test_the_publish_page_proposes_the_drafts_own_date_when_it_is_still_to_come(policy_lead):
    """A version prepared for a later date (its effective_from) is proposed for that date, not today:
    a policy lead who accepts the date shown publishes it when the draft says."""
    draft_id = start_draft(policy_lead)
    record = db.session.get(ThresholdDraft, draft_id)
    later = TODAY + dt.timedelta(days=45)
    for day, shown in ((later, later), (TODAY - dt.timedelta(days=400), TODAY)):
        record.content = re.sub(r"^effective_from: .*$", f"effective_from: {day.isoformat()}", record.content,
                                count=1, flags=re.M)
        db.session.commit()
        page = policy_lead.get(f"/policy/drafts/{draft_id}/publish").text
        for name, value in (("day", shown.day), ("month", shown.month), ("year", shown.year)):
            assert re.search(rf'name="effective-{name}"[^>]*value="{value}"', page), (name, value)


def test_publishing_today_changes_new_journeys_old_assessments_keep_their_version(policy_lead, referrer, users):
    concern = a_concern(2)
    old_version = current_version()
    [old] = seed(users, [([concern.id], 111)])
    # A journey started before the publication ...
    walker = Walker(referrer)
    location = walker.to_concerns(years=9, months=3)
    draft_id = start_draft(policy_lead)
    assert move_concern(policy_lead, draft_id, concern, 1).status_code == 302
    assert publish_draft(policy_lead, draft_id, TODAY).status_code == 302
    new_id = db.session.get(ThresholdDraft, draft_id).published_id
    assert current_version().id == new_id
    # ... and finished after it says which version it used, and stores that version.
    walker.concerns([concern.id], location=location)
    walker.finish_questions()
    route, level, reasons, _, html = walker.recommendation()
    used = re.search(r'data-threshold-id="([^"]+)"', html).group(1)
    assert f"version {used}" in html
    stored = db.session.scalars(select(Assessment).order_by(Assessment.id.desc())).first()
    assert stored.threshold_id == used and stored.age_months == 111
    # A journey started after the publication uses the new version.
    walker2 = Walker(referrer)
    walker2.client.post("/refer/start-again", data={"csrf_token": walker2.token})
    location = walker2.to_concerns(years=9, months=3)
    walker2.concerns([concern.id], location=location)
    walker2.finish_questions()
    route, level, reasons, _, html = walker2.recommendation()
    assert 'data-threshold-id="%s"' % new_id in html and level == 1
    # The old assessment keeps its own version and hash.
    db.session.expire_all()
    kept = db.session.get(Assessment, old.id)
    assert (kept.threshold_id, kept.threshold_hash) == (old_version.id, old_version.content_hash)


def test_broken_or_clashing_versions_are_never_published(policy_lead, app, thresholds_dir):
    from signpost.store import policy as store_policy
    library = current_library()
    current = current_version()
    text = (thresholds_dir / f"{current.id}.yaml").read_text()
    with pytest.raises(policy.PublishError, match="already published with different content"):
        store_policy.publish(text.replace(current.document.title, "Changed title"), TODAY + dt.timedelta(days=3),
                             library=library, thresholds_dir=thresholds_dir, today=TODAY)
    with pytest.raises(policy.PublishError, match="Line"):
        store_policy.publish(text.replace(f"id: {current.id}", "id: brand-new", 1).replace("levels:", "levels: 3\nx:", 1),
                             TODAY + dt.timedelta(days=3), library=library, thresholds_dir=thresholds_dir, today=TODAY)
    with pytest.raises(policy.PublishError, match="today"):
        store_policy.publish(text.replace(f"id: {current.id}", "id: brand-new", 1), TODAY - dt.timedelta(days=1),
                             library=library, thresholds_dir=thresholds_dir, today=TODAY)
    with pytest.raises(policy.PublishError, match="already takes effect"):
        store_policy.publish(text.replace(f"id: {current.id}", "id: brand-new", 1), current.effective_from,
                             library=library, thresholds_dir=thresholds_dir, today=current.effective_from)
    assert db.session.scalar(select(func.count()).select_from(PublishedThreshold)) == 0
    assert not (thresholds_dir / "brand-new.yaml").exists()


def test_two_app_instances_sharing_a_database_both_see_a_new_version_without_restarting(tmp_path, users, app):
    """Two hosts: separate thresholds folders, one database. The second never restarts."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    other_dir = without_version_effective_today(copy_thresholds(tmp_path / "other-host"))
    other = make_app(url, THRESHOLDS_DIR=str(other_dir), THRESHOLDS_CACHE_SECONDS=0, RATELIMIT_ENABLED=False)
    client = other.test_client()
    with other.app_context():
        before = current_version().id
    sign_in_as(client, users["referrer"])
    assert before in client.get("/guide/").text
    draft_id = start_draft_client(app, users)
    from signpost.store import policy as store_policy
    draft = db.session.get(ThresholdDraft, draft_id)
    described = draft.content.replace(policy.SUMMARY_PLACEHOLDER, "(test) A new version for the other host.")
    store_policy.save_draft(draft, described, "details_changed", seen=policy.text_hash(draft.content), actor="test")
    row = store_policy.publish(described, TODAY, library=current_library(),
                               thresholds_dir=app.config["THRESHOLDS_DIR"], today=TODAY, draft=draft,
                               seen=policy.text_hash(described), actor="test")
    assert not (other_dir / f"{row.id}.yaml").exists()
    with other.app_context():
        assert current_version().id == row.id
        assert current_version().content_hash == row.content_hash
    assert f"{row.id}" in client.get("/guide/").text
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def start_draft_client(app, users) -> int:
    client = app.test_client()
    sign_in_as(client, users["policy_lead"])
    return start_draft(client)


# ---- command line ----------------------------------------------------------------------------------

def test_cli_simulates_and_publishes_a_draft_file(app, users, thresholds_dir, tmp_path):
    concern = a_concern(3)
    seed(users, [([concern.id], 130)] * 2, decision="assessment_s17")
    current = current_version()
    text = (thresholds_dir / f"{current.id}.yaml").read_text()
    data = policy.load_data(text)
    data["id"] = "cli-draft"
    data["supersedes"] = current.id  # copied from the version in force, and says so
    policy.edit_indicator(data, concern.id, {"level": 2})
    draft_file = tmp_path / "cli-draft.yaml"
    draft_file.write_text(policy.dump(data))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["thresholds", "simulate", str(draft_file)])
    assert result.exit_code == 0, result.output
    assert "2 of 2 recommendations would change" in result.output
    assert "WARNING: 2 referral(s) the front door took to assessment or section 47" in result.output
    later = TODAY + dt.timedelta(days=7)
    result = runner.invoke(args=["thresholds", "publish", str(draft_file), "--effective", later.isoformat()])
    assert result.exit_code == 0, result.output
    assert (thresholds_dir / "cli-draft.yaml").exists()
    result = runner.invoke(args=["thresholds", "publish", str(draft_file), "--effective", later.isoformat()])
    assert result.exit_code == 1 and "already published" in result.output
    # Withdrawn from the command line too, with a reason; the version in force never.
    result = runner.invoke(args=["thresholds", "withdraw", current.id, "--reason", "(test) no"])
    assert result.exit_code == 1 and "cannot be withdrawn here" in result.output
    result = runner.invoke(args=["thresholds", "withdraw", "cli-draf", "--reason", "(test) a typing slip"])
    assert result.exit_code == 1 and "There is no threshold version cli-draf." in result.output
    result = runner.invoke(args=["thresholds", "withdraw", "cli-draft", "--reason", "(test) Published by mistake."])
    assert result.exit_code == 0, result.output
    assert current_library().by_id("cli-draft") is None and not (thresholds_dir / "cli-draft.yaml").exists()
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor == "cli")).all()
    assert {"threshold_simulated", "threshold_published", "threshold_withdrawn"} <= set(actions)


def test_the_cli_lists_and_shows_versions_published_on_another_host_as_the_service_does(app, users, thresholds_dir,
                                                                                        tmp_path):
    """Another host has no file for a version published elsewhere: `thresholds list`, `show`, `diff` and
    `assess` still see it, as its pages and the API do (README: the API is the same as `show`), and a
    withdrawn one is gone from them even where its file is still on disk."""
    current = current_version()
    data = policy.load_data((thresholds_dir / f"{current.id}.yaml").read_text())
    data["id"] = "elsewhere-draft"
    data["supersedes"] = current.id
    draft_file = tmp_path / "elsewhere-draft.yaml"
    draft_file.write_text(policy.dump(data))
    runner = app.test_cli_runner()
    later = TODAY + dt.timedelta(days=7)
    result = runner.invoke(args=["thresholds", "publish", str(draft_file), "--effective", later.isoformat()])
    assert result.exit_code == 0, result.output
    published_file = thresholds_dir / "elsewhere-draft.yaml"
    kept = published_file.read_text()
    published_file.unlink()  # as on every host but the one that published it
    listed = runner.invoke(args=["thresholds", "list"])
    assert listed.exit_code == 0 and re.search(r"^elsewhere-draft +\S+ .* scheduled$", listed.stdout, re.M), listed.output
    shown = runner.invoke(args=["thresholds", "show", "elsewhere-draft", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == app.test_client().get("/api/v1/thresholds/elsewhere-draft").get_json()
    assert runner.invoke(args=["thresholds", "diff", current.id, "elsewhere-draft"]).exit_code == 0
    assert runner.invoke(args=["thresholds", "assess", "elsewhere-draft", "--age-months", "100"]).exit_code == 0
    result = runner.invoke(args=["thresholds", "withdraw", "elsewhere-draft", "--reason", "(test) By mistake."])
    assert result.exit_code == 0, result.output
    published_file.write_text(kept)  # another host still has its copy of the file
    assert "elsewhere-draft" not in runner.invoke(args=["thresholds", "list"]).stdout
    assert runner.invoke(args=["thresholds", "show", "elsewhere-draft"]).exit_code == 1


def test_grouped_simulation_agrees_with_the_engine_row_by_row(app, users):
    """The invariant behind the speed: grouping by answers (ages by the draft's breakpoints)
    gives exactly what running the engine on every stored assessment would."""
    import random
    from collections import Counter

    from signpost.engine import AnswerError, applies_to_age
    rng = random.Random(7)
    version = current_version()
    plain = [i for i in version.document.indicators if not i.asks_for and not i.lado and i.urgency == "standard"]
    rows = []
    while len(rows) < 120:
        age = rng.randrange(0, 216)
        fits = [i.id for i in plain if applies_to_age(i, age, False)]
        ids = rng.sample(fits, rng.choice((1, 2, 3)))
        consent = rng.choice(("given", "refused", "not_asked"))
        try:
            assess(Answers.of(ids, age_months=age, consent=consent), version, TODAY)
        except AnswerError:
            continue
        rows.append((ids, age, consent))
    from signpost import store
    for ids, age, consent in rows:
        rec = assess(Answers.of(ids, age_months=age, consent=consent), version, TODAY)
        store.record_demo_journey(users["referrer"], {}, rec, at=dt.datetime.now() - dt.timedelta(days=2),
                                  assessment_fields={"age_band": "5 to 9", "age_months": age, "unborn": False,
                                                     "indicator_ids": sorted(ids), "consent": consent,
                                                     "in_danger": False})
    data = policy.load_data(open(current_version().path).read())
    data["id"] = "invariant-draft"
    for ind in rng.sample(plain, 6):
        policy.edit_indicator(data, ind.id, {"level": rng.choice((1, 2, 3))})
    draft, problems = policy.check(policy.dump(data))
    assert not problems
    expected: Counter = Counter()
    for ids, age, consent in rows:
        old = assess(Answers.of(ids, age_months=age, consent=consent), version, TODAY).route
        usable = [i for i in ids if applies_to_age(draft.indicators[i], age, False)]
        new = assess(Answers.of(usable, age_months=age, consent=consent), draft, TODAY).route
        if old != new:
            expected[(old, new)] += 1
    result = simulate(db.session.connection(), draft, TODAY - dt.timedelta(days=30), TODAY, on_date=TODAY)
    assert expected, "the draft changes some recommendations"
    assert result.total == len(rows) and result.not_assessable == 0
    assert dict(result.routes) == dict(expected)


def test_retiring_a_concern_asks_first_then_leaves_it_out_of_the_draft(policy_lead):
    indicator_id = a_concern(2).id
    draft_id = start_draft(policy_lead)
    page = policy_lead.get(f"/policy/drafts/{draft_id}/concerns/{indicator_id}/retire")
    assert page.status_code == 200 and "Retire this concern?" in page.text
    assert indicator_id in policy.check(db.session.get(ThresholdDraft, draft_id).content)[0].indicators
    response = post(policy_lead, f"/policy/drafts/{draft_id}/concerns/{indicator_id}/retire",
                    form_page=f"/policy/drafts/{draft_id}/concerns/{indicator_id}/retire")
    assert response.status_code == 302
    db.session.expire_all()
    draft, problems = policy.check(db.session.get(ThresholdDraft, draft_id).content)
    assert not problems and indicator_id not in draft.indicators
    assert "Concerns retired: 1" in policy_lead.get(f"/policy/drafts/{draft_id}").text


def test_retiring_a_concern_takes_it_out_of_the_rules_that_name_it():
    data = {"indicators": [{"id": "a"}, {"id": "b"}],
            "rules": [{"id": "r", "type": "age", "when": {"any_indicator": ["a", "b"]}}]}
    data = policy.retire_indicator(data, "a")
    assert data["indicators"] == [{"id": "b"}] and data["rules"][0]["when"]["any_indicator"] == ["b"]


def test_a_value_used_twice_is_written_in_full_never_as_a_yaml_alias():
    """The loader refuses anchors and aliases, so a draft Signpost writes itself must hold none."""
    import yaml
    shared = {"source": "kcsie2025", "section": "Part one"}
    text = policy.dump({"id": "x", "one": [shared], "two": [shared]})
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text) == {"id": "x", "one": [shared], "two": [shared]}


def test_a_contacts_email_must_look_like_an_email_address(policy_lead):
    draft_id = start_draft(policy_lead)
    before = db.session.get(ThresholdDraft, draft_id).content
    page = f"/policy/drafts/{draft_id}/contacts/lado"
    assert "LADO (Local Authority Designated Officer)" in policy_lead.get(page).text and "Lado" not in policy_lead.get(page).text
    response = post(policy_lead, page, {"name": "LADO", "phone": "01632 960 400", "email": "notanemail"},
                    form_page=page)
    assert_refused(response, draft_id, before, "Enter an email address in the correct format")
    response = post(policy_lead, page, {"name": "LADO", "phone": "01632 960 400", "email": "lado@example.org"},
                    form_page=page)
    assert response.status_code == 302


def test_an_urgent_concern_without_its_reason_is_an_error_beside_the_field(policy_lead):
    draft_id = start_draft(policy_lead)
    saved = db.session.get(ThresholdDraft, draft_id).content
    concern = a_concern(2)
    page = f"/policy/drafts/{draft_id}/concerns/{concern.id}"
    response = post(policy_lead, page, {"text": concern.text, "hint": concern.hint or "", "level": concern.level,
                                        "urgency": "same_day", "urgency_reason": "  ",
                                        "references": policy.format_references(concern.references)}, form_page=page)
    assert_refused(response, draft_id, saved, "Say why this concern is this urgent")
    assert 'href="#urgency_reason"' in response.text and "Line " not in response.text


def test_a_retired_concern_id_is_never_used_again(policy_lead):
    library, current = current_library(), current_version()
    retired = sorted({i for v in library.versions for i in v.indicators} - set(current.indicators))
    assert retired, "the shipped versions retire at least one concern"
    draft_id = start_draft(policy_lead)
    data = policy.load_data(db.session.get(ThresholdDraft, draft_id).content)
    reused = dict(data["indicators"][0], id=retired[0], text="(test) A new concern under an old id")
    data["indicators"].append(reused)
    version, problems = policy.check(policy.dump(data), library)
    assert version is not None and [p.key for p in problems] == [f"indicators[{len(data['indicators']) - 1}].id"]
    assert f"'{retired[0]}' was a concern in" in problems[0].message and "never used again" in problems[0].message
    with pytest.raises(policy.PublishError, match="never used again"):
        policy.ready_to_publish(policy.dump(data).replace(policy.SUMMARY_PLACEHOLDER, "(test) x"),
                                TODAY + dt.timedelta(days=1), library, TODAY, cases=[])
    # A new id is fine.
    data["indicators"][-1]["id"] = "a_brand_new_concern"
    assert policy.check(policy.dump(data), library)[1] == []


def test_references_read_back_from_the_form_exactly_levels_included():
    """The concern form shows references as lines and reads them back: nothing may be lost."""
    from helpers_thresholds import shipped_library
    for version in shipped_library().versions:
        for indicator in version.document.indicators:
            refs = [r.model_dump(exclude_none=True) for r in indicator.references]
            assert policy.parse_references(policy.format_references(indicator.references)) == refs, indicator.id
    assert policy.parse_references("kcsie2025 | Part one | | 2") == [{"source": "kcsie2025", "where": "Part one",
                                                                   "level": 2}]


def test_rewording_a_concern_keeps_the_levels_its_sources_give(policy_lead):
    draft_id = start_draft(policy_lead)
    concern = next(i for i in current_version().document.indicators if any(r.level for r in i.references))
    page = f"/policy/drafts/{draft_id}/concerns/{concern.id}"
    form = policy_lead.get(page).text
    shown = re.search(r'<textarea[^>]*name="references"[^>]*>(.*?)</textarea>', form, re.S).group(1)
    response = post(policy_lead, page, {"text": concern.text + " (reworded)", "hint": concern.hint or "",
                                        "level": concern.level, "urgency": concern.urgency,
                                        "urgency_reason": concern.urgency_reason or "",
                                        "references": html.unescape(shown).strip(), "note": concern.note or ""},
                    form_page=page)
    assert response.status_code == 302, response.text
    data = policy.load_data(db.session.get(ThresholdDraft, draft_id).content)
    saved = next(i for i in data["indicators"] if i["id"] == concern.id)
    assert saved["references"] == [r.model_dump(exclude_none=True) for r in concern.references]


def test_a_draft_naming_no_loaded_version_as_its_base_is_not_told_every_concern_is_retired():
    from helpers_thresholds import shipped_library
    library = shipped_library()
    text = (ROOT / "thresholds" / f"{library.versions[-1].id}.yaml").read_text()
    text = re.sub(r"^supersedes: .*$", "supersedes: nowhere-2020-01", text, count=1, flags=re.M)
    text = re.sub(r"^id: .*$", "id: northmere-2099-01", text, count=1, flags=re.M)
    version, problems = policy.check(text, library)
    assert version is not None and problems == []


def test_a_draft_cannot_be_published_saying_describe_what_changed(policy_lead):
    draft_id = start_draft(policy_lead)
    assert move_concern(policy_lead, draft_id, a_concern(2), 1).status_code == 302
    response = publish_draft(policy_lead, draft_id, TODAY + dt.timedelta(days=1), describe=False)
    assert response.status_code == 400 and "Say what changed in summary_of_changes" in response.text
    # The error summary links only a problem the date puts right to the date; this one is the draft's.
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', response.text, re.S).group(1)
    assert "Say what changed" in summary and "#effective-day" not in summary
    response = publish_draft(policy_lead, draft_id, TODAY - dt.timedelta(days=1), describe=False)
    assert re.search(r'<a href="#effective-day">The effective date must be today', response.text)
    assert db.session.get(ThresholdDraft, draft_id).published_id is None
    # Once it says what changed, it is published.
    assert publish_draft(policy_lead, draft_id, TODAY + dt.timedelta(days=1)).status_code == 302


BRUISE_CASE = "a bruise on a 3 month old baby is a call to the front door today, not 999"


def test_a_draft_with_a_new_id_is_held_to_its_bases_safety_cases_and_not_published_while_one_fails(policy_lead):
    """The reviewer's repro: a bruise on a non-mobile baby moved to level 2, standard urgency, in a
    draft with a new id. The cases naming the version it came from run, fail, and stop publishing."""
    draft_id = start_draft(policy_lead)
    bruise = current_version().indicators["injury_non_mobile_child"]
    page = f"/policy/drafts/{draft_id}/concerns/{bruise.id}"
    assert post(policy_lead, page, {"text": bruise.text, "hint": bruise.hint, "level": 2, "urgency": "standard"},
                form_page=page).status_code == 302
    html = policy_lead.get(f"/policy/drafts/{draft_id}/simulate").text
    passed, ran = map(int, re.search(r"(\d+) of (\d+) cases that apply to this draft pass", html).groups())
    assert ran > 100 and passed < ran
    assert html.count(BRUISE_CASE) == 1 and re.search(r"\d+ were skipped", html)
    response = publish_draft(policy_lead, draft_id, TODAY + dt.timedelta(days=1))
    assert response.status_code == 400
    assert f"Test case &#39;{BRUISE_CASE}&#39; fails" in response.text
    assert "urgency: expected same_day, got standard" in response.text
    assert db.session.get(ThresholdDraft, draft_id).published_id is None
    assert db.session.scalar(select(func.count()).select_from(PublishedThreshold)) == 0


def test_publishing_from_the_command_line_runs_the_cases_too(app, thresholds_dir, tmp_path):
    current = current_version()
    data = policy.load_data((thresholds_dir / f"{current.id}.yaml").read_text())
    data.update(id="cli-bruise", supersedes=current.id, summary_of_changes="(test) A bruise made standard.")
    policy.edit_indicator(data, "injury_non_mobile_child", {"level": 2, "urgency": "standard"})
    draft_file = tmp_path / "cli-bruise.yaml"
    draft_file.write_text(policy.dump(data))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["thresholds", "simulate", str(draft_file)])
    assert f"FAIL {BRUISE_CASE}" in result.output and "skipped" in result.output
    result = runner.invoke(args=["thresholds", "publish", str(draft_file), "--effective",
                                 (TODAY + dt.timedelta(days=7)).isoformat()])
    assert result.exit_code == 1 and f"Test case '{BRUISE_CASE}' fails" in result.output
    assert not (thresholds_dir / "cli-bruise.yaml").exists()


def old_file_as(new_id: str, supersedes: str | None = None) -> bytes:
    """The 2024 version, which cites no sources and names no version it replaces, with a new id, review
    date and summary (and `supersedes` when given): the reviewer's upload."""
    text = (ROOT / "thresholds" / "northmere-2024-09.yaml").read_text()
    data = policy.load_data(text)
    assert "sources" not in data and "supersedes" not in data
    text = re.sub(r"^id: .*$", f"id: {new_id}", text, count=1, flags=re.M)
    text = re.sub(r"^review_by: .*$", "review_by: 2027-12-31", text, count=1, flags=re.M)
    text = re.sub(r"^summary_of_changes: .*$", "summary_of_changes: (test) Only the dates.", text, count=1, flags=re.M)
    if supersedes:
        text = re.sub(r"^(effective_from: .*)$", rf"\1\nsupersedes: {supersedes}", text, count=1, flags=re.M)
    return text.encode()


@pytest.mark.parametrize("supersedes, messages", [
    (None, ["Say which published version this one replaces", "The draft cites no sources"]),
    ("nowhere-2020-01", ["&#39;supersedes&#39; names &#39;nowhere-2020-01&#39;, which is not a published version",
                         "The draft cites no sources"]),
    ("northmere-2024-09", ["The draft cites no sources", r"\d+ concerns and levels give no references",
                           "would undo its changes"]),
])
def test_an_uncited_file_or_one_naming_no_published_base_is_never_published(policy_lead, supersedes, messages):
    draft_id = start_draft(policy_lead)
    response = upload(policy_lead, draft_id, old_file_as("northmere-2027-01", supersedes))
    assert response.status_code == 302, response.text  # a draft may be anything that loads ...
    response = publish_draft(policy_lead, draft_id, dt.date(TODAY.year + 1, 1, 1))
    assert response.status_code == 400  # ... but is published only with its base and its sources
    for message in messages:
        assert re.search(message, response.text), message
    assert db.session.get(ThresholdDraft, draft_id).published_id is None
    assert db.session.scalar(select(func.count()).select_from(PublishedThreshold)) == 0


def test_a_draft_from_an_older_version_cannot_undo_one_published_since(policy_lead):
    """Draft B was started before draft A was published: from B's date, A's changes would be lost
    without anyone deciding it. B is refused, and told to start again from A."""
    first, second = start_draft(policy_lead), start_draft(policy_lead)
    concern = a_concern(2)
    assert move_concern(policy_lead, first, concern, 1).status_code == 302
    assert publish_draft(policy_lead, first, TODAY + dt.timedelta(days=5)).status_code == 302
    published = db.session.get(ThresholdDraft, first).published_id
    assert give_details(policy_lead, second, "northmere-2099-01", "(test) Something else.").status_code == 302
    response = publish_draft(policy_lead, second, TODAY + dt.timedelta(days=9))
    assert response.status_code == 400
    assert f"but &#39;{published}&#39;" in response.text and "would undo its changes" in response.text
    assert db.session.get(ThresholdDraft, second).published_id is None


def test_a_version_scheduled_later_from_an_older_base_would_undo_a_new_one_so_it_is_refused(policy_lead):
    """The reviewer's repro: A, from the version in force, is scheduled for later; B, from the same
    version, fixes something and would take effect first. On A's date the fix would disappear."""
    first, second = start_draft(policy_lead), start_draft(policy_lead)
    concern = a_concern(2)
    assert move_concern(policy_lead, first, concern, 1).status_code == 302
    later = TODAY + dt.timedelta(days=84)
    assert publish_draft(policy_lead, first, later).status_code == 302
    published = db.session.get(ThresholdDraft, first).published_id
    # The id both drafts were given is A's now.
    assert give_details(policy_lead, second, "northmere-2099-01", "(test) A fix.").status_code == 302
    assert move_concern(policy_lead, second, a_concern(3), 2).status_code == 302  # B's own change
    response = publish_draft(policy_lead, second, TODAY + dt.timedelta(days=1))
    assert response.status_code == 400, response.text
    assert (f"&#39;{published}&#39; is already scheduled to take effect on {later:%-d %B %Y}" in response.text
            and "it would undo this version&#39;s changes" in response.text)
    assert db.session.get(ThresholdDraft, second).published_id is None
    # After A's date, B would itself undo A's changes (the check that was there before): refused too.
    response = publish_draft(policy_lead, second, later + dt.timedelta(days=1))
    assert response.status_code == 400 and f"but &#39;{published}&#39;" in response.text


def test_a_draft_dated_before_its_own_scheduled_base_is_told_to_choose_a_later_date(policy_lead):
    """A draft started from a scheduled version, dated before it, was refused with "make these changes in a
    draft started from <its own base> instead": the draft already was. It is told to choose a later date."""
    first = start_draft(policy_lead)
    assert move_concern(policy_lead, first, a_concern(2), 1).status_code == 302
    later = TODAY + dt.timedelta(days=30)
    assert publish_draft(policy_lead, first, later).status_code == 302
    scheduled = db.session.get(ThresholdDraft, first).published_id
    response = post(policy_lead, "/policy/drafts", {"base": scheduled})
    assert response.status_code == 302
    second = int(response.location.rsplit("/", 1)[1])
    assert give_details(policy_lead, second, "northmere-2099-02", "(test) A later change.").status_code == 302
    response = publish_draft(policy_lead, second, TODAY + dt.timedelta(days=10))
    assert response.status_code == 400
    page = html.unescape(" ".join(response.text.split()))
    assert (f"This draft was started from '{scheduled}', which takes effect on {later:%-d %B %Y}: choose a later "
            "date." in page)
    assert f"in a draft started from '{scheduled}' instead" not in page
    assert db.session.get(ThresholdDraft, second).published_id is None
    assert publish_draft(policy_lead, second, later + dt.timedelta(days=1)).status_code == 302


def test_publishing_for_a_later_date_says_when_it_takes_effect_not_that_it_is_in_force(policy_lead):
    """The banner said "it is in force from 1 January 2027" for a version that was only scheduled."""
    later_id = start_draft(policy_lead)
    assert move_concern(policy_lead, later_id, a_concern(2), 1).status_code == 302
    later = TODAY + dt.timedelta(days=20)
    response = publish_draft(policy_lead, later_id, later)
    assert response.status_code == 302
    page = html.unescape(" ".join(policy_lead.get(response.location).text.split()))
    published = db.session.get(ThresholdDraft, later_id).published_id
    assert (f"Published {published}: it takes effect on {later:%-d %B %Y}. Until then referrers keep using the "
            "version in force today." in page)
    assert "it is in force from" not in page


def test_the_scheduled_versions_are_shown_when_a_draft_is_started_and_one_can_be_started_from(policy_lead):
    first = start_draft(policy_lead)
    assert move_concern(policy_lead, first, a_concern(2), 1).status_code == 302
    later = TODAY + dt.timedelta(days=30)
    assert publish_draft(policy_lead, first, later).status_code == 302
    scheduled = db.session.get(ThresholdDraft, first).published_id
    for page in ("/policy/", "/policy/drafts"):
        html = policy_lead.get(page).text
        assert f"{scheduled}, from {later:%-d %B %Y} (started from {current_version().id})" in html
        assert f"Start a draft from {scheduled} (scheduled)" in html
    response = post(policy_lead, "/policy/drafts", follow_redirects=True)
    assert f"{scheduled} is scheduled to take effect on {later:%-d %B %Y}" in html_text(response)
    response = post(policy_lead, "/policy/drafts", {"base": scheduled})
    assert response.status_code == 302
    draft = db.session.get(ThresholdDraft, int(response.location.rsplit("/", 1)[1]))
    assert draft.base_id == scheduled and f"supersedes: {scheduled}" in draft.content
    assert post(policy_lead, "/policy/drafts", {"base": "northmere-2024-09"}).status_code == 404


def html_text(response) -> str:
    return html.unescape(response.text)


def test_a_contacts_phone_must_be_a_number_people_can_dial(policy_lead):
    """Every page shows the front door's number as a tel: link: "call us" would be no number at all."""
    draft_id = start_draft(policy_lead)
    before = db.session.get(ThresholdDraft, draft_id).content
    page = f"/policy/drafts/{draft_id}/contacts/front_door"
    response = post(policy_lead, page, {"name": "Front door", "phone": "call us"}, form_page=page)
    assert_refused(response, draft_id, before, "Enter a phone number people can dial")
    assert 'value="call us"' in response.text  # what was typed is kept
    assert post(policy_lead, page, {"name": "Front door", "phone": "0300-123-4567"}, form_page=page).status_code == 302
    assert post(policy_lead, page, {"name": "Front door", "phone": "01632 960 100"}, form_page=page).status_code == 302
    # A file with one is refused too, naming its line and key.
    text = db.session.get(ThresholdDraft, draft_id).content.replace("phone: 01632 960 100", "phone: call us", 1)
    assert_refused(upload(policy_lead, draft_id, text.encode()), draft_id,
                   db.session.get(ThresholdDraft, draft_id).content,
                   r"Line \d+, contacts\.front_door\.phone: must be a phone number people can dial")


def test_an_age_rule_no_child_could_match_is_refused(policy_lead):
    """From 12 months to 3 months: the rule would silently never apply (a baby's concern not raised)."""
    draft_id = start_draft(policy_lead)
    rule = next(r for r in current_version().document.rules if r.type == "age" and r.when.max_age_months is not None)
    saved = db.session.get(ThresholdDraft, draft_id).content
    page = f"/policy/drafts/{draft_id}/rules/{rule.id}"
    response = post(policy_lead, page, {"reason": rule.reason, "min_age_months": 12, "max_age_months": 3,
                                        "raise_to": rule.raise_to}, form_page=page)
    assert_refused(response, draft_id, saved, "&#39;From age&#39; must not be more than &#39;To age&#39;")
    # In a file, the loader refuses it with the line and key.
    data = policy.load_data(saved)
    for r in data["rules"]:
        if r["id"] == rule.id:
            r["when"]["min_age_months"] = r["when"]["max_age_months"] + 1
    response = upload(policy_lead, draft_id, policy.dump(data).encode())
    assert_refused(response, draft_id, saved,
                   rf"rules\[\d+\] \({rule.id}\)\.when\.min_age_months: must not be more than max_age_months")


@pytest.mark.parametrize("path", sorted((ROOT / "thresholds").glob("*.yaml")), ids=lambda p: p.stem)
def test_drafts_read_and_write_as_pyyamls_python_reader_and_writer_would(path):
    """policy reads and writes drafts with libyaml when PyYAML has it: same data, same text."""
    import yaml

    class InFull(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True
    text = path.read_text(encoding="utf-8")
    data = policy.load_data(text)
    assert data == yaml.safe_load(text)
    assert policy.dump(data) == yaml.dump(data, Dumper=InFull, sort_keys=False, allow_unicode=True, width=100,
                                          default_flow_style=False)


def test_a_draft_from_a_second_version_in_a_month_is_named_for_next_month():
    """northmere-2026-12-2 (a second version in December) gives northmere-2027-01, not
    northmere-2026-12-2-2027-01."""
    from signpost.thresholds import load_library
    library = load_library(ROOT / "thresholds")
    base = library.by_id("northmere-2026-12-2")
    text = (ROOT / "thresholds" / "northmere-2026-12-2.yaml").read_text()
    draft = policy.load_data(policy.new_draft_text(base, text, library, dt.date(2026, 12, 9), "A policy lead"))
    assert draft["id"] == "northmere-2027-01"


def concern_form_data(concern, **changes) -> dict:
    """What the concern form sends for this concern unchanged (its safety boxes as they are)."""
    data = {"text": concern.text, "hint": concern.hint or "", "level": concern.level, "urgency": concern.urgency,
            "urgency_reason": concern.urgency_reason or "", "references": policy.format_references(concern.references),
            "note": concern.note or "", "safety_shown": "1"}
    data.update({flag: "y" for flag in TELLING_FLAGS if getattr(concern, flag)})
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_policy_lead_can_say_the_family_must_not_be_told_and_take_it_back(policy_lead):
    draft_id = start_draft(policy_lead)
    concern = a_concern(3)
    assert not concern.family_not_told and not concern.must_tell_council
    page = f"/policy/drafts/{draft_id}/concerns/{concern.id}"
    form_page = policy_lead.get(page).text
    assert "Referrers must not tell the family or ask for their consent" in form_page
    assert re.search(r'<input type="hidden" name="safety_shown" value="1">', form_page)  # unticked is told apart
    response = post(policy_lead, page, concern_form_data(concern, family_not_told="y", must_tell_council="y"),
                    form_page=page)
    assert response.status_code == 302, response.text

    def saved():
        db.session.expire_all()
        data = policy.load_data(db.session.get(ThresholdDraft, draft_id).content)
        return next(i for i in data["indicators"] if i["id"] == concern.id)
    assert saved()["family_not_told"] is True and saved()["must_tell_council"] is True
    shown = policy_lead.get(page).text
    assert re.search(r'name="family_not_told"[^>]*value="y"[^>]*checked', shown)
    changes = html.unescape(policy_lead.get(f"/policy/drafts/{draft_id}").text)
    assert re.search(r"Family not told: no</td>\s*<td[^>]*>Family not told: yes", changes)  # the draft's changes
    # A post from something that does not show the boxes (no marker) leaves them as they are.
    without = {k: v for k, v in concern_form_data(concern).items() if k != "safety_shown"}
    assert post(policy_lead, page, without, form_page=page).status_code == 302
    assert saved()["family_not_told"] is True
    # Unticked on the form: taken out of the file (written only when true).
    assert post(policy_lead, page, concern_form_data(concern), form_page=page).status_code == 302
    assert "family_not_told" not in saved() and "must_tell_council" not in saved()


def test_a_new_concern_can_be_one_the_family_must_not_be_told_of(policy_lead):
    draft_id = start_draft(policy_lead)
    version = current_version()
    domain = version.document.domains[0]
    page = f"/policy/drafts/{draft_id}/concerns/new"
    source = version.document.sources[0].id
    response = post(policy_lead, page, {"id": "a_brand_new_secret_concern", "area": f"{domain.id}/{domain.areas[0].id}",
                                        "text": "(test) A concern the family must not hear of", "level": 3,
                                        "references": f"{source} | (test) somewhere", "safety_shown": "1",
                                        "family_not_told": "y"}, form_page=page)
    assert response.status_code == 302, response.text
    data = policy.load_data(db.session.get(ThresholdDraft, draft_id).content)
    added = next(i for i in data["indicators"] if i["id"] == "a_brand_new_secret_concern")
    assert added["family_not_told"] is True and "must_tell_council" not in added


def test_a_lado_concern_cannot_be_marked_do_not_tell_the_family(policy_lead):
    """A concern about an adult is outside the child's route: the boxes are not offered, and a file
    setting them is refused with its line and key."""
    lado = next(i for i in current_version().document.indicators if i.lado)
    draft_id = start_draft(policy_lead)
    page = f"/policy/drafts/{draft_id}/concerns/{lado.id}"
    assert "safety_shown" not in policy_lead.get(page).text
    data = policy.load_data(db.session.get(ThresholdDraft, draft_id).content)
    next(i for i in data["indicators"] if i["id"] == lado.id)["family_not_told"] = True
    _version, problems = policy.check(policy.dump(data), current_library())
    assert [p.key.rsplit(".", 1)[-1] for p in problems] == ["family_not_told"]
    assert "cannot be set on a LADO concern" in problems[0].message


# ---- two people editing one draft ------------------------------------------------------------------

def shown_hash(client, page: str) -> str:
    return dict(DRAFT_HASH_RE.findall(client.get(page).text)).popitem()[1]


def someone_else_changes(draft_id: int, concern, level: int = 1) -> str:
    """Another lead saves a change to the draft (as their own form would): the draft's text after it."""
    from signpost.store import policy as store_policy
    draft = db.session.get(ThresholdDraft, draft_id)
    data = policy.edit_indicator(policy.load_data(draft.content), concern.id, {"level": level})
    store_policy.save_draft(draft, policy.dump(data), "concern_changed", seen=policy.text_hash(draft.content),
                            actor="test")
    db.session.expire_all()
    return db.session.get(ThresholdDraft, draft_id).content


def test_a_change_made_from_a_page_shown_before_someone_elses_save_is_refused_keeping_the_input(policy_lead):
    draft_id = start_draft(policy_lead)
    mine, theirs = a_concern(2), a_concern(3)
    page = f"/policy/drafts/{draft_id}/concerns/{mine.id}"
    opened = shown_hash(policy_lead, page)
    after_theirs = someone_else_changes(draft_id, theirs, 2)
    typed = {"draft_hash": opened, "text": "(test) My rewording, typed with care", "hint": mine.hint or "", "level": 1}
    response = post(policy_lead, page, typed, form_page=page)
    assert response.status_code == 400
    assert "Someone else changed this draft after you opened this page, so your change was not saved" in html_text(response)
    assert "(test) My rewording, typed with care" in response.text  # nothing typed is lost
    db.session.expire_all()
    assert db.session.get(ThresholdDraft, draft_id).content == after_theirs  # theirs kept, mine not saved
    # The page now carries the draft as it is: sending it again applies my change to theirs.
    now = dict(DRAFT_HASH_RE.findall(response.text))["draft_hash"]
    assert now == policy.text_hash(after_theirs) != opened
    assert post(policy_lead, page, {**typed, "draft_hash": now}, form_page=page).status_code == 302
    saved = policy.load_data(db.session.get(ThresholdDraft, draft_id).content)
    assert policy.find(saved["indicators"], mine.id)["text"] == "(test) My rewording, typed with care"
    assert policy.find(saved["indicators"], theirs.id)["level"] == 2


def test_a_save_between_reading_the_draft_and_writing_it_is_never_overwritten(app, users):
    """The check is made by the database in the write itself: a save that lands after this request read
    the draft (and checked its hash) still refuses this one, and keeps the other."""
    from sqlalchemy import update
    from signpost.store import policy as store_policy
    draft_id = start_draft_client(app, users)
    draft = db.session.get(ThresholdDraft, draft_id)
    read = draft.content
    with db.engine.begin() as other:  # another worker's save, after this one read the draft
        other.execute(update(ThresholdDraft).where(ThresholdDraft.id == draft_id).values(content=read + "# theirs\n"))
    with pytest.raises(store_policy.DraftChanged):
        store_policy.save_draft(draft, read + "# mine\n", "uploaded", seen=policy.text_hash(read), actor="test")
    db.session.expire_all()
    assert db.session.get(ThresholdDraft, draft_id).content == read + "# theirs\n"
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "threshold_draft_changed")) == 0


def test_an_upload_over_a_draft_changed_since_the_page_was_shown_is_refused(policy_lead):
    draft_id = start_draft(policy_lead)
    opened = shown_hash(policy_lead, f"/policy/drafts/{draft_id}")
    after_theirs = someone_else_changes(draft_id, a_concern(3), 2)
    import io
    mine = db.session.get(ThresholdDraft, draft_id).content  # a file with no problems
    response = post(policy_lead, f"/policy/drafts/{draft_id}/upload",
                    {"draft_hash": opened, "file": (io.BytesIO((mine + "# mine\n").encode()), "draft.yaml")},
                    content_type="multipart/form-data", form_page=f"/policy/drafts/{draft_id}")
    assert_refused(response, draft_id, after_theirs, "Someone else changed this draft after you opened this page, "
                                                     "so the file was not used")


def test_retiring_from_a_page_shown_before_a_change_is_refused(policy_lead):
    draft_id = start_draft(policy_lead)
    concern = a_concern(2)
    page = f"/policy/drafts/{draft_id}/concerns/{concern.id}/retire"
    opened = shown_hash(policy_lead, page)
    after_theirs = someone_else_changes(draft_id, a_concern(3), 2)
    response = post(policy_lead, page, {"draft_hash": opened}, form_page=page)
    assert_refused(response, draft_id, after_theirs, "so the concern was not retired")


def test_publishing_is_for_the_text_the_page_showed(policy_lead):
    draft_id = start_draft(policy_lead)
    assert move_concern(policy_lead, draft_id, a_concern(2), 1).status_code == 302
    describe_draft(policy_lead, draft_id)
    # Simulated, then changed by someone else: the publish page opened from the simulation says so.
    simulation = policy_lead.get(f"/policy/drafts/{draft_id}/simulate").text
    link = html.unescape(re.search(r'href="([^"]*/publish\?simulated=[0-9a-f]+)"', simulation).group(1))
    page = f"/policy/drafts/{draft_id}/publish"
    opened = shown_hash(policy_lead, page)
    assert "This draft has changed since you simulated it" not in policy_lead.get(link).text
    someone_else_changes(draft_id, a_concern(3), 2)
    assert "This draft has changed since you simulated it" in policy_lead.get(link).text
    # A confirmation sent from the page shown before the change publishes nothing ...
    on = TODAY + dt.timedelta(days=1)
    typed = {"effective-day": on.day, "effective-month": on.month, "effective-year": on.year, "effective-confirm": "y"}
    response = post(policy_lead, page, {**typed, "effective-draft_hash": opened}, form_page=page)
    assert response.status_code == 400
    assert "Someone else changed this draft after you opened this page, so the version was not published" in html_text(response)
    assert db.session.get(ThresholdDraft, draft_id).published_id is None
    assert db.session.scalar(select(func.count()).select_from(PublishedThreshold)) == 0
    # ... keeps the date, asks again for the confirmation, and shows what would now be published.
    assert f'value="{on.day}"' in response.text and 'name="effective-confirm" type="checkbox" value="y" checked' not in response.text
    assert "What you are publishing: the changes from" in response.text
    assert post(policy_lead, page, typed, form_page=page).status_code == 302


# ---- withdrawing a scheduled version ------------------------------------------------------------------

def withdraw(client, version_id: str, reason: str = "(test) The concern was moved by mistake."):
    page = f"/policy/versions/{version_id}/withdraw"
    return post(client, page, {"reason": reason}, form_page=page)


def test_a_scheduled_version_withdrawn_is_used_by_no_one_and_its_day_is_free_again(policy_lead, users, thresholds_dir):
    """A mistake found before the date: withdrawn, nothing uses it; the draft it came from is open again,
    and once given a new id it can be published for the same day."""
    before = current_version()
    draft_id = start_draft(policy_lead)
    concern = a_concern(2)
    assert move_concern(policy_lead, draft_id, concern, 1).status_code == 302
    tomorrow = TODAY + dt.timedelta(days=1)
    assert publish_draft(policy_lead, draft_id, tomorrow).status_code == 302
    new_id = db.session.get(ThresholdDraft, draft_id).published_id
    assert current_library().in_force(tomorrow).id == new_id
    versions = policy_lead.get("/policy/versions").text
    assert f'href="/policy/versions/{new_id}/withdraw"' in versions
    assert f'/policy/versions/{before.id}/withdraw' not in versions  # in force: never
    page = policy_lead.get(f"/policy/versions/{new_id}/withdraw")
    assert page.status_code == 200 and f"{before.id} stays in force from {tomorrow:%-d %B %Y}" in page.text
    # A reason is needed, and nothing changes without one.
    refused = withdraw(policy_lead, new_id, reason="   ")
    assert refused.status_code == 400 and "Enter why the version is being withdrawn" in refused.text
    assert current_library().in_force(tomorrow).id == new_id
    assert withdraw(policy_lead, new_id).status_code == 302
    db.session.expire_all()
    row = db.session.get(PublishedThreshold, new_id)
    assert row.withdrawn_at is not None and row.withdrawn_by == users["policy_lead"].id
    assert row.withdrawal_reason == "(test) The concern was moved by mistake."
    assert current_library().by_id(new_id) is None and current_library().in_force(tomorrow).id == before.id
    assert not (thresholds_dir / f"{new_id}.yaml").exists()
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "threshold_withdrawn")).all()
    assert event.record_id == new_id and event.user_id == users["policy_lead"].id
    assert event.detail["drafts_reopened"] == 1
    listed = policy_lead.get("/policy/versions").text
    assert "Withdrawn before they took effect" in listed and "(test) The concern was moved by mistake." in listed
    assert policy_lead.get(f"/policy/versions/{new_id}/withdraw").status_code == 404
    # The draft can be changed again; published again under its old id, it is refused ...
    draft = db.session.get(ThresholdDraft, draft_id)
    assert draft.published_id is None
    again = publish_draft(policy_lead, draft_id, tomorrow)
    assert again.status_code == 400 and "withdrawn, and a version&#39;s id is never used twice" in again.text
    # ... and with a new id, the withdrawn version's day is free for it.
    assert give_details(policy_lead, draft_id, "northmere-2099-02",
                        "(test) Moved a concern, correctly this time.").status_code == 302
    assert publish_draft(policy_lead, draft_id, tomorrow).status_code == 302
    assert current_library().in_force(tomorrow).id == "northmere-2099-02"


def test_only_a_version_published_here_not_yet_in_force_and_last_scheduled_can_be_withdrawn(policy_lead, users, app,
                                                                                              thresholds_dir):
    from signpost.content import forget_published
    from signpost.store import policy as store_policy
    current = current_version()
    # The version in force came as a file: there is no page to withdraw it, and the store refuses it.
    assert policy_lead.get(f"/policy/versions/{current.id}/withdraw").status_code == 404
    with pytest.raises(store_policy.CannotWithdraw, match="removing its file"):
        store_policy.withdraw(current.id, "x", library=current_library(), thresholds_dir=thresholds_dir,
                              today=TODAY, actor=users["policy_lead"])
    # B, started from scheduled A, is scheduled after it.
    a_id, second = publish_a_then_draft_from_it(policy_lead)
    assert publish_draft(policy_lead, second, TODAY + dt.timedelta(days=6)).status_code == 302
    # A cannot go while B, which may build on it, is scheduled: no link, and refused if sent.
    assert f"/policy/versions/{a_id}/withdraw\"" not in policy_lead.get("/policy/versions").text
    refused = withdraw(policy_lead, a_id)
    assert refused.status_code == 400 and "withdraw northmere-2099-03 first" in refused.text
    # Once in force (here: as if the date had come), a version cannot be withdrawn.
    forget_published(app)
    with pytest.raises(store_policy.CannotWithdraw, match="took effect"):
        store_policy.withdraw("northmere-2099-03", "x", library=current_library(), thresholds_dir=thresholds_dir,
                              today=TODAY + dt.timedelta(days=6), actor=users["policy_lead"])
    assert withdraw(policy_lead, "northmere-2099-03").status_code == 302
    assert withdraw(policy_lead, a_id).status_code == 302
    forget_published(app)
    assert [v.id for v in current_library().versions if v.effective_from > TODAY] == []
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "threshold_withdrawn")) == 2
    # B's draft is open again, but it was started from A and still has A's changes: it says so.
    assert give_details(policy_lead, second, "northmere-2099-04", "(test) Another change.").status_code == 302
    refused = publish_draft(policy_lead, second, TODAY + dt.timedelta(days=6))
    assert refused.status_code == 400
    assert f"&#39;{a_id}&#39;, the version this draft was started from, was withdrawn" in refused.text


def test_a_withdrawn_version_is_left_out_on_every_host_even_where_its_file_is_still_on_disk(app):
    """Another host, or one whose file could not be removed: the database's word that it is withdrawn wins."""
    from signpost import content
    files = app.extensions["signpost.library"]
    newest = files.versions[-1]
    merged = content.merge_published(files, [(newest.id, newest.content_hash, None, True)])
    assert merged.by_id(newest.id) is None
    assert [v.id for v in merged.versions] == [v.id for v in files.versions[:-1]]


def publish_a_then_draft_from_it(policy_lead, days: int = 2) -> tuple[str, int]:
    """A published for `days` from today; a described draft started from A, with a change of its own."""
    first = start_draft(policy_lead)
    assert move_concern(policy_lead, first, a_concern(2), 1).status_code == 302
    assert publish_draft(policy_lead, first, TODAY + dt.timedelta(days=days)).status_code == 302
    a_id = db.session.get(ThresholdDraft, first).published_id
    assert post(policy_lead, "/policy/drafts", {"base": a_id}).status_code == 302
    second = db.session.scalars(select(ThresholdDraft).order_by(ThresholdDraft.id.desc())).first().id
    assert give_details(policy_lead, second, "northmere-2099-03", "(test) Another change.").status_code == 302
    assert move_concern(policy_lead, second, a_concern(3), 2).status_code == 302
    return a_id, second


def test_a_withdrawal_and_a_publication_built_on_it_on_two_hosts_never_both_go_through(policy_lead, users, app,
                                                                                      thresholds_dir):
    """Two leads on two hosts: one withdraws A, the other publishes B, started from A, for a later date.
    Each read the versions before the other's change was committed (publishing runs every test case
    first, seconds in which the other can act). Both went through: B, scheduled, carried A's mistake
    with A withdrawn. The database has the last word, either way round."""
    from signpost.content import forget_published
    from signpost.store import policy as store_policy
    # The withdrawal read the versions before B was published.
    a_id, second = publish_a_then_draft_from_it(policy_lead)
    forget_published(app)
    read_by_withdraw = current_library()
    assert publish_draft(policy_lead, second, TODAY + dt.timedelta(days=6)).status_code == 302
    with pytest.raises(store_policy.CannotWithdraw, match="withdraw northmere-2099-03 first"):
        store_policy.withdraw(a_id, "(test) x", library=read_by_withdraw, thresholds_dir=thresholds_dir, today=TODAY,
                              actor=users["policy_lead"])
    forget_published(app)
    assert current_library().by_id(a_id) is not None
    assert db.session.get(PublishedThreshold, a_id).withdrawn_at is None


def test_a_draft_is_not_published_on_a_version_withdrawn_after_its_checks_read_the_versions(policy_lead, users, app,
                                                                                           thresholds_dir):
    from signpost.content import forget_published
    from signpost.store import policy as store_policy
    a_id, second = publish_a_then_draft_from_it(policy_lead)
    forget_published(app)
    read_by_publish = current_library()
    store_policy.withdraw(a_id, "(test) x", library=read_by_publish, thresholds_dir=thresholds_dir, today=TODAY,
                          actor=users["policy_lead"])
    draft = db.session.get(ThresholdDraft, second)
    with pytest.raises(policy.PublishError, match="was withdrawn a moment ago"):
        store_policy.publish(draft.content, TODAY + dt.timedelta(days=6), library=read_by_publish,
                             thresholds_dir=thresholds_dir, today=TODAY, draft=draft,
                             seen=policy.text_hash(draft.content), actor=users["policy_lead"])
    assert db.session.get(PublishedThreshold, "northmere-2099-03") is None
    assert not (thresholds_dir / "northmere-2099-03.yaml").exists()
    assert db.session.get(ThresholdDraft, second).published_id is None


def test_a_version_withdrawn_in_the_seconds_before_its_date_is_not_used_at_midnight_on_another_host(
        policy_lead, users, app, tmp_path, monkeypatch):
    """Another host read the versions a second before midnight and keeps them for its cache time: at midnight
    it used the version withdrawn in between, for a few seconds, and advice was given under it."""
    from conftest import make_app
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    first = start_draft(policy_lead)
    assert move_concern(policy_lead, first, a_concern(2), 1).status_code == 302
    tomorrow = TODAY + dt.timedelta(days=1)
    assert publish_draft(policy_lead, first, tomorrow).status_code == 302
    a_id = db.session.get(ThresholdDraft, first).published_id
    other = make_app(url, THRESHOLDS_DIR=str(without_scheduled_versions(copy_thresholds(tmp_path / "other-host"))),
                     THRESHOLDS_CACHE_SECONDS=3600, RATELIMIT_ENABLED=False)
    with other.app_context():
        assert current_library().by_id(a_id) is not None  # read at 23:59:58
    assert withdraw(policy_lead, a_id).status_code == 302  # 23:59:59
    monkeypatch.setattr(values, "uk_today", lambda: tomorrow)
    with other.app_context():  # midnight, the other host's list still within its cache time
        assert current_version().id != a_id and current_library().by_id(a_id) is None
        db.session.remove()
        db.engine.dispose()


def test_a_draft_started_after_a_withdrawal_is_not_given_the_withdrawn_versions_id(policy_lead):
    """A withdrawn version's id is never used twice, but a new draft was given it (the next free id among
    the versions in use), to be refused only at publishing."""
    first = start_draft(policy_lead)
    assert move_concern(policy_lead, first, a_concern(2), 1).status_code == 302
    assert publish_draft(policy_lead, first, TODAY + dt.timedelta(days=3)).status_code == 302
    a_id = db.session.get(ThresholdDraft, first).published_id
    assert withdraw(policy_lead, a_id).status_code == 302
    again = start_draft(policy_lead)
    assert policy.load_data(db.session.get(ThresholdDraft, again).content)["id"] != a_id
    assert publish_draft(policy_lead, again, TODAY + dt.timedelta(days=3)).status_code == 302
