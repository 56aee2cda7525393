"""Routes partitions replayed side by side, one process per core.

A partition's replay depends on its own events only (that is why the log is partitioned by
prefix), so partitions divide among processes exactly as they divide among workers. Each
child is forked with the parent's source (no live Kafka client is open at that moment; each
child opens its own readers), replays its share of the partitions with shared memos, and
hands back its result; the parent meanwhile does what needs no routes partition (the sent
topic, for instance) and shows the progress the children report.

A child's result (tens of megabytes of JSON text for a full table) is pickled into a file in
memory that the parent made for it before the fork, and only "done" crosses the pipe: through
the pipe a child would wait for the parent to read it, and the parent reads one child at a
time. So the children write at once, and the parent loads the first result while the other
child still works.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import IO, Any, TypeVar

from replay.progress import Progress

R = TypeVar("R")
# (partitions, the progress to report to) -> the result for these partitions
Task = Callable[[list[int], Progress | None], R]


def jobs_for(partitions: int) -> int:
    """One process per core, never more than there are partitions; IXRS_REPLAY_JOBS overrides."""
    wanted = os.environ.get("IXRS_REPLAY_JOBS")
    jobs = int(wanted) if wanted and wanted.isdigit() else (os.cpu_count() or 1)
    return max(1, min(jobs, partitions))


def share(partitions: list[int], jobs: int) -> list[list[int]]:
    return [partitions[i::jobs] for i in range(jobs) if partitions[i::jobs]]


def run(task: Task[R], partitions: list[int], jobs: int, progress: Progress | None,
        meanwhile: Callable[[], Any] | None = None) -> tuple[list[R], Any]:
    """The task's result for each share of the partitions (in share order), and what
    ``meanwhile`` returned, run in this process while the children work."""
    shares = share(partitions, jobs)
    if len(shares) <= 1:
        results = [task(partitions, progress)]
        return results, meanwhile() if meanwhile else None
    ctx = multiprocessing.get_context("fork")
    counters = ctx.Array("q", 3 * len(shares), lock=False)  # per child: events, prefixes, parts
    children = []
    for index, mine in enumerate(shares):
        receive, send = ctx.Pipe(duplex=False)
        answer = _memory_file()
        child = ctx.Process(target=_child, args=(task, mine, send, answer, counters, index,
                                                 progress is not None), daemon=True)
        child.start()
        send.close()
        children.append((child, receive, answer))
    try:
        aside = meanwhile() if meanwhile else None
        results = _collect(children, shares, counters, progress)
    finally:
        for _child_process, receive, answer in children:
            receive.close()
            answer.close()
    for child, _r, _a in children:
        child.join()
    return [results[i] for i in range(len(shares))], aside


def _collect(children: list[tuple[Any, Connection, IO[bytes]]], shares: list[list[int]],
             counters: Any, progress: Progress | None) -> dict[int, Any]:
    """Each child's result, loaded as soon as it is written (while the others still work)."""
    results: dict[int, Any] = {}
    pending = {receive: index for index, (_c, receive, _a) in enumerate(children)}
    while pending:
        for ready in wait(list(pending), timeout=0.5):
            index = pending.pop(ready)  # type: ignore[call-overload]
            try:
                ok, value = ready.recv()  # type: ignore[union-attr]
                if ok:
                    answer = children[index][2]
                    answer.seek(0)
                    value = pickle.load(answer)
            except EOFError:
                ok, value = False, "a replay process died without an answer"
            if not ok:
                for child, _r, _a in children:
                    child.kill()
                raise RuntimeError(f"replay of partitions {shares[index]}: {value}")
            results[index] = value
        if progress is not None:
            progress.events = sum(counters[0::3])
            progress.prefixes = sum(counters[1::3])
            progress.done_parts = sum(counters[2::3])
            progress.tick()
    return results


def _memory_file() -> IO[bytes]:
    """An anonymous file in memory, inherited by a forked child; gone when both close it."""
    if hasattr(os, "memfd_create"):  # Linux: never touches a disk
        return open(os.memfd_create("ixrs-replay"), "w+b")
    return tempfile.TemporaryFile()


def _child(task: Task[R], partitions: list[int], send: Connection, answer: IO[bytes],
           counters: Any, index: int, report: bool) -> None:
    progress = _Reporting(counters, index) if report else None
    try:
        result = task(partitions, progress)
        if progress is not None:
            progress.flush()
        # large str and bytes go straight from the pickler to the file, without a copy
        pickle.dump(result, answer, protocol=pickle.HIGHEST_PROTOCOL)
        answer.flush()
        send.send((True, None))
    except BaseException as err:  # the parent reports it; a child never prints its own
        send.send((False, f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=5)}"))
    finally:
        send.close()


class _Reporting(Progress):
    """A child's progress: counted here, shown by the parent."""

    def __init__(self, counters: Any, index: int) -> None:
        super().__init__("child")
        self.counters, self.index = counters, index

    def tick(self) -> None:
        self.flush()

    def flush(self) -> None:
        at = 3 * self.index
        self.counters[at], self.counters[at + 1] = self.events, self.prefixes
        self.counters[at + 2] = self.done_parts

    def finish(self) -> None:
        self.flush()
