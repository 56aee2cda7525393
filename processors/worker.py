"""The processor role, ``ixrs worker``: a faust-streaming app over the routes topic.

Kafka's consumer group divides the routes partitions among the workers. Each
assigned partition has its own :class:`~processors.partition.PartitionProcessor`,
and its state is saved in its own RocksDB store (:mod:`processors.store`).

Per batch of events: the outputs go to the same partition number of their topics and
are flushed; then each touched partition's changed state is saved together with the
next offset to process, in one RocksDB batch; only then does faust acknowledge the
events and may commit their offsets. At-least-once: a re-emitted output carries the id
of the input position that caused it.

When a partition is assigned, its saved offset is the authority: processing resumes
there, whatever the group's committed offset says. Without a saved state (a new
machine, a discarded store), the partition is read from its start up to the group's
position through the same code, outputs suppressed: they were flushed before that
position could be committed.

faust settings follow ../shared/KAFKA.md: short group timeouts, and no faust tables
(their changelogs break on Tansu); the state is a cache of the log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust
from confluent_kafka import Producer

from ixrs import topics
from ixrs.config import ConfigError, RouteServerConfig
from ixrs.config.deploy import Deploy
from ixrs.eventlog import Stamper, framing_for, producer_config, read_partitions
from ixrs.heap import tune_for_growing_state
from ixrs.prepare import ConfigReader
from ixrs.status import Reporter
from processors.datalog import DataSetReader
from processors.export import ExportPolicy
from processors.partition import Output, PartitionProcessor, Policies, SharedCaches
from processors.store import PartitionStore, store_path
from processors.validate import ImportPolicy
from schemas.decisions import fitted, prefix_count
from schemas.events import Decisions, Position

log = logging.getLogger("ixrs.worker")
BATCH = 500
YIELD_EVERY = 0.1  # seconds of processing before the event loop gets a turn
# Seconds between saves of a partition's state. A save writes every prefix changed since the
# last one, so a prefix changed many times in between is written once: on a table or churn
# backlog, saving every 5 s took a third of the worker's time. The price is more events
# processed again after a crash (their outputs are recognisable duplicates).
SAVE_INTERVAL = 30.0
# While the worker is behind (processing input stamped over BEHIND_AFTER seconds ago: a
# table arriving, a restart's backlog), saves wait up to BEHIND_FACTOR intervals. A save in
# the middle of a table writes prefixes that the rest of the table changes again, and
# competes for the CPU with the work the clients are waiting for (9 % of the worker's time
# in a 1M-route convergence). A crash then processes up to that much input again; its
# outputs are recognisable duplicates.
BEHIND_FACTOR = 4
BEHIND_AFTER = 2.0
# A worker keeping up with a table as it arrives is not behind, yet a save then stalls it
# just the same: on 2 cores, a save of a million changed prefixes took 16 s of CPU in the
# middle of a 1M-route convergence and doubled its time. So saves also wait (as long as
# while behind) while the worker spent over BUSY_SHARE of the last BUSY_WINDOW seconds
# processing and flushing: a save is put off to a quiet moment, or BEHIND_FACTOR intervals
# at most. An IXP's steady churn keeps a worker busy well under 1 % of the time; a table
# coming in, over half.
BUSY_WINDOW = 5.0
BUSY_SHARE = 0.2


def save_interval() -> float:
    """SAVE_INTERVAL, or IXRS_SAVE_INTERVAL (tests save more often to exercise resuming)."""
    value = os.environ.get("IXRS_SAVE_INTERVAL")
    try:
        return float(value) if value else SAVE_INTERVAL
    except ValueError:
        raise ConfigError(f"IXRS_SAVE_INTERVAL: {value!r} is not a number of seconds") from None



def save_due(since_save: float, interval: float, loaded: bool) -> bool:
    """Whether the state should be saved now: once ``interval`` seconds have passed since
    the last save, or BEHIND_FACTOR intervals while the worker is loaded (behind its input,
    or busy)."""
    return since_save >= interval * (BEHIND_FACTOR if loaded else 1)


class Load:
    """The share of the last ``window`` seconds that the worker spent working on batches."""

    def __init__(self, window: float = BUSY_WINDOW) -> None:
        self.window = window
        self._spans: deque[tuple[float, float]] = deque()  # (when it ended, seconds spent)
        self._total = 0.0

    def add(self, end: float, spent: float) -> None:
        self._spans.append((end, spent))
        self._total += spent
        self._forget(end)

    def share(self, now: float) -> float:
        self._forget(now)
        return self._total / self.window

    def _forget(self, now: float) -> None:
        while self._spans and self._spans[0][0] <= now - self.window:
            self._total -= self._spans.popleft()[1]
        if not self._spans:
            self._total = 0.0  # no float residue from the subtractions


class Worker:
    def __init__(self, config: RouteServerConfig, deploy: Deploy, bootstrap: str,
                 state_dir: Path) -> None:
        self.deploy, self.bootstrap, self.state_dir = deploy, bootstrap, state_dir
        self.framing = framing_for(deploy.schema_registry)
        self.configs = ConfigReader(bootstrap, deploy)
        self._policies: dict[str, Policies] = {}
        self.initial = self.remember(config).version
        self.stamper = Stamper("worker", config.version)
        self.datasets = DataSetReader(bootstrap, deploy.topic_prefix, self.framing)
        self.processors: dict[int, PartitionProcessor] = {}
        self.caches = SharedCaches()  # memos the partitions share (pure functions of keys)
        self.stores: dict[int, PartitionStore] = {}
        self.assigned: set[int] = set()
        self.resume: dict[int, int] = {}  # partition -> the next offset to process
        self.unsaved: set[int] = set()  # partitions with changes not yet saved
        self.saved_at = 0.0
        self.newest_us = 0  # the stamp of the last event processed (behind())
        self.load = Load()  # how busy the worker has been lately (commit)
        self.save_interval = save_interval()
        self.routes_topic = topics.ROUTES.name(deploy.topic_prefix)
        self.topic_names: dict[str, str] = {}  # suffix -> full name
        self.producer = Producer(producer_config(bootstrap))
        self.stats = {"events": 0, "verdicts": 0, "decisions": 0, "accepted": 0,
                      "filtered": 0}

    def remember(self, config: RouteServerConfig) -> Policies:
        policies = self._policies.get(config.version)
        if policies is None:
            policies = Policies(ImportPolicy(config), ExportPolicy.from_config(config))
            self._policies[config.version] = policies
        return policies

    def policies(self, version: str) -> Policies:
        """The policies of a configuration version, read from the config topic once."""
        if version in self._policies:
            return self._policies[version]
        return self.remember(self.configs.load(version))

    def reload(self, config: RouteServerConfig) -> None:
        # The new version is published with a marker in every routes partition (by the
        # caller); each partition switches when it reaches its marker, in log order.
        self.remember(config)
        self.stamper.config_version = config.version

    def _processor(self, partition: int) -> PartitionProcessor:
        # Until a partition's first configuration marker, the worker's own configuration.
        start = self.policies(self.initial)
        return PartitionProcessor(partition, start.imports, self.datasets.load, self.stamper,
                                  start.exports, self.policies, caches=self.caches)

    def assign(self, partition: int, offset: int) -> None:
        """Take over a partition whose first event to process, per the group, is ``offset``.

        Blocking (RocksDB and reading the log): run it off the event loop."""
        proc = self._processor(partition)
        store = _open_store(store_path(self.state_dir, self.routes_topic, partition))
        loaded = store.load(proc)
        if loaded is None:
            # No saved state: the partition is read from its start up to the group's
            # position, outputs suppressed. They are in the log: the group's position moves
            # only after the outputs of the events before it were flushed.
            resume = self._read(proc, 0, offset, emit=False)
        elif loaded.offset < offset:
            # The saved state is behind the group's position: the stored offset is the
            # authority. The events after it are processed again with their outputs; those
            # already written before carry the same ids, so they are recognisable duplicates.
            resume = self._read(proc, loaded.offset, offset, emit=True)
            self.flush()
        else:
            resume = loaded.offset  # the group is behind: skip what the state already holds
        store.save(proc, resume)
        if not self.unsaved:
            # Every partition's state is saved as of now (this one just was, the others
            # have nothing unsaved): the save interval starts here. Otherwise the first
            # batch after start-up would save again at once what it changed, a third of a
            # backlog on the worker benchmark, seconds after this save.
            self.saved_at = time.monotonic()
        # stdout, as the other lifecycle lines: faust's logging setup hides INFO records
        print(f"worker: partition {partition} resumes at offset {resume}, "
              + ("rebuilt from the log" if loaded is None
                 else f"from saved state of {loaded.prefixes} prefixes at {loaded.offset}"),
              flush=True)
        self.processors[partition], self.stores[partition] = proc, store
        self.resume[partition] = resume

    def _read(self, proc: PartitionProcessor, start: int, upto: int, emit: bool) -> int:
        """Apply the partition's events from ``start`` up to ``upto`` (exclusive)."""
        if upto <= start:
            return start
        for _p, offset, event in read_partitions(
            self.bootstrap, self.routes_topic, [proc.partition], self.framing, start
        ):
            outputs = proc.handle(Position(self.routes_topic, proc.partition, offset), event)
            if emit:
                self._emit(outputs, proc.partition)
            if offset + 1 >= upto:
                break
        return upto

    def process(self, partition: int, offset: int, value: bytes) -> None:
        """One event of an assigned partition (the caller runs `assign` first)."""
        if partition not in self.assigned:
            return  # revoked while this batch was in hand: the next owner resumes it
        if offset < self.resume[partition]:
            return  # the saved state already holds this event
        proc = self.processors[partition]
        event = self.framing.decode(value)
        self.newest_us = event.header.event_time_us  # every routes event has one
        self._emit(proc.handle(Position(self.routes_topic, partition, offset), event), partition)
        self.resume[partition] = offset + 1
        self.stats["events"] += 1

    def _emit(self, outputs: list[Output], partition: int) -> None:
        """The outputs of one event as records: a verdict as one, a pass's Decisions as one
        or more (schemas.decisions.fitted)."""
        for out in outputs:
            if out.topic is topics.DECISIONS:
                self._decisions(out.event, partition)  # type: ignore[arg-type]
                continue
            self._produce(out.topic, out.key, out.event, partition)
            self.stats["verdicts"] += 1
            for group in out.event.groups:  # type: ignore[attr-defined]
                self.stats["accepted" if group.accepted else "filtered"] += len(group.prefixes)

    def _decisions(self, event: Decisions, partition: int) -> None:
        topic = self._topic(topics.DECISIONS)
        for part, value in fitted(event, lambda e: self.framing.encode(topic, e)):
            # Keyed by the first prefix: the key partitions as the prefixes do (the record
            # goes to the input's partition number, like every output).
            self._send(topic, value, part.groups[0].prefixes[0], partition)
        self.stats["decisions"] += prefix_count(event)

    def _produce(self, spec: topics.TopicSpec, key: str, event: object, partition: int) -> None:
        topic = self._topic(spec)
        self._send(topic, self.framing.encode(topic, event), key, partition)

    def _topic(self, spec: topics.TopicSpec) -> str:
        # Once per record: topic names are cached.
        topic = self.topic_names.get(spec.suffix)
        if topic is None:
            topic = self.topic_names[spec.suffix] = spec.name(self.deploy.topic_prefix)
        return topic

    def _send(self, topic: str, value: bytes, key: str, partition: int) -> None:
        while True:
            try:
                self.producer.produce(topic, value, key, partition)
                break
            except BufferError:
                self.producer.poll(0.1)

    def status(self) -> dict[str, int]:
        """The counters of the worker's `status:` line (ixrs.status)."""
        return {"accepted": self.stats["accepted"], "filtered": self.stats["filtered"]}

    def behind(self) -> bool:
        """Whether the last event processed was stamped more than BEHIND_AFTER s ago."""
        return time.time() - self.newest_us / 1e6 > BEHIND_AFTER

    def flush(self) -> None:
        left = self.producer.flush(60)
        if left:
            raise RuntimeError(f"{left} outputs not acknowledged by the broker")

    def commit(self, partitions: set[int], now: float, spent: float) -> None:
        """Flush the outputs, then (at most once per save interval) save the state of the
        partitions touched since the last save, with their offsets. ``now`` is when the
        batch's processing ended, and ``spent`` the seconds it took.

        In this order, a crash between the two leaves the state behind the log, never
        ahead of it: the events after the stored offset are processed again. Saving less
        often than every batch writes a prefix changed many times over once, at the cost of
        more events processed again after a crash."""
        self.flush()
        flushed = time.monotonic()
        self.load.add(flushed, spent + flushed - now)  # flushing counts as work too
        self.unsaved |= partitions
        loaded = self.behind() or self.load.share(now) > BUSY_SHARE
        if not save_due(now - self.saved_at, self.save_interval, loaded):
            return
        for partition in self.unsaved:
            self._save(partition)
        self.unsaved.clear()
        self.saved_at = now

    def save_all(self) -> None:
        """On stopping: every unsaved partition's state, after all outputs are flushed (the
        state must never be ahead of the outputs in the log)."""
        if not self.processors:
            return
        try:
            self.flush()
        except Exception as err:  # the broker may be gone: keep the older state then
            log.warning("not saving on stop, outputs not flushed: %s", err)
            return
        # every partition held: a batch cut short by the stop is not in `unsaved` yet
        for partition in sorted(self.processors):
            self._save(partition)
        self.unsaved.clear()

    def _save(self, partition: int) -> None:
        proc, store = self.processors.get(partition), self.stores.get(partition)
        if proc is not None and store is not None:
            store.save(proc, self.resume[partition])

    def release(self, partition: int) -> None:
        """Give a partition up (rebalance): its state is saved, after its outputs."""
        if partition in self.unsaved:
            self.flush()
            self._save(partition)
            self.unsaved.discard(partition)
        self.assigned.discard(partition)
        self.processors.pop(partition, None)
        self.resume.pop(partition, None)
        store = self.stores.pop(partition, None)
        if store is not None:
            store.close()


