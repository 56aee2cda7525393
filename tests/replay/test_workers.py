"""The same decisions from one worker and from two (RFC 7948 §4.4: two route servers fed the
same routes give the same answers). Verify after a worker was killed with SIGKILL: in
tests/processors/test_worker_state.py."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from ixrs import topics
from schemas.events import Decision
from tests.helpers import wait_for
from tests.processors.pipeline import (
    Tail,
    by_id,
    produce,
    route_stream,
    start_worker,
    uninterrupted,
    worker_argv,
)
from tests.speaker.conftest import ROOT

PARTITIONS = 4


def _rfc3339(micros: int) -> str:
    from ixrs.timespec import format_time

    return format_time(micros)


def run_verify(bootstrap: str, prefix: str, start_us: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ixrs", "replay", "--verify", "--from", _rfc3339(start_us),
         "--to", "now", "--bootstrap", bootstrap, "--topic-prefix", prefix],
        capture_output=True, text=True, timeout=300, cwd=ROOT)


def _run(broker, prefix: str, workdir: Path, count: int,  # type: ignore[no-untyped-def]
         stream: list) -> dict[str, object]:
    """The decisions `count` workers make of the stream, by id less the topic prefix."""
    argv = worker_argv(broker.bootstrap, prefix, workdir, PARTITIONS, workdir / "state")
    # One after the other: the first publishes the configuration and its markers, so both
    # logs hold the same events at the same offsets.
    workers = [start_worker(argv, workdir) for _ in range(count)]
    tail = Tail(broker.bootstrap, topics.DECISIONS.name(prefix), PARTITIONS)
    try:
        def divided() -> bool:
            mine = [w.partitions() for w in workers]
            return all(mine) and sorted(p for m in mine for p in m or []) == list(
                range(PARTITIONS))

        wait_for(divided, 60, f"{count} workers to divide the partitions")
        produce(broker.bootstrap, prefix, stream)
        expected = {i for i, e in uninterrupted(broker.bootstrap, prefix, PARTITIONS).items()
                    if isinstance(e, Decision)}
        wait_for(lambda: {i for i, _ in by_id(tail.poll())} >= expected, 180,
                 f"the decisions of {count} workers")
        # the topic names differ by their prefix, in the ids and the input positions
        return {i.removeprefix(prefix): replace(e, event_id=i.removeprefix(prefix), input=replace(
            e.input, topic=e.input.topic.removeprefix(prefix))) for i, e in by_id(tail.events)}
    finally:
        for w in workers:
            w.stop()
        tail.close()


def test_one_worker_and_two_workers_give_the_same_decisions(broker, tmp_path: Path) -> None:
    stream = route_stream(3_000, PARTITIONS, seed=6)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = _run(broker, "one.", tmp_path / "one", 1, stream)
    two = _run(broker, "two.", tmp_path / "two", 2, stream)
    assert len(one) > 500
    assert one.keys() == two.keys(), "the same decision ids from one worker as from two"
    differing = [k for k in one if one[k] != two[k]]
    assert not differing, [(k, f, getattr(one[k], f), getattr(two[k], f))
                           for k in differing[:3] for f in one[k].__dataclass_fields__
                           if getattr(one[k], f) != getattr(two[k], f)]
