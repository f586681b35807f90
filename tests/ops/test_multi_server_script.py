"""scripts/multi_server.py without starting anything: what it refuses, how it finds its
processes again, what it does when they are gone. Starting them is test_multi_server.py."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys

import pytest

from tests.ops.runbook import ROOT

pytestmark = pytest.mark.processes

script = runpy.run_path(str(ROOT / "scripts" / "multi_server.py"), run_name="multi_server")


def test_it_refuses_a_database_that_is_not_postgresql(tmp_path, capsys):
    with pytest.raises(SystemExit):
        script["main"](
            ["start", "--database-url", "sqlite:///x.sqlite", "--run-dir", str(tmp_path)]
        )
    assert "PostgreSQL" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_it_refuses_to_start_twice(tmp_path, capsys):
    (tmp_path / "processes.json").write_text("[]")
    url = "postgresql://postgres@127.0.0.1:1/test_never"
    assert script["main"](["start", "--database-url", url, "--run-dir", str(tmp_path)]) == 1
    assert "stop` first" in capsys.readouterr().err


def test_stop_leaves_alone_a_process_that_reused_a_pid(tmp_path):
    # A process that is not from this virtualenv (the pid of a stopped server, reused).
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        started = [{"kind": "app", "pid": stranger.pid, "host": "127.0.0.1", "port": 1, "log": ""}]
        (tmp_path / "processes.json").write_text(json.dumps(started))
        assert script["main"](["stop", "--run-dir", str(tmp_path)]) == 0
        assert stranger.poll() is None  # still running
        assert not (tmp_path / "processes.json").exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_stop_ends_its_own_process(tmp_path):
    # Stopped once it runs, as the servers `stop` is for are: read between fork and exec, the
    # child's /proc cmdline was still pytest's (`.venv/bin/python -m pytest`, a relative
    # path), which `ours` rightly did not take for one of its processes (CI timed out so once).
    code = "import time; print('ready', flush=True); time.sleep(30)"
    ours = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert ours.stdout.readline() == "ready\n"
        started = [{"kind": "worker", "pid": ours.pid, "log": ""}]
        (tmp_path / "processes.json").write_text(json.dumps(started))
        assert script["main"](["stop", "--run-dir", str(tmp_path)]) == 0
        assert ours.wait(timeout=10) != 0
    finally:
        ours.kill()
        ours.wait()
        ours.stdout.close()


def test_status_fails_when_a_process_is_down(tmp_path, capsys):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    started = [{"kind": "worker", "pid": gone.pid, "log": ""}]
    (tmp_path / "processes.json").write_text(json.dumps(started))
    assert script["main"](["status", "--run-dir", str(tmp_path)]) == 1
    assert f"worker {gone.pid} down" in capsys.readouterr().out


def test_one_secret_key_per_run_readable_by_its_owner_only(tmp_path):
    first = script["run_secret_key"](tmp_path)
    assert script["run_secret_key"](tmp_path) == first and len(first) == 64
    assert oct(os.stat(tmp_path / "secret_key").st_mode & 0o777) == "0o600"
