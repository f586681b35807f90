"""What some tests need from the machine, and the project's one rule for its absence: in CI it
fails the test; on a developer's machine only an explicit choice skips it.

System packages (a CJK font, poppler-utils): `make test` installs them through
scripts/system-deps.sh, so a missing one fails the test. A developer without root who cannot
install them may set SURVEY_SKIP_MISSING_SYSTEM_DEPS=1 to skip those tests instead, knowingly;
CI never sets it (and the variable is ignored there).

Servers (PostgreSQL, Redis): CI runs them, so there a missing one fails the test; a developer's
machine without one skips the test, saying which."""

from __future__ import annotations

import os
import socket
from contextlib import closing

import pytest


def require(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("SURVEY_SKIP_MISSING_SYSTEM_DEPS") == "1" and not os.environ.get("CI"):
        pytest.skip(f"{what} is not installed here (SURVEY_SKIP_MISSING_SYSTEM_DEPS=1)")
    pytest.fail(
        f"{what} is missing: run `make system-deps` as root (scripts/system-deps.sh installs it)"
    )


def answers(host: str, port: int) -> bool:
    with closing(socket.socket()) as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def require_server(host: str, port: int, what: str) -> None:
    """A server the test needs: CI has it, so there its absence fails the test; a developer's
    machine without it skips the test, saying so."""
    if answers(host, port):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} does not answer on {host}:{port} (CI provides it)")
    pytest.skip(f"{what} does not answer on {host}:{port}")
