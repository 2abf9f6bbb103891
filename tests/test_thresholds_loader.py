"""Loading threshold documents: strict refusal with FILE:LINE problems, libraries and hashes.

Broken fixtures mark each line the loader must report with `# BROKEN key | message`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil

import pytest

from helpers_thresholds import (BROKEN, GOOD, SHIPPED_THRESHOLDS, broken_markers, fixture_library,
                                line_containing, shipped_library)
from signpost.thresholds import ConfigError, load_file, load_library
from signpost.thresholds import source as src
from signpost.thresholds.source import parse

BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))
PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+): (?P<rest>.+)$")


def problems_of(path):
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    return caught.value.problems


# --- one file -------------------------------------------------------------------------

def test_good_fixtures_load_without_problems():
    library = load_library(GOOD)
    assert library.problems == ()
    assert [v.id for v in library.versions] == ["fixture-2024-01", "fixture-2025-04"]


def test_every_broken_fixture_marks_at_least_one_problem():
    assert len(BROKEN_FILES) >= 10
    for path in BROKEN_FILES:
        assert broken_markers(path), f"{path.name} has no '# BROKEN key | message' marker"


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_broken_file_is_refused_with_every_problem_on_its_line(path):
    problems = problems_of(path)
    markers = broken_markers(path)
    # Every problem in the file at once: exactly one per marked line, no more, no fewer.
    assert sorted(p.line for p in problems) == sorted(m.line for m in markers), [str(p) for p in problems]
    by_line = {p.line: p for p in problems}
    for marker in markers:
        problem = by_line[marker.line]
        assert problem.file == str(path)
        assert problem.key == marker.key, str(problem)
        assert marker.message in problem.message, str(problem)


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_problems_read_file_line_key_message(path):
    for problem in problems_of(path):
        text = str(problem)
        match = PROBLEM_LINE.match(text)
        assert match, text
        assert match["file"] == str(path) and int(match["line"]) == problem.line
        if problem.key:
            assert match["rest"].startswith(f"{problem.key}: ")


def test_config_error_message_lists_every_problem():
    path = BROKEN / "many-problems.yaml"
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == len(broken_markers(path)) == 8
    assert lines == sorted(lines, key=lambda s: int(s.split(":")[1]))


def test_unknown_key_names_the_key_and_its_line():
    problems = problems_of(BROKEN / "unknown-key.yaml")
    hints = next(p for p in problems if p.key == "indicators[0].hints")
    assert hints.line == line_containing(BROKEN / "unknown-key.yaml", "hints: Ask the GP")
    assert "not a recognised key" in hints.message


def test_duplicate_key_names_both_lines():
    path = BROKEN / "duplicate-key.yaml"
    problem = next(p for p in problems_of(path) if p.key == "indicators[3].level")
    assert problem.line == line_containing(path, "level: 3  # BROKEN")
    first = line_containing(path, "text: Housing is overcrowded") - 1
    assert f"already given on line {first}" in problem.message


def test_impossible_date_is_a_problem_not_a_crash():
    # PyYAML raises a bare ValueError for 2024-13-01; the loader must turn it into a problem.
    problems = problems_of(BROKEN / "wrong-date.yaml")
    assert {p.key for p in problems} == {"effective_from", "review_by"}


def test_invalid_yaml_names_the_line_where_it_breaks():
    path = BROKEN / "invalid-yaml.yaml"
    (problem,) = problems_of(path)
    assert problem.line == line_containing(path, "raise_to: 3  # BROKEN")
    assert problem.message.startswith("is not valid YAML")


@pytest.mark.parametrize("text, line, hint", [
    ("title: a\n summary: b: c\n", 2, "a line indented differently from the lines around it"),
    ("title: Ages: 0 to 5\n", 1, "a colon inside text: put such text in quotes"),
    ("levels:\n\t- x\n", 2, "a tab: indent with spaces"),
])
def test_invalid_yaml_says_what_it_usually_means(text, line, hint):
    (problem,) = parse(text, "draft.yaml").problems
    assert problem.line == line and problem.message.startswith("is not valid YAML") and hint in problem.message


def test_id_must_match_file_name(tmp_path):
    text = (GOOD / "fixture-2024-01.yaml").read_text()
    path = tmp_path / "fixture-2024-02.yaml"
    path.write_text(text)
    (problem,) = problems_of(path)
    assert (problem.key, problem.line) == ("id", line_containing(path, "id: fixture-2024-01"))
    assert "fixture-2024-02" in problem.message


def test_an_impossible_date_as_a_key_is_kept_as_text_not_a_crash(tmp_path):
    # The ValueError PyYAML raises for 2024-13-01 comes from keys too, at any depth.
    source = parse("2024-13-01: x\ncontacts:\n  2024-13-01: y\n", "keys.yaml")
    assert source.problems == []
    assert source.data == {"2024-13-01": "x", "contacts": {"2024-13-01": "y"}}
    path = tmp_path / "fixture-2024-01.yaml"
    path.write_text((GOOD / "fixture-2024-01.yaml").read_text() + "2024-13-01: x\n")
    (problem,) = problems_of(path)
    assert (problem.key, problem.message) == ("2024-13-01", "is not a recognised key (check the spelling)")


@pytest.mark.parametrize("text, key, message", [
    ("- just\n- a list\n", "", "must be a set of keys and values"),
    ("", "", "must be a set of keys and values"),
    ("id: x\n<<: {title: y}\n", "", "merge keys"),
])
def test_documents_that_are_not_mappings_are_refused(tmp_path, text, key, message):
    path = tmp_path / "x.yaml"
    path.write_text(text)
    problems = problems_of(path)
    assert any(p.key == key and message in p.message for p in problems), [str(p) for p in problems]


@pytest.mark.parametrize("text, key", [
    ("id: !!python/object/apply:os.system 'true'\n", ""),       # a tagged scalar
    ("a: 1\nid: !!python/object/apply:os.system ['true']\n", "id"),  # a tagged list
    ("a: 1\nid: !!set {x, y}\n", "id"),                          # a tagged mapping
])
def test_yaml_tags_are_refused_not_run_or_dropped(text, key):
    (problem,) = parse(text, "evil.yaml").problems
    assert problem.key == key
    assert problem.line == text.count("\n")
    assert "tag" in problem.message


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x0c", "\u0080"])
def test_a_control_character_in_the_file_is_a_problem_on_its_line_not_a_crash(char):
    # PyYAML's reader refuses these as soon as it is created, before any parsing.
    (problem,) = parse(f"id: x\ntitle: a{char}b\n", "draft.yaml").problems
    assert (problem.file, problem.line) == ("draft.yaml", 2)
    assert f"U+{ord(char):04X}" in problem.message and "not allowed" in problem.message


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000,
                                  "a:\n" + "".join(" " * i + "a:\n" for i in range(1, 3000))])
def test_deep_nesting_is_refused_not_a_crash(text):
    # PyYAML nests by recursion: without a limit a kilobyte of brackets is a RecursionError.
    (problem,) = parse(text, "deep.yaml").problems
    assert problem.file == "deep.yaml" and problem.line >= 1
    assert "nested more than 30 levels deep" in problem.message


def test_nesting_within_the_limit_is_read():
    assert parse("a: " + "[" * 28 + "1" + "]" * 28 + "\n", "ok.yaml").problems == []  # 30 nodes deep


def laughs(levels: int) -> str:
    """A "billion laughs" file: each anchor's list holds ten aliases of the one before."""
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, line", [
    ("title: &t Hello\nsummary: *t\n", 1),
    ("title: Hello\nlevels:\n  - &one {id: one}\n", 3),
    (laughs(9), 1),  # a billion "lol"s: refused at once, not minutes of work
])
def test_yaml_anchors_and_aliases_are_refused(text, line):
    (problem,) = parse(text, "laughs.yaml").problems
    assert problem.line == line
    assert "anchor or alias (& or *)" in problem.message and "do not need" in problem.message