def _open_store(path: Path, timeout: float = 30.0) -> PartitionStore:
    """Open a partition's store; another worker of this machine that just lost the
    partition in a rebalance may still hold RocksDB's lock for a moment."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return PartitionStore(path)
        except Exception as err:
            if "lock" not in str(err).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # polling a file lock: there is nothing to wait on


def build_app(worker: Worker, state_dir: Path) -> faust.App:
    deploy = worker.deploy
    app = faust.App(
        f"{deploy.topic_prefix}workers",
        broker=[f"kafka://{b}" for b in worker.bootstrap.split(",")],
        store="memory://",
        web_enabled=False,
        datadir=str(state_dir / "derived" / "faust"),
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
        broker_rebalance_timeout=6,
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
    )
    routes = app.topic(
        worker.routes_topic,
        value_serializer="raw",
        key_serializer="raw",
        partitions=deploy.partitions,
    )

    @app.agent(routes)
    async def process(stream: Any) -> None:
        loop = asyncio.get_running_loop()
        async for events in stream.take_events(BATCH, within=0.05):
            touched: set[int] = set()
            started = time.monotonic()
            due = loop.time() + YIELD_EVERY
            for event in events:
                message = event.message
                if message.partition in worker.assigned and \
                        message.partition not in worker.processors:
                    # Opening the store and reading the log: blocking, not on the event loop.
                    await loop.run_in_executor(None, worker.assign, message.partition,
                                               message.offset)
                worker.process(message.partition, message.offset, event.value)
                touched.add(message.partition)
                if loop.time() > due:
                    # An event can hold a whole socket read of routes: let the consumer's
                    # heartbeats and fetches run, or a long batch would cost the group
                    # membership (broker_session_timeout).
                    await asyncio.sleep(0)
                    due = loop.time() + YIELD_EVERY
            # Outputs in the log, then the state with its offsets; only after this body
            # returns does faust acknowledge these events (take_events) and may commit them.
            now = time.monotonic()
            await loop.run_in_executor(None, worker.commit, touched, now, now - started)

    @app.on_partitions_assigned.connect
    async def assigned(app: faust.App, assigned: set[Any], **_: Any) -> None:
        mine = {tp.partition for tp in assigned if tp.topic == worker.routes_topic}
        worker.assigned |= mine
        print(f"worker: partitions {sorted(worker.assigned)}", flush=True)

    @app.on_partitions_revoked.connect
    async def revoked(app: faust.App, revoked: set[Any], **_: Any) -> None:
        for tp in revoked:
            if tp.topic == worker.routes_topic:
                worker.release(tp.partition)

    return app


def run_worker(
    config: RouteServerConfig,
    deploy: Deploy,
    bootstrap: str,
    reload: Callable[[], RouteServerConfig] | None = None,
) -> int:
    worker = Worker(config, deploy, bootstrap, Path(deploy.state_dir))
    app = build_app(worker, Path(deploy.state_dir))
    tune_for_growing_state()  # ixrs.heap: the state only grows while a table comes in

    def on_sighup(*_: object) -> None:
        if reload is None:
            return
        try:
            worker.reload(reload())
        except ConfigError as err:
            log.error("reload refused, keeping the running configuration: %s", err)

    # faust's startup spinner writes terminal control codes: keep them off our stdout,
    # which `ixrs run` shares with the other roles and operators parse.
    quiet_stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the worker
    faust_worker = faust.Worker(
        app, loglevel="warn", quiet=True, stdout=quiet_stdout, redirect_stdouts=False
    )
    signal.signal(signal.SIGHUP, on_sighup)
    print("worker: started", flush=True)
    Reporter("worker", worker.status).run_in_thread(threading.Event())
    try:
        faust_worker.execute_from_commandline()
    finally:
        worker.save_all()  # a clean stop resumes where it stopped, not 30 s earlier
    return 0
