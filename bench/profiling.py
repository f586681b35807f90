"""What the profiling scripts (bench/profile_*.py) print of a profile, alike."""

from __future__ import annotations

import argparse
import cProfile
import pstats


def print_profile(profiler: cProfile.Profile, args: argparse.Namespace) -> None:
    """Save the profile (``--save``), then print who calls (``--callers``) or is called by
    (``--callees``) the matching functions, else the ``--top`` functions by ``--sort``."""
    if args.save:
        profiler.dump_stats(args.save)
    stats = pstats.Stats(profiler).sort_stats(args.sort)
    if args.callers:
        stats.print_callers(args.callers)
    elif args.callees:
        stats.print_callees(args.callees)
    else:
        stats.print_stats(args.top)
