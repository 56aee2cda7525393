"""The Kafka side of the export path: the decisions topic, read into the event loop.

The speaker needs every decision in force, so it reads all partitions of the decisions
topic from the beginning at every start (the embedded broker does not compact, and the
topic is the source of truth; a faster start from a snapshot is later work). It knows it
has caught up when every partition has reported its end through a fetch (partition EOF),
never from watermarks, which Tansu gets wrong after batched produce (KAFKA.md).

Why a thread: ``Consumer.consume`` blocks and decoding a batch is CPU work proportional to
its size (tens of thousands of decisions at start). Polling with timeout 0 from a periodic
task would run that decoding on the loop too and add a polling interval of latency; a
thread that blocks in librdkafka and hands decoded batches to the loop with
``call_soon_threadsafe`` keeps the loop free for the sessions' timers and sockets. The
hand-over is bounded (``MAX_IN_FLIGHT`` batches), so a loop that falls behind slows the
reader instead of piling decisions up in memory. Batches and the caught-up signal go
through the same FIFO, so the loop applies every batch read before the signal first.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from ixrs.eventlog import Framing, SingleObjectFraming, consumer_config
from schemas import codec
from schemas.catalog import SINGLE_OBJECT_MAGIC
from schemas.decisions import expand
from schemas.events import Decision, Decisions, EventHeader

log = logging.getLogger("ixrs.speaker")

# Records per consume call, and decisions per hand-over at least (the last of a call may
# have fewer): one Outbound.apply each, so UPDATEs pack well.
BATCH = 5000
MAX_IN_FLIGHT = 4  # batches handed to the loop and not yet applied


# What a decision read by the speaker has for a header: the speaker never looks at it (what
# it records of a decision is its id and input position), and decoding it was a fifth of
# the decoding, once per prefix of a table: two strings and two multi-octet longs.
HEADER_NOT_READ = EventHeader("(not read by the speaker)", 0, 0, "")


def event_reader(framing: Framing) -> Callable[[bytes], Any]:
    """``framing.decode``, with a shortcut for what the decisions topic holds: a Decisions
    or Decision in single-object encoding with the current schema goes straight to a
    compiled decoder of its own, which steps over the header (HEADER_NOT_READ instead).

    Why: ``codec.decode`` finds the type by slicing out and looking up the fingerprint, then
    copies the body through ``decode_body``: some 0.5 µs of the 6 µs a decision takes to
    decode, once per prefix of a table. One comparison of the first 10 octets does here.
    Anything else (other types, older schemas, another framing) is decoded as before, and a
    Decision that fails to decode raises the DecodeError ``codec.decode`` raises."""
    generic = framing.decode
    if type(framing) is not SingleObjectFraming:
        return generic
    readers = {}
    for cls in (Decisions, Decision):
        info = codec.EVENT_TYPES[cls].info
        readers[SINGLE_OBJECT_MAGIC + info.fingerprint] = (
            codec.decoder_leaving(cls, header=HEADER_NOT_READ), info.short_name)

    def decode(data: bytes) -> Any:
        found = readers.get(data[:10]) if type(data) is bytes else None
        if found is None:
            return generic(data)
        read, what = found
        try:
            return read(data[10:])
        except Exception as err:  # as codec.decode: one error whatever the bytes make of it
            raise codec.DecodeError(f"bad {what} body: {err}") from err

    return decode


class DecisionFeed:
    """Reads the decisions topic in a thread; ``on_batch(decisions)`` and, once, when every
    partition was read to its end, ``on_caught_up()`` run on the event loop."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, framing: Framing,
                 on_batch: Callable[[list[Decision]], None],
                 on_caught_up: Callable[[], None],
                 on_failed: Callable[[BaseException], None] | None = None,
                 **extra: Any) -> None:
        self.topic = topic
        self.partitions = partitions
        self._framing = framing
        self._decode = event_reader(framing)
        self._on_batch = on_batch
        self._on_caught_up = on_caught_up
        self._on_failed = on_failed
        self._loop = asyncio.get_running_loop()
        self._consumer = Consumer(consumer_config(bootstrap, **{"fetch.wait.max.ms": 50,
                                                                **extra}))
        self._slots = threading.Semaphore(MAX_IN_FLIGHT)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="decisions", daemon=True)
        self.failed: BaseException | None = None
        self.read = 0

    def start(self) -> None:
        self._consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING)
                               for p in range(self.partitions)])
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._slots.release()  # a reader waiting for a slot sees the stop
        if self._thread.is_alive():
            self._thread.join(10)
        self._consumer.close()

    # --- the reader thread --------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._read()
        except BaseException as exc:  # without decisions the speaker cannot export
            self.failed = exc
            log.exception("reading %s failed", self.topic)
            if self._on_failed is not None and not self._stop.is_set():
                self._loop.call_soon_threadsafe(self._on_failed, exc)

    def _read(self) -> None:
        unread = set(range(self.partitions))  # partitions not yet read to their end once
        signalled = False
        while not self._stop.is_set():
            messages = self._consumer.consume(BATCH, 0.2)
            batch: list[Decision] = []
            for msg in messages:
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        unread.discard(msg.partition())
                        continue
                    raise RuntimeError(f"reading {self.topic}[{msg.partition()}]: {err}")
                event = self._decode(msg.value())
                kind = type(event)
                if kind is Decisions:
                    batch += expand(event)
                    if len(batch) >= BATCH:
                        self.read += len(batch)
                        self._hand_over(self._apply, batch)
                        batch = []
                elif kind is Decision:  # one per prefix: logs written before Decisions
                    batch.append(event)
            if batch:
                self.read += len(batch)
                self._hand_over(self._apply, batch)
            if not unread and not signalled:
                signalled = True
                self._hand_over(self._caught_up, None)

    def _hand_over(self, call: Callable[[Any], None], arg: Any) -> None:
        while not self._slots.acquire(timeout=0.5):
            if self._stop.is_set():
                return
        if self._stop.is_set():
            return
        self._loop.call_soon_threadsafe(call, arg)

    # --- on the loop ----------------------------------------------------------------------

    def _apply(self, batch: list[Decision]) -> None:
        try:
            if self.failed is None:
                self._on_batch(batch)
        except Exception as exc:
            self._failed_on_loop(exc)
        finally:
            self._slots.release()

    def _caught_up(self, _arg: None) -> None:
        try:
            if self.failed is None:
                log.info("decisions: caught up with %s after %d decisions", self.topic,
                         self.read)
                self._on_caught_up()
        except Exception as exc:
            self._failed_on_loop(exc)
        finally:
            self._slots.release()

    def _failed_on_loop(self, exc: Exception) -> None:
        # A batch that failed half way leaves the clients' tables not following the
        # decisions: the same as a reader that fails. Raised into the loop instead, it would
        # only be logged by asyncio, and the speaker would go on serving those tables.
        log.exception("applying decisions from %s failed", self.topic)
        self.failed = exc
        self._stop.set()
        if self._on_failed is not None:
            self._on_failed(exc)
