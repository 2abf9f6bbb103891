"""`flask thresholds ...` through Flask's CLI runner: validate, list, show, diff, test, assess,
and the problems `simulate` and `publish` find in a draft.

Most commands run on the fixture versions (tests/fixtures/thresholds/good) for exact output.
"""
from __future__ import annotations

import json
import re
import shutil

import pytest

import signpost
from helpers_thresholds import (BROKEN, FIXTURE_DIRECTORY, GOOD, broken_markers, fixture_version,
                                shipped_library)

PROBLEM_LINE = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+): ")


def make_app(thresholds_dir=GOOD, directory=FIXTURE_DIRECTORY):
    return signpost.create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-for-the-cli-tests-only-0123456789",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "THRESHOLDS_DIR": str(thresholds_dir),
        "DIRECTORY_PATH": str(directory),
    })


@pytest.fixture(scope="module")
def fixture_cli():
    runner = make_app().test_cli_runner()
    return lambda *args: runner.invoke(args=["thresholds", *args])


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["thresholds", *args])


# --- validate --------------------------------------------------------------------------------

def test_validate_shipped_files_exits_0():
    result = invoke(signpost.create_app({"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"}),
                    "validate")
    assert result.exit_code == 0, result.output
    assert f"All valid ({len(shipped_library().versions)} threshold file(s) checked)." in result.stdout


def test_validate_fixture_directory_exits_0(fixture_cli):
    result = fixture_cli("validate")
    assert result.exit_code == 0, result.output
    assert "All valid (2 threshold file(s) checked)." in result.stdout


def test_validate_broken_files_prints_file_line_for_each_problem(fixture_cli):
    result = fixture_cli("validate", str(BROKEN))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines and all(PROBLEM_LINE.match(line) for line in lines), lines
    expected = {(str(path), m.line) for path in BROKEN.glob("*.yaml") for m in broken_markers(path)}
    reported = {(m["file"], int(m["line"])) for m in map(PROBLEM_LINE.match, lines)}
    assert reported == expected
    assert f"{len(expected)} problem(s) found." in result.stderr


def test_validate_one_broken_file_names_line_and_key(fixture_cli):
    path = BROKEN / "bad-level.yaml"
    (marker,) = broken_markers(path)
    result = fixture_cli("validate", str(path))
    assert result.exit_code == 1
    assert result.stdout.strip() == (f"{path}:{marker.line}: indicators[3] (housing_poor).level: "
                                     "level 5 is not defined under levels")  # the concern's id, as the web says


def test_validate_good_file_and_missing_file(fixture_cli, tmp_path):
    assert fixture_cli("validate", str(GOOD / "fixture-2024-01.yaml")).exit_code == 0
    result = fixture_cli("validate", str(tmp_path / "nowhere.yaml"))
    assert result.exit_code == 1 and "nowhere.yaml:1: file not found" in result.stdout


def test_validate_default_reports_a_broken_version_beside_good_ones(tmp_path):
    for path in GOOD.glob("*.yaml"):
        shutil.copy(path, tmp_path)
    shutil.copy(BROKEN / "immediate-below-top.yaml", tmp_path)
    result = invoke(make_app(tmp_path), "validate")
    assert result.exit_code == 1
    (marker,) = broken_markers(BROKEN / "immediate-below-top.yaml")
    assert f"{tmp_path / 'immediate-below-top.yaml'}:{marker.line}: indicators[9] (disclosure_of_abuse).level: " in result.stdout


def test_validate_checks_the_directory_against_the_versions(tmp_path):
    text = FIXTURE_DIRECTORY.read_text().replace("serves: [going_missing]\n", "serves: [gone_missing]\n")
    path = tmp_path / "services.yaml"
    path.write_text(text)
    result = invoke(make_app(GOOD, path), "validate")
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(str(path))}:\d+: services\[5\]\.serves\[0\]: area 'gone_missing'",
                     result.stdout, re.M)


