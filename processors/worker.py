"""The processor role, ``ixrs worker``: a faust-streaming app over the routes topic.

Kafka's consumer group divides the routes partitions among the workers. Each
assigned partition has its own :class:`~processors.partition.PartitionProcessor`.
A partition first seen at an offset past 0 (a restart, or a rebalance) is rebuilt by
reading that partition of the log from the start through the same code, with its
outputs suppressed: they were written before. Outputs go to the same partition
number of their topics and are flushed before faust may commit the offsets of the
events that caused them (at-least-once; a re-emitted output carries the same id).

faust settings follow ../shared/KAFKA.md: short group timeouts, and no faust tables
(their changelogs break on Tansu); the state is rebuilt from the log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust
from confluent_kafka import Producer

from ixrs import topics
from ixrs.config import ConfigError, RouteServerConfig
from ixrs.config.deploy import Deploy
from ixrs.eventlog import Stamper, framing_for, producer_config, read_partitions
from processors.datalog import DataSetReader
from processors.export import ExportPolicy
from processors.partition import Output, PartitionProcessor
from processors.validate import ImportPolicy
from schemas.events import Position

log = logging.getLogger("ixrs.worker")
BATCH = 500


class Worker:
    def __init__(self, config: RouteServerConfig, deploy: Deploy, bootstrap: str) -> None:
        self.deploy, self.bootstrap = deploy, bootstrap
        self.framing = framing_for(deploy.schema_registry)
        self.policy = ImportPolicy(config)
        self.export = ExportPolicy.from_config(config)
        self.stamper = Stamper("worker", config.version)
        self.datasets = DataSetReader(bootstrap, deploy.topic_prefix, self.framing)
        self.processors: dict[int, PartitionProcessor] = {}
        self.routes_topic = topics.ROUTES.name(deploy.topic_prefix)
        self.producer = Producer(producer_config(bootstrap))
        self.stats = {"events": 0, "verdicts": 0, "decisions": 0}

    def reload(self, config: RouteServerConfig) -> None:
        self.policy = ImportPolicy(config)
        self.export = ExportPolicy.from_config(config)
        self.stamper.config_version = config.version
        for proc in self.processors.values():
            proc.policy, proc.export = self.policy, self.export

    def _processor(self, partition: int) -> PartitionProcessor:
        return PartitionProcessor(partition, self.policy, self.datasets.load, self.stamper,
                                  self.export)

    def rebuild(self, partition: int, upto: int) -> PartitionProcessor:
        """The partition's state from its first event up to ``upto`` (exclusive)."""
        proc = self._processor(partition)
        if upto > 0:
            for _p, offset, event in read_partitions(
                self.bootstrap, self.routes_topic, [partition], self.framing
            ):
                proc.handle(Position(self.routes_topic, partition, offset), event)
                if offset + 1 >= upto:
                    break
        log.info("partition %d: state rebuilt from %d events", partition, upto)
        return proc

    def process(self, partition: int, offset: int, value: bytes) -> None:
        proc = self.processors.get(partition)
        if proc is None:
            proc = self.processors[partition] = self.rebuild(partition, offset)
        event = self.framing.decode(value)
        for out in proc.handle(Position(self.routes_topic, partition, offset), event):
            self._produce(out, partition)
        self.stats["events"] += 1

    def _produce(self, out: Output, partition: int) -> None:
        topic = out.topic.name(self.deploy.topic_prefix)
        value = self.framing.encode(topic, out.event)
        while True:
            try:
                self.producer.produce(topic, value=value, key=out.key, partition=partition)
                break
            except BufferError:
                self.producer.poll(0.1)
        self.stats["verdicts" if out.topic is topics.VERDICTS else "decisions"] += 1

    def flush(self) -> None:
        left = self.producer.flush(60)
        if left:
            raise RuntimeError(f"{left} outputs not acknowledged by the broker")


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
            for event in events:
                message = event.message
                if message.partition not in worker.processors and message.offset > 0:
                    # Reading the log back is blocking I/O: not on the event loop.
                    worker.processors[message.partition] = await loop.run_in_executor(
                        None, worker.rebuild, message.partition, message.offset
                    )
                worker.process(message.partition, message.offset, event.value)
            # Outputs are in the log before faust may commit these events' offsets.
            await loop.run_in_executor(None, worker.flush)

    @app.on_partitions_revoked.connect
    async def revoked(app: faust.App, revoked: set[Any], **_: Any) -> None:
        for tp in revoked:
            worker.processors.pop(tp.partition, None)

    return app


def run_worker(
    config: RouteServerConfig,
    deploy: Deploy,
    bootstrap: str,
    reload: Callable[[], RouteServerConfig] | None = None,
) -> int:
    worker = Worker(config, deploy, bootstrap)
    app = build_app(worker, Path(deploy.state_dir))

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
    faust_worker.execute_from_commandline()
    return 0
