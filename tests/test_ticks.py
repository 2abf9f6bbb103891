"""The fast paths of page rendering give exactly the markup GOV.UK Frontend's macros give.

signpost/web/ticks.py renders each concern group once and fills in a request's ticks and
severity questions; signpost/web/templating.py remembers component macros' output with typed
values left out. Both are held here to the real macros, for every group of every concern page
at several ages, ticked and unticked, and for typed values that need escaping.
"""
from __future__ import annotations

import datetime as dt

import pytest
from jinja2 import Environment
from markupsafe import Markup

from signpost import journey
from signpost.content import current_version_or_none
from signpost.web import ticks
from signpost.web.templating import Remembered
from signpost.values import uk_today

CHECKBOXES = "govuk_frontend_jinja/components/checkboxes/macro.html"
AGES = [(None, True), (4, False), (9 * 12 + 3, False), (15 * 12, False)]  # unborn, 4 months, 9, 15


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path):  # rendering only: one database is enough
    return f"sqlite:///{tmp_path / 'ticks.db'}"


_real: dict = {}


def real_macro(app, name: str, component: str):
    """The component's own macro, as Jinja compiles it (not the remembering wrapper)."""
    if (name, component) in _real:
        return _real[name, component]
    source = app.jinja_env.loader.get_source(app.jinja_env, f"govuk_frontend_jinja/components/{component}/macro.html")[0]
    plain = Environment(loader=app.jinja_env.loader, trim_blocks=True, lstrip_blocks=True, autoescape=True)
    found = _real[name, component] = getattr(plain.from_string(source).module, name)
    return found


