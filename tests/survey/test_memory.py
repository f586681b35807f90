"""Freed big arrays are given back to the system, where glibc would keep them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# One 16 MB block freed (glibc then raises its mmap threshold to 16 MB and the heap's trim
# threshold to 32), then six 4 MB blocks freed: what the process still holds of them.
PROBE = textwrap.dedent(
    """
    import sys
    from survey import memory

    def resident_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    big = bytearray(16 * 2**20)
    del big
    before = resident_mb()
    blocks = [bytearray(4 * 2**20) for _ in range(6)]
    del blocks
    if sys.argv[1] == "give_back":
        assert memory.give_back()
    print(resident_mb() - before)
    """
)


def kept_mb(mode: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True
    )
    return float(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim: Linux")
def test_freed_big_blocks_go_back_to_the_system():
    # Without it the process keeps them (so that this test can fail).
    assert kept_mb("keep") > 15
    assert kept_mb("give_back") < 5
