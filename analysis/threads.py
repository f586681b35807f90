"""One BLAS thread for the small matrix products of the analysis.

The web app's workers share a few cores; a multithreaded OpenBLAS product of a few hundred
rows then waits for its threads' turns and takes several times longer, not less (the
bootstrap of ``analysis.drivers``: 12 ms against 2 ms single-threaded on 2 busy cores).

``threadpoolctl.threadpool_limits`` finds the loaded BLAS libraries again at each call
(0.45 ms); a controller, made at first use, sets the limit in 0.01 ms. SciPy brings its own
OpenBLAS, loaded with ``scipy.linalg`` (``scipy.stats`` imports it), and ``analysis`` imports
SciPy only when a test needs it: a controller made before that would not see SciPy's library,
so a second one is made once SciPy is there.
"""

from __future__ import annotations

import sys
import threading
from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

# By whether scipy.linalg (and its BLAS) was loaded when the controller was made.
_CONTROLLERS: dict[bool, ThreadpoolController] = {}
_LOCK = threading.Lock()


def one_blas_thread() -> AbstractContextManager:
    """A context in which BLAS, LAPACK (and OpenMP) use one thread, as
    ``threadpool_limits(1)`` does; the previous limits after it."""
    with_scipy = "scipy.linalg" in sys.modules
    controller = _CONTROLLERS.get(with_scipy)
    if controller is None:
        with _LOCK:
            controller = _CONTROLLERS.get(with_scipy)
            if controller is None:
                controller = _CONTROLLERS[with_scipy] = ThreadpoolController()
    return controller.limit(limits=1)
