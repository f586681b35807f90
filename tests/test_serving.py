"""The gunicorn settings that `make serve` and the benchmarks share (gunicorn.conf.py)."""

import gc
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# How gunicorn finds its settings when `make serve` or bench/load.py starts it from the root.
LOAD_SETTINGS = """
import sys
from gunicorn.app.wsgiapp import WSGIApplication
sys.argv = ["gunicorn", "survey:create_app()"]
cfg = WSGIApplication().cfg
print(cfg.post_worker_init.__code__.co_filename, cfg.timeout, cfg.graceful_timeout)
"""


def test_gunicorn_reads_the_settings_from_the_repository_root():
    hook, timeout, graceful = subprocess.run(
        [sys.executable, "-c", LOAD_SETTINGS], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert Path(hook) == ROOT / "gunicorn.conf.py"
    # Room for the longest request (3 s: the PDF report of a 200-response round, cold), where
    # gunicorn's default would kill a worker after 30 s.
    assert (int(timeout), int(graceful)) == (60, 30)


def test_a_worker_takes_what_it_has_loaded_out_of_the_garbage_collector():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 1000  # the test process's modules, at least
    finally:
        gc.unfreeze()
