"""The YAML cases beside the config (thresholds/tests/*.yaml), run on every version they fit.

Each (case, version) pair is its own test, so a failure names the case and the version.
"""
from __future__ import annotations

import pytest

from helpers_thresholds import SHIPPED_THRESHOLDS, shipped_versions
from signpost.thresholds import ConfigError
from signpost.thresholds.cases import load_cases, run_case
from signpost.values import uk_today

CASES_DIR = SHIPPED_THRESHOLDS / "tests"
MIN_CASES = 40

try:
    CASES = load_cases(CASES_DIR)
    LOAD_PROBLEMS: list[str] = []
except ConfigError as exc:  # reported by test_cases_load, so collection still works
    CASES = []
    LOAD_PROBLEMS = [str(p) for p in exc.problems]

VERSIONS = shipped_versions()
PAIRS = [pytest.param(case, version, id=f"{case.name} [{version.id}]")
         for case in CASES for version in VERSIONS if case.applies_to(version)]


def test_cases_load():
    assert not LOAD_PROBLEMS, "\n".join(LOAD_PROBLEMS)


def test_there_are_enough_cases():
    assert len(CASES) >= MIN_CASES, f"only {len(CASES)} cases in {CASES_DIR}; expected at least {MIN_CASES}"


def test_every_case_applies_to_at_least_one_version():
    unused = [f"{c.name} ({c.file}:{c.line})" for c in CASES if not any(c.applies_to(v) for v in VERSIONS)]
    assert not unused, "cases that apply to no shipped version:\n" + "\n".join(unused)


def test_cases_naming_versions_name_real_ones():
    known = {v.id for v in VERSIONS}
    for case in CASES:
        for version_id in case.case.versions or ():
            assert version_id in known, f"{case.name} ({case.file}:{case.line}) names unknown {version_id}"


@pytest.mark.parametrize("case, version", PAIRS)
def test_case(case, version):
    outcome = run_case(case, version)
    assert outcome.passed, f"{case.file}:{case.line}: {case.name} [{version.id}]\n  " + "\n  ".join(
        outcome.failures)


# --- a version no case names: a draft, or one published from Signpost -------------------------

def _draft_of(base_id: str, new_id: str, *, change=None, supersedes: str | None = None):
    """A copy of a shipped version under a new id that says it supersedes it (or `supersedes`),
    changed by `change`."""
    from pathlib import Path

    from signpost import policy
    from signpost.thresholds import load_text

    data = policy.load_data((SHIPPED_THRESHOLDS / f"{base_id}.yaml").read_text())
    data.update(id=new_id, supersedes=supersedes or base_id)
    if change:
        change(data)
    return load_text(policy.dump(data), "draft.yaml")


def _bruise_is_standard(data):
    from pathlib import Path

    from signpost import policy
    policy.edit_indicator(data, "injury_non_mobile_child", {"level": 2, "urgency": "standard"})


def test_a_draft_with_a_new_id_runs_the_cases_of_the_version_it_supersedes():
    from helpers_thresholds import shipped_library
    from signpost.thresholds.cases import run_applicable

    library = shipped_library()
    base = library.by_id("northmere-2026-12-2")
    named = [c for c in CASES if c.case.versions and base.id in c.case.versions]
    unchanged = run_applicable(CASES, _draft_of(base.id, "northmere-2027-01"), library)
    assert unchanged.tested_as == base.id
    assert len(unchanged.outcomes) == len(run_applicable(CASES, base, library).outcomes) > len(named) > 100
    assert unchanged.failed == [] and unchanged.skipped == len(CASES) - len(unchanged.outcomes)
    # The reviewer's change: a bruise on a non-mobile baby made a standard, level 2 concern.
    changed = run_applicable(CASES, _draft_of(base.id, "northmere-2027-01", change=_bruise_is_standard), library)
    failed = {o.case.name for o in changed.failed}
    assert "a bruise on a 3 month old baby is a call to the front door today, not 999" in failed


def test_cases_a_version_dropped_do_not_come_back_for_its_drafts():
    """A case naming northmere-2026-12 but not 2026-12-2 was dropped by 2026-12-2: a draft from
    2026-12-2 is not held to it, nor to the cases of versions before."""
    from helpers_thresholds import shipped_library
    from signpost.thresholds.cases import run_applicable

    library = shipped_library()
    ran = {o.case.name for o in run_applicable(CASES, _draft_of("northmere-2026-12-2", "x-2027-01"), library).outcomes}
    dropped = [c.name for c in CASES if c.case.versions and "northmere-2026-12-2" not in c.case.versions]
    assert dropped and not ran & set(dropped)


def test_a_version_published_from_signpost_passes_its_base_cases_on_to_its_drafts():
    """northmere-2027-01, published from Signpost (after passing them), is named by no case: a draft
    from it is held to the cases of northmere-2026-12-2, which it superseded."""
    from signpost.thresholds import Library
    from signpost.thresholds.cases import run_applicable, tested_as
    from helpers_thresholds import shipped_library

    library = Library((*shipped_library().versions, _draft_of("northmere-2026-12-2", "northmere-2027-01")))
    draft = _draft_of("northmere-2026-12-2", "northmere-2027-02", change=_bruise_is_standard,
                      supersedes="northmere-2027-01")
    assert tested_as(draft, CASES, library) == "northmere-2026-12-2"
    assert run_applicable(CASES, draft, library).failed



def test_a_draft_that_retires_a_concern_a_case_ticks_fails_that_case_by_name():
    """A case that applied to the base and ticks a concern the draft retires is never skipped without a
    word (a case naming no version would silently stop running): it fails, naming the concern."""
    import datetime as dt

    from pathlib import Path

    from signpost import policy
    from signpost.thresholds import load_library
    from signpost.thresholds.cases import load_cases, run_applicable
    root = Path(__file__).resolve().parent.parent / "thresholds"
    library = load_library(root)
    base = library.versions[-1]
    cases = load_cases(root / "tests")
    unnamed = next(c for c in cases if c.case.versions is None and c.applies_to(base) and c.case.answers.indicators)
    retired = unnamed.case.answers.indicators[0]
    data = policy.load_data(policy.new_draft_text(base, Path(base.path).read_text(), library, uk_today(), "A lead"))
    draft, problems = policy.check(policy.dump(policy.retire_indicator(data, retired)), library)
    assert draft is not None, problems
    run = run_applicable(cases, draft, library)
    failed = {o.case.name: o.failures for o in run.failed}
    assert unnamed.name in failed and retired in failed[unnamed.name][0] and "retires" in failed[unnamed.name][0]
    named = [c for c in cases if c.case.versions and retired in c.case.answers.indicators and c.applies_to(base)]
    for case in named:
        assert "retires" in failed[case.name][0], case.name
