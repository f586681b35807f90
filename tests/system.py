"""System packages some tests need (a CJK font, poppler-utils): `make test` installs them
through scripts/system-deps.sh. On CI a missing one fails the test; on a developer's machine
without root it is skipped with the command that installs it."""

from __future__ import annotations

import os

import pytest


def require(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing on the CI machine; scripts/system-deps.sh installs it")
    pytest.skip(f"{what} is not installed here: run `make system-deps` as root")
