"""tests/system.py: a missing system package fails a test, unless a developer opted out."""

from __future__ import annotations

import pytest

from tests.system import require


def test_a_missing_package_fails_the_test(monkeypatch):
    monkeypatch.delenv("SURVEY_SKIP_MISSING_SYSTEM_DEPS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="make system-deps"):
        require(False, "a CJK font")


def test_ci_fails_even_when_a_developer_opted_out(monkeypatch):
    monkeypatch.setenv("SURVEY_SKIP_MISSING_SYSTEM_DEPS", "1")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        require(False, "poppler-utils")


def test_the_opt_out_skips_outside_ci(monkeypatch):
    monkeypatch.setenv("SURVEY_SKIP_MISSING_SYSTEM_DEPS", "1")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed here"):
        require(False, "poppler-utils")


def test_an_installed_package_passes(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert require(True, "a CJK font") is None
