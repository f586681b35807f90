"""Giving the memory of freed big arrays back to the system."""

from __future__ import annotations

import ctypes
import sys


def give_back() -> bool:
    """Return the free pages of the C heap to the system (glibc's ``malloc_trim``); True when
    something was returned.

    glibc maps a big block on its own and unmaps it when freed, but raises that size as such
    blocks are freed (up to 32 MB), after which blocks below it come from the heap and, once
    freed, stay in the process. The worker's PDF report lets the round's answers go before
    drawing: at a million responses their arrays stayed, and the report peaked at 288 MB
    instead of 268 (SQLite). Called there, not for every job: fixing the threshold for the
    whole worker instead made its workbook of a million responses 45% slower (mapping and
    unmapping every mid-size block). Nothing off Linux, or without glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim(0) == 1
