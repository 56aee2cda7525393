"""The decisions feed fails the speaker when a batch cannot be applied (no broker needed: the
loop side of the feed is driven directly)."""

from __future__ import annotations

import asyncio

from ixrs.eventlog import SingleObjectFraming
from schemas.events import Decision
from speaker.decisions import DecisionFeed


def test_a_batch_that_fails_to_apply_fails_the_feed_once() -> None:
    applied: list[list[Decision]] = []
    failures: list[BaseException] = []

    def apply(batch: list[Decision]) -> None:
        applied.append(batch)
        raise ValueError("half applied")

    async def run() -> DecisionFeed:
        # Nothing connects before start(): the consumer is created but never used.
        feed = DecisionFeed("127.0.0.1:9", "t.decisions", 1, SingleObjectFraming(), apply,
                            lambda: failures.append(AssertionError("caught up")),
                            failures.append)
        try:
            for _ in range(2):  # the reader thread takes a slot per hand-over
                assert feed._slots.acquire(timeout=1)
                feed._apply([])
            assert feed._slots.acquire(timeout=1)
            feed._caught_up(None)
        finally:
            feed.close()
        return feed

    feed = asyncio.run(run())
    assert isinstance(feed.failed, ValueError)
    assert failures == [feed.failed], "on_failed once; nothing applied or signalled after"
    assert len(applied) == 1
    assert feed._stop.is_set()