def layouts(version):
    for months, unborn in AGES:
        answers = journey.JourneyAnswers(in_danger="no", child=journey.Child(
            unborn=unborn, expected_date=uk_today() + dt.timedelta(days=60) if unborn else None,
            years=None if unborn else months // 12, months=None if unborn else months % 12))
        yield journey.layout(version, answers)


def page_groups(version):
    """(page, group, index, emergency ids) for every group each page can show."""
    for plan in layouts(version):
        emergency = {i.id for i in plan.serious_items if journey.is_emergency(i.options[0])}
        for index, group in enumerate(plan.serious, 1):
            yield "serious", group, index, emergency
        for index, group in enumerate(plan.areas, 1):
            yield "areas", group, index, set()
        for index, group in enumerate(plan.concern_groups(plan.area_ids), 1):
            yield "concerns", group, index, set()


def expected(app, kind, group, index, emergency, chosen, reveals, described_by=""):
    """What the pages rendered before: the real govukCheckboxes with the ticked state."""
    params = ticks.group_params(kind, group, index, emergency, described_by=described_by)
    for entry in params["items"]:
        entry["checked"] = entry["value"] in chosen
        if "conditional" in entry:
            entry["conditional"] = {"html": reveals[entry["value"]]}
    html = str(real_macro(app, "govukCheckboxes", "checkboxes")(params))
    return html.replace("data-aria-controls=", "data-reveals=") if kind == "concerns" else html


def test_every_concern_group_matches_the_real_macro_ticked_or_not(app):
    version = current_version_or_none()
    seen = set()
    questions = 0
    with app.test_request_context():
        for kind, group, index, emergency in page_groups(version):
            ids = [i.id for i in group.items]
            # A revealed question spanning lines, as govukRadios gives, with markup to keep.
            reveals = {i.id: Markup(f'<div class="govuk-form-group">\n  <p>{i.id} &amp; more</p>\n\n</div>\n')
                       for i in group.items if i.question}
            questions += len(reveals)
            for chosen, described_by in ((set(), ""), (set(ids), ""), (set(ids[::2]), "concerns-error"),
                                         ({"not-an-item"}, "concerns-error")):
                got = str(ticks.concern_checkboxes(kind, version.content_hash, group, index, chosen, emergency,
                                                   reveals=reveals, described_by=described_by))
                assert got == expected(app, kind, group, index, emergency, chosen, reveals, described_by), \
                    (kind, group.id)
            seen.add(kind)
    assert seen == {"serious", "areas", "concerns"} and questions > 0


def test_with_an_error_every_group_of_boxes_is_described_by_it_and_without_one_none_is(app):
    version = current_version_or_none()
    with app.test_request_context():
        for kind, group, index, emergency in page_groups(version):
            plain = str(ticks.concern_checkboxes(kind, version.content_hash, group, index, set(), emergency))
            wrong = str(ticks.concern_checkboxes(kind, version.content_hash, group, index, set(), emergency,
                                                 described_by="concerns-error"))
            assert '<fieldset class="govuk-fieldset" aria-describedby="concerns-error">' in wrong
            assert "aria-describedby=\"\"" not in plain and ticks.ERROR_SLOT not in plain + wrong
            assert "concerns-error" not in plain


def test_a_ticked_box_reveals_its_question_and_an_unticked_one_hides_it(app):
    version = current_version_or_none()
    with app.test_request_context():
        kind, group, index, _ = next(g for g in page_groups(version)
                                     if g[0] == "concerns" and any(i.question for i in g[1].items))
        item = next(i for i in group.items if i.question)
        reveals = {i.id: Markup("<p>question</p>") for i in group.items if i.question}
        shown = str(ticks.concern_checkboxes(kind, version.content_hash, group, index, {item.id}, reveals=reveals))
        hidden = str(ticks.concern_checkboxes(kind, version.content_hash, group, index, set(), reveals=reveals))
    opening = f'class="govuk-checkboxes__conditional" id="conditional-concerns-{item.id}"'
    assert opening in shown and opening not in hidden
    assert f'value="{item.id}" checked data-reveals=' in shown
    assert f'value="{item.id}" data-reveals=' in hidden


@pytest.mark.parametrize("name,component,params", [
    ("govukInput", "input", {"id": "years", "name": "years", "label": {"text": "Years"}, "value": '<b>&"x\' 12'}),
    ("govukInput", "input", {"id": "years", "name": "years", "label": {"text": "Years"}, "value": ""}),
    ("govukTextarea", "textarea", {"id": "says", "name": "says", "label": {"text": "Words"},
                                   "value": "line one\n  <script>alert(1)</script>", "errorMessage": {"text": "Bad"}}),
    ("govukDateInput", "date-input", {"id": "dob", "fieldset": {"legend": {"text": "Date"}},
                                      "items": [{"name": "day", "value": "3"}, {"name": "month", "value": "<11>"},
                                                {"name": "year", "value": ""}]}),
    ("govukRadios", "radios", {"name": "born", "items": [{"value": "born", "text": "Born", "checked": True},
                                                         {"value": "unborn", "text": Markup("<b>Not</b> yet")}]}),
])
def test_remembered_components_give_the_real_markup_and_keep_no_typed_value(app, name, component, params):
    template = app.jinja_env.get_template(f"govuk_frontend_jinja/components/{component}/macro.html")
    remembered = getattr(template.module, name)
    assert isinstance(remembered, Remembered)
    real = real_macro(app, name, component)
    assert str(remembered(params)) == str(real(params))
    assert str(remembered(params)) == str(real(params))  # the second time, from what it kept
    kept = "".join(remembered.seen.values())
    typed = [params.get("value")] + [i.get("value") for i in params.get("items", []) if name == "govukDateInput"]
    for value in typed:
        if value and name != "govukRadios":
            assert value not in kept and str(Markup.escape(value)) not in kept
    other = {**params, **({"value": "something else"} if "value" in params else {})}
    assert str(remembered(other)) == str(real(other))


def test_markup_and_text_with_the_same_characters_are_not_confused(app):
    template = app.jinja_env.get_template("govuk_frontend_jinja/components/hint/macro.html")
    as_text = template.module.govukHint({"text": "<b>bold</b>"})
    as_html = template.module.govukHint({"html": Markup("<b>bold</b>")})
    as_text_in_html = template.module.govukHint({"html": "<b>bold</b>"})
    assert "&lt;b&gt;" in as_text and "<b>bold</b>" in as_html and "<b>bold</b>" in as_text_in_html
    assert template.module.govukHint({"text": "<b>bold</b>"}) == as_text