@pytest.mark.parametrize("command", [["simulate"], ["publish", "--effective", "2099-01-01"]])
def test_a_drafts_problems_name_the_file_line_key_and_concern(fixture_cli, tmp_path, command):
    """`simulate` and `publish` said "indicators[3].level" where the upload page says which concern that
    is: each problem is FILE:LINE: key (id): message, as `validate` prints it."""
    draft = tmp_path / "draft.yaml"
    shutil.copy(BROKEN / "bad-level.yaml", draft)
    (marker,) = broken_markers(draft)
    result = fixture_cli(command[0], str(draft), *command[1:])
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"{draft}:{marker.line}: indicators[3] (housing_poor).level: "
                                     "level 5 is not defined under levels")


def test_a_retired_concern_id_used_again_in_a_draft_is_named_with_its_line(fixture_cli, tmp_path):
    retired = sorted(set(fixture_version("fixture-2024-01").indicators)
                     - set(fixture_version("fixture-2025-04").indicators))[0]
    original = (GOOD / "fixture-2024-01.yaml").read_text(encoding="utf-8")
    block = re.search(rf"^  - id: {retired}\n(?:    .*\n)+", original, re.M)[0]
    text = ((GOOD / "fixture-2025-04.yaml").read_text(encoding="utf-8")
            .replace("id: fixture-2025-04", "id: fixture-2026-01", 1)
            .replace("supersedes: fixture-2024-01", "supersedes: fixture-2025-04", 1)
            .replace("\nindicators:\n", "\nindicators:\n" + block, 1))
    draft = tmp_path / "fixture-2026-01.yaml"
    draft.write_text(text, encoding="utf-8")
    line = text.splitlines().index(f"  - id: {retired}") + 1
    result = fixture_cli("simulate", str(draft))
    assert result.exit_code == 1
    assert f"{draft}:{line}: indicators[0] ({retired}).id: '{retired}' was a concern in fixture-2024-01" \
        in result.stderr


def test_publishings_own_reasons_name_the_file_and_where_there_is_one_the_line(fixture_cli, tmp_path):
    draft = tmp_path / "fixture-2026-01.yaml"
    draft.write_text((GOOD / "fixture-2025-04.yaml").read_text(encoding="utf-8")
                     .replace("id: fixture-2025-04", "id: fixture-2026-01", 1)
                     .replace("supersedes: fixture-2024-01\n", "", 1), encoding="utf-8")
    result = fixture_cli("publish", str(draft), "--effective", "2029-01-01")
    assert result.exit_code == 1
    assert f"{draft}: Say which published version this one replaces" in result.stderr
    # One the effective date brings about is at its line, as any other.
    result = fixture_cli("publish", str(draft), "--effective", "2099-01-01")
    assert result.exit_code == 1
    line = draft.read_text(encoding="utf-8").splitlines().index("review_by: 2030-01-01") + 1
    assert result.stderr.strip() == f"{draft}:{line}: review_by: must be after effective_from"


# --- list and show ---------------------------------------------------------------------------

def test_list_shows_every_version_and_which_is_in_force(fixture_cli):
    result = fixture_cli("list")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {"fixture-2024-01", "fixture-2025-04"}
    assert rows["fixture-2025-04"].rstrip().endswith("in force")
    assert rows["fixture-2024-01"].rstrip().endswith("superseded")
    v1 = fixture_version("fixture-2024-01")
    assert v1.short_hash in rows["fixture-2024-01"] and " 15 " in rows["fixture-2024-01"]


def test_list_marks_a_future_version_scheduled(tmp_path):
    for path in GOOD.glob("*.yaml"):
        shutil.copy(path, tmp_path)
    text = (GOOD / "fixture-2024-01.yaml").read_text().replace("id: fixture-2024-01", "id: fixture-2099-01")
    text = text.replace("effective_from: 2024-01-01", "effective_from: 2099-01-01")
    (tmp_path / "fixture-2099-01.yaml").write_text(text.replace("review_by: 2030-01-01", "review_by: 2100-01-01"))
    result = invoke(make_app(tmp_path), "list")
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert rows["fixture-2099-01"].rstrip().endswith("scheduled")
    assert rows["fixture-2025-04"].rstrip().endswith("in force")


