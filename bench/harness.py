"""Measuring: best-of-N wall time (``time.perf_counter``) and peak memory (``tracemalloc``)."""

from __future__ import annotations

import gc
import time
import tracemalloc


def best_of(fn, repeats: int, min_seconds: float = 0.0, max_runs: int = 1000, collector: bool = True) -> float:
    """The shortest of at least ``repeats`` runs of ``fn()`` (more, up to ``max_runs``, until
    ``min_seconds`` of runs have passed), in seconds. Garbage is collected before the
    first run and before every run that follows one longer than 10 ms; with
    ``collector=False`` the garbage collector is off during each run (as ``timeit`` does)."""
    best, spent, runs, elapsed = float("inf"), 0.0, 0, 1.0
    while runs < repeats or (spent < min_seconds and runs < max_runs):
        if elapsed > 0.01:
            gc.collect()
        if not collector:
            gc.disable()
        start = time.perf_counter()
        try:
            fn()
        finally:
            elapsed = time.perf_counter() - start
            gc.enable()
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
    return best


def peak_bytes(fn) -> int:
    """Peak bytes allocated while ``fn()`` runs (above what was allocated before)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