def test_no_shipped_yaml_uses_anchors():
    # The refusal breaks nothing: every shipped file still reads without problems.
    for path in [*SHIPPED_THRESHOLDS.rglob("*.yaml"), *(SHIPPED_THRESHOLDS.parent / "directory").glob("*.yaml")]:
        assert parse(path.read_text(encoding="utf-8"), str(path)).problems == [], path


@pytest.mark.parametrize("text, key, char", [
    ('id: x\napproved_by: "Ann\\0Lead"\n', "approved_by", "U+0000"),
    ('id: x\nlevels:\n  - text: "a\\x1bb"\n', "levels[0].text", "U+001B"),
    ('id: x\ntitle: "Help\\u202e"\n', "title", "U+202E right-to-left override"),
    ('id: x\ntitle: "a\\u200bb"\n', "title", "U+200B zero width space"),
    ('id: x\n"ti\\u200btle": x\n', "ti\\u200btle", "U+200B zero width space"),
])
def test_hidden_characters_written_as_yaml_escapes_are_refused_with_their_key(text, key, char):
    # The reader only sees the escape; the string it stands for is checked as a form field is.
    (problem,) = parse(text, "hidden.yaml").problems
    assert (problem.file, problem.line, problem.key) == ("hidden.yaml", text.count("\n"), key)
    assert f"hidden or control character ({char}" in problem.message


def test_tabs_and_newlines_in_text_are_allowed():
    source = parse('summary: |\n  One line.\n  Another.\nhint: "a\\tb"\n', "ok.yaml")
    assert source.problems == [] and source.data["summary"] == "One line.\nAnother.\n"


