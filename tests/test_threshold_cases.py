"""The YAML cases beside the config (thresholds/tests/*.yaml), run on every version they fit.

Each (case, version) pair is its own test, so a failure names the case and the version.
"""
from __future__ import annotations

import pytest

from helpers_thresholds import SHIPPED_THRESHOLDS, shipped_versions
from signpost.thresholds import ConfigError
from signpost.thresholds.cases import load_cases, run_case

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
