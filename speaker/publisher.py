"""The speaker's Kafka producer, with delivery tracking for backpressure.

Delivery reports come from a poll thread and are handed to the event loop, where
each session waits until its events are acknowledged before it reads more from
its socket. Nothing is buffered without bound and nothing is dropped: when the
broker is slow, the sessions stop reading and TCP pushes back on the peers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, Producer

from ixrs.eventlog import Framing, producer_config


class Window:
    """What one session has in flight: each event counts its weight (the speaker counts
    a batch of raw UPDATEs as their number), until the broker acknowledges it."""

    __slots__ = ("_waiter", "failed", "pending")

    def __init__(self) -> None:
        self.pending = 0
        self.failed: KafkaError | None = None
        self._waiter: asyncio.Future[None] | None = None

    def _acked(self, err: KafkaError | None, weight: int = 1) -> None:
        self.pending -= weight
        if err is not None and self.failed is None:
            self.failed = err
        if self.pending == 0 and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def drained(self) -> None:
        """Until every event produced through this window is acknowledged."""
        if self.pending:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            self._waiter = None
        if self.failed is not None:
            raise RuntimeError(f"the broker refused an event: {self.failed}")


class Publisher:
    def __init__(self, bootstrap: str, framing: Framing, **extra: Any) -> None:
        # Idempotence keeps per-partition order through retries, which the
        # session-down markers rely on (they must follow the session's routes).
        self._producer = Producer(producer_config(bootstrap, **extra))
        self._framing = framing
        self._loop = asyncio.get_running_loop()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="kafka-poll", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    def produce(self, topic: str, event: Any, key: str | None, partition: int,
                window: Window | None = None, weight: int = 1) -> None:
        value = self._framing.encode(topic, event)
        callback: Callable[[KafkaError | None, Any], None] | None = None
        if window is not None:
            window.pending += weight
            loop = self._loop

            def callback(err: KafkaError | None, _msg: Any, w: Window = window) -> None:
                loop.call_soon_threadsafe(w._acked, err, weight)

        while True:
            try:
                self._producer.produce(topic, value=value, key=key, partition=partition,
                                       on_delivery=callback)
                return
            except BufferError:
                # librdkafka's queue is full: give the poll thread time to drain it.
                self._producer.flush(0.1)

    def flush(self, timeout: float = 30.0) -> None:
        left = self._producer.flush(timeout)
        if left:
            raise RuntimeError(f"{left} events not acknowledged within {timeout}s")

    def close(self) -> None:
        self.flush()
        self._stop.set()
        self._thread.join()
