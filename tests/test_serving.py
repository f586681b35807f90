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
print(WSGIApplication().cfg.post_worker_init.__code__.co_filename)
"""


def test_gunicorn_reads_the_settings_from_the_repository_root():
    hook = subprocess.run(
        [sys.executable, "-c", LOAD_SETTINGS], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Path(hook) == ROOT / "gunicorn.conf.py"


def test_a_worker_takes_what_it_has_loaded_out_of_the_garbage_collector():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 1000  # the test process's modules, at least
    finally:
        gc.unfreeze()
