"""Garbage-collector settings for the long-running roles.

A worker's and a speaker's heaps are mostly state that only grows while a table comes in
(partition state; decisions in force and Adj-RIB-Out). With CPython's default thresholds
the collector traverses that state again and again: a third of a worker's CPU on the
`table` benchmark. Collecting the youngest generation every 50,000 allocations instead of
700 leaves it a few percent; long-lived objects still age out of the young generations, and
cycles are still collected. What exists when the role has started (code, configuration)
lives as long as the process and is frozen out of collections altogether.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 50, 100)


def tune_for_growing_state() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def collect_nothing() -> None:
    """For a command that builds state, answers and exits (replay, explain, verify, MRT
    export): it keeps almost everything it allocates until it exits, so even the tuned
    collections above are a tenth of its CPU, and would free next to nothing. The
    collector is off for the rest of the process; what is there already is frozen."""
    gc.collect()
    gc.freeze()
    gc.disable()
