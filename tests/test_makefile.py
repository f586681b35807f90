"""make run and make serve: what they would run, read with make -n (nothing is installed or served)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _dry_run(*args: str, target: str = "run") -> str:
    if shutil.which("make") is None:
        pytest.fail("make is needed to read the Makefile")
    # -o install: the install step is taken as done, so only run's own commands are printed.
    done = subprocess.run(
        ["make", "-n", "-o", "install", target, *args], cwd=ROOT, capture_output=True, text=True
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


def test_make_run_starts_a_worker_beside_the_server_and_stops_it_with_the_server():
    commands = _dry_run("PORT=5001")
    # Its own session: Ctrl-C (at once) reaches only the server; the trap's SIGTERM lets it
    # finish its jobs.
    assert "setsid .venv/bin/flask --app survey worker & worker=$!" in commands
    assert "trap 'kill -TERM $worker" in commands
    assert commands.index("survey worker &") < commands.index("survey run --host")


def test_make_serve_starts_gunicorn_and_a_worker():
    commands = _dry_run(target="serve")
    # Its own session: Ctrl-C (at once) reaches only the server; the trap's SIGTERM lets it
    # finish its jobs.
    assert "setsid .venv/bin/flask --app survey worker & worker=$!" in commands
    assert "trap 'kill -TERM $worker" in commands
    assert commands.index("survey worker &") < commands.index("gunicorn --workers")


def test_make_bench_passes_its_arguments_to_the_runner():
    assert ".venv/bin/python bench/run.py" in _dry_run(target="bench")
    commands = _dry_run("BENCH_ARGS=--quick --databases sqlite", target="bench")
    assert ".venv/bin/python bench/run.py --quick --databases sqlite" in commands