def test_show_json_lists_indicators_with_id_level_and_immediate(fixture_cli):
    result = fixture_cli("show", "fixture-2024-01", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    version = fixture_version("fixture-2024-01")
    assert data["id"] == "fixture-2024-01"
    assert data["content_hash"] == version.content_hash
    assert isinstance(data["indicators"], list)
    assert [i["id"] for i in data["indicators"]] == list(version.indicators)
    for item in data["indicators"]:
        assert item["level"] == version.indicators[item["id"]].level
        assert item["immediate"] is version.indicators[item["id"]].immediate
    assert {i["id"] for i in data["indicators"] if i["immediate"]} == {"injury_non_mobile_baby",
                                                                      "disclosure_of_abuse"}


def test_show_current_is_the_version_in_force_today(fixture_cli):
    result = fixture_cli("show", "current")
    assert result.exit_code == 0, result.output
    assert "version fixture-2025-04" in result.stdout
    assert "L3 online_harm_exposure: The child is being harmed online" in result.stdout
    assert "L4 disclosure_of_abuse: The child has told you they are being abused [IMMEDIATE]" in result.stdout
    data = json.loads(fixture_cli("show", "current", "--format", "json").stdout)
    assert data["id"] == "fixture-2025-04"


def test_show_shipped_current_version():
    app = signpost.create_app({"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    result = invoke(app, "show", "current", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["id"] in {v.id for v in shipped_library().versions}
    assert all({"id", "level", "immediate"} <= set(i) for i in data["indicators"])


# --- diff ------------------------------------------------------------------------------------

def test_diff_shows_added_removed_moved_and_reworded(fixture_cli):
    result = fixture_cli("diff", "fixture-2024-01", "fixture-2025-04")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0] == "Changes from fixture-2024-01 to fixture-2025-04: 8"
    assert "area added: online: Online harm" in out
    assert "document changed: effective_from: '2024-01-01' -> '2025-04-01'" in out
    assert "indicator added: online_harm_exposure: level 3: The child is being harmed online" in out
    assert "indicator removed: housing_poor: was level 2: Housing is overcrowded or in poor condition" in out
    assert "indicator moved: home_conditions_unsafe: level 3 -> level 4" in out
    assert ("indicator reworded: basic_care_inconsistent: 'Basic care is inconsistent' -> "
            "'Basic care is often not good enough'") in out


def test_diff_the_other_way_swaps_added_and_removed(fixture_cli):
    out = fixture_cli("diff", "fixture-2025-04", "fixture-2024-01").stdout
    assert "indicator added: housing_poor" in out
    assert "indicator removed: online_harm_exposure" in out
    assert "indicator moved: home_conditions_unsafe: level 4 -> level 3" in out


def test_diff_of_a_version_with_itself_is_empty(fixture_cli):
    result = fixture_cli("diff", "fixture-2024-01", "fixture-2024-01")
    assert result.exit_code == 0
    assert result.stdout.strip() == "Changes from fixture-2024-01 to fixture-2024-01: 0"


def test_the_side_by_side_comparison_has_changed_steps_and_advice_in_full():
    # The policy lead's compare page shows a change's before and after; for steps and advice it showed only
    # the detail, cut off after 200 characters, so northmere-2026-12-4's words on domestic abuse and the
    # LADO could not be read before approving it.
    from signpost.thresholds.diff import diff
    library = shipped_library()
    changes = diff(library.get("northmere-2026-12-3"), library.get("northmere-2026-12-4"))
    after = {(c.section, c.id): c.after or "" for c in changes}
    before = {(c.section, c.id): c.before or "" for c in changes}
    assert "say in the referral whom you told" in after[("advice", "consent_advice")]
    assert "wait until the LADO has advised you" in after[("route", "early_help")]
    assert "report it to the police yourself on 101" in before[("route", "same_day")]
    assert "never tell a parent or partner who may be causing domestic abuse" in after[("rule", "consent_refused")]


# --- test ------------------------------------------------------------------------------------

def test_test_runs_every_case_on_every_version_it_applies_to(fixture_cli):
    result = fixture_cli("test")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "5 passed, 0 failed (3 cases, 2 versions)"


def test_test_fails_naming_the_case_version_and_difference(tmp_path):
    for path in GOOD.glob("*.yaml"):
        shutil.copy(path, tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "cases.yaml").write_text(
        "cases:\n"
        "  - name: unsafe home conditions are level 3\n"
        "    answers: {age_months: 40, indicators: [home_conditions_unsafe]}\n"
        "    expected_route: social_care\n"
        "    expected_level: 3\n"
        "    expected_reasons: [home_conditions_unsafe]\n"
        "  - name: a retired concern\n"
        "    answers: {age_months: 40, indicators: [retired_concern]}\n"
        "    expected_route: early_help\n")
    result = invoke(make_app(tmp_path), "test")
    assert result.exit_code == 1
    out = result.stdout
    assert f"FAIL unsafe home conditions are level 3 [fixture-2025-04] ({tmp_path / 'tests' / 'cases.yaml'}:2)" in out
    assert "level: expected 3, got 4" in out
    assert "[fixture-2024-01]" not in out
    assert "FAIL a retired concern: applies to no threshold version" in out
    assert out.strip().splitlines()[-1] == "1 passed, 2 failed (2 cases, 2 versions)"


# --- assess ----------------------------------------------------------------------------------

def test_assess_prints_route_reasons_and_services(fixture_cli):
    result = fixture_cli("assess", "fixture-2024-01", "--indicator", "health_appointments_missed",
                         "--indicator", "housing_poor", "--age-months", "30", "--consent", "given")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Recommendation: Early help (route: early_help)" in out
    assert "Level: Level 2 - additional needs" in out
    assert "[indicator] health_appointments_missed: Health appointments are often missed" in out
    assert "Family Support Team (Fixture Council): 01632 000 320" in out


def test_assess_json_with_refused_consent(fixture_cli):
    result = fixture_cli("assess", "fixture-2024-01", "--indicator", "home_conditions_unsafe",
                         "--age-months", "100", "--consent", "refused", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # Refused consent never lowers a level that leads to social care: the referral still goes.
    assert data["route"] == "social_care" and data["level"]["number"] == 3
    assert data["urgency"] == "standard" and data["immediate"] is False
    assert [r["id"] for r in data["reasons"]] == ["home_conditions_unsafe"]
    assert data["threshold"]["id"] == "fixture-2024-01"


def test_assess_immediate_danger(fixture_cli):
    result = fixture_cli("assess", "current", "--indicator", "disclosure_of_abuse", "--age-months", "100")
    assert result.exit_code == 0, result.output
    assert "Recommendation: Call 999 now (route: social_care, IMMEDIATE DANGER)" in result.stdout
    assert "Threshold version: fixture-2025-04" in result.stdout


def test_assess_unborn(fixture_cli):
    data = json.loads(fixture_cli("assess", "fixture-2024-01", "--unborn", "--indicator",
                                  "parental_substance_misuse", "--format", "json").stdout)
    assert data["route"] == "social_care"
    assert data["reasons"][0]["id"] == "unborn_substance_misuse"


@pytest.mark.parametrize("args, message", [
    (["--indicator", "no_such_concern", "--age-months", "30"],
     "These concerns are not in threshold version fixture-2024-01: no_such_concern."),
    (["--indicator", "young_carer", "--age-months", "30"], "'young_carer' does not apply to a child of this age"),
    (["--age-months", "216"], "The child's age must be between 0 and 17 years"),
    (["--indicator", "missing_once", "--indicator", "missing_regularly", "--age-months", "150"],
     "Choose one answer about 'missing_from_home'"),
    ([], "Give the child's age in months, or say that the baby is not born yet."),
])
def test_assess_refuses_bad_answers_in_plain_english(fixture_cli, args, message):
    result = fixture_cli("assess", "fixture-2024-01", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_assess_on_the_shipped_current_version():
    app = signpost.create_app({"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    result = invoke(app, "assess", "current", "--age-months", "100", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["route"] == "universal"


# --- unknown versions and empty libraries ------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["show", "fixture-1999-01"],
    ["show", "fixture-1999-01", "--format", "json"],
    ["diff", "fixture-2024-01", "fixture-1999-01"],
    ["assess", "fixture-1999-01", "--age-months", "30"],
])
def test_unknown_version_id_exits_1_with_a_clear_message(fixture_cli, args):
    result = fixture_cli(*args)
    assert result.exit_code == 1
    assert ("No threshold version 'fixture-1999-01'. Known versions: fixture-2024-01, fixture-2025-04, "
            "or 'current'.") in result.stderr
    assert result.stdout == ""


def test_commands_exit_1_when_no_version_loads(tmp_path):
    shutil.copy(BROKEN / "bad-level.yaml", tmp_path)
    app = make_app(tmp_path)
    for args in (["list"], ["show", "current"], ["test"]):
        result = invoke(app, *args)
        assert result.exit_code == 1, args
        assert f"No valid threshold versions under {tmp_path}." in result.stderr
        assert "bad-level.yaml:" in result.stderr  # and why


def test_test_command_fails_when_there_are_no_cases(tmp_path):
    for version in GOOD.glob("*.yaml"):
        shutil.copy(version, tmp_path / version.name)
    result = invoke(make_app(thresholds_dir=tmp_path), "test")
    assert result.exit_code == 1 and "No test cases found" in result.output


def test_assess_a_concern_about_staff_alone_prints_the_lado_steps_and_none_for_the_child():
    from conftest import ROOT
    result = invoke(make_app(ROOT / "thresholds"), "assess", "northmere-2026-12-2", "--indicator",
                    "lado_adult_may_pose_risk", "--age-months", "110")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "About an adult who works with children (tell the LADO):" in out
    assert out.split("Next steps:")[1].splitlines()[1] == "  (none for the child: follow the LADO steps above)"


def test_diff_shows_changed_same_day_and_lado_steps():
    """The steps shown first for a call today or a concern about staff are compared, as the 999 steps are:
    northmere-2026-12-3 reworded the same-day steps, and neither the diff nor the compare page said so."""
    import dataclasses

    from signpost.thresholds.diff import diff
    library = shipped_library()
    old, new = library.get("northmere-2026-12-2"), library.get("northmere-2026-12-3")
    changed = {c.id: c.detail for c in diff(old, new) if c.section == "route"}
    assert "do not question them about what happened" in changed.get("same_day", ""), changed
    doc = new.document
    fewer = doc.model_copy(update={"lado": doc.lado.model_copy(update={"next_steps": doc.lado.next_steps[:-1]})})
    assert "lado" in {c.id for c in diff(new, dataclasses.replace(new, document=fewer)) if c.section == "route"}


def test_diff_and_the_compare_page_show_the_sources_a_version_cites(policy_lead):
    """northmere-2026-12-4 added two sources and three references, and gave one source its address: neither
    the diff nor the compare page said so, though a policy lead approves a version on its sources too."""
    from signpost.thresholds.diff import diff
    library = shipped_library()
    old, new = library.get("northmere-2026-12-3"), library.get("northmere-2026-12-4")
    changes = {(c.section, c.kind, c.id): c for c in diff(old, new)}
    assert ("source", "added", "bracknell_da_pathway") in changes
    assert changes[("source", "added", "leeds_da_confidentiality")].detail.startswith("Domestic violence and abuse")
    assert "url" in changes[("source", "changed", "county_lines_guidance")].detail
    references = changes[("document", "references changed", "references")]
    assert "bracknell_da_pathway" in references.after and references.before is None
    page = policy_lead.get("/policy/versions/compare?old=northmere-2026-12-3&new=northmere-2026-12-4").text
    assert "Sources cited added" in page and "Domestic abuse referral pathway" in page
    assert "Version details references changed" in page