# --- a directory of versions ------------------------------------------------------------

def copy_good(tmp_path, *names):
    for name in names or ("fixture-2024-01", "fixture-2025-04"):
        shutil.copy(GOOD / f"{name}.yaml", tmp_path / f"{name}.yaml")


def write_variant(tmp_path, new_id, **replace):
    """A copy of fixture-2024-01 under a new id, with some text replaced."""
    text = (GOOD / "fixture-2024-01.yaml").read_text().replace("id: fixture-2024-01", f"id: {new_id}", 1)
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"{new_id}.yaml"
    path.write_text(text)
    return path


def test_broken_file_in_a_directory_never_hides_the_good_versions(tmp_path):
    copy_good(tmp_path)
    for name in ("unknown-key", "invalid-yaml", "wrong-date", "many-problems"):
        shutil.copy(BROKEN / f"{name}.yaml", tmp_path / f"{name}.yaml")
    library = load_library(tmp_path)
    assert [v.id for v in library.versions] == ["fixture-2024-01", "fixture-2025-04"]
    assert {p.file.rsplit("/", 1)[-1] for p in library.problems} == {
        "unknown-key.yaml", "invalid-yaml.yaml", "wrong-date.yaml", "many-problems.yaml"}
    assert len([p for p in library.problems if p.file.endswith("many-problems.yaml")]) == 8


def test_a_broken_newer_version_does_not_replace_the_one_in_force(tmp_path):
    copy_good(tmp_path)
    write_variant(tmp_path, "fixture-2026-01", **{
        "effective_from: 2024-01-01": "effective_from: 2026-01-01",
        "    level: 2\n    text: Housing is overcrowded": "    level: 7\n    text: Housing is overcrowded"})
    library = load_library(tmp_path)
    assert library.in_force(dt.date(2026, 6, 1)).id == "fixture-2025-04"
    assert [p.key for p in library.problems] == ["indicators[3].level"]


