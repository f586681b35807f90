"""What some tests need from the machine, and the project's one rule for its absence: in CI it
fails the test; on a developer's machine only an explicit choice skips it.

System packages (a CJK font, poppler-utils): `make test` installs them through
scripts/system-deps.sh, so a missing one fails the test. A developer without root who cannot
install them may set SURVEY_SKIP_MISSING_SYSTEM_DEPS=1 to skip those tests instead, knowingly;
CI never sets it (and the variable is ignored there).

Servers (PostgreSQL, Redis): the same rule. `make test` expects them (CI runs them), so a
missing one fails the test; a developer without them may set the same variable to skip those
tests instead, knowingly, saying which server did not answer."""

from __future__ import annotations

import os
import socket
from contextlib import closing

import pytest


def _opted_out() -> bool:
    """The developer's explicit choice to skip what this machine lacks; never in CI."""
    return os.environ.get("SURVEY_SKIP_MISSING_SYSTEM_DEPS") == "1" and not os.environ.get("CI")


def require(available: bool, what: str) -> None:
    if available:
        return
    if _opted_out():
        pytest.skip(f"{what} is not installed here (SURVEY_SKIP_MISSING_SYSTEM_DEPS=1)")
    pytest.fail(
        f"{what} is missing: run `make system-deps` as root (scripts/system-deps.sh installs it)"
    )


def answers(host: str, port: int) -> bool:
    with closing(socket.socket()) as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def require_server(host: str, port: int, what: str) -> None:
    """A server the test needs: its absence fails the test, unless a developer opted out of
    what this machine lacks (never in CI, which provides it)."""
    if answers(host, port):
        return
    if _opted_out():
        pytest.skip(f"{what} does not answer on {host}:{port} (SURVEY_SKIP_MISSING_SYSTEM_DEPS=1)")
    pytest.fail(
        f"{what} does not answer on {host}:{port}: start it (CI provides it), or set "
        "SURVEY_SKIP_MISSING_SYSTEM_DEPS=1 to skip these tests knowingly"
    )
