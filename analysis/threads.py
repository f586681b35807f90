"""One BLAS thread for the small matrix products of the analysis.

The web app's workers share a few cores; a multithreaded OpenBLAS product of a few hundred
rows then waits for its threads' turns and takes several times longer, not less (the
bootstrap of ``analysis.drivers``: 12 ms against 2 ms single-threaded on 2 busy cores).

``threadpoolctl.threadpool_limits`` finds the loaded BLAS libraries again at each call
(0.45 ms); one controller, made at first use (after numpy and scipy are imported with this
package), sets the limit in 0.01 ms.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

_CONTROLLER: list[ThreadpoolController] = []
_LOCK = threading.Lock()


def one_blas_thread() -> AbstractContextManager:
    """A context in which BLAS, LAPACK (and OpenMP) use one thread, as
    ``threadpool_limits(1)`` does; the previous limits after it."""
    if not _CONTROLLER:
        with _LOCK:
            if not _CONTROLLER:
                _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1)
