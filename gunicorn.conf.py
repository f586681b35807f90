"""gunicorn settings of `make serve`, also read by the benchmarks' servers: gunicorn loads this
file from its working directory, the repository's root (workers and address come from the
command line)."""

import gc


def post_worker_init(worker):
    """Take what the worker has loaded (the app, its modules, its caches) out of the cyclic
    garbage collector: it lives as long as the worker, and without this every full collection
    walks its ~230,000 objects again (0.37 ms -> 0.17 ms of collection per response,
    bench/profile_submission.py)."""
    gc.collect()
    gc.freeze()
