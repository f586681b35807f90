"""make run: what it would run, read with make -n (nothing is installed or served)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.fail("make is needed to read the Makefile")
    # -o install: the install step is taken as done, so only run's own commands are printed.
    done = subprocess.run(
        ["make", "-n", "-o", "install", "run", *args], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_demo_links_point_at_the_port_make_run_serves():
    commands = _dry_run("PORT=5001")
    assert "BASE_URL=http://127.0.0.1:5001 .venv/bin/flask --app survey demo" in commands
    assert "--port 5001" in commands


def test_a_public_base_url_is_kept():
    commands = _dry_run("BASE_URL=https://survey.sx.example")
    assert "BASE_URL=https://survey.sx.example .venv/bin/flask --app survey demo" in commands
