"""How a long-lived process gives the memory of big arrays back to the system."""

from __future__ import annotations

import ctypes
import sys

# glibc's mallopt parameter for the size from which an allocation gets its own mapping.
M_MMAP_THRESHOLD = -3
# glibc's default starting threshold.
MMAP_THRESHOLD = 128 * 1024


def return_big_blocks(threshold: int = MMAP_THRESHOLD) -> bool:
    """Keep glibc's mmap threshold fixed, so that every block of ``threshold`` bytes or more
    (a NumPy array of a round's responses, a chart's canvas) is mapped on its own and given
    back to the system when freed; True when set.

    By default glibc raises the threshold each time such a block is freed (up to 32 MB), after
    which blocks below it come from the heap and, once freed, stay in the process: the
    worker's PDF report at a million responses, which lets the round's answers go before
    drawing, peaked at 288 MB instead of 268 (SQLite). Setting the threshold (as the
    ``MALLOC_MMAP_THRESHOLD_`` variable would) also turns that adjustment off. Nothing is done
    off Linux, or where the C library has no ``mallopt`` (musl's does nothing)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1
