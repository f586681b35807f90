"""System packages some tests need (a CJK font, poppler-utils): `make test` installs them
through scripts/system-deps.sh, so a missing one fails the test. A developer without root who
cannot install them may set SURVEY_SKIP_MISSING_SYSTEM_DEPS=1 to skip those tests instead,
knowingly; CI never sets it."""

from __future__ import annotations

import os

import pytest


def require(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("SURVEY_SKIP_MISSING_SYSTEM_DEPS") == "1" and not os.environ.get("CI"):
        pytest.skip(f"{what} is not installed here (SURVEY_SKIP_MISSING_SYSTEM_DEPS=1)")
    pytest.fail(
        f"{what} is missing: run `make system-deps` as root (scripts/system-deps.sh installs it)"
    )
