"""tests/system.py: a missing system package or server fails a test; outside CI only a
developer's explicit opt-out skips it."""

from __future__ import annotations

import socket

import pytest

from tests.system import require, require_server


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


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_a_missing_server_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI provides it"):
        require_server("127.0.0.1", _closed_port(), "Redis")


def test_a_missing_server_fails_on_a_developers_machine_too(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("SURVEY_SKIP_MISSING_SYSTEM_DEPS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="SURVEY_SKIP_MISSING_SYSTEM_DEPS=1"):
        require_server("127.0.0.1", _closed_port(), "Redis")


def test_the_opt_out_skips_a_missing_server_outside_ci_only(monkeypatch):
    monkeypatch.setenv("SURVEY_SKIP_MISSING_SYSTEM_DEPS", "1")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Redis does not answer"):
        require_server("127.0.0.1", _closed_port(), "Redis")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI provides it"):
        require_server("127.0.0.1", _closed_port(), "Redis")


def test_a_server_that_answers_passes(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert require_server("127.0.0.1", server.getsockname()[1], "Redis") is None
