"""A process whose big blocks are mapped on their own gives freed ones back to the system."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from survey import memory

# One 16 MB block freed (glibc then raises its threshold to 16 MB by default, and the heap's
# trim threshold to 32), then six 4 MB blocks freed: what the process still holds of them.
PROBE = textwrap.dedent(
    """
    import sys
    from survey import memory
    if sys.argv[1] == "fixed":
        assert memory.return_big_blocks()

    def resident_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    big = bytearray(16 * 2**20)
    del big
    before = resident_mb()
    blocks = [bytearray(4 * 2**20) for _ in range(6)]
    del blocks
    print(resident_mb() - before)
    """
)


def kept_mb(mode: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True
    )
    return float(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux")
def test_freed_big_blocks_go_back_to_the_system():
    # The default keeps them (so that this test can fail), the fixed threshold does not.
    assert kept_mb("default") > 15
    assert kept_mb("fixed") < 5


def test_the_worker_sets_it_before_taking_jobs(app, monkeypatch):
    called = []
    monkeypatch.setattr(memory, "return_big_blocks", lambda: called.append(True))
    from survey import jobs

    monkeypatch.setattr(jobs.huey, "immediate", False)
    monkeypatch.setattr(
        jobs.huey, "create_consumer", lambda **kw: type("C", (), {"run": lambda self: None})()
    )
    with app.app_context():
        jobs.run_worker(threads=1, periodic=False)
    assert called == [True]
