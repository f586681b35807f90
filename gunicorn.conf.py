"""gunicorn settings of `make serve`, also read by the benchmarks' servers: gunicorn loads this
file from its working directory, the repository's root (workers and address come from the
command line)."""

import gc

# The longest request, measured on the demo round with 200 responses (a fresh worker, whose
# first page builds the round's results): the PDF report 3.0 s, a chart 0.5 s, the results page
# 0.3 s. Large Excel and PDF exports run as background jobs (survey.jobs), so no request should
# come near this; a worker that does is killed and replaced rather than left hanging. Sync
# workers: matplotlib's figures are not shared between threads.
timeout = 60
# On a restart, the time a worker has to finish the request in hand.
graceful_timeout = 30


def post_worker_init(worker):
    """Take what the worker has loaded (the app, its modules, its caches) out of the cyclic
    garbage collector: it lives as long as the worker, and without this every full collection
    walks its ~230,000 objects again (0.37 ms -> 0.17 ms of collection per response,
    bench/profile_submission.py)."""
    gc.collect()
    gc.freeze()
