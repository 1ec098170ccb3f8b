"""One BLAS thread for loops that score one user at a time.

A request-sized BLAS call (a dot product or a matrix-vector product over one catalogue's
movies) gains nothing from OpenBLAS's threads, and when another process wants the CPU its
threads wait for each other: `benchmarks/eval_threads.py` at 5M ratings (12,400 movies) on the
2-core machine measured the hybrid's evaluation 10x slower with the default threads than with
one, 14x next to a busy process (docs/scale.md 6h). The model server limits itself the same way
(serving/pyfunc_model.py); batched work (fits, the weight search) keeps every thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from threadpoolctl import threadpool_limits

P = ParamSpec("P")
R = TypeVar("R")


def one_blas_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` with BLAS limited to one thread (restored afterwards)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper
