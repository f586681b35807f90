"""One BLAS thread inside ``one_blas_thread``, for every BLAS library loaded by then."""

import subprocess
import sys

PROBE = """
from threadpoolctl import threadpool_info
from analysis.threads import one_blas_thread

def blas_threads():
    return sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})

with one_blas_thread():  # the first use, before SciPy is imported
    print("before", blas_threads())
import scipy.stats  # noqa: E402, F401  (SciPy's own OpenBLAS comes with it)
with one_blas_thread():
    print("inside", blas_threads())
"""


def test_scipys_blas_loaded_after_the_first_use_is_limited_too():
    lines = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={"OPENBLAS_NUM_THREADS": "2", "PATH": ""},
    ).stdout.splitlines()
    assert lines == ["before [1]", "inside [1]"]