def test_strict_library_raises_with_every_problem(tmp_path):
    copy_good(tmp_path)
    shutil.copy(BROKEN / "unknown-key.yaml", tmp_path)
    shutil.copy(BROKEN / "bad-level.yaml", tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_library(tmp_path, strict=True)
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize("on_date, expected", [
    (dt.date(2024, 1, 1), "fixture-2024-01"),   # on its effective date
    (dt.date(2025, 3, 31), "fixture-2024-01"),  # the day before the next one
    (dt.date(2025, 4, 1), "fixture-2025-04"),
    (dt.date(2040, 1, 1), "fixture-2025-04"),
])
def test_version_in_force_is_the_latest_effective_on_or_before_the_date(on_date, expected):
    library = fixture_library()
    assert library.in_force(on_date).id == expected
    assert library.get("current", on_date).id == expected


def test_in_force_does_not_depend_on_file_order(tmp_path):
    # "zz" sorts last by name but is the oldest version.
    copy_good(tmp_path)
    write_variant(tmp_path, "zz-oldest", **{"effective_from: 2024-01-01": "effective_from: 2023-01-01"})
    library = load_library(tmp_path)
    assert [v.id for v in library.versions] == ["zz-oldest", "fixture-2024-01", "fixture-2025-04"]
    assert library.in_force(dt.date(2023, 6, 1)).id == "zz-oldest"
    assert library.in_force(dt.date(2025, 6, 1)).id == "fixture-2025-04"


def test_no_version_in_force_before_the_first():
    with pytest.raises(LookupError, match="2023-12-31"):
        fixture_library().in_force(dt.date(2023, 12, 31))


def test_unknown_version_id_is_a_key_error():
    with pytest.raises(KeyError):
        fixture_library().get("fixture-1999-01")


def test_two_versions_with_the_same_effective_date_are_a_problem(tmp_path):
    copy_good(tmp_path)
    twin = write_variant(tmp_path, "fixture-2024-01b")
    library = load_library(tmp_path)
    (problem,) = library.problems
    assert problem.key == "effective_from"
    assert problem.line == line_containing(twin, "effective_from:")
    assert "2024-01-01" in problem.message and "fixture-2024-01" in problem.message
    assert problem.file == str(twin)
    # Only one of the twins is used, so the version in force on that date is not ambiguous.
    assert [v.id for v in library.versions] == ["fixture-2024-01", "fixture-2025-04"]
    with pytest.raises(ConfigError):
        load_library(tmp_path, strict=True)


# --- content hash -------------------------------------------------------------------------

def test_content_hash_is_the_sha256_of_the_file_and_stable(tmp_path):
    path = GOOD / "fixture-2024-01.yaml"
    first, second = load_file(path), load_file(path)
    assert first.content_hash == second.content_hash
    assert first.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert first.short_hash == first.content_hash[:12]
    copy_good(tmp_path, "fixture-2024-01")
    assert load_file(tmp_path / "fixture-2024-01.yaml").content_hash == first.content_hash


@pytest.mark.parametrize("old, new", [
    ("text: Housing is overcrowded or in poor condition", "text: Housing is overcrowded"),
    ("# A small, FICTIONAL", "# A small, fictional"),  # even a comment: the hash is of the file
])
def test_content_hash_changes_when_the_file_changes(tmp_path, old, new):
    before = load_file(GOOD / "fixture-2024-01.yaml")
    path = tmp_path / "fixture-2024-01.yaml"
    path.write_text((GOOD / "fixture-2024-01.yaml").read_text().replace(old, new))
    after = load_file(path)
    assert after.content_hash != before.content_hash
    library = load_library(tmp_path)
    assert library.by_hash(after.content_hash).id == "fixture-2024-01"
    assert library.by_hash(before.content_hash) is None


# --- what is shipped -------------------------------------------------------------------------

def test_shipped_versions_load_without_problems():
    library = shipped_library()
    assert library.problems == (), "\n".join(str(p) for p in library.problems)
    assert library.versions
    assert len({v.content_hash for v in library.versions}) == len(library.versions)
    assert len(library.versions) == len(list(SHIPPED_THRESHOLDS.glob("*.yaml")))


def test_shipped_versions_have_a_consent_rule_protecting_early_help():
    # The design (issue 7): refused consent turns early help into universal services; it never
    # lowers a social care route, so `unless_level` is optional and newer files leave it out.
    for version in shipped_library().versions:
        rules = [r for r in version.document.rules if r.type == "consent" and "refused" in r.consent]
        assert rules, f"{version.id} has no consent rule for refused consent"
        assert all(r.route == "universal" for r in rules), version.id
        if version.document.sources:  # a cited version says why a refused referral still goes
            assert all(r.referral_reason for r in rules), version.id


def test_schema_and_cross_reference_problems_are_reported_together(tmp_path):
    """An unknown key (schema) must not hide a missing domain or a wrong id (cross-references)."""
    lines = (GOOD / "fixture-2025-04.yaml").read_text().splitlines()
    first = lines.index("indicators:") + 1
    assert lines[first].startswith("  - id: ")
    lines[first] = lines[first].replace("  - id: ", "  - colour: blue\n    id: ")
    third_domain = [n for n, line in enumerate(lines) if line == "    domain: parenting"][0]
    lines[third_domain] = "    domain: nowhere"
    path = tmp_path / "fixture-2099-01.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    found = {(p.key, p.message.split(" (")[0]) for p in caught.value.problems}
    assert ("id", "must match the file name") in found
    assert ("indicators[0].colour", "is not a recognised key") in found
    missing = [p for p in caught.value.problems if "domain 'nowhere'" in p.message]
    assert len(missing) == 1 and missing[0].line == third_domain + 2  # +1 for the inserted line, +1 from 0
    assert missing[0].key.startswith("indicators[") and missing[0].key.endswith("].domain")


def test_a_set_aside_domain_does_not_make_its_areas_look_missing(tmp_path):
    text = (GOOD / "fixture-2025-04.yaml").read_text()
    marker = "      - id: health\n"
    assert marker in text
    path = tmp_path / "fixture-2025-04.yaml"
    path.write_text(text.replace(marker, "      - id: health\n        colour: blue\n", 1))
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    messages = [str(p) for p in caught.value.problems]
    assert any("colour: is not a recognised key" in m for m in messages)
    assert not any("'health' is not" in m for m in messages), messages


# --- a text already loaded ----------------------------------------------------------------

def test_the_same_text_under_another_name_is_the_same_version_with_that_name(tmp_path, monkeypatch):
    source = sorted(GOOD.glob("*.yaml"))[0]
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    first = load_file(source)
    parsed = []
    monkeypatch.setattr(src, "parse", lambda *args: parsed.append(args) or parse(*args))
    second = load_file(copy)
    assert parsed == []  # the text was read once, and kept
    assert first.path == str(source) and second.path == str(copy)
    assert first.content_hash == second.content_hash and first.document is second.document


def test_a_changed_text_is_loaded_afresh_and_a_broken_one_is_never_kept(tmp_path):
    source = sorted(GOOD.glob("*.yaml"))[0]
    path = tmp_path / source.name
    text = source.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    before = load_file(path)
    path.write_text(text + "\n# a comment changes the text, so its hash\n", encoding="utf-8")
    after = load_file(path)
    assert after.content_hash != before.content_hash
    broken = text.replace("effective_from:", "effective_from: not a date\nunused_key:", 1)
    for name in ("first.yaml", "second.yaml"):  # each time checked, and named as it is now read
        renamed = tmp_path / name
        renamed.write_text(broken, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_file(renamed)
        assert {p.file for p in caught.value.problems} == {str(renamed)}
